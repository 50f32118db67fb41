//! Shared lexical helpers for the OVS text formats: addresses, numbers and positioned errors.
//!
//! # Invariants
//! * Every parser in this crate reports failures as a [`ParseError`] that carries the offending token
//!   and its byte offset in the original input; none of them panics on any input.
//! * `Display` of a [`ParseError`] is the message alone, worded as Open vSwitch words it, so it can be
//!   sent back byte for byte; [`ParseError::detailed`] adds the token and position for humans.
//! * Formatting helpers print exactly what Open vSwitch prints (lower-case hex MACs, dotted IPv4,
//!   RFC 5952 compressed IPv6).

use std::fmt::{self, Write as _};
use std::net::{Ipv4Addr, Ipv6Addr};

/// A text parse failure: what went wrong, at which token, where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    message: String,
    token: String,
    position: usize,
}

impl ParseError {
    /// A new error about `token`, found at byte `position` of the input.
    pub fn new(
        message: impl Into<String>,
        token: impl Into<String>,
        position: usize,
    ) -> ParseError {
        ParseError {
            message: message.into(),
            token: token.into(),
            position,
        }
    }

    /// The message, in Open vSwitch's wording.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The offending token.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// Byte offset of the token in the input.
    pub fn position(&self) -> usize {
        self.position
    }

    /// Message plus token and position, for people.
    pub fn detailed(&self) -> String {
        format!(
            "{} (at byte {}: \"{}\")",
            self.message, self.position, self.token
        )
    }

    /// The same error moved `offset` bytes to the right (for errors from a sub-slice).
    pub fn shifted(mut self, offset: usize) -> ParseError {
        self.position += offset;
        self
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ParseError {}

/// Parses `xx:xx:xx:xx:xx:xx` (hex digits, one or two per byte).
pub fn parse_mac(s: &str) -> Option<[u8; 6]> {
    let mut out = [0u8; 6];
    let mut parts = s.split(':');
    for byte in &mut out {
        let p = parts.next()?;
        if p.is_empty() || p.len() > 2 {
            return None;
        }
        *byte = u8::from_str_radix(p, 16).ok()?;
    }
    parts.next().is_none().then_some(out)
}

/// Formats a MAC as Open vSwitch does: `50:54:00:00:00:01`.
pub fn fmt_mac(out: &mut String, mac: &[u8; 6]) {
    let _ = write!(
        out,
        "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]
    );
}

/// Parses a dotted-quad IPv4 address into a host-order `u32`.
pub fn parse_ipv4(s: &str) -> Option<u32> {
    s.parse::<Ipv4Addr>().ok().map(u32::from)
}

/// Formats a host-order IPv4 address as a dotted quad.
pub fn fmt_ipv4(out: &mut String, addr: u32) {
    let _ = write!(out, "{}", Ipv4Addr::from(addr));
}

/// Parses an IPv6 address in any RFC 4291 form.
pub fn parse_ipv6(s: &str) -> Option<[u8; 16]> {
    s.parse::<Ipv6Addr>().ok().map(|a| a.octets())
}

/// Formats an IPv6 address like glibc's `inet_ntop`: RFC 5952 compression, and a dotted IPv4
/// tail for IPv4-mapped (`::ffff:a.b.c.d`) and IPv4-compatible (`::a.b.c.d`) addresses.
pub fn fmt_ipv6(out: &mut String, addr: &[u8; 16]) {
    let words: [u16; 8] =
        std::array::from_fn(|i| u16::from_be_bytes([addr[2 * i], addr[2 * i + 1]]));
    // Longest run of zero words (first one on ties), only if at least two long.
    let (mut best_start, mut best_len) = (None, 0);
    let mut i = 0;
    while i < 8 {
        if words[i] == 0 {
            let start = i;
            while i < 8 && words[i] == 0 {
                i += 1;
            }
            if i - start > best_len {
                (best_start, best_len) = (Some(start), i - start);
            }
        } else {
            i += 1;
        }
    }
    if best_len < 2 {
        best_start = None;
    }
    let ipv4_tail =
        best_start == Some(0) && (best_len == 6 || (best_len == 5 && words[5] == 0xffff));
    let mut i = 0;
    while i < 8 {
        if Some(i) == best_start {
            out.push_str(if i == 0 { "::" } else { ":" });
            i += best_len;
            continue;
        }
        if ipv4_tail && i == 6 {
            let _ = write!(out, "{}.{}.{}.{}", addr[12], addr[13], addr[14], addr[15]);
            break;
        }
        let _ = write!(out, "{:x}", words[i]);
        if i < 7 {
            out.push(':');
        }
        i += 1;
    }
}

/// Parses an unsigned integer as C's `strtoull(s, 0)` would: `0x` hex, leading `0` octal, else
/// decimal. The whole string must be consumed.
pub fn parse_c_uint(s: &str) -> Option<u64> {
    if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        if hex.is_empty() {
            return None;
        }
        u64::from_str_radix(hex, 16).ok()
    } else if s.len() > 1 && s.starts_with('0') {
        u64::from_str_radix(&s[1..], 8).ok()
    } else {
        s.parse::<u64>().ok()
    }
}

/// Formats like C's `%#x`: `0` for zero, else `0x` followed by lower-case hex.
pub fn fmt_hash_hex(out: &mut String, v: u64) {
    if v == 0 {
        out.push('0');
    } else {
        let _ = write!(out, "{v:#x}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mac_round_trip() {
        let m = parse_mac("50:54:0:0:00:0a").expect("valid mac");
        let mut s = String::new();
        fmt_mac(&mut s, &m);
        assert_eq!(s, "50:54:00:00:00:0a");
        assert!(parse_mac("50:54:00:00:00").is_none());
        assert!(parse_mac("50:54:00:00:00:00:01").is_none());
        assert!(parse_mac("g0:54:00:00:00:00").is_none());
    }

    #[test]
    fn c_uints() {
        assert_eq!(parse_c_uint("0x1f"), Some(31));
        assert_eq!(parse_c_uint("010"), Some(8));
        assert_eq!(parse_c_uint("0"), Some(0));
        assert_eq!(parse_c_uint("12"), Some(12));
        assert_eq!(parse_c_uint("0x"), None);
        assert_eq!(parse_c_uint("-1"), None);
        let mut s = String::new();
        fmt_hash_hex(&mut s, 0);
        fmt_hash_hex(&mut s, 255);
        assert_eq!(s, "00xff");
    }

    #[test]
    fn ipv6_compressed() {
        let mut s = String::new();
        fmt_ipv6(&mut s, &parse_ipv6("fe80:0:0:0:0:0:0:1").expect("valid"));
        assert_eq!(s, "fe80::1");
        for (text, want) in [
            ("::1.2.3.4", "::1.2.3.4"),
            ("::ffff:1.2.3.4", "::ffff:1.2.3.4"),
            ("::1", "::1"),
            ("1:0:0:2:0:0:3:4", "1::2:0:0:3:4"),
        ] {
            let mut s = String::new();
            fmt_ipv6(&mut s, &parse_ipv6(text).expect("valid"));
            assert_eq!(s, want, "inet_ntop form of {text}");
        }
    }
}
