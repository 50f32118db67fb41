#!/usr/bin/env python3
"""Forwarding rate through a running switch daemon (OVS or rvs), megaflows built by its own upcalls.

bench/fwd measures rvs's datapath alone (the megaflows OVS built are installed into it directly);
this driver measures the whole daemon instead, on the compare harness's topology
(`gen0 =veth= ovsp1 [br0 1] -> [br0 2] ovsp2 =veth= sink0`), the same way for both switches:

1. the bridge was started (run.sh, lib.sh) with the point's OpenFlow rules (the shared harness's
   `gen.py fwd-rules`); flows are purged;
2. prewarm: one paced pass of the point's pcap (`gen.py fwd-pcap`), so that every traffic class
   has its megaflow, installed by the switch's own upcall path;
3. per repetition: tcpreplay --topspeed --loop=0 for WARM + DUR s; after WARM s a DUR s window:
   forwarded pps = sink0's rx counter, offered pps = gen0's tx counter, CPU of every switch
   thread, datapath hits / misses, flows and masks right after the window (tse.py's window).

Appends one JSON object per repetition to --out. Every loop is bounded; tcpreplay has --duration
and is stopped by its own PID.
"""
import argparse
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import swmon as m  # noqa: E402
from tse import Proc, window  # noqa: E402  (the same window, counters and mask count)


def tcpreplay(args, rate, loops, duration):
    return Proc(["ip", "netns", "exec", args.ns, "tcpreplay", *rate, "--preload-pcap",
                 f"--loop={loops}", f"--duration={int(duration) + 1}", "-i", args.gen_port,
                 args.pcap])


def main():
    ap = argparse.ArgumentParser()
    m.add_switch_arguments(ap, sink_port=True)
    ap.add_argument("--point", required=True, help="plain | acl:N (N traffic classes / masks)")
    ap.add_argument("--pcap", required=True, help="the point's pcap (gen.py fwd-pcap)")
    ap.add_argument("--expect-flows", type=int, required=True, help="megaflows after prewarm")
    ap.add_argument("--prewarm-pps", type=int, default=50000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--warm", type=float, default=1.0)
    ap.add_argument("--dur", type=float, default=5.0)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    sw = m.Switch(args.switch, args.rundir)
    sw.appctl("revalidator/purge")
    g = tcpreplay(args, [f"--pps={args.prewarm_pps}"], 1, 30)
    try:
        g.p.wait(timeout=40)
    except subprocess.TimeoutExpired:
        pass
    prewarm = g.stop()
    deadline = time.time() + 10
    flows = sw.dp_stats()["flows"]
    while flows < args.expect_flows and time.time() < deadline:
        time.sleep(0.1)
        flows = sw.dp_stats()["flows"]
    for rep in range(args.reps):
        res = {"scenario": "fwd_daemon", "switch": sw.kind, "point": args.point, "rep": rep,
               "flows_after_prewarm": flows, "expect_flows": args.expect_flows,
               "prewarm": prewarm.strip().splitlines()[-3:], "load1": os.getloadavg()[0]}
        g = tcpreplay(args, ["--topspeed"], 0, args.warm + args.dur + 2)
        time.sleep(args.warm)
        w = window(args, sw, args.dur)  # also the flows and masks right after it
        g.stop()
        # CPU seconds per second / packets per second.
        w["cpu_ns_per_fwd_packet"] = (round(1e7 * w["switch_cpu_pct"] / w["fwd_pps"])
                                      if w["fwd_pps"] > 0 else None)
        res.update(w)
        line = json.dumps(res)
        print(line, flush=True)
        with open(args.out, "a") as f:
            f.write(line + "\n")
        time.sleep(0.5)


if __name__ == "__main__":
    main()
