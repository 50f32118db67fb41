//! A raw `AF_PACKET` socket: creation, binding, socket options and interface ioctls.
//!
//! Invariants: the descriptor is owned (closed on drop); every C structure passed to the kernel is
//! fully initialised (zeroed first) and lives on the caller's stack for the whole call.

use std::ffi::{c_int, c_void};
use std::io;
use std::mem::size_of;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use nix::sys::socket::{AddressFamily, SockFlag, SockType, socket};

/// What the kernel says about an interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct InterfaceInfo {
    /// `IFF_*` flags.
    pub(crate) flags: u32,
    /// MTU in bytes.
    pub(crate) mtu: u32,
    /// Hardware address.
    pub(crate) mac: [u8; 6],
}

/// An owned `AF_PACKET`/`SOCK_RAW` socket.
#[derive(Debug)]
pub(crate) struct PacketSocket {
    fd: OwnedFd,
}

/// Most messages one `sendmmsg` call carries.
pub(crate) const SEND_BATCH: usize = 32;

impl PacketSocket {
    /// A non-blocking packet socket bound to no protocol yet (it receives nothing until `bind`).
    pub(crate) fn open() -> io::Result<Self> {
        let fd = socket(
            AddressFamily::Packet,
            SockType::Raw,
            SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
            None,
        )
        .map_err(io::Error::from)?;
        Ok(PacketSocket { fd })
    }

    /// The descriptor, for `poll(2)`.
    pub(crate) fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// Binds to interface `ifindex`, receiving frames of every protocol (`ETH_P_ALL`).
    pub(crate) fn bind_all_protocols(&self, ifindex: i32) -> io::Result<()> {
        let address = libc::sockaddr_ll {
            sll_family: libc::AF_PACKET as u16,
            sll_protocol: (libc::ETH_P_ALL as u16).to_be(),
            sll_ifindex: ifindex,
            sll_hatype: 0,
            sll_pkttype: 0,
            sll_halen: 0,
            sll_addr: [0; 8],
        };
        // SAFETY: `address` is a fully initialised sockaddr_ll that lives across the call, and the
        // length passed is its exact size.
        let rc = unsafe {
            libc::bind(
                self.fd.as_raw_fd(),
                (&raw const address).cast::<libc::sockaddr>(),
                size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        check(rc).map(drop)
    }

    /// Attaches a classic BPF filter that accepts no frame (`SO_ATTACH_FILTER`, one `ret #0`):
    /// a socket bound with it receives nothing until [`PacketSocket::detach_filter`].
    pub(crate) fn attach_drop_all_filter(&self) -> io::Result<()> {
        /// `BPF_RET | BPF_K`: return the constant `k` (0 = take no byte of the frame).
        const RET_K: u16 = 0x06;
        let program = [libc::sock_filter {
            code: RET_K,
            jt: 0,
            jf: 0,
            k: 0,
        }];
        let fprog = libc::sock_fprog {
            len: program.len() as u16,
            filter: program.as_ptr().cast_mut(),
        };
        // SAFETY: `fprog` is a fully initialised sock_fprog whose `filter` points to `program`, a
        // live array of exactly `len` instructions that outlives the call; the length passed is
        // the structure's exact size; the kernel copies the program and writes to neither.
        let rc = unsafe {
            libc::setsockopt(
                self.fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_ATTACH_FILTER,
                (&raw const fprog).cast::<c_void>(),
                size_of::<libc::sock_fprog>() as libc::socklen_t,
            )
        };
        check(rc).map(drop)
    }

    /// Removes the socket's filter (`SO_DETACH_FILTER`).
    pub(crate) fn detach_filter(&self) -> io::Result<()> {
        self.set_int_option(libc::SOL_SOCKET, libc::SO_DETACH_FILTER, 0)
    }

    /// Sets an integer socket option.
    pub(crate) fn set_int_option(&self, level: c_int, name: c_int, value: c_int) -> io::Result<()> {
        self.set_option(level, name, &value)
    }

    /// Reads an integer socket option.
    pub(crate) fn int_option(&self, level: c_int, name: c_int) -> io::Result<c_int> {
        let mut value: c_int = 0;
        self.get_option(level, name, &mut value)?;
        Ok(value)
    }

    /// Requests a TPACKET_V3 receive ring (`PACKET_RX_RING`).
    pub(crate) fn set_rx_ring(
        &self,
        block_size: u32,
        block_count: u32,
        frame_size: u32,
        retire_timeout_ms: u32,
    ) -> io::Result<()> {
        let frames_per_block = block_size.checked_div(frame_size).unwrap_or(0);
        let request = libc::tpacket_req3 {
            tp_block_size: block_size,
            tp_block_nr: block_count,
            tp_frame_size: frame_size,
            tp_frame_nr: frames_per_block.saturating_mul(block_count),
            tp_retire_blk_tov: retire_timeout_ms,
            tp_sizeof_priv: 0,
            tp_feature_req_word: 0,
        };
        self.set_option(libc::SOL_PACKET, libc::PACKET_RX_RING, &request)
    }

    /// Puts interface `ifindex` in promiscuous mode for as long as this socket is open.
    pub(crate) fn add_promiscuous_membership(&self, ifindex: i32) -> io::Result<()> {
        let request = libc::packet_mreq {
            mr_ifindex: ifindex,
            mr_type: libc::PACKET_MR_PROMISC as u16,
            mr_alen: 0,
            mr_address: [0; 8],
        };
        self.set_option(libc::SOL_PACKET, libc::PACKET_ADD_MEMBERSHIP, &request)
    }

    /// Reads and resets the ring's counters: (frames seen, frames dropped for lack of room).
    pub(crate) fn take_ring_statistics(&self) -> io::Result<(u32, u32)> {
        let mut stats = libc::tpacket_stats_v3 {
            tp_packets: 0,
            tp_drops: 0,
            tp_freeze_q_cnt: 0,
        };
        self.get_option(libc::SOL_PACKET, libc::PACKET_STATISTICS, &mut stats)?;
        Ok((stats.tp_packets, stats.tp_drops))
    }

    /// Looks up the index of interface `name` in this socket's network namespace.
    pub(crate) fn interface_index(&self, name: &str) -> io::Result<i32> {
        let mut request = interface_request(name)?;
        self.ioctl(libc::SIOCGIFINDEX, &mut request)?;
        // SAFETY: SIOCGIFINDEX succeeded, so the kernel filled the union's `ifru_ifindex` member,
        // an integer for which every bit pattern is valid.
        Ok(unsafe { request.ifr_ifru.ifru_ifindex })
    }

    /// Reads the flags, MTU and hardware address of interface `name`.
    pub(crate) fn interface_info(&self, name: &str) -> io::Result<InterfaceInfo> {
        let mut request = interface_request(name)?;
        self.ioctl(libc::SIOCGIFFLAGS, &mut request)?;
        // SAFETY: SIOCGIFFLAGS filled `ifru_flags`, a plain integer member of the union.
        let flags = unsafe { request.ifr_ifru.ifru_flags } as u16;
        let mut request = interface_request(name)?;
        self.ioctl(libc::SIOCGIFMTU, &mut request)?;
        // SAFETY: SIOCGIFMTU filled `ifru_mtu`, a plain integer member of the union.
        let mtu = unsafe { request.ifr_ifru.ifru_mtu };
        let mut request = interface_request(name)?;
        self.ioctl(libc::SIOCGIFHWADDR, &mut request)?;
        // SAFETY: SIOCGIFHWADDR filled `ifru_hwaddr`, a sockaddr of plain integers.
        let hardware = unsafe { request.ifr_ifru.ifru_hwaddr };
        let mut mac = [0u8; 6];
        for (byte, raw) in mac.iter_mut().zip(hardware.sa_data) {
            *byte = raw as u8;
        }
        Ok(InterfaceInfo {
            flags: u32::from(flags),
            mtu: u32::try_from(mtu).unwrap_or(0),
            mac,
        })
    }

    /// Sends up to [`SEND_BATCH`] frames with one `sendmmsg(MSG_DONTWAIT)` call. Returns how many
    /// were sent, from the first; an error means the first frame was not sent.
    pub(crate) fn send_frames(&self, frames: &[&[u8]]) -> io::Result<usize> {
        let count = frames.len().min(SEND_BATCH);
        if count == 0 {
            return Ok(0);
        }
        let mut iovecs = [libc::iovec {
            iov_base: std::ptr::null_mut(),
            iov_len: 0,
        }; SEND_BATCH];
        for (iovec, frame) in iovecs.iter_mut().zip(frames) {
            // The kernel only reads through this pointer (it is `*mut` in the C type only).
            iovec.iov_base = frame.as_ptr().cast_mut().cast::<c_void>();
            iovec.iov_len = frame.len();
        }
        // SAFETY: mmsghdr is a C struct of integers and pointers; all zeroes (null pointers, zero
        // lengths) is a valid value.
        let mut messages: [libc::mmsghdr; SEND_BATCH] = unsafe { std::mem::zeroed() };
        for (message, iovec) in messages.iter_mut().zip(iovecs.iter_mut()) {
            message.msg_hdr.msg_iov = iovec;
            message.msg_hdr.msg_iovlen = 1;
        }
        // SAFETY: the first `count` messages each point at one iovec in `iovecs`, and each iovec at
        // a frame borrowed for this whole call; both arrays stay in place until the call returns.
        // The kernel reads the frames and writes only the `msg_len` fields of `messages`.
        let rc = unsafe {
            libc::sendmmsg(
                self.fd.as_raw_fd(),
                messages.as_mut_ptr(),
                count as u32,
                libc::MSG_DONTWAIT,
            )
        };
        check(rc).map(|sent| sent as usize)
    }

    fn set_option<T: Copy>(&self, level: c_int, name: c_int, value: &T) -> io::Result<()> {
        // SAFETY: `value` is a live, initialised `T` (a plain C structure or integer, as all callers
        // in this module pass) and the length given is its exact size; the kernel only reads it.
        let rc = unsafe {
            libc::setsockopt(
                self.fd.as_raw_fd(),
                level,
                name,
                (value as *const T).cast::<c_void>(),
                size_of::<T>() as libc::socklen_t,
            )
        };
        check(rc).map(drop)
    }

    fn get_option<T: Copy>(&self, level: c_int, name: c_int, value: &mut T) -> io::Result<()> {
        let mut len = size_of::<T>() as libc::socklen_t;
        // SAFETY: `value` is a live `T` of plain integers (every bit pattern valid) and `len` is its
        // size; the kernel writes at most `len` bytes into it and updates `len`.
        let rc = unsafe {
            libc::getsockopt(
                self.fd.as_raw_fd(),
                level,
                name,
                (value as *mut T).cast::<c_void>(),
                &mut len,
            )
        };
        check(rc).map(drop)
    }

    fn ioctl(&self, request_code: libc::Ioctl, request: &mut libc::ifreq) -> io::Result<()> {
        // SAFETY: the interface ioctls used here read `ifr_name` (NUL-terminated, see
        // `interface_request`) and write one member of `ifr_ifru`, both inside `*request`, which is
        // a live, initialised ifreq for the whole call.
        let rc = unsafe {
            libc::ioctl(
                self.fd.as_raw_fd(),
                request_code,
                request as *mut libc::ifreq,
            )
        };
        check(rc).map(drop)
    }
}

impl AsFd for PacketSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl AsRawFd for PacketSocket {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.fd.as_raw_fd()
    }
}

/// An ifreq naming interface `name`, with the rest zeroed.
fn interface_request(name: &str) -> io::Result<libc::ifreq> {
    let bytes = name.as_bytes();
    if bytes.is_empty() || bytes.len() >= libc::IFNAMSIZ || bytes.contains(&0) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "bad interface name",
        ));
    }
    // SAFETY: ifreq is a C struct (a name array and a union of integers, sockaddrs and a pointer);
    // all zeroes is a valid value of every member.
    let mut request: libc::ifreq = unsafe { std::mem::zeroed() };
    for (slot, byte) in request.ifr_name.iter_mut().zip(bytes) {
        *slot = *byte as libc::c_char;
    }
    Ok(request)
}

/// Turns a C return code into a result, reading `errno` on -1.
fn check(rc: c_int) -> io::Result<c_int> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc)
    }
}
