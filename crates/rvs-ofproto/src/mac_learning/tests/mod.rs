//! Tests of the MAC learning table: OVS oracle replays, unit behaviour, and a model-based
//! property test.

mod behaviour;
mod oracle;
mod props;

use super::*;

/// `50:54:00:00:00:xx`.
pub(super) fn mac(last: u8) -> MacAddr {
    [0x50, 0x54, 0, 0, 0, last]
}

/// Time zero of the replays: a whole second, like the oracle's clock when these scenarios ran
/// (its sub-second part was below 0.5 s, which these replays reproduce with 0).
pub(super) const T0: u64 = 1_000_000;

pub(super) const PLAIN: LearnContext = LearnContext {
    gratuitous_arp: false,
    from_bond: false,
};

/// `fdb/show` with ports printed as OpenFlow numbers, as OVS does.
pub(super) fn show(table: &MacTable<u16>, now_ms: u64) -> String {
    format_fdb_show(&table.rows(now_ms), |p| ofp_port_label(*p))
}
