//! Tests of [`Translator::translation_unchanged`]: over random rule sets, flows and changes
//! (adds, strict deletes, modifies, trie-field rules, MAC flushes), a translation it calls
//! unchanged must be exactly what translating the flow again gives (same actions, same
//! wildcards, same rules hit); and hand-made cases show what it keeps and what it does not.

use proptest::prelude::*;
use rvs_dpif::dpif::Actions;
use rvs_flow::{Flow, Wildcards};
use rvs_ofproto::vlan::PortVlanSettings;
use rvs_upcall::xlate::{Translator, XlateCache};

use super::test_bridge::{self, four_port_bridge, req};
use super::{DpifXlateCache, OfprotoDpif};

/// Rules the random rule sets and changes are drawn from: several priorities in shared and
/// separate subtables, two tables, a prefix-trie field, NORMAL.
const RULES: &[&str] = &[
    "priority=10,udp,nw_dst=198.19.0.0/16,tp_dst=80,actions=move:NXM_OF_IP_SRC[]->NXM_NX_REG0[],move:NXM_OF_UDP_SRC[]->NXM_NX_REG1[0..15],output:2",
    "priority=0,actions=drop",
    "priority=1,udp,tp_dst=9,actions=drop",
    "priority=3,udp,tp_dst=80,actions=output:3",
    "priority=15,udp,tp_dst=443,actions=output:1",
    "priority=12,udp,tp_dst=80,actions=output:4",
    "priority=30,ip,nw_dst=10.0.0.2,actions=output:3",
    "priority=2,ip,nw_src=10.0.0.0/8,actions=output:1",
    "priority=20,ip,nw_src=192.168.0.0/16,actions=output:4",
    "priority=1,ip,nw_src=10.0.0.0/24,actions=output:2",
    "priority=5,in_port=1,actions=resubmit(,1)",
    "table=1,priority=9,udp,actions=output:2",
    "table=1,priority=4,actions=output:3",
    "priority=6,tcp,actions=output:2",
    "priority=0,actions=NORMAL",
];

/// A bridge with ports 1..4 (OpenFlow = datapath port) and `rules` of [`RULES`].
fn bridge(rules: &[usize]) -> OfprotoDpif {
    let ofproto = four_port_bridge();
    for &r in rules {
        add(&ofproto, r);
    }
    ofproto
}

fn add(ofproto: &OfprotoDpif, r: usize) {
    ofproto
        .ofctl("br0", "add-flow", &[RULES[r % RULES.len()].to_owned()])
        .expect("add-flow");
}

/// The match part of rule `r` (for strict deletes and modifies).
fn match_of(r: usize) -> String {
    let rule = RULES[r % RULES.len()];
    rule.split(",actions").next().unwrap_or(rule).to_owned()
}

fn flow(in_port: u8, udp: bool, nw: u32, tp_dst: u16) -> Flow {
    // Source and destination MACs vary with the port and address (so NORMAL learns and uses
    // what other flows taught it).
    let src = in_port;
    let dst = 1 + ((nw as u8) % 4);
    Flow {
        dl_src: [0, 0, 0, 0, 0, src],
        dl_dst: [0, 0, 0, 0, 0, dst],
        ..test_bridge::ip_flow(in_port, udp, nw, tp_dst)
    }
}

fn arb_flow() -> impl Strategy<Value = Flow> {
    (
        1u8..=4,
        any::<bool>(),
        0u32..0x400,
        prop::sample::select(vec![80u16, 443, 9]),
    )
        .prop_map(|(p, u, nw, tp)| flow(p, u, nw, tp))
}

/// One change between the translations and the revalidation.
#[derive(Clone, Debug)]
enum Change {
    Add(usize),
    DeleteStrict(usize),
    ModifyStrict(usize),
    FlushMacs,
}

fn arb_change() -> impl Strategy<Value = Change> {
    prop_oneof![
        4 => (0..RULES.len()).prop_map(Change::Add),
        2 => (0..RULES.len()).prop_map(Change::DeleteStrict),
        1 => (0..RULES.len()).prop_map(Change::ModifyStrict),
        1 => Just(Change::FlushMacs),
    ]
}

fn apply(ofproto: &OfprotoDpif, change: &Change) {
    match change {
        Change::Add(r) => add(ofproto, *r),
        Change::DeleteStrict(r) => {
            let _ = ofproto.ofctl("br0", "del-flows", &["--strict".to_owned(), match_of(*r)]);
        }
        Change::ModifyStrict(r) => {
            let _ = ofproto.ofctl(
                "br0",
                "mod-flows",
                &[
                    "--strict".to_owned(),
                    format!("{},actions=output:4", match_of(*r)),
                ],
            );
        }
        Change::FlushMacs => {
            ofproto.fdb_flush(Some("br0")).expect("flush");
        }
    }
}

/// What one translation gave.
struct Translated {
    actions: Actions,
    wc: Wildcards,
    xcache: Box<dyn XlateCache>,
}

fn translate(ofproto: &OfprotoDpif, f: &Flow, for_revalidation: bool) -> Translated {
    let out = ofproto
        .translate(&req(f, for_revalidation, ofproto.tables_version()))
        .expect("translation");
    let actions = if out.slow_path != 0 {
        ofproto.slow_path_actions(f, out.slow_path)
    } else {
        out.actions
    };
    Translated {
        actions,
        wc: out.wc,
        xcache: out.xcache.expect("cache"),
    }
}

/// True if both caches record the same rules (same objects).
fn same_rules(a: &dyn XlateCache, b: &dyn XlateCache) -> bool {
    match (
        a.as_any().downcast_ref::<DpifXlateCache>(),
        b.as_any().downcast_ref::<DpifXlateCache>(),
    ) {
        (Some(a), Some(b)) => test_bridge::same_rules(a, b),
        _ => false,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn an_unchanged_translation_is_what_translating_again_gives(
        before in prop::collection::vec(0usize..RULES.len(), 1..7),
        changes in prop::collection::vec(arb_change(), 1..4),
        flows in prop::collection::vec(arb_flow(), 1..10),
    ) {
        let ofproto = bridge(&before);
        let installed: Vec<Translated> =
            flows.iter().map(|f| translate(&ofproto, f, false)).collect();
        for change in &changes {
            apply(&ofproto, change);
        }
        for (f, old) in flows.iter().zip(&installed) {
            if !ofproto.translation_unchanged(old.xcache.as_ref()) {
                continue;
            }
            let fresh = translate(&ofproto, f, true);
            prop_assert_eq!(&fresh.actions, &old.actions, "flow {:?}", f);
            prop_assert_eq!(fresh.wc, old.wc, "flow {:?}", f);
            prop_assert!(same_rules(fresh.xcache.as_ref(), old.xcache.as_ref()));
            // Still unchanged when asked again with nothing new.
            prop_assert!(ofproto.translation_unchanged(old.xcache.as_ref()));
        }
    }
}

/// The side-by-side benchmark's case: flows hit a priority-10 rule; an unrelated
/// lower-priority rule in a new subtable leaves them alone, more such changes too.
#[test]
fn a_lower_priority_rule_elsewhere_leaves_the_flow_alone() {
    let ofproto = bridge(&[0, 1]);
    let f = flow(1, true, 0x200, 80);
    let old = translate(&ofproto, &f, false);
    add(&ofproto, 2);
    assert!(ofproto.translation_unchanged(old.xcache.as_ref()));
    add(&ofproto, 3);
    assert!(ofproto.translation_unchanged(old.xcache.as_ref()));
    // Deleting a rule the flow never reached changes nothing either.
    apply(&ofproto, &Change::DeleteStrict(2));
    assert!(ofproto.translation_unchanged(old.xcache.as_ref()));
}

/// What makes a translation count as affected.
#[test]
fn overlapping_priorities_tries_misses_and_other_changes_affect_the_flow() {
    let f = flow(1, true, 0x200, 80);
    // A rule in a subtable that would be scanned before the hit (priority 12 > 10).
    let ofproto = bridge(&[0, 1]);
    let old = translate(&ofproto, &f, false);
    add(&ofproto, 5);
    assert!(!ofproto.translation_unchanged(old.xcache.as_ref()));
    // A lower-priority rule on a prefix-trie field (nw_src).
    let ofproto = bridge(&[0, 1]);
    let old = translate(&ofproto, &f, false);
    add(&ofproto, 7);
    assert!(!ofproto.translation_unchanged(old.xcache.as_ref()));
    // The hit rule itself modified.
    let ofproto = bridge(&[0, 1]);
    let old = translate(&ofproto, &f, false);
    apply(&ofproto, &Change::ModifyStrict(0));
    assert!(!ofproto.translation_unchanged(old.xcache.as_ref()));
    // A MAC table flush (opaque) and a port change.
    let ofproto = bridge(&[0, 1]);
    let old = translate(&ofproto, &f, false);
    ofproto.fdb_flush(Some("br0")).expect("flush");
    // (An empty flush changes nothing and records nothing.)
    assert!(ofproto.translation_unchanged(old.xcache.as_ref()));
    ofproto
        .add_port("br0", "p5", 5, Some(5), &PortVlanSettings::default())
        .expect("port");
    assert!(!ofproto.translation_unchanged(old.xcache.as_ref()));
    // A translation with a table miss is affected by any table change.
    let ofproto = bridge(&[0]);
    let miss = translate(&ofproto, &flow(2, false, 0, 443), false);
    add(&ofproto, 11);
    assert!(!ofproto.translation_unchanged(miss.xcache.as_ref()));
}
