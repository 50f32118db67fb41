#![no_main]
//! Fuzz target for the `ovs-ofctl` match syntax (`rvs_flow::ofp_match`).
//!
//! Arbitrary text must never panic any of the parsers. Text that parses as a match must print,
//! and the printed text must parse back to the same match and print identically, up to what the
//! text format cannot carry (the Ethernet packet type without `recirc_id`) and OVS's own
//! asymmetry for non-CIDR IPv6 masks whose text starts with a digit.

use libfuzzer_sys::fuzz_target;
use rvs_flow::Match;
use rvs_flow::flow::PT_ETH;
use rvs_flow::text::fmt_ipv6;
use rvs_flow::ofp_match::{
    Lexer, format_match, parse_exact_flow, parse_match_and_priority, split_actions,
};

/// The match without the Ethernet packet type when it is not printed.
fn visible(m: &Match) -> Match {
    let mut m = *m;
    let default_type = m.flow.packet_type == PT_ETH && m.wc.masks.packet_type == u32::MAX;
    if m.wc.masks.recirc_id == 0 && default_type {
        m.wc.masks.packet_type = 0;
    }
    m
}

/// True if some IPv6 mask prints in a form OVS cannot read back (`/1000::`).
fn has_unreadable_ipv6_mask(m: &Match) -> bool {
    let w = &m.wc.masks;
    [w.ipv6_src, w.ipv6_dst, w.nd_target].iter().any(|mask| {
        let bits = u128::from_be_bytes(*mask);
        let cidr = (!bits).wrapping_add(1) & !bits == 0;
        let mut text = String::new();
        fmt_ipv6(&mut text, mask);
        !cidr && text.starts_with(|c: char| c.is_ascii_digit())
    })
}

fn print(m: &Match, priority: u16) -> String {
    let mut s = String::new();
    format_match(&mut s, m, Some(priority));
    s
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for item in Lexer::new(text) {
        assert!(item.key_pos + item.key.len() <= text.len());
        assert!(item.value_pos + item.value.len() <= text.len());
    }
    let _ = split_actions(text);
    let _ = parse_exact_flow(text, None);
    let parsed = parse_match_and_priority(text);
    if let Err(e) = &parsed {
        assert!(e.position() <= text.len(), "{text:?}: {}", e.detailed());
    }
    let Ok((m, priority)) = parsed else {
        return;
    };
    if has_unreadable_ipv6_mask(&m) {
        return;
    }
    let printed = print(&m, priority);
    let (back, p2) = match parse_match_and_priority(&printed) {
        Ok(x) => x,
        Err(e) => panic!(
            "{text:?} printed as {printed:?} does not parse: {}",
            e.detailed()
        ),
    };
    assert_eq!(p2, priority, "{text:?} -> {printed:?}");
    assert_eq!(visible(&back), visible(&m), "{text:?} -> {printed:?}");
    assert_eq!(print(&back, p2), printed, "{text:?} -> {printed:?}");
});
