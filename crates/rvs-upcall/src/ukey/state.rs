//! The ukey lifecycle (ovs-upcall.md §2.2) and its one transition function.
//!
//! # Invariants
//! * A state never decreases. A request to go backwards is refused, counted
//!   (`ukey_state_backwards`) and logged at ERR; OVS aborts the process there, rvs keeps running.
//! * OPERATIONAL → OPERATIONAL is a silent no-op.
//! * Legal moves: to the next state; from VISIBLE to anything below DELETED (VISIBLE itself
//!   included, as in OVS); OPERATIONAL → EVICTING.
//!   Any other forward move is refused, counted (`ukey_state_invalid`) and logged as a rate-limited
//!   WARN; the state stays, but the "last transition" debug fields are updated (as in OVS).

use std::fmt;

use crate::coverage::Counter;
use crate::env::{Env, thread_id};
use crate::log::Level;

/// Lifecycle state of a ukey; the numbers are OVS's and are compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum UkeyState {
    /// Built, not yet in a map.
    Created = 0,
    /// In a map; its flow install may still be pending.
    Visible = 1,
    /// Its flow is confirmed in the datapath.
    Operational = 2,
    /// A modify of its flow failed; the flow will be deleted.
    Inconsistent = 3,
    /// A delete of its flow is queued.
    Evicting = 4,
    /// Its flow is gone (deleted, or assumed gone); the ukey waits for the sweep (or a replacement).
    Evicted = 5,
    /// Out of the map; nothing may use it any more.
    Deleted = 6,
}

impl UkeyState {
    /// The state's number.
    pub fn number(self) -> u8 {
        self as u8
    }
}

impl fmt::Display for UkeyState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.number())
    }
}

/// What a transition request did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transition {
    /// The state changed (or stayed OPERATIONAL).
    Done,
    /// Refused: the destination is lower than the current state.
    Backwards,
    /// Refused: an illegal forward jump.
    Invalid,
}

/// The mutable debug trail of transitions: who moved the state last, and where (the state itself
/// is a separate field of the ukey, on its hot cache line).
#[derive(Clone, Copy, Debug)]
pub(crate) struct StateTrail {
    pub(crate) thread: u64,
    pub(crate) location: &'static str,
}

impl StateTrail {
    pub(crate) fn new(location: &'static str) -> StateTrail {
        StateTrail {
            thread: thread_id(),
            location,
        }
    }
}

/// True if `from → to` is one of the legal moves (not counting the OPERATIONAL no-op).
pub fn is_legal(from: UkeyState, to: UkeyState) -> bool {
    let (f, t) = (from.number(), to.number());
    f + 1 == t
        || (from == UkeyState::Visible && to < UkeyState::Deleted && to >= from)
        || (from == UkeyState::Operational && to == UkeyState::Evicting)
}

/// Moves `state` to `dst` if legal, updating `trail`; `label` names the ukey in messages;
/// `location` says who asked.
pub(crate) fn transition(
    state: &mut UkeyState,
    trail: &mut StateTrail,
    dst: UkeyState,
    label: &dyn fmt::Display,
    location: &'static str,
    env: &Env,
) -> Transition {
    let src = *state;
    if dst < src {
        env.coverage.inc(Counter::UkeyStateBackwards);
        env.log.write(
            Level::Err,
            format!(
                "Invalid ukey transition {}->{} (last transitioned from thread {} at {}); refused at {}",
                src, dst, trail.thread, trail.location, location
            ),
        );
        return Transition::Backwards;
    }
    if src == dst && dst == UkeyState::Operational {
        return Transition::Done;
    }
    let result = if is_legal(src, dst) {
        *state = dst;
        Transition::Done
    } else {
        env.coverage.inc(Counter::UkeyStateInvalid);
        env.log_rl(
            &env.rl.common,
            Level::Warn,
            format!("Invalid state transition for ukey {label}: {src} -> {dst}"),
        );
        Transition::Invalid
    };
    trail.thread = thread_id();
    trail.location = location;
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use UkeyState::*;
    use rvs_dpif::clock::VirtualClock;
    use std::sync::Arc;

    const ALL: [UkeyState; 7] = [
        Created,
        Visible,
        Operational,
        Inconsistent,
        Evicting,
        Evicted,
        Deleted,
    ];

    fn env() -> Env {
        Env::new(Arc::new(VirtualClock::default()))
    }

    #[test]
    fn legal_moves_are_exactly_the_documented_ones() {
        let mut legal = Vec::new();
        for f in ALL {
            for t in ALL {
                if is_legal(f, t) {
                    legal.push((f.number(), t.number()));
                }
            }
        }
        assert_eq!(
            legal,
            vec![
                (0, 1),
                (1, 1),
                (1, 2),
                (1, 3),
                (1, 4),
                (1, 5),
                (2, 3),
                (2, 4),
                (3, 4),
                (4, 5),
                (5, 6)
            ]
        );
    }

    #[test]
    fn every_pair_behaves_as_documented() {
        for f in ALL {
            for t in ALL {
                let env = env();
                let mut trail = StateTrail::new("test");
                let mut state = f;
                let r = transition(&mut state, &mut trail, t, &"u", "here", &env);
                let backwards = env.coverage.get(Counter::UkeyStateBackwards);
                let invalid = env.coverage.get(Counter::UkeyStateInvalid);
                if t < f {
                    assert_eq!(
                        (r, state, backwards, invalid),
                        (Transition::Backwards, f, 1, 0)
                    );
                    assert_eq!(
                        trail.location, "test",
                        "a refused backwards move keeps the trail"
                    );
                } else if f == t && t == Operational || is_legal(f, t) {
                    assert_eq!((r, state, backwards, invalid), (Transition::Done, t, 0, 0));
                } else {
                    assert_eq!(
                        (r, state, backwards, invalid),
                        (Transition::Invalid, f, 0, 1)
                    );
                    assert_eq!(trail.location, "here");
                }
            }
        }
    }
}
