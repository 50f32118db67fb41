//! Grace periods (quiescent-state based, as in userspace RCU): a flow delete waits until no
//! forwarding context can still add statistics to a flow it classified before the delete, so the
//! final statistics it reads are final.
//!
//! # Protocol
//! * A global `epoch` starts at 1 and is only increased (one read-modify-write per grace period,
//!   never on the packet path).
//! * Each forwarding context owns a [`QuiescentReader`]: one cache-padded word that only it
//!   changes. `0` means *offline* (idle, waiting for packets, inside a blocking callback: it holds no
//!   flow it has classified without having counted it); any other value is the epoch the context
//!   read at its last *quiescent point* (the start of a batch).
//! * [`QuiescentReader::enter`] is that quiescent point: the context loads the epoch (Acquire; a
//!   line written once per grace period) and, only if it changed or the context was offline, swaps
//!   it into its word (AcqRel). The packet path thus costs one load and a compare per chunk: no
//!   shared write, and no RMW except once per grace period on the context's own line.
//! * [`QuiescentReader::leave`] swaps 0 in (Release) after the context added the statistics of
//!   everything it classified.
//! * Every write to a word is an RMW (swaps by the owner, `fetch_or(0)` by waiters). Plain stores
//!   would do for the owner in the memory model, but loom 0.7 can place a plain store before RMWs
//!   that read the value it overwrote, and then cannot check the models.
//! * [`GracePeriods::synchronize`], called after the flows were marked dead and taken out of the
//!   classifiers: bumps the epoch to `target`, then for every registered word does one RMW
//!   (`fetch_or(0)`, which reads the latest value) until it reads 0 or a value ≥ `target`.
//!
//! # Why it is exact
//! * Reading `v ≥ target`: the context loaded the epoch after the bump (Acquire on the epoch pairs
//!   with the bump's Release), so everything it classifies after that store misses the deleted
//!   flows; the Release swap of `v` publishes every statistics update it made before.
//! * Reading 0: the context's updates before `leave` are published by that Release swap. If it comes
//!   back online, its swap is after the waiter's RMW in the word's modification order (the waiter
//!   read 0), so the swap reads the waiter's write (or a later one) and synchronizes with it: the
//!   context sees the removal.
//! * Reading `0 < v < target`: the waiter waits and decides again on an RMW, not on a load: a load
//!   could return an OFFLINE that was already followed by the context going online again at an old
//!   epoch (it read the epoch before the bump) and classifying to a deleted flow. The RMWs write a
//!   context's line only while a delete waits for that context.
//!
//! # Invariants
//! * Only the owning context stores to its word; the waiter's RMW writes back the value it read.
//! * Statistics ids are not recycled by this module: a flow's id is freed only when its last
//!   reference drops (the forwarding context holds one while it adds), so a late update can never
//!   land on a later flow.
//! * The wait is bounded: after [`GracePeriods::synchronize`]'s timeout it gives up on the contexts
//!   still online and returns `false`, and the caller counts it (`datapath_grace_period_timeout`);
//!   the statistics it then reads may miss the updates of those contexts' current batch.
//! * The loom models (`grace_loom.rs`) check the decision of [`GraceWait::poll`] (a spin loop of
//!   RMWs is beyond loom 0.7: it reports a livelock), the stress tests the waiting.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_utils::CachePadded;

use super::sync::{AtomicU64, Mutex, Ordering, spin_wait};

/// The word of an offline context.
const OFFLINE: u64 = 0;
/// Busy-wait rounds before a waiter starts yielding its core.
/// Yields before a waiting delete starts sleeping.
const YIELDS_BEFORE_SLEEP: u32 = 8;
/// First sleep of a waiting delete; doubled each time up to [`LONGEST_NAP`].
const FIRST_NAP: Duration = Duration::from_micros(20);
/// Longest sleep of a waiting delete.
const LONGEST_NAP: Duration = Duration::from_micros(500);
const SPINS_BEFORE_YIELD: u32 = 64;

/// The grace-period state shared by the waiters and every context (see the module documentation).
#[derive(Clone, Debug, Default)]
pub struct GracePeriods {
    shared: Arc<GraceShared>,
}

#[derive(Debug)]
struct GraceShared {
    /// The current epoch (≥ 1).
    epoch: CachePadded<AtomicU64>,
    /// Every registered context's word.
    readers: Mutex<Vec<Arc<CachePadded<AtomicU64>>>>,
}

impl Default for GraceShared {
    fn default() -> Self {
        Self {
            epoch: CachePadded::new(AtomicU64::new(1)),
            readers: Mutex::default(),
        }
    }
}

/// A forwarding context's quiescent-state word (see the module documentation). Starts offline.
#[derive(Debug)]
pub struct QuiescentReader {
    shared: Arc<GraceShared>,
    word: Arc<CachePadded<AtomicU64>>,
    /// The value last stored, [`OFFLINE`] when offline.
    announced: u64,
}

impl GracePeriods {
    /// Grace periods with no context registered.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a new forwarding context (offline until its first [`QuiescentReader::enter`]).
    pub fn register(&self) -> QuiescentReader {
        let word = Arc::new(CachePadded::new(AtomicU64::new(OFFLINE)));
        self.shared.readers.lock().push(Arc::clone(&word));
        QuiescentReader {
            shared: Arc::clone(&self.shared),
            word,
            announced: OFFLINE,
        }
    }

    /// Waits until every context that was online when the call started has passed a quiescent
    /// point or gone offline. Call it after the flows were made unreachable (dead, out of the
    /// classifiers): when it returns `true`, no context can add to their statistics any more.
    ///
    /// Busy-waits briefly, yields a few times, then sleeps (20 µs doubling to 0.5 ms); gives up after
    /// `timeout` and returns `false`. Never call it
    /// from an online context (it would wait for itself).
    pub fn synchronize(&self, timeout: Duration) -> bool {
        self.begin().wait(Instant::now(), timeout)
    }

    /// Starts a grace period: bumps the epoch. [`GraceWait::poll`] then tells whether it is over.
    pub(crate) fn begin(&self) -> GraceWait {
        let target = self.shared.epoch.fetch_add(1, Ordering::AcqRel) + 1;
        let pending = self.shared.readers.lock().clone();
        GraceWait { target, pending }
    }

    /// Number of registered contexts.
    pub fn readers(&self) -> usize {
        self.shared.readers.lock().len()
    }
}

impl GraceWait {
    /// Waits for the grace period (see [`GracePeriods::synchronize`]) until `started + timeout`;
    /// false if it gave up.
    pub(crate) fn wait(&mut self, started: Instant, timeout: Duration) -> bool {
        let wait = self;
        let mut spins = 0u32;
        let mut yields = 0u32;
        let mut nap = FIRST_NAP;
        while !wait.poll() {
            if spins < SPINS_BEFORE_YIELD {
                spins += 1;
                spin_wait();
            } else if started.elapsed() >= timeout {
                return false;
            } else if yields < YIELDS_BEFORE_SLEEP {
                yields += 1;
                std::thread::yield_now();
            } else {
                // The context is descheduled or in a long batch: sleep instead of burning the
                // CPU it may need to get there (2 cores are shared with the generator).
                std::thread::sleep(nap);
                nap = (nap * 2).min(LONGEST_NAP);
            }
        }
        true
    }
}

/// A grace period in progress (see [`GracePeriods::begin`]).
#[derive(Debug)]
pub(crate) struct GraceWait {
    /// The epoch the contexts must reach (or be offline).
    target: u64,
    /// The words of the contexts not yet seen past the grace period.
    pending: Vec<Arc<CachePadded<AtomicU64>>>,
}

impl GraceWait {
    /// True once every context was seen offline or at an epoch ≥ the target. Decides only on
    /// values read by an RMW (`fetch_or(0)`), which reads the latest value of a word (see the
    /// module documentation); a context seen past the grace period is not looked at again.
    pub(crate) fn poll(&mut self) -> bool {
        let target = self.target;
        self.pending.retain(|word| {
            let seen = word.fetch_or(0, Ordering::AcqRel);
            seen != OFFLINE && seen < target
        });
        self.pending.is_empty()
    }
}

impl QuiescentReader {
    /// A quiescent point: the context counted everything it classified so far and is about to
    /// classify more. Goes online if it was offline.
    #[inline]
    pub fn enter(&mut self) {
        let epoch = self.shared.epoch.load(Ordering::Acquire);
        if self.announced == OFFLINE {
            // Synchronizes with a waiter that read OFFLINE (see the module documentation).
            self.word.swap(epoch, Ordering::AcqRel);
            self.announced = epoch;
        } else if epoch != self.announced {
            // Once per grace period: an RMW on the context's own line, like every write to it.
            self.word.swap(epoch, Ordering::Release);
            self.announced = epoch;
        }
    }

    /// Goes offline (a no-op when already offline): the context counted everything it classified and will not use a classified
    /// flow again before its next [`QuiescentReader::enter`].
    #[inline]
    pub fn leave(&mut self) {
        if self.announced != OFFLINE {
            self.word.swap(OFFLINE, Ordering::Release);
            self.announced = OFFLINE;
        }
    }

    /// True between [`QuiescentReader::enter`] and [`QuiescentReader::leave`].
    pub fn is_online(&self) -> bool {
        self.announced != OFFLINE
    }
}

impl Drop for QuiescentReader {
    fn drop(&mut self) {
        self.leave();
        let mut readers = self.shared.readers.lock();
        readers.retain(|w| !Arc::ptr_eq(w, &self.word));
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn offline_and_caught_up_contexts_do_not_block() {
        let grace = GracePeriods::new();
        let mut a = grace.register();
        let mut b = grace.register();
        assert!(grace.synchronize(Duration::ZERO), "both offline");
        a.enter();
        b.enter();
        b.leave();
        // `a` is online at an old epoch: a zero timeout gives up on it.
        assert!(!grace.synchronize(Duration::ZERO));
        // A quiescent point after the bump catches up.
        a.enter();
        assert!(a.is_online());
        let before = grace.shared.epoch.load(Ordering::Relaxed);
        let waiter = {
            let grace = grace.clone();
            std::thread::spawn(move || grace.synchronize(Duration::from_secs(30)))
        };
        while grace.shared.epoch.load(Ordering::Relaxed) == before {
            std::thread::yield_now();
        }
        a.enter();
        assert!(waiter.join().expect("waiter"));
        drop(a);
        assert_eq!(grace.readers(), 1);
        assert!(grace.synchronize(Duration::ZERO));
    }
}
