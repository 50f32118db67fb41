//! Number scanning with the exact C-library semantics that Open vSwitch's parsers inherit:
//! `strtoull`/`strtoll` with base 0 or 10, and the integer conversions of OVS's own `ovs_scan`
//! (`%d`, `%i`, `%x`, `%hhu`, ...), which wrap instead of failing on overflow.
//!
//! # Invariants
//! * Every function only reads bytes, never panics, and returns the number of bytes it consumed;
//!   all stop characters are ASCII, so the caller may slice the `&str` at that offset.
//! * "White space" means C's `isspace` set: space, `\t`, `\n`, `\v`, `\f`, `\r`.

/// True for the bytes C's `isspace` accepts in the "C" locale.
pub(crate) fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Value of a hex digit, as OVS's `hexit_value`.
pub(crate) fn hexit_value(b: u8) -> Option<u32> {
    char::from(b).to_digit(16)
}

/// Index of the first byte at or after `i` that is not C white space.
pub(crate) fn skip_c_spaces(s: &[u8], mut i: usize) -> usize {
    while s.get(i).copied().is_some_and(is_c_space) {
        i += 1;
    }
    i
}

/// Result of a `strtoull`/`strtoll`-style conversion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Converted {
    /// The value (two's complement for negative input, saturated on overflow).
    pub(crate) value: u64,
    /// Bytes consumed; 0 when no digit was found (C's `endptr == str`).
    pub(crate) consumed: usize,
    /// C's `errno == ERANGE`.
    pub(crate) overflow: bool,
}

/// Sign, base and digit accumulation shared by `strtoull` and `strtoll`.
/// Returns (negative, magnitude or None on overflow, end index, digits seen).
fn c_strto_digits(s: &[u8], base: u32) -> (bool, Option<u64>, usize, bool) {
    let mut i = skip_c_spaces(s, 0);
    let negative = s.get(i) == Some(&b'-');
    if matches!(s.get(i), Some(b'-' | b'+')) {
        i += 1;
    }
    let mut radix = base;
    let hex_prefix = s.get(i) == Some(&b'0')
        && matches!(s.get(i + 1), Some(b'x' | b'X'))
        && s.get(i + 2).copied().and_then(hexit_value).is_some();
    if (radix == 0 || radix == 16) && hex_prefix {
        radix = 16;
        i += 2;
    } else if radix == 0 {
        radix = if s.get(i) == Some(&b'0') { 8 } else { 10 };
    }
    let mut magnitude: Option<u64> = Some(0);
    let mut any = false;
    while let Some(d) = s
        .get(i)
        .copied()
        .and_then(hexit_value)
        .filter(|d| *d < radix)
    {
        magnitude = magnitude
            .and_then(|m| m.checked_mul(u64::from(radix)))
            .and_then(|m| m.checked_add(u64::from(d)));
        any = true;
        i += 1;
    }
    (negative, magnitude, i, any)
}

/// C's `strtoull(s, &end, base)` for base 0 (auto) or 10.
pub(crate) fn strtoull(s: &str, base: u32) -> Converted {
    let (negative, magnitude, end, any) = c_strto_digits(s.as_bytes(), base);
    if !any {
        return Converted {
            value: 0,
            consumed: 0,
            overflow: false,
        };
    }
    match magnitude {
        None => Converted {
            value: u64::MAX,
            consumed: end,
            overflow: true,
        },
        Some(m) => Converted {
            value: if negative { m.wrapping_neg() } else { m },
            consumed: end,
            overflow: false,
        },
    }
}

/// C's `strtoll(s, &end, base)`; the value is returned as `i64`.
pub(crate) fn strtoll(s: &str, base: u32) -> (i64, usize, bool) {
    let (negative, magnitude, end, any) = c_strto_digits(s.as_bytes(), base);
    if !any {
        return (0, 0, false);
    }
    let limit = if negative {
        1u64 << 63
    } else {
        i64::MAX as u64
    };
    match magnitude {
        Some(m) if m <= limit => {
            let v = if negative {
                (m as i64).wrapping_neg()
            } else {
                m as i64
            };
            (v, end, false)
        }
        _ => (if negative { i64::MIN } else { i64::MAX }, end, true),
    }
}

/// OVS's `str_to_llong`: the whole string must be one in-range integer.
pub(crate) fn str_to_llong(s: &str, base: u32) -> Option<i64> {
    let (v, consumed, overflow) = strtoll(s, base);
    (consumed != 0 && !overflow && consumed == s.len()).then_some(v)
}

/// One integer conversion of OVS's `ovs_scan` (`%d`, `%i`, `%u`, `%x`, ...) starting at byte `i`:
/// leading white space is skipped, a sign is accepted, base 0 detects `0x`/`0` prefixes, the
/// value wraps modulo 2^64. Returns the value and the index after the last digit.
pub(crate) fn ovs_scan_int(s: &[u8], i: usize, base: u32) -> Option<(u64, usize)> {
    let mut i = skip_c_spaces(s, i);
    let negative = s.get(i) == Some(&b'-');
    if matches!(s.get(i), Some(b'-' | b'+')) {
        i += 1;
    }
    let mut radix = base;
    if (radix == 0 || radix == 16)
        && s.get(i) == Some(&b'0')
        && matches!(s.get(i + 1), Some(b'x' | b'X'))
    {
        radix = 16;
        i += 2;
    } else if radix == 0 {
        radix = if s.get(i) == Some(&b'0') { 8 } else { 10 };
    }
    let mut value: u64 = 0;
    let mut any = false;
    while let Some(d) = s
        .get(i)
        .copied()
        .and_then(hexit_value)
        .filter(|d| *d < radix)
    {
        value = value
            .wrapping_mul(u64::from(radix))
            .wrapping_add(u64::from(d));
        any = true;
        i += 1;
    }
    any.then_some((
        if negative {
            value.wrapping_neg()
        } else {
            value
        },
        i,
    ))
}

/// `ovs_scan`'s literal character: matches exactly one byte, no white space skipping.
pub(crate) fn scan_literal(s: &[u8], i: usize, c: u8) -> Option<usize> {
    (s.get(i) == Some(&c)).then_some(i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strtoull_matches_c() {
        assert_eq!(strtoull("0x1f", 0).value, 31);
        assert_eq!(strtoull("010", 0).value, 8);
        assert_eq!(
            strtoull("08", 0),
            Converted {
                value: 0,
                consumed: 1,
                overflow: false
            }
        );
        assert_eq!(
            strtoull("0xg", 0),
            Converted {
                value: 0,
                consumed: 1,
                overflow: false
            }
        );
        assert_eq!(
            strtoull(" +7z", 0),
            Converted {
                value: 7,
                consumed: 3,
                overflow: false
            }
        );
        assert_eq!(strtoull("-1", 0).value, u64::MAX);
        assert!(strtoull("99999999999999999999", 0).overflow);
        assert_eq!(strtoull("abc", 0).consumed, 0);
        assert_eq!(strtoull("", 0).consumed, 0);
    }

    #[test]
    fn strtoll_range() {
        assert_eq!(str_to_llong("-5", 10), Some(-5));
        assert_eq!(str_to_llong("0x10", 10), None);
        assert_eq!(str_to_llong("0x10", 0), Some(16));
        assert_eq!(str_to_llong("9223372036854775808", 10), None);
        assert_eq!(str_to_llong("-9223372036854775808", 10), Some(i64::MIN));
        assert_eq!(str_to_llong("", 10), None);
    }

    #[test]
    fn ovs_scan_wraps() {
        assert_eq!(ovs_scan_int(b"256", 0, 10), Some((256, 3)));
        assert_eq!(ovs_scan_int(b" -1x", 0, 10), Some((u64::MAX, 3)));
        assert_eq!(ovs_scan_int(b"0x", 0, 16), None);
        assert_eq!(ovs_scan_int(b"0x1F:", 0, 16), Some((31, 4)));
        assert_eq!(ovs_scan_int(b"017", 0, 0), Some((15, 3)));
        assert_eq!(ovs_scan_int(b"", 0, 0), None);
    }
}
