//! Tests of the coverage and memory replies; expected texts marked "OVS 3.1" were recorded from
//! the oracle (`ovs-appctl coverage/show`, `memory/show` against OVS 3.1 ovs-vswitchd).

use proptest::prelude::*;

use super::history::{CounterCells, HOUR_SLOTS, MIN_SLOTS};
use super::*;

/// `coverage/show` from OVS 3.1 (oracle, about two minutes after start): 32 hit counters and
/// 119 counters never hit.
const OVS_SHOW: &str = include_str!("ovs31_coverage_show.txt");

/// Rebuilds, from a recorded `coverage/show` text, totals and a rate history that must print it.
/// The printed rates pin the hidden cell sums exactly: a 5 s rate `x` is `cell / 5`, a minute
/// rate is `sum / 60`, an hour rate is `sum / 3600`, and each is printed with enough digits to
/// round back to the integer.
fn rebuild_from_text(text: &str) -> (CoverageReport, Vec<(String, u64)>) {
    let mut report = CoverageReport::new();
    report.history.next_cell = 1; // the last closed cell is minute[0]
    let mut totals = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    for line in &lines[1..lines.len() - 1] {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let rate = |i: usize| -> f64 { fields[i].trim_end_matches("/sec").parse().expect("rate") };
        let last = (rate(1) * 5.0).round() as u32;
        let minute = (rate(2) * 60.0).round() as u32;
        let hour = (rate(3) * 3600.0).round() as u32;
        let mut cells = CounterCells {
            last_total: 0,
            minute: [0; MIN_SLOTS],
            hour: [0; HOUR_SLOTS],
        };
        cells.minute[0] = last;
        cells.minute[1] = minute - last;
        cells.hour[0] = hour;
        report.history.counters.insert(fields[0].to_string(), cells);
        totals.push((fields[0].to_string(), fields[5].parse().expect("total")));
    }
    let never: usize = lines[lines.len() - 1]
        .split(' ')
        .next()
        .expect("n")
        .parse()
        .expect("n");
    for i in 0..never {
        totals.push((format!("never_hit_{i}"), 0));
    }
    (report, totals)
}

fn as_pairs(totals: &[(String, u64)]) -> Vec<(&str, u64)> {
    totals.iter().map(|(n, t)| (n.as_str(), *t)).collect()
}

fn line_for(report: &CoverageReport, totals: &[(&str, u64)], name: &str) -> String {
    let text = report.show(totals);
    text.lines()
        .find(|l| l.starts_with(name))
        .expect("line")
        .to_string()
}

#[test]
fn show_matches_recorded_ovs_text_byte_for_byte() {
    let (report, totals) = rebuild_from_text(OVS_SHOW);
    assert_eq!(report.show(&as_pairs(&totals)), OVS_SHOW);
}

#[test]
fn nothing_hit_matches_ovs_just_started() {
    // OVS 3.1 right after start, before any counter had been folded into its total.
    let names: Vec<String> = (0..151).map(|i| format!("c{i}")).collect();
    let totals: Vec<(&str, u64)> = names.iter().map(|n| (n.as_str(), 0)).collect();
    assert_eq!(
        CoverageReport::new().show(&totals),
        "Event coverage, avg rate over last: 5 seconds, last minute, last hour,  hash=63852afc:\n\
         151 events never hit\n"
    );
}

#[test]
fn steady_ten_per_second_for_seventy_seconds() {
    // Arithmetic of coverage.c's coverage_run: 14 runs of 50 events; the minute ring is full of
    // 50s, the hour ring holds 600 (first minute) + 100 (two cells of the second).
    let mut report = CoverageReport::new();
    for second in 0..=70u64 {
        report.sample(second * 1000, &[("steady", second * 10), ("idle", 0)]);
    }
    let totals = [("steady", 700), ("idle", 0)];
    assert_eq!(
        line_for(&report, &totals, "steady"),
        "steady                    10.0/sec    10.000/sec        0.1944/sec   total: 700"
    );
    assert!(report.show(&totals).ends_with("\n1 events never hit\n"));
}

#[test]
fn late_run_spreads_the_increase_with_the_remainder_last() {
    let mut report = CoverageReport::new();
    report.sample(0, &[("x", 0)]);
    report.sample(5000, &[("x", 0)]); // first run; next due at 10 000
    report.sample(17_000, &[("x", 11)]); // two cells: 5 then 6
    let line = line_for(&report, &[("x", 11)], "x");
    assert!(line.contains("   1.2/sec     0.183/sec"), "{line}");
}

#[test]
fn index_wrap_reads_cell_three_like_ovs() {
    // After exactly one hour of runs OVS's index is 0 and `(0u - 1) % 12` reads cell 3.
    let mut report = CoverageReport::new();
    report.sample(0, &[("x", 0)]);
    let mut total = 0;
    for run in 1..=720u64 {
        total += if run % 12 == 4 { 5 } else { 1 };
        report.sample(run * 5000, &[("x", total)]);
    }
    assert_eq!(report.history.next_cell, 0);
    let line = line_for(&report, &[("x", total)], "x");
    assert_eq!(
        line,
        "x                          1.0/sec     0.267/sec        0.2667/sec   total: 960"
    );
}

#[test]
fn repeated_names_are_summed_in_first_seen_order() {
    let report = CoverageReport::new();
    let text = report.show(&[("b", 1), ("a", 2), ("b", 3)]);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[1].starts_with("b ") && lines[1].ends_with("total: 4"));
    assert!(lines[2].starts_with("a ") && lines[2].ends_with("total: 2"));
    assert_eq!(text, report.show(&[("b", 4), ("a", 2)]));
}

#[test]
fn read_counter_replies() {
    let totals = [("a", 2), ("b", 0), ("a", 3)];
    assert_eq!(
        CoverageReport::read_counter(&totals, "a"),
        Ok("5\n".to_string())
    );
    assert_eq!(
        CoverageReport::read_counter(&totals, "b"),
        Ok("0\n".to_string())
    );
    assert_eq!(
        CoverageReport::read_counter(&totals, "A"),
        Err("No such counter".to_string())
    );
}

#[test]
fn memory_show_matches_ovs() {
    // OVS 3.1 oracle `memory/show`.
    let items = [
        ("rules", 4),
        ("ports", 5),
        ("handlers", 1),
        ("idl-cells-Open_vSwitch", 324),
        ("revalidators", 1),
    ];
    assert_eq!(
        memory_show(&items),
        "handlers:1 idl-cells-Open_vSwitch:324 ports:5 revalidators:1 rules:4\n"
    );
    assert_eq!(memory_show(&[]), "");
}

/// Straight transcription of the cell update, without the whole-hour skip.
fn reference_cells(runs: &[(u64, u64)]) -> (u32, [u32; MIN_SLOTS], [u32; HOUR_SLOTS]) {
    let cycle = (MIN_SLOTS * HOUR_SLOTS) as u64;
    let (mut idx, mut last, mut minute, mut hour) =
        (0u64, 0u64, [0u32; MIN_SLOTS], [0u32; HOUR_SLOTS]);
    for &(slots, total) in runs {
        let count = u64::from(total.wrapping_sub(last) as u32);
        last = total;
        let mut i = idx;
        for j in 0..slots {
            let v = (count / slots + if j == slots - 1 { count % slots } else { 0 }) as u32;
            let (m, h) = (
                (i % MIN_SLOTS as u64) as usize,
                (i / MIN_SLOTS as u64) as usize,
            );
            minute[m] = v;
            hour[h] = if m == 0 { v } else { hour[h].wrapping_add(v) };
            i = (i + 1) % cycle;
        }
        idx = (idx + slots) % cycle;
    }
    (idx as u32, minute, hour)
}

proptest! {
    #[test]
    fn cells_match_reference(runs in proptest::collection::vec((1u64..3000, 0u64..1_000_000), 1..6)) {
        let mut report = CoverageReport::new();
        report.sample(0, &[("x", 0)]);
        let mut due = 5000u64;
        let mut monotone = Vec::new();
        let mut total = 0u64;
        for &(slots, add) in &runs {
            total += add;
            let now = due + (slots - 1) * 5000 + 123;
            report.sample(now, &[("x", total)]);
            monotone.push((slots, total));
            due = now + 5000;
        }
        let (idx, minute, hour) = reference_cells(&monotone);
        let cells = &report.history.counters["x"];
        prop_assert_eq!(report.history.next_cell, idx);
        prop_assert_eq!(cells.minute, minute);
        prop_assert_eq!(cells.hour, hour);
    }

    #[test]
    fn never_panics(samples in proptest::collection::vec((any::<u64>(), "[a-c]{0,2}", any::<u64>()), 0..8)) {
        let mut report = CoverageReport::new();
        for (now, name, total) in &samples {
            report.sample(*now, &[(name.as_str(), *total), ("fixed", *total)]);
        }
        let totals: Vec<(&str, u64)> = samples.iter().map(|(_, n, t)| (n.as_str(), *t)).collect();
        let text = report.show(&totals);
        prop_assert!(text.ends_with(" events never hit\n"));
        let _ = memory_show(&totals);
    }
}
