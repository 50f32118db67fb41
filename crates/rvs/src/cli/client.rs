//! The client side of the control socket: `rvs appctl`, `rvs ofctl`, `rvs dpctl`.
//!
//! Output follows `ovs-appctl`: a reply goes to stdout (with a newline added if it lacks one),
//! an error reply goes to stderr followed by `<tool>: <target>: server returned an error` and
//! exit status 2; a daemon that cannot be reached gives status 1.
//!
//! # Invariants
//! * One request per connection, ids from 0, params always strings (what the server demands).

use std::io::{Read, Write};
use std::process::ExitCode;
use std::time::Duration;

use rvs_ctl::unixctl::{Client, CommandResult, format_for_terminal, resolve_target};

use super::Target;
use crate::rundir::choose_rundir;

/// Sends one command and returns the daemon's answer, or why it could not be asked.
pub fn appctl(target: &Target, command: &str, args: &[String]) -> Result<CommandResult, String> {
    let rundir = choose_rundir(target.rundir.as_deref(), None);
    let path = resolve_target(&target.target, &rundir)?;
    let mut client = Client::connect(&path)
        .map_err(|e| format!("cannot connect to \"{}\" ({e})", path.display()))?;
    if target.timeout > 0 {
        client.set_timeout(Some(Duration::from_secs(target.timeout)));
    }
    client
        .transact(command, args)
        .map_err(|e| format!("transaction error ({e})"))
}

/// Runs one command and prints its answer like `ovs-appctl`; returns the exit status.
pub fn run_appctl(target: &Target, command: &str, args: &[String], tool: &str) -> ExitCode {
    match appctl(target, command, args) {
        Ok(Ok(text)) => {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(format_for_terminal(&text).as_bytes());
            ExitCode::SUCCESS
        }
        Ok(Err(text)) => {
            let mut err = std::io::stderr().lock();
            let _ = err.write_all(format_for_terminal(&text).as_bytes());
            let _ = writeln!(err, "{tool}: {}: server returned an error", target.target);
            ExitCode::from(2)
        }
        Err(why) => {
            eprintln!("{tool}: {why}");
            ExitCode::from(1)
        }
    }
}

/// `rvs ofctl COMMAND BRIDGE ARGS...`: reads flow files on this side (so relative paths and
/// `-` for stdin mean what they mean to the user), then asks the daemon.
pub(super) fn run_ofctl(target: &Target, command: &str, bridge: &str, args: &[String]) -> ExitCode {
    let mut params = vec![bridge.to_owned()];
    match command {
        "add-flows" | "replace-flows" => {
            let [file] = args else {
                eprintln!("rvs ofctl: {command} needs exactly one FILE argument (- for stdin)");
                return ExitCode::from(1);
            };
            let text = if file == "-" {
                let mut text = String::new();
                std::io::stdin()
                    .read_to_string(&mut text)
                    .map(|_| text)
                    .map_err(|e| e.to_string())
            } else {
                std::fs::read_to_string(file).map_err(|e| e.to_string())
            };
            match text {
                Ok(text) => params.push(text),
                Err(e) => {
                    eprintln!("rvs ofctl: {file}: {e}");
                    return ExitCode::from(1);
                }
            }
        }
        "add-flow" | "mod-flows" | "del-flows" | "dump-flows" => params.extend_from_slice(args),
        other => {
            eprintln!(
                "rvs ofctl: unknown command '{other}' (add-flow, add-flows, mod-flows, del-flows, replace-flows, dump-flows)"
            );
            return ExitCode::from(1);
        }
    }
    run_appctl(target, &format!("ofctl/{command}"), &params, "rvs ofctl")
}
