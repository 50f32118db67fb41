//! Building a [`Match`] from flow text items, in the two ways Open vSwitch does it.
//!
//! * [`MatchBuilder`] follows `ovs-ofctl add-flow` (`parse_ofp_str`): items apply in order, a later
//!   item overrides an earlier one, protocol shorthands and fields may come in any order, and
//!   fields whose prerequisites end up unmet are dropped when the match is finished
//!   ([`normalize`]), as the OpenFlow encoding drops them. Keys that are not match fields are
//!   handed back ([`Applied::NotMatch`]) so the OpenFlow rule parser can take `priority=`,
//!   `table=`, `actions=`, ...
//! * [`parse_exact_flow`] follows `parse_ofp_exact_flow` (`ofproto/trace`, `dpctl/dump-flows
//!   filter=`): no masks, each field at most once, each after its prerequisites, with OVS's errors.
//!
//! # Invariants
//! * Every error is a [`ParseError`] whose message is OVS's text and whose token/position point at
//!   the offending key or value in the input.
//! * A finished match has its flow masked by its wildcards and only fields that OVS would keep.

use super::apply::{get_flow_value, set_default_packet_type, set_field, set_flow_value};
use super::fields::{FieldDef, FieldId, Protocol, field_by_name, protocol_by_name};
use super::lexer::{Item, Lexer};
use super::port::{OFPP_NONE, PortLookup};
use super::prereq::{Undecodable, UndecodableField, check_decodable, normalize, prerequisites_ok};
use super::printer::OFP_DEFAULT_PRIORITY;
use super::scan::str_to_llong;
use super::value::{all_ones, parse_field_value};
use crate::flow::{Flow, Match, Wildcards, tcp_flags};
use crate::text::ParseError;

/// What [`MatchBuilder::apply`] did with an item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applied {
    /// A protocol shorthand such as `tcp`.
    Protocol(&'static Protocol),
    /// The `eth` keyword (match Ethernet packets).
    PacketTypeEth,
    /// A match field.
    Field(&'static FieldDef),
    /// A keyword `ovs-ofctl` accepts and ignores (`no_readonly_table`, `allow_hidden_fields`).
    Ignored,
    /// Not part of a match (e.g. `priority`, `table`, `actions`, or unknown): the caller decides.
    NotMatch,
}

/// Where an applied field item came from, for errors found only when finishing.
#[derive(Clone, Debug)]
struct Origin {
    id: FieldId,
    key: String,
    pos: usize,
}

/// Accumulates match items the way `ovs-ofctl add-flow` does.
#[derive(Default)]
pub struct MatchBuilder<'a> {
    raw: Match,
    ports: Option<PortLookup<'a>>,
    origins: Vec<Origin>,
}

impl std::fmt::Debug for MatchBuilder<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MatchBuilder")
            .field("raw", &self.raw)
            .field("origins", &self.origins)
            .finish()
    }
}

impl<'a> MatchBuilder<'a> {
    /// An empty (catch-all) builder.
    pub fn new() -> MatchBuilder<'a> {
        MatchBuilder::default()
    }

    /// Resolves port names (e.g. `in_port=p1`) with `lookup`.
    pub fn with_port_lookup(mut self, lookup: PortLookup<'a>) -> MatchBuilder<'a> {
        self.ports = Some(lookup);
        self
    }

    /// The match as parsed so far, before normalization.
    pub fn raw(&self) -> &Match {
        &self.raw
    }

    /// Applies one item. Field values are parsed and set; an empty value means "match any"
    /// (as `0/0`). Returns what the item was; errors carry OVS's message.
    pub fn apply(&mut self, item: &Item<'_>) -> Result<Applied, ParseError> {
        if let Some(p) = protocol_by_name(item.key) {
            set_field(
                FieldId::EthType,
                2,
                masked_exact(2, u128::from(p.dl_type)),
                &mut self.raw,
            );
            if p.nw_proto != 0 {
                set_field(
                    FieldId::IpProto,
                    1,
                    masked_exact(1, u128::from(p.nw_proto)),
                    &mut self.raw,
                );
            }
            set_default_packet_type(&mut self.raw);
            return Ok(Applied::Protocol(p));
        }
        if item.key == "eth" {
            set_field(
                FieldId::PacketType,
                4,
                masked_exact(4, u128::from(crate::flow::PT_ETH)),
                &mut self.raw,
            );
            return Ok(Applied::PacketTypeEth);
        }
        if item.key == "no_readonly_table" || item.key == "allow_hidden_fields" {
            return Ok(Applied::Ignored);
        }
        let Some(def) = field_by_name(item.key) else {
            return Ok(Applied::NotMatch);
        };
        let text = if item.value.is_empty() {
            "0/0"
        } else {
            item.value
        };
        let parsed = parse_field_value(def, text, self.ports)
            .map_err(|msg| ParseError::new(msg, item.value, item.value_pos))?;
        set_field(def.id, def.width, parsed, &mut self.raw);
        if def.prereq != super::fields::Prereq::None {
            set_default_packet_type(&mut self.raw);
        }
        self.origins.push(Origin {
            id: def.id,
            key: item.key.to_owned(),
            pos: item.key_pos,
        });
        Ok(Applied::Field(def))
    }

    /// Finishes the match: rejects what an OpenFlow switch would refuse to decode
    /// (`OFPBMC_BAD_PREREQ`, `OFPBMC_BAD_VALUE`) and drops fields whose prerequisites are not met.
    pub fn finish(self) -> Result<Match, ParseError> {
        self.finish_with_report().map(|(m, _)| m)
    }

    /// Like [`MatchBuilder::finish`], also telling whether normalization changed the match
    /// (OVS logs "normalization changed ofp_match" then).
    pub fn finish_with_report(self) -> Result<(Match, bool), ParseError> {
        if let Err(why) = check_decodable(&self.raw) {
            return Err(self.undecodable_error(why));
        }
        let normalized = normalize(&self.raw);
        let changed = normalized != Match::new(&self.raw.flow, &self.raw.wc);
        Ok((normalized, changed))
    }

    fn undecodable_error(&self, why: Undecodable) -> ParseError {
        let touches = |id: FieldId| match why.field() {
            UndecodableField::Ipv6Label => id == FieldId::Ipv6Label,
            UndecodableField::Transport => matches!(
                id,
                FieldId::TcpSrc
                    | FieldId::TcpDst
                    | FieldId::UdpSrc
                    | FieldId::UdpDst
                    | FieldId::SctpSrc
                    | FieldId::SctpDst
                    | FieldId::TcpFlags
                    | FieldId::Icmpv4Type
                    | FieldId::Icmpv4Code
                    | FieldId::Icmpv6Type
                    | FieldId::Icmpv6Code
            ),
            UndecodableField::Ethernet => matches!(
                id,
                FieldId::EthSrc
                    | FieldId::EthDst
                    | FieldId::EthType
                    | FieldId::VlanTci
                    | FieldId::DlVlan
                    | FieldId::VlanVid
                    | FieldId::DlVlanPcp
                    | FieldId::VlanPcp
            ),
        };
        match self.origins.iter().rev().find(|o| touches(o.id)) {
            Some(o) => ParseError::new(why.error_name(), o.key.clone(), o.pos),
            None => ParseError::new(why.error_name(), "", 0),
        }
    }
}

fn masked_exact(width: u8, value: u128) -> super::value::Masked {
    super::value::Masked {
        value,
        mask: all_ones(width),
    }
}

/// The error for an item that is not part of a match: OVS's "missing value" or "unknown keyword".
pub fn not_a_match_error(item: &Item<'_>) -> ParseError {
    if item.value.is_empty() {
        ParseError::new(
            format!("field {} missing value", item.key),
            item.key,
            item.key_pos,
        )
    } else {
        ParseError::new(
            format!("unknown keyword {}", item.key),
            item.key,
            item.key_pos,
        )
    }
}

/// Parses a pure match string such as `tcp,nw_dst=10.0.0.0/24,tp_dst=80` with `ovs-ofctl`
/// semantics. Anything that is not a match field (including `priority`) is an error.
pub fn parse_match(s: &str) -> Result<Match, ParseError> {
    let mut builder = MatchBuilder::new();
    for item in Lexer::new(s) {
        if builder.apply(&item)? == Applied::NotMatch {
            return Err(not_a_match_error(&item));
        }
    }
    builder.finish()
}

/// Parses a match that may also carry `priority=N` (as `dump-flows` prints it). Returns the
/// match and the priority (32768 if absent).
pub fn parse_match_and_priority(s: &str) -> Result<(Match, u16), ParseError> {
    let mut builder = MatchBuilder::new();
    let mut priority = OFP_DEFAULT_PRIORITY;
    for item in Lexer::new(s) {
        if builder.apply(&item)? != Applied::NotMatch {
            continue;
        }
        if item.key != "priority" || item.value.is_empty() {
            return Err(not_a_match_error(&item));
        }
        priority = parse_u16_keyword(item.value).ok_or_else(|| {
            ParseError::new(
                format!("invalid priority \"{}\"", item.value),
                item.value,
                item.value_pos,
            )
        })?;
    }
    Ok((builder.finish()?, priority))
}

/// OVS's `str_to_u16`: a C integer (`0x` hex, `0` octal) in 0..=65535; `None` otherwise.
pub fn parse_u16_keyword(value: &str) -> Option<u16> {
    str_to_llong(value, 0)
        .filter(|v| i32::try_from(*v).is_ok())
        .and_then(|v| u16::try_from(v).ok())
}

/// A flow as `ofproto/trace` takes it: field values plus which fields were given.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExactFlow {
    /// The packet-like flow. `in_port` is [`OFPP_NONE`] if the text did not give one.
    pub flow: Flow,
    /// 1 bits for the fields the text set.
    pub wc: Wildcards,
}

/// Parses `field=value,...` as `parse_ofp_exact_flow` does: protocol shorthands and fields, each
/// set once, in an order that establishes prerequisites first; no masks. Errors are prefixed with
/// the whole input, as OVS prints them.
pub fn parse_exact_flow(s: &str, ports: Option<PortLookup<'_>>) -> Result<ExactFlow, ParseError> {
    let mut out = ExactFlow::default();
    let (flow, wc) = (&mut out.flow, &mut out.wc.masks);
    let whole = s.split('\0').next().unwrap_or("");
    for item in Lexer::new(s) {
        let fail = |msg: String, token: &str, pos: usize| {
            ParseError::new(format!("{whole}: {msg}"), token, pos)
        };
        if let Some(p) = protocol_by_name(item.key) {
            if flow.dl_type != 0 {
                return Err(fail(
                    "Ethernet type set multiple times".into(),
                    item.key,
                    item.key_pos,
                ));
            }
            flow.dl_type = p.dl_type;
            wc.dl_type = u16::MAX;
            if p.nw_proto != 0 {
                if flow.nw_proto != 0 {
                    return Err(fail(
                        "network protocol set multiple times".into(),
                        item.key,
                        item.key_pos,
                    ));
                }
                flow.nw_proto = p.nw_proto;
                wc.nw_proto = u8::MAX;
            }
            continue;
        }
        let Some(def) = field_by_name(item.key) else {
            return Err(fail(
                format!("unknown field {}", item.key),
                item.key,
                item.key_pos,
            ));
        };
        if !prerequisites_ok(def.prereq, flow) {
            return Err(fail(
                format!("prerequisites not met for setting {}", item.key),
                item.key,
                item.key_pos,
            ));
        }
        if get_flow_value(def.id, flow) != 0 {
            return Err(fail(
                format!("field {} set multiple times", item.key),
                item.key,
                item.key_pos,
            ));
        }
        let parsed = parse_field_value(def, item.value, ports)
            .and_then(|p| {
                if p.mask == all_ones(def.width) {
                    Ok(p.value)
                } else {
                    Err(format!("{}: wildcards not allowed here", item.value))
                }
            })
            .map_err(|msg| {
                fail(
                    format!("bad value for {} ({msg})", item.key),
                    item.value,
                    item.value_pos,
                )
            })?;
        set_flow_value(def.id, parsed, flow);
        let all = if def.id == FieldId::DlVlan {
            0x0fff
        } else {
            all_ones(def.width)
        };
        set_flow_value(def.id, all, wc);
    }
    wc.tcp_flags &= tcp_flags::MASK;
    wc.vlans[0].tpid = 0;
    if flow.in_port == 0 {
        flow.in_port = u32::from(OFPP_NONE);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_items_override_earlier_ones() {
        let m = parse_match("tcp,tp_dst=80,udp").expect("parses");
        assert_eq!((m.flow.nw_proto, m.flow.tp_dst), (17, 80));
        let m = parse_match("ip,nw_src=1.2.3.4,nw_src=5.6.7.8/8").expect("parses");
        assert_eq!(
            (m.flow.nw_src, m.wc.masks.nw_src),
            (0x0500_0000, 0xff00_0000)
        );
    }

    #[test]
    fn builder_hands_back_non_match_keys() {
        let mut b = MatchBuilder::new();
        let items: Vec<Item<'_>> = Lexer::new("table=3,ip,priority=5,no_readonly_table").collect();
        let applied: Vec<Applied> = items.iter().map(|i| b.apply(i).expect("applies")).collect();
        assert_eq!(applied[0], Applied::NotMatch);
        assert!(matches!(applied[1], Applied::Protocol(p) if p.name == "ip"));
        assert_eq!(applied[2], Applied::NotMatch);
        assert_eq!(applied[3], Applied::Ignored);
    }

    #[test]
    fn names_resolve_with_a_lookup() {
        let lookup = |n: &str| (n == "p3").then_some(3u16);
        let mut b = MatchBuilder::new().with_port_lookup(&lookup);
        let item = Lexer::new("in_port=p3").next().expect("one item");
        b.apply(&item).expect("known name");
        assert_eq!(b.finish().expect("valid").flow.in_port, 3);
    }

    #[test]
    fn exact_flow_sets_values_and_masks() {
        let x = parse_exact_flow("in_port=1,icmp,icmp_type=8,dl_vlan=5", None).expect("parses");
        assert_eq!(
            (x.flow.in_port, x.flow.tp_src, x.flow.vlans[0].tci),
            (1, 8, 0x1005)
        );
        assert_eq!((x.wc.masks.tp_src, x.wc.masks.vlans[0].tci), (0xff, 0x1fff));
        assert_eq!(
            parse_exact_flow("ip", None).expect("parses").flow.in_port,
            u32::from(OFPP_NONE)
        );
        // The same field may be given twice when the first value was zero, as in OVS.
        assert!(parse_exact_flow("ip,nw_src=0.0.0.0,nw_src=1.2.3.4", None).is_ok());
    }
}
