#!/usr/bin/env python3
"""Revalidation round time and memory per flow of a freshly started switch (OVS or rvs).

Adapted from shared/ovs-baseline/c_revalidation.py (same method, both switches):
1. RSS at 0 flows.
2. Install N datapath flows: tcpreplay (paced, looping) over a pcap of N distinct 5-tuples until
   `dpctl/show` reports N flows (bounded by --install-deadline).
3. Steady state: --steady rounds (`revalidator/wait` each), reading upcall/show's dump duration
   and the revalidator threads' CPU.
4. Full revalidation, --full times: after a steady round, add an unrelated OpenFlow rule (the
   tables version changes, so every ukey is re-translated), wait for that round, read its dump
   duration, revalidator CPU, the `xlate_actions` coverage delta (when the switch has that
   counter; it should be N) and the flow count (must stay N).
5. RSS at N flows (before and after the full rounds) -> bytes per flow.
The dynamic flow limit is pinned at 1M after every round (see pin_limit) on both switches; the
coverage deltas of the limit's changes are recorded.
Appends one JSON object to --out and prints it.
"""
import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import swmon as m  # noqa: E402


def reval_cpu(tt0, tt1):
    return m.cpu_sum(m.thread_cpu_delta(tt0, tt1), prefixes=("revalidator",))


FLOW_LIMIT = 1000000  # replaced by --flow-limit (run.sh: 2 x N for the 1M point)


def pin_limit(sw):
    """Put the dynamic flow limit back to FLOW_LIMIT. Both switches (rvs copies OVS) shrink it
    after a round longer than 1.3 s, and then expire every flow idle for 100 ms: on a loaded
    2-core machine that empties a 200k..1M table in a few rounds, and the rounds measured
    would no longer be over N flows. Called after each round has ended (and adjusted the
    limit), so the next round starts with the limit pinned; the same for both switches."""
    sw.appctl("upcall/set-flow-limit", str(FLOW_LIMIT))


def wait_round(sw):
    """revalidator/wait replies when the round counter moves, just before the leader stores the
    round's duration and adjusts the flow limit; give it a moment so upcall/show shows this
    round, then pin the limit."""
    sw.appctl("revalidator/wait")
    time.sleep(0.05)
    pin_limit(sw)


def settled_coverage(sw, name):
    """Coverage counters reach the totals at most once per second (as in OVS)."""
    time.sleep(1.1)
    wait_round(sw)
    wait_round(sw)
    return sw.coverage(name)


def install(args, sw):
    cmd = ["ip", "netns", "exec", args.ns, "tcpreplay", f"--pps={args.pps}",
           "--preload-pcap", f"--loop={args.max_loops}", "-i", args.gen_port, args.pcap]
    t0 = time.time()
    gen = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    end = t0 + args.install_deadline
    while time.time() < end:
        if sw.flows() >= args.n or gen.poll() is not None:
            break
        pin_limit(sw)
        time.sleep(0.05)
    if gen.poll() is None:
        gen.send_signal(signal.SIGINT)
    try:
        gen.wait(timeout=10)
    except subprocess.TimeoutExpired:
        gen.kill()
        gen.wait()
    time.sleep(0.2)
    return sw.flows(), round(time.time() - t0, 2)


def main():
    global FLOW_LIMIT
    ap = argparse.ArgumentParser()
    m.add_switch_arguments(ap)
    ap.add_argument("--n", type=int, required=True)
    ap.add_argument("--pcap", required=True)
    ap.add_argument("--pps", type=int, default=60000)
    ap.add_argument("--max-loops", type=int, default=30)
    ap.add_argument("--install-deadline", type=float, default=60)
    ap.add_argument("--steady", type=int, default=5)
    ap.add_argument("--full", type=int, default=3)
    ap.add_argument("--config", default="", help="other_config of the daemon (recorded)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--flow-limit", type=int, default=FLOW_LIMIT,
                    help="value the dynamic limit is pinned at (the daemon's ceiling must allow it)")
    args = ap.parse_args()
    FLOW_LIMIT = args.flow_limit

    sw = m.Switch(args.switch, args.rundir)
    n_reval = len(sw.upcall_show()["keys_per_reval"])
    wait_round(sw)
    rss0 = sw.rss_kb()
    cov_names = ("upcall_flow_limit_hit", "upcall_flow_limit_kill", "upcall_flow_limit_reduced",
                 "upcall_flow_limit_scaled", "upcall_flow_limit_grew")
    cov_start = {c: sw.coverage(c) for c in cov_names}

    tt_install = sw.thread_ticks()
    flows, install_s = install(args, sw)
    # What the datapath saw (a stalled install: few lookups = packets not read; many misses =
    # read but not installed) and which threads burnt CPU meanwhile.
    after_install = {"upcall_show": sw.upcall_show(), "dp_stats": sw.dp_stats(),
                     "cpu_s": m.thread_cpu_delta(tt_install, sw.thread_ticks()),
                     "rss_kb": sw.rss_kb()}
    wait_round(sw)
    wait_round(sw)
    rss_n = sw.rss_kb()

    steady = []
    tt = sw.thread_ticks()
    for _ in range(args.steady):
        wait_round(sw)
        tt1 = sw.thread_ticks()
        u = sw.upcall_show()
        steady.append({"dump_ms": u["dump_ms"], "reval_cpu_s": reval_cpu(tt, tt1),
                       "keys": u["keys"]})
        tt = tt1

    full = []
    for j in range(args.full):
        wait_round(sw)
        cov0 = settled_coverage(sw, "xlate_actions")
        # rvs: ukeys kept after the flow-mod without re-translation (revalidation-scope=affected).
        un0 = sw.coverage("revalidate_unaffected") if args.switch == "rvs" else None
        prev = sw.upcall_show()["dump_ms"]
        tt0 = sw.thread_ticks()
        t0 = time.time()
        sw.add_flow(f"priority=1,udp,tp_dst={9 + j},actions=drop")
        sw.appctl("revalidator/wait")
        wall = time.time() - t0
        time.sleep(0.05)
        pin_limit(sw)
        tt1 = sw.thread_ticks()
        u = sw.upcall_show()
        fl = sw.flows()
        cov1 = settled_coverage(sw, "xlate_actions")
        un1 = sw.coverage("revalidate_unaffected") if args.switch == "rvs" else None
        full.append({"dump_ms": u["dump_ms"], "prev_steady_dump_ms": prev,
                     "wall_ms": round(wall * 1000), "reval_cpu_s": reval_cpu(tt0, tt1),
                     "xlate_actions": (cov1 - cov0) if cov0 is not None and cov1 is not None
                     else None,
                     "unaffected": (un1 - un0) if un0 is not None and un1 is not None
                     else None,
                     "flows_after": fl})
    rss_full = sw.rss_kb()
    final_flows = sw.flows()
    time.sleep(1.1)  # coverage totals lag up to 1 s
    cov_end = {c: sw.coverage(c) for c in cov_names}
    limit_changes = {c: (cov_end[c] - cov_start[c]) if cov_end[c] is not None
                     and cov_start[c] is not None else None for c in cov_names}

    med = statistics.median
    res = {
        "scenario": "revalidation", "switch": args.switch, "n": args.n, "config": args.config,
        "flow_limit": args.flow_limit,
        "n_revalidators": n_reval, "flows_installed": flows, "install_s": install_s,
        "after_install": after_install, "flow_limit_coverage": limit_changes,
        "final_flows": final_flows,
        "steady_dump_ms_median": med([s["dump_ms"] for s in steady]) if steady else None,
        "steady_dump_ms": [s["dump_ms"] for s in steady],
        "steady_reval_cpu_s": [s["reval_cpu_s"] for s in steady],
        "full_dump_ms_median": med([f["dump_ms"] for f in full]) if full else None,
        "full_dump_ms": [f["dump_ms"] for f in full],
        "full_reval_cpu_s": [f["reval_cpu_s"] for f in full],
        "full_wall_ms": [f["wall_ms"] for f in full],
        "full_xlate_actions": [f["xlate_actions"] for f in full],
        "full_unaffected": [f["unaffected"] for f in full],
        "full_prev_steady_dump_ms": [f["prev_steady_dump_ms"] for f in full],
        "full_flows_after": [f["flows_after"] for f in full],
        "rss_kb_0": rss0, "rss_kb_n": rss_n, "rss_kb_after_full": rss_full,
        "bytes_per_flow": round((rss_n - rss0) * 1024 / max(1, flows)),
        "bytes_per_flow_after_full": round((rss_full - rss0) * 1024 / max(1, flows)),
        "threads": sorted({c for c, _ in sw.thread_ticks().values()}),
        "load1": os.getloadavg()[0],
    }
    line = json.dumps(res)
    print(line, flush=True)
    with open(args.out, "a") as f:
        f.write(line + "\n")


if __name__ == "__main__":
    main()
