#!/usr/bin/env python3
"""Forwarding rate of rvs's userspace datapath next to Open vSwitch 3.1, same topology, same run.

Started by run.sh (which installs what is missing, builds the bench binary and bounds the whole
run with `timeout`). Reuses the shared OVS harness by path ($OVS_FWD_HARNESS, normally
shared/ovs-baseline/fwd): its gen.py makes the rules and pcaps, its lib.sh builds the topology and
starts a private ovsdb-server + ovs-vswitchd, its fwd.py measures OVS (one repetition per call),
and its fwdlib.py runs tcpreplay and reads counters. Nothing of it is copied here.

One network namespace ($NS) holds two identical veth topologies, each driven by tcpreplay
(--topspeed --preload-pcap --loop, 60 B UDP frames in 198.18.0.0/15):

    OVS: gen0  =veth= ovsp1 [br0 port 1] -> [br0 port 2] ovsp2 =veth= sink0
    rvs: rgen0 =veth= rvsp1 [dp port 1]  -> [dp port 2]  rvsp2 =veth= rsink0

OVS forwards with the OpenFlow rules of the harness (its upcalls install the megaflows during a
paced prewarm pass). rvs has no upcall engine yet, so the bench binary installs the same
megaflows directly, built here from gen.py's traffic classes; the run checks that the two sets of
flows print the same keys and masks (ports aside). Points: `plain` (one in_port megaflow),
`acl:N` (N megaflows with N distinct masks, traffic spread evenly over them).

For every repetition and point, OVS and rvs are measured one after the other (the order flips
every repetition); each window is DUR seconds after WARM seconds of warm-up. Forwarded pps is the
sink veth's receive counter. Every loop is bounded in count and time; processes are stopped by the
PIDs this script started; the namespace and the daemons are removed by run.sh's cleanup.
"""
import argparse
import datetime
import json
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import time

HARNESS = os.environ.get("OVS_FWD_HARNESS", "")
if not HARNESS or not os.path.isfile(os.path.join(HARNESS, "fwd.py")):
    raise SystemExit(f"OVS_FWD_HARNESS={HARNESS!r} does not hold the shared fwd harness (fwd.py)")
os.environ.setdefault("NS", "rvsfwd")
os.environ.setdefault("OVSB", "/tmp/rvsfwd")
sys.path.insert(0, HARNESS)
import fwd  # noqa: E402  (the harness's scenario-1 driver: run_point)
import fwdlib as f  # noqa: E402
import gen  # noqa: E402
from fwdlib import m  # noqa: E402  (ovsmon)

NS = f.NS
RVS_DEVS = ("rgen0", "rvsp1", "rvsp2", "rsink0")


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def sh(argv, timeout=60):
    return subprocess.run(argv, check=True, capture_output=True, text=True, timeout=timeout).stdout


# ------------------------------------------------------------------ topology
def setup(harness):
    """The harness's topology (netns, gen0/ovsp1/ovsp2/sink0, br0) plus rvs's veths beside it."""
    sh(["bash", "-c", f"source {harness}/lib.sh && setup_topo max-idle=600000"], timeout=120)
    nsx = ["ip", "netns", "exec", NS]
    sh(nsx + ["ip", "link", "add", "rgen0", "type", "veth", "peer", "name", "rvsp1"])
    sh(nsx + ["ip", "link", "add", "rvsp2", "type", "veth", "peer", "name", "rsink0"])
    for dev in RVS_DEVS:
        sh(nsx + ["ip", "link", "set", dev, "up"])


def link_counters(devs):
    """{dev: (rx_packets, tx_packets)} in the netns (as fwdlib.link_counters, other devices)."""
    paths = " ".join(f"/sys/class/net/{d}/statistics/rx_packets "
                     f"/sys/class/net/{d}/statistics/tx_packets" for d in devs)
    out = sh(["ip", "netns", "exec", NS, "sh", "-c", f"cat {paths}"], timeout=10).split()
    v = [int(x) for x in out]
    return {d: (v[2 * i], v[2 * i + 1]) for i, d in enumerate(devs)}


def cpu_busy_s():
    """Seconds of busy CPU time over all CPUs of the machine (/proc/stat)."""
    with open("/proc/stat") as fh:
        fields = [int(x) for x in fh.readline().split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / m.HZ


# ------------------------------------------------------------------ flows
def flows_for(point):
    """The megaflows OVS installs for `point`, as `dpctl/add-flow` lines (in_port 1 -> output 2)."""
    head = "recirc_id(0),in_port(1),packet_type(ns=0,id=0),eth_type(0x0800)"
    if point == "plain":
        return [f"{head},ipv4(frag=no) 2"]
    n = int(point.split(":")[1])
    lines = []
    for k, j in gen.fwd_classes(n):
        # A forwarded packet of class (k, j) first differs from the drop rule's tp_dst at bit k and
        # from its nw_src at bit j (0 = most significant): OVS matches those prefixes, one bit past.
        src_mask = (0xFFFFFFFF << (31 - j)) & 0xFFFFFFFF
        src = (gen.FWD_DROP_NW_SRC ^ (1 << (31 - j))) & src_mask
        dst_mask = (0xFFFF << (15 - k)) & 0xFFFF
        dst = (gen.FWD_DROP_TP_DST ^ (1 << (15 - k))) & dst_mask
        lines.append(f"{head},ipv4(src={gen.ip4(src)}/{gen.ip4(src_mask)},proto=17,frag=no),"
                     f"udp(dst={dst}/{dst_mask:#x}) 2")
    return lines


# A window counts as quiet when the rest of the machine used less CPU than this (% of one core).
QUIET_PCT = 25

MASKED = re.compile(r"=([^,()/]+)/([^,()]+)")


def key_shapes(dump_lines):
    """The keys of dump lines with ports and masked values blanked: what must match across switches."""
    shapes = []
    for line in dump_lines:
        if "actions:" not in line:
            continue
        key = line.split(", packets:")[0]
        key = re.sub(r"in_port\(\d+\)", "in_port(*)", key)
        shapes.append(MASKED.sub(r"=*/\2", key))
    return sorted(shapes)


# ------------------------------------------------------------------ rvs
class Rvs:
    """The bench binary in the netns, talked to over its stdin/stdout; stopped by its own PID."""

    def __init__(self, binary, flows_file, threads, max_seconds):
        argv = ["ip", "netns", "exec", NS, binary, "--port", "rvsp1=1", "--port", "rvsp2=2",
                "--flows", flows_file, "--threads", str(threads), "--max-seconds", str(max_seconds)]
        # `ip netns exec` execs the binary: this PID is the binary's.
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.flows = []
        deadline = time.time() + 30
        while time.time() < deadline:
            line = self.p.stdout.readline()
            if not line:
                raise RuntimeError(f"fwd_bench exited early ({self.p.wait(timeout=10)})")
            if line.startswith("flow "):
                self.flows.append(line[5:].rstrip("\n"))
            elif line.startswith("ready"):
                self.ready = json.loads(line[6:])
                return
        raise RuntimeError("fwd_bench not ready in 30 s")

    def ask(self, command):
        self.p.stdin.write(command + "\n")
        self.p.stdin.flush()

    def stats(self):
        self.ask("stats")
        line = self.p.stdout.readline()
        if not line.startswith("stats "):
            raise RuntimeError(f"unexpected answer to stats: {line!r}")
        return json.loads(line[6:])

    def lines_until_end(self, command, limit=100000):
        self.ask(command)
        out = []
        for _ in range(limit):
            line = self.p.stdout.readline()
            if not line or line.rstrip("\n") == "end":
                break
            out.append(line.rstrip("\n"))
        return out

    def stop(self):
        try:
            self.ask("quit")
            self.p.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            if self.p.poll() is None:
                os.kill(self.p.pid, signal.SIGKILL)
                self.p.wait(timeout=10)


def rvs_snapshot(rvs):
    return {"t": time.time(), "links": link_counters(RVS_DEVS),
            "threads": m.thread_ticks(rvs.p.pid), "dp": rvs.stats(), "busy": cpu_busy_s()}


def rvs_window(s0, s1):
    dt = s1["t"] - s0["t"]
    l0, l1 = s0["links"], s1["links"]
    d0, d1 = s0["dp"], s1["dp"]

    def dp(key):
        return d1[key] - d0[key]
    rx = dp("hit") + dp("missed") + dp("lost")
    mf = dp("hit") - dp("cache_hit")
    cpu = m.thread_cpu_delta(s0["threads"], s1["threads"])
    fwd_cpu = sum(v for k, v in cpu.items() if k.startswith("rvs-fwd"))
    p0, p1 = d0["ports"]["rvsp2"], d1["ports"]["rvsp2"]
    return {
        "dt_s": round(dt, 3),
        "offered_pps": round((l1["rgen0"][1] - l0["rgen0"][1]) / dt),
        "rvs_rx_pps": round(rx / dt),
        "fwd_pps": round((l1["rsink0"][0] - l0["rsink0"][0]) / dt),
        "rvs_tx_pps": round((l1["rvsp2"][1] - l0["rvsp2"][1]) / dt),
        "kernel_drop_pct": round(100.0 * (1 - rx / max(1, l1["rvsp1"][0] - l0["rvsp1"][0])), 1),
        "emc_hit_pct": round(100.0 * dp("cache_hit") / max(1, rx), 1),
        "megaflow_hit_pct": round(100.0 * mf / max(1, rx), 1),
        "subtable_lookups_per_mf_hit": round(dp("mask_hit") / mf, 2) if mf > 0 else None,
        "misses": dp("missed") + dp("lost"),
        "tx_not_sent": (p1["tx_dropped"] + p1["tx_errors"]) - (p0["tx_dropped"] + p0["tx_errors"]),
        "dp_hit_pps": round(dp("hit") / dt),
        "fwd_threads_cpu_pct": round(100.0 * fwd_cpu / dt, 1),
        "rvs_cpu_pct": round(100.0 * sum(cpu.values()) / dt, 1),
        "rvs_threads_cpu_pct": {k: round(100.0 * v / dt, 1) for k, v in cpu.items()},
    }


def run_rvs(args, point, pcap):
    flows_file = f"{f.OVSB}/pcap/rvs-{point.replace(':', '')}.flows"
    with open(flows_file, "w") as fh:
        fh.write("\n".join(flows_for(point)) + "\n")
    rvs = Rvs(args.binary, flows_file, args.threads, max_seconds=int(args.warm + args.dur + 60))
    try:
        g = f.tcpreplay(pcap, iface="rgen0", duration=args.warm + args.dur + 2)
        time.sleep(args.warm)
        s0 = rvs_snapshot(rvs)
        c0 = f.proc_cpu_s(g.p.pid)
        time.sleep(args.dur)
        s1 = rvs_snapshot(rvs)
        c1 = f.proc_cpu_s(g.p.pid)
        out = g.stop()
        r = rvs_window(s0, s1)
        gen_cpu = (c1 - c0) if c0 is not None and c1 is not None else None
        r.update({"gen_cpu_pct": round(100 * gen_cpu / r["dt_s"], 1) if gen_cpu is not None else None,
                  "gen": f.tcpreplay_summary(out), "masks": s1["dp"]["masks"],
                  "flows": s1["dp"]["flows"]})
        busy = 100.0 * (s1["busy"] - s0["busy"]) / r["dt_s"]
        r["other_cpu_pct"] = round(busy - r["rvs_cpu_pct"] - (r["gen_cpu_pct"] or 0), 1)
        show = rvs.lines_until_end("show")
        dump = rvs.lines_until_end("flows")
        return r, rvs.flows, show, dump
    finally:
        rvs.stop()


# ------------------------------------------------------------------ OVS
_BUSY = []
_harness_snapshot = f.snapshot


def _snapshot_with_busy(pid):
    """fwdlib.snapshot, also noting the machine's busy CPU time (fwd.py calls it at window edges)."""
    s = _harness_snapshot(pid)
    _BUSY.append(cpu_busy_s())
    return s


f.snapshot = _snapshot_with_busy


def run_ovs(args, pid, point):
    """One repetition of the harness's fwd.run_point, plus the machine's other CPU use."""
    a = argparse.Namespace(reps=1, warm=args.warm, dur=args.dur, warm_pps=50000,
                           pcap_dir=f"{f.OVSB}/pcap")
    _BUSY.clear()
    info, runs = fwd.run_point(a, pid, point)
    r = runs[0]
    if len(_BUSY) == 2:
        busy = 100.0 * (_BUSY[1] - _BUSY[0]) / r["dt_s"]
        r["other_cpu_pct"] = round(busy - r["ovs_cpu_pct"] - (r["gen_cpu_pct"] or 0), 1)
    dump = m.appctl("dpctl/dump-flows", f.DP).splitlines()
    return info, r, dump


# ------------------------------------------------------------------ report
def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def ratio_of(a, b):
    return a / b if a is not None and b else None


def fmt(x, digits=0):
    if x is None:
        return "–"
    return f"{x:,.{digits}f}"


def report(args, results, checks, header):
    lines = [f"# rvs vs Open vSwitch 3.1: forwarding between two veth ports ({header['date']})", ""]
    lines += [
        "Produced by `bench/fwd/run.sh` (driver `bench/fwd/compare.py`); raw JSON lines in "
        f"`{os.path.basename(args.raw)}`.", "",
        "## Setup", "",
        f"* Command: `{header['command']}`",
        f"* Knobs: POINTS={','.join(args.points)} REPS={args.reps} WARM={args.warm}s DUR={args.dur}s "
        f"THREADS={args.threads} (rvs forwarding threads)",
        f"* Machine: {header['machine']}",
        f"* OVS: {header['ovs']}; generator: {header['tcpreplay']}",
        "* Topology: one netns, two identical veth chains driven by tcpreplay `--topspeed "
        "--preload-pcap --loop` with the harness's pcaps (65536 distinct 60 B UDP frames in "
        "198.18.0.0/15): `gen0 → ovsp1 [OVS br0, netdev datapath, AF_PACKET ports] → ovsp2 → sink0` "
        "and `rgen0 → rvsp1 [rvs userspace datapath, AF_PACKET TPACKET_V3 ports] → rvsp2 → rsink0`. "
        "Forwarded pps = the sink veth's rx counter over the window.",
        "* OVS runs its OpenFlow rules (harness `fwd.py` point, with its paced prewarm); rvs has no "
        "upcall engine yet, so the same megaflows are installed directly into its datapath "
        "(its datapath has no handler: a miss would be counted lost; `misses` below must be 0).",
        "* OVS and rvs are measured one after the other for each point and repetition (order "
        "flipped every repetition); the 2 cores are shared with whatever else runs on the machine "
        "(`other CPU` = busy CPU of the machine not used by the switch or tcpreplay).",
        "",
        "## Same megaflows", "",
    ]
    for point, c in checks.items():
        lines.append(f"* `{point}`: OVS {c['ovs_flows']} flows / {c['ovs_masks']} dpcls subtables; "
                     f"rvs {c['rvs_flows']} flows / {c['rvs_masks']} masks; keys and masks "
                     f"identical (ports aside): **{'yes' if c['same'] else 'NO'}**")
        if not c["same"]:
            lines.append(f"  * OVS: `{c['ovs_shapes'][:3]}` rvs: `{c['rvs_shapes'][:3]}`")
    lines += ["", "## Medians", "",
              "| point | masks | OVS fwd pps | rvs fwd pps | **rvs / OVS** | OVS lookups/mf hit | "
              "rvs lookups/mf hit | OVS EMC hit | rvs EMC hit | OVS main-thread CPU | rvs fwd-thread CPU | "
              "OVS kernel drop | rvs kernel drop | offered pps (OVS / rvs) | CPU ns / fwd packet "
              "(OVS / rvs) | **OVS / rvs CPU per packet** |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for point in args.points:
        o = [r for r in results if r["impl"] == "ovs" and r["point"] == point]
        v = [r for r in results if r["impl"] == "rvs" and r["point"] == point]
        of, vf = med([r["fwd_pps"] for r in o]), med([r["fwd_pps"] for r in v])
        ratio = vf / of if of and vf is not None else None
        lines.append(
            f"| `{point}` | {v[0]['masks'] if v else '–'} | {fmt(of)} | {fmt(vf)} | "
            f"**{fmt(ratio, 2)}×** | {fmt(med([r['subtable_lookups_per_mf_hit'] for r in o]), 2)} | "
            f"{fmt(med([r['subtable_lookups_per_mf_hit'] for r in v]), 2)} | "
            f"{fmt(med([r['emc_hit_pct'] for r in o]), 1)} % | {fmt(med([r['emc_hit_pct'] for r in v]), 1)} % | "
            f"{fmt(med([r['main_cpu_pct'] for r in o]), 1)} % | "
            f"{fmt(med([r['fwd_threads_cpu_pct'] for r in v]), 1)} % | "
            f"{fmt(med([r['kernel_drop_pct'] for r in o]), 1)} % | "
            f"{fmt(med([r['kernel_drop_pct'] for r in v]), 1)} % | "
            f"{fmt(med([r['offered_pps'] for r in o]))} / {fmt(med([r['offered_pps'] for r in v]))} | "
            f"{fmt(med([r['cpu_ns_per_fwd_pkt'] for r in o]))} / "
            f"{fmt(med([r['cpu_ns_per_fwd_pkt'] for r in v]))} | "
            f"**{fmt(ratio_of(med([r['cpu_ns_per_fwd_pkt'] for r in o]), med([r['cpu_ns_per_fwd_pkt'] for r in v])), 2)}×** |")
    lines += ["", "Columns: *switch CPU* is OVS's main thread (it does all packet work for these "
              "non-PMD ports) and rvs's forwarding thread(s); *CPU ns / fwd packet* counts every "
              "thread of the switch process; *kernel drop* = frames the input veth delivered that "
              "the switch never read (socket buffer or ring full); *lookups/mf hit* = subtables "
              "searched per classifier hit."]
    for point in args.points:
        v = [r for r in results if r["impl"] == "rvs" and r["point"] == point]
        drop = med([r["kernel_drop_pct"] for r in v])
        cpu = med([r["fwd_threads_cpu_pct"] for r in v])
        if drop is not None and drop < 5 and cpu is not None and cpu < 95:
            lines.append(f"* `{point}`: rvs read nearly every frame offered (kernel drop {drop} %) "
                         f"with its forwarding thread {cpu} % busy: it was not the bottleneck (the "
                         "generator or the rest of the machine was), so its rate and the ratio are "
                         "lower bounds.")
    lines += ["", f"### Windows where the rest of the machine used less than {QUIET_PCT} % CPU", "",
              "| point | OVS windows | OVS fwd pps | rvs windows | rvs fwd pps | rvs / OVS | "
              "CPU ns / fwd packet (OVS / rvs) |", "|---|---|---|---|---|---|---|"]
    for point in args.points:
        quiet = [r for r in results if r["point"] == point and r.get("other_cpu_pct") is not None
                 and r["other_cpu_pct"] < QUIET_PCT]
        o = [r for r in quiet if r["impl"] == "ovs"]
        v = [r for r in quiet if r["impl"] == "rvs"]
        of, vf = med([r["fwd_pps"] for r in o]), med([r["fwd_pps"] for r in v])
        ratio = vf / of if of and vf is not None else None
        lines.append(f"| `{point}` | {len(o)} | {fmt(of)} | {len(v)} | {fmt(vf)} | {fmt(ratio, 2)}× | "
                     f"{fmt(med([r['cpu_ns_per_fwd_pkt'] for r in o]))} / "
                     f"{fmt(med([r['cpu_ns_per_fwd_pkt'] for r in v]))} |")
    lines += ["", "## Every window (raw)", "",
              "| point | rep | switch | fwd pps | offered pps | switch rx pps | kernel drop | EMC hit | "
              "lookups/mf hit | misses | switch CPU | CPU ns / fwd packet | generator CPU | other CPU |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        rx = r.get("ovs_rx_pps", r.get("rvs_rx_pps"))
        misses = r.get("misses", (r.get("upcalls", 0) or 0) + (r.get("failed_upcalls", 0) or 0))
        cpu = r.get("main_cpu_pct", r.get("fwd_threads_cpu_pct"))
        other = r.get("other_cpu_pct")
        lines.append(f"| `{r['point']}` | {r['rep']} | {r['impl']} | {fmt(r['fwd_pps'])} | "
                     f"{fmt(r['offered_pps'])} | {fmt(rx)} | {r['kernel_drop_pct']} % | "
                     f"{r['emc_hit_pct']} % | {r['subtable_lookups_per_mf_hit']} | {misses} | "
                     f"{cpu} % | {r['cpu_ns_per_fwd_pkt']} | {r.get('gen_cpu_pct')} % | {other} % |")
    lines += [""]
    with open(args.out, "w") as fh:
        fh.write("\n".join(lines))


def report_from_raw(args):
    """Rebuilds the report from a raw file written by a measuring run."""
    results, checks, header, dumps = [], {}, {}, {}
    with open(args.raw) as fh:
        for line in fh:
            tag, _, body = line.partition(" ")
            if tag == "RUN":
                results.append(json.loads(body))
            elif tag == "CHECKS":
                checks = json.loads(body)
            elif tag == "HEADER":
                header = json.loads(body)
            elif tag == "ARGS":
                for k, v in json.loads(body).items():
                    setattr(args, k, v)
            elif tag in ("OVSFLOWS", "RVSFLOWS"):
                d = json.loads(body)
                side = "ovs" if tag == "OVSFLOWS" else "rvs"
                c = dumps.setdefault(d["point"], {})
                c[f"{side}_shapes"] = key_shapes(d["dump"])
                c[f"{side}_flows"] = sum("actions:" in x for x in d["dump"])
    if not checks:
        # A raw file from before CHECKS lines were written: the same checks from the dumps.
        checks = dumps
        for point, c in checks.items():
            for side in ("ovs", "rvs"):
                c[f"{side}_masks"] = next((r["masks"] for r in results
                                           if r["point"] == point and r["impl"] == side), None)
            c["same"] = c.get("ovs_shapes") == c.get("rvs_shapes")
    report(args, results, checks, header)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--points", default="plain,acl:1,acl:20")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--warm", type=float, default=1.0)
    ap.add_argument("--dur", type=float, default=5.0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--binary", help="the fwd_bench example (required unless --report-only)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--raw", required=True)
    ap.add_argument("--command", default="bench/fwd/run.sh")
    ap.add_argument("--report-only", action="store_true",
                    help="rewrite --out from the JSON lines in --raw, measuring nothing")
    args = ap.parse_args()
    args.points = args.points.split(",")
    if args.report_only:
        report_from_raw(args)
        return
    if not args.binary:
        raise SystemExit("--binary is required")
    if args.reps < 1 or args.reps > 20 or args.dur <= 0 or args.dur > 60:
        raise SystemExit("REPS must be 1..20 and DUR 0..60 s")

    pdir = f"{f.OVSB}/pcap"
    os.makedirs(pdir, exist_ok=True)
    gen_py = os.path.join(HARNESS, "gen.py")
    sh(["python3", gen_py, "fwd-rules", "PLAIN", f"{pdir}/fwd-plain.rules"])
    sh(["python3", gen_py, "fwd-rules", "ACL", f"{pdir}/fwd-acl.rules"])
    for pt in args.points:
        n = 1 if pt == "plain" else int(pt.split(":")[1])
        if not os.path.exists(f"{pdir}/fwd{n}.pcap"):
            sh(["python3", gen_py, "fwd-pcap", str(n), f"{pdir}/fwd{n}.pcap", "--pkts", "65536"],
               timeout=300)

    log(f"topology in netns {NS}")
    setup(HARNESS)
    pid = f.connect()
    header = {
        "date": datetime.date.today().isoformat(),
        "command": args.command,
        "machine": f"Linux {platform.release()}, {os.cpu_count()} CPUs, "
                   f"load average at start {open('/proc/loadavg').read().split()[:3]}",
        "ovs": sh(["ovs-vswitchd", "--version"]).splitlines()[0],
        "tcpreplay": subprocess.run(["tcpreplay", "--version"], capture_output=True, text=True,
                                    timeout=10).stderr.splitlines()[0].strip(),
    }
    results, checks = [], {}
    raw = open(args.raw, "w")
    raw.write("HEADER " + json.dumps(header, sort_keys=True) + "\n")
    for rep in range(args.reps):
        for point in args.points:
            n = 1 if point == "plain" else int(point.split(":")[1])
            pcap = f"{pdir}/fwd{n}.pcap"
            order = ("ovs", "rvs") if rep % 2 == 0 else ("rvs", "ovs")
            for impl in order:
                log(f"rep {rep} {point} {impl}")
                if impl == "ovs":
                    info, r, dump = run_ovs(args, pid, point)
                    checks.setdefault(point, {}).update(
                        ovs_flows=info["dump_flows"], ovs_masks=info["dpcls_subtables"],
                        ovs_shapes=key_shapes(dump))
                    raw.write("OVSFLOWS " + json.dumps({"point": point, "rep": rep, "dump": dump}) + "\n")
                else:
                    r, installed, show, dump = run_rvs(args, point, pcap)
                    checks.setdefault(point, {}).update(
                        rvs_flows=r["flows"], rvs_masks=r["masks"],
                        rvs_shapes=key_shapes(installed))
                    raw.write("RVSFLOWS " + json.dumps({"point": point, "rep": rep, "show": show,
                                                        "dump": dump}) + "\n")
                r.update({"impl": impl, "point": point, "rep": rep})
                cpu = r["ovs_cpu_pct"] if impl == "ovs" else r["rvs_cpu_pct"]
                r["cpu_ns_per_fwd_pkt"] = (round(1e7 * cpu / r["fwd_pps"]) if r["fwd_pps"] > 0
                                           else None)
                raw.write("RUN " + json.dumps(r, sort_keys=True) + "\n")
                raw.flush()
                results.append(r)
                log(f"  fwd {r['fwd_pps']:,} pps (offered {r['offered_pps']:,})")
                time.sleep(0.5)
    for c in checks.values():
        c["same"] = c.get("ovs_shapes") == c.get("rvs_shapes")
    raw.write("CHECKS " + json.dumps(checks, sort_keys=True) + "\n")
    raw.write("ARGS " + json.dumps({"points": args.points, "reps": args.reps, "warm": args.warm,
                                    "dur": args.dur, "threads": args.threads}) + "\n")
    raw.close()
    report(args, results, checks, header)
    log(f"wrote {args.out}")


if __name__ == "__main__":
    main()
