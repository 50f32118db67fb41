//! Reading datapath actions (`odp_actions_from_string` / `parse_odp_action`).
//!
//! # Invariants
//! * Accepts what OVS 3.1 accepts for the supported actions, plus what OVS prints but cannot read
//!   back itself: `recirc(0x..)`, `hash(l4(..))`, `push_mpls(..)`, `pop_mpls(..)`, slow-path reasons
//!   separated by commas, `drop` as an empty nested list, and port names inside nested lists.
//! * At the top level each action must be followed by a delimiter or the end; nested lists
//!   (`clone`, `sample`) end at `)`. Nesting is bounded, so no input exhausts the stack.
//! * Errors carry the position of the action that could not be read.

use super::super::PortNames;
use super::super::attr::{Attr, KeyAttrKind};
use super::super::decode::put_attr;
use super::super::key_parse::{MAX_NESTING, parse_attr, scan_u128_masked};
use super::super::scan::{Cursor, DELIMITERS};
use super::super::syntax_error;
use super::userspace::parse_userspace;
use super::{CtAction, HashAlg, OdpAction};
use crate::flow::{
    Flow, MPLS_BOS_SHIFT, MPLS_LABEL_SHIFT, MPLS_TC_SHIFT, VLAN_CFI, VLAN_PCP_SHIFT, Wildcards,
};
use crate::text::ParseError;

/// Parses datapath actions (`drop`, or actions separated by commas).
pub fn parse_actions(
    text: &str,
    port_names: Option<&dyn PortNames>,
) -> Result<Vec<OdpAction>, ParseError> {
    parse_actions_at(text, 0, port_names)
}

/// Parses the actions in `text[start..]`, reporting positions in `text`.
pub(crate) fn parse_actions_at(
    text: &str,
    start: usize,
    port_names: Option<&dyn PortNames>,
) -> Result<Vec<OdpAction>, ParseError> {
    let rest = text.get(start..).unwrap_or("");
    if rest.eq_ignore_ascii_case("drop") {
        return Ok(Vec::new());
    }
    let p = Parser { ports: port_names };
    let mut c = Cursor::new(text, start);
    let mut actions = Vec::new();
    loop {
        c.skip_set(DELIMITERS);
        if c.at_end() {
            return Ok(actions);
        }
        let at = c.pos();
        let a = p
            .action(&mut c, 1)
            .ok_or_else(|| syntax_error(text, at, at))?;
        if !c.at_end() && !c.peek().is_some_and(|b| DELIMITERS.contains(&b)) {
            return Err(syntax_error(text, at, c.pos()));
        }
        actions.push(a);
    }
}

struct Parser<'p> {
    ports: Option<&'p dyn PortNames>,
}

impl Parser<'_> {
    /// A list ending at `)` (not consumed); `drop` stands for the empty list, as printed.
    fn list(&self, c: &mut Cursor<'_>, depth: usize) -> Option<Vec<OdpAction>> {
        let mut actions = Vec::new();
        loop {
            c.skip_set(DELIMITERS);
            if actions.is_empty() && c.rest().starts_with("drop)") {
                c.eat("drop");
                return Some(actions);
            }
            if c.peek() == Some(b')') {
                return Some(actions);
            }
            actions.push(self.action(c, depth + 1)?);
        }
    }

    /// One action; `None` on any error (the caller reports the position).
    fn action(&self, c: &mut Cursor<'_>, depth: usize) -> Option<OdpAction> {
        if depth >= MAX_NESTING {
            return None;
        }
        if let Some(port) = c.scan_u32() {
            return Some(OdpAction::Output(port));
        }
        if let Some(len) = c.attempt(|c| enclosed(c, "trunc(", Cursor::scan_u32)) {
            return Some(OdpAction::Trunc(len));
        }
        if let Some(ports) = self.ports {
            let named = c.attempt(|c| {
                let name = c.take_until(b", \t\r\n)");
                ports.port_number(name)
            });
            if let Some(port) = named {
                return Some(OdpAction::Output(port));
            }
        }
        if let Some(id) = c.attempt(|c| enclosed(c, "recirc(", Cursor::scan_u32)) {
            return Some(OdpAction::Recirc(id));
        }
        if c.rest().starts_with("userspace(") {
            return parse_userspace(c, self.ports).map(OdpAction::Userspace);
        }
        if c.eat("set(") {
            return self.set(c, depth);
        }
        if let Some(a) = c.attempt(parse_push_vlan) {
            return Some(a);
        }
        if c.eat("pop_vlan") {
            return Some(OdpAction::PopVlan);
        }
        if let Some(id) = c.attempt(|c| enclosed(c, "meter(", Cursor::scan_u32)) {
            return Some(OdpAction::Meter(id));
        }
        if let Some(a) = c.attempt(|c| self.sample(c, depth)) {
            return Some(a);
        }
        if c.eat("clone(") {
            let inner = self.list(c, depth)?;
            c.eat_byte(b')');
            return Some(OdpAction::Clone(inner));
        }
        if c.eat("ct_clear") {
            return Some(OdpAction::CtClear);
        }
        if c.eat("ct") {
            return parse_ct(c).map(OdpAction::Ct);
        }
        if c.eat("hash(") {
            return parse_hash(c);
        }
        if c.eat("push_mpls(") {
            return parse_push_mpls(c);
        }
        if c.eat("pop_mpls(eth_type=") {
            let ethertype = c.scan_u16()?;
            return c.eat_byte(b')').then_some(OdpAction::PopMpls { ethertype });
        }
        None
    }

    /// `set(attr)`: a plain set if the attribute is fully specified, else a masked set.
    fn set(&self, c: &mut Cursor<'_>, depth: usize) -> Option<OdpAction> {
        let parsed = parse_attr(c, None, depth + 1).ok()?;
        if !c.eat_byte(b')') {
            return None;
        }
        let kind = parsed.kind();
        if kind == KeyAttrKind::Encap {
            return None;
        }
        match (&parsed.key, &parsed.mask) {
            // rvs's flow form holds one label stack entry and an 8-bit ARP opcode.
            (Attr::Mpls(l), _) if l.len() != 1 => return None,
            (Attr::Arp(k), Attr::Arp(m)) if k.op > 0xff || (m.op != 0 && m.op != 0xffff) => {
                return None;
            }
            _ => {}
        }
        let mut value = Flow::default();
        put_attr(&parsed.key, &mut value, false).ok()?;
        if all_ones(&parsed.mask) {
            return Some(OdpAction::Set {
                kind,
                value: Box::new(value),
                mask: None,
            });
        }
        let mut mask = Flow::default();
        put_attr(&parsed.mask, &mut mask, true).ok()?;
        Some(OdpAction::Set {
            kind,
            value: Box::new(value),
            mask: Some(Box::new(Wildcards { masks: mask })),
        })
    }

    /// `sample(sample=P%,actions(...))`.
    fn sample(&self, c: &mut Cursor<'_>, depth: usize) -> Option<OdpAction> {
        if !c.eat("sample(sample=") {
            return None;
        }
        let percentage = scan_float(c)?;
        if !c.eat("%,actions(") || !(0.0..=100.0).contains(&percentage) {
            return None;
        }
        let p = (f64::from(u32::MAX) * (percentage / 100.0) + 0.5).floor();
        let probability = if p <= 0.0 {
            0
        } else if p >= f64::from(u32::MAX) {
            u32::MAX
        } else {
            p as u32
        };
        let actions = self.list(c, depth)?;
        c.eat("))").then_some(OdpAction::Sample {
            probability,
            actions,
        })
    }
}

/// `lit` + value + `)`.
fn enclosed<'a, T>(
    c: &mut Cursor<'a>,
    lit: &str,
    scan: impl FnOnce(&mut Cursor<'a>) -> Option<T>,
) -> Option<T> {
    if !c.eat(lit) {
        return None;
    }
    let v = scan(c)?;
    c.eat_byte(b')').then_some(v)
}

/// Whether a `set` mask covers every byte of its attribute (then it is a plain set). IPv6 and ARP
/// masks never do: the flow label mask is 20 bits wide and the ARP key has padding.
pub(crate) fn all_ones(mask: &Attr) -> bool {
    match mask {
        Attr::Ipv6(_) | Attr::Arp(_) | Attr::Encap(_) => false,
        Attr::TcpFlags(m) => *m == u16::MAX,
        Attr::Mpls(l) => l.iter().all(|v| *v == u32::MAX),
        other => *other == Attr::filled(other.kind(), true),
    }
}

/// The four `push_vlan` forms of OVS: `[tpid=T,]vid=V,pcp=P[,cfi=C]`.
fn parse_push_vlan(c: &mut Cursor<'_>) -> Option<OdpAction> {
    if !c.eat("push_vlan(") {
        return None;
    }
    let int = |c: &mut Cursor<'_>| c.scan_int(0).map(|v| v as i32);
    let tpid = if c.eat("tpid=") {
        let t = int(c)?;
        c.eat_byte(b',').then_some(t)?
    } else {
        0x8100
    };
    c.eat("vid=").then_some(())?;
    let vid = int(c)?;
    c.eat(",pcp=").then_some(())?;
    let pcp = int(c)?;
    let cfi = if c.eat(",cfi=") { int(c)? } else { 1 };
    if !c.eat_byte(b')') || vid & !0xfff != 0 || pcp & !7 != 0 {
        return None;
    }
    let tci = (vid as u16) | ((pcp as u16) << VLAN_PCP_SHIFT) | if cfi != 0 { VLAN_CFI } else { 0 };
    Some(OdpAction::PushVlan {
        tpid: tpid as u16,
        tci,
    })
}

/// `hash(l4(N))`, `hash(sym_l4(N))`.
fn parse_hash(c: &mut Cursor<'_>) -> Option<OdpAction> {
    let alg = if c.eat("l4(") {
        HashAlg::L4
    } else if c.eat("sym_l4(") {
        HashAlg::SymL4
    } else if c.eat("Unknown hash algorithm(") {
        HashAlg::Other(c.scan_u32()?)
    } else {
        return None;
    };
    let basis = match alg {
        HashAlg::Other(_) => 0,
        _ => c.scan_u32()?,
    };
    c.eat("))").then_some(OdpAction::Hash { alg, basis })
}

/// `push_mpls(label=L,tc=T,ttl=N,bos=B,eth_type=0x..)`.
fn parse_push_mpls(c: &mut Cursor<'_>) -> Option<OdpAction> {
    let field = |c: &mut Cursor<'_>, lit: &str, bits: u32| {
        c.eat(lit)
            .then(|| c.scan_u32())
            .flatten()
            .filter(|v| u64::from(*v) >> bits == 0)
    };
    let label = field(c, "label=", 20)?;
    let tc = field(c, ",tc=", 3)?;
    let ttl = field(c, ",ttl=", 8)?;
    let bos = field(c, ",bos=", 1)?;
    let ethertype = field(c, ",eth_type=", 16)? as u16;
    let lse = (label << MPLS_LABEL_SHIFT) | (tc << MPLS_TC_SHIFT) | (bos << MPLS_BOS_SHIFT) | ttl;
    c.eat_byte(b')')
        .then_some(OdpAction::PushMpls { lse, ethertype })
}

/// `ct` or `ct(...)` after the `ct` (`parse_conntrack_action`, NAT not supported).
fn parse_ct(c: &mut Cursor<'_>) -> Option<CtAction> {
    let mut ct = CtAction::default();
    if !c.eat_byte(b'(') {
        return Some(ct);
    }
    // The option list runs to the first ')' (OVS uses strchr).
    let end = c.pos() + c.rest().find(')')?;
    while c.pos() != end {
        c.skip_set(DELIMITERS);
        if c.eat("commit") {
            ct.commit = true;
        } else if c.eat("force_commit") {
            ct.force_commit = true;
        } else if c.eat("zone=") {
            ct.zone = c.scan_int(10)? as u16;
        } else if c.eat("mark=") {
            let v = c.scan_int(16)? as u32;
            let m = c.attempt(|c| {
                if c.eat_byte(b'/') {
                    c.scan_int(16)
                } else {
                    None
                }
            });
            let m = m.map_or(u32::MAX, |m| m as u32);
            ct.mark = (m != 0).then_some((v, m));
        } else if c.eat("label=") {
            let (v, m) = scan_u128_masked(c)?;
            ct.label = (m != 0).then_some((v, m));
        } else if c.eat("helper=") {
            let name = c.take_until(b", \t\r\n)");
            if name.is_empty() || name.len() > 15 {
                return None;
            }
            ct.helper = Some(name.to_string());
        } else if c.eat("timeout=") {
            let name = c.take_until(b", \t\r\n)");
            if name.is_empty() || name.len() > 31 {
                return None;
            }
            ct.timeout = Some(name.to_string());
        } else {
            return None;
        }
        if c.pos() > end {
            return None;
        }
    }
    c.eat_byte(b')');
    (!(ct.commit && ct.force_commit)).then_some(ct)
}

/// A decimal floating-point number (`%lf`).
fn scan_float(c: &mut Cursor<'_>) -> Option<f64> {
    c.attempt(|c| {
        c.skip_spaces();
        let rest = c.rest();
        let b = rest.as_bytes();
        let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
        let digits = |i: &mut usize| {
            let s = *i;
            while b.get(*i).is_some_and(u8::is_ascii_digit) {
                *i += 1;
            }
            *i - s
        };
        let mut n = digits(&mut i);
        if b.get(i) == Some(&b'.') {
            i += 1;
            n += digits(&mut i);
        }
        if n == 0 {
            return None;
        }
        if matches!(b.get(i), Some(b'e' | b'E')) {
            let mut j = i + 1 + usize::from(matches!(b.get(i + 1), Some(b'+' | b'-')));
            if digits(&mut j) > 0 {
                i = j;
            }
        }
        let v = rest.get(..i)?.parse::<f64>().ok()?;
        c.set_pos(c.pos() + i);
        Some(v)
    })
}
