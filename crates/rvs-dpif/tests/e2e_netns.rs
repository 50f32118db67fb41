//! End to end through real interfaces: two hosts, each in its own network namespace, talk through
//! the userspace datapath. Host A's veth peer and host B's veth peer live in a third ("switch")
//! namespace, where they are opened as AF_PACKET ports 1 and 2 of a [`Datapath`] with forwarding
//! threads running. The upcall engine is not part of this crate, so the rule set is installed
//! directly as two datapath flows (in_port 1 → output 2, in_port 2 → output 1, masks on in_port
//! only, so ARP and IP both pass); the datapath has no handler, so a miss is counted as lost.
//!
//! Checked: with no flow installed, a ping fails and its frames count as lost; with the flows,
//! `ping -c 5` loses nothing, an `iperf3` TCP run of 3 s moves data, and afterwards the flow
//! statistics and the `dpctl/show` counters agree with each other and with the ports' counters.
//!
//! Needs root, `ip` (iproute2), `ping`, `iperf3` and `ethtool`; without them the test says SKIPPED
//! and returns. `ethtool` turns off transmit checksum offload on the host ends, as OVS's userspace
//! datapath also needs on veths: AF_PACKET hands over TCP segments whose checksum the sending
//! kernel left for the (virtual) hardware to finish, and the receiving host would drop them.
//! Every command runs under `timeout`; every address is in 198.18.0.0/15 (RFC 2544) and every
//! frame stays inside the namespaces the test creates, which are deleted when it ends.

use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rvs_dpif::clock::Clock;
use rvs_dpif::datapath::{Datapath, DatapathConfig, ForwardingThreads};
use rvs_dpif::dpif::{Dpif, DpifFlow, FlowPut, FlowStats, PMD_ID_NULL, PutFlags};
use rvs_flow::odp::OdpAction;
use rvs_flow::{Flow, Wildcards};
use rvs_netdev::{AfPacketConfig, AfPacketNetdev, Netdev, TestNet};

const HOST_A_IP: &str = "198.18.0.1";
const HOST_B_IP: &str = "198.18.0.2";
const PREFIX_LEN: &str = "24";
/// Datapath port of host A's link, and of host B's.
const PORT_A: u32 = 1;
const PORT_B: u32 = 2;
/// Seconds of iperf3 traffic.
const IPERF_SECONDS: u32 = 3;
const IPERF_PORT: &str = "5201";

/// Milliseconds since the clock was made, plus 1 (0 means "never used" to flow statistics).
struct MonotonicClock(Instant);

impl Clock for MonotonicClock {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.0.elapsed().as_millis())
            .unwrap_or(u64::MAX - 1)
            .saturating_add(1)
    }
}

/// Why the test cannot run here, if it cannot.
fn missing_tools() -> Option<String> {
    if let Err(why) = TestNet::available() {
        return Some(why);
    }
    for (tool, arg) in [
        ("ping", "-V"),
        ("iperf3", "--version"),
        ("ethtool", "--version"),
        ("timeout", "--version"),
    ] {
        match Command::new(tool).arg(arg).output() {
            Ok(_) => {}
            Err(e) => return Some(format!("`{tool}` is not available: {e}")),
        }
    }
    None
}

/// Runs `command` under `timeout <secs>` inside `net` and returns its output, whatever its status.
fn exec(net: &TestNet, secs: u32, command: &[&str]) -> Output {
    let secs = secs.to_string();
    let mut full = vec!["timeout", secs.as_str()];
    full.extend_from_slice(command);
    net.exec(&full).expect("run a command in the namespace")
}

/// Like [`exec`], but the command must succeed.
fn exec_ok(net: &TestNet, secs: u32, command: &[&str]) -> String {
    let out = exec(net, secs, command);
    assert!(
        out.status.success(),
        "{command:?} in {} failed ({}): {}{}",
        net.name(),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The three namespaces and the datapath between them.
struct Topology {
    // Field order is drop order: ports and threads go before the namespaces they live in.
    threads: Option<ForwardingThreads>,
    dp: Datapath,
    port_a: Arc<AfPacketNetdev>,
    port_b: Arc<AfPacketNetdev>,
    host_a: TestNet,
    host_b: TestNet,
    /// Kept for its `Drop`, which deletes the namespace.
    _switch: TestNet,
}

/// Moves `ifname` from `switch` into `host`, gives it `ip`/24, brings it up and turns off its
/// transmit checksum offload.
fn configure_host(switch: &TestNet, host: &TestNet, ifname: &str, ip: &str) {
    exec_ok(
        switch,
        10,
        &["ip", "link", "set", ifname, "netns", host.name()],
    );
    let address = format!("{ip}/{PREFIX_LEN}");
    exec_ok(host, 10, &["ip", "addr", "add", &address, "dev", ifname]);
    exec_ok(host, 10, &["ip", "link", "set", ifname, "up"]);
    // Without this, TCP segments leave the host with only a partial checksum, which AF_PACKET
    // hands over as is; the receiver then drops them (OVS documents the same for its netdev
    // datapath on veths).
    exec_ok(host, 10, &["ethtool", "-K", ifname, "tx", "off"]);
}

/// Opens `ifname` of the switch namespace as an AF_PACKET port (the socket stays in that namespace).
fn open_port(switch: &TestNet, ifname: &str) -> Arc<AfPacketNetdev> {
    let name = ifname.to_owned();
    let port = switch
        .spawn(move || AfPacketNetdev::open(&name, &AfPacketConfig::default()))
        .expect("spawn in the switch namespace")
        .join()
        .expect("join the opening thread")
        .expect("open the AF_PACKET port");
    Arc::new(port)
}

impl Topology {
    fn new() -> Topology {
        let switch = TestNet::new().expect("switch namespace");
        let host_a = TestNet::new().expect("host A namespace");
        let host_b = TestNet::new().expect("host B namespace");
        switch.add_veth_pair("swa", "eth-a").expect("veth A");
        switch.add_veth_pair("swb", "eth-b").expect("veth B");
        configure_host(&switch, &host_a, "eth-a", HOST_A_IP);
        configure_host(&switch, &host_b, "eth-b", HOST_B_IP);

        let config = DatapathConfig {
            n_handlers: 0,
            ..DatapathConfig::netdev()
        };
        let dp = Datapath::new(config, Arc::new(MonotonicClock(Instant::now())));
        let port_a = open_port(&switch, "swa");
        let port_b = open_port(&switch, "swb");
        for (port, no) in [(&port_a, PORT_A), (&port_b, PORT_B)] {
            let netdev: Arc<dyn Netdev> = port.clone();
            let added = dp
                .port_add(netdev, "afpacket", Vec::new(), Some(no))
                .expect("port add");
            assert_eq!(added, no);
        }
        let threads = dp.spawn_forwarding_threads(2).expect("forwarding threads");
        Topology {
            threads: Some(threads),
            dp,
            port_a,
            port_b,
            host_a,
            host_b,
            _switch: switch,
        }
    }

    /// Stops the forwarding threads, so that every counter is final.
    fn stop(&mut self) {
        if let Some(threads) = self.threads.take() {
            threads.stop();
        }
    }
}

/// Installs "everything from `in_port` goes to `out_port`": a mask on in_port (and recirc_id) only.
fn install_forward(dp: &Datapath, in_port: u32, out_port: u32) {
    let key = Flow {
        in_port,
        ..Flow::default()
    };
    let mask = Wildcards {
        masks: Flow {
            recirc_id: u32::MAX,
            in_port: u32::MAX,
            ..Flow::default()
        },
    };
    dp.flow_put(FlowPut {
        owner: None,
        flags: PutFlags::CREATE,
        key,
        mask,
        actions: vec![OdpAction::Output(out_port)].into(),
        ufid: None,
        pmd_id: PMD_ID_NULL,
    })
    .expect("install the forwarding flow");
}

/// Every flow of the datapath.
fn dump_flows(dp: &Datapath) -> Vec<DpifFlow> {
    let dump = dp.flow_dump(false);
    let mut thread = dump.thread();
    let mut flows = Vec::new();
    for _ in 0..1000 {
        if thread.next(&mut flows, 50) == 0 {
            break;
        }
    }
    flows
}

/// The statistics of the flow matching `in_port`.
fn stats_of(flows: &[DpifFlow], in_port: u32) -> FlowStats {
    flows
        .iter()
        .find(|f| f.key.as_ref().is_some_and(|k| k.in_port == in_port))
        .map(|f| f.stats)
        .unwrap_or_else(|| panic!("no flow for in_port {in_port}"))
}

/// A server process, stopped (SIGTERM through `timeout`, which passes it on) when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = Command::new("kill")
                .args(["-TERM", &self.0.id().to_string()])
                .output();
            for _ in 0..50 {
                if !matches!(self.0.try_wait(), Ok(None)) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// Starts `iperf3 -s -1` in `net` bound to `ip` and waits (at most 5 s) until it listens.
fn start_iperf_server(net: &TestNet, ip: &str) -> Server {
    let child = Command::new("ip")
        .args(["netns", "exec", net.name(), "timeout", "30"])
        .args(["iperf3", "-s", "-1", "-B", ip, "-p", IPERF_PORT])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start iperf3 -s");
    let server = Server(child);
    let filter = format!("sport = :{IPERF_PORT}");
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        let listening = exec(net, 5, &["ss", "-Hltn", &filter]);
        if !String::from_utf8_lossy(&listening.stdout).trim().is_empty() {
            return server;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("iperf3 server did not listen within 5 s");
}

/// The receiver's rate, in bits per second, from iperf3's `--json` report.
fn received_bits_per_second(json: &str) -> Option<f64> {
    let end = json.get(json.find("\"sum_received\"")?..)?;
    let rate = end.get(end.find("\"bits_per_second\"")? + "\"bits_per_second\"".len()..)?;
    let number: String = rate
        .trim_start_matches([':', ' ', '\t', '\n'])
        .chars()
        .take_while(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'))
        .collect();
    number.parse().ok()
}

/// The packet loss percentage of `ping`'s summary line.
fn ping_loss_percent(text: &str) -> Option<f64> {
    let line = text.lines().find(|l| l.contains("packet loss"))?;
    let before = line.split('%').next()?;
    before.rsplit([' ', ',']).next()?.parse().ok()
}

#[test]
fn ping_and_iperf3_pass_through_the_userspace_datapath() {
    if let Some(why) = missing_tools() {
        eprintln!("SKIPPED (needs root, iproute2, ping, iperf3 and ethtool): {why}");
        return;
    }
    let mut topo = Topology::new();
    let dp = topo.dp.clone();

    // No flow yet: the ping's ARP requests miss, and with no handler they are lost.
    let out = exec(&topo.host_a, 10, &["ping", "-c", "1", "-W", "1", HOST_B_IP]);
    assert!(
        !out.status.success(),
        "ping passed with an empty flow table"
    );
    let deadline = Instant::now() + Duration::from_secs(2);
    while dp.dp_stats().n_lost == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    let before = dp.dp_stats();
    assert!(
        before.n_lost >= 1,
        "the missed ARP request was not counted lost: {before:?}"
    );
    assert_eq!((before.n_hit, before.n_missed, before.n_flows), (0, 0, 0));

    install_forward(&dp, PORT_A, PORT_B);
    install_forward(&dp, PORT_B, PORT_A);

    let out = exec(
        &topo.host_a,
        20,
        &["ping", "-c", "5", "-i", "0.2", "-W", "2", HOST_B_IP],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    eprintln!("{text}");
    assert!(out.status.success(), "ping failed: {text}");
    assert_eq!(
        ping_loss_percent(&text),
        Some(0.0),
        "ping lost packets: {text}"
    );

    let server = start_iperf_server(&topo.host_b, HOST_B_IP);
    let seconds = IPERF_SECONDS.to_string();
    let report = exec_ok(
        &topo.host_a,
        IPERF_SECONDS + 20,
        &[
            "iperf3",
            "-c",
            HOST_B_IP,
            "-p",
            IPERF_PORT,
            "-t",
            &seconds,
            "--connect-timeout",
            "3000",
            "--json",
        ],
    );
    drop(server);
    let bps = received_bits_per_second(&report)
        .unwrap_or_else(|| panic!("no sum_received in the iperf3 report: {report}"));
    eprintln!(
        "iperf3 TCP A -> B through the datapath: {:.3} Gbit/s over {IPERF_SECONDS} s",
        bps / 1e9
    );
    assert!(bps > 1e6, "iperf3 moved less than 1 Mbit/s: {bps}");

    topo.stop();
    let flows = dump_flows(&dp);
    let (a_to_b, b_to_a) = (stats_of(&flows, PORT_A), stats_of(&flows, PORT_B));
    let show = dp.show();
    let stats = show.stats;
    let text = show.to_string();
    eprintln!("{text}");
    eprintln!(
        "flow in_port({PORT_A}) -> {PORT_B}: {a_to_b:?}\nflow in_port({PORT_B}) -> {PORT_A}: {b_to_a:?}"
    );
    let (counters_a, counters_b) = (topo.port_a.stats(), topo.port_b.stats());
    eprintln!("port {PORT_A}: {counters_a:?}\nport {PORT_B}: {counters_b:?}");

    // Both directions carried the ping and the TCP connection.
    assert!(
        a_to_b.n_packets >= 5 && b_to_a.n_packets >= 5,
        "{a_to_b:?} {b_to_a:?}"
    );
    assert!(a_to_b.n_bytes > b_to_a.n_bytes, "the data went A -> B");
    assert_eq!(flows.len(), 2);
    // Every hit is in a flow (both lived from before the first hit), nothing was queued (no
    // handler), and every frame the ports received was looked up exactly once.
    assert_eq!(stats.n_hit, a_to_b.n_packets + b_to_a.n_packets);
    assert_eq!(stats.n_missed, 0);
    // The kernel may still retry the first ARP request after that ping gave up, so a few more
    // frames can be lost before the flows are in.
    assert!(stats.n_lost >= before.n_lost, "{stats:?} {before:?}");
    assert_eq!(stats.n_flows, 2);
    assert_eq!(
        stats.n_hit + stats.n_missed + stats.n_lost,
        counters_a.rx_packets + counters_b.rx_packets
    );
    // What a flow forwarded left through its output port (or was counted as not sent there).
    for (flow, out) in [(a_to_b, &counters_b), (b_to_a, &counters_a)] {
        assert_eq!(
            flow.n_packets,
            out.tx_packets + out.tx_dropped + out.tx_errors
        );
    }
    let expected_head = format!(
        "netdev@ovs-netdev:\n  lookups: hit:{} missed:0 lost:{}\n  flows: 2\n",
        stats.n_hit, stats.n_lost
    );
    assert!(text.starts_with(&expected_head), "{text}");
    assert!(
        text.contains("  port 1: swa (afpacket)\n  port 2: swb (afpacket)\n"),
        "{text}"
    );
    drop(topo);
}

#[test]
fn ping_summary_and_iperf_report_parse() {
    let ping = "5 packets transmitted, 5 received, 0% packet loss, time 803ms";
    assert_eq!(ping_loss_percent(ping), Some(0.0));
    assert_eq!(
        ping_loss_percent("1 packets transmitted, 0 received, 100% packet loss, time 0ms"),
        Some(100.0)
    );
    let json = r#"{"end": {"sum_sent": {"bits_per_second": 1.5e9},
        "sum_received": {"seconds": 3, "bits_per_second": 1234567890.5}}}"#;
    assert_eq!(received_bits_per_second(json), Some(1_234_567_890.5));
    assert_eq!(received_bits_per_second("{}"), None);
}
