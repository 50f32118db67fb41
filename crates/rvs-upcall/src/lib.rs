//! `rvs-upcall`: the upcall handlers, revalidators, ukeys and dynamic flow limit of rvs, over the
//! [`rvs_dpif::dpif::Dpif`] contract (Open vSwitch's `ofproto-dpif-upcall`, ovs-upcall.md §1–§5).
//!
//! * [`udpif::Udpif`] is the shared state of one engine (ukey maps, sequence numbers, flow limit,
//!   counters). Its methods are the sans-IO core: [`udpif::Udpif::handle_upcalls`] runs one
//!   handler batch, [`udpif::Udpif::begin_round`] / [`udpif::Udpif::run_round`] run a
//!   revalidation round step by step on the calling thread.
//! * [`inline::InlineUpcalls`] lets a datapath's forwarding threads handle misses themselves
//!   (translate, install, execute; no queue), as OVS's userspace datapath does.
//! * [`threads::UpcallEngine`] runs the same code in handler and revalidator threads (fixed leader,
//!   three barriers, pause/resume/purge/wait, thread-count changes without losing ukeys).
//! * [`xlate::Translator`] is what the engine needs from OpenFlow translation.
//! * [`testing`] has an in-memory fake datapath and a fake translator (for tests and benches).
//!
//! # Invariants
//! * No OS clock reads (time comes from a [`rvs_dpif::clock::Clock`]), no `unsafe`, no sockets;
//!   the only OS resources are the engine's threads.
//! * Every packet is credited to OpenFlow rules exactly once: the miss packet by its handler,
//!   datapath hits as deltas by revalidators (at most once per flow and dump), the rest on delete.
//! * A ukey leaves the maps only in the sweep or purge (or when an upcall replaces an EVICTED one).

pub mod config;
pub mod coverage;
pub mod env;
pub mod handler;
pub mod inline;
pub mod log;
pub mod notify;
pub mod revalidator;
mod show;
mod sync;
pub mod testing;
pub mod threads;
pub mod udpif;
pub mod ukey;
pub mod xlate;

#[cfg(all(test, loom))]
mod loom_models;

pub use rvs_dpif::clock::{Clock, VirtualClock};
pub use threads::{RevalidatorStart, UpcallEngine};
pub use udpif::Udpif;
