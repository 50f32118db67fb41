//! C-style number parsing as Open vSwitch's action and flow parsers use it (`strtoull`,
//! `str_to_u8/u16/u32/u64`, `parse_int_string`), with the same error texts.
//!
//! # Invariants
//! * Nothing here panics; overflow is an error exactly where C reports `ERANGE`.
//! * `strtoull` semantics include C's quirks: leading white space and a sign are accepted and a
//!   negative number wraps (`-1` is `u64::MAX`).

/// C's `strtoull(s, &tail, 0)`: the value and the number of bytes consumed, or `None` if no
/// digits were found or the value overflowed (`ERANGE`).
pub(crate) fn strtoull(s: &str) -> Option<(u64, usize)> {
    let b = s.as_bytes();
    let mut i = 0;
    while b
        .get(i)
        .is_some_and(|c| matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'))
    {
        i += 1;
    }
    let negative = match b.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let hex_digit_follows = b.get(i + 2).is_some_and(u8::is_ascii_hexdigit);
    let (radix, start) = match (b.get(i), b.get(i + 1)) {
        (Some(b'0'), Some(b'x' | b'X')) if hex_digit_follows => (16, i + 2),
        (Some(b'0'), _) => (8, i),
        _ => (10, i),
    };
    let mut value: u64 = 0;
    let mut end = start;
    let mut overflow = false;
    while let Some(d) = b.get(end).and_then(|c| char::from(*c).to_digit(radix)) {
        match value
            .checked_mul(u64::from(radix))
            .and_then(|v| v.checked_add(u64::from(d)))
        {
            Some(v) => value = v,
            None => overflow = true,
        }
        end += 1;
    }
    if end == start || overflow {
        return None;
    }
    Some((
        if negative {
            value.wrapping_neg()
        } else {
            value
        },
        end,
    ))
}

/// `str_to_u64`: the whole string as a C integer.
pub(crate) fn str_to_u64(s: &str) -> Result<u64, String> {
    if s.is_empty() {
        return Err("missing required numeric argument".to_owned());
    }
    match strtoull(s) {
        Some((v, end)) if end == s.len() => Ok(v),
        _ => Err(format!("invalid numeric format {s}")),
    }
}

/// `str_to_u32`: like [`str_to_u64`], truncated to 32 bits as C's `unsigned long` to
/// `uint32_t` assignment does.
#[allow(clippy::cast_possible_truncation)]
pub(crate) fn str_to_u32(s: &str) -> Result<u32, String> {
    str_to_u64(s).map(|v| v as u32)
}

/// `str_to_int` with base 0: a C `long long` that fits an `int`, whole string.
fn str_to_int(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let mut i = 0;
    while b
        .get(i)
        .is_some_and(|c| matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'))
    {
        i += 1;
    }
    let negative = b.get(i) == Some(&b'-');
    let (magnitude, end) = strtoull(s)?;
    if end != s.len() {
        return None;
    }
    let signed = if negative {
        0i128 - i128::from(magnitude.wrapping_neg())
    } else {
        i128::from(magnitude)
    };
    i32::try_from(signed).ok().map(i64::from)
}

/// `str_to_u16(s, name)`: 0..=65535 or "invalid NAME \"S\"".
pub(crate) fn str_to_u16(s: &str, name: &str) -> Result<u16, String> {
    str_to_int(s)
        .and_then(|v| u16::try_from(v).ok())
        .ok_or_else(|| format!("invalid {name} \"{s}\""))
}

/// `str_to_u8(s, name)`: 0..=255 or "invalid NAME \"S\"".
pub(crate) fn str_to_u8(s: &str, name: &str) -> Result<u8, String> {
    str_to_int(s)
        .and_then(|v| u8::try_from(v).ok())
        .ok_or_else(|| format!("invalid {name} \"{s}\""))
}

/// `parse_int_string` into a field of `width` bytes: a `0x` hex string of any length (white
/// space allowed between digits) or a C integer. Returns the value and where parsing stopped;
/// `None` on a syntax error or if the value does not fit.
pub(crate) fn parse_int_string(s: &str, width: u32) -> Option<(u128, usize)> {
    let b = s.as_bytes();
    let max_digits = usize::try_from(width.saturating_mul(2)).unwrap_or(usize::MAX);
    if b.starts_with(b"0x") || b.starts_with(b"0X") {
        let mut i = 2;
        let mut value: u128 = 0;
        let mut digits = 0usize;
        loop {
            while matches!(b.get(i), Some(b' ' | b'\t' | b'\r' | b'\n')) {
                i += 1;
            }
            let Some(h) = b.get(i).and_then(|c| char::from(*c).to_digit(16)) else {
                return Some((value, i));
            };
            if h != 0 || digits > 0 {
                digits += 1;
                if digits > max_digits || digits > 32 {
                    return None;
                }
                value = (value << 4) | u128::from(h);
            }
            i += 1;
        }
    }
    let (v, end) = strtoull(s)?;
    let v = u128::from(v);
    let fits = width >= 16 || v >> (width * 8) == 0;
    fits.then_some((v, end))
}

/// Lower-case hex as `ds_put_hex` prints a field value: `0` for zero, else `0x` and the digits
/// without leading zeros.
pub(crate) fn put_hex(out: &mut String, v: u128) {
    if v == 0 {
        out.push('0');
    } else {
        out.push_str(&format!("{v:#x}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strtoull_like_c() {
        assert_eq!(strtoull("12"), Some((12, 2)));
        assert_eq!(strtoull("0x1f,"), Some((31, 4)));
        assert_eq!(strtoull("010"), Some((8, 3)));
        assert_eq!(strtoull("0x"), Some((0, 1)));
        assert_eq!(strtoull(" -1"), Some((u64::MAX, 3)));
        assert_eq!(strtoull("18446744073709551616"), None);
        assert_eq!(strtoull("x"), None);
        assert_eq!(strtoull(""), None);
        assert_eq!(strtoull("09"), Some((0, 1)));
    }

    #[test]
    fn keyword_integers() {
        // Error texts as `ovs-ofctl` 3.1 prints them (e.g. "invalid max_len \"70000\"").
        assert_eq!(
            str_to_u16("70000", "max_len"),
            Err("invalid max_len \"70000\"".into())
        );
        assert_eq!(str_to_u16("0x10", "x"), Ok(16));
        assert_eq!(str_to_u16("-1", "x"), Err("invalid x \"-1\"".into()));
        assert_eq!(str_to_u8("256", "TTL"), Err("invalid TTL \"256\"".into()));
        assert_eq!(str_to_u32("-1"), Ok(u32::MAX));
        assert_eq!(
            str_to_u32(""),
            Err("missing required numeric argument".into())
        );
        assert_eq!(str_to_u64("5x"), Err("invalid numeric format 5x".into()));
    }

    #[test]
    fn int_strings() {
        assert_eq!(parse_int_string("0x0001ff", 1), None);
        assert_eq!(parse_int_string("0x00ff", 1), Some((0xff, 6)));
        assert_eq!(parse_int_string("256->x", 1), None);
        assert_eq!(parse_int_string("255->x", 1), Some((255, 3)));
        assert_eq!(
            parse_int_string("0xffffffffffffffffff", 16),
            Some((0xff_ffff_ffff_ffff_ffff, 20))
        );
        let mut s = String::new();
        put_hex(&mut s, 0);
        put_hex(&mut s, 0x1a);
        assert_eq!(s, "00x1a");
    }
}
