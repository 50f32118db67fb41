//! Tests of the configuration module: defaults, the example file, every error path (message and
//! position), run-time `set`, and a property test that no text panics the loader.

mod errors;
mod other;
mod props;

use super::*;
use rvs_ofproto::vlan::{PriorityTags, VlanMode};

/// Loads `text` as if read from `/etc/rvs/rvs.toml`.
fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::from_toml_str(text, Some(Path::new("/etc/rvs/rvs.toml")))
}

/// The error `text` gives, with its line and column.
fn error(text: &str) -> (usize, usize, String) {
    let err = parse(text).expect_err("the text should be refused");
    (
        err.line().expect("the error should have a line"),
        err.column().expect("the error should have a column"),
        err.message().to_string(),
    )
}

#[test]
fn default_config_is_br0_with_four_dummy_ports_and_ovs_defaults() {
    let config = Config::default_config();
    assert_eq!(config.datapath, DatapathKind::Dummy);
    assert_eq!(config.log, ["info"]);
    assert_eq!(config.rundir, None);
    assert!(!config.keep_flows_on_exit);
    assert_eq!(config.bridges.len(), 1);
    let br0 = &config.bridges[0];
    assert_eq!(br0.name, "br0");
    assert!(
        br0.flows.is_empty(),
        "the daemon adds OVS's default NORMAL flow itself"
    );
    let ports: Vec<_> = br0
        .ports
        .iter()
        .map(|p| (p.name.as_str(), p.ofport, p.kind.clone()))
        .collect();
    assert_eq!(
        ports,
        [
            ("p1", Some(1), PortKind::Dummy),
            ("p2", Some(2), PortKind::Dummy),
            ("p3", Some(3), PortKind::Dummy),
            ("p4", Some(4), PortKind::Dummy),
        ]
    );
    // vswitch.xml / bridge.c defaults of Open vSwitch 3.1.
    let other = &config.other;
    assert_eq!(other.flow_limit, 200_000);
    assert_eq!(other.max_idle_ms, 10_000);
    assert_eq!(other.max_revalidator_ms, 500);
    assert_eq!(other.min_revalidate_pps, 5);
    assert_eq!(other.n_handler_threads, None);
    assert_eq!(other.n_revalidator_threads, None);
    assert_eq!(other.n_forwarding_threads, 1);
    assert_eq!(other.emc_insert_inv_prob, 100);
    assert_eq!(other.vlan_limit, 1);
    assert_eq!(Config::default(), config);
}

#[test]
fn empty_file_takes_every_default_and_has_no_bridge() {
    let config = parse("").expect("an empty file is valid");
    assert_eq!(config.other, OtherConfig::default());
    assert_eq!(config.log, ["info"]);
    assert_eq!(config.datapath, DatapathKind::Dummy);
    assert!(config.bridges.is_empty());
    assert_eq!(
        config.source.as_deref(),
        Some(Path::new("/etc/rvs/rvs.toml"))
    );
}

#[test]
fn top_level_keys_and_relative_paths() {
    let config = parse(
        "rundir = \"run\"\ndatapath = \"netdev\"\nlog = \"dbg\"\nlog-file = \"/var/log/rvs.log\"\n\
         keep-flows-on-exit = true\n",
    )
    .expect("valid");
    assert_eq!(config.rundir.as_deref(), Some(Path::new("/etc/rvs/run")));
    assert_eq!(config.datapath, DatapathKind::Netdev);
    assert_eq!(config.log, ["dbg"]);
    assert_eq!(
        config.log_file.as_deref(),
        Some(Path::new("/var/log/rvs.log"))
    );
    assert!(config.keep_flows_on_exit);
    // Without a file, relative paths stay as written.
    let config = Config::from_toml_str("rundir = \"run\"", None).expect("valid");
    assert_eq!(config.rundir.as_deref(), Some(Path::new("run")));
    assert_eq!(config.source, None);
}

#[test]
fn other_config_accepts_integers_and_ovs_style_strings() {
    let config = parse(
        "[other_config]\nflow-limit = 1000\nmax-idle = \"2000\"\nn-handler-threads = 3\n\
         n-revalidator-threads = \"\"\nvlan-limit = 0\nemc-insert-inv-prob = 0\n",
    )
    .expect("valid");
    assert_eq!(config.other.flow_limit, 1000);
    assert_eq!(config.other.max_idle_ms, 2000);
    assert_eq!(config.other.n_handler_threads, Some(3));
    assert_eq!(config.other.n_revalidator_threads, None);
    assert_eq!(config.other.vlan_limit, 0);
    assert_eq!(config.other.effective_vlan_limit(), 2);
    assert_eq!(config.other.emc_insert_inv_prob, 0);
}

#[test]
fn ports_of_every_type_and_vlan_settings() {
    let config = parse(
        r#"
[[bridge]]
name = "br0"
flows = ["  priority=0,actions=NORMAL  "]

[[bridge.port]]
name = "p1"
ofport = 7
tag = 10

[[bridge.port]]
name = "cap"
type = "pcap"
rx-pcap = "in.pcap"
tx-pcap = "/tmp/out.pcap"
vlan-mode = "native-tagged"
tag = 5
trunks = [5, 6]
priority-tags = "always"

[[bridge.port]]
name = "eth-a"
type = "afpacket"
n_rxq = 2

[[bridge.port]]
name = "q"
type = "afpacket"
interface = "veth0"
vlan-mode = "dot1q-tunnel"
tag = 100
cvlans = [1, 2]
qinq-ethtype = "802.1q"
"#,
    )
    .expect("valid");
    let br0 = &config.bridges[0];
    assert_eq!(br0.flows, ["priority=0,actions=NORMAL"]);
    let p1 = &br0.ports[0];
    assert_eq!((p1.kind.clone(), p1.ofport), (PortKind::Dummy, Some(7)));
    assert_eq!(p1.vlan.tag, Some(10));
    assert_eq!(p1.vlan.vlan_mode, None);
    let cap = &br0.ports[1];
    assert_eq!(
        cap.kind,
        PortKind::Pcap {
            rx: Some(PathBuf::from("/etc/rvs/in.pcap")),
            tx: Some(PathBuf::from("/tmp/out.pcap")),
        }
    );
    assert_eq!(cap.vlan.vlan_mode, Some(VlanMode::NativeTagged));
    assert_eq!(cap.vlan.trunks, [5, 6]);
    assert_eq!(cap.vlan.priority_tags, PriorityTags::Always);
    assert_eq!(
        br0.ports[2].kind,
        PortKind::AfPacket {
            interface: "eth-a".into(),
            n_rxq: 2,
        }
    );
    let q = &br0.ports[3];
    assert_eq!(
        q.kind,
        PortKind::AfPacket {
            interface: "veth0".into(),
            n_rxq: 1,
        }
    );
    assert_eq!(q.vlan.cvlans, [1, 2]);
    assert_eq!(q.vlan.qinq_ethtype.as_deref(), Some("802.1q"));
}

#[test]
fn flows_file_is_read_relative_to_the_config_and_appended() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("rules.txt"),
        "# comment\npriority=5,in_port=p1,actions=drop # inline comment\n\nactions=NORMAL\n",
    )
    .expect("write rules");
    let config_path = dir.path().join("rvs.toml");
    std::fs::write(
        &config_path,
        "[[bridge]]\nname = \"br0\"\nflows = [\"priority=9,actions=drop\"]\nflows-file = \"rules.txt\"\n\
         [[bridge.port]]\nname = \"p1\"\n",
    )
    .expect("write config");
    let config = Config::load(&config_path).expect("valid");
    let br0 = &config.bridges[0];
    assert_eq!(
        br0.flows,
        [
            "priority=9,actions=drop",
            "priority=5,in_port=p1,actions=drop",
            "actions=NORMAL"
        ]
    );
    assert_eq!(
        br0.flows_file.as_deref(),
        Some(dir.path().join("rules.txt").as_path())
    );
    assert_eq!(config.source.as_deref(), Some(config_path.as_path()));
}

#[test]
fn example_file_parses() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/rvs.toml");
    let config = Config::load(&path).expect("examples/rvs.toml is valid");
    assert_eq!(config.bridges.len(), 2);
    assert_eq!(config.bridges[0].ports.len(), 5);
    assert_eq!(
        config.bridges[0].flows.len(),
        4,
        "2 inline rules + 2 from rvs-rules.txt"
    );
    assert_eq!(config.log, ["info", "upcall:dbg"]);
    assert_eq!(config.other.n_handler_threads, Some(1));
    // The example spells out every knob with its default, except the optional thread counts.
    let expected = OtherConfig {
        n_handler_threads: Some(1),
        n_revalidator_threads: Some(1),
        ..OtherConfig::default()
    };
    assert_eq!(config.other, expected);
}

#[test]
fn docs_list_every_knob() {
    let docs = include_str!("../../../../../docs/configuration.md");
    for key in OtherConfig::keys() {
        assert!(
            docs.contains(&format!("`{key}`")),
            "docs/configuration.md misses {key}"
        );
    }
}
