//! Datapath flow text → [`Flow`] the way `netdev-dummy/receive` reads it: OVS's
//! `odp_flow_from_string` without a mask buffer, then `odp_flow_key_to_flow`, which accepts keys
//! with attributes missing or extra (any fitness but "error") and ignores what it does not expect.
//!
//! # Invariants
//! * Never panics. The key itself is read by [`crate::odp::parse_dumped_key`] (which already
//!   treats missing attributes as zero); the differences in acceptance are bridged by rewriting
//!   the text and retrying, a bounded number of times: unexpected attributes are dropped, an MPLS
//!   entry without bottom-of-stack is read with it and the bit cleared afterwards, VLAN levels
//!   beyond `ovs-vswitchd`'s default limit of one are cut off, and a VLAN Ethertype without
//!   `vlan()`/`encap()` gives a flow with the tag's TPID and Ethertype 0, as in OVS.
//! * Errors are OVS's texts: `syntax error at <attribute and the rest>`, or the key error followed
//!   by `; the flow key in error is: <the key text as given>` (OVS re-prints the key instead; the
//!   two agree for keys written the way OVS prints them).

use crate::flow::{
    ETH_TYPE_NONE, ETH_TYPE_VLAN_8021AD, ETH_TYPE_VLAN_8021Q, Flow, MPLS_BOS_MASK, VLAN_CFI,
    VlanHeader,
};
use crate::odp;

/// Separators OVS skips between flow key attributes.
const DELIMITERS: &[char] = &[',', ' ', '\t', '\r', '\n'];
/// How many unexpected attributes (plus one BoS fix) are dropped before giving up.
const MAX_RETRIES: usize = 64;
/// Our key parser's message for an attribute OVS would ignore.
const UNEXPECTED: &str = "present but not expected: ";
/// Our key parser's message for an MPLS entry without bottom-of-stack.
const NOT_BOTTOM_OF_STACK: &str = "MPLS label stack entry is not bottom of stack";
/// Our key parser's message for a VLAN Ethertype without both `vlan()` and `encap()`.
const MISSING_VLAN: &str = "expected but not present: vlan,encap";
/// An Ethertype standing in for one our key parser would read differently from OVS.
const PLACEHOLDER_ETHERTYPE: u16 = 0xffff;
/// `in_port` of a flow without one (OVS's `ODPP_NONE`).
const ODPP_NONE: u32 = u32::MAX;

/// A datapath flow string → the flow OVS's `odp_flow_from_string` + `odp_flow_key_to_flow`
/// would give (with `ovs-vswitchd`'s default VLAN limit of 1), or OVS's reply text.
pub(super) fn flow_from_str(text: &str) -> Result<Flow, String> {
    let body = skip_ufid(text)?;
    if let Some(attr) = masked_attr(body) {
        // Without a mask buffer OVS refuses `value/mask`.
        return Err(format!("syntax error at {attr}"));
    }
    if body.trim_matches(DELIMITERS).is_empty() {
        // No attribute at all: an 802.3 frame with zero addresses.
        return Ok(Flow {
            in_port: ODPP_NONE,
            dl_type: ETH_TYPE_NONE,
            ..Flow::default()
        });
    }
    let key_error = |message: &str| {
        format!(
            "{message}; the flow key in error is: {}",
            body.trim_start_matches(DELIMITERS)
        )
    };
    let (mut text, inner_tpid) = match cut_inner_vlan(body) {
        Some((cut, tpid)) => (cut, Some(tpid)),
        None => (body.to_string(), None),
    };
    let mut clear_bos = false;
    let mut truncated_tag = None;
    for _ in 0..MAX_RETRIES {
        let e = match odp::parse_dumped_key(&text, None) {
            Ok((mut flow, _mask)) => {
                if clear_bos {
                    flow.mpls_lse &= !MPLS_BOS_MASK;
                }
                if let Some(tpid) = inner_tpid {
                    flow.dl_type = tpid;
                }
                if let Some(tag) = truncated_tag {
                    flow.vlans[0] = tag;
                    flow.dl_type = 0;
                }
                return Ok(apply_vlan_limit(flow));
            }
            Err(e) => e,
        };
        let message = e.message();
        if message.starts_with("syntax error at ") {
            return Err(message.to_string());
        }
        let retry = if message.starts_with(UNEXPECTED) {
            // OVS ignores attributes a layer does not expect (ODP_FIT_TOO_MUCH).
            without_attr_at(&text, e.position())
        } else if message == NOT_BOTTOM_OF_STACK && !clear_bos {
            // OVS keeps an entry without BoS; our parser wants one, so add it and take it away.
            clear_bos = true;
            with_bos_at(&text, e.position())
        } else if message == MISSING_VLAN && truncated_tag.is_none() {
            cut_truncated_tag(&text).map(|(cut, tag)| {
                truncated_tag = Some(tag);
                cut
            })
        } else {
            None
        };
        match retry {
            Some(next) => text = next,
            None => return Err(key_error(message)),
        }
    }
    Err(key_error("too many unexpected attributes"))
}

/// One top-level attribute of a key text: where it starts and ends, and its name.
#[derive(Clone, Copy, Debug)]
struct AttrSpan<'t> {
    start: usize,
    end: usize,
    name: &'t str,
}

impl AttrSpan<'_> {
    /// The text between the attribute's parentheses, with its offset.
    fn inside<'t>(&self, text: &'t str) -> Option<(usize, &'t str)> {
        let from = self.start + self.name.len() + 1;
        Some((from, text.get(from..self.end.checked_sub(1)?)?))
    }
}

/// The attributes of `text` at nesting level 0 (stops at the first one that is not `name(...)`).
fn attrs_of(text: &str) -> Vec<AttrSpan<'_>> {
    let mut spans = Vec::new();
    let mut pos = 0;
    loop {
        let rest = text.get(pos..).unwrap_or("");
        let skipped = rest.len() - rest.trim_start_matches(DELIMITERS).len();
        pos += skipped;
        let rest = text.get(pos..).unwrap_or("");
        let Some(open) = rest.find('(') else {
            return spans;
        };
        let Some(end) = attr_end(text, pos) else {
            return spans;
        };
        spans.push(AttrSpan {
            start: pos,
            end,
            name: rest.get(..open).unwrap_or(""),
        });
        pos = end;
    }
}

/// The Ethertype written in `eth_type(...)` of `attrs`, if it is a plain number.
fn ethertype_of(text: &str, attrs: &[AttrSpan<'_>]) -> Option<u16> {
    let span = attrs.iter().find(|a| a.name == "eth_type")?;
    let (_, value) = span.inside(text)?;
    u16::try_from(crate::text::parse_c_uint(value.trim())?).ok()
}

fn is_vlan_tpid(ethertype: u16) -> bool {
    ethertype == ETH_TYPE_VLAN_8021Q || ethertype == ETH_TYPE_VLAN_8021AD
}

/// With OVS's VLAN limit of 1 nothing inside a second tag is read: if the first `encap()` names a
/// VLAN Ethertype, it is replaced by `encap(eth_type(<placeholder>))` and the TPID returned (the
/// caller puts it back as the flow's Ethertype).
fn cut_inner_vlan(text: &str) -> Option<(String, u16)> {
    let outer = attrs_of(text);
    if !is_vlan_tpid(ethertype_of(text, &outer)?) {
        return None;
    }
    let encap = outer.iter().find(|a| a.name == "encap")?;
    let (_, inside) = encap.inside(text)?;
    let tpid = ethertype_of(inside, &attrs_of(inside))?;
    if !is_vlan_tpid(tpid) {
        return None;
    }
    let cut = format!(
        "{}encap(eth_type({PLACEHOLDER_ETHERTYPE:#06x})){}",
        text.get(..encap.start)?,
        text.get(encap.end..)?
    );
    Some((cut, tpid))
}

/// OVS takes a VLAN Ethertype without `vlan()` and `encap()` as a tag with that TPID, the TCI of
/// `vlan()` if given (else 0), and Ethertype 0, ignoring the rest. Returns the text without
/// `vlan()`/`encap()` and with a placeholder Ethertype, and the tag.
fn cut_truncated_tag(text: &str) -> Option<(String, VlanHeader)> {
    let attrs = attrs_of(text);
    let tpid = ethertype_of(text, &attrs)?;
    if !is_vlan_tpid(tpid) {
        return None;
    }
    let mut cut = String::new();
    let mut tci = 0;
    let mut copied_to = 0;
    for a in &attrs {
        let keep = match a.name {
            "vlan" => {
                let vlan = text.get(a.start..a.end)?;
                let probe = format!("eth_type(0x8100),{vlan},encap()");
                tci = odp::parse_dumped_key(&probe, None).map_or(0, |(flow, _)| flow.vlans[0].tci);
                None
            }
            "encap" => None,
            "eth_type" => Some(format!("eth_type({PLACEHOLDER_ETHERTYPE:#06x})")),
            _ => continue,
        };
        cut.push_str(text.get(copied_to..a.start)?);
        cut.push_str(keep.as_deref().unwrap_or(""));
        copied_to = a.end;
    }
    cut.push_str(text.get(copied_to..)?);
    // Without the CFI bit the tag is not composed, whatever its TCI.
    let tci = if tci & VLAN_CFI != 0 { tci } else { 0 };
    Some((cut, VlanHeader { tpid, tci }))
}

/// Skips a leading `ufid:<uuid>` (and one space after it), as OVS does.
fn skip_ufid(text: &str) -> Result<&str, String> {
    let trimmed = text.trim_start_matches(DELIMITERS);
    let Some(after) = trimmed.strip_prefix("ufid:") else {
        return Ok(text);
    };
    let is_uuid = after.len() >= 36
        && after.bytes().take(36).enumerate().all(|(i, b)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                b == b'-'
            } else {
                b.is_ascii_hexdigit()
            }
        });
    if !is_uuid {
        return Err(format!("syntax error at {trimmed}"));
    }
    let rest = after.get(36..).unwrap_or("");
    Ok(rest.strip_prefix(' ').unwrap_or(rest))
}

/// `ovs-vswitchd` keeps one VLAN header (its default `vlan-limit`): a second tag's TPID becomes
/// the Ethertype and nothing inside it is part of the flow.
fn apply_vlan_limit(flow: Flow) -> Flow {
    let inner = flow.vlans[1];
    if inner.tci & VLAN_CFI == 0 && inner.tpid == 0 {
        return flow;
    }
    Flow {
        recirc_id: flow.recirc_id,
        dp_hash: flow.dp_hash,
        skb_priority: flow.skb_priority,
        skb_mark: flow.skb_mark,
        in_port: flow.in_port,
        packet_type: flow.packet_type,
        ct_mark: flow.ct_mark,
        ct_zone: flow.ct_zone,
        ct_state: flow.ct_state,
        ct_label: flow.ct_label,
        dl_dst: flow.dl_dst,
        dl_src: flow.dl_src,
        dl_type: inner.tpid,
        vlans: [flow.vlans[0], VlanHeader::default()],
        ..Flow::default()
    }
}

/// The text from the start of the first top-level attribute that contains a `/`, if any.
fn masked_attr(text: &str) -> Option<&str> {
    let mut depth = 0usize;
    let mut attr_start = None;
    for (i, ch) in text.char_indices() {
        match ch {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            c if depth == 0 && DELIMITERS.contains(&c) => {
                attr_start = None;
                continue;
            }
            '/' => return text.get(attr_start.unwrap_or(i)..),
            _ => {}
        }
        if attr_start.is_none() {
            attr_start = Some(i);
        }
    }
    None
}

/// `text` without the attribute (`name(...)`) that starts at `pos`.
fn without_attr_at(text: &str, pos: usize) -> Option<String> {
    let end = attr_end(text, pos)?;
    Some(format!("{}{}", text.get(..pos)?, text.get(end..)?))
}

/// `text` with `bos=0` turned into `bos=1` inside the attribute that starts at `pos`.
fn with_bos_at(text: &str, pos: usize) -> Option<String> {
    let end = attr_end(text, pos)?;
    let attr = text.get(pos..end)?;
    let at = pos + attr.find("bos=0")?;
    Some(format!("{}bos=1{}", text.get(..at)?, text.get(at + 5..)?))
}

/// One past the `)` that closes the attribute starting at `pos`.
fn attr_end(text: &str, pos: usize) -> Option<usize> {
    let rest = text.get(pos..)?;
    let open = rest.find('(')?;
    let mut depth = 0usize;
    for (i, ch) in rest.char_indices().skip_while(|(i, _)| *i < open) {
        match ch {
            '(' => depth += 1,
            ')' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(pos + i + 1);
                }
            }
            _ => {}
        }
    }
    None
}
