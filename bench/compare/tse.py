#!/usr/bin/env python3
"""Tuple-space explosion (CVE-2019-25076) on a running switch (OVS or rvs): legitimate
throughput with and without a low-rate attacker that creates one megaflow mask per frame.

Method, traffic, rules and attacker are those of the shared OVS harness
(shared/ovs-baseline/fwd: gen.py tse-rules / tse-legit / tse-attack, attack.py, tse.py), used by
path; this driver measures both switches the same way, with counters both have:
  A  legit alone (paced tcpreplay), DUR s window after WARM s       -> base pps
  B  legit keeps running, attacker starts; after the fill time (n_attack / rate + FILL_EXTRA)
     a DUR s window                                                   -> pps, masks
  C  legit stops, flows purged, the attacker (still running) re-creates its masks during the
     fill time, then legit restarts (its megaflow now comes after every attack mask); window
     after WARM s                                                     -> pps, masks
Forwarded legit pps = sink0's rx counter (attack frames are all dropped by the ACL).
Retained % = window pps / A's pps. Masks = distinct masks among the `dpctl/dump-flows` keys
(the harness's signature: the set of (field, mask) pairs), counted after the window.
Appends one JSON object per repetition to --out.
"""
import argparse
import json
import os
import re
import signal
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import swmon as m  # noqa: E402

MASK_RE = re.compile(r"([a-z_0-9]+)=([^,()]+)")


class Proc:
    """A generator process we started (stopped by its own PID with SIGINT, then SIGKILL)."""

    def __init__(self, argv):
        self.p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGINT)
        try:
            return self.p.communicate(timeout=10)[0]
        except subprocess.TimeoutExpired:
            self.p.kill()
            return self.p.communicate()[0]


def masks(sw):
    out = sw.appctl("dpctl/dump-flows", m.DP)
    sigs, flows = set(), 0
    for line in out.splitlines():
        if "actions:" not in line:
            continue
        flows += 1
        key = line.split(", packets:")[0]
        sig = ["in_port=exact" if re.search(r"in_port\(\d+\)", key) else "in_port=*"]
        for k, v in MASK_RE.findall(key):
            sig.append(f"{k}/{v.split('/', 1)[1]}" if "/" in v else f"{k}=exact")
        sigs.add(tuple(sorted(sig)))
    return {"flows": flows, "masks": len(sigs)}


def window(args, sw, dur):
    rx0 = m.ns_link(args.ns, args.sink_port)[0]
    tx0 = m.ns_link(args.ns, args.gen_port)[1]
    d0 = sw.dp_stats()
    tt0 = sw.thread_ticks()
    b0 = m.machine_busy()
    t0 = time.time()
    time.sleep(dur)
    rx1 = m.ns_link(args.ns, args.sink_port)[0]
    tx1 = m.ns_link(args.ns, args.gen_port)[1]
    d1 = sw.dp_stats()
    dt = time.time() - t0
    tt1 = sw.thread_ticks()
    b1 = m.machine_busy()
    per_thread = m.thread_cpu_delta(tt0, tt1)
    cpu = m.cpu_sum(per_thread)
    res = {"fwd_pps": round((rx1 - rx0) / dt), "dt_s": round(dt, 3),
           "offered_pps": round((tx1 - tx0) / dt),
           "switch_read_pps": round((d1["read"] - d0["read"]) / dt),
           "dp_hit": d1["hit"] - d0["hit"], "dp_missed": d1["missed"] - d0["missed"],
           "dp_lost": d1["lost"] - d0["lost"],
           "switch_cpu_pct": round(100 * cpu / dt, 1),
           "thread_cpu_pct": {k: round(100 * v / dt, 1) for k, v in per_thread.items()},
           "machine_busy_pct": round(100 * (b1[0] - b0[0]) / max(1, b1[1] - b0[1]) * os.cpu_count(), 1)}
    res.update(masks(sw))
    return res


def legit(args, duration):
    rate = [f"--pps={args.legit_pps}"] if args.legit_pps else ["--topspeed"]
    return Proc(["ip", "netns", "exec", args.ns, "tcpreplay", *rate, "--preload-pcap", "--loop=0",
                 f"--duration={int(duration) + 1}", "-i", args.gen_port, args.legit])


def purge(sw):
    sw.appctl("revalidator/purge")


def one_rep(args, sw, rep, n_attack):
    fill = n_attack / args.attack_pps + args.fill_extra
    res = {"scenario": "tse", "switch": sw.kind, "rep": rep, "attack_pps": args.attack_pps,
           "legit_pps": args.legit_pps or "topspeed", "n_attack_frames": n_attack,
           "load1": os.getloadavg()[0]}
    purge(sw)
    time.sleep(0.5)
    total = args.warm + args.dur + fill + args.dur + 5
    g = legit(args, total)
    time.sleep(args.warm)
    res["A"] = window(args, sw, args.dur)
    a = Proc(["ip", "netns", "exec", args.ns, "python3", args.attacker, "--iface", args.gen_port,
              "--pcap", args.attack, "--pps", str(args.attack_pps),
              "--duration", str(int(fill + args.dur + fill + args.warm + args.dur + 20))])
    time.sleep(fill)
    res["B"] = window(args, sw, args.dur)
    g.stop()
    time.sleep(0.2)
    purge(sw)
    time.sleep(fill)
    res["C_before_legit"] = masks(sw)
    g = legit(args, args.warm + args.dur + 5)
    time.sleep(args.warm)
    res["C"] = window(args, sw, args.dur)
    g.stop()
    out = a.stop().strip().splitlines()
    res["attacker"] = out[-1:] if out else []
    for ph in ("B", "C"):
        res[ph]["retained_pct"] = round(100.0 * res[ph]["fwd_pps"] / max(1, res["A"]["fwd_pps"]), 1)
    return res


def main():
    ap = argparse.ArgumentParser()
    m.add_switch_arguments(ap, sink_port=True)
    ap.add_argument("--legit", required=True, help="legit pcap (gen.py tse-legit)")
    ap.add_argument("--attack", required=True, help="attack pcap (gen.py tse-attack)")
    ap.add_argument("--attacker", required=True, help="the harness's attack.py")
    ap.add_argument("--attack-pps", type=float, default=1000)
    ap.add_argument("--legit-pps", type=int, default=150000, help="0 = --topspeed")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--warm", type=float, default=1.0)
    ap.add_argument("--dur", type=float, default=5.0)
    ap.add_argument("--fill-extra", type=float, default=2.0)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    with open(args.attack, "rb") as fh:
        data = fh.read()
    n_attack, off = 0, 24
    while off + 16 <= len(data) and n_attack < 10_000_000:
        off += 16 + struct.unpack("<IIII", data[off:off + 16])[2]
        n_attack += 1
    sw = m.Switch(args.switch, args.rundir)
    for rep in range(args.reps):
        r = one_rep(args, sw, rep, n_attack)
        line = json.dumps(r)
        print(line, flush=True)
        with open(args.out, "a") as f:
            f.write(line + "\n")


if __name__ == "__main__":
    main()
