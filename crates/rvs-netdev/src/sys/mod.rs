//! The only place in rvs where `unsafe` code lives: Linux `AF_PACKET` sockets, their ioctls and
//! socket options, and the memory-mapped TPACKET_V3 receive ring.
//!
//! Invariants:
//! - Every `unsafe` block carries a `// SAFETY:` comment naming the precondition it relies on.
//! - Everything exported from here is safe to call: raw pointers, unions and C structs do not
//!   leave this module except as plain numbers, byte slices tied to a borrow, or owned handles.
//! - A ring block's bytes are handed out only while userspace owns the block (status
//!   `TP_STATUS_USER`) and only through `&mut` access to the ring, so no two views of one block
//!   coexist and none outlives the moment the block is given back to the kernel.
#![allow(unsafe_code)]

mod ring;
mod socket;

pub(crate) use ring::RxRing;
pub(crate) use socket::{InterfaceInfo, PacketSocket};
