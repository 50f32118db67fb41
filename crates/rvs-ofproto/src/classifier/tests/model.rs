//! Property tests: the classifier against a linear-scan model over random rule sets, random
//! versioned changes and random packets, and the soundness of the returned wildcards.
//!
//! The model is the definition: the answer in version `v` is a highest-priority rule visible in
//! `v` that matches. Open vSwitch returns "an arbitrary one" among equal-priority matches (the one
//! in the subtable it scans first), so the check is membership in the model's set of best rules.
//! Soundness: every flow that agrees with the looked-up flow on the returned wildcards must get
//! exactly the same rule (so a megaflow built from them never covers a packet that would have
//! been classified differently).

use super::super::{Classifier, Outgoing, PrefixField, Rule, Version};
use super::{prefix_u32, prefix_v6};
use proptest::prelude::*;
use rvs_flow::flow::{ETH_TYPE_ARP, ETH_TYPE_IP, ETH_TYPE_IPV6};
use rvs_flow::{Flow, Match, Wildcards};

const MACS: [[u8; 6]; 3] = [
    [0, 0, 0, 0, 0, 1],
    [0, 0, 0, 0, 0, 2],
    [1, 0, 0x5e, 0, 0, 1],
];
const DL_TYPES: [u16; 3] = [ETH_TYPE_IP, ETH_TYPE_IPV6, ETH_TYPE_ARP];
const V4: [u32; 5] = [
    0x0a00_0000,
    0x0a01_0000,
    0x0a01_0100,
    0xc0a8_0100,
    0xac10_0000,
];
const V6: [u128; 3] = [0x2001_0db8 << 96, 0x2001_0db8_0001 << 80, 0xfe80 << 112];
const PORTS: [u16; 5] = [80, 443, 1000, 1001, 8080];
const PROTOS: [u8; 2] = [6, 17];

/// How a rule matches one address field.
#[derive(Debug, Clone, Copy)]
enum AddrMask {
    /// CIDR prefix of this length (0 = wildcarded, which the field spec leaves out anyway).
    Prefix(u32),
    /// A non-contiguous mask, which keeps the subtable out of the trie.
    Odd,
}

/// How a rule matches a transport port.
#[derive(Debug, Clone, Copy)]
enum PortMask {
    Exact,
    High(u16),
    Odd,
}

fn port_mask(p: PortMask) -> u16 {
    match p {
        PortMask::Exact => u16::MAX,
        PortMask::High(m) => m,
        PortMask::Odd => 0x00ff,
    }
}

/// One random rule: for each field, whether and how it is matched.
#[derive(Debug, Clone)]
struct RuleSpec {
    in_port: Option<u32>,
    skb_mark: Option<u32>,
    dl_src: Option<usize>,
    dl_dst: Option<(usize, bool)>,
    dl_type: Option<usize>,
    nw_src: Option<(usize, u32, AddrMask)>,
    nw_dst: Option<(usize, u32, AddrMask)>,
    nw_proto: Option<usize>,
    ipv6_src: Option<(usize, u32)>,
    ipv6_dst: Option<(usize, u32)>,
    tp_src: Option<(usize, PortMask)>,
    tp_dst: Option<(usize, PortMask)>,
}

fn apply_addr(value: &mut u32, mask: &mut u32, (i, noise, how): (usize, u32, AddrMask)) {
    *value = V4[i % V4.len()] | (noise & 0xffff);
    *mask = match how {
        AddrMask::Prefix(len) => prefix_u32(len),
        AddrMask::Odd => 0xff00_ff00,
    };
}

impl RuleSpec {
    fn to_match(&self) -> Match {
        let mut f = Flow::default();
        let mut m = Flow::default();
        if let Some(p) = self.in_port {
            (f.in_port, m.in_port) = (p, u32::MAX);
        }
        if let Some(k) = self.skb_mark {
            (f.skb_mark, m.skb_mark) = (k, u32::MAX);
        }
        if let Some(i) = self.dl_src {
            (f.dl_src, m.dl_src) = (MACS[i % MACS.len()], [0xff; 6]);
        }
        if let Some((i, group_bit_only)) = self.dl_dst {
            f.dl_dst = MACS[i % MACS.len()];
            m.dl_dst = if group_bit_only {
                [1, 0, 0, 0, 0, 0]
            } else {
                [0xff; 6]
            };
        }
        if let Some(i) = self.dl_type {
            (f.dl_type, m.dl_type) = (DL_TYPES[i % DL_TYPES.len()], u16::MAX);
        }
        if let Some(a) = self.nw_src {
            apply_addr(&mut f.nw_src, &mut m.nw_src, a);
        }
        if let Some(a) = self.nw_dst {
            apply_addr(&mut f.nw_dst, &mut m.nw_dst, a);
        }
        if let Some(i) = self.nw_proto {
            (f.nw_proto, m.nw_proto) = (PROTOS[i % PROTOS.len()], u8::MAX);
        }
        if let Some((i, len)) = self.ipv6_src {
            (f.ipv6_src, m.ipv6_src) = (V6[i % V6.len()].to_be_bytes(), prefix_v6(len));
        }
        if let Some((i, len)) = self.ipv6_dst {
            (f.ipv6_dst, m.ipv6_dst) = (V6[i % V6.len()].to_be_bytes(), prefix_v6(len));
        }
        if let Some((i, how)) = self.tp_src {
            (f.tp_src, m.tp_src) = (PORTS[i % PORTS.len()], port_mask(how));
        }
        if let Some((i, how)) = self.tp_dst {
            (f.tp_dst, m.tp_dst) = (PORTS[i % PORTS.len()], port_mask(how));
        }
        Match::new(&f, &Wildcards { masks: m })
    }
}

impl RuleSpec {
    /// The same mask with other values: field `i` takes its value from `picks[i]` (and the
    /// address low bits from `noise`), so that several rules share one subtable.
    fn revalued(&self, picks: &[usize; 8], noise: u32) -> RuleSpec {
        let mut r = self.clone();
        r.in_port = r.in_port.map(|_| picks[0] as u32 % 3 + 1);
        r.dl_src = r.dl_src.map(|_| picks[1]);
        r.dl_dst = r.dl_dst.map(|(_, g)| (picks[2], g));
        r.nw_src = r.nw_src.map(|(_, _, how)| (picks[3], noise, how));
        r.nw_dst = r
            .nw_dst
            .map(|(_, _, how)| (picks[4], noise.rotate_left(16), how));
        r.ipv6_dst = r.ipv6_dst.map(|(_, len)| (picks[5], len));
        r.tp_src = r.tp_src.map(|(_, how)| (picks[6], how));
        r.tp_dst = r.tp_dst.map(|(_, how)| (picks[7], how));
        r
    }
}

/// Rule specs where many share a mask: a few random shapes, then copies with other values.
fn arb_rule_specs(max_shapes: usize, max_copies: usize) -> impl Strategy<Value = Vec<RuleSpec>> {
    let shapes = prop::collection::vec(arb_rule_spec(), 1..max_shapes);
    let copies = prop::collection::vec(
        (
            any::<prop::sample::Index>(),
            any::<[usize; 8]>(),
            any::<u32>(),
        ),
        0..max_copies,
    );
    (shapes, copies).prop_map(|(shapes, copies)| {
        let mut specs = shapes.clone();
        for (i, picks, noise) in copies {
            specs.push(shapes[i.index(shapes.len())].revalued(&picks, noise));
        }
        specs
    })
}

fn arb_addr() -> impl Strategy<Value = (usize, u32, AddrMask)> {
    let how = prop_oneof![
        4 => (1u32..=32).prop_map(AddrMask::Prefix),
        2 => prop::sample::select(vec![8u32, 16, 24, 32]).prop_map(AddrMask::Prefix),
        1 => Just(AddrMask::Odd),
    ];
    (0..V4.len(), any::<u32>(), how)
}

fn arb_port() -> impl Strategy<Value = (usize, PortMask)> {
    let how = prop_oneof![
        4 => Just(PortMask::Exact),
        2 => prop::sample::select(vec![0xff00u16, 0xfff0, 0xfc00]).prop_map(PortMask::High),
        1 => Just(PortMask::Odd),
    ];
    (0..PORTS.len(), how)
}

fn maybe<T: std::fmt::Debug + Clone>(
    s: impl Strategy<Value = T>,
) -> impl Strategy<Value = Option<T>> {
    prop::option::weighted(0.3, s)
}

fn arb_rule_spec() -> impl Strategy<Value = RuleSpec> {
    let meta_l2 = (
        maybe(1u32..4),
        prop::option::weighted(0.1, prop::sample::select(vec![0u32, 5])),
        maybe(0..MACS.len()),
        maybe((0..MACS.len(), any::<bool>())),
        prop::option::weighted(0.6, 0..DL_TYPES.len()),
    );
    let l3_l4 = (
        maybe(arb_addr()),
        maybe(arb_addr()),
        maybe(0..PROTOS.len()),
        prop::option::weighted(
            0.15,
            (
                0..V6.len(),
                prop::sample::select(vec![16u32, 32, 48, 64, 80, 128]),
            ),
        ),
        prop::option::weighted(
            0.15,
            (
                0..V6.len(),
                prop::sample::select(vec![16u32, 32, 48, 64, 80, 128]),
            ),
        ),
        maybe(arb_port()),
        maybe(arb_port()),
    );
    (meta_l2, l3_l4).prop_map(|((in_port, skb_mark, dl_src, dl_dst, dl_type), l34)| {
        let (nw_src, nw_dst, nw_proto, ipv6_src, ipv6_dst, tp_src, tp_dst) = l34;
        RuleSpec {
            in_port,
            skb_mark,
            dl_src,
            dl_dst,
            dl_type,
            nw_src,
            nw_dst,
            nw_proto,
            ipv6_src,
            ipv6_dst,
            tp_src,
            tp_dst,
        }
    })
}

/// A random packet: values from the same pools, with random low bits.
fn arb_packet() -> impl Strategy<Value = Flow> {
    let a = (
        1u32..4,
        prop::sample::select(vec![0u32, 0, 5]),
        0..MACS.len(),
        0..MACS.len(),
        0..DL_TYPES.len(),
    );
    let b = (
        0..V4.len(),
        0..V4.len(),
        any::<(u32, u32)>(),
        0..PROTOS.len(),
        0..V6.len(),
        0..V6.len(),
        any::<u128>(),
    );
    let c = (0..PORTS.len(), 0..PORTS.len(), any::<(u16, u16, u8)>());
    (a, b, c).prop_map(|(a, b, c)| {
        let (in_port, skb_mark, src, dst, ty) = a;
        let (s4, d4, (n1, n2), proto, s6, d6, n6) = b;
        let (sp, dp, (n3, n4, pick)) = c;
        // Sometimes far from every pool value, sometimes close.
        let near = |v: u32, noise: u32| {
            if pick & 1 == 0 {
                v | (noise & 0x3ff)
            } else {
                v ^ noise
            }
        };
        Flow {
            in_port,
            skb_mark,
            dl_src: MACS[src],
            dl_dst: MACS[dst],
            dl_type: DL_TYPES[ty],
            nw_src: near(V4[s4], n1),
            nw_dst: near(V4[d4], n2),
            nw_proto: PROTOS[proto],
            ipv6_src: (V6[s6] | (n6 & 0xffff)).to_be_bytes(),
            ipv6_dst: (V6[d6] ^ (n6 >> u32::from(pick >> 1))).to_be_bytes(),
            tp_src: if pick & 2 == 0 {
                PORTS[sp]
            } else {
                PORTS[sp] ^ n3
            },
            tp_dst: if pick & 4 == 0 {
                PORTS[dp]
            } else {
                PORTS[dp] ^ (n4 & 0x3f)
            },
            ..Flow::default()
        }
    })
}

/// `base` on the bits of `wc`, `other` elsewhere.
fn blend(base: &Flow, wc: &Wildcards, other: &Flow) -> Flow {
    let mut out = *other;
    for ((o, b), m) in out
        .words_mut()
        .iter_mut()
        .zip(base.words())
        .zip(wc.masks.words())
    {
        *o = (b & m) | (*o & !m);
    }
    out
}

/// A rule in the model: its identity, match, priority and visibility.
#[derive(Debug, Clone)]
struct ModelRule {
    id: u32,
    m: Match,
    priority: u32,
    added: Version,
    removed: Version,
}

impl ModelRule {
    fn visible(&self, v: Version) -> bool {
        self.added <= v && v < self.removed
    }
}

/// The linear-scan reference.
#[derive(Debug, Default)]
struct Model {
    rules: Vec<ModelRule>,
}

/// What the model says became of a displaced or removed rule.
#[derive(Debug, PartialEq, Eq)]
enum ModelOutgoing {
    Retired,
    Dropped(u32),
}

fn observe(o: Option<Outgoing<u32>>) -> Option<ModelOutgoing> {
    o.map(|o| match o {
        Outgoing::Retired => ModelOutgoing::Retired,
        Outgoing::Dropped(r) => ModelOutgoing::Dropped(r.payload),
    })
}

impl Model {
    /// Ends, from `v` on, the rule `m`/`priority` visible in `v` (or later, for inserts).
    fn end(
        &mut self,
        m: &Match,
        priority: u32,
        v: Version,
        visible_from_v: bool,
    ) -> Option<ModelOutgoing> {
        let mut out = None;
        let mut i = 0;
        while i < self.rules.len() {
            let r = &mut self.rules[i];
            let hit = r.m == *m
                && r.priority == priority
                && if visible_from_v {
                    r.removed > v
                } else {
                    r.visible(v)
                };
            if !hit {
                i += 1;
            } else if r.added >= v {
                out = Some(ModelOutgoing::Dropped(r.id));
                self.rules.remove(i);
            } else {
                r.removed = v;
                out = Some(ModelOutgoing::Retired);
                i += 1;
            }
        }
        out
    }

    fn insert(&mut self, id: u32, m: Match, priority: u32, v: Version) -> Option<ModelOutgoing> {
        let out = self.end(&m, priority, v, true);
        self.rules.push(ModelRule {
            id,
            m,
            priority,
            added: v,
            removed: Version::NOT_REMOVED,
        });
        out
    }

    fn restore(&mut self, m: &Match, priority: u32, v: Version) -> bool {
        let same = |r: &ModelRule| r.m == *m && r.priority == priority;
        if self.rules.iter().any(|r| same(r) && r.removed > v) {
            return false;
        }
        match self.rules.iter_mut().find(|r| same(r) && r.removed == v) {
            Some(r) => {
                r.removed = Version::NOT_REMOVED;
                true
            }
            None => false,
        }
    }

    fn purge(&mut self, oldest: Version) -> Vec<u32> {
        let mut gone: Vec<u32> = self
            .rules
            .iter()
            .filter(|r| r.removed <= oldest)
            .map(|r| r.id)
            .collect();
        self.rules.retain(|r| r.removed > oldest);
        gone.sort_unstable();
        gone
    }

    /// The best priority among matching visible rules and the ids having it.
    fn best(&self, flow: &Flow, v: Version) -> (Option<u32>, Vec<u32>) {
        let matching: Vec<&ModelRule> = self
            .rules
            .iter()
            .filter(|r| r.visible(v) && r.m.matches(flow))
            .collect();
        let best = matching.iter().map(|r| r.priority).max();
        (
            best,
            matching
                .iter()
                .filter(|r| Some(r.priority) == best)
                .map(|r| r.id)
                .collect(),
        )
    }
}

#[derive(Debug, Clone)]
enum Op {
    Insert(usize, u32),
    Remove(usize, u32),
    Restore(usize, u32),
    NextVersion,
    Purge(u8),
    Prefixes(Vec<PrefixField>),
}

fn arb_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (any::<prop::sample::Index>(), 0u32..6).prop_map(|(i, p)| Op::Insert(i.index(usize::MAX), p)),
        2 => (any::<prop::sample::Index>(), 0u32..6).prop_map(|(i, p)| Op::Remove(i.index(usize::MAX), p)),
        1 => (any::<prop::sample::Index>(), 0u32..6).prop_map(|(i, p)| Op::Restore(i.index(usize::MAX), p)),
        3 => Just(Op::NextVersion),
        1 => any::<u8>().prop_map(Op::Purge),
        1 => prop::collection::vec(prop::sample::select(PrefixField::ALL.to_vec()), 0..5).prop_map(Op::Prefixes),
    ]
}

/// Everything a test case needs: the state after the ops and what versions may be looked up.
struct Run {
    cls: Classifier<u32>,
    model: Model,
    oldest: Version,
    current: Version,
}

fn run_ops(specs: &[RuleSpec], ops: &[Op], prefixes: &[PrefixField]) -> Result<Run, TestCaseError> {
    let mut cls = Classifier::with_prefix_fields(prefixes);
    let mut model = Model::default();
    let (mut oldest, mut current) = (Version(0), Version(1));
    for (next_id, op) in (0u32..).zip(ops) {
        match op {
            Op::Insert(i, p) => {
                let m = specs[i % specs.len()].to_match();
                let got = observe(cls.insert(Rule::new(m, *p, next_id), current));
                prop_assert_eq!(got, model.insert(next_id, m, *p, current));
            }
            Op::Remove(i, p) => {
                let m = specs[i % specs.len()].to_match();
                prop_assert_eq!(
                    observe(cls.remove(&m, *p, current)),
                    model.end(&m, *p, current, false)
                );
            }
            Op::Restore(i, p) => {
                let m = specs[i % specs.len()].to_match();
                prop_assert_eq!(cls.restore(&m, *p, current), model.restore(&m, *p, current));
            }
            Op::NextVersion => current = current.next(),
            Op::Purge(k) => {
                let back = u64::from(*k) % (current.0 - oldest.0 + 1);
                oldest = Version(current.0 - back);
                let mut got: Vec<u32> = cls.purge(oldest).into_iter().map(|r| r.payload).collect();
                got.sort_unstable();
                prop_assert_eq!(got, model.purge(oldest));
            }
            Op::Prefixes(fields) => {
                cls.set_prefix_fields(fields);
            }
        }
        prop_assert_eq!(cls.rule_count(), model.rules.len());
        cls.check_invariants();
    }
    Ok(Run {
        cls,
        model,
        oldest,
        current,
    })
}

/// Checks every packet in every version that may still be looked up.
fn check_lookups(run: &Run, packets: &[Flow]) -> Result<(), TestCaseError> {
    for v in run.oldest.0..=run.current.0 {
        let v = Version(v);
        for flow in packets {
            let (best, ids) = run.model.best(flow, v);
            let mut wc = Wildcards::default();
            let got = run.cls.lookup(flow, v, &mut wc);
            prop_assert_eq!(
                got.map(|r| r.priority),
                best,
                "priority for {:?} in {:?}",
                flow,
                v
            );
            if let Some(r) = got {
                prop_assert!(ids.contains(&r.payload));
                prop_assert!(r.flow_match.matches(flow));
                // The hit rule's whole mask was read.
                prop_assert!(!r.flow_match.wc.has_extra(&wc));
            }
            let fast = run.cls.lookup_without_wildcards(flow, v);
            prop_assert_eq!(fast.map(|r| r.priority), best);
            prop_assert!(fast.is_none_or(|r| ids.contains(&r.payload)));
        }
    }
    Ok(())
}

/// Soundness in the newest version: flows that agree on the wildcards get the same rule.
fn check_soundness(run: &Run, packets: &[Flow]) -> Result<(), TestCaseError> {
    let v = run.current;
    // No bit outside every subtable mask is ever read.
    let mut reachable = Wildcards::default();
    for r in run.cls.iter(Version(0)).chain(run.cls.iter(v)) {
        reachable.union_with(&r.flow_match.wc);
    }
    for r in &run.model.rules {
        reachable.union_with(&r.m.wc);
    }
    for flow in packets {
        let mut wc = Wildcards::default();
        let hit = run.cls.lookup(flow, v, &mut wc).map(|r| r.payload);
        prop_assert!(!wc.has_extra(&reachable));
        for other in packets {
            let twin = blend(flow, &wc, other);
            let mut twin_wc = Wildcards::default();
            let twin_hit = run.cls.lookup(&twin, v, &mut twin_wc).map(|r| r.payload);
            prop_assert_eq!(twin_hit, hit, "flow {:?} wc {:?} twin {:?}", flow, wc, twin);
        }
    }
    Ok(())
}

/// Packets: random ones, and ones built to match a rule (its bits, random bits elsewhere).
fn packets_for(
    specs: &[RuleSpec],
    random: &[Flow],
    derived: &[(prop::sample::Index, usize)],
) -> Vec<Flow> {
    let mut out = random.to_vec();
    for (i, j) in derived {
        let m = specs[i.index(specs.len())].to_match();
        let base = random[j % random.len()];
        out.push(blend(&m.flow, &m.wc, &base));
    }
    out
}

fn arb_prefixes() -> impl Strategy<Value = Vec<PrefixField>> {
    prop_oneof![
        2 => Just(super::super::DEFAULT_PREFIX_FIELDS.to_vec()),
        1 => Just(vec![]),
        2 => prop::collection::vec(prop::sample::select(PrefixField::ALL.to_vec()), 1..4),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn static_rule_sets_agree_with_the_model_and_are_sound(
        specs in arb_rule_specs(10, 30),
        priorities in prop::collection::vec(0u32..40, 40),
        prefixes in arb_prefixes(),
        random in prop::collection::vec(arb_packet(), 1..16),
        derived in prop::collection::vec((any::<prop::sample::Index>(), any::<usize>()), 0..16),
    ) {
        let ops: Vec<Op> = specs.iter().enumerate().map(|(i, _)| Op::Insert(i, priorities[i])).collect();
        let run = run_ops(&specs, &ops, &prefixes)?;
        let packets = packets_for(&specs, &random, &derived);
        check_lookups(&run, &packets)?;
        check_soundness(&run, &packets)?;
    }

    #[test]
    fn versioned_changes_agree_with_the_model_in_every_version(
        specs in arb_rule_specs(5, 10),
        ops in prop::collection::vec(arb_op(), 1..60),
        prefixes in arb_prefixes(),
        random in prop::collection::vec(arb_packet(), 1..10),
        derived in prop::collection::vec((any::<prop::sample::Index>(), any::<usize>()), 0..10),
    ) {
        let run = run_ops(&specs, &ops, &prefixes)?;
        let packets = packets_for(&specs, &random, &derived);
        check_lookups(&run, &packets)?;
        check_soundness(&run, &packets)?;
        // Iteration shows exactly the visible rules.
        for v in run.oldest.0..=run.current.0 {
            let v = Version(v);
            let mut got: Vec<u32> = run.cls.iter(v).map(|r| r.payload).collect();
            got.sort_unstable();
            let mut want: Vec<u32> = run.model.rules.iter().filter(|r| r.visible(v)).map(|r| r.id).collect();
            want.sort_unstable();
            prop_assert_eq!(got, want);
            let sorted = run.cls.sorted_by_priority(v);
            prop_assert!(sorted.windows(2).all(|w| w[0].priority >= w[1].priority));
            for r in &run.model.rules {
                if r.visible(v) {
                    let found = run.cls.find_exactly(&r.m, r.priority, v).map(|x| x.payload);
                    prop_assert_eq!(found, Some(r.id));
                }
            }
        }
    }
}
