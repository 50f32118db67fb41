//! Per-port packet counters.
//!
//! Invariants: counters only grow; each is an independent relaxed atomic, so a snapshot taken
//! while traffic flows may mix counts from slightly different instants (as OVS's do). Frames are
//! counted once: a frame is either received (`rx_packets`), dropped before it could be delivered
//! (`rx_dropped`) or malformed (`rx_errors`); likewise for transmit.

use std::sync::atomic::{AtomicU64, Ordering};

/// A snapshot of a port's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NetdevStats {
    /// Frames delivered by `rx_batch`.
    pub rx_packets: u64,
    /// Bytes of the frames delivered by `rx_batch`.
    pub rx_bytes: u64,
    /// Frames sent (handed to the device, the queue or the file).
    pub tx_packets: u64,
    /// Bytes of the frames sent.
    pub tx_bytes: u64,
    /// Frames lost on receive because a queue or ring was full.
    pub rx_dropped: u64,
    /// Frames not sent because a queue or buffer was full.
    pub tx_dropped: u64,
    /// Frames received malformed (truncated, unreadable).
    pub rx_errors: u64,
    /// Frames rejected on transmit (too short, too long for the MTU, refused by the device).
    pub tx_errors: u64,
}

/// The live counters behind [`NetdevStats`].
#[derive(Debug, Default)]
pub(crate) struct Counters {
    rx_packets: AtomicU64,
    rx_bytes: AtomicU64,
    tx_packets: AtomicU64,
    tx_bytes: AtomicU64,
    rx_dropped: AtomicU64,
    tx_dropped: AtomicU64,
    rx_errors: AtomicU64,
    tx_errors: AtomicU64,
}

fn add(counter: &AtomicU64, n: u64) {
    if n != 0 {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}

impl Counters {
    /// Counts `packets` frames of `bytes` total bytes received.
    pub(crate) fn rx(&self, packets: u64, bytes: u64) {
        add(&self.rx_packets, packets);
        add(&self.rx_bytes, bytes);
    }

    /// Counts `packets` frames of `bytes` total bytes sent.
    pub(crate) fn tx(&self, packets: u64, bytes: u64) {
        add(&self.tx_packets, packets);
        add(&self.tx_bytes, bytes);
    }

    /// Counts frames lost on receive.
    pub(crate) fn rx_dropped(&self, n: u64) {
        add(&self.rx_dropped, n);
    }

    /// Counts frames not sent for lack of room.
    pub(crate) fn tx_dropped(&self, n: u64) {
        add(&self.tx_dropped, n);
    }

    /// Counts malformed received frames.
    pub(crate) fn rx_errors(&self, n: u64) {
        add(&self.rx_errors, n);
    }

    /// Counts rejected transmitted frames.
    pub(crate) fn tx_errors(&self, n: u64) {
        add(&self.tx_errors, n);
    }

    /// Reads every counter.
    pub(crate) fn snapshot(&self) -> NetdevStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        NetdevStats {
            rx_packets: get(&self.rx_packets),
            rx_bytes: get(&self.rx_bytes),
            tx_packets: get(&self.tx_packets),
            tx_bytes: get(&self.tx_bytes),
            rx_dropped: get(&self.rx_dropped),
            tx_dropped: get(&self.tx_dropped),
            rx_errors: get(&self.rx_errors),
            tx_errors: get(&self.tx_errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_accumulate_independently() {
        let counters = Counters::default();
        counters.rx(2, 120);
        counters.rx(1, 60);
        counters.tx(1, 64);
        counters.rx_dropped(3);
        counters.tx_dropped(4);
        counters.rx_errors(5);
        counters.tx_errors(6);
        assert_eq!(
            counters.snapshot(),
            NetdevStats {
                rx_packets: 3,
                rx_bytes: 180,
                tx_packets: 1,
                tx_bytes: 64,
                rx_dropped: 3,
                tx_dropped: 4,
                rx_errors: 5,
                tx_errors: 6,
            }
        );
    }
}
