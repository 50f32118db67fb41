//! Every way a file can be refused: the message and the line and column it points at.

use super::*;

/// `(text, line, column, part of the message)`.
const CASES: &[(&str, usize, usize, &str)] = &[
    // TOML itself.
    (
        "[other_config\nflow-limit = 1\n",
        1,
        14,
        "unclosed table, expected `]`",
    ),
    ("a = \n", 1, 5, "string values must be quoted"),
    (
        "datapath = \"dummy\"\ndatapath = \"dummy\"\n",
        2,
        1,
        "duplicate key",
    ),
    // Top level.
    (
        "\n\nfoo = 1\n",
        3,
        1,
        "unknown field `foo`, expected one of `rundir`",
    ),
    (
        "datapath = 3\n",
        1,
        12,
        "invalid type: integer `3`, expected a string",
    ),
    (
        "datapath = \"system\"\n",
        1,
        12,
        "unknown datapath `system`; expected \"dummy\" or \"netdev\"",
    ),
    (
        "log = 5\n",
        1,
        7,
        "`log` must be a string or an array of strings",
    ),
    (
        "log = [\"info\", 3]\n",
        1,
        7,
        "`log` must be a string or an array of strings",
    ),
    ("log = [\"info\", \" \"]\n", 1, 7, "`log` has an empty spec"),
    ("rundir = \"\"\n", 1, 10, "`rundir` must not be empty"),
    ("log-file = \" \"\n", 1, 12, "`log-file` must not be empty"),
    (
        "keep-flows-on-exit = \"yes\"\n",
        1,
        22,
        "expected a boolean",
    ),
    // [other_config].
    (
        "[other_config]\nflow-limit = 0\n",
        2,
        14,
        "flow-limit: expected an integer between 1 and 4294967295, got `0`",
    ),
    (
        "[other_config]\nmax-idle = 499\n",
        2,
        12,
        "max-idle: expected an integer between 500 and 4294967295, got `499`",
    ),
    (
        "[other_config]\nmax-revalidator = 99\n",
        2,
        19,
        "max-revalidator: expected an integer between 100 and 4294967295, got `99`",
    ),
    (
        "[other_config]\nn-handler-threads = 65\n",
        2,
        21,
        "n-handler-threads: expected an integer between 1 and 64, got `65`",
    ),
    (
        "[other_config]\nn-revalidator-threads = 0\n",
        2,
        25,
        "n-revalidator-threads: expected an integer between 1 and 64, got `0`",
    ),
    (
        "[other_config]\nn-forwarding-threads = -1\n",
        2,
        24,
        "got `-1`",
    ),
    (
        "[other_config]\nemc-insert-inv-prob = 4294967296\n",
        2,
        23,
        "between 0 and 4294967295, got `4294967296`",
    ),
    (
        "[other_config]\nvlan-limit = \"two\"\n",
        2,
        14,
        "vlan-limit: expected an integer between 0 and 2147483647, got `two`",
    ),
    (
        "[other_config]\nmin-revalidate-pps = 1.5\n",
        2,
        22,
        "got a float",
    ),
    (
        "[other_config]\nflow-limit = true\n",
        2,
        14,
        "got a boolean",
    ),
    (
        "[other_config]\nmax-idle = 1000\nflow_limit = 5\n",
        3,
        1,
        "unknown key `flow_limit` (did you mean `flow-limit`?); known keys: flow-limit, max-idle",
    ),
    (
        "[other_config]\nsmc-enable = true\n",
        2,
        1,
        "[other_config]: unknown key `smc-enable`",
    ),
    // Bridges and names.
    ("[[bridge]]\nflows = []\n", 1, 1, "missing field `name`"),
    (
        "[[bridge]]\nname = \"br 0\"\n",
        2,
        8,
        "invalid bridge name `br 0`: use 1 to 255 letters",
    ),
    ("[[bridge]]\nname = \"\"\n", 2, 8, "invalid bridge name ``"),
    (
        "[[bridge]]\nname = \"br0\"\ncolor = 1\n",
        3,
        1,
        "unknown field `color`, expected one of `name`, `flows`, `flows-file`, `port`",
    ),
    (
        "[[bridge]]\nname = \"br0\"\n[[bridge]]\nname = \"br0\"\n",
        4,
        8,
        "duplicate name `br0`: the bridge on line 2 already has it (bridges and ports share one namespace)",
    ),
    (
        "[[bridge]]\nname = \"br0\"\n[[bridge.port]]\nname = \"br0\"\n",
        4,
        8,
        "duplicate name `br0`: the bridge on line 2 already has it",
    ),
    (
        "[[bridge]]\nname = \"br0\"\n[[bridge.port]]\nname = \"p1\"\n[[bridge]]\nname = \"br1\"\n[[bridge.port]]\nname = \"p1\"\n",
        8,
        8,
        "duplicate name `p1`: the port on line 4 already has it",
    ),
    // Ports.
    (
        "[[bridge]]\nname = \"br0\"\n[[bridge.port]]\n",
        3,
        1,
        "missing field `name`",
    ),
    (
        "[[bridge]]\nname = \"br0\"\n[[bridge.port]]\nname = \"p/1\"\n",
        4,
        8,
        "invalid port name `p/1`",
    ),
    (
        "[[bridge]]\nname = \"br0\"\n[[bridge.port]]\nname = \"p1\"\nmtu = 9000\n",
        5,
        1,
        "unknown field `mtu`",
    ),
    (
        "[[bridge]]\nname = \"br0\"\n[[bridge.port]]\nname = \"p1\"\ntype = \"system\"\n",
        5,
        8,
        "unknown port type `system`; expected \"dummy\", \"pcap\" or \"afpacket\"",
    ),
    (
        "[[bridge]]\nname = \"br0\"\n[[bridge.port]]\nname = \"p1\"\nrx-pcap = \"in.pcap\"\n",
        5,
        11,
        "`rx-pcap` is only for ports of type \"pcap\"; port `p1` has type \"dummy\"",
    ),
    (
        "[[bridge]]\nname = \"br0\"\n[[bridge.port]]\nname = \"p1\"\ntype = \"dummy\"\ninterface = \"eth0\"\n",
        6,
        13,
        "`interface` is only for ports of type \"afpacket\"; port `p1` has type \"dummy\"",
    ),
    (
        "[[bridge]]\nname = \"br0\"\n[[bridge.port]]\nname = \"p1\"\ntype = \"pcap\"\ninterface = \"eth0\"\n",
        6,
        13,
        "`interface` is only for ports of type \"afpacket\"; port `p1` has type \"pcap\"",
    ),
    (
        "[[bridge]]\nname = \"br0\"\n[[bridge.port]]\nname = \"p1\"\ntype = \"dummy\"\nn_rxq = 2\n",
        6,
        9,
        "`n_rxq` is only for ports of type \"afpacket\"; port `p1` has type \"dummy\"",
    ),
    (
        "[[bridge]]\nname = \"br0\"\n[[bridge.port]]\nname = \"p1\"\ntype = \"afpacket\"\nn_rxq = 0\n",
        6,
        9,
        "`n_rxq` must be from 1 to 16",
    ),
    (
        "[[bridge]]\nname = \"br0\"\n[[bridge.port]]\nname = \"p1\"\ntype = \"afpacket\"\nn-rxq = 17\n",
        6,
        9,
        "`n_rxq` must be from 1 to 16",
    ),
    (
        "[[bridge]]\nname = \"br0\"\n[[bridge.port]]\nname = \"p1\"\ntype = \"afpacket\"\ntx-pcap = \"o.pcap\"\n",
        6,
        11,
        "`tx-pcap` is only for ports of type \"pcap\"; port `p1` has type \"afpacket\"",
    ),
    (
        "[[bridge]]\nname = \"br0\"\n[[bridge.port]]\nname = \"p1\"\ntype = \"pcap\"\nrx-pcap = \"\"\n",
        6,
        11,
        "`rx-pcap` must not be empty",
    ),
    (
        "[[bridge]]\nname = \"br0\"\n[[bridge.port]]\nname = \"p1\"\ntype = \"afpacket\"\ninterface = \"a-very-long-interface\"\n",
        6,
        13,
        "invalid interface name `a-very-long-interface`: Linux allows 1 to 15 bytes",
    ),
    (
        "[[bridge]]\nname = \"br0\"\n[[bridge.port]]\nname = \"this-name-is-too-long\"\ntype = \"afpacket\"\n",
        4,
        8,
        "invalid interface name `this-name-is-too-long`",
    ),
    (
        "[[bridge]]\nname = \"br0\"\n[[bridge.port]]\nname = \"a\"\ntype = \"afpacket\"\ninterface = \"eth0\"\n[[bridge.port]]\nname = \"b\"\ntype = \"afpacket\"\ninterface = \"eth0\"\n",
        10,
        13,
        "interface `eth0` is already used by port `a` on line 6",
    ),
    (
        "[[bridge]]\nname = \"br0\"\n[[bridge.port]]\nname = \"p1\"\nofport = \"1\"\n",
        5,
        10,
        "invalid type: string \"1\", expected i64",
    ),
    (
        "[[bridge]]\nname = \"br0\"\n[[bridge.port]]\nname = \"p1\"\nofport = 0\n",
        5,
        10,
        "ofport must be between 1 and 65279, got 0",
    ),
    (
        "[[bridge]]\nname = \"br0\"\n[[bridge.port]]\nname = \"p1\"\nofport = 65280\n",
        5,
        10,
        "ofport must be between 1 and 65279, got 65280",
    ),
    (
        "[[bridge]]\nname = \"br0\"\n[[bridge.port]]\nname = \"p1\"\nofport = 3\n[[bridge.port]]\nname = \"p2\"\nofport = 3\n",
        8,
        10,
        "duplicate ofport 3 in bridge `br0`: port `p1` on line 5 already has it",
    ),
    // VLANs.
    (
        "[[bridge]]\nname = \"br0\"\n[[bridge.port]]\nname = \"p1\"\ntag = 4096\n",
        5,
        7,
        "`tag` must be between 0 and 4095, got 4096",
    ),
    (
        "[[bridge]]\nname = \"br0\"\n[[bridge.port]]\nname = \"p1\"\ntag = -1\n",
        5,
        7,
        "`tag` must be between 0 and 4095, got -1",
    ),
    (
        "[[bridge]]\nname = \"br0\"\n[[bridge.port]]\nname = \"p1\"\nvlan-mode = \"trunk\"\ntrunks = [1, 5000]\n",
        6,
        14,
        "`trunks`: VLAN 5000 is out of range (0 to 4095)",
    ),
    (
        "[[bridge]]\nname = \"br0\"\n[[bridge.port]]\nname = \"p1\"\nvlan-mode = \"dot1q-tunnel\"\ncvlans = [-2]\n",
        6,
        11,
        "`cvlans`: VLAN -2 is out of range",
    ),
    (
        "[[bridge]]\nname = \"br0\"\n[[bridge.port]]\nname = \"p1\"\nvlan-mode = \"acess\"\n",
        5,
        13,
        "unknown vlan-mode `acess`; expected \"access\", \"trunk\", \"native-tagged\", \"native-untagged\" or \"dot1q-tunnel\"",
    ),
    (
        "[[bridge]]\nname = \"br0\"\n[[bridge.port]]\nname = \"p1\"\nvlan-mode = \"trunk\"\ntag = 5\n",
        6,
        7,
        "port `p1`: `tag` has no effect with vlan-mode \"trunk\"",
    ),
    (
        "[[bridge]]\nname = \"br0\"\n[[bridge.port]]\nname = \"p1\"\nvlan-mode = \"access\"\ntag = 5\ntrunks = [5]\n",
        7,
        10,
        "port `p1`: `trunks` has no effect with vlan-mode \"access\"",
    ),
    (
        "[[bridge]]\nname = \"br0\"\n[[bridge.port]]\nname = \"p1\"\nvlan-mode = \"dot1q-tunnel\"\ntrunks = [5]\n",
        6,
        10,
        "`trunks` has no effect with vlan-mode \"dot1q-tunnel\"",
    ),
    (
        "[[bridge]]\nname = \"br0\"\n[[bridge.port]]\nname = \"p1\"\ntag = 5\ntrunks = [5, 6]\n",
        6,
        10,
        "port `p1`: `trunks` has no effect when `tag` is set without `vlan-mode`",
    ),
    (
        "[[bridge]]\nname = \"br0\"\n[[bridge.port]]\nname = \"p1\"\nvlan-mode = \"trunk\"\ncvlans = [5]\n",
        6,
        10,
        "port `p1`: `cvlans` is only for vlan-mode \"dot1q-tunnel\"",
    ),
    (
        "[[bridge]]\nname = \"br0\"\n[[bridge.port]]\nname = \"p1\"\nqinq-ethtype = \"802.1q\"\n",
        5,
        16,
        "port `p1`: `qinq-ethtype` is only for vlan-mode \"dot1q-tunnel\"",
    ),
    (
        "[[bridge]]\nname = \"br0\"\n[[bridge.port]]\nname = \"p1\"\nvlan-mode = \"dot1q-tunnel\"\nqinq-ethtype = \"0x8100\"\n",
        6,
        16,
        "unknown qinq-ethtype `0x8100`; expected \"802.1ad\" or \"802.1q\"",
    ),
    (
        "[[bridge]]\nname = \"br0\"\n[[bridge.port]]\nname = \"p1\"\npriority-tags = \"true\"\n",
        5,
        17,
        "unknown priority-tags `true`; expected \"never\", \"if-nonzero\" or \"always\"",
    ),
    // Flows.
    (
        "[[bridge]]\nname = \"br0\"\nflows = [\"actions=NORMAL\", \"  \"]\n",
        3,
        28,
        "empty flow in `flows`",
    ),
    (
        "[[bridge]]\nname = \"br0\"\nflows-file = \"\"\n",
        3,
        14,
        "`flows-file` must not be empty",
    ),
];

#[test]
fn every_error_names_its_line_column_and_problem() {
    let mut wrong = Vec::new();
    for (text, line, column, message) in CASES {
        let (got_line, got_column, got_message) = error(text);
        if !got_message.contains(message) || (got_line, got_column) != (*line, *column) {
            wrong.push(format!(
                "{text:?}: got {got_line}:{got_column}: {got_message}"
            ));
        }
    }
    assert!(wrong.is_empty(), "unexpected errors:\n{}", wrong.join("\n"));
}

#[test]
fn display_is_file_line_column_message() {
    let err = parse("[[bridge]]\nname = \"br0\"\n[[bridge.port]]\nname = \"p1\"\nofport = 0\n")
        .expect_err("refused");
    assert_eq!(
        err.to_string(),
        "/etc/rvs/rvs.toml:5:10: ofport must be between 1 and 65279, got 0"
    );
    let err = Config::from_toml_str("datapath = \"x\"", None).expect_err("refused");
    assert_eq!(
        err.to_string(),
        "<config>:1:12: unknown datapath `x`; expected \"dummy\" or \"netdev\""
    );
}

#[test]
fn same_ofport_in_two_bridges_is_fine() {
    let config = parse(
        "[[bridge]]\nname = \"br0\"\n[[bridge.port]]\nname = \"p1\"\nofport = 1\n\
         [[bridge]]\nname = \"br1\"\n[[bridge.port]]\nname = \"p2\"\nofport = 1\n",
    )
    .expect("ofports are per bridge");
    assert_eq!(config.bridges[1].ports[0].ofport, Some(1));
}

#[test]
fn a_bad_inline_flow_points_at_the_bad_word() {
    let (line, column, message) = error(
        "[[bridge]]\nname = \"br0\"\nflows = [\"priority=0,actions=NORMAL\", \"in_port=1,frobnicate=2,actions=drop\"]\n",
    );
    // The string's content starts in column 40; `frobnicate` 10 characters later.
    assert_eq!((line, column), (3, 50));
    assert_eq!(
        message,
        "invalid flow for bridge `br0`: unknown keyword frobnicate"
    );
    // A string written with escapes cannot be mapped character by character: the error points
    // at the string.
    let (line, column, _) = error(
        "[[bridge]]\nname = \"br0\"\nflows = [\"\\u0069n_port=1,frobnicate=2,actions=drop\"]\n",
    );
    assert_eq!((line, column), (3, 10));
}

#[test]
fn a_flow_naming_an_unknown_port_is_refused() {
    let (line, column, message) = error(
        "[[bridge]]\nname = \"br0\"\nflows = [\"in_port=p1,actions=output:br0\", \"in_port=p9,actions=drop\"]\n\
         [[bridge.port]]\nname = \"p1\"\n",
    );
    assert_eq!((line, column), (3, 52));
    assert_eq!(
        message,
        "invalid flow for bridge `br0`: p9: invalid or unknown port for in_port"
    );
}

#[test]
fn unreadable_flows_file_is_reported_at_the_key() {
    let dir = tempfile::tempdir().expect("temp dir");
    let text = "[[bridge]]\nname = \"br0\"\nflows-file = \"missing.txt\"\n";
    let err = Config::from_toml_str(text, Some(&dir.path().join("rvs.toml"))).expect_err("refused");
    assert_eq!((err.line(), err.column()), (Some(3), Some(14)));
    assert!(
        err.message().starts_with("cannot read flows-file `"),
        "{err}"
    );
    assert!(err.message().contains("missing.txt"), "{err}");
}

#[test]
fn bad_rule_in_flows_file_is_reported_in_that_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let rules = dir.path().join("rules.txt");
    std::fs::write(
        &rules,
        "# rules\npriority=0,actions=NORMAL\n\n  ip,frobnicate=1,actions=drop\n",
    )
    .expect("write rules");
    let text = "[[bridge]]\nname = \"br0\"\nflows-file = \"rules.txt\"\n";
    let err = Config::from_toml_str(text, Some(&dir.path().join("rvs.toml"))).expect_err("refused");
    assert_eq!(err.path(), Some(rules.as_path()));
    assert_eq!(err.line(), Some(4));
    assert_eq!(err.column(), Some(6), "{err}");
    assert_eq!(
        err.message(),
        "invalid flow for bridge `br0`: unknown keyword frobnicate"
    );
}

#[test]
fn missing_config_file_is_a_whole_file_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("nope.toml");
    let err = Config::load(&path).expect_err("refused");
    assert_eq!(err.line(), None);
    assert_eq!(err.path(), Some(path.as_path()));
    let shown = err.to_string();
    assert!(
        shown.starts_with(&format!(
            "{}: cannot read the configuration: ",
            path.display()
        )),
        "{shown}"
    );
}
