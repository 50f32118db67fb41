#!/usr/bin/env python3
"""Observe a running switch (OVS's ovs-vswitchd or rvs) through its unixctl socket and /proc.

Adapted from the shared OVS harness (shared/ovs-baseline/ovsmon.py): the JSON-RPC client, the
dpctl/show and upcall/show parsers and the per-thread CPU from /proc/PID/task/*/schedstat are
that file's; what is new is `Switch`, which hides the differences between the two daemons
(pidfile and socket names, how a flow-mod is sent, how datapath counters add up).

Every loop here is bounded by an explicit deadline.
"""
import json
import os
import re
import socket
import subprocess
import time

DP = "netdev@ovs-netdev"


class Unixctl:
    """Minimal JSON-RPC client for a unixctl socket (one persistent connection)."""

    def __init__(self, path, timeout=120):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.dec = json.JSONDecoder()
        self.buf = ""
        self.id = 0

    def call(self, method, *params):
        self.id += 1
        self.sock.sendall(json.dumps({"method": method, "params": list(params),
                                      "id": self.id}).encode())
        for _ in range(1_000_000):
            s = self.buf.lstrip()
            if s:
                try:
                    obj, end = self.dec.raw_decode(s)
                    self.buf = s[end:]
                    if obj.get("id") != self.id:
                        continue
                    if obj.get("error"):
                        raise RuntimeError(f"{method}: {obj['error']}")
                    return obj.get("result")
                except ValueError:
                    pass
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise RuntimeError("unixctl connection closed")
            self.buf += chunk.decode()
        raise RuntimeError(f"{method}: reply too long")


def add_switch_arguments(ap, sink_port=False):
    """The options every driver of this harness takes: which switch, its run directory, the netns
    and the generator's veth (and the sink's, for drivers that count forwarded packets)."""
    ap.add_argument("--switch", choices=("ovs", "rvs"), required=True)
    ap.add_argument("--rundir", required=True)
    ap.add_argument("--ns", default="rvscmp")
    ap.add_argument("--gen-port", default="gen0")
    if sink_port:
        ap.add_argument("--sink-port", default="sink0")


class Switch:
    """kind = 'ovs' (ovs-vswitchd, pidfile ovs-vswitchd.pid) or 'rvs' (rvs.pid)."""

    def __init__(self, kind, rundir, rvs_bin=None):
        self.kind = kind
        self.rundir = rundir
        self.rvs_bin = rvs_bin
        name = "ovs-vswitchd" if kind == "ovs" else "rvs"
        self.pid = int(open(f"{rundir}/{name}.pid").read().strip())
        self.ctl = Unixctl(f"{rundir}/{name}.{self.pid}.ctl")

    def appctl(self, *args):
        return self.ctl.call(*args)

    def add_flow(self, flow):
        """An OpenFlow flow-mod on br0: ovs-ofctl for OVS, the ofctl/add-flow command for rvs."""
        if self.kind == "ovs":
            env = dict(os.environ, OVS_RUNDIR=self.rundir)
            subprocess.run(["ovs-ofctl", "add-flow", "br0", flow], check=True, env=env, timeout=60)
        else:
            self.appctl("ofctl/add-flow", "br0", flow)

    def dp_stats(self):
        """dict hit, missed, lost, flows, read (packets the datapath looked up), upcalls (misses
        that reached the upcall handler).  OVS's dpif-netdev counts a failed upcall both as
        missed and lost; rvs counts hit + missed + lost = packets looked up (a miss whose upcall
        queue was full is lost, not missed)."""
        out = self.appctl("dpctl/show", DP)
        m = re.search(r"hit:(\d+) missed:(\d+) lost:(\d+)", out)
        f = re.search(r"flows: (\d+)", out)
        hit, missed, lost = (int(x) for x in m.groups())
        d = {"hit": hit, "missed": missed, "lost": lost, "flows": int(f.group(1))}
        if self.kind == "ovs":
            d["read"] = hit + missed
            d["upcalls"] = missed - lost
        else:
            d["read"] = hit + missed + lost
            d["upcalls"] = missed
        return d

    def flows(self):
        return self.dp_stats()["flows"]

    def upcall_show(self):
        out = self.appctl("upcall/show")
        m = re.search(r"\(current (\d+)\) \(avg (\d+)\) \(max (\d+)\) \(limit (\d+)\)", out)
        d = re.search(r"dump duration : (\d+)ms", out)
        keys = [int(k) for k in re.findall(r"\(keys (\d+)\)", out)]
        if not m or not d:
            raise RuntimeError(f"unexpected upcall/show reply: {out!r}")
        return {"flows": int(m.group(1)), "limit": int(m.group(4)), "dump_ms": int(d.group(1)),
                "keys": sum(keys), "keys_per_reval": keys}

    def coverage(self, name):
        """A coverage counter's total, or None if the switch has no such counter."""
        try:
            return int(self.appctl("coverage/read-counter", name).strip())
        except (RuntimeError, ValueError):
            return None

    def rss_kb(self):
        return rss_kb(self.pid)

    def thread_ticks(self):
        return thread_ticks(self.pid)


def thread_ticks(pid):
    """{tid: (comm, on-CPU nanoseconds)} for every thread of pid (schedstat)."""
    res = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                comm = f.read().strip()
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                ns = int(f.read().split()[0])
        except OSError:
            continue
        res[tid] = (comm, ns)
    return res


def thread_cpu_delta(before, after):
    """{'comm(tid)': cpu seconds} for threads that used >= 1 ms between the snapshots."""
    out = {}
    for tid, (comm, t) in after.items():
        d = t - before.get(tid, (comm, 0))[1]
        if d >= 1_000_000:
            out[f"{comm}({tid})"] = round(d / 1e9, 4)
    return out


def cpu_sum(delta, prefixes=None, exclude=()):
    """Sum of a thread_cpu_delta, over threads whose name starts with one of prefixes (all when
    None) and with none of exclude."""
    tot = 0.0
    for k, v in delta.items():
        name = k.rsplit("(", 1)[0]
        if prefixes is not None and not name.startswith(tuple(prefixes)):
            continue
        if exclude and name.startswith(tuple(exclude)):
            continue
        tot += v
    return round(tot, 4)


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def ns_link(ns, dev):
    """(rx_packets, tx_packets, rx_dropped) of a device in netns ns."""
    out = subprocess.run(["ip", "-n", ns, "-j", "-s", "link", "show", dev],
                         capture_output=True, text=True, check=True, timeout=30).stdout
    st = json.loads(out)[0]["stats64"]
    return st["rx"]["packets"], st["tx"]["packets"], st["rx"]["dropped"]


def machine_busy():
    """(busy jiffies, total jiffies) of the whole machine, from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    return sum(v) - idle, sum(v)


def wait_until(pred, deadline_s, interval=0.1):
    end = time.time() + deadline_s
    while time.time() < end:
        if pred():
            return True
        time.sleep(interval)
    return False
