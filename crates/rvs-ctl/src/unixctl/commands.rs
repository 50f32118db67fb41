//! The command registry and the server-side checks OVS's `process_command` makes before a handler
//! runs.
//!
//! # Invariants
//! * Names are unique; the first registration of a name wins (later ones are ignored, as
//!   `unixctl_command_register` does), and the built-ins `list-commands`, `version` and
//!   `set-options` are always present.
//! * Checks run in OVS's order: unknown command, too few arguments, too many arguments, non-string
//!   argument; a handler only ever sees `min_args..=max_args` string arguments.
//! * `list-commands` lists visible commands sorted by name (byte order, like `shash_sort`), one
//!   `  %-23s %s` line each; hidden commands are callable but not listed.

use super::{CommandResult, Handler, format_for_terminal};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The output format a connection asked for with `set-options --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutputFormat {
    /// Plain text (the default, and the only format OVS 3.1 knows).
    #[default]
    Text,
    /// JSON documents (`ovs-appctl -f json` in OVS after 3.1).
    Json,
}

/// What runs when a command is called.
#[derive(Clone)]
enum Action {
    ListCommands,
    Version,
    SetOptions,
    Custom(Handler),
}

/// One registered command.
#[derive(Clone)]
struct Command {
    /// `None` hides the command from `list-commands`.
    usage: Option<String>,
    min_args: usize,
    max_args: usize,
    action: Action,
}

/// A successful answer before it is put on the wire.
pub(crate) enum Answer {
    /// Plain text; the newline rule is still to be applied.
    Text(String),
    /// A JSON document (JSON output mode only).
    Json(Value),
}

/// The registry of unixctl commands, with OVS's built-ins.
#[derive(Clone)]
pub struct Commands {
    commands: BTreeMap<String, Command>,
    version_text: String,
}

impl std::fmt::Debug for Commands {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Commands")
            .field("names", &self.commands.keys().collect::<Vec<_>>())
            .field("version_text", &self.version_text)
            .finish()
    }
}

impl Commands {
    /// A registry holding the built-ins: `list-commands`, `version` (answers `version_text`, e.g.
    /// `ovs-vswitchd (Open vSwitch) 3.1.0` as the OVS oracle prints it) and
    /// `set-options [--format text|json]`.
    pub fn new(version_text: &str) -> Commands {
        let mut commands = Commands {
            commands: BTreeMap::new(),
            version_text: version_text.to_owned(),
        };
        commands.insert("list-commands", Some(""), 0, 0, Action::ListCommands);
        commands.insert("version", Some(""), 0, 0, Action::Version);
        commands.insert(
            "set-options",
            Some("[--format text|json]"),
            1,
            2,
            Action::SetOptions,
        );
        commands
    }

    /// Registers a command shown by `list-commands` with `usage` (may be empty). A name that is
    /// already registered keeps its first registration.
    pub fn register(
        &mut self,
        name: &str,
        usage: &str,
        min_args: usize,
        max_args: usize,
        handler: Handler,
    ) {
        self.insert(
            name,
            Some(usage),
            min_args,
            max_args,
            Action::Custom(handler),
        );
    }

    /// Registers a command that `list-commands` does not show (OVS: usage `NULL`). `usage` is kept
    /// for documentation only.
    pub fn register_hidden(
        &mut self,
        name: &str,
        usage: &str,
        min_args: usize,
        max_args: usize,
        handler: Handler,
    ) {
        let _ = usage;
        self.insert(name, None, min_args, max_args, Action::Custom(handler));
    }

    /// Whether `name` is registered (hidden or not).
    pub fn contains(&self, name: &str) -> bool {
        self.commands.contains_key(name)
    }

    fn insert(
        &mut self,
        name: &str,
        usage: Option<&str>,
        min_args: usize,
        max_args: usize,
        action: Action,
    ) {
        self.commands
            .entry(name.to_owned())
            .or_insert_with(|| Command {
                usage: usage.map(str::to_owned),
                min_args,
                max_args,
                action,
            });
    }

    /// Runs `method` with `params` in text mode and returns the handler's raw text (the newline rule
    /// is not applied) or OVS's error text.
    pub fn dispatch(&self, method: &str, params: &[Value]) -> CommandResult {
        let mut format = OutputFormat::Text;
        match self.execute(method, params, &mut format)? {
            Answer::Text(text) => Ok(text),
            Answer::Json(value) => Ok(value.to_string()),
        }
    }

    /// Runs `method` for a connection whose output format is `format` (which `set-options` may
    /// change).
    pub(crate) fn execute(
        &self,
        method: &str,
        params: &[Value],
        format: &mut OutputFormat,
    ) -> Result<Answer, String> {
        let Some(command) = self.commands.get(method) else {
            return Err(format!(
                "\"{method}\" is not a valid command (use \"list-commands\" to see a list of valid commands)"
            ));
        };
        if params.len() < command.min_args {
            return Err(format!(
                "\"{method}\" command requires at least {} arguments",
                command.min_args
            ));
        }
        if params.len() > command.max_args {
            return Err(format!(
                "\"{method}\" command takes at most {} arguments",
                command.max_args
            ));
        }
        let mut args = Vec::with_capacity(params.len());
        for param in params {
            match param {
                Value::String(s) => args.push(s.clone()),
                _ => return Err(format!("\"{method}\" command has non-string argument")),
            }
        }
        let text = match &command.action {
            Action::ListCommands if *format == OutputFormat::Json => {
                return Ok(Answer::Json(self.list_json()));
            }
            Action::ListCommands => self.list_text(),
            Action::Version => self.version_text.clone(),
            Action::SetOptions => {
                *format = parse_set_options(&args, *format)?;
                String::new()
            }
            Action::Custom(handler) => handler(&args)?,
        };
        Ok(match format {
            OutputFormat::Text => Answer::Text(text),
            OutputFormat::Json => {
                let mut wrapper = Map::new();
                wrapper.insert("reply-format".into(), Value::String("plain".into()));
                wrapper.insert("reply".into(), Value::String(text));
                Answer::Json(Value::Object(wrapper))
            }
        })
    }

    fn list_text(&self) -> String {
        let mut text = String::from("The available commands are:\n");
        for (name, command) in &self.commands {
            if let Some(usage) = &command.usage {
                text.push_str(&format!("  {name:<23} {usage}\n"));
            }
        }
        text
    }

    fn list_json(&self) -> Value {
        let mut map = Map::new();
        for (name, command) in &self.commands {
            if let Some(usage) = &command.usage {
                map.insert(name.clone(), Value::String(usage.clone()));
            }
        }
        Value::Object(map)
    }
}

impl Answer {
    /// The `result` member to send: text gets the newline rule, JSON is sent as is.
    pub(crate) fn into_result(self) -> Value {
        match self {
            Answer::Text(text) => Value::String(format_for_terminal(&text)),
            Answer::Json(value) => value,
        }
    }
}

/// `set-options` argument parsing, getopt-style like OVS's `ovs_cmdl_parse_all` with the single
/// option `--format`/`-f` (long option prefixes accepted, non-option arguments ignored). Returns
/// the format in force afterwards.
fn parse_set_options(args: &[String], current: OutputFormat) -> Result<OutputFormat, String> {
    let mut format = current;
    let mut i = 0;
    while let Some(arg) = args.get(i) {
        i += 1;
        let value = if arg == "--" {
            break;
        } else if let Some(long) = arg.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_owned())),
                None => (long, None),
            };
            if name.is_empty() || !"format".starts_with(name) {
                return Err(format!("unrecognized option '{arg}'"));
            }
            match inline {
                Some(v) => v,
                None => {
                    let Some(v) = args.get(i) else {
                        return Err(format!("option '{arg}' requires an argument"));
                    };
                    i += 1;
                    v.clone()
                }
            }
        } else if let Some(short) = arg.strip_prefix('-').filter(|s| !s.is_empty()) {
            let mut chars = short.chars();
            match chars.next() {
                Some('f') => {}
                Some(other) => return Err(format!("unrecognized option '{other}'")),
                None => continue,
            }
            let rest = chars.as_str();
            if !rest.is_empty() {
                rest.to_owned()
            } else {
                let Some(v) = args.get(i) else {
                    return Err(format!("option '{arg}' requires an argument"));
                };
                i += 1;
                v.clone()
            }
        } else {
            continue;
        };
        format = if value.eq_ignore_ascii_case("text") {
            OutputFormat::Text
        } else if value.eq_ignore_ascii_case("json") {
            OutputFormat::Json
        } else {
            return Err(format!("option format has invalid value {value}"));
        };
    }
    Ok(format)
}

#[cfg(test)]
mod tests;
