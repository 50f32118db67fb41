//! Datapath tests: flow-table semantics and error codes, the packet path (EMC, classifier, upcalls,
//! statistics, actions), dumps and statistics under concurrency, ports and `dpctl/show`.

mod concurrency;
mod flow_table;
mod forwarding;
mod grace;
mod lookup_caches;
mod ports_show;

use std::sync::Arc;

use etherparse::PacketBuilder;
use rvs_flow::extract::{ExtractOptions, PacketMetadata, extract_with_options};
use rvs_flow::odp::OdpAction;
use rvs_flow::ufid::UfidGenerator;
use rvs_flow::{Flow, Wildcards};
use rvs_netdev::{DummyNetdev, PacketBatch};

use super::{Datapath, DatapathConfig};
use crate::clock::VirtualClock;
use crate::dpif::{Actions, Dpif, FlowPut, PMD_ID_NULL, PutFlags};

/// The total of the datapath coverage counter `name` (which must exist).
fn coverage_total(dp: &Datapath, name: &str) -> u64 {
    dp.coverage()
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, total)| *total)
        .expect("counter exists")
}

/// A datapath for tests: dummy ports p1..p`n`, a fixed UFID secret, EMC always inserting.
struct Fixture {
    dp: Datapath,
    clock: Arc<VirtualClock>,
    ports: Vec<Arc<DummyNetdev>>,
}

fn config() -> DatapathConfig {
    DatapathConfig {
        ufid_generator: UfidGenerator::with_secret(0x5eed),
        emc_insert_inv_prob: 1,
        ..DatapathConfig::dummy()
    }
}

fn fixture_with(n_ports: u32, config: DatapathConfig) -> Fixture {
    let clock = Arc::new(VirtualClock::new(1000));
    let dp = Datapath::new(config, clock.clone());
    let mut ports = Vec::new();
    for i in 1..=n_ports {
        let netdev = Arc::new(DummyNetdev::new(&format!("p{i}")));
        let no = dp
            .port_add(
                netdev.clone(),
                "dummy",
                vec![("ifindex".into(), i.to_string())],
                None,
            )
            .expect("port add");
        assert_eq!(no, i);
        ports.push(netdev);
    }
    Fixture { dp, clock, ports }
}

fn fixture(n_ports: u32) -> Fixture {
    fixture_with(n_ports, config())
}

impl Fixture {
    /// Frames sent on port `port_no` (1-based) so far.
    fn sent(&self, port_no: u32) -> Vec<Vec<u8>> {
        self.ports[port_no as usize - 1]
            .take_sent()
            .iter()
            .map(|p| p.to_vec())
            .collect()
    }
}

/// A UDP frame 10.0.0.1 → 10.0.`hi`.`lo` with `payload_len` bytes of payload.
fn udp_frame(dst: u16, payload_len: usize) -> Vec<u8> {
    let mut v = Vec::new();
    let [hi, lo] = dst.to_be_bytes();
    PacketBuilder::ethernet2([0x50, 0x54, 0, 0, 0, 1], [0x50, 0x54, 0, 0, 0, 2])
        .ipv4([10, 0, 0, 1], [10, 0, hi, lo], 64)
        .udp(1000, 2000)
        .write(&mut v, &vec![0xab; payload_len])
        .expect("build");
    v
}

/// The flow key of `frame` received on `in_port` (vlan_limit 1, as the datapath extracts).
fn key_of(frame: &[u8], in_port: u32) -> Flow {
    extract_with_options(
        frame,
        &PacketMetadata::from_port(in_port),
        &ExtractOptions { vlan_limit: 1 },
    )
    .0
}

/// recirc_id, in_port, dl_type, nw_dst and nw_frag exact.
fn mask_dst() -> Wildcards {
    Wildcards {
        masks: Flow {
            recirc_id: u32::MAX,
            in_port: u32::MAX,
            dl_type: u16::MAX,
            nw_dst: u32::MAX,
            nw_frag: 3,
            ..Flow::default()
        },
    }
}

fn actions(list: Vec<OdpAction>) -> Actions {
    list.into()
}

fn flow_put(flags: PutFlags, key: Flow, mask: Wildcards, acts: Vec<OdpAction>) -> FlowPut {
    FlowPut {
        owner: None,
        flags,
        key,
        mask,
        actions: actions(acts),
        ufid: None,
        pmd_id: PMD_ID_NULL,
    }
}

/// Installs `frame`'s flow on `in_port` (mask [`mask_dst`]) with `acts`.
fn install(dp: &Datapath, frame: &[u8], in_port: u32, acts: Vec<OdpAction>) {
    dp.flow_put(flow_put(
        PutFlags::CREATE,
        key_of(frame, in_port),
        mask_dst(),
        acts,
    ))
    .expect("install");
}

fn batch(frames: &[Vec<u8>]) -> PacketBatch {
    let mut b = PacketBatch::new();
    for f in frames {
        assert!(b.push_copy(f));
    }
    b
}
