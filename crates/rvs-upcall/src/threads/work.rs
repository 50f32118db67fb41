//! [`RoundWork`] over a real [`Udpif`]: the leader creates the round's dump, every revalidator
//! dumps through its own cursor and sweeps its slice, the leader ends the round and sleeps.
//!
//! # Invariants
//! * The dump exists from the leader's begin (before barrier #1) to its end (after barrier #3);
//!   revalidators only read it (shared lock) during the dump phase.

use parking_lot::{Mutex, RwLock};
use rvs_dpif::dpif::FlowDump;

use super::{Control, RoundWork};
use crate::revalidator::{LeaderStart, RevalidatorDump, RoundCtx};
use crate::udpif::Udpif;

pub(super) struct ThreadedRound<'u> {
    udpif: &'u Udpif,
    n: usize,
    dump: RwLock<Option<Box<dyn FlowDump + 'u>>>,
    round: Mutex<Option<(LeaderStart, RoundCtx)>>,
}

impl<'u> ThreadedRound<'u> {
    pub(super) fn new(udpif: &'u Udpif, n: usize) -> ThreadedRound<'u> {
        ThreadedRound {
            udpif,
            n,
            dump: RwLock::new(None),
            round: Mutex::new(None),
        }
    }
}

impl RoundWork for ThreadedRound<'_> {
    fn leader_begin(&self) {
        let start = self.udpif.leader_begin();
        let ctx = self.udpif.round_ctx();
        *self.dump.write() = Some(self.udpif.dpif.flow_dump(ctx.terse));
        *self.round.lock() = Some((start, ctx));
    }

    fn dump(&self, _index: usize) {
        let Some((_, ctx)) = *self.round.lock() else {
            return;
        };
        let dump = self.dump.read();
        if let Some(d) = dump.as_ref() {
            RevalidatorDump::new(self.udpif, ctx, d.thread()).run();
        }
    }

    fn sweep(&self, index: usize) {
        self.udpif.sweep_slice(index, self.n, false);
    }

    fn leader_end(&self) {
        *self.dump.write() = None;
        let round = *self.round.lock();
        if let Some((start, _)) = round {
            self.udpif.leader_end(&start);
        }
    }

    fn leader_wait(&self, control: &Control) {
        let round = *self.round.lock();
        if let Some((start, _)) = round {
            self.udpif.leader_wait(&start, &|| control.interrupted());
        }
    }
}
