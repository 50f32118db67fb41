//! Committing the working flow to datapath actions before an output (`commit_odp_actions` in
//! Open vSwitch's `lib/odp-util.c`): for each key attribute the actions may change (Ethernet,
//! IPv4, IPv6, ARP, TCP/UDP/SCTP ports) the fields that differ from what the datapath already holds are
//! written with a `set`, then VLAN headers are popped and pushed.
//!
//! # Invariants
//! * Only fields whose value changed are written. A `set` is masked (mask = the megaflow
//!   mask of the changed fields) unless that mask covers the whole attribute; an unmasked `set`
//!   writes the whole attribute, so all of its fields become exact in the megaflow.
//! * The value of a masked `set` is zero outside its mask, so packets of one megaflow get
//!   identical actions.
//! * After a commit, `base` equals the working flow on every committed field.

use rvs_flow::flow::{
    ETH_TYPE_ARP, ETH_TYPE_IP, ETH_TYPE_IPV6, ETH_TYPE_RARP, FRAG_LATER, VLAN_CFI, VlanHeader,
    ipproto,
};
use rvs_flow::odp::KeyAttrKind;
use rvs_flow::odp::OdpAction;
use rvs_flow::{Flow, Wildcards};

use super::SLOW_ACTION;

/// Reads and writes one field of a flow (used on values and masks alike).
struct FieldAccess {
    /// Copies the field from the first flow into the second.
    copy: fn(&Flow, &mut Flow),
    /// True if the field is equal in both flows.
    eq: fn(&Flow, &Flow) -> bool,
    /// True if the field is all ones (an exact mask).
    exact: fn(&Flow) -> bool,
}

macro_rules! access {
    ($f:ident, $ones:expr) => {
        FieldAccess {
            copy: |a, b| b.$f = a.$f,
            eq: |a, b| a.$f == b.$f,
            exact: |m| m.$f == $ones,
        }
    };
}

const ETH_FIELDS: &[FieldAccess] = &[access!(dl_src, [0xff; 6]), access!(dl_dst, [0xff; 6])];
const IPV4_FIELDS: &[FieldAccess] = &[
    access!(nw_src, u32::MAX),
    access!(nw_dst, u32::MAX),
    access!(nw_tos, u8::MAX),
    access!(nw_ttl, u8::MAX),
];
const IPV6_FIELDS: &[FieldAccess] = &[
    access!(ipv6_src, [0xff; 16]),
    access!(ipv6_dst, [0xff; 16]),
    access!(ipv6_label, 0x000f_ffff),
    access!(nw_tos, u8::MAX),
    access!(nw_ttl, u8::MAX),
];
const ARP_FIELDS: &[FieldAccess] = &[
    access!(nw_src, u32::MAX),
    access!(nw_dst, u32::MAX),
    access!(nw_proto, u8::MAX),
    access!(arp_sha, [0xff; 6]),
    access!(arp_tha, [0xff; 6]),
];
const PORT_FIELDS: &[FieldAccess] = &[access!(tp_src, u16::MAX), access!(tp_dst, u16::MAX)];

/// Commits the writable fields of one attribute (OVS's `commit()`).
fn commit_attr(
    kind: KeyAttrKind,
    fields: &[FieldAccess],
    flow: &Flow,
    base: &mut Flow,
    wc: &mut Wildcards,
    out: &mut Vec<OdpAction>,
) {
    // Most commits change nothing: decide that before building a 240-byte mask.
    if fields.iter().all(|f| (f.eq)(flow, base)) {
        return;
    }
    let mut mask = Wildcards::catchall();
    for f in fields {
        if !(f.eq)(flow, base) {
            (f.copy)(&wc.masks, &mut mask.masks);
        }
    }
    let fully_masked = fields.iter().all(|f| (f.exact)(&mask.masks));
    let mut value = Flow::default();
    for f in fields {
        (f.copy)(flow, &mut value);
        (f.copy)(flow, base);
    }
    if fully_masked {
        out.push(OdpAction::Set {
            kind,
            value: Box::new(value),
            mask: None,
        });
        return;
    }
    // A partially masked attribute takes a masked set; a masked set with nothing in the mask
    // cannot happen because a changed field was written, which made it exact in `wc`.
    let masked = value.masked(&mask);
    out.push(OdpAction::Set {
        kind,
        value: Box::new(masked),
        mask: Some(Box::new(mask)),
    });
}

/// Number of VLAN headers present (CFI bit set), stopping at the first absent one.
fn vlan_count(vlans: &[VlanHeader; 2]) -> usize {
    vlans.iter().take_while(|v| v.tci & VLAN_CFI != 0).count()
}

/// Pops the base flow's headers that differ and pushes the flow's (`commit_vlan_action`).
fn commit_vlans(flow: &Flow, base: &mut Flow, wc: &mut Wildcards, out: &mut Vec<OdpAction>) {
    let mut base_n = vlan_count(&base.vlans);
    let mut flow_n = vlan_count(&flow.vlans);
    // Skip the innermost headers both stacks share.
    while base_n > 0 && flow_n > 0 && base.vlans[base_n - 1] == flow.vlans[flow_n - 1] {
        base_n -= 1;
        flow_n -= 1;
    }
    for i in (0..base_n).rev() {
        out.push(OdpAction::PopVlan);
        if let Some(m) = wc.masks.vlans.get_mut(i) {
            m.tpid = u16::MAX;
            m.tci = u16::MAX;
        }
    }
    for i in (0..flow_n).rev() {
        if let Some(v) = flow.vlans.get(i) {
            out.push(OdpAction::PushVlan {
                tpid: v.tpid,
                tci: v.tci,
            });
        }
    }
    base.vlans = flow.vlans;
}

/// Commits every difference between `flow` and `base` (`commit_odp_actions`), in OVS's order:
/// Ethernet, IP or ARP, L4 ports, VLANs. Returns the slow-path reasons the new actions need.
#[must_use]
pub(super) fn commit(
    flow: &Flow,
    base: &mut Flow,
    wc: &mut Wildcards,
    out: &mut Vec<OdpAction>,
) -> u32 {
    commit_attr(KeyAttrKind::Eth, ETH_FIELDS, flow, base, wc, out);
    if flow.dl_type == ETH_TYPE_IP && base.dl_type == ETH_TYPE_IP && flow.nw_proto != 0 {
        // The IP protocol is not read here: the set actions that need it exact un-wildcard it
        // themselves (a `move` into `nw_dst` commits `set(ipv4(...))` with `ip` in OVS 3.1).
        commit_attr(KeyAttrKind::Ipv4, IPV4_FIELDS, flow, base, wc, out);
    }
    if flow.dl_type == ETH_TYPE_IPV6 && base.dl_type == ETH_TYPE_IPV6 && flow.nw_proto != 0 {
        commit_attr(KeyAttrKind::Ipv6, IPV6_FIELDS, flow, base, wc, out);
    }
    let mut slow = 0;
    if matches!(base.dl_type, ETH_TYPE_ARP | ETH_TYPE_RARP) && flow.nw_proto != 0 {
        let before = out.len();
        commit_attr(KeyAttrKind::Arp, ARP_FIELDS, flow, base, wc, out);
        if out.len() != before {
            // Datapaths do not rewrite ARP headers: OVS slow-paths such flows.
            slow |= SLOW_ACTION;
        }
    }
    if flow.is_ip_any() && flow.nw_proto != 0 && base.nw_frag & FRAG_LATER == 0 {
        let kind = match base.nw_proto {
            ipproto::TCP => Some(KeyAttrKind::Tcp),
            ipproto::UDP => Some(KeyAttrKind::Udp),
            ipproto::SCTP => Some(KeyAttrKind::Sctp),
            _ => None,
        };
        if let Some(kind) = kind {
            commit_attr(kind, PORT_FIELDS, flow, base, wc, out);
        }
    }
    commit_vlans(flow, base, wc, out);
    slow
}
