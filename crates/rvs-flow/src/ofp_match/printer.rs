//! Printing a [`Match`] exactly as Open vSwitch's `match_format` does: the text of
//! `ovs-ofctl dump-flows`/`parse-flow` and of the `Megaflow:` line of `ofproto/trace`.
//!
//! Order: `priority` (unless the default 32768), `pkt_mark`, `recirc_id`, `dp_hash`,
//! `skb_priority`, `ct_*`, the packet type (only for non-Ethernet types, or always once
//! `recirc_id` is matched, which makes it a megaflow: then Ethernet prints as `eth`), the protocol
//! shorthand chosen from `dl_type` and `nw_proto`, registers, `metadata`, `in_port`, VLAN,
//! Ethernet addresses, `dl_type` if no shorthand covered it, L3 addresses, `nw_proto`/`arp_op`,
//! ARP hardware addresses, `nw_tos`, `nw_ecn`, `nw_ttl`, MPLS, `nw_frag`, L4 ports or ICMP
//! type/code (with ND fields), `tcp_flags`.
//!
//! # Invariants
//! * A field prints only if some bit of its mask is set; exact masks print the bare value, other
//!   masks print OVS's `value/mask` form (CIDR prefix lengths where the mask is a prefix).
//! * The output has no trailing comma; a catch-all match prints as the empty string.

use std::fmt::Write as _;

use super::apply::{IP_DSCP_MASK, IP_ECN_MASK, IPV6_LABEL_MASK};
use super::port::format_port;
use super::prereq::{PT_NS_ETHERTYPE, effective_dl_type};
use super::value::{ct_state_name, tcp_flag_name};
use crate::flow::{
    ETH_TYPE_ARP, ETH_TYPE_IP, ETH_TYPE_IPV6, ETH_TYPE_MPLS, ETH_TYPE_MPLS_MCAST, ETH_TYPE_RARP,
    FRAG_ANY, FRAG_LATER, FRAG_MASK, Flow, MPLS_BOS_MASK, MPLS_BOS_SHIFT, MPLS_LABEL_MASK,
    MPLS_LABEL_SHIFT, MPLS_TC_MASK, MPLS_TC_SHIFT, MPLS_TTL_MASK, Match, PT_ETH, VLAN_CFI,
    VLAN_PCP_MASK, VLAN_PCP_SHIFT, VLAN_VID_MASK, ipproto, tcp_flags,
};
use crate::text::{fmt_hash_hex, fmt_ipv4, fmt_mac};

/// OpenFlow's default rule priority; `format_match` does not print it.
pub const OFP_DEFAULT_PRIORITY: u16 = 0x8000;

/// Appends `m` as `ovs-ofctl` prints it, preceded by `priority=P,` when `priority` is given and
/// is not [`OFP_DEFAULT_PRIORITY`].
pub fn format_match(out: &mut String, m: &Match, priority: Option<u16>) {
    let start = out.len();
    let mut p = Printer { out };
    p.all(m, priority);
    if out.len() > start && out.ends_with(',') {
        out.pop();
    }
}

/// [`format_match`] into a new string.
pub fn match_to_string(m: &Match, priority: Option<u16>) -> String {
    let mut s = String::new();
    format_match(&mut s, m, priority);
    s
}

/// Appends the `Megaflow:` text of `ofproto/trace` for a datapath megaflow expressed as an
/// OpenFlow match (OpenFlow `in_port`, `recirc_id` matched). OVS builds that line with the same
/// `match_format` and the default priority, so this is [`format_match`] without a priority: it
/// is the matched `recirc_id` that makes the packet type print (`eth` for Ethernet), e.g.
/// `recirc_id=0,eth,ip,in_port=1,nw_frag=no`.
pub fn format_megaflow(out: &mut String, m: &Match) {
    format_match(out, m, None);
}

struct Printer<'a> {
    out: &'a mut String,
}

impl Printer<'_> {
    fn put(&mut self, s: &str) {
        self.out.push_str(s);
    }

    fn fmt(&mut self, args: std::fmt::Arguments<'_>) {
        let _ = self.out.write_fmt(args);
    }

    /// `name=%#x[/%#x],` (OVS's `format_uint32_masked`).
    fn u32_hex(&mut self, name: &str, value: u32, mask: u32) {
        if mask == 0 {
            return;
        }
        self.fmt(format_args!("{name}="));
        fmt_hash_hex(self.out, u64::from(value));
        if mask != u32::MAX {
            self.put("/");
            fmt_hash_hex(self.out, u64::from(mask));
        }
        self.put(",");
    }

    /// `name=%u` or `name=0x%x/0x%x` (OVS's `format_be16_masked` / `format_uint16_masked`).
    fn u16_dec(&mut self, name: &str, value: u16, mask: u16) {
        if mask == 0 {
            return;
        }
        if mask == u16::MAX {
            self.fmt(format_args!("{name}={value},"));
        } else {
            self.fmt(format_args!("{name}={value:#x}/{mask:#x},"));
        }
    }

    fn mac(&mut self, name: &str, value: &[u8; 6], mask: &[u8; 6]) {
        if *mask == [0; 6] {
            return;
        }
        self.fmt(format_args!("{name}="));
        fmt_mac(self.out, value);
        if *mask != [0xff; 6] {
            self.put("/");
            fmt_mac(self.out, mask);
        }
        self.put(",");
    }

    fn ipv4(&mut self, name: &str, value: u32, mask: u32) {
        if mask == 0 {
            return;
        }
        self.fmt(format_args!("{name}="));
        fmt_ipv4(self.out, value);
        if mask != u32::MAX {
            if (!mask).wrapping_add(1) & !mask == 0 {
                self.fmt(format_args!("/{}", mask.leading_ones()));
            } else {
                self.put("/");
                fmt_ipv4(self.out, mask);
            }
        }
        self.put(",");
    }

    fn ipv6(&mut self, name: &str, value: &[u8; 16], mask: &[u8; 16]) {
        if *mask == [0; 16] {
            return;
        }
        self.fmt(format_args!("{name}="));
        crate::text::fmt_ipv6(self.out, value);
        let m = u128::from_be_bytes(*mask);
        if m != u128::MAX {
            if (!m).wrapping_add(1) & !m == 0 {
                self.fmt(format_args!("/{}", m.leading_ones()));
            } else {
                self.put("/");
                crate::text::fmt_ipv6(self.out, mask);
            }
        }
        self.put(",");
    }

    /// Flags with `|` (exact) or `+a-b` (partial mask), OVS's `format_flags_masked`.
    fn flags(
        &mut self,
        name: &str,
        names: fn(u32) -> Option<&'static str>,
        value: u32,
        mask: u32,
        full: u32,
    ) {
        self.fmt(format_args!("{name}="));
        if mask == full {
            self.flag_list(names, value);
        } else if mask == 0 {
            self.put("0/0");
        } else {
            for bit in (0..32).map(|k| 1u32 << k).filter(|b| mask & b != 0) {
                self.put(if value & bit != 0 { "+" } else { "-" });
                self.put(names(bit).unwrap_or("[Unknown]"));
            }
        }
        self.put(",");
    }

    /// Set flags joined by `|`, unnamed bits as one trailing hex number, `0` for none.
    fn flag_list(&mut self, names: fn(u32) -> Option<&'static str>, value: u32) {
        if value == 0 {
            self.put("0");
            return;
        }
        let mut first = true;
        let mut unknown = 0u32;
        for bit in (0..32).map(|k| 1u32 << k).filter(|b| value & b != 0) {
            match names(bit) {
                Some(n) => {
                    if !first {
                        self.put("|");
                    }
                    self.put(n);
                    first = false;
                }
                None => unknown |= bit,
            }
        }
        if unknown != 0 {
            if !first {
                self.put("|");
            }
            self.fmt(format_args!("{unknown:#x}"));
        }
    }

    fn all(&mut self, m: &Match, priority: Option<u16>) {
        let (f, w) = (&m.flow, &m.wc.masks);
        if let Some(p) = priority.filter(|p| *p != OFP_DEFAULT_PRIORITY) {
            self.fmt(format_args!("priority={p},"));
        }
        self.u32_hex("pkt_mark", f.skb_mark, w.skb_mark);
        let is_megaflow = w.recirc_id != 0;
        self.u32_hex("recirc_id", f.recirc_id, w.recirc_id);
        self.u32_hex("dp_hash", f.dp_hash, w.dp_hash);
        if w.skb_priority != 0 {
            self.put("skb_priority=");
            fmt_hash_hex(self.out, u64::from(f.skb_priority));
            self.put(",");
        }
        self.conntrack(f, w);

        let mut dl_type = f.dl_type;
        let default_packet_type = f.packet_type == PT_ETH && w.packet_type == u32::MAX;
        if w.packet_type != 0 && (!default_packet_type || is_megaflow) {
            self.packet_type(f.packet_type, w.packet_type);
            if f.packet_type >> 16 == PT_NS_ETHERTYPE {
                dl_type = f.packet_type as u16;
            }
        }
        let (skip_type, skip_proto) = self.shorthand(f, w, dl_type);

        for (i, (value, mask)) in f.regs.iter().zip(&w.regs).enumerate() {
            self.u32_hex(&format!("reg{i}"), *value, *mask);
        }
        if w.metadata != 0 {
            self.put("metadata=");
            fmt_hash_hex(self.out, f.metadata);
            if w.metadata != u64::MAX {
                self.put("/");
                fmt_hash_hex(self.out, w.metadata);
            }
            self.put(",");
        }
        if w.in_port != 0 {
            self.put("in_port=");
            match u16::try_from(f.in_port) {
                Ok(port) => format_port(self.out, port),
                Err(_) => self.fmt(format_args!("{}", f.in_port)),
            }
            self.put(",");
        }
        self.vlans(f, w);
        self.mac("dl_src", &f.dl_src, &w.dl_src);
        self.mac("dl_dst", &f.dl_dst, &w.dl_dst);
        if !skip_type && w.dl_type != 0 {
            self.fmt(format_args!("dl_type=0x{dl_type:04x},"));
        }
        self.l3(f, w, dl_type, skip_proto);
        self.l4(f, w, dl_type);
    }

    fn conntrack(&mut self, f: &Flow, w: &Flow) {
        if w.ct_state != 0 {
            if w.ct_state == u8::MAX {
                self.put("ct_state=");
                self.flag_list(ct_state_name, u32::from(f.ct_state));
                self.put(",");
            } else {
                self.flags(
                    "ct_state",
                    ct_state_name,
                    u32::from(f.ct_state),
                    u32::from(w.ct_state),
                    0xff,
                );
            }
        }
        self.u16_dec("ct_zone", f.ct_zone, w.ct_zone);
        self.u32_hex("ct_mark", f.ct_mark, w.ct_mark);
        if w.ct_label != [0; 16] {
            self.put("ct_label=");
            put_hex_bytes(self.out, &f.ct_label);
            if w.ct_label != [0xff; 16] {
                self.put("/");
                put_hex_bytes(self.out, &w.ct_label);
            }
            self.put(",");
        }
    }

    fn packet_type(&mut self, value: u32, mask: u32) {
        if value == PT_ETH && mask == u32::MAX {
            self.put("eth,");
            return;
        }
        self.put("packet_type=(");
        self.u16_part((value >> 16) as u16, (mask >> 16) as u16);
        self.put(",");
        self.u16_part(value as u16, mask as u16);
        self.put("),");
    }

    /// One half of a packet type: `*`, small numbers in decimal, larger ones in hex.
    fn u16_part(&mut self, value: u16, mask: u16) {
        if mask == 0 {
            self.put("*");
            return;
        }
        if value > 9 {
            self.fmt(format_args!("{value:#x}"));
        } else {
            self.fmt(format_args!("{value}"));
        }
        if mask != u16::MAX {
            self.fmt(format_args!("/{mask:#x}"));
        }
    }

    /// The protocol shorthand; returns whether `dl_type` and `nw_proto` were covered by it.
    fn shorthand(&mut self, f: &Flow, w: &Flow, dl_type: u16) -> (bool, bool) {
        if w.dl_type == 0 {
            return (false, false);
        }
        let ip_name = |proto: u8, v6: bool| match (proto, v6) {
            (ipproto::ICMP, false) => Some("icmp"),
            (ipproto::ICMPV6, true) => Some("icmp6"),
            (ipproto::TCP, false) => Some("tcp"),
            (ipproto::TCP, true) => Some("tcp6"),
            (ipproto::UDP, false) => Some("udp"),
            (ipproto::UDP, true) => Some("udp6"),
            (ipproto::SCTP, false) => Some("sctp"),
            (ipproto::SCTP, true) => Some("sctp6"),
            _ => None,
        };
        let (name, skip_proto) = match dl_type {
            ETH_TYPE_IP | ETH_TYPE_IPV6 => {
                let v6 = dl_type == ETH_TYPE_IPV6;
                let base = if v6 { "ipv6" } else { "ip" };
                match ip_name(f.nw_proto, v6).filter(|_| w.nw_proto != 0) {
                    Some(n) => (n, true),
                    None => (base, false),
                }
            }
            ETH_TYPE_ARP => ("arp", false),
            ETH_TYPE_RARP => ("rarp", false),
            ETH_TYPE_MPLS => ("mpls", false),
            ETH_TYPE_MPLS_MCAST => ("mplsm", false),
            _ => return (false, false),
        };
        self.put(name);
        self.put(",");
        (true, skip_proto)
    }

    fn vlans(&mut self, f: &Flow, w: &Flow) {
        for (i, (vlan, mask)) in f.vlans.iter().zip(&w.vlans).enumerate() {
            if mask.tci == 0 {
                break;
            }
            let suffix = if i == 0 { String::new() } else { i.to_string() };
            let vid_mask = mask.tci & VLAN_VID_MASK;
            let pcp_mask = mask.tci & VLAN_PCP_MASK;
            let cfi = mask.tci & VLAN_CFI != 0 && vlan.tci & VLAN_CFI != 0;
            if cfi
                && (vid_mask == 0 || vid_mask == VLAN_VID_MASK)
                && (pcp_mask == 0 || pcp_mask == VLAN_PCP_MASK)
                && (vid_mask != 0 || pcp_mask != 0)
            {
                if vid_mask != 0 {
                    self.fmt(format_args!(
                        "dl_vlan{suffix}={},",
                        vlan.tci & VLAN_VID_MASK
                    ));
                }
                if pcp_mask != 0 {
                    self.fmt(format_args!(
                        "dl_vlan_pcp{suffix}={},",
                        vlan.tci >> VLAN_PCP_SHIFT
                    ));
                }
            } else if mask.tci == u16::MAX {
                self.fmt(format_args!("vlan_tci{suffix}=0x{:04x},", vlan.tci));
            } else {
                self.fmt(format_args!(
                    "vlan_tci{suffix}=0x{:04x}/0x{:04x},",
                    vlan.tci, mask.tci
                ));
            }
        }
    }

    fn l3(&mut self, f: &Flow, w: &Flow, dl_type: u16, skip_proto: bool) {
        let arp = dl_type == ETH_TYPE_ARP || dl_type == ETH_TYPE_RARP;
        if dl_type == ETH_TYPE_IPV6 {
            self.ipv6("ipv6_src", &f.ipv6_src, &w.ipv6_src);
            self.ipv6("ipv6_dst", &f.ipv6_dst, &w.ipv6_dst);
            if w.ipv6_label != 0 {
                if w.ipv6_label & IPV6_LABEL_MASK == IPV6_LABEL_MASK {
                    self.fmt(format_args!("ipv6_label=0x{:05x},", f.ipv6_label));
                } else {
                    self.fmt(format_args!(
                        "ipv6_label=0x{:05x}/0x{:05x},",
                        f.ipv6_label, w.ipv6_label
                    ));
                }
            }
        } else if arp {
            self.ipv4("arp_spa", f.nw_src, w.nw_src);
            self.ipv4("arp_tpa", f.nw_dst, w.nw_dst);
        } else {
            self.ipv4("nw_src", f.nw_src, w.nw_src);
            self.ipv4("nw_dst", f.nw_dst, w.nw_dst);
        }
        if !skip_proto && w.nw_proto != 0 {
            let name = if arp { "arp_op" } else { "nw_proto" };
            self.fmt(format_args!("{name}={},", f.nw_proto));
        }
        if arp {
            self.mac("arp_sha", &f.arp_sha, &w.arp_sha);
            self.mac("arp_tha", &f.arp_tha, &w.arp_tha);
        }
        if w.nw_tos & IP_DSCP_MASK != 0 {
            self.fmt(format_args!("nw_tos={},", f.nw_tos & IP_DSCP_MASK));
        }
        if w.nw_tos & IP_ECN_MASK != 0 {
            self.fmt(format_args!("nw_ecn={},", f.nw_tos & IP_ECN_MASK));
        }
        if w.nw_ttl != 0 {
            self.fmt(format_args!("nw_ttl={},", f.nw_ttl));
        }
        if w.mpls_lse & MPLS_LABEL_MASK != 0 {
            self.fmt(format_args!(
                "mpls_label={},",
                f.mpls_lse >> MPLS_LABEL_SHIFT
            ));
        }
        if w.mpls_lse & MPLS_TC_MASK != 0 {
            self.fmt(format_args!(
                "mpls_tc={},",
                (f.mpls_lse & MPLS_TC_MASK) >> MPLS_TC_SHIFT
            ));
        }
        if w.mpls_lse & MPLS_TTL_MASK != 0 {
            self.fmt(format_args!("mpls_ttl={},", f.mpls_lse & MPLS_TTL_MASK));
        }
        if w.mpls_lse & MPLS_BOS_MASK != 0 {
            self.fmt(format_args!(
                "mpls_bos={},",
                (f.mpls_lse & MPLS_BOS_MASK) >> MPLS_BOS_SHIFT
            ));
        }
        let (any, later) = (f.nw_frag & FRAG_ANY != 0, f.nw_frag & FRAG_LATER != 0);
        let frag = match w.nw_frag & FRAG_MASK {
            FRAG_MASK => Some(match (any, later) {
                (true, true) => "later",
                (true, false) => "first",
                (false, true) => "<error>",
                (false, false) => "no",
            }),
            FRAG_ANY => Some(if any { "yes" } else { "no" }),
            FRAG_LATER => Some(if later { "later" } else { "not_later" }),
            _ => None,
        };
        if let Some(frag) = frag {
            self.fmt(format_args!("nw_frag={frag},"));
        }
    }

    fn l4(&mut self, f: &Flow, w: &Flow, dl_type: u16) {
        if dl_type == ETH_TYPE_IP && f.nw_proto == ipproto::ICMP {
            self.u16_dec("icmp_type", f.tp_src, w.tp_src);
            self.u16_dec("icmp_code", f.tp_dst, w.tp_dst);
        } else if dl_type == ETH_TYPE_IPV6 && f.nw_proto == ipproto::ICMPV6 {
            self.u16_dec("icmp_type", f.tp_src, w.tp_src);
            self.u16_dec("icmp_code", f.tp_dst, w.tp_dst);
            self.ipv6("nd_target", &f.nd_target, &w.nd_target);
            self.mac("nd_sll", &f.arp_sha, &w.arp_sha);
            self.mac("nd_tll", &f.arp_tha, &w.arp_tha);
            if w.tcp_flags != 0 {
                let mask = if w.tcp_flags == tcp_flags::MASK {
                    u16::MAX
                } else {
                    w.tcp_flags
                };
                self.u16_dec("nd_options_type", f.tcp_flags, mask);
            }
        } else {
            self.u16_dec("tp_src", f.tp_src, w.tp_src);
            self.u16_dec("tp_dst", f.tp_dst, w.tp_dst);
        }
        let ip = matches!(effective_dl_type(f), ETH_TYPE_IP | ETH_TYPE_IPV6);
        let tcp_mask = w.tcp_flags & tcp_flags::MASK;
        if ip && f.nw_proto == ipproto::TCP && tcp_mask != 0 {
            self.flags(
                "tcp_flags",
                tcp_flag_name,
                u32::from(f.tcp_flags),
                u32::from(tcp_mask),
                u32::from(tcp_flags::MASK),
            );
        }
    }
}

/// `ds_put_hex`: `0x` and the bytes in hex without leading zero bytes, `0` if all zero.
fn put_hex_bytes(out: &mut String, bytes: &[u8]) {
    let Some(first) = bytes.iter().position(|b| *b != 0) else {
        out.push('0');
        return;
    };
    let _ = write!(out, "{:#x}", bytes[first]);
    for b in &bytes[first + 1..] {
        let _ = write!(out, "{b:02x}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v6(s: &str) -> String {
        let a: std::net::Ipv6Addr = s.parse().expect("valid address");
        let mut out = String::new();
        crate::text::fmt_ipv6(&mut out, &a.octets());
        out
    }

    #[test]
    fn ipv6_like_inet_ntop() {
        assert_eq!(v6("fe80::1"), "fe80::1");
        assert_eq!(v6("::"), "::");
        assert_eq!(v6("::1"), "::1");
        assert_eq!(v6("1::"), "1::");
        assert_eq!(v6("::ffff:1.2.3.4"), "::ffff:1.2.3.4");
        assert_eq!(v6("::1.2.3.4"), "::1.2.3.4");
        assert_eq!(v6("1:0:0:1:0:0:0:1"), "1:0:0:1::1");
        assert_eq!(v6("1:0:0:2:0:0:3:4"), "1::2:0:0:3:4");
        assert_eq!(v6("1:2:3:4:5:6:7:8"), "1:2:3:4:5:6:7:8");
        assert_eq!(v6("1:0:2:3:4:5:6:7"), "1:0:2:3:4:5:6:7");
    }

    #[test]
    fn hex_bytes() {
        let mut s = String::new();
        put_hex_bytes(&mut s, &[0, 0, 1, 2]);
        s.push(' ');
        put_hex_bytes(&mut s, &[0; 4]);
        assert_eq!(s, "0x102 0");
    }
}
