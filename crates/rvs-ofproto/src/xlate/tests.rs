//! Unit tests of translation: one or two rules per test, the datapath actions printed in
//! OVS's syntax, the megaflow mask checked field by field.
//!
//! Expected `Datapath actions:` strings marked "oracle" were obtained from Open vSwitch 3.1
//! (`ovs-appctl ofproto/trace br0 <flow>` on a dummy bridge with ports p1..p4 = 1..4 after the
//! same `ovs-ofctl add-flow` commands).

use rvs_flow::flow::{ETH_TYPE_IP, FRAG_MASK, VLAN_CFI, VlanHeader, ipproto};
use rvs_flow::odp::format_actions;
use rvs_flow::{Flow, Wildcards};

use super::{Bridge, Translator, XlateInput, XlateOutput, XlateStats};
use crate::actions::Dialect;
use crate::mac_learning::MacLearning;
use crate::table::{Ofctl, Tables};
use crate::vlan::PortVlan;

/// Tables holding `flows` (ovs-ofctl add-flow syntax, OpenFlow 1.0 + extensions).
pub(super) fn tables_with(flows: &[&str]) -> Tables {
    let mut tables = Tables::new();
    let ofctl = Ofctl::new(Dialect::OpenFlow10);
    for f in flows {
        if let Err(e) = ofctl.add_flow(&mut tables, f, 0) {
            panic!("add-flow {f}: {e:?}");
        }
    }
    tables
}

/// A TCP packet from port `in_port`: 10.0.0.1:1000 → 10.0.0.2:80, TTL 64.
pub(super) fn tcp_flow(in_port: u32) -> Flow {
    let mut f = Flow {
        in_port,
        dl_type: ETH_TYPE_IP,
        nw_proto: ipproto::TCP,
        nw_src: 0x0a00_0001,
        nw_dst: 0x0a00_0002,
        nw_ttl: 64,
        tp_src: 1000,
        tp_dst: 80,
        ..Flow::default()
    };
    f.dl_src = [0, 0, 0, 0, 0, 1];
    f.dl_dst = [0, 0, 0, 0, 0, 2];
    f
}

fn translate_with(
    bridge: &Bridge,
    tables: &Tables,
    mac: &MacLearning<u16>,
    flow: Flow,
) -> XlateOutput {
    let xlator = Translator {
        bridge,
        tables,
        mac,
    };
    xlator.translate(&XlateInput::new(flow, tables.version()))
}

fn translate(flows: &[&str], flow: Flow) -> XlateOutput {
    let bridge = Bridge::with_trunk_ports(4);
    let tables = tables_with(flows);
    translate_with(&bridge, &tables, &MacLearning::new(), flow)
}

fn actions_text(out: &XlateOutput) -> String {
    let mut s = String::new();
    format_actions(&mut s, &out.odp_actions, None);
    s
}

/// oracle: `Megaflow: recirc_id=0,eth,ip,in_port=1,nw_frag=no`, `Datapath actions: 2`.
#[test]
fn output_and_base_wildcards() {
    let out = translate(&["in_port=1 actions=output:2"], tcp_flow(1));
    assert_eq!(actions_text(&out), "2");
    assert_eq!(out.rules_hit.len(), 1);
    let m = &out.wc.masks;
    assert_eq!(m.in_port, u32::MAX);
    assert_eq!(m.recirc_id, u32::MAX);
    assert_eq!(m.packet_type, u32::MAX);
    assert_eq!(m.dl_type, u16::MAX);
    assert_eq!(m.nw_frag, FRAG_MASK);
    // Nothing else was looked at.
    let mut rest = out.wc;
    rest.masks.in_port = 0;
    rest.masks.recirc_id = 0;
    rest.masks.packet_type = 0;
    rest.masks.dl_type = 0;
    rest.masks.nw_frag = 0;
    assert!(rest.is_catchall(), "{rest:?}");
}

#[test]
fn miss_drops_and_unknown_in_port_drops() {
    let out = translate(&["in_port=2 actions=output:1"], tcp_flow(1));
    assert_eq!(actions_text(&out), "drop");
    assert!(out.rules_hit.is_empty());
    let out = translate(&["actions=output:1"], tcp_flow(9));
    assert_eq!(actions_text(&out), "drop");
    assert_eq!(out.ofp_in_port, None);
}

/// oracle: `2` and `1,2`.
#[test]
fn output_to_input_port_is_skipped_unless_in_port() {
    let out = translate(&["actions=output:1,output:2"], tcp_flow(1));
    assert_eq!(actions_text(&out), "2");
    let out = translate(&["actions=in_port,output:2"], tcp_flow(1));
    assert_eq!(actions_text(&out), "1,2");
}

/// oracle: `4,100,1,3` (FLOOD from p2) and `4,100,1,2` (ALL from p3) on the oracle's bridge
/// (br0 = LOCAL = datapath port 100, then p1..p4): OVS's port hash-map order.
#[test]
fn flood_and_all_skip_input_port() {
    let bridge = Bridge::with_local_and_trunk_ports("br0", 4);
    let mac = MacLearning::new();
    let tables = tables_with(&["actions=flood"]);
    let out = translate_with(&bridge, &tables, &mac, tcp_flow(2));
    assert_eq!(actions_text(&out), "4,100,1,3");
    let tables = tables_with(&["actions=all"]);
    let out = translate_with(&bridge, &tables, &mac, tcp_flow(3));
    assert_eq!(actions_text(&out), "4,100,1,2");
}

#[test]
fn set_field_commits_only_changes_masked() {
    // oracle: set(ipv4(dst=10.0.0.9)),2 with megaflow `tcp,in_port=1,nw_dst=10.0.0.2`.
    let out = translate(&["actions=mod_nw_dst:10.0.0.9,output:2"], tcp_flow(1));
    assert_eq!(actions_text(&out), "set(ipv4(dst=10.0.0.9)),2");
    assert_eq!(out.wc.masks.nw_dst, u32::MAX);
    assert_eq!(out.wc.masks.nw_proto, u8::MAX);
    assert_eq!(out.wc.masks.nw_src, 0);
    // oracle: writing the value the packet already has emits nothing.
    let out = translate(&["actions=mod_nw_dst:10.0.0.2,output:2"], tcp_flow(1));
    assert_eq!(actions_text(&out), "2");
}

/// oracle: the whole attribute changes, so the set is unmasked.
#[test]
fn set_eth_both_fields_is_unmasked() {
    let out = translate(
        &["actions=mod_dl_src:00:00:00:00:00:0a,mod_dl_dst:00:00:00:00:00:0b,output:2"],
        tcp_flow(1),
    );
    assert_eq!(
        actions_text(&out),
        "set(eth(src=00:00:00:00:00:0a,dst=00:00:00:00:00:0b)),2"
    );
}

/// oracle (actions and the `tp_dst=80` in the megaflow).
#[test]
fn changes_are_committed_before_each_output() {
    let out = translate(
        &["actions=output:2,mod_tp_dst:8080,output:3,mod_tp_dst:80,output:4"],
        tcp_flow(1),
    );
    assert_eq!(
        actions_text(&out),
        "2,set(tcp(dst=8080)),3,set(tcp(dst=80)),4"
    );
    assert_eq!(out.wc.masks.nw_proto, u8::MAX);
}

#[test]
fn set_field_udp_port() {
    let mut udp = tcp_flow(1);
    udp.nw_proto = ipproto::UDP;
    let out = translate(&["udp actions=set_field:99->udp_src,output:2"], udp);
    assert_eq!(actions_text(&out), "set(udp(src=99)),2");
    assert_eq!(out.wc.masks.nw_proto, u8::MAX);
    assert_eq!(out.wc.masks.tp_src, u16::MAX);
    assert_eq!(out.wc.masks.tp_dst, 0);
}

/// oracle for the resubmit case (`2,3`, megaflow `tcp`).
#[test]
fn resubmit_and_goto_table() {
    let flows = [
        "table=0 actions=resubmit(,1),output:3",
        "table=1 tcp actions=output:2",
    ];
    let out = translate(&flows, tcp_flow(1));
    assert_eq!(actions_text(&out), "2,3");
    assert_eq!(out.rules_hit.len(), 2);
    assert_eq!(out.wc.masks.nw_proto, u8::MAX);
    let out = translate(
        &["table=0 actions=goto_table:2", "table=2 actions=output:4"],
        tcp_flow(1),
    );
    assert_eq!(actions_text(&out), "4");
}

/// oracle: `2`.
#[test]
fn resubmit_with_in_port_looks_up_as_that_port() {
    let flows = [
        "table=0 in_port=1 actions=resubmit(3,1)",
        "table=1 in_port=3 actions=output:2",
        "table=1 in_port=1 actions=output:4",
    ];
    let out = translate(&flows, tcp_flow(1));
    assert_eq!(actions_text(&out), "2");
}

#[test]
fn resubmit_loop_stops_at_max_depth() {
    let out = translate(&["actions=output:2,resubmit(,0)"], tcp_flow(1));
    // oracle: OVS drops everything once the depth limit is exceeded.
    assert_eq!(actions_text(&out), "drop");
    assert_eq!(
        out.rules_hit.len(),
        usize::try_from(super::MAX_DEPTH + 1).expect("fits")
    );
}

/// oracle for TTL 64. For TTL 1 OVS 3.1 emits a `userspace(pid=0,controller(reason=2,
/// dont_send=1,...))` action (a frozen packet-in that is not sent); rvs drops for now.
#[test]
fn dec_ttl_and_expiry() {
    let out = translate(&["actions=dec_ttl,output:2"], tcp_flow(1));
    assert_eq!(actions_text(&out), "set(ipv4(ttl=63)),2");
    let mut f = tcp_flow(1);
    f.nw_ttl = 1;
    let out = translate(&["actions=dec_ttl,output:2"], f);
    assert_eq!(actions_text(&out), "drop");
    assert_eq!(out.wc.masks.nw_ttl, u8::MAX);
}

/// oracle for every action string here.
#[test]
fn vlan_push_modify_strip() {
    let out = translate(&["actions=mod_vlan_vid:10,output:2"], tcp_flow(1));
    assert_eq!(actions_text(&out), "push_vlan(vid=10,pcp=0),2");
    let mut tagged = tcp_flow(1);
    tagged.vlans[0] = VlanHeader {
        tpid: 0x8100,
        tci: VLAN_CFI | 20,
    };
    let out = translate(&["actions=strip_vlan,output:2"], tagged);
    assert_eq!(actions_text(&out), "pop_vlan,2");
    let out = translate(&["actions=mod_vlan_vid:30,output:2"], tagged);
    assert_eq!(actions_text(&out), "pop_vlan,push_vlan(vid=30,pcp=0),2");
    // oracle: OpenFlow 1.0's set_vlan_vid pushes a tag on untagged packets.
    let out = translate(&["actions=set_vlan_vid:30,output:2"], tcp_flow(1));
    assert_eq!(actions_text(&out), "push_vlan(vid=30,pcp=0),2");
    // oracle: the popped header becomes exact (`dl_vlan=20,dl_vlan_pcp=0` in the megaflow).
    let out = translate(&["actions=strip_vlan,output:2"], tagged);
    assert_eq!(out.wc.masks.vlans[0].tci, u16::MAX);
}

/// oracle for `note`. For `controller` OVS 3.1 emits `userspace(pid=0,controller(reason=1,
/// dont_send=1,continuation=0,recirc_id=N,...))`; rvs slow-paths the flow instead (not yet
/// the same).
#[test]
fn note_is_a_no_op_and_controller_is_slow() {
    let out = translate(&["actions=note:0102,output:2"], tcp_flow(1));
    assert_eq!(actions_text(&out), "2");
    assert!(!out.slow);
    let out = translate(&["actions=controller"], tcp_flow(1));
    assert!(out.slow);
    let mut s = String::new();
    format_actions(&mut s, &out.datapath_flow_actions(), None);
    assert_eq!(s, "userspace(pid=0,slow_path(action))");
}

#[test]
fn resubmit_stats_credit_rules() {
    let bridge = Bridge::with_trunk_ports(2);
    let tables = tables_with(&["actions=output:2"]);
    let mac = MacLearning::new();
    let xlator = Translator {
        bridge: &bridge,
        tables: &tables,
        mac: &mac,
    };
    let mut input = XlateInput::new(tcp_flow(1), tables.version());
    input.resubmit_stats = Some(XlateStats {
        packets: 3,
        bytes: 180,
        used_ms: 5,
    });
    let out = xlator.translate(&input);
    let rule = out.rules_hit.first().expect("hit");
    assert_eq!((rule.stats().packets(), rule.stats().bytes()), (3, 180));
}

/// Megaflow bits: oracle (`dl_src`, `dl_dst` exact, no VLAN bits for an untagged packet).
/// The flood order is rvs's (OVS: `100,2,3,4`, LOCAL port included, hash order).
#[test]
fn normal_floods_then_learns() {
    let bridge = Bridge::with_trunk_ports(3);
    let tables = tables_with(&["actions=normal"]);
    let mac = MacLearning::new();
    // 1 → 2 unknown: flood to 2 and 3.
    let out = translate_with(&bridge, &tables, &mac, tcp_flow(1));
    assert_eq!(actions_text(&out), "2,3");
    let m = &out.wc.masks;
    assert_eq!((m.dl_src, m.dl_dst), ([0xff; 6], [0xff; 6]));
    // The VID/CFI bits NORMAL reads are dropped again: the packet had no VLAN header.
    assert_eq!(m.vlans[0].tci, 0);
    // Reply 2 → 1: the learned port only.
    let mut reply = tcp_flow(2);
    reply.dl_src = [0, 0, 0, 0, 0, 2];
    reply.dl_dst = [0, 0, 0, 0, 0, 1];
    let out = translate_with(&bridge, &tables, &mac, reply);
    assert_eq!(actions_text(&out), "1");
    assert!(out.normal_learn.is_some());
    // 1 → 2 again: now known.
    let out = translate_with(&bridge, &tables, &mac, tcp_flow(1));
    assert_eq!(actions_text(&out), "2");
}

#[test]
fn normal_vlans_access_and_trunk() {
    let mut bridge = Bridge::new();
    assert!(bridge.add_port(1, 1, "p1", PortVlan::access(10)));
    assert!(bridge.add_port(2, 2, "p2", PortVlan::trunk(None)));
    assert!(bridge.add_port(3, 3, "p3", PortVlan::access(20)));
    assert!(bridge.add_port(4, 4, "p4", PortVlan::access(10)));
    let tables = tables_with(&["actions=normal"]);
    let mac = MacLearning::new();
    // Untagged on access 10: flood to the trunk (tagged 10) and the other access-10 port.
    let out = translate_with(&bridge, &tables, &mac, tcp_flow(1));
    assert_eq!(actions_text(&out), "push_vlan(vid=10,pcp=0),2,pop_vlan,4");
    // Tagged 10 on an access port is refused.
    let mut tagged = tcp_flow(1);
    tagged.vlans[0] = VlanHeader {
        tpid: 0x8100,
        tci: VLAN_CFI | 10,
    };
    let out = translate_with(&bridge, &tables, &mac, tagged);
    assert_eq!(actions_text(&out), "drop");
    // Tagged 20 on the trunk reaches access 20 untagged.
    let mut t20 = tcp_flow(2);
    t20.vlans[0] = VlanHeader {
        tpid: 0x8100,
        tci: VLAN_CFI | 20,
    };
    let out = translate_with(&bridge, &tables, &mac, t20);
    assert_eq!(actions_text(&out), "pop_vlan,3");
}

/// oracle: megaflow `recirc_id=0,eth,ip,in_port=1,nw_frag=no`, actions `2`.
#[test]
fn wc_finish_clears_registers_and_metadata() {
    let out = translate(
        &[
            "reg0=0 actions=load:1->NXM_NX_REG0[],resubmit(,1)",
            "table=1 reg0=1 actions=output:2",
        ],
        tcp_flow(1),
    );
    assert_eq!(actions_text(&out), "2");
    assert_eq!(out.wc.masks.regs, [0; 16]);
    assert_eq!(out.wc, {
        let mut w = Wildcards::catchall();
        w.masks.in_port = u32::MAX;
        w.masks.recirc_id = u32::MAX;
        w.masks.packet_type = u32::MAX;
        w.masks.dl_type = u16::MAX;
        w.masks.nw_frag = FRAG_MASK;
        w
    });
}

#[test]
fn push_stats_credits_rules_and_relearns() {
    let bridge = Bridge::with_trunk_ports(3);
    let tables = tables_with(&["actions=resubmit(,1)", "table=1 actions=normal"]);
    let mac = MacLearning::new();
    let xlator = Translator {
        bridge: &bridge,
        tables: &tables,
        mac: &mac,
    };
    let mut input = XlateInput::new(tcp_flow(1), tables.version());
    input.may_learn = false;
    let out = xlator.translate(&input);
    assert_eq!(out.rules_hit.len(), 2);
    assert_eq!(mac.lookup(&[0, 0, 0, 0, 0, 1], 0), None);
    let none = XlateStats::default();
    out.push_stats(none, &mac, 1000);
    assert_eq!(mac.lookup(&[0, 0, 0, 0, 0, 1], 0), None);
    let stats = XlateStats {
        packets: 2,
        bytes: 128,
        used_ms: 7,
    };
    out.push_stats(stats, &mac, 1000);
    assert_eq!(mac.lookup(&[0, 0, 0, 0, 0, 1], 0), Some(1));
    for rule in &out.rules_hit {
        assert_eq!((rule.stats().packets(), rule.stats().bytes()), (2, 128));
    }
}

/// `translate_into` reuses the buffers of the previous translation in `out`; each translation
/// still leaves exactly its own `rules_hit`, as a fresh translation would: longer, shorter
/// (a prefix of the previous list) or different.
#[test]
fn translate_into_leaves_exactly_this_translations_rules() {
    let bridge = Bridge::with_trunk_ports(4);
    let tables = tables_with(&[
        "table=0 ip actions=resubmit(,1),output:3",
        "table=0 priority=0 actions=output:4",
        "table=1 tcp actions=output:2",
    ]);
    let mac = MacLearning::new();
    let xlator = Translator {
        bridge: &bridge,
        tables: &tables,
        mac: &mac,
    };
    let tcp = XlateInput::new(tcp_flow(1), tables.version());
    let mut out = XlateOutput::default();
    xlator.translate_into(&tcp, &mut out);
    assert_eq!(out.rules_hit.len(), 2);
    xlator.translate_into(&tcp, &mut out);
    let fresh = xlator.translate(&tcp);
    let ptrs = |o: &XlateOutput| {
        o.rules_hit
            .iter()
            .map(|r| std::sync::Arc::as_ptr(r) as usize)
            .collect::<Vec<_>>()
    };
    assert_eq!(ptrs(&out), ptrs(&fresh));
    // UDP hits the same first rule and misses table 1: a prefix of the previous list.
    let mut udp_flow = tcp_flow(1);
    udp_flow.nw_proto = ipproto::UDP;
    let udp = XlateInput::new(udp_flow, tables.version());
    xlator.translate_into(&udp, &mut out);
    assert_eq!(ptrs(&out), ptrs(&xlator.translate(&udp)));
    assert_eq!(out.rules_hit.len(), 1);
    assert_eq!(actions_text(&out), "3");
    // A non-IP packet hits another rule only: that one rule, not a mix.
    let mut arp_flow = tcp_flow(1);
    arp_flow.dl_type = 0x0806;
    arp_flow.nw_proto = 0;
    let arp = XlateInput::new(arp_flow, tables.version());
    xlator.translate_into(&arp, &mut out);
    assert_eq!(ptrs(&out), ptrs(&xlator.translate(&arp)));
    assert_eq!(out.rules_hit.len(), 1);
    assert_eq!(actions_text(&out), "4");
    // And back: the same as a fresh translation again.
    xlator.translate_into(&tcp, &mut out);
    assert_eq!(ptrs(&out), ptrs(&fresh));
    assert_eq!(actions_text(&out), actions_text(&fresh));
}
