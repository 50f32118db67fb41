//! The classifier's API: replacement, versioned visibility, purge, restore, exact find,
//! iteration and overlap checks.

use super::super::{Classifier, Outgoing, PrefixField, Rule, Version};
use super::{ip_nw_dst, matching, tcp4};
use rvs_flow::Wildcards;
use rvs_flow::flow::ETH_TYPE_IP;

fn hit(cls: &Classifier<&'static str>, dst: u32, v: u64) -> Option<&'static str> {
    let flow = tcp4(0x0101_0101, dst, 1, 2);
    let mut wc = Wildcards::default();
    let r = cls.lookup(&flow, Version(v), &mut wc).map(|r| r.payload);
    assert_eq!(
        r,
        cls.lookup_without_wildcards(&flow, Version(v))
            .map(|r| r.payload)
    );
    r
}

#[test]
fn same_match_and_priority_in_the_same_version_is_replaced_at_once() {
    let mut cls = Classifier::new();
    let m = ip_nw_dst(0x0a00_0000, 8);
    assert_eq!(cls.insert(Rule::new(m, 5, "a"), Version(1)), None);
    let out = cls.insert(Rule::new(m, 5, "b"), Version(1));
    assert_eq!(out, Some(Outgoing::Dropped(Box::new(Rule::new(m, 5, "a")))));
    assert_eq!(cls.rule_count(), 1);
    assert_eq!(hit(&cls, 0x0a01_0101, 1), Some("b"));
    // A different priority is a different rule.
    assert_eq!(cls.insert(Rule::new(m, 6, "c"), Version(1)), None);
    assert_eq!(cls.rule_count(), 2);
    assert_eq!(cls.subtable_count(), 1);
}

#[test]
fn a_staged_batch_is_invisible_until_its_version() {
    // replace-flows: at version 2 delete A, modify B, add C. Version 1 must see the old table
    // as a whole, version 2 the new one as a whole.
    let mut cls = Classifier::new();
    let (a, b, c) = (
        ip_nw_dst(0x0a00_0000, 8),
        ip_nw_dst(0x0b00_0000, 8),
        ip_nw_dst(0x0c00_0000, 8),
    );
    cls.insert(Rule::new(a, 1, "A"), Version(1));
    cls.insert(Rule::new(b, 1, "B"), Version(1));
    let v2 = Version(1).next();
    assert_eq!(cls.remove(&a, 1, v2), Some(Outgoing::Retired));
    assert_eq!(
        cls.insert(Rule::new(b, 1, "B'"), v2),
        Some(Outgoing::Retired)
    );
    assert_eq!(cls.insert(Rule::new(c, 1, "C"), v2), None);
    assert_eq!(cls.rule_count(), 4);
    for (dst, old, new) in [
        (0x0a00_0001, Some("A"), None),
        (0x0b00_0001, Some("B"), Some("B'")),
        (0x0c00_0001, None, Some("C")),
    ] {
        assert_eq!(hit(&cls, dst, 1), old);
        assert_eq!(hit(&cls, dst, 2), new);
    }
    let old: Vec<_> = cls.iter(Version(1)).map(|r| r.payload).collect();
    assert_eq!(old.len(), 2);
    assert!(old.contains(&"A") && old.contains(&"B"));
    // Once nobody uses version 1 any more, the retired rules go.
    let mut purged: Vec<_> = cls.purge(v2).into_iter().map(|r| r.payload).collect();
    purged.sort_unstable();
    assert_eq!(purged, ["A", "B"]);
    assert_eq!(cls.rule_count(), 2);
    assert_eq!(hit(&cls, 0x0b00_0001, 2), Some("B'"));
    assert_eq!(hit(&cls, 0x0a00_0001, 2), None);
}

#[test]
fn removal_in_the_adding_version_drops_and_restore_undoes_a_retirement() {
    let mut cls = Classifier::new();
    let m = ip_nw_dst(0x0a00_0000, 8);
    cls.insert(Rule::new(m, 3, "x"), Version(4));
    assert_eq!(
        cls.remove(&m, 3, Version(4)),
        Some(Outgoing::Dropped(Box::new(Rule::new(m, 3, "x"))))
    );
    assert!(cls.is_empty());
    assert_eq!(cls.subtable_count(), 0);
    assert_eq!(cls.remove(&m, 3, Version(4)), None);

    cls.insert(Rule::new(m, 3, "x"), Version(4));
    assert_eq!(cls.remove(&m, 3, Version(5)), Some(Outgoing::Retired));
    assert_eq!(hit(&cls, 0x0a00_0001, 5), None);
    // Revert the removal: visible in 5 again.
    assert!(cls.restore(&m, 3, Version(5)));
    assert_eq!(hit(&cls, 0x0a00_0001, 5), Some("x"));
    assert!(!cls.restore(&m, 3, Version(5)));
    // A revert is refused while a replacement is visible: drop the replacement first.
    assert_eq!(
        cls.insert(Rule::new(m, 3, "y"), Version(6)),
        Some(Outgoing::Retired)
    );
    assert!(!cls.restore(&m, 3, Version(6)));
    assert!(matches!(
        cls.remove(&m, 3, Version(6)),
        Some(Outgoing::Dropped(_))
    ));
    assert!(cls.restore(&m, 3, Version(6)));
    assert_eq!(hit(&cls, 0x0a00_0001, 7), Some("x"));
    assert!(cls.purge(Version(100)).is_empty());
}

#[test]
fn find_exactly_respects_priority_and_version() {
    let mut cls = Classifier::new();
    let m = ip_nw_dst(0x0a00_0000, 8);
    cls.insert(Rule::new(m, 3, "x"), Version(2));
    assert_eq!(
        cls.find_exactly(&m, 3, Version(2)).map(|r| r.payload),
        Some("x")
    );
    assert_eq!(cls.find_exactly(&m, 3, Version(1)), None);
    assert_eq!(cls.find_exactly(&m, 4, Version(2)), None);
    assert_eq!(
        cls.find_exactly(&ip_nw_dst(0x0a00_0000, 9), 3, Version(2)),
        None
    );
    // Unnormalized input (bits outside the mask) finds the same rule.
    let mut sloppy = m;
    sloppy.flow.nw_dst = 0x0a01_0203;
    assert_eq!(
        cls.find_exactly(&sloppy, 3, Version(2)).map(|r| r.payload),
        Some("x")
    );
}

#[test]
fn iteration_orders_and_loose_selection() {
    let mut cls = Classifier::new();
    let rules = [
        (ip_nw_dst(0x0a00_0000, 8), 10, "ten/8"),
        (ip_nw_dst(0x0a01_0000, 16), 20, "ten.one/16"),
        (ip_nw_dst(0x0b00_0000, 8), 30, "eleven/8"),
        (
            matching(|f, m| {
                f.in_port = 3;
                m.in_port = u32::MAX;
            }),
            40,
            "port3",
        ),
    ];
    for (m, p, name) in rules {
        cls.insert(Rule::new(m, p, name), Version(1));
    }
    let sorted: Vec<_> = cls
        .sorted_by_priority(Version(1))
        .iter()
        .map(|r| r.payload)
        .collect();
    assert_eq!(sorted, ["port3", "eleven/8", "ten.one/16", "ten/8"]);
    assert_eq!(cls.iter(Version(0)).count(), 0);
    // `ip,nw_dst=10.0.0.0/8` loosely matches the rules at least as specific within 10/8.
    let mut loose: Vec<_> = cls
        .iter_loose(&ip_nw_dst(0x0a00_0000, 8), Version(1))
        .map(|r| r.payload)
        .collect();
    loose.sort_unstable();
    assert_eq!(loose, ["ten.one/16", "ten/8"]);
    // `ip` alone selects every IPv4 rule; the catch-all target selects everything.
    let ip = matching(|f, m| {
        f.dl_type = ETH_TYPE_IP;
        m.dl_type = u16::MAX;
    });
    assert_eq!(cls.iter_loose(&ip, Version(1)).count(), 3);
    assert_eq!(cls.iter_loose(&matching(|_, _| {}), Version(1)).count(), 4);
}

#[test]
fn overlap_needs_equal_priority_and_a_common_packet() {
    let mut cls = Classifier::new();
    cls.insert(Rule::new(ip_nw_dst(0x0a00_0000, 8), 10, "a"), Version(1));
    let port = matching(|f, m| {
        f.in_port = 3;
        m.in_port = u32::MAX;
    });
    assert!(cls.overlaps(&port, 10, Version(1)));
    assert!(!cls.overlaps(&port, 11, Version(1)));
    assert!(cls.overlaps(&ip_nw_dst(0x0a01_0000, 16), 10, Version(1)));
    assert!(!cls.overlaps(&ip_nw_dst(0x0b00_0000, 16), 10, Version(1)));
    assert!(!cls.overlaps(&port, 10, Version(0)));
}

#[test]
fn prefix_configuration_follows_ovs_rules() {
    let mut cls: Classifier<()> = Classifier::new();
    assert_eq!(
        cls.prefix_fields(),
        [PrefixField::NwDst, PrefixField::NwSrc]
    );
    assert!(!cls.set_prefix_fields(&[PrefixField::NwDst, PrefixField::NwSrc]));
    // Duplicates are ignored and at most three tries are kept.
    assert!(cls.set_prefix_fields(&[
        PrefixField::Ipv6Dst,
        PrefixField::Ipv6Dst,
        PrefixField::NwSrc,
        PrefixField::Ipv6Src,
        PrefixField::NwDst,
    ]));
    assert_eq!(
        cls.prefix_fields(),
        [
            PrefixField::Ipv6Dst,
            PrefixField::NwSrc,
            PrefixField::Ipv6Src
        ]
    );
    assert!(cls.set_prefix_fields(&[]));
    assert!(cls.prefix_fields().is_empty());
}

#[test]
fn reconfiguring_tries_keeps_answers_and_changes_only_wildcards() {
    let mut cls = Classifier::with_prefix_fields(&[]);
    cls.insert(Rule::new(ip_nw_dst(0x0a00_0000, 24), 10, "a"), Version(1));
    let flow = tcp4(1, 0xc0a8_0101, 1, 2);
    let mut wc = Wildcards::default();
    assert_eq!(cls.lookup(&flow, Version(1), &mut wc), None);
    assert_eq!(wc.masks.nw_dst, 0xffff_ff00);
    assert!(cls.set_prefix_fields(&[PrefixField::NwDst]));
    let mut wc = Wildcards::default();
    assert_eq!(cls.lookup(&flow, Version(1), &mut wc), None);
    assert_eq!(wc.masks.nw_dst, 0x8000_0000);
    let mut wc = Wildcards::default();
    assert_eq!(
        cls.lookup(&tcp4(1, 0x0a00_0001, 1, 2), Version(1), &mut wc)
            .map(|r| r.payload),
        Some("a")
    );
}
