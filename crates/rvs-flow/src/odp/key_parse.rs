//! Reading key attributes from text: `parse_odp_key_mask_attr` and `odp_flow_from_string`.
//!
//! Every attribute yields a key value and a mask value of the same shape, as in Open vSwitch:
//! fields that are not written are zero in both (wildcarded), `field=value` is exact and
//! `field=value/mask` is masked. `recirc_id` is always exact, `vlan` always matches the CFI bit.
//!
//! # Invariants
//! * Accepts what OVS accepts for the supported attributes (same field names, same number
//!   syntax, trailing comma before `)` allowed, fields in any order, later fields overriding
//!   earlier ones) and rejects the rest with the byte position of the problem. One addition:
//!   `ct_zone()`, `ct_mark()` and `ct_label()`, which OVS prints for an all-zero mask, read as 0/0.
//! * Nesting deeper than [`MAX_NESTING`] is rejected, so no input can exhaust the stack.

use super::PortNames;
use super::attr::{
    Attr, EthAttr, IPV6_LABEL_MASK, IcmpAttr, Ipv4Attr, Ipv6Attr, KeyAttrKind, NdAttr, PortsAttr,
};
use super::flags::{ct_state_name, parse_flags, tcp_flag_name};
use super::scan::{Cursor, DELIMITERS};
use crate::flow::{MPLS_BOS_SHIFT, MPLS_LABEL_SHIFT, MPLS_TC_SHIFT, VLAN_CFI, VLAN_PCP_SHIFT};

/// Deepest attribute nesting accepted (OVS's `MAX_ODP_NESTED`).
pub(crate) const MAX_NESTING: usize = 32;

/// One parsed attribute: where it starts, its key and mask values, and (for `encap`) its
/// contents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ParsedAttr {
    pub(crate) pos: usize,
    pub(crate) key: Attr,
    pub(crate) mask: Attr,
    pub(crate) nested: Vec<ParsedAttr>,
}

impl ParsedAttr {
    pub(crate) fn kind(&self) -> KeyAttrKind {
        self.key.kind()
    }

    /// The `eth_type(0/0xffff)` that OVS appends for 802.3 frames: present in the mask only.
    pub(crate) fn is_mask_only(&self) -> bool {
        matches!(
            (&self.key, &self.mask),
            (Attr::EthType(0), Attr::EthType(0xffff))
        )
    }
}

/// Parse failure: the byte where it happened.
pub(crate) type Fail = usize;

/// Parses a whole key (attributes separated by delimiters, optional `ufid:` prefixes skipped).
pub(crate) fn parse_list(
    c: &mut Cursor<'_>,
    ports: Option<&dyn PortNames>,
) -> Result<Vec<ParsedAttr>, (usize, Fail)> {
    let mut attrs = Vec::new();
    loop {
        c.skip_set(DELIMITERS);
        if c.at_end() {
            return Ok(attrs);
        }
        let start = c.pos();
        if c.rest().starts_with("ufid:") {
            let (_, rest) = crate::ufid::Ufid::parse_prefix(c.rest()).ok_or((start, start))?;
            c.set_pos(c.text().len() - rest.len());
            c.eat_byte(b' ');
        }
        let start = c.pos();
        let a = parse_attr(c, ports, 1).map_err(|at| (start, at))?;
        attrs.push(a);
    }
}

/// Parses one attribute at the cursor (`depth` counts enclosing attributes, from 1).
pub(crate) fn parse_attr(
    c: &mut Cursor<'_>,
    ports: Option<&dyn PortNames>,
    depth: usize,
) -> Result<ParsedAttr, Fail> {
    let pos = c.pos();
    if depth >= MAX_NESTING {
        return Err(pos);
    }
    if c.eat("encap(") {
        let mut nested = Vec::new();
        loop {
            c.skip_set(DELIMITERS);
            match c.peek() {
                None => return Err(c.pos()),
                Some(b')') => break,
                Some(_) => nested.push(parse_attr(c, ports, depth + 1)?),
            }
        }
        c.eat_byte(b')');
        let (key, mask) = (Attr::Encap(Vec::new()), Attr::Encap(Vec::new()));
        return Ok(ParsedAttr {
            pos,
            key,
            mask,
            nested,
        });
    }
    let (key, mask) = parse_leaf(c, ports)?;
    Ok(ParsedAttr {
        pos,
        key,
        mask,
        nested: Vec::new(),
    })
}

/// A scalar value and its mask.
type Masked<T> = (T, T);

/// Parses a non-nested attribute, `name(` included.
fn parse_leaf(c: &mut Cursor<'_>, ports: Option<&dyn PortNames>) -> Result<(Attr, Attr), Fail> {
    let pos = c.pos();
    let single = |c: &mut Cursor<'_>,
                  f: fn(&mut Cursor<'_>) -> Option<Masked<u32>>,
                  wrap: fn(u32) -> Attr| {
        let (k, m) = f(c).ok_or(c.pos())?;
        close_single(c)?;
        Ok((wrap(k), wrap(m)))
    };
    if c.eat("skb_priority(") {
        return single(c, masked_u32, Attr::SkbPriority);
    }
    if c.eat("skb_mark(") {
        return single(c, masked_u32, Attr::SkbMark);
    }
    if c.eat("recirc_id(") {
        let k = c.scan_u32().ok_or(c.pos())?;
        close_single(c)?;
        return Ok((Attr::RecircId(k), Attr::RecircId(u32::MAX)));
    }
    if c.eat("dp_hash(") {
        return single(c, masked_u32, Attr::DpHash);
    }
    if c.eat("ct_state(") {
        let at = c.pos();
        let (k, m) = parse_flags(c, ct_state_name, b')', 0xff, true).map_err(|()| c.pos())?;
        if c.pos() == at {
            return Err(at);
        }
        close_single(c)?;
        return Ok((Attr::CtState(k), Attr::CtState(m)));
    }
    // OVS prints `ct_zone()`, `ct_mark()`, `ct_label()` for an all-zero mask when not verbose
    // (a masked `set` that writes nothing); read that back as value 0 under mask 0.
    let empty = |c: &mut Cursor<'_>| c.eat(")");
    if c.eat("ct_zone(") {
        if empty(c) {
            return Ok((Attr::CtZone(0), Attr::CtZone(0)));
        }
        let (k, m) = masked(c, Cursor::scan_u16, u16::MAX).ok_or(c.pos())?;
        close_single(c)?;
        return Ok((Attr::CtZone(k), Attr::CtZone(m)));
    }
    if c.eat("ct_mark(") {
        if empty(c) {
            return Ok((Attr::CtMark(0), Attr::CtMark(0)));
        }
        return single(c, masked_u32, Attr::CtMark);
    }
    if c.eat("ct_label(") {
        if empty(c) {
            return Ok((Attr::CtLabel(0), Attr::CtLabel(0)));
        }
        let (k, m) = scan_u128_masked(c).ok_or(c.pos())?;
        close_single(c)?;
        return Ok((Attr::CtLabel(k), Attr::CtLabel(m)));
    }
    for unsupported in ["ct_tuple4(", "ct_tuple6(", "tunnel("] {
        if c.rest().starts_with(unsupported) {
            return Err(pos);
        }
    }
    if c.eat("in_port(") {
        let (k, m) = scan_port(c, ports).ok_or(c.pos())?;
        close_single(c)?;
        return Ok((Attr::InPort(k), Attr::InPort(m)));
    }
    if c.eat("eth(") {
        let (mut k, mut m) = (EthAttr::default(), EthAttr::default());
        fields(
            c,
            |c, name| {
                let target = match name {
                    "src=" => (&mut k.src, &mut m.src),
                    "dst=" => (&mut k.dst, &mut m.dst),
                    _ => return None,
                };
                Some(field(c, target, masked_mac))
            },
            &["src=", "dst="],
        )?;
        return Ok((Attr::Eth(k), Attr::Eth(m)));
    }
    if c.eat("vlan(") {
        let (mut k, mut m) = (VLAN_CFI, VLAN_CFI);
        fields(
            c,
            |c, name| {
                let (bits, shift) = match name {
                    "vid=" => (12, 0),
                    "pcp=" => (3, VLAN_PCP_SHIFT),
                    "cfi=" => (1, 12),
                    _ => return None,
                };
                Some(bitfield16(c, &mut k, &mut m, bits, shift))
            },
            &["vid=", "pcp=", "cfi="],
        )?;
        return Ok((Attr::Vlan(k), Attr::Vlan(m)));
    }
    if c.eat("eth_type(") {
        let (k, m) = masked(c, Cursor::scan_u16, u16::MAX).ok_or(c.pos())?;
        close_single(c)?;
        return Ok((Attr::EthType(k), Attr::EthType(m)));
    }
    if c.eat("mpls(") {
        return parse_mpls(c);
    }
    if c.eat("ipv4(") {
        let (mut k, mut m) = (Ipv4Attr::default(), Ipv4Attr::default());
        fields(
            c,
            |c, name| {
                Some(match name {
                    "src=" => field(c, (&mut k.src, &mut m.src), masked_ipv4),
                    "dst=" => field(c, (&mut k.dst, &mut m.dst), masked_ipv4),
                    "proto=" => field(c, (&mut k.proto, &mut m.proto), masked_u8),
                    "tos=" => field(c, (&mut k.tos, &mut m.tos), masked_u8),
                    "ttl=" => field(c, (&mut k.ttl, &mut m.ttl), masked_u8),
                    "frag=" => field(c, (&mut k.frag, &mut m.frag), scan_frag),
                    _ => return None,
                })
            },
            &["src=", "dst=", "proto=", "tos=", "ttl=", "frag="],
        )?;
        return Ok((Attr::Ipv4(k), Attr::Ipv4(m)));
    }
    if c.eat("ipv6(") {
        let (mut k, mut m) = (Ipv6Attr::default(), Ipv6Attr::default());
        fields(
            c,
            |c, name| {
                Some(match name {
                    "src=" => field(c, (&mut k.src, &mut m.src), masked_ipv6),
                    "dst=" => field(c, (&mut k.dst, &mut m.dst), masked_ipv6),
                    "label=" => field(c, (&mut k.label, &mut m.label), masked_label),
                    "proto=" => field(c, (&mut k.proto, &mut m.proto), masked_u8),
                    "tclass=" => field(c, (&mut k.tclass, &mut m.tclass), masked_u8),
                    "hlimit=" => field(c, (&mut k.hlimit, &mut m.hlimit), masked_u8),
                    "frag=" => field(c, (&mut k.frag, &mut m.frag), scan_frag),
                    _ => return None,
                })
            },
            &[
                "src=", "dst=", "label=", "proto=", "tclass=", "hlimit=", "frag=",
            ],
        )?;
        return Ok((Attr::Ipv6(k), Attr::Ipv6(m)));
    }
    for (name, wrap) in [
        ("tcp(", Attr::Tcp as fn(PortsAttr) -> Attr),
        ("udp(", Attr::Udp),
        ("sctp(", Attr::Sctp),
    ] {
        if c.eat(name) {
            let (k, m) = parse_ports(c)?;
            return Ok((wrap(k), wrap(m)));
        }
    }
    if c.eat("tcp_flags(") {
        let at = c.pos();
        let (k, m) = parse_flags(c, tcp_flag_name, b')', 0x0fff, true).map_err(|()| c.pos())?;
        if c.pos() == at {
            return Err(at);
        }
        close_single(c)?;
        return Ok((Attr::TcpFlags(k as u16), Attr::TcpFlags(m as u16)));
    }
    for (name, wrap) in [
        ("icmp(", Attr::Icmp as fn(IcmpAttr) -> Attr),
        ("icmpv6(", Attr::Icmpv6),
    ] {
        if c.eat(name) {
            let (mut k, mut m) = (IcmpAttr::default(), IcmpAttr::default());
            fields(
                c,
                |c, name| {
                    Some(match name {
                        "type=" => field(c, (&mut k.kind, &mut m.kind), masked_u8),
                        "code=" => field(c, (&mut k.code, &mut m.code), masked_u8),
                        _ => return None,
                    })
                },
                &["type=", "code="],
            )?;
            return Ok((wrap(k), wrap(m)));
        }
    }
    if c.eat("arp(") {
        let (mut k, mut m) = (
            super::attr::ArpAttr::default(),
            super::attr::ArpAttr::default(),
        );
        fields(
            c,
            |c, name| {
                Some(match name {
                    "sip=" => field(c, (&mut k.sip, &mut m.sip), masked_ipv4),
                    "tip=" => field(c, (&mut k.tip, &mut m.tip), masked_ipv4),
                    "op=" => field(c, (&mut k.op, &mut m.op), |c| {
                        masked(c, Cursor::scan_u16, u16::MAX)
                    }),
                    "sha=" => field(c, (&mut k.sha, &mut m.sha), masked_mac),
                    "tha=" => field(c, (&mut k.tha, &mut m.tha), masked_mac),
                    _ => return None,
                })
            },
            &["sip=", "tip=", "op=", "sha=", "tha="],
        )?;
        return Ok((Attr::Arp(k), Attr::Arp(m)));
    }
    if c.eat("nd(") {
        let (mut k, mut m) = (NdAttr::default(), NdAttr::default());
        fields(
            c,
            |c, name| {
                Some(match name {
                    "target=" => field(c, (&mut k.target, &mut m.target), masked_ipv6),
                    "sll=" => field(c, (&mut k.sll, &mut m.sll), masked_mac),
                    "tll=" => field(c, (&mut k.tll, &mut m.tll), masked_mac),
                    _ => return None,
                })
            },
            &["target=", "sll=", "tll="],
        )?;
        return Ok((Attr::Nd(k), Attr::Nd(m)));
    }
    if c.eat("packet_type(") {
        let (mut ns, mut ns_m, mut id, mut id_m) = (0u16, 0u16, 0u16, 0u16);
        let scan16 = |c: &mut Cursor<'_>| masked(c, Cursor::scan_u16, u16::MAX);
        fields(
            c,
            |c, name| {
                Some(match name {
                    "ns=" => field(c, (&mut ns, &mut ns_m), scan16),
                    "id=" => field(c, (&mut id, &mut id_m), scan16),
                    _ => return None,
                })
            },
            &["ns=", "id="],
        )?;
        let join = |hi: u16, lo: u16| (u32::from(hi) << 16) | u32::from(lo);
        return Ok((
            Attr::PacketType(join(ns, id)),
            Attr::PacketType(join(ns_m, id_m)),
        ));
    }
    Err(pos)
}

/// `)` closing a single-value attribute.
fn close_single(c: &mut Cursor<'_>) -> Result<(), Fail> {
    if c.eat_byte(b')') {
        Ok(())
    } else {
        Err(c.pos())
    }
}

/// The `name=value,...)` loop of a multi-field attribute (`SCAN_BEGIN` .. `SCAN_FINISH`).
///
/// `on_field` is called with the matched name and scans the value; it returns `None` for a name it
/// does not know (never happens: only `names` are offered). A trailing comma before `)` is fine.
fn fields<'a>(
    c: &mut Cursor<'a>,
    mut on_field: impl FnMut(&mut Cursor<'a>, &str) -> Option<Result<(), Fail>>,
    names: &[&str],
) -> Result<(), Fail> {
    loop {
        let matched = names.iter().find(|n| c.rest().starts_with(**n)).copied();
        let Some(name) = matched else {
            // No field here: this must be the closing parenthesis.
            return close_single(c);
        };
        c.eat(name);
        on_field(c, name).unwrap_or(Err(c.pos()))?;
        match c.peek() {
            Some(b',') => c.set_pos(c.pos() + 1),
            Some(b')') => return close_single(c),
            _ => return Err(c.pos()),
        }
    }
}

/// Scans a `value[/mask]` field into a key/mask pair of places.
fn field<'a, T>(
    c: &mut Cursor<'a>,
    target: (&mut T, &mut T),
    scan: impl FnOnce(&mut Cursor<'a>) -> Option<Masked<T>>,
) -> Result<(), Fail> {
    let (k, m) = scan(c).ok_or(c.pos())?;
    *target.0 = k;
    *target.1 = m;
    Ok(())
}

/// `scan` for the value, then `/` and `scan` for the mask if present, else `full`.
fn masked<'a, T>(
    c: &mut Cursor<'a>,
    scan: impl Fn(&mut Cursor<'a>) -> Option<T>,
    full: T,
) -> Option<Masked<T>> {
    let k = scan(c)?;
    let m = c.attempt(|c| if c.eat_byte(b'/') { scan(c) } else { None });
    Some((k, m.unwrap_or(full)))
}

fn masked_u8(c: &mut Cursor<'_>) -> Option<Masked<u8>> {
    masked(c, Cursor::scan_u8, u8::MAX)
}

fn masked_u32(c: &mut Cursor<'_>) -> Option<Masked<u32>> {
    masked(c, Cursor::scan_u32, u32::MAX)
}

fn masked_mac(c: &mut Cursor<'_>) -> Option<Masked<[u8; 6]>> {
    masked(c, Cursor::scan_eth, [0xff; 6])
}

fn masked_ipv4(c: &mut Cursor<'_>) -> Option<Masked<u32>> {
    masked(c, Cursor::scan_ipv4, u32::MAX)
}

fn masked_ipv6(c: &mut Cursor<'_>) -> Option<Masked<[u8; 16]>> {
    masked(c, Cursor::scan_ipv6, [0xff; 16])
}

/// A 20-bit flow label; a mask with more bits is not taken (the `/` then fails the attribute).
fn masked_label(c: &mut Cursor<'_>) -> Option<Masked<u32>> {
    let fits = |c: &mut Cursor<'_>| c.scan_u32().filter(|v| v & !IPV6_LABEL_MASK == 0);
    let k = c.attempt(fits)?;
    let m = c.attempt(|c| if c.eat_byte(b'/') { fits(c) } else { None });
    Some((k, m.unwrap_or(IPV6_LABEL_MASK)))
}

/// `no`, `first` or `later` (case-insensitive, as `%7[a-z]` then `strcasecmp`); always exact.
fn scan_frag(c: &mut Cursor<'_>) -> Option<Masked<u8>> {
    c.attempt(|c| {
        let word_len = c
            .rest()
            .bytes()
            .take(7)
            .take_while(u8::is_ascii_lowercase)
            .count();
        let word = c.rest().get(..word_len)?;
        let v = match word {
            "no" => 0,
            "first" => 1,
            "later" => 2,
            _ => return None,
        };
        c.set_pos(c.pos() + word_len);
        Some((v, u8::MAX))
    })
}

/// A port number (with optional mask) or a port name running up to `)`.
fn scan_port(c: &mut Cursor<'_>, ports: Option<&dyn PortNames>) -> Option<Masked<u32>> {
    if let Some(r) = masked_u32(c) {
        return Some(r);
    }
    let ports = ports?;
    c.attempt(|c| {
        let name = c.take_until(b")");
        ports.port_number(name).map(|n| (n, u32::MAX))
    })
}

/// One bit field of a 16-bit value (`scan_be16_bf`): VLAN VID, PCP or CFI.
fn bitfield16(
    c: &mut Cursor<'_>,
    key: &mut u16,
    mask: &mut u16,
    bits: u32,
    shift: u16,
) -> Result<(), Fail> {
    let at = c.pos();
    let field_mask = ((1u16 << bits) - 1) << shift;
    let v = c.scan_u16().ok_or(at)?;
    if u32::from(v) >> bits != 0 {
        return Err(at);
    }
    *key = (*key & !field_mask) | (v << shift);
    let m = c.attempt(|c| if c.eat_byte(b'/') { c.scan_u16() } else { None });
    match m {
        Some(m) if u32::from(m) >> bits != 0 => return Err(at),
        Some(m) => *mask = (*mask & !field_mask) | (m << shift),
        None => *mask |= field_mask,
    }
    Ok(())
}

/// One bit field of an MPLS label stack entry (`scan_be32_bf`).
fn bitfield32(
    c: &mut Cursor<'_>,
    key: &mut u32,
    mask: &mut u32,
    bits: u32,
    shift: u32,
) -> Result<(), Fail> {
    let at = c.pos();
    let field_mask = ((1u64 << bits) - 1) as u32;
    let v = c.scan_u32().ok_or(at)?;
    if u64::from(v) >> bits != 0 {
        return Err(at);
    }
    *key = (*key & !(field_mask << shift)) | (v << shift);
    let m = c.attempt(|c| if c.eat_byte(b'/') { c.scan_u32() } else { None });
    match m {
        Some(m) if u64::from(m) >> bits != 0 => return Err(at),
        Some(m) => *mask = (*mask & !(field_mask << shift)) | (m << shift),
        None => *mask |= field_mask << shift,
    }
    Ok(())
}

/// `mpls(label=..,tc=..,ttl=..,bos=..[,label=..])`: up to three entries, a repeated field name
/// starting the next entry.
fn parse_mpls(c: &mut Cursor<'_>) -> Result<(Attr, Attr), Fail> {
    const MAX_LABELS: usize = 3;
    const NAMES: [(&str, u32, u32); 4] = [
        ("label=", 20, MPLS_LABEL_SHIFT),
        ("tc=", 3, MPLS_TC_SHIFT),
        ("ttl=", 8, 0),
        ("bos=", 1, MPLS_BOS_SHIFT),
    ];
    let mut keys = [0u32; MAX_LABELS];
    let mut masks = [0u32; MAX_LABELS];
    let mut idx = 0usize;
    let mut seen = 0u32;
    loop {
        let found = NAMES
            .iter()
            .enumerate()
            .find(|(_, (n, _, _))| c.rest().starts_with(*n));
        let Some((field_no, (name, bits, shift))) = found else {
            close_single(c)?;
            break;
        };
        if seen & (1 << field_no) != 0 {
            seen = 0;
            idx += 1;
            if idx == MAX_LABELS {
                return Err(c.pos());
            }
        }
        c.eat(name);
        let (Some(k), Some(m)) = (keys.get_mut(idx), masks.get_mut(idx)) else {
            return Err(c.pos());
        };
        bitfield32(c, k, m, *bits, *shift)?;
        seen |= 1 << field_no;
        match c.peek() {
            Some(b',') => c.set_pos(c.pos() + 1),
            Some(b')') => {
                c.set_pos(c.pos() + 1);
                break;
            }
            _ => return Err(c.pos()),
        }
    }
    let n = idx + 1;
    Ok((
        Attr::Mpls(keys[..n].to_vec()),
        Attr::Mpls(masks[..n].to_vec()),
    ))
}

/// `src=..,dst=..` of TCP, UDP or SCTP.
fn parse_ports(c: &mut Cursor<'_>) -> Result<(PortsAttr, PortsAttr), Fail> {
    let (mut k, mut m) = (PortsAttr::default(), PortsAttr::default());
    let scan = |c: &mut Cursor<'_>| masked(c, Cursor::scan_u16, u16::MAX);
    fields(
        c,
        |c, name| {
            Some(match name {
                "src=" => field(c, (&mut k.src, &mut m.src), scan),
                "dst=" => field(c, (&mut k.dst, &mut m.dst), scan),
                _ => return None,
            })
        },
        &["src=", "dst="],
    )?;
    Ok((k, m))
}

/// A 128-bit value for `ct_label` (`scan_u128` / `parse_int_string`), with optional mask.
pub(crate) fn scan_u128_masked(c: &mut Cursor<'_>) -> Option<Masked<u128>> {
    let k = c.attempt(scan_u128)?;
    let m = c.attempt(|c| if c.eat_byte(b'/') { scan_u128(c) } else { None });
    Some((k, m.unwrap_or(u128::MAX)))
}

/// `0x` and up to 32 significant hex digits (white space allowed between them), or a number
/// `strtoull` accepts.
fn scan_u128(c: &mut Cursor<'_>) -> Option<u128> {
    if c.eat("0x") || c.eat("0X") {
        let mut v: u128 = 0;
        let mut significant = 0usize;
        loop {
            c.skip_set(b" \t\r\n");
            let Some(d) = c.peek().and_then(|b| char::from(b).to_digit(16)) else {
                break;
            };
            if d != 0 || significant > 0 {
                significant += 1;
                if significant > 32 {
                    return None;
                }
            }
            v = (v << 4) | u128::from(d);
            c.set_pos(c.pos() + 1);
        }
        return Some(v);
    }
    strtoull(c).map(u128::from)
}

/// C's `strtoull(s, &end, 0)`: fails on no digits or overflow.
fn strtoull(c: &mut Cursor<'_>) -> Option<u64> {
    c.attempt(|c| {
        c.skip_spaces();
        let negative = c.peek() == Some(b'-');
        if matches!(c.peek(), Some(b'-' | b'+')) {
            c.set_pos(c.pos() + 1);
        }
        let base = if c.peek() == Some(b'0')
            && matches!(c.peek_at(1), Some(b'x' | b'X'))
            && c.peek_at(2).is_some_and(|b| b.is_ascii_hexdigit())
        {
            c.set_pos(c.pos() + 2);
            16
        } else if c.peek() == Some(b'0') {
            8
        } else {
            10
        };
        let mut v: u64 = 0;
        let mut digits = 0;
        while let Some(d) = c.peek().and_then(|b| char::from(b).to_digit(base)) {
            v = v.checked_mul(u64::from(base))?.checked_add(u64::from(d))?;
            digits += 1;
            c.set_pos(c.pos() + 1);
        }
        (digits > 0).then_some(if negative { v.wrapping_neg() } else { v })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(s: &str) -> Result<(Attr, Attr), Fail> {
        let mut c = Cursor::new(s, 0);
        let r = parse_leaf(&mut c, None)?;
        if c.at_end() { Ok(r) } else { Err(c.pos()) }
    }

    #[test]
    fn fields_and_masks() {
        let (k, m) = one("ipv4(src=10.0.0.5/255.255.255.0,proto=6,frag=no,)").expect("valid");
        assert_eq!(
            k,
            Attr::Ipv4(Ipv4Attr {
                src: 0x0a00_0005,
                proto: 6,
                ..Ipv4Attr::default()
            })
        );
        assert_eq!(
            m,
            Attr::Ipv4(Ipv4Attr {
                src: 0xffff_ff00,
                proto: 0xff,
                frag: 0xff,
                ..Ipv4Attr::default()
            })
        );
        assert_eq!(
            one("recirc_id(0x10)"),
            Ok((Attr::RecircId(16), Attr::RecircId(u32::MAX)))
        );
        assert_eq!(one("recirc_id(1/0)"), Err(11));
        assert_eq!(one("eth()").map(|r| r.1), Ok(Attr::Eth(EthAttr::default())));
        assert_eq!(one("eth(,)"), Err(4));
        assert_eq!(one("ipv4(frag=maybe)"), Err(10));
        assert_eq!(one("ipv4(src=1.2.3.4/)"), Err(16));
    }

    #[test]
    fn vlan_and_mpls() {
        assert_eq!(
            one("vlan(vid=11,pcp=7/0x0)"),
            Ok((Attr::Vlan(0xf00b), Attr::Vlan(0x1fff)))
        );
        assert_eq!(
            one("vlan(vid=5,cfi=0)"),
            Ok((Attr::Vlan(5), Attr::Vlan(0x1fff)))
        );
        assert_eq!(one("vlan(vid=4096)"), Err(9));
        let (k, m) = one("mpls(label=100,tc=3,ttl=64,bos=1)").expect("valid");
        assert_eq!(k, Attr::Mpls(vec![(100 << 12) | (3 << 9) | (1 << 8) | 64]));
        assert_eq!(m, Attr::Mpls(vec![u32::MAX]));
        let (k, _) = one("mpls(label=1,label=2)").expect("valid");
        assert_eq!(k, Attr::Mpls(vec![1 << 12, 2 << 12]));
        assert!(one("mpls(ttl=1,ttl=2,ttl=3,ttl=4)").is_err());
    }

    #[test]
    fn labels_flags_and_ports() {
        assert_eq!(
            one("ct_label(0x1/0xff)"),
            Ok((Attr::CtLabel(1), Attr::CtLabel(0xff)))
        );
        assert_eq!(
            one("ct_label(0x 1 0)").map(|r| r.0),
            Ok(Attr::CtLabel(0x10))
        );
        assert_eq!(one("ct_label(5)").map(|r| r.0), Ok(Attr::CtLabel(5)));
        assert!(one(&format!("ct_label(0x1{})", "0".repeat(32))).is_err());
        assert_eq!(
            one("ct_state(-new+trk)"),
            Ok((Attr::CtState(0x20), Attr::CtState(0x21)))
        );
        assert_eq!(one("ct_state()"), Err(9));
        assert_eq!(
            one("tcp_flags(syn|ack)"),
            Ok((Attr::TcpFlags(0x12), Attr::TcpFlags(0xffff)))
        );
        let ports: &[(u32, &str)] = &[(1, "p1")];
        let mut c = Cursor::new("in_port(p1)", 0);
        assert_eq!(
            parse_leaf(&mut c, Some(&ports)),
            Ok((Attr::InPort(1), Attr::InPort(u32::MAX)))
        );
        assert_eq!(one("in_port(p1)"), Err(8));
        assert_eq!(one("ipv6(label=0x100000)"), Err(11));
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = format!("{}{}", "encap(".repeat(40), ")".repeat(40));
        let mut c = Cursor::new(&deep, 0);
        assert!(parse_list(&mut c, None).is_err());
        let ok = format!("{}{}", "encap(".repeat(5), ")".repeat(5));
        let mut c = Cursor::new(&ok, 0);
        assert_eq!(parse_list(&mut c, None).map(|l| l.len()), Ok(1));
    }
}
