//! The unixctl control socket: OVS's `lib/unixctl.c` protocol, served so that the real
//! `ovs-appctl` (3.1) works against rvs unchanged.
//!
//! # Protocol (ovs-upcall.md §7.1)
//! A client connects to a Unix stream socket and sends JSON-RPC requests
//! `{"method":CMD,"params":[ARG...],"id":N}` back to back; ids count from 0 per client. The server
//! answers each with `{"id":N,"result":TEXT,"error":null}` or `{"id":N,"error":TEXT}`, one request at
//! a time per connection. Before sending, the server applies the *trailing-newline rule* to the
//! text of both kinds of answer: a non-empty text that does not end in `\n` gets one appended
//! (OVS 3.1 does this in `unixctl_command_reply__`; later OVS versions moved it into `ovs-appctl`,
//! so doing it in the server is right for both). [`format_for_terminal`] is that rule.
//!
//! # How `ovs-appctl` prints an answer
//! * result: the text is written to stdout as is (already newline-terminated by the rule), exit 0;
//! * error: the text is written to stderr, then the line
//!   `ovs-appctl: TARGET: server returned an error` (TARGET as given to `-t`, default
//!   `ovs-vswitchd`), exit status 2;
//! * failures before an answer (`cannot read pidfile "P" (ERR)`, `cannot connect to "S" (ERR)`,
//!   `TARGET: transaction error (ERR)`) are printed as `ovs-appctl: ...` on stderr, exit status 1.
//!
//! # Output formats
//! The built-in `set-options [--format text|json]` (from OVS after 3.1; 3.1's `ovs-appctl` never
//! sends it) switches one connection to JSON mode, where plain-text results are sent as
//! `{"reply-format":"plain","reply":TEXT}` (without the newline rule, as newer OVS does) and
//! `list-commands` answers with an object mapping each visible command to its usage. Errors stay
//! plain strings.
//!
//! # Differences from OVS (deliberate or partial)
//! * Threads instead of OVS's poll loop: one per connection, at most [`MAX_CONNECTIONS`]; requests
//!   over [`MAX_REQUEST_LEN`] are refused (OVS has no limit).
//! * Bad input gets an error answer (`"id":null`) before the connection is closed; OVS only closes.
//! * [`resolve_target`] does not check the pidfile's `fcntl` lock.
//! * JSON output mode follows OVS after 3.1 from its source only; the installed 3.1 `ovs-appctl`
//!   cannot exercise it.
//!
//! # Invariants
//! * A connection has at most one request in progress; the next request is read only after the
//!   answer was written. Handlers run on the connection's own thread and may block.
//! * [`Commands::dispatch`] returns raw handler text (no newline rule); the [`Server`] applies the rule.
//! * Nothing a peer sends can panic the server: bad input gets an error answer and the connection is
//!   closed, and the server keeps accepting others.

mod client;
mod commands;
mod server;

pub use client::Client;
pub use commands::{Commands, OutputFormat};
pub use server::{MAX_CONNECTIONS, MAX_REQUEST_LEN, Server};

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The outcome of a command: `Ok(text)` is sent as a result, `Err(text)` as an error.
pub type CommandResult = Result<String, String>;

/// A command implementation; receives the arguments (without the command name).
pub type Handler = std::sync::Arc<dyn Fn(&[String]) -> CommandResult + Send + Sync>;

/// The trailing-newline rule of unixctl: a non-empty `text` not ending in `\n` gets one appended.
pub fn format_for_terminal(text: &str) -> String {
    if text.is_empty() || text.ends_with('\n') {
        text.to_owned()
    } else {
        format!("{text}\n")
    }
}

/// What `ovs-appctl -t TARGET` connects to: a `TARGET` starting with `/` is the socket path itself;
/// otherwise the pid is read from `RUNDIR/TARGET.pid` and the socket is `RUNDIR/TARGET.PID.ctl`.
///
/// The error text is what `ovs-appctl` prints after `ovs-appctl: `, e.g.
/// `cannot read pidfile "/run/x/rvs.pid" (No such file or directory)`. Unlike OVS, the pidfile's
/// `fcntl` lock is not checked (that needs `libc`): the pid is the number the file starts with.
/// A file that is empty or does not start with a positive number gives `(No such process)`, like
/// OVS's stale-pidfile answer.
pub fn resolve_target(target: &str, rundir: &Path) -> Result<PathBuf, String> {
    if target.starts_with('/') {
        return Ok(PathBuf::from(target));
    }
    let with_suffix = |suffix: &str| {
        let mut name = OsString::from(rundir.as_os_str());
        name.push("/");
        name.push(target);
        name.push(suffix);
        PathBuf::from(name)
    };
    let pidfile = with_suffix(".pid");
    let fail = |reason: &str| format!("cannot read pidfile \"{}\" ({reason})", pidfile.display());
    let contents = std::fs::read(&pidfile).map_err(|e| fail(&strerror_text(&e)))?;
    let first_line = contents.split(|&b| b == b'\n').next().unwrap_or(&[]);
    let pid = leading_decimal(first_line).filter(|&pid| pid > 0);
    match pid {
        Some(pid) => Ok(with_suffix(&format!(".{pid}.ctl"))),
        None => Err(fail("No such process")),
    }
}

/// The C library's text for an I/O error (`strerror`), without Rust's ` (os error N)` suffix.
pub(crate) fn strerror_text(error: &std::io::Error) -> String {
    let text = error.to_string();
    match (error.raw_os_error(), text.rfind(" (os error ")) {
        (Some(_), Some(at)) => text[..at].to_owned(),
        _ => text,
    }
}

/// `strtoul(s, NULL, 10)`-like: optional leading whitespace and `+`, then decimal digits.
/// `None` if there are no digits or the value does not fit.
fn leading_decimal(bytes: &[u8]) -> Option<u64> {
    let mut rest = bytes;
    while let [b' ' | b'\t' | b'\r' | b'\x0b' | b'\x0c', tail @ ..] = rest {
        rest = tail;
    }
    if let [b'+', tail @ ..] = rest {
        rest = tail;
    }
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    let text = std::str::from_utf8(rest.get(..digits)?).ok()?;
    text.parse().ok()
}

#[cfg(test)]
mod tests;
