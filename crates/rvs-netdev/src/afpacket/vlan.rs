//! Putting back the VLAN tag that the kernel took out of a received frame.
//!
//! Linux moves the outermost VLAN tag of every received frame into packet metadata before
//! `AF_PACKET` sees it, and reports it in the ring's `tp_vlan_tci`/`tp_vlan_tpid`. The switch must
//! see the frame as it was on the wire, so the tag is re-inserted after the source MAC, following
//! OVS's netdev-linux: a tag is present if the TCI is non-zero or `TP_STATUS_VLAN_VALID` is set;
//! its TPID is the reported one if `TP_STATUS_VLAN_TPID_VALID` is set, else 802.1ad (0x88a8) if the
//! frame still carries an 802.1Q tag (the stripped one was the outer tag of a double-tagged frame),
//! else 802.1Q (0x8100).

use crate::packet::Packet;

const TPID_8021Q: u16 = 0x8100;
const TPID_8021AD: u16 = 0x88a8;
/// Bytes of the destination and source MAC addresses, after which a tag goes.
const MACS_LEN: usize = 12;

/// A VLAN tag as it appears on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct VlanTag {
    /// Tag protocol identifier.
    pub(crate) tpid: u16,
    /// Tag control information (PCP, DEI, VID).
    pub(crate) tci: u16,
}

/// The tag the kernel stripped from `frame`, if any, per the ring's status bits and fields.
pub(crate) fn stripped_tag(status: u32, tci: u16, tpid: u16, frame: &[u8]) -> Option<VlanTag> {
    if tci == 0 && status & libc::TP_STATUS_VLAN_VALID == 0 {
        return None;
    }
    let tpid = if status & libc::TP_STATUS_VLAN_TPID_VALID != 0 {
        tpid
    } else if frame.get(MACS_LEN..MACS_LEN + 2) == Some(&TPID_8021Q.to_be_bytes()) {
        TPID_8021AD
    } else {
        TPID_8021Q
    };
    Some(VlanTag { tpid, tci })
}

/// Replaces `packet`'s contents with `frame`, with `tag` inserted after the MAC addresses.
/// A frame too short to have MAC addresses is copied as it is.
pub(crate) fn copy_with_tag(packet: &mut Packet, frame: &[u8], tag: Option<VlanTag>) {
    packet.clear();
    match (tag, frame.split_at_checked(MACS_LEN)) {
        (Some(tag), Some((macs, rest))) => {
            packet.extend_from_slice(macs);
            packet.extend_from_slice(&tag.tpid.to_be_bytes());
            packet.extend_from_slice(&tag.tci.to_be_bytes());
            packet.extend_from_slice(rest);
        }
        _ => packet.extend_from_slice(frame),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use libc::{TP_STATUS_USER, TP_STATUS_VLAN_TPID_VALID, TP_STATUS_VLAN_VALID};

    fn frame(ethertype: u16) -> Vec<u8> {
        let mut f: Vec<u8> = (0..12).collect();
        f.extend_from_slice(&ethertype.to_be_bytes());
        f.extend_from_slice(&[0xee; 4]);
        f
    }

    #[test]
    fn no_tag_without_tci_or_valid_bit() {
        assert_eq!(
            stripped_tag(TP_STATUS_USER, 0, 0x8100, &frame(0x0800)),
            None
        );
    }

    #[test]
    fn tag_with_vid_zero_needs_the_valid_bit() {
        let tag = stripped_tag(TP_STATUS_VLAN_VALID, 0, 0, &frame(0x0800));
        assert_eq!(
            tag,
            Some(VlanTag {
                tpid: 0x8100,
                tci: 0
            })
        );
    }

    #[test]
    fn reported_tpid_wins_when_valid() {
        let status = TP_STATUS_VLAN_VALID | TP_STATUS_VLAN_TPID_VALID;
        let tag = stripped_tag(status, 0x2005, 0x88a8, &frame(0x0800));
        assert_eq!(
            tag,
            Some(VlanTag {
                tpid: 0x88a8,
                tci: 0x2005
            })
        );
    }

    #[test]
    fn without_tpid_an_inner_8021q_tag_makes_the_outer_one_8021ad() {
        let tag = stripped_tag(TP_STATUS_VLAN_VALID, 7, 0, &frame(0x8100));
        assert_eq!(
            tag,
            Some(VlanTag {
                tpid: 0x88a8,
                tci: 7
            })
        );
        let tag = stripped_tag(0, 7, 0, &frame(0x0800));
        assert_eq!(
            tag,
            Some(VlanTag {
                tpid: 0x8100,
                tci: 7
            }),
            "non-zero TCI alone means a tag"
        );
    }

    #[test]
    fn tag_goes_after_the_source_mac() {
        let mut packet = Packet::new();
        copy_with_tag(
            &mut packet,
            &frame(0x0800),
            Some(VlanTag {
                tpid: 0x8100,
                tci: 0x000a,
            }),
        );
        let mut expected: Vec<u8> = (0..12).collect();
        expected.extend_from_slice(&[0x81, 0x00, 0x00, 0x0a, 0x08, 0x00, 0xee, 0xee, 0xee, 0xee]);
        assert_eq!(packet.data(), &expected[..]);
        copy_with_tag(
            &mut packet,
            &[1, 2, 3],
            Some(VlanTag {
                tpid: 0x8100,
                tci: 1,
            }),
        );
        assert_eq!(packet.data(), &[1, 2, 3]);
        copy_with_tag(&mut packet, &frame(0x0800), None);
        assert_eq!(packet.data(), &frame(0x0800)[..]);
    }
}
