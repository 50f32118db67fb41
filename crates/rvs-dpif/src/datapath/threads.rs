//! Forwarding threads: a thin loop around [`ForwardingThread::process_batch`] that polls ports.
//!
//! # Invariants
//! * Thread `t` of `n` polls the receive queues at positions `t, t + n, ...` of the current list of
//!   every port's queues, port by port (re-read every round, so ports added or deleted later are
//!   picked up); each queue is polled by one thread. A port with one queue is polled by one thread;
//!   the queues of a multi-queue port (`n_rxq`) are spread over the threads.
//! * A thread receives at most [`MAX_BURST`] frames per port per round and processes them before
//!   polling the next port; when a whole round brings nothing it waits instead of spinning. If
//!   every one of its ports has a descriptor to poll, it waits on all of them at once, for
//!   [`IDLE_WAIT`] in the first [`SHORT_WAIT_ROUNDS`] idle rounds and then for [`LONG_IDLE_WAIT`]
//!   (a frame on any port ends the wait at once; the longer wait only delays picking up port
//!   changes and `stop`), doing its idle housekeeping after each long wait. Otherwise it waits
//!   [`IDLE_WAIT`] on the port that received last (the others are polled every round) and does
//!   its housekeeping once every [`IDLE_ROUNDS_PER_HOUSEKEEPING`] idle rounds.
//! * A thread stays online for grace periods (`stats::grace`) while it receives packets, passing a
//!   quiescent point at each batch, and goes offline before it idles.
//! * [`ForwardingThreads::stop`] (or dropping the handle) stops every thread after its current round
//!   and joins it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use rvs_netdev::{MAX_BURST, PacketBatch};

use super::ports::{Port, PortTable};
use super::{Datapath, ForwardingThread};

/// How long an idle thread waits for its ports per round, in total.
const IDLE_WAIT: Duration = Duration::from_millis(1);
/// How long a thread idle for more than [`SHORT_WAIT_ROUNDS`] rounds waits when it can wait on
/// all its ports at once: ten times fewer wake-ups of an idle daemon (a thread woken each
/// millisecond took 8–12 % of a core and preempted the revalidators on a 2-core machine).
const LONG_IDLE_WAIT: Duration = Duration::from_millis(10);
/// Idle rounds waited with [`IDLE_WAIT`] before [`LONG_IDLE_WAIT`] is used.
const SHORT_WAIT_ROUNDS: u32 = 20;
/// Idle housekeeping (cache sweep, classifier re-ranking) runs once in this many idle rounds
/// (about every 10 ms of idleness; counted in rounds, so a stopped clock does not stop it): doing
/// it every round (each millisecond) cost an idle daemon several percent of a core.
const IDLE_ROUNDS_PER_HOUSEKEEPING: u32 = 10;

/// Running forwarding threads.
pub struct ForwardingThreads {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl ForwardingThreads {
    /// Number of threads running.
    pub fn len(&self) -> usize {
        self.threads.len()
    }

    /// True if no thread runs.
    pub fn is_empty(&self) -> bool {
        self.threads.is_empty()
    }

    /// Stops every thread and waits for it.
    pub fn stop(mut self) {
        self.stop_and_join();
    }

    fn stop_and_join(&mut self) {
        self.stop.store(true, Ordering::Release);
        for t in self.threads.drain(..) {
            // A thread that panicked has nothing left to clean up.
            let _ = t.join();
        }
    }
}

impl Drop for ForwardingThreads {
    fn drop(&mut self) {
        self.stop_and_join();
    }
}

impl Datapath {
    /// Starts `n` forwarding threads (ids 0..n) polling the ports; time comes from the datapath's
    /// clock. Fails only if a thread cannot be spawned or a statistics writer registered.
    pub fn spawn_forwarding_threads(&self, n: usize) -> std::io::Result<ForwardingThreads> {
        let stop = Arc::new(AtomicBool::new(false));
        // Threads already started are stopped by the handle's drop if a later one fails.
        let mut handle = ForwardingThreads {
            stop: Arc::clone(&stop),
            threads: Vec::with_capacity(n),
        };
        for id in 0..n {
            let pmd_id = u32::try_from(id).unwrap_or(u32::MAX - 1);
            let Some(ctx) = self.forwarding_thread(pmd_id) else {
                return Err(std::io::Error::other("no statistics writer available"));
            };
            let dp = self.clone();
            let stop = Arc::clone(&stop);
            let t = std::thread::Builder::new()
                .name(format!("rvs-fwd{id}"))
                .spawn(move || poll_loop(&dp, ctx, id, n, &stop))?;
            handle.threads.push(t);
        }
        Ok(handle)
    }
}

/// The loop of forwarding thread `index` of `n`.
fn poll_loop(dp: &Datapath, mut ctx: ForwardingThread, index: usize, n: usize, stop: &AtomicBool) {
    reserve_allocator_arena();
    let mut batch = PacketBatch::new();
    let mut table = dp.shared.ports.load_full();
    let mut mine = my_ports(&table, index, n);
    // Position in `mine` of the port that received last: waited on first when idle.
    let mut last_active = 0;
    let mut idle_rounds = 0u32;
    // Idle rounds in a row waited on all ports at once (reset by any frame).
    let mut idle_streak = 0u32;
    while !stop.load(Ordering::Acquire) {
        let current = dp.shared.ports.load_full();
        if !Arc::ptr_eq(&current, &table) {
            table = current;
            mine = my_ports(&table, index, n);
            last_active = 0;
        }
        let mut received = 0;
        for (pos, (port, queue)) in mine.iter().enumerate() {
            // A port that fails to receive is skipped this round (its counters say why).
            let got = port.netdev.rx_batch_queue(*queue, &mut batch).unwrap_or(0);
            if got > 0 {
                received += got;
                last_active = pos;
                ctx.process_batch_staying_online(
                    port.port_no,
                    &mut batch,
                    dp.shared.clock.now_ms(),
                );
            }
            batch.clear();
        }
        if received == 0 {
            // Deletes must not wait for an idle thread.
            ctx.go_offline();
            let long = idle_streak >= SHORT_WAIT_ROUNDS;
            if long || idle_rounds.is_multiple_of(IDLE_ROUNDS_PER_HOUSEKEEPING) {
                ctx.idle(dp.shared.clock.now_ms());
            }
            idle_rounds = idle_rounds.wrapping_add(1);
            let wait = if long { LONG_IDLE_WAIT } else { IDLE_WAIT };
            if wait_for_all_ports(&mine, wait) {
                idle_streak = idle_streak.saturating_add(1);
            } else {
                // Some port cannot be polled with the others: the short wait on one port.
                wait_for_ports(&mine, last_active);
            }
        } else {
            idle_streak = 0;
        }
        debug_assert!(batch.len() <= MAX_BURST);
    }
}

/// A port's receive queue, as a forwarding thread polls it.
type PortQueue = (Arc<Port>, usize);

/// The receive queues thread `index` of `n` polls: positions `index, index + n, ...` of the list
/// of every port's queues (port by port, queue by queue).
fn my_ports(table: &PortTable, index: usize, n: usize) -> Vec<PortQueue> {
    table
        .iter()
        .flat_map(|port| (0..port.netdev.n_rxq().max(1)).map(move |q| (Arc::clone(port), q)))
        .skip(index)
        .step_by(n.max(1))
        .collect()
}

/// Waits up to `wait` for any of `ports` to become readable, in one `poll(2)`; false (without
/// waiting) if one of them has no descriptor to poll. A failed wait counts as done: the ports are
/// polled again next round.
fn wait_for_all_ports(ports: &[PortQueue], wait: Duration) -> bool {
    let queues: Vec<(&dyn rvs_netdev::Netdev, usize)> =
        ports.iter().map(|(p, q)| (&*p.netdev, *q)).collect();
    rvs_netdev::wait_any_queue_readable(&queues, wait).is_some()
}

/// Waits up to [`IDLE_WAIT`] for the port at `active` (the last to receive, most likely to
/// receive next) to become readable. The other ports are polled at the start of every round, so a
/// frame on them waits at most [`IDLE_WAIT`]; one wait per round (instead of one per port) keeps
/// an idle thread's wake-ups to about one a millisecond.
fn wait_for_ports(ports: &[PortQueue], active: usize) {
    match ports.get(active).or_else(|| ports.first()) {
        Some((port, queue)) => {
            // A port that cannot wait (an error) is polled again next round.
            let _ = port.netdev.wait_readable_queue(*queue, IDLE_WAIT);
        }
        None => std::thread::sleep(IDLE_WAIT),
    }
}

/// Address space a forwarding thread reserves in its allocator arena when it starts.
const ARENA_RESERVE_BYTES: usize = 56 << 20;
/// Size of each block of the reservation: below the allocator's smallest `mmap` threshold
/// (128 KiB), so the blocks come from the thread's arena, not from `mmap`.
const ARENA_RESERVE_BLOCK: usize = 96 << 10;

/// Grows this thread's allocator arena by [`ARENA_RESERVE_BYTES`] and gives the memory back.
///
/// Inline misses allocate about 1 KB per new flow on the forwarding thread (flow record, ukey,
/// index entries). glibc extends a thread's (non-main) arena one page at a time, with an
/// `mprotect` call each time: a burst of new flows paid a system call every few flows (9 % of the
/// thread's time in a 50,000-flow burst). An arena remembers how far it was ever made writable,
/// so growing it once here and freeing the blocks again (the arena then trims them: their pages go
/// back to the system, resident memory does not change) lets later growth within that size skip
/// the calls. The blocks are never written (only the allocator's headers touch their first
/// page), and with another allocator this is just a short-lived allocation. An allocation the
/// system refuses (strict overcommit) ends the reservation early instead of aborting.
fn reserve_allocator_arena() {
    let n = ARENA_RESERVE_BYTES / ARENA_RESERVE_BLOCK;
    let mut blocks: Vec<Vec<u8>> = Vec::new();
    if blocks.try_reserve_exact(n).is_err() {
        return;
    }
    for _ in 0..n {
        let mut block = Vec::new();
        if block.try_reserve_exact(ARENA_RESERVE_BLOCK).is_err() {
            break;
        }
        blocks.push(block);
    }
    drop(std::hint::black_box(blocks));
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use rvs_netdev::{DummyNetdev, Netdev, NetdevKind, NetdevStats, Packet, PacketBatch};

    use super::*;

    /// A dummy port that claims `n` receive queues.
    struct MultiQueue {
        inner: DummyNetdev,
        n: usize,
    }

    impl Netdev for MultiQueue {
        fn name(&self) -> &str {
            self.inner.name()
        }
        fn kind(&self) -> NetdevKind {
            self.inner.kind()
        }
        fn rx_batch(&self, out: &mut PacketBatch) -> rvs_netdev::Result<usize> {
            self.inner.rx_batch(out)
        }
        fn n_rxq(&self) -> usize {
            self.n
        }
        fn tx_batch(&self, frames: &[Packet]) -> rvs_netdev::Result<usize> {
            self.inner.tx_batch(frames)
        }
        fn wait_readable(&self, timeout: Duration) -> rvs_netdev::Result<bool> {
            self.inner.wait_readable(timeout)
        }
        fn stats(&self) -> NetdevStats {
            self.inner.stats()
        }
        fn link_up(&self) -> rvs_netdev::Result<bool> {
            self.inner.link_up()
        }
        fn mtu(&self) -> rvs_netdev::Result<u32> {
            self.inner.mtu()
        }
        fn mac(&self) -> rvs_netdev::Result<rvs_netdev::EthAddr> {
            self.inner.mac()
        }
    }

    fn port(no: u32, name: &str, queues: usize) -> Port {
        Port {
            port_no: no,
            name: name.into(),
            kind: "dummy".into(),
            config: Vec::new(),
            netdev: Arc::new(MultiQueue {
                inner: DummyNetdev::new(name),
                n: queues,
            }),
        }
    }

    fn names(queues: &[PortQueue]) -> Vec<(u32, usize)> {
        queues.iter().map(|(p, q)| (p.port_no, *q)).collect()
    }

    #[test]
    fn the_queues_of_a_multi_queue_port_go_to_different_threads() {
        let table = PortTable::default()
            .with(port(1, "p1", 2))
            .with(port(2, "p2", 1));
        assert_eq!(names(&my_ports(&table, 0, 2)), [(1, 0), (2, 0)]);
        assert_eq!(names(&my_ports(&table, 1, 2)), [(1, 1)]);
        // One thread polls everything; every queue is polled by exactly one thread.
        assert_eq!(names(&my_ports(&table, 0, 1)), [(1, 0), (1, 1), (2, 0)]);
        let mut all: Vec<(u32, usize)> = (0..3)
            .flat_map(|t| names(&my_ports(&table, t, 3)))
            .collect();
        all.sort_unstable();
        assert_eq!(all, [(1, 0), (1, 1), (2, 0)]);
    }
}
