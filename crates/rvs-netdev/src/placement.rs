//! Placing threads on processors.
//!
//! # Invariants
//! * A thread is only ever pinned to a processor it was already allowed to run on, and only when
//!   the group it belongs to has no more threads than it has allowed processors (otherwise two of
//!   them would be pinned to one processor, worse than leaving the choice to the system).

use nix::sched::{CpuSet, sched_getaffinity, sched_setaffinity};
use nix::unistd::Pid;

/// Pins the calling thread to the `index`-th processor it may run on, if a group of `group`
/// threads fits on those processors one each. Returns the processor, or `None` (the thread is
/// then left as it was).
pub fn pin_current_thread_in_group(index: usize, group: usize) -> Option<usize> {
    let me = Pid::from_raw(0);
    let allowed = sched_getaffinity(me).ok()?;
    let cpus: Vec<usize> = (0..CpuSet::count())
        .filter(|&cpu| allowed.is_set(cpu).unwrap_or(false))
        .collect();
    if group > cpus.len() {
        return None;
    }
    let cpu = *cpus.get(index)?;
    let mut only = CpuSet::new();
    only.set(cpu).ok()?;
    sched_setaffinity(me, &only).ok()?;
    Some(cpu)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed_cpus() -> Vec<usize> {
        let set = sched_getaffinity(Pid::from_raw(0)).expect("affinity");
        (0..CpuSet::count())
            .filter(|&c| set.is_set(c).unwrap_or(false))
            .collect()
    }

    #[test]
    fn pins_within_the_allowed_processors_and_only_when_the_group_fits() {
        let cpus = std::thread::spawn(allowed_cpus).join().expect("join");
        let n = cpus.len();
        // A group larger than the processors: left alone.
        let (got, after) = std::thread::spawn(move || {
            let got = pin_current_thread_in_group(0, n + 1);
            (got, allowed_cpus())
        })
        .join()
        .expect("join");
        assert_eq!(got, None);
        assert_eq!(after, cpus);
        // The last thread of a group that fits: pinned to the last allowed processor.
        let (got, after) = std::thread::spawn(move || {
            let got = pin_current_thread_in_group(n - 1, n);
            (got, allowed_cpus())
        })
        .join()
        .expect("join");
        assert_eq!(got, cpus.last().copied());
        assert_eq!(after, vec![cpus[n - 1]]);
    }
}
