//! The VLAN decisions of the NORMAL action as pure functions: which input VIDs a port admits,
//! which VLAN a packet belongs to inside the bridge, which ports a VLAN reaches, and which
//! 802.1Q headers a packet carries when it leaves a port. Behaviour follows
//! `ofproto-dpif-xlate.c` (OVS 3.1): `input_vid_is_valid`, `xvlan_extract`,
//! `xvlan_input_translate`, `xbundle_includes_vlan`, `xvlan_output_translate`, `xvlan_put` and
//! the priority-tag handling of `output_normal`.
//!
//! # Invariants
//! * An [`XVlan`] holds at most two headers, outermost first; a header with `tpid == 0` and
//!   `vid == 0` and `pcp == 0` is "none". `pcp` keeps its TCI position (bits 13..15), as in OVS.
//! * Nothing here touches wildcards; [`unwildcard_for_normal`] and [`unwildcard_for_output`]
//!   state the bits OVS un-wildcards for these decisions, and each function documents the flow
//!   bits it reads.

use super::port::{PortVlan, PriorityTags, VlanMode};
use rvs_flow::flow::{
    ETH_TYPE_VLAN_8021AD, ETH_TYPE_VLAN_8021Q, Flow, VLAN_CFI, VLAN_PCP_MASK, VLAN_VID_MASK,
    VlanHeader, Wildcards,
};
use std::fmt;

/// One VLAN header during NORMAL processing (OVS's `struct xvlan_single`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct XVlanHeader {
    /// TPID, 0 when the header was not present (a default 0x8100 is used when it gets emitted).
    pub tpid: u16,
    /// VLAN ID (12 bits).
    pub vid: u16,
    /// Priority bits, in TCI position (`tci & VLAN_PCP_MASK`).
    pub pcp: u16,
}

/// The VLAN stack of a packet during NORMAL processing, outermost first (OVS's `struct xvlan`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct XVlan(pub [XVlanHeader; 2]);

/// Whether `ethertype` is a VLAN TPID that OVS parses (802.1Q or 802.1ad).
pub fn is_vlan_ethertype(ethertype: u16) -> bool {
    ethertype == ETH_TYPE_VLAN_8021Q || ethertype == ETH_TYPE_VLAN_8021AD
}

impl XVlan {
    /// The VLAN headers of `flow`: each leading header whose TPID is a VLAN TPID and whose TCI
    /// has the CFI ("present") bit, stopping at the first that is not.
    ///
    /// Reads `flow.vlans[*]` (TPID and TCI).
    pub fn extract(flow: &Flow) -> XVlan {
        let mut out = XVlan::default();
        for (slot, hdr) in out.0.iter_mut().zip(flow.vlans.iter()) {
            if !is_vlan_ethertype(hdr.tpid) || hdr.tci & VLAN_CFI == 0 {
                break;
            }
            *slot = XVlanHeader {
                tpid: hdr.tpid,
                vid: hdr.tci & VLAN_VID_MASK,
                pcp: hdr.tci & VLAN_PCP_MASK,
            };
        }
        out
    }

    /// The VLAN the packet is in: the outer VID (what MAC learning keys on).
    pub fn vlan(&self) -> u16 {
        self.0[0].vid
    }

    fn pop(&mut self) {
        self.0 = [self.0[1], XVlanHeader::default()];
    }

    fn push(&mut self, outer: XVlanHeader) {
        self.0 = [outer, self.0[0]];
    }
}

/// Whether NORMAL drops `flow` as malformed: its Ethertype is a VLAN TPID (the tag was cut
/// short) but the outer TCI lacks the CFI bit. OVS logs "dropping packet with partial VLAN tag
/// received on port NAME" and traces "partial VLAN tag, dropping".
///
/// Reads `dl_type` (always exact in a translation) and the CFI bit of `vlans[0].tci` (made exact
/// by [`unwildcard_for_normal`]).
pub fn has_partial_vlan_tag(flow: &Flow) -> bool {
    is_vlan_ethertype(flow.dl_type) && flow.vlans[0].tci & VLAN_CFI == 0
}

/// Why a port refuses a packet's input VID.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VlanRefusal {
    /// A packet tagged with `vid` (≠ 0) arrived on an access port of `access_vlan`.
    TaggedOnAccessPort {
        /// The packet's VID.
        vid: u16,
        /// The port's access VLAN.
        access_vlan: u16,
    },
    /// A trunk or native port does not trunk `vid`.
    NotTrunked {
        /// The packet's VID.
        vid: u16,
    },
    /// A dot1q-tunnel port's `cvlans` exclude `vid`.
    CvlanExcluded {
        /// The packet's VID (0 for untagged).
        vid: u16,
    },
}

impl VlanRefusal {
    /// The error OVS logs (rate-limited) and traces for this refusal on port `port_name`.
    pub fn message(&self, port_name: &str) -> String {
        match *self {
            VlanRefusal::TaggedOnAccessPort { vid, access_vlan } => format!(
                "dropping VLAN {vid} tagged packet received on port {port_name} configured as \
                 VLAN {access_vlan} access port"
            ),
            VlanRefusal::NotTrunked { vid } => format!(
                "dropping VLAN {vid} packet received on port {port_name} not configured for \
                 trunking VLAN {vid}"
            ),
            VlanRefusal::CvlanExcluded { vid } => format!(
                "dropping VLAN {vid} packet received on dot1q-tunnel port {port_name} that \
                 excludes this VLAN"
            ),
        }
    }
}

impl fmt::Display for VlanRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message("?"))
    }
}

/// The trace line OVS prints after a [`VlanRefusal`].
pub const VLAN_REFUSAL_TRACE: &str = "disallowed VLAN VID for this input port, dropping";

/// Whether `port` admits a packet whose outer 802.1Q VID is `vid` (0 when untagged or
/// priority-tagged), OVS's `input_vid_is_valid` for a real input port. (OVS admits every VID on
/// its internal "none" bundle; callers handle that case.)
///
/// Reads only the outer VID (exact after [`unwildcard_for_normal`]).
pub fn input_vid_is_valid(port: &PortVlan, vid: u16) -> Result<(), VlanRefusal> {
    match port.mode {
        VlanMode::Access if vid != 0 => Err(VlanRefusal::TaggedOnAccessPort {
            vid,
            access_vlan: port.vlan,
        }),
        VlanMode::Access => Ok(()),
        VlanMode::NativeTagged | VlanMode::NativeUntagged if vid == 0 => Ok(()),
        VlanMode::Trunk | VlanMode::NativeTagged | VlanMode::NativeUntagged => {
            if port.trunks_vlan(vid) {
                Ok(())
            } else {
                Err(VlanRefusal::NotTrunked { vid })
            }
        }
        VlanMode::Dot1qTunnel => {
            if port.allows_cvlan(vid) {
                Ok(())
            } else {
                Err(VlanRefusal::CvlanExcluded { vid })
            }
        }
    }
}

/// The packet's VLAN headers inside the bridge, given the headers it arrived with on `port`
/// (OVS's `xvlan_input_translate`): access ports replace the outer header by their VLAN
/// (keeping the input PCP and TPID), native ports do so for untagged input, trunk ports keep
/// the headers, dot1q-tunnel ports push an outer header (`qinq_ethtype`, PCP 0).
pub fn input_translate(port: &PortVlan, input: &XVlan) -> XVlan {
    let native_header = |hdr: XVlanHeader| XVlanHeader {
        tpid: if hdr.tpid != 0 {
            hdr.tpid
        } else {
            ETH_TYPE_VLAN_8021Q
        },
        vid: port.vlan,
        pcp: hdr.pcp,
    };
    match port.mode {
        VlanMode::Access => XVlan([native_header(input.0[0]), XVlanHeader::default()]),
        VlanMode::Trunk => *input,
        VlanMode::NativeTagged | VlanMode::NativeUntagged => {
            let mut out = *input;
            if input.0[0].vid == 0 {
                out.0[0] = native_header(input.0[0]);
            }
            out
        }
        VlanMode::Dot1qTunnel => {
            let mut out = *input;
            out.push(XVlanHeader {
                tpid: port.qinq_ethtype,
                vid: port.vlan,
                pcp: 0,
            });
            out
        }
    }
}

/// The VLAN a packet with outer input VID `vid` belongs to on `port` (the old
/// `input_vid_to_vlan`): the access VLAN, the native VLAN for untagged input on native ports,
/// the dot1q-tunnel outer VLAN, else `vid` itself.
pub fn input_vlan(port: &PortVlan, vid: u16) -> u16 {
    let input = XVlan([
        XVlanHeader {
            tpid: 0,
            vid,
            pcp: 0,
        },
        XVlanHeader::default(),
    ]);
    input_translate(port, &input).vlan()
}

/// Whether a packet with internal headers `xvlan` may leave through `port` (OVS's
/// `xbundle_includes_vlan`): the flooding and learned-port filter.
pub fn port_includes_vlan(port: &PortVlan, xvlan: &XVlan) -> bool {
    let [outer, inner] = xvlan.0;
    match port.mode {
        VlanMode::Access => outer.vid == port.vlan && inner.vid == 0,
        VlanMode::Trunk | VlanMode::NativeTagged | VlanMode::NativeUntagged => {
            port.trunks_vlan(outer.vid)
        }
        VlanMode::Dot1qTunnel => outer.vid == port.vlan && port.allows_cvlan(inner.vid),
    }
}

/// The headers a packet with internal headers `xvlan` should carry out of `port`, before the
/// priority-tag rule (OVS's `xvlan_output_translate`): none on access ports, unchanged on trunk
/// and native-tagged ports, outer header removed on native-untagged ports when it is the native
/// VLAN and always on dot1q-tunnel ports.
pub fn output_translate(port: &PortVlan, xvlan: &XVlan) -> XVlan {
    match port.mode {
        VlanMode::Access => XVlan::default(),
        VlanMode::Trunk | VlanMode::NativeTagged => *xvlan,
        VlanMode::NativeUntagged => {
            let mut out = *xvlan;
            if xvlan.0[0].vid == port.vlan {
                out.pop();
            }
            out
        }
        VlanMode::Dot1qTunnel => {
            let mut out = *xvlan;
            out.pop();
            out
        }
    }
}

/// The `vlans` a flow must hold when NORMAL outputs it to `port` (what OVS's `output_normal`
/// puts into the flow before composing the output; the datapath `pop_vlan`/`push_vlan` actions
/// then come from comparing these with the headers already committed).
///
/// `flow_vlans` are the flow's current headers; with priority tags enabled the outer PCP is
/// taken from `flow_vlans[0].tci` (OVS reads it without un-wildcarding it; the commit step
/// un-wildcards the headers it pops). A header is emitted when its VID or PCP is non-zero, or,
/// for [`PriorityTags::Always`], when it has a TPID; an emitted header with no TPID gets 0x8100.
/// Absent headers come out as all-zero (`tpid` 0, `tci` 0).
pub fn output_flow_vlans(
    port: &PortVlan,
    xvlan: &XVlan,
    flow_vlans: &[VlanHeader; 2],
) -> [VlanHeader; 2] {
    let mut out = output_translate(port, xvlan);
    if port.priority_tags != PriorityTags::Never {
        out.0[0].pcp = flow_vlans[0].tci & VLAN_PCP_MASK;
    }
    let mut result = [VlanHeader::default(); 2];
    for (dst, hdr) in result.iter_mut().zip(out.0.iter()) {
        let tci = hdr.vid | (hdr.pcp & VLAN_PCP_MASK);
        if tci != 0 || (port.priority_tags == PriorityTags::Always && hdr.tpid != 0) {
            *dst = VlanHeader {
                tpid: if hdr.tpid != 0 {
                    hdr.tpid
                } else {
                    ETH_TYPE_VLAN_8021Q
                },
                tci: tci | VLAN_CFI,
            };
        }
    }
    result
}

/// What leaving through a port does to the outer 802.1Q header, relative to how the packet
/// arrived: a summary of [`output_flow_vlans`] for traces and tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OuterTagEdit {
    /// The headers are unchanged.
    Keep,
    /// The outer header is removed (`pop_vlan`), and nothing replaces it.
    Strip,
    /// A header is added in front of the existing ones (`push_vlan`).
    Push(VlanHeader),
    /// The outer header is replaced (`pop_vlan` then `push_vlan`).
    Replace(VlanHeader),
    /// Any other change of a two-header stack.
    Other,
}

/// Classifies the change from `input` to `output` headers (both as in a flow).
pub fn outer_tag_edit(input: &[VlanHeader; 2], output: &[VlanHeader; 2]) -> OuterTagEdit {
    let present = |h: &VlanHeader| h.tci & VLAN_CFI != 0;
    let n_in = input.iter().take_while(|h| present(h)).count();
    let n_out = output.iter().take_while(|h| present(h)).count();
    if input[..n_in] == output[..n_out] {
        OuterTagEdit::Keep
    } else if n_in == n_out + 1 && input[1..n_in] == output[..n_out] {
        OuterTagEdit::Strip
    } else if n_out == n_in + 1 && output[1..n_out] == input[..n_in] {
        OuterTagEdit::Push(output[0])
    } else if n_in == n_out && n_in >= 1 && input[1..n_in] == output[1..n_out] {
        OuterTagEdit::Replace(output[0])
    } else {
        OuterTagEdit::Other
    }
}

/// Un-wildcards what NORMAL always reads (OVS's `xlate_normal` prologue): all of `dl_src` and
/// `dl_dst`, and the VID and CFI bits of the outer TCI (not the PCP).
pub fn unwildcard_for_normal(wc: &mut Wildcards) {
    wc.masks.dl_src = [0xff; 6];
    wc.masks.dl_dst = [0xff; 6];
    wc.masks.vlans[0].tci |= VLAN_VID_MASK | VLAN_CFI;
}

/// Un-wildcards what outputting to `port` reads beyond [`unwildcard_for_normal`] (OVS's
/// `check_and_set_cvlan_mask`): the whole inner TCI for dot1q-tunnel ports with a `cvlans` list.
pub fn unwildcard_for_output(port: &PortVlan, wc: &mut Wildcards) {
    if port.mode == VlanMode::Dot1qTunnel && port.cvlans.is_some() {
        wc.masks.vlans[1].tci = 0xffff;
    }
}
