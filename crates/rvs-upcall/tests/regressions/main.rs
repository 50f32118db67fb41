//! Regression tests: the basic flow lifecycle, and one test per historical bug of
//! `ofproto-dpif-upcall.c` (ovs-upcall.md §10), each failing if the rule the bug teaches is broken.
//! Everything runs on the deterministic harness (virtual clock, fake datapath, no threads) unless
//! the bug is about threads.

mod bugs_01_10;
mod bugs_11_20;
mod bugs_21_30;
mod hooks;
mod lifecycle;

use rvs_dpif::dpif::NON_PMD_CORE_ID;
use rvs_flow::{Flow, Wildcards};
use rvs_upcall::coverage::Counter;
use rvs_upcall::testing::{FakeRule, Harness, udp_flow};
use rvs_upcall::ukey::UkeyView;

/// A mask matching only `in_port`.
pub(crate) fn in_port_mask() -> Wildcards {
    let mut w = Wildcards::default();
    w.masks.in_port = u32::MAX;
    w
}

/// Rule `id`: packets from `in_port` go out of `out`.
pub(crate) fn port_rule(id: u32, priority: u32, in_port: u32, out: u32) -> FakeRule {
    let f = Flow {
        in_port,
        ..Flow::default()
    };
    FakeRule::output(id, priority, &f, in_port_mask(), out)
}

/// A harness with rule 1 (in_port 1 → output 2) and the flow `udp_flow(1, 1, 1, 80)`.
pub(crate) fn one_rule() -> (Harness, Flow) {
    (
        Harness::new(vec![port_rule(1, 10, 1, 2)]),
        udp_flow(1, 1, 1, 80),
    )
}

/// A coverage counter's total.
pub(crate) fn cov(h: &Harness, c: Counter) -> u64 {
    h.udpif.coverage().get(c)
}

/// The ukey view of `flow` (panics if there is none).
pub(crate) fn view(h: &Harness, flow: &Flow) -> UkeyView {
    h.ukey_of(flow).expect("ukey").view()
}

/// Packets credited to rules equal packets the datapath saw.
pub(crate) fn assert_conserved(h: &Harness) {
    let (credited, seen) = h.conservation();
    assert_eq!(credited, seen, "credited packets must equal packets seen");
}

/// No ukey state transition was refused.
pub(crate) fn assert_no_bad_transitions(h: &Harness) {
    assert_eq!(
        cov(h, Counter::UkeyStateBackwards),
        0,
        "backwards transition"
    );
    assert_eq!(cov(h, Counter::UkeyStateInvalid), 0, "invalid transition");
}

/// The datapath still has `flow` (from the main thread).
pub(crate) fn dp_has(h: &Harness, flow: &Flow) -> bool {
    h.dpif.flow(h.dpif.ufid_of(flow), NON_PMD_CORE_ID).is_some()
}
