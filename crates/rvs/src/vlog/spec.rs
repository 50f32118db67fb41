//! Levels, destinations and the `vlog/set` spec language, as in OVS's `vlog.c`.
//!
//! A spec is split into words at any of space, comma, colon and tab (empty words are skipped).
//! `PATTERN:<destination|ANY>:<pattern>` and `FACILITY:<name>` are special forms; otherwise each
//! word is `ANY` (ignored), a destination, a level or a module name (all matched ignoring ASCII
//! case), each at most once; missing parts mean "every module", "every destination" and `dbg`.
//!
//! Invariant: parsing never changes state; a spec either yields one [`Action`] or an error text
//! worded exactly as OVS 3.1 words it.

/// A log level, least to most verbose.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub(super) enum Level {
    /// Nothing is logged.
    Off = 0,
    /// Emergencies only (tracing has no such level, so nothing from `tracing` passes).
    Emer = 1,
    /// Errors.
    Err = 2,
    /// Warnings.
    Warn = 3,
    /// Information.
    Info = 4,
    /// Debugging (tracing's DEBUG and TRACE).
    Dbg = 5,
}

impl Level {
    /// All levels in order.
    pub(super) const ALL: [Level; 6] = [
        Level::Off,
        Level::Emer,
        Level::Err,
        Level::Warn,
        Level::Info,
        Level::Dbg,
    ];

    /// The name `vlog/list` prints.
    pub(super) fn name(self) -> &'static str {
        match self {
            Level::Off => "OFF",
            Level::Emer => "EMER",
            Level::Err => "ERR",
            Level::Warn => "WARN",
            Level::Info => "INFO",
            Level::Dbg => "DBG",
        }
    }

    /// The level named `word` (ASCII case ignored).
    pub(super) fn from_name(word: &str) -> Option<Level> {
        Level::ALL
            .into_iter()
            .find(|l| l.name().eq_ignore_ascii_case(word))
    }

    /// Inverse of `as u8` (out-of-range values read as `Dbg`; they cannot be stored).
    pub(super) fn from_u8(value: u8) -> Level {
        Level::ALL
            .get(usize::from(value))
            .copied()
            .unwrap_or(Level::Dbg)
    }

    /// The vlog level of a tracing level.
    pub(super) fn of_tracing(level: tracing::Level) -> Level {
        match level {
            tracing::Level::ERROR => Level::Err,
            tracing::Level::WARN => Level::Warn,
            tracing::Level::INFO => Level::Info,
            _ => Level::Dbg,
        }
    }
}

/// A log destination, in OVS's internal order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Destination {
    /// Syslog: shown and settable, but rvs writes nothing to syslog.
    Syslog = 0,
    /// Standard error.
    Console = 1,
    /// The log file, when one is configured.
    File = 2,
}

impl Destination {
    /// All destinations in OVS's order.
    pub(super) const ALL: [Destination; 3] =
        [Destination::Syslog, Destination::Console, Destination::File];

    /// The name as OVS spells it (matching ignores case).
    pub(super) fn name(self) -> &'static str {
        match self {
            Destination::Syslog => "syslog",
            Destination::Console => "console",
            Destination::File => "file",
        }
    }

    fn from_name(word: &str) -> Option<Destination> {
        Destination::ALL
            .into_iter()
            .find(|d| d.name().eq_ignore_ascii_case(word))
    }
}

/// Syslog facility names OVS accepts in `FACILITY:<name>`.
const FACILITIES: [&str; 23] = [
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "clock", "ftp",
    "ntp", "audit", "alert", "clock2", "local0", "local1", "local2", "local3", "local4", "local5",
    "local6", "local7",
];

/// What one spec asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Action {
    /// Set `level` for `module` (index into `MODULES`; `None` = all) at `destination`
    /// (`None` = all).
    Levels {
        module: Option<usize>,
        destination: Option<Destination>,
        level: Level,
    },
    /// Set the pattern of `destination` (`None` = all).
    Pattern {
        destination: Option<Destination>,
        pattern: String,
    },
    /// Set the syslog facility.
    Facility(String),
}

/// Splits like C's `strtok_r` with the delimiters OVS uses, and exposes the unsplit rest.
struct Words<'a> {
    text: &'a str,
    position: usize,
}

fn is_delimiter(b: u8) -> bool {
    matches!(b, b' ' | b',' | b':' | b'\t')
}

impl<'a> Words<'a> {
    fn new(text: &'a str) -> Self {
        Words { text, position: 0 }
    }

    /// Everything after the delimiter that ended the last word.
    fn rest(&self) -> &'a str {
        self.text.get(self.position..).unwrap_or("")
    }
}

impl<'a> Iterator for Words<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let bytes = self.text.as_bytes();
        let mut start = self.position;
        while bytes.get(start).is_some_and(|&b| is_delimiter(b)) {
            start += 1;
        }
        if start >= bytes.len() {
            self.position = bytes.len();
            return None;
        }
        let mut end = start;
        while bytes.get(end).is_some_and(|&b| !is_delimiter(b)) {
            end += 1;
        }
        // Delimiters are ASCII, so `start` and `end` are character boundaries.
        self.position = if end < bytes.len() { end + 1 } else { end };
        self.text.get(start..end)
    }
}

/// Parses one spec; `module_index` resolves module names (ASCII case ignored).
pub(super) fn parse(
    spec: &str,
    module_index: impl Fn(&str) -> Option<usize>,
) -> Result<Action, String> {
    let mut words = Words::new(spec);
    let first = words.next();
    if first.is_some_and(|w| w.eq_ignore_ascii_case("PATTERN")) {
        let Some(word) = words.next() else {
            return Err("missing destination".to_string());
        };
        let destination = if word.eq_ignore_ascii_case("ANY") {
            None
        } else {
            Some(
                Destination::from_name(word)
                    .ok_or_else(|| format!("unknown destination \"{word}\""))?,
            )
        };
        return Ok(Action::Pattern {
            destination,
            pattern: words.rest().to_string(),
        });
    }
    if first.is_some_and(|w| w.eq_ignore_ascii_case("FACILITY")) {
        let name = words.rest();
        return match FACILITIES.iter().find(|f| f.eq_ignore_ascii_case(name)) {
            Some(f) => Ok(Action::Facility((*f).to_string())),
            None => Err("invalid facility".to_string()),
        };
    }
    let (mut module, mut destination, mut level) = (None, None, None);
    for word in first.into_iter().chain(words) {
        if word.eq_ignore_ascii_case("ANY") {
            continue;
        } else if let Some(d) = Destination::from_name(word) {
            if destination.replace(d).is_some() {
                return Err("cannot specify multiple destinations".to_string());
            }
        } else if let Some(l) = Level::from_name(word) {
            if level.replace(l).is_some() {
                return Err("cannot specify multiple levels".to_string());
            }
        } else if let Some(m) = module_index(word) {
            if module.replace(m).is_some() {
                return Err("cannot specify multiple modules".to_string());
            }
        } else {
            return Err(format!("no destination, level, or module \"{word}\""));
        }
    }
    Ok(Action::Levels {
        module,
        destination,
        level: level.unwrap_or(Level::Dbg),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(word: &str) -> Option<usize> {
        ["bfd", "bond"]
            .iter()
            .position(|m| m.eq_ignore_ascii_case(word))
    }

    #[test]
    fn words_behave_like_strtok() {
        let mut w = Words::new("::a, b\tc:");
        assert_eq!(w.next(), Some("a"));
        assert_eq!(w.rest(), " b\tc:");
        assert_eq!(w.collect::<Vec<_>>(), ["b", "c"]);
        let mut w = Words::new("PATTERN:console:%d %m");
        assert_eq!(
            (w.next(), w.next(), w.rest()),
            (Some("PATTERN"), Some("console"), "%d %m")
        );
    }

    #[test]
    fn levels_and_defaults() {
        assert_eq!(
            parse("BOND:Console:warn", index),
            Ok(Action::Levels {
                module: Some(1),
                destination: Some(Destination::Console),
                level: Level::Warn
            })
        );
        assert_eq!(
            parse("", index),
            Ok(Action::Levels {
                module: None,
                destination: None,
                level: Level::Dbg
            })
        );
        assert_eq!(
            parse("any:file", index),
            Ok(Action::Levels {
                module: None,
                destination: Some(Destination::File),
                level: Level::Dbg
            })
        );
    }

    #[test]
    fn patterns_and_facilities() {
        assert_eq!(
            parse("pattern:ANY:%m", index),
            Ok(Action::Pattern {
                destination: None,
                pattern: "%m".to_string()
            })
        );
        assert_eq!(
            parse("FACILITY:Local3", index),
            Ok(Action::Facility("local3".to_string()))
        );
    }
}
