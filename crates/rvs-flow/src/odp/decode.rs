//! From parsed key and mask attributes to a [`Flow`] and its mask: `odp_flow_key_to_flow` and
//! `odp_flow_key_to_mask` of Open vSwitch, with the checks the userspace datapath applies.
//!
//! # Invariants
//! * A key is accepted only if it is complete and consistent the way OVS requires before it
//!   installs a flow: every protocol layer that the Ethertype and IP protocol announce is present,
//!   nothing else is, no attribute appears twice at one nesting level, an Ethernet II type is at
//!   least `0x600`, a VLAN TCI has its CFI bit, an MPLS entry is bottom of stack.
//! * A mask is accepted only if it does not match a layer whose selector it leaves wildcarded
//!   (L3 under a masked Ethertype, L4 ports under a masked IP protocol, ND fields under a masked
//!   ICMPv6 type).
//! * In lenient mode (dump lines) attributes the key implies may be missing, since terse output
//!   omits fully wildcarded attributes; a `tcp_flags(0/0)` keeps a nonzero (SYN) key value so that
//!   the attribute is printed again; a level without any Ethertype (an 802.3 frame in `encap()`)
//!   gets the exact Ethertype mask such a frame always has.
//! * Deliberate differences from OVS 3.1, so that every line OVS prints can be read back:
//!   an explicit `packet_type(...)` is kept even without `eth(...)` (OVS would rewrite it from the
//!   Ethertype); `eth_type(0/0xffff)` (what OVS prints for an 802.3 frame) is read as "no Ethernet
//!   II type, matched exactly"; only one MPLS label stack entry is supported (the [`Flow`] holds one).

use super::attr::{Attr, KeyAttrKind};
use super::build::{ODPP_NONE, frag_from_odp, is_ip_any, is_nd, is_vlan_tpid};
use super::key_parse::ParsedAttr;
use super::token_at;
use crate::flow::{
    ETH_TYPE_ARP, ETH_TYPE_IP, ETH_TYPE_IPV6, ETH_TYPE_MIN, ETH_TYPE_MPLS, ETH_TYPE_NONE,
    ETH_TYPE_RARP, FRAG_LATER, FRAG_MASK, Flow, MPLS_BOS_MASK, PT_ETH, VLAN_CFI, ipproto,
};
use crate::text::ParseError;

/// Number of attribute kinds (size of a presence table).
const N_KINDS: usize = KeyAttrKind::ALL.len();

/// The attributes of one nesting level, by kind.
struct Level<'p> {
    by_kind: [Option<&'p ParsedAttr>; N_KINDS],
    present: u32,
    /// Where to report a missing attribute.
    missing_at: usize,
}

impl<'p> Level<'p> {
    fn get(&self, kind: KeyAttrKind) -> Option<&'p ParsedAttr> {
        self.by_kind.get(kind as usize).copied().flatten()
    }

    fn has(&self, kind: KeyAttrKind) -> bool {
        self.present & kind.bit() != 0
    }
}

/// Writes one decoded attribute into a flow (OVS's `put_*_key`); `Err` for an undefined
/// fragment type.
pub(crate) fn put_attr(a: &Attr, flow: &mut Flow, is_mask: bool) -> Result<(), ()> {
    match a {
        Attr::SkbPriority(v) => flow.skb_priority = *v,
        Attr::SkbMark(v) => flow.skb_mark = *v,
        Attr::CtState(v) => flow.ct_state = *v as u8,
        Attr::CtZone(v) => flow.ct_zone = *v,
        Attr::CtMark(v) => flow.ct_mark = *v,
        Attr::CtLabel(v) => flow.ct_label = v.to_be_bytes(),
        Attr::RecircId(v) => flow.recirc_id = *v,
        Attr::DpHash(v) => flow.dp_hash = *v,
        Attr::InPort(v) => flow.in_port = *v,
        Attr::PacketType(v) => flow.packet_type = *v,
        Attr::Eth(e) => {
            flow.dl_src = e.src;
            flow.dl_dst = e.dst;
        }
        Attr::Vlan(tci) => flow.vlans[0].tci = *tci,
        Attr::EthType(t) => flow.dl_type = *t,
        Attr::Encap(_) => {}
        Attr::Ipv4(k) => {
            flow.nw_src = k.src;
            flow.nw_dst = k.dst;
            flow.nw_proto = k.proto;
            flow.nw_tos = k.tos;
            flow.nw_ttl = k.ttl;
            flow.nw_frag = frag_from_odp(k.frag, is_mask).ok_or(())?;
        }
        Attr::Ipv6(k) => {
            flow.ipv6_src = k.src;
            flow.ipv6_dst = k.dst;
            flow.ipv6_label = k.label;
            flow.nw_proto = k.proto;
            flow.nw_tos = k.tclass;
            flow.nw_ttl = k.hlimit;
            flow.nw_frag = frag_from_odp(k.frag, is_mask).ok_or(())?;
        }
        Attr::Arp(k) => {
            flow.nw_src = k.sip;
            flow.nw_dst = k.tip;
            flow.nw_proto = k.op as u8;
            flow.arp_sha = k.sha;
            flow.arp_tha = k.tha;
        }
        Attr::Mpls(lses) => flow.mpls_lse = lses.first().copied().unwrap_or(0),
        Attr::Tcp(p) | Attr::Udp(p) | Attr::Sctp(p) => {
            flow.tp_src = p.src;
            flow.tp_dst = p.dst;
        }
        Attr::TcpFlags(v) => flow.tcp_flags = *v,
        Attr::Icmp(i) | Attr::Icmpv6(i) => {
            flow.tp_src = u16::from(i.kind);
            flow.tp_dst = u16::from(i.code);
        }
        Attr::Nd(n) => {
            flow.nd_target = n.target;
            flow.arp_sha = n.sll;
            flow.arp_tha = n.tll;
        }
    }
    Ok(())
}

/// Decodes key (`src == None`) or mask (`src == Some(key flow)`) attributes.
pub(crate) struct Decoder<'t> {
    pub(crate) text: &'t str,
    pub(crate) is_mask: bool,
    /// Accept missing attributes as fully wildcarded (terse dumps omit them).
    pub(crate) lenient: bool,
}

impl Decoder<'_> {
    fn err(&self, pos: usize, msg: impl Into<String>) -> ParseError {
        ParseError::new(msg, token_at(self.text, pos), pos)
    }

    fn value<'p>(&self, p: &'p ParsedAttr) -> &'p Attr {
        if self.is_mask { &p.mask } else { &p.key }
    }

    fn u32_of(&self, p: &ParsedAttr) -> u32 {
        match self.value(p) {
            Attr::SkbPriority(v)
            | Attr::SkbMark(v)
            | Attr::CtState(v)
            | Attr::CtMark(v)
            | Attr::RecircId(v)
            | Attr::DpHash(v)
            | Attr::InPort(v)
            | Attr::PacketType(v) => *v,
            Attr::CtZone(v) | Attr::Vlan(v) | Attr::EthType(v) | Attr::TcpFlags(v) => u32::from(*v),
            _ => 0,
        }
    }

    fn put(&self, p: &ParsedAttr, flow: &mut Flow) -> Result<(), ParseError> {
        put_attr(self.value(p), flow, self.is_mask)
            .map_err(|()| self.err(p.pos, "invalid frag in flow key"))
    }

    fn level<'p>(
        &self,
        list: &'p [ParsedAttr],
        missing_at: usize,
    ) -> Result<Level<'p>, ParseError> {
        let mut lvl = Level {
            by_kind: [None; N_KINDS],
            present: 0,
            missing_at,
        };
        for p in list {
            if !self.is_mask && p.is_mask_only() {
                continue;
            }
            let kind = p.kind();
            if lvl.has(kind) {
                return Err(self.err(
                    p.pos,
                    format!("duplicate {} attribute in flow key", kind.name()),
                ));
            }
            lvl.present |= kind.bit();
            if let Some(slot) = lvl.by_kind.get_mut(kind as usize) {
                *slot = Some(p);
            }
        }
        Ok(lvl)
    }

    /// `check_expectations`: every expected attribute present, nothing unexpected.
    fn check(&self, lvl: &Level<'_>, expected: u32) -> Result<(), ParseError> {
        let name_of = |bits: u32| {
            (0..N_KINDS as u32)
                .filter(|i| bits & (1 << i) != 0)
                .filter_map(|i| lvl_kind(i).map(KeyAttrKind::name))
                .collect::<Vec<_>>()
                .join(",")
        };
        let missing = expected & !lvl.present;
        if missing != 0 && !self.lenient {
            return Err(self.err(
                lvl.missing_at,
                format!("expected but not present: {}", name_of(missing)),
            ));
        }
        let extra = lvl.present & !expected;
        if extra != 0 {
            let at = (0..N_KINDS as u32)
                .filter(|i| extra & (1 << i) != 0)
                .filter_map(|i| lvl_kind(i).and_then(|k| lvl.get(k)))
                .map(|p| p.pos)
                .min()
                .unwrap_or(lvl.missing_at);
            return Err(self.err(at, format!("present but not expected: {}", name_of(extra))));
        }
        Ok(())
    }

    /// Decodes a whole key or mask list; `end` is where missing attributes are reported.
    pub(crate) fn decode(
        &self,
        list: &[ParsedAttr],
        src: Option<&Flow>,
        end: usize,
    ) -> Result<Flow, ParseError> {
        let is_mask = self.is_mask;
        let mut flow = Flow::default();
        let lvl = self.level(list, end)?;
        let mut expected = 0u32;
        let source = |flow: &Flow| {
            if is_mask {
                src.copied().unwrap_or_default()
            } else {
                *flow
            }
        };

        if let Some(p) = lvl.get(KeyAttrKind::RecircId) {
            flow.recirc_id = self.u32_of(p);
            expected |= KeyAttrKind::RecircId.bit();
        } else if is_mask {
            // A mask without recirc_id matches it exactly.
            flow.recirc_id = u32::MAX;
        }
        for kind in [
            KeyAttrKind::DpHash,
            KeyAttrKind::SkbPriority,
            KeyAttrKind::SkbMark,
            KeyAttrKind::CtState,
            KeyAttrKind::CtZone,
            KeyAttrKind::CtMark,
            KeyAttrKind::CtLabel,
        ] {
            if let Some(p) = lvl.get(kind) {
                self.put(p, &mut flow)?;
                expected |= kind.bit();
            }
        }
        if let Some(p) = lvl.get(KeyAttrKind::InPort) {
            flow.in_port = self.u32_of(p);
            expected |= KeyAttrKind::InPort.bit();
        } else if !is_mask {
            flow.in_port = ODPP_NONE;
        }
        let explicit_packet_type = lvl.get(KeyAttrKind::PacketType);
        if let Some(p) = explicit_packet_type {
            flow.packet_type = self.u32_of(p);
            expected |= KeyAttrKind::PacketType.bit();
            if source(&flow).packet_type >> 16 == 1 {
                flow.dl_type = flow.packet_type as u16;
            }
        } else if !is_mask {
            flow.packet_type = PT_ETH;
        }
        if let Some(p) = lvl.get(KeyAttrKind::Eth) {
            self.put(p, &mut flow)?;
            if !is_mask {
                flow.packet_type = PT_ETH;
            }
            expected |= KeyAttrKind::Eth.bit();
        } else if let Some(p) = lvl.get(KeyAttrKind::EthType) {
            if !is_mask && explicit_packet_type.is_none() {
                // No Ethernet header: the Ethertype names the packet type (OFPHTN_ETHERTYPE).
                flow.packet_type = (1 << 16) | self.u32_of(p);
            }
            expected |= KeyAttrKind::EthType.bit();
        }
        let s = source(&flow);
        self.ethertype(&lvl, &mut expected, &mut flow, &s)?;

        let src_now = source(&flow);
        let vlan = if is_mask {
            src_now.vlans[0].tci & VLAN_CFI != 0
        } else {
            is_vlan_tpid(flow.dl_type)
        };
        if vlan {
            self.vlan_onward(lvl, expected, &mut flow, src)?;
        } else {
            if is_mask {
                // No VLAN in the key: the mask matches "no VLAN" exactly.
                flow.vlans[0].tpid = u16::MAX;
                flow.vlans[0].tci = u16::MAX;
                if let Some(p) = lvl.get(KeyAttrKind::Vlan) {
                    flow.vlans[0].tci = self.u32_of(p) as u16;
                    expected |= KeyAttrKind::Vlan.bit();
                }
            }
            self.l2_5_onward(&lvl, &mut expected, &mut flow, src, true)?;
        }
        Ok(flow)
    }

    /// `parse_ethertype`.
    fn ethertype(
        &self,
        lvl: &Level<'_>,
        expected: &mut u32,
        flow: &mut Flow,
        src: &Flow,
    ) -> Result<(), ParseError> {
        if let Some(p) = lvl.get(KeyAttrKind::EthType) {
            let t = self.u32_of(p) as u16;
            flow.dl_type = t;
            if !self.is_mask && t < ETH_TYPE_MIN {
                return Err(self.err(p.pos, format!("invalid Ethertype {t} in flow key")));
            }
            if self.is_mask && src.dl_type < ETH_TYPE_MIN && t != u16::MAX {
                return Err(self.err(
                    p.pos,
                    format!(
                        "can't bitwise match non-Ethernet II \"Ethertype\" {} (with mask {})",
                        hash_hex(src.dl_type.into()),
                        hash_hex(t.into())
                    ),
                ));
            }
            *expected |= KeyAttrKind::EthType.bit();
        } else if !self.is_mask {
            flow.dl_type = if lvl.has(KeyAttrKind::Ipv4) {
                ETH_TYPE_IP
            } else if lvl.has(KeyAttrKind::Ipv6) {
                ETH_TYPE_IPV6
            } else if lvl.has(KeyAttrKind::Mpls) {
                ETH_TYPE_MPLS
            } else {
                ETH_TYPE_NONE
            };
        } else if src.packet_type != PT_ETH {
            flow.dl_type = u16::MAX;
        } else if src.dl_type < ETH_TYPE_MIN {
            if !self.lenient {
                return Err(self.err(lvl.missing_at, "mask expected for non-Ethernet II frame"));
            }
            // OVS prints nothing for an 802.3 frame inside `encap()`; its only valid mask is exact.
            flow.dl_type = u16::MAX;
        }
        Ok(())
    }

    /// `parse_8021q_onward`: up to two VLAN headers, each `vlan(..),encap(..)`.
    fn vlan_onward(
        &self,
        outer: Level<'_>,
        expected: u32,
        flow: &mut Flow,
        src: Option<&Flow>,
    ) -> Result<(), ParseError> {
        let is_mask = self.is_mask;
        let src_flow = |flow: &Flow| {
            if is_mask {
                src.copied().unwrap_or_default()
            } else {
                *flow
            }
        };
        let mut lvl = outer;
        let mut expected = expected;
        let mut encaps = 0usize;
        while encaps < flow.vlans.len() {
            let more = if is_mask {
                src_flow(flow).vlans[encaps].tci & VLAN_CFI != 0
            } else {
                is_vlan_tpid(flow.dl_type)
            };
            if !more {
                break;
            }
            let encap = lvl.get(KeyAttrKind::Encap);
            let vlan = lvl.get(KeyAttrKind::Vlan);
            if !is_mask || vlan.is_some() {
                expected |= KeyAttrKind::Vlan.bit();
            }
            if !is_mask || encap.is_some() {
                expected |= KeyAttrKind::Encap.bit();
            }
            let fitness = self.check(&lvl, expected);
            let header = &mut flow.vlans[encaps];
            header.tpid = flow.dl_type;
            header.tci = vlan.map_or(0, |p| self.u32_of(p) as u16);
            let tci = header.tci;
            flow.dl_type = 0;
            if !is_mask {
                let (Some(vlan_attr), Some(encap_attr)) = (vlan, encap) else {
                    fitness?;
                    return Err(self.err(lvl.missing_at, "expected but not present: vlan,encap"));
                };
                if tci == 0 {
                    // A truncated 802.1Q header: nothing may follow.
                    fitness?;
                    if !encap_attr.nested.is_empty() {
                        return Err(self.err(
                            encap_attr.pos,
                            "truncated VLAN header with encapsulated attributes",
                        ));
                    }
                    return Ok(());
                }
                if tci & VLAN_CFI == 0 {
                    return Err(self.err(
                        vlan_attr.pos,
                        format!("OVS_KEY_ATTR_VLAN 0x{tci:04x} is nonzero but CFI bit is not set"),
                    ));
                }
            } else if encap.is_none() {
                return fitness;
            }
            let Some(encap) = encap else { return fitness };
            lvl = self.level(&encap.nested, encap.pos)?;
            expected = 0;
            let s = src_flow(flow);
            self.ethertype(&lvl, &mut expected, flow, &s)?;
            self.l2_5_onward(&lvl, &mut expected, flow, src, false)?;
            encaps += 1;
        }
        self.check(&lvl, expected)
    }

    /// `parse_l2_5_onward`: MPLS or L3, then L4.
    fn l2_5_onward(
        &self,
        lvl: &Level<'_>,
        expected: &mut u32,
        flow: &mut Flow,
        src: Option<&Flow>,
        need_check: bool,
    ) -> Result<(), ParseError> {
        let is_mask = self.is_mask;
        let s = if is_mask {
            src.copied().unwrap_or_default()
        } else {
            *flow
        };
        if s.is_mpls() {
            self.mpls(lvl, expected, flow)?;
        } else {
            let l3 = match s.dl_type {
                ETH_TYPE_IP => Some(KeyAttrKind::Ipv4),
                ETH_TYPE_IPV6 => Some(KeyAttrKind::Ipv6),
                ETH_TYPE_ARP | ETH_TYPE_RARP => Some(KeyAttrKind::Arp),
                _ => None,
            };
            if let Some(kind) = l3 {
                self.l3(lvl, expected, flow, kind, s.dl_type)?;
                let s = if is_mask {
                    src.copied().unwrap_or_default()
                } else {
                    *flow
                };
                if is_ip_any(&s) && s.nw_frag & FRAG_LATER == 0 {
                    self.l4(lvl, expected, flow, &s)?;
                }
            }
        }
        if need_check {
            self.check(lvl, *expected)
        } else {
            Ok(())
        }
    }

    fn mpls(&self, lvl: &Level<'_>, expected: &mut u32, flow: &mut Flow) -> Result<(), ParseError> {
        let p = lvl.get(KeyAttrKind::Mpls);
        if !self.is_mask || p.is_some() {
            *expected |= KeyAttrKind::Mpls.bit();
        }
        let Some(p) = p else {
            if self.lenient && !self.is_mask {
                // Left out of a terse dump: a one-entry stack, which is bottom of stack.
                flow.mpls_lse = MPLS_BOS_MASK;
            }
            return Ok(());
        };
        let Attr::Mpls(lses) = self.value(p) else {
            return Ok(());
        };
        match lses.as_slice() {
            [] => Err(self.err(p.pos, "MPLS LSEs have invalid length 0")),
            [lse] => {
                flow.mpls_lse = *lse;
                if !self.is_mask && lse & MPLS_BOS_MASK == 0 {
                    return Err(self.err(p.pos, "MPLS label stack entry is not bottom of stack"));
                }
                Ok(())
            }
            _ => Err(self.err(
                p.pos,
                "more than one MPLS label stack entry is not supported",
            )),
        }
    }

    fn l3(
        &self,
        lvl: &Level<'_>,
        expected: &mut u32,
        flow: &mut Flow,
        kind: KeyAttrKind,
        src_dl_type: u16,
    ) -> Result<(), ParseError> {
        if !self.is_mask {
            *expected |= kind.bit();
        }
        let Some(p) = lvl.get(kind) else {
            return Ok(());
        };
        let value = self.value(p);
        if let (Attr::Arp(a), false) = (value, self.is_mask)
            && a.op & 0xff00 != 0
        {
            return Err(self.err(
                p.pos,
                format!("unsupported ARP opcode {} in flow key", a.op),
            ));
        }
        self.put(p, flow)?;
        if flow.nw_frag > FRAG_MASK {
            let name = if kind == KeyAttrKind::Ipv4 {
                "IPV4"
            } else {
                "IPV6"
            };
            return Err(self.err(
                p.pos,
                format!("OVS_KEY_ATTR_{name} has invalid nw_frag 0xff"),
            ));
        }
        if self.is_mask {
            if !value.is_all_zero() && flow.dl_type != u16::MAX {
                return Err(self.err(
                    p.pos,
                    format!(
                        "unexpected L3 matching with masked Ethertype {}/{}",
                        hash_hex(src_dl_type.into()),
                        hash_hex(flow.dl_type.into())
                    ),
                ));
            }
            *expected |= kind.bit();
        }
        Ok(())
    }

    fn l4(
        &self,
        lvl: &Level<'_>,
        expected: &mut u32,
        flow: &mut Flow,
        s: &Flow,
    ) -> Result<(), ParseError> {
        let kind = match s.nw_proto {
            ipproto::TCP => KeyAttrKind::Tcp,
            ipproto::UDP => KeyAttrKind::Udp,
            ipproto::SCTP => KeyAttrKind::Sctp,
            ipproto::ICMP if s.dl_type == ETH_TYPE_IP => KeyAttrKind::Icmp,
            ipproto::ICMPV6 if s.dl_type == ETH_TYPE_IPV6 => KeyAttrKind::Icmpv6,
            _ => return Ok(()),
        };
        if !self.is_mask {
            *expected |= kind.bit();
        }
        let l4 = lvl.get(kind);
        if let Some(p) = l4 {
            self.put(p, flow)?;
        }
        if kind == KeyAttrKind::Tcp
            && let Some(p) = lvl.get(KeyAttrKind::TcpFlags)
        {
            *expected |= KeyAttrKind::TcpFlags.bit();
            self.put(p, flow)?;
            // A dumped `tcp_flags(0/0)` says the key had flags but hides them (OVS prints any value
            // under an empty mask as `0/0`). Keep the attribute alive with SYN, the flags of the
            // packet that usually creates a TCP megaflow.
            if self.lenient && !self.is_mask && flow.tcp_flags == 0 && p.mask.is_wildcard() {
                flow.tcp_flags = crate::flow::tcp_flags::SYN;
            }
        }
        if kind == KeyAttrKind::Icmpv6 && l4.is_some() {
            // The key's ND decision looks at the type and code just read.
            let src_nd = if self.is_mask { *s } else { *flow };
            if is_nd(&src_nd) {
                let nd = lvl.get(KeyAttrKind::Nd);
                if !self.is_mask {
                    *expected |= KeyAttrKind::Nd.bit();
                }
                if let Some(p) = nd {
                    self.put(p, flow)?;
                    if self.is_mask {
                        if !self.value(p).is_all_zero() && flow.tp_src != 0xff {
                            return Err(self.err(
                                p.pos,
                                format!(
                                    "ICMP src mask should be (0xff) but is actually ({})",
                                    hash_hex(flow.tp_src.into())
                                ),
                            ));
                        }
                        *expected |= KeyAttrKind::Nd.bit();
                    }
                }
            }
        }
        if self.is_mask
            && let Some(p) = l4
        {
            if (flow.tp_src != 0 || flow.tp_dst != 0) && flow.nw_proto != u8::MAX {
                return Err(self.err(
                    p.pos,
                    "flow matches on L4 ports but does not define an L4 protocol",
                ));
            }
            *expected |= kind.bit();
        }
        Ok(())
    }
}

/// The kind with discriminant `i`.
fn lvl_kind(i: u32) -> Option<KeyAttrKind> {
    KeyAttrKind::ALL.get(i as usize).copied()
}

/// `%#x`.
fn hash_hex(v: u64) -> String {
    let mut s = String::new();
    crate::text::fmt_hash_hex(&mut s, v);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_table_matches_discriminants() {
        for i in 0..N_KINDS as u32 {
            let k = lvl_kind(i).expect("in range");
            assert_eq!(k as u32, i);
        }
        assert_eq!(lvl_kind(N_KINDS as u32), None);
    }
}
