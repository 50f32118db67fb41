//! Value syntax of match fields: turns the text after `field=` into a value and a mask, with
//! Open vSwitch's parsing rules and its error messages (`mf_parse` and the helpers it calls).
//!
//! # Invariants
//! * A parsed value and mask are unsigned integers of the field's width (`FieldDef::width` bytes,
//!   big-endian for addresses), held in a `u128`; bits above the width are zero.
//! * `*` means "wildcard" (value 0, mask 0) for every syntax.
//! * Error strings are OVS's wording byte for byte (including its quirks, such as the missing
//!   closing parenthesis in the fragment-type message); callers add the token position.

use std::net::Ipv6Addr;

use super::fields::{FieldDef, ValueSyntax};
use super::port::{PortLookup, port_from_string, port_to_ofp11};
use super::scan::{hexit_value, ovs_scan_int, scan_literal, skip_c_spaces, strtoull};
pub(crate) use crate::flow::ct_state::name as ct_state_name;
pub(crate) use crate::flow::tcp_flags::name as tcp_flag_name;
use crate::flow::{FRAG_ANY, FRAG_LATER, FRAG_MASK};

/// A field value with its mask (1 bits are matched).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Masked {
    /// The value.
    pub(crate) value: u128,
    /// The mask.
    pub(crate) mask: u128,
}

/// All ones over `width` bytes.
pub(crate) fn all_ones(width: u8) -> u128 {
    if width >= 16 {
        u128::MAX
    } else {
        (1u128 << (u32::from(width) * 8)) - 1
    }
}

/// Why `parse_int_string` failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum IntError {
    /// The number does not fit (`ERANGE`).
    Range,
    /// No number at all.
    Syntax,
}

/// OVS's `parse_int_string`: a `0x` hex string of any length (white space allowed between
/// digits, leading zeros free) or a C integer, into `width` bytes. Returns the value and the
/// offset where parsing stopped.
fn parse_int_string(s: &str, width: u8) -> Result<(u128, usize), IntError> {
    let b = s.as_bytes();
    if b.starts_with(b"0x") || b.starts_with(b"0X") {
        let mut i = 2;
        let mut value: u128 = 0;
        let mut digits: usize = 0;
        loop {
            while matches!(b.get(i), Some(b' ' | b'\t' | b'\r' | b'\n')) {
                i += 1;
            }
            let Some(h) = b.get(i).copied().and_then(hexit_value) else {
                return Ok((value, i));
            };
            if h != 0 || digits > 0 {
                if (digits + 2) / 2 > usize::from(width) {
                    return Err(IntError::Range);
                }
                value = (value << 4) | u128::from(h);
                digits += 1;
            }
            i += 1;
        }
    }
    let c = strtoull(s, 0);
    if c.overflow {
        return Err(IntError::Range);
    }
    if c.consumed == 0 {
        return Err(IntError::Syntax);
    }
    let value = u128::from(c.value);
    if value & !all_ones(width) != 0 {
        return Err(IntError::Range);
    }
    Ok((value, c.consumed))
}

fn integer_error(s: &str, def: &FieldDef, err: IntError, what: &str) -> String {
    match err {
        IntError::Range => format!(
            "{s}: {what} too large for {}-byte field {}",
            def.width, def.name
        ),
        IntError::Syntax => format!("{s}: bad syntax for {} {what}", def.name),
    }
}

/// `value[/mask]` integers (`mf_from_integer_string`).
fn from_integer(def: &FieldDef, s: &str) -> Result<Masked, String> {
    let (value, tail) =
        parse_int_string(s, def.width).map_err(|e| integer_error(s, def, e, "value"))?;
    let rest = s.get(tail..).unwrap_or("");
    let Some(mask_text) = rest.strip_prefix('/') else {
        if !rest.is_empty() {
            return Err(integer_error(s, def, IntError::Syntax, "value"));
        }
        return Ok(Masked {
            value,
            mask: all_ones(def.width),
        });
    };
    let (mask, tail) =
        parse_int_string(mask_text, def.width).map_err(|e| integer_error(s, def, e, "mask"))?;
    if tail != mask_text.len() {
        return Err(integer_error(s, def, IntError::Syntax, "mask"));
    }
    Ok(Masked { value, mask })
}

/// Six `%hhx` conversions separated by `:` starting at byte `i`.
fn scan_mac(b: &[u8], mut i: usize) -> Option<(u128, usize)> {
    let mut mac: u128 = 0;
    for k in 0..6 {
        if k > 0 {
            i = scan_literal(b, i, b':')?;
        }
        let (v, end) = ovs_scan_int(b, i, 16)?;
        mac = (mac << 8) | u128::from(v as u8);
        i = end;
    }
    Some((mac, i))
}

fn from_ethernet(s: &str) -> Result<Masked, String> {
    let b = s.as_bytes();
    if let Some((value, end)) = scan_mac(b, 0) {
        if end == b.len() {
            return Ok(Masked {
                value,
                mask: all_ones(6),
            });
        }
        if let Some((mask, end)) = scan_literal(b, end, b'/').and_then(|i| scan_mac(b, i))
            && end == b.len()
        {
            return Ok(Masked { value, mask });
        }
    }
    Err(format!("{s}: invalid Ethernet address"))
}

/// Four `%hhu` conversions separated by `.` starting at byte `i`.
fn scan_ipv4(b: &[u8], mut i: usize) -> Option<(u32, usize)> {
    let mut ip: u32 = 0;
    for k in 0..4 {
        if k > 0 {
            i = scan_literal(b, i, b'.')?;
        }
        let (v, end) = ovs_scan_int(b, i, 10)?;
        ip = (ip << 8) | u32::from(v as u8);
        i = end;
    }
    Some((ip, i))
}

/// The IPv4 netmask with `prefix` leading one bits (0..=32).
pub(crate) fn ipv4_prefix_mask(prefix: u32) -> u32 {
    if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - prefix.min(32))
    }
}

fn from_ipv4(s: &str) -> Result<Masked, String> {
    let b = s.as_bytes();
    let invalid = || format!("{s}: invalid IP address");
    let Some((ip, after_ip)) = scan_ipv4(b, 0) else {
        return Err(invalid());
    };
    let after_slash = scan_literal(b, after_ip, b'/');
    let (mask, end) = if let Some((mask, end)) = after_slash.and_then(|i| scan_ipv4(b, i)) {
        (mask, end)
    } else if let Some((prefix, end)) = after_slash.and_then(|i| ovs_scan_int(b, i, 10)) {
        let prefix = prefix as u32 as i32;
        if !(0..=32).contains(&prefix) {
            return Err(format!(
                "{s}: IPv4 network prefix bits not between 0 and 32, inclusive"
            ));
        }
        (ipv4_prefix_mask(prefix.unsigned_abs()), end)
    } else {
        (u32::MAX, after_ip)
    };
    if end != b.len() {
        return Err(invalid());
    }
    Ok(Masked {
        value: u128::from(ip),
        mask: u128::from(mask),
    })
}

const IPV6_CHARS: &[u8] = b"0123456789abcdefABCDEF:.";

/// `%46[0-9a-fA-F:.]` at byte `i`: returns the end of the run (at least one character).
fn scan_ipv6_chars(b: &[u8], i: usize) -> Option<usize> {
    let n = b
        .get(i..)?
        .iter()
        .take(46)
        .take_while(|c| IPV6_CHARS.contains(c))
        .count();
    (n > 0).then_some(i + n)
}

/// The IPv6 netmask with `prefix` leading one bits (0..=128).
pub(crate) fn ipv6_prefix_mask(prefix: u32) -> u128 {
    if prefix == 0 {
        0
    } else {
        u128::MAX << (128 - prefix.min(128))
    }
}

fn parse_ipv6_text(s: &str) -> Option<u128> {
    s.parse::<Ipv6Addr>().ok().map(u128::from)
}

fn from_ipv6(s: &str) -> Result<Masked, String> {
    let b = s.as_bytes();
    let invalid = || format!("{s}: invalid IPv6 address");
    let start = skip_c_spaces(b, 0);
    let end = scan_ipv6_chars(b, start).ok_or_else(invalid)?;
    let value = s
        .get(start..end)
        .and_then(parse_ipv6_text)
        .ok_or_else(invalid)?;
    let after_slash = scan_literal(b, end, b'/');
    let (mask, end) = if let Some((prefix, end)) = after_slash.and_then(|i| ovs_scan_int(b, i, 10))
    {
        let prefix = prefix as u32 as i32;
        if !(0..=128).contains(&prefix) {
            return Err(format!(
                "{s}: IPv6 network prefix bits not between 0 and 128, inclusive"
            ));
        }
        (ipv6_prefix_mask(prefix.unsigned_abs()), end)
    } else if let Some((from, to)) = after_slash.and_then(|i| scan_ipv6_chars(b, i).map(|e| (i, e)))
    {
        let mask = s
            .get(from..to)
            .and_then(parse_ipv6_text)
            .ok_or_else(|| format!("{s}: Invalid IPv6 mask"))?;
        (mask, to)
    } else {
        (u128::MAX, end)
    };
    if end != b.len() {
        return Err(invalid());
    }
    Ok(Masked { value, mask })
}

fn from_port(def: &FieldDef, s: &str, ports: Option<PortLookup<'_>>) -> Result<Masked, String> {
    let port = port_from_string(s, ports);
    match (def.syntax, port) {
        (ValueSyntax::OfpPortOxm, Some(p)) => Ok(Masked {
            value: u128::from(port_to_ofp11(p)),
            mask: all_ones(4),
        }),
        (ValueSyntax::OfpPortOxm, None) => {
            Err(format!("{s}: port value out of range for {}", def.name))
        }
        (_, Some(p)) => Ok(Masked {
            value: u128::from(p),
            mask: all_ones(2),
        }),
        (_, None) => Err(format!("{s}: invalid or unknown port for {}", def.name)),
    }
}

/// Fragment keywords: (name, frag bits matched, value), first match wins.
const FRAG_NAMES: [(&str, u8, u8); 7] = [
    ("no", FRAG_MASK, 0),
    ("first", FRAG_MASK, FRAG_ANY),
    ("later", FRAG_MASK, FRAG_ANY | FRAG_LATER),
    ("no", FRAG_ANY, 0),
    ("yes", FRAG_ANY, FRAG_ANY),
    ("not_later", FRAG_LATER, 0),
    ("later", FRAG_LATER, FRAG_LATER),
];

fn from_frag(s: &str) -> Result<Masked, String> {
    FRAG_NAMES
        .iter()
        .find(|(name, _, _)| s.eq_ignore_ascii_case(name))
        .map(|(_, mask, value)| Masked { value: u128::from(*value), mask: u128::from(*mask | !FRAG_MASK) })
        .ok_or_else(|| {
            format!(
                "{s}: unknown fragment type (valid types are \"no\", \"yes\", \"first\", \"later\", \"not_later\""
            )
        })
}

fn flag_bits() -> impl Iterator<Item = u32> {
    (0..32).map(|k| 1u32 << k)
}

/// OVS's `parse_flags` with a mask allowed: `value/mask` numbers, `+a-b` signed names, or
/// `a|b|number` (mask all ones).
pub(crate) fn parse_flags(
    s: &str,
    bit_name: fn(u32) -> Option<&'static str>,
    field: &str,
    allowed: u32,
) -> Result<(u32, u32), String> {
    let b = s.as_bytes();
    let unknown = |at: &str| format!("{at}: unknown {field} flag(s)");
    if let Some((value, i)) = ovs_scan_int(b, 0, 0)
        && let Some((mask, _)) = scan_literal(b, i, b'/').and_then(|i| ovs_scan_int(b, i, 0))
    {
        let (value, mask) = (value as u32, mask as u32);
        if value & !allowed != 0 || mask & !allowed != 0 {
            return Err(unknown(s));
        }
        return Ok((value, mask));
    }
    if matches!(b.first(), Some(b'+' | b'-')) {
        let (mut flags, mut mask) = (0u32, 0u32);
        let mut i = 0;
        while let Some(&sign) = b.get(i) {
            let rest = s.get(i..).unwrap_or("");
            if sign != b'+' && sign != b'-' {
                return Err(format!(
                    "{rest}: {field} must be preceded by '+' (for SET) or '-' (NOT SET)"
                ));
            }
            i += 1;
            let rest = s.get(i..).unwrap_or("");
            let hit = flag_bits().find_map(|bit| {
                let name = bit_name(bit)?;
                let follows = rest.as_bytes().get(name.len());
                (rest.starts_with(name) && matches!(follows, None | Some(b'+' | b'-')))
                    .then_some((bit, name.len()))
            });
            let Some((bit, len)) = hit else {
                return Err(unknown(rest));
            };
            if mask & bit != 0 {
                return Err(format!(
                    "{rest}: Each {field} flag can be specified only once"
                ));
            }
            if bit & allowed == 0 {
                return Err(unknown(rest));
            }
            if sign == b'+' {
                flags |= bit;
            }
            mask |= bit;
            i += len;
        }
        return Ok((flags, mask));
    }
    let mut result = 0u32;
    let mut n = 0;
    while n < b.len() {
        if let Some((value, end)) = ovs_scan_int(b, n, 0) {
            if value & !u64::from(allowed) != 0 {
                return Err(unknown(s));
            }
            result |= value as u32;
            n = end + usize::from(b.get(end) == Some(&b'|'));
            continue;
        }
        let rest = s.get(n..).unwrap_or("");
        let hit = flag_bits().find_map(|bit| {
            let name = bit_name(bit)?;
            let follows = rest.as_bytes().get(name.len());
            (rest.starts_with(name) && matches!(follows, None | Some(b'|')))
                .then_some((bit, name.len()))
        });
        let Some((bit, len)) = hit else {
            return Err(unknown(s));
        };
        if bit & allowed == 0 {
            return Err(unknown(s));
        }
        result |= bit;
        n += len + usize::from(b.get(n + len) == Some(&b'|'));
    }
    Ok((result, u32::MAX))
}

fn from_packet_type(s: &str) -> Result<Masked, String> {
    let error = |at: &str, what: &str| format!("{at}: bad syntax for packet type {what}");
    let Some(inner) = s.strip_prefix('(') else {
        return Err(error(s, "missing '('"));
    };
    let (ns, tail) = parse_int_string(inner, 2).map_err(|_| error(inner, "ns"))?;
    let Some(after_comma) = inner.get(tail..).and_then(|r| r.strip_prefix(',')) else {
        return Err(error(inner, "missing ','"));
    };
    let (ty, tail) = parse_int_string(after_comma, 2).map_err(|_| error(after_comma, "ns_type"))?;
    if !after_comma.get(tail..).is_some_and(|r| r.starts_with(')')) {
        return Err(error(after_comma, "missing ')'"));
    }
    Ok(Masked {
        value: (ns << 16) | ty,
        mask: all_ones(4),
    })
}

/// Parses the value text of field `def` (`mf_parse`), checking that a non-maskable field got
/// an exact or empty mask.
pub(crate) fn parse_field_value(
    def: &FieldDef,
    s: &str,
    ports: Option<PortLookup<'_>>,
) -> Result<Masked, String> {
    if s == "*" {
        return Ok(Masked { value: 0, mask: 0 });
    }
    let parsed = match def.syntax {
        ValueSyntax::Decimal | ValueSyntax::Hexadecimal => from_integer(def, s)?,
        ValueSyntax::Ethernet => from_ethernet(s)?,
        ValueSyntax::Ipv4 => from_ipv4(s)?,
        ValueSyntax::Ipv6 => from_ipv6(s)?,
        ValueSyntax::OfpPort | ValueSyntax::OfpPortOxm => from_port(def, s, ports)?,
        ValueSyntax::Frag => from_frag(s)?,
        ValueSyntax::TcpFlags => {
            let (v, m) = parse_flags(s, tcp_flag_name, "TCP", 0x0fff)?;
            Masked {
                value: u128::from(v as u16),
                mask: u128::from(m as u16),
            }
        }
        ValueSyntax::CtState => {
            let (v, m) = parse_flags(s, ct_state_name, "ct_state", 0xff)?;
            Masked {
                value: u128::from(v),
                mask: u128::from(m),
            }
        }
        ValueSyntax::PacketType => from_packet_type(s)?,
    };
    let full = all_ones(def.width);
    let parsed = Masked {
        value: parsed.value & full,
        mask: parsed.mask & full,
    };
    if !def.maskable && parsed.mask != 0 && parsed.mask != full {
        return Err(format!("{s}: invalid mask for field {}", def.name));
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ofp_match::fields::field_by_name;

    fn parse(field: &str, s: &str) -> Result<Masked, String> {
        parse_field_value(field_by_name(field).expect("known field"), s, None)
    }

    // Error strings below were checked with `ovs-ofctl parse-flow` from Open vSwitch 3.1.
    #[test]
    fn integers() {
        assert_eq!(
            parse("tp_dst", "80"),
            Ok(Masked {
                value: 80,
                mask: 0xffff
            })
        );
        assert_eq!(
            parse("tp_dst", "0x50/0xff00"),
            Ok(Masked {
                value: 0x50,
                mask: 0xff00
            })
        );
        assert_eq!(
            parse("tp_dst", "99999"),
            Err("99999: value too large for 2-byte field tcp_dst".into())
        );
        assert_eq!(
            parse("tp_dst", "-1"),
            Err("-1: value too large for 2-byte field tcp_dst".into())
        );
        assert_eq!(
            parse("tp_dst", "abc"),
            Err("abc: bad syntax for tcp_dst value".into())
        );
        assert_eq!(
            parse("tp_dst", "1/zz"),
            Err("1/zz: bad syntax for tcp_dst mask".into())
        );
        assert_eq!(
            parse("tp_dst", "0x"),
            Ok(Masked {
                value: 0,
                mask: 0xffff
            })
        );
        assert_eq!(
            parse("nw_proto", "6/0xf0"),
            Err("6/0xf0: invalid mask for field nw_proto".into())
        );
        assert_eq!(
            parse("metadata", "0x0000000000000000001"),
            Ok(Masked {
                value: 1,
                mask: u128::from(u64::MAX)
            })
        );
        assert_eq!(parse("ct_label", "0x1").map(|m| m.mask), Ok(u128::MAX));
        assert_eq!(parse("tp_dst", "*"), Ok(Masked { value: 0, mask: 0 }));
    }

    #[test]
    fn addresses() {
        assert_eq!(
            parse("nw_src", "10.0.0.0/24"),
            Ok(Masked {
                value: 0x0a00_0000,
                mask: 0xffff_ff00
            })
        );
        assert_eq!(
            parse("nw_src", "1.2.3.256").map(|m| m.value),
            Ok(0x0102_0300)
        );
        assert_eq!(
            parse("nw_src", "1.2.3.4/255.255.0.255").map(|m| m.mask),
            Ok(0xffff_00ff)
        );
        assert_eq!(
            parse("nw_src", "1.2.3.4/33"),
            Err("1.2.3.4/33: IPv4 network prefix bits not between 0 and 32, inclusive".into())
        );
        assert_eq!(
            parse("nw_src", "1.2.3"),
            Err("1.2.3: invalid IP address".into())
        );
        assert_eq!(
            parse("ipv6_src", "::1/64").map(|m| m.mask),
            Ok(ipv6_prefix_mask(64))
        );
        assert_eq!(
            parse("ipv6_src", "zz::1"),
            Err("zz::1: invalid IPv6 address".into())
        );
        assert_eq!(
            parse("ipv6_src", "fe80::1/129"),
            Err("fe80::1/129: IPv6 network prefix bits not between 0 and 128, inclusive".into())
        );
        assert_eq!(
            parse("dl_src", "00:11:22:33:44"),
            Err("00:11:22:33:44: invalid Ethernet address".into())
        );
        assert_eq!(
            parse("dl_src", "0:1:2:3:4:5/ff:ff:ff:0:0:0"),
            Ok(Masked {
                value: 0x0001_0203_0405,
                mask: 0xffff_ff00_0000
            })
        );
    }

    #[test]
    fn flags_and_keywords() {
        assert_eq!(
            parse("tcp_flags", "+syn-ack"),
            Ok(Masked {
                value: 2,
                mask: 0x12
            })
        );
        assert_eq!(
            parse("tcp_flags", "syn|ack"),
            Ok(Masked {
                value: 0x12,
                mask: 0xffff
            })
        );
        assert_eq!(
            parse("tcp_flags", "0x2/0x2zzz"),
            Ok(Masked { value: 2, mask: 2 })
        );
        assert_eq!(
            parse("tcp_flags", "+syn+syn"),
            Err("syn: Each TCP flag can be specified only once".into())
        );
        assert_eq!(
            parse("tcp_flags", "syn+ack"),
            Err("syn+ack: unknown TCP flag(s)".into())
        );
        assert_eq!(
            parse("tcp_flags", "0x1000"),
            Err("0x1000: unknown TCP flag(s)".into())
        );
        assert_eq!(
            parse("ct_state", "+foo"),
            Err("foo: unknown ct_state flag(s)".into())
        );
        assert_eq!(
            parse("ct_state", "+trk*"),
            Err("trk*: unknown ct_state flag(s)".into())
        );
        assert_eq!(
            parse("ip_frag", "yes"),
            Ok(Masked {
                value: 1,
                mask: 0xfd
            })
        );
        assert_eq!(
            parse("ip_frag", "LATER"),
            Ok(Masked {
                value: 3,
                mask: 0xff
            })
        );
        assert!(parse("ip_frag", "maybe").is_err_and(|e| e.ends_with("\"not_later\"")));
        assert_eq!(
            parse("packet_type", "(1,0x800)"),
            Ok(Masked {
                value: 0x1_0800,
                mask: 0xffff_ffff
            })
        );
        assert_eq!(
            parse("packet_type", "(1;2)"),
            Err("1;2): bad syntax for packet type missing ','".into())
        );
        assert_eq!(
            parse("in_port", "1/1"),
            Err("1/1: invalid or unknown port for in_port".into())
        );
    }
}
