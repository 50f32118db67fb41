#!/usr/bin/env python3
"""Flow setup rate of a running switch (OVS or rvs) fed by tcpreplay on a veth in netns NS.

Adapted from shared/ovs-baseline/b_setup_rate.py (same method, so OVS's figures stay comparable
with that harness's). For each N and repetition:
  1. purge every datapath flow and ukey (revalidator/purge), wait until both counts are 0;
  2. send ONE pass of a pcap of N distinct 5-tuples with tcpreplay (--topspeed or --pps=P);
  3. poll `dpctl/show` every --interval s over one unixctl connection (bounded by --deadline);
  4. once the sender has finished and the flow count has been stable for 0.3 s, stop.
Metrics: flows installed, active install rate (flows / time from the sample before the first
new flow to the first sample at the final count), peak rate over a 100 ms window, upcalls,
lost, kernel drop (frames sent on gen0 that the switch never looked up), CPU per thread,
"upcall-path" CPU (every thread except revalidators) and its µs per upcall.
Appends one JSON object per run to --out and prints it.
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import swmon as m  # noqa: E402


def purge(sw, deadline=60):
    sw.appctl("revalidator/purge")
    ok = m.wait_until(lambda: sw.flows() == 0 and sw.upcall_show()["keys"] == 0, deadline)
    if not ok:
        print(f"WARN purge: flows={sw.flows()} keys={sw.upcall_show()['keys']}", file=sys.stderr)


def one_run(args, sw, n, pcap):
    purge(sw)
    time.sleep(0.3)
    rss0 = sw.rss_kb()
    tt0 = sw.thread_ticks()
    d0 = sw.dp_stats()
    _, tx0, _ = m.ns_link(args.ns, args.gen_port)
    rate = ["--topspeed"] if not args.pps else [f"--pps={args.pps}"]
    cmd = ["ip", "netns", "exec", args.ns, "tcpreplay", *rate, "--preload-pcap",
           "--loop=1", "-i", args.gen_port, pcap]
    t0 = time.time()
    gen = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    samples = []  # (t, flows)
    gen_done_at = None
    end = t0 + args.deadline
    while time.time() < end:
        s = (time.time() - t0, sw.flows())
        samples.append(s)
        if gen.poll() is not None:
            gen_done_at = gen_done_at or s[0]
            if s[0] - gen_done_at > 0.3 and len(samples) > 1 and samples[-1][1] == samples[-2][1]:
                break
        time.sleep(args.interval)
    if gen.poll() is None:
        gen.send_signal(signal.SIGINT)
    try:
        gen_out = gen.communicate(timeout=10)[0]
    except subprocess.TimeoutExpired:
        gen.kill()
        gen_out = gen.communicate()[0]
    tt1 = sw.thread_ticks()
    d1 = sw.dp_stats()
    _, tx1, _ = m.ns_link(args.ns, args.gen_port)
    rss1 = sw.rss_kb()
    cpu = m.thread_cpu_delta(tt0, tt1)
    upcall_path_cpu = m.cpu_sum(cpu, exclude=("revalidator",))
    total_cpu = m.cpu_sum(cpu)

    ts = [s[0] for s in samples]
    fl = [s[1] for s in samples]
    i_first = next((i for i, f in enumerate(fl) if f > 0), None)
    i_last = next((i for i, f in enumerate(fl) if f >= fl[-1]), None)
    active_rate = None
    t_start = None
    if i_first is not None and i_last is not None and i_last > i_first:
        t_start = ts[i_first - 1] if i_first > 0 else 0.0
        active_rate = fl[i_last] / (ts[i_last] - t_start)
    peak = None
    w = max(1, int(round(args.window / args.interval)))
    if active_rate and ts[i_last] - ts[i_first] >= args.window:
        peak = 0.0
        for i in range(w, len(samples)):
            dt = ts[i] - ts[i - w]
            if dt > 0:
                peak = max(peak, (fl[i] - fl[i - w]) / dt)
    upcalls = d1["upcalls"] - d0["upcalls"]
    sent = tx1 - tx0
    read = d1["read"] - d0["read"]
    return {
        "scenario": "setup", "switch": sw.kind, "n": n,
        "sender": "topspeed" if not args.pps else f"pps={args.pps}",
        "final_flows": d1["flows"], "installed_pct": round(100.0 * d1["flows"] / n, 1),
        "active_s": round(ts[i_last] - t_start, 3) if active_rate else None,
        "active_rate_fps": round(active_rate) if active_rate else None,
        "peak_rate_fps": round(peak) if peak else None,
        "upcalls": upcalls, "lost": d1["lost"] - d0["lost"], "dp_hits": d1["hit"] - d0["hit"],
        "pkts_sent": sent, "pkts_read": read,
        "kernel_drop_pct": round(100.0 * (1 - read / max(1, sent)), 1),
        "cpu_s": cpu, "upcall_path_cpu_s": upcall_path_cpu, "total_cpu_s": total_cpu,
        "us_per_upcall": round(upcall_path_cpu * 1e6 / upcalls, 2) if upcalls else None,
        "total_us_per_upcall": round(total_cpu * 1e6 / upcalls, 2) if upcalls else None,
        "rss_kb_before": rss0, "rss_kb_after": rss1,
        "gen": [ln.strip() for ln in gen_out.splitlines()
                if ln.strip().startswith(("Actual", "Rated"))],
        "n_samples": len(samples), "load1": os.getloadavg()[0],
    }


def main():
    ap = argparse.ArgumentParser()
    m.add_switch_arguments(ap)
    ap.add_argument("--pcap-dir", required=True)
    ap.add_argument("--n", default="10000,50000,200000")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--interval", type=float, default=0.01)
    ap.add_argument("--window", type=float, default=0.1)
    ap.add_argument("--deadline", type=float, default=40.0, help="per-run bound (s)")
    ap.add_argument("--pps", type=int, default=0, help="pace the sender (0 = --topspeed)")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    sw = m.Switch(args.switch, args.rundir)
    for n in [int(x) for x in args.n.split(",")]:
        pcap = f"{args.pcap_dir}/u{n}.pcap"
        for rep in range(args.reps):
            r = one_run(args, sw, n, pcap)
            r["rep"] = rep
            if rep == 0:
                # One installed megaflow, to check that both switches build the same key/mask.
                dump = sw.appctl("dpctl/dump-flows", m.DP)
                r["sample_flow"] = next((ln for ln in dump.splitlines()
                                         if ln.startswith("recirc_id")), None)
            line = json.dumps(r)
            print(line, flush=True)
            with open(args.out, "a") as f:
                f.write(line + "\n")


if __name__ == "__main__":
    main()
