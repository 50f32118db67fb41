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
/// The error of `fdb/add` and `fdb/del` for an unparsable MAC address.
pub const BAD_MAC_ADDRESS: &str = "bad MAC address";
/// The error of `fdb/add` for a port name the bridge does not have (OVS's wording).
pub const NO_SUCH_PORT: &str = "software error, odp port is present but no ofp port";
/// The error of `fdb/add` when the port has no bundle (note the newline, as in OVS).
pub const COULD_NOT_ADD_STATIC: &str = "could not add static mac entry\n";
/// The error of `fdb/del` when there is no static entry (note the newline, as in OVS).
pub const COULD_NOT_FIND_STATIC: &str = "could not find static mac entry\n";

/// The VLAN argument of `fdb/add` and `fdb/del` as OVS reads it: C `atoi` (leading blanks, an
/// optional sign, then digits up to the first non-digit; 0 when there are none) converted to
/// 16 bits, so `abc` is 0, `12x` is 12, `70000` is 4464 and `-1` is 65535.
pub fn fdb_vlan_arg(arg: &str) -> u16 {
    let s = arg.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (negative, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let value = digits
        .bytes()
        .take_while(u8::is_ascii_digit)
        .fold(0u64, |acc, d| {
            acc.wrapping_mul(10).wrapping_add(u64::from(d - b'0'))
        });
    let value = if negative {
        value.wrapping_neg()
    } else {
        value
    };
    // Truncation to 16 bits is the point: OVS stores atoi's result in a uint16_t.
    value as u16
}

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
