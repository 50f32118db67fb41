//! The datapath flow text of Open vSwitch, both ways: what `ovs-appctl dpctl/dump-flows [-m]`
//! prints and what `dpctl/add-flow` reads.
//!
//! A datapath flow is a [`Flow`] key (the full, unmasked flow of the packet that created it) and a
//! [`Wildcards`] mask. Printing goes the way OVS goes: the key decides which attributes exist
//! (`eth_type` only for Ethernet II, L4 only for IP non-later fragments, `vlan`+`encap(...)` per
//! VLAN header, `packet_type` always, ...), the mask supplies each attribute's mask, and the
//! omission rules of `odp_flow_format` decide what is shown. Parsing reads the attributes, then
//! checks and decodes them as OVS's `odp_flow_key_to_flow`/`_to_mask` do.
//!
//! * [`format_key`] / [`parse_key`] (what `dpctl/add-flow` accepts) / [`parse_dumped_key`] (what
//!   a dump prints, where fully wildcarded attributes may be left out): the key and mask text
//!   (`in_port(1),eth_type(0x0800),...`).
//! * [`OdpAction`], [`format_actions`] / [`parse_actions`]: datapath actions.
//! * [`format_dump_line`] / [`parse_dump_line`]: one `dpctl/dump-flows` line with stats.
//!
//! # Invariants
//! * Text OVS 3.1 prints for a datapath flow parses back and prints byte for byte identically
//!   (with [`KeyOrder::Ovs31`]; names need the same [`PortNames`]); `tests/odp_oracle.rs` checks
//!   this on captured OVS output.
//! * Verbose output of a flow and mask parses back to a flow and mask that print the same text and
//!   the same attributes, provided the mask is one a datapath accepts: `recirc_id` exact, L3 only
//!   under an exact Ethertype, L4 only under an exact IP protocol, a nonzero fragment type matched.
//!   Terse output does so too when `in_port`, `packet_type` and the Ethertype are exact (and the
//!   fragment type, for IP), as in every megaflow OVS installs: terse text cannot say more.
//! * Parsers never panic and report failures as [`ParseError`] with a byte position.
//! * Differences from OVS's parser, all so that OVS's own output reads back: an explicit
//!   `packet_type` is kept when there is no `eth()`; `eth_type(0/0xffff)` means an 802.3 frame;
//!   `recirc(0x..)`, `hash(..)`, `push_mpls(..)`, `pop_mpls(..)`, comma-separated slow-path
//!   reasons and `actions(drop)` are read. A dumped `tcp_flags(0/0)` hides the key's flags; it is
//!   read as SYN.
//! * Not supported: tunnels, NSH, conntrack original tuples (`ct_tuple4/6`, which OVS prints after
//!   a `ct` recirculation), ND extensions, more than one MPLS label stack entry, conntrack NAT and
//!   `check_pkt_len`/`push_eth`/tunnel actions. They are never printed and are rejected when read.

mod actions;
mod attr;
mod build;
mod decode;
mod dump;
mod flags;
mod key_format;
mod key_parse;
mod scan;

pub use actions::{
    ControllerCookie, CookieKind, CtAction, HashAlg, OdpAction, SampleDirection, Userdata,
    UserdataCookie, UserspaceAction, format_actions, parse_actions,
};
pub use attr::KeyAttrKind;
pub use dump::{
    DpFlowStats, DumpExtras, DumpLine, format_dump_line, format_stats, parse_dump_line,
};

use crate::flow::{Flow, Wildcards};
use crate::text::ParseError;

/// Which Open vSwitch release's key layout to follow when printing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum KeyOrder {
    /// Current OVS (commit d57299fc6 onwards, and the examples of the reference): `recirc_id`,
    /// `dp_hash`, `skb_priority`, `in_port`, `skb_mark`, `ct_*`, `packet_type`, ...; an ND mask is
    /// reported when the ICMPv6 type is matched exactly.
    #[default]
    Current,
    /// OVS 3.1 (the oracle): `skb_priority`, `skb_mark`, `ct_*`, `recirc_id`, `dp_hash`,
    /// `in_port`, `packet_type`, ...; an ND mask is reported only when both ICMPv6 type and code
    /// are matched exactly.
    Ovs31,
}

/// Maps datapath port numbers to names and back (what `--names` uses).
pub trait PortNames {
    /// The name of port `port`, if it has one.
    fn port_name(&self, port: u32) -> Option<&str>;
    /// The number of the port called `name`, if any.
    fn port_number(&self, name: &str) -> Option<u32>;
}

impl PortNames for [(u32, &str)] {
    fn port_name(&self, port: u32) -> Option<&str> {
        self.iter().find(|(n, _)| *n == port).map(|(_, name)| *name)
    }

    fn port_number(&self, name: &str) -> Option<u32> {
        self.iter().find(|(_, n)| *n == name).map(|(port, _)| *port)
    }
}

impl PortNames for &[(u32, &str)] {
    fn port_name(&self, port: u32) -> Option<&str> {
        (**self).port_name(port)
    }

    fn port_number(&self, name: &str) -> Option<u32> {
        (**self).port_number(name)
    }
}

impl PortNames for Vec<(u32, String)> {
    fn port_name(&self, port: u32) -> Option<&str> {
        self.iter()
            .find(|(n, _)| *n == port)
            .map(|(_, name)| name.as_str())
    }

    fn port_number(&self, name: &str) -> Option<u32> {
        self.iter().find(|(_, n)| n == name).map(|(port, _)| *port)
    }
}

/// How to print.
#[derive(Clone, Copy, Default)]
pub struct FormatOptions<'a> {
    /// `-m`: print wildcarded fields as `value/0` and fully wildcarded attributes; in a dump line,
    /// also the UFID, `dp:` and `dp-extra-info:`.
    pub verbose: bool,
    /// Attribute order (and release quirks) to follow.
    pub key_order: KeyOrder,
    /// Port names for `in_port` and `output` actions; numbers when `None` or unnamed.
    pub port_names: Option<&'a dyn PortNames>,
}

/// Appends the key text of `flow`, masked by `mask`.
///
/// With `mask == None` the key is printed alone, every field exact (the `miss upcall:` form, which
/// OVS prints verbose).
pub fn format_key(
    out: &mut String,
    flow: &Flow,
    mask: Option<&Wildcards>,
    opts: &FormatOptions<'_>,
) {
    let ctx = key_format::Ctx {
        ports: opts.port_names,
        verbose: opts.verbose,
    };
    let masks = mask.map(|m| &m.masks);
    let key = build::build(flow, masks, false, opts.key_order);
    match masks {
        Some(m) => {
            let mask_attrs = build::build(flow, Some(m), true, opts.key_order);
            key_format::format_list(out, &key, Some(&mask_attrs), ctx);
        }
        None => key_format::format_list(out, &key, None, ctx),
    }
}

/// Parses key text (as printed by [`format_key`] or written for `dpctl/add-flow`) into the flow
/// and its mask.
///
/// Fields that are not written are wildcarded, `recirc_id` is exact unless written otherwise, and a
/// key without VLAN matches "no VLAN" exactly. Attributes may come in any order. Port names are
/// looked up in `port_names`.
pub fn parse_key(
    text: &str,
    port_names: Option<&dyn PortNames>,
) -> Result<(Flow, Wildcards), ParseError> {
    parse_key_at(text, 0, text.len(), port_names, false)
}

/// Parses key text as `dpctl/dump-flows` prints it: like [`parse_key`], except that an attribute
/// the key implies may be missing (terse output omits fully wildcarded attributes, such as
/// `tcp(...)` under `ipv4(proto=6)` when no port is matched); it is then taken as all zero and
/// fully wildcarded.
pub fn parse_dumped_key(
    text: &str,
    port_names: Option<&dyn PortNames>,
) -> Result<(Flow, Wildcards), ParseError> {
    parse_key_at(text, 0, text.len(), port_names, true)
}

/// Parses the key in `text[start..end]`, reporting positions in `text`.
pub(crate) fn parse_key_at(
    text: &str,
    start: usize,
    end: usize,
    port_names: Option<&dyn PortNames>,
    lenient: bool,
) -> Result<(Flow, Wildcards), ParseError> {
    let slice = text.get(..end).unwrap_or(text);
    let mut c = scan::Cursor::new(slice, start);
    let list = key_parse::parse_list(&mut c, port_names)
        .map_err(|(attr_start, at)| syntax_error(text, attr_start, at))?;
    if list.is_empty() {
        return Err(ParseError::new("empty flow key", "", start));
    }
    let key = decode::Decoder {
        text,
        is_mask: false,
        lenient,
    }
    .decode(&list, None, end)?;
    let mask = decode::Decoder {
        text,
        is_mask: true,
        lenient,
    }
    .decode(&list, Some(&key), end)?;
    Ok((key, Wildcards { masks: mask }))
}

/// OVS's `syntax error at <rest of the text from the failing attribute>`, positioned at the byte
/// that could not be read.
pub(crate) fn syntax_error(text: &str, attr_start: usize, at: usize) -> ParseError {
    let rest = text.get(attr_start..).unwrap_or("");
    ParseError::new(format!("syntax error at {rest}"), token_at(text, at), at)
}

/// The token starting at `pos`: up to the next delimiter or parenthesis, at most 40 bytes.
pub(crate) fn token_at(text: &str, pos: usize) -> String {
    let rest = text.get(pos..).unwrap_or("");
    let end = rest
        .char_indices()
        .find(|(i, ch)| *i >= 40 || matches!(ch, ',' | ' ' | '(' | ')' | '\t' | '\r' | '\n'))
        .map_or(rest.len(), |(i, _)| i.max(1).min(rest.len()));
    let end = (0..=end)
        .rev()
        .find(|i| rest.is_char_boundary(*i))
        .unwrap_or(0);
    rest.get(..end).unwrap_or("").to_string()
}

#[cfg(test)]
mod tests;
