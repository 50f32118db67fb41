//! `rvs-dpif`: the datapath interface and the userspace datapath of rvs.
//!
//! * [`dpcls`]: the megaflow classifier (one subtable per mask, ranked by hits, lock-free reads).
//! * [`dpctl`]: the `dpctl/*` control-socket commands (text in, text out).
//! * [`stats`]: per-thread flow statistics (lock-free per-thread updates, summed reads, exact clears).
//! * [`datapath`]: the userspace datapath (ports, megaflow cache, forwarding contexts, upcall queues),
//!   implementing [`dpif::Dpif`]; [`emc`] is its per-thread exact-match cache, [`execute`] runs
//!   datapath actions on packets, [`clock`] gives it time.
//!
//! # Invariants
//! No clock reads (time is passed in, or read from a [`clock::Clock`]), no `unsafe`. The only
//! syscalls are port I/O through `rvs_netdev::Netdev` and the forwarding threads of
//! `datapath::threads`; everything else is pure.

pub mod clock;
pub mod datapath;
pub mod dpcls;
pub mod dpctl;
pub mod dpif;
pub mod emc;
pub mod execute;
pub mod stats;
