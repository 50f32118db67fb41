//! Tests of the composer and of the receive arguments: OVS 3.1 captures, round trips through
//! [`crate::extract`], and robustness.

mod fixtures;
mod roundtrip;

use super::parse_receive_args;
use fixtures::FIXTURES;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Expands a fixture frame: `<hex>*<n>` is `<hex>` padded with zero bytes to `n` bytes.
fn unpack(frame: &str) -> String {
    match frame.split_once('*') {
        Some((hex, len)) => {
            let len: usize = len.parse().expect("fixture length");
            format!("{hex}{}", "00".repeat(len - hex.len() / 2))
        }
        None => frame.to_string(),
    }
}

fn args_of(raw: &[&str]) -> Vec<String> {
    raw.iter().map(|s| s.to_string()).collect()
}

/// Fixtures where we knowingly differ from OVS (see the module docs of `compose`), with why. For
/// these the test checks that we reply an error, which is our documented behaviour.
const KNOWN_DIFFERENCES: &[(usize, &str)] = &[
    (94, "tunnel(): not supported by our key parser"),
    (95, "nd_ext(): not supported by our key parser"),
];

/// What the daemon does with a request: the port `p1` has one receive queue.
fn receive_on_one_queue(args: &[String]) -> Result<Vec<String>, String> {
    let request = parse_receive_args(args)?;
    if request.qid.is_some_and(|q| q >= 1) {
        return Err("bad rx queue id.".to_string());
    }
    Ok(request.packets.iter().map(|p| hex(p)).collect())
}

#[test]
fn replies_and_frames_match_ovs() {
    let mut bad = 0;
    for (i, f) in FIXTURES.iter().enumerate() {
        let got = receive_on_one_queue(&args_of(f.args));
        if let Some((_, why)) = KNOWN_DIFFERENCES.iter().find(|(k, _)| *k == i) {
            assert!(got.is_err(), "#{i} ({why}) now parses: {got:?}");
            continue;
        }
        let want = f
            .reply
            .map(|ps| ps.iter().map(|s| unpack(s)).collect::<Vec<_>>())
            .map_err(str::to_string);
        if got != want {
            bad += 1;
            println!("#{i} {:?}\n  got  {got:?}\n  want {want:?}", f.args);
        }
    }
    assert_eq!(bad, 0);
}
