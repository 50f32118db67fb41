//! `rvs-flow`: the flow layer of rvs.
//!
//! * [`flow`]: the [`Flow`] key, its [`Wildcards`] mask and [`Match`], with word-wise masked hashing
//!   and comparison (the inner loop of every classifier in rvs).
//! * [`compose`]: flow → packet (OVS's `flow_compose`) and the `netdev-dummy/receive` arguments.
//! * [`extract`]: Ethernet frame + metadata → [`Flow`], for every protocol the key knows, tolerant of
//!   truncated and malformed packets.
//! * [`odp`]: the datapath flow text of `ovs-appctl dpctl/dump-flows` (keys, masks, actions), both ways.
//! * [`ofp_match`]: the `ovs-ofctl` match syntax, both ways, with prerequisite checks.
//! * [`ufid`]: unique flow ids (MurmurHash3 x64_128 of the key, UUIDv4 bits, OVS's text form).
//! * [`text`]: shared lexical helpers and the positioned [`ParseError`].
//!
//! # Invariants
//! This crate is pure: no I/O, no clock, no threads, no `unsafe`. No function panics on input that
//! came from outside (packets, text); failures are values.

pub mod compose;
pub mod extract;
pub mod flow;
pub mod odp;
pub mod ofp_match;
pub mod text;
pub mod ufid;

pub use flow::{FLOW_WORDS, Flow, Match, VlanHeader, Wildcards};
pub use text::ParseError;
