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
use super::flow_text::flow_from_str;
use super::{RECEIVE_L7_LEN, ReceiveRequest};
use crate::flow::Flow;

/// Smallest `--len` accepted (OVS's `ETH_TOTAL_MIN`).
const ETH_TOTAL_MIN: i32 = 60;
/// Smallest hex packet (an Ethernet header).
const ETH_HEADER_LEN: usize = 14;
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
