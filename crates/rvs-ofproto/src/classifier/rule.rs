//! Rules, rule priorities and the version numbers that say when a rule is visible.
//!
//! # Invariants
//! * A stored rule is visible in version `v` iff `added <= v < removed`; `removed ==
//!   Version::NOT_REMOVED` for a rule nobody has removed yet.
//! * A stored rule's match is normalized: every bit its mask wildcards is zero in its flow.

use rvs_flow::Match;

/// A rule's priority: higher wins. OpenFlow uses 0..=65535; internal tables may go higher.
pub type Priority = u32;

/// A classifier version: lookups name the version they run in, changes the version from which on
/// they take effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Version(pub u64);

impl Version {
    /// The first version.
    pub const MIN: Version = Version(0);
    /// The `removed` version of a rule that has not been removed; never a lookup version.
    pub const NOT_REMOVED: Version = Version(u64::MAX);

    /// The next version.
    pub fn next(self) -> Version {
        Version(self.0.saturating_add(1))
    }
}

/// A classifier rule: what it matches, its priority and the caller's data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule<R> {
    /// The match; normalized (wildcarded bits cleared) when the rule is inserted.
    pub flow_match: Match,
    /// Priority among overlapping rules.
    pub priority: Priority,
    /// Caller data (actions, statistics handle, ...).
    pub payload: R,
}

impl<R> Rule<R> {
    /// A rule with the given match, priority and payload.
    pub fn new(flow_match: Match, priority: Priority, payload: R) -> Rule<R> {
        Rule {
            flow_match,
            priority,
            payload,
        }
    }
}

/// What became of the rule that an insert displaced or a remove targeted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outgoing<R> {
    /// The rule stays stored for lookups in earlier versions; it is invisible from the change's
    /// version on, and [`super::Classifier::purge`] drops it once no lookup uses an earlier version.
    Retired,
    /// The rule was not visible in any version before the change (it had been added in the same
    /// version), so it was dropped at once and is handed back.
    Dropped(Box<Rule<R>>),
}

/// A rule as stored: the rule and its visibility range.
#[derive(Debug, Clone)]
pub(crate) struct Entry<R> {
    pub(crate) rule: Rule<R>,
    pub(crate) added: Version,
    pub(crate) removed: Version,
}

impl<R> Entry<R> {
    /// True if the rule is visible in `version`.
    #[inline]
    pub(crate) fn visible_in(&self, version: Version) -> bool {
        self.added <= version && version < self.removed
    }
}
