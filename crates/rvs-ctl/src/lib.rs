//! `rvs-ctl`: the control socket of rvs, wire-compatible with Open vSwitch 3.1's `ovs-appctl`.
//!
//! * [`jsonrpc`]: JSON-RPC 1.0 messages as OVS classifies them, and an incremental [`jsonrpc::Decoder`]
//!   for a byte stream of back-to-back JSON objects (no delimiter, no length prefix).
//! * [`unixctl`]: the command registry ([`unixctl::Commands`]), the Unix-socket [`unixctl::Server`]
//!   (one thread per connection) and the blocking [`unixctl::Client`], plus the `ovs-appctl -t`
//!   target resolution and terminal formatting rules.
//!
//! # Invariants
//! Nothing here panics on bytes that came from a peer: every malformed input is a [`jsonrpc::DecodeError`]
//! or an error reply. No `unsafe`. The only OS resources touched are the Unix socket (and its file)
//! and the pidfile read by [`unixctl::resolve_target`].

pub mod jsonrpc;
pub mod unixctl;
