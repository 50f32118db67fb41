//! Owned frames ([`Packet`]) and the batch a forwarding thread receives into ([`PacketBatch`]).
//!
//! Invariants:
//! - A [`Packet`] owns one heap buffer; the frame is `buf[head..]`, and `head` bytes of headroom in
//!   front of it let a tag be pushed without moving the frame (see [`Packet::push_front`]).
//! - A [`PacketBatch`] never holds more than [`MAX_BURST`] packets. [`PacketBatch::clear`] keeps the
//!   buffers of the packets it drops in a spare pool (at most [`SPARE_LIMIT`] of them), and
//!   [`PacketBatch::push_copy`] reuses them, so a thread that receives into the same batch round
//!   after round stops allocating once the pool is warm.

use std::ops::{Deref, DerefMut};

/// The most frames one `rx_batch` call delivers (OVS's `NETDEV_MAX_BURST`).
pub const MAX_BURST: usize = 32;

/// Bytes reserved in front of every frame so that tags can be pushed in place.
pub const HEADROOM: usize = 64;

/// The most spare buffers a batch keeps for reuse.
pub const SPARE_LIMIT: usize = 2 * MAX_BURST;

/// Capacity given to a fresh buffer: headroom plus a full Ethernet frame with two VLAN tags.
const DEFAULT_CAPACITY: usize = HEADROOM + 1522 + 4;

/// One owned Ethernet frame with headroom.
#[derive(Clone, PartialEq, Eq)]
pub struct Packet {
    buf: Vec<u8>,
    head: usize,
}

impl Packet {
    /// An empty packet with the default capacity (a full-size frame fits without reallocating).
    pub fn new() -> Self {
        Self::with_capacity(DEFAULT_CAPACITY - HEADROOM)
    }

    /// An empty packet whose buffer holds `frame_capacity` bytes of frame after the headroom.
    pub fn with_capacity(frame_capacity: usize) -> Self {
        let mut buf = Vec::with_capacity(HEADROOM + frame_capacity);
        buf.resize(HEADROOM, 0);
        Packet {
            buf,
            head: HEADROOM,
        }
    }

    /// A packet holding a copy of `frame`.
    pub fn from_slice(frame: &[u8]) -> Self {
        let mut packet = Self::with_capacity(frame.len().max(DEFAULT_CAPACITY - HEADROOM));
        packet.extend_from_slice(frame);
        packet
    }

    /// The frame's bytes.
    pub fn data(&self) -> &[u8] {
        self.buf.get(self.head..).unwrap_or_default()
    }

    /// The frame's bytes, writable.
    pub fn data_mut(&mut self) -> &mut [u8] {
        let head = self.head;
        self.buf.get_mut(head..).unwrap_or_default()
    }

    /// Empties the frame and restores the full headroom; the buffer is kept.
    pub fn clear(&mut self) {
        self.buf.truncate(HEADROOM);
        self.buf.resize(HEADROOM, 0);
        self.head = HEADROOM;
    }

    /// Appends `bytes` to the end of the frame.
    pub fn extend_from_slice(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Shortens the frame to `len` bytes (no effect if it is already that short).
    pub fn truncate(&mut self, len: usize) {
        self.buf.truncate(self.head.saturating_add(len));
    }

    /// Grows the frame by `n` bytes at its front and returns them (zeroed, for the caller to fill).
    /// Uses the headroom when it is large enough and moves the frame otherwise.
    pub fn push_front(&mut self, n: usize) -> &mut [u8] {
        if n > self.head {
            let extra = n - self.head + HEADROOM;
            self.buf.splice(0..0, std::iter::repeat_n(0, extra));
            self.head += extra;
        }
        self.head -= n;
        let head = self.head;
        let front = self.buf.get_mut(head..head + n).unwrap_or_default();
        front.fill(0);
        front
    }

    /// Removes `n` bytes from the front of the frame (all of it if it is shorter).
    pub fn pull_front(&mut self, n: usize) {
        self.head = self.head.saturating_add(n).min(self.buf.len());
    }

    /// The frame's bytes as a vector (copies them; the headroom is not included).
    pub fn to_vec(&self) -> Vec<u8> {
        self.data().to_vec()
    }
}

impl Default for Packet {
    fn default() -> Self {
        Self::new()
    }
}

impl Deref for Packet {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.data()
    }
}

impl DerefMut for Packet {
    fn deref_mut(&mut self) -> &mut [u8] {
        self.data_mut()
    }
}

impl AsRef<[u8]> for Packet {
    fn as_ref(&self) -> &[u8] {
        self.data()
    }
}

impl std::fmt::Debug for Packet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Packet({} bytes:", self.len())?;
        for byte in self.data().iter().take(64) {
            write!(f, " {byte:02x}")?;
        }
        if self.len() > 64 {
            write!(f, " ...")?;
        }
        write!(f, ")")
    }
}

/// Up to [`MAX_BURST`] received frames plus a pool of spare buffers.
#[derive(Debug, Default)]
pub struct PacketBatch {
    packets: Vec<Packet>,
    spare: Vec<Packet>,
}

impl PacketBatch {
    /// An empty batch.
    pub fn new() -> Self {
        PacketBatch {
            packets: Vec::with_capacity(MAX_BURST),
            spare: Vec::new(),
        }
    }

    /// Number of frames in the batch.
    pub fn len(&self) -> usize {
        self.packets.len()
    }

    /// True if the batch holds no frame.
    pub fn is_empty(&self) -> bool {
        self.packets.is_empty()
    }

    /// How many more frames fit.
    pub fn remaining(&self) -> usize {
        MAX_BURST.saturating_sub(self.packets.len())
    }

    /// True if no more frames fit.
    pub fn is_full(&self) -> bool {
        self.remaining() == 0
    }

    /// The frames, oldest first.
    pub fn packets(&self) -> &[Packet] {
        &self.packets
    }

    /// The frames, writable (actions rewrite them in place).
    pub fn packets_mut(&mut self) -> &mut [Packet] {
        &mut self.packets
    }

    /// Iterates over the frames.
    pub fn iter(&self) -> std::slice::Iter<'_, Packet> {
        self.packets.iter()
    }

    /// Appends `packet`; gives it back if the batch is full.
    pub fn push(&mut self, packet: Packet) -> Result<(), Packet> {
        if self.is_full() {
            return Err(packet);
        }
        self.packets.push(packet);
        Ok(())
    }

    /// Appends a copy of `frame` in a recycled buffer; returns false (and copies nothing) if the
    /// batch is full.
    pub fn push_copy(&mut self, frame: &[u8]) -> bool {
        self.push_with(|packet| packet.extend_from_slice(frame))
    }

    /// Appends a frame built by `fill` in an empty recycled buffer; returns false (and does not call
    /// `fill`) if the batch is full.
    pub fn push_with(&mut self, fill: impl FnOnce(&mut Packet)) -> bool {
        if self.is_full() {
            return false;
        }
        let mut packet = self.spare.pop().unwrap_or_default();
        fill(&mut packet);
        self.packets.push(packet);
        true
    }

    /// An empty buffer from the pool (or a new one), for a port to fill before [`PacketBatch::push`];
    /// give it back with [`PacketBatch::recycle`] if it ends up unused.
    pub fn spare_packet(&mut self) -> Packet {
        self.spare.pop().unwrap_or_default()
    }

    /// Drops every frame, keeping their buffers for reuse.
    pub fn clear(&mut self) {
        while let Some(mut packet) = self.packets.pop() {
            if self.spare.len() < SPARE_LIMIT {
                packet.clear();
                self.spare.push(packet);
            }
        }
    }

    /// Gives a buffer that left the batch back to its pool.
    pub fn recycle(&mut self, mut packet: Packet) {
        if self.spare.len() < SPARE_LIMIT {
            packet.clear();
            self.spare.push(packet);
        }
    }

    /// Removes and returns every frame, oldest first (their buffers leave the pool).
    pub fn take_all(&mut self) -> std::vec::Drain<'_, Packet> {
        self.packets.drain(..)
    }
}

impl Deref for PacketBatch {
    type Target = [Packet];
    fn deref(&self) -> &[Packet] {
        &self.packets
    }
}

impl<'a> IntoIterator for &'a PacketBatch {
    type Item = &'a Packet;
    type IntoIter = std::slice::Iter<'a, Packet>;
    fn into_iter(self) -> Self::IntoIter {
        self.packets.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_front_uses_headroom_then_grows() {
        let mut packet = Packet::from_slice(&[1, 2, 3]);
        packet.push_front(4).copy_from_slice(&[9, 9, 9, 9]);
        assert_eq!(packet.data(), &[9, 9, 9, 9, 1, 2, 3]);
        packet.push_front(HEADROOM + 10).fill(7);
        assert_eq!(packet.len(), HEADROOM + 17);
        assert_eq!(&packet[HEADROOM + 10..], &[9, 9, 9, 9, 1, 2, 3]);
        packet.pull_front(HEADROOM + 14);
        assert_eq!(packet.data(), &[1, 2, 3]);
        packet.pull_front(100);
        assert!(packet.is_empty());
    }

    #[test]
    fn batch_is_bounded_and_recycles_buffers() {
        let mut batch = PacketBatch::new();
        for i in 0..MAX_BURST {
            assert!(batch.push_copy(&[i as u8; 60]));
        }
        assert!(!batch.push_copy(&[0; 60]));
        assert!(batch.push(Packet::new()).is_err());
        let pointers: Vec<*const u8> = batch.iter().map(|p| p.data().as_ptr()).collect();
        batch.clear();
        assert!(batch.is_empty());
        for _ in 0..MAX_BURST {
            assert!(batch.push_copy(&[0xab; 60]));
        }
        // Every buffer came from the pool: the same allocations, no new ones.
        let mut again: Vec<*const u8> = batch.iter().map(|p| p.data().as_ptr()).collect();
        let mut before = pointers;
        again.sort();
        before.sort();
        assert_eq!(again, before);
        assert!(batch.iter().all(|p| p.data() == [0xab; 60]));
    }

    #[test]
    fn truncate_and_clear() {
        let mut packet = Packet::from_slice(&[1, 2, 3, 4]);
        packet.truncate(2);
        assert_eq!(packet.data(), &[1, 2]);
        packet.truncate(10);
        assert_eq!(packet.data(), &[1, 2]);
        packet.clear();
        assert!(packet.is_empty());
        packet.extend_from_slice(&[5]);
        assert_eq!(packet.to_vec(), vec![5]);
    }
}
