//! Versions, atomic batches, counters across replacements and timeouts.

use crate::actions::{Dialect, OfpAction, OfpError};
use crate::classifier::Version;
use crate::table::{
    Command, FlowModError, Ofctl, ParseMode, RemovedReason, Rule, Tables, parse_flow_mod,
};
use rvs_flow::{Flow, Wildcards};
use std::sync::Arc;

fn packet(in_port: u32) -> Flow {
    Flow {
        in_port,
        ..Flow::default()
    }
}

fn hit(t: &Tables, version: Version, in_port: u32) -> Option<Arc<Rule>> {
    let mut wc = Wildcards::default();
    t.lookup(0, &packet(in_port), version, &mut wc).cloned()
}

fn outputs(rule: Option<Arc<Rule>>) -> Vec<OfpAction> {
    rule.map(|r| r.actions.clone()).unwrap_or_default()
}

fn out(port: u16) -> Vec<OfpAction> {
    vec![OfpAction::Output { port, max_len: 0 }]
}

fn dump(t: &Tables) -> Vec<String> {
    let mut lines = Ofctl::new(Dialect::OpenFlow10)
        .dump_flows(t, "", false, 0)
        .expect("dump");
    lines.sort();
    lines
}

#[test]
fn replace_flows_is_atomic_for_lookups() {
    let mut t = Tables::new();
    let ofctl = Ofctl::new(Dialect::OpenFlow10);
    ofctl
        .add_flows(
            &mut t,
            "f",
            "in_port=1,actions=output:2\nin_port=2,actions=output:1\n",
            false,
            0,
        )
        .expect("add");
    let old = t.version();
    ofctl
        .replace_flows(
            &mut t,
            "f",
            "in_port=1,actions=output:3\nin_port=3,actions=output:1\n",
            0,
        )
        .expect("replace");
    let new = t.version();
    assert_eq!(new, old.next(), "one version for the whole replacement");
    // The old version sees exactly the old rules, the new one exactly the new rules.
    assert_eq!(outputs(hit(&t, old, 1)), out(2));
    assert_eq!(outputs(hit(&t, old, 2)), out(1));
    assert!(hit(&t, old, 3).is_none());
    assert_eq!(outputs(hit(&t, new, 1)), out(3));
    assert!(hit(&t, new, 2).is_none());
    assert_eq!(outputs(hit(&t, new, 3)), out(1));
    // Purging at the new version drops what only the old version could see.
    assert_eq!(t.purge(new), 2);
    assert_eq!(outputs(hit(&t, new, 1)), out(3));
}

#[test]
fn a_failed_batch_changes_nothing() {
    let mut t = Tables::with_internal_flows(0);
    let ofctl = Ofctl::new(Dialect::OpenFlow10);
    ofctl
        .add_flow(&mut t, "in_port=1,actions=output:2", 0)
        .expect("add");
    ofctl
        .add_flow(&mut t, "in_port=2,actions=output:1", 0)
        .expect("add");
    let before = dump(&t);
    let version = t.version();
    // Replace a rule, delete another, add one twice (the second displaces the first inside
    // the batch), then fail on the read-only table: everything must be undone.
    let lines = "in_port=1,actions=output:9\n\
                 delete in_port=2\n\
                 in_port=5,actions=output:1\n\
                 in_port=5,actions=output:2\n\
                 table=254,actions=drop\n";
    let err = ofctl
        .add_flows(&mut t, "f", lines, true, 10)
        .expect_err("table 254 is read-only");
    assert_eq!(err, (4, FlowModError::Switch(OfpError::Eperm)));
    assert_eq!(t.version(), version);
    assert_eq!(dump(&t), before);
    assert_eq!(outputs(hit(&t, version, 1)), out(2));
    assert_eq!(outputs(hit(&t, version, 2)), out(1));
    assert!(hit(&t, version, 5).is_none());
    // The same batch without the bad line goes through in one version.
    let good = lines.replace("table=254,actions=drop\n", "");
    ofctl
        .add_flows(&mut t, "f", &good, true, 10)
        .expect("batch");
    assert_eq!(t.version(), version.next());
    assert_eq!(outputs(hit(&t, t.version(), 1)), out(9));
    assert!(hit(&t, t.version(), 2).is_none());
    assert_eq!(outputs(hit(&t, t.version(), 5)), out(2));
}

#[test]
fn one_version_per_flow_mod() {
    let mut t = Tables::new();
    let ofctl = Ofctl::new(Dialect::OpenFlow13);
    let v0 = t.version();
    ofctl
        .add_flows(
            &mut t,
            "f",
            "in_port=1,actions=drop\nin_port=2,actions=drop\n",
            false,
            0,
        )
        .expect("add");
    assert_eq!(t.version(), Version(v0.0 + 2));
    // A flow mod that changes nothing still commits a version, as OVS bumps its version.
    ofctl
        .del_flows(&mut t, "in_port=7", false, 0)
        .expect("delete");
    assert_eq!(t.version(), Version(v0.0 + 3));
    // A refused flow mod does not.
    assert!(ofctl.add_flow(&mut t, "table=254,actions=drop", 0).is_err());
    assert_eq!(t.version(), Version(v0.0 + 3));
}

/// The one rule matching `in_port=1` at the current version.
fn rule1(t: &Tables) -> Arc<Rule> {
    hit(t, t.version(), 1).expect("rule for in_port=1")
}

#[test]
fn counters_across_replacements() {
    // Checked on OVS 3.1 (see ofctl_flow_mods_ovs31.txt and the module docs of `rule`): an
    // OpenFlow 1.0 add resets counters but keeps "last used"; an OpenFlow 1.3 add and a
    // modify keep them; `reset_counts` resets them.
    let mut t = Tables::new();
    let of10 = Ofctl::new(Dialect::OpenFlow10);
    let of13 = Ofctl::new(Dialect::OpenFlow13);
    of10.add_flow(&mut t, "in_port=1,actions=output:2", 0)
        .expect("add");
    let first = rule1(&t);
    first.credit(2, 236, 500);
    of10.add_flow(&mut t, "in_port=1,actions=output:3", 1000)
        .expect("add");
    let second = rule1(&t);
    assert_eq!(
        (second.stats().packets(), second.stats().used_ms()),
        (0, 500)
    );
    assert_eq!(second.created_ms, 1000);
    // A credit that still arrives for the replaced rule goes to its replacement.
    first.credit(1, 118, 1500);
    assert_eq!((second.stats().packets(), second.stats().bytes()), (1, 118));
    of13.add_flow(&mut t, "in_port=1,actions=output:4", 2000)
        .expect("add");
    let third = rule1(&t);
    assert_eq!((third.stats().packets(), third.stats().bytes()), (1, 118));
    of10.mod_flows(&mut t, "in_port=1,actions=output:2", false, 3000)
        .expect("modify");
    let fourth = rule1(&t);
    assert_eq!(fourth.stats().packets(), 1);
    assert_eq!((fourth.created_ms, fourth.modified_ms), (2000, 3000));
    // Old handles all credit the live rule exactly once.
    first.credit(1, 1, 3500);
    third.credit(1, 1, 3600);
    assert_eq!(fourth.stats().packets(), 3);
    of13.mod_flows(
        &mut t,
        "reset_counts,in_port=1,actions=output:3",
        false,
        4000,
    )
    .expect("modify");
    let fifth = rule1(&t);
    assert_eq!(
        (fifth.stats().packets(), fifth.stats().used_ms()),
        (0, 3600)
    );
}

#[test]
fn timeouts_expire_with_injected_time() {
    let mut t = Tables::new();
    let ofctl = Ofctl::new(Dialect::OpenFlow10);
    ofctl
        .add_flow(&mut t, "in_port=1,idle_timeout=10,actions=drop", 0)
        .expect("add");
    ofctl
        .add_flow(&mut t, "in_port=2,hard_timeout=20,actions=drop", 0)
        .expect("add");
    ofctl
        .add_flow(
            &mut t,
            "in_port=3,idle_timeout=5,hard_timeout=30,actions=drop",
            0,
        )
        .expect("add");
    ofctl
        .add_flow(&mut t, "in_port=4,actions=drop", 0)
        .expect("add");
    // Exactly at the timeout nothing expires (OVS compares with `>`).
    assert!(t.expire(5_000).is_empty());
    // Traffic at 8 s postpones the idle timeout of in_port=1 to 18 s.
    hit(&t, t.version(), 1).expect("rule").credit(1, 60, 8000);
    let mut expired = t.expire(10_001);
    expired.sort_by_key(|(r, _)| r.flow_match.flow.in_port);
    let got: Vec<(u32, RemovedReason)> = expired
        .iter()
        .map(|(r, why)| (r.flow_match.flow.in_port, *why))
        .collect();
    assert_eq!(got, vec![(3, RemovedReason::IdleTimeout)]);
    let v = t.version();
    let got: Vec<(u32, RemovedReason)> = t
        .expire(20_001)
        .iter()
        .map(|(r, why)| (r.flow_match.flow.in_port, *why))
        .collect();
    assert_eq!(t.version(), v.next(), "one version for an expiry round");
    let mut got = got;
    got.sort_by_key(|(p, _)| *p);
    assert_eq!(
        got,
        vec![
            (1, RemovedReason::IdleTimeout),
            (2, RemovedReason::HardTimeout)
        ]
    );
    assert_eq!(t.rule_count(t.version()), 1);
    // A modify restarts the hard timeout (it counts from the last modification).
    ofctl
        .add_flow(&mut t, "in_port=5,hard_timeout=1,actions=drop", 30_000)
        .expect("add");
    ofctl
        .mod_flows(&mut t, "in_port=5,actions=output:1", false, 30_900)
        .expect("modify");
    assert!(t.expire(31_500).is_empty());
    assert_eq!(t.expire(31_901).len(), 1);
}

#[test]
fn strict_and_loose_selection() {
    let mut t = Tables::new();
    let ofctl = Ofctl::new(Dialect::OpenFlow10);
    for f in [
        "priority=10,in_port=1,actions=drop",
        "priority=20,in_port=1,tcp,actions=drop",
        "priority=10,ip,actions=drop",
    ] {
        ofctl.add_flow(&mut t, f, 0).expect("add");
    }
    let strict = |text: &str| {
        parse_flow_mod(text, ParseMode::Command(Command::DeleteStrict), None).expect("parse")
    };
    // Strict needs the same match and priority; loose takes every rule at least as specific.
    let c = crate::table::Criteria::of(&strict("priority=10,in_port=1"), true, false);
    assert_eq!(t.collect(&c, t.version()).expect("collect").len(), 1);
    let c = crate::table::Criteria::of(&strict("priority=11,in_port=1"), true, false);
    assert!(t.collect(&c, t.version()).expect("collect").is_empty());
    let c = crate::table::Criteria::of(&strict("in_port=1"), false, false);
    assert_eq!(t.collect(&c, t.version()).expect("collect").len(), 2);
    let c = crate::table::Criteria::of(&strict("ip"), false, false);
    assert_eq!(t.collect(&c, t.version()).expect("collect").len(), 2);
}

#[test]
fn credits_from_many_threads_add_up() {
    fn shared<T: Send + Sync>() {}
    shared::<Rule>();
    shared::<Tables>();
    let mut t = Tables::new();
    Ofctl::new(Dialect::OpenFlow10)
        .add_flow(&mut t, "in_port=1,actions=drop", 0)
        .expect("add");
    let rule = rule1(&t);
    std::thread::scope(|s| {
        for thread in 0..4i64 {
            let rule = &rule;
            s.spawn(move || {
                for i in 0..1000i64 {
                    rule.credit(1, 64, thread * 1000 + i);
                }
            });
        }
    });
    let stats = rule.stats();
    assert_eq!(
        (stats.packets(), stats.bytes(), stats.used_ms()),
        (4000, 256_000, 3999)
    );
}
