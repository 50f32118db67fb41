//! Flag sets as text: TCP flags, conntrack state bits and slow-path reasons.
//!
//! Three printed forms exist, as in Open vSwitch (`format_flags`, `format_flags_masked`,
//! `parse_flags`): `a|b|c` for a fully specified set (`0` when empty, unknown bits as one trailing
//! `0x..`), `+a-b` for a partially masked set (`0/0` when nothing is matched), and the numeric
//! `value/mask`. The parser accepts all three.
//!
//! # Invariants
//! * Bits are visited from the least significant up, so output order is the bit order.
//! * Parsing never panics and never reads past the terminating byte it was given.

use std::fmt::Write as _;

use super::scan::Cursor;
pub(crate) use crate::flow::ct_state::name as ct_state_name;
pub(crate) use crate::flow::tcp_flags::name as tcp_flag_name;

/// Maps one flag bit to its name.
pub(crate) type BitNames = fn(u32) -> Option<&'static str>;

/// Slow-path reason names (`SLOW_PATH_REASONS`).
pub(crate) fn slow_path_name(bit: u32) -> Option<&'static str> {
    Some(match bit {
        0x01 => "cfm",
        0x02 => "bfd",
        0x04 => "lacp",
        0x08 => "stp",
        0x10 => "lldp",
        0x20 => "action",
        0x40 => "match",
        _ => return None,
    })
}

/// All slow-path reason bits.
pub(crate) const SLOW_PATH_REASON_MASK: u32 = 0x7f;

/// `name1<del>name2...`, `0` for no bits, unknown bits gathered into a final `0x..`.
pub(crate) fn format_flags(out: &mut String, names: BitNames, flags: u32, del: char) {
    if flags == 0 {
        out.push('0');
        return;
    }
    let mut bad = 0u32;
    let mut rest = flags;
    while rest != 0 {
        let bit = rest & rest.wrapping_neg();
        match names(bit) {
            Some(name) => {
                out.push_str(name);
                out.push(del);
            }
            None => bad |= bit,
        }
        rest &= !bit;
    }
    if bad != 0 {
        let _ = write!(out, "0x{bad:x}{del}");
    }
    if out.ends_with(del) {
        out.pop();
    }
}

/// `+name-name...` for each bit of `mask`; the plain form when `mask == max_mask`; `0/0` for no bits.
pub(crate) fn format_flags_masked(
    out: &mut String,
    names: BitNames,
    flags: u32,
    mask: u32,
    max_mask: u32,
) {
    if mask == max_mask {
        format_flags(out, names, flags, '|');
        return;
    }
    if mask == 0 {
        out.push_str("0/0");
        return;
    }
    let mut rest = mask;
    while rest != 0 {
        let bit = rest & rest.wrapping_neg();
        out.push(if flags & bit != 0 { '+' } else { '-' });
        out.push_str(names(bit).unwrap_or("[Unknown]"));
        rest &= !bit;
    }
}

/// Parses a flag set that ends at byte `end` (not consumed), returning `(flags, mask)`.
///
/// With `want_mask` the masked forms are accepted too; the unmasked form yields mask `u32::MAX`.
/// Any bit outside `allowed` is an error. On error the cursor is left where the problem is.
pub(crate) fn parse_flags(
    c: &mut Cursor<'_>,
    names: BitNames,
    end: u8,
    allowed: u32,
    want_mask: bool,
) -> Result<(u32, u32), ()> {
    if want_mask {
        let numeric = c.attempt(|c| {
            let v = c.scan_int(0)? as u32;
            if !c.eat_byte(b'/') {
                return None;
            }
            let m = c.scan_int(0)? as u32;
            Some((v, m))
        });
        if let Some((v, m)) = numeric {
            return if v & !allowed != 0 || m & !allowed != 0 {
                Err(())
            } else {
                Ok((v, m))
            };
        }
        if matches!(c.peek(), Some(b'+' | b'-')) {
            return parse_signed_flags(c, names, end, allowed);
        }
    }
    let mut result = 0u32;
    while c.peek() != Some(end) {
        if let Some(v) = c.scan_int(0) {
            // OVS checks only the low 32 bits here (its mask is 32 bits wide).
            if (v as u32) & !allowed != 0 {
                return Err(());
            }
            result |= v as u32;
            c.eat_byte(b'|');
            continue;
        }
        let (bit, len) = match_name(c.rest(), names, &[b'|', end]).ok_or(())?;
        if bit & !allowed != 0 {
            return Err(());
        }
        result |= bit;
        c.set_pos(c.pos() + len);
        c.eat_byte(b'|');
    }
    Ok((result, if want_mask { u32::MAX } else { 0 }))
}

/// The `+name-name` form.
fn parse_signed_flags(
    c: &mut Cursor<'_>,
    names: BitNames,
    end: u8,
    allowed: u32,
) -> Result<(u32, u32), ()> {
    let (mut flags, mut mask) = (0u32, 0u32);
    while c.peek() != Some(end) {
        let set = match c.peek() {
            Some(b'+') => true,
            Some(b'-') => false,
            _ => return Err(()),
        };
        c.set_pos(c.pos() + 1);
        let (bit, len) = match_name(c.rest(), names, &[b'+', b'-', end]).ok_or(())?;
        if mask & bit != 0 || bit & !allowed != 0 {
            return Err(());
        }
        if set {
            flags |= bit;
        }
        mask |= bit;
        c.set_pos(c.pos() + len);
    }
    Ok((flags, mask))
}

/// Finds the lowest bit whose name starts `s` and is followed by one of `followers`.
fn match_name(s: &str, names: BitNames, followers: &[u8]) -> Option<(u32, usize)> {
    (0..32).map(|i| 1u32 << i).find_map(|bit| {
        let name = names(bit)?;
        let after = s.strip_prefix(name)?;
        let next = after.bytes().next()?;
        followers.contains(&next).then_some((bit, name.len()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(f: impl FnOnce(&mut String)) -> String {
        let mut s = String::new();
        f(&mut s);
        s
    }

    #[test]
    fn formats_like_ovs() {
        assert_eq!(
            fmt(|s| format_flags(s, tcp_flag_name, 0x12, '|')),
            "syn|ack"
        );
        assert_eq!(fmt(|s| format_flags(s, tcp_flag_name, 0, '|')), "0");
        assert_eq!(
            fmt(|s| format_flags(s, ct_state_name, 0x321, '|')),
            "new|trk|0x300"
        );
        assert_eq!(
            fmt(|s| format_flags_masked(s, ct_state_name, 0, 0xff, u32::MAX)),
            "-new-est-rel-rpl-inv-trk-snat-dnat"
        );
        assert_eq!(
            fmt(|s| format_flags_masked(s, tcp_flag_name, 2, 0x12, 0xfff)),
            "+syn-ack"
        );
        assert_eq!(
            fmt(|s| format_flags_masked(s, tcp_flag_name, 0, 0, 0xfff)),
            "0/0"
        );
    }

    #[test]
    fn parses_every_form() {
        let p = |s: &str, want_mask: bool| {
            let mut c = Cursor::new(s, 0);
            parse_flags(&mut c, tcp_flag_name, b')', 0xfff, want_mask).map(|r| (r, c.pos()))
        };
        assert_eq!(p("syn|ack)", true), Ok(((0x12, u32::MAX), 7)));
        assert_eq!(p("+syn-ack)", true), Ok(((0x2, 0x12), 8)));
        assert_eq!(p("0x2/0x12)", true), Ok(((0x2, 0x12), 8)));
        assert_eq!(p("0/0)", true), Ok(((0, 0), 3)));
        assert_eq!(p("0x1000)", true), Err(()));
        assert_eq!(p("+syn+syn)", true), Err(()));
        assert_eq!(p("syn,ack)", true), Err(()));
        assert_eq!(p("syn", true), Err(()));
        assert_eq!(p(")", true), Ok(((0, u32::MAX), 0)));
    }
}
