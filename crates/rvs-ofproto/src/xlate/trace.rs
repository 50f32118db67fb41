//! `ofproto/trace` text (Open vSwitch 3.1 layout, `ofproto/ofproto-dpif-trace.c`): the
//! input flow, one block per bridge with the tables visited, the actions run and NORMAL's
//! decisions, then the final flow, the megaflow and the datapath actions.
//!
//! # Invariants
//! * A trace translates without side effects (no MAC learning, no statistics), like OVS.
//! * Indentation follows OVS's tree printer: an item is indented by 4 per level, plus 4 when it
//!   is not the last of its list or is a leaf (action or detail); its children go 8 deeper in
//!   that case. A table visited by `resubmit`/`goto_table` is a sibling of that action.

use rvs_flow::flow::{ETH_TYPE_ARP, ETH_TYPE_IP, ETH_TYPE_IPV6, ETH_TYPE_RARP, ipproto};
use rvs_flow::odp::format_actions;
use rvs_flow::ofp_match::{format_match, format_megaflow};
use rvs_flow::{Flow, Match, Wildcards};

use super::context::{Ctx, run_traced};
use super::{SLOW_ACTION, Translator, XlateInput, XlateOutput};
use crate::table::Rule;

/// What a trace item is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum TraceKind {
    /// `bridge("br0")`, underlined.
    Bridge,
    /// ` 0. match, priority p`.
    Table,
    /// An OpenFlow action.
    Action,
    /// ` -> detail`.
    Detail,
    /// ` >> warning`.
    Warn,
    /// ` >>>> error <<<<`.
    Error,
}

/// One item of the trace tree.
#[derive(Clone, Debug)]
pub(super) struct TraceNode {
    /// Kind.
    kind: TraceKind,
    /// Text without indentation.
    text: String,
    /// Children.
    subs: Vec<TraceNode>,
}

impl TraceNode {
    fn leaf(kind: TraceKind, text: String) -> TraceNode {
        TraceNode {
            kind,
            text,
            subs: Vec::new(),
        }
    }
}

/// The text of a table line for `rule` (`xlate_report_table`).
fn table_text(table_id: u8, rule: Option<&Rule>) -> String {
    let mut s = format!("{table_id:2}. ");
    match rule {
        None => s.push_str("No match."),
        Some(r) => {
            let start = s.len();
            format_match(&mut s, &r.flow_match, None);
            if s.len() > start {
                s.push_str(", ");
            }
            s.push_str(&format!("priority {}", r.priority));
            if r.cookie != 0 {
                s.push_str(&format!(", cookie {:#x}", r.cookie));
            }
        }
    }
    s
}

impl Ctx<'_> {
    /// Opens the item of a hit table; the returned list must go to [`Ctx::trace_end_table`].
    pub(super) fn trace_table(&mut self, table_id: u8, rule: &Rule) -> Option<Vec<TraceNode>> {
        let list = self.trace.as_mut()?;
        list.push(TraceNode::leaf(
            TraceKind::Table,
            table_text(table_id, Some(rule)),
        ));
        Some(std::mem::take(list))
    }

    /// Closes the item opened by [`Ctx::trace_table`].
    pub(super) fn trace_end_table(&mut self, outer: Option<Vec<TraceNode>>) {
        let (Some(mut outer), Some(current)) = (outer, self.trace.take()) else {
            return;
        };
        if let Some(table) = outer.last_mut() {
            table.subs = current;
        }
        self.trace = Some(outer);
    }

    /// A table miss, in table 0 or after a resubmit: ` N. No match.` then `drop`.
    pub(super) fn trace_miss(&mut self, table_id: u8) {
        if let Some(list) = self.trace.as_mut() {
            let mut node = TraceNode::leaf(TraceKind::Table, table_text(table_id, None));
            node.subs
                .push(TraceNode::leaf(TraceKind::Action, "drop".to_owned()));
            list.push(node);
        }
    }

    /// An action line.
    pub(super) fn trace_action(&mut self, text: String) {
        if let Some(list) = self.trace.as_mut() {
            list.push(TraceNode::leaf(TraceKind::Action, text));
        }
    }

    /// A ` -> ` line.
    pub(super) fn trace_detail(&mut self, text: &str) {
        if let Some(list) = self.trace.as_mut() {
            list.push(TraceNode::leaf(TraceKind::Detail, text.to_owned()));
        }
    }

    /// A ` >>>> ... <<<<` line.
    pub(super) fn trace_error(&mut self, text: &str) {
        if let Some(list) = self.trace.as_mut() {
            list.push(TraceNode::leaf(TraceKind::Error, text.to_owned()));
        }
    }

    /// A ` >> ` line.
    pub(super) fn trace_warn(&mut self, text: &str) {
        if let Some(list) = self.trace.as_mut() {
            list.push(TraceNode::leaf(TraceKind::Warn, text.to_owned()));
        }
    }
}

/// Prints `nodes` at `level` (OVS's `oftrace_node_print_details`).
fn print_nodes(out: &mut String, nodes: &[TraceNode], level: usize) {
    for (i, node) in nodes.iter().enumerate() {
        if node.kind == TraceKind::Bridge {
            out.push('\n');
        }
        let leaf = matches!(
            node.kind,
            TraceKind::Action | TraceKind::Detail | TraceKind::Warn | TraceKind::Error
        );
        let more = usize::from(i + 1 < nodes.len() || leaf);
        let indent = " ".repeat((level + more) * 4);
        out.push_str(&indent);
        match node.kind {
            TraceKind::Detail => out.push_str(" -> "),
            TraceKind::Warn => out.push_str(" >> "),
            TraceKind::Error => out.push_str(" >>>> "),
            _ => {}
        }
        out.push_str(&node.text);
        if node.kind == TraceKind::Error {
            out.push_str(" <<<<");
        }
        out.push('\n');
        if node.kind == TraceKind::Bridge {
            out.push_str(&indent);
            out.push_str(&"-".repeat(node.text.chars().count()));
            out.push('\n');
        }
        print_nodes(out, &node.subs, level + 2 * more);
    }
}

/// The bits `flow_format` shows for a packet (`flow_wildcards_init_for_packet`, for the
/// fields rvs models): metadata only when set, then the headers the packet has.
fn packet_wildcards(flow: &Flow) -> Wildcards {
    let mut wc = Wildcards::catchall();
    let m = &mut wc.masks;
    m.in_port = u32::MAX;
    m.packet_type = u32::MAX;
    if flow.recirc_id != 0 {
        m.recirc_id = u32::MAX;
    }
    if flow.skb_priority != 0 {
        m.skb_priority = u32::MAX;
    }
    if flow.skb_mark != 0 {
        m.skb_mark = u32::MAX;
    }
    if flow.metadata != 0 {
        m.metadata = u64::MAX;
    }
    for (mr, r) in m.regs.iter_mut().zip(flow.regs.iter()) {
        if *r != 0 {
            *mr = u32::MAX;
        }
    }
    m.dl_src = [0xff; 6];
    m.dl_dst = [0xff; 6];
    m.dl_type = u16::MAX;
    m.vlans[0].tci = u16::MAX;
    if flow.vlans[0].tci & rvs_flow::flow::VLAN_CFI != 0 {
        m.vlans[1].tci = u16::MAX;
    }
    match flow.dl_type {
        ETH_TYPE_IP | ETH_TYPE_IPV6 => {
            if flow.dl_type == ETH_TYPE_IP {
                m.nw_src = u32::MAX;
                m.nw_dst = u32::MAX;
            } else {
                m.ipv6_src = [0xff; 16];
                m.ipv6_dst = [0xff; 16];
                m.ipv6_label = u32::MAX;
            }
            m.nw_proto = u8::MAX;
            m.nw_tos = u8::MAX;
            m.nw_ttl = u8::MAX;
            m.nw_frag = rvs_flow::flow::FRAG_MASK;
            if matches!(
                flow.nw_proto,
                ipproto::TCP | ipproto::UDP | ipproto::SCTP | ipproto::ICMP | ipproto::ICMPV6
            ) {
                m.tp_src = u16::MAX;
                m.tp_dst = u16::MAX;
            }
            if flow.nw_proto == ipproto::TCP {
                m.tcp_flags = u16::MAX;
            }
        }
        ETH_TYPE_ARP | ETH_TYPE_RARP => {
            m.nw_src = u32::MAX;
            m.nw_dst = u32::MAX;
            m.nw_proto = u8::MAX;
            m.arp_sha = [0xff; 6];
            m.arp_tha = [0xff; 6];
        }
        _ => {}
    }
    wc
}

/// `flow_format`: a packet's flow in OpenFlow match syntax.
fn format_flow(out: &mut String, flow: &Flow) {
    let m = Match::new(flow, &packet_wildcards(flow));
    format_match(out, &m, None);
}

/// `ofproto/trace <bridge> <br_flow>` for a flow in OpenFlow terms (`in_port` an OpenFlow port
/// number, as `ovs-appctl ofproto/trace br0 in_port=LOCAL,...` gives it): maps the input port
/// to its datapath port and traces at `version`. An unknown port is kept as it is (and then
/// translates to a drop).
pub fn trace_ofp_flow(
    xlator: &Translator<'_>,
    bridge_name: &str,
    flow: &Flow,
    version: crate::classifier::Version,
) -> (String, XlateOutput) {
    let mut dp_flow = *flow;
    if let Some(port) = u16::try_from(flow.in_port)
        .ok()
        .and_then(|p| xlator.bridge.by_ofport(p))
    {
        dp_flow.in_port = port.odp_port;
    }
    trace(xlator, bridge_name, &XlateInput::new(dp_flow, version))
}

/// `ofproto/trace <bridge> <flow>`: translates `input` without side effects and prints the
/// trace. Returns the text and the translation result.
pub fn trace(
    xlator: &Translator<'_>,
    bridge_name: &str,
    input: &XlateInput,
) -> (String, XlateOutput) {
    let mut input = input.clone();
    input.may_learn = false;
    input.resubmit_stats = None;
    let (out, tables, final_flow) = run_traced(xlator, &input, true);
    let mut start_flow = input.flow;
    start_flow.in_port = out.ofp_in_port.map_or(input.flow.in_port, u32::from);

    let mut s = String::from("Flow: ");
    format_flow(&mut s, &start_flow);
    s.push('\n');
    let bridge = TraceNode {
        kind: TraceKind::Bridge,
        text: format!("bridge(\"{bridge_name}\")"),
        subs: tables,
    };
    print_nodes(&mut s, std::slice::from_ref(&bridge), 0);
    s.push_str("\nFinal flow: ");
    if final_flow == start_flow {
        s.push_str("unchanged");
    } else {
        format_flow(&mut s, &final_flow);
    }
    s.push_str("\nMegaflow: ");
    format_megaflow(&mut s, &Match::new(&start_flow, &out.wc));
    s.push_str("\nDatapath actions: ");
    format_actions(&mut s, &out.odp_actions, None);
    s.push('\n');
    if let Some(error) = out.error {
        s.push_str(&format!(
            "Translation failed ({}), packet is dropped.\n",
            error.message()
        ));
    }
    if out.slow {
        s.push_str("This flow is handled by the userspace slow path because it:\n");
        if out.slow_reasons & SLOW_ACTION != 0 {
            s.push_str("  - Uses action(s) not supported by datapath.\n");
        }
    }
    (s, out)
}

#[cfg(test)]
mod tests {
    use rvs_flow::ofp_match::parse_exact_flow;

    use super::super::{Bridge, Translator};
    use super::trace_ofp_flow;
    use crate::actions::Dialect;
    use crate::mac_learning::MacLearning;
    use crate::table::{Ofctl, Tables};
    use crate::vlan::PortVlan;

    /// Replays one fixture recorded from Open vSwitch 3.1: `NAME.flows` were added with
    /// `ovs-ofctl add-flow`, `NAME.flow` traced with `ovs-appctl ofproto/trace br0`, whose
    /// output is `NAME.trace` (dummy bridge: br0 = LOCAL/datapath port 100, ports p1..p4 =
    /// OpenFlow/datapath ports 1..4).
    fn replay(flows: &str, flow: &str, expected: &str) {
        replay_normal(flows, flow, expected, "", "");
    }

    /// [`replay`] with port VLAN settings (`NAME.ports`: `pN access VLAN`, set with
    /// `ovs-vsctl set port pN tag=VLAN`) and static MAC entries (`NAME.fdb`: `pN VLAN MAC`,
    /// added with `ovs-appctl fdb/add br0 pN VLAN MAC`).
    fn replay_normal(flows: &str, flow: &str, expected: &str, ports: &str, fdb: &str) {
        replay_with(Dialect::OpenFlow10, flows, flow, expected, ports, fdb);
    }

    /// [`replay_normal`] with the flows added in `dialect` (`ovs-ofctl -O ...`).
    fn replay_with(
        dialect: Dialect,
        flows: &str,
        flow: &str,
        expected: &str,
        ports: &str,
        fdb: &str,
    ) {
        let mut bridge = Bridge::new();
        assert!(bridge.add_port(
            rvs_flow::ofp_match::port::OFPP_LOCAL,
            100,
            "br0",
            PortVlan::default()
        ));
        for i in 1..=4u16 {
            let name = format!("p{i}");
            let vlan = ports
                .lines()
                .filter_map(|l| l.strip_prefix(&format!("{name} access ")))
                .find_map(|v| v.trim().parse::<u16>().ok())
                .map_or_else(PortVlan::default, PortVlan::access);
            assert!(bridge.add_port(i, u32::from(i), &name, vlan));
        }
        let mut tables = Tables::new();
        for line in flows.lines().filter(|l| !l.is_empty()) {
            if let Err(e) = Ofctl::new(dialect).add_flow(&mut tables, line, 0) {
                panic!("add-flow {line}: {e:?}");
            }
        }
        let mac = MacLearning::new();
        for line in fdb.lines().filter(|l| !l.is_empty()) {
            let parts: Vec<&str> = line.split_whitespace().collect();
            let [port, vlan, addr] = parts[..] else {
                panic!("bad fdb line {line}");
            };
            let port = bridge.by_name(port).expect("port").ofport;
            let vlan: u16 = vlan.parse().expect("vlan");
            let addr = rvs_flow::text::parse_mac(addr).expect("mac");
            let _ = mac.add_static(&addr, vlan, port);
        }
        let xlator = Translator {
            bridge: &bridge,
            tables: &tables,
            mac: &mac,
        };
        let parsed = parse_exact_flow(flow.trim(), None).expect("flow");
        let (text, _) = trace_ofp_flow(&xlator, "br0", &parsed.flow, tables.version());
        assert_eq!(text, expected, "\n{text}");
    }

    macro_rules! fixture {
        ($test:ident, $name:literal) => {
            #[test]
            fn $test() {
                replay(
                    include_str!(concat!("fixtures/", $name, ".flows")),
                    include_str!(concat!("fixtures/", $name, ".flow")),
                    include_str!(concat!("fixtures/", $name, ".trace")),
                );
            }
        };
    }

    macro_rules! fixture_normal {
        ($test:ident, $name:literal) => {
            #[test]
            fn $test() {
                replay_normal(
                    include_str!(concat!("fixtures/", $name, ".flows")),
                    include_str!(concat!("fixtures/", $name, ".flow")),
                    include_str!(concat!("fixtures/", $name, ".trace")),
                    include_str!(concat!("fixtures/", $name, ".ports")),
                    include_str!(concat!("fixtures/", $name, ".fdb")),
                );
            }
        };
    }

    fixture_normal!(oracle_normal_learned, "normal_learned");
    fixture_normal!(oracle_normal_input_port, "normal_input_port");
    fixture_normal!(oracle_normal_access, "normal_access");
    fixture_normal!(oracle_normal_bad_vid, "normal_bad_vid");
    fixture_normal!(oracle_normal_trunk_to_access, "normal_trunk_to_access");
    fixture_normal!(oracle_normal_flood, "normal_flood");
    fixture_normal!(oracle_normal_access_flood, "normal_access_flood");
    fixture_normal!(oracle_normal_broadcast_tagged, "normal_broadcast_tagged");
    fixture!(oracle_masked_tos, "masked_tos");
    fixture!(oracle_masked_set_field, "masked_setfield");
    fixture!(oracle_ipv6_set, "ipv6_set");
    fixture!(oracle_arp_set, "arp_set");
    fixture!(oracle_resubmit_miss, "resubmit_miss");
    fixture!(oracle_exit_in_resubmit, "exit_in_resubmit");
    fixture!(oracle_resubmit_in_port_output, "resubmit_in_port_output");
    fixture!(oracle_recursion_too_deep, "recursion");
    fixture_normal!(oracle_normal_reserved_mac, "normal_reserved");
    fixture_normal!(oracle_normal_from_local, "normal_from_local");
    fixture_normal!(oracle_flood_from_local, "flood_from_local");
    fixture_normal!(oracle_all_from_p4, "all_from_p4");
    #[test]
    fn oracle_of13_push_pop() {
        replay_with(
            Dialect::OpenFlow13,
            include_str!("fixtures/of13_push_pop.flows"),
            include_str!("fixtures/of13_push_pop.flow"),
            include_str!("fixtures/of13_push_pop.trace"),
            "",
            "",
        );
    }

    #[test]
    fn oracle_of13_goto_metadata() {
        replay_with(
            Dialect::OpenFlow13,
            include_str!("fixtures/of13_goto_metadata.flows"),
            include_str!("fixtures/of13_goto_metadata.flow"),
            include_str!("fixtures/of13_goto_metadata.trace"),
            "",
            "",
        );
    }

    fixture!(oracle_resubmit, "resubmit");
    fixture!(oracle_nested_resubmits_note_exit, "nested");
    fixture!(oracle_table_miss, "miss");
    fixture!(oracle_vlan_edits, "vlan");
    fixture!(oracle_dec_ttl_eth_in_port, "ttl");
}
