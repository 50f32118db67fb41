#!/usr/bin/env python3
"""Churn driver for OVS 3.1 *and* rvs: flows maintained in the datapath under a
constant load of short-lived flows.

Ported from the shared OVS harness (shared/ovs-baseline/churn/churn.py, same
traffic, same sampling, same window summary); what changed here:
  * --switch ovs|rvs picks the daemon: OVS's ovs-vswitchd.pid/.ctl under
    $OVSB/run, or rvs's rvs.pid/rvs.ctl under $OVSB/rvs-run; both speak the
    same unixctl JSON-RPC (ovsmon.Unixctl);
  * rvs has no dpif-netdev/pmd-stats-show (skipped); its per-thread CPU groups
    are main, handler*, revalidator*, rvs-fwd* (forwarding), other;
  * extra summary fields: CPU of the whole switch process per installed flow,
    the flows kept over the whole run (fresh-start comparisons), and at the
    end of every run the check "sum of the OpenFlow rules' n_packets ==
    packets the datapath received (hit+missed+lost)" after the traffic stops
    and two revalidation rounds have pushed the last statistics.
Runs INSIDE the harness netns (run.sh starts it with `ip netns exec $NS`),
so /sys/class/net shows the harness veths and tcpreplay is started directly
(its own PID; stopped with SIGINT to that PID only).

One run (--rate R):
  * tcpreplay --pps=R*PPF --timer=nano --pps-multi=16 --preload-pcap --loop
    --duration=DUR over a pcap of N flows x PPF packets (gen_churn.py): R new
    5-tuples per second, each sending PPF packets GAP/R s apart, never again
    for N/R s (> max-idle);
  * every INTERVAL s (from the first transmitted frame): upcall/show (flows
    current/avg/max, dynamic limit, dump duration, keys), dpctl/show (hit,
    missed, lost, flows), veth counters, per-thread CPU (schedstat) of
    ovs-vswitchd and tcpreplay's CPU; raw upcall/show text every RAW_EVERY s;
  * coverage/show and pmd-stats-show at start and end.
Prints one line 'RUN {json}' (summary + time series).

--check: sends ~1000 flows at 10 kpps, dumps the datapath flows and checks
that every megaflow is exact on nw_src, nw_dst, tp_src, tp_dst and that there
is one datapath flow per distinct 5-tuple.  Prints 'CHECK {json}'.

Every wait is bounded by a deadline.
"""
import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BASE = os.environ.get("OVS_BASELINE_DIR", os.path.join(HERE, "../../../shared/ovs-baseline"))
sys.path.insert(0, BASE)
import ovsmon as m  # noqa: E402

OVSB = os.environ.get("OVSB", "/tmp/rvschurn")
SWITCH = "ovs"   # set from --switch in main()


def open_switch():
    """(pid, Unixctl) of the daemon under test."""
    if SWITCH == "rvs":
        rundir = f"{OVSB}/rvs-run"
        pid = int(open(f"{rundir}/rvs.pid").read().split()[0])
        return pid, m.Unixctl(f"{rundir}/rvs.ctl")
    return m.vswitchd_ctl(f"{OVSB}/run")


def rule_packets():
    """Sum of n_packets over br0's OpenFlow rules, and the per-rule list."""
    if SWITCH == "rvs":
        out = m.appctl("ofctl/dump-flows", "br0")
    else:
        out = subprocess.run(["ovs-ofctl", "dump-flows", "br0"], capture_output=True,
                             text=True, timeout=60, check=True).stdout
    per = [int(x) for x in re.findall(r"n_packets=(\d+)", out)]
    return sum(per), per
DEVS = ("gen0", "ovsp1", "ovsp2", "sink0")
COV_RE = re.compile(r"^(\S+)\s+.*total: (\d+)\s*$", re.M)
COV_KEEP = re.compile(r"^(upcall_|ukey_|revalidate_|dumped_|handler_|datapath_drop|datapath_flow_|dpif_flow_|xlate_actions$|flow_extract)")


def link_counters():
    res = {}
    for d in DEVS:
        v = []
        for k in ("rx_packets", "tx_packets"):
            with open(f"/sys/class/net/{d}/statistics/{k}") as f:
                v.append(int(f.read()))
        res[d] = tuple(v)
    return res


def sys_cpu():
    """(busy, softirq, total) jiffies summed over all CPUs (/proc/stat)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    return sum(v[:8]) - idle, v[6], sum(v[:8])


def coverage():
    out = m.appctl("coverage/show")
    return {k: int(v) for k, v in COV_RE.findall(out) if COV_KEEP.match(k)}


def pmd_main():
    if SWITCH == "rvs":   # rvs has no dpif-netdev/pmd-stats-show
        return {}
    return m.pmd_stats().get("main thread", {})


def cpu_groups(pid, ticks):
    """{'main': ns, 'revalidator': ns, 'handler': ns, 'fwd': ns, 'other': ns}"""
    g = {"main": 0, "revalidator": 0, "handler": 0, "fwd": 0, "other": 0}
    for tid, (comm, ns) in ticks.items():
        if int(tid) == pid:
            g["main"] += ns
        elif comm.startswith("revalidator"):
            g["revalidator"] += ns
        elif comm.startswith("handler"):
            g["handler"] += ns
        elif comm.startswith(("rvs-fwd", "pmd")):
            g["fwd"] += ns
        else:
            g["other"] += ns
    return g


def proc_cpu_ns(pid):
    try:
        return m.proc_ticks(pid) * 1e9 / m.HZ
    except OSError:
        return None


def tcpreplay_argv(args, pcap, pps, extra=()):
    return ["tcpreplay", f"--pps={pps}", "--timer=nano", f"--pps-multi={args.pps_multi}",
            "--no-flow-stats", "--preload-pcap", *extra, "-i", "gen0", pcap]


def stop(proc, timeout=15):
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    try:
        return proc.communicate(timeout=timeout)[0]
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.communicate()[0]


def parse_gen(out):
    res = {"lines": [ln.strip() for ln in out.splitlines()
                     if ln.strip().startswith(("Actual", "Rated", "Statistics", "Attempted",
                                               "Successful", "Failed", "Truncated", "Retried"))]}
    a = re.search(r"Actual: (\d+) packets \((\d+) bytes\) sent in ([\d.]+) seconds", out)
    r = re.search(r"Rated: [\d.]+ Bps, [\d.]+ Mbps, ([\d.]+) pps", out)
    f = re.search(r"Failed packets:\s+(\d+)", out)
    if a:
        res.update(pkts=int(a.group(1)), secs=float(a.group(3)))
    if r:
        res["pps"] = float(r.group(1))
    if f:
        res["failed"] = int(f.group(1))
    return res


def med(v):
    return statistics.median(v) if v else None


def check(args):
    pid, ctl = open_switch()
    m.set_ctl(ctl)
    gen = subprocess.Popen(tcpreplay_argv(args, args.pcap, 10000, [f"--limit={args.check_pkts}"]),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        gout = gen.communicate(timeout=60)[0]
    except subprocess.TimeoutExpired:
        gout = stop(gen)
    time.sleep(1.0)
    dump = m.appctl("dpctl/dump-flows", m.DP)
    flows, bad, tuples = 0, [], set()
    for line in dump.splitlines():
        if "actions:" not in line:
            continue
        flows += 1
        ip = re.search(r"ipv4\(src=([^,]+),dst=([^,]+),", line)
        udp = re.search(r"udp\(src=([^,]+),dst=([^)]+)\)", line)
        if not ip or not udp or any("/" in x for x in ip.groups() + udp.groups()):
            bad.append(line)
            continue
        tuples.add(ip.groups() + udp.groups())
    hit, missed, lost, n = m.dp_stats()
    res = {"gen": parse_gen(gout), "dp_flows": n, "dumped_flows": flows,
           "distinct_5tuples": len(tuples), "non_exact": len(bad), "non_exact_examples": bad[:3],
           "missed": missed, "lost": lost, "hit": hit,
           "example": next((ln for ln in dump.splitlines() if "actions:" in ln), None),
           "ok": flows > 0 and not bad and flows == len(tuples) == missed and lost == 0}
    print("CHECK " + json.dumps(res), flush=True)
    return 0 if res["ok"] else 1


def run(args):
    pid, ctl = open_switch()
    m.set_ctl(ctl)
    pps = args.rate * args.ppf
    cov0, pmd0 = coverage(), pmd_main()
    lc0 = link_counters()
    gen = subprocess.Popen(tcpreplay_argv(args, args.pcap, pps,
                                          [f"--loop={args.loops}", f"--duration={args.dur}"]),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    # Wait (bounded) for the first transmitted frame: preloading takes a few s.
    end = time.time() + args.preload_deadline
    t0 = None
    while time.time() < end and gen.poll() is None:
        if link_counters()["gen0"][1] > lc0["gen0"][1]:
            t0 = time.time()
            break
        time.sleep(0.01)
    if t0 is None:
        out = stop(gen)
        print("RUN " + json.dumps({"error": "generator did not start", "gen": out[-2000:]}), flush=True)
        return 1
    gen_cpu0 = proc_cpu_ns(gen.pid)
    samples, raw = [], []
    cov_w0 = None   # coverage at the first sample of the summary window
    prev = None
    k = 0
    hard_end = t0 + args.dur + 10
    while True:
        tick = t0 + k * args.interval
        now = time.time()
        if tick > now:
            time.sleep(tick - now)
        t = time.time()
        u = m.upcall_show()
        hit, missed, lost, flows = m.dp_stats()
        lc = link_counters()
        thr = cpu_groups(pid, m.thread_ticks(pid))
        gcpu = proc_cpu_ns(gen.pid)
        sc = sys_cpu()
        s = {"t": round(t - t0, 3), "flows": flows, "uc_flows": u["flows"], "uc_avg": u["avg"],
             "uc_max": u["max"], "limit": u["limit"], "dump_ms": u["dump_ms"], "keys": u["keys"],
             "hit": hit, "missed": missed, "lost": lost,
             "gen_tx": lc["gen0"][1], "ovs_in": lc["ovsp1"][0], "sink_rx": lc["sink0"][0],
             "cpu_ns": thr, "gen_cpu_ns": gcpu, "_sys": sc}
        if prev is not None:
            dt = s["t"] - prev["t"]
            s["main_pct"] = round(100 * (thr["main"] - prev["cpu_ns"]["main"]) / 1e9 / dt, 1)
            s["reval_pct"] = round(100 * (thr["revalidator"] - prev["cpu_ns"]["revalidator"]) / 1e9 / dt, 1)
            s["handler_pct"] = round(100 * (thr["handler"] - prev["cpu_ns"]["handler"]) / 1e9 / dt, 1)
            s["fwd_pct"] = round(100 * (thr["fwd"] - prev["cpu_ns"]["fwd"]) / 1e9 / dt, 1)
            s["switch_pct"] = round(100 * (sum(thr.values()) - sum(prev["cpu_ns"].values())) / 1e9 / dt, 1)
            dtot = sc[2] - prev["_sys"][2]
            if dtot > 0:   # percent of ONE cpu (0..100*ncpus), like the per-thread figures
                ncpu = os.cpu_count() or 1
                s["sys_busy_pct"] = round(100 * ncpu * (sc[0] - prev["_sys"][0]) / dtot, 1)
                s["sys_softirq_pct"] = round(100 * ncpu * (sc[1] - prev["_sys"][1]) / dtot, 1)
            if gcpu is not None and prev["gen_cpu_ns"] is not None:
                s["gen_pct"] = round(100 * (gcpu - prev["gen_cpu_ns"]) / 1e9 / dt, 1)
        if k % max(1, int(round(args.raw_every / args.interval))) == 0:
            raw.append({"t": s["t"], "upcall_show": m.appctl("upcall/show")})
        if cov_w0 is None and s["t"] >= args.dur - args.last - 1e-6:
            cov_w0 = coverage()
            s["cov_window_start"] = True
        samples.append(s)
        prev = s
        k += 1
        if gen.poll() is not None and s["t"] >= args.dur:
            break
        if time.time() > hard_end:
            break
    cov_w1 = coverage()
    gen_out = stop(gen)
    # Let the revalidator push the last stats; then final counters.
    cov1, pmd1 = coverage(), pmd_main()
    res = summarize(args, samples, parse_gen(gen_out), gen_cpu0)
    res["coverage_window_delta"] = {k: v - (cov_w0 or {}).get(k, 0) for k, v in cov_w1.items()
                                    if v - (cov_w0 or {}).get(k, 0)}
    res["datapath_flow_add_counted"] = "datapath_flow_add" in (cov_w1 or {})
    installs_estimate(res)
    res["switch"] = SWITCH
    res["stats_check"] = stats_check(lc0)
    res["coverage_delta"] = {k: v - cov0.get(k, 0) for k, v in cov1.items() if v - cov0.get(k, 0)}
    res["pmd_main_delta"] = {k: round(v - pmd0.get(k, 0), 2) for k, v in pmd1.items()
                             if not k.startswith("avg")}
    res["upcall_show_raw"] = raw
    res["series"] = [{k: v for k, v in s.items() if k not in ("cpu_ns", "gen_cpu_ns", "_sys")} for s in samples]
    print("RUN " + json.dumps(res), flush=True)
    return 0


def installs_estimate(res):
    """Flows installed per second in the window.  OVS (dpif-netdev): every successful upcall
    ("missed") installs a flow.  rvs: coverage `datapath_flow_add` counts every flow the datapath
    created, exactly.  (An older rvs, without that counter, is estimated as before:
    missed minus the upcalls that could not install -- coverage upcall_flow_limit_hit,
    handler_duplicate_upcall, upcall_ukey_contention -- a lower bound, because the revalidator
    also counts upcall_flow_limit_hit once per dumped batch while over the limit.)"""
    cov = res["coverage_window_delta"]
    not_installed = sum(cov.get(k, 0) for k in ("upcall_flow_limit_hit", "handler_duplicate_upcall",
                                                 "upcall_ukey_contention"))
    res["w_limit_hit_per_s"] = round(cov.get("upcall_flow_limit_hit", 0) / res["w_s"])
    if SWITCH == "rvs" and res.get("datapath_flow_add_counted"):
        res["w_installed_per_s_exact"] = True
        res["w_installed_per_s"] = round(cov.get("datapath_flow_add", 0) / res["w_s"])
        res["w_installed_per_s_upper"] = res["w_installed_per_s"]
        res["w_removed_per_s"] = round(cov.get("datapath_flow_del", 0) / res["w_s"])
        res["w_installed_frac"] = round(res["w_installed_per_s"] / max(1, res["w_offered_flows_per_s"]), 3)
    elif SWITCH == "rvs":
        res["w_installed_per_s_exact"] = False
        res["w_installed_per_s"] = max(0, round(res["w_missed_per_s"] - not_installed / res["w_s"]))
        # upper bound: every flow-limit hit counted by the revalidator, none by a handler
        res["w_installed_per_s_upper"] = max(0, round(
            res["w_missed_per_s"] - (not_installed - cov.get("upcall_flow_limit_hit", 0)) / res["w_s"]))
    else:
        res["w_installed_per_s_exact"] = True
    res["w_cpu_us_per_install"] = round(res["w_cpu_ns_window"] / 1e3
                                        / max(1, res["w_installed_per_s"] * res["w_s"]), 2)


def stats_check(lc0):
    """After the traffic: wait until the switch's rx counters stop moving,
    run two revalidation rounds (they credit the datapath flows' last
    packets to the rules), then compare the sum of the rules' n_packets with
    the packets the datapath received since the daemon started."""
    time.sleep(1.0)
    for _ in range(2):
        try:
            m.appctl("revalidator/wait")
        except RuntimeError as e:
            return {"error": str(e)}
    hit, missed, lost, flows = m.dp_stats()
    try:
        total, per = rule_packets()
    except (RuntimeError, subprocess.SubprocessError) as e:
        return {"error": str(e)}
    lc = link_counters()
    rx = hit + missed + lost
    return {"rules_n_packets_sum": total, "rules_n_packets": per, "dp_rx": rx,
            "dp_hit": hit, "dp_missed": missed, "dp_lost": lost, "dp_flows_end": flows,
            "sink_rx": lc["sink0"][0] - lc0["sink0"][0],
            "ovs_port_rx": lc["ovsp1"][0] - lc0["ovsp1"][0],
            # packets forwarded = frames that reached sink0 (the daemon is fresh per run)
            "ok": total == lc["sink0"][0] - lc0["sink0"][0],
            "sum_eq_dp_rx": total == rx}


def summarize(args, samples, gen, gen_cpu0):
    s_end = samples[-1]
    # Window = the last args.last seconds of traffic: t in [dur-last, dur].
    w = [s for s in samples if args.dur - args.last - 1e-6 <= s["t"] <= args.dur + 1e-6]
    a, b = w[0], w[-1]
    dt = b["t"] - a["t"]

    def d(key, x=a, y=b):
        return y[key] - x[key]
    first, last = samples[0], s_end
    off_pps = d("gen_tx") / dt
    # dpif-netdev: dpctl/show "missed" = upcalls that installed a flow (pmd
    # "miss with success upcall"), "lost" = failed upcalls (flow limit hit,
    # ukey install failure; the packet is still forwarded).
    ovs_rx = d("hit") + d("missed") + d("lost")
    ok_upcalls = d("missed")
    res = {
        "label": args.label, "rate": args.rate, "ppf": args.ppf, "gap": args.gap,
        "nflows_pcap": args.nflows, "dur": args.dur, "last": args.last, "interval": args.interval,
        "limit_init": args.limit_init,
        "gen": gen,
        "gen_flows_per_s": round(gen["pps"] / args.ppf) if gen.get("pps") else None,
        # window (last `last` seconds)
        "w_s": round(dt, 2),
        "w_offered_pps": round(off_pps),
        "w_offered_flows_per_s": round(off_pps / args.ppf),
        "w_gen_pps_min_0.5s": round(min((y["gen_tx"] - x["gen_tx"]) / (y["t"] - x["t"])
                                        for x, y in zip(w, w[1:]))),
        "w_kernel_drop_pct": round(100.0 * (1 - ovs_rx / max(1, d("ovs_in"))), 2),
        "w_flows_median": med([s["flows"] for s in w]),
        "w_flows_min": min(s["flows"] for s in w), "w_flows_max": max(s["flows"] for s in w),
        "w_uc_flows_median": med([s["uc_flows"] for s in w]),
        "w_limit_median": med([s["limit"] for s in w]),
        "w_limit_min": min(s["limit"] for s in w), "w_limit_max": max(s["limit"] for s in w),
        "w_dump_ms_median": med([s["dump_ms"] for s in w]),
        "w_dump_ms_max": max(s["dump_ms"] for s in w),
        "w_missed_per_s": round(d("missed") / dt), "w_lost_per_s": round(d("lost") / dt),
        "w_hit_per_s": round(d("hit") / dt),
        "w_installed_per_s": round(ok_upcalls / dt),
        "w_installed_frac": round(ok_upcalls / max(1, d("gen_tx") / args.ppf), 3),
        "w_hit_frac_of_rx": round(d("hit") / max(1, ovs_rx), 3),
        "w_fwd_frac": round(d("sink_rx") / max(1, d("gen_tx")), 3),
        "w_main_cpu_pct": med([s["main_pct"] for s in w if "main_pct" in s]),
        "w_reval_cpu_pct": med([s["reval_pct"] for s in w if "reval_pct" in s]),
        "w_gen_cpu_pct": med([s["gen_pct"] for s in w if "gen_pct" in s]),
        "w_fwd_cpu_pct": med([s["fwd_pct"] for s in w if "fwd_pct" in s]),
        "w_switch_cpu_pct": med([s["switch_pct"] for s in w if "switch_pct" in s]),
        # CPU of every switch thread in the window (per installed flow: installs_estimate())
        "w_cpu_ns_window": sum(b["cpu_ns"].values()) - sum(a["cpu_ns"].values()),
        # the first `dur` s of the run (fresh-start comparison)
        "run_flows_median": med([s["flows"] for s in samples if s["t"] <= args.dur + 1e-6]),
        "run_flows_mean": round(statistics.mean([s["flows"] for s in samples
                                                 if s["t"] <= args.dur + 1e-6])),
        "w_sys_busy_pct": med([s["sys_busy_pct"] for s in w if "sys_busy_pct" in s]),
        "w_sys_softirq_pct": med([s["sys_softirq_pct"] for s in w if "sys_softirq_pct" in s]),
        # whole run
        "run_s": last["t"],
        "run_offered_flows": round(d("gen_tx", first, last) / args.ppf),
        "run_missed": d("missed", first, last), "run_lost": d("lost", first, last),
        "run_hit": d("hit", first, last),
        "run_installed_frac": round(d("missed", first, last)
                                    / max(1, d("gen_tx", first, last) / args.ppf), 3),
        "run_kernel_drop_pct": round(100.0 * (1 - (d("hit", first, last) + d("missed", first, last)
                                                   + d("lost", first, last))
                                              / max(1, d("ovs_in", first, last))), 2),
        "run_flows_max": max(s["flows"] for s in samples),
        "run_limit_max": max(s["limit"] for s in samples),
        "run_dump_ms_max": max(s["dump_ms"] for s in samples),
        "cpu_s": {k: round((last["cpu_ns"][k] - first["cpu_ns"][k]) / 1e9, 2) for k in last["cpu_ns"]},
        "gen_cpu_s": round((last["gen_cpu_ns"] - gen_cpu0) / 1e9, 2)
        if last.get("gen_cpu_ns") is not None and gen_cpu0 is not None else None,
    }
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pcap", required=True)
    ap.add_argument("--rate", type=int, default=10000, help="new flows per second")
    ap.add_argument("--ppf", type=int, default=3, help="packets per flow (must match pcap)")
    ap.add_argument("--gap", type=int, default=2000, help="pcap GAP (informational)")
    ap.add_argument("--nflows", type=int, default=1500000, help="flows in pcap (informational)")
    ap.add_argument("--dur", type=int, default=60)
    ap.add_argument("--last", type=float, default=30.0, help="summary window: last N s")
    ap.add_argument("--interval", type=float, default=0.5)
    ap.add_argument("--raw-every", type=float, default=5.0)
    ap.add_argument("--loops", type=int, default=1000)
    ap.add_argument("--pps-multi", type=int, default=16)
    ap.add_argument("--preload-deadline", type=float, default=120.0)
    ap.add_argument("--limit-init", default="preset")
    ap.add_argument("--label", default="")
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--switch", choices=("ovs", "rvs"), default="ovs")
    ap.add_argument("--check-pkts", type=int, default=3000)
    args = ap.parse_args()
    global SWITCH
    SWITCH = args.switch
    sys.exit(check(args) if args.check else run(args))


if __name__ == "__main__":
    main()
