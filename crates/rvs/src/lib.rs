//! The `rvs` daemon and its command-line tools, as a library so that the binary stays thin and
//! the end-to-end tests can reach the same pieces.
//!
//! * [`config`]: the TOML configuration (bridges, ports, thread counts, flow-cache knobs, rules).
//! * [`ofproto_dpif`]: OpenFlow bridges (`rvs-ofproto`) presented to the upcall engine as its
//!   translator.
//! * [`vlog`]: `tracing` logging with OVS-style modules and levels changeable at run time.
//! * [`coverage_report`]: `coverage/show` text with OVS's rate columns.
//! * [`clock`]: the real monotonic clock the core crates are handed.
//! * [`daemon`]: `rvs vswitchd`, the running switch and its control-socket commands.
//! * [`rundir`]: pidfile and control-socket locations.
//! * [`cli`]: the command line (`vswitchd`, `appctl`, `ofctl`, `dpctl`, `demo`).
//! * [`demo`]: `rvs demo`.
//!
//! # Invariants
//! * Only this crate (and `rvs-netdev`, `rvs-ctl`) touches the OS: clocks, sockets, signals, files.
//! * Nothing that arrives from outside (config text, control-socket requests, packets) can panic
//!   the daemon; it is answered with an error.

pub mod cli;
pub mod clock;
pub mod config;
pub mod coverage_report;
pub mod daemon;
pub mod demo;
pub mod ofproto_dpif;
pub mod rundir;
pub mod vlog;

/// The global allocator this binary was built with: `mimalloc` with the `mimalloc` feature,
/// otherwise `system` (the C library's malloc). The daemon logs it at start, since it changes
/// the CPU cost of flow churn and the resident memory (see the feature's note in Cargo.toml).
pub fn allocator_name() -> &'static str {
    if cfg!(feature = "mimalloc") {
        "mimalloc"
    } else {
        "system"
    }
}
