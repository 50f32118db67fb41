//! `dpctl/show [-s] [dp...]`.
//!
//! # Invariants
//! * Without arguments the (only) datapath is shown; with arguments each is opened by name in
//!   turn and shown or reported; any failure makes the whole reply (shown datapaths included)
//!   an error, as OVS keeps the last error.
//! * `-s` adds OVS's four per-port statistics lines after each port line. Counters a device does
//!   not keep print as `?`: OVS's dummy devices keep only packets and bytes, so every other
//!   counter of a `dummy*` port is `?`; other devices report their receive/transmit errors and
//!   drops, and `?` for overruns, frame, aborted, carrier and collisions.

use std::fmt::Write as _;

use rvs_netdev::NetdevStats;

use super::{Ctx, Failed};
use crate::dpif::{Dpif, DpifError};

/// `EAFNOSUPPORT`, for an unknown datapath type.
const NO_SUCH_TYPE: &str = "Address family not supported by protocol";

/// OVS's names of the datapath types that exist (with `--enable-dummy`).
const KNOWN_TYPES: [&str; 3] = ["system", "netdev", "dummy"];

/// Runs `show`.
pub(super) fn show(ctx: &mut Ctx<'_>, argv: &[&str]) -> Result<(), Failed> {
    let names = argv.get(1..).unwrap_or_default();
    if names.is_empty() {
        show_datapath(ctx);
        return Ok(());
    }
    let mut last_error = None;
    for name in names {
        match open_by_name(ctx, name) {
            Ok(()) => show_datapath(ctx),
            Err(e) => {
                ctx.error(&format!("opening datapath {name} failed"), Some(&e));
                last_error = Some(e);
            }
        }
    }
    match last_error {
        Some(_) => Err(Failed),
        None => Ok(()),
    }
}

/// OVS's `dpif_open` of `type@name` (type `system` when there is no `@`): whether it names
/// this datapath.
fn open_by_name(ctx: &Ctx<'_>, arg: &str) -> Result<(), String> {
    let (dp_type, name) = match arg.split_once('@') {
        Some((t, n)) => (if t.is_empty() { "system" } else { t }, n),
        None => ("system", arg),
    };
    if !KNOWN_TYPES.contains(&dp_type) {
        return Err(NO_SUCH_TYPE.to_string());
    }
    let full = ctx.dp.name();
    let (our_type, our_name) = full.split_once('@').unwrap_or(("system", full));
    if name != our_name {
        Err(DpifError::NoDevice.to_string())
    } else if dp_type != our_type {
        Err(super::invalid().to_string())
    } else {
        Ok(())
    }
}

/// Appends the datapath's `show` text (with port statistics under `-s`).
fn show_datapath(ctx: &mut Ctx<'_>) {
    let show = ctx.dp.show();
    if !ctx.params.statistics {
        let _ = write!(ctx.out, "{show}");
        return;
    }
    let text = show.to_string();
    let mut port_lines = text.lines().filter(|l| l.starts_with("  port "));
    let header: Vec<&str> = text
        .lines()
        .take_while(|l| !l.starts_with("  port "))
        .collect();
    for line in header {
        let _ = writeln!(ctx.out, "{line}");
    }
    for port in &show.ports {
        if let Some(line) = port_lines.next() {
            let _ = writeln!(ctx.out, "{line}");
        }
        let stats = ctx.dp.port_netdev(port.port_no).map(|n| n.stats());
        let dummy = port.kind.starts_with("dummy");
        print_port_stats(&mut ctx.out, &stats.unwrap_or_default(), dummy);
    }
}

/// A counter, or `?` when the device does not keep it.
struct Counter(Option<u64>);

impl std::fmt::Display for Counter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(v) => write!(f, "{v}"),
            None => f.write_str("?"),
        }
    }
}

/// Appends OVS's ` (1.5 KiB)` after a byte count of at least 1 KiB.
pub(super) fn human_size(out: &mut String, value: u64) {
    const KIB: u64 = 1024;
    let v = value as f64;
    let units = [
        (KIB * KIB * KIB * KIB, "TiB"),
        (KIB * KIB * KIB, "GiB"),
        (KIB * KIB, "MiB"),
        (KIB, "KiB"),
    ];
    if let Some((size, unit)) = units.iter().find(|(size, _)| value >= *size) {
        let _ = write!(out, " ({:.1} {unit})", v / *size as f64);
    }
}

/// The four statistics lines of one port.
fn print_port_stats(out: &mut String, s: &NetdevStats, dummy: bool) {
    let kept = |v: u64| Counter((!dummy).then_some(v));
    let unknown = Counter(None);
    let _ = writeln!(
        out,
        "    RX packets:{} errors:{} dropped:{} overruns:{unknown} frame:{unknown}",
        s.rx_packets,
        kept(s.rx_errors),
        kept(s.rx_dropped)
    );
    let _ = writeln!(
        out,
        "    TX packets:{} errors:{} dropped:{} aborted:{unknown} carrier:{unknown}",
        s.tx_packets,
        kept(s.tx_errors),
        kept(s.tx_dropped)
    );
    let _ = writeln!(out, "    collisions:{unknown}");
    let _ = write!(out, "    RX bytes:{}", s.rx_bytes);
    human_size(out, s.rx_bytes);
    let _ = write!(out, "  TX bytes:{}", s.tx_bytes);
    human_size(out, s.tx_bytes);
    out.push('\n');
}
