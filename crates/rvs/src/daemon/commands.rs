//! The control-socket commands of the daemon, with `ovs-vswitchd`'s names, argument counts and
//! reply texts (ovs-upcall.md §7.2, §7.3), plus rvs's own port and knob management.
//!
//! # Invariants
//! * Every handler holds only a weak reference to the daemon: a connection that outlives the
//!   daemon's shutdown gets an error, not a dangling switch.
//! * Argument counts are checked by the command table before a handler runs; handlers parse
//!   every argument and answer bad ones with an error text.

use std::sync::{Arc, Weak};
use std::time::Duration;

use rvs_ctl::unixctl::{CommandResult, Commands, Handler};
use rvs_dpif::dpif::Dpif;

use super::{ExitReason, Inner, dpif_cmds, ports, receive, settings};
use crate::coverage_report::{CoverageReport, memory_show};

/// OVS's `INT_MAX` for "any number of arguments".
const ANY: usize = i32::MAX as usize;

/// How long `revalidator/wait` waits for a round before giving up.
const WAIT_TIMEOUT: Duration = Duration::from_secs(60);

type Body = fn(&Inner, &[String]) -> CommandResult;

fn handler(inner: &Arc<Inner>, body: Body) -> Handler {
    let weak: Weak<Inner> = Arc::downgrade(inner);
    Arc::new(move |args: &[String]| match weak.upgrade() {
        Some(inner) => body(&inner, args),
        None => Err("rvs is shutting down".into()),
    })
}

/// Registers every command on `commands`.
pub(super) fn register_all(commands: &mut Commands, inner: &Arc<Inner>) {
    let mut reg = |name: &str, usage: &str, min: usize, max: usize, body: Body| {
        commands.register(name, usage, min, max, handler(inner, body));
    };

    // ofproto-dpif-upcall (§7.2).
    reg("upcall/show", "", 0, 0, |d, _| Ok(d.engine.show()));
    reg("upcall/disable-megaflows", "", 0, 0, |d, _| {
        set_megaflows(d, false);
        Ok("megaflows disabled\n".into())
    });
    reg("upcall/enable-megaflows", "", 0, 0, |d, _| {
        set_megaflows(d, true);
        Ok("megaflows enabled\n".into())
    });
    reg("upcall/disable-ufid", "", 0, 0, |d, _| {
        d.udpif.config().set_ufid_enabled(false);
        Ok("Datapath dumping tersely using UFID disabled\n".into())
    });
    reg("upcall/enable-ufid", "", 0, 0, |d, _| {
        d.udpif.config().set_ufid_enabled(true);
        Ok("Datapath dumping tersely using UFID enabled for supported datapaths\n".into())
    });
    reg(
        "upcall/set-flow-limit",
        "flow-limit-number",
        1,
        1,
        |d, args| Ok(d.engine.set_flow_limit(atoi(arg(args, 0)?))),
    );
    reg("revalidator/wait", "", 0, 0, |d, _| {
        let seq = d.udpif.dump_seq();
        if d.warp_clock.is_stopped() {
            // A stopped clock never makes a round due: ask for one (OVS's revalidators run on
            // real time then).
            d.udpif.request_round();
        }
        if d.udpif.wait_dump_seq_after(seq, WAIT_TIMEOUT) {
            Ok(String::new())
        } else {
            Err("timed out waiting for a revalidation round\n".into())
        }
    });
    reg("revalidator/purge", "", 0, 0, |d, _| {
        d.engine.purge();
        Ok(String::new())
    });
    commands.register_hidden(
        "revalidator/pause",
        "",
        0,
        0,
        handler(inner, |d, _| {
            d.engine.pause();
            Ok(String::new())
        }),
    );
    commands.register_hidden(
        "revalidator/resume",
        "",
        0,
        0,
        handler(inner, |d, _| {
            d.engine.resume();
            Ok(String::new())
        }),
    );

    // dpctl (§7.3): one handler per command name, dispatched by name.
    for &(name, usage, min, max) in rvs_dpif::dpctl::commands() {
        let weak = Arc::downgrade(inner);
        let command = name.to_owned();
        commands.register(
            &format!("dpctl/{name}"),
            usage,
            min,
            max,
            Arc::new(move |args: &[String]| match weak.upgrade() {
                Some(d) => rvs_dpif::dpctl::run(&d.dp, &command, args),
                None => Err("rvs is shutting down".into()),
            }),
        );
    }
    let mut reg = |name: &str, usage: &str, min: usize, max: usize, body: Body| {
        commands.register(name, usage, min, max, handler(inner, body));
    };
    reg("dpif/show", "", 0, 0, |d, _| Ok(dpif_cmds::show(d)));
    reg(
        "dpif/dump-flows",
        "[-m] [--names | --no-names] bridge",
        1,
        ANY,
        dpif_cmds::dump_flows,
    );

    // netdev-dummy, ofproto, fdb.
    reg(
        "netdev-dummy/receive",
        "name [--qid queue_id] packet|flow [--len packet_len]",
        2,
        ANY,
        receive::receive,
    );
    reg(
        "ofproto/trace",
        "{[dp_name] odp_flow | bridge br_flow} [OPTIONS...] [-generate|packet]",
        1,
        ANY,
        |d, args| d.ofproto.trace(args),
    );
    reg(
        "set-prefixes",
        "bridge table {field,...|none}",
        3,
        3,
        |d, args| {
            d.ofproto
                .set_prefixes(arg(args, 0)?, arg(args, 1)?, arg(args, 2)?)
        },
    );
    reg("fdb/show", "bridge", 1, 1, |d, args| {
        d.ofproto.fdb_show(arg(args, 0)?)
    });
    reg("fdb/flush", "[bridge]", 0, 1, |d, args| {
        d.ofproto.fdb_flush(args.first().map(String::as_str))
    });

    // coverage, memory, vlog.
    reg("coverage/show", "", 0, 0, |d, _| {
        let totals = d.coverage_totals();
        Ok(d.coverage.lock().show(&totals))
    });
    reg("coverage/read-counter", "COUNTER", 1, 1, |d, args| {
        CoverageReport::read_counter(&d.coverage_totals(), arg(args, 0)?)
    });
    reg("memory/show", "", 0, 0, |d, _| Ok(memory(d)));
    reg(
        "vlog/set",
        "{spec | PATTERN:destination:pattern}",
        0,
        ANY,
        |d, args| d.vlog.set(args),
    );
    reg("vlog/list", "", 0, 0, |d, _| Ok(d.vlog.list()));
    reg("vlog/reopen", "", 0, 0, |d, _| d.vlog.reopen());

    // OpenFlow table management until the OpenFlow wire protocol exists.
    for (name, usage, min, max) in [
        ("add-flow", "bridge [options] flow", 2, ANY),
        ("add-flows", "bridge [options] flows-text", 2, ANY),
        ("mod-flows", "bridge [--strict] [options] flow", 2, ANY),
        ("del-flows", "bridge [--strict] [options] [flow]", 1, ANY),
        ("replace-flows", "bridge [options] flows-text", 2, ANY),
        ("dump-flows", "bridge [options] [flow]", 1, ANY),
    ] {
        let weak = Arc::downgrade(inner);
        let command = name.to_owned();
        commands.register(
            &format!("ofctl/{name}"),
            usage,
            min,
            max,
            Arc::new(move |args: &[String]| match weak.upgrade() {
                Some(d) => match args.split_first() {
                    Some((bridge, rest)) => d.ofproto.ofctl(bridge, &command, rest),
                    None => Err("missing bridge".into()),
                },
                None => Err("rvs is shutting down".into()),
            }),
        );
    }

    // Ports, knobs, exit.
    let mut reg = |name: &str, usage: &str, min: usize, max: usize, body: Body| {
        commands.register(name, usage, min, max, handler(inner, body));
    };
    reg(
        "add-port",
        "bridge port [type=dummy|pcap|afpacket] [ofport=N] [tag=N] [trunks=N,...] [vlan-mode=MODE] [rx-pcap=FILE] [tx-pcap=FILE] [interface=NAME] [n_rxq=N]",
        2,
        ANY,
        |d, args| {
            let [bridge, name, options @ ..] = args else {
                return Err("usage: add-port bridge port [key=value...]".into());
            };
            let port = ports::parse_port_args(name, options)?;
            ports::add_port(d, bridge, &port).map(|_| String::new())
        },
    );
    reg("del-port", "[bridge] port", 1, 2, |d, args| {
        let (bridge, port) = match args {
            [port] => (None, port),
            [bridge, port] => (Some(bridge.as_str()), port),
            _ => return Err("usage: del-port [bridge] port".into()),
        };
        ports::del_port(d, bridge, port).map(|()| String::new())
    });
    reg("time/stop", "", 0, 0, |d, _| {
        d.warp_clock.stop();
        Ok(String::new())
    });
    reg("time/warp", "[large_msecs] msecs", 1, 2, time_warp);
    reg("set", "key=value...", 1, ANY, settings::set);
    reg("get", "", 0, 0, |d, _| Ok(settings::get(d)));
    reg("exit", "[--cleanup]", 0, 1, |d, args| {
        let cleanup = match args.first().map(String::as_str) {
            None => false,
            Some("--cleanup") => true,
            Some(other) => return Err(format!("unknown option {other}")),
        };
        let _ = d.exit_tx.send(ExitReason::Command { cleanup });
        Ok(String::new())
    });
}

/// Argument `i`: present whenever the command table's minimum allows the handler to run, but
/// answered as an error rather than trusted.
fn arg(args: &[String], i: usize) -> Result<&str, String> {
    args.get(i)
        .map(String::as_str)
        .ok_or_else(|| format!("missing argument {}", i + 1))
}

/// `upcall/{enable,disable}-megaflows`: switch, then flush so every flow is set up again.
fn set_megaflows(inner: &Inner, enabled: bool) {
    inner.udpif.config().set_megaflows_enabled(enabled);
    inner.engine.purge();
    inner.dp.flow_flush();
}

/// `time/warp [LARGE_MSECS] MSECS`: moves the clock by MSECS (in steps of MSECS until
/// LARGE_MSECS is used up), giving the threads 10 ms of real time after each step, as OVS does.
fn time_warp(inner: &Inner, args: &[String]) -> CommandResult {
    let (total, step) = match args {
        [step] => (0, atoll(step)),
        [total, step] => (atoll(total), atoll(step)),
        _ => return Err("invalid MSECS".into()),
    };
    if step <= 0 || total < 0 {
        return Err("invalid MSECS".into());
    }
    let step = step.unsigned_abs();
    let mut left = total.unsigned_abs();
    loop {
        let this = if left >= step {
            step
        } else if left > 0 {
            left
        } else {
            step
        };
        inner.warp_clock.warp(this);
        inner.udpif.revalidate_wake();
        std::thread::sleep(Duration::from_millis(10));
        left = left.saturating_sub(this);
        if left == 0 {
            break;
        }
    }
    Ok("warped".into())
}

/// C's `atoll`: optional sign and leading digits, 0 if there are none (saturating).
fn atoll(text: &str) -> i64 {
    let t = text.trim_start();
    let (negative, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let end = digits
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(digits.len());
    let value: i64 = digits[..end]
        .parse()
        .unwrap_or(if end == 0 { 0 } else { i64::MAX });
    if negative { -value } else { value }
}

/// C's `atoi`: optional sign and leading digits, 0 if there are none; clamped to `u32`.
fn atoi(text: &str) -> u32 {
    let t = text.trim_start();
    let (negative, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let end = digits
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(digits.len());
    let value: u64 = digits[..end].parse().unwrap_or(0);
    if negative {
        // OVS stores atoi's int in an unsigned: -1 becomes UINT_MAX.
        u32::try_from(value).map_or(0, |v| 0u32.wrapping_sub(v))
    } else {
        u32::try_from(value).unwrap_or(u32::MAX)
    }
}

/// `memory/show`.
fn memory(inner: &Inner) -> String {
    let (handlers, revalidators) = inner.engine.thread_counts().unwrap_or((0, 0));
    let ukeys = inner.udpif.ukeys().slice_len(0, 1);
    let items = [
        ("handlers", handlers as u64),
        ("ofconns", 0),
        ("ports", inner.ports.lock().len() as u64),
        ("revalidators", revalidators as u64),
        ("rules", inner.ofproto.n_rules() as u64),
        ("udpif keys", ukeys as u64),
    ];
    memory_show(&items)
}

#[cfg(test)]
mod tests {
    use super::atoi;

    #[test]
    fn atoi_matches_c() {
        assert_eq!(atoi("5000"), 5000);
        assert_eq!(atoi("  42abc"), 42);
        assert_eq!(atoi("abc"), 0);
        assert_eq!(atoi(""), 0);
        assert_eq!(atoi("+7"), 7);
        assert_eq!(atoi("-1"), u32::MAX);
    }
}
