//! `upcall/show` text (ovs-upcall.md §4.3), byte for byte OVS's layout with rvs's thread ids.
//!
//! # Invariants
//! * One block per engine: name line, `flows` line, `dump duration`, `ufid enabled`, a blank line,
//!   then one `  <id>: (keys <k>)` line per **live** revalidator (bug 30), where `k` counts the
//!   ukeys of that revalidator's sweep slice. The `offloaded flows` line is never printed (the
//!   userspace datapath offloads nothing).

use std::fmt::Write as _;

use crate::udpif::Udpif;

impl Udpif {
    /// The `upcall/show` block, with `revalidator_ids` the live revalidators' ids (leader first).
    pub fn show(&self, revalidator_ids: &[u64]) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "{}:", self.dpif.name());
        let _ = writeln!(
            s,
            "  flows         : (current {}) (avg {}) (max {}) (limit {})",
            self.n_flows(),
            self.avg_n_flows(),
            self.max_n_flows(),
            self.flow_limit()
        );
        let _ = writeln!(s, "  dump duration : {}ms", self.dump_duration());
        let _ = writeln!(s, "  ufid enabled : {}", self.use_ufid());
        s.push('\n');
        let n = revalidator_ids.len();
        for (slice, id) in revalidator_ids.iter().enumerate() {
            let _ = writeln!(s, "  {}: (keys {})", id, self.ukeys.slice_len(slice, n));
        }
        s
    }
}
