//! Iteration over the rules of a classifier that are visible in one version, optionally only
//! those a target match loosely matches (OpenFlow non-strict selection).
//!
//! # Invariants
//! * Subtables are visited in scan order (descending maximum priority), each subtable's buckets
//!   in hash order and each bucket's entries by descending priority; every visible rule is
//!   produced exactly once.

use super::{Classifier, Rule, Version};
use rvs_flow::Match;

/// Iterator over visible rules; see [`Classifier::iter`] and [`Classifier::iter_loose`].
pub struct Rules<'a, R> {
    inner: Box<dyn Iterator<Item = &'a Rule<R>> + 'a>,
}

impl<'a, R> Rules<'a, R> {
    pub(super) fn new(
        cls: &'a Classifier<R>,
        version: Version,
        target: Option<Match>,
    ) -> Rules<'a, R> {
        let target = target.filter(|t| !t.wc.is_catchall());
        let inner = cls
            .order
            .iter()
            .filter_map(move |r| cls.subtable(r.id))
            .filter(move |sub| target.is_none_or(|t| !t.wc.has_extra(&sub.mask)))
            .flat_map(|sub| sub.buckets())
            .flat_map(|bucket| &bucket.entries)
            .filter(move |e| {
                e.visible_in(version)
                    && target.is_none_or(|t| e.rule.flow_match.flow.masked(&t.wc) == t.flow)
            })
            .map(|e| &e.rule);
        Rules {
            inner: Box::new(inner),
        }
    }
}

impl<'a, R> Iterator for Rules<'a, R> {
    type Item = &'a Rule<R>;

    fn next(&mut self) -> Option<&'a Rule<R>> {
        self.inner.next()
    }
}
