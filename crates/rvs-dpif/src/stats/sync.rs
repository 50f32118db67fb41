//! The one place where the statistics code gets its synchronization primitives.
//!
//! In a normal build these are `std` atomics and a `parking_lot` mutex. Under `--cfg loom` they
//! are loom's model-checked versions, so the loom models in `loom_models.rs` explore every
//! interleaving (and every permitted stale read) of exactly the code that ships.
//!
//! Invariants: every atomic, fence, mutex and spin-wait in `stats/` comes from this module; no other
//! non-test file in `stats/` names `std::sync::atomic` or `loom` directly. (`std::sync::OnceLock`, which
//! publishes freshly allocated rows, is used as is: rows are only ever initialized under the table
//! mutex, so the models never race on it.)

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering, fence};
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering, fence};

/// Tells the processor (or, under loom, the scheduler) that the caller is busy-waiting for another
/// thread. Loom needs this to schedule the thread being waited for instead of reporting a livelock.
#[inline]
pub(crate) fn spin_wait() {
    #[cfg(loom)]
    loom::hint::spin_loop();
    #[cfg(not(loom))]
    std::hint::spin_loop();
}

/// A mutex whose `lock` cannot fail (poisoning is ignored: the protected data is kept consistent
/// at every point where user code could panic).
#[derive(Debug, Default)]
pub(crate) struct Mutex<T> {
    #[cfg(loom)]
    inner: loom::sync::Mutex<T>,
    #[cfg(not(loom))]
    inner: parking_lot::Mutex<T>,
}

/// The guard returned by [`Mutex::lock`].
#[cfg(loom)]
pub(crate) type MutexGuard<'a, T> = loom::sync::MutexGuard<'a, T>;
/// The guard returned by [`Mutex::lock`].
#[cfg(not(loom))]
pub(crate) type MutexGuard<'a, T> = parking_lot::MutexGuard<'a, T>;

impl<T> Mutex<T> {
    /// Blocks until the lock is held.
    pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
        #[cfg(loom)]
        return self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        #[cfg(not(loom))]
        return self.inner.lock();
    }
}
