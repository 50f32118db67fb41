//! The engine's log: leveled messages with OVS-style rate limits, kept in memory for tests and tools
//! and optionally echoed to standard error.
//!
//! # Invariants
//! * A [`RateLimit`] is a token bucket like OVS's `VLOG_RATE_LIMIT_INIT(rate, burst)`: `rate`
//!   messages per minute on average, at most `burst` in a row, time taken from the caller (the
//!   engine's clock), so virtual-clock tests see exactly which messages pass.
//! * The log keeps the newest [`Log::CAPACITY`] records; the totals per level count every
//!   message written (not the ones a rate limit dropped).

use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use parking_lot::Mutex;

/// Severity of a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Something is broken (rvs logs this where OVS would abort).
    Err,
    /// Unexpected but handled.
    Warn,
    /// Noteworthy.
    Info,
    /// Debugging detail.
    Dbg,
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Level::Err => "ERR",
            Level::Warn => "WARN",
            Level::Info => "INFO",
            Level::Dbg => "DBG",
        })
    }
}

/// One logged message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// Severity.
    pub level: Level,
    /// The text.
    pub message: String,
}

/// Milliseconds of "token" one message costs (OVS's `VLOG_MSG_TOKENS`).
const MSG_TOKENS: u64 = 60 * 1000;

/// A token-bucket rate limit: `rate` messages per minute, bursts of `burst`.
#[derive(Debug)]
pub struct RateLimit {
    rate: u64,
    burst: u64,
    /// (tokens, last refill time in ms; `None` before the first message)
    state: Mutex<(u64, Option<u64>)>,
}

impl RateLimit {
    /// `rate` messages per minute on average, at most `burst` in a row.
    pub const fn new(rate: u64, burst: u64) -> RateLimit {
        RateLimit {
            rate,
            burst,
            state: Mutex::new((0, None)),
        }
    }

    /// True if a message at time `now_ms` may pass (and takes its token).
    pub fn allow(&self, now_ms: u64) -> bool {
        let cap = self.burst.saturating_mul(MSG_TOKENS);
        let mut st = self.state.lock();
        let (tokens, last) = *st;
        let refilled = match last {
            None => cap,
            Some(last) => tokens
                .saturating_add(now_ms.saturating_sub(last).saturating_mul(self.rate))
                .min(cap),
        };
        if refilled >= MSG_TOKENS {
            *st = (refilled - MSG_TOKENS, Some(now_ms.max(last.unwrap_or(0))));
            true
        } else {
            *st = (refilled, Some(now_ms.max(last.unwrap_or(0))));
            false
        }
    }
}

/// The engine's log.
#[derive(Default)]
pub struct Log {
    records: Mutex<VecDeque<Record>>,
    totals: [AtomicU64; 4],
    echo: AtomicBool,
}

impl fmt::Debug for Log {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Log({} records)", self.records.lock().len())
    }
}

impl Log {
    /// How many records are kept.
    pub const CAPACITY: usize = 1024;

    /// Echo every message to standard error (as `upcall|LEVEL|text`) from now on, or stop.
    pub fn set_echo(&self, echo: bool) {
        self.echo.store(echo, Ordering::Relaxed);
    }

    /// Writes a message.
    pub fn write(&self, level: Level, message: String) {
        if let Some(t) = self.totals.get(level as usize) {
            t.fetch_add(1, Ordering::Relaxed);
        }
        if self.echo.load(Ordering::Relaxed) {
            eprintln!("ofproto_dpif_upcall|{level}|{message}");
        }
        let mut records = self.records.lock();
        if records.len() == Self::CAPACITY {
            records.pop_front();
        }
        records.push_back(Record { level, message });
    }

    /// Writes a message if `limit` lets it pass at `now_ms`.
    pub fn write_rl(&self, limit: &RateLimit, now_ms: u64, level: Level, message: String) {
        if limit.allow(now_ms) {
            self.write(level, message);
        }
    }

    /// Messages written at `level` so far.
    pub fn total(&self, level: Level) -> u64 {
        self.totals
            .get(level as usize)
            .map_or(0, |t| t.load(Ordering::Relaxed))
    }

    /// A copy of the kept records, oldest first.
    pub fn records(&self) -> Vec<Record> {
        self.records.lock().iter().cloned().collect()
    }

    /// True if a kept record contains `needle`.
    pub fn contains(&self, needle: &str) -> bool {
        self.records
            .lock()
            .iter()
            .any(|r| r.message.contains(needle))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limit_allows_burst_then_rate_per_minute() {
        let rl = RateLimit::new(1, 5);
        let passed = (0..10).filter(|_| rl.allow(1000)).count();
        assert_eq!(passed, 5, "a burst of 5 then nothing");
        assert!(!rl.allow(1000 + 59_999));
        assert!(rl.allow(1000 + 60_000), "one more token a minute later");
        assert!(!rl.allow(1000 + 60_000));
    }

    #[test]
    fn log_keeps_records_and_totals() {
        let log = Log::default();
        log.write(Level::Warn, "hello".into());
        let rl = RateLimit::new(1, 1);
        log.write_rl(&rl, 5, Level::Info, "a".into());
        log.write_rl(&rl, 6, Level::Info, "b".into());
        assert_eq!(log.total(Level::Warn), 1);
        assert_eq!(log.total(Level::Info), 1);
        assert!(log.contains("hello") && log.contains("a") && !log.contains("b"));
    }
}
