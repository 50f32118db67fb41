//! A fresh daemon under new flows from its first millisecond, while its control plane is hammered
//! the way the side-by-side harness does it (`upcall/set-flow-limit`, `dpctl/show`,
//! `upcall/show`, `revalidator/wait`, an `add-flow`): with two revalidator threads, every new
//! flow is installed, the resident memory stays bounded, and the daemon shuts down promptly.
//!
//! This replays in-process (dummy ports instead of AF_PACKET on veths) the conditions of the one
//! side-by-side point (R=2, N=50k) that installed 124 flows and grew to 17 GB, then had to be
//! killed; it fails if installs stall, memory grows per packet or shutdown hangs.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rvs::daemon::{Daemon, StartOptions, dummy_port};
use rvs::vlog::Vlog;
use rvs_dpif::dpif::Dpif;

#[test]
fn fresh_daemons_install_every_flow_under_control_plane_churn() {
    // More starts (e.g. RVS_STARTUP_STARTS=500) to hunt the rare case; the default keeps it short.
    let starts: usize = std::env::var("RVS_STARTUP_STARTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(12);
    const FLOWS: u16 = 3000;
    let vlog = Vlog::init(&["off".to_owned()], None).expect("vlog");
    let rss_start = common::rss_kb();
    for start in 0..starts {
        let dir = tempfile::tempdir().expect("tempdir");
        let daemon = Daemon::start(StartOptions {
            config: common::config("dummy", "p1", "p2"),
            rundir: dir.path().join("run"),
            vlog: vlog.clone(),
        })
        .expect("daemon");
        let inner = Arc::clone(daemon.inner());
        let p1 = dummy_port(&inner, "p1").expect("p1");
        let stop = AtomicBool::new(false);
        let installed = std::thread::scope(|s| {
            // The harness's control plane: the flow limit pinned and the flow count read every few
            // ms, upcall/show, round waits, and an unrelated rule added now and then.
            s.spawn(|| {
                let mut n = 0u32;
                while !stop.load(Ordering::Acquire) {
                    inner.engine.set_flow_limit(1_000_000);
                    let _ = inner.dp.dp_stats();
                    let _ = inner.engine.show();
                    if n.is_multiple_of(16) {
                        inner.udpif.revalidate();
                        let seq = inner.udpif.dump_seq();
                        let _ = inner
                            .udpif
                            .wait_dump_seq_after(seq, Duration::from_millis(50));
                    }
                    if n.is_multiple_of(64) {
                        let rule = format!("priority=1,udp,tp_dst={},actions=drop", 9 + n / 64);
                        let _ = inner.ofproto.ofctl("br0", "add-flow", &[rule]);
                    }
                    n += 1;
                    std::thread::sleep(Duration::from_millis(2));
                }
            });
            // Traffic from the first moment: every flow, looping, as fast as the port takes it.
            let deadline = Instant::now() + Duration::from_secs(60);
            let mut i = 0u16;
            let installed = loop {
                let flows = inner.dp.dp_stats().n_flows;
                if flows >= u64::from(FLOWS) || Instant::now() > deadline {
                    break flows;
                }
                for _ in 0..64 {
                    if !p1.inject(&common::frame(i)) {
                        std::thread::yield_now();
                        break;
                    }
                    i = (i + 1) % FLOWS;
                }
            };
            stop.store(true, Ordering::Release);
            installed
        });
        assert_eq!(
            installed,
            u64::from(FLOWS),
            "start {start}: installs stalled at {installed} flows"
        );
        // Shutdown must not hang (the failed run's daemon had to be killed).
        let (tx, rx) = std::sync::mpsc::channel();
        let waiter = std::thread::spawn(move || {
            daemon.shutdown(&rvs::daemon::ExitReason::Command { cleanup: true });
            let _ = tx.send(());
        });
        assert!(
            rx.recv_timeout(Duration::from_secs(30)).is_ok(),
            "start {start}: shutdown hangs"
        );
        waiter.join().expect("shutdown thread");
    }
    let grown_mb = common::rss_kb().saturating_sub(rss_start) / 1024;
    assert!(
        grown_mb < 512,
        "{grown_mb} MiB more resident after {starts} daemons of {FLOWS} flows"
    );
}
