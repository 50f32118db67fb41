//! Differential test of [`Translator::revalidate`] (the reuse path) against a fresh
//! revalidation translation: over random rule sets, flows and table changes (NORMAL with MAC
//! learning included) both give the same mask, the same actions verdict and an xlate cache that
//! records the same rules and learning, and neither changes the MAC table.

use std::sync::Arc;

use proptest::prelude::*;
use rvs_flow::Flow;
use rvs_flow::flow::{ETH_TYPE_VLAN_8021Q, VLAN_CFI, VlanHeader};
use rvs_upcall::xlate::{Translator, XlateCache};

use super::test_bridge::{self, four_port_bridge, req};
use super::{DpifXlateCache, OfprotoDpif};

/// Rules the random rule sets are drawn from (table 0 and 1, NORMAL, rewrites, resubmits).
const RULES: &[&str] = &[
    "priority=10,udp,nw_dst=198.19.0.0/16,tp_dst=80,actions=move:NXM_OF_IP_SRC[]->NXM_NX_REG0[],move:NXM_OF_UDP_SRC[]->NXM_NX_REG1[0..15],output:2",
    "priority=0,actions=drop",
    "priority=0,actions=NORMAL",
    "priority=5,in_port=1,actions=resubmit(,1)",
    "table=1,priority=5,tcp,tp_dst=80,actions=mod_nw_dst:10.0.0.9,output:3",
    "table=1,priority=1,actions=NORMAL",
    "priority=20,ip,nw_src=10.0.0.0/24,actions=output:4",
    "priority=7,dl_vlan=10,actions=strip_vlan,NORMAL",
    "priority=6,tcp,actions=controller",
    "priority=8,dl_dst=00:00:00:00:00:02,actions=output:1,output:2",
];

fn mac(i: u8) -> [u8; 6] {
    [0, 0, 0, 0, 0, i]
}

/// A bridge with ports 1..4 (OpenFlow = datapath port) and `rules` of [`RULES`].
fn bridge(rules: &[usize]) -> OfprotoDpif {
    let ofproto = four_port_bridge();
    add_rules(&ofproto, rules);
    ofproto
}

fn add_rules(ofproto: &OfprotoDpif, rules: &[usize]) {
    for &r in rules {
        ofproto
            .ofctl("br0", "add-flow", &[RULES[r % RULES.len()].to_owned()])
            .expect("add-flow");
    }
}

fn flow(in_port: u8, src: u8, dst: u8, vid: Option<u16>, udp: bool, nw: u32, tp_dst: u16) -> Flow {
    let mut f = test_bridge::ip_flow(in_port, udp, nw, tp_dst);

    f.dl_src = mac(src);
    f.dl_dst = mac(dst);
    if let Some(vid) = vid {
        f.vlans[0] = VlanHeader {
            tpid: ETH_TYPE_VLAN_8021Q,
            tci: VLAN_CFI | vid,
        };
    }
    f
}

fn arb_flow() -> impl Strategy<Value = Flow> {
    (
        1u8..=4,
        1u8..=4,
        1u8..=5,
        prop::option::of(prop::sample::select(vec![10u16, 20])),
        any::<bool>(),
        0u32..0x400,
        prop::sample::select(vec![80u16, 443]),
    )
        .prop_map(|(p, s, d, v, u, nw, tp)| flow(p, s, d, v, u, nw, tp))
}

/// True if both caches record the same bridge, the same rules (same objects) and learning.
fn same_cache(a: &dyn XlateCache, b: &dyn XlateCache) -> bool {
    match (
        a.as_any().downcast_ref::<DpifXlateCache>(),
        b.as_any().downcast_ref::<DpifXlateCache>(),
    ) {
        (Some(a), Some(b)) => {
            Arc::ptr_eq(&a.bridge, &b.bridge)
                && a.normal_learn == b.normal_learn
                && test_bridge::same_rules(a, b)
        }
        _ => false,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn revalidate_equals_fresh_translation(
        before in prop::collection::vec(0usize..RULES.len(), 1..5),
        added in prop::collection::vec(0usize..RULES.len(), 0..3),
        delete_strict in prop::option::of(0usize..RULES.len()),
        flush_macs in any::<bool>(),
        flows in prop::collection::vec(arb_flow(), 1..12),
    ) {
        let ofproto = bridge(&before);
        // Upcalls: learning translations give each flow its installed actions and cache.
        let mut installed = Vec::new();
        for f in &flows {
            let out = ofproto
                .translate(&req(f, false, ofproto.tables_version()))
                .expect("upcall translation");
            let actions = if out.slow_path != 0 {
                ofproto.slow_path_actions(f, out.slow_path)
            } else {
                out.actions
            };
            installed.push((actions, out.xcache));
        }
        // A flow-table change (and maybe a MAC flush) before the revalidation round.
        add_rules(&ofproto, &added);
        if let Some(r) = delete_strict {
            let rule = RULES[r];
            let _ = ofproto.ofctl("br0", "del-flows", &["--strict".to_owned(), rule.split(",actions").next().unwrap_or(rule).to_owned()]);
        }
        if flush_macs {
            ofproto.fdb_flush(Some("br0")).expect("flush");
        }
        let fdb = ofproto.fdb_show("br0").expect("fdb");
        for (f, (actions, xcache)) in flows.iter().zip(installed.iter_mut()) {
            let version = ofproto.tables_version();
            let fresh = ofproto.translate(&req(f, true, version)).expect("fresh");
            let fresh_actions = if fresh.slow_path != 0 {
                ofproto.slow_path_actions(f, fresh.slow_path)
            } else {
                fresh.actions
            };
            let reused = ofproto
                .revalidate(&req(f, true, version), actions, xcache)
                .expect("revalidate");
            prop_assert_eq!(reused.wc, fresh.wc);
            let expected = (*fresh_actions != **actions).then_some(fresh_actions);
            prop_assert_eq!(&reused.new_actions, &expected);
            let (Some(new_cache), Some(fresh_cache)) = (xcache.as_deref(), fresh.xcache.as_deref()) else {
                return Err(TestCaseError::fail("missing cache"));
            };
            prop_assert!(same_cache(new_cache, fresh_cache));
            // A second revalidation with the same tables keeps everything.
            if let Some(a) = expected {
                *actions = a;
            }
            let again = ofproto
                .revalidate(&req(f, true, version), actions, xcache)
                .expect("revalidate again");
            prop_assert!(again.new_actions.is_none());
            let Some(kept) = xcache.as_deref() else {
                return Err(TestCaseError::fail("cache dropped"));
            };
            prop_assert!(same_cache(kept, fresh_cache));
        }
        // Revalidation never learned.
        prop_assert_eq!(ofproto.fdb_show("br0").expect("fdb"), fdb);
    }
}

#[test]
fn revalidate_keeps_an_unchanged_cache_object() {
    let ofproto = bridge(&[0, 1]);
    let f = flow(1, 1, 2, None, true, 0x200, 80);
    let out = ofproto
        .translate(&req(&f, false, ofproto.tables_version()))
        .expect("translate");
    let actions = out.actions;
    let mut xcache = out.xcache;
    let before = xcache
        .as_deref()
        .map(|c| c as *const dyn XlateCache as *const ());
    add_rules(&ofproto, &[7]);
    let r = ofproto
        .revalidate(
            &req(&f, true, ofproto.tables_version()),
            &actions,
            &mut xcache,
        )
        .expect("revalidate");
    assert!(r.new_actions.is_none());
    let after = xcache
        .as_deref()
        .map(|c| c as *const dyn XlateCache as *const ());
    assert_eq!(before, after, "unchanged cache is kept in place");
    // A rule that takes the flow over gives new actions and a new cache.
    add_rules(&ofproto, &[6]);
    let r = ofproto
        .revalidate(
            &req(&f, true, ofproto.tables_version()),
            &actions,
            &mut xcache,
        )
        .expect("revalidate");
    assert!(r.new_actions.is_some());
    let replaced = xcache
        .as_deref()
        .map(|c| c as *const dyn XlateCache as *const ());
    assert_ne!(before, replaced);
}
