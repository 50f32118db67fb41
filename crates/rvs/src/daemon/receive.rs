//! `netdev-dummy/receive`: queue packets on a dummy port as if they had arrived on it, then wait
//! until the datapath has looked them up and the handlers have dealt with the misses they caused,
//! so that a script (or a test) that sends a packet and then dumps flows sees the megaflow, as it
//! does with OVS's dummy datapath (which handles the miss before the command returns).
//!
//! # Invariants
//! * The packets take the normal path: the port's receive queue, a forwarding thread, the
//!   megaflow cache, an upcall (counters and captures included).
//! * The wait is bounded (2 s); the reply is the same whether or not it timed out, since OVS's
//!   reply carries nothing either.

use std::time::{Duration, Instant};

use rvs_dpif::dpif::Dpif;

use super::Inner;

/// How long the command waits for its packets to be handled.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(2);

/// `netdev-dummy/receive NAME [--qid N] PACKET|FLOW... [--len N]`.
pub(super) fn receive(inner: &Inner, args: &[String]) -> Result<String, String> {
    let request = rvs_flow::compose::parse_receive_args(args)?;
    let Some(dev) = super::dummy_port(inner, &request.port) else {
        return Err("no such dummy netdev".into());
    };
    if request.qid.is_some_and(|q| q != 0) {
        return Err("bad rx queue id.".into());
    }
    let looked_up = |s: &rvs_dpif::dpif::DpStats| s.n_hit + s.n_missed + s.n_lost;
    let before = looked_up(&inner.dp.dp_stats());
    let mut queued = 0u64;
    for packet in &request.packets {
        if dev.inject(packet) {
            queued += 1;
        }
    }
    let deadline = Instant::now() + SETTLE_TIMEOUT;
    // First every queued packet is looked up by a forwarding thread...
    while looked_up(&inner.dp.dp_stats()) < before + queued && Instant::now() < deadline {
        std::thread::sleep(Duration::from_micros(200));
    }
    // ...then every miss so far has been through a handler.
    let missed = inner.dp.dp_stats().n_missed;
    let left = deadline.saturating_duration_since(Instant::now());
    let _ = inner.udpif.wait_upcalls_handled(missed, left);
    Ok(String::new())
}
