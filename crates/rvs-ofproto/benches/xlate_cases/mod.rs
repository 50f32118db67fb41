//! Workloads for the translation benchmarks (`benches/xlate.rs`, `examples/xlate_bench.rs`):
//! a NORMAL bridge with a warm MAC table, and a 5-table pipeline (classification → ACL → L3
//! rewrite → L2 lookup → output).
//!
//! # Invariants
//! * Everything is deterministic (a fixed-seed xorshift generator).
//! * [`World::check`] compares every input's datapath actions with what an independent model of
//!   the workload (MAC table contents; a linear scan over the ACL rules) says they must be, and
//!   panics with the first difference: a benchmark of a broken pipeline fails loudly.
//! * Every ACL rule's priority is a function of its mask alone, so two rules that both match a
//!   packet at the same priority would have the same match (duplicates are not generated):
//!   the highest-priority match is unique and the model is unambiguous.

use rvs_flow::Flow;
use rvs_flow::flow::{ETH_TYPE_IP, VLAN_CFI, VlanHeader, ipproto};
use rvs_flow::odp::format_actions;
use rvs_ofproto::actions::Dialect;
use rvs_ofproto::mac_learning::{LearnContext, MacLearning};
use rvs_ofproto::table::{Ofctl, Tables};
use rvs_ofproto::xlate::{Bridge, Translator, XlateInput};
use std::collections::HashSet;

/// Distinct flows per case (one benchmark iteration translates all of them).
pub(crate) const PACKETS: usize = 1024;

/// The trunk ports `p1..p4` (OpenFlow port = datapath port); LOCAL is datapath port 100.
const TRUNKS: u16 = 4;
/// VLANs in use: 10..=17.
const VLAN_BASE: u16 = 10;
const N_VLANS: u16 = 8;
/// The router MAC (pipeline: the packets' destination, and the rewritten source).
const ROUTER_MAC: [u8; 6] = [0x02, 0xaa, 0, 0, 0, 1];
/// Hosts in the pipeline's L2 table.
const L2_HOSTS: usize = 1000;
/// Routes in the pipeline's L3 table: /20s covering 172.16.0.0/12.
const ROUTES: u32 = 256;
/// Destination ports ACL rules match on.
const SERVICE_PORTS: [u16; 8] = [22, 53, 80, 443, 3306, 5432, 6379, 8080];

/// xorshift64*: deterministic and dependency-free.
pub(crate) struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn host_mac(i: usize) -> [u8; 6] {
    let b = (i as u32).to_be_bytes();
    [0x02, 0x00, b[0], b[1], b[2], b[3]]
}

fn mac_text(m: [u8; 6]) -> String {
    format!(
        "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        m[0], m[1], m[2], m[3], m[4], m[5]
    )
}

fn ip_text(a: u32) -> String {
    let b = a.to_be_bytes();
    format!("{}.{}.{}.{}", b[0], b[1], b[2], b[3])
}

fn prefix_mask(len: u32) -> u32 {
    if len == 0 { 0 } else { u32::MAX << (32 - len) }
}

fn tagged(vid: u16) -> [VlanHeader; 2] {
    let mut v = [VlanHeader::default(); 2];
    v[0] = VlanHeader {
        tpid: 0x8100,
        tci: VLAN_CFI | vid,
    };
    v
}

/// A TCP/IPv4 packet with TTL 64 on `in_port` in VLAN `vid`.
fn tcp_packet(in_port: u16, vid: u16, src: [u8; 6], dst: [u8; 6]) -> Flow {
    let mut f = Flow {
        in_port: u32::from(in_port),
        dl_type: ETH_TYPE_IP,
        nw_proto: ipproto::TCP,
        nw_src: 0x0a00_0001,
        nw_dst: 0x0a00_0002,
        nw_ttl: 64,
        tp_src: 40000,
        tp_dst: 80,
        ..Flow::default()
    };
    f.vlans = tagged(vid);
    f.dl_src = src;
    f.dl_dst = dst;
    f
}

/// One benchmark case: flows translated against a [`World`], with the actions each must get.
pub(crate) struct Case {
    /// `normal/10k_macs/unicast/revalidate`, `pipeline/acl_1000/mixed`, ...
    pub(crate) name: String,
    /// OpenFlow rules installed.
    pub(crate) rules: usize,
    /// The inputs.
    pub(crate) inputs: Vec<XlateInput>,
    /// The expected datapath actions of each input, in OVS's text form.
    expected: Vec<String>,
}

/// A bridge, its tables and its MAC table, with the cases run against them.
pub(crate) struct World {
    bridge: Bridge,
    tables: Tables,
    mac: MacLearning<u16>,
    /// The cases.
    pub(crate) cases: Vec<Case>,
}

impl World {
    /// The translator over this world.
    pub(crate) fn translator(&self) -> Translator<'_> {
        Translator {
            bridge: &self.bridge,
            tables: &self.tables,
            mac: &self.mac,
        }
    }

    /// Translates every input of every case once and panics on the first unexpected result.
    pub(crate) fn check(&self) {
        let x = self.translator();
        for case in &self.cases {
            for (input, want) in case.inputs.iter().zip(&case.expected) {
                let out = x.translate(input);
                let mut got = String::new();
                format_actions(&mut got, &out.odp_actions, None);
                assert!(
                    out.error.is_none() && got == *want,
                    "{}: flow {:?}\n  got  {got} ({:?})\n  want {want}",
                    case.name,
                    input.flow,
                    out.error
                );
            }
        }
    }

    /// Translates every input of `case` once; returns a value to black-box.
    pub(crate) fn run(&self, case: &Case) -> usize {
        let x = self.translator();
        case.inputs
            .iter()
            .map(|i| x.translate(i).odp_actions.len())
            .sum()
    }
}

fn add_flows(tables: &mut Tables, lines: &[String]) {
    let text = lines.join("\n");
    let ofctl = Ofctl::new(Dialect::OpenFlow10);
    if let Err((i, e)) = ofctl.add_flows(tables, "bench", &text, true, 0) {
        panic!("add-flows line {i} ({}): {e}", lines[i]);
    }
}

// ---------------------------------------------------------------- NORMAL

/// `priority=0,actions=NORMAL` on LOCAL + 4 trunk ports, `n_macs` hosts learned across 8
/// VLANs (host `i`: port `1 + i % 4`, VLAN `10 + (i / 4) % 8`). Cases: known unicast
/// destinations and unknown destinations (flood), each with learning off (revalidation) and
/// on (upcall; the source is already learned on its port, so learning changes nothing).
pub(crate) fn normal_world(n_macs: usize) -> World {
    let bridge = Bridge::with_local_and_trunk_ports("br0", TRUNKS);
    let mut tables = Tables::new();
    add_flows(&mut tables, &["priority=0,actions=NORMAL".to_owned()]);
    let mac = MacLearning::new();
    mac.set_max_entries(2 * n_macs);
    let port_of = |i: usize| 1 + (i % usize::from(TRUNKS)) as u16;
    let vlan_of = |i: usize| VLAN_BASE + ((i / 4) % usize::from(N_VLANS)) as u16;
    for i in 0..n_macs {
        let _ = mac.learn(
            &host_mac(i),
            vlan_of(i),
            port_of(i),
            LearnContext::default(),
            0,
        );
    }
    assert_eq!(mac.read().len(), n_macs, "MAC table not warm");

    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut unicast = (Vec::new(), Vec::new());
    let mut flood = (Vec::new(), Vec::new());
    for _ in 0..PACKETS {
        // Hosts a and a + 1 share a VLAN when a % 4 != 3, and sit on different ports.
        let a = loop {
            let a = rng.below(n_macs as u64 - 1) as usize;
            if a % 4 != 3 {
                break a;
            }
        };
        let b = a + 1;
        let (pa, va) = (port_of(a), vlan_of(a));
        unicast.0.push(tcp_packet(pa, va, host_mac(a), host_mac(b)));
        unicast.1.push(port_of(b).to_string());
        let unknown = host_mac(n_macs + 1 + a);
        flood.0.push(tcp_packet(pa, va, host_mac(a), unknown));
        // NORMAL floods in bridge order: LOCAL (datapath 100), then p1..p4, not the input.
        let mut ports = vec!["100".to_owned()];
        ports.extend((1..=TRUNKS).filter(|&p| p != pa).map(|p| p.to_string()));
        flood.1.push(ports.join(","));
    }
    let label = if n_macs >= 1000 && n_macs.is_multiple_of(1000) {
        format!("{}k_macs", n_macs / 1000)
    } else {
        format!("{n_macs}_macs")
    };
    let mut cases = Vec::new();
    for (kind, (flows, expected)) in [("unicast", unicast), ("flood", flood)] {
        for (mode, may_learn) in [("revalidate", false), ("upcall", true)] {
            let inputs = flows
                .iter()
                .map(|f| {
                    let mut i = XlateInput::new(*f, tables.version());
                    i.may_learn = may_learn;
                    i
                })
                .collect();
            cases.push(Case {
                name: format!("normal/{label}/{kind}/{mode}"),
                rules: 1,
                inputs,
                expected: expected.clone(),
            });
        }
    }
    World {
        bridge,
        tables,
        mac,
        cases,
    }
}

// ---------------------------------------------------------------- pipeline

/// One ACL rule as the model sees it.
struct AclRule {
    src: u32,
    src_len: u32,
    dst: u32,
    dst_len: u32,
    tp_dst: Option<u16>,
    priority: u16,
    allow: bool,
}

impl AclRule {
    fn matches(&self, f: &Flow) -> bool {
        f.nw_src & prefix_mask(self.src_len) == self.src
            && f.nw_dst & prefix_mask(self.dst_len) == self.dst
            && self.tp_dst.is_none_or(|p| p == f.tp_dst)
    }

    fn text(&self) -> String {
        let port = self
            .tp_dst
            .map(|p| format!(",tp_dst={p}"))
            .unwrap_or_default();
        format!(
            "table=1,priority={},tcp,nw_src={}/{},nw_dst={}/{}{port},actions={}",
            self.priority,
            ip_text(self.src),
            self.src_len,
            ip_text(self.dst),
            self.dst_len,
            if self.allow { "goto_table:2" } else { "drop" }
        )
    }
}

/// `n` distinct ACL rules: sources in 10.0.0.0/8 (/8../32), destinations in 172.16.0.0/12
/// (/16../32), 3 in 4 with a destination port, 3 in 4 allowing; priority from the mask.
fn acl_rules(n: usize, rng: &mut Rng) -> Vec<AclRule> {
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let src_len = [8, 16, 24, 32][rng.below(4) as usize];
        let dst_len = [16, 20, 24, 32][rng.below(4) as usize];
        let src = (0x0a00_0000 | (rng.next() as u32 & 0x00ff_ffff)) & prefix_mask(src_len);
        let dst = (0xac10_0000 | (rng.next() as u32 & 0x000f_ffff)) & prefix_mask(dst_len);
        let tp_dst = (rng.below(4) != 0).then(|| SERVICE_PORTS[rng.below(8) as usize]);
        let priority = 1000 + (src_len * 100 + dst_len * 2) as u16 + u16::from(tp_dst.is_some());
        if !seen.insert((src, src_len, dst, dst_len, tp_dst)) {
            continue;
        }
        out.push(AclRule {
            src,
            src_len,
            dst,
            dst_len,
            tp_dst,
            priority,
            allow: out.len() % 4 != 0,
        });
    }
    out
}

fn route_of(nw_dst: u32) -> u32 {
    (nw_dst >> 12) & (ROUTES - 1)
}

/// The next hop of route `j`: L2 host `3 j`.
fn next_hop(j: u32) -> usize {
    3 * j as usize
}

fn l2_port(h: usize) -> u16 {
    1 + (h % usize::from(TRUNKS)) as u16
}

/// The 5-table pipeline with `acl` ACL rules:
/// * table 0: `in_port=P,dl_vlan=V` (4 ports × 8 VLANs) → `load:V->reg0`, `resubmit(,1)`;
///   anything else drops.
/// * table 1: the ACL ([`acl_rules`]); allowed → `goto_table:2`; default drop.
/// * table 2: 256 routes `ip,nw_dst=172.16.x.0/20` → `mod_dl_src:ROUTER`,
///   `mod_dl_dst:NEXTHOP`, `dec_ttl`, `goto_table:3`.
/// * table 3: 1000 hosts `dl_dst=MAC` → `load:PORT->reg1`, `goto_table:4`; default drop.
/// * table 4: `reg1=P` → `output:P` (4 rules).
///
/// Flows: 3 in 4 built to hit a random ACL rule (allow or deny), 1 in 4 random (mostly the
/// default drop), from random ports and VLANs.
pub(crate) fn pipeline_world(acl: usize) -> World {
    let bridge = Bridge::with_local_and_trunk_ports("br0", TRUNKS);
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut lines = Vec::new();
    for p in 1..=TRUNKS {
        for v in VLAN_BASE..VLAN_BASE + N_VLANS {
            lines.push(format!(
                "table=0,priority=100,in_port={p},dl_vlan={v},actions=load:{v}->NXM_NX_REG0[],resubmit(,1)"
            ));
        }
    }
    lines.push("table=0,priority=0,actions=drop".to_owned());
    let rules = acl_rules(acl, &mut rng);
    lines.extend(rules.iter().map(AclRule::text));
    lines.push("table=1,priority=0,actions=drop".to_owned());
    for j in 0..ROUTES {
        lines.push(format!(
            "table=2,priority=120,ip,nw_dst={}/20,actions=mod_dl_src:{},mod_dl_dst:{},dec_ttl,goto_table:3",
            ip_text(0xac10_0000 | (j << 12)),
            mac_text(ROUTER_MAC),
            mac_text(host_mac(next_hop(j)))
        ));
    }
    for h in 0..L2_HOSTS {
        lines.push(format!(
            "table=3,priority=100,dl_dst={},actions=load:{}->NXM_NX_REG1[],goto_table:4",
            mac_text(host_mac(h)),
            l2_port(h)
        ));
    }
    lines.push("table=3,priority=0,actions=drop".to_owned());
    for p in 1..=TRUNKS {
        lines.push(format!("table=4,priority=100,reg1={p},actions=output:{p}"));
    }
    let mut tables = Tables::new();
    add_flows(&mut tables, &lines);
    let n_rules = tables.rule_count(tables.version());
    assert_eq!(n_rules, lines.len(), "duplicate rules in the pipeline");

    let mut inputs = Vec::with_capacity(PACKETS);
    let mut expected = Vec::with_capacity(PACKETS);
    let mut allowed = 0;
    for i in 0..PACKETS {
        let in_port = 1 + rng.below(u64::from(TRUNKS)) as u16;
        let vid = VLAN_BASE + rng.below(u64::from(N_VLANS)) as u16;
        let src_host = host_mac(L2_HOSTS + rng.below(1000) as usize);
        let mut f = tcp_packet(in_port, vid, src_host, ROUTER_MAC);
        f.tp_src = 1024 + rng.below(60000) as u16;
        f.nw_src = 0x0a00_0000 | (rng.next() as u32 & 0x00ff_ffff);
        f.nw_dst = 0xac10_0000 | (rng.next() as u32 & 0x000f_ffff);
        f.tp_dst = SERVICE_PORTS[rng.below(8) as usize];
        if i % 4 != 3 {
            let r = &rules[rng.below(rules.len() as u64) as usize];
            f.nw_src = r.src | (f.nw_src & !prefix_mask(r.src_len));
            f.nw_dst = r.dst | (f.nw_dst & !prefix_mask(r.dst_len));
            if let Some(p) = r.tp_dst {
                f.tp_dst = p;
            }
        }
        // The model: highest-priority matching ACL rule (unique, see the module docs).
        let hit = rules
            .iter()
            .filter(|r| r.matches(&f))
            .max_by_key(|r| r.priority);
        let want = match hit {
            Some(r) if r.allow => {
                let hop = next_hop(route_of(f.nw_dst));
                let out = l2_port(hop);
                if out == in_port {
                    "drop".to_owned() // output to the input port is skipped
                } else {
                    allowed += 1;
                    format!(
                        "set(eth(src={},dst={})),set(ipv4(ttl=63)),{out}",
                        mac_text(ROUTER_MAC),
                        mac_text(host_mac(hop))
                    )
                }
            }
            _ => "drop".to_owned(),
        };
        inputs.push(XlateInput {
            may_learn: false,
            ..XlateInput::new(f, tables.version())
        });
        expected.push(want);
    }
    // Variety: a good part of the flows must make it through all five tables.
    assert!(allowed > PACKETS / 4, "only {allowed} flows forwarded");
    // Distinct 5-tuples, so lookups are not all identical.
    let distinct: HashSet<_> = inputs
        .iter()
        .map(|i| {
            let f = &i.flow;
            (f.nw_src, f.nw_dst, f.tp_src, f.tp_dst, f.in_port)
        })
        .collect();
    assert!(distinct.len() > PACKETS * 9 / 10);
    let label = if acl.is_multiple_of(1000) {
        format!("acl_{}k", acl / 1000)
    } else {
        format!("acl_{acl}")
    };
    World {
        bridge,
        tables,
        mac: MacLearning::new(),
        cases: vec![Case {
            name: format!("pipeline/{label}/mixed"),
            rules: n_rules,
            inputs,
            expected,
        }],
    }
}

/// All worlds: NORMAL with 1k and 10k MACs, the pipeline with 1000 and (if `big`) 100k ACL
/// rules.
pub(crate) fn worlds(big: bool) -> impl Iterator<Item = World> {
    let normal = [1000usize, 10_000].into_iter().map(normal_world);
    let acl: &'static [usize] = if big { &[1000, 100_000] } else { &[1000] };
    normal.chain(acl.iter().map(|&n| pipeline_world(n)))
}
