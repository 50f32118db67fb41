//! Forwarding threads: a thin loop around [`ForwardingThread::process_batch`] that polls ports.
//!
//! # Invariants
//! * Thread `t` of `n` polls the ports at positions `t, t + n, ...` of the current port list (re-read
//!   every round, so ports added or deleted later are picked up); each port is polled by one thread.
//! * A thread receives at most [`MAX_BURST`] frames per port per round and processes them before
//!   polling the next port; when a whole round brings nothing it waits briefly on its ports instead
//!   of spinning.
//! * [`ForwardingThreads::stop`] (or dropping the handle) stops every thread after its current round
//!   and joins it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use rvs_netdev::{MAX_BURST, PacketBatch};

use super::{Datapath, ForwardingThread};

/// How long an idle thread waits for its ports per round, in total.
const IDLE_WAIT: Duration = Duration::from_millis(1);

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
    let mut batch = PacketBatch::new();
    while !stop.load(Ordering::Acquire) {
        let ports = dp.shared.ports.load_full();
        let mine: Vec<_> = ports
            .iter()
            .skip(index)
            .step_by(n.max(1))
            .cloned()
            .collect();
        let mut received = 0;
        for port in &mine {
            // A port that fails to receive is skipped this round (its counters say why).
            let got = port.netdev.rx_batch(&mut batch).unwrap_or(0);
            if got > 0 {
                received += got;
                ctx.process_batch(port.port_no, &mut batch, dp.shared.clock.now_ms());
            }
            batch.clear();
        }
        if received == 0 {
            ctx.idle(dp.shared.clock.now_ms());
            let per_port = IDLE_WAIT / u32::try_from(mine.len().max(1)).unwrap_or(1);
            match mine.first() {
                Some(_) => {
                    for port in &mine {
                        if port.netdev.wait_readable(per_port).unwrap_or(false) {
                            break;
                        }
                    }
                }
                None => std::thread::sleep(IDLE_WAIT),
            }
        }
        debug_assert!(batch.len() <= MAX_BURST);
    }
}
