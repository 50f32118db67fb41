//! The OpenFlow classifier: which rule a packet hits, and which bits of the packet that answer
//! depended on (the wildcards that become a megaflow's mask).
//!
//! This follows Open vSwitch's `lib/classifier.c` (3.1) in behaviour:
//! * **Tuple space search.** One subtable per distinct mask; subtables are scanned in
//!   descending order of the highest priority they hold, and the scan stops as soon as the best
//!   match found so far has a priority at least as high as the next subtable's maximum, so skipped
//!   subtables add no bits to the wildcards.
//! * **Staged lookup.** The flow is cut into four stages at `rvs_flow::flow::STAGE_WORD_ENDS`
//!   (metadata, L2, L3, L4). A subtable indexes the partial keys of each stage it has bits in; a
//!   packet that misses at stage `k` un-wildcards only the subtable's mask bits of stages `0..=k`.
//! * **Prefix tries** on up to [`MAX_TRIES`] address fields ([`DEFAULT_PREFIX_FIELDS`] =
//!   `nw_dst`, `nw_src` as in Open vSwitch's `ofproto.c`; IPv6 fields on request). When no prefix
//!   of a subtable's length can match, the subtable is skipped and only the leading bits the trie
//!   walk examined are un-wildcarded. Each subtable also keeps a trie of its transport ports
//!   (`tp_src:tp_dst`, as one 32-bit value) used to un-wildcard only leading port bits on a miss.
//! * **Versions.** Every rule is visible in `[added, removed)`. Lookups name a version; changes
//!   name the version they take effect in, so a batch staged at version `v + 1` stays invisible
//!   to lookups at `v` until the caller starts using `v + 1`.
//!
//! Not here: conjunctive matches (`conjunction` actions) and the bits translation always
//! un-wildcards. In Open vSwitch those come from `xlate_wc_init` (`packet_type`, `in_port`,
//! `dl_type`, `nw_frag` for IP, `recirc_id`, tunnel fields) and `xlate_wc_finish` (drops metadata
//! and register bits, keeps only the low 8 bits of ICMP type/code, adds the VLAN CFI bit when a
//! TCI bit is matched, clears port bits for later fragments, ...); rvs does that in translation.
//!
//! # Invariants
//! * Writers have `&mut self`; the structure is single-threaded inside. Readers that must keep
//!   working while a batch is staged (the crate will publish snapshots later) rely on versions.
//!   The caller's contract: the versions given to [`Classifier::insert`], [`Classifier::remove`]
//!   and [`Classifier::restore`] never decrease and are newer than every version a lookup uses
//!   (the batch being staged); [`Classifier::purge`] gets a version no older than any lookup
//!   still in flight. Then a lookup in any version sees either all or none of the changes made
//!   at that version, never a part, and purging changes no lookup result.
//! * A rule counts for its subtable's maximum priority (and rank) from insertion until it is
//!   dropped, visible or not, as in Open vSwitch; that can only make the scan stop later.
//! * For any match, priority and version, at most one stored rule with that match and priority
//!   is visible (insert retires the previous one).
//! * `order` lists every live subtable exactly once, sorted by descending `max_priority`; a
//!   subtable with no entries is destroyed at once.
//! * Lookup results and wildcards are sound: every flow that agrees with the looked-up flow on
//!   the returned wildcards gets the same rule (property-tested), and they are the bits Open
//!   vSwitch would have un-wildcarded (checked against the OVS 3.1 oracle on hand-made cases).

mod bucket;
mod hash_index;
mod iter;
mod prefix;
mod probe;
mod rule;
mod subtable;
mod trie;

#[cfg(test)]
mod tests;

pub use iter::Rules;
pub use prefix::{DEFAULT_PREFIX_FIELDS, MAX_TRIES, PrefixField};
pub use rule::{Outgoing, Priority, Rule, Version};

use foldhash::fast::FixedState;
use probe::{FieldTrie, TrieProbes};
use rule::Entry;
use rvs_flow::{Flow, Match, Wildcards};
use std::collections::HashMap;
use subtable::Subtable;

/// A subtable's place in the scan order.
#[derive(Debug, Clone, Copy)]
struct Ranked {
    max_priority: Priority,
    id: usize,
}

/// An OpenFlow classifier over rules carrying a payload `R`.
#[derive(Debug, Clone)]
pub struct Classifier<R> {
    subtables: Vec<Option<Subtable<R>>>,
    free_ids: Vec<usize>,
    by_mask: HashMap<Wildcards, usize, FixedState>,
    order: Vec<Ranked>,
    tries: Vec<FieldTrie>,
    n_rules: usize,
}

impl<R> Default for Classifier<R> {
    fn default() -> Classifier<R> {
        Classifier::new()
    }
}

/// Normalizes a match (clears the flow bits its mask wildcards).
fn normalized(m: &Match) -> Match {
    Match::new(&m.flow, &m.wc)
}

impl<R> Classifier<R> {
    /// An empty classifier with Open vSwitch's default prefix tries ([`DEFAULT_PREFIX_FIELDS`]).
    pub fn new() -> Classifier<R> {
        Classifier::with_prefix_fields(&DEFAULT_PREFIX_FIELDS)
    }

    /// An empty classifier with tries on `fields` (see [`Classifier::set_prefix_fields`]).
    pub fn with_prefix_fields(fields: &[PrefixField]) -> Classifier<R> {
        let mut cls = Classifier {
            subtables: Vec::new(),
            free_ids: Vec::new(),
            by_mask: HashMap::with_hasher(FixedState::default()),
            order: Vec::new(),
            tries: Vec::new(),
            n_rules: 0,
        };
        cls.set_prefix_fields(fields);
        cls
    }

    /// The fields that have prefix tries, in the order lookups consult them.
    pub fn prefix_fields(&self) -> Vec<PrefixField> {
        self.tries.iter().map(|t| t.field).collect()
    }

    /// Sets the fields with prefix tries, like the `prefixes` column of Open vSwitch's
    /// `Flow_Table`: duplicates are ignored and only the first [`MAX_TRIES`] distinct fields are
    /// used, in the given order. Returns true if the configuration changed (the tries are then
    /// rebuilt from the stored rules).
    pub fn set_prefix_fields(&mut self, fields: &[PrefixField]) -> bool {
        let mut wanted: Vec<PrefixField> = Vec::with_capacity(MAX_TRIES);
        for &f in fields {
            if wanted.len() < MAX_TRIES && !wanted.contains(&f) {
                wanted.push(f);
            }
        }
        if wanted == self.prefix_fields() {
            return false;
        }
        self.tries = wanted.into_iter().map(FieldTrie::new).collect();
        for sub in self.subtables.iter_mut().flatten() {
            sub.set_trie_plens(&self.tries);
            sub.add_prefixes_to(&mut self.tries);
        }
        true
    }

    /// Number of stored rules, including rules retired but not yet purged.
    pub fn rule_count(&self) -> usize {
        self.n_rules
    }

    /// True if no rule is stored.
    pub fn is_empty(&self) -> bool {
        self.n_rules == 0
    }

    /// Number of subtables (distinct masks among stored rules).
    pub fn subtable_count(&self) -> usize {
        self.order.len()
    }

    /// The highest priority stored (visible or not) in the subtable of rules with mask `mask`,
    /// if there is one. A lookup whose best match so far has a priority above it stops before
    /// that subtable, so the subtable's rules can change neither its result nor its wildcards.
    pub fn subtable_max_priority(&self, mask: &Wildcards) -> Option<Priority> {
        let id = *self.by_mask.get(mask)?;
        self.subtable(id)
            .filter(|sub| sub.n_entries > 0)
            .map(|sub| sub.max_priority)
    }

    /// True if `mask` has bits in a field with a prefix trie: a rule with this mask changes
    /// the tries, which a lookup may consult for any subtable it scans.
    pub fn mask_in_prefix_tries(&self, mask: &Wildcards) -> bool {
        self.tries.iter().any(|t| t.field.get(&mask.masks) != 0)
    }

    fn subtable(&self, id: usize) -> Option<&Subtable<R>> {
        self.subtables.get(id).and_then(Option::as_ref)
    }

    /// Inserts `rule`, visible from `version` on.
    ///
    /// If a rule with the same match and priority is visible in `version`, it is displaced: it
    /// becomes invisible from `version` on and is reported as [`Outgoing::Retired`] (still stored
    /// for lookups in earlier versions until [`Classifier::purge`]), or, if it was itself added
    /// at `version` and so never visible, dropped and returned as [`Outgoing::Dropped`].
    pub fn insert(&mut self, mut rule: Rule<R>, version: Version) -> Option<Outgoing<R>> {
        rule.flow_match = normalized(&rule.flow_match);
        let mask = rule.flow_match.wc;
        let id = match self.by_mask.get(&mask) {
            Some(&id) => id,
            None => self.create_subtable(&mask),
        };
        let (ranked, outgoing) =
            self.change_subtable(id, |sub, tries| sub.insert(rule, version, tries))?;
        self.rerank(id, ranked);
        outgoing
    }

    /// Applies `change` to subtable `id`, keeping `n_rules` right. Returns the priority the
    /// subtable was ranked at before (None if it was empty) and the change's result.
    fn change_subtable<T>(
        &mut self,
        id: usize,
        change: impl FnOnce(&mut Subtable<R>, &mut [FieldTrie]) -> T,
    ) -> Option<(Option<Priority>, T)> {
        let sub = self.subtables.get_mut(id).and_then(Option::as_mut)?;
        let before = sub.n_entries;
        let ranked = (before > 0).then_some(sub.max_priority);
        let out = change(sub, &mut self.tries);
        self.n_rules = (self.n_rules + sub.n_entries).saturating_sub(before);
        Some((ranked, out))
    }

    /// Makes the rule with match `flow_match` and `priority` that is visible in `version`
    /// invisible from `version` on. Returns `None` if there is no such rule; otherwise
    /// [`Outgoing::Retired`] if it stays stored for earlier versions (until
    /// [`Classifier::purge`]), or [`Outgoing::Dropped`] with the rule if it had been added at
    /// `version` (so nobody could have seen it) and was dropped at once.
    pub fn remove(
        &mut self,
        flow_match: &Match,
        priority: Priority,
        version: Version,
    ) -> Option<Outgoing<R>> {
        let m = normalized(flow_match);
        let id = *self.by_mask.get(&m.wc)?;
        let (ranked, outgoing) =
            self.change_subtable(id, |sub, tries| sub.remove(&m, priority, version, tries))?;
        self.rerank(id, ranked);
        outgoing
    }

    /// Undoes a [`Classifier::remove`] (or a displacement by [`Classifier::insert`]) made at
    /// `version` that retired the rule `flow_match`/`priority`: it is visible again from then on.
    /// Refused (false) if the rule is not found or if another rule with that match and priority
    /// is visible in `version` or later (drop that one first).
    pub fn restore(&mut self, flow_match: &Match, priority: Priority, version: Version) -> bool {
        let m = normalized(flow_match);
        let Some(&id) = self.by_mask.get(&m.wc) else {
            return false;
        };
        self.subtables
            .get_mut(id)
            .and_then(Option::as_mut)
            .is_some_and(|sub| sub.restore(&m, priority, version))
    }

    /// Drops every rule that is invisible in all versions from `oldest_in_use` on (the oldest
    /// version any lookup may still use), and returns them.
    pub fn purge(&mut self, oldest_in_use: Version) -> Vec<Rule<R>> {
        let mut out = Vec::new();
        let ids: Vec<usize> = self.order.iter().map(|r| r.id).collect();
        for id in ids {
            if let Some((ranked, ())) =
                self.change_subtable(id, |sub, tries| sub.purge(oldest_in_use, tries, &mut out))
            {
                self.rerank(id, ranked);
            }
        }
        out
    }

    /// The rule with exactly this match and priority that is visible in `version`.
    pub fn find_exactly(
        &self,
        flow_match: &Match,
        priority: Priority,
        version: Version,
    ) -> Option<&Rule<R>> {
        let m = normalized(flow_match);
        let id = *self.by_mask.get(&m.wc)?;
        self.subtable(id)?
            .find_exactly(&m, priority, version)
            .map(|e| &e.rule)
    }

    /// The highest-priority rule visible in `version` that matches `flow`, ORing into `wc` every
    /// bit of `flow` the answer depended on (also when there is no match). Among matching rules of
    /// equal priority, the one in the subtable scanned first wins (Open vSwitch: "arbitrary").
    pub fn lookup(&self, flow: &Flow, version: Version, wc: &mut Wildcards) -> Option<&Rule<R>> {
        let mut probes = TrieProbes::new(&self.tries);
        let mut best: Option<&Entry<R>> = None;
        for ranked in &self.order {
            if best.is_some_and(|b| b.rule.priority >= ranked.max_priority) {
                break;
            }
            let Some(sub) = self.subtable(ranked.id) else {
                continue;
            };
            if let Some(e) = sub.lookup_wc(flow, version, &mut probes, wc)
                && best.is_none_or(|b| e.rule.priority > b.rule.priority)
            {
                best = Some(e);
            }
        }
        best.map(|e| &e.rule)
    }

    /// Like [`Classifier::lookup`] without computing wildcards (one hash probe per subtable,
    /// no stage indexes, no tries): for callers that do not install megaflows.
    pub fn lookup_without_wildcards(&self, flow: &Flow, version: Version) -> Option<&Rule<R>> {
        let mut best: Option<&Entry<R>> = None;
        for ranked in &self.order {
            if best.is_some_and(|b| b.rule.priority >= ranked.max_priority) {
                break;
            }
            let Some(sub) = self.subtable(ranked.id) else {
                continue;
            };
            if let Some(e) = sub.lookup(flow, version)
                && best.is_none_or(|b| e.rule.priority > b.rule.priority)
            {
                best = Some(e);
            }
        }
        best.map(|e| &e.rule)
    }

    /// True if some rule visible in `version` has priority `priority` and could match a packet
    /// that `flow_match` matches too (Open vSwitch's `classifier_rule_overlaps`, used for
    /// `OFPFF_CHECK_OVERLAP`).
    pub fn overlaps(&self, flow_match: &Match, priority: Priority, version: Version) -> bool {
        let m = normalized(flow_match);
        self.order
            .iter()
            .take_while(|r| r.max_priority >= priority)
            .filter_map(|r| self.subtable(r.id))
            .any(|sub| {
                let mut both = m.wc;
                for (a, b) in both
                    .masks
                    .words_mut()
                    .iter_mut()
                    .zip(sub.mask.masks.words())
                {
                    *a &= b;
                }
                sub.buckets().flat_map(|b| &b.entries).any(|e| {
                    e.rule.priority == priority
                        && e.visible_in(version)
                        && e.rule.flow_match.flow.masked(&both) == m.flow.masked(&both)
                })
            })
    }

    /// Every rule visible in `version`, subtable by subtable in scan order (Open vSwitch's
    /// cursor order: not sorted by priority across subtables).
    pub fn iter(&self, version: Version) -> Rules<'_, R> {
        Rules::new(self, version, None)
    }

    /// Every rule visible in `version` that `target` loosely matches: the rule's mask includes
    /// `target`'s and they agree on `target`'s bits (OpenFlow non-strict modify/delete/stats).
    pub fn iter_loose(&self, target: &Match, version: Version) -> Rules<'_, R> {
        Rules::new(self, version, Some(normalized(target)))
    }

    /// Every rule visible in `version`, by descending priority (ties in scan order).
    pub fn sorted_by_priority(&self, version: Version) -> Vec<&Rule<R>> {
        let mut v: Vec<&Rule<R>> = self.iter(version).collect();
        v.sort_by_key(|r| std::cmp::Reverse(r.priority));
        v
    }

    /// Panics if a structural invariant does not hold (tests only).
    #[cfg(test)]
    pub(crate) fn check_invariants(&self) {
        let live: Vec<usize> = (0..self.subtables.len())
            .filter(|&i| self.subtable(i).is_some())
            .collect();
        let mut ranked: Vec<usize> = self.order.iter().map(|r| r.id).collect();
        ranked.sort_unstable();
        assert_eq!(ranked, live, "every live subtable ranked once");
        assert!(
            self.order
                .windows(2)
                .all(|w| w[0].max_priority >= w[1].max_priority),
            "order"
        );
        let mut total = 0;
        for r in &self.order {
            let sub = self.subtable(r.id).expect("ranked subtable exists");
            sub.check_invariants();
            assert!(sub.n_entries > 0, "no empty subtable");
            assert_eq!(r.max_priority, sub.max_priority, "rank is current");
            assert_eq!(self.by_mask.get(&sub.mask), Some(&r.id), "mask index");
            total += sub.n_entries;
        }
        assert_eq!(self.by_mask.len(), self.order.len(), "mask index size");
        assert_eq!(total, self.n_rules, "rule count");
        for (index, trie) in self.tries.iter().enumerate() {
            let mut want: Vec<(u128, u32)> = self
                .order
                .iter()
                .filter_map(|r| self.subtable(r.id))
                .flat_map(|sub| sub.expected_prefixes(index, &self.tries))
                .collect();
            want.sort_unstable();
            assert_eq!(trie.trie.contents(), want, "trie on {}", trie.field);
        }
    }

    fn create_subtable(&mut self, mask: &Wildcards) -> usize {
        let sub = Subtable::new(mask, &self.tries);
        let id = match self.free_ids.pop() {
            Some(id) => {
                if let Some(slot) = self.subtables.get_mut(id) {
                    *slot = Some(sub);
                }
                id
            }
            None => {
                self.subtables.push(Some(sub));
                self.subtables.len() - 1
            }
        };
        self.by_mask.insert(*mask, id);
        id
    }

    /// Puts subtable `id`, ranked at `ranked` until now (None: not ranked), where its current
    /// maximum priority belongs in `order`, or destroys it if it has no entries left.
    fn rerank(&mut self, id: usize, ranked: Option<Priority>) {
        let Some(sub) = self.subtable(id) else { return };
        let (n_entries, max_priority, mask) = (sub.n_entries, sub.max_priority, sub.mask);
        if n_entries > 0 && ranked == Some(max_priority) {
            return;
        }
        if let Some(old) = ranked {
            let first = self.order.partition_point(|r| r.max_priority > old);
            if let Some(at) = self.order.iter().skip(first).position(|r| r.id == id) {
                self.order.remove(first + at);
            }
        }
        if n_entries == 0 {
            self.by_mask.remove(&mask);
            if let Some(slot) = self.subtables.get_mut(id) {
                *slot = None;
            }
            self.free_ids.push(id);
            return;
        }
        let at = self
            .order
            .partition_point(|r| r.max_priority >= max_priority);
        self.order.insert(at, Ranked { max_priority, id });
    }
}
