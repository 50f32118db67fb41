//! Tests of the dpctl commands. Expected texts marked "OVS 3.1" were recorded from
//! `tools/ovs-oracle.sh appctl DIR dpctl/...` (OVS 3.1, dummy datapath, bridge br0, ports p1..p4)
//! with the same commands.

mod flows;
mod oracle_cases;
mod properties;
mod transcripts;

use std::sync::Arc;

use rvs_flow::ufid::UfidGenerator;
use rvs_netdev::DummyNetdev;

use super::run;
use crate::clock::VirtualClock;
use crate::datapath::{Datapath, DatapathConfig};

/// The oracle's datapath: p1..p4 (type dummy, `ifindex=N`) and br0 (port 100).
pub(super) fn datapath() -> (Datapath, Arc<VirtualClock>) {
    let clock = Arc::new(VirtualClock::new(1000));
    let config = DatapathConfig {
        ufid_generator: UfidGenerator::with_secret(0x5eed),
        ..DatapathConfig::dummy()
    };
    let dp = Datapath::new(config, clock.clone());
    for i in 1..=4u32 {
        let netdev = Arc::new(DummyNetdev::new(&format!("p{i}")));
        dp.port_add(
            netdev,
            "dummy",
            vec![("ifindex".into(), i.to_string())],
            None,
        )
        .expect("port add");
    }
    dp.port_add(
        Arc::new(DummyNetdev::new("br0")),
        "dummy-internal",
        vec![],
        None,
    )
    .expect("br0");
    (dp, clock)
}

/// Runs `dpctl/<cmd> args...`.
pub(super) fn dpctl(dp: &Datapath, cmd: &str, args: &[&str]) -> Result<String, String> {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    run(dp, cmd, &args)
}

pub(super) const FLOW_A: &str =
    "in_port(1),eth(src=00:00:00:00:00:01),eth_type(0x0800),ipv4(src=10.0.0.2,frag=no)";
pub(super) const UFID: &str = "ufid:11111111-2222-4333-8444-555555555555";
pub(super) const MAIN: &str = "flow-dump from the main thread:\n";
