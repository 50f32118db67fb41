//! `rvs demo`: the whole machine on a laptop in a few seconds. It starts a real daemon (the same
//! code as `rvs vswitchd`) on a private run directory with dummy ports, loads an L2 NORMAL
//! bridge with two VLANs behind an ACL table, sends a few thousand packets of mixed traffic,
//! changes a rule, and shows every step through the control socket, the way `rvs appctl` (or
//! `ovs-appctl`) would.
//!
//! # Invariants
//! * Everything shown is the daemon's own reply to a control-socket command; nothing is printed
//!   from the demo's own bookkeeping except the packet counts it sent and the check that the
//!   OpenFlow table 0 counters add up to exactly those packets.
//! * The run directory is removed at the end, also on error.

mod frames;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use rvs_ctl::unixctl::Client;
use rvs_dpif::dpif::Dpif;
use rvs_ofproto::vlan::{PortVlanSettings, VlanMode};

use crate::config::{Config, PortConfig, PortKind};
use crate::daemon::{Daemon, ExitReason, StartOptions};
use crate::vlog::Vlog;

/// The demo's OpenFlow rules: an ACL in table 0, L2 switching (NORMAL) in table 1.
const RULES: &[&str] = &[
    "table=0,priority=300,tcp,tp_dst=23,actions=drop",
    "table=0,priority=200,ip,nw_src=10.0.20.66,actions=drop",
    "table=0,priority=0,actions=resubmit(,1)",
    "table=1,priority=0,actions=NORMAL",
];

/// The rule the demo adds half way: block HTTP coming from VLAN 10's 10.0.10.4.
const NEW_RULE: &str = "table=0,priority=250,tcp,nw_src=10.0.10.4,tp_dst=80,actions=drop";

/// A host: port, VLAN tag on the wire (trunk port only), MAC, IPv4.
struct Host {
    port: &'static str,
    wire_vlan: Option<u16>,
    mac: [u8; 6],
    ip: [u8; 4],
}

const HOSTS: [Host; 5] = [
    Host {
        port: "p1",
        wire_vlan: None,
        mac: [2, 0, 0, 0, 10, 1],
        ip: [10, 0, 10, 1],
    },
    Host {
        port: "p2",
        wire_vlan: None,
        mac: [2, 0, 0, 0, 10, 2],
        ip: [10, 0, 10, 2],
    },
    Host {
        port: "p3",
        wire_vlan: None,
        mac: [2, 0, 0, 0, 20, 3],
        ip: [10, 0, 20, 3],
    },
    Host {
        port: "p4",
        wire_vlan: Some(10),
        mac: [2, 0, 0, 0, 10, 4],
        ip: [10, 0, 10, 4],
    },
    Host {
        port: "p4",
        wire_vlan: Some(20),
        mac: [2, 0, 0, 0, 20, 5],
        ip: [10, 0, 20, 5],
    },
];

/// Runs the demo; `packets` frames of mixed traffic are sent in each of the two phases.
pub fn run(packets: usize, keep_running: bool) -> ExitCode {
    let rundir = std::env::temp_dir().join(format!("rvs-demo-{}", std::process::id()));
    let result = run_in(&rundir, packets, keep_running);
    let _ = std::fs::remove_dir_all(&rundir);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rvs demo: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn demo_config() -> Config {
    let mut config = Config::default_config();
    let port = |name: &str, mode: VlanMode, tag: Option<i64>| PortConfig {
        name: name.to_owned(),
        kind: PortKind::Dummy,
        ofport: None,
        vlan: PortVlanSettings {
            vlan_mode: Some(mode),
            tag,
            ..PortVlanSettings::default()
        },
    };
    if let Some(bridge) = config.bridges.first_mut() {
        bridge.ports = vec![
            port("p1", VlanMode::Access, Some(10)),
            port("p2", VlanMode::Access, Some(10)),
            port("p3", VlanMode::Access, Some(20)),
            port("p4", VlanMode::Trunk, None),
        ];
        bridge.flows = RULES.iter().map(|r| (*r).to_owned()).collect();
    }
    config.other.n_handler_threads = Some(1);
    config.other.n_revalidator_threads = Some(1);
    config
}

fn run_in(rundir: &Path, packets: usize, keep_running: bool) -> anyhow::Result<()> {
    let out = &mut std::io::stdout().lock();
    let started = Instant::now();
    let vlog = Vlog::init(&["warn".to_owned()], None).map_err(|e| anyhow!("log: {e}"))?;
    let signals = if keep_running {
        Some(crate::daemon::block_termination_signals()?)
    } else {
        None
    };
    let daemon = Daemon::start(StartOptions {
        config: demo_config(),
        rundir: rundir.to_path_buf(),
        vlog,
    })?;
    let socket = daemon.socket_path();
    writeln!(
        out,
        "rvs demo: a daemon is running (pid {}) with its control socket at",
        std::process::id()
    )?;
    writeln!(out, "  {}", socket.display())?;
    writeln!(
        out,
        "Bridge br0: p1, p2 = VLAN 10 access ports, p3 = VLAN 20 access port, p4 = trunk.\n\
         Table 0 is an ACL (telnet and 10.0.20.66 dropped), table 1 does NORMAL (MAC learning).\n"
    )?;
    let mut ctl = Ctl {
        client: Client::connect(&socket).context("connect to the control socket")?,
        socket: socket.clone(),
    };
    ctl.show(out, "ofctl/dump-flows", &["br0"])?;

    let sent_first = send_traffic(&daemon, packets, 0)?;
    writeln!(
        out,
        "Sent {sent_first} packets of mixed traffic (ARP, HTTP, DNS, telnet, VLAN 10 and 20, tagged and untagged).\n"
    )?;
    ctl.call("revalidator/wait", &[])?;
    ctl.show(out, "dpctl/dump-flows", &[])?;
    ctl.show(out, "upcall/show", &[])?;

    writeln!(
        out,
        "Now a rule changes: HTTP from 10.0.10.4 is dropped. The change bumps the tables version\n\
         and the revalidators re-translate every cached megaflow. A megaflow whose actions changed\n\
         is modified in place; one that would need a different mask (the new rule looks at all of\n\
         nw_src, the HTTP megaflows matched only a /20 prefix of it) is deleted, and the next\n\
         packet installs the new decision.\n"
    )?;
    ctl.show(out, "ofctl/add-flow", &["br0", NEW_RULE])?;
    ctl.call("revalidator/wait", &[])?;
    ctl.call("revalidator/wait", &[])?;
    let sent_second = send_traffic(&daemon, packets, 1)?;
    writeln!(
        out,
        "Sent {sent_second} more packets. The HTTP megaflows now:\n"
    )?;
    ctl.show(out, "dpctl/dump-flows", &["filter=tcp,tp_dst=80"])?;
    ctl.show(out, "upcall/show", &[])?;

    writeln!(
        out,
        "Statistics: revalidator/purge credits every megaflow's last packets to the rules it\nwent through, then deletes it. Table 0 sees every packet exactly once:\n"
    )?;
    ctl.call("revalidator/purge", &[])?;
    let dump = ctl.show(out, "ofctl/dump-flows", &["br0"])?;
    let counted = table0_packets(&dump);
    let sent = sent_first + sent_second;
    writeln!(
        out,
        "Packets sent: {sent}; counted by table 0 rules: {counted}: {}\n",
        if counted == sent { "exact" } else { "MISMATCH" }
    )?;
    ctl.show(out, "memory/show", &[])?;
    if keep_running {
        writeln!(
            out,
            "Poke the running daemon with: rvs appctl --rundir {} list-commands\n\
             (or with Open vSwitch's own client: ovs-appctl -t {} upcall/show)",
            rundir.display(),
            socket.display()
        )?;
    } else {
        writeln!(
            out,
            "Run `rvs demo --keep-running` to keep the daemon up and poke it with `rvs appctl`\n\
             (or with Open vSwitch's own `ovs-appctl -t <rundir>/rvs.ctl`)."
        )?;
    }
    if let Some(signals) = signals {
        writeln!(out, "\nThe daemon keeps running; press Ctrl-C to stop it.")?;
        out.flush()?;
        crate::daemon::forward_signals(signals, daemon.exit_sender())?;
        let reason = daemon.wait_for_exit();
        daemon.shutdown(&reason);
    } else {
        daemon.shutdown(&ExitReason::Command { cleanup: true });
    }
    writeln!(
        out,
        "Done in {:.1} s; the daemon stopped and its run directory was removed.",
        started.elapsed().as_secs_f64()
    )?;
    if counted != sent {
        bail!("table 0 counted {counted} packets, {sent} were sent");
    }
    Ok(())
}

/// Longest reply printed in full; longer ones are cut with a count of what was left out.
const MAX_LINES_SHOWN: usize = 16;

/// The demo's control-socket client: prints each command and its reply.
struct Ctl {
    client: Client,
    socket: PathBuf,
}

impl Ctl {
    fn call(&mut self, command: &str, args: &[&str]) -> anyhow::Result<String> {
        let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        match self.client.transact(command, &args) {
            Ok(Ok(text)) => Ok(text),
            Ok(Err(e)) => bail!("{command}: {e}"),
            Err(e) => Err(e).with_context(|| format!("{command} on {}", self.socket.display())),
        }
    }

    fn show(
        &mut self,
        out: &mut impl Write,
        command: &str,
        args: &[&str],
    ) -> anyhow::Result<String> {
        let quoted: Vec<String> = args
            .iter()
            .map(|a| {
                if a.contains([',', ' ', '(']) {
                    format!("'{a}'")
                } else {
                    (*a).to_owned()
                }
            })
            .collect();
        if quoted.is_empty() {
            writeln!(out, "$ rvs appctl {command}")?;
        } else {
            writeln!(out, "$ rvs appctl {command} {}", quoted.join(" "))?;
        }
        let text = self.call(command, args)?;
        let total = text.lines().count();
        for line in text.lines().take(MAX_LINES_SHOWN) {
            writeln!(out, "    {line}")?;
        }
        if total > MAX_LINES_SHOWN {
            writeln!(out, "    ... ({} more lines)", total - MAX_LINES_SHOWN)?;
        }
        writeln!(out)?;
        Ok(text)
    }
}

/// Sum of `n_packets` over table 0 rules in `ofctl/dump-flows` text (a line without `table=`
/// is table 0).
fn table0_packets(dump: &str) -> u64 {
    dump.lines()
        .filter(|l| !l.contains("table=") || l.contains("table=0,"))
        .filter_map(|l| {
            let rest = &l[l.find("n_packets=")? + "n_packets=".len()..];
            let end = rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len());
            rest[..end].parse::<u64>().ok()
        })
        .sum()
}

/// The frame host `from` sends to host `to` for traffic kind `kind`.
fn frame(from: &Host, to: &Host, kind: usize, seq: usize) -> Vec<u8> {
    let sport = 40_000 + (seq % 50) as u16;
    let f = match kind % 5 {
        0 => frames::arp_request(from.mac, from.ip, to.ip),
        1 => frames::tcp(from.mac, to.mac, from.ip, to.ip, (sport, 80), 0x18),
        2 => frames::udp(from.mac, to.mac, from.ip, to.ip, (sport, 53)),
        3 => frames::tcp(from.mac, to.mac, from.ip, to.ip, (sport, 23), 0x02),
        _ => frames::tcp(from.mac, to.mac, [10, 0, 20, 66], to.ip, (sport, 443), 0x02),
    };
    match from.wire_vlan {
        Some(vid) => frames::tagged(&f, vid),
        None => f,
    }
}

/// Sends `n` frames between hosts of the same VLAN (phase 0 starts with every host announcing
/// itself, so MAC learning has something to learn); returns how many were queued.
fn send_traffic(daemon: &Daemon, n: usize, phase: usize) -> anyhow::Result<u64> {
    let inner = daemon.inner();
    let looked_up = || {
        let s = inner.dp.dp_stats();
        s.n_hit + s.n_missed + s.n_lost
    };
    let before = looked_up();
    let mut queued = 0u64;
    let pairs: Vec<(usize, usize)> = (0..HOSTS.len())
        .flat_map(|a| (0..HOSTS.len()).map(move |b| (a, b)))
        .filter(|&(a, b)| {
            a != b && HOSTS[a].ip[2] == HOSTS[b].ip[2] && HOSTS[a].port != HOSTS[b].port
        })
        .collect();
    for i in 0..n {
        let (a, b) = pairs[i % pairs.len()];
        let kind = if phase == 0 && i < pairs.len() {
            0
        } else {
            i / pairs.len() + phase
        };
        let from = &HOSTS[a];
        let dev = crate::daemon::dummy_port(inner, from.port)
            .ok_or_else(|| anyhow!("port {} is not a dummy port", from.port))?;
        // Pace the sender so the port's receive queue never overflows.
        while dev.rx_queue_len() > 50 {
            std::thread::sleep(Duration::from_micros(100));
        }
        if dev.inject(&frame(from, &HOSTS[b], kind, i)) {
            queued += 1;
        }
        if i < pairs.len() {
            // Let the first packets' upcalls finish so MAC learning sees them in order.
            wait_until(|| looked_up() >= before + queued)?;
        }
    }
    wait_until(|| looked_up() >= before + queued)?;
    let missed = inner.dp.dp_stats().n_missed;
    inner
        .udpif
        .wait_upcalls_handled(missed, Duration::from_secs(5));
    Ok(queued)
}

fn wait_until(mut done: impl FnMut() -> bool) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        if Instant::now() > deadline {
            bail!("the datapath did not process the demo's packets within 10 s");
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    Ok(())
}
