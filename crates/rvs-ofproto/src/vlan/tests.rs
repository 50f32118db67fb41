//! VLAN truth tables. Every expected value in `oracle_*` tests comes from `ofproto/trace` on
//! Open vSwitch 3.1 (`tools/ovs-oracle.sh`, bridge br0, `actions=NORMAL` by default, broadcast
//! destination so that NORMAL floods); the raw "Datapath actions" line is quoted above each case
//! and the expected headers per output port are read off it.

use super::*;
use rvs_flow::flow::{Flow, VLAN_CFI, VlanHeader, Wildcards};

const LOCAL: u16 = 100;

/// A bridge as in the oracle: LOCAL (dp port 100, trunk of all VLANs) and ports 1..=4.
struct Bridge {
    ports: Vec<(u16, PortVlan)>,
}

impl Bridge {
    fn new(p1: PortVlan, p2: PortVlan, p3: PortVlan, p4: PortVlan) -> Bridge {
        Bridge {
            ports: vec![
                (LOCAL, PortVlan::default()),
                (1, p1),
                (2, p2),
                (3, p3),
                (4, p4),
            ],
        }
    }

    /// NORMAL's flood skeleton: validate the input VID, translate, and for every other port that
    /// includes the VLAN, the headers the packet leaves with. Output `port:headers` per port in
    /// bridge order, headers as `tpid/tci` joined by `+`, `-` when untagged.
    fn flood(&self, in_port: u16, vlans: [VlanHeader; 2]) -> Result<String, VlanRefusal> {
        let flow = Flow {
            vlans,
            dl_type: 0x0800,
            ..Flow::default()
        };
        let (_, in_cfg) = self
            .ports
            .iter()
            .find(|(p, _)| *p == in_port)
            .expect("in port");
        let input = XVlan::extract(&flow);
        input_vid_is_valid(in_cfg, input.vlan())?;
        let xvlan = input_translate(in_cfg, &input);
        let mut out = Vec::new();
        for (port, cfg) in &self.ports {
            if *port == in_port || !port_includes_vlan(cfg, &xvlan) {
                continue;
            }
            let hdrs = output_flow_vlans(cfg, &xvlan, &flow.vlans);
            out.push(format!("{port}:{}", fmt_headers(&hdrs)));
        }
        Ok(out.join(" "))
    }
}

fn fmt_headers(hdrs: &[VlanHeader; 2]) -> String {
    let present: Vec<String> = hdrs
        .iter()
        .take_while(|h| h.tci & VLAN_CFI != 0)
        .map(|h| format!("{:x}/{:#06x}", h.tpid, h.tci))
        .collect();
    if present.is_empty() {
        "-".to_string()
    } else {
        present.join("+")
    }
}

fn tag(tci: u16) -> [VlanHeader; 2] {
    [VlanHeader { tpid: 0x8100, tci }, VlanHeader::default()]
}

const UNTAGGED: [VlanHeader; 2] = [VlanHeader { tpid: 0, tci: 0 }; 2];

/// p1 `tag=10`; p2 `vlan_mode=trunk`; p3 `vlan_mode=native-untagged tag=10 trunks=10,20`;
/// p4 `vlan_mode=native-tagged tag=20`.
fn bridge_a() -> Bridge {
    Bridge::new(
        PortVlan::from_settings(&PortVlanSettings {
            tag: Some(10),
            ..Default::default()
        }),
        PortVlan::trunk(None),
        PortVlan::native(10, Some(&[10, 20]), true),
        PortVlan::native(20, None, false),
    )
}

#[test]
fn oracle_access_port_input() {
    let br = bridge_a();
    // in_port=1 untagged: push_vlan(vid=10,pcp=0),100,2,pop_vlan,3,push_vlan(vid=10,pcp=0),4
    assert_eq!(
        br.flood(1, UNTAGGED).as_deref(),
        Ok("100:8100/0x100a 2:8100/0x100a 3:- 4:8100/0x100a")
    );
    // in_port=1,vlan_tci=0x100a: ">>>> dropping VLAN 10 tagged packet received on port p1
    // configured as VLAN 10 access port <<<<", "Datapath actions: drop"
    let err = br.flood(1, tag(0x100a)).expect_err("dropped");
    assert_eq!(
        err.message("p1"),
        "dropping VLAN 10 tagged packet received on port p1 configured as VLAN 10 access port"
    );
    // in_port=1,vlan_tci=0xb000 (priority tag, PCP 5):
    // pop_vlan,push_vlan(vid=10,pcp=5),100,2,pop_vlan,3,push_vlan(vid=10,pcp=5),4
    assert_eq!(
        br.flood(1, tag(0xb000)).as_deref(),
        Ok("100:8100/0xb00a 2:8100/0xb00a 3:- 4:8100/0xb00a")
    );
}

#[test]
fn oracle_trunk_port_input() {
    let br = bridge_a();
    // in_port=2,vlan_tci=0x1014: 100,3,4
    assert_eq!(
        br.flood(2, tag(0x1014)).as_deref(),
        Ok("100:8100/0x1014 3:8100/0x1014 4:8100/0x1014")
    );
    // in_port=2 untagged: 100 (p3's explicit trunks and p4's fixed-up trunks exclude VLAN 0)
    assert_eq!(br.flood(2, UNTAGGED).as_deref(), Ok("100:-"));
    // in_port=2,vlan_tci=0x100a: 100,pop_vlan,1,3,push_vlan(vid=10,pcp=0),4
    assert_eq!(
        br.flood(2, tag(0x100a)).as_deref(),
        Ok("100:8100/0x100a 1:- 3:- 4:8100/0x100a")
    );
}

#[test]
fn oracle_native_port_input() {
    let br = bridge_a();
    // in_port=3 untagged: push_vlan(vid=10,pcp=0),100,pop_vlan,1,push_vlan(vid=10,pcp=0),2,4
    assert_eq!(
        br.flood(3, UNTAGGED).as_deref(),
        Ok("100:8100/0x100a 1:- 2:8100/0x100a 4:8100/0x100a")
    );
    // in_port=3,vlan_tci=0x101e: ">>>> dropping VLAN 30 packet received on port p3 not configured
    // for trunking VLAN 30 <<<<"
    let err = br.flood(3, tag(0x101e)).expect_err("dropped");
    assert_eq!(
        err.message("p3"),
        "dropping VLAN 30 packet received on port p3 not configured for trunking VLAN 30"
    );
    // in_port=4,vlan_tci=0x3000 (priority tag, PCP 1): pop_vlan,push_vlan(vid=20,pcp=1),100,2,3
    assert_eq!(
        br.flood(4, tag(0x3000)).as_deref(),
        Ok("100:8100/0x3014 2:8100/0x3014 3:8100/0x3014")
    );
    // in_port=4 untagged: push_vlan(vid=20,pcp=0),100,2,3
    assert_eq!(
        br.flood(4, UNTAGGED).as_deref(),
        Ok("100:8100/0x1014 2:8100/0x1014 3:8100/0x1014")
    );
}

#[test]
fn oracle_priority_tags() {
    let mut br = bridge_a();
    // in_port=LOCAL,vlan_tci=0x1000 with p2 priority-tags unset: pop_vlan,2
    assert_eq!(br.flood(LOCAL, tag(0x1000)).as_deref(), Ok("2:-"));
    // ... and with p2 other_config:priority-tags=always: 2
    br.ports[2].1.priority_tags = PriorityTags::Always;
    assert_eq!(br.flood(LOCAL, tag(0x1000)).as_deref(), Ok("2:8100/0x1000"));

    // p1 priority-tags=if-nonzero, p3 priority-tags=always (p2 still always).
    br.ports[1].1.priority_tags = PriorityTags::from_config(Some("if-nonzero"));
    br.ports[3].1.priority_tags = PriorityTags::from_config(Some("always"));
    // in_port=2,vlan_tci=0x700a:
    // 100,pop_vlan,push_vlan(vid=0,pcp=3),1,3,pop_vlan,push_vlan(vid=10,pcp=3),4
    assert_eq!(
        br.flood(2, tag(0x700a)).as_deref(),
        Ok("100:8100/0x700a 1:8100/0x7000 3:8100/0x7000 4:8100/0x700a")
    );
    // in_port=2,vlan_tci=0x100a: 100,pop_vlan,1,3,push_vlan(vid=10,pcp=0),4
    assert_eq!(
        br.flood(2, tag(0x100a)).as_deref(),
        Ok("100:8100/0x100a 1:- 3:- 4:8100/0x100a")
    );
    // p1 priority-tags=always: same actions for 0x100a ("always" adds no tag on access ports).
    br.ports[1].1.priority_tags = PriorityTags::Always;
    assert_eq!(
        br.flood(2, tag(0x100a)).as_deref(),
        Ok("100:8100/0x100a 1:- 3:- 4:8100/0x100a")
    );
}

/// p1 `vlan_mode=trunk trunks=100`, p2 trunk, p3 as in bridge A, p4 `vlan_mode=dot1q-tunnel
/// tag=100 cvlans=10,20`; `Open_vSwitch other_config:vlan-limit=2`; traced with datapath flow
/// syntax.
#[test]
fn oracle_dot1q_tunnel() {
    let br = Bridge::new(
        PortVlan::trunk(Some(&[100])),
        PortVlan::trunk(None),
        PortVlan::native(10, Some(&[10, 20]), true),
        PortVlan::from_settings(&PortVlanSettings {
            vlan_mode: Some(VlanMode::Dot1qTunnel),
            tag: Some(100),
            cvlans: vec![10, 20],
            ..Default::default()
        }),
    );
    // in_port(4) untagged: ">>>> dropping VLAN 0 packet received on dot1q-tunnel port p4 that
    // excludes this VLAN <<<<"
    let err = br.flood(4, UNTAGGED).expect_err("dropped");
    assert_eq!(
        err.message("p4"),
        "dropping VLAN 0 packet received on dot1q-tunnel port p4 that excludes this VLAN"
    );
    // in_port(4),vlan(vid=10,pcp=2): push_vlan(tpid=0x88a8,vid=100,pcp=0),100,1,2
    assert_eq!(
        br.flood(4, tag(0x500a)).as_deref(),
        Ok("100:88a8/0x1064+8100/0x500a 1:88a8/0x1064+8100/0x500a 2:88a8/0x1064+8100/0x500a")
    );
    // in_port(4),vlan(vid=30): dropped, cvlan 30 excluded.
    assert!(matches!(
        br.flood(4, tag(0x101e)),
        Err(VlanRefusal::CvlanExcluded { vid: 30 })
    ));
    let qinq = |inner: u16| {
        [
            VlanHeader {
                tpid: 0x88a8,
                tci: 0x3064,
            },
            VlanHeader {
                tpid: 0x8100,
                tci: inner,
            },
        ]
    };
    // in_port(2),88a8 vid=100,pcp=1 / 8100 vid=10,pcp=2: 100,1,pop_vlan,4
    assert_eq!(
        br.flood(2, qinq(0x500a)).as_deref(),
        Ok("100:88a8/0x3064+8100/0x500a 1:88a8/0x3064+8100/0x500a 4:8100/0x500a")
    );
    // ... inner vid=30: 100,1
    assert_eq!(
        br.flood(2, qinq(0x101e)).as_deref(),
        Ok("100:88a8/0x3064+8100/0x101e 1:88a8/0x3064+8100/0x101e")
    );
}

/// The mode table of `ovs-vswitchd.conf.db(5)` (Port table, VLAN configuration) for one
/// untagged and one tagged input per mode.
#[test]
fn documented_mode_semantics() {
    let access = PortVlan::access(10);
    let trunk = PortVlan::trunk(Some(&[10, 20]));
    let tagged = PortVlan::native(10, Some(&[20]), false);
    let untagged = PortVlan::native(10, Some(&[20]), true);

    // "Any packet with an 802.1Q header with a nonzero VLAN ID that ingresses on an access port
    // is dropped, regardless of whether the VLAN ID in the header is the access port's VLAN ID."
    assert!(input_vid_is_valid(&access, 10).is_err());
    assert_eq!(input_vlan(&access, 0), 10);
    // "A packet that ingresses on a trunk port is in the VLAN specified in its 802.1Q header, or
    // VLAN 0 if the packet has no 802.1Q header." With an explicit trunks list, VLAN 0 must be
    // listed to be carried.
    assert_eq!(input_vlan(&trunk, 20), 20);
    assert!(input_vid_is_valid(&trunk, 0).is_err());
    assert!(input_vid_is_valid(&PortVlan::trunk(None), 0).is_ok());
    // Native ports: untagged input is in the native VLAN; the native VLAN is always trunked.
    for native in [&tagged, &untagged] {
        assert!(input_vid_is_valid(native, 0).is_ok());
        assert!(
            input_vid_is_valid(native, 10).is_ok(),
            "native VLAN is trunked"
        );
        assert!(input_vid_is_valid(native, 20).is_ok());
        assert!(input_vid_is_valid(native, 30).is_err());
        assert_eq!(input_vlan(native, 0), 10);
        assert_eq!(input_vlan(native, 20), 20);
    }
    // Output: access untagged, trunk and native-tagged keep the tag, native-untagged strips
    // only the native VLAN.
    let in10 = XVlan([
        XVlanHeader {
            tpid: 0x8100,
            vid: 10,
            pcp: 0,
        },
        XVlanHeader::default(),
    ]);
    let in20 = XVlan([
        XVlanHeader {
            tpid: 0x8100,
            vid: 20,
            pcp: 0,
        },
        XVlanHeader::default(),
    ]);
    let outer = |p: &PortVlan, x: &XVlan| output_flow_vlans(p, x, &UNTAGGED)[0];
    assert_eq!(outer(&access, &in10), VlanHeader::default());
    assert_eq!(outer(&trunk, &in10).tci, 0x100a);
    assert_eq!(outer(&tagged, &in10).tci, 0x100a);
    assert_eq!(outer(&untagged, &in10), VlanHeader::default());
    assert_eq!(outer(&untagged, &in20).tci, 0x1014);
    // Which ports a VLAN reaches.
    assert!(port_includes_vlan(&access, &in10) && !port_includes_vlan(&access, &in20));
    assert!(port_includes_vlan(&trunk, &in10) && port_includes_vlan(&trunk, &in20));
    assert!(port_includes_vlan(&untagged, &in10) && port_includes_vlan(&untagged, &in20));
}

#[test]
fn settings_normalization() {
    // Implicit mode: a tag makes an access port and its trunks are ignored (OVS warns).
    let s = PortVlanSettings {
        tag: Some(5),
        trunks: vec![1, 2],
        ..Default::default()
    };
    assert!(s.ignores_trunks());
    let p = PortVlan::from_settings(&s);
    assert_eq!(
        (p.mode, p.vlan, p.trunks.is_none()),
        (VlanMode::Access, 5, true)
    );
    // No tag: trunk; an out-of-range tag counts as unset.
    let p = PortVlan::from_settings(&PortVlanSettings {
        tag: Some(4096),
        ..Default::default()
    });
    assert_eq!((p.mode, p.vlan), (VlanMode::Trunk, 0));
    // Trunk ports ignore the tag.
    let p = PortVlan::from_settings(&PortVlanSettings {
        vlan_mode: Some(VlanMode::Trunk),
        tag: Some(7),
        ..Default::default()
    });
    assert_eq!(p.vlan, 0);
    // Native ports: trunks gain the native VLAN and lose VLAN 0; with no list, all but 0.
    let p = PortVlan::native(10, Some(&[0, 20]), false);
    assert_eq!(
        p.trunks.as_ref().map(|t| t.iter().collect::<Vec<_>>()),
        Some(vec![10, 20])
    );
    let p = PortVlan::native(10, None, true);
    assert_eq!(p.trunks.as_ref().map(VlanSet::len), Some(4095));
    assert!(!p.trunks_vlan(0) && p.trunks_vlan(4095));
    // Native VLAN 0 (no tag): trunks kept as given.
    let p = PortVlan::from_settings(&PortVlanSettings {
        vlan_mode: Some(VlanMode::NativeTagged),
        ..Default::default()
    });
    assert!(p.trunks.is_none());
    // A trunks list with no valid VLAN means all VLANs, as in OVS.
    let p = PortVlan::from_settings(&PortVlanSettings {
        trunks: vec![5000],
        ..Default::default()
    });
    assert!(p.trunks.is_none());
    // qinq-ethtype.
    let mut s = PortVlanSettings {
        vlan_mode: Some(VlanMode::Dot1qTunnel),
        ..Default::default()
    };
    assert_eq!(PortVlan::from_settings(&s).qinq_ethtype, 0x88a8);
    s.qinq_ethtype = Some("802.1q".into());
    assert_eq!(PortVlan::from_settings(&s).qinq_ethtype, 0x8100);
    for mode in [
        "access",
        "trunk",
        "native-tagged",
        "native-untagged",
        "dot1q-tunnel",
    ] {
        assert_eq!(VlanMode::from_name(mode).map(VlanMode::name), Some(mode));
    }
    assert_eq!(VlanMode::from_name("bogus"), None);
}

#[test]
fn extract_stops_at_missing_cfi_or_tpid() {
    let mut flow = Flow {
        vlans: [
            VlanHeader {
                tpid: 0x8100,
                tci: 0x0005,
            },
            VlanHeader {
                tpid: 0x8100,
                tci: 0x1006,
            },
        ],
        ..Flow::default()
    };
    assert_eq!(XVlan::extract(&flow), XVlan::default());
    flow.vlans[0] = VlanHeader {
        tpid: 0x9100,
        tci: 0x1005,
    };
    assert_eq!(
        XVlan::extract(&flow),
        XVlan::default(),
        "0x9100 is not a VLAN TPID for OVS"
    );
    flow.vlans[0] = VlanHeader {
        tpid: 0x88a8,
        tci: 0x3005,
    };
    let x = XVlan::extract(&flow);
    assert_eq!(
        x.0[0],
        XVlanHeader {
            tpid: 0x88a8,
            vid: 5,
            pcp: 0x2000
        }
    );
    assert_eq!(
        x.0[1],
        XVlanHeader {
            tpid: 0x8100,
            vid: 6,
            pcp: 0
        }
    );
    // Partial tag: dl_type is a VLAN TPID but no header was parsed.
    let partial = Flow {
        dl_type: 0x8100,
        ..Flow::default()
    };
    assert!(has_partial_vlan_tag(&partial));
    assert!(!has_partial_vlan_tag(&flow));
}

#[test]
fn outer_tag_edits() {
    let t = |tci| VlanHeader { tpid: 0x8100, tci };
    let none = VlanHeader::default();
    assert_eq!(
        outer_tag_edit(&[t(0x100a), none], &[t(0x100a), none]),
        OuterTagEdit::Keep
    );
    assert_eq!(
        outer_tag_edit(&[t(0x100a), none], &[none, none]),
        OuterTagEdit::Strip
    );
    assert_eq!(
        outer_tag_edit(&[none, none], &[t(0x100a), none]),
        OuterTagEdit::Push(t(0x100a))
    );
    assert_eq!(
        outer_tag_edit(&[t(0x100a), none], &[t(0x1014), none]),
        OuterTagEdit::Replace(t(0x1014))
    );
    assert_eq!(
        outer_tag_edit(&[t(0x1001), t(0x1002)], &[t(0x1003), none]),
        OuterTagEdit::Other
    );
}

/// OVS 3.1: a packet tagged 0x3014 (VID 20, PCP 1) on a trunk port, NORMAL forwarding it with
/// its tag unchanged, gives the megaflow `...,dl_vlan=20,dl_src=...,dl_dst=...` (VID and CFI
/// matched, PCP not). When an output pops the tag, the commit step matches the whole TCI
/// (`dl_vlan=10,dl_vlan_pcp=1`), which is not NORMAL's own doing.
#[test]
fn wildcards_read_by_normal() {
    let mut wc = Wildcards::default();
    unwildcard_for_normal(&mut wc);
    assert_eq!(wc.masks.dl_src, [0xff; 6]);
    assert_eq!(wc.masks.dl_dst, [0xff; 6]);
    assert_eq!(wc.masks.vlans[0].tci, 0x1fff, "VID and CFI, not PCP");
    assert_eq!(wc.masks.vlans[1].tci, 0);
    let tunnel = PortVlan::from_settings(&PortVlanSettings {
        vlan_mode: Some(VlanMode::Dot1qTunnel),
        tag: Some(100),
        cvlans: vec![10],
        ..Default::default()
    });
    unwildcard_for_output(&PortVlan::trunk(None), &mut wc);
    assert_eq!(wc.masks.vlans[1].tci, 0);
    unwildcard_for_output(&tunnel, &mut wc);
    assert_eq!(wc.masks.vlans[1].tci, 0xffff);
}
