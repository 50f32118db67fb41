//! Run-time `set`, `set_assignments` and `describe` of the `[other_config]` knobs.

use super::*;
use rvs_upcall::config::FlowLimitPolicy;

#[test]
fn set_accepts_every_key_at_both_ends_of_its_range() {
    // (key, smallest, largest) as documented in docs/configuration.md.
    let ranges = [
        ("flow-limit", 1, u64::from(u32::MAX)),
        ("max-idle", 500, u64::from(u32::MAX)),
        ("max-revalidator", 100, u64::from(u32::MAX)),
        ("min-revalidate-pps", 0, u64::from(u32::MAX)),
        ("n-handler-threads", 1, 64),
        ("n-revalidator-threads", 1, 64),
        ("n-forwarding-threads", 1, 64),
        ("emc-insert-inv-prob", 0, u64::from(u32::MAX)),
        ("vlan-limit", 0, i32::MAX as u64),
    ];
    // Every integer knob (`flow-limit-policy`, `revalidation-scope` and
    // `revalidator-placement`, set by name, have their own tests).
    assert_eq!(
        ranges.iter().map(|r| r.0).collect::<Vec<_>>(),
        OtherConfig::keys()
            .filter(|k| {
                ![
                    "flow-limit-policy",
                    "revalidation-scope",
                    "revalidator-placement",
                ]
                .contains(k)
            })
            .collect::<Vec<_>>()
    );
    for (key, min, max) in ranges {
        let mut other = OtherConfig::default();
        for value in [min, max] {
            other.set(key, &value.to_string()).expect("in range");
            assert!(
                other.describe().contains(&format!("{key}={value}\n")),
                "{key}={value} not shown:\n{}",
                other.describe()
            );
        }
        for bad in [
            max.checked_add(1).map(|v| v.to_string()),
            min.checked_sub(1).map(|v| v.to_string()),
            Some("-1".into()),
            Some("ten".into()),
            Some("1.5".into()),
            Some("0x10".into()),
            Some("99999999999999999999999".into()),
        ]
        .into_iter()
        .flatten()
        {
            let before = other.clone();
            let message = other.set(key, &bad).expect_err("out of range");
            assert_eq!(
                message,
                format!("{key}: expected an integer between {min} and {max}, got `{bad}`")
            );
            assert_eq!(other, before, "a refused set changes nothing");
        }
    }
}

#[test]
fn set_changes_the_right_field() {
    let mut other = OtherConfig::default();
    other.set("flow-limit", "1000").expect("ok");
    other.set("max-idle", "600").expect("ok");
    other.set("max-revalidator", "100").expect("ok");
    other.set("min-revalidate-pps", "0").expect("ok");
    other.set("n-handler-threads", "2").expect("ok");
    other.set("n-revalidator-threads", "3").expect("ok");
    other.set("n-forwarding-threads", "4").expect("ok");
    other.set("emc-insert-inv-prob", "1").expect("ok");
    other
        .set("vlan-limit", " 2 ")
        .expect("surrounding spaces are fine");
    other.set("flow-limit-policy", "ovs").expect("ok");
    other.set("revalidation-scope", "all").expect("ok");
    other.set("revalidator-placement", "system").expect("ok");
    assert_eq!(
        other,
        OtherConfig {
            flow_limit: 1000,
            max_idle_ms: 600,
            max_revalidator_ms: 100,
            min_revalidate_pps: 0,
            n_handler_threads: Some(2),
            n_revalidator_threads: Some(3),
            n_forwarding_threads: 4,
            emc_insert_inv_prob: 1,
            vlan_limit: 2,
            flow_limit_policy: FlowLimitPolicy::Ovs,
            retranslate_all: true,
            spread_revalidators: false,
        }
    );
    // An empty value returns every knob to its default, like removing the OVS key.
    for key in OtherConfig::keys() {
        other.set(key, "").expect("empty resets");
    }
    assert_eq!(other, OtherConfig::default());
}

#[test]
fn unknown_keys_are_refused_with_a_hint() {
    let mut other = OtherConfig::default();
    let message = other.set("flow_limit", "5").expect_err("unknown");
    assert!(message.starts_with("unknown key `flow_limit` (did you mean `flow-limit`?); known keys: flow-limit, max-idle,"), "{message}");
    let message = other.set("hw-offload", "true").expect_err("unknown");
    assert!(
        message.starts_with("unknown key `hw-offload`; known keys: "),
        "{message}"
    );
    assert_eq!(other, OtherConfig::default());
}

#[test]
fn assignments_are_all_or_nothing() {
    let mut other = OtherConfig::default();
    other
        .set_assignments(["flow-limit=5000", "max-idle=2000"])
        .expect("both valid");
    assert_eq!((other.flow_limit, other.max_idle_ms), (5000, 2000));
    let before = other.clone();
    let message = other
        .set_assignments(["flow-limit=7000", "max-idle=1"])
        .expect_err("second is bad");
    assert!(
        message.starts_with("max-idle: expected an integer between 500"),
        "{message}"
    );
    assert_eq!(other, before);
    let message = other.set_assignments(["flow-limit"]).expect_err("no =");
    assert_eq!(message, "`flow-limit`: expected KEY=VALUE");
}

#[test]
fn describe_lists_defaults_and_round_trips_through_set() {
    let other = OtherConfig::default();
    assert_eq!(
        other.describe(),
        "flow-limit=200000\nmax-idle=10000\nmax-revalidator=500\nmin-revalidate-pps=5\n\
         n-handler-threads=\nn-revalidator-threads=\nn-forwarding-threads=1\n\
         emc-insert-inv-prob=100\nvlan-limit=1\nflow-limit-policy=adaptive\n\
         revalidation-scope=affected\nrevalidator-placement=spread\n"
    );
    let mut changed = OtherConfig::default();
    changed
        .set_assignments([
            "n-handler-threads=4",
            "vlan-limit=0",
            "flow-limit-policy=ovs",
            "revalidation-scope=all",
            "revalidator-placement=system",
        ])
        .expect("ok");
    let mut copy = OtherConfig::default();
    copy.set_assignments(changed.describe().lines())
        .expect("describe output is valid set input");
    assert_eq!(copy, changed);
}

#[test]
fn flow_limit_policy_is_set_by_name() {
    let knob = super::super::other::knob("flow-limit-policy").expect("known");
    // The names are the engine's, in the engine's order.
    assert_eq!(
        knob.names,
        FlowLimitPolicy::ALL.map(FlowLimitPolicy::name).as_slice()
    );
    let mut other = OtherConfig::default();
    assert_eq!(other.flow_limit_policy, FlowLimitPolicy::Adaptive);
    other.set("flow-limit-policy", " ovs ").expect("ok");
    assert_eq!(other.flow_limit_policy, FlowLimitPolicy::Ovs);
    assert!(other.describe().contains("flow-limit-policy=ovs\n"));
    other.set("flow-limit-policy", "adaptive").expect("ok");
    assert_eq!(other.flow_limit_policy, FlowLimitPolicy::Adaptive);
    for bad in ["OVS", "1", "0", "fast", "ovs,adaptive"] {
        let before = other.clone();
        let message = other.set("flow-limit-policy", bad).expect_err("refused");
        assert_eq!(
            message,
            format!("flow-limit-policy: expected one of adaptive, ovs, got `{bad}`")
        );
        assert_eq!(other, before);
    }
    other.set("flow-limit-policy", "ovs").expect("ok");
    other.set("flow-limit-policy", "").expect("empty resets");
    assert_eq!(other.flow_limit_policy, FlowLimitPolicy::Adaptive);
    // The file takes it as a string.
    let config = Config::from_toml_str("[other_config]\nflow-limit-policy = \"ovs\"\n", None)
        .expect("valid");
    assert_eq!(config.other.flow_limit_policy, FlowLimitPolicy::Ovs);
}

#[test]
fn effective_vlan_limit_follows_flow_limit_vlans() {
    let mut other = OtherConfig::default();
    for (configured, effective) in [(0, 2), (1, 1), (2, 2), (3, 2), (1000, 2)] {
        other.vlan_limit = configured;
        assert_eq!(
            other.effective_vlan_limit(),
            effective,
            "vlan-limit={configured}"
        );
    }
}

#[test]
fn every_knob_range_is_non_empty_and_holds_its_default() {
    let defaults = OtherConfig::default();
    for knob in super::super::other::KNOBS {
        assert!(knob.min <= knob.max, "{}", knob.name);
        let mut other = OtherConfig::default();
        other.set(knob.name, "").expect("empty value");
        assert_eq!(other, defaults, "{}", knob.name);
        let shown = defaults.describe();
        let default_text = shown
            .lines()
            .find_map(|line| line.strip_prefix(&format!("{}=", knob.name)))
            .expect("describe lists every knob");
        other
            .set(knob.name, default_text)
            .expect("the default is inside the range");
    }
}

#[test]
fn revalidation_scope_is_set_by_name() {
    let mut other = OtherConfig::default();
    assert!(!other.retranslate_all);
    other.set("revalidation-scope", "all").expect("ok");
    assert!(other.retranslate_all);
    assert!(other.describe().contains("revalidation-scope=all\n"));
    other.set("revalidation-scope", "affected").expect("ok");
    assert!(!other.retranslate_all);
    for bad in ["ALL", "1", "some"] {
        let before = other.clone();
        let message = other.set("revalidation-scope", bad).expect_err("refused");
        assert_eq!(
            message,
            format!("revalidation-scope: expected one of affected, all, got `{bad}`")
        );
        assert_eq!(other, before);
    }
}

#[test]
fn revalidator_placement_is_set_by_name() {
    let mut other = OtherConfig::default();
    assert!(other.spread_revalidators);
    other.set("revalidator-placement", "system").expect("ok");
    assert!(!other.spread_revalidators);
    assert!(other.describe().contains("revalidator-placement=system\n"));
    other.set("revalidator-placement", "spread").expect("ok");
    assert!(other.spread_revalidators);
    for bad in ["pinned", "0", "SPREAD"] {
        let before = other.clone();
        other
            .set("revalidator-placement", bad)
            .expect_err("refused");
        assert_eq!(other, before, "an error changes nothing");
    }
}
