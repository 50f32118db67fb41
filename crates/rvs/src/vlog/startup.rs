//! Start-up level specs: what `--verbose`-style options may say besides `vlog/set` specs.
//!
//! A spec without `=` is a `vlog/set` spec whose tracing level words (`debug`, `trace`, `error`,
//! `warning`) are first translated to vlog's; one with `=` is a comma-separated list of
//! EnvFilter-like directives, `level` or `module_or_target=level`, each for every destination.
//!
//! Invariant: like `vlog/set`, parsing has no side effects; errors name the offending spec.

use super::spec::{self, Action, Level};
use super::{MODULES, module_for_target, module_index};

/// Turns one start-up spec into actions: a `vlog/set` spec, with tracing's level words
/// translated, or EnvFilter-style `level` / `target=level` directives separated by commas.
pub(super) fn initial_actions(spec: &str) -> Result<Vec<Action>, String> {
    let processing = |message: String| format!("processing \"{spec}\": {message}");
    let first_word = spec
        .split([' ', ',', ':', '\t'])
        .find(|w| !w.is_empty())
        .unwrap_or("");
    let special = ["PATTERN", "FACILITY"]
        .iter()
        .any(|w| w.eq_ignore_ascii_case(first_word));
    if special {
        return spec::parse(spec, module_index)
            .map(|a| vec![a])
            .map_err(processing);
    }
    if !spec.contains('=') {
        let translated: Vec<&str> = split_keeping_delimiters(spec)
            .map(translate_level_word)
            .collect();
        return spec::parse(&translated.concat(), module_index)
            .map(|a| vec![a])
            .map_err(processing);
    }
    let mut actions = Vec::new();
    for directive in spec.split(',').map(str::trim).filter(|d| !d.is_empty()) {
        let (who, level_word) = match directive.split_once('=') {
            Some((who, level)) => (Some(who.trim()), level.trim()),
            None => (None, directive),
        };
        let level = Level::from_name(translate_level_word(level_word))
            .ok_or_else(|| processing(format!("unknown level \"{level_word}\"")))?;
        let module = match who {
            None => None,
            Some(name) => Some(
                module_index(name)
                    .or_else(|| known_target_module(name))
                    .ok_or_else(|| processing(format!("unknown module or target \"{name}\"")))?,
            ),
        };
        actions.push(Action::Levels {
            module,
            destination: None,
            level,
        });
    }
    Ok(actions)
}

/// The module of a tracing target that some entry of [`MODULES`] really covers (no fallback).
fn known_target_module(target: &str) -> Option<usize> {
    let claimed = MODULES
        .iter()
        .flat_map(|(_, targets)| targets.iter())
        .any(|prefix| {
            target
                .strip_prefix(prefix)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with("::"))
        });
    claimed.then(|| module_for_target(target))
}

/// The vlog word for a tracing level word; other words unchanged.
fn translate_level_word(word: &str) -> &str {
    match word.to_ascii_lowercase().as_str() {
        "debug" | "trace" => "dbg",
        "error" => "err",
        "warning" => "warn",
        _ => word,
    }
}

/// Splits `text` into alternating runs of delimiter and non-delimiter characters (the spec
/// delimiters), so that translating words keeps the string's shape.
fn split_keeping_delimiters(text: &str) -> impl Iterator<Item = &str> {
    let is_delim = |c: char| matches!(c, ' ' | ',' | ':' | '\t');
    let mut rest = text;
    std::iter::from_fn(move || {
        let first = rest.chars().next()?;
        let kind = is_delim(first);
        let end = rest
            .find(|c: char| is_delim(c) != kind)
            .unwrap_or(rest.len());
        let (piece, tail) = rest.split_at(end);
        rest = tail;
        Some(piece)
    })
}
