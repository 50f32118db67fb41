//! The arguments of `netdev-dummy/receive NAME [--qid N] PACKET|FLOW [--len N]...`, read the way
//! Open vSwitch 3.1's `netdev_dummy_receive` (lib/netdev-dummy.c) reads them.
//!
//! # Invariants
//! * Never panics on any argument list; every failure is the reply text OVS would send.
//! * Each argument is first tried as hex (whitespace between bytes allowed, at least 14 bytes);
//!   only if that fails is it a datapath flow, composed with [`super::build`].
//! * `--qid N` is recognised only right after the port name and only when something follows it;
//!   `--len N` only right after a flow (not after a hex packet), and applies to that flow alone.
//!   Anywhere else both are read as (malformed) flows, giving OVS's `syntax error at --len`.
//! * Numbers are read like C's `strtol(s, NULL, 10)` stored into an `int`: leading spaces and a
//!   sign allowed, trailing garbage ignored, no digits means 0, out-of-range values saturate to
//!   the `long` range and are then truncated to 32 bits (so `--len 4294967356` means 60).

use super::build::{compose, expand};
use super::{RECEIVE_L7_LEN, ReceiveRequest};
use crate::flow::{ETH_TYPE_NONE, Flow, VLAN_CFI, VlanHeader};
use crate::odp;

/// Smallest `--len` accepted (OVS's `ETH_TOTAL_MIN`).
const ETH_TOTAL_MIN: i32 = 60;
/// Smallest hex packet (an Ethernet header).
const ETH_HEADER_LEN: usize = 14;
/// Separators OVS skips between flow key attributes.
const DELIMITERS: &[char] = &[',', ' ', '\t', '\r', '\n'];
/// `in_port` of a flow without one (OVS's `ODPP_NONE`).
const ODPP_NONE: u32 = u32::MAX;

/// See [`super::parse_receive_args`].
pub(super) fn parse(args: &[String]) -> Result<ReceiveRequest, String> {
    let Some(port) = args.first() else {
        return Err("no such dummy netdev".to_string());
    };
    let mut k = 1;
    let mut qid = None;
    if args.len() > k + 1 && args.get(k).is_some_and(|a| a == "--qid") {
        let value = c_strtol_int(args.get(k + 1).map_or("", String::as_str));
        if value < 0 {
            return Err("bad rx queue id.".to_string());
        }
        qid = Some(value as u32);
        k += 2;
    }

    let mut packets = Vec::new();
    let mut i = k;
    while let Some(arg) = args.get(i) {
        if let Some(packet) = packet_from_hex(arg) {
            packets.push(packet);
            i += 1;
            continue;
        }
        let mut packet_size = 0;
        if args.get(i + 1).is_some_and(|a| a == "--len") {
            // OVS reads the value even when it is missing (and crashes); we read "" as 0.
            packet_size = c_strtol_int(args.get(i + 2).map_or("", String::as_str));
            if packet_size < ETH_TOTAL_MIN {
                return Err("too small packet len".to_string());
            }
        }
        let flow = flow_from_str(arg)?;
        packets.push(packet_for_flow(&flow, packet_size as usize)?);
        i += if packet_size != 0 { 3 } else { 1 };
    }
    Ok(ReceiveRequest {
        port: port.clone(),
        qid,
        packets,
    })
}

/// The frame for `flow`: with a 64-byte payload when `packet_size` is 0, else composed without
/// payload and padded to exactly `packet_size` bytes (an empty error if it is already longer,
/// which is what OVS replies).
fn packet_for_flow(flow: &Flow, packet_size: usize) -> Result<Vec<u8>, String> {
    if packet_size == 0 {
        return Ok(compose(flow, RECEIVE_L7_LEN).bytes);
    }
    let mut composed = compose(flow, 0);
    if composed.bytes.len() < packet_size {
        expand(&mut composed, flow, packet_size);
    } else if composed.bytes.len() > packet_size {
        return Err(String::new());
    }
    Ok(composed.bytes)
}

/// OVS's `eth_from_hex`: pairs of hex digits, with spaces, tabs and line breaks allowed before
/// each pair; `None` unless the whole text is consumed and gives at least an Ethernet header.
pub(super) fn packet_from_hex(text: &str) -> Option<Vec<u8>> {
    let mut bytes = Vec::with_capacity(text.len() / 2);
    let mut rest = text.as_bytes();
    loop {
        while let [b' ' | b'\t' | b'\r' | b'\n', tail @ ..] = rest {
            rest = tail;
        }
        match rest {
            [] => break,
            [hi, lo, tail @ ..] => {
                let hi = char::from(*hi).to_digit(16)?;
                let lo = char::from(*lo).to_digit(16)?;
                bytes.push((hi << 4 | lo) as u8);
                rest = tail;
            }
            [_] => return None,
        }
    }
    (bytes.len() >= ETH_HEADER_LEN).then_some(bytes)
}

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
    match odp::parse_dumped_key(body, None) {
        Ok((flow, _mask)) => Ok(apply_vlan_limit(flow)),
        Err(e) if e.message().starts_with("syntax error at ") => Err(e.message().to_string()),
        Err(e) => Err(format!(
            "{}; the flow key in error is: {}",
            e.message(),
            body.trim_start_matches(DELIMITERS)
        )),
    }
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

/// C's `strtol(s, NULL, 10)` assigned to an `int`.
pub(super) fn c_strtol_int(s: &str) -> i32 {
    let s = s.trim_start_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r']);
    let (negative, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, s.get(1..).unwrap_or("")),
        Some(b'+') => (false, s.get(1..).unwrap_or("")),
        _ => (false, s),
    };
    let mut value: i64 = 0;
    for d in digits.bytes().take_while(u8::is_ascii_digit) {
        let digit = i64::from(d - b'0');
        value = if negative {
            value.saturating_mul(10).saturating_sub(digit)
        } else {
            value.saturating_mul(10).saturating_add(digit)
        };
    }
    value as i32
}
