//! Put, get, delete, flush and operate: every success path and every error code.

use rvs_flow::flow::{VLAN_CFI, VLAN_VID_MASK};
use rvs_flow::odp::OdpAction;
use rvs_flow::ufid::Ufid;

use super::*;
use crate::dpif::{
    DpifError, DpifOp, Execute, FlowDel, FlowGet, FlowRef, FlowStats, NON_PMD_CORE_ID,
};

fn get(dp: &Datapath, flow: FlowRef) -> Result<crate::dpif::DpifFlow, DpifError> {
    dp.flow_get(FlowGet {
        flow,
        pmd_id: PMD_ID_NULL,
    })
}

fn del(dp: &Datapath, flow: FlowRef) -> Result<FlowStats, DpifError> {
    dp.flow_del(FlowDel {
        flow,
        pmd_id: PMD_ID_NULL,
    })
}

#[test]
fn create_get_delete() {
    let fx = fixture(2);
    let frame = udp_frame(5, 10);
    let key = key_of(&frame, 1);
    let ufid = Ufid {
        parts: [1, 2, 3, 4],
    };
    let put = FlowPut {
        ufid: Some(ufid),
        ..flow_put(
            PutFlags::CREATE,
            key,
            mask_dst(),
            vec![OdpAction::Output(2)],
        )
    };
    assert_eq!(fx.dp.flow_put(put.clone()), Ok(FlowStats::default()));
    // OVS 3.1 oracle: adding the same flow again fails with "File exists".
    assert_eq!(fx.dp.flow_put(put), Err(DpifError::Exists));

    let got = get(&fx.dp, FlowRef::Ufid(ufid)).expect("get");
    assert_eq!(got.key, Some(key));
    let mut expected_mask = mask_dst();
    expected_mask.masks.vlans[0].tci = VLAN_VID_MASK | VLAN_CFI;
    assert_eq!(got.mask, Some(expected_mask));
    assert_eq!(got.actions.as_deref(), Some(&[OdpAction::Output(2)][..]));
    assert_eq!(
        (got.ufid, got.ufid_present, got.pmd_id),
        (ufid, true, NON_PMD_CORE_ID)
    );
    assert_eq!((got.attrs.offloaded, got.attrs.dp_layer), (false, "ovs"));
    assert_eq!(fx.dp.dp_stats().n_flows, 1);

    assert_eq!(del(&fx.dp, FlowRef::Ufid(ufid)), Ok(FlowStats::default()));
    // OVS 3.1 oracle: deleting an absent flow fails with "No such file or directory".
    assert_eq!(del(&fx.dp, FlowRef::Ufid(ufid)), Err(DpifError::NotFound));
    assert_eq!(
        get(&fx.dp, FlowRef::Ufid(ufid)).err(),
        Some(DpifError::NotFound)
    );
    assert_eq!((fx.dp.dp_stats().n_flows, fx.dp.dp_stats().n_masks), (0, 0));
}

#[test]
fn modify_absent_is_enoent_and_no_flags_is_overlap() {
    let fx = fixture(2);
    let key = key_of(&udp_frame(5, 10), 1);
    // OVS 3.1 oracle: mod-flow of an absent flow fails with "No such file or directory".
    assert_eq!(
        fx.dp
            .flow_put(flow_put(PutFlags::MODIFY, key, mask_dst(), vec![])),
        Err(DpifError::NotFound)
    );
    install(&fx.dp, &udp_frame(5, 10), 1, vec![]);
    let none = PutFlags::default();
    assert!(matches!(
        fx.dp.flow_put(flow_put(none, key, mask_dst(), vec![])),
        Err(DpifError::Invalid(_))
    ));
    // A key covered by the installed flow (other fields differ but are wildcarded) is "the same flow".
    let mut covered = key;
    covered.nw_src = 0x0909_0909;
    assert_eq!(
        fx.dp
            .flow_put(flow_put(PutFlags::CREATE, covered, mask_dst(), vec![])),
        Err(DpifError::Exists)
    );
}

#[test]
fn modify_keeps_counters_and_returns_pre_modify_stats() {
    let mut fx = fixture(3);
    let frame = udp_frame(5, 10);
    install(&fx.dp, &frame, 1, vec![OdpAction::Output(2)]);
    let mut pmd = fx.dp.forwarding_thread(0).expect("pmd");
    pmd.process_batch(
        1,
        &mut batch(&[frame.clone(), frame.clone(), frame.clone()]),
        1500,
    );
    let len = frame.len() as u64;
    let expected = FlowStats {
        n_packets: 3,
        n_bytes: 3 * len,
        used: 1500,
        tcp_flags: 0,
    };
    let key = key_of(&frame, 1);
    let modified = fx.dp.flow_put(flow_put(
        PutFlags::MODIFY,
        key,
        mask_dst(),
        vec![OdpAction::Output(3)],
    ));
    assert_eq!(modified, Ok(expected));
    pmd.process_batch(1, &mut batch(std::slice::from_ref(&frame)), 1600);
    assert_eq!(fx.sent(2).len(), 3);
    assert_eq!(fx.sent(3).len(), 1);
    let stats = get(&fx.dp, FlowRef::Key(Box::new(key))).expect("get").stats;
    assert_eq!(
        stats,
        FlowStats {
            n_packets: 4,
            n_bytes: 4 * len,
            used: 1600,
            tcp_flags: 0
        }
    );
    fx.clock.advance(1);
    let _ = &mut fx;
}

#[test]
fn modify_with_zero_stats_swaps_actions_then_fails() {
    // OVS 3.1 oracle: `dpctl/mod-flow --clear` fails with "Operation not supported", and the dump
    // afterwards shows the new actions.
    let fx = fixture(3);
    let frame = udp_frame(5, 10);
    install(&fx.dp, &frame, 1, vec![OdpAction::Output(2)]);
    let key = key_of(&frame, 1);
    let flags = PutFlags {
        modify: true,
        zero_stats: true,
        ..PutFlags::default()
    };
    assert_eq!(
        fx.dp
            .flow_put(flow_put(flags, key, mask_dst(), vec![OdpAction::Output(3)])),
        Err(DpifError::NotSupported)
    );
    let got = get(&fx.dp, FlowRef::Key(Box::new(key))).expect("get");
    assert_eq!(got.actions.as_deref(), Some(&[OdpAction::Output(3)][..]));
}

#[test]
fn masks_are_checked() {
    let fx = fixture(1);
    let key = key_of(&udp_frame(5, 10), 1);
    let mut no_port = mask_dst();
    no_port.masks.in_port = 0xffff;
    // OVS 3.1 oracle: `in_port(1/0)` (and no in_port at all) fail with "Invalid argument".
    assert!(matches!(
        fx.dp
            .flow_put(flow_put(PutFlags::CREATE, key, no_port, vec![])),
        Err(DpifError::Invalid(_))
    ));
    let mut pipeline = mask_dst();
    pipeline.masks.regs[3] = 1;
    assert!(matches!(
        fx.dp
            .flow_put(flow_put(PutFlags::CREATE, key, pipeline, vec![])),
        Err(DpifError::Invalid(_))
    ));
    assert_eq!(fx.dp.dp_stats().n_flows, 0);
}

#[test]
fn put_without_ufid_is_named_by_its_key() {
    let fx = fixture(1);
    let key = key_of(&udp_frame(5, 10), 1);
    install(&fx.dp, &udp_frame(5, 10), 1, vec![]);
    let expected = UfidGenerator::with_secret(0x5eed).ufid_of_flow(&key);
    let got = get(&fx.dp, FlowRef::Ufid(expected)).expect("named by the key's UFID");
    assert_eq!(got.ufid, expected);
    // By key: the UFID of the key, so a covered but different key does not find it (as OVS).
    let mut other = key;
    other.nw_src = 77;
    assert_eq!(
        del(&fx.dp, FlowRef::Key(Box::new(other))),
        Err(DpifError::NotFound)
    );
    assert!(del(&fx.dp, FlowRef::Key(Box::new(key))).is_ok());
}

#[test]
fn a_ufid_names_one_flow() {
    let fx = fixture(1);
    let ufid = Ufid {
        parts: [9, 9, 9, 9],
    };
    let a = FlowPut {
        ufid: Some(ufid),
        ..flow_put(
            PutFlags::CREATE,
            key_of(&udp_frame(1, 0), 1),
            mask_dst(),
            vec![],
        )
    };
    let b = FlowPut {
        ufid: Some(ufid),
        ..flow_put(
            PutFlags::CREATE,
            key_of(&udp_frame(2, 0), 1),
            mask_dst(),
            vec![],
        )
    };
    assert!(fx.dp.flow_put(a).is_ok());
    assert_eq!(fx.dp.flow_put(b), Err(DpifError::Exists));
    assert_eq!(fx.dp.dp_stats().n_flows, 1);
}

#[test]
fn a_wildcarded_vlan_matches_only_untagged_frames() {
    let mut fx = fixture(2);
    let frame = udp_frame(5, 10);
    install(&fx.dp, &frame, 1, vec![OdpAction::Output(2)]);
    let mut tagged = frame.clone();
    tagged.splice(12..12, [0x81, 0x00, 0x00, 0x07]);
    let mut pmd = fx.dp.forwarding_thread(0).expect("pmd");
    pmd.process_batch(1, &mut batch(&[tagged, frame]), 2000);
    assert_eq!(fx.sent(2).len(), 1);
    assert_eq!(fx.dp.dp_stats().n_missed, 1);
    let _ = &mut fx;
}

#[test]
fn operate_reports_each_op_and_zero_stats_on_failure() {
    let mut fx = fixture(2);
    let frame = udp_frame(5, 10);
    install(&fx.dp, &frame, 1, vec![OdpAction::Output(2)]);
    let mut pmd = fx.dp.forwarding_thread(0).expect("pmd");
    pmd.process_batch(1, &mut batch(&[frame.clone(), frame.clone()]), 1200);
    let key = key_of(&frame, 1);
    let ops = vec![
        DpifOp::Put(flow_put(PutFlags::CREATE, key, mask_dst(), vec![])),
        DpifOp::Get(FlowGet {
            flow: FlowRef::Key(Box::new(key)),
            pmd_id: PMD_ID_NULL,
        }),
        DpifOp::Put(flow_put(
            PutFlags {
                modify: true,
                zero_stats: true,
                ..PutFlags::default()
            },
            key,
            mask_dst(),
            vec![OdpAction::Output(2)],
        )),
        DpifOp::Execute(Execute {
            packet: vec![0; 10],
            flow: key,
            actions: actions(vec![]),
            probe: false,
        }),
        DpifOp::Del(FlowDel {
            flow: FlowRef::Key(Box::new(key)),
            pmd_id: PMD_ID_NULL,
        }),
        DpifOp::Del(FlowDel {
            flow: FlowRef::Key(Box::new(key)),
            pmd_id: PMD_ID_NULL,
        }),
    ];
    let r = fx.dp.operate(ops);
    assert_eq!(r.len(), 6);
    assert_eq!(r[0].error, Some(DpifError::Exists));
    assert_eq!(r[1].error, None);
    assert_eq!(r[1].stats.n_packets, 2);
    assert!(r[1].flow.is_some());
    assert_eq!(
        (r[2].error.clone(), r[2].stats),
        (Some(DpifError::NotSupported), FlowStats::default())
    );
    assert!(matches!(r[3].error, Some(DpifError::Invalid(_))));
    assert_eq!((r[4].error.clone(), r[4].stats.n_packets), (None, 2));
    assert_eq!(
        (r[5].error.clone(), r[5].stats),
        (Some(DpifError::NotFound), FlowStats::default())
    );
    let _ = &mut fx;
}

#[test]
fn execute_sends_and_checks_length_and_probes() {
    let fx = fixture(2);
    let frame = udp_frame(5, 10);
    let exec = |packet: Vec<u8>, probe| Execute {
        packet,
        flow: key_of(&frame, 1),
        actions: actions(vec![OdpAction::Output(2)]),
        probe,
    };
    assert!(fx.dp.execute(exec(frame.clone(), false)).is_ok());
    assert_eq!(fx.sent(2), vec![frame.clone()]);
    assert!(fx.dp.execute(exec(frame.clone(), true)).is_ok());
    assert!(fx.sent(2).is_empty(), "a probe sends nothing");
    assert!(matches!(
        fx.dp.execute(exec(vec![0; 13], false)),
        Err(DpifError::Invalid(_))
    ));
    assert!(matches!(
        fx.dp.execute(exec(vec![0; 65536], false)),
        Err(DpifError::Invalid(_))
    ));
    assert!(fx.dp.execute(exec(vec![0; 14], false)).is_ok());
    // Executed packets are not counted anywhere.
    assert_eq!(fx.dp.dp_stats().n_hit, 0);
}

#[test]
fn flush_removes_every_flow_and_mask() {
    let fx = fixture(2);
    for d in 0..20 {
        install(&fx.dp, &udp_frame(d, 0), 1 + u32::from(d % 2), vec![]);
    }
    let mut m = mask_dst();
    m.masks.nw_src = u32::MAX;
    fx.dp
        .flow_put(flow_put(
            PutFlags::CREATE,
            key_of(&udp_frame(99, 0), 1),
            m,
            vec![],
        ))
        .expect("second mask");
    let s = fx.dp.dp_stats();
    assert_eq!((s.n_flows, s.n_masks), (21, 3));
    fx.dp.flow_flush();
    let s = fx.dp.dp_stats();
    assert_eq!((s.n_flows, s.n_masks), (0, 0));
    let mut out = Vec::new();
    assert_eq!(fx.dp.flow_dump(false).thread().next(&mut out, 50), 0);
}

#[test]
fn statistics_ids_are_reused_after_delete() {
    let fx = fixture(1);
    for round in 0..3 {
        for d in 0..100 {
            install(&fx.dp, &udp_frame(d, 0), 1, vec![]);
        }
        fx.dp.flow_flush();
        assert_eq!(fx.dp.dp_stats().n_flows, 0, "round {round}");
    }
    // 100 flows at a time never need more than the first two rows of ids (64 + 128).
    assert!(fx.dp.shared.stats.capacity() <= 192);
}

/// A flow's owner is handed back by terse visits, dropped with the flow, and dropped by
/// `flow_owners_clear` while the flow stays.
#[test]
fn owners_come_back_with_dumps_and_are_released() {
    use crate::dpif::{FlowOwner, TerseFlow};
    use std::sync::Arc;
    let fx = fixture(2);
    let owned: Arc<String> = Arc::new("owner".into());
    let put = |src: u8, owner: Option<FlowOwner>| FlowPut {
        owner,
        ufid: Some(Ufid {
            parts: [u32::from(src), 2, 3, 4],
        }),
        ..flow_put(
            PutFlags::CREATE,
            key_of(&udp_frame(u16::from(src), 10), 1),
            mask_dst(),
            vec![OdpAction::Output(2)],
        )
    };
    fx.dp
        .flow_put(put(5, Some(FlowOwner(owned.clone()))))
        .expect("put");
    fx.dp.flow_put(put(6, None)).expect("put");
    assert_eq!(Arc::strong_count(&owned), 2, "the datapath holds the owner");
    let visit_all = || {
        let dump = fx.dp.flow_dump(true);
        let mut thread = dump.thread();
        let mut seen: Vec<(u32, Option<String>)> = Vec::new();
        while thread.next_terse_visit(50, &mut |flows: &[TerseFlow], owners| {
            for (f, o) in flows.iter().zip(owners) {
                let name = o.and_then(|o| o.0.downcast_ref::<String>()).cloned();
                seen.push((f.ufid.parts[0], name));
            }
        }) > 0
        {}
        seen.sort();
        seen
    };
    assert_eq!(visit_all(), vec![(5, Some("owner".into())), (6, None)]);
    fx.dp.flow_owners_clear();
    assert_eq!(Arc::strong_count(&owned), 1, "released, flows kept");
    assert_eq!(visit_all(), vec![(5, None), (6, None)]);
    fx.dp
        .flow_put(put(7, Some(FlowOwner(owned.clone()))))
        .expect("put");
    del(
        &fx.dp,
        FlowRef::Ufid(Ufid {
            parts: [7, 2, 3, 4],
        }),
    )
    .expect("del");
    assert_eq!(Arc::strong_count(&owned), 1, "released with its flow");
}

#[test]
fn flows_put_with_one_actions_allocation_keep_them_apart_on_modify() {
    let fx = fixture(3);
    let shared = actions(vec![OdpAction::Output(2)]);
    let (k1, k2) = (key_of(&udp_frame(5, 10), 1), key_of(&udp_frame(6, 10), 1));
    for key in [k1, k2] {
        let mut put = flow_put(PutFlags::CREATE, key, mask_dst(), vec![]);
        put.actions = Arc::clone(&shared);
        fx.dp.flow_put(put).expect("create");
    }
    let actions_of = |key: Flow| {
        get(&fx.dp, FlowRef::Key(Box::new(key)))
            .expect("get")
            .actions
            .expect("actions")
    };
    assert!(Arc::ptr_eq(&actions_of(k1), &shared));
    assert!(Arc::ptr_eq(&actions_of(k2), &shared));
    // Modifying one flow leaves the other's actions alone.
    fx.dp
        .flow_put(flow_put(
            PutFlags::MODIFY,
            k1,
            mask_dst(),
            vec![OdpAction::Output(3)],
        ))
        .expect("modify");
    assert_eq!(actions_of(k1)[..], [OdpAction::Output(3)]);
    assert!(Arc::ptr_eq(&actions_of(k2), &shared));
}

/// Terse dumps read UFID and statistics id from the slots, not from the records: they must
/// report exactly what a full dump reports, also for flows whose slot (and statistics index) was
/// used by a deleted flow before.
#[test]
fn terse_dumps_report_what_full_dumps_report() {
    use crate::dpif::TerseFlow;
    let fx = fixture(2);
    let mut pmd = fx.dp.forwarding_thread(0).expect("pmd");
    let mut send = |d: u16, n: usize, now: u64| {
        let frames = vec![udp_frame(d, 10); n];
        pmd.process_batch(1, &mut batch(&frames), now);
    };
    for d in 0..40 {
        install(&fx.dp, &udp_frame(d, 10), 1, vec![OdpAction::Output(2)]);
        send(d, usize::from(d % 3), 1000 + u64::from(d));
    }
    // Free some indices, then reuse them for new flows with their own traffic.
    for d in (0..40).step_by(4) {
        del(&fx.dp, FlowRef::Key(Box::new(key_of(&udp_frame(d, 10), 1)))).expect("del");
    }
    for d in 100..105 {
        install(&fx.dp, &udp_frame(d, 10), 1, vec![OdpAction::Output(2)]);
        send(d, 2, 2000);
    }
    let full: Vec<(Ufid, FlowStats)> = {
        let dump = fx.dp.flow_dump(false);
        let mut thread = dump.thread();
        let mut out = Vec::new();
        while thread.next(&mut out, 50) > 0 {}
        out.into_iter().map(|f| (f.ufid, f.stats)).collect()
    };
    assert_eq!(full.len(), 35);
    assert!(full.iter().any(|(_, s)| s.n_packets == 2 && s.used == 2000));
    let terse: Vec<(Ufid, FlowStats)> = {
        let dump = fx.dp.flow_dump(true);
        let mut thread = dump.thread();
        let mut out = Vec::new();
        while thread.next_terse(&mut out, 50) > 0 {}
        out.into_iter().map(|f| (f.ufid, f.stats)).collect()
    };
    let visited: Vec<(Ufid, FlowStats)> = {
        let dump = fx.dp.flow_dump(true);
        let mut thread = dump.thread();
        let mut out = Vec::new();
        while thread.next_terse_visit(50, &mut |flows: &[TerseFlow], _| {
            out.extend(flows.iter().map(|f| (f.ufid, f.stats)));
        }) > 0
        {}
        out
    };
    assert_eq!(terse, full);
    assert_eq!(visited, full);
}

#[test]
fn flow_add_and_del_counters_count_each_flow_once() {
    let fx = fixture(2);
    let added = |dp: &Datapath| coverage_total(dp, "datapath_flow_add");
    let removed = |dp: &Datapath| coverage_total(dp, "datapath_flow_del");
    let first = key_of(&udp_frame(5, 10), 1);
    let second = key_of(&udp_frame(6, 10), 1);
    let create = |key| {
        flow_put(
            PutFlags::CREATE,
            key,
            mask_dst(),
            vec![OdpAction::Output(2)],
        )
    };
    assert_eq!(fx.dp.flow_put(create(first)), Ok(FlowStats::default()));
    // A refused create and a modify add nothing.
    assert_eq!(fx.dp.flow_put(create(first)), Err(DpifError::Exists));
    assert!(
        fx.dp
            .flow_put(flow_put(PutFlags::MODIFY, first, mask_dst(), vec![]))
            .is_ok()
    );
    assert_eq!(fx.dp.flow_put(create(second)), Ok(FlowStats::default()));
    assert_eq!((added(&fx.dp), removed(&fx.dp)), (2, 0));
    assert!(del(&fx.dp, FlowRef::Key(Box::new(first))).is_ok());
    // Deleting an absent flow removes nothing.
    assert_eq!(
        del(&fx.dp, FlowRef::Key(Box::new(first))),
        Err(DpifError::NotFound)
    );
    assert_eq!((added(&fx.dp), removed(&fx.dp)), (2, 1));
    fx.dp.flow_flush();
    assert_eq!((added(&fx.dp), removed(&fx.dp)), (2, 2));
    assert_eq!(fx.dp.dp_stats().n_flows, 0);
}
