//! The `ovs-ofctl` match syntax, both ways: `tcp,nw_dst=10.0.0.0/24,tp_dst=80` ⇄ [`Match`].
//!
//! * [`lexer`]: items of flow text (`key=value`, `key:value`, `key(value)`, bare keywords) with byte
//!   positions, and [`split_actions`]; shared with the OpenFlow rule parser.
//! * [`fields`]: the field table (names and aliases of Open vSwitch 3.1, widths, maskability,
//!   value syntax, prerequisites, storage in [`Flow`](crate::Flow)) and the protocol shorthands.
//! * [`parser`]: [`MatchBuilder`] (one item at a time, `ovs-ofctl add-flow` semantics),
//!   [`parse_match`], [`parse_match_and_priority`] and the strict [`parse_exact_flow`].
//! * [`printer`]: [`format_match`], OVS's `match_format` (also the `Megaflow:` line of
//!   `ofproto/trace`, see [`format_megaflow`]).
//! * [`prereq`]: prerequisites, [`normalize`] (fields whose prerequisites are unmet are dropped,
//!   as OVS's OpenFlow encoding drops them) and the combinations a switch refuses.
//! * [`port`]: OpenFlow port numbers and reserved names.
//!
//! # Invariants
//! * `parse_match(&format_match(m))` gives back `m` for every match `parse_match` can produce,
//!   up to the Ethernet packet type, which OVS prints only once `recirc_id` is matched. The one
//!   exception is OVS's own: a non-CIDR IPv6 mask whose text starts with a decimal digit
//!   (`::/1000::`) reads back as a prefix length and fails, in OVS as here.
//! * Parsing never panics; every failure is a [`ParseError`](crate::ParseError) with OVS's message
//!   text, the offending token and its byte position.
//! * The printed text is byte for byte what `ovs-ofctl` 3.1 prints for the same match.

pub mod fields;
pub mod lexer;
pub mod parser;
pub mod port;
pub mod prereq;
pub mod printer;

mod apply;

pub use apply::{get_flow_value, set_flow_value};
mod scan;
mod value;

#[cfg(test)]
mod tests;

pub use fields::{
    FieldDef, FieldId, Prereq, Protocol, ValueSyntax, field_by_name, protocol_by_name,
};
pub use lexer::{ActionSplit, Item, ItemForm, Lexer, split_actions};
pub use parser::{
    Applied, ExactFlow, MatchBuilder, not_a_match_error, parse_exact_flow, parse_match,
    parse_match_and_priority, parse_u16_keyword,
};
pub use port::PortLookup;
pub use prereq::{check_decodable, normalize, prerequisites_ok};
pub use printer::{OFP_DEFAULT_PRIORITY, format_match, format_megaflow, match_to_string};
