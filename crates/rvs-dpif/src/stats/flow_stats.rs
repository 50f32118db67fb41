//! Flow statistics as the datapath reports them ([`FlowStats`]) and as the per-thread buckets keep
//! them ([`Counters`]).
//!
//! Invariants:
//! * Every field of [`Counters`] only ever grows (modulo wrap-around): `n_updates`, `n_packets`,
//!   `n_bytes` and each TCP flag count are running totals and `used_ms` is a running maximum. That
//!   is what lets a clear be a *baseline* (a remembered earlier value of the same totals) instead of a
//!   write into a forwarding thread's bucket: "stats since the clear" = current totals − baseline.
//! * A TCP flag bit is reported by [`Counters::since`] iff at least one update carrying it happened
//!   after the baseline: the per-bit counts make OR-ed flags subtractable, which a plain OR-ed word
//!   is not. (Counts are `u32`; a bit is missed only if exactly a multiple of 2³² updates carrying
//!   it happened between two clears.)
//! * All arithmetic wraps; nothing here can panic.

/// Number of TCP flag bits that flows track (OVS keeps the low 12 bits of the TCP control field:
/// FIN, SYN, RST, PSH, ACK, URG, ECE, CWR, NS and three reserved bits).
pub const TCP_FLAG_BITS: usize = 12;

/// Mask of the TCP flag bits that flows track; other bits given to the writer are ignored.
pub const TCP_FLAGS_MASK: u16 = (1 << TCP_FLAG_BITS) - 1;

/// The statistics of one datapath flow, as `dpif` reports them (`struct dpif_flow_stats`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct FlowStats {
    /// Packets that hit the flow.
    pub n_packets: u64,
    /// Bytes of those packets.
    pub n_bytes: u64,
    /// Time of the last hit, in milliseconds of the datapath clock; 0 means never.
    pub used_ms: u64,
    /// OR of the TCP flags of the packets that hit the flow (only [`TCP_FLAGS_MASK`] bits).
    pub tcp_flags: u16,
}

impl FlowStats {
    /// Folds `other` into `self` the way OVS combines stats of the same flow from several places:
    /// packets and bytes add up, `used_ms` is the later of the two, TCP flags are OR-ed.
    pub fn merge(&mut self, other: &FlowStats) {
        self.n_packets = self.n_packets.wrapping_add(other.n_packets);
        self.n_bytes = self.n_bytes.wrapping_add(other.n_bytes);
        self.used_ms = self.used_ms.max(other.used_ms);
        self.tcp_flags |= other.tcp_flags;
    }
}

/// Running totals of one flow: what a bucket holds for one thread, what a reader sums over threads,
/// and what a clear remembers as the baseline.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Counters {
    /// Number of `add` calls that went into these totals.
    pub(crate) n_updates: u64,
    /// Total packets.
    pub(crate) n_packets: u64,
    /// Total bytes.
    pub(crate) n_bytes: u64,
    /// Largest `used_ms` seen (0 = never).
    pub(crate) used_ms: u64,
    /// For each TCP flag bit, the number of updates that carried it.
    pub(crate) flag_counts: [u32; TCP_FLAG_BITS],
}

impl Counters {
    /// Adds `other` (another thread's totals for the same flow) into `self`.
    pub(crate) fn accumulate(&mut self, other: &Counters) {
        self.n_updates = self.n_updates.wrapping_add(other.n_updates);
        self.n_packets = self.n_packets.wrapping_add(other.n_packets);
        self.n_bytes = self.n_bytes.wrapping_add(other.n_bytes);
        self.used_ms = self.used_ms.max(other.used_ms);
        for (sum, count) in self.flag_counts.iter_mut().zip(other.flag_counts) {
            *sum = sum.wrapping_add(count);
        }
    }

    /// The statistics of the updates counted in `self` but not in `baseline`, an earlier value of the
    /// same totals.
    ///
    /// `used_ms` is the latest use time known if any update happened since `baseline`, else 0
    /// ("never since the clear").
    pub(crate) fn since(&self, baseline: &Counters) -> FlowStats {
        if self.n_updates == baseline.n_updates {
            return FlowStats::default();
        }
        let mut tcp_flags = 0u16;
        for (bit, (now, then)) in self
            .flag_counts
            .iter()
            .zip(baseline.flag_counts)
            .enumerate()
        {
            if *now != then {
                tcp_flags |= 1 << bit;
            }
        }
        FlowStats {
            n_packets: self.n_packets.wrapping_sub(baseline.n_packets),
            n_bytes: self.n_bytes.wrapping_sub(baseline.n_bytes),
            used_ms: self.used_ms,
            tcp_flags,
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn counters(n_updates: u64, n_packets: u64, used_ms: u64, flags: &[(usize, u32)]) -> Counters {
        let mut c = Counters {
            n_updates,
            n_packets,
            n_bytes: n_packets * 60,
            used_ms,
            ..Counters::default()
        };
        for &(bit, count) in flags {
            c.flag_counts[bit] = count;
        }
        c
    }

    #[test]
    fn merge_adds_counts_takes_latest_use_and_ors_flags() {
        let mut a = FlowStats {
            n_packets: 2,
            n_bytes: 120,
            used_ms: 50,
            tcp_flags: 0x002,
        };
        a.merge(&FlowStats {
            n_packets: 3,
            n_bytes: 180,
            used_ms: 40,
            tcp_flags: 0x010,
        });
        assert_eq!(
            a,
            FlowStats {
                n_packets: 5,
                n_bytes: 300,
                used_ms: 50,
                tcp_flags: 0x012
            }
        );
    }

    #[test]
    fn accumulate_sums_threads() {
        let mut sum = counters(1, 2, 10, &[(1, 1)]);
        sum.accumulate(&counters(3, 5, 30, &[(1, 2), (4, 3)]));
        assert_eq!(sum, counters(4, 7, 30, &[(1, 3), (4, 3)]));
    }

    #[test]
    fn since_reports_only_the_difference() {
        let baseline = counters(4, 7, 30, &[(1, 3), (4, 3)]);
        let now = counters(6, 10, 35, &[(1, 3), (4, 5), (0, 1)]);
        assert_eq!(
            now.since(&baseline),
            FlowStats {
                n_packets: 3,
                n_bytes: 180,
                used_ms: 35,
                tcp_flags: 0x011
            }
        );
    }

    #[test]
    fn since_without_updates_is_never_used() {
        let baseline = counters(4, 7, 30, &[(1, 3)]);
        assert_eq!(baseline.since(&baseline), FlowStats::default());
    }

    #[test]
    fn since_survives_wrap_around() {
        let baseline = Counters {
            n_updates: u64::MAX,
            n_packets: u64::MAX - 1,
            flag_counts: [u32::MAX; 12],
            ..Counters::default()
        };
        let mut now = baseline;
        now.accumulate(&counters(2, 5, 9, &[(2, 1)]));
        let stats = now.since(&baseline);
        assert_eq!(
            (stats.n_packets, stats.used_ms, stats.tcp_flags),
            (5, 9, 0x004)
        );
    }
}
