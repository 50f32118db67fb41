//! Memory bounds of the engine: every queue that grows per packet has a cap, and what the cap
//! drops is counted. Each test fails if its bound is removed.

use rvs_dpif::dpif::{NON_PMD_CORE_ID, Upcall, UpcallKind};
use rvs_flow::odp::{ControllerCookie, CookieKind, UserdataCookie};
use rvs_flow::ufid::Ufid;
use rvs_upcall::config::MAX_CONTROLLER_UPCALLS;
use rvs_upcall::coverage::Counter;
use rvs_upcall::testing::{Harness, udp_flow};

/// A `userspace()` upcall carrying a controller cookie (an `actions=controller` packet).
fn controller_upcall(n: u32) -> Upcall {
    let cookie = UserdataCookie {
        ofp_in_port: 1,
        ofproto_uuid: [0; 16],
        kind: CookieKind::Controller(ControllerCookie {
            dont_send: false,
            continuation: false,
            reason: 1,
            recirc_id: 0,
            rule_cookie: 0,
            controller_id: 0,
            max_len: u16::MAX,
        }),
    };
    Upcall {
        kind: UpcallKind::Action {
            userdata: cookie.to_bytes(),
        },
        packet: vec![0u8; 60],
        flow: udp_flow(1, 1, 1, 80),
        ufid: Ufid {
            parts: [n, 0, 0, 0],
        },
        pmd_id: NON_PMD_CORE_ID,
    }
}

#[test]
fn packets_for_an_absent_controller_are_capped_and_counted() {
    let h = Harness::new(Vec::new());
    let extra = 300;
    let total = MAX_CONTROLLER_UPCALLS + extra;
    let mut sent = 0;
    while sent < total {
        let batch: Vec<Upcall> = (sent..total.min(sent + 64))
            .map(|n| controller_upcall(n as u32))
            .collect();
        sent += batch.len();
        h.udpif.handle_upcalls(batch);
    }
    assert_eq!(
        h.udpif.coverage().get(Counter::PacketInOverflow),
        extra as u64,
        "every packet beyond the cap is counted"
    );
    let (_, controller, ..) = h.udpif.upcall_counts();
    assert_eq!(
        controller, total as u64,
        "every controller upcall is classified"
    );
    let queued = h.udpif.take_controller_upcalls();
    assert_eq!(
        queued.len(),
        MAX_CONTROLLER_UPCALLS,
        "no more than the cap waits"
    );
    // Taking them makes room again.
    h.udpif.handle_upcalls(vec![controller_upcall(0)]);
    assert_eq!(h.udpif.take_controller_upcalls().len(), 1);
    assert_eq!(
        h.udpif.coverage().get(Counter::PacketInOverflow),
        extra as u64
    );
}
