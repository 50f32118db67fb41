//! The `dpctl/*` control-socket commands of `ovs-vswitchd`, as pure text in, text out.
//!
//! [`run`] takes a command name (without `dpctl/`) and the arguments the control socket
//! received, runs it against a [`Datapath`] and returns the reply text: `Ok` for a normal reply,
//! `Err` for an error reply. [`commands`] lists the commands with their usage and argument
//! bounds as Open vSwitch 3.1 registers them (`lib/dpctl.c`).
//!
//! # Behaviour (checked against OVS 3.1's `ovs-appctl dpctl/...` on the dummy datapath)
//! * Options come first and are read like getopt: `-m`/`--more` (verbose, repeatable), `-s`/
//!   `--statistics`, `--clear`, `--may-create`, `--names`/`--no-names` (names default to on
//!   with `-m`); short options can be bundled (`-ms`). The first argument that does not start
//!   with `-` (or is `-` alone) ends the options; anything else is `Unrecognized option ...`.
//! * An optional datapath argument is recognised only when it is exactly the datapath's full
//!   name (`dummy@ovs-dummy`). Without it the single datapath is used, except when the
//!   command got its maximum number of arguments: then the first one had to be a datapath and
//!   the reply is `datapath not found (Invalid argument)`. `dpctl/show NAME` opens by name
//!   instead, with OVS's errors (`No such device`, `Invalid argument` for the right name with the
//!   wrong type, `Address family not supported by protocol` for an unknown type).
//! * Errors are `ovs-vswitchd: <what>[ (<strerror>)]`, one line each; an error reply carries
//!   everything printed before it too. Some OVS failures are not errors (a bad UFID in
//!   `get-flow`, an unreadable file in `del-flows FILE`): their text is an `Ok` reply, as in OVS.
//! * Datapath flows print with OVS 3.1's attribute order ([`KeyOrder::Ovs31`]); verbose lines
//!   carry `dp-extra-info:miniflow_bits(a,b)` computed from the mask as dpif-netdev does.
//! * Flow keys are read by `rvs_flow::odp::parse_key`, which also decodes them. OVS only parses
//!   at this point and decodes in its datapath, so a key that reads but does not decode (an
//!   ARP Ethertype without `arp()`, L4 ports without an IP protocol, no Ethernet type) gives
//!   OVS's datapath answer: `updating flow table (Invalid argument)` for a put (after the
//!   actions are parsed, as in OVS), "not found" for a delete by key.
//!
//! # Invariants
//! * Never panics, whatever the argument strings; every reply text that is not empty ends with
//!   a newline (so the control socket's "add a missing newline" rule never changes it).
//! * The datapath is only read, except by `add-flow`, `mod-flow`, `del-flow` and `del-flows`,
//!   which make exactly the one change (or, for `del-flows FILE`, the changes of each line) OVS
//!   makes.
//! * Argument counts are checked like the control socket does (options count), with its error
//!   text, so calling `run` directly behaves like going through the socket.
//!
//! # Partial
//! * Only `show`, `dump-flows`, `add-flow`, `mod-flow`, `del-flow`, `get-flow` and `del-flows`
//!   (OVS has about 40 `dpctl/` commands; the rest are not in [`commands`]).
//! * `del-flows FILE` reads the file from the daemon's file system; `-` (standard input) reads
//!   nothing, as for a daemon whose standard input is `/dev/null`.
//! * Where OVS reads outside its argument list (`argv[-1]` of `add-flow -s x`, only reachable
//!   with options counted as arguments), a missing argument is taken as the empty string.
//! * `add-flow` with an empty key (no attributes at all) fails with `Invalid argument`; OVS
//!   installs it as an exact-match flow on a packet without an input port.
//! * An unknown short option is echoed as a whole character (OVS echoes its first byte).
//! * Flow order within a dump is the datapath's slot order (OVS's is its hash-table order).
//! * `pmd=N` takes a decimal `i32` after optional spaces and sign, like `%d`; trailing text is
//!   ignored and an out-of-range number wraps.

mod dump;
mod flows;
mod show;
mod stats;

#[cfg(test)]
mod tests;

use std::fmt::Write as _;

use rvs_flow::odp::KeyOrder;

use crate::datapath::Datapath;
use crate::dpif::{Dpif, DpifError};

/// The commands: (name, usage, min_args, max_args), as `lib/dpctl.c` of OVS 3.1 registers them.
const COMMANDS: &[(&str, &str, usize, usize)] = &[
    ("show", "[-s] [dp...]", 0, usize::MAX),
    (
        "dump-flows",
        "[-m] [--names] [dp] [filter=..] [type=..] [pmd=..]",
        0,
        6,
    ),
    ("add-flow", "[dp] flow actions", 2, 3),
    ("mod-flow", "[dp] flow actions", 2, 3),
    ("get-flow", "[dp] ufid", 1, 2),
    ("del-flow", "[dp] flow", 1, 2),
    ("del-flows", "[dp] [file]", 0, 2),
];

/// The key attribute order of the OVS release whose output is copied.
const KEY_ORDER: KeyOrder = KeyOrder::Ovs31;

/// The program name every error line starts with.
const PROGRAM: &str = "ovs-vswitchd";

/// The commands [`run`] understands, as (name, usage, min_args, max_args), as ovs-vswitchd
/// registers them (usage text exactly as `dpctl.c`'s table; `usize::MAX` = no limit).
pub fn commands() -> &'static [(&'static str, &'static str, usize, usize)] {
    COMMANDS
}

/// Runs one dpctl command (the name without the `dpctl/` prefix: `show`, `dump-flows`,
/// `add-flow`, `mod-flow`, `del-flow`, `del-flows`, `get-flow`) with the arguments the control
/// socket received. `Ok` is the reply text (exactly what ovs-vswitchd replies, including
/// trailing newlines), `Err` the error text exactly as OVS (e.g.
/// `ovs-vswitchd: updating flow table (Invalid argument)\n`).
pub fn run(dp: &Datapath, command: &str, args: &[String]) -> Result<String, String> {
    let Some(&(name, _, min, max)) = COMMANDS.iter().find(|c| c.0 == command) else {
        return Err(format!(
            "\"dpctl/{command}\" is not a valid command (use \"list-commands\" to see a list of valid commands)\n"
        ));
    };
    if args.len() < min {
        return Err(format!(
            "\"dpctl/{name}\" command requires at least {min} arguments\n"
        ));
    }
    if args.len() > max {
        return Err(format!(
            "\"dpctl/{name}\" command takes at most {max} arguments\n"
        ));
    }
    let full_name = format!("dpctl/{name}");
    let (params, argv) = parse_options(&full_name, args)?;
    let mut ctx = Ctx {
        dp,
        params,
        out: String::new(),
    };
    let failed = match name {
        "show" => show::show(&mut ctx, &argv),
        "dump-flows" => dump::dump_flows(&mut ctx, &argv),
        "add-flow" => flows::put_flow(&mut ctx, &argv, PutKind::Add),
        "mod-flow" => flows::put_flow(&mut ctx, &argv, PutKind::Modify),
        "get-flow" => flows::get_flow(&mut ctx, &argv),
        "del-flow" => flows::del_flow(&mut ctx, &argv),
        _ => flows::del_flows(&mut ctx, &argv),
    }
    .is_err();
    if failed { Err(ctx.out) } else { Ok(ctx.out) }
}

/// Which put a `*-flow` command makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PutKind {
    /// `add-flow`: create only.
    Add,
    /// `mod-flow`: modify (create too with `--may-create`, zero stats with `--clear`).
    Modify,
}

/// The options (OVS's `struct dpctl_params`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Params {
    /// `-m` count.
    verbosity: u32,
    /// `-s`: print statistics.
    statistics: bool,
    /// `--clear`: zero statistics on modify.
    clear: bool,
    /// `--may-create`: mod-flow may create.
    may_create: bool,
    /// Print port names instead of numbers.
    names: bool,
}

/// A command failed; its text is already in [`Ctx::out`].
#[derive(Debug)]
struct Failed;

/// The state of one command: datapath, options and the reply being built.
struct Ctx<'a> {
    dp: &'a Datapath,
    params: Params,
    out: String,
}

impl Ctx<'_> {
    /// Appends `ovs-vswitchd: <message>[ (<strerror>)]\n`.
    fn error(&mut self, message: &str, errno: Option<&dyn std::fmt::Display>) {
        let _ = write!(self.out, "{PROGRAM}: {message}");
        if let Some(e) = errno {
            let _ = write!(self.out, " ({e})");
        }
        self.out.push('\n');
    }

    /// Appends an error line and fails.
    fn fail(&mut self, message: &str, errno: Option<&dyn std::fmt::Display>) -> Result<(), Failed> {
        self.error(message, errno);
        Err(Failed)
    }

    /// OVS's `opt_dpif_open`: checks the optional datapath argument `argv[1]` of a command whose
    /// full argument list is at most `max_argc` long (counting the command itself).
    fn open_optional(&mut self, argv: &[&str], max_argc: usize) -> Result<(), Failed> {
        let named = argv.get(1).is_some_and(|a| *a == self.dp.name());
        if named || argv.len() != max_argc {
            Ok(())
        } else {
            self.fail("datapath not found", Some(&invalid()))
        }
    }

    /// The datapath's ports as (number, name), for printing and parsing names.
    fn port_names(&self) -> Vec<(u32, String)> {
        self.dp
            .ports()
            .into_iter()
            .map(|p| (p.port_no, p.name))
            .collect()
    }
}

/// `EINVAL` without a detail.
fn invalid() -> DpifError {
    DpifError::Invalid(String::new())
}

/// Reads the leading options like `dpctl_unixctl_handler`. Returns the options and the argument
/// vector a dpctl handler sees: `argv[0]` is the command name, or the last option read (OVS
/// shifts its `argv` past each option), then the remaining arguments.
fn parse_options<'a>(
    command: &'a str,
    args: &'a [String],
) -> Result<(Params, Vec<&'a str>), String> {
    let mut params = Params::default();
    let mut names_set = None;
    let mut argv0 = command;
    let mut rest = args;
    while let Some((arg, tail)) = rest.split_first() {
        if let Some(long) = arg.strip_prefix("--") {
            match long {
                "statistics" => params.statistics = true,
                "clear" => params.clear = true,
                "may-create" => params.may_create = true,
                "more" => params.verbosity = params.verbosity.saturating_add(1),
                "names" => names_set = Some(true),
                "no-names" => names_set = Some(false),
                _ => return Err(format!("Unrecognized option {arg}\n")),
            }
        } else if let Some(short) = arg.strip_prefix('-').filter(|s| !s.is_empty()) {
            for c in short.chars() {
                match c {
                    'm' => params.verbosity = params.verbosity.saturating_add(1),
                    's' => params.statistics = true,
                    other => return Err(format!("Unrecognized option -{other}\n")),
                }
            }
        } else {
            break;
        }
        argv0 = arg;
        rest = tail;
    }
    params.names = names_set.unwrap_or(params.verbosity > 0);
    let mut argv = Vec::with_capacity(rest.len() + 1);
    argv.push(argv0);
    argv.extend(rest.iter().map(String::as_str));
    Ok((params, argv))
}
