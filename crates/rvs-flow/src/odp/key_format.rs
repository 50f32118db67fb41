//! Printing key attribute lists: `odp_flow_format` and `format_odp_key_attr` of Open vSwitch.
//!
//! # Invariants
//! * Output is byte for byte what OVS prints for the same attribute lists, including its corner
//!   cases: `eth()` for a wildcarded Ethernet attribute when no exact `packet_type` came before it,
//!   a trailing `,eth_type(0/0x....)` when only the mask has an Ethertype, the
//!   `error: partial mask not supported for frag (..)` text, and `vlan(..,cfi=0)`.
//! * In a field, an all-zero mask omits the field unless verbose, an all-ones mask prints
//!   `name=value`, anything else `name=value/mask`; with no mask at all every field is exact.

use std::fmt::Write as _;

use super::PortNames;
use super::attr::{Attr, IPV6_LABEL_MASK, KeyAttrKind};
use super::flags::{ct_state_name, format_flags, format_flags_masked, tcp_flag_name};
use crate::flow::{
    MPLS_BOS_MASK, MPLS_BOS_SHIFT, MPLS_LABEL_SHIFT, MPLS_TC_MASK, MPLS_TC_SHIFT, MPLS_TTL_MASK,
    VLAN_CFI, VLAN_PCP_SHIFT, VLAN_VID_MASK,
};
use crate::text::{fmt_hash_hex, fmt_ipv4, fmt_mac};

/// Printing context.
#[derive(Clone, Copy)]
pub(crate) struct Ctx<'a> {
    pub(crate) ports: Option<&'a dyn PortNames>,
    pub(crate) verbose: bool,
}

/// Prints a key list with an optional mask list (`odp_flow_format`).
pub(crate) fn format_list(out: &mut String, key: &[Attr], mask: Option<&[Attr]>, ctx: Ctx<'_>) {
    if key.is_empty() {
        out.push_str("<empty>");
        return;
    }
    let mask = mask.filter(|m| !m.is_empty());
    let find = |kind: KeyAttrKind| mask.and_then(|m| m.iter().find(|a| a.kind() == kind));
    let mut first = true;
    let mut has_eth_type = false;
    let mut has_packet_type = false;
    for a in key {
        let kind = a.kind();
        let ma = find(kind);
        match kind {
            KeyAttrKind::EthType => has_eth_type = true,
            KeyAttrKind::PacketType => has_packet_type = true,
            _ => {}
        }
        let is_wildcard = mask.is_some() && ma.is_none_or(Attr::is_wildcard);
        if ctx.verbose || !is_wildcard || kind == KeyAttrKind::Encap {
            let generated;
            let ma = match ma {
                None if is_wildcard => {
                    generated = a.zeroed();
                    Some(&generated)
                }
                other => other,
            };
            if !first {
                out.push(',');
            }
            format_attr(out, a, ma, ctx);
            first = false;
        } else if kind == KeyAttrKind::Eth && !has_packet_type {
            // The kernel datapath has no packet_type: there a present Ethernet attribute says
            // "this is an Ethernet frame", so OVS shows it even when fully wildcarded.
            if !first {
                out.push(',');
            }
            out.push_str("eth()");
        } else if kind == KeyAttrKind::PacketType {
            has_packet_type = false;
        }
    }
    if !has_eth_type && let Some(Attr::EthType(m)) = find(KeyAttrKind::EthType) {
        let _ = write!(out, ",eth_type(0/0x{m:04x})");
    }
}

/// Prints one attribute as `name(...)` (`format_odp_key_attr__`).
pub(crate) fn format_attr(out: &mut String, a: &Attr, ma: Option<&Attr>, ctx: Ctx<'_>) {
    let verbose = ctx.verbose;
    let is_exact = ma.is_none_or(Attr::is_exact);
    let mask_empty = ma.is_none_or(Attr::is_all_zero);
    out.push_str(a.kind().name());
    out.push('(');
    let mut f = Fields {
        out: &mut *out,
        verbose,
    };
    match (a, ma) {
        (Attr::Encap(inner), m) => match m {
            Some(Attr::Encap(mi)) if !mi.is_empty() && !inner.is_empty() => {
                format_list(f.out, inner, Some(mi), ctx);
            }
            _ if !inner.is_empty() => format_list(f.out, inner, None, ctx),
            _ => {}
        },
        (Attr::SkbPriority(v) | Attr::SkbMark(v) | Attr::DpHash(v) | Attr::RecircId(v), m) => {
            fmt_hash_hex(f.out, u64::from(*v));
            if !is_exact {
                f.out.push('/');
                fmt_hash_hex(f.out, u64::from(mask_u32(m)));
            }
        }
        (Attr::CtMark(v), m) => {
            if verbose || !mask_empty {
                fmt_hash_hex(f.out, u64::from(*v));
                if !is_exact {
                    f.out.push('/');
                    fmt_hash_hex(f.out, u64::from(mask_u32(m)));
                }
            }
        }
        (Attr::CtState(v), m) => {
            let mask = if mask_empty { 0 } else { mask_u32(m) };
            if verbose {
                fmt_hash_hex(f.out, u64::from(*v));
                if !is_exact {
                    f.out.push('/');
                    fmt_hash_hex(f.out, u64::from(mask));
                }
            } else if !is_exact {
                format_flags_masked(f.out, ct_state_name, *v, mask, u32::MAX);
            } else {
                format_flags(f.out, ct_state_name, *v, '|');
            }
        }
        (Attr::CtZone(v), m) => {
            if verbose || !mask_empty {
                fmt_hash_hex(f.out, u64::from(*v));
                if !is_exact {
                    let mask = if let Some(Attr::CtZone(m)) = m { *m } else { 0 };
                    f.out.push('/');
                    fmt_hash_hex(f.out, u64::from(mask));
                }
            }
        }
        (Attr::CtLabel(v), m) => {
            let mask = match m {
                Some(Attr::CtLabel(m)) => Some(*m),
                _ => None,
            };
            if verbose || mask.is_some_and(|m| m != 0) {
                fmt_u128_hex(f.out, *v);
                if let Some(m) = mask.filter(|m| *m != u128::MAX) {
                    f.out.push('/');
                    fmt_u128_hex(f.out, m);
                }
            }
        }
        (Attr::InPort(v), m) => {
            if is_exact {
                match ctx.ports.and_then(|p| p.port_name(*v)) {
                    Some(name) => f.out.push_str(name),
                    None => {
                        let _ = write!(f.out, "{v}");
                    }
                }
            } else {
                let _ = write!(f.out, "{v}/");
                fmt_hash_hex(f.out, u64::from(mask_u32(m)));
            }
        }
        (Attr::PacketType(v), m) => {
            let mask = match m {
                Some(Attr::PacketType(m)) => *m,
                _ => u32::MAX,
            };
            f.dec16("ns", (v >> 16) as u16, Some((mask >> 16) as u16));
            f.hex16("id", *v as u16, Some(mask as u16));
            chomp(f.out);
        }
        (Attr::Eth(k), m) => {
            let m = match m {
                Some(Attr::Eth(m)) => Some(m),
                _ => None,
            };
            f.mac("src", &k.src, m.map(|m| &m.src));
            f.mac("dst", &k.dst, m.map(|m| &m.dst));
            chomp(f.out);
        }
        (Attr::Vlan(tci), m) => {
            let mask = match m {
                Some(Attr::Vlan(m)) => *m,
                _ => u16::MAX,
            };
            format_vlan_tci(f.out, *tci, mask, verbose);
        }
        (Attr::Mpls(lses), m) => format_mpls_attr(f.out, lses, m, is_exact),
        (Attr::EthType(v), m) => {
            let _ = write!(f.out, "0x{v:04x}");
            if !is_exact && let Some(Attr::EthType(m)) = m {
                let _ = write!(f.out, "/0x{m:04x}");
            }
        }
        (Attr::Ipv4(k), m) => {
            let m = match m {
                Some(Attr::Ipv4(m)) => Some(m),
                _ => None,
            };
            f.ipv4("src", k.src, m.map(|m| m.src));
            f.ipv4("dst", k.dst, m.map(|m| m.dst));
            f.dec8("proto", k.proto, m.map(|m| m.proto));
            f.hex8("tos", k.tos, m.map(|m| m.tos));
            f.dec8("ttl", k.ttl, m.map(|m| m.ttl));
            f.frag("frag", k.frag, m.map(|m| m.frag));
            chomp(f.out);
        }
        (Attr::Ipv6(k), m) => {
            let m = match m {
                Some(Attr::Ipv6(m)) => Some(m),
                _ => None,
            };
            f.ipv6("src", &k.src, m.map(|m| &m.src));
            f.ipv6("dst", &k.dst, m.map(|m| &m.dst));
            f.label("label", k.label, m.map(|m| m.label));
            f.dec8("proto", k.proto, m.map(|m| m.proto));
            f.hex8("tclass", k.tclass, m.map(|m| m.tclass));
            f.dec8("hlimit", k.hlimit, m.map(|m| m.hlimit));
            f.frag("frag", k.frag, m.map(|m| m.frag));
            chomp(f.out);
        }
        (Attr::Tcp(k) | Attr::Udp(k) | Attr::Sctp(k), m) => {
            let m = match m {
                Some(Attr::Tcp(m) | Attr::Udp(m) | Attr::Sctp(m)) => Some(m),
                _ => None,
            };
            f.dec16("src", k.src, m.map(|m| m.src));
            f.dec16("dst", k.dst, m.map(|m| m.dst));
            chomp(f.out);
        }
        (Attr::TcpFlags(v), m) => {
            if is_exact {
                format_flags(f.out, tcp_flag_name, u32::from(*v), '|');
            } else {
                let mask = if let Some(Attr::TcpFlags(m)) = m {
                    *m
                } else {
                    0
                };
                format_flags_masked(
                    f.out,
                    tcp_flag_name,
                    u32::from(*v),
                    u32::from(mask & 0x0fff),
                    0x0fff,
                );
            }
        }
        (Attr::Icmp(k) | Attr::Icmpv6(k), m) => {
            let m = match m {
                Some(Attr::Icmp(m) | Attr::Icmpv6(m)) => Some(m),
                _ => None,
            };
            f.dec8("type", k.kind, m.map(|m| m.kind));
            f.dec8("code", k.code, m.map(|m| m.code));
            chomp(f.out);
        }
        (Attr::Arp(k), m) => {
            let m = match m {
                Some(Attr::Arp(m)) => Some(m),
                _ => None,
            };
            f.ipv4("sip", k.sip, m.map(|m| m.sip));
            f.ipv4("tip", k.tip, m.map(|m| m.tip));
            f.dec16("op", k.op, m.map(|m| m.op));
            f.mac("sha", &k.sha, m.map(|m| &m.sha));
            f.mac("tha", &k.tha, m.map(|m| &m.tha));
            chomp(f.out);
        }
        (Attr::Nd(k), m) => {
            let m = match m {
                Some(Attr::Nd(m)) => Some(m),
                _ => None,
            };
            f.ipv6("target", &k.target, m.map(|m| &m.target));
            f.mac("sll", &k.sll, m.map(|m| &m.sll));
            f.mac("tll", &k.tll, m.map(|m| &m.tll));
            chomp(f.out);
        }
    }
    out.push(')');
}

/// The u32 payload of a mask attribute (0 if absent).
fn mask_u32(m: Option<&Attr>) -> u32 {
    match m {
        Some(
            Attr::SkbPriority(v)
            | Attr::SkbMark(v)
            | Attr::DpHash(v)
            | Attr::RecircId(v)
            | Attr::CtMark(v)
            | Attr::CtState(v)
            | Attr::InPort(v)
            | Attr::PacketType(v),
        ) => *v,
        _ => 0,
    }
}

/// Removes one trailing comma (`ds_chomp(ds, ',')`).
fn chomp(out: &mut String) {
    if out.ends_with(',') {
        out.pop();
    }
}

/// `ds_put_hex` of a 128-bit big-endian value: `0x` and no leading zeros, or `0`.
pub(crate) fn fmt_u128_hex(out: &mut String, v: u128) {
    if v == 0 {
        out.push('0');
    } else {
        let _ = write!(out, "{v:#x}");
    }
}

/// `vid=..,pcp=..[,cfi=0]` (`format_vlan_tci`), also used by `push_vlan`.
pub(crate) fn format_vlan_tci(out: &mut String, tci: u16, mask: u16, verbose: bool) {
    let vid = |t: u16| t & VLAN_VID_MASK;
    let pcp = |t: u16| t >> VLAN_PCP_SHIFT;
    if verbose || vid(tci) != 0 || vid(mask) != 0 {
        let _ = write!(out, "vid={}", vid(tci));
        if vid(mask) != VLAN_VID_MASK {
            let _ = write!(out, "/0x{:x}", vid(mask));
        }
        out.push(',');
    }
    if verbose || pcp(tci) != 0 || pcp(mask) != 0 {
        let _ = write!(out, "pcp={}", pcp(tci));
        if pcp(mask) != 7 {
            let _ = write!(out, "/0x{:x}", pcp(mask));
        }
        out.push(',');
    }
    if tci & VLAN_CFI == 0 {
        out.push_str("cfi=0,");
    }
    chomp(out);
}

/// The fields of one label stack entry.
fn lse_parts(lse: u32) -> (u32, u32, u32, u32) {
    (
        lse >> MPLS_LABEL_SHIFT,
        (lse & MPLS_TC_MASK) >> MPLS_TC_SHIFT,
        lse & MPLS_TTL_MASK,
        (lse & MPLS_BOS_MASK) >> MPLS_BOS_SHIFT,
    )
}

/// `label=L,tc=T,ttl=N,bos=B` (`format_mpls_lse`), also used by `push_mpls`.
pub(crate) fn format_mpls_lse(out: &mut String, lse: u32) {
    let (label, tc, ttl, bos) = lse_parts(lse);
    let _ = write!(out, "label={label},tc={tc},ttl={ttl},bos={bos}");
}

fn format_mpls_attr(out: &mut String, lses: &[u32], m: Option<&Attr>, is_exact: bool) {
    if lses.is_empty() {
        let _ = write!(out, "(bad key length 0)");
        return;
    }
    let masks = match m {
        Some(Attr::Mpls(masks)) if !is_exact => Some(masks),
        _ => None,
    };
    if let Some(masks) = masks
        && masks.len() != lses.len()
    {
        let _ = write!(
            out,
            "(key length {} != mask length {})",
            lses.len() * 4,
            masks.len() * 4
        );
        return;
    }
    for (i, lse) in lses.iter().enumerate() {
        match masks.and_then(|m| m.get(i)) {
            None => format_mpls_lse(out, *lse),
            Some(mask) => {
                let (l, t, n, b) = lse_parts(*lse);
                let (ml, mt, mn, mb) = lse_parts(*mask);
                let _ = write!(
                    out,
                    "label={l}/0x{ml:x},tc={t}/{mt:x},ttl={n}/0x{mn:x},bos={b}/{mb:x}"
                );
            }
        }
        out.push(',');
    }
    chomp(out);
}

/// Field printers sharing the omission rules.
struct Fields<'o> {
    out: &'o mut String,
    verbose: bool,
}

impl Fields<'_> {
    /// Decides whether to print a field: `Some(full)` to print, where `full` says the mask is
    /// exact (or absent).
    fn show<T: PartialEq + Default>(&self, mask: Option<T>, ones: T) -> Option<bool> {
        let empty = mask.as_ref().is_some_and(|m| *m == T::default());
        (self.verbose || !empty).then(|| mask.is_none_or(|m| m == ones))
    }

    fn mac(&mut self, name: &str, key: &[u8; 6], mask: Option<&[u8; 6]>) {
        if let Some(full) = self.show(mask.copied(), [0xff; 6]) {
            let _ = write!(self.out, "{name}=");
            fmt_mac(self.out, key);
            if !full && let Some(m) = mask {
                self.out.push('/');
                fmt_mac(self.out, m);
            }
            self.out.push(',');
        }
    }

    fn ipv4(&mut self, name: &str, key: u32, mask: Option<u32>) {
        if let Some(full) = self.show(mask, u32::MAX) {
            let _ = write!(self.out, "{name}=");
            fmt_ipv4(self.out, key);
            if !full && let Some(m) = mask {
                self.out.push('/');
                fmt_ipv4(self.out, m);
            }
            self.out.push(',');
        }
    }

    fn ipv6(&mut self, name: &str, key: &[u8; 16], mask: Option<&[u8; 16]>) {
        if let Some(full) = self.show(mask.copied(), [0xff; 16]) {
            let _ = write!(self.out, "{name}=");
            crate::text::fmt_ipv6(self.out, key);
            if !full && let Some(m) = mask {
                self.out.push('/');
                crate::text::fmt_ipv6(self.out, m);
            }
            self.out.push(',');
        }
    }

    fn label(&mut self, name: &str, key: u32, mask: Option<u32>) {
        let empty = mask == Some(0);
        if self.verbose || !empty {
            let _ = write!(self.out, "{name}=");
            fmt_hash_hex(self.out, u64::from(key));
            if let Some(m) = mask.filter(|m| m & IPV6_LABEL_MASK != IPV6_LABEL_MASK) {
                self.out.push('/');
                fmt_hash_hex(self.out, u64::from(m));
            }
            self.out.push(',');
        }
    }

    fn dec8(&mut self, name: &str, key: u8, mask: Option<u8>) {
        if let Some(full) = self.show(mask, u8::MAX) {
            let _ = write!(self.out, "{name}={key}");
            self.slash_hex(full, mask.map(u64::from));
        }
    }

    fn hex8(&mut self, name: &str, key: u8, mask: Option<u8>) {
        if let Some(full) = self.show(mask, u8::MAX) {
            let _ = write!(self.out, "{name}=");
            fmt_hash_hex(self.out, u64::from(key));
            self.slash_hex(full, mask.map(u64::from));
        }
    }

    fn dec16(&mut self, name: &str, key: u16, mask: Option<u16>) {
        if let Some(full) = self.show(mask, u16::MAX) {
            let _ = write!(self.out, "{name}={key}");
            self.slash_hex(full, mask.map(u64::from));
        }
    }

    fn hex16(&mut self, name: &str, key: u16, mask: Option<u16>) {
        if let Some(full) = self.show(mask, u16::MAX) {
            let _ = write!(self.out, "{name}=");
            fmt_hash_hex(self.out, u64::from(key));
            self.slash_hex(full, mask.map(u64::from));
        }
    }

    /// `/%#x` of a partial mask, then the field separator.
    fn slash_hex(&mut self, full: bool, mask: Option<u64>) {
        if !full && let Some(m) = mask {
            self.out.push('/');
            fmt_hash_hex(self.out, m);
        }
        self.out.push(',');
    }

    /// `frag=no|first|later`; fragment type is an enumeration, so a partial mask is an error
    /// (printed, as OVS does, even when not verbose).
    fn frag(&mut self, name: &str, key: u8, mask: Option<u8>) {
        let empty = mask == Some(0);
        let full = mask.is_none_or(|m| m == u8::MAX);
        if !empty && !full {
            let m = mask.unwrap_or(0);
            self.out
                .push_str("error: partial mask not supported for frag (");
            fmt_hash_hex(self.out, u64::from(m));
            self.out.push_str("),");
        } else if !empty {
            let text = match key {
                0 => "no",
                1 => "first",
                2 => "later",
                _ => "<error>",
            };
            let _ = write!(self.out, "{name}={text},");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::odp::attr::{Ipv4Attr, PortsAttr};

    fn plain() -> Ctx<'static> {
        Ctx {
            ports: None,
            verbose: false,
        }
    }

    #[test]
    fn fields_follow_the_omission_rules() {
        let key = Attr::Ipv4(Ipv4Attr {
            src: 0x0a00_0005,
            dst: 0,
            proto: 6,
            tos: 0,
            ttl: 64,
            frag: 0,
        });
        let mask = Attr::Ipv4(Ipv4Attr {
            src: 0xffff_ff00,
            dst: 0,
            proto: 0xff,
            tos: 0,
            ttl: 0x0f,
            frag: 0x0f,
        });
        let mut s = String::new();
        format_attr(&mut s, &key, Some(&mask), plain());
        assert_eq!(
            s,
            "ipv4(src=10.0.0.5/255.255.255.0,proto=6,ttl=64/0xf,error: partial mask not supported for frag (0xf))"
        );
        let mut s = String::new();
        format_attr(
            &mut s,
            &Attr::Tcp(PortsAttr { src: 8, dst: 9 }),
            None,
            plain(),
        );
        assert_eq!(s, "tcp(src=8,dst=9)");
    }

    #[test]
    fn vlan_and_inet_ntop() {
        let mut s = String::new();
        format_vlan_tci(&mut s, 0x100b | 0xe000, 0x1fff, true);
        assert_eq!(s, "vid=11,pcp=7/0x0");
        let mut s = String::new();
        format_vlan_tci(&mut s, 5, 0xffff, false);
        assert_eq!(s, "vid=5,pcp=0,cfi=0");
        let mut s = String::new();
        let mut a = [0u8; 16];
        a[12..].copy_from_slice(&[1, 2, 3, 4]);
        crate::text::fmt_ipv6(&mut s, &a);
        assert_eq!(s, "::1.2.3.4");
    }
}
