//! Field values in action text: `set_field` values (parsed with `rvs_flow`'s match value
//! parser, so errors read as Open vSwitch's `mf_parse`), their printed form (`mf_format`) and
//! the subfield syntax `NAME[a..b]` (`mf_parse_subfield`, `mf_format_subfield`).
//!
//! # Invariants
//! * A value's mask is in the same units as the value; [`value_mask`] is the all-ones mask of
//!   a field (a `set_field` without `/mask`).
//! * [`format_value`] prints what Open vSwitch 3.1 prints for the same value and mask.

use super::Subfield;
use super::field::{field_by_any_name, get, low_bits, n_bits, print_name};
use super::numbers::{parse_int_string, put_hex};
use rvs_flow::Match;
use rvs_flow::ofp_match::fields::{FieldDef, FieldId, ValueSyntax, field_def};
use rvs_flow::ofp_match::port::{PortLookup, format_port, port_from_ofp11};
use rvs_flow::ofp_match::{Item, ItemForm, MatchBuilder};
use rvs_flow::text::{fmt_ipv4, fmt_ipv6, fmt_mac};

/// The bits of a field's value a full (unmasked) `set_field` writes.
pub fn value_mask(def: &FieldDef) -> u128 {
    match def.id {
        FieldId::VlanVid => 0x1fff,
        FieldId::IpDscp => 0xfc,
        _ => low_bits(n_bits(def)),
    }
}

/// Parses `text` as a match value of `def` with `rvs_flow`'s parser (OVS's `mf_parse`).
fn parse_as_match(
    def: &'static FieldDef,
    text: &str,
    ports: Option<PortLookup<'_>>,
) -> Result<Match, String> {
    let mut builder = MatchBuilder::new();
    if let Some(lookup) = ports {
        builder = builder.with_port_lookup(lookup);
    }
    let item = Item {
        key: def.name,
        key_pos: 0,
        value: text,
        value_pos: 0,
        form: ItemForm::Colon,
    };
    builder.apply(&item).map_err(|e| e.message().to_owned())?;
    Ok(*builder.raw())
}

/// Parses the value of `set_field:VALUE->FIELD` (with optional `/mask`), returning the value
/// as written (Open vSwitch keeps bits outside the mask), the mask, both in the field's units,
/// and the full-width integer the text named (for the validity check), or OVS's error text.
pub(crate) fn parse_set_field_value(
    def: &'static FieldDef,
    text: &str,
    ports: Option<PortLookup<'_>>,
) -> Result<(u128, u128, Option<u128>), String> {
    if text.is_empty() {
        // `mf_parse` on an empty string (the match parser reads "" as "any" instead).
        return Err(match def.syntax {
            ValueSyntax::Ipv4 => ": invalid IP address".to_owned(),
            ValueSyntax::Ipv6 => ": invalid IPv6 address".to_owned(),
            ValueSyntax::Ethernet => ": invalid Ethernet address".to_owned(),
            ValueSyntax::OfpPort | ValueSyntax::OfpPortOxm => {
                format!(": invalid or unknown port for {}", def.name)
            }
            _ => format!(": bad syntax for {} value", def.name),
        });
    }
    let raw = parse_as_match(def, text, ports)?;
    let full = value_mask(def);
    let (value, mask) = match text.split_once('/') {
        Some((value_text, _)) => {
            let unmasked = parse_as_match(def, value_text, ports)?;
            (
                get(def.id, &unmasked.flow),
                get(def.id, &raw.wc.masks) & full,
            )
        }
        None if text == "*" => (0, 0),
        None => (get(def.id, &raw.flow), full),
    };
    let integer = match def.syntax {
        ValueSyntax::Decimal | ValueSyntax::Hexadecimal => {
            let end = text.find('/').unwrap_or(text.len());
            parse_int_string(text.get(..end).unwrap_or(""), u32::from(def.width)).map(|(v, _)| v)
        }
        _ => None,
    };
    Ok((value, mask, integer))
}

fn mac_bytes(v: u128) -> [u8; 6] {
    let b = v.to_be_bytes();
    [b[10], b[11], b[12], b[13], b[14], b[15]]
}

/// Appends a field value as `mf_format` prints it: `mask` None or all ones prints the value
/// alone, an all-zero mask prints `ANY`, any other mask `value/mask`.
#[allow(clippy::cast_possible_truncation)]
pub fn format_value(out: &mut String, def: &FieldDef, value: u128, mask: Option<u128>) {
    let width_ones = if def.width >= 16 {
        u128::MAX
    } else {
        (1u128 << (u32::from(def.width) * 8)) - 1
    };
    let mask = match mask {
        Some(0) => {
            out.push_str("ANY");
            return;
        }
        Some(m) if m == value_mask(def) || m == width_ones => None,
        other => other,
    };
    match def.syntax {
        ValueSyntax::OfpPort if mask.is_none() => format_port(out, value as u16),
        ValueSyntax::OfpPortOxm if mask.is_none() => {
            format_port(out, port_from_ofp11(value as u32).unwrap_or(u16::MAX));
        }
        ValueSyntax::Ethernet => {
            fmt_mac(out, &mac_bytes(value));
            if let Some(m) = mask {
                out.push('/');
                fmt_mac(out, &mac_bytes(m));
            }
        }
        ValueSyntax::Ipv4 => {
            fmt_ipv4(out, value as u32);
            if let Some(m) = mask {
                let m = m as u32;
                out.push('/');
                if m.leading_ones() + m.trailing_zeros() == 32 {
                    out.push_str(&m.leading_ones().to_string());
                } else {
                    fmt_ipv4(out, m);
                }
            }
        }
        ValueSyntax::Ipv6 => {
            fmt_ipv6(out, &value.to_be_bytes());
            if let Some(m) = mask {
                out.push('/');
                if m.leading_ones() + m.trailing_zeros() == 128 {
                    out.push_str(&m.leading_ones().to_string());
                } else {
                    fmt_ipv6(out, &m.to_be_bytes());
                }
            }
        }
        ValueSyntax::Decimal | ValueSyntax::OfpPort | ValueSyntax::OfpPortOxm if def.width <= 8 => {
            out.push_str(&value.to_string());
            if let Some(m) = mask {
                out.push('/');
                put_hex(out, m);
            }
        }
        _ => {
            put_hex(out, value);
            if let Some(m) = mask {
                out.push('/');
                put_hex(out, m);
            }
        }
    }
}

/// Parses a subfield at the start of `s` (`NAME`, `NAME[]`, `NAME[b]`, `NAME[a..b]`), returning
/// it and the rest of `s`; errors are OVS's texts, quoting `s`.
pub(crate) fn parse_subfield_prefix(s: &str) -> Result<(Subfield, &str), String> {
    let name_len = s.find(['[', '-']).unwrap_or(s.len());
    let name = s.get(..name_len).unwrap_or("");
    let def = field_by_any_name(name).ok_or_else(|| format!("{s}: unknown field `{name}'"))?;
    let width = n_bits(def);
    let mut rest = s.get(name_len..).unwrap_or("");
    let (start, end) = if let Some(bracketed) = rest.strip_prefix('[') {
        let close = bracketed.find(']');
        let inner = close.and_then(|c| bracketed.get(..c));
        let range = match inner {
            Some("") => Some((0, i64::from(width) - 1)),
            Some(inner) => parse_bit_range(inner),
            None => None,
        };
        let (Some((a, b)), Some(c)) = (range, close) else {
            return Err(format!(
                "{s}: syntax error expecting [] or [<bit>] or [<start>..<end>]"
            ));
        };
        rest = bracketed.get(c + 1..).unwrap_or("");
        (a, b)
    } else {
        (0, i64::from(width) - 1)
    };
    if start > end {
        return Err(format!(
            "{s}: starting bit {start} is after ending bit {end}"
        ));
    }
    if start >= i64::from(width) {
        return Err(format!(
            "{s}: starting bit {start} is not valid because field is only {width} bits wide"
        ));
    }
    if end >= i64::from(width) {
        return Err(format!(
            "{s}: ending bit {end} is not valid because field is only {width} bits wide"
        ));
    }
    if start < 0 {
        return Err(format!(
            "{s}: syntax error expecting [] or [<bit>] or [<start>..<end>]"
        ));
    }
    let sf = Subfield {
        field: def.id,
        ofs: u32::try_from(start).unwrap_or(0),
        n_bits: u32::try_from(end - start + 1).unwrap_or(0),
    };
    Ok((sf, rest))
}

/// The inside of `[%d..%d]` or `[%d]` (C `scanf` integers: optional sign, decimal).
fn parse_bit_range(inner: &str) -> Option<(i64, i64)> {
    fn int(s: &str) -> Option<(i64, &str)> {
        let t = s.trim_start();
        let digits_start = usize::from(t.starts_with(['-', '+']));
        let len = t
            .get(digits_start..)?
            .bytes()
            .take_while(u8::is_ascii_digit)
            .count();
        if len == 0 {
            return None;
        }
        let v: i64 = t.get(..digits_start + len)?.parse().ok()?;
        if i32::try_from(v).is_err() {
            return None;
        }
        Some((v, t.get(digits_start + len..)?))
    }
    let (a, rest) = int(inner)?;
    if let Some(after) = rest.strip_prefix("..")
        && let Some((b, "")) = int(after)
    {
        return Some((a, b));
    }
    rest.is_empty().then_some((a, a))
}

/// Parses a whole string as a subfield (`mf_parse_subfield`).
pub(crate) fn parse_subfield(s: &str) -> Result<Subfield, String> {
    let (sf, rest) = parse_subfield_prefix(s)?;
    if rest.is_empty() {
        Ok(sf)
    } else {
        Err("unexpected input following field syntax".to_owned())
    }
}

/// Appends a subfield as `mf_format_subfield` prints it (`NXM_NX_REG0[0..15]`).
pub fn format_subfield(out: &mut String, sf: &Subfield) {
    let Some(def) = field_def(sf.field) else {
        out.push_str("<unknown>");
        return;
    };
    out.push_str(print_name(def));
    if sf.ofs == 0 && sf.n_bits == n_bits(def) {
        out.push_str("[]");
    } else if sf.n_bits == 1 {
        out.push_str(&format!("[{}]", sf.ofs));
    } else {
        out.push_str(&format!("[{}..{}]", sf.ofs, sf.ofs + sf.n_bits - 1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rvs_flow::ofp_match::fields::field_by_name;

    fn def(name: &str) -> &'static FieldDef {
        field_by_name(name).expect("known field")
    }

    #[test]
    fn subfield_errors_like_ovs() {
        // Texts as printed by `ovs-ofctl add-flow` of OVS 3.1.
        assert_eq!(
            parse_subfield("reg0[0..40]"),
            Err(
                "reg0[0..40]: ending bit 40 is not valid because field is only 32 bits wide".into()
            )
        );
        assert_eq!(
            parse_subfield("foo[]"),
            Err("foo[]: unknown field `foo'".into())
        );
        assert_eq!(
            parse_subfield("reg0[x]"),
            Err("reg0[x]: syntax error expecting [] or [<bit>] or [<start>..<end>]".into())
        );
        assert_eq!(
            parse_subfield("reg0[3..2]"),
            Err("reg0[3..2]: starting bit 3 is after ending bit 2".into())
        );
        let sf = parse_subfield("NXM_NX_REG3[5]").expect("valid");
        assert_eq!((sf.field, sf.ofs, sf.n_bits), (FieldId::Reg(3), 5, 1));
        let mut s = String::new();
        format_subfield(&mut s, &sf);
        format_subfield(&mut s, &parse_subfield("eth_src").expect("valid"));
        assert_eq!(s, "NXM_NX_REG3[5]NXM_OF_ETH_SRC[]");
    }

    #[test]
    fn values_print_like_mf_format() {
        let mut s = String::new();
        format_value(&mut s, def("reg0"), 0, None);
        s.push(' ');
        format_value(&mut s, def("reg0"), 0x12, Some(0xff));
        s.push(' ');
        format_value(&mut s, def("ip_src"), 0x0102_0304, Some(0xffff_0000));
        s.push(' ');
        format_value(&mut s, def("tcp_dst"), 80, None);
        s.push(' ');
        format_value(&mut s, def("in_port"), 0xfffe, None);
        s.push(' ');
        format_value(&mut s, def("ipv6_src"), 1, None);
        assert_eq!(s, "0 0x12/0xff 1.2.3.4/16 80 LOCAL ::1");
    }

    #[test]
    fn set_field_values() {
        let (v, m, i) =
            parse_set_field_value(def("ip_src"), "1.2.3.4/255.255.0.0", None).expect("valid");
        assert_eq!((v, m, i), (0x0102_0304, 0xffff_0000, None));
        let (v, m, i) = parse_set_field_value(def("nw_tos"), "1", None).expect("parses");
        assert_eq!((v, m, i), (0, 0xfc, Some(1)));
        assert_eq!(
            parse_set_field_value(def("ip_src"), "1", None),
            Err("1: invalid IP address".into())
        );
    }
}
