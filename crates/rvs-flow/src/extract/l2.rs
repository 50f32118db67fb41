//! Link layer: Ethernet addresses, VLAN tags, the Ethernet II type or 802.3 LLC/SNAP header, and
//! the MPLS label stack.
//!
//! # Invariants
//! On return the cursor is at the first byte after the last link-layer header consumed, which is
//! where [`HeaderLayout::l3_offset`](super::HeaderLayout::l3_offset) points. Open vSwitch's order of
//! checks is kept: tags are consumed only while six bytes (tag plus next type) remain, and a type
//! field is read only once the 14-byte Ethernet header is known to be present.

use zerocopy::network_endian::{U16, U32};

use super::layout::{ExtractStatus, HeaderKind, offset};
use super::wire::{EthAddrs, LlcSnap, VlanTagAndType};
use super::{Parser, Step};
use crate::flow::{
    ETH_TYPE_MIN, ETH_TYPE_NONE, ETH_TYPE_VLAN_8021AD, ETH_TYPE_VLAN_8021Q, MPLS_BOS_MASK,
    VLAN_CFI, VlanHeader,
};

/// Length of an Ethernet header: two addresses and a type or length field.
pub(super) const ETH_HEADER_LEN: usize = 14;

/// LLC DSAP/SSAP value announcing a SNAP header.
const LLC_SAP_SNAP: u8 = 0xaa;
/// LLC control value (unnumbered information) used with SNAP.
const LLC_CONTROL_UI: u8 = 0x03;
/// SNAP organization code whose protocol id is an ethertype.
const SNAP_OUI_ETHERTYPE: [u8; 3] = [0, 0, 0];

/// True for the two TPIDs whose tags the extractor parses.
#[inline]
fn is_vlan_tpid(ethertype: u16) -> bool {
    ethertype == ETH_TYPE_VLAN_8021Q || ethertype == ETH_TYPE_VLAN_8021AD
}

impl Parser<'_, '_> {
    /// Parses the Ethernet header and up to `vlan_limit` tags; returns the ethertype (`dl_type`).
    ///
    /// A frame shorter than 14 bytes stops with `Truncated(Ethernet)` and no L2 field set. A VLAN
    /// TPID followed by fewer than 4 more bytes is kept as the ethertype, as Open vSwitch does, and
    /// stops with `Truncated(Vlan)`.
    #[inline]
    pub(super) fn ethernet(&mut self, vlan_limit: usize) -> Step<u16> {
        if self.cur.remaining() < ETH_HEADER_LEN {
            return Err(ExtractStatus::Truncated(HeaderKind::Ethernet));
        }
        let Some(addrs) = self.cur.pull::<EthAddrs>() else {
            return Err(ExtractStatus::Truncated(HeaderKind::Ethernet));
        };
        self.flow.dl_dst = addrs.dst;
        self.flow.dl_src = addrs.src;

        let mut tag_truncated = false;
        for slot in self.flow.vlans.iter_mut().take(vlan_limit) {
            match self.cur.peek::<VlanTagAndType>() {
                Some(tag) if is_vlan_tpid(tag.tpid.get()) => {
                    *slot = VlanHeader {
                        tpid: tag.tpid.get(),
                        tci: tag.tci.get() | VLAN_CFI,
                    };
                    self.cur.skip(4);
                }
                Some(_) => break,
                None => {
                    tag_truncated = self
                        .cur
                        .peek::<U16>()
                        .is_some_and(|t| is_vlan_tpid(t.get()));
                    break;
                }
            }
        }

        let dl_type = self.ethertype();
        self.flow.dl_type = dl_type;
        if tag_truncated {
            self.layout.l3_offset = offset(self.cur.pos());
            return Err(ExtractStatus::Truncated(HeaderKind::Vlan));
        }
        Ok(dl_type)
    }

    /// Reads the type/length field and, for 802.3 frames, the LLC/SNAP header.
    ///
    /// An 802.3 frame yields the SNAP ethertype when the LLC header announces SNAP with OUI 0 and
    /// that type is a real ethertype; otherwise [`ETH_TYPE_NONE`] with the cursor left right after
    /// the length field (or after the SNAP header if one was recognized).
    #[inline]
    fn ethertype(&mut self) -> u16 {
        // `ethernet` guarantees two bytes here: 14 to start with, and tags are only consumed
        // while 6 remain.
        let Some(type_or_len) = self.cur.pull::<U16>() else {
            return ETH_TYPE_NONE;
        };
        let type_or_len = type_or_len.get();
        if type_or_len >= ETH_TYPE_MIN {
            return type_or_len;
        }
        match self.cur.peek::<LlcSnap>() {
            Some(llc)
                if llc.dsap == LLC_SAP_SNAP
                    && llc.ssap == LLC_SAP_SNAP
                    && llc.control == LLC_CONTROL_UI
                    && llc.oui == SNAP_OUI_ETHERTYPE =>
            {
                self.cur.skip(size_of::<LlcSnap>());
                let snap_type = llc.ethertype.get();
                if snap_type >= ETH_TYPE_MIN {
                    snap_type
                } else {
                    ETH_TYPE_NONE
                }
            }
            _ => ETH_TYPE_NONE,
        }
    }

    /// Parses an MPLS label stack: the top entry goes into the flow, the cursor moves past the
    /// bottom-of-stack entry. Open vSwitch does not look beneath the stack, so neither do we.
    ///
    /// Stops with `Truncated(Mpls)` if the frame ends before an entry with the BoS bit.
    #[inline]
    pub(super) fn mpls(&mut self) -> Step<()> {
        self.layout.mpls_offset = offset(self.cur.pos());
        let mut top = true;
        let mut bottom_found = false;
        while let Some(entry) = self.cur.pull::<U32>() {
            let entry = entry.get();
            if top {
                self.flow.mpls_lse = entry;
                top = false;
            }
            if entry & MPLS_BOS_MASK != 0 {
                bottom_found = true;
                break;
            }
        }
        self.layout.l3_offset = offset(self.cur.pos());
        if bottom_found {
            Ok(())
        } else {
            Err(ExtractStatus::Truncated(HeaderKind::Mpls))
        }
    }
}
