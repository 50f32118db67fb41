//! `ofproto/trace` as the control socket receives it: the argument forms of OVS 3.1's
//! `parse_flow_and_packet` (`[dpname] odp_flow [packet]`, `bridge br_flow [packet]`,
//! `-generate`), their error texts, and the trace text of `rvs_ofproto::xlate::trace`.
//!
//! # Invariants
//! * A trace has no side effects: no MAC learning, no rule statistics, no change hook.
//! * Every malformed argument list gets OVS's error text, never a panic.
//!
//! Partial: `--l7`, `--l7-len`, `--ct-next`, `--consistent` and `--names` are accepted and
//! ignored; a packet argument only replaces the flow's header fields (nothing is executed).

use rvs_flow::Flow;
use rvs_flow::extract::{PacketMetadata, extract};
use rvs_flow::odp::parse_key;
use rvs_flow::ofp_match::parse_exact_flow;
use rvs_ofproto::xlate::trace::{trace, trace_ofp_flow};
use rvs_ofproto::xlate::{Translator as BridgeTranslator, XlateInput};

use super::OfprotoDpif;
use super::bridge::BridgeState;

/// Ethernet header length: the shortest packet a trace accepts.
const ETH_HEADER_LEN: usize = 14;

/// A hex packet as `eth_from_hex` reads it (pairs of hex digits, blanks allowed between
/// bytes).
fn packet_from_hex(text: &str) -> Result<Vec<u8>, &'static str> {
    let mut bytes = Vec::new();
    let mut chars = text.chars().filter(|c| !c.is_ascii_whitespace()).peekable();
    while let Some(hi) = chars.next() {
        let (Some(h), Some(l)) = (hi.to_digit(16), chars.peek().and_then(|c| c.to_digit(16)))
        else {
            return Err("Trailing garbage in packet data");
        };
        chars.next();
        bytes.push(u8::try_from(h * 16 + l).unwrap_or(0));
    }
    if bytes.len() < ETH_HEADER_LEN {
        return Err("Packet data too short for Ethernet");
    }
    Ok(bytes)
}

/// Options that take a value.
const OPTIONS_WITH_VALUE: [&str; 3] = ["--l7", "--l7-len", "--ct-next"];

impl OfprotoDpif {
    /// `ofproto/trace` with the control socket's arguments (`br0 in_port=1,ip,...` or
    /// `[dpname] in_port(1),eth(...),...`, optionally `-generate` or a trailing hex packet):
    /// OVS's trace text, or OVS's error text.
    pub fn trace(&self, args: &[String]) -> Result<String, String> {
        if args.is_empty() {
            return Err("\"ofproto/trace\" command requires at least 1 arguments".to_owned());
        }
        let mut positional: Vec<&str> = Vec::new();
        let mut generate = false;
        let mut iter = args.iter();
        while let Some(arg) = iter.next() {
            let a = arg.as_str();
            if a == "-generate" || a == "--generate" {
                generate = true;
            } else if OPTIONS_WITH_VALUE.contains(&a) {
                if iter.next().is_none() {
                    return Err(format!("Missing argument for option {a}"));
                }
            } else if matches!(a, "-consistent" | "--consistent" | "-names" | "--names") {
            } else if a.starts_with('-') {
                return Err(format!("{a}: unknown option"));
            } else if positional.len() >= 3 {
                return Err("too many arguments".to_owned());
            } else {
                positional.push(a);
            }
        }
        let mut packet = None;
        if !generate && positional.len() > 1 {
            let last = positional.last().copied().unwrap_or("");
            match packet_from_hex(last) {
                Ok(p) => {
                    packet = Some(p);
                    positional.pop();
                }
                Err(e) if positional.len() > 2 => return Err(e.to_owned()),
                Err(_) => {}
            }
        }
        let has_backer = match positional.as_slice() {
            [_] => true,
            [dp, _] => {
                let dp_type = self.dp_type.read().clone();
                dp.strip_prefix("ovs-").unwrap_or(dp) == dp_type
            }
            _ => return Err("Syntax error".to_owned()),
        };
        let flow_text = positional.last().copied().unwrap_or("");
        let port_names = self.datapath_port_names();
        match parse_key(flow_text, Some(&port_names)) {
            Ok((flow, _mask)) => {
                if !has_backer {
                    return Err("Cannot find the datapath".to_owned());
                }
                let br = self.bridge_of_odp_port(flow.in_port).ok_or_else(|| {
                    format!("no OpenFlow port for datapath port {}", flow.in_port)
                })?;
                let flow = with_packet(flow, packet.as_deref());
                Ok(self.trace_in(&br, &flow, false))
            }
            Err(e) if positional.len() != 2 => {
                Err(format!("{} (or the bridge name was omitted)", e.message()))
            }
            Err(_) => {
                let name = positional.first().copied().unwrap_or("");
                let br = self
                    .bridge(name)
                    .ok_or_else(|| format!("{name}: unknown bridge"))?;
                let ports = br.ports.read().clone();
                let lookup = |n: &str| ports.by_name(n).map(|p| p.ofport);
                let parsed = parse_exact_flow(flow_text, Some(&lookup))
                    .map_err(|e| format!("Bad openflow flow syntax: {}", e.message()))?;
                let flow = with_packet(parsed.flow, packet.as_deref());
                Ok(self.trace_in(&br, &flow, true))
            }
        }
    }

    /// Every port of the datapath as (datapath number, name), for port names in datapath flows.
    fn datapath_port_names(&self) -> Vec<(u32, String)> {
        self.bridges
            .read()
            .iter()
            .flat_map(|b| {
                b.ports
                    .read()
                    .ports()
                    .iter()
                    .map(|p| (p.odp_port, p.name.clone()))
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    /// Traces `flow` in `br`; `openflow_port` says whether `flow.in_port` is an OpenFlow port
    /// number (bridge form) or a datapath one.
    fn trace_in(&self, br: &BridgeState, flow: &Flow, openflow_port: bool) -> String {
        let ports = br.ports.read();
        let tables = br.tables.read();
        let xlator = BridgeTranslator {
            bridge: &ports,
            tables: &tables,
            mac: &br.mac,
        };
        let (text, _) = if openflow_port {
            trace_ofp_flow(&xlator, &br.name, flow, tables.version())
        } else {
            let mut input = XlateInput::new(*flow, tables.version());
            input.now_ms = self.now_ms();
            trace(&xlator, &br.name, &input)
        };
        text
    }
}

/// The flow of `packet` with the metadata of `flow` (OVS: `pkt_metadata_from_flow` then
/// `flow_extract`), or `flow` itself without a packet.
fn with_packet(flow: Flow, packet: Option<&[u8]>) -> Flow {
    let Some(frame) = packet else {
        return flow;
    };
    let md = PacketMetadata {
        in_port: flow.in_port,
        recirc_id: flow.recirc_id,
        skb_priority: flow.skb_priority,
        skb_mark: flow.skb_mark,
        ..PacketMetadata::default()
    };
    let mut extracted = extract(frame, &md);
    extracted.in_port = flow.in_port;
    extracted.metadata = flow.metadata;
    extracted.regs = flow.regs;
    extracted
}

#[cfg(test)]
mod tests {
    use super::packet_from_hex;

    #[test]
    fn hex_packets_as_ovs_reads_them() {
        let frame = "505400000001 505400000003 0800";
        assert_eq!(
            packet_from_hex(frame).map(|p| p.len()),
            Ok(14),
            "blanks between bytes are skipped"
        );
        assert_eq!(
            packet_from_hex("5054000000015054000000030800zz"),
            Err("Trailing garbage in packet data")
        );
        assert_eq!(
            packet_from_hex("505400000001505400000003080"),
            Err("Trailing garbage in packet data"),
            "odd number of digits"
        );
        assert_eq!(
            packet_from_hex("50540000000150540000000308"),
            Err("Packet data too short for Ethernet")
        );
        assert_eq!(
            packet_from_hex("in_port=1"),
            Err("Trailing garbage in packet data")
        );
    }
}
