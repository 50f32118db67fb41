//! The revalidator thread loop: a fixed leader (index 0), three barriers per round, and latches
//! sampled by the leader only (ovs-upcall.md §1.5, §1.6; seed 000).
//!
//! # Invariants
//! * Only the leader reads the pause and exit latches, at the top of a round, and publishes what it
//!   read before barrier #1; every thread copies those flags right after barrier #1, before the
//!   leader can overwrite them, so all threads agree on pausing and exiting and none is left alone
//!   at a barrier.
//! * Pausing: every revalidator blocks twice on the pause barrier (`n + 1` parties): the first
//!   rendezvous completes the controller's [`Control::pause`], the second waits for its
//!   [`Control::resume`]. A paused round does no dump; afterwards the loop restarts at the top.
//! * A round's dump happens strictly between barriers #1 and #2, its sweep between #2 and #3; the
//!   leader's end of round (dump destroyed, dump_seq bumped) happens after #3.

use crate::sync::{AtomicBool, Barrier, Ordering};

/// What one round does; the threaded engine and the models implement it.
pub(crate) trait RoundWork: Sync {
    /// Leader, top of a round that will dump: sample and start the dump.
    fn leader_begin(&self);
    /// Revalidator `index`: the dump phase.
    fn dump(&self, index: usize);
    /// Revalidator `index`: the sweep phase.
    fn sweep(&self, index: usize);
    /// Leader, after barrier #3: end the dump, bump dump_seq, adjust the flow limit.
    fn leader_end(&self);
    /// Leader: sleep until the next round is due (or a latch is set).
    fn leader_wait(&self, control: &Control);
}

/// Barriers and latches of one set of revalidator threads.
#[derive(Debug)]
pub(crate) struct Control {
    reval_barrier: Barrier,
    pause_barrier: Barrier,
    exit_latch: AtomicBool,
    pause_latch: AtomicBool,
    /// The leader's reading of `pause_latch` for the current round.
    pause: AtomicBool,
    /// The leader's reading of `exit_latch` for the current round.
    reval_exit: AtomicBool,
}

impl Control {
    /// Control for `n_revalidators` threads (at least 1).
    pub(crate) fn new(n_revalidators: usize) -> Control {
        let n = n_revalidators.max(1);
        Control {
            reval_barrier: Barrier::new(n),
            pause_barrier: Barrier::new(n + 1),
            exit_latch: AtomicBool::new(false),
            pause_latch: AtomicBool::new(false),
            pause: AtomicBool::new(false),
            reval_exit: AtomicBool::new(false),
        }
    }

    /// True if the pause or exit latch is set (what interrupts the leader's sleep).
    pub(crate) fn interrupted(&self) -> bool {
        self.exit_latch.load(Ordering::Acquire) || self.pause_latch.load(Ordering::Acquire)
    }

    /// Sets the exit latch (the caller then wakes the leader and joins the threads).
    pub(crate) fn request_exit(&self) {
        self.exit_latch.store(true, Ordering::Release);
    }

    /// Sets the pause latch and returns once every revalidator is parked (controller side; the
    /// caller must wake the leader first or right after setting the latch, see `Notifier`).
    pub(crate) fn pause(&self, wake_leader: &dyn Fn()) {
        self.pause_latch.store(true, Ordering::Release);
        wake_leader();
        self.pause_barrier.wait();
    }

    /// Clears the pause latch and releases the parked revalidators.
    pub(crate) fn resume(&self) {
        self.pause_latch.store(false, Ordering::Release);
        self.pause_barrier.wait();
    }
}

/// The body of revalidator thread `index` (0 = leader); returns when the threads exit.
pub(crate) fn revalidator_loop(control: &Control, index: usize, work: &dyn RoundWork) {
    let leader = index == 0;
    loop {
        if leader {
            let pause = control.pause_latch.load(Ordering::Acquire);
            let exit = control.exit_latch.load(Ordering::Acquire);
            control.pause.store(pause, Ordering::Release);
            control.reval_exit.store(exit, Ordering::Release);
            if !pause && !exit {
                work.leader_begin();
            }
        }
        control.reval_barrier.wait();
        let pause = control.pause.load(Ordering::Acquire);
        let exit = control.reval_exit.load(Ordering::Acquire);
        if pause {
            control.pause_barrier.wait();
            control.pause_barrier.wait();
            if !exit {
                continue;
            }
        }
        if exit {
            return;
        }
        work.dump(index);
        control.reval_barrier.wait();
        work.sweep(index);
        control.reval_barrier.wait();
        if leader {
            work.leader_end();
            work.leader_wait(control);
        }
    }
}
