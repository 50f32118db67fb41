//! The memory-mapped TPACKET_V3 receive ring of a packet socket.
//!
//! Invariants:
//! - The mapping is `block_size * block_count` bytes, shared with the kernel, and unmapped on
//!   drop (after which the socket may close; the ring memory lives as long as either).
//! - Each block starts with a `tpacket_block_desc` whose `block_status` word is only ever read and
//!   written atomically: acquire when checking that the kernel handed the block over (so the
//!   frames it wrote are visible), release when handing it back (so our reads are finished).
//! - The kernel does not write a block while its status has `TP_STATUS_USER`; that is what makes
//!   the shared byte slice of a [`UserBlock`] sound for as long as the block is not released.

use std::io;
use std::mem::offset_of;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, Ordering};

use super::socket::PacketSocket;

/// Offset of the `block_status` word inside a block.
const STATUS_OFFSET: usize =
    offset_of!(libc::tpacket_block_desc, hdr) + offset_of!(libc::tpacket_hdr_v1, block_status);

/// A mapped TPACKET_V3 receive ring.
#[derive(Debug)]
pub(crate) struct RxRing {
    base: NonNull<u8>,
    block_size: usize,
    block_count: usize,
}

// SAFETY: the ring is a plain memory mapping with no thread affinity; all access to block status
// words is atomic, and block contents are only read through `&mut self` borrows (`user_block`),
// so moving the ring to another thread cannot create unsynchronised access.
unsafe impl Send for RxRing {}

impl RxRing {
    /// Maps the ring that `socket` was given with `PACKET_RX_RING` (same sizes).
    pub(crate) fn map(
        socket: &PacketSocket,
        block_size: usize,
        block_count: usize,
    ) -> io::Result<Self> {
        let page = page_size();
        let len = block_size
            .checked_mul(block_count)
            .filter(|&len| len > 0 && block_size.is_multiple_of(page))
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "bad ring size"))?;
        // SAFETY: a fresh shared mapping of the socket's ring (no address hint, so no existing
        // memory is replaced); the kernel checks that `len` matches the ring it allocated.
        let address = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_POPULATE,
                std::os::fd::AsRawFd::as_raw_fd(socket),
                0,
            )
        };
        if address == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let base = NonNull::new(address.cast::<u8>())
            .ok_or_else(|| io::Error::other("mmap returned null"))?;
        Ok(RxRing {
            base,
            block_size,
            block_count,
        })
    }

    /// Number of blocks.
    pub(crate) fn block_count(&self) -> usize {
        self.block_count
    }

    /// Bytes per block.
    pub(crate) fn block_size(&self) -> usize {
        self.block_size
    }

    fn status_word(&self, block: usize) -> Option<&AtomicU32> {
        if block >= self.block_count {
            return None;
        }
        let offset = block * self.block_size + STATUS_OFFSET;
        // SAFETY: `offset` is inside the mapping (block < block_count and the descriptor is at the
        // start of a block at least a page long); block starts are page-aligned and the status word
        // is at offset 8, so the pointer is aligned for u32. The word is shared with the kernel
        // and every access to it from Rust goes through this atomic.
        Some(unsafe { AtomicU32::from_ptr(self.base.as_ptr().add(offset).cast::<u32>()) })
    }

    /// The block's status word (`TP_STATUS_*`), read with acquire ordering.
    pub(crate) fn block_status(&self, block: usize) -> u32 {
        self.status_word(block)
            .map_or(0, |word| word.load(Ordering::Acquire))
    }

    /// The block's bytes if userspace owns it (`TP_STATUS_USER`), else `None`.
    pub(crate) fn user_block(&mut self, block: usize) -> Option<UserBlock<'_>> {
        if self.block_status(block) & libc::TP_STATUS_USER == 0 {
            return None;
        }
        let start = block * self.block_size;
        // SAFETY: the block lies inside the mapping (checked by `block_status` returning USER,
        // which needs `block < block_count`). The kernel handed it to userspace (acquire load
        // above), so it does not write it until we release it, and `&mut self` keeps any other
        // view of the ring from existing while this one does.
        let bytes =
            unsafe { std::slice::from_raw_parts(self.base.as_ptr().add(start), self.block_size) };
        let status = self.status_word(block)?;
        Some(UserBlock { bytes, status })
    }
}

impl Drop for RxRing {
    fn drop(&mut self) {
        // SAFETY: `base` and the length are exactly those of the mapping made in `map`, and no
        // borrow of it can outlive `self`.
        unsafe {
            libc::munmap(
                self.base.as_ptr().cast(),
                self.block_size * self.block_count,
            );
        }
    }
}

/// A block of the ring that userspace owns, readable until [`UserBlock::release`].
#[derive(Debug)]
pub(crate) struct UserBlock<'ring> {
    bytes: &'ring [u8],
    status: &'ring AtomicU32,
}

impl UserBlock<'_> {
    /// The block's bytes (descriptor included); offsets in the descriptor are relative to them.
    pub(crate) fn bytes(&self) -> &[u8] {
        self.bytes
    }

    /// Gives the block back to the kernel; its bytes are not looked at again.
    pub(crate) fn release(self) {
        let UserBlock { bytes: _, status } = self;
        status.store(libc::TP_STATUS_KERNEL, Ordering::Release);
    }
}

fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(size).unwrap_or(4096)
}
