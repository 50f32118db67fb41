//! Translation of a packet's flow through the OpenFlow tables into datapath actions, after Open
//! vSwitch 3.1's `xlate_actions` (`ofproto/ofproto-dpif-xlate.c`), together with the megaflow
//! mask (the bits the answer depended on) and the side effects a cache entry must replay.
//!
//! * [`bridge`]: [`Bridge`], the ports of one bridge (OpenFlow port ↔ datapath port, name,
//!   VLAN mode).
//! * [`Translator::translate`]: one translation ([`XlateInput`] → [`XlateOutput`]).
//! * `commit`: turning changes of the working flow into datapath `set`/`push_vlan`/`pop_vlan`
//!   actions before each output (`commit_odp_actions`).
//! * `normal`: the NORMAL action (VLAN admission, MAC learning, unicast or flood).
//! * [`trace`](mod@trace): `ofproto/trace` text in Open vSwitch's layout ([`trace::trace`]),
//!   checked against fixtures recorded from OVS 3.1.
//!
//! # Invariants
//! * Megaflow soundness: every packet that equals the input flow on the bits of
//!   [`XlateOutput::wc`] (and has the same VLAN header presence and TPIDs and zero registers
//!   and metadata, as every packet arriving from a datapath has) translates to the same
//!   datapath actions, given the same tables and MAC table. The property tests in this module
//!   check it, over small value sets and over arbitrary flow words.
//! * Bits every translation un-wildcards (`xlate_wc_init`): all of `recirc_id`, `in_port`,
//!   `packet_type` and `dl_type`, and for IPv4/IPv6 packets both `nw_frag` bits. Lookups add
//!   what the classifier examined; actions add what they read or write (see `context`).
//!   A set action on an L3 header field (`set_field`/`load`, `mod_nw_*`, `dec_ttl`) makes
//!   `nw_proto` exact even if nothing changes (`move`/`pop` do not: as OVS 3.1's megaflows
//!   show); an unmasked `set` makes its whole attribute exact; a `pop_vlan` makes the popped TCI exact.
//! * At the end (`xlate_wc_finish`): registers and `metadata` are wildcarded again (always zero
//!   in a datapath flow), ICMP type/code masks are cut to 8 bits, a non-zero VLAN TCI mask
//!   gains the CFI bit, later fragments lose their L4 port masks, and VLAN header masks are
//!   cleared for headers the packet did not arrive with.
//! * The working flow uses OpenFlow port numbers in `in_port`; the input and the megaflow use
//!   datapath port numbers.
//! * Nothing panics on any flow; an unknown input port translates to a drop. More than
//!   [`MAX_DEPTH`] nested resubmits (below the table-0 lookup) or more than [`MAX_RESUBMITS`]
//!   resubmits drop the packet with an [`XlateError`].
//!
//! Differences from OVS 3.1 still open: `controller` actions slow-path the flow
//! (`userspace(pid=0,slow_path(action))`) where OVS freezes the translation and emits a
//! `userspace(...controller(...,recirc_id=N,...))` action; an expiring `dec_ttl` drops where OVS
//! emits the same kind of controller action; `enqueue` is a plain output. FLOOD and ALL follow
//! a model of OVS's port hash map (checked for the oracle's bridge only).
//! Not modelled: table-miss packet-ins (with no controller connected a miss drops, as in OVS),
//! groups, learn, conntrack, MPLS, tunnels, mirrors, ND and ICMP `set` actions, multicast
//! snooping, patch ports, bonds and recirculation.

pub mod bridge;
mod commit;
mod context;
mod normal;
mod port_order;
pub mod trace;

#[cfg(test)]
mod props;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_conformance;

pub use bridge::{Bridge, BridgePort};

use std::sync::Arc;

use rvs_flow::Flow;
use rvs_flow::Wildcards;
use rvs_flow::odp::OdpAction;
use rvs_flow::odp::{CookieKind, Userdata, UserdataCookie, UserspaceAction};

use crate::classifier::Version;
use crate::mac_learning::{MacLearning, MacTags};
use crate::table::{Rule, Tables};

/// Slow-path reason bit for actions the datapath cannot execute (`SLOW_ACTION`, printed
/// `slow_path(action)`): used for packet-ins to the controller.
pub const SLOW_ACTION: u32 = 0x20;

/// Maximum resubmit/goto nesting (`MAX_DEPTH` in OVS).
pub const MAX_DEPTH: u32 = 64;

/// Maximum number of resubmits in one translation (`MAX_RESUBMITS` in OVS).
pub const MAX_RESUBMITS: u32 = MAX_DEPTH * MAX_DEPTH;

/// Packet statistics to credit to every rule the translation hits (OVS's `resubmit_stats`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct XlateStats {
    /// Packets.
    pub packets: u64,
    /// Bytes.
    pub bytes: u64,
    /// When they were seen, in ms.
    pub used_ms: i64,
}

/// Why a translation failed (the packet is then dropped).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum XlateError {
    /// Resubmits nested deeper than [`MAX_DEPTH`].
    RecursionTooDeep,
    /// More than [`MAX_RESUBMITS`] resubmits.
    TooManyResubmits,
}

impl XlateError {
    /// OVS's wording (`xlate_strerror`).
    pub fn message(self) -> &'static str {
        match self {
            XlateError::RecursionTooDeep => "Recursion too deep",
            XlateError::TooManyResubmits => "Too many resubmits",
        }
    }
}

/// What NORMAL learned from (enough to learn again when a cached flow is hit).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NormalLearn {
    /// OpenFlow input port.
    pub in_port: u16,
    /// Source MAC.
    pub dl_src: [u8; 6],
    /// VLAN inside the bridge.
    pub vlan: u16,
    /// Whether the packet was a gratuitous ARP.
    pub gratuitous_arp: bool,
}

/// What one translation starts from.
#[derive(Clone, Debug)]
pub struct XlateInput {
    /// The packet's flow as the datapath reported it (`in_port` is a datapath port number;
    /// registers and metadata are zero).
    pub flow: Flow,
    /// The table version to look rules up in.
    pub tables_version: Version,
    /// Statistics to credit to hit rules now, if any (a packet being executed).
    pub resubmit_stats: Option<XlateStats>,
    /// Whether NORMAL may update the MAC table (false for revalidation and traces).
    pub may_learn: bool,
    /// The current time in ms, for MAC learning.
    pub now_ms: u64,
}

impl XlateInput {
    /// An input for `flow` at `tables_version`, with learning on, no statistics, time 0.
    pub fn new(flow: Flow, tables_version: Version) -> XlateInput {
        XlateInput {
            flow,
            tables_version,
            resubmit_stats: None,
            may_learn: true,
            now_ms: 0,
        }
    }
}

/// The result of one translation.
#[derive(Clone, Debug, Default)]
pub struct XlateOutput {
    /// The datapath actions to execute on the packet (empty = drop).
    pub odp_actions: Vec<OdpAction>,
    /// The megaflow mask: the bits of the input flow the actions depend on.
    pub wc: Wildcards,
    /// True if the flow must be handled in userspace (a packet-in); the datapath flow then
    /// gets [`XlateOutput::datapath_flow_actions`] instead.
    pub slow: bool,
    /// Slow-path reason bits (see [`SLOW_ACTION`]).
    pub slow_reasons: u32,
    /// Every rule hit, in order (the cache side effect "credit these rules").
    pub rules_hit: Vec<Arc<Rule>>,
    /// Table lookups that found no rule (with `rules_hit`, every lookup the translation made).
    pub lookup_misses: u32,
    /// The MAC table keys NORMAL looked up or learned, as revalidation tags.
    pub mac_tags: MacTags,
    /// What NORMAL would learn from the packet (the cache side effect "refresh MAC learning",
    /// OVS's `XC_NORMAL` entry), if NORMAL ran.
    pub normal_learn: Option<NormalLearn>,
    /// The OpenFlow input port (`None` if the datapath port is not in the bridge).
    pub ofp_in_port: Option<u16>,
    /// Set if the translation failed; the actions are then empty (drop).
    pub error: Option<XlateError>,
}

impl XlateOutput {
    /// Replays the translation's side effects for statistics a datapath flow gathered
    /// (`xlate_push_stats` over the xlate cache): credits every rule hit and lets NORMAL learn
    /// the source address again. Does nothing for zero packets, as in OVS.
    pub fn push_stats(&self, stats: XlateStats, mac: &MacLearning<u16>, now_ms: u64) {
        if stats.packets == 0 {
            return;
        }
        for rule in &self.rules_hit {
            rule.credit(stats.packets, stats.bytes, stats.used_ms);
        }
        if let Some(learn) = &self.normal_learn {
            let ctx = crate::mac_learning::LearnContext {
                gratuitous_arp: learn.gratuitous_arp,
                from_bond: false,
            };
            let _ = mac.learn(&learn.dl_src, learn.vlan, learn.in_port, ctx, now_ms);
        }
    }

    /// The actions a datapath flow should get: [`XlateOutput::odp_actions`], or for a
    /// slow-pathed flow a single `userspace(pid=0,slow_path(...))`.
    pub fn datapath_flow_actions(&self) -> Vec<OdpAction> {
        if !self.slow {
            return self.odp_actions.clone();
        }
        vec![OdpAction::Userspace(UserspaceAction {
            pid: 0,
            userdata: Some(Userdata::Cookie(UserdataCookie {
                ofp_in_port: self.ofp_in_port.unwrap_or(u16::MAX),
                ofproto_uuid: [0; 16],
                kind: CookieKind::SlowPath {
                    reasons: self.slow_reasons,
                },
            })),
            actions: false,
            tunnel_out_port: None,
        })]
    }
}

/// Everything a translation reads: the bridge's ports, its tables and its MAC table.
#[derive(Debug, Clone, Copy)]
pub struct Translator<'a> {
    /// Ports.
    pub bridge: &'a Bridge,
    /// OpenFlow tables.
    pub tables: &'a Tables,
    /// MAC learning table, keyed by OpenFlow port.
    pub mac: &'a MacLearning<u16>,
}

impl Translator<'_> {
    /// Translates one flow (`xlate_actions`): table 0 lookup, actions, commit, megaflow mask.
    pub fn translate(&self, input: &XlateInput) -> XlateOutput {
        context::run(self, input)
    }

    /// [`Translator::translate`] into `out`, reusing the capacity of its `odp_actions` and
    /// `rules_hit` vectors (for repeated translations such as revalidation): afterwards `out`
    /// equals what `translate(input)` returns.
    pub fn translate_into(&self, input: &XlateInput, out: &mut XlateOutput) {
        context::run_into(self, input, out);
    }
}
