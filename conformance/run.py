#!/usr/bin/env python3
"""Differential conformance suite: plays each scenario on rvs and on Open vSwitch 3.1
(`ovs-vswitchd --enable-dummy`) and diffs what both print.

Every scenario gets a fresh pair of switches (private run directories, stopped by pid), so no
state leaks from one scenario to the next. Both run on virtual time (`time/stop` at start,
`time/warp` to advance). Outputs are compared after normalising only what must differ
(UFID values, revalidator thread ids, dump durations, the order of flow dumps); see
normalise() and conformance/README.md.

Python 3 standard library only.
"""

import argparse
import difflib
import fnmatch
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SCENARIOS = os.path.join(HERE, "scenarios")
EXPECTED = os.path.join(HERE, "expected")
KNOWN_GAPS = os.path.join(HERE, "known-gaps.txt")
SCHEMA = "/usr/share/openvswitch/vswitch.ovsschema"
BRIDGE = "br0"
DEFAULT_PORTS = [("p%d" % i, {"ofport": str(i)}) for i in range(1, 5)]
# Both switches get the same fixed thread counts so `upcall/show` lists the same threads on
# every machine.
THREAD_KNOBS = {"n-handler-threads": "1", "n-revalidator-threads": "1"}
STEP_TIMEOUT = 60
# `revalidator/wait` returns within about one max-revalidator period (500 ms) on OVS, even with
# its clock stopped; a switch that has not answered after this long is recorded as timed out.
WAIT_TIMEOUT = 5


class ScenarioError(Exception):
    """A scenario file that cannot be played (syntax) or a switch that could not start."""


# ---------------------------------------------------------------------------------------------
# Scenario files
# ---------------------------------------------------------------------------------------------


class Step:
    """One line of a scenario: a verb with its arguments, compared or not."""

    def __init__(self, line, lineno, verb, args, check, repeat):
        self.line = line
        self.lineno = lineno
        self.verb = verb
        self.args = args
        self.check = check
        self.repeat = repeat


VERBS = {
    "flow", "ofctl", "receive", "warp", "wait", "purge", "set", "add-port", "del-port",
    "appctl", "prefixes",
}


def parse_port_options(words, where):
    opts = {}
    for word in words:
        if "=" not in word:
            raise ScenarioError("%s: port option %r is not key=value" % (where, word))
        key, value = word.split("=", 1)
        key = key.replace("_", "-")
        if key not in ("ofport", "tag", "trunks", "vlan-mode"):
            raise ScenarioError("%s: unknown port option %r" % (where, key))
        opts[key] = value
    return opts


def parse_scenario(path):
    """Returns (ports, steps). `ports` is a list of (name, options) or None for p1..p4."""
    ports = []
    steps = []
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    for lineno, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        where = "%s:%d" % (os.path.basename(path), lineno)
        words = line.split(None, 1)
        if words[0] == "port":
            if steps:
                raise ScenarioError("%s: `port` lines come before every step" % where)
            parts = line.split()
            if len(parts) < 2:
                raise ScenarioError("%s: port NAME [key=value...]" % where)
            ports.append((parts[1], parse_port_options(parts[2:], where)))
            continue
        check = False
        repeat = 1
        rest = line
        while True:
            head, _, tail = rest.partition(" ")
            if head == "check":
                check = True
                rest = tail.strip()
            elif head == "repeat":
                count, _, tail = tail.strip().partition(" ")
                if not count.isdigit() or int(count) < 1:
                    raise ScenarioError("%s: repeat N STEP" % where)
                repeat = int(count)
                rest = tail.strip()
            else:
                break
        verb, _, tail = rest.partition(" ")
        tail = tail.strip()
        if verb not in VERBS:
            raise ScenarioError("%s: unknown verb %r" % (where, verb))
        if verb == "flow":
            if not tail:
                raise ScenarioError("%s: flow TEXT" % where)
            args = [tail]
        elif verb == "receive":
            port, _, packet = tail.partition(" ")
            if not packet.strip():
                raise ScenarioError("%s: receive PORT PACKET" % where)
            args = [port, packet.strip()]
        else:
            try:
                args = shlex.split(tail)
            except ValueError as e:
                raise ScenarioError("%s: %s" % (where, e))
        if verb in ("ofctl", "appctl", "del-port", "add-port", "set") and not args:
            raise ScenarioError("%s: %s needs arguments" % (where, verb))
        if verb == "prefixes" and not (1 <= len(args) <= 2 and args[0].isdigit()):
            raise ScenarioError("%s: prefixes TABLE [FIELD,FIELD...]" % where)
        if verb == "warp" and not (1 <= len(args) <= 2):
            raise ScenarioError("%s: warp MSECS [STEP]" % where)
        if verb == "add-port":
            parse_port_options(args[1:], where)
        steps.append(Step(line, lineno, verb, args, check, repeat))
    return (ports or None), steps


# ---------------------------------------------------------------------------------------------
# The unixctl client (JSON-RPC over a Unix socket, what ovs-appctl speaks)
# ---------------------------------------------------------------------------------------------


def unixctl(sock_path, method, params, timeout=STEP_TIMEOUT):
    """Runs one command; returns (ok, text)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(sock_path)
        request = {"method": method, "params": list(params), "id": 0}
        s.sendall(json.dumps(request).encode())
        buf = b""
        decoder = json.JSONDecoder()
        while True:
            chunk = s.recv(65536)
            if not chunk:
                raise ScenarioError("%s: connection closed before a reply to %s" % (sock_path, method))
            buf += chunk
            try:
                reply, _ = decoder.raw_decode(buf.decode("utf-8"))
                break
            except (ValueError, UnicodeDecodeError):
                continue
    finally:
        s.close()
    error = reply.get("error")
    if error is not None:
        return False, error if isinstance(error, str) else json.dumps(error)
    result = reply.get("result")
    if result is None:
        return True, ""
    return True, result if isinstance(result, str) else json.dumps(result)


def wait_for_socket(path, proc=None, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        if os.path.exists(path):
            try:
                unixctl(path, "version", [], timeout=5)
                return True
            except (OSError, ScenarioError):
                pass
        time.sleep(0.05)
    return False


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def run_cmd(argv, env=None, timeout=STEP_TIMEOUT):
    """Runs a program; returns (ok, stdout, stderr)."""
    p = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout)
    return p.returncode == 0, p.stdout, p.stderr


# ---------------------------------------------------------------------------------------------
# The two switches
# ---------------------------------------------------------------------------------------------


class Switch:
    """What both sides offer: start, one method per verb returning (ok, text), stop."""

    name = "?"

    def __init__(self, rundir, ports):
        self.rundir = rundir
        self.ports = ports

    def do(self, step):
        verb, args = step.verb, step.args
        if verb == "flow":
            return self.ofctl(["add-flow", BRIDGE, args[0]])
        if verb == "ofctl":
            return self.ofctl(args)
        if verb == "receive":
            return self.appctl(["netdev-dummy/receive"] + args)
        if verb == "warp":
            return self.appctl(["time/warp"] + args)
        if verb == "wait":
            return self.appctl(["revalidator/wait"] + args, timeout=WAIT_TIMEOUT)
        if verb == "purge":
            return self.appctl(["revalidator/purge"] + args)
        if verb == "set":
            return self.set_knobs(args)
        if verb == "add-port":
            return self.add_port(args[0], parse_port_options(args[1:], "add-port"))
        if verb == "del-port":
            return self.del_port(args[0])
        if verb == "appctl":
            return self.appctl(args)
        if verb == "prefixes":
            return self.set_prefixes(args[0], args[1] if len(args) > 1 else "")
        raise ScenarioError("verb %s" % verb)


def ofctl_split(args):
    """Splits an ovs-ofctl command line `[OPTIONS] SUBCMD [OPTIONS] BRIDGE [ARGS]` into
    (subcommand, options, protocol options, bridge-and-args). Options are `--word`; protocol
    options are `-O VERSION` (rvs's ofctl/* commands take them after the bridge)."""
    sub = None
    opts, proto, rest = [], [], []
    words = iter(args)
    for word in words:
        if word == "-O":
            proto += [word, next(words, "")]
        elif word.startswith("-O"):
            proto.append(word)
        elif word.startswith("--"):
            opts.append(word)
        elif sub is None:
            sub = word
        else:
            rest.append(word)
    return sub or "", opts, proto, rest


class OvsSwitch(Switch):
    """Open vSwitch 3.1: a private ovsdb-server and ovs-vswitchd --enable-dummy."""

    name = "ovs"

    def env(self):
        env = dict(os.environ)
        for key in ("OVS_RUNDIR", "OVS_LOGDIR", "OVS_DBDIR", "OVS_SYSCONFDIR"):
            env[key] = self.rundir
        return env

    def vsctl(self, args, wait=True):
        argv = ["ovs-vsctl", "--timeout=30", "--db=unix:%s/db.sock" % self.rundir]
        if not wait:
            argv.append("--no-wait")
        return run_cmd(argv + args, env=self.env())

    def start(self):
        d = self.rundir
        env = self.env()
        steps = [
            ["ovsdb-tool", "create", d + "/conf.db", SCHEMA],
            ["ovsdb-server", d + "/conf.db", "--remote=punix:%s/db.sock" % d,
             "--pidfile=%s/ovsdb-server.pid" % d, "--unixctl=%s/ovsdb-server.ctl" % d,
             "--log-file=%s/ovsdb-server.log" % d, "--detach", "--no-chdir"],
        ]
        for argv in steps:
            ok, out, err = run_cmd(argv, env=env)
            if not ok:
                raise ScenarioError("ovs: %s failed: %s" % (argv[0], err.strip()))
        knobs = ["other_config:%s=%s" % kv for kv in THREAD_KNOBS.items()]
        ok, _, err = self.vsctl(["init", "--", "set", "Open_vSwitch", "."] + knobs, wait=False)
        if not ok:
            raise ScenarioError("ovs: ovs-vsctl init failed: %s" % err.strip())
        ok, _, err = run_cmd(
            ["ovs-vswitchd", "unix:%s/db.sock" % d, "--enable-dummy=override",
             "--disable-system", "--pidfile=%s/ovs-vswitchd.pid" % d,
             "--unixctl=%s/ovs-vswitchd.ctl" % d, "--log-file=%s/ovs-vswitchd.log" % d,
             "--detach", "--no-chdir"], env=env)
        if not ok:
            raise ScenarioError("ovs: ovs-vswitchd failed: %s" % err.strip())
        args = ["add-br", BRIDGE, "--", "set", "bridge", BRIDGE, "datapath-type=dummy",
                "fail-mode=secure", "other-config:datapath-id=fedcba9876543210",
                "other-config:hwaddr=aa:55:aa:55:00:00"]
        ok, _, err = self.vsctl(args)
        if not ok:
            raise ScenarioError("ovs: bridge setup failed: %s" % err.strip())
        # One transaction per port, as OVS's own tests add them: NORMAL floods in the order the
        # ports joined the bridge.
        for name, opts in self.ports:
            ok, _, err = self.vsctl(self.port_args(name, opts))
            if not ok:
                raise ScenarioError("ovs: adding port %s failed: %s" % (name, err.strip()))
        ok, text = self.appctl(["time/stop"])
        if not ok:
            raise ScenarioError("ovs: time/stop: %s" % text)

    @staticmethod
    def port_args(name, opts):
        args = ["add-port", BRIDGE, name, "--", "set", "interface", name, "type=dummy"]
        if "ofport" in opts:
            args.append("ofport_request=%s" % opts["ofport"])
        port = []
        if "tag" in opts:
            port.append("tag=%s" % opts["tag"])
        if "trunks" in opts:
            port.append("trunks=%s" % opts["trunks"])
        if "vlan-mode" in opts:
            port.append("vlan_mode=%s" % opts["vlan-mode"])
        if port:
            args += ["--", "set", "port", name] + port
        return args

    def stop(self):
        # ovs-vswitchd takes seconds to exit on SIGTERM with its clock stopped; nothing in a
        # private run directory needs a clean exit, so SIGKILL follows after a short grace.
        pids = []
        for prog in ("ovs-vswitchd", "ovsdb-server"):
            pidfile = os.path.join(self.rundir, prog + ".pid")
            try:
                with open(pidfile) as f:
                    pids.append(int(f.read().strip()))
            except (OSError, ValueError):
                continue
        for pid in pids:
            try:
                os.kill(pid, signal.SIGTERM)
            except OSError:
                pass
        deadline = time.time() + 0.3
        for pid in pids:
            while time.time() < deadline and pid_alive(pid):
                time.sleep(0.02)
            if pid_alive(pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass

    def appctl(self, args, timeout=STEP_TIMEOUT):
        return unixctl(os.path.join(self.rundir, "ovs-vswitchd.ctl"), args[0], args[1:],
                       timeout=timeout)

    def ofctl(self, args):
        sub, opts, proto, rest = ofctl_split(args)
        ok, out, err = run_cmd(["ovs-ofctl"] + proto + opts + [sub] + rest, env=self.env())
        if ok:
            return True, out
        # ovs-ofctl's own log lines (timestamped vlog output on stderr) are client noise that
        # rvs, which parses the flow inside the daemon, has no counterpart for.
        lines = [l for l in err.split("\n") if not VLOG_LINE_RE.match(l)]
        return False, "\n".join(lines)

    def set_knobs(self, args):
        knobs = []
        for arg in args:
            key, _, value = arg.partition("=")
            knobs.append("other_config:%s=%s" % (key, value))
        ok, out, err = self.vsctl(["set", "Open_vSwitch", "."] + knobs)
        return ok, out if ok else err

    def set_prefixes(self, table, fields):
        ok, out, err = self.vsctl([
            "set", "Bridge", BRIDGE, "flow_tables:%s=@t" % table, "--", "--id=@t", "create",
            "Flow_Table", "name=t%s" % table, "prefixes=%s" % (fields or "[]")])
        return ok, "" if ok else err

    def add_port(self, name, opts):
        ok, out, err = self.vsctl(self.port_args(name, opts))
        return ok, out if ok else err

    def del_port(self, name):
        ok, out, err = self.vsctl(["del-port", BRIDGE, name])
        return ok, out if ok else err


class RvsSwitch(Switch):
    """rvs: `rvs vswitchd --rundir DIR --config DIR/rvs.toml`."""

    name = "rvs"

    def __init__(self, rundir, ports, binary):
        super().__init__(rundir, ports)
        self.binary = binary
        self.proc = None

    def config_text(self):
        lines = ['datapath = "dummy"', "", "[other_config]"]
        for key, value in THREAD_KNOBS.items():
            lines.append("%s = %s" % (key, value))
        lines += ["", "[[bridge]]", 'name = "%s"' % BRIDGE]
        for name, opts in self.ports:
            lines += ["", "[[bridge.port]]", 'name = "%s"' % name, 'type = "dummy"']
            if "ofport" in opts:
                lines.append("ofport = %s" % opts["ofport"])
            if "tag" in opts:
                lines.append("tag = %s" % opts["tag"])
            if "trunks" in opts:
                lines.append("trunks = [%s]" % opts["trunks"])
            if "vlan-mode" in opts:
                lines.append('vlan-mode = "%s"' % opts["vlan-mode"])
        return "\n".join(lines) + "\n"

    def start(self):
        if not os.access(self.binary, os.X_OK):
            raise ScenarioError("rvs: no executable at %s (build it or pass --rvs)" % self.binary)
        config = os.path.join(self.rundir, "rvs.toml")
        with open(config, "w") as f:
            f.write(self.config_text())
        log = open(os.path.join(self.rundir, "rvs.out"), "w")
        self.proc = subprocess.Popen(
            [self.binary, "vswitchd", "--rundir", self.rundir, "--config", config],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()
        if not wait_for_socket(self.ctl(), self.proc):
            with open(os.path.join(self.rundir, "rvs.out")) as f:
                tail = f.read()[-2000:]
            raise ScenarioError("rvs: the daemon did not come up:\n" + tail)
        # OVS runs with fail-mode=secure: no flows until the scenario adds some.
        for args in (["ofctl/del-flows", BRIDGE], ["time/stop"]):
            ok, text = self.appctl(args)
            if not ok:
                raise ScenarioError("rvs: %s: %s" % (args[0], text))

    def ctl(self):
        return os.path.join(self.rundir, "rvs.ctl")

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def appctl(self, args, timeout=STEP_TIMEOUT):
        return unixctl(self.ctl(), args[0], args[1:], timeout=timeout)

    def ofctl(self, args):
        sub, opts, proto, rest = ofctl_split(args)
        if not rest:
            return False, "%s: missing bridge" % sub
        return self.appctl(["ofctl/" + sub, rest[0]] + proto + opts + rest[1:])

    def set_knobs(self, args):
        return self.appctl(["set"] + args)

    def set_prefixes(self, table, fields):
        # The `prefixes` column of OVS's Flow_Table for one table of a bridge.
        return self.appctl(["set-prefixes", BRIDGE, table, fields])

    def add_port(self, name, opts):
        args = ["add-port", BRIDGE, name, "type=dummy"]
        args += ["%s=%s" % kv for kv in opts.items()]
        return self.appctl(args)

    def del_port(self, name):
        return self.appctl(["del-port", BRIDGE, name])


# ---------------------------------------------------------------------------------------------
# Normalisation: only what must differ between two independent switches
# ---------------------------------------------------------------------------------------------

VLOG_LINE_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\|\d+\|")
XID_RE = re.compile(r"\(xid=0x[0-9a-f]+\)")
UFID_RE = re.compile(r"ufid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
SORTED_COMMANDS = ("dpctl/dump-flows", "dpif/dump-flows", "dump-flows", "bridge/dump-flows")


def command_of(step):
    if step.verb == "appctl":
        return step.args[0]
    if step.verb == "ofctl":
        return ofctl_split(step.args)[0]
    return step.verb


def normalise(step, text, ufids):
    """Normalises one command's output. `ufids` maps real UFIDs to stable names for the whole
    scenario on one side (numbered in order of first appearance, after sorting)."""
    lines = [l.rstrip() for l in text.split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    command = command_of(step)
    if command in SORTED_COMMANDS:
        # Flow dumps come in hash order: keep the header lines where they are, sort the flows.
        head = [l for l in lines if l.startswith("flow-dump from") or "_FLOW reply" in l]
        body = [l for l in lines if l not in head]
        body.sort(key=lambda l: UFID_RE.sub("ufid:*", l))
        lines = head + body
    if command == "dump-flows":
        # The OpenFlow transaction id depends on how many messages ovs-ofctl exchanged.
        lines = [XID_RE.sub("(xid=N)", l) for l in lines]
    if command == "upcall/show":
        lines = [re.sub(r"^  \d+: \(keys", "  N: (keys", l) for l in lines]
        lines = [re.sub(r"dump duration : \d+ms", "dump duration : Nms", l) for l in lines]

    def ufid_name(m):
        if m.group(0) not in ufids:
            ufids[m.group(0)] = "ufid:ufid-%d" % (len(ufids) + 1)
        return ufids[m.group(0)]

    lines = [UFID_RE.sub(ufid_name, l) for l in lines]
    return lines


# ---------------------------------------------------------------------------------------------
# Playing a scenario
# ---------------------------------------------------------------------------------------------


def play(switch, steps):
    """Plays the steps on a started switch; returns the transcript (list of lines)."""
    out = []
    ufids = {}
    for step in steps:
        out.append("> " + step.line)
        for _ in range(step.repeat):
            try:
                ok, text = switch.do(step)
            except (subprocess.TimeoutExpired, socket.timeout):
                ok, text = False, "(timed out)"
            except OSError as e:
                ok, text = False, "(cannot talk to the switch: %s)" % e
            if not ok:
                out.append("error:")
                out += ["  " + l for l in normalise(step, text, ufids)]
            elif step.check:
                out += normalise(step, text, ufids)
    return out


def run_side(make_switch, ports, steps, keep, base):
    rundir = tempfile.mkdtemp(prefix=base, dir="/tmp")
    switch = make_switch(rundir, ports)
    try:
        switch.start()
        return play(switch, steps), rundir
    finally:
        switch.stop()
        if not keep:
            shutil.rmtree(rundir, ignore_errors=True)


def load_known_gaps():
    gaps = {}
    if not os.path.exists(KNOWN_GAPS):
        return gaps
    with open(KNOWN_GAPS, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            name, _, reason = line.partition(" ")
            gaps[name] = reason.strip() or "(no reason given)"
    return gaps


def scenario_names(pattern):
    names = sorted(f[:-4] for f in os.listdir(SCENARIOS) if f.endswith(".scn"))
    if pattern:
        names = [n for n in names if pattern in n or fnmatch.fnmatch(n, pattern)]
    return names


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rvs", default=os.path.join(ROOT, "target", "debug", "rvs"),
                    help="the rvs binary (default target/debug/rvs)")
    ap.add_argument("--only", metavar="PATTERN", help="scenarios whose name contains PATTERN "
                    "or matches it as a glob")
    ap.add_argument("--keep", action="store_true", help="leave the run directories in /tmp")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every transcript")
    ap.add_argument("--ovs-only", action="store_true",
                    help="play on Open vSwitch only and print its transcripts (to write scenarios)")
    ap.add_argument("--record", action="store_true",
                    help="also write OVS's transcripts to conformance/expected/NAME.out")
    ap.add_argument("--offline", action="store_true",
                    help="compare rvs with the recorded transcripts in conformance/expected "
                    "instead of a live OVS")
    opts = ap.parse_args()

    names = scenario_names(opts.only)
    if not names:
        print("no scenario matches")
        return 2
    gaps = load_known_gaps()
    for gap in sorted(set(gaps) - set(scenario_names(None))):
        print("warning: known-gaps.txt names %s, which is not a scenario" % gap)
    rvs_binary = os.path.abspath(opts.rvs)
    passed, failed, gapped, errors = [], [], [], []
    now_passing = []
    for name in names:
        path = os.path.join(SCENARIOS, name + ".scn")
        try:
            ports, steps = parse_scenario(path)
            ports = ports or DEFAULT_PORTS
            if opts.offline:
                with open(os.path.join(EXPECTED, name + ".out"), encoding="utf-8") as f:
                    ovs_out = f.read().rstrip("\n").split("\n")
            else:
                ovs_out, _ = run_side(OvsSwitch, ports, steps, opts.keep, "rvsconf-ovs-")
            if opts.record:
                os.makedirs(EXPECTED, exist_ok=True)
                with open(os.path.join(EXPECTED, name + ".out"), "w", encoding="utf-8") as f:
                    f.write("\n".join(ovs_out) + "\n")
            if opts.ovs_only:
                print("=== %s (ovs)" % name)
                print("\n".join(ovs_out))
                continue
            rvs_out, _ = run_side(lambda d, p: RvsSwitch(d, p, rvs_binary), ports, steps,
                                  opts.keep, "rvsconf-rvs-")
        except (ScenarioError, OSError, subprocess.SubprocessError) as e:
            errors.append(name)
            print("ERROR %s: %s" % (name, e))
            if name in gaps:
                gapped.append(name)
            else:
                failed.append(name)
            continue
        if opts.verbose:
            print("=== %s" % name)
            print("\n".join(rvs_out))
        if ovs_out == rvs_out:
            passed.append(name)
            if name in gaps:
                now_passing.append(name)
            print("PASS %s" % name)
            continue
        diff = "\n".join(difflib.unified_diff(ovs_out, rvs_out, "ovs/" + name, "rvs/" + name,
                                              lineterm=""))
        if name in gaps:
            gapped.append(name)
            print("GAP  %s (known: %s)" % (name, gaps[name]))
            if opts.verbose:
                print(diff)
        else:
            failed.append(name)
            print("FAIL %s" % name)
            print(diff)
    if opts.ovs_only:
        return 1 if failed else 0
    for name in now_passing:
        print("note: known gap %s now passes: remove it from conformance/known-gaps.txt" % name)
    print("%d passed, %d failed, %d known gaps" % (len(passed), len(failed), len(gapped)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
