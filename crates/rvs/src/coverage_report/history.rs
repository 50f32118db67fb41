//! Per-counter rate history with the arithmetic of OVS's `coverage_run`.
//!
//! Every [`RUN_INTERVAL_MS`] (5 s) the increase of each counter since the previous run is stored
//! in a ring of [`MIN_SLOTS`] five-second cells (the last minute); a second ring of
//! [`HOUR_SLOTS`] cells holds one sum per minute (the last hour). When a run comes late and
//! several intervals have passed, the increase is spread evenly over the missed cells and the
//! remainder goes into the last one. As in OVS the cells are 32-bit and wrap.
//!
//! Invariants: `next_cell < MIN_SLOTS * HOUR_SLOTS`; all arithmetic is wrapping or checked, so
//! no input (times going backwards, huge gaps, totals shrinking) can panic.

use std::collections::HashMap;

/// Length of one rate cell, as OVS's `COVERAGE_RUN_INTERVAL`.
pub(super) const RUN_INTERVAL_MS: u64 = 5000;
/// Five-second cells per minute.
pub(super) const MIN_SLOTS: usize = (60_000 / RUN_INTERVAL_MS) as usize;
/// One-minute cells per hour.
pub(super) const HOUR_SLOTS: usize = 60;
/// Cells in a full hour: the global cell index runs modulo this.
const CYCLE: u64 = (MIN_SLOTS * HOUR_SLOTS) as u64;

/// The rate cells of one counter.
#[derive(Clone, Debug)]
pub(super) struct CounterCells {
    /// Total at the previous run.
    pub(super) last_total: u64,
    /// Increase per five-second cell of the current minute ring.
    pub(super) minute: [u32; MIN_SLOTS],
    /// Increase per minute of the current hour ring.
    pub(super) hour: [u32; HOUR_SLOTS],
}

impl CounterCells {
    fn new() -> Self {
        CounterCells {
            last_total: 0,
            minute: [0; MIN_SLOTS],
            hour: [0; HOUR_SLOTS],
        }
    }

    /// Stores the increase up to `total`, spread over the cells of `steps` (cell indexes counted
    /// from `first_cell`; the whole run has `steps.end` cells, the remainder goes to the last).
    fn advance(&mut self, total: u64, first_cell: u64, steps: std::ops::Range<u64>) {
        let slots = steps.end;
        let count = u64::from(total.wrapping_sub(self.last_total) as u32);
        self.last_total = total;
        let portion = (count / slots) as u32;
        let remainder = (count % slots) as u32;
        for step in steps {
            let index = ((first_cell + step) % CYCLE) as usize;
            let value = if step + 1 == slots {
                portion.wrapping_add(remainder)
            } else {
                portion
            };
            let (m, h) = (index % MIN_SLOTS, index / MIN_SLOTS);
            if let (Some(min_cell), Some(hour_cell)) =
                (self.minute.get_mut(m), self.hour.get_mut(h))
            {
                *min_cell = value;
                *hour_cell = if m == 0 {
                    value
                } else {
                    hour_cell.wrapping_add(value)
                };
            }
        }
    }
}

/// Rate history of every counter seen so far.
#[derive(Clone, Debug, Default)]
pub(super) struct History {
    /// When the next run is due; `None` before the first sample.
    next_run_ms: Option<u64>,
    /// Global cell index (OVS's `idx_count`), `0..MIN_SLOTS * HOUR_SLOTS`.
    pub(super) next_cell: u32,
    /// Cells by counter name.
    pub(super) counters: HashMap<String, CounterCells>,
}

impl History {
    /// Records the totals at `now_ms` (a run happens only once the interval has elapsed).
    pub(super) fn sample(&mut self, now_ms: u64, totals: &[(String, u64)]) {
        for (name, _) in totals {
            if !self.counters.contains_key(name) {
                self.counters.insert(name.clone(), CounterCells::new());
            }
        }
        let due = *self
            .next_run_ms
            .get_or_insert(now_ms.saturating_add(RUN_INTERVAL_MS));
        if now_ms < due {
            return;
        }
        let slots = (now_ms - due) / RUN_INTERVAL_MS + 1;
        // After one whole hour of cells the state no longer depends on what came before, so
        // whole extra hours can be skipped without changing the result.
        let first_step = if slots >= 2 * CYCLE {
            (slots / CYCLE - 1) * CYCLE
        } else {
            0
        };
        let current: HashMap<&str, u64> = totals.iter().map(|(n, t)| (n.as_str(), *t)).collect();
        for (name, cells) in self.counters.iter_mut() {
            // A counter missing from this sample did not move.
            let total = current
                .get(name.as_str())
                .copied()
                .unwrap_or(cells.last_total);
            cells.advance(total, u64::from(self.next_cell), first_step..slots);
        }
        self.next_cell = ((u64::from(self.next_cell) + slots % CYCLE) % CYCLE) as u32;
        self.next_run_ms = Some(now_ms.saturating_add(RUN_INTERVAL_MS));
    }

    /// The three rates OVS prints for `name`: last five seconds, last minute, last hour (per s).
    pub(super) fn rates(&self, name: &str) -> (f64, f64, f64) {
        let Some(cells) = self.counters.get(name) else {
            return (0.0, 0.0, 0.0);
        };
        // OVS reads cell `(idx_count - 1) % MIN_SLOTS` in unsigned 32-bit arithmetic, so when the
        // index has just wrapped to 0 it reads cell 3 (2^32 - 1 = 3 mod 12), not cell 11.
        let last = (self.next_cell.wrapping_sub(1) as usize) % MIN_SLOTS;
        let last_cell = cells.minute.get(last).copied().unwrap_or(0);
        let minute_sum = cells.minute.iter().fold(0u32, |a, &v| a.wrapping_add(v));
        let hour_sum = cells.hour.iter().fold(0u32, |a, &v| a.wrapping_add(v));
        (
            f64::from(last_cell) * 1000.0 / RUN_INTERVAL_MS as f64,
            f64::from(minute_sum) / 60.0,
            f64::from(hour_sum) / 3600.0,
        )
    }
}
