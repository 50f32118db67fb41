//! What the startup probes share (`startup_install.rs`, `startup_install_afpacket.rs`): the
//! side-by-side harness's configuration and frames, and the process's resident memory.
//!
//! # Invariants
//! * The configuration is the harness's (`bench/compare/run.sh`): its megaflow rule, two
//!   revalidator threads, `max-revalidator` 2000 ms, limits out of the way.

use rvs::config::Config;

/// The harness's rule: one megaflow per 5-tuple (the `move`s un-wildcard the source).
const RULE_MEGAFLOW: &str = "priority=10,udp,nw_dst=198.19.0.0/16,tp_dst=80,actions=move:NXM_OF_IP_SRC[]->NXM_NX_REG0[],move:NXM_OF_UDP_SRC[]->NXM_NX_REG1[0..15],output:2";

/// The side-by-side harness's configuration, with ports `p1` (ofport 1) and `p2` (ofport 2) of
/// type `port_type`.
pub(crate) fn config(port_type: &str, p1: &str, p2: &str) -> Config {
    let text = format!(
        r#"datapath = "netdev"
[other_config]
max-idle = 600000
flow-limit = 1000000
n-revalidator-threads = 2
max-revalidator = 2000
[[bridge]]
name = "br0"
flows = ['{RULE_MEGAFLOW}', 'priority=0,actions=drop']
[[bridge.port]]
name = "{p1}"
type = "{port_type}"
ofport = 1
[[bridge.port]]
name = "{p2}"
type = "{port_type}"
ofport = 2
"#
    );
    Config::from_toml_str(&text, None).expect("config")
}

/// The harness's frame `i`: 198.18.0.1 → 198.19.0.1, UDP 1024 + i → 80, 60 bytes.
pub(crate) fn frame(i: u16) -> Vec<u8> {
    let mut f = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00];
    f.extend_from_slice(&[0x45, 0, 0, 46, 0, 0, 0, 0, 64, 17, 0, 0]);
    f.extend_from_slice(&[198, 18, 0, 1, 198, 19, 0, 1]);
    f.extend_from_slice(&(1024 + i).to_be_bytes());
    f.extend_from_slice(&[0, 80, 0, 26, 0, 0]);
    f.extend_from_slice(&[0u8; 18]);
    f
}

/// Resident memory of this process in KiB.
pub(crate) fn rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}
