//! Parsing `ovs-ofctl` action text (`ofpacts_parse_instructions` in Open vSwitch 3.1).
//!
//! Items are split with `rvs_flow`'s flow-text [`Lexer`] (commas or white space between
//! actions; `key:value`, `key=value` or `key(value)`). Action names are case-insensitive, as in
//! Open vSwitch; a key that is no action name but a port (`2`, `LOCAL`, a name known to the
//! port lookup) is an output to that port.
//!
//! # Invariants
//! * Every error is a [`ParseError`] with Open vSwitch's message; its token and position point
//!   at the offending item (or its value) in the input, shifted by the caller's base offset.
//! * A successful parse has passed `ofpacts_verify` (instruction order, `drop` alone, `ct`-only
//!   fields); match-dependent checks are [`super::check_actions`]'s job.

use super::field::{has_wire_encoding, is_value_valid, is_writable};
use super::numbers::{parse_int_string, str_to_u8, str_to_u16, str_to_u32, str_to_u64};
use super::value::{format_value, parse_set_field_value, parse_subfield, parse_subfield_prefix};
use super::{
    Controller, OfpAction, PacketInReason, Protocols, SetField, Subfield,
    check::verify_instruction_order,
};
use rvs_flow::ParseError;
use rvs_flow::ofp_match::fields::{FieldDef, FieldId, field_by_name, field_def};
use rvs_flow::ofp_match::port::{OFPP_CONTROLLER, OFPP_IN_PORT, PortLookup, port_from_string};
use rvs_flow::ofp_match::{Item, Lexer};
use rvs_flow::text::parse_ipv4;

/// An action list parsed from text, with the OpenFlow protocols that can carry it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedActions {
    /// The actions, in order.
    pub actions: Vec<OfpAction>,
    /// Protocols able to express the list (before match-dependent checks).
    pub usable: Protocols,
}

/// Actions Open vSwitch knows that rvs does not implement.
const UNSUPPORTED: &[&str] = &[
    "group",
    "bundle",
    "bundle_load",
    "set_tunnel",
    "set_tunnel64",
    "fin_timeout",
    "learn",
    "conjunction",
    "multipath",
    "sample",
    "unroll_xlate",
    "ct",
    "ct_clear",
    "nat",
    "output_trunc",
    "clone",
    "check_pkt_larger",
    "debug_recirc",
    "debug_slow",
    "meter",
    "write_actions",
    "encap",
    "decap",
    "dec_nsh_ttl",
    "delete_field",
];

/// Parses action text such as `output:1,mod_vlan_vid:5` (the part after `actions=`).
pub fn parse_actions(
    text: &str,
    ports: Option<PortLookup<'_>>,
) -> Result<ParsedActions, ParseError> {
    parse_actions_at(text, 0, ports)
}

/// Like [`parse_actions`] for text found at byte `base` of a larger input (error positions
/// are offsets into that input).
pub fn parse_actions_at(
    text: &str,
    base: usize,
    ports: Option<PortLookup<'_>>,
) -> Result<ParsedActions, ParseError> {
    let mut parser = Parser {
        ports,
        actions: Vec::new(),
        usable: Protocols::ANY,
    };
    let mut drop: Option<(String, usize)> = None;
    for item in Lexer::with_offset(text, base) {
        let key = item.key.to_ascii_lowercase();
        if key == "drop" {
            drop = Some((item.key.to_owned(), item.key_pos));
            continue;
        }
        parser.item(&key, &item)?;
    }
    if let Some((token, pos)) = drop
        && !parser.actions.is_empty()
    {
        return Err(ParseError::new(
            "\"drop\" must not be accompanied by any other action or instruction",
            token,
            pos,
        ));
    }
    verify_instruction_order(&parser.actions)
        .map_err(|(message, _)| ParseError::new(message, text, base))?;
    Ok(ParsedActions {
        actions: parser.actions,
        usable: parser.usable,
    })
}

struct Parser<'p> {
    ports: Option<PortLookup<'p>>,
    actions: Vec<OfpAction>,
    usable: Protocols,
}

/// An error about an item's value.
fn value_error(item: &Item<'_>, message: String) -> ParseError {
    ParseError::new(message, item.value, item.value_pos)
}

impl Parser<'_> {
    fn push(&mut self, a: OfpAction) {
        self.actions.push(a);
    }

    fn port(&self, s: &str) -> Option<u16> {
        port_from_string(s, self.ports)
    }

    /// Handles one item whose key, lower-cased, is `key`.
    fn item(&mut self, key: &str, item: &Item<'_>) -> Result<(), ParseError> {
        let v = item.value;
        let r: Result<(), String> = match key {
            "output" | "output_reg" => self.output(v),
            "controller" => self.controller(v),
            "enqueue" => self.enqueue(v),
            "set_field" => self.set_field(v),
            "load" => self.load(v),
            "set_vlan_vid" | "mod_vlan_vid" => self.vlan_vid(v, key == "mod_vlan_vid"),
            "set_vlan_pcp" | "mod_vlan_pcp" => self.vlan_pcp(v, key == "mod_vlan_pcp"),
            "strip_vlan" | "pop_vlan" => {
                self.push(OfpAction::StripVlan {
                    pop_vlan: key == "pop_vlan",
                });
                Ok(())
            }
            "push_vlan" => self.push_vlan(v),
            "mod_dl_src" | "mod_dl_dst" => scan_mac(v)
                .ok_or_else(|| format!("invalid mac address {v}"))
                .map(|mac| {
                    self.push(if key == "mod_dl_src" {
                        OfpAction::SetEthSrc(mac)
                    } else {
                        OfpAction::SetEthDst(mac)
                    });
                }),
            "mod_nw_src" | "mod_nw_dst" => parse_ipv4(v)
                .ok_or_else(|| format!("{v}: could not convert to IP address"))
                .map(|ip| {
                    self.push(if key == "mod_nw_src" {
                        OfpAction::SetIpv4Src(ip)
                    } else {
                        OfpAction::SetIpv4Dst(ip)
                    });
                }),
            "mod_nw_tos" => str_to_u8(v, "TOS").and_then(|tos| {
                if tos & !0xfc != 0 {
                    return Err(format!("{v}: not a valid TOS"));
                }
                self.push(OfpAction::SetIpDscp(tos));
                Ok(())
            }),
            "mod_nw_ecn" => str_to_u8(v, "ECN").and_then(|ecn| {
                if ecn & !3 != 0 {
                    return Err(format!("{v}: not a valid ECN"));
                }
                self.push(OfpAction::SetIpEcn(ecn));
                Ok(())
            }),
            "mod_nw_ttl" | "set_nw_ttl" => {
                str_to_u8(v, "TTL").map(|ttl| self.push(OfpAction::SetIpTtl(ttl)))
            }
            "mod_tp_src" => {
                str_to_u16(v, "source port").map(|port| self.push(OfpAction::SetL4SrcPort(port)))
            }
            "mod_tp_dst" => str_to_u16(v, "destination port")
                .map(|port| self.push(OfpAction::SetL4DstPort(port))),
            "move" => self.reg_move(v),
            "push" | "pop" => self.stack(v, key == "push"),
            "dec_ttl" => self.dec_ttl(v),
            "set_mpls_label" => self.mpls_label(v),
            "set_mpls_tc" => self.mpls_tc(v),
            "set_mpls_ttl" => self.mpls_ttl(v),
            "dec_mpls_ttl" => {
                self.push(OfpAction::DecMplsTtl);
                Ok(())
            }
            "push_mpls" => str_to_u16(v, "push_mpls")
                .map(|ethertype| self.push(OfpAction::PushMpls { ethertype })),
            "pop_mpls" => str_to_u16(v, "pop_mpls")
                .map(|ethertype| self.push(OfpAction::PopMpls { ethertype })),
            "set_queue" => str_to_u32(v).map(|q| self.push(OfpAction::SetQueue(q))),
            "pop_queue" => {
                self.push(OfpAction::PopQueue);
                Ok(())
            }
            "resubmit" => self.resubmit(v),
            "note" => parse_hex(v)
                .ok_or_else(|| "bad hex digit in `note' argument".to_owned())
                .map(|bytes| self.push(OfpAction::Note(bytes))),
            "exit" => {
                self.push(OfpAction::Exit);
                Ok(())
            }
            "clear_actions" => {
                self.push(OfpAction::ClearActions);
                Ok(())
            }
            "write_metadata" => self.write_metadata(v),
            "goto_table" => table_from_string(v)
                .ok_or_else(|| format!("unknown table \"{v}\""))
                .map(|t| self.push(OfpAction::GotoTable(t))),
            "apply_actions" => {
                return Err(ParseError::new(
                    "apply_actions is the default instruction",
                    item.key,
                    item.key_pos,
                ));
            }
            _ if UNSUPPORTED.contains(&key) => {
                return Err(ParseError::new(
                    format!("rvs does not support the {key} action"),
                    item.key,
                    item.key_pos,
                ));
            }
            _ => {
                let Some(port) = self.port(item.key) else {
                    return Err(ParseError::new(
                        format!("unknown action {}", item.key),
                        item.key,
                        item.key_pos,
                    ));
                };
                self.push(OfpAction::Output { port, max_len: 0 });
                Ok(())
            }
        };
        r.map_err(|message| value_error(item, message))
    }

    fn output(&mut self, arg: &str) -> Result<(), String> {
        if arg.contains("port") && arg.contains("max_len") {
            return Err("rvs does not support the output_trunc action".to_owned());
        }
        if let Some(port) = self.port(arg) {
            let max_len = if port == OFPP_CONTROLLER { u16::MAX } else { 0 };
            self.push(OfpAction::Output { port, max_len });
            return Ok(());
        }
        match parse_subfield(arg) {
            Ok(src) => {
                require_wire_encoding(&src)?;
                self.push(OfpAction::OutputReg {
                    src,
                    max_len: u16::MAX,
                });
                Ok(())
            }
            Err(_) => Err(format!("{arg}: output to unknown port")),
        }
    }

    fn controller(&mut self, arg: &str) -> Result<(), String> {
        let mut c = Controller {
            max_len: u16::MAX,
            reason: PacketInReason::Action,
            controller_id: 0,
            userdata: Vec::new(),
            pause: false,
            meter_id: None,
        };
        if !arg.is_empty() && arg.bytes().all(|b| b.is_ascii_digit()) {
            c.max_len = str_to_u16(arg, "max_len")?;
        } else {
            for kv in Lexer::new(arg) {
                match kv.key {
                    "reason" => {
                        c.reason = PacketInReason::ALL
                            .into_iter()
                            .find(|r| r.name().eq_ignore_ascii_case(kv.value))
                            .ok_or_else(|| format!("unknown reason \"{}\"", kv.value))?;
                    }
                    "max_len" => c.max_len = str_to_u16(kv.value, "max_len")?,
                    "id" => c.controller_id = str_to_u16(kv.value, "id")?,
                    "userdata" => {
                        c.userdata = parse_hex(kv.value).ok_or_else(|| {
                            "bad hex digit in `controller' action `userdata'".to_owned()
                        })?;
                    }
                    "pause" => c.pause = true,
                    "meter_id" => c.meter_id = Some(str_to_u32(kv.value)?),
                    other => {
                        return Err(format!("unknown key \"{other}\" parsing controller action"));
                    }
                }
            }
        }
        if c.meter_id == Some(u32::MAX) {
            c.meter_id = None;
        }
        if c.is_plain() {
            self.push(OfpAction::Output {
                port: OFPP_CONTROLLER,
                max_len: c.max_len,
            });
        } else {
            self.push(OfpAction::Controller(c));
        }
        Ok(())
    }

    fn enqueue(&mut self, arg: &str) -> Result<(), String> {
        let syntax =
            || "\"enqueue\" syntax is \"enqueue:PORT:QUEUE\" or \"enqueue(PORT,QUEUE)\"".to_owned();
        let is_delim = |c: char| matches!(c, ':' | 'q' | ',');
        let trimmed = arg.trim_start_matches(is_delim);
        let end = trimmed.find(is_delim).ok_or_else(syntax)?;
        let port_text = trimmed.get(..end).unwrap_or("");
        let queue_text = trimmed.get(end + 1..).unwrap_or("");
        if queue_text.is_empty() {
            return Err(syntax());
        }
        let port = self
            .port(port_text)
            .ok_or_else(|| format!("{port_text}: enqueue to unknown port"))?;
        let queue = str_to_u32(queue_text)?;
        self.push(OfpAction::Enqueue { port, queue });
        Ok(())
    }

    fn set_field(&mut self, arg: &str) -> Result<(), String> {
        let (value_text, key) = split_arrow(arg)?;
        let def =
            field_by_name(key).ok_or_else(|| format!("{key} is not a valid OXM field name"))?;
        if !is_writable(def) {
            return Err(format!("{key} is read-only"));
        }
        if !has_wire_encoding(def) {
            return Err(format!(
                "rvs does not support set_field on {key} (no NXM or OXM encoding)"
            ));
        }
        let (value, mask, integer) = parse_set_field_value(def, value_text, self.ports)?;
        if !is_value_valid(def, integer.unwrap_or(value)) {
            return Err(format!("{value_text} is not a valid value for field {key}"));
        }
        self.usable &= set_field_protocols(def);
        self.push(OfpAction::SetField(SetField {
            field: def.id,
            value,
            mask,
            as_load: false,
        }));
        Ok(())
    }

    fn load(&mut self, arg: &str) -> Result<(), String> {
        let (_, key) = split_arrow(arg)?;
        let dst = parse_subfield(key)?;
        require_wire_encoding(&dst)?;
        let def = field_def(dst.field).ok_or_else(|| format!("{key}: unknown field"))?;
        let (value, _) = parse_int_string(arg, u32::from(def.width))
            .ok_or_else(|| format!("{arg}: cannot parse integer value"))?;
        if value >> dst.n_bits.min(127) != 0 && dst.n_bits < 128 {
            let mut shown = String::new();
            format_value(&mut shown, def, value, None);
            return Err(format!(
                "{arg}: value {shown} does not fit into {} bits",
                dst.n_bits
            ));
        }
        self.push(OfpAction::SetField(SetField {
            field: dst.field,
            value: value << dst.ofs,
            mask: dst.mask(),
            as_load: true,
        }));
        Ok(())
    }

    fn vlan_vid(&mut self, arg: &str, push_if_needed: bool) -> Result<(), String> {
        let vid = str_to_u16(arg, "VLAN VID")?;
        if vid & !0x0fff != 0 {
            return Err(format!("{arg}: not a valid VLAN VID"));
        }
        self.push(OfpAction::SetVlanVid {
            vid,
            push_if_needed,
        });
        Ok(())
    }

    fn vlan_pcp(&mut self, arg: &str, push_if_needed: bool) -> Result<(), String> {
        let pcp = str_to_u8(arg, "VLAN PCP")?;
        if pcp & !7 != 0 {
            return Err(format!("{arg}: not a valid VLAN PCP"));
        }
        self.push(OfpAction::SetVlanPcp {
            pcp,
            push_if_needed,
        });
        Ok(())
    }

    fn push_vlan(&mut self, arg: &str) -> Result<(), String> {
        self.usable &= Protocols::OF11_UP;
        let ethertype = str_to_u16(arg, "ethertype")?;
        if ethertype != 0x8100 && ethertype != 0x88a8 {
            return Err(format!("{arg}: not a valid VLAN ethertype"));
        }
        self.push(OfpAction::PushVlan { ethertype });
        Ok(())
    }

    fn reg_move(&mut self, arg: &str) -> Result<(), String> {
        let (src, rest) = parse_subfield_prefix(arg)?;
        let Some(rest) = rest.strip_prefix("->") else {
            return Err(format!("{arg}: missing `->' following source"));
        };
        let dst = parse_subfield(rest)?;
        if src.n_bits != dst.n_bits {
            return Err(format!(
                "{arg}: source field is {} bits wide but destination is {} bits wide",
                src.n_bits, dst.n_bits
            ));
        }
        require_wire_encoding(&src)?;
        require_wire_encoding(&dst)?;
        self.push(OfpAction::RegMove { src, dst });
        Ok(())
    }

    fn stack(&mut self, arg: &str, push: bool) -> Result<(), String> {
        let (sf, rest) = parse_subfield_prefix(arg)?;
        if !rest.is_empty() {
            return Err(format!("{rest}: trailing garbage following push or pop"));
        }
        require_wire_encoding(&sf)?;
        self.push(if push {
            OfpAction::StackPush(sf)
        } else {
            OfpAction::StackPop(sf)
        });
        Ok(())
    }

    fn dec_ttl(&mut self, arg: &str) -> Result<(), String> {
        if arg.is_empty() {
            self.push(OfpAction::DecTtl {
                controller_ids: None,
            });
            return Ok(());
        }
        let ids: Vec<u16> = arg
            .split([',', ' '])
            .filter(|t| !t.is_empty())
            .map(atoi_u16)
            .collect();
        if ids.is_empty() {
            return Err("dec_ttl_cnt_ids: expected at least one controller id.".to_owned());
        }
        self.push(OfpAction::DecTtl {
            controller_ids: Some(ids),
        });
        Ok(())
    }

    fn mpls_label(&mut self, arg: &str) -> Result<(), String> {
        if arg.is_empty() {
            return Err("set_mpls_label: expected label.".to_owned());
        }
        let label = str_to_u32(arg)?;
        if label & !0xf_ffff != 0 {
            return Err(format!("{arg}: not a valid MPLS label"));
        }
        self.push(OfpAction::SetMplsLabel(label));
        Ok(())
    }

    fn mpls_tc(&mut self, arg: &str) -> Result<(), String> {
        if arg.is_empty() {
            return Err("set_mpls_tc: expected tc.".to_owned());
        }
        let tc = str_to_u8(arg, "MPLS TC")?;
        if tc & !7 != 0 {
            return Err(format!("{arg}: not a valid MPLS TC"));
        }
        self.push(OfpAction::SetMplsTc(tc));
        Ok(())
    }

    fn mpls_ttl(&mut self, arg: &str) -> Result<(), String> {
        if arg.is_empty() {
            return Err("set_mpls_ttl: expected ttl.".to_owned());
        }
        let ttl = str_to_u8(arg, "MPLS TTL")?;
        self.push(OfpAction::SetMplsTtl(ttl));
        Ok(())
    }

    fn resubmit(&mut self, arg: &str) -> Result<(), String> {
        let mut parts = arg.splitn(3, ',');
        let in_port = match parts.next().filter(|s| !s.is_empty()) {
            Some(p) => self
                .port(p)
                .ok_or_else(|| format!("{p}: resubmit to unknown port"))?,
            None => OFPP_IN_PORT,
        };
        let table = match parts.next().filter(|s| !s.is_empty()) {
            Some(t) => Some(
                table_from_string(t).ok_or_else(|| format!("{t}: resubmit to unknown table"))?,
            )
            .filter(|t| *t != 255),
            None => None,
        };
        let ct_text = parts.next().and_then(|s| s.split(',').next());
        let ct = match ct_text.filter(|s| !s.is_empty()) {
            Some("ct") => true,
            Some(other) => return Err(format!("{other}: unknown parameter")),
            None => false,
        };
        if in_port == OFPP_IN_PORT && table.is_none() {
            return Err(
                "at least one \"in_port\" or \"table\" must be specified on resubmit".to_owned(),
            );
        }
        self.push(OfpAction::Resubmit { in_port, table, ct });
        Ok(())
    }

    fn write_metadata(&mut self, arg: &str) -> Result<(), String> {
        self.usable &= Protocols::NXM_OF11_UP;
        let (value_text, mask) = match arg.split_once('/') {
            Some((v, m)) => (v, str_to_u64(m)?),
            None => (arg, u64::MAX),
        };
        let value = str_to_u64(value_text)?;
        self.push(OfpAction::WriteMetadata { value, mask });
        Ok(())
    }
}

/// Splits `VALUE->FIELD` as `set_field_split_str` does.
fn split_arrow(arg: &str) -> Result<(&str, &str), String> {
    let Some(at) = arg.find("->") else {
        return Err(format!("{arg}: missing `->'"));
    };
    let key = arg.get(at + 2..).unwrap_or("");
    if key.is_empty() {
        return Err(format!("{arg}: missing field name following `->'"));
    }
    Ok((arg.get(..at).unwrap_or(""), key))
}

/// Refuses subfields of fields Open vSwitch cannot put on the wire (its switch rejects them
/// with `OFPBMC_BAD_FIELD` or `OFPBAC_BAD_SET_LEN`).
fn require_wire_encoding(sf: &Subfield) -> Result<(), String> {
    match field_def(sf.field) {
        Some(def) if has_wire_encoding(def) => Ok(()),
        Some(def) => Err(format!(
            "rvs does not support field {} in actions (no NXM or OXM encoding)",
            def.name
        )),
        None => Err("unknown field".to_owned()),
    }
}

/// The protocols a `set_field` on `def` can be sent in (OpenFlow 1.0's own fields are in
/// every protocol, the others need NXM or OXM).
fn set_field_protocols(def: &FieldDef) -> Protocols {
    match def.id {
        FieldId::InPort
        | FieldId::EthSrc
        | FieldId::EthDst
        | FieldId::VlanVid
        | FieldId::VlanPcp
        | FieldId::Ipv4Src
        | FieldId::Ipv4Dst
        | FieldId::IpDscp
        | FieldId::IpDscpShifted
        | FieldId::TcpSrc
        | FieldId::TcpDst
        | FieldId::UdpSrc
        | FieldId::UdpDst
        | FieldId::Icmpv4Type
        | FieldId::Icmpv4Code
        | FieldId::ArpOp
        | FieldId::ArpSpa
        | FieldId::ArpTpa => Protocols::ANY,
        _ => Protocols::NXM_OXM_ANY,
    }
}

/// `ofputil_table_from_string` without table names: a decimal table number 0..=255.
pub(crate) fn table_from_string(s: &str) -> Option<u8> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<u8>().ok()
}

/// `ofpbuf_put_hex` over the whole string: pairs of hex digits, optionally separated by
/// white space or dots. `None` if anything else is left.
pub(crate) fn parse_hex(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        while matches!(b.get(i), Some(b' ' | b'.' | b'\t' | b'\r' | b'\n')) {
            i += 1;
        }
        let hi = b.get(i).and_then(|c| char::from(*c).to_digit(16));
        let lo = b.get(i + 1).and_then(|c| char::from(*c).to_digit(16));
        let (Some(hi), Some(lo)) = (hi, lo) else {
            return (i >= b.len()).then_some(out);
        };
        out.push(u8::try_from(hi * 16 + lo).ok()?);
        i += 2;
    }
}

/// C's `atoi` cast to `uint16_t`: leading white space, optional sign, decimal digits; anything
/// unparsable is 0.
#[allow(clippy::cast_possible_truncation)]
fn atoi_u16(s: &str) -> u16 {
    let t = s.trim_start();
    let (negative, digits) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let n = digits
        .bytes()
        .take_while(u8::is_ascii_digit)
        .fold(0i64, |acc, d| {
            acc.saturating_mul(10).saturating_add(i64::from(d - b'0'))
        });
    let n = i32::try_from(n).unwrap_or(i32::MAX);
    (if negative { n.wrapping_neg() } else { n }) as u16
}

/// `str_to_u16(value, name)` for flow keywords (`priority`, `idle_timeout`, ...): a C integer
/// in 0..=65535, else "invalid NAME \"VALUE\"".
pub fn keyword_u16(value: &str, name: &str) -> Result<u16, String> {
    str_to_u16(value, name)
}

/// `str_to_u64` for flow keywords (`cookie`): a C integer (`-1` is all ones), else
/// "invalid numeric format VALUE".
pub fn keyword_u64(value: &str) -> Result<u64, String> {
    str_to_u64(value)
}

/// `str_to_mac`: six `%hhx` conversions separated by `:` (C `scanf` rules: optional sign and
/// `0x`, any number of digits, the low byte kept); text after the sixth is ignored.
fn scan_mac(s: &str) -> Option<[u8; 6]> {
    let b = s.as_bytes();
    let mut i = 0;
    let mut mac = [0u8; 6];
    for (k, byte) in mac.iter_mut().enumerate() {
        if k > 0 {
            if b.get(i) != Some(&b':') {
                return None;
            }
            i += 1;
        }
        while b.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        let negative = b.get(i) == Some(&b'-');
        if matches!(b.get(i), Some(b'-' | b'+')) {
            i += 1;
        }
        if b.get(i) == Some(&b'0')
            && matches!(b.get(i + 1), Some(b'x' | b'X'))
            && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit)
        {
            i += 2;
        }
        let start = i;
        let mut value: u64 = 0;
        while let Some(d) = b.get(i).and_then(|c| char::from(*c).to_digit(16)) {
            value = value.wrapping_mul(16).wrapping_add(u64::from(d));
            i += 1;
        }
        if i == start {
            return None;
        }
        let value = if negative {
            value.wrapping_neg()
        } else {
            value
        };
        *byte = value.to_le_bytes()[0];
    }
    Some(mac)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macs_scan_like_ovs() {
        // `ovs-ofctl parse-flow 'ip,actions=mod_dl_src:...'` on OVS 3.1.
        let ok = [
            ("0:1:2:3:4:5", [0, 1, 2, 3, 4, 5]),
            ("00:11:22:33:44:55:66", [0, 0x11, 0x22, 0x33, 0x44, 0x55]),
            ("00:11:22:33:44:55xyz", [0, 0x11, 0x22, 0x33, 0x44, 0x55]),
            ("000:11:22:33:44:55", [0, 0x11, 0x22, 0x33, 0x44, 0x55]),
            ("0x1:2:3:4:5:6", [1, 2, 3, 4, 5, 6]),
            ("-1:2:3:4:5:6", [0xff, 2, 3, 4, 5, 6]),
            ("1ff:2:3:4:5:6", [0xff, 2, 3, 4, 5, 6]),
            ("+1:2:3:4:5:6", [1, 2, 3, 4, 5, 6]),
        ];
        for (text, mac) in ok {
            assert_eq!(scan_mac(text), Some(mac), "{text}");
        }
        for bad in ["", "1:2:3:4:5", "1:2:3:4:5:g"] {
            assert_eq!(scan_mac(bad), None, "{bad}");
        }
    }

    #[test]
    fn empty_set_field_values_fail_like_ovs() {
        // `ovs-ofctl parse-flow 'tcp6,actions=set_field:->F'` on OVS 3.1.
        for (field, message) in [
            ("reg0", ": bad syntax for reg0 value"),
            ("ip_src", ": invalid IP address"),
            ("eth_src", ": invalid Ethernet address"),
            ("in_port", ": invalid or unknown port for in_port"),
            ("ipv6_src", ": invalid IPv6 address"),
            ("tcp_dst", ": bad syntax for tcp_dst value"),
        ] {
            let e = parse_actions(&format!("set_field:->{field}"), None).expect_err(field);
            assert_eq!(e.message(), message);
        }
    }
}
