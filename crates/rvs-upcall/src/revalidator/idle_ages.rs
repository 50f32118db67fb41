//! [`IdleAges`]: a log-scale histogram of how long the flows a round kept had been idle, used by the
//! adaptive flow-limit policy to find the idle cutoff that evicts just enough flows
//! (`docs/flow-limit-policy.md`).
//!
//! # Invariants
//! * Ages are `reference_ms - used` (0 for a flow used at or after the reference), in ms. Ages
//!   below [`EXACT_BELOW`] have a bucket each; above, every power of two is split into
//!   [`SUB_BUCKETS`] buckets, so a bucket spans at most 1/8 of its lower bound.
//! * `total` is the sum of the buckets. Recording is a plain increment (each revalidator owns its
//!   histogram during the dump); histograms are merged only outside the hot path.
//! * [`IdleAges::cutoff_for`] never returns a cutoff that would keep more than the flows recorded
//!   minus `excess` when ages are spread evenly inside a bucket; flows of one age are never split.

/// Ages below this have a bucket of their own (ms).
pub(super) const EXACT_BELOW: u64 = 16;
/// Buckets per power of two above [`EXACT_BELOW`].
pub(super) const SUB_BUCKETS: u64 = 8;
const SUB_BITS: u32 = 3;
const FIRST_LOG: u32 = 4; // log2(EXACT_BELOW)
/// Number of buckets (covers every u64 age).
pub(super) const N_BUCKETS: usize = (EXACT_BELOW + (64 - FIRST_LOG as u64) * SUB_BUCKETS) as usize;

/// A histogram of idle ages relative to one reference time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdleAges {
    reference_ms: u64,
    counts: Vec<u32>,
    total: u64,
}

impl Default for IdleAges {
    fn default() -> Self {
        IdleAges::new(0)
    }
}

/// The bucket of an age.
fn bucket_of(age: u64) -> usize {
    if age < EXACT_BELOW {
        return age as usize;
    }
    let log = 63 - age.leading_zeros(); // >= FIRST_LOG
    let mantissa = (age >> (log - SUB_BITS)) & (SUB_BUCKETS - 1);
    (EXACT_BELOW + u64::from(log - FIRST_LOG) * SUB_BUCKETS + mantissa) as usize
}

/// The smallest age of bucket `b` (`b <= N_BUCKETS`; `N_BUCKETS` gives the end of the last one,
/// saturated at `u64::MAX`).
fn bucket_start(b: usize) -> u64 {
    let b = b as u64;
    if b < EXACT_BELOW {
        return b;
    }
    let log = FIRST_LOG as u64 + (b - EXACT_BELOW) / SUB_BUCKETS;
    let mantissa = (b - EXACT_BELOW) % SUB_BUCKETS;
    if log >= 64 {
        return u64::MAX;
    }
    (SUB_BUCKETS + mantissa) << (log - u64::from(SUB_BITS))
}

impl IdleAges {
    /// An empty histogram of ages relative to `reference_ms` (the round's start).
    pub fn new(reference_ms: u64) -> IdleAges {
        IdleAges {
            reference_ms,
            counts: vec![0; N_BUCKETS],
            total: 0,
        }
    }

    /// The time ages are measured from.
    pub fn reference_ms(&self) -> u64 {
        self.reference_ms
    }

    /// Flows recorded.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Records a flow last used at `used` (0 = never: not recorded).
    #[inline]
    pub fn record(&mut self, used: u64) {
        if used == 0 {
            return;
        }
        let age = self.reference_ms.saturating_sub(used);
        if let Some(c) = self.counts.get_mut(bucket_of(age)) {
            *c = c.saturating_add(1);
            self.total += 1;
        }
    }

    /// Adds `other`'s counts (ages are taken as they are: both should share the reference; the
    /// merged histogram keeps the earlier of the two, or the other's if this one is empty).
    pub fn merge(&mut self, other: &IdleAges) {
        if other.total == 0 {
            return;
        }
        if self.total == 0 {
            self.reference_ms = other.reference_ms;
        } else {
            self.reference_ms = self.reference_ms.min(other.reference_ms);
        }
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a = a.saturating_add(*b);
        }
        self.total += other.total;
    }

    /// The absolute time `C` such that about `excess` of the recorded flows (the longest idle
    /// ones) were last used before `C`: deleting the flows with `used < C` removes at least
    /// `excess` of them if ages are spread evenly inside a bucket. `None` if `excess` is 0. If
    /// fewer than `excess` flows were recorded, every recorded flow is below the cutoff.
    pub fn cutoff_for(&self, excess: u64) -> Option<u64> {
        if excess == 0 {
            return None;
        }
        let mut older = 0u64; // flows in buckets above the current one
        let mut min_age = 0u64; // the smallest age that gets deleted
        for b in (0..N_BUCKETS).rev() {
            let count = u64::from(self.counts.get(b).copied().unwrap_or(0));
            if count == 0 {
                continue;
            }
            if older + count >= excess {
                let needed = excess - older;
                let start = bucket_start(b);
                let end = bucket_start(b + 1);
                let width = end.saturating_sub(start).max(1);
                // Take the oldest `needed / count` part of the bucket, rounded towards more.
                let span = u128::from(width) * u128::from(needed);
                let taken = span.div_ceil(u128::from(count));
                let taken = u64::try_from(taken).unwrap_or(u64::MAX).min(width);
                min_age = end.saturating_sub(taken);
                break;
            }
            older += count;
        }
        // Delete iff age >= min_age, i.e. used <= reference - min_age, i.e. used < that + 1.
        Some(self.reference_ms.saturating_sub(min_age).saturating_add(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn buckets_are_contiguous_and_ordered() {
        assert_eq!(bucket_start(0), 0);
        for b in 0..N_BUCKETS - 1 {
            let start = bucket_start(b);
            assert!(bucket_start(b + 1) > start, "bucket {b}");
            assert_eq!(bucket_of(start), b);
            assert_eq!(bucket_of(bucket_start(b + 1) - 1), b);
        }
        assert_eq!(bucket_of(u64::MAX), N_BUCKETS - 1);
        assert_eq!(bucket_start(N_BUCKETS), u64::MAX);
    }

    #[test]
    fn exact_ages_take_whole_buckets() {
        let mut h = IdleAges::new(1000);
        for used in [1000, 999, 998, 998, 990] {
            h.record(used);
        }
        h.record(0); // never used: not recorded
        assert_eq!(h.total(), 5);
        // The longest idle flow (age 10) alone.
        assert_eq!(h.cutoff_for(1), Some(991));
        // Two more: both flows of age 2 go (they cannot be split).
        assert_eq!(h.cutoff_for(2), Some(999));
        assert_eq!(h.cutoff_for(3), Some(999));
        assert_eq!(h.cutoff_for(0), None);
        // More than recorded: everything recorded is below the cutoff.
        assert_eq!(h.cutoff_for(9), Some(1001));
    }

    proptest! {
        /// Deleting by the cutoff removes the longest idle flows: at least `excess` (all if
        /// fewer were recorded) and at most `excess` more, up to the flows of the one bucket the
        /// cutoff falls in (whose ages need not be spread evenly).
        #[test]
        fn cutoff_removes_the_oldest_and_about_excess(
            ages in proptest::collection::vec(0u64..100_000, 1..400),
            excess in 1u64..500,
        ) {
            let reference = 1_000_000u64;
            let mut h = IdleAges::new(reference);
            for a in &ages {
                h.record(reference - a);
            }
            let cutoff = h.cutoff_for(excess).expect("excess > 0");
            let removed_flow = |a: &u64| reference - a < cutoff;
            let removed = ages.iter().filter(|a| removed_flow(a)).count() as u64;
            let n = ages.len() as u64;
            let min_age = reference + 1 - cutoff.min(reference + 1);
            let split = bucket_of(min_age);
            let in_split = ages.iter().filter(|a| bucket_of(**a) == split).count() as u64;
            prop_assert!(removed + in_split >= excess.min(n), "removed {} split {}", removed, in_split);
            prop_assert!(removed <= excess + in_split, "removed {} split {}", removed, in_split);
            if excess >= n {
                prop_assert_eq!(removed, n);
            }
            // Never an older flow kept while a younger one is removed.
            let oldest_kept = ages.iter().filter(|a| !removed_flow(a)).max();
            let youngest_removed = ages.iter().filter(|a| removed_flow(a)).min();
            if let (Some(k), Some(r)) = (oldest_kept, youngest_removed) {
                prop_assert!(k < r);
            }
        }

        #[test]
        fn merge_adds_counts(a in proptest::collection::vec(1u64..5000, 0..50),
                             b in proptest::collection::vec(1u64..5000, 0..50)) {
            let mut ha = IdleAges::new(5000);
            let mut hb = IdleAges::new(5000);
            let mut all = IdleAges::new(5000);
            for u in &a { ha.record(*u); all.record(*u); }
            for u in &b { hb.record(*u); all.record(*u); }
            ha.merge(&hb);
            prop_assert_eq!(ha, all);
        }
    }
}
