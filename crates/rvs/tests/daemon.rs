//! End to end: the real `rvs` binary started as `rvs vswitchd`, driven only through its control
//! socket, with our `rvs appctl` and with Open vSwitch's own `ovs-appctl` (Debian's
//! openvswitch-common; CI installs it, and these tests fail rather than skip without it).

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const RVS: &str = env!("CARGO_BIN_EXE_rvs");

/// A daemon started for one test, stopped (SIGTERM) when dropped.
struct Daemon {
    child: Option<Child>,
    rundir: PathBuf,
    _tmp: tempfile::TempDir,
}

impl Daemon {
    fn start(extra: &[&str]) -> Daemon {
        let tmp = tempfile::tempdir().expect("tempdir");
        let rundir = tmp.path().join("run");
        Daemon::start_in(tmp, rundir, extra)
    }

    fn start_in(tmp: tempfile::TempDir, rundir: PathBuf, extra: &[&str]) -> Daemon {
        let child = Command::new(RVS)
            .arg("vswitchd")
            .arg("--rundir")
            .arg(&rundir)
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn rvs vswitchd");
        let d = Daemon {
            child: Some(child),
            rundir,
            _tmp: tmp,
        };
        d.wait_ready();
        d
    }

    fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    fn socket(&self) -> PathBuf {
        self.rundir.join(format!("rvs.{}.ctl", self.pid()))
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if UnixStream::connect(self.rundir.join("rvs.ctl")).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!(
            "daemon did not open its control socket in {}",
            self.rundir.display()
        );
    }

    /// `rvs appctl --rundir R CMD ARGS`.
    fn appctl(&self, args: &[&str]) -> Output {
        Command::new(RVS)
            .arg("appctl")
            .arg("--rundir")
            .arg(&self.rundir)
            .args(args)
            .output()
            .expect("run rvs appctl")
    }

    /// Runs `rvs appctl` and returns stdout, failing the test on a non-zero exit.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.appctl(args);
        assert!(
            out.status.success(),
            "rvs appctl {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    }

    /// Waits for the process to exit by itself; returns its status code.
    fn wait_exit(&mut self) -> Option<i32> {
        let mut child = self.child.take().expect("running");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = child.try_wait().expect("wait") {
                return status.code();
            }
            assert!(Instant::now() < deadline, "daemon did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn signal(&self, sig: nix::sys::signal::Signal) {
        let pid = nix::unistd::Pid::from_raw(i32::try_from(self.pid()).expect("pid"));
        nix::sys::signal::kill(pid, sig).expect("kill");
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap_or(0));
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn ovs_appctl() -> &'static str {
    let path = "/usr/bin/ovs-appctl";
    assert!(
        Path::new(path).exists(),
        "ovs-appctl is missing: install it with `apt-get install openvswitch-common` (CI does)"
    );
    path
}

const ICMP_FLOW: &str = "in_port(1),eth(src=50:54:00:00:00:01,dst=50:54:00:00:00:02),eth_type(0x0800),ipv4(src=10.0.0.1,dst=10.0.0.2,proto=1,tos=0,ttl=64,frag=no),icmp(type=8,code=0)";

#[test]
fn default_bridge_answers_ovs_style_commands() {
    let d = Daemon::start(&[]);
    let list = d.ok(&["list-commands"]);
    assert!(list.starts_with("The available commands are:\n"), "{list}");
    for cmd in [
        "upcall/show",
        "dpctl/dump-flows",
        "netdev-dummy/receive",
        "ofctl/add-flow",
        "vlog/set",
        "exit",
    ] {
        assert!(
            list.contains(&format!("  {cmd}")),
            "{cmd} missing from\n{list}"
        );
    }
    assert!(
        !list.contains("revalidator/pause"),
        "hidden commands stay hidden"
    );
    assert!(d.ok(&["version"]).starts_with("rvs-vswitchd (rvs) "));

    let show = d.ok(&["dpctl/show"]);
    assert!(show.starts_with("dummy@ovs-dummy:\n"), "{show}");
    for port in [
        "port 1: p1 (dummy)",
        "port 4: p4 (dummy)",
        "port 100: br0 (dummy-internal)",
    ] {
        assert!(show.contains(port), "{port} missing from\n{show}");
    }
    let upcall = d.ok(&["upcall/show"]);
    assert!(upcall.starts_with("dummy@ovs-dummy:\n"), "{upcall}");
    assert!(upcall.contains("  flows         : (current 0)"), "{upcall}");

    // A packet on p1 misses, is translated through NORMAL (flood) and becomes a megaflow.
    assert_eq!(d.ok(&["netdev-dummy/receive", "p1", ICMP_FLOW]), "");
    let flows = d.ok(&["dpctl/dump-flows"]);
    assert!(
        flows.starts_with("flow-dump from the main thread:\n"),
        "{flows}"
    );
    assert!(flows.contains("in_port(1)"), "{flows}");
    assert!(flows.contains("packets:0, bytes:0, used:never"), "{flows}");
    // NORMAL floods the unknown destination to the other ports and the bridge port.
    let actions = flows
        .lines()
        .nth(1)
        .and_then(|l| l.split("actions:").nth(1))
        .expect("actions");
    for port in ["100", "2", "3", "4"] {
        assert!(
            actions.split(',').any(|a| a == port),
            "{port} not in {actions}"
        );
    }
    let ofctl = d.ok(&["ofctl/dump-flows", "br0"]);
    assert!(
        ofctl.contains("n_packets=1,"),
        "the miss packet is credited to NORMAL: {ofctl}"
    );

    // A drop rule that looks at nw_proto: the cached flood megaflow did not match on it, so
    // revalidation deletes it (a mask cannot be modified in place); the next packet installs
    // the drop.
    d.ok(&["ofctl/add-flow", "br0", "priority=100,icmp,actions=drop"]);
    d.ok(&["revalidator/wait"]);
    d.ok(&["revalidator/wait"]);
    assert_eq!(
        d.ok(&["dpctl/dump-flows"]),
        "",
        "the flood megaflow is gone"
    );
    d.ok(&["netdev-dummy/receive", "p1", ICMP_FLOW]);
    let flows = d.ok(&["dpctl/dump-flows"]);
    assert!(flows.contains("actions:drop"), "{flows}");
    assert!(
        flows.contains("ipv4(proto=1"),
        "the new megaflow matches nw_proto: {flows}"
    );

    let cov = d.ok(&["coverage/show"]);
    assert!(
        cov.starts_with(
            "Event coverage, avg rate over last: 5 seconds, last minute, last hour,  hash="
        ),
        "{cov}"
    );
    let mem = d.ok(&["memory/show"]);
    assert!(mem.contains("udpif keys:"), "{mem}");
}

#[test]
fn errors_are_answered_and_the_daemon_survives() {
    let d = Daemon::start(&[]);
    let out = d.appctl(&["no/such-command"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("\"no/such-command\" is not a valid command (use \"list-commands\" to see a list of valid commands)"),
        "{err}"
    );
    assert!(err.contains("server returned an error"), "{err}");

    let out = d.appctl(&["upcall/show", "extra"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("\"upcall/show\" command takes at most 0 arguments")
    );

    let out = d.appctl(&[
        "ofctl/add-flow",
        "br0",
        "priority=1,frobnicate=1,actions=drop",
    ]);
    assert_eq!(out.status.code(), Some(2), "a bad flow is an error");
    let out = d.appctl(&["ofctl/add-flow", "br9", "actions=drop"]);
    assert_eq!(out.status.code(), Some(2), "an unknown bridge is an error");
    let out = d.appctl(&["netdev-dummy/receive", "nope", "00"]);
    assert_eq!(out.status.code(), Some(2));
    let out = d.appctl(&["set", "flow-limit=banana"]);
    assert_eq!(out.status.code(), Some(2));
    let out = d.appctl(&["add-port", "br0", "p1"]);
    assert_eq!(out.status.code(), Some(2), "duplicate port");

    // Raw garbage on the socket: the connection may be closed, the daemon stays up.
    let mut raw = UnixStream::connect(d.socket()).expect("connect");
    raw.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    raw.write_all(b"{\"method\":\"upcall/set-flow-limit\",\"params\":[1],\"id\":0}")
        .expect("write");
    let mut buf = [0u8; 4096];
    let n = raw.read(&mut buf).expect("reply");
    let reply = String::from_utf8_lossy(&buf[..n]);
    assert!(
        reply.contains(r#"\"upcall/set-flow-limit\" command has non-string argument"#),
        "{reply}"
    );
    let mut raw = UnixStream::connect(d.socket()).expect("connect");
    let _ = raw.write_all(b"}}}}not json at all{{{{");
    drop(raw);
    let mut raw = UnixStream::connect(d.socket()).expect("connect");
    let _ = raw.write_all(&vec![b'['; 2 << 20]);
    drop(raw);
    assert!(d.ok(&["version"]).starts_with("rvs-vswitchd"));

    // Nothing above changed the flow table or the ports.
    let show = d.ok(&["dpctl/show"]);
    assert!(show.contains("port 1: p1 (dummy)"), "{show}");
    let ofctl = d.ok(&["ofctl/dump-flows", "br0"]);
    assert_eq!(
        ofctl.lines().count(),
        2,
        "header and the NORMAL rule: {ofctl}"
    );
}

#[test]
fn the_real_ovs_appctl_talks_to_rvs() {
    let d = Daemon::start(&[]);
    let appctl = ovs_appctl();
    let out = Command::new(appctl)
        .arg("-t")
        .arg(d.socket())
        .arg("upcall/show")
        .output()
        .expect("ovs-appctl");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("dummy@ovs-dummy:\n"));

    // By name through the pidfile, as `ovs-appctl -t ovs-vswitchd` finds ovs-vswitchd.
    let out = Command::new(appctl)
        .env("OVS_RUNDIR", &d.rundir)
        .args(["-t", "rvs", "upcall/set-flow-limit", "5000"])
        .output()
        .expect("ovs-appctl");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "set flow_limit to 5000\n"
    );

    let out = Command::new(appctl)
        .arg("-t")
        .arg(d.socket())
        .args(["dpctl/add-flow", "in_port(9),eth_type(0x1234)", "1"])
        .output()
        .expect("ovs-appctl");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new(appctl)
        .arg("-t")
        .arg(d.socket())
        .args(["bogus"])
        .output()
        .expect("ovs-appctl");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("server returned an error"));
}

#[test]
fn exit_signals_and_restart_clean_up() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let rundir = tmp.path().join("run");
    let tmp_keep = tempfile::tempdir().expect("tempdir");
    let mut d = Daemon::start_in(tmp_keep, rundir.clone(), &[]);
    let pid = d.pid();
    assert!(rundir.join("rvs.pid").exists());

    // A second daemon on the same run directory refuses to start.
    let second = Command::new(RVS)
        .args(["vswitchd", "--rundir"])
        .arg(&rundir)
        .output()
        .expect("second daemon");
    assert_eq!(second.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&second.stderr).contains("another rvs daemon"));

    assert_eq!(d.ok(&["exit"]), "");
    assert_eq!(d.wait_exit(), Some(0));
    assert!(!rundir.join("rvs.pid").exists(), "pidfile removed");
    assert!(
        !rundir.join(format!("rvs.{pid}.ctl")).exists(),
        "socket removed"
    );
    assert!(
        std::fs::symlink_metadata(rundir.join("rvs.ctl")).is_err(),
        "stable link removed"
    );

    // Restart on the same run directory, then stop with SIGTERM.
    let tmp_keep = tempfile::tempdir().expect("tempdir");
    let mut d = Daemon::start_in(tmp_keep, rundir.clone(), &[]);
    d.ok(&["netdev-dummy/receive", "p1", ICMP_FLOW]);
    d.signal(nix::sys::signal::Signal::SIGTERM);
    assert_eq!(d.wait_exit(), Some(0));
    assert!(!rundir.join("rvs.pid").exists());
    drop(tmp);
}

#[test]
fn bad_configurations_are_refused_with_file_and_line() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = tmp.path().join("bad.toml");
    std::fs::write(
        &path,
        "[other_config]\nflow-limit = 1000\nno-such-knob = 3\n",
    )
    .expect("write");
    let out = Command::new(RVS)
        .args(["vswitchd", "--config"])
        .arg(&path)
        .arg("--rundir")
        .arg(tmp.path().join("run"))
        .output()
        .expect("rvs");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.toml:3"), "file and line: {err}");
    assert!(
        !tmp.path().join("run").join("rvs.pid").exists(),
        "nothing was started"
    );

    let missing = Command::new(RVS)
        .args(["vswitchd", "--config", "/nonexistent/rvs.toml"])
        .output()
        .expect("rvs");
    assert_eq!(missing.status.code(), Some(1));

    std::fs::write(
        &path,
        "[[bridge]]\nname = \"br0\"\nflows = [\"priority=1,frobnicate=1,actions=drop\"]\n",
    )
    .expect("write");
    let out = Command::new(RVS)
        .args(["vswitchd", "--config"])
        .arg(&path)
        .arg("--rundir")
        .arg(tmp.path().join("run"))
        .output()
        .expect("rvs");
    assert_eq!(
        out.status.code(),
        Some(1),
        "a bad initial rule stops the start"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.toml:3:"),
        "file and line of the bad rule: {err}"
    );
}

#[test]
fn knobs_and_ports_change_at_run_time() {
    let d = Daemon::start(&[]);
    assert_eq!(d.ok(&["set", "max-idle=2000", "flow-limit=5000"]), "");
    let get = d.ok(&["get"]);
    assert!(get.contains("max-idle=2000"), "{get}");
    assert!(get.contains("flow-limit=5000"), "{get}");
    // All or nothing: one bad pair changes nothing.
    assert_eq!(
        d.appctl(&["set", "max-idle=3000", "bogus=1"]).status.code(),
        Some(2)
    );
    assert!(d.ok(&["get"]).contains("max-idle=2000"));

    // Receive queues are for afpacket ports only; a refused add-port adds nothing.
    for bad in ["n_rxq=2", "n_rxq=0"] {
        let out = d.appctl(&["add-port", "br0", "p9", bad]);
        assert_eq!(out.status.code(), Some(2), "{bad}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("n_rxq"),
            "{bad}"
        );
    }
    assert!(!d.ok(&["dpctl/show"]).contains("p9"));
    d.ok(&["add-port", "br0", "p9", "type=dummy", "ofport=9"]);
    assert!(d.ok(&["dpctl/show"]).contains(": p9 (dummy)"));
    d.ok(&["del-port", "br0", "p9"]);
    assert!(!d.ok(&["dpctl/show"]).contains("p9"));

    assert_eq!(d.ok(&["upcall/disable-megaflows"]), "megaflows disabled\n");
    assert_eq!(d.ok(&["upcall/enable-megaflows"]), "megaflows enabled\n");
    d.ok(&["vlog/set", "ofproto_dpif_upcall:dbg"]);
    assert!(d.ok(&["vlog/list"]).contains("ofproto_dpif_upcall"));
}

#[test]
fn ofctl_and_dpctl_wrappers_feel_like_ovs_tools() {
    let d = Daemon::start(&[]);
    let file = d.rundir.join("rules.txt");
    std::fs::write(
        &file,
        "# an ACL\npriority=100,tcp,tp_dst=23,actions=drop\npriority=0,actions=NORMAL\n",
    )
    .expect("write rules");
    let run = |args: &[&str]| {
        Command::new(RVS)
            .args(&args[..1])
            .arg("--rundir")
            .arg(&d.rundir)
            .args(&args[1..])
            .output()
            .expect("rvs")
    };
    let out = run(&[
        "ofctl",
        "replace-flows",
        "br0",
        file.to_str().expect("utf-8 path"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&["ofctl", "dump-flows", "br0"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("priority=100,tcp,tp_dst=23 actions=drop"),
        "{text}"
    );
    assert_eq!(text.lines().count(), 3, "header and two rules: {text}");

    let out = run(&[
        "ofctl",
        "add-flow",
        "br0",
        "priority=5,frobnicate=1,actions=drop",
    ]);
    assert_eq!(out.status.code(), Some(2), "a bad flow is refused");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("rvs ofctl: rvs: server returned an error")
    );
    let out = run(&["ofctl", "add-flows", "br0", "/nonexistent/rules"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "an unreadable file never reaches the daemon"
    );

    let out = run(&["dpctl", "add-flow", "in_port(1),eth_type(0x1234)", "2"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&["dpctl", "dump-flows"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("in_port(1),eth_type(0x1234), packets:0, bytes:0, used:never, actions:2"),
        "{text}"
    );
    let out = run(&["dpctl", "del-flows"]);
    assert!(out.status.success());
    let out = run(&["dpctl", "dump-flows"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "");
}

#[test]
fn dpif_dump_flows_is_ovs_text() {
    let d = Daemon::start(&[]);
    d.ok(&[
        "netdev-dummy/receive",
        "p1",
        "in_port(1),eth(src=50:54:00:00:00:09,dst=50:54:00:00:00:0a),eth_type(0x0800),ipv4(src=10.0.0.2,dst=10.0.0.1,proto=6,tos=0,ttl=64,frag=no),tcp(src=8,dst=9)",
    ]);
    // Recorded from OVS 3.1 (`ovs-vswitchd --enable-dummy`, br0 with p1..p4 and actions=NORMAL,
    // the same packet): `ovs-appctl dpif/dump-flows br0` and `dpif/dump-flows -m br0`.
    assert_eq!(
        d.ok(&["dpif/dump-flows", "br0"]),
        "recirc_id(0),in_port(1),packet_type(ns=0,id=0),eth(src=50:54:00:00:00:09,dst=50:54:00:00:00:0a),eth_type(0x0800),ipv4(frag=no), packets:0, bytes:0, used:never, actions:100,2,3,4\n"
    );
    let verbose = d.ok(&["dpif/dump-flows", "-m", "br0"]);
    let (ufid, rest) = verbose.split_once(' ').expect("ufid prefix");
    assert!(ufid.starts_with("ufid:") && ufid.len() == 41, "{ufid}");
    assert_eq!(
        rest,
        "skb_priority(0/0),skb_mark(0/0),ct_state(0/0),ct_zone(0/0),ct_mark(0/0),ct_label(0/0),recirc_id(0),dp_hash(0/0),in_port(p1),packet_type(ns=0,id=0),eth(src=50:54:00:00:00:09,dst=50:54:00:00:00:0a),eth_type(0x0800),ipv4(src=10.0.0.2/0.0.0.0,dst=10.0.0.1/0.0.0.0,proto=6/0,tos=0/0,ttl=64/0,frag=no),tcp(src=8/0,dst=9/0), packets:0, bytes:0, used:never, actions:br0,p2,p3,p4\n"
    );
    assert_eq!(d.appctl(&["dpif/dump-flows", "br9"]).status.code(), Some(2));
    let show = d.ok(&["dpif/show"]);
    assert!(show.starts_with("dummy@ovs-dummy: hit:0 missed:1\n  br0:\n    br0 65534/100: (dummy-internal)\n    p1 1/1: (dummy)\n"), "{show}");
}

/// Sums the `n_packets=` counters of `ofctl/dump-flows` output.
fn rule_packets(ofctl: &str) -> u64 {
    ofctl
        .split("n_packets=")
        .skip(1)
        .filter_map(|rest| rest.split(',').next()?.parse::<u64>().ok())
        .sum()
}

#[test]
fn every_packet_is_credited_once_inline_and_queued() {
    for mode in ["inline", "queued"] {
        let tmp = tempfile::tempdir().expect("tempdir");
        let rundir = tmp.path().join("run");
        let child = Command::new(RVS)
            .arg("vswitchd")
            .arg("--rundir")
            .arg(&rundir)
            .env("RVS_UPCALL_MODE", mode)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn rvs vswitchd");
        let d = Daemon {
            child: Some(child),
            rundir,
            _tmp: tmp,
        };
        d.wait_ready();
        d.ok(&[
            "ofctl/add-flow",
            "br0",
            "priority=20,udp,nw_src=10.0.0.1,actions=output:3",
        ]);
        d.ok(&["ofctl/add-flow", "br0", "priority=10,udp,actions=output:2"]);
        d.ok(&["revalidator/wait"]);
        // Three commands of 24 packets over 6 sources: first packets miss, the rest hit the
        // new megaflows (within a batch or in a later one).
        let mut sent = 0u64;
        for round in 0..3 {
            let packets: Vec<String> = (0..24)
                .map(|i| {
                    format!(
                        "in_port(1),eth(src=50:54:00:00:00:01,dst=50:54:00:00:00:02),eth_type(0x0800),ipv4(src=10.0.0.{},dst=10.0.0.2,proto=17,tos=0,ttl=64,frag=no),udp(src={},dst=80)",
                        1 + (i + round) % 6,
                        1000 + i % 2
                    )
                })
                .collect();
            let mut args = vec!["netdev-dummy/receive", "p1"];
            args.extend(packets.iter().map(String::as_str));
            d.ok(&args);
            sent += packets.len() as u64;
        }
        d.ok(&["revalidator/wait"]);
        d.ok(&["revalidator/wait"]);
        let ofctl = d.ok(&["ofctl/dump-flows", "br0"]);
        assert_eq!(
            rule_packets(&ofctl),
            sent,
            "{mode}: Σ rule packets == packets sent\n{ofctl}"
        );
        let show = d.ok(&["dpctl/show"]);
        let lookups: Vec<u64> = show
            .split("lookups: ")
            .nth(1)
            .and_then(|l| l.lines().next())
            .map(|l| {
                l.split(' ')
                    .filter_map(|kv| kv.split(':').nth(1)?.parse().ok())
                    .collect()
            })
            .unwrap_or_default();
        // hit + missed == looked up, nothing lost.
        assert_eq!(lookups.len(), 3, "{mode}: {show}");
        assert_eq!(lookups[0] + lookups[1], sent, "{mode}: {show}");
        assert_eq!(lookups[2], 0, "{mode}: {show}");
    }
}

/// The processors each revalidator thread of process `pid` may run on, by thread name.
fn revalidator_cpus(pid: u32) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return found;
    };
    for task in tasks.flatten() {
        let name = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        let name = name.trim().to_owned();
        if !name.starts_with("revalidator") || name == "revalidators" {
            continue;
        }
        let status = std::fs::read_to_string(task.path().join("status")).unwrap_or_default();
        let cpus = status
            .lines()
            .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
            .unwrap_or("")
            .trim()
            .to_owned();
        found.push((name, cpus));
    }
    found.sort();
    found
}

#[test]
fn two_revalidators_get_a_processor_each_unless_placement_is_system() {
    let allowed = nix::sched::sched_getaffinity(nix::unistd::Pid::from_raw(0)).expect("affinity");
    let n_cpus = (0..nix::sched::CpuSet::count())
        .filter(|&c| allowed.is_set(c).unwrap_or(false))
        .count();
    let d = Daemon::start(&[]);
    assert_eq!(d.ok(&["set", "n-revalidator-threads=2"]), "");
    let wait_for = |pinned: bool| {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let cpus = revalidator_cpus(d.pid());
            let singles = cpus
                .iter()
                .filter(|(_, c)| c.parse::<usize>().is_ok())
                .count();
            let ok = cpus.len() == 2 && if pinned { singles == 2 } else { singles == 0 };
            if ok {
                return cpus;
            }
            assert!(Instant::now() < deadline, "{cpus:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    if n_cpus >= 2 {
        let cpus = wait_for(true);
        assert_ne!(cpus[0].1, cpus[1].1, "one processor each: {cpus:?}");
    }
    assert!(d.ok(&["get"]).contains("revalidator-placement=spread\n"));
    // `system`: the threads are restarted and left to the scheduler. (With one processor every
    // thread's list is that one processor: nothing to tell apart.)
    assert_eq!(d.ok(&["set", "revalidator-placement=system"]), "");
    assert!(d.ok(&["get"]).contains("revalidator-placement=system\n"));
    if n_cpus >= 2 {
        wait_for(false);
    }
    assert_eq!(d.ok(&["set", "revalidator-placement=spread"]), "");
    if n_cpus >= 2 {
        wait_for(true);
    }
}
