//! [`AfPacketNetdev`]: a Linux interface as a port, through an `AF_PACKET` socket.
//!
//! Receive uses a TPACKET_V3 ring: the kernel packs frames of any size into fixed-size blocks
//! and hands a block to us when it is full or when `block_timeout_ms` has passed since its first
//! frame; we copy the frames out (re-inserting the VLAN tag the kernel stripped, see [`vlan`]) and
//! give the block back. A full ring drops frames in the kernel, reported by `PACKET_STATISTICS`
//! and added to `rx_dropped` whenever [`Netdev::stats`] is read.
//!
//! Transmit uses `sendmmsg(2)`, up to 32 frames per call, rather than a TPACKET_V3 transmit ring.
//! With batches of 32 both cost one system call per batch; the ring would save the copy of each
//! frame into the kernel, which is small next to the per-frame skb and driver work for frames of
//! at most an MTU. In exchange, `sendmmsg` reports the fate of every frame when the call returns
//! (so `tx_batch`'s counts are exact and the caller's buffers are free again), needs no second
//! mapping, and has no completion state: a ring's slots stay busy until the driver frees each skb,
//! which on a congested device means extra bookkeeping and frames parked in a ring that nobody
//! flushes when traffic stops.
//!
//! Invariants:
//! - The socket is bound to one interface (by index, looked up in the network namespace of the
//!   thread that opens the port; the socket stays in that namespace) and receives every protocol.
//! - With `n_rxq` > 1 each receive queue has its own socket and ring, all in one
//!   `PACKET_FANOUT_HASH` group: a frame goes to exactly one queue, and the frames of one flow
//!   always to the same one. Queues 1.. join the group before they receive anything (a filter
//!   that accepts nothing covers the moment between their bind and their join), so no frame is
//!   ever received twice; a frame the group hands to such a queue in the microseconds between
//!   its join and the filter's removal is lost, at port creation only. Queue 0's socket transmits.
//! - The ring is consumed strictly in block order; a block is given back only after every frame
//!   in it was copied out, so a partly read block is resumed by the next `rx_batch`.
//! - With `ignore_outgoing`, frames sent on the interface (by us or anyone) are not received.
//! - Interface state (flags, MTU, MAC) is read live with ioctls on the port's own socket, so it is
//!   right even when the calling thread is in another namespace (sysfs would not be).

mod block;
mod vlan;

use std::io;
use std::os::fd::BorrowedFd;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use parking_lot::Mutex;

use crate::error::{NetdevError, Result};
use crate::netdev::{EthAddr, Netdev, NetdevKind};
use crate::packet::{Packet, PacketBatch};
use crate::stats::{Counters, NetdevStats};
use crate::sys::{PacketSocket, RxRing};

/// Socket option value selecting TPACKET_V3 (`enum tpacket_versions`).
const TPACKET_V3: i32 = 2;

/// How an [`AfPacketNetdev`] is set up.
///
/// The defaults give a 16 MiB ring (128 blocks of 128 KiB). A frame takes its length plus 82
/// bytes of header, rounded up to 16: a 64-byte frame 160 bytes, a 1514-byte frame 1600 bytes. So
/// the ring holds about 10,000 full-size or 100,000 minimum-size frames that nobody reads in time.
///
/// The kernel hands a block over when it is full *or* `block_timeout_ms` after it was opened, so
/// under a burst that the reader cannot keep up with, each block holds at most one timeout's worth
/// of frames: at 400 kpps and 1 ms, 400 frames of 160 bytes (64 KiB). What bounds the backlog is
/// then the number of blocks, not their size; so the blocks are only as large as a 64 KiB GSO
/// frame needs (128 KiB), and there are many of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AfPacketConfig {
    /// Bytes per ring block: a multiple of the page size (a power of two wastes no memory).
    pub block_size: u32,
    /// Number of ring blocks.
    pub block_count: u32,
    /// The kernel's nominal frame size: a multiple of 16 that divides `block_size`. TPACKET_V3
    /// packs frames by their real size, so this only has to satisfy the kernel's checks.
    pub frame_size: u32,
    /// Milliseconds after which a block that is not full is handed over anyway (0 lets the kernel
    /// choose, typically several milliseconds); this bounds the latency added at low rates.
    pub block_timeout_ms: u32,
    /// Socket receive buffer in bytes, set with `SO_RCVBUFFORCE` (root) or else `SO_RCVBUF`;
    /// `None` keeps the kernel default. Frames received through the ring do not use it.
    pub rcvbuf: Option<usize>,
    /// Socket send buffer in bytes (`SO_SNDBUFFORCE`, else `SO_SNDBUF`); `None` keeps the kernel
    /// default. Frames sent but not yet freed by the driver count against it.
    pub sndbuf: Option<usize>,
    /// Receive frames addressed to any MAC, not only ours and broadcast/multicast.
    pub promiscuous: bool,
    /// Do not receive frames sent on the interface (`PACKET_IGNORE_OUTGOING`).
    pub ignore_outgoing: bool,
    /// Send straight to the driver, skipping the queueing discipline (`PACKET_QDISC_BYPASS`):
    /// faster, but a busy driver then drops instead of queueing.
    pub qdisc_bypass: bool,
    /// Receive queues (OVS's `options:n_rxq`): with more than one, one socket and ring per queue,
    /// joined in a `PACKET_FANOUT_HASH` group, so that the kernel spreads the frames over the
    /// queues by flow hash (a flow always lands in the same queue) and several forwarding
    /// threads can receive from one interface. 1 to [`MAX_RXQ`].
    pub n_rxq: usize,
}

/// Most receive queues an [`AfPacketNetdev`] may have.
pub const MAX_RXQ: usize = 16;

impl Default for AfPacketConfig {
    fn default() -> Self {
        AfPacketConfig {
            block_size: 128 * 1024,
            block_count: 128,
            frame_size: 2048,
            block_timeout_ms: 1,
            rcvbuf: Some(4 * 1024 * 1024),
            sndbuf: Some(4 * 1024 * 1024),
            promiscuous: true,
            ignore_outgoing: true,
            qdisc_bypass: false,
            n_rxq: 1,
        }
    }
}

/// Where the reader stands in the ring.
#[derive(Debug)]
struct RxState {
    ring: RxRing,
    /// The block to read next.
    block: usize,
    /// Inside a partly read block: frames left and the offset of the next one.
    cursor: Option<(u32, usize)>,
}

/// Receive queue 1, 2, ... of a multi-queue port: its own socket (in the port's fanout group) and
/// ring. Queue 0 is the port's main socket and ring.
#[derive(Debug)]
struct ExtraQueue {
    /// Declared before `socket` so the ring is unmapped before the socket closes.
    rx: Mutex<RxState>,
    socket: PacketSocket,
}

impl RxState {
    fn new(ring: RxRing) -> RxState {
        RxState {
            ring,
            block: 0,
            cursor: None,
        }
    }
}

/// A port on a Linux network interface.
#[derive(Debug)]
pub struct AfPacketNetdev {
    name: String,
    /// Queue 0's ring. Declared before `socket` so the ring is unmapped before the socket closes.
    rx: Mutex<RxState>,
    /// Queue 0's socket; it also transmits and answers the interface ioctls.
    socket: PacketSocket,
    /// Receive queues 1.. (empty with one queue).
    extra: Vec<ExtraQueue>,
    counters: Counters,
    /// Kernel ring drops already folded into `counters` (the kernel resets its count on read).
    ring_drops: AtomicU64,
}

impl AfPacketNetdev {
    /// Opens interface `name` (in the calling thread's network namespace) with `config`.
    pub fn open(name: &str, config: &AfPacketConfig) -> Result<Self> {
        validate(name, config)?;
        let io = |op: &'static str| move |e: io::Error| NetdevError::io(name, op, e);
        let (socket, ring) = open_queue(name, config, false)?;
        let mut extra = Vec::with_capacity(config.n_rxq.saturating_sub(1));
        if config.n_rxq > 1 {
            let group = join_new_fanout_group(&socket).map_err(io("setsockopt(PACKET_FANOUT)"))?;
            for _ in 1..config.n_rxq {
                // Bound before it joins the group (the kernel wants that), the socket would get a
                // copy of every frame meanwhile: it is opened deaf and listens once in the group.
                let (socket, ring) = open_queue(name, config, true)?;
                socket
                    .set_int_option(libc::SOL_PACKET, libc::PACKET_FANOUT, group)
                    .map_err(io("setsockopt(PACKET_FANOUT)"))?;
                socket
                    .detach_filter()
                    .map_err(io("setsockopt(SO_DETACH_FILTER)"))?;
                extra.push(ExtraQueue {
                    rx: Mutex::new(RxState::new(ring)),
                    socket,
                });
            }
        }
        Ok(AfPacketNetdev {
            name: name.to_owned(),
            socket,
            rx: Mutex::new(RxState::new(ring)),
            extra,
            counters: Counters::default(),
            ring_drops: AtomicU64::new(0),
        })
    }

    /// Every receive queue's socket and ring, queue 0 first.
    fn queues(&self) -> impl Iterator<Item = (&PacketSocket, &Mutex<RxState>)> {
        std::iter::once((&self.socket, &self.rx))
            .chain(self.extra.iter().map(|e| (&e.socket, &e.rx)))
    }

    /// Queue `queue`'s socket and ring, if the port has that queue.
    fn queue(&self, queue: usize) -> Option<(&PacketSocket, &Mutex<RxState>)> {
        match queue {
            0 => Some((&self.socket, &self.rx)),
            q => self.extra.get(q - 1).map(|e| (&e.socket, &e.rx)),
        }
    }

    /// The socket's receive and send buffer sizes as the kernel reports them (it doubles the
    /// requested value to account for its bookkeeping).
    pub fn socket_buffers(&self) -> Result<(usize, usize)> {
        let get = |option| {
            self.socket
                .int_option(libc::SOL_SOCKET, option)
                .map(|v| v.max(0) as usize)
                .map_err(|e| NetdevError::io(&self.name, "getsockopt(SO_RCVBUF/SO_SNDBUF)", e))
        };
        Ok((get(libc::SO_RCVBUF)?, get(libc::SO_SNDBUF)?))
    }

    /// Ring size in bytes, all receive queues together.
    pub fn ring_bytes(&self) -> usize {
        self.queues()
            .map(|(_, rx)| {
                let state = rx.lock();
                state.ring.block_size() * state.ring.block_count()
            })
            .sum()
    }

    fn interface_info(&self) -> Result<crate::sys::InterfaceInfo> {
        self.socket
            .interface_info(&self.name)
            .map_err(|e| NetdevError::io(&self.name, "ioctl(SIOCGIF*)", e))
    }

    /// Folds the kernel's ring drop count (reset by each read) into `rx_dropped`.
    fn harvest_ring_drops(&self) {
        for (socket, _) in self.queues() {
            if let Ok((_, drops)) = socket.take_ring_statistics() {
                self.ring_drops
                    .fetch_add(u64::from(drops), Ordering::Relaxed);
                self.counters.rx_dropped(u64::from(drops));
            }
        }
    }

    /// Frames the kernel dropped because the ring was full, so far.
    pub fn ring_drops(&self) -> u64 {
        self.harvest_ring_drops();
        self.ring_drops.load(Ordering::Relaxed)
    }
}

/// Frames delivered, their bytes, and frames lost to errors, during one `rx_batch`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Tally {
    delivered: u64,
    bytes: u64,
    errors: u64,
}

/// Copies frames out of a ring block into `out`, starting with the frame at `offset` of which
/// `remaining` are left, until the block is done or `out` is full. Returns the new position
/// (`remaining == 0` once the block is done). A frame the kernel truncated, or an inconsistent
/// block, counts as errors; the rest of an inconsistent block is skipped.
fn drain_block(
    data: &[u8],
    mut remaining: u32,
    mut offset: usize,
    out: &mut PacketBatch,
    tally: &mut Tally,
) -> (u32, usize) {
    while remaining > 0 && !out.is_full() {
        let Some(frame) = block::frame_at(data, offset) else {
            tally.errors += u64::from(remaining);
            return (0, offset);
        };
        remaining -= 1;
        if frame.next_offset == 0 && remaining > 0 {
            tally.errors += u64::from(remaining);
            remaining = 0;
        }
        offset = offset.saturating_add(frame.next_offset as usize);
        if (frame.data.len() as u64) < u64::from(frame.wire_len) {
            tally.errors += 1;
            continue;
        }
        let tag = vlan::stripped_tag(frame.status, frame.vlan_tci, frame.vlan_tpid, frame.data);
        let mut packet: Packet = out.spare_packet();
        vlan::copy_with_tag(&mut packet, frame.data, tag);
        let len = packet.len() as u64;
        if let Err(packet) = out.push(packet) {
            out.recycle(packet);
            continue;
        }
        tally.delivered += 1;
        tally.bytes += len;
    }
    (remaining, offset)
}

fn validate(name: &str, config: &AfPacketConfig) -> Result<()> {
    let bad = |reason: String| Err(NetdevError::config(name, reason));
    if config.block_size == 0 || !config.block_size.is_multiple_of(4096) {
        return bad(format!(
            "block_size {} is not a multiple of 4096",
            config.block_size
        ));
    }
    if config.block_count == 0 {
        return bad("block_count must be at least 1".into());
    }
    if config.frame_size < 128
        || !config.frame_size.is_multiple_of(16)
        || config.frame_size > config.block_size
    {
        return bad(format!(
            "frame_size {} must be a multiple of 16 between 128 and block_size",
            config.frame_size
        ));
    }
    if !config.block_size.is_multiple_of(config.frame_size) {
        return bad(format!(
            "frame_size {} does not divide block_size",
            config.frame_size
        ));
    }
    if u64::from(config.block_size) * u64::from(config.block_count) > 1 << 32 {
        return bad("ring larger than 4 GiB".into());
    }
    if config.n_rxq == 0 || config.n_rxq > MAX_RXQ {
        return bad(format!(
            "n_rxq {} must be between 1 and {MAX_RXQ}",
            config.n_rxq
        ));
    }
    for (what, value) in [("rcvbuf", config.rcvbuf), ("sndbuf", config.sndbuf)] {
        if value.is_some_and(|v| v > i32::MAX as usize / 2) {
            return bad(format!("{what} too large"));
        }
    }
    Ok(())
}

/// Opens one socket on interface `name` with its receive ring, bound to the interface, as
/// `config` says (everything but the fanout group). With `deaf`, a filter that accepts nothing is
/// attached before the bind (the caller detaches it).
fn open_queue(name: &str, config: &AfPacketConfig, deaf: bool) -> Result<(PacketSocket, RxRing)> {
    let io = |op: &'static str| move |e: io::Error| NetdevError::io(name, op, e);
    let socket = PacketSocket::open().map_err(io("socket(AF_PACKET)"))?;
    if deaf {
        socket
            .attach_drop_all_filter()
            .map_err(io("setsockopt(SO_ATTACH_FILTER)"))?;
    }
    let ifindex = socket
        .interface_index(name)
        .map_err(io("ioctl(SIOCGIFINDEX)"))?;
    socket
        .set_int_option(libc::SOL_PACKET, libc::PACKET_VERSION, TPACKET_V3)
        .map_err(io("setsockopt(PACKET_VERSION)"))?;
    if config.ignore_outgoing {
        socket
            .set_int_option(libc::SOL_PACKET, libc::PACKET_IGNORE_OUTGOING, 1)
            .map_err(io("setsockopt(PACKET_IGNORE_OUTGOING)"))?;
    }
    if let Some(bytes) = config.rcvbuf {
        set_buffer(&socket, libc::SO_RCVBUFFORCE, libc::SO_RCVBUF, bytes)
            .map_err(io("setsockopt(SO_RCVBUF)"))?;
    }
    if let Some(bytes) = config.sndbuf {
        set_buffer(&socket, libc::SO_SNDBUFFORCE, libc::SO_SNDBUF, bytes)
            .map_err(io("setsockopt(SO_SNDBUF)"))?;
    }
    if config.qdisc_bypass {
        socket
            .set_int_option(libc::SOL_PACKET, libc::PACKET_QDISC_BYPASS, 1)
            .map_err(io("setsockopt(PACKET_QDISC_BYPASS)"))?;
    }
    socket
        .set_rx_ring(
            config.block_size,
            config.block_count,
            config.frame_size,
            config.block_timeout_ms,
        )
        .map_err(io("setsockopt(PACKET_RX_RING)"))?;
    let ring = RxRing::map(
        &socket,
        config.block_size as usize,
        config.block_count as usize,
    )
    .map_err(io("mmap(rx ring)"))?;
    socket.bind_all_protocols(ifindex).map_err(io("bind"))?;
    if config.promiscuous {
        socket
            .add_promiscuous_membership(ifindex)
            .map_err(io("setsockopt(PACKET_ADD_MEMBERSHIP)"))?;
    }
    Ok((socket, ring))
}

/// Fanout group ids handed out by this process (the low 16 bits of the `PACKET_FANOUT` value).
static NEXT_FANOUT_ID: AtomicU32 = AtomicU32::new(0);

/// Makes `socket` the first member of a new `PACKET_FANOUT_HASH` group and returns the option
/// value with which the other queues join it. Group ids are shared by every process of the
/// network namespace, and joining an id that another socket group uses with other settings
/// fails, so a few ids are tried (starting from one derived from the process id).
fn join_new_fanout_group(socket: &PacketSocket) -> io::Result<i32> {
    let base = std::process::id().wrapping_mul(2_654_435_761);
    let mut last = io::Error::from_raw_os_error(libc::EINVAL);
    for _ in 0..64 {
        let id = (base.wrapping_add(NEXT_FANOUT_ID.fetch_add(1, Ordering::Relaxed))) & 0xffff;
        let value = (id | (libc::PACKET_FANOUT_HASH << 16)) as i32;
        match socket.set_int_option(libc::SOL_PACKET, libc::PACKET_FANOUT, value) {
            Ok(()) => return Ok(value),
            Err(e) if matches!(e.raw_os_error(), Some(libc::EINVAL | libc::EBUSY)) => last = e,
            Err(e) => return Err(e),
        }
    }
    Err(last)
}

/// Sets a socket buffer size, beyond the system limit if we may (`force`), else within it.
fn set_buffer(socket: &PacketSocket, force: i32, plain: i32, bytes: usize) -> io::Result<()> {
    let value = i32::try_from(bytes).unwrap_or(i32::MAX);
    socket
        .set_int_option(libc::SOL_SOCKET, force, value)
        .or_else(|_| socket.set_int_option(libc::SOL_SOCKET, plain, value))
}

impl Netdev for AfPacketNetdev {
    fn name(&self) -> &str {
        &self.name
    }

    fn kind(&self) -> NetdevKind {
        NetdevKind::AfPacket
    }

    fn rx_batch(&self, out: &mut PacketBatch) -> Result<usize> {
        self.rx_batch_queue(0, out)
    }

    fn n_rxq(&self) -> usize {
        1 + self.extra.len()
    }

    fn rx_batch_queue(&self, queue: usize, out: &mut PacketBatch) -> Result<usize> {
        let Some((_, rx)) = self.queue(queue) else {
            return Ok(0);
        };
        let mut guard = rx.lock();
        let RxState {
            ring,
            block,
            cursor,
        } = &mut *guard;
        let mut tally = Tally::default();
        while !out.is_full() {
            let Some(user) = ring.user_block(*block) else {
                break;
            };
            let data = user.bytes();
            let (remaining, offset) = cursor
                .take()
                .or_else(|| block::block_header(data))
                .unwrap_or((0, 0));
            let (remaining, offset) = drain_block(data, remaining, offset, out, &mut tally);
            if remaining > 0 {
                *cursor = Some((remaining, offset));
                break;
            }
            user.release();
            *block = (*block + 1) % ring.block_count();
        }
        drop(guard);
        self.counters.rx(tally.delivered, tally.bytes);
        self.counters.rx_errors(tally.errors);
        Ok(tally.delivered as usize)
    }

    fn tx_batch(&self, frames: &[Packet]) -> Result<usize> {
        const CHUNK: usize = 32;
        let (mut next, mut sent, mut bytes) = (0usize, 0usize, 0u64);
        let mut interrupted = 0;
        while next < frames.len() {
            let chunk = frames
                .get(next..frames.len().min(next + CHUNK))
                .unwrap_or_default();
            let mut slices: [&[u8]; CHUNK] = [&[]; CHUNK];
            for (slot, frame) in slices.iter_mut().zip(chunk) {
                *slot = frame.data();
            }
            match self
                .socket
                .send_frames(slices.get(..chunk.len()).unwrap_or_default())
            {
                Ok(0) => {
                    self.counters.tx_dropped((frames.len() - next) as u64);
                    break;
                }
                Ok(count) => {
                    bytes += chunk
                        .iter()
                        .take(count)
                        .map(|f| f.len() as u64)
                        .sum::<u64>();
                    sent += count;
                    next += count;
                }
                Err(e) => match e.raw_os_error() {
                    Some(libc::EINTR) if interrupted < 8 => interrupted += 1,
                    // No room in the socket buffer or the device queue: the rest waits no better.
                    Some(libc::EAGAIN | libc::ENOBUFS) => {
                        self.counters.tx_dropped((frames.len() - next) as u64);
                        break;
                    }
                    // The device is gone or down: nothing can be sent.
                    Some(libc::ENETDOWN | libc::ENXIO | libc::ENODEV) => {
                        self.counters.tx_dropped((frames.len() - next) as u64);
                        break;
                    }
                    // This frame is unacceptable (too long, too short): skip it.
                    _ => {
                        self.counters.tx_errors(1);
                        next += 1;
                    }
                },
            }
        }
        self.counters.tx(sent as u64, bytes);
        Ok(sent)
    }

    fn wait_readable(&self, timeout: Duration) -> Result<bool> {
        self.wait_readable_queue(0, timeout)
    }

    fn wait_readable_queue(&self, queue: usize, timeout: Duration) -> Result<bool> {
        let Some((socket, rx)) = self.queue(queue) else {
            std::thread::sleep(timeout);
            return Ok(false);
        };
        {
            let state = rx.lock();
            if state.ring.block_status(state.block) & libc::TP_STATUS_USER != 0 {
                return Ok(true);
            }
        }
        let millis = i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX);
        let timeout = PollTimeout::try_from(millis).unwrap_or(PollTimeout::MAX);
        let mut fds = [PollFd::new(socket.fd(), PollFlags::POLLIN)];
        match poll(&mut fds, timeout) {
            Ok(ready) => Ok(ready > 0),
            Err(nix::errno::Errno::EINTR) => Ok(false),
            Err(e) => Err(NetdevError::io(&self.name, "poll", e.into())),
        }
    }

    fn poll_fd(&self) -> Option<BorrowedFd<'_>> {
        Some(self.socket.fd())
    }

    fn poll_fd_queue(&self, queue: usize) -> Option<BorrowedFd<'_>> {
        self.queue(queue).map(|(socket, _)| socket.fd())
    }

    fn stats(&self) -> NetdevStats {
        self.harvest_ring_drops();
        self.counters.snapshot()
    }

    fn link_up(&self) -> Result<bool> {
        let flags = self.interface_info()?.flags;
        let wanted = (libc::IFF_UP | libc::IFF_RUNNING) as u32;
        Ok(flags & wanted == wanted)
    }

    fn mtu(&self) -> Result<u32> {
        Ok(self.interface_info()?.mtu)
    }

    fn mac(&self) -> Result<EthAddr> {
        Ok(self.interface_info()?.mac)
    }
}

#[cfg(test)]
mod tests {
    use super::block::synth;
    use super::*;

    fn frame(tag: u8, len: usize, ethertype: u16) -> Vec<u8> {
        let mut f = vec![tag; len];
        f[12..14].copy_from_slice(&ethertype.to_be_bytes());
        f
    }

    #[test]
    fn a_block_is_drained_across_batches_with_tags_restored() {
        let frames: Vec<Vec<u8>> = (0..40u8)
            .map(|i| frame(i, 60 + usize::from(i), 0x0800))
            .collect();
        let mut entries: Vec<(&[u8], u32, u16, u16)> = frames
            .iter()
            .map(|f| (&f[..], libc::TP_STATUS_USER, 0, 0))
            .collect();
        let status =
            libc::TP_STATUS_USER | libc::TP_STATUS_VLAN_VALID | libc::TP_STATUS_VLAN_TPID_VALID;
        entries[3] = (&frames[3][..], status, 0x0064, 0x8100);
        let data = synth::block(16384, &entries);
        let (count, first) = block::block_header(&data).expect("header");
        let mut out = PacketBatch::new();
        let mut tally = Tally::default();
        let (left, offset) = drain_block(&data, count, first, &mut out, &mut tally);
        assert_eq!((left, tally.delivered, tally.errors), (8, 32, 0));
        let mut tagged = frames[3][..12].to_vec();
        tagged.extend_from_slice(&[0x81, 0x00, 0x00, 0x64]);
        tagged.extend_from_slice(&frames[3][12..]);
        assert_eq!(out[3].data(), &tagged[..]);
        assert_eq!(out[4].data(), &frames[4][..]);
        out.clear();
        let (left, _) = drain_block(&data, left, offset, &mut out, &mut tally);
        assert_eq!((left, tally.delivered), (0, 40));
        assert_eq!(out[0].data(), &frames[32][..]);
        let expected: u64 = frames.iter().map(|f| f.len() as u64).sum::<u64>() + 4;
        assert_eq!(tally.bytes, expected);
    }

    #[test]
    fn truncated_frames_and_broken_blocks_count_as_errors() {
        let a = frame(1, 60, 0x0800);
        let b = frame(2, 60, 0x0800);
        let mut data = synth::block(4096, &[(&a, 1, 0, 0), (&b, 1, 0, 0)]);
        // Claim the first frame was 100 bytes on the wire: it was truncated.
        synth::put32(&mut data, 48 + 16, 100);
        let mut out = PacketBatch::new();
        let mut tally = Tally::default();
        assert_eq!(drain_block(&data, 2, 48, &mut out, &mut tally).0, 0);
        assert_eq!((tally.delivered, tally.errors), (1, 1));
        assert_eq!(out[0].data(), &b[..]);
        // A block claiming more frames than it links together loses the rest.
        let mut tally = Tally::default();
        out.clear();
        assert_eq!(drain_block(&data, 5, 48 + 144, &mut out, &mut tally).0, 0);
        assert_eq!((tally.delivered, tally.errors), (1, 4));
        // An offset outside the block loses everything left.
        let mut tally = Tally::default();
        assert_eq!(drain_block(&data, 3, 10_000, &mut out, &mut tally).0, 0);
        assert_eq!((tally.delivered, tally.errors), (0, 3));
    }

    #[test]
    fn bad_configurations_are_refused_before_any_syscall() {
        let base = AfPacketConfig::default();
        let cases = [
            AfPacketConfig {
                block_size: 1000,
                ..base.clone()
            },
            AfPacketConfig {
                block_count: 0,
                ..base.clone()
            },
            AfPacketConfig {
                frame_size: 100,
                ..base.clone()
            },
            AfPacketConfig {
                frame_size: 2000,
                ..base.clone()
            },
            AfPacketConfig {
                frame_size: 3072,
                ..base.clone()
            },
            AfPacketConfig {
                rcvbuf: Some(usize::MAX),
                ..base.clone()
            },
            AfPacketConfig {
                n_rxq: 0,
                ..base.clone()
            },
            AfPacketConfig {
                n_rxq: MAX_RXQ + 1,
                ..base.clone()
            },
        ];
        for config in cases {
            let err = validate("eth0", &config).expect_err("must be refused");
            assert!(matches!(err, NetdevError::InvalidConfig { .. }), "{err}");
        }
        validate("eth0", &base).expect("defaults are valid");
        let most = AfPacketConfig {
            n_rxq: MAX_RXQ,
            ..base
        };
        validate("eth0", &most).expect("MAX_RXQ queues are valid");
    }
}
