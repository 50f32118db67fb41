//! Datapath action execution: runs a list of [`OdpAction`]s on one packet (OVS's `odp_execute_actions`
//! plus the datapath-specific actions of `dp_execute_cb`).
//!
//! The [`Executor`] rewrites the packet in place and hands it to an [`ExecSink`] for the actions that
//! leave the executor: `output` (to a port), `userspace` (an upcall) and `recirc`. The sink decides
//! what those mean (the datapath batches outputs per port and queues upcalls).
//!
//! # What is supported
//! * `output`, `userspace`, `trunc` (applies to the next output or userspace action), `clone`,
//!   `sample` (probability drawn from the executor's own generator), `hash` (sets `dp_hash`),
//!   `meter` (no meters exist: a no-op), `ct_clear`, `recirc` (if the sink supports it).
//! * `set` and masked `set` of every attribute with a packet field: `eth`, `ipv4` (header checksum
//!   and the TCP/UDP pseudo-header checksum updated), `ipv6` (TCP/UDP/ICMPv6 checksums updated;
//!   a destination change does not touch them when a routing header with segments left is present,
//!   as in OVS), `tcp`/`udp` (checksum updated; a zero UDP checksum stays zero), `sctp` (CRC32c
//!   recomputed so that a wrong CRC stays exactly as wrong), `icmp`/`icmpv6` type and code, `arp`,
//!   `nd` (target and SLL/TLL options, ICMPv6 checksum updated), `mpls`, and the metadata fields
//!   `skb_priority`, `skb_mark`, `ct_state`, `ct_zone`, `ct_mark`, `ct_label`, `dp_hash`,
//!   `recirc_id` (kept with the packet: they reach upcalls and recirculation).
//! * `push_vlan`/`pop_vlan`, `push_mpls`/`pop_mpls`.
//! * Not supported: `ct` (no connection tracker; the packet is dropped and counted), `set` of
//!   attributes that have no packet field (`in_port`, `eth_type`, `vlan`, `tcp_flags`, ...; skipped
//!   and counted).
//!
//! # Invariants
//! * Never panics on any packet: a rewrite whose header is absent, of another protocol, or cut short
//!   is skipped and counted in [`ExecCounters::skipped_writes`], and the following actions still run.
//! * Header offsets come from extraction ([`HeaderLayout`]); an action that moves headers
//!   (push/pop) invalidates them and the next rewrite re-extracts the packet first.
//! * Every packet ends in exactly one place: an output, a recirculation, or [`ExecSink::drop_packet`]
//!   (so the caller can recycle its buffer).

mod csum;
mod encap;
mod set;

#[cfg(test)]
mod tests;

use rvs_flow::extract::{ExtractOptions, HeaderLayout, PacketMetadata, extract_into};
use rvs_flow::odp::{HashAlg, OdpAction, UserspaceAction};
use rvs_flow::{Flow, Wildcards};
use rvs_netdev::Packet;

/// Deepest nesting of `clone`/`sample` executed; deeper actions are dropped and counted.
const MAX_NESTING: u32 = 16;

/// What the executor needs to know about a packet's headers (from extraction).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Headers {
    /// Where the headers are.
    pub layout: HeaderLayout,
    /// The innermost Ethertype extraction found.
    pub dl_type: u16,
    /// IP protocol (or ARP opcode low byte).
    pub nw_proto: u8,
    /// Fragment bits.
    pub nw_frag: u8,
}

impl Headers {
    /// The headers of a packet whose extracted flow and layout are `flow` and `layout`.
    #[inline]
    pub fn of(flow: &Flow, layout: &HeaderLayout) -> Headers {
        Headers {
            layout: *layout,
            dl_type: flow.dl_type,
            nw_proto: flow.nw_proto,
            nw_frag: flow.nw_frag,
        }
    }
}

/// A packet being executed: the frame, its metadata and (if still valid) its header offsets.
#[derive(Clone, Debug)]
pub struct ExecPacket {
    /// The frame.
    pub packet: Packet,
    /// Metadata (`in_port`, `recirc_id`, `skb_*`, `ct_*`, `dp_hash`); `set` actions change it.
    pub md: PacketMetadata,
    /// Header offsets, `None` once an action moved headers.
    headers: Option<Headers>,
    /// Length to truncate to at the next output (`trunc`).
    cutlen: Option<u32>,
}

impl ExecPacket {
    /// A packet about to be executed; `headers` may be `None` (it is then extracted when needed).
    pub fn new(packet: Packet, md: PacketMetadata, headers: Option<Headers>) -> ExecPacket {
        ExecPacket {
            packet,
            md,
            headers,
            cutlen: None,
        }
    }

    /// The bytes an output or userspace action sends: the frame, cut to the `trunc` length if any.
    fn output_bytes(&self) -> &[u8] {
        let data = self.packet.data();
        match self.cutlen {
            Some(n) => data.get(..n as usize).unwrap_or(data),
            None => data,
        }
    }
}

/// Counters of the executor (added to the datapath's coverage counters).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExecCounters {
    /// Rewrites (set, push, pop) skipped because the packet lacked the header or was too short.
    pub skipped_writes: u64,
    /// Actions that are not supported (see the module documentation); a `ct` drops the packet.
    pub unsupported: u64,
    /// Packets dropped because `clone`/`sample` nested too deeply.
    pub too_deep: u64,
}

/// Where packets go when they leave the executor.
pub trait ExecSink {
    /// Sends `packet` to datapath port `port_no`.
    fn output(&mut self, port_no: u32, packet: Packet);
    /// Sends a copy of `frame` to userspace for `action` (an `Action` upcall).
    fn userspace(&mut self, frame: &[u8], md: &PacketMetadata, action: &UserspaceAction);
    /// Recirculates `packet` with metadata `md` (whose `recirc_id` is set); gives the packet back if
    /// recirculation is not possible (it is then dropped and counted as unsupported).
    fn recirculate(&mut self, packet: Packet, md: PacketMetadata) -> Result<(), Packet>;
    /// Takes back a packet that no action consumed (dropped), e.g. to recycle its buffer.
    fn drop_packet(&mut self, packet: Packet);
}

/// Executes action lists; one per thread (it owns a random generator and scratch space).
pub struct Executor {
    options: ExtractOptions,
    rng: u32,
    scratch: Flow,
    full_mask: Wildcards,
    /// What was skipped or refused so far.
    pub counters: ExecCounters,
}

impl Executor {
    /// An executor that re-extracts packets with `options`; `seed` seeds `sample` and `hash`.
    pub fn new(options: ExtractOptions, seed: u32) -> Executor {
        Executor {
            options,
            rng: seed | 1,
            scratch: Flow::default(),
            full_mask: Wildcards::exact(),
            counters: ExecCounters::default(),
        }
    }

    /// Runs `actions` on `packet`; the packet ends in `sink` (output, recirculation or drop).
    pub fn execute(&mut self, packet: ExecPacket, actions: &[OdpAction], sink: &mut dyn ExecSink) {
        self.run(packet, actions, sink, 0);
    }

    fn run(
        &mut self,
        mut pkt: ExecPacket,
        actions: &[OdpAction],
        sink: &mut dyn ExecSink,
        depth: u32,
    ) {
        let last = actions.len().saturating_sub(1);
        for (i, action) in actions.iter().enumerate() {
            let is_last = i == last;
            match action {
                OdpAction::Output(port) => {
                    if is_last {
                        let mut packet = pkt.packet;
                        if let Some(n) = pkt.cutlen {
                            packet.truncate(n as usize);
                        }
                        sink.output(*port, packet);
                        return;
                    }
                    sink.output(*port, Packet::from_slice(pkt.output_bytes()));
                    pkt.cutlen = None;
                }
                OdpAction::Userspace(u) => {
                    sink.userspace(pkt.output_bytes(), &pkt.md, u);
                    pkt.cutlen = None;
                }
                OdpAction::Trunc(n) => pkt.cutlen = Some(*n),
                OdpAction::Set { kind, value, mask } => {
                    let headers = self.headers(&mut pkt);
                    let mask = mask.as_deref().unwrap_or(&self.full_mask);
                    match set::apply(&mut pkt, headers.as_ref(), *kind, value, mask) {
                        set::Outcome::Done => {}
                        set::Outcome::Skipped => self.counters.skipped_writes += 1,
                        set::Outcome::Unsupported => self.counters.unsupported += 1,
                    }
                }
                OdpAction::PushVlan { tpid, tci } => {
                    if !encap::push_vlan(&mut pkt.packet, *tpid, *tci) {
                        self.counters.skipped_writes += 1;
                    }
                    pkt.headers = None;
                }
                OdpAction::PopVlan => {
                    encap::pop_vlan(&mut pkt.packet);
                    pkt.headers = None;
                }
                OdpAction::PushMpls { lse, ethertype } => {
                    let headers = self.headers(&mut pkt);
                    if !encap::push_mpls(&mut pkt.packet, headers.as_ref(), *lse, *ethertype) {
                        self.counters.skipped_writes += 1;
                    }
                    pkt.headers = None;
                }
                OdpAction::PopMpls { ethertype } => {
                    let headers = self.headers(&mut pkt);
                    encap::pop_mpls(&mut pkt.packet, headers.as_ref(), *ethertype);
                    pkt.headers = None;
                }
                OdpAction::Recirc(id) => {
                    let mut md = pkt.md;
                    md.recirc_id = *id;
                    if is_last {
                        if let Err(packet) = sink.recirculate(pkt.packet, md) {
                            self.counters.unsupported += 1;
                            sink.drop_packet(packet);
                        }
                        return;
                    }
                    if let Err(packet) = sink.recirculate(pkt.packet.clone(), md) {
                        self.counters.unsupported += 1;
                        sink.drop_packet(packet);
                    }
                }
                OdpAction::Hash { alg, basis } => {
                    pkt.md.dp_hash = self.dp_hash(&pkt, *alg, *basis);
                }
                OdpAction::Meter(_) => {}
                OdpAction::Ct(_) => {
                    self.counters.unsupported += 1;
                    sink.drop_packet(pkt.packet);
                    return;
                }
                OdpAction::CtClear => {
                    pkt.md.ct_state = 0;
                    pkt.md.ct_zone = 0;
                    pkt.md.ct_mark = 0;
                    pkt.md.ct_label = [0; 16];
                }
                OdpAction::Clone(nested) => {
                    if depth >= MAX_NESTING {
                        self.counters.too_deep += 1;
                    } else if is_last {
                        return self.run(pkt, nested, sink, depth + 1);
                    } else {
                        self.run(pkt.clone(), nested, sink, depth + 1);
                    }
                }
                OdpAction::Sample {
                    probability,
                    actions: nested,
                } => {
                    let taken = *probability == u32::MAX
                        || (*probability != 0 && self.next_random() <= *probability);
                    if !taken {
                        continue;
                    }
                    if depth >= MAX_NESTING {
                        self.counters.too_deep += 1;
                    } else if is_last {
                        return self.run(pkt, nested, sink, depth + 1);
                    } else {
                        self.run(pkt.clone(), nested, sink, depth + 1);
                    }
                }
            }
        }
        sink.drop_packet(pkt.packet);
    }

    /// The packet's headers, extracting it again if an earlier action moved them.
    fn headers(&mut self, pkt: &mut ExecPacket) -> Option<Headers> {
        if pkt.headers.is_none() {
            let layout = extract_into(pkt.packet.data(), &pkt.md, &self.options, &mut self.scratch);
            if !layout.status.is_runt() {
                pkt.headers = Some(Headers::of(&self.scratch, &layout));
            }
        }
        pkt.headers
    }

    /// The `dp_hash` a `hash` action computes: a 5-tuple hash (symmetric for `sym_l4`) mixed with
    /// the basis; never 0 (0 means "no hash").
    fn dp_hash(&mut self, pkt: &ExecPacket, alg: HashAlg, basis: u32) -> u32 {
        extract_into(pkt.packet.data(), &pkt.md, &self.options, &mut self.scratch);
        let f = &self.scratch;
        let (mut a, mut b) = (
            (u64::from(f.nw_src) << 16) ^ u64::from(f.tp_src) ^ fold16(&f.ipv6_src),
            (u64::from(f.nw_dst) << 16) ^ u64::from(f.tp_dst) ^ fold16(&f.ipv6_dst),
        );
        if alg == HashAlg::SymL4 && a > b {
            std::mem::swap(&mut a, &mut b);
        }
        let mut h = (a ^ u64::from(basis)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        h = (h ^ b ^ u64::from(f.nw_proto)).wrapping_mul(0xc2b2_ae3d_27d4_eb4f);
        let hash = (h >> 32) as u32;
        if hash == 0 { 1 } else { hash }
    }

    /// xorshift32.
    fn next_random(&mut self) -> u32 {
        let mut x = self.rng;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.rng = x;
        x
    }
}

/// XOR-folds 16 bytes into 64 bits.
fn fold16(bytes: &[u8; 16]) -> u64 {
    let (hi, lo) = bytes.split_at(8);
    let word = |s: &[u8]| s.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
    word(hi) ^ word(lo).rotate_left(32)
}
