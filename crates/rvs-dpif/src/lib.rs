//! `rvs-dpif`: the datapath interface and the userspace datapath of rvs.
//!
//! * [`dpcls`]: the megaflow classifier (one subtable per mask, ranked by hits, lock-free reads).
//!
//! # Invariants
//! Pure: no syscalls, no clock reads (time is passed in), no `unsafe`.

pub mod dpcls;
