//! The startup probe of `startup_install.rs` over real interfaces: the daemon's two ports are
//! AF_PACKET sockets on veths in a private network namespace (as in the side-by-side harness),
//! and the frames come from a third AF_PACKET socket on the generator's end of the first veth.
//! Fresh daemons with two revalidator threads get new flows from their first millisecond while
//! the control plane is hammered; every flow must be installed, shutdown must be prompt, and the
//! resident memory must stay bounded.
//!
//! Needs root and `ip` (iproute2); without them the test says SKIPPED and returns.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rvs::daemon::{Daemon, ExitReason, StartOptions};
use rvs::vlog::Vlog;
use rvs_dpif::dpif::Dpif;
use rvs_netdev::{AfPacketConfig, AfPacketNetdev, Netdev, Packet, TestNet};

/// One fresh daemon: traffic from its start until `flows` are installed; returns the count.
fn one_start(vlog: &Vlog, sender: &AfPacketNetdev, frames: &[Packet], flows: u64) -> (u64, bool) {
    let dir = tempfile::tempdir().expect("tempdir");
    let daemon = Daemon::start(StartOptions {
        config: common::config("afpacket", "ovsp1", "ovsp2"),
        rundir: dir.path().join("run"),
        vlog: vlog.clone(),
    })
    .expect("daemon");
    let inner = Arc::clone(daemon.inner());
    let stop = AtomicBool::new(false);
    let installed = std::thread::scope(|s| {
        s.spawn(|| {
            let mut n = 0u32;
            while !stop.load(Ordering::Acquire) {
                inner.engine.set_flow_limit(1_000_000);
                let _ = inner.dp.dp_stats();
                let _ = inner.engine.show();
                if n.is_multiple_of(16) {
                    let seq = inner.udpif.dump_seq();
                    let _ = inner
                        .udpif
                        .wait_dump_seq_after(seq, Duration::from_millis(20));
                }
                n += 1;
                std::thread::sleep(Duration::from_millis(5));
            }
        });
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut next = 0usize;
        let installed = loop {
            let n = inner.dp.dp_stats().n_flows;
            if n >= flows || Instant::now() > deadline {
                break n;
            }
            // About 60 kpps, as the harness's paced sender: 32 frames every ~0.5 ms.
            let end = (next + 32).min(frames.len());
            let _ = sender.tx_batch(&frames[next..end]);
            next = if end == frames.len() { 0 } else { end };
            std::thread::sleep(Duration::from_micros(500));
        };
        stop.store(true, Ordering::Release);
        installed
    });
    let (tx, rx) = std::sync::mpsc::channel();
    let waiter = std::thread::spawn(move || {
        daemon.shutdown(&ExitReason::Command { cleanup: true });
        let _ = tx.send(());
    });
    let prompt = rx.recv_timeout(Duration::from_secs(30)).is_ok();
    if prompt {
        waiter.join().expect("shutdown thread");
    }
    (installed, prompt)
}

#[test]
fn fresh_daemons_on_afpacket_ports_install_every_flow() {
    if let Err(why) = TestNet::available() {
        eprintln!("SKIPPED: {why}");
        return;
    }
    let starts: usize = std::env::var("RVS_STARTUP_STARTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let flows: u16 = std::env::var("RVS_STARTUP_FLOWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let net = TestNet::new().expect("netns");
    net.add_veth_pair("gen0", "ovsp1").expect("veth");
    net.add_veth_pair("ovsp2", "sink0").expect("veth");
    let handle = net
        .spawn(move || {
            let vlog = Vlog::init(&["off".to_owned()], None).expect("vlog");
            let sender = AfPacketNetdev::open("gen0", &AfPacketConfig::default()).expect("gen0");
            let frames: Vec<Packet> = (0..flows).map(|i| Packet::from_slice(&common::frame(i))).collect();
            let rss_start = common::rss_kb();
            let mut failures = Vec::new();
            for start in 0..starts {
                let (installed, prompt) = one_start(&vlog, &sender, &frames, u64::from(flows));
                if installed < u64::from(flows) || !prompt {
                    failures.push(format!(
                        "start {start}: {installed} of {flows} flows installed, shutdown prompt: {prompt}"
                    ));
                    break;
                }
            }
            (failures, common::rss_kb().saturating_sub(rss_start) / 1024)
        })
        .expect("spawn in netns");
    let (failures, grown_mb) = handle.join().expect("netns thread");
    assert!(failures.is_empty(), "{failures:?}");
    assert!(grown_mb < 512, "{grown_mb} MiB more resident");
}
