//! The ordinary life of a flow: miss, install, hits, credit, idle expiry.

use rvs_upcall::testing::SendResult;
use rvs_upcall::ukey::UkeyState;

use super::*;

#[test]
fn miss_install_hit_credit_expire() {
    let (h, f) = one_rule();
    assert_eq!(h.send(&f), SendResult::Miss);
    let r = h.run_handlers();
    assert_eq!((r.upcalls, r.puts, r.put_errors, r.executes), (1, 1, 0, 1));
    assert_eq!(view(&h, &f).state, UkeyState::Operational);
    assert_eq!(view(&h, &f).dump_seq, 0);
    assert_eq!(
        h.xlate.credited(1).n_packets,
        1,
        "the miss packet is credited by the handler"
    );
    for _ in 0..3 {
        assert!(matches!(h.send(&f), SendResult::Hit(_)));
    }
    h.advance(100);
    h.round();
    assert_eq!(h.xlate.credited(1).n_packets, 4);
    assert_eq!(view(&h, &f).stats.n_packets, 3);
    assert_conserved(&h);
    // Idle for longer than max-idle: deleted in the dump phase, ukey freed in the sweep.
    h.advance(10_001);
    h.round();
    assert!(h.ukey_of(&f).is_none());
    assert!(!dp_has(&h, &f));
    assert_conserved(&h);
    assert_no_bad_transitions(&h);
}

#[test]
fn upcall_show_layout() {
    let (h, f) = one_rule();
    h.send_and_handle(&f);
    h.advance(200);
    h.round();
    let text = h.udpif.show(&[7, 9]);
    let keys = h.udpif.ukeys().slice_len(0, 2);
    assert_eq!(
        text,
        format!(
            "dummy@ovs-dummy:\n  flows         : (current 1) (avg 0) (max 1) (limit 10000)\n  \
             dump duration : 1ms\n  ufid enabled : true\n\n  7: (keys {keys})\n  9: (keys {})\n",
            1 - keys
        )
    );
}
