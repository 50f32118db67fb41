//! Reading the frames out of one TPACKET_V3 block (safe parsing of kernel-written bytes).
//!
//! A block starts with a `tpacket_block_desc` (packet count, offset of the first packet); each
//! packet starts with a `tpacket3_hdr` (offset to the next packet, captured and wire lengths,
//! status, offset of the frame, VLAN fields). Invariant: every offset and length read from the
//! block is bounds-checked against the block before use, so a corrupt block yields `None` (the
//! caller counts an error and skips the rest of the block), never a panic or an out-of-bounds read.

use std::mem::offset_of;

use libc::{tpacket_block_desc, tpacket_hdr_v1, tpacket_hdr_variant1, tpacket3_hdr};

const BLOCK_HDR: usize = offset_of!(tpacket_block_desc, hdr);
const NUM_PKTS: usize = BLOCK_HDR + offset_of!(tpacket_hdr_v1, num_pkts);
const FIRST_PKT: usize = BLOCK_HDR + offset_of!(tpacket_hdr_v1, offset_to_first_pkt);
const NEXT_OFFSET: usize = offset_of!(tpacket3_hdr, tp_next_offset);
const SNAPLEN: usize = offset_of!(tpacket3_hdr, tp_snaplen);
const WIRE_LEN: usize = offset_of!(tpacket3_hdr, tp_len);
const STATUS: usize = offset_of!(tpacket3_hdr, tp_status);
const MAC: usize = offset_of!(tpacket3_hdr, tp_mac);
const HV1: usize = offset_of!(tpacket3_hdr, hv1);
const VLAN_TCI: usize = HV1 + offset_of!(tpacket_hdr_variant1, tp_vlan_tci);
const VLAN_TPID: usize = HV1 + offset_of!(tpacket_hdr_variant1, tp_vlan_tpid);

/// The kernel's layout, spelled out so a libc change cannot silently move a field.
const _: () = {
    assert!(NUM_PKTS == 12 && FIRST_PKT == 16);
    assert!(NEXT_OFFSET == 0 && SNAPLEN == 12 && WIRE_LEN == 16 && STATUS == 20 && MAC == 24);
    assert!(VLAN_TCI == 32 && VLAN_TPID == 36);
};

/// The packet count and first packet offset from a block's descriptor.
pub(crate) fn block_header(block: &[u8]) -> Option<(u32, usize)> {
    Some((
        read_u32(block, NUM_PKTS)?,
        read_u32(block, FIRST_PKT)? as usize,
    ))
}

/// One received frame as the kernel described it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RingFrame<'a> {
    /// The captured bytes, starting at the Ethernet header.
    pub(crate) data: &'a [u8],
    /// The frame's length on the wire (more than `data.len()` if it was truncated).
    pub(crate) wire_len: u32,
    /// `TP_STATUS_*` bits of this frame.
    pub(crate) status: u32,
    /// The VLAN TCI the kernel took out of the frame (meaningful per `status`).
    pub(crate) vlan_tci: u16,
    /// The VLAN TPID the kernel took out of the frame (meaningful per `status`).
    pub(crate) vlan_tpid: u16,
    /// Offset from this packet's header to the next one's (0 for the last).
    pub(crate) next_offset: u32,
}

/// Parses the packet whose `tpacket3_hdr` starts at `offset` in `block`.
pub(crate) fn frame_at(block: &[u8], offset: usize) -> Option<RingFrame<'_>> {
    let header = block.get(offset..)?;
    let snaplen = read_u32(header, SNAPLEN)? as usize;
    let mac = read_u16(header, MAC)? as usize;
    let data = header.get(mac..mac.checked_add(snaplen)?)?;
    Some(RingFrame {
        data,
        wire_len: read_u32(header, WIRE_LEN)?,
        status: read_u32(header, STATUS)?,
        // The kernel stores the 16-bit TCI in a 32-bit field.
        vlan_tci: read_u32(header, VLAN_TCI)? as u16,
        vlan_tpid: read_u16(header, VLAN_TPID)?,
        next_offset: read_u32(header, NEXT_OFFSET)?,
    })
}

fn read_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let raw = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_ne_bytes(raw.try_into().ok()?))
}

fn read_u16(bytes: &[u8], at: usize) -> Option<u16> {
    let raw = bytes.get(at..at.checked_add(2)?)?;
    Some(u16::from_ne_bytes(raw.try_into().ok()?))
}

/// Builds synthetic blocks laid out like the kernel's, for tests.
#[cfg(test)]
pub(crate) mod synth {
    use super::*;

    /// Where the kernel puts an Ethernet frame after its `tpacket3_hdr` (82 on x86-64 and arm64).
    pub(crate) const MAC_OFFSET: usize = 82;

    /// A block holding `frames` as (bytes, status, tci, tpid), packed like the kernel packs them.
    pub(crate) fn block(size: usize, frames: &[(&[u8], u32, u16, u16)]) -> Vec<u8> {
        let mut block = vec![0u8; size];
        let first = 48;
        put32(&mut block, NUM_PKTS, frames.len() as u32);
        put32(&mut block, FIRST_PKT, first as u32);
        let mut offset = first;
        for (i, (data, status, tci, tpid)) in frames.iter().enumerate() {
            let len = (MAC_OFFSET + data.len()).next_multiple_of(16);
            let next = if i + 1 == frames.len() { 0 } else { len as u32 };
            put32(&mut block, offset + NEXT_OFFSET, next);
            put32(&mut block, offset + SNAPLEN, data.len() as u32);
            put32(&mut block, offset + WIRE_LEN, data.len() as u32);
            put32(&mut block, offset + STATUS, *status);
            block[offset + MAC..offset + MAC + 2]
                .copy_from_slice(&(MAC_OFFSET as u16).to_ne_bytes());
            put32(&mut block, offset + VLAN_TCI, u32::from(*tci));
            block[offset + VLAN_TPID..offset + VLAN_TPID + 2].copy_from_slice(&tpid.to_ne_bytes());
            block[offset + MAC_OFFSET..offset + MAC_OFFSET + data.len()].copy_from_slice(data);
            offset += len;
        }
        block
    }

    /// Writes a native-endian u32.
    pub(crate) fn put32(block: &mut [u8], at: usize, value: u32) {
        block[at..at + 4].copy_from_slice(&value.to_ne_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::synth::*;
    use super::*;

    #[test]
    fn frames_are_walked_by_next_offset() {
        let a = [1u8; 60];
        let b = [2u8; 1500];
        let block = block(4096, &[(&a, 1, 0, 0), (&b, 1 | 0x10, 5, 0x8100)]);
        let (count, first) = block_header(&block).expect("header");
        assert_eq!((count, first), (2, 48));
        let one = frame_at(&block, first).expect("frame");
        assert_eq!(one.data, &a);
        assert_eq!(one.wire_len, 60);
        let two = frame_at(&block, first + one.next_offset as usize).expect("frame");
        assert_eq!(two.data, &b[..]);
        assert_eq!(
            (two.status, two.vlan_tci, two.vlan_tpid, two.next_offset),
            (0x11, 5, 0x8100, 0)
        );
    }

    #[test]
    fn corrupt_offsets_and_lengths_are_rejected() {
        let a = [1u8; 60];
        let mut block = block(4096, &[(&a, 1, 0, 0)]);
        assert!(frame_at(&block, 4090).is_none(), "header past the end");
        assert!(frame_at(&block, usize::MAX).is_none());
        put32(&mut block, 48 + SNAPLEN, 5000);
        assert!(frame_at(&block, 48).is_none(), "data past the end");
        put32(&mut block, 48 + SNAPLEN, u32::MAX);
        assert!(frame_at(&block, 48).is_none(), "length overflow");
        assert!(block_header(&block[..10]).is_none());
    }
}
