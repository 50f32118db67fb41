//! The `ovs-ofctl` flow commands of the control socket (`add-flow`, `add-flows`, `mod-flows`,
//! `del-flows`, `replace-flows`, `dump-flows`) against one bridge, with `ovs-ofctl`'s replies
//! and error texts.
//!
//! # Invariants
//! * Options may appear anywhere among the arguments (`ovs-ofctl` permutes them): `--strict`,
//!   `--no-stats`/`--stats`, `--names`/`--no-names`, `--bundle`, `-O`/`--protocols`
//!   (`OpenFlow10`, `OpenFlow13`).
//! * Port names of the bridge are accepted wherever a port number is, as `ovs-ofctl` does.
//! * Every command that may have changed the tables bumps the tables version and calls the
//!   change hook (after the write lock is released), even when it then reports an error
//!   (`add-flows` without `--bundle` applies the lines before the failing one).

use rvs_ofproto::actions::Dialect;
use rvs_ofproto::table::{FlowModError, Ofctl};

use super::OfprotoDpif;

/// File name used in `add-flows`/`replace-flows` error messages (the text came on stdin).
const FLOW_FILE_NAME: &str = "-";

/// Parsed `ovs-ofctl` options and positional arguments.
#[derive(Debug, Default)]
struct Options<'a> {
    strict: bool,
    no_stats: bool,
    names: bool,
    bundle: bool,
    dialect: Dialect,
    positional: Vec<&'a str>,
}

fn parse_dialect(value: &str) -> Result<Dialect, String> {
    let mut dialect = None;
    for name in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        dialect = Some(match name {
            "OpenFlow10" => Dialect::OpenFlow10,
            // rvs models OpenFlow 1.0 and 1.3 rules; the other 1.x versions share 1.3's action
            // and match rules for what rvs implements (goto_table, push_vlan + set_field).
            "OpenFlow11" | "OpenFlow12" | "OpenFlow13" | "OpenFlow14" | "OpenFlow15" => {
                Dialect::OpenFlow13
            }
            _ => return Err(format!("ovs-ofctl: Unknown OpenFlow version: \"{name}\"")),
        });
    }
    dialect.ok_or_else(|| format!("ovs-ofctl: Unknown OpenFlow version: \"{value}\""))
}

fn parse_options(args: &[String]) -> Result<Options<'_>, String> {
    let mut o = Options::default();
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        match arg.as_str() {
            "--strict" => o.strict = true,
            "--no-stats" => o.no_stats = true,
            "--stats" => o.no_stats = false,
            "--names" => o.names = true,
            "--no-names" => o.names = false,
            "--bundle" => o.bundle = true,
            "-O" | "--protocols" => {
                let value = iter.next().ok_or_else(|| {
                    if arg == "-O" {
                        "ovs-ofctl: option requires an argument -- 'O'".to_owned()
                    } else {
                        format!("ovs-ofctl: option '{arg}' requires an argument")
                    }
                })?;
                o.dialect = parse_dialect(value)?;
            }
            a if a.starts_with("--protocols=") => {
                o.dialect = parse_dialect(&a["--protocols=".len()..])?;
            }
            a if a.starts_with("-O") && a.len() > 2 => o.dialect = parse_dialect(&a[2..])?,
            a if a.starts_with("--") => {
                return Err(format!("ovs-ofctl: unrecognized option '{a}'"));
            }
            a => o.positional.push(a),
        }
    }
    Ok(o)
}

/// `ovs-ofctl: <message>` for a flow-mod error.
fn ofctl_error(e: &FlowModError) -> String {
    match e {
        FlowModError::Switch(_) => e.to_string(),
        _ => format!("ovs-ofctl: {e}"),
    }
}

/// The minimum number of arguments `ovs-ofctl` wants (bridge included) per command.
fn check_arity(command: &str, n_positional: usize) -> Result<(), String> {
    let (min, max) = match command {
        "add-flow" | "add-flows" | "mod-flows" | "replace-flows" => (2, 2),
        "del-flows" | "dump-flows" => (1, 2),
        _ => {
            return Err(format!(
                "ovs-ofctl: unknown command '{command}'; use --help for help"
            ));
        }
    };
    let n = n_positional + 1;
    if n < min {
        return Err(format!(
            "ovs-ofctl: '{command}' command requires at least {min} arguments"
        ));
    }
    if n > max {
        return Err(format!(
            "ovs-ofctl: '{command}' command takes at most {max} arguments"
        ));
    }
    Ok(())
}

impl OfprotoDpif {
    /// OpenFlow table management for the control socket: `command` is `add-flow`,
    /// `add-flows`, `mod-flows`, `del-flows`, `replace-flows` or `dump-flows`, `args` what
    /// `ovs-ofctl` takes after the bridge name (for `add-flows`/`replace-flows` the first
    /// positional argument is the flow file's *text*). `Ok` is what `ovs-ofctl` prints (empty
    /// for changes), `Err` its error text.
    pub fn ofctl(&self, bridge: &str, command: &str, args: &[String]) -> Result<String, String> {
        let opts = parse_options(args)?;
        check_arity(command, opts.positional.len())?;
        let br = self
            .bridge(bridge)
            .ok_or_else(|| format!("ovs-ofctl: {bridge} is not a bridge or a socket"))?;
        let ports = br.ports.read().clone();
        let lookup = |name: &str| ports.by_name(name).map(|p| p.ofport);
        let client = Ofctl {
            dialect: opts.dialect,
            ports: Some(&lookup),
        };
        let text = opts.positional.first().copied().unwrap_or("");
        let now = self.now_ms_signed();
        if command == "dump-flows" {
            let tables = br.tables.read();
            let lines = client
                .dump_flows(&tables, text, !opts.no_stats, now)
                .map_err(|e| ofctl_error(&e))?;
            let mut out = String::new();
            if !opts.no_stats && !opts.names {
                // What `ovs-ofctl` 3.1 prints before an unsorted dump; the transaction id
                // depends on the messages it sent first (checked against OVS 3.1).
                out.push_str(match (opts.dialect, text.trim().is_empty()) {
                    (Dialect::OpenFlow10, true) => "NXST_FLOW reply (xid=0x4):\n",
                    (Dialect::OpenFlow10, false) => "NXST_FLOW reply (xid=0x8):\n",
                    (Dialect::OpenFlow13, true) => "OFPST_FLOW reply (OF1.3) (xid=0x2):\n",
                    (Dialect::OpenFlow13, false) => "OFPST_FLOW reply (OF1.3) (xid=0x6):\n",
                });
            }
            for line in lines {
                out.push_str(&line);
                out.push('\n');
            }
            return Ok(out);
        }
        let result = {
            let mut tables = br.tables.write();
            let before = tables.version();
            let result = match command {
                "add-flow" => client
                    .add_flow(&mut tables, text, now)
                    .map_err(|e| ofctl_error(&e)),
                "mod-flows" => client
                    .mod_flows(&mut tables, text, opts.strict, now)
                    .map_err(|e| ofctl_error(&e)),
                "del-flows" => client
                    .del_flows(&mut tables, text, opts.strict, now)
                    .map_err(|e| ofctl_error(&e)),
                "add-flows" => client
                    .add_flows(&mut tables, FLOW_FILE_NAME, text, opts.bundle, now)
                    .map_err(|(_, e)| ofctl_error(&e)),
                _ => client
                    .replace_flows(&mut tables, FLOW_FILE_NAME, text, now)
                    .map_err(|(_, e)| ofctl_error(&e)),
            };
            let changed = tables.version() != before;
            (result, changed, tables.take_changes())
        };
        let (result, changed, changes) = result;
        if changed {
            self.tables_changed(changes);
        }
        result.map(|_| String::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    /// The error texts are `ovs-ofctl` 3.1's.
    #[test]
    fn options_anywhere_and_dialects() {
        let a = args(&["in_port=1", "--strict", "-O", "OpenFlow13", "--no-stats"]);
        let o = parse_options(&a).expect("valid");
        assert!(o.strict && o.no_stats && !o.names && !o.bundle);
        assert_eq!(o.dialect, Dialect::OpenFlow13);
        assert_eq!(o.positional, vec!["in_port=1"]);
        let a = args(&["--protocols=OpenFlow10", "-OOpenFlow13", "--bundle"]);
        let o = parse_options(&a).expect("valid");
        assert_eq!((o.dialect, o.bundle), (Dialect::OpenFlow13, true));
        assert_eq!(
            parse_options(&args(&["-O"])).err(),
            Some("ovs-ofctl: option requires an argument -- 'O'".to_owned())
        );
        assert_eq!(
            parse_options(&args(&["-O", "OpenFlow99"])).err(),
            Some("ovs-ofctl: Unknown OpenFlow version: \"OpenFlow99\"".to_owned())
        );
        assert_eq!(
            parse_options(&args(&["--frobnicate"])).err(),
            Some("ovs-ofctl: unrecognized option '--frobnicate'".to_owned())
        );
    }

    /// The error texts are `ovs-ofctl` 3.1's.
    #[test]
    fn arity_as_ovs_ofctl_counts_it() {
        assert!(check_arity("dump-flows", 0).is_ok());
        assert!(check_arity("del-flows", 1).is_ok());
        assert_eq!(
            check_arity("mod-flows", 0),
            Err("ovs-ofctl: 'mod-flows' command requires at least 2 arguments".to_owned())
        );
        assert_eq!(
            check_arity("add-flow", 2),
            Err("ovs-ofctl: 'add-flow' command takes at most 2 arguments".to_owned())
        );
    }
}
