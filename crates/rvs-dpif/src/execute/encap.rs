//! Header pushes and pops: 802.1Q/802.1ad tags and MPLS label stack entries.
//!
//! # Invariants
//! * A push or pop either happens completely or leaves the frame untouched (too short, or no such
//!   header): the functions return whether they changed the frame where the caller counts that.
//! * Tags are inserted right after the two MAC addresses (outermost position), MPLS entries at the
//!   start of the label stack (or where L3 begins, for a packet that is not MPLS yet), as OVS does.

use rvs_flow::flow::{ETH_TYPE_VLAN_8021AD, ETH_TYPE_VLAN_8021Q, VLAN_CFI};
use rvs_netdev::Packet;

use super::Headers;
use super::csum::{get16, put16, put32};

/// Size of a VLAN tag and of an MPLS label stack entry.
const TAG_LEN: usize = 4;
/// Offset of the Ethertype (or outer TPID) of an Ethernet frame.
const ETH_TYPE_OFFSET: usize = 12;

fn is_vlan_tpid(t: u16) -> bool {
    t == ETH_TYPE_VLAN_8021Q || t == ETH_TYPE_VLAN_8021AD
}

/// Inserts 4 zero bytes at frame offset `at` (which must be ≤ the frame length).
fn insert_gap(packet: &mut Packet, at: usize) {
    packet.push_front(TAG_LEN);
    packet.data_mut().copy_within(TAG_LEN..TAG_LEN + at, 0);
}

/// Removes the 4 bytes at frame offset `at` (which must leave them inside the frame).
fn remove_gap(packet: &mut Packet, at: usize) {
    packet.data_mut().copy_within(0..at, TAG_LEN);
    packet.pull_front(TAG_LEN);
}

/// Pushes an outermost VLAN tag; the "present" bit (CFI position) of `tci` is not sent.
pub(super) fn push_vlan(packet: &mut Packet, tpid: u16, tci: u16) -> bool {
    if packet.len() < ETH_TYPE_OFFSET {
        return false;
    }
    insert_gap(packet, ETH_TYPE_OFFSET);
    let d = packet.data_mut();
    put16(d, ETH_TYPE_OFFSET, tpid) && put16(d, ETH_TYPE_OFFSET + 2, tci & !VLAN_CFI)
}

/// Pops the outermost VLAN tag, if the frame has one.
pub(super) fn pop_vlan(packet: &mut Packet) -> bool {
    let tagged = get16(packet.data(), ETH_TYPE_OFFSET).is_some_and(is_vlan_tpid);
    if !tagged || packet.len() < ETH_TYPE_OFFSET + TAG_LEN + 2 {
        return false;
    }
    remove_gap(packet, ETH_TYPE_OFFSET);
    true
}

/// Sets the first Ethertype after the VLAN tags (OVS's `set_ethertype`); false if the frame ends
/// before it.
fn set_ethertype(d: &mut [u8], ethertype: u16) -> bool {
    let mut off = ETH_TYPE_OFFSET;
    while let Some(t) = get16(d, off) {
        if !is_vlan_tpid(t) {
            return put16(d, off, ethertype);
        }
        off += TAG_LEN;
    }
    false
}

/// Pushes an MPLS label stack entry and sets the Ethertype to `ethertype`.
pub(super) fn push_mpls(
    packet: &mut Packet,
    headers: Option<&Headers>,
    lse: u32,
    ethertype: u16,
) -> bool {
    let Some(h) = headers else { return false };
    let Some(at) = h.layout.mpls_offset.or(h.layout.l3_offset).map(usize::from) else {
        return false;
    };
    if at > packet.len() || at < ETH_TYPE_OFFSET + 2 {
        return false;
    }
    insert_gap(packet, at);
    let d = packet.data_mut();
    put32(d, at, lse) && set_ethertype(d, ethertype)
}

/// Pops the top MPLS label stack entry and sets the Ethertype to `ethertype`, if the frame is MPLS.
pub(super) fn pop_mpls(packet: &mut Packet, headers: Option<&Headers>, ethertype: u16) -> bool {
    let Some(at) = headers.and_then(|h| h.layout.mpls_offset).map(usize::from) else {
        return false;
    };
    if packet.len() < at + TAG_LEN || !set_ethertype(packet.data_mut(), ethertype) {
        return false;
    }
    remove_gap(packet, at);
    true
}
