//! Each command and its error paths, with replies recorded from OVS 3.1.

use super::super::commands;
use super::*;

#[test]
fn command_table_matches_ovs() {
    let names: Vec<&str> = commands().iter().map(|c| c.0).collect();
    assert_eq!(
        names,
        [
            "show",
            "dump-flows",
            "add-flow",
            "mod-flow",
            "get-flow",
            "del-flow",
            "del-flows"
        ]
    );
    let dump = commands()
        .iter()
        .find(|c| c.0 == "dump-flows")
        .expect("dump-flows");
    assert_eq!(
        *dump,
        (
            "dump-flows",
            "[-m] [--names] [dp] [filter=..] [type=..] [pmd=..]",
            0,
            6
        )
    );
}

#[test]
fn show_plain_and_named() {
    let (dp, _) = datapath();
    // OVS 3.1: `dpctl/show` and `dpctl/show dummy@ovs-dummy`.
    let expected = "dummy@ovs-dummy:
  lookups: hit:0 missed:0 lost:0
  flows: 0
  port 0: ovs-dummy (dummy-internal)
  port 1: p1 (dummy: ifindex=1)
  port 2: p2 (dummy: ifindex=2)
  port 3: p3 (dummy: ifindex=3)
  port 4: p4 (dummy: ifindex=4)
  port 100: br0 (dummy-internal)
";
    assert_eq!(dpctl(&dp, "show", &[]), Ok(expected.to_string()));
    assert_eq!(
        dpctl(&dp, "show", &["dummy@ovs-dummy"]),
        Ok(expected.to_string())
    );
    // OVS 3.1: one good and one bad name: both texts, as an error.
    assert_eq!(
        dpctl(&dp, "show", &["dummy@ovs-dummy", "foo"]),
        Err(format!(
            "{expected}ovs-vswitchd: opening datapath foo failed (No such device)\n"
        ))
    );
}

#[test]
fn show_bad_names() {
    let (dp, _) = datapath();
    // OVS 3.1.
    for (name, why) in [
        ("ovs-dummy", "Invalid argument"),
        ("foo", "No such device"),
        ("system@foo", "No such device"),
        ("dummy@foo", "No such device"),
        ("netdev@ovs-netdev", "No such device"),
        ("xyz@foo", "Address family not supported by protocol"),
    ] {
        assert_eq!(
            dpctl(&dp, "show", &[name]),
            Err(format!(
                "ovs-vswitchd: opening datapath {name} failed ({why})\n"
            )),
            "{name}"
        );
    }
}

#[test]
fn show_statistics() {
    let (dp, _) = datapath();
    let text = dpctl(&dp, "show", &["-s"]).expect("show -s");
    // OVS 3.1 `dpctl/show -s`: the dummy devices keep only packet and byte counters.
    let p1 = "  port 1: p1 (dummy: ifindex=1)
    RX packets:0 errors:? dropped:? overruns:? frame:?
    TX packets:0 errors:? dropped:? aborted:? carrier:?
    collisions:?
    RX bytes:0  TX bytes:0
  port 2: p2 (dummy: ifindex=2)
";
    assert!(text.contains(p1), "{text}");
    assert!(text.starts_with("dummy@ovs-dummy:\n  lookups: hit:0 missed:0 lost:0\n  flows: 0\n  port 0: ovs-dummy (dummy-internal)\n    RX packets:0"));
    assert!(text.ends_with("  port 100: br0 (dummy-internal)\n    RX packets:0 errors:? dropped:? overruns:? frame:?\n    TX packets:0 errors:? dropped:? aborted:? carrier:?\n    collisions:?\n    RX bytes:0  TX bytes:0\n"));
    let mut sized = String::new();
    super::super::show::human_size(&mut sized, 1536);
    assert_eq!(sized, " (1.5 KiB)");
}

#[test]
fn add_dump_and_exists() {
    let (dp, _) = datapath();
    assert_eq!(dpctl(&dp, "dump-flows", &[]), Ok(String::new()));
    assert_eq!(dpctl(&dp, "add-flow", &[FLOW_A, "2"]), Ok(String::new()));
    // OVS 3.1.
    assert_eq!(
        dpctl(&dp, "add-flow", &[FLOW_A, "2"]),
        Err("ovs-vswitchd: updating flow table (File exists)\n".into())
    );
    assert_eq!(
        dpctl(&dp, "dump-flows", &[]),
        Ok(format!(
            "{MAIN}recirc_id(0),in_port(1),eth(src=00:00:00:00:00:01),eth_type(0x0800),ipv4(src=10.0.0.2,frag=no), packets:0, bytes:0, used:never, actions:2\n"
        ))
    );
    assert_eq!(
        dpctl(&dp, "dump-flows", &["--names"]),
        Ok(format!(
            "{MAIN}recirc_id(0),in_port(p1),eth(src=00:00:00:00:00:01),eth_type(0x0800),ipv4(src=10.0.0.2,frag=no), packets:0, bytes:0, used:never, actions:p2\n"
        ))
    );
    assert_eq!(
        dpctl(&dp, "dump-flows", &["dummy@ovs-dummy"]),
        dpctl(&dp, "dump-flows", &[])
    );
}

#[test]
fn verbose_dump_and_get_flow() {
    let (dp, _) = datapath();
    let flow = format!(
        "{UFID} in_port(1),eth(src=00:00:00:00:00:01),eth_type(0x0800),ipv4(src=10.0.0.9,frag=no)"
    );
    assert_eq!(dpctl(&dp, "add-flow", &[&flow, "2"]), Ok(String::new()));
    // OVS 3.1 `get-flow -m` / `dump-flows -m`.
    let verbose = "ufid:11111111-2222-4333-8444-555555555555, skb_priority(0/0),skb_mark(0/0),ct_state(0/0),ct_zone(0/0),ct_mark(0/0),ct_label(0/0),recirc_id(0),dp_hash(0/0),in_port(p1),packet_type(ns=0/0,id=0/0),eth(src=00:00:00:00:00:01,dst=00:00:00:00:00:00/00:00:00:00:00:00),eth_type(0x0800),ipv4(src=10.0.0.9,dst=0.0.0.0/0.0.0.0,proto=0/0,tos=0/0,ttl=0/0,frag=no), packets:0, bytes:0, used:never, dp:ovs, actions:p2, dp-extra-info:miniflow_bits(4,2)\n";
    assert_eq!(dpctl(&dp, "get-flow", &["-m", UFID]), Ok(verbose.into()));
    assert_eq!(
        dpctl(&dp, "dump-flows", &["-m"]),
        Ok(format!("{MAIN}{verbose}"))
    );
    assert_eq!(
        dpctl(&dp, "dump-flows", &["-m", "--no-names"]),
        Ok(format!(
            "{MAIN}{}",
            verbose
                .replace("in_port(p1)", "in_port(1)")
                .replace("actions:p2", "actions:2")
        ))
    );
    // OVS 3.1 plain `get-flow`.
    assert_eq!(
        dpctl(&dp, "get-flow", &[UFID]),
        Ok("recirc_id(0),in_port(1),eth(src=00:00:00:00:00:01),eth_type(0x0800),ipv4(src=10.0.0.9,frag=no), packets:0, bytes:0, used:never, actions:2\n".into())
    );
    // OVS 3.1: without `ufid:`, or with a bad UUID, get-flow reports but does not fail.
    assert_eq!(
        dpctl(&dp, "get-flow", &["11111111-2222-4333-8444-555555555555"]),
        Ok("ovs-vswitchd: parsing flow ufid\n".into())
    );
    assert_eq!(
        dpctl(&dp, "get-flow", &["ufid:zz"]),
        Ok("ovs-vswitchd: parsing flow ufid (Invalid argument)\n".into())
    );
    assert_eq!(
        dpctl(
            &dp,
            "get-flow",
            &["ufid:11111111-2222-4333-8444-555555555556"]
        ),
        Err("ovs-vswitchd: getting flow (No such file or directory)\n".into())
    );
}

#[test]
fn miniflow_bits_without_eth() {
    let (dp, _) = datapath();
    let flow = format!("{UFID} in_port(1),eth_type(0x0800),ipv4(src=10.0.0.1,frag=no)");
    assert_eq!(dpctl(&dp, "add-flow", &[&flow, "2"]), Ok(String::new()));
    let text = dpctl(&dp, "dump-flows", &["-m"]).expect("dump");
    // OVS 3.1 prints miniflow_bits(3,2) for this flow.
    assert!(
        text.ends_with("actions:p2, dp-extra-info:miniflow_bits(3,2)\n"),
        "{text}"
    );
}

#[test]
fn add_flow_errors() {
    let (dp, _) = datapath();
    // All OVS 3.1.
    let cases: [(&[&str], &str); 11] = [
        (
            &["in_port(1),foo(3)", "2"],
            "ovs-vswitchd: parsing flow key (syntax error at foo(3)) (Invalid argument)\n",
        ),
        (
            &["in_port(1)", "bogus"],
            "ovs-vswitchd: parsing actions (Invalid argument)\n",
        ),
        (
            &["ufid:1234 in_port(1)", "2"],
            "ovs-vswitchd: parsing flow ufid (Invalid argument)\n",
        ),
        (
            &["ufid:zz in_port(1)", "2"],
            "ovs-vswitchd: parsing flow ufid (Invalid argument)\n",
        ),
        (
            &["foo", "in_port(2),eth_type(0x0806)", "1"],
            "ovs-vswitchd: datapath not found (Invalid argument)\n",
        ),
        (
            &["in_port(1/0),eth_type(0x0806)", "1"],
            "ovs-vswitchd: updating flow table (Invalid argument)\n",
        ),
        (
            &[
                "in_port(1),eth(src=00:00:00:00:00:01),eth_type(0x0800),ipv4(src=10.0.0.3,frag=no),tcp(dst=80)",
                "drop",
            ],
            "ovs-vswitchd: updating flow table (Invalid argument)\n",
        ),
        (
            &["a", "b", "c"],
            "ovs-vswitchd: datapath not found (Invalid argument)\n",
        ),
        (
            &["in_port(1)", "2"],
            "ovs-vswitchd: updating flow table (Invalid argument)\n",
        ),
        (
            &["in_port(3),eth(),eth_type(0x0806)", "4"],
            "ovs-vswitchd: updating flow table (Invalid argument)\n",
        ),
        (
            &["in_port(1),eth_type(0x0800),ipv4(frag=no),udp(dst=80)", "4"],
            "ovs-vswitchd: updating flow table (Invalid argument)\n",
        ),
    ];
    for (args, expected) in cases {
        assert_eq!(
            dpctl(&dp, "add-flow", args),
            Err(expected.into()),
            "{args:?}"
        );
    }
    assert_eq!(dpctl(&dp, "dump-flows", &[]), Ok(String::new()));
}

#[test]
fn add_flow_with_statistics_and_named_datapath() {
    let (dp, _) = datapath();
    // OVS 3.1: `add-flow -s` prints the (zero) statistics of the new flow.
    assert_eq!(
        dpctl(&dp, "add-flow", &["-s", FLOW_A, "2"]),
        Ok("packets:0, bytes:0, used:never\n".into())
    );
    assert_eq!(
        dpctl(
            &dp,
            "add-flow",
            &[
                "dummy@ovs-dummy",
                "in_port(2),eth(),eth_type(0x0806),arp()",
                "1"
            ]
        ),
        Ok(String::new())
    );
    assert_eq!(
        dpctl(&dp, "dump-flows", &[]).expect("dump").lines().count(),
        3
    );
}

#[test]
fn mod_flow_cases() {
    let (dp, _) = datapath();
    let key = "in_port(1),eth(src=00:00:00:00:00:01),eth_type(0x0800),ipv4(src=10.0.0.9,frag=no)";
    let with_ufid = format!("{UFID} {key}");
    assert_eq!(
        dpctl(&dp, "add-flow", &[&with_ufid, "2"]),
        Ok(String::new())
    );
    // OVS 3.1: modify by key or by UFID, `-s` prints the statistics before the change.
    assert_eq!(dpctl(&dp, "mod-flow", &[key, "3"]), Ok(String::new()));
    assert_eq!(
        dpctl(&dp, "mod-flow", &[&with_ufid, "3"]),
        Ok(String::new())
    );
    assert_eq!(
        dpctl(&dp, "mod-flow", &["-s", &with_ufid, "4"]),
        Ok("packets:0, bytes:0, used:never\n".into())
    );
    // OVS 3.1: `--clear` fails, but the new actions are in place.
    assert_eq!(
        dpctl(&dp, "mod-flow", &["--clear", &with_ufid, "1"]),
        Err("ovs-vswitchd: updating flow table (Operation not supported)\n".into())
    );
    assert_eq!(
        dpctl(&dp, "dump-flows", &[]),
        Ok(format!(
            "{MAIN}recirc_id(0),in_port(1),eth(src=00:00:00:00:00:01),eth_type(0x0800),ipv4(src=10.0.0.9,frag=no), packets:0, bytes:0, used:never, actions:1\n"
        ))
    );
    let other = "in_port(2),eth(src=00:00:00:00:00:01),eth_type(0x0800),ipv4(src=10.0.0.9,frag=no)";
    assert_eq!(
        dpctl(&dp, "mod-flow", &[other, "3"]),
        Err("ovs-vswitchd: updating flow table (No such file or directory)\n".into())
    );
    assert_eq!(
        dpctl(&dp, "mod-flow", &["--may-create", other, "3"]),
        Ok(String::new())
    );
    // OVS 3.1: a key-only delete of a flow added by key works, `-s` gives its statistics.
    assert_eq!(
        dpctl(&dp, "del-flow", &["-s", other]),
        Ok("packets:0, bytes:0, used:never\n".into())
    );
}

#[test]
fn del_flow_cases() {
    let (dp, _) = datapath();
    let key = "in_port(1),eth(src=00:00:00:00:00:01),eth_type(0x0800),ipv4(src=10.0.0.9,frag=no)";
    let with_ufid = format!("{UFID} {key}");
    assert_eq!(
        dpctl(&dp, "add-flow", &[&with_ufid, "2"]),
        Ok(String::new())
    );
    // OVS 3.1: a flow added with a UFID is not found by its key alone.
    let not_found = "ovs-vswitchd: deleting flow (No such file or directory)\nPerhaps you need to specify a UFID?\n";
    assert_eq!(dpctl(&dp, "del-flow", &[key]), Err(not_found.into()));
    assert_eq!(
        dpctl(&dp, "del-flow", &["-s", &with_ufid]),
        Ok("packets:0, bytes:0, used:never\n".into())
    );
    assert_eq!(dpctl(&dp, "del-flow", &[UFID]), Err(not_found.into()));
    assert_eq!(dpctl(&dp, "del-flow", &[&with_ufid]), Err(not_found.into()));
    assert_eq!(
        dpctl(&dp, "del-flow", &["in_port(2),foo"]),
        Err("ovs-vswitchd: syntax error at foo (Invalid argument)\n".into())
    );
    // OVS 3.1: keys its datapath cannot decode are simply not found.
    for undecodable in [
        "in_port(3),eth(),eth_type(0x0806)",
        "in_port(1),eth_type(0x0800),ipv4(frag=no),udp(dst=80)",
    ] {
        assert_eq!(
            dpctl(&dp, "del-flow", &[undecodable]),
            Err(not_found.into())
        );
    }
    assert_eq!(
        dpctl(&dp, "del-flow", &["a", "b"]),
        Err("ovs-vswitchd: datapath not found (Invalid argument)\n".into())
    );
    // A UFID alone deletes (the key part is empty).
    assert_eq!(
        dpctl(&dp, "add-flow", &[&with_ufid, "2"]),
        Ok(String::new())
    );
    assert_eq!(dpctl(&dp, "del-flow", &[UFID]), Ok(String::new()));
    assert_eq!(dpctl(&dp, "dump-flows", &[]), Ok(String::new()));
}

#[test]
fn del_flows_and_files() {
    let (dp, _) = datapath();
    assert_eq!(dpctl(&dp, "add-flow", &[FLOW_A, "2"]), Ok(String::new()));
    assert_eq!(
        dpctl(&dp, "del-flows", &["dummy@ovs-dummy"]),
        Ok(String::new())
    );
    assert_eq!(dpctl(&dp, "dump-flows", &[]), Ok(String::new()));
    assert_eq!(dpctl(&dp, "add-flow", &[FLOW_A, "2"]), Ok(String::new()));
    assert_eq!(dpctl(&dp, "del-flows", &[]), Ok(String::new()));
    assert_eq!(dpctl(&dp, "dump-flows", &[]), Ok(String::new()));
    // OVS 3.1: a non-datapath argument is a file; failing to open it is not an error.
    for args in [
        &["/nonexistent/flows"][..],
        &["dummy@ovs-dummy", "/nonexistent/flows"],
    ] {
        assert_eq!(
            dpctl(&dp, "del-flows", args),
            Ok("ovs-vswitchd: Opening file \"/nonexistent/flows\" failed (No such file or directory)\n".into())
        );
    }
    // A file of flows to delete (the default), add and modify.
    let dir = std::env::temp_dir().join(format!("rvs-dpctl-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("flows");
    assert_eq!(dpctl(&dp, "add-flow", &[FLOW_A, "2"]), Ok(String::new()));
    let text = format!(
        "# comment\n\n{FLOW_A}\nadd in_port(3),eth(),eth_type(0x0806),arp() 4\nmodify in_port(3),eth(),eth_type(0x0806),arp() 1\nadd in_port(3)\nbogus(1)\n"
    );
    std::fs::write(&path, text).expect("write");
    let path_text = path.to_str().expect("utf-8 path");
    let reply = dpctl(&dp, "del-flows", &[path_text]);
    assert_eq!(
        reply,
        Ok("ovs-vswitchd: Failed parsing line number 6, skipped!\novs-vswitchd: syntax error at bogus(1) (Invalid argument)\n".into())
    );
    assert_eq!(
        dpctl(&dp, "dump-flows", &[]),
        Ok(format!(
            "{MAIN}recirc_id(0),in_port(3),eth(),eth_type(0x0806), packets:0, bytes:0, used:never, actions:1\n"
        ))
    );
    // OVS 3.1: with an option first, the default line command is "add" (OVS reads it from the
    // last option), so the bare flow and the bogus line lack actions.
    assert_eq!(
        dpctl(&dp, "del-flows", &["-s", path_text]),
        Ok("ovs-vswitchd: Failed parsing line number 3, skipped!\novs-vswitchd: updating flow table (File exists)\npackets:0, bytes:0, used:never\novs-vswitchd: Failed parsing line number 6, skipped!\novs-vswitchd: Failed parsing line number 7, skipped!\n".into())
    );
    // OVS 3.1: command prefixes, and a line starting with a comma.
    let arp = "in_port(3),eth(),eth_type(0x0806),arp()";
    std::fs::write(
        &path,
        format!("{arp} 4\nd {arp}\nm {arp} 1\nmodify {arp}\n,x\n"),
    )
    .expect("write");
    assert_eq!(
        dpctl(&dp, "del-flows", &["-m", path_text]),
        Ok("ovs-vswitchd: updating flow table (File exists)\novs-vswitchd: updating flow table (No such file or directory)\novs-vswitchd: Failed parsing line number 4, skipped!\novs-vswitchd: Failed parsing line number 5, skipped!\n".into())
    );
    assert_eq!(dpctl(&dp, "dump-flows", &[]), Ok(String::new()));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn dump_filters() {
    let (dp, _) = datapath();
    let key = "in_port(1),eth(src=00:00:00:00:00:01),eth_type(0x0800),ipv4(src=10.0.0.4,frag=no)";
    assert_eq!(dpctl(&dp, "add-flow", &[key, "2"]), Ok(String::new()));
    // OVS 3.1.
    let line = format!(
        "{MAIN}recirc_id(0),in_port(1),eth(src=00:00:00:00:00:01),eth_type(0x0800),ipv4(src=10.0.0.4,frag=no), packets:0, bytes:0, used:never, actions:2\n"
    );
    let shown: [&[&str]; 8] = [
        &["filter=in_port=1"],
        &["filter=tcp,tp_dst=80"],
        &["filter=in_port(1),ip"],
        &["type=ovs"],
        &["type=ovs", "filter=in_port=1"],
        &["filter=ip,nw_src=10.0.0.4"],
        &["type=tc,ovs,"],
        &["a", "b"],
    ];
    for args in shown {
        assert_eq!(dpctl(&dp, "dump-flows", args), Ok(line.clone()), "{args:?}");
    }
    let hidden: [&[&str]; 5] = [
        &["filter=in_port=p2"],
        &["type=offloaded"],
        &["pmd=0"],
        &["filter=ip,nw_src=10.0.0.5"],
        &["type="],
    ];
    for args in hidden {
        assert_eq!(
            dpctl(&dp, "dump-flows", args),
            Ok(String::new()),
            "{args:?}"
        );
    }
    // OVS 3.1: `pmd=` drops the header lines.
    let no_header = line.replace(MAIN, "");
    // OVS 3.1: the last `pmd=` is read first, so the first one wins.
    assert_eq!(
        dpctl(&dp, "dump-flows", &["pmd=0", "pmd=-1"]),
        Ok(String::new())
    );
    for pmd in ["pmd=-1", "pmd=-1 pmd=0"] {
        let args: Vec<&str> = pmd.split(' ').collect();
        assert_eq!(dpctl(&dp, "dump-flows", &args), Ok(no_header.clone()));
    }
    assert_eq!(
        dpctl(&dp, "dump-flows", &["pmd=-1x"]),
        Ok(no_header.clone())
    );
    assert_eq!(dpctl(&dp, "dump-flows", &["pmd=x"]), Err(String::new()));
    assert_eq!(
        dpctl(&dp, "dump-flows", &["filter=bogus=1"]),
        Err("ovs-vswitchd: Failed to parse filter (bogus=1: unknown field bogus)\n".into())
    );
    assert_eq!(
        dpctl(&dp, "dump-flows", &["filter=nw_src=10.0.0.5"]),
        Err("ovs-vswitchd: Failed to parse filter (nw_src=10.0.0.5: prerequisites not met for setting nw_src)\n".into())
    );
    assert_eq!(
        dpctl(&dp, "dump-flows", &["type=,ovs"]),
        Err("ovs-vswitchd: Failed to parse type () (Invalid argument)\n".into())
    );
    assert_eq!(
        dpctl(&dp, "dump-flows", &["type=xx"]),
        Err("ovs-vswitchd: Failed to parse type (xx) (Invalid argument)\n".into())
    );
    for args in [
        &["ovs-dummy"][..],
        &["foo"],
        &["system@foo"],
        &["filter=in_port=1", "filter=in_port=2"],
    ] {
        assert_eq!(
            dpctl(&dp, "dump-flows", args),
            Err("ovs-vswitchd: datapath not found (Invalid argument)\n".into()),
            "{args:?}"
        );
    }
}

#[test]
fn options_and_argument_counts() {
    let (dp, _) = datapath();
    // All OVS 3.1 (ovs-appctl adds no text of its own to these).
    assert_eq!(
        dpctl(&dp, "dump-flows", &["--bogus"]),
        Err("Unrecognized option --bogus\n".into())
    );
    assert_eq!(
        dpctl(&dp, "dump-flows", &["-mx"]),
        Err("Unrecognized option -x\n".into())
    );
    assert_eq!(
        dpctl(&dp, "dump-flows", &["--"]),
        Err("Unrecognized option --\n".into())
    );
    assert_eq!(
        dpctl(&dp, "dump-flows", &["-"]),
        Err("ovs-vswitchd: datapath not found (Invalid argument)\n".into())
    );
    assert_eq!(
        dpctl(&dp, "dump-flows", &["1", "2", "3", "4", "5", "6", "7"]),
        Err("\"dpctl/dump-flows\" command takes at most 6 arguments\n".into())
    );
    assert_eq!(
        dpctl(&dp, "add-flow", &[]),
        Err("\"dpctl/add-flow\" command requires at least 2 arguments\n".into())
    );
    assert_eq!(
        dpctl(&dp, "add-flow", &["a", "b", "c", "d"]),
        Err("\"dpctl/add-flow\" command takes at most 3 arguments\n".into())
    );
    assert_eq!(
        dpctl(&dp, "bogus", &[]),
        Err("\"dpctl/bogus\" is not a valid command (use \"list-commands\" to see a list of valid commands)\n".into())
    );
}

#[test]
fn options_parse_like_ovs() {
    let args: Vec<String> = ["-ms", "--no-names", "x"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let (params, argv) = super::super::parse_options("dpctl/dump-flows", &args).expect("options");
    assert_eq!(params.verbosity, 1);
    assert!(params.statistics && !params.names);
    assert_eq!(argv, ["--no-names", "x"]);
    let args: Vec<String> = ["--more"].iter().map(|s| s.to_string()).collect();
    let (params, argv) = super::super::parse_options("dpctl/show", &args).expect("options");
    assert!(params.names);
    assert_eq!(argv, ["--more"]);
}

/// A TCP SYN+ACK frame from 10.0.0.1 to 10.0.0.2.
fn tcp_frame() -> Vec<u8> {
    let mut v = Vec::new();
    etherparse::PacketBuilder::ethernet2([0x50, 0x54, 0, 0, 0, 1], [0x50, 0x54, 0, 0, 2, 0])
        .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
        .tcp(8, 9, 1, 1024)
        .syn()
        .ack(1)
        .write(&mut v, &[])
        .expect("frame");
    v
}

#[test]
fn statistics_after_traffic() {
    let (dp, clock) = datapath();
    let key = "in_port(1),eth(),eth_type(0x0800),ipv4(frag=no)";
    assert_eq!(dpctl(&dp, "add-flow", &[key, "2"]), Ok(String::new()));
    let frame = tcp_frame();
    let mut batch = rvs_netdev::PacketBatch::new();
    assert!(batch.push_copy(&frame));
    assert!(batch.push_copy(&frame));
    let mut pmd = dp.forwarding_thread(0).expect("forwarding context");
    pmd.process_batch(1, &mut batch, 1500);
    clock.set(2000);
    let bytes = 2 * frame.len();
    // Layout as OVS 3.1 prints a flow hit by SYN+ACK packets (`packets:1, bytes:54,
    // used:0.034s, flags:S.`), and `eth()` for a wildcarded Ethernet header as its dump of
    // `add-flow in_port(3),eth(),eth_type(0x0806),arp()` shows.
    assert_eq!(
        dpctl(&dp, "dump-flows", &[]),
        Ok(format!(
            "{MAIN}recirc_id(0),in_port(1),eth(),eth_type(0x0800),ipv4(frag=no), packets:2, bytes:{bytes}, used:0.500s, flags:S., actions:2\n"
        ))
    );
    assert_eq!(
        dpctl(&dp, "del-flow", &["-s", key]),
        Ok(format!("packets:2, bytes:{bytes}, used:0.500s, flags:S.\n"))
    );
    let show = dpctl(&dp, "show", &["-s"]).expect("show");
    assert!(
        show.starts_with("dummy@ovs-dummy:\n  lookups: hit:2 missed:0 lost:0\n  flows: 0\n"),
        "{show}"
    );
    let p2 = format!(
        "  port 2: p2 (dummy: ifindex=2)\n    RX packets:0 errors:? dropped:? overruns:? frame:?\n    TX packets:2 errors:? dropped:? aborted:? carrier:?\n    collisions:?\n    RX bytes:0  TX bytes:{bytes}\n"
    );
    assert!(show.contains(&p2), "{show}");
}
