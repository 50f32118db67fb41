//! `ofproto/trace` as the control socket receives it: the argument forms of OVS 3.1's
//! `parse_flow_and_packet` (`[dpname] odp_flow [packet]`, `bridge br_flow [packet]`,
//! `-generate`), their error texts, and the trace text of `rvs_ofproto::xlate::trace`.
//!
//! # Invariants
//! * A trace of a flow alone has no side effects. A trace of a packet (`-generate` or a hex
//!   packet) lets NORMAL learn from it first, as OVS 3.1 does (its `xlate_in_init` allows
//!   learning when there is a packet), adds OVS's `-> learned that ...` line after the first
//!   `NORMAL` action when the MAC table changed, and then calls the change hook. Rules are never
//!   credited.
//! * Every malformed argument list gets OVS's error text, never a panic.
//!
//! Partial: `--l7`, `--l7-len`, `--ct-next`, `--consistent` and `--names` are accepted and
//! ignored; a packet argument only replaces the flow's header fields (nothing is executed); a
//! bridge-form flow whose `in_port` is no port of the bridge translates to a bare drop, where
//! OVS still shows the table lookups (`rvs_ofproto`'s translation stops at an unknown port).

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
                let learn = generate || packet.is_some();
                Ok(self.trace_in(&br, &flow, false, learn))
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
                let learn = generate || packet.is_some();
                Ok(self.trace_in(&br, &flow, true, learn))
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
    /// number (bridge form) or a datapath one. With `learn` (a packet was given), NORMAL
    /// learns from it first, as OVS's trace of a packet does, and the trace reports it.
    fn trace_in(&self, br: &BridgeState, flow: &Flow, openflow_port: bool, learn: bool) -> String {
        let (text, learned) = {
            let ports = br.ports.read();
            let tables = br.tables.read();
            let xlator = BridgeTranslator {
                bridge: &ports,
                tables: &tables,
                mac: &br.mac,
            };
            let mut dp_flow = *flow;
            if openflow_port
                && let Some(port) = u16::try_from(flow.in_port)
                    .ok()
                    .and_then(|p| ports.by_ofport(p))
            {
                dp_flow.in_port = port.odp_port;
            }
            let learned = if learn {
                self.learn_from(&xlator, &dp_flow)
            } else {
                None
            };
            let (text, _) = if openflow_port {
                trace_ofp_flow(&xlator, &br.name, flow, tables.version())
            } else {
                let mut input = XlateInput::new(*flow, tables.version());
                input.now_ms = self.now_ms();
                trace(&xlator, &br.name, &input)
            };
            (text, learned)
        };
        match learned {
            Some(line) => {
                self.notify();
                insert_after_first_normal(&text, &line)
            }
            None => text,
        }
    }

    /// Translates `dp_flow` silently with learning on; if the MAC table changed, returns OVS's
    /// trace line for it (`learned that MAC is on port NAME in VLAN V`).
    fn learn_from(&self, xlator: &BridgeTranslator<'_>, dp_flow: &Flow) -> Option<String> {
        let generation = xlator.mac.generation();
        let mut input = XlateInput::new(*dp_flow, xlator.tables.version());
        input.now_ms = self.now_ms();
        let out = xlator.translate(&input);
        if xlator.mac.generation() == generation {
            return None;
        }
        let learn = out.normal_learn?;
        let port = xlator.bridge.by_ofport(learn.in_port)?;
        let mut mac = String::new();
        rvs_flow::text::fmt_mac(&mut mac, &learn.dl_src);
        Some(format!(
            "learned that {mac} is on port {} in VLAN {}",
            port.name, learn.vlan
        ))
    }
}

/// `text` with the detail line `line` added right after its first `NORMAL` action line, at
/// that action's indentation (where OVS reports learning).
fn insert_after_first_normal(text: &str, line: &str) -> String {
    let mut out = String::with_capacity(text.len() + line.len() + 16);
    let mut done = false;
    for l in text.split_inclusive('\n') {
        out.push_str(l);
        if !done && l.trim() == "NORMAL" {
            let indent = &l[..l.len() - l.trim_start().len()];
            out.push_str(indent);
            out.push_str(" -> ");
            out.push_str(line);
            out.push('\n');
            done = true;
        }
    }
    out
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
