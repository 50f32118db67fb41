//! Replays of command lists against transcripts captured from OVS 3.1 (`testdata/`).

use super::*;

/// Differential harness (run by hand): runs the tab-separated command lines of the file named
/// by `RVS_DPCTL_CASES` and prints the replies in the layout of the oracle script.
#[test]
#[ignore = "manual comparison with the OVS oracle"]
fn print_replies_for_oracle_comparison() {
    let Ok(path) = std::env::var("RVS_DPCTL_CASES") else {
        return;
    };
    let (dp, _) = datapath();
    let text = std::fs::read_to_string(path).expect("cases");
    for line in text.lines() {
        let mut fields = line.split('\t');
        let cmd = fields.next().unwrap_or("");
        let args: Vec<&str> = fields.collect();
        println!("### {cmd} {}", args.join(" "));
        match dpctl(&dp, cmd, &args) {
            Ok(t) => print!("{t}"),
            Err(t) => print!("ERR:{t}"),
        }
    }
}

/// Replays tab-separated command lines on a fresh datapath; returns the transcript in the
/// layout of the `testdata/*.ovs31` files (`### <command line>`, then the reply; an error
/// reply is prefixed with `ERR:`).
fn replay(cases: &str) -> String {
    let (dp, _) = datapath();
    let mut ours = String::new();
    for line in cases.lines() {
        let mut fields = line.split('\t');
        let cmd = fields.next().unwrap_or("");
        let args: Vec<&str> = fields.collect();
        ours.push_str(&format!("### {cmd} {}\n", args.join(" ")));
        match dpctl(&dp, cmd, &args) {
            Ok(t) => ours.push_str(&t),
            Err(t) => ours.push_str(&format!("ERR:{t}")),
        }
    }
    ours
}

/// The replies of a transcript, each as its first line (if a header or an error) and its
/// sorted lines (dumps list flows in hash-table order in OVS, in slot order here).
fn replies(transcript: &str) -> Vec<(Option<&str>, Vec<&str>)> {
    let mut out: Vec<(Option<&str>, Vec<&str>)> = Vec::new();
    for line in transcript.lines() {
        if line.starts_with("### ") {
            out.push((None, vec![line]));
        } else if let Some(last) = out.last_mut() {
            last.0.get_or_insert(line);
            last.1.push(line);
        }
    }
    for reply in &mut out {
        // Which line comes first matters only for headers and errors.
        if reply
            .0
            .is_some_and(|l| !l.starts_with("flow-dump") && !l.starts_with("ERR:"))
        {
            reply.0 = None;
        }
        reply.1.sort_unstable();
    }
    out
}

/// `testdata/flows.cases` replayed gives exactly `testdata/flows.ovs31`, the transcript OVS 3.1
/// gave for the same lines on a fresh oracle (captured with `ovs-appctl` running each line).
#[test]
fn replays_oracle_transcript() {
    let ours = replay(include_str!("../testdata/flows.cases"));
    assert_eq!(ours, include_str!("../testdata/flows.ovs31"));
}

/// Options, datapath arguments and `-m` dumps, against OVS 3.1's transcript; flow order within
/// a dump is not compared.
#[test]
fn replays_options_transcript() {
    let ours = replay(include_str!("../testdata/options.cases"));
    let theirs = include_str!("../testdata/options.ovs31");
    assert_eq!(replies(&ours), replies(theirs));
}
