//! The upcall queues: one **bounded** queue per handler; forwarding threads push, handlers pull.
//!
//! # Invariants
//! * An upcall goes to handler `hash % n_handlers`, where `hash` is the packet's flow hash: every
//!   miss of one flow lands in the same handler (so one handler sees a flow's misses in order).
//! * Pushing never blocks: a full queue (or no handler at all) refuses the upcall and the caller
//!   counts it as lost.
//! * Changing the number of handlers moves what was queued to the new queues (re-hashed by flow);
//!   what no longer fits is dropped and reported.
//! * `recv_wait` that receives an upcall keeps it in the handler's stash, which `recv` returns first:
//!   waiting never loses or reorders anything.
//! * While an inline callback is registered, forwarding threads hand misses to it instead of
//!   pushing them (`userspace()` action upcalls are still queued); registering or removing it never
//!   touches what is queued.

use std::sync::Arc;
use std::time::Duration;

use arc_swap::{ArcSwap, ArcSwapOption};
use crossbeam_channel::{Receiver, Sender, bounded};
use parking_lot::Mutex;

use crate::dpif::{Upcall, UpcallCallback};
use crate::emc::flow_hash;

/// One handler's queue.
struct HandlerQueue {
    tx: Sender<Upcall>,
    rx: Receiver<Upcall>,
    /// An upcall taken by `recv_wait`, handed out first by `recv`.
    stash: Mutex<Option<Upcall>>,
}

impl HandlerQueue {
    fn new(capacity: usize) -> HandlerQueue {
        let (tx, rx) = bounded(capacity);
        HandlerQueue {
            tx,
            rx,
            stash: Mutex::new(None),
        }
    }
}

/// A registered inline miss handler.
pub(crate) struct InlineCallback(pub(crate) Arc<dyn UpcallCallback>);

/// Every handler's queue, and the inline callback if one is registered.
pub(crate) struct UpcallQueues {
    queues: ArcSwap<Vec<HandlerQueue>>,
    capacity: usize,
    resize: Mutex<()>,
    inline: ArcSwapOption<InlineCallback>,
}

impl UpcallQueues {
    /// `n_handlers` queues of `capacity` upcalls each.
    pub(crate) fn new(n_handlers: usize, capacity: usize) -> UpcallQueues {
        let capacity = capacity.max(1);
        UpcallQueues {
            queues: ArcSwap::from_pointee(
                (0..n_handlers)
                    .map(|_| HandlerQueue::new(capacity))
                    .collect(),
            ),
            capacity,
            resize: Mutex::new(()),
            inline: ArcSwapOption::empty(),
        }
    }

    /// The inline miss handler, if one is registered.
    pub(crate) fn callback(&self) -> Option<Arc<InlineCallback>> {
        self.inline.load_full()
    }

    /// Registers (`Some`) or removes (`None`) the inline miss handler.
    pub(crate) fn set_callback(&self, cb: Option<Arc<dyn UpcallCallback>>) {
        self.inline.store(cb.map(|cb| Arc::new(InlineCallback(cb))));
    }

    /// Queues `upcall` for the handler chosen by `hash`; false (the upcall is dropped) if that queue
    /// is full or there is no handler.
    pub(crate) fn push(&self, hash: u32, upcall: Upcall) -> bool {
        let queues = self.queues.load();
        let n = queues.len();
        if n == 0 {
            return false;
        }
        queues
            .get(hash as usize % n)
            .is_some_and(|q| q.tx.try_send(upcall).is_ok())
    }

    /// Moves up to `max` upcalls of handler `handler` into `out`; returns how many.
    pub(crate) fn recv(&self, handler: usize, out: &mut Vec<Upcall>, max: usize) -> usize {
        let queues = self.queues.load();
        let Some(q) = queues.get(handler) else {
            return 0;
        };
        let mut n = 0;
        if max > 0
            && let Some(u) = q.stash.lock().take()
        {
            out.push(u);
            n += 1;
        }
        while n < max {
            match q.rx.try_recv() {
                Ok(u) => {
                    out.push(u);
                    n += 1;
                }
                Err(_) => break,
            }
        }
        n
    }

    /// Waits until handler `handler` has an upcall or `timeout` passes.
    pub(crate) fn wait(&self, handler: usize, timeout: Duration) {
        let queues: Arc<Vec<HandlerQueue>> = self.queues.load_full();
        let Some(q) = queues.get(handler) else { return };
        let mut stash = q.stash.lock();
        if stash.is_some() || !q.rx.is_empty() {
            return;
        }
        drop(stash);
        if let Ok(u) = q.rx.recv_timeout(timeout) {
            stash = q.stash.lock();
            match stash.take() {
                // Another waiter of the same handler stashed first: keep the order by putting ours back
                // in the queue if it fits (it was just removed, so it does unless producers refilled it).
                Some(first) => {
                    *stash = Some(first);
                    let _ = q.tx.try_send(u);
                }
                None => *stash = Some(u),
            }
        }
    }

    /// Number of handlers.
    pub(crate) fn n_handlers(&self) -> usize {
        self.queues.load().len()
    }

    /// Replaces the queues by `n` new ones, moving queued upcalls over (re-hashed by flow); returns how
    /// many had to be dropped.
    pub(crate) fn set_handlers(&self, n: usize) -> usize {
        let _serial = self.resize.lock();
        let old = self.queues.load_full();
        if old.len() == n {
            return 0;
        }
        self.queues.store(Arc::new(
            (0..n).map(|_| HandlerQueue::new(self.capacity)).collect(),
        ));
        let mut dropped = 0;
        for q in old.iter() {
            let stashed = q.stash.lock().take();
            for u in stashed.into_iter().chain(q.rx.try_iter()) {
                let hash = flow_hash(&u.flow);
                if !self.push(hash, u) {
                    dropped += 1;
                }
            }
        }
        dropped
    }
}
