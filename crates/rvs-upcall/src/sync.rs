//! The one place where the engine gets the primitives that its loom models check.
//!
//! In a normal build these are `std` atomics and `parking_lot` mutexes; under `--cfg loom` they are
//! loom's model-checked versions, so the models in `loom_models.rs` explore the interleavings of
//! exactly the code that ships: ukey and shard mutexes, the revalidator barriers and latches.
//!
//! # Invariants
//! * Every mutex, condition variable and barrier used by the ukey maps and by the revalidator round
//!   loop comes from here. Locks are never poisoned: the protected data is consistent at every point
//!   where user code could panic, so a poisoned loom lock is simply taken over.
//! * [`Barrier`] is reusable: the `n`-th arrival of a generation releases the `n - 1` waiters of that
//!   generation and starts a new one; a waiter never leaves before the whole generation arrived.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicBool, Ordering};
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicBool, Ordering};

/// A mutex whose `lock` cannot fail.
#[derive(Debug, Default)]
pub(crate) struct Mutex<T> {
    #[cfg(loom)]
    inner: loom::sync::Mutex<T>,
    #[cfg(not(loom))]
    inner: parking_lot::Mutex<T>,
}

/// The guard of [`Mutex`].
#[cfg(loom)]
pub(crate) type MutexGuard<'a, T> = loom::sync::MutexGuard<'a, T>;
/// The guard of [`Mutex`].
#[cfg(not(loom))]
pub(crate) type MutexGuard<'a, T> = parking_lot::MutexGuard<'a, T>;

impl<T> Mutex<T> {
    /// A mutex holding `value`.
    pub(crate) fn new(value: T) -> Mutex<T> {
        Mutex {
            #[cfg(loom)]
            inner: loom::sync::Mutex::new(value),
            #[cfg(not(loom))]
            inner: parking_lot::Mutex::new(value),
        }
    }

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

    /// Takes the lock if it is free (OVS's `ovs_mutex_trylock`); `None` means EBUSY.
    pub(crate) fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        #[cfg(loom)]
        return match self.inner.try_lock() {
            Ok(g) => Some(g),
            Err(std::sync::TryLockError::Poisoned(p)) => Some(p.into_inner()),
            Err(std::sync::TryLockError::WouldBlock) => None,
        };
        #[cfg(not(loom))]
        return self.inner.try_lock();
    }
}

/// A reusable barrier for a fixed number of parties (OVS's `ovs_barrier`).
#[derive(Debug)]
pub(crate) struct Barrier {
    parties: usize,
    /// (arrivals in the current generation, generation number)
    state: Mutex<(usize, u64)>,
    #[cfg(loom)]
    cv: loom::sync::Condvar,
    #[cfg(not(loom))]
    cv: parking_lot::Condvar,
}

impl Barrier {
    /// A barrier released by every `parties`-th arrival (at least 1).
    pub(crate) fn new(parties: usize) -> Barrier {
        Barrier {
            parties: parties.max(1),
            state: Mutex::new((0, 0)),
            #[cfg(loom)]
            cv: loom::sync::Condvar::new(),
            #[cfg(not(loom))]
            cv: parking_lot::Condvar::new(),
        }
    }

    /// Blocks until all parties of this generation have arrived.
    pub(crate) fn wait(&self) {
        let mut state = self.state.lock();
        let generation = state.1;
        state.0 += 1;
        if state.0 == self.parties {
            state.0 = 0;
            state.1 = state.1.wrapping_add(1);
            self.cv.notify_all();
            return;
        }
        while state.1 == generation {
            #[cfg(loom)]
            {
                state = self
                    .cv
                    .wait(state)
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
            }
            #[cfg(not(loom))]
            self.cv.wait(&mut state);
        }
    }
}
