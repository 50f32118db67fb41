//! [`ConfigError`]: what is wrong with a configuration, and where (file, line, column).
//!
//! # Invariants
//! * Lines and columns are 1-based; columns count characters (not bytes) from the start of the
//!   line, so they match what an editor shows.
//! * An error always carries a human-readable message; the location is absent only for errors
//!   that concern the whole file (it cannot be read).

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// A configuration that cannot be used: the file, the position in it and what is wrong.
///
/// `Display` gives `<file>:<line>:<column>: <message>` (or `<file>: <message>` without a
/// position); text that did not come from a file is named `<config>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    path: Option<PathBuf>,
    position: Option<(usize, usize)>,
    message: String,
}

impl ConfigError {
    /// An error about the byte range `span` of `text` (the configuration text of `path`).
    pub(crate) fn at(
        path: Option<&Path>,
        text: &str,
        span: Range<usize>,
        message: impl Into<String>,
    ) -> ConfigError {
        ConfigError {
            path: path.map(Path::to_path_buf),
            position: Some(line_and_column(text, span.start)),
            message: message.into(),
        }
    }

    /// An error about the whole file (for example: it cannot be read).
    pub(crate) fn whole_file(path: Option<&Path>, message: impl Into<String>) -> ConfigError {
        ConfigError {
            path: path.map(Path::to_path_buf),
            position: None,
            message: message.into(),
        }
    }

    /// The configuration file, if the text came from one.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The 1-based line of the offending text, if the error has a position.
    pub fn line(&self) -> Option<usize> {
        self.position.map(|(line, _)| line)
    }

    /// The 1-based column (in characters) of the offending text, if the error has a position.
    pub fn column(&self) -> Option<usize> {
        self.position.map(|(_, column)| column)
    }

    /// What is wrong, without the location.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.path {
            Some(path) => write!(f, "{}", path.display())?,
            None => f.write_str("<config>")?,
        }
        if let Some((line, column)) = self.position {
            write!(f, ":{line}:{column}")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ConfigError {}

/// The 1-based line and character column of byte `offset` in `text` (clamped to the text, and
/// moved back to a character boundary).
pub(crate) fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |newline| newline + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_and_count_characters() {
        let text = "a = 1\nbé = 2\n";
        assert_eq!(line_and_column(text, 0), (1, 1));
        assert_eq!(line_and_column(text, 6), (2, 1));
        // "bé " is 4 bytes but 3 characters: the '=' is in column 4.
        assert_eq!(line_and_column(text, 10), (2, 4));
        // Past the end and inside a multi-byte character are clamped, not a panic.
        assert_eq!(line_and_column(text, 1000), (3, 1));
        assert_eq!(line_and_column(text, 8), (2, 2));
    }

    #[test]
    fn display_names_file_line_column_and_message() {
        let err = ConfigError::at(Some(Path::new("/etc/rvs.toml")), "x\ny = 1", 2..3, "bad");
        assert_eq!(err.to_string(), "/etc/rvs.toml:2:1: bad");
        let err = ConfigError::whole_file(None, "cannot read");
        assert_eq!(err.to_string(), "<config>: cannot read");
        assert_eq!(err.line(), None);
    }
}
