//! Tests of the signature-match cache: hits equal what the full classifier returns, dead targets
//! never hit, collisions never return a target that does not cover the packet.

use std::sync::atomic::{AtomicBool, Ordering};

use proptest::prelude::*;
use rvs_flow::Wildcards;

use super::*;
use crate::dpcls::Dpcls;
use crate::emc::flow_hash;

/// A megaflow stand-in: a masked key that can die.
struct Rule {
    key: Flow,
    mask: Wildcards,
    alive: AtomicBool,
}

impl Liveness for Rule {
    fn is_alive(&self) -> bool {
        self.alive.load(Ordering::Acquire)
    }
}

impl Covers for Rule {
    fn covers(&self, packet: &Flow) -> bool {
        packet
            .words()
            .iter()
            .zip(self.key.words())
            .zip(self.mask.masks.words())
            .all(|((p, k), m)| (p ^ k) & m == 0)
    }
}

fn packet(src: u32, dport: u16) -> Flow {
    Flow {
        in_port: 1,
        dl_type: 0x0800,
        nw_proto: 17,
        nw_src: src,
        tp_dst: dport,
        ..Flow::default()
    }
}

fn rule(src: u32, src_bits: u32, dport: u16) -> Arc<Rule> {
    let mask = Wildcards {
        masks: Flow {
            in_port: u32::MAX,
            dl_type: u16::MAX,
            nw_proto: u8::MAX,
            nw_src: if src_bits == 0 {
                0
            } else {
                u32::MAX << (32 - src_bits)
            },
            tp_dst: u16::MAX,
            ..Flow::default()
        },
    };
    Arc::new(Rule {
        key: packet(src, dport),
        mask,
        alive: AtomicBool::new(true),
    })
}

#[test]
fn hit_after_insert_only_for_covered_keys() {
    let mut smc = Smc::new();
    let r = rule(0x0a00_0000, 8, 80);
    let k = packet(0x0a01_0203, 80);
    let h = flow_hash(&k);
    assert!(smc.lookup(&k, h).is_none());
    smc.insert(h, &r);
    assert!(smc.lookup(&k, h).is_some_and(|t| Arc::ptr_eq(t, &r)));
    // Same signature, a key the rule does not cover (other port): a miss, not a wrong answer.
    assert!(smc.lookup(&packet(0x0a01_0203, 81), h).is_none());
    // Another key the rule covers, under its own signature: a miss until inserted.
    let k2 = packet(0x0a09_0909, 80);
    assert!(smc.lookup(&k2, flow_hash(&k2)).is_none());
    assert_eq!(smc.occupied(), 1);
}

#[test]
fn dead_target_never_hits_and_is_swept() {
    let mut smc = Smc::new();
    let r = rule(0x0a00_0000, 8, 80);
    let k = packet(0x0a01_0203, 80);
    let h = flow_hash(&k);
    smc.insert(h, &r);
    r.alive.store(false, Ordering::Release);
    assert!(smc.lookup(&k, h).is_none());
    assert_eq!(smc.sweep_dead(SMC_ENTRIES), 1);
    assert_eq!(Arc::strong_count(&r), 1);
}

#[test]
fn full_bucket_replaces_in_turn_and_same_signature_overwrites() {
    let mut smc = Smc::new();
    let rules: Vec<_> = (0..=SMC_WAYS as u32)
        .map(|i| rule(i << 24, 8, 80))
        .collect();
    // Signatures sharing one bucket (equal low 16 bits).
    let sig = |i: u32| 7 | (i << 16);
    for (i, r) in rules.iter().enumerate().take(SMC_WAYS) {
        smc.insert(sig(i as u32), r);
    }
    for (i, r) in rules.iter().enumerate().take(SMC_WAYS) {
        assert!(
            smc.lookup(&packet((i as u32) << 24, 80), sig(i as u32))
                .is_some_and(|t| Arc::ptr_eq(t, r))
        );
    }
    smc.insert(sig(SMC_WAYS as u32), &rules[SMC_WAYS]);
    let live = (0..=SMC_WAYS as u32)
        .filter(|&i| smc.lookup(&packet(i << 24, 80), sig(i)).is_some())
        .count();
    assert_eq!(live, SMC_WAYS);
    // Same signature, another target: overwritten in place, no second entry.
    smc.insert(sig(SMC_WAYS as u32), &rules[0]);
    assert!(smc.lookup(&packet(0, 80), sig(SMC_WAYS as u32)).is_some());
    assert_eq!(smc.occupied(), SMC_WAYS);
}

/// Rule `(src, src_bits, dport)` overlaps an installed one?
fn overlaps(a: &Rule, b: &Rule) -> bool {
    a.key
        .words()
        .iter()
        .zip(b.key.words())
        .zip(a.mask.masks.words().iter().zip(b.mask.masks.words()))
        .all(|((ka, kb), (ma, mb))| (ka ^ kb) & ma & mb == 0)
}

proptest! {
    /// Random non-overlapping rules in a classifier, random packets, random deletions, and
    /// signatures folded to a few bits (so collisions are common): every cache hit is the live rule
    /// the classifier returns for that packet.
    #[test]
    fn cache_hits_equal_the_classifier(
        rules in proptest::collection::vec((any::<u32>(), 0u32..=32, 0u16..4), 1..40),
        ops in proptest::collection::vec((any::<u32>(), 0u16..4, 0u8..10), 1..400),
        sig_bits in 1u32..6,
    ) {
        let cls: Dpcls<Rule> = Dpcls::new();
        let mut installed: Vec<Arc<Rule>> = Vec::new();
        for (src, bits, dport) in rules {
            let r = rule(src, bits, dport);
            if installed.iter().all(|o| !overlaps(o, &r)) {
                prop_assert!(cls.insert(&r.key, &r.mask, Arc::clone(&r)).is_ok());
                installed.push(r);
            }
        }
        let mut smc: Smc<Rule> = Smc::new();
        for (src, dport, op) in ops {
            let k = packet(src, dport);
            // Few distinct signatures: many keys share one.
            let h = flow_hash(&k) & ((1 << sig_bits) - 1);
            if op == 0 && !installed.is_empty() {
                // Delete the rule covering this packet, if any (marked dead first, as the datapath does).
                if let Some(pos) = installed.iter().position(|r| r.covers(&k)) {
                    let r = installed.swap_remove(pos);
                    r.alive.store(false, Ordering::Release);
                    prop_assert!(cls.remove(&r.key, &r.mask));
                }
                continue;
            }
            let truth = cls.lookup(&k);
            match smc.lookup(&k, h) {
                Some(hit) => {
                    prop_assert!(hit.is_alive());
                    prop_assert!(truth.as_ref().is_some_and(|t| Arc::ptr_eq(t, hit)));
                }
                None => {
                    if let Some(t) = &truth {
                        smc.insert(h, t);
                        prop_assert!(smc.lookup(&k, h).is_some_and(|hit| Arc::ptr_eq(hit, t)));
                    }
                }
            }
        }
    }
}
