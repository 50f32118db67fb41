#![no_main]
//! Fuzz target for `ovs-ofctl` action text and whole flows (`rvs_ofproto::actions`,
//! `rvs_ofproto::table`).
//!
//! Arbitrary text must never panic the action parser, the flow parser or a flow mod. Actions
//! that parse must print, and the printed text must parse and print identically. A flow that
//! `add-flow` accepts (in either dialect) must dump, and the dump line fed back to `add-flow`
//! must dump identically (as `ovs-ofctl` accepts its own dump output), up to Open vSwitch's
//! own unreadable forms: `resubmit(,)` (from `goto_table:255` in OpenFlow 1.0),
//! `set_field:ANY->F` (an all-zero mask) and non-CIDR IPv6 masks.

use libfuzzer_sys::fuzz_target;
use rvs_ofproto::actions::{Dialect, format_actions, parse_actions};
use rvs_ofproto::table::{Ofctl, Tables};

/// True if `text` holds a form Open vSwitch prints but cannot read back.
fn unreadable(text: &str) -> bool {
    text.contains("resubmit(,)")
        || text.contains("set_field:ANY->")
        || text.contains("->ipv6_")
        || text.contains("->nd_target")
}

fn check_actions(text: &str) {
    let Ok(parsed) = parse_actions(text, None) else {
        return;
    };
    let printed = format_actions(&parsed.actions);
    match parse_actions(&printed, None) {
        Ok(again) => assert_eq!(format_actions(&again.actions), printed, "{text}"),
        Err(e) => assert!(unreadable(&printed), "{printed}: {e}"),
    }
}

fn check_flow(text: &str, dialect: Dialect) {
    let ofctl = Ofctl::new(dialect);
    let mut tables = Tables::new();
    if ofctl.add_flow(&mut tables, text, 0).is_err() {
        return;
    }
    let lines = ofctl.dump_flows(&tables, "", false, 0).expect("dump of valid tables");
    for line in lines {
        let mut again = Tables::new();
        match ofctl.add_flow(&mut again, &line, 0) {
            Ok(_) => {
                let relines = ofctl.dump_flows(&again, "", false, 0).expect("dump");
                assert_eq!(relines, vec![line.clone()], "{text}");
            }
            Err(e) => assert!(unreadable(&line), "{line}: {e}"),
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    check_actions(text);
    check_flow(text, Dialect::OpenFlow10);
    check_flow(text, Dialect::OpenFlow13);
    let with_actions = format!("ip,actions={text}");
    check_flow(&with_actions, Dialect::OpenFlow10);
    check_flow(&with_actions, Dialect::OpenFlow13);
});
