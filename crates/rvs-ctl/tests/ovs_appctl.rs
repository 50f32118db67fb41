//! The real `ovs-appctl` of Open vSwitch 3.1 against our server: stdout, stderr and exit status
//! must be what it prints for `ovs-vswitchd`. Needs `/usr/bin/ovs-appctl` (Debian/Ubuntu package
//! `openvswitch-common`); without it these tests fail on purpose.

use rvs_ctl::unixctl::{Commands, Server, resolve_target};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

const OVS_APPCTL: &str = "/usr/bin/ovs-appctl";

struct Output {
    stdout: String,
    stderr: String,
    status: Option<i32>,
}

fn ovs_appctl(env_rundir: &Path, args: &[&str]) -> Output {
    assert!(
        Path::new(OVS_APPCTL).exists(),
        "{OVS_APPCTL} is missing: install it with `apt-get install -y openvswitch-common` \
         (these tests check compatibility with the real ovs-appctl and cannot be skipped)"
    );
    let out = Command::new(OVS_APPCTL)
        .args(["--timeout=10"])
        .args(args)
        .env("OVS_RUNDIR", env_rundir)
        .output()
        .expect("run ovs-appctl");
    Output {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        status: out.status.code(),
    }
}

fn start() -> (tempfile::TempDir, PathBuf, Server) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("rvs.ctl");
    let mut c = Commands::new("ovs-vswitchd (Open vSwitch) 3.1.0");
    c.register(
        "upcall/set-flow-limit",
        "flow-limit-number",
        1,
        1,
        Arc::new(|args: &[String]| Ok(format!("set flow_limit to {}\n", args.join("")))),
    );
    c.register(
        "upcall/disable-megaflows",
        "",
        0,
        0,
        Arc::new(|_: &[String]| Ok("megaflows disabled".into())),
    );
    c.register(
        "dpctl/add-flow",
        "[dp] flow actions",
        2,
        3,
        Arc::new(|_: &[String]| Err("ovs-vswitchd: updating flow table (Invalid argument)".into())),
    );
    c.register_hidden(
        "revalidator/pause",
        "",
        0,
        0,
        Arc::new(|_: &[String]| Ok(String::new())),
    );
    c.register(
        "big",
        "",
        0,
        0,
        Arc::new(|_: &[String]| Ok("0123456789abcdef".repeat(200_000))),
    );
    let server = Server::bind(&path, Arc::new(c)).expect("bind");
    (dir, path, server)
}

fn run(path: &Path, args: &[&str]) -> Output {
    let target = path.to_str().expect("utf-8 temp path");
    let mut all = vec!["-t", target];
    all.extend_from_slice(args);
    ovs_appctl(path.parent().expect("dir"), &all)
}

fn server_error(path: &Path, text: &str) -> String {
    format!(
        "{text}ovs-appctl: {}: server returned an error\n",
        path.display()
    )
}

#[test]
fn version_and_results() {
    let (_dir, path, _server) = start();
    // `version` as printed by the OVS 3.1 oracle's ovs-vswitchd.
    let out = run(&path, &["version"]);
    assert_eq!(
        (out.stdout.as_str(), out.stderr.as_str(), out.status),
        ("ovs-vswitchd (Open vSwitch) 3.1.0\n", "", Some(0))
    );
    let out = run(&path, &["upcall/set-flow-limit", "5000"]);
    assert_eq!(
        (out.stdout.as_str(), out.stderr.as_str(), out.status),
        ("set flow_limit to 5000\n", "", Some(0))
    );
    // The server adds the missing final newline; an empty result prints nothing.
    let out = run(&path, &["upcall/disable-megaflows"]);
    assert_eq!(
        (out.stdout.as_str(), out.status),
        ("megaflows disabled\n", Some(0))
    );
    let out = run(&path, &["revalidator/pause"]);
    assert_eq!(
        (out.stdout.as_str(), out.stderr.as_str(), out.status),
        ("", "", Some(0))
    );
}

#[test]
fn list_commands() {
    let (_dir, path, _server) = start();
    let out = run(&path, &["list-commands"]);
    assert_eq!(out.status, Some(0), "{}", out.stderr);
    // Layout as the OVS 3.1 oracle's list-commands (header, "  %-23s %s", sorted, hidden omitted).
    assert_eq!(
        out.stdout,
        "The available commands are:\n\
         \x20 big                     \n\
         \x20 dpctl/add-flow          [dp] flow actions\n\
         \x20 list-commands           \n\
         \x20 set-options             [--format text|json]\n\
         \x20 upcall/disable-megaflows \n\
         \x20 upcall/set-flow-limit   flow-limit-number\n\
         \x20 version                 \n"
    );
}

#[test]
fn error_replies_exit_2() {
    let (_dir, path, _server) = start();
    // Example from the OVS test suite (ovs-upcall.md §7.1).
    let out = run(&path, &["dpctl/add-flow", "in_port(1)", "drop"]);
    assert_eq!(out.stdout, "");
    assert_eq!(
        out.stderr,
        server_error(
            &path,
            "ovs-vswitchd: updating flow table (Invalid argument)\n"
        )
    );
    assert_eq!(out.status, Some(2));
    let out = run(&path, &["no/such-command"]);
    assert_eq!(
        out.stderr,
        server_error(
            &path,
            "\"no/such-command\" is not a valid command (use \"list-commands\" to see a list of valid commands)\n"
        )
    );
    assert_eq!(out.status, Some(2));
    let out = run(&path, &["dpctl/add-flow"]);
    assert_eq!(
        out.stderr,
        server_error(
            &path,
            "\"dpctl/add-flow\" command requires at least 2 arguments\n"
        )
    );
    assert_eq!(out.status, Some(2));
    let out = run(&path, &["version", "extra"]);
    assert_eq!(
        out.stderr,
        server_error(&path, "\"version\" command takes at most 0 arguments\n")
    );
    assert_eq!(out.status, Some(2));
}

#[test]
fn missing_pidfile_message_matches_resolve_target() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = ovs_appctl(dir.path(), &["-t", "rvs-nosuch", "version"]);
    assert_eq!(out.status, Some(1));
    let ours = resolve_target("rvs-nosuch", dir.path()).expect_err("no pidfile");
    // ovs-appctl also logs a warning line before its fatal message.
    assert!(
        out.stderr.ends_with(&format!("ovs-appctl: {ours}\n")),
        "{}",
        out.stderr
    );
}

#[test]
fn large_result_is_not_limited() {
    let (_dir, path, _server) = start();
    let out = run(&path, &["big"]);
    assert_eq!(out.status, Some(0), "{}", out.stderr);
    assert_eq!(out.stdout.len(), 16 * 200_000 + 1);
    assert!(out.stdout.ends_with("cdef\n"));
}
