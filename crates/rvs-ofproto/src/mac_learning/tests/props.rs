//! Property tests: random operation sequences run against [`MacTable`] and a deliberately naive
//! model (one list in least-recently-used order, linear scans) written straight from
//! `lib/mac-learning.c`'s rules. Checked after every step: same lookups, same `fdb/show` rows,
//! same counters, the structural invariants, the size limit, and that a lookup right after
//! learning returns the learned port unless a static entry or a gratuitous-ARP lock held it.

use super::*;
use proptest::prelude::*;

#[derive(Clone, Copy, Debug)]
struct ModelEntry {
    key: MacKey,
    port: u16,
    learned_ms: Option<u64>,
    lock_until_s: Option<u64>,
}

/// The model: `list` is LRU first; a port's own LRU order is the list order restricted to it.
#[derive(Debug)]
struct Model {
    list: Vec<ModelEntry>,
    max: usize,
    counters: MacLearningCounters,
}

impl Model {
    fn find(&self, key: &MacKey) -> Option<usize> {
        self.list.iter().position(|e| e.key == *key)
    }

    fn remove_at(&mut self, i: usize) {
        self.list.remove(i);
    }

    fn evict(&mut self) {
        let count = |p: u16| self.list.iter().filter(|e| e.port == p).count();
        let most = self.list.iter().map(|e| count(e.port)).max().unwrap_or(0);
        if let Some(i) = self.list.iter().position(|e| count(e.port) == most) {
            self.counters.evicted += 1;
            self.remove_at(i);
        }
    }

    /// Refreshes or creates; returns the previous port.
    fn insert(&mut self, key: MacKey, port: u16, learned_ms: Option<u64>) -> Option<u16> {
        match self.find(&key) {
            Some(i) => {
                let mut e = self.list.remove(i);
                e.learned_ms = learned_ms;
                let old = e.port;
                self.list.push(e);
                Some(old)
            }
            None => {
                if self.list.len() >= self.max {
                    self.evict();
                }
                self.list.push(ModelEntry {
                    key,
                    port,
                    learned_ms,
                    lock_until_s: None,
                });
                None
            }
        }
    }

    fn learn(&mut self, key: MacKey, port: u16, ctx: LearnContext, now_ms: u64) {
        if is_multicast(&key.mac) {
            return;
        }
        let now_s = now_ms / 1000;
        if let Some(i) = self.find(&key) {
            let e = self.list[i];
            let Some(learned_ms) = e.learned_ms else {
                return;
            };
            let locked = e.lock_until_s.is_some_and(|u| now_s < u);
            let age = now_s - learned_ms / 1000;
            // Within the first second, only a gratuitous ARP from a plain port (to set its
            // lock) or a move not blocked by a lock needs an update.
            let sets_lock = ctx.gratuitous_arp && !ctx.from_bond;
            let blocked = ctx.gratuitous_arp && locked;
            if age == 0 && !sets_lock && (blocked || e.port == port) {
                return;
            }
        }
        let previous = self.insert(key, port, Some(now_ms));
        let last = self.list.len() - 1;
        if ctx.gratuitous_arp {
            let e = &mut self.list[last];
            if !ctx.from_bond {
                e.lock_until_s = Some(now_s + GRAT_ARP_LOCK_TIME_S);
            } else if e.lock_until_s.is_some_and(|u| now_s < u) {
                return;
            }
        }
        match previous {
            None => self.counters.learned += 1,
            Some(old) if old != port => {
                self.counters.moved += 1;
                self.list[last].port = port;
            }
            Some(_) => {}
        }
    }

    fn run(&mut self, now_ms: u64, idle_s: u64) {
        let now_s = now_ms / 1000;
        while let Some(i) = self.list.iter().position(|e| e.learned_ms.is_some()) {
            let learned_s = self.list[i].learned_ms.unwrap_or(0) / 1000;
            if self.list.len() > self.max || now_s >= learned_s + idle_s {
                self.counters.expired += 1;
                self.remove_at(i);
            } else {
                break;
            }
        }
    }

    fn retain(&mut self, keep: impl Fn(&ModelEntry) -> bool) {
        self.list.retain(keep);
    }

    fn rows(&self, now_ms: u64) -> Vec<FdbRow<u16>> {
        let now_s = now_ms / 1000;
        self.list
            .iter()
            .map(|e| FdbRow {
                port: e.port,
                vlan: e.key.vlan,
                mac: e.key.mac,
                age: match e.learned_ms {
                    Some(ms) => EntryAge::Dynamic(now_s - ms / 1000),
                    None => EntryAge::Static,
                },
            })
            .collect()
    }
}

#[derive(Clone, Debug)]
enum Op {
    Learn {
        key: MacKey,
        port: u16,
        grat: bool,
        bond: bool,
    },
    AddStatic {
        key: MacKey,
        port: u16,
    },
    RemoveStatic {
        key: MacKey,
    },
    Flush,
    FlushPort(u16),
    FlushVlan(u16),
    MovePort(u16, u16),
    SetMax(usize),
    Tick(u64),
}

fn key_strategy() -> impl Strategy<Value = MacKey> {
    // A small key space so that moves, refreshes and evictions are frequent; 1 in 16 multicast.
    (0u8..24, 0u16..3, 0u8..16).prop_map(|(m, vlan, mc)| {
        let first = if mc == 0 { 0x01 } else { 0x50 };
        MacKey::new([first, 0x54, 0, 0, 0, m], vlan)
    })
}

fn op_strategy() -> impl Strategy<Value = Op> {
    prop_oneof![
        12 => (key_strategy(), 0u16..5, any::<bool>(), any::<bool>())
            .prop_map(|(key, port, grat, bond)| Op::Learn { key, port, grat, bond }),
        1 => (key_strategy(), 0u16..5).prop_map(|(key, port)| Op::AddStatic { key, port }),
        1 => key_strategy().prop_map(|key| Op::RemoveStatic { key }),
        1 => Just(Op::Flush),
        1 => (0u16..5).prop_map(Op::FlushPort),
        1 => (0u16..3).prop_map(Op::FlushVlan),
        1 => (0u16..5, 0u16..5).prop_map(|(a, b)| Op::MovePort(a, b)),
        1 => (10usize..16).prop_map(Op::SetMax),
        4 => prop_oneof![0u64..1500, 0u64..40_000].prop_map(Op::Tick),
    ]
}

fn apply(
    t: &mut MacTable<u16>,
    m: &mut Model,
    op: &Op,
    now: &mut u64,
) -> Result<(), TestCaseError> {
    let idle = u64::from(t.idle_time());
    // Insertion evicts one entry when the table is full, so after the limit was lowered the
    // table stays as large as it was until `run`; it never grows past the limit.
    let bound = t.len().max(t.max_entries());
    match *op {
        Op::Learn {
            key,
            port,
            grat,
            bond,
        } => {
            let ctx = LearnContext {
                gratuitous_arp: grat,
                from_bond: bond,
            };
            let outcome = t.learn(&key.mac, key.vlan, port, ctx, *now);
            m.learn(key, port, ctx, *now);
            prop_assert!(t.len() <= bound);
            let found = t.lookup(&key.mac, key.vlan);
            match outcome {
                LearnOutcome::NotLearnable => prop_assert!(is_multicast(&key.mac)),
                LearnOutcome::StaticEntry | LearnOutcome::GratArpLocked => {
                    prop_assert!(found.is_some())
                }
                _ => prop_assert_eq!(found, Some(port), "lookup after {:?}", outcome),
            }
        }
        Op::AddStatic { key, port } => {
            t.add_static(&key.mac, key.vlan, port);
            if m.insert(key, port, None).is_some()
                && let Some(i) = m.find(&key)
            {
                m.list[i].port = port;
            }
            prop_assert!(t.len() <= bound);
        }
        Op::RemoveStatic { key } => {
            let removed = t.remove_static(&key.mac, key.vlan);
            let model_static = !is_multicast(&key.mac)
                && m.find(&key).is_some_and(|i| m.list[i].learned_ms.is_none());
            prop_assert_eq!(removed, model_static);
            if removed {
                m.retain(|e| e.key != key);
            }
        }
        Op::Flush => {
            t.flush();
            m.retain(|e| e.learned_ms.is_none());
        }
        Op::FlushPort(p) => {
            t.flush_port(&p);
            m.retain(|e| e.port != p);
        }
        Op::FlushVlan(v) => {
            t.flush_vlan(v);
            m.retain(|e| e.learned_ms.is_none() || e.key.vlan != v);
        }
        Op::MovePort(a, b) => {
            t.move_port(&a, b);
            for e in m.list.iter_mut().filter(|e| e.port == a) {
                e.port = b;
            }
        }
        Op::SetMax(n) => {
            t.set_max_entries(n);
            m.max = n;
        }
        Op::Tick(dt) => {
            *now += dt;
            t.run(*now);
            m.run(*now, idle);
            prop_assert!(t.len() <= t.max_entries().max(t.static_entries()));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn table_matches_model(ops in proptest::collection::vec(op_strategy(), 1..200)) {
        let mut t = MacTable::<u16>::new();
        t.set_idle_time(30);
        t.set_max_entries(12);
        let mut m = Model { list: Vec::new(), max: 12, counters: MacLearningCounters::default() };
        let mut now = T0;
        for op in &ops {
            apply(&mut t, &mut m, op, &mut now)?;
            if let Err(e) = t.check_invariants() {
                return Err(TestCaseError::fail(e));
            }
            prop_assert_eq!(t.rows(now), m.rows(now), "after {:?}", op);
            prop_assert_eq!(t.counters(), m.counters);
            prop_assert_eq!(
                t.static_entries(),
                m.list.iter().filter(|e| e.learned_ms.is_none()).count()
            );
            for e in &m.list {
                let expected = (!is_multicast(&e.key.mac)).then_some(e.port);
                prop_assert_eq!(t.lookup(&e.key.mac, e.key.vlan), expected);
            }
        }
    }
}
