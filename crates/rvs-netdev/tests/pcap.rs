//! Pcap ports and dummy-port captures, round-tripped through temporary capture files.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{test_frame, test_seq};
use rvs_netdev::{
    DummyConfig, DummyNetdev, Netdev, NetdevKind, Packet, PacketBatch, PcapConfig, PcapNetdev,
    PcapSink,
};

const MAC: [u8; 6] = [2, 0, 0, 0, 0, 1];

fn frames(n: u32) -> Vec<Packet> {
    (0..n)
        .map(|i| Packet::from_slice(&test_frame(MAC, i, 60 + (i as usize * 97) % 1455)))
        .collect()
}

fn write_capture(path: &Path, frames: &[Packet]) {
    let mut sink = PcapSink::create(path).expect("create");
    for frame in frames {
        sink.write(frame).expect("write");
    }
    sink.flush().expect("flush");
}

/// Everything `port` delivers until it has nothing more (for unpaced ports).
fn drain(port: &dyn Netdev) -> Vec<Packet> {
    let mut batch = PacketBatch::new();
    let mut out = Vec::new();
    loop {
        let n = port.rx_batch(&mut batch).expect("rx");
        assert!(n <= 32);
        if n == 0 {
            return out;
        }
        out.extend(batch.take_all());
    }
}

#[test]
fn frames_sent_to_a_pcap_port_replay_identically() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("tx.pcap");
    let sent = frames(100);
    let writer = PcapNetdev::open(
        "w",
        PcapConfig {
            tx_path: Some(file.clone()),
            ..PcapConfig::default()
        },
    )
    .expect("open writer");
    assert_eq!(writer.kind(), NetdevKind::Pcap);
    for chunk in sent.chunks(32) {
        assert_eq!(writer.tx_batch(chunk).expect("tx"), chunk.len());
    }
    let bytes: u64 = sent.iter().map(|f| f.len() as u64).sum();
    assert_eq!(
        (writer.stats().tx_packets, writer.stats().tx_bytes),
        (100, bytes)
    );

    let reader = PcapNetdev::open(
        "r",
        PcapConfig {
            rx_path: Some(file),
            ..PcapConfig::default()
        },
    )
    .expect("open reader");
    let received = drain(&reader);
    assert_eq!(received, sent);
    assert!(reader.rx_finished());
    assert_eq!(
        (reader.stats().rx_packets, reader.stats().rx_bytes),
        (100, bytes)
    );
    assert!(
        !reader
            .wait_readable(Duration::from_millis(1))
            .expect("wait")
    );
}

#[test]
fn dummy_captures_replay_through_a_pcap_port() {
    let dir = tempfile::tempdir().expect("tempdir");
    let tx_file = dir.path().join("dummy-tx.pcap");
    let rx_file = dir.path().join("dummy-rx.pcap");
    let config = DummyConfig {
        tx_pcap: Some(tx_file.clone()),
        rxq_pcap: Some(rx_file.clone()),
        ..DummyConfig::default()
    };
    let dummy = DummyNetdev::with_config("p1", config).expect("dummy");
    let sent = frames(10);
    dummy.tx_batch(&sent).expect("tx");
    let injected = frames(5);
    for frame in &injected {
        assert!(dummy.inject(frame));
    }
    let replay = |path: &Path| {
        let port = PcapNetdev::open(
            "r",
            PcapConfig {
                rx_path: Some(path.to_owned()),
                ..PcapConfig::default()
            },
        )
        .expect("open");
        drain(&port)
    };
    assert_eq!(replay(&tx_file), sent);
    assert_eq!(replay(&rx_file), injected);
}

#[test]
fn a_looped_capture_starts_over() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("loop.pcap");
    write_capture(&file, &frames(3));
    let port = PcapNetdev::open(
        "r",
        PcapConfig {
            rx_path: Some(file),
            looped: true,
            ..PcapConfig::default()
        },
    )
    .expect("open");
    let mut batch = PacketBatch::new();
    assert_eq!(
        port.rx_batch(&mut batch).expect("rx"),
        32,
        "a looped port is never empty"
    );
    let seqs: Vec<u32> = batch.iter().filter_map(|p| test_seq(p)).collect();
    let expected: Vec<u32> = (0..32).map(|i| i % 3).collect();
    assert_eq!(seqs, expected);
    assert!(!port.rx_finished());
}

#[test]
fn an_empty_looped_capture_is_simply_finished() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("empty.pcap");
    write_capture(&file, &[]);
    let port = PcapNetdev::open(
        "r",
        PcapConfig {
            rx_path: Some(file),
            looped: true,
            ..PcapConfig::default()
        },
    )
    .expect("open");
    assert!(drain(&port).is_empty());
    assert!(port.rx_finished());
}

#[test]
fn a_paced_capture_keeps_to_its_rate() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("paced.pcap");
    write_capture(&file, &frames(3));
    let config = PcapConfig {
        rx_path: Some(file),
        looped: true,
        rate_pps: Some(1000.0),
        ..PcapConfig::default()
    };
    let port = PcapNetdev::open("r", config).expect("open");
    let mut batch = PacketBatch::new();
    let start = Instant::now();
    let mut received = 0;
    while received < 100 {
        port.wait_readable(Duration::from_secs(1)).expect("wait");
        received += port.rx_batch(&mut batch).expect("rx");
        batch.clear();
    }
    let elapsed = start.elapsed();
    // Frame n is due n ms after the first call: frame 99 at 99 ms.
    assert!(
        elapsed >= Duration::from_millis(98),
        "100 frames at 1000 pps took only {elapsed:?}"
    );
    // An idle receiver gets at most one batch of catch-up, not everything it missed: over a
    // window of w ms after 200 ms idle, at most 32 + w (+1 for the frame due at the edge) frames.
    std::thread::sleep(Duration::from_millis(200));
    let window_start = Instant::now();
    let mut total = 0;
    while window_start.elapsed() < Duration::from_millis(20) {
        total += port.rx_batch(&mut batch).expect("rx");
        batch.clear();
    }
    let window_ms = window_start.elapsed().as_secs_f64() * 1000.0;
    assert!(total >= 32, "the catch-up batch is delivered: {total}");
    assert!(
        total as f64 <= 33.0 + window_ms,
        "{total} frames in {window_ms:.1} ms after idling"
    );
}

#[test]
fn a_truncated_capture_yields_its_whole_frames_and_one_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("cut.pcap");
    let sent = frames(4);
    write_capture(&file, &sent);
    let len = std::fs::metadata(&file).expect("stat").len();
    let bytes = std::fs::read(&file).expect("read");
    std::fs::write(&file, &bytes[..len as usize - 10]).expect("truncate");
    let port = PcapNetdev::open(
        "r",
        PcapConfig {
            rx_path: Some(file),
            ..PcapConfig::default()
        },
    )
    .expect("open");
    assert_eq!(drain(&port), sent[..3].to_vec());
    assert_eq!(port.stats().rx_errors, 1);
}

#[test]
fn a_pcap_port_without_a_transmit_file_drops_what_it_is_given() {
    let port = PcapNetdev::open("p", PcapConfig::default()).expect("open");
    assert_eq!(port.tx_batch(&frames(3)).expect("tx"), 0);
    assert_eq!(port.stats().tx_dropped, 3);
    assert!(drain(&port).is_empty());
    assert_eq!(port.mtu().expect("mtu"), 1500);
    assert!(port.link_up().expect("link"));
}

#[test]
fn bad_rates_and_missing_files_are_refused() {
    let config = PcapConfig {
        rate_pps: Some(0.0),
        ..PcapConfig::default()
    };
    assert!(PcapNetdev::open("p", config).is_err());
    let config = PcapConfig {
        rate_pps: Some(f64::NAN),
        ..PcapConfig::default()
    };
    assert!(PcapNetdev::open("p", config).is_err());
    let config = PcapConfig {
        rx_path: Some("/nonexistent/x.pcap".into()),
        ..PcapConfig::default()
    };
    let err = PcapNetdev::open("p", config).expect_err("missing file");
    assert!(err.to_string().contains("/nonexistent/x.pcap"), "{err}");
}

/// Captures written by Open vSwitch 3.1 (`tools/ovs-oracle.sh`, dummy datapath): p1 had
/// `options:pcap` and p2 `options:tx_pcap`, flow `in_port=1,actions=output:2`, and the two frames
/// below went in with `ovs-appctl netdev-dummy/receive p1 <hex> <hex>`.
const OVS_P1: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/ovs-dummy-p1.pcap");
const OVS_P2_TX: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/ovs-dummy-p2-tx.pcap"
);
const OVS_FRAMES: [&str; 2] = [
    "ffffffffffff020000000001080045000020000000004011f9c5c0a80001c0a80002000400090000f1e86869",
    "0200000000020200000000018100600a88b500000007aabbccddeeff00112233445566778899aabbccddeeff\
     0011223344556677889900112233445566778899aabbcc",
];

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
        .collect()
}

#[test]
fn captures_written_by_ovs_replay() {
    let expected: Vec<Vec<u8>> = OVS_FRAMES.iter().map(|f| unhex(f)).collect();
    for file in [OVS_P1, OVS_P2_TX] {
        let port = PcapNetdev::open(
            "r",
            PcapConfig {
                rx_path: Some(file.into()),
                ..PcapConfig::default()
            },
        )
        .expect("open");
        let got: Vec<Vec<u8>> = drain(&port).iter().map(|p| p.to_vec()).collect();
        assert_eq!(got, expected, "{file}");
    }
}

#[test]
fn our_captures_match_ovs_byte_for_byte_but_the_snaplen() {
    if cfg!(target_endian = "big") {
        eprintln!("SKIPPED: the OVS captures were written on a little-endian host");
        return;
    }
    let ovs = std::fs::read(OVS_P1).expect("read");
    let mut source = rvs_netdev::PcapSource::open(Path::new(OVS_P1)).expect("open");
    let dir = tempfile::tempdir().expect("tempdir");
    let ours = dir.path().join("ours.pcap");
    let mut sink = PcapSink::create(&ours).expect("create");
    let mut packet = Packet::new();
    while let Some(timestamp) = source.next_into(&mut packet).expect("read") {
        sink.write_at(timestamp, &packet).expect("write");
    }
    sink.flush().expect("flush");
    let mut ours = std::fs::read(&ours).expect("read");
    // OVS's header says snaplen 1518 (it still writes longer frames whole); ours says 65535.
    assert_eq!(&ours[16..20], &65535u32.to_le_bytes());
    ours[16..20].copy_from_slice(&1518u32.to_le_bytes());
    assert_eq!(ours, ovs);
}
