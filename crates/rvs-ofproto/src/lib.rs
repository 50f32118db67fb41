//! `rvs-ofproto`: the OpenFlow side of rvs (see `shared/reference/design.md`).
//!
//! Modules:
//! * [`actions`]: OpenFlow actions — the `ovs-ofctl` action syntax both ways, consistency checks
//!   against a rule's match, and the form actions take after crossing the wire in OpenFlow 1.0
//!   or 1.3.
//! * [`table`]: OpenFlow rules and the 255 versioned tables — flow mods with Open vSwitch's
//!   semantics, flow-text parsing, `dump-flows` output, counters and timeouts.
//! * [`classifier`]: the OpenFlow classifier — tuple space search with staged lookup, prefix
//!   tries and versioned rules, returning the rule a packet hits together with the wildcards
//!   (megaflow mask bits) that answer depended on.
//! * [`mac_learning`]: the MAC learning table of NORMAL (aging, per-VLAN, fair LRU eviction,
//!   moves, static entries, `fdb/show` text, revalidation tags).
//! * [`vlan`]: port VLAN modes (access, trunk, native, dot1q-tunnel) and NORMAL's VLAN decisions.
//! * [`xlate`]: translation of a flow through the tables into datapath actions, with the
//!   megaflow mask and the cache side effects (rules hit, MAC learning), NORMAL included, and
//!   `ofproto/trace` text.
//!
//! # Invariants
//! This crate is pure like `rvs-flow`: no I/O, no clock, no threads of its own, no `unsafe`;
//! nothing panics on input that came from outside. Time is passed in. The one lock is inside
//! [`mac_learning::MacLearning`], which handlers and revalidators share.

pub mod actions;
pub mod classifier;
pub mod mac_learning;
pub mod table;
pub mod vlan;
pub mod xlate;
