//! A byte cursor that reads numbers and addresses the way Open vSwitch's `ovs_scan()` does.
//!
//! Open vSwitch parses datapath text with its own `scanf` clone, and its quirks decide what text is
//! accepted: integer conversions skip leading white space, take an optional sign and a `0x` (or, for
//! `%i`, a leading-`0` octal) prefix, read any number of digits and silently keep only the low bits
//! that fit the destination. This module reproduces those rules so that the parsers accept the same
//! text as OVS.
//!
//! # Invariants
//! * The cursor position is always a byte offset on a character boundary of the input: it only ever
//!   moves over ASCII bytes, or to the position of an ASCII byte found by a search.
//! * Every `scan_*` method either succeeds and advances, or fails and leaves the position unchanged.
//! * Nothing here panics, whatever the input.

/// Characters that separate attributes and actions (`delimiters` in OVS).
pub(crate) const DELIMITERS: &[u8] = b", \t\r\n";

/// A position in a string being parsed.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Cursor<'a> {
    text: &'a str,
    pos: usize,
}

/// Value of one hex digit, if `b` is one.
fn hexit(b: u8) -> Option<u32> {
    char::from(b).to_digit(16)
}

/// C's `isspace` in the "C" locale.
fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

impl<'a> Cursor<'a> {
    /// A cursor at byte `pos` of `text`.
    pub(crate) fn new(text: &'a str, pos: usize) -> Cursor<'a> {
        Cursor {
            text,
            pos: pos.min(text.len()),
        }
    }

    /// The whole input.
    pub(crate) fn text(&self) -> &'a str {
        self.text
    }

    /// Current byte offset.
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    /// Moves back (or forward) to a position obtained from [`Cursor::pos`].
    pub(crate) fn set_pos(&mut self, pos: usize) {
        self.pos = pos.min(self.text.len());
    }

    /// The unread rest of the input.
    pub(crate) fn rest(&self) -> &'a str {
        self.text.get(self.pos..).unwrap_or("")
    }

    /// The next byte, if any.
    pub(crate) fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    /// The byte `n` places ahead, if any.
    pub(crate) fn peek_at(&self, n: usize) -> Option<u8> {
        self.text.as_bytes().get(self.pos + n).copied()
    }

    /// True at the end of the input.
    pub(crate) fn at_end(&self) -> bool {
        self.pos >= self.text.len()
    }

    /// Consumes `lit` if the rest starts with it.
    pub(crate) fn eat(&mut self, lit: &str) -> bool {
        if self.rest().starts_with(lit) {
            self.pos += lit.len();
            true
        } else {
            false
        }
    }

    /// Consumes one byte if it is `b` (which must be ASCII).
    pub(crate) fn eat_byte(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Skips bytes that are in `set` (ASCII only), like `strspn`.
    pub(crate) fn skip_set(&mut self, set: &[u8]) {
        while self.peek().is_some_and(|b| set.contains(&b)) {
            self.pos += 1;
        }
    }

    /// Skips C white space.
    pub(crate) fn skip_spaces(&mut self) {
        while self.peek().is_some_and(is_c_space) {
            self.pos += 1;
        }
    }

    /// Consumes and returns everything up to (not including) the first byte in `stop`, like
    /// `strcspn`.
    pub(crate) fn take_until(&mut self, stop: &[u8]) -> &'a str {
        let rest = self.rest();
        let len = rest
            .bytes()
            .position(|b| stop.contains(&b))
            .unwrap_or(rest.len());
        self.pos += len;
        rest.get(..len).unwrap_or("")
    }

    /// Reads an integer like `ovs_scan`'s `%i` (`base` 0), `%d`/`%u` (10), `%o` (8) or `%x` (16).
    ///
    /// Returns the value modulo 2^64 (negative numbers wrap, as in C); the caller truncates it to
    /// the width of the destination, exactly as OVS does.
    pub(crate) fn scan_int(&mut self, base: u32) -> Option<u64> {
        let start = self.pos;
        self.skip_spaces();
        let negative = self.peek() == Some(b'-');
        if matches!(self.peek(), Some(b'-' | b'+')) {
            self.pos += 1;
        }
        let mut base = base;
        if (base == 0 || base == 16)
            && self.peek() == Some(b'0')
            && matches!(self.peek_at(1), Some(b'x' | b'X'))
        {
            base = 16;
            self.pos += 2;
        } else if base == 0 {
            base = if self.peek() == Some(b'0') { 8 } else { 10 };
        }
        let mut value: u64 = 0;
        let mut digits = 0usize;
        while let Some(d) = self.peek().and_then(hexit).filter(|d| *d < base) {
            value = value
                .wrapping_mul(u64::from(base))
                .wrapping_add(u64::from(d));
            digits += 1;
            self.pos += 1;
        }
        if digits == 0 {
            self.pos = start;
            return None;
        }
        Some(if negative {
            value.wrapping_neg()
        } else {
            value
        })
    }

    /// `%i` into an 8-bit destination.
    pub(crate) fn scan_u8(&mut self) -> Option<u8> {
        self.scan_int(0).map(|v| v as u8)
    }

    /// `%i` into a 16-bit destination.
    pub(crate) fn scan_u16(&mut self) -> Option<u16> {
        self.scan_int(0).map(|v| v as u16)
    }

    /// `%i` into a 32-bit destination.
    pub(crate) fn scan_u32(&mut self) -> Option<u32> {
        self.scan_int(0).map(|v| v as u32)
    }

    /// Runs `f`; if it fails, restores the position.
    pub(crate) fn attempt<T>(&mut self, f: impl FnOnce(&mut Cursor<'a>) -> Option<T>) -> Option<T> {
        let start = self.pos;
        let r = f(self);
        if r.is_none() {
            self.pos = start;
        }
        r
    }

    /// `%hhx:%hhx:%hhx:%hhx:%hhx:%hhx` (OVS's `ETH_ADDR_SCAN_FMT`).
    pub(crate) fn scan_eth(&mut self) -> Option<[u8; 6]> {
        self.attempt(|c| {
            let mut mac = [0u8; 6];
            for (i, byte) in mac.iter_mut().enumerate() {
                if i > 0 && !c.eat_byte(b':') {
                    return None;
                }
                *byte = c.scan_int(16)? as u8;
            }
            Some(mac)
        })
    }

    /// `%hhu.%hhu.%hhu.%hhu` (OVS's `IP_SCAN_FMT`), as a host-order address.
    pub(crate) fn scan_ipv4(&mut self) -> Option<u32> {
        self.attempt(|c| {
            let mut addr = 0u32;
            for i in 0..4 {
                if i > 0 && !c.eat_byte(b'.') {
                    return None;
                }
                addr = (addr << 8) | u32::from(c.scan_int(10)? as u8);
            }
            Some(addr)
        })
    }

    /// `%46[0-9a-fA-F:.]` followed by `inet_pton(AF_INET6)` (OVS's `IPV6_SCAN_FMT`).
    pub(crate) fn scan_ipv6(&mut self) -> Option<[u8; 16]> {
        self.attempt(|c| {
            let rest = c.rest();
            let len = rest
                .bytes()
                .take(46)
                .take_while(|b| b.is_ascii_hexdigit() || *b == b':' || *b == b'.')
                .count();
            let text = rest.get(..len)?;
            let addr = text.parse::<std::net::Ipv6Addr>().ok()?;
            c.pos += len;
            Some(addr.octets())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_follow_ovs_scan() {
        let mut c = Cursor::new(" 0x1f,", 0);
        assert_eq!(c.scan_int(0), Some(31));
        assert_eq!(c.rest(), ",");
        let mut c = Cursor::new("010", 0);
        assert_eq!(c.scan_int(0), Some(8));
        let mut c = Cursor::new("08", 0);
        assert_eq!(c.scan_int(0), Some(0));
        assert_eq!(c.rest(), "8");
        let mut c = Cursor::new("300", 0);
        assert_eq!(c.scan_u8(), Some(44));
        let mut c = Cursor::new("-1", 0);
        assert_eq!(c.scan_u16(), Some(0xffff));
        let mut c = Cursor::new("0x)", 0);
        assert_eq!(c.scan_int(0), None);
        assert_eq!(c.pos(), 0);
        let mut c = Cursor::new("ab", 0);
        assert_eq!(c.scan_int(16), Some(0xab));
    }

    #[test]
    fn addresses() {
        let mut c = Cursor::new("50:54:0:0:00:0a/", 0);
        assert_eq!(c.scan_eth(), Some([0x50, 0x54, 0, 0, 0, 0x0a]));
        assert_eq!(c.rest(), "/");
        let mut c = Cursor::new("50:54:00", 0);
        assert_eq!(c.scan_eth(), None);
        assert_eq!(c.pos(), 0);
        let mut c = Cursor::new("10.0.0.1,", 0);
        assert_eq!(c.scan_ipv4(), Some(0x0a00_0001));
        let mut c = Cursor::new("fe80::1/::,", 0);
        let a = c.scan_ipv6().expect("valid");
        assert_eq!(a[0], 0xfe);
        assert_eq!(c.rest(), "/::,");
        let mut c = Cursor::new("fe80:::1", 0);
        assert_eq!(c.scan_ipv6(), None);
    }

    #[test]
    fn never_splits_multibyte_characters() {
        let mut c = Cursor::new("é,x", 0);
        assert_eq!(c.take_until(b","), "é");
        assert_eq!(c.rest(), ",x");
        assert_eq!(c.scan_int(0), None);
    }
}
