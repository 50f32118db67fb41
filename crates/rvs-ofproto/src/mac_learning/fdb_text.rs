//! The text of the `fdb/*` unixctl commands, byte for byte as Open vSwitch 3.1 prints it
//! (`ofproto-dpif.c`: `fdb/show`, `fdb/stats-show`, `fdb/add`, `fdb/flush`, `fdb/stats-clear`).
//!
//! # Invariants
//! * Pure formatting: the caller supplies the rows (from [`super::MacTable::rows`]) and how a
//!   port prints. OVS prints a port as the OpenFlow number of the bundle's first interface, or
//!   its reserved name (`LOCAL`), never by name: [`ofp_port_label`] does that.

use super::entry::{EntryAge, FdbRow, FdbStats, ReplacedEntry};
use rvs_flow::ofp_match::port::format_port;
use rvs_flow::text::fmt_mac;
use std::fmt::Write;

/// The reply of `fdb/flush`.
pub const FDB_FLUSH_REPLY: &str = "table successfully flushed";
/// The reply of `fdb/stats-clear`.
pub const FDB_STATS_CLEAR_REPLY: &str = "statistics successfully cleared";
/// The error of every `fdb/*` command naming an unknown bridge.
pub const NO_SUCH_BRIDGE: &str = "no such bridge";

/// How OVS labels a port in `fdb/show`: the OpenFlow port number, or the reserved port's name.
pub fn ofp_port_label(ofp_port: u16) -> String {
    let mut out = String::new();
    format_port(&mut out, ofp_port);
    out
}

/// The `fdb/show` reply: a header line, then one line per entry (least recently used first):
/// port right-aligned in 5 columns, VLAN in 4, the MAC, and the age in 3 columns or `static`.
pub fn format_fdb_show<P>(rows: &[FdbRow<P>], port_label: impl Fn(&P) -> String) -> String {
    let mut out = String::from(" port  VLAN  MAC                Age\n");
    for row in rows {
        let _ = write!(out, "{:>5}  {:>4}  ", port_label(&row.port), row.vlan);
        fmt_mac(&mut out, &row.mac);
        match row.age {
            EntryAge::Static => out.push_str("  static\n"),
            EntryAge::Dynamic(age) => {
                let _ = writeln!(out, "  {age:>3}");
            }
        }
    }
    out
}

/// The `fdb/stats-show BRIDGE` reply.
pub fn format_fdb_stats(bridge: &str, stats: &FdbStats) -> String {
    let c = &stats.counters;
    format!(
        "Statistics for bridge \"{bridge}\":\n\
         \x20 Current/maximum MAC entries in the table: {}/{}\n\
         \x20 Current static MAC entries in the table : {}\n\
         \x20 Total number of learned MAC entries     : {}\n\
         \x20 Total number of expired MAC entries     : {}\n\
         \x20 Total number of evicted MAC entries     : {}\n\
         \x20 Total number of port moved MAC entries  : {}\n",
        stats.entries,
        stats.max_entries,
        stats.static_entries,
        c.learned,
        c.expired,
        c.evicted,
        c.moved,
    )
}

/// The reply of a successful `fdb/add BRIDGE PORT VLAN MAC` onto `port`: empty, or one line
/// naming the entry it overrode when that entry was dynamic or on another port.
pub fn format_fdb_add_reply<P: PartialEq>(
    replaced: Option<&ReplacedEntry<P>>,
    port: &P,
    port_label: impl Fn(&P) -> String,
) -> String {
    match replaced {
        Some(old) if old.port != *port || !old.was_static => format!(
            "Overriding already existing {} entry on {}\n",
            if old.was_static { "static" } else { "dynamic" },
            port_label(&old.port)
        ),
        _ => String::new(),
    }
}
