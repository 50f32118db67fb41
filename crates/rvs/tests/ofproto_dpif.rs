//! `OfprotoDpif` driving the real upcall engine over the real userspace datapath, on a virtual
//! clock: NORMAL flooding and learning, an ACL rule changed under installed megaflows, VLAN
//! access/trunk ports, and the error texts of the control-socket commands.
//!
//! Every expected megaflow line was recorded from Open vSwitch 3.1 (`tools/ovs-oracle.sh`: bridge
//! br0 in standalone fail mode with `priority=0,actions=NORMAL`, dummy ports p1..p3, the same
//! packets sent with `ovs-appctl netdev-dummy/receive pN '<odp flow>'`, then
//! `ovs-appctl dpctl/dump-flows` after `revalidator/wait`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use rvs::ofproto_dpif::OfprotoDpif;
use rvs_dpif::clock::{Clock, VirtualClock};
use rvs_dpif::datapath::{Datapath, DatapathConfig, ForwardingThread};
use rvs_dpif::dpif::{Dpif, DpifFlow};
use rvs_flow::odp::{DpFlowStats, DumpExtras, FormatOptions, KeyOrder, format_dump_line};
use rvs_netdev::{DummyNetdev, PacketBatch};
use rvs_ofproto::vlan::{PortVlanSettings, VlanMode};
use rvs_upcall::Udpif;
use rvs_upcall::xlate::{Translator, XlateRequest};

const MAC1: [u8; 6] = [0x50, 0x54, 0, 0, 0, 1];
const MAC2: [u8; 6] = [0x50, 0x54, 0, 0, 0, 2];
const MAC3: [u8; 6] = [0x50, 0x54, 0, 0, 0, 3];

/// The frame OVS's `netdev-dummy/receive` composes for `eth(src,dst),[vlan(vid)],ipv4(src=
/// 10.0.0.S,dst=10.0.0.D,proto=17,tos=0,ttl=64,frag=no),udp(src,dst)`: 64 bytes of payload, so
/// 106 bytes untagged (the oracle's n_bytes confirm it).
fn udp_frame(src: [u8; 6], dst: [u8; 6], vid: Option<u16>, ports: (u16, u16)) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&dst);
    f.extend_from_slice(&src);
    if let Some(vid) = vid {
        f.extend_from_slice(&[0x81, 0x00]);
        f.extend_from_slice(&vid.to_be_bytes());
    }
    f.extend_from_slice(&[0x08, 0x00]);
    let payload = 64u16;
    let ip_len = 20 + 8 + payload;
    f.extend_from_slice(&[0x45, 0]);
    f.extend_from_slice(&ip_len.to_be_bytes());
    f.extend_from_slice(&[0, 0, 0, 0, 64, 17, 0, 0]);
    f.extend_from_slice(&[10, 0, 0, src[5], 10, 0, 0, dst[5]]);
    f.extend_from_slice(&ports.0.to_be_bytes());
    f.extend_from_slice(&ports.1.to_be_bytes());
    f.extend_from_slice(&(8 + payload).to_be_bytes());
    f.extend_from_slice(&[0, 0]);
    f.extend_from_slice(&[0u8; 64]);
    f
}

/// Datapath, ofproto, engine and the dummy ports (index = datapath port; 0 = br0 at 100).
struct Rig {
    clock: Arc<VirtualClock>,
    dp: Datapath,
    netdevs: Vec<Arc<DummyNetdev>>,
    ofproto: Arc<OfprotoDpif>,
    udpif: Arc<Udpif>,
    pmd: ForwardingThread,
    hook_calls: Arc<AtomicU64>,
}

impl Rig {
    /// br0 (LOCAL = datapath port 100) with NORMAL, and p1..p3 (OpenFlow = datapath port 1..3)
    /// with the given VLAN settings.
    fn new(vlans: [PortVlanSettings; 3]) -> Rig {
        let clock = Arc::new(VirtualClock::new(1_000_000));
        let dp = Datapath::new(DatapathConfig::dummy(), clock.clone());
        let br0 = Arc::new(DummyNetdev::new("br0"));
        assert_eq!(
            dp.port_add(br0.clone(), "dummy-internal", vec![], Some(100)),
            Ok(100)
        );
        let ofproto = Arc::new(OfprotoDpif::new(clock.clone()));
        ofproto.add_bridge("br0", 100, true).expect("bridge");
        let mut netdevs = vec![br0];
        for (i, vlan) in (1u16..=3).zip(vlans.iter()) {
            let name = format!("p{i}");
            let netdev = Arc::new(DummyNetdev::new(&name));
            assert_eq!(
                dp.port_add(netdev.clone(), "dummy", vec![], Some(u32::from(i))),
                Ok(u32::from(i))
            );
            assert_eq!(
                ofproto.add_port("br0", &name, u32::from(i), None, vlan),
                Ok(i),
                "lowest free OpenFlow number"
            );
            netdevs.push(netdev);
        }
        let udpif = Arc::new(Udpif::new(
            Arc::new(dp.clone()),
            ofproto.clone(),
            clock.clone(),
        ));
        let hook_calls = Arc::new(AtomicU64::new(0));
        let weak = Arc::downgrade(&udpif);
        let calls = hook_calls.clone();
        ofproto.set_change_hook(Box::new(move || {
            calls.fetch_add(1, Ordering::Relaxed);
            if let Some(u) = weak.upgrade() {
                u.revalidate();
            }
        }));
        let pmd = dp.forwarding_thread(0).expect("forwarding context");
        Rig {
            clock,
            dp,
            netdevs,
            ofproto,
            udpif,
            pmd,
            hook_calls,
        }
    }

    /// Receives `frame` on datapath port `port` and handles every upcall it caused; returns
    /// the number of upcalls.
    fn receive(&mut self, port: u32, frame: &[u8]) -> usize {
        let mut batch = PacketBatch::new();
        assert!(batch.push_copy(frame));
        self.pmd
            .process_batch(port, &mut batch, self.clock.now_ms());
        let mut buf = Vec::new();
        let mut n = 0;
        loop {
            let got = self.udpif.recv_upcalls(0, &mut buf);
            if got == 0 {
                return n;
            }
            n += got;
        }
    }

    /// Packets each port sent since the last call (index = datapath port, 0 = br0).
    fn sent(&self) -> Vec<usize> {
        self.netdevs.iter().map(|n| n.take_sent().len()).collect()
    }

    /// `dpctl/dump-flows` lines (OVS 3.1 key order), sorted.
    fn dump(&self) -> Vec<String> {
        let dump = self.dp.flow_dump(false);
        let mut thread = dump.thread();
        let mut flows: Vec<DpifFlow> = Vec::new();
        while thread.next(&mut flows, 50) > 0 {}
        let now = self.clock.now_ms();
        let opts = FormatOptions {
            key_order: KeyOrder::Ovs31,
            ..FormatOptions::default()
        };
        let mut lines: Vec<String> = flows
            .iter()
            .map(|f| {
                let stats = DpFlowStats {
                    n_packets: f.stats.n_packets,
                    n_bytes: f.stats.n_bytes,
                    used_ms: f.stats.used,
                    tcp_flags: f.stats.tcp_flags,
                };
                let mut s = String::new();
                format_dump_line(
                    &mut s,
                    None,
                    f.key.as_ref().expect("key"),
                    f.mask.as_ref().expect("mask"),
                    &stats,
                    now,
                    f.actions.as_deref().unwrap_or(&[]),
                    &DumpExtras::default(),
                    &opts,
                );
                s
            })
            .collect();
        lines.sort();
        lines
    }

    fn ofctl(&self, command: &str, args: &[&str]) -> Result<String, String> {
        let args: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
        self.ofproto.ofctl("br0", command, &args)
    }

    /// The `n_packets=.., n_bytes=..` of the dump-flows line containing `needle`.
    fn rule_counts(&self, needle: &str) -> String {
        let dump = self.ofctl("dump-flows", &[]).expect("dump-flows");
        let line = dump
            .lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no rule {needle} in\n{dump}"));
        let start = line.find("n_packets=").expect("n_packets");
        let end = line[start..].find(", idle_age").expect("idle_age") + start;
        line[start..end].to_owned()
    }
}

fn trunk() -> PortVlanSettings {
    PortVlanSettings::default()
}

#[test]
fn normal_floods_then_learns_and_revalidates_to_unicast() {
    let mut rig = Rig::new([trunk(), trunk(), trunk()]);
    let request = rig.ofctl("dump-flows", &[]).expect("dump");
    // A fresh OVS 3.1 bridge in standalone mode shows exactly this rule (ovs-ofctl dump-flows).
    assert_eq!(
        request,
        "NXST_FLOW reply (xid=0x4):\n cookie=0x0, duration=0s, table=0, n_packets=0, n_bytes=0, idle_age=0, priority=0 actions=NORMAL\n"
    );
    assert_eq!(rig.ofproto.n_rules(), 5, "OVS 3.1 memory/show: rules:5");

    // p1 → unknown 02: flood (LOCAL first, then p2, p3).
    assert_eq!(rig.receive(1, &udp_frame(MAC1, MAC2, None, (1000, 80))), 1);
    assert_eq!(rig.sent(), vec![1, 0, 1, 1]);
    // From OVS 3.1.
    assert_eq!(
        rig.dump(),
        vec![
            "recirc_id(0),in_port(1),packet_type(ns=0,id=0),eth(src=50:54:00:00:00:01,dst=50:54:00:00:00:02),eth_type(0x0800),ipv4(frag=no), packets:0, bytes:0, used:never, actions:100,2,3"
        ]
    );
    let hooks = rig.hook_calls.load(Ordering::Relaxed);

    // The reply p2 → 01: unicast to the learned port; 02 is learned, which calls the hook.
    assert_eq!(rig.receive(2, &udp_frame(MAC2, MAC1, None, (80, 1000))), 1);
    assert_eq!(rig.sent(), vec![0, 1, 0, 0]);
    assert!(
        rig.hook_calls.load(Ordering::Relaxed) > hooks,
        "MAC learned"
    );
    rig.clock.advance(100);
    rig.udpif.run_round(1);
    // From OVS 3.1 (after revalidator/wait): the flood flow became unicast.
    assert_eq!(
        rig.dump(),
        vec![
            "recirc_id(0),in_port(1),packet_type(ns=0,id=0),eth(src=50:54:00:00:00:01,dst=50:54:00:00:00:02),eth_type(0x0800),ipv4(frag=no), packets:0, bytes:0, used:never, actions:2",
            "recirc_id(0),in_port(2),packet_type(ns=0,id=0),eth(src=50:54:00:00:00:02,dst=50:54:00:00:00:01),eth_type(0x0800),ipv4(frag=no), packets:0, bytes:0, used:never, actions:1",
        ]
    );
    assert_eq!(
        rig.ofproto.fdb_show("br0").expect("fdb"),
        " port  VLAN  MAC                Age\n    1     0  50:54:00:00:00:01    0\n    2     0  50:54:00:00:00:02    0\n"
    );

    // A translation that learns nothing new does not call the hook.
    let hooks = rig.hook_calls.load(Ordering::Relaxed);
    let flow = rvs_flow::extract::extract(
        &udp_frame(MAC1, MAC2, None, (1000, 80)),
        &rvs_flow::extract::PacketMetadata {
            in_port: 1,
            ..Default::default()
        },
    );
    let req = XlateRequest {
        flow: &flow,
        tcp_flags: 0,
        for_revalidation: false,
        tables_version: rig.ofproto.tables_version(),
    };
    let out = rig.ofproto.translate(&req).expect("translates");
    assert_eq!(out.slow_path, 0);
    assert_eq!(rig.hook_calls.load(Ordering::Relaxed), hooks);

    // Both rules' packets: 2 misses, credited once each.
    assert_eq!(
        rig.rule_counts("actions=NORMAL"),
        "n_packets=2, n_bytes=212"
    );

    // fdb/flush empties the table and asks for revalidation.
    assert_eq!(
        rig.ofproto.fdb_flush(Some("br0")),
        Ok("table successfully flushed".to_owned())
    );
    assert!(rig.hook_calls.load(Ordering::Relaxed) > hooks);
    assert_eq!(
        rig.ofproto.fdb_show("br0").expect("fdb"),
        " port  VLAN  MAC                Age\n"
    );
}

#[test]
fn acl_rule_changes_modify_then_delete_megaflows_and_credit_once() {
    let mut rig = Rig::new([trunk(), trunk(), trunk()]);
    let v0 = rig.ofproto.tables_version();
    let hooks = rig.hook_calls.load(Ordering::Relaxed);
    assert_eq!(
        rig.ofctl(
            "add-flow",
            &["priority=100,in_port=1,udp,tp_dst=80,actions=output:3"]
        ),
        Ok(String::new())
    );
    assert!(rig.ofproto.tables_version() > v0);
    assert!(rig.hook_calls.load(Ordering::Relaxed) > hooks);

    let p1 = udp_frame(MAC1, MAC2, None, (1000, 80));
    assert_eq!(rig.receive(1, &p1), 1);
    assert_eq!(rig.sent(), vec![0, 0, 0, 1]);
    // From OVS 3.1.
    let acl_key = "recirc_id(0),in_port(1),packet_type(ns=0,id=0),eth_type(0x0800),ipv4(proto=17,frag=no),udp(dst=80)";
    assert_eq!(
        rig.dump(),
        vec![format!(
            "{acl_key}, packets:0, bytes:0, used:never, actions:3"
        )]
    );
    for _ in 0..4 {
        assert_eq!(rig.receive(1, &p1), 0, "datapath hit");
    }
    assert_eq!(rig.sent(), vec![0, 0, 0, 4]);
    rig.clock.advance(500);
    rig.udpif.run_round(1);
    // OVS 3.1 after 5 packets: n_packets=5, n_bytes=530 on the rule.
    assert_eq!(rig.rule_counts("tp_dst=80"), "n_packets=5, n_bytes=530");
    rig.clock.advance(500);
    rig.udpif.run_round(1);
    assert_eq!(
        rig.rule_counts("tp_dst=80"),
        "n_packets=5, n_bytes=530",
        "a round without new hits credits nothing"
    );

    // Modify: same match, actions drop → the megaflow is modified in place (OVS 3.1 shows
    // `packets:4, bytes:424, ..., actions:drop`).
    assert_eq!(
        rig.ofctl("mod-flows", &["in_port=1,udp,tp_dst=80,actions=drop"]),
        Ok(String::new())
    );
    rig.clock.advance(500);
    rig.udpif.run_round(1);
    let dump = rig.dump();
    assert_eq!(dump.len(), 1);
    assert!(
        dump[0].starts_with(&format!("{acl_key}, packets:4, bytes:424, used:"))
            && dump[0].ends_with(", actions:drop"),
        "{dump:?}"
    );
    assert_eq!(rig.receive(1, &p1), 0);
    assert_eq!(rig.sent(), vec![0, 0, 0, 0], "dropped in the datapath");
    rig.clock.advance(500);
    rig.udpif.run_round(1);
    // OVS 3.1: n_packets=6, n_bytes=636 after one more packet.
    assert_eq!(rig.rule_counts("tp_dst=80"), "n_packets=6, n_bytes=636");

    // Delete: NORMAL needs the Ethernet addresses, which the megaflow does not match, so the
    // flow is deleted (OVS 3.1's dump is empty after revalidator/wait).
    assert_eq!(
        rig.ofctl("del-flows", &["in_port=1,udp,tp_dst=80"]),
        Ok(String::new())
    );
    rig.clock.advance(500);
    rig.udpif.run_round(1);
    rig.udpif.run_round(1);
    assert_eq!(rig.dump(), Vec::<String>::new());
    assert_eq!(rig.rule_counts("actions=NORMAL"), "n_packets=0, n_bytes=0");
    assert_eq!(rig.ofproto.n_rules(), 5);
}

#[test]
fn vlan_access_and_trunk_ports() {
    let access10 = PortVlanSettings {
        tag: Some(10),
        ..PortVlanSettings::default()
    };
    let trunk_10_20 = PortVlanSettings {
        vlan_mode: Some(VlanMode::Trunk),
        trunks: vec![10, 20],
        ..PortVlanSettings::default()
    };
    let mut rig = Rig::new([access10.clone(), access10, trunk_10_20]);
    // Untagged from access p1: flood in VLAN 10 (LOCAL and p3 tagged, p2 untagged).
    assert_eq!(rig.receive(1, &udp_frame(MAC1, MAC2, None, (1000, 80))), 1);
    assert_eq!(rig.sent(), vec![1, 0, 1, 1]);
    // Tagged VLAN 10 from trunk p3 to the learned 01: pop and unicast to p1.
    assert_eq!(
        rig.receive(3, &udp_frame(MAC3, MAC1, Some(10), (80, 1000))),
        1
    );
    assert_eq!(rig.sent(), vec![0, 1, 0, 0]);
    // VLAN 30 is not trunked on p3; a tagged packet on access p2 is refused.
    assert_eq!(
        rig.receive(3, &udp_frame(MAC3, MAC1, Some(30), (80, 1000))),
        1
    );
    assert_eq!(
        rig.receive(2, &udp_frame(MAC2, MAC1, Some(10), (80, 1000))),
        1
    );
    assert_eq!(rig.sent(), vec![0, 0, 0, 0]);
    rig.clock.advance(100);
    rig.udpif.run_round(1);
    // From OVS 3.1 (p1, p2 tag=10; p3 trunks=10,20), same packets.
    assert_eq!(
        rig.dump(),
        vec![
            "recirc_id(0),in_port(1),packet_type(ns=0,id=0),eth(src=50:54:00:00:00:01,dst=50:54:00:00:00:02),eth_type(0x0800),ipv4(frag=no), packets:0, bytes:0, used:never, actions:push_vlan(vid=10,pcp=0),100,pop_vlan,2,push_vlan(vid=10,pcp=0),3",
            "recirc_id(0),in_port(2),packet_type(ns=0,id=0),eth(src=50:54:00:00:00:02,dst=50:54:00:00:00:01),eth_type(0x8100),vlan(vid=10),encap(eth_type(0x0800),ipv4(frag=no)), packets:0, bytes:0, used:never, actions:drop",
            "recirc_id(0),in_port(3),packet_type(ns=0,id=0),eth(src=50:54:00:00:00:03,dst=50:54:00:00:00:01),eth_type(0x8100),vlan(vid=10,pcp=0),encap(eth_type(0x0800),ipv4(frag=no)), packets:0, bytes:0, used:never, actions:pop_vlan,1",
            "recirc_id(0),in_port(3),packet_type(ns=0,id=0),eth(src=50:54:00:00:00:03,dst=50:54:00:00:00:01),eth_type(0x8100),vlan(vid=30),encap(eth_type(0x0800),ipv4(frag=no)), packets:0, bytes:0, used:never, actions:drop",
        ]
    );
    // From OVS 3.1's fdb/show (ages aside).
    assert_eq!(
        rig.ofproto.fdb_show("br0").expect("fdb"),
        " port  VLAN  MAC                Age\n    1    10  50:54:00:00:00:01    0\n    3    10  50:54:00:00:00:03    0\n"
    );
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn trace_texts_match_ovs() {
    let rig = Rig::new([trunk(), trunk(), trunk()]);
    rig.ofctl(
        "add-flow",
        &["priority=100,in_port=p1,udp,tp_dst=80,actions=output:p3"],
    )
    .expect("names are accepted");
    // Each expected text is OVS 3.1's `ofproto/trace` output for the same arguments, on the
    // same bridge and rules, with an empty MAC table.
    let odp = "in_port(p2),eth(src=50:54:00:00:00:02,dst=50:54:00:00:00:01),eth_type(0x0800),ipv4(src=10.0.0.2,dst=10.0.0.1,proto=17,tos=0,ttl=64,frag=no),udp(src=80,dst=1000)";
    assert_eq!(
        rig.ofproto.trace(&strings(&["ovs-dummy", odp])),
        Ok("Flow: udp,in_port=2,vlan_tci=0x0000,dl_src=50:54:00:00:00:02,dl_dst=50:54:00:00:00:01,nw_src=10.0.0.2,nw_dst=10.0.0.1,nw_tos=0,nw_ecn=0,nw_ttl=64,nw_frag=no,tp_src=80,tp_dst=1000

bridge(\"br0\")
-------------
 0. priority 0
    NORMAL
     -> no learned MAC for destination, flooding

Final flow: unchanged
Megaflow: recirc_id=0,eth,ip,in_port=2,dl_src=50:54:00:00:00:02,dl_dst=50:54:00:00:00:01,nw_frag=no
Datapath actions: 100,1,3
"
        .to_owned())
    );
    let arp = "in_port(2),eth(src=50:54:00:00:00:02,dst=50:54:00:00:00:01),eth_type(0x0806),arp(sip=10.0.0.2,tip=10.0.0.1,op=1,sha=50:54:00:00:00:02,tha=00:00:00:00:00:00)";
    assert_eq!(
        rig.ofproto.trace(&strings(&[arp])),
        Ok("Flow: arp,in_port=2,vlan_tci=0x0000,dl_src=50:54:00:00:00:02,dl_dst=50:54:00:00:00:01,arp_spa=10.0.0.2,arp_tpa=10.0.0.1,arp_op=1,arp_sha=50:54:00:00:00:02,arp_tha=00:00:00:00:00:00

bridge(\"br0\")
-------------
 0. priority 0
    NORMAL
     -> no learned MAC for destination, flooding

Final flow: unchanged
Megaflow: recirc_id=0,eth,arp,in_port=2,dl_src=50:54:00:00:00:02,dl_dst=50:54:00:00:00:01
Datapath actions: 100,1,3
"
        .to_owned())
    );
    assert_eq!(
        rig.ofproto.fdb_show("br0"),
        Ok(" port  VLAN  MAC                Age\n".to_owned()),
        "traces without a packet learn nothing"
    );
}

#[test]
fn command_errors_match_ovs() {
    let rig = Rig::new([trunk(), trunk(), trunk()]);
    let odp = "in_port(1),eth(src=50:54:00:00:00:01,dst=50:54:00:00:00:02),eth_type(0x0800),ipv4(src=10.0.0.1,dst=10.0.0.2,proto=17,tos=0,ttl=64,frag=no),udp(src=1000,dst=80)";
    let odp9 = odp.replace("in_port(1)", "in_port(9)");
    // Error texts of OVS 3.1's ofproto/trace (ovs-appctl prints them before "server returned
    // an error").
    for (args, expected) in [
        (
            vec![],
            "\"ofproto/trace\" command requires at least 1 arguments",
        ),
        (
            vec!["in_port=1"],
            "syntax error at in_port=1 (or the bridge name was omitted)",
        ),
        (vec!["br9", "in_port=1"], "br9: unknown bridge"),
        (
            vec!["br0", "in_port=1,foo=2"],
            "Bad openflow flow syntax: in_port=1,foo=2: unknown field foo",
        ),
        (vec!["foo", odp], "Cannot find the datapath"),
        (vec![&odp9], "no OpenFlow port for datapath port 9"),
        (vec!["a", "b", "c", "d"], "too many arguments"),
        (
            vec!["br0", "in_port=1", "zz"],
            "Trailing garbage in packet data",
        ),
        (vec!["br0", "in_port=1", "-foo"], "-foo: unknown option"),
    ] {
        assert_eq!(
            rig.ofproto.trace(&strings(&args)),
            Err(expected.to_owned()),
            "{args:?}"
        );
    }
    // ovs-ofctl's error texts (OVS 3.1).
    let flows = "in_port=1,actions=drop\nin_port=2,bad=1\n";
    for (bridge, command, args, expected) in [
        (
            "br9",
            "add-flow",
            vec!["actions=drop"],
            "ovs-ofctl: br9 is not a bridge or a socket",
        ),
        (
            "br0",
            "add-flow",
            vec![],
            "ovs-ofctl: 'add-flow' command requires at least 2 arguments",
        ),
        (
            "br0",
            "foo",
            vec![],
            "ovs-ofctl: unknown command 'foo'; use --help for help",
        ),
        (
            "br0",
            "add-flow",
            vec!["in_port=1,actions=foo"],
            "ovs-ofctl: unknown action foo",
        ),
        (
            "br0",
            "add-flows",
            vec![flows],
            "ovs-ofctl: -:2: must specify an action",
        ),
        (
            "br0",
            "replace-flows",
            vec![flows],
            "ovs-ofctl: -:2: must specify an action",
        ),
        (
            "br0",
            "del-flows",
            vec!["xx=1"],
            "ovs-ofctl: unknown keyword xx",
        ),
        (
            "br0",
            "dump-flows",
            vec!["priority=0"],
            "ovs-ofctl: unknown keyword priority",
        ),
    ] {
        let v0 = rig.ofproto.tables_version();
        assert_eq!(
            rig.ofproto.ofctl(bridge, command, &strings(&args)),
            Err(expected.to_owned()),
            "{command} {args:?}"
        );
        assert_eq!(rig.ofproto.tables_version(), v0, "nothing changed");
    }
    assert_eq!(rig.ofproto.n_rules(), 5);
}

#[test]
fn ports_and_flow_files() {
    let rig = Rig::new([trunk(), trunk(), trunk()]);
    let of = &rig.ofproto;
    assert_eq!(of.bridges(), vec!["br0".to_owned()]);
    assert_eq!(of.bridge_of_port("p2"), Some("br0".to_owned()));
    assert_eq!(of.bridge_of_port("br0"), Some("br0".to_owned()));
    let names: Vec<(u16, u32, String)> = of
        .ports("br0")
        .expect("ports")
        .into_iter()
        .map(|p| (p.ofport, p.odp_port, p.name))
        .collect();
    assert_eq!(
        names,
        vec![
            (0xfffe, 100, "br0".to_owned()),
            (1, 1, "p1".to_owned()),
            (2, 2, "p2".to_owned()),
            (3, 3, "p3".to_owned()),
        ]
    );
    assert!(of.add_port("br0", "p1", 7, None, &trunk()).is_err());
    assert!(of.add_port("br0", "p7", 3, None, &trunk()).is_err());
    assert!(of.add_port("br0", "p7", 7, Some(2), &trunk()).is_err());
    assert!(of.add_port("br9", "p7", 7, None, &trunk()).is_err());
    assert!(of.add_bridge("br0", 200, true).is_err());
    assert_eq!(of.del_port("p2"), Ok(("br0".to_owned(), 2)));
    assert!(of.del_port("p2").is_err());
    assert!(of.del_port("br0").is_err(), "LOCAL stays");
    assert_eq!(
        of.add_port("br0", "p9", 9, None, &trunk()),
        Ok(2),
        "2 is free again"
    );
    assert_eq!(of.add_port("br0", "p8", 8, Some(80), &trunk()), Ok(80));

    // add-flows applies every line; replace-flows leaves exactly the file's rules (texts from
    // OVS 3.1's `ovs-ofctl --no-stats dump-flows` after the same commands, p9 being port 2).
    assert_eq!(
        rig.ofctl(
            "add-flows",
            &["# acl\npriority=5,in_port=1,actions=drop\npriority=6,in_port=p9,actions=output:1\n"]
        ),
        Ok(String::new())
    );
    assert_eq!(of.n_rules(), 7);
    // OVS 3.1 prints the same three lines (in its hash-table order: 5, 6, 0).
    let dump = rig.ofctl("dump-flows", &["--no-stats"]).expect("dump");
    let mut lines: Vec<&str> = dump.lines().collect();
    lines.sort_unstable();
    assert_eq!(
        lines,
        vec![
            " priority=0 actions=NORMAL",
            " priority=5,in_port=1 actions=drop",
            " priority=6,in_port=2 actions=output:1",
        ]
    );
    assert_eq!(
        rig.ofctl("replace-flows", &["priority=0,actions=NORMAL\n"]),
        Ok(String::new())
    );
    assert_eq!(
        rig.ofctl("dump-flows", &["--no-stats"]),
        Ok(" priority=0 actions=NORMAL\n".to_owned())
    );
    assert_eq!(
        rig.ofctl("dump-flows", &["in_port=1"]),
        Ok("NXST_FLOW reply (xid=0x8):\n".to_owned())
    );
    // Timeouts expire in `run`, which then asks for revalidation.
    rig.ofctl("add-flow", &["idle_timeout=1,in_port=1,actions=drop"])
        .expect("add");
    assert_eq!(of.n_rules(), 6);
    let hooks = rig.hook_calls.load(Ordering::Relaxed);
    rig.clock.advance(1_001);
    of.run();
    assert_eq!(of.n_rules(), 5);
    assert!(rig.hook_calls.load(Ordering::Relaxed) > hooks);
    let hooks = rig.hook_calls.load(Ordering::Relaxed);
    of.run();
    assert_eq!(
        rig.hook_calls.load(Ordering::Relaxed),
        hooks,
        "nothing to do"
    );
}

#[test]
fn traces_of_packets_learn_as_ovs_does() {
    let rig = Rig::new([trunk(), trunk(), trunk()]);
    // OVS 3.1's output for `ofproto/trace br0 in_port=2 -generate` on an empty MAC table.
    assert_eq!(
        rig.ofproto.trace(&strings(&["br0", "in_port=2", "-generate"])),
        Ok("Flow: in_port=2,vlan_tci=0x0000,dl_src=00:00:00:00:00:00,dl_dst=00:00:00:00:00:00,dl_type=0x0000

bridge(\"br0\")
-------------
 0. priority 0
    NORMAL
     -> learned that 00:00:00:00:00:00 is on port p2 in VLAN 0
     -> learned port is input port, dropping

Final flow: unchanged
Megaflow: recirc_id=0,eth,in_port=2,dl_src=00:00:00:00:00:00,dl_dst=00:00:00:00:00:00,dl_type=0x0000
Datapath actions: drop
"
        .to_owned())
    );
    let hooks = rig.hook_calls.load(Ordering::Relaxed);
    // OVS 3.1's output for the same hex packet (an IPv4 header claiming UDP, no UDP header).
    assert_eq!(
        rig.ofproto.trace(&strings(&[
            "br0",
            "in_port=3",
            "505400000001505400000003080045000014000000004011000000000000000000000000",
        ])),
        Ok("Flow: udp,in_port=3,vlan_tci=0x0000,dl_src=50:54:00:00:00:03,dl_dst=50:54:00:00:00:01,nw_src=0.0.0.0,nw_dst=0.0.0.0,nw_tos=0,nw_ecn=0,nw_ttl=64,nw_frag=no,tp_src=0,tp_dst=0

bridge(\"br0\")
-------------
 0. priority 0
    NORMAL
     -> learned that 50:54:00:00:00:03 is on port p3 in VLAN 0
     -> no learned MAC for destination, flooding

Final flow: unchanged
Megaflow: recirc_id=0,eth,ip,in_port=3,dl_src=50:54:00:00:00:03,dl_dst=50:54:00:00:00:01,nw_frag=no
Datapath actions: 100,1,2
"
        .to_owned())
    );
    assert!(
        rig.hook_calls.load(Ordering::Relaxed) > hooks,
        "learning revalidates"
    );
    assert_eq!(
        rig.ofproto.fdb_show("br0"),
        Ok(" port  VLAN  MAC                Age\n    2     0  00:00:00:00:00:00    0\n    3     0  50:54:00:00:00:03    0\n".to_owned())
    );
    // OVS 3.1's error for a packet shorter than an Ethernet header.
    assert_eq!(
        rig.ofproto.trace(&strings(&["br0", "in_port=3", "5054"])),
        Err("Packet data too short for Ethernet".to_owned())
    );
}

#[test]
fn controller_actions_are_slow_pathed_and_unknown_ports_have_no_ofproto() {
    let rig = Rig::new([trunk(), trunk(), trunk()]);
    rig.ofctl("add-flow", &["in_port=1,actions=controller"])
        .expect("add");
    let frame = udp_frame(MAC1, MAC2, None, (1000, 80));
    let md = |in_port| rvs_flow::extract::PacketMetadata {
        in_port,
        ..Default::default()
    };
    let flow = rvs_flow::extract::extract(&frame, &md(1));
    let req = XlateRequest {
        flow: &flow,
        tcp_flags: 0,
        for_revalidation: true,
        tables_version: rig.ofproto.tables_version(),
    };
    let out = rig.ofproto.translate(&req).expect("translates");
    assert_eq!(out.slow_path, rvs_upcall::xlate::SLOW_ACTION);
    let cache = out.xcache.expect("cached");
    let cache = cache
        .as_any()
        .downcast_ref::<rvs::ofproto_dpif::DpifXlateCache>()
        .expect("ours");
    assert_eq!((cache.bridge(), cache.n_rules()), ("br0", 1));

    let unknown = rvs_flow::extract::extract(&frame, &md(9));
    let req = XlateRequest {
        flow: &unknown,
        ..req
    };
    assert_eq!(
        rig.ofproto.translate(&req).err(),
        Some(rvs_upcall::xlate::XlateError::NoOfproto(9))
    );
}

#[test]
fn translations_flow_mods_and_port_changes_run_concurrently() {
    let rig = Rig::new([trunk(), trunk(), trunk()]);
    let of = rig.ofproto.clone();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let translators: Vec<_> = (0..2u8)
        .map(|t| {
            let of = of.clone();
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) || n < 100 {
                    let src = [0x50, 0x54, 0, 0, t, (n % 50) as u8];
                    let frame = udp_frame(src, MAC2, None, (1000, 80));
                    let md = rvs_flow::extract::PacketMetadata {
                        in_port: 1 + u32::from(t),
                        ..Default::default()
                    };
                    let flow = rvs_flow::extract::extract(&frame, &md);
                    let req = XlateRequest {
                        flow: &flow,
                        tcp_flags: 0,
                        for_revalidation: n.is_multiple_of(3),
                        tables_version: of.tables_version(),
                    };
                    if let Ok(out) = of.translate(&req)
                        && let Some(cache) = &out.xcache
                    {
                        let delta = rvs_dpif::dpif::FlowStats {
                            n_packets: 1,
                            n_bytes: 106,
                            used: 1_000_000,
                            tcp_flags: 0,
                        };
                        of.push_stats(cache.as_ref(), &delta);
                    }
                    n += 1;
                }
                n
            })
        })
        .collect();
    for i in 0..200u32 {
        let rule = format!(
            "priority={},in_port=1,udp,tp_dst=80,actions=output:3",
            i % 7
        );
        of.ofctl("br0", "add-flow", &strings(&[&rule]))
            .expect("add");
        if i.is_multiple_of(10) {
            of.ofctl("br0", "del-flows", &strings(&["in_port=1"]))
                .expect("del");
            assert_eq!(of.del_port("p3"), Ok(("br0".to_owned(), 3)));
            assert_eq!(of.add_port("br0", "p3", 3, Some(3), &trunk()), Ok(3));
        }
        of.run();
        let _ = of.fdb_show("br0").expect("fdb");
        let _ = of.trace(&strings(&["br0", "in_port=1,udp,tp_dst=80"]));
    }
    stop.store(true, Ordering::Relaxed);
    for t in translators {
        assert!(t.join().expect("no panic") >= 100);
    }
    assert!(rig.hook_calls.load(Ordering::Relaxed) >= 200);
}
