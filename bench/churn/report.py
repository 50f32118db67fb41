#!/usr/bin/env python3
"""Markdown report + SVG plot for the churn benchmark (bench/churn/run.sh).

Input: the raw JSON lines run.sh writes (one per driver run: kind RUN or CHECK, with switch,
config, rate and churn.py's window summary and 0.5 s series).  Output: tables per config with
OVS, rvs and the rvs/OVS ratio per offered rate, the issue's targets checked against the numbers,
and a hand-written SVG of the datapath flow count over time at 60k new flows/s for both switches.
Several runs of one (config, rate, switch) are summarised by their median (n shown).

usage: report.py --raw RAW.jsonl --out OUT.md --svg OUT.svg [--command CMD] [--dur 60 --last 30]

If OUT.notes.md exists (hand-written interpretation of a measurement), it is included after the
header, so re-running the report keeps it.
"""
import argparse
import json
import os
import re
import statistics
from collections import defaultdict

CONFIG_TEXT = {
    "warm": "OVS defaults (flow-limit 200000, max-idle 10000 ms); dynamic limit preset to "
            "200000 (`upcall/set-flow-limit`), the state of a long-running switch",
    "fresh": "OVS defaults on a freshly started daemon: the dynamic limit starts at 10000",
    "warm-max-idle=1000": "`max-idle=1000`, dynamic limit preset to 200000",
    "warm-flow-limit=1000000": "`flow-limit=1000000`, dynamic limit preset to 1000000",
}


# OVS 3.1 on this machine from the shared anchor (shared/ovs-baseline/churn/results-2026-11-26.md,
# medians of 2-3 runs, measured while the machine was less loaded): flows kept (window median)
# and installs/s per offered rate.  Shown beside this run's OVS numbers for reference.
ANCHOR = {
    "warm": {10000: (108282, 9998), 20000: (181099, 19997), 30000: (175985, 29387),
             60000: (182652, 47607), 100000: (178853, 55829)},
    "fresh": {10000: (78846, 10050), 20000: (76821, 19523), 30000: (83186, 26909),
              60000: (95032, 37696), 100000: (89145, 44183)},
    "warm-max-idle=1000": {30000: (37549, 29894), 60000: (61164, 49274), 100000: (53008, 46630)},
}


def load(path):
    runs, checks, errors = defaultdict(list), {}, []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            r = json.loads(line)
            if r.get("kind") == "CHECK":
                checks[r["switch"]] = r
            elif r.get("kind") == "RUN" and "error" not in r:
                runs[(r["config"], r["rate"], r["switch"])].append(r)
            else:
                errors.append(r)
    return runs, checks, errors


def med(rs, key, sub=None):
    vals = []
    for r in rs:
        v = r.get(key) if sub is None else (r.get(key) or {}).get(sub)
        if v is not None:
            vals.append(v)
    return statistics.median(vals) if vals else None


def fmt(v, nd=0):
    if v is None:
        return "–"
    if isinstance(v, float) and nd:
        return f"{v:.{nd}f}"
    return f"{round(v):,}".replace(",", " ") if abs(v) >= 1000 else (f"{v:.{nd}f}" if nd else str(round(v)))


def ratio(a, b, nd=2):
    if a is None or b is None or b == 0:
        return "–"
    return f"{a / b:.{nd}f}"


def configs_in(runs):
    order = ["warm", "warm-flow-limit=1000000", "fresh", "warm-max-idle=1000"]
    seen = sorted({c for c, _, _ in runs}, key=lambda c: (order.index(c) if c in order else 99, c))
    return seen


def table_kept(runs, cfg, rates):
    out = ["| new flows/s | n (OVS/rvs) | **kept OVS** median [min..max] | **kept rvs** median [min..max] "
           "| **rvs/OVS** (median) | rvs/OVS (min) | first-60 s mean OVS / rvs (ratio) "
           "| dynamic limit OVS / rvs | dump ms median (max) OVS | dump ms median (max) rvs "
           "| OVS anchor kept / installs/s (rvs/anchor kept) |",
           "|---|---|---|---|---|---|---|---|---|---|---|"]
    for rate in rates:
        o, r = runs.get((cfg, rate, "ovs"), []), runs.get((cfg, rate, "rvs"), [])
        ok, rk = med(o, "w_flows_median"), med(r, "w_flows_median")
        omin, rmin = med(o, "w_flows_min"), med(r, "w_flows_min")
        om, rm = med(o, "run_flows_mean"), med(r, "run_flows_mean")
        out.append(
            f"| {rate} | {len(o)}/{len(r)} | **{fmt(ok)}** [{fmt(omin)}..{fmt(med(o, 'w_flows_max'))}] "
            f"| **{fmt(rk)}** [{fmt(rmin)}..{fmt(med(r, 'w_flows_max'))}] | **{ratio(rk, ok)}** "
            f"| {ratio(rmin, omin)} | {fmt(om)} / {fmt(rm)} ({ratio(rm, om)}) "
            f"| {fmt(med(o, 'w_limit_median'))} / {fmt(med(r, 'w_limit_median'))} "
            f"| {fmt(med(o, 'w_dump_ms_median'))} ({fmt(med(o, 'w_dump_ms_max'))}) "
            f"| {fmt(med(r, 'w_dump_ms_median'))} ({fmt(med(r, 'w_dump_ms_max'))}) "
            f"| {anchor(cfg, rate, rk)} |")
    return out


def anchor(cfg, rate, rk):
    a = ANCHOR.get(cfg, {}).get(rate)
    if not a:
        return "–"
    return f"{fmt(a[0])} / {fmt(a[1])} ({ratio(rk, a[0])})"


def exact(rs):
    """True if every run's installs/s is a count, not an estimate (rvs with `datapath_flow_add`)."""
    return bool(rs) and all(x.get("w_installed_per_s_exact") for x in rs)


def frac_of_offered(rs):
    """Installed / offered flows from installs/s ("≥" when the installs are a lower bound)."""
    vals = [x["w_installed_per_s"] / x["w_offered_flows_per_s"] for x in rs
            if x.get("w_installed_per_s") is not None and x.get("w_offered_flows_per_s")]
    if not vals:
        return "–"
    return f"{'' if exact(rs) else '≥'}{statistics.median(vals):.3f}"


def installs_cell(oi, ri, riu, rs):
    """OVS / rvs installs/s and their ratio; a range for rvs when it is estimated."""
    if exact(rs):
        return f"{fmt(oi)} / {fmt(ri)} (**{ratio(ri, oi)}**)"
    return f"{fmt(oi)} / {fmt(ri)}–{fmt(riu)} (**{ratio(ri, oi)}**–{ratio(riu, oi)})"


def table_cost(runs, cfg, rates):
    out = ["| new flows/s | installs/s OVS / rvs (**ratio**) | installed/offered OVS / rvs "
           "| upcalls lost/s OVS / rvs (flow-limit hits/s) | dropped before the switch % OVS / rvs "
           "| switch CPU % OVS / rvs | CPU µs per installed flow OVS / rvs (ratio) "
           "| Σ rule n_packets = packets forwarded? OVS / rvs |",
           "|---|---|---|---|---|---|---|---|"]
    for rate in rates:
        o, r = runs.get((cfg, rate, "ovs"), []), runs.get((cfg, rate, "rvs"), [])
        oi, ri = med(o, "w_installed_per_s"), med(r, "w_installed_per_s")
        riu = med(r, "w_installed_per_s_upper")
        oc, rc = med(o, "w_cpu_us_per_install"), med(r, "w_cpu_us_per_install")

        def sums(rs):
            if not rs:
                return "–"
            return ", ".join("yes" if (x.get("stats_check") or {}).get("ok") else
                             f"**no** ({(x.get('stats_check') or {}).get('rules_n_packets_sum')} vs "
                             f"{(x.get('stats_check') or {}).get('sink_rx')})" for x in rs)
        out.append(
            f"| {rate} | {installs_cell(oi, ri, riu, r)} "
            f"| {fmt(med(o, 'w_installed_frac'), 3)} / {frac_of_offered(r)} "
            f"| {fmt(med(o, 'w_lost_per_s'))} / {fmt(med(r, 'w_lost_per_s'))} "
            f"({fmt(med(o, 'w_limit_hit_per_s'))} / {fmt(med(r, 'w_limit_hit_per_s'))}) "
            f"| {fmt(med(o, 'w_kernel_drop_pct'), 1)} / {fmt(med(r, 'w_kernel_drop_pct'), 1)} "
            f"| {fmt(med(o, 'w_switch_cpu_pct'))} / {fmt(med(r, 'w_switch_cpu_pct'))} "
            f"| {fmt(oc, 1)} / {fmt(rc, 1)} ({ratio(rc, oc)}) | {sums(o)} / {sums(r)} |")
    return out


def table_threads(runs, cfg, rates):
    out = ["| new flows/s | switch | main % | handler % | revalidator % | forwarding (rvs-fwd) % "
           "| tcpreplay % | machine busy % (of 200) | load (uptime) at the end |",
           "|---|---|---|---|---|---|---|---|---|"]
    for rate in rates:
        for sw in ("ovs", "rvs"):
            rs = runs.get((cfg, rate, sw), [])
            if not rs:
                continue
            hand = med([{"v": statistics.median([s["handler_pct"] for s in x["series"]
                                                 if "handler_pct" in s] or [0])} for x in rs], "v")
            up = rs[-1].get("uptime", "")
            up = up[up.find("load average"):] if "load average" in up else up
            out.append(f"| {rate} | {sw} | {fmt(med(rs, 'w_main_cpu_pct'))} | {fmt(hand)} "
                       f"| {fmt(med(rs, 'w_reval_cpu_pct'))} | {fmt(med(rs, 'w_fwd_cpu_pct'))} "
                       f"| {fmt(med(rs, 'w_gen_cpu_pct'))} | {fmt(med(rs, 'w_sys_busy_pct'))} | {up} |")
    return out


def targets(runs):
    res = []
    # 1. default limit, warm: >= 195k kept, min >= 180k, where the demand exceeds the limit.
    for rate in (20000, 30000, 60000, 100000):
        r = runs.get(("warm", rate, "rvs"))
        if not r:
            continue
        k, mn = med(r, "w_flows_median"), med(r, "w_flows_min")
        res.append(f"* warm, {rate}/s: rvs keeps median {fmt(k)}, min {fmt(mn)} "
                   f"(target ≥195 000, min ≥180 000): **{'met' if k >= 195000 and mn >= 180000 else 'NOT met'}**")
    # 2. fresh: rvs >= 3x fresh OVS in the first 60 s.
    for rate in sorted({rt for c, rt, _ in runs if c == "fresh"}):
        o, r = runs.get(("fresh", rate, "ovs")), runs.get(("fresh", rate, "rvs"))
        if not o or not r:
            continue
        om, rm = med(o, "run_flows_mean"), med(r, "run_flows_mean")
        # Flows wanted once the run is past max-idle (10 s): every flow of the last 10 s, at most
        # the 200 000 limit; the ratio cannot exceed wanted / OVS.
        wanted = min(200000, rate * 10)
        cap = (f" (flows wanted: {rate}/s × 10 s idle, at most the 200 000 limit = {fmt(wanted)}: "
               f"at most ~{ratio(wanted, om)} is possible)") if om and 3 * om > wanted else ""
        res.append(f"* fresh, {rate}/s: mean flows over the first run (≤60 s) OVS {fmt(om)}, rvs {fmt(rm)}, "
                   f"ratio {ratio(rm, om)} (target ≥3){cap}: **{'met' if om and rm / om >= 3 else 'NOT met'}**")
    # 3. flow-limit 1M at 100k/s: >= 900k kept, full revalidation round < 1 s.
    r = runs.get(("warm-flow-limit=1000000", 100000, "rvs"))
    if r:
        k, dmax = med(r, "w_flows_median"), med(r, "w_dump_ms_max")
        res.append(f"* flow-limit 1000000 at 100000/s: rvs keeps median {fmt(k)} (target ≥900 000), "
                   f"dump duration max {fmt(dmax)} ms (target <1000): "
                   f"**{'met' if k >= 900000 and dmax < 1000 else 'NOT met'}**")
    # 4. installs/s >= 3x OVS's where OVS is setup-bound (installs fewer flows than offered).
    for (c, rate, sw), o in sorted(runs.items()):
        if sw != "ovs":
            continue
        r = runs.get((c, rate, "rvs"))
        frac = med(o, "w_installed_frac")
        if not r or frac is None or frac >= 0.97:
            continue
        oi, ri, off = med(o, "w_installed_per_s"), med(r, "w_installed_per_s"), med(o, "w_offered_flows_per_s")
        cap = "" if 3 * oi <= off * 1.0 else f" (3× OVS = {fmt(3 * oi)} exceeds the offered {fmt(off)} flows/s: only ~{ratio(off, oi)}× is possible)"
        res.append(f"* {c}, {rate}/s (OVS installs {fmt(oi)}/s = {frac:.2f} of offered): rvs {fmt(ri)}/s, "
                   f"ratio {ratio(ri, oi)} (target ≥3){cap}: **{'met' if ri >= 3 * oi else 'NOT met'}**")
    # 5. sum of rule counters.
    bad = [(c, rt, sw, x.get("stats_check")) for (c, rt, sw), rs in sorted(runs.items()) for x in rs
           if not (x.get("stats_check") or {}).get("ok")]
    n = sum(len(v) for v in runs.values())
    res.append(f"* Σ of rule n_packets == packets forwarded (frames received by sink0) at the end "
               f"of the run: {n - len(bad)} of {n} runs"
               + ("" if not bad else "; mismatches: " + "; ".join(
                   f"{c} {rt} {sw}: Σ {(s or {}).get('rules_n_packets_sum')} vs forwarded {(s or {}).get('sink_rx')}"
                   f" (diff {((s or {}).get('rules_n_packets_sum') or 0) - ((s or {}).get('sink_rx') or 0)})"
                   for c, rt, sw, s in bad)))
    return res


def svg_plot(runs, path, rate=60000):
    """Flows in the datapath over time at `rate`: one line per (config, switch), first run."""
    series = []
    colors = {"ovs": "#d62728", "rvs": "#1f77b4"}
    dashes = {"warm": "", "fresh": "6,4", "warm-max-idle=1000": "2,3", "warm-flow-limit=1000000": "10,3,2,3"}
    for c in configs_in(runs):
        for sw in ("ovs", "rvs"):
            rs = runs.get((c, rate, sw))
            if rs:
                series.append((c, sw, [(s["t"], s["flows"]) for s in rs[0]["series"]]))
    if not series:
        return False
    W, H, L, R, T, B = 900, 460, 80, 220, 30, 50
    tmax = max(t for _, _, pts in series for t, _ in pts) or 1
    ymax = max(max(f for _, _, pts in series for _, f in pts), 200000) * 1.1
    ystep = 50000 if ymax <= 400000 else 200000

    def X(t):
        return L + (W - L - R) * t / tmax

    def Y(v):
        return H - B - (H - T - B) * v / ymax
    el = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" '
          f'font-family="sans-serif" font-size="12">',
          f'<rect width="{W}" height="{H}" fill="white"/>',
          f'<text x="{L}" y="18" font-size="14">Datapath flows kept at {rate // 1000}k new flows/s '
          f'(sampled every 0.5 s)</text>']
    y = 0
    while y <= ymax:
        el.append(f'<line x1="{L}" y1="{Y(y):.1f}" x2="{W - R}" y2="{Y(y):.1f}" stroke="#ddd"/>')
        el.append(f'<text x="{L - 6}" y="{Y(y) + 4:.1f}" text-anchor="end">{y // 1000}k</text>')
        y += ystep
    t = 0
    while t <= tmax + 1e-9:
        el.append(f'<line x1="{X(t):.1f}" y1="{H - B}" x2="{X(t):.1f}" y2="{H - B + 5}" stroke="black"/>')
        el.append(f'<text x="{X(t):.1f}" y="{H - B + 18}" text-anchor="middle">{t:g}</text>')
        t += 10 if tmax > 30 else 5
    el.append(f'<text x="{(L + W - R) / 2}" y="{H - 10}" text-anchor="middle">seconds since the first frame</text>')
    el.append(f'<line x1="{L}" y1="{Y(200000):.1f}" x2="{W - R}" y2="{Y(200000):.1f}" stroke="#888" '
              f'stroke-dasharray="3,3"/><text x="{W - R + 4}" y="{Y(200000) + 4:.1f}" fill="#888">flow-limit 200k</text>')
    el.append(f'<rect x="{L}" y="{T}" width="{W - L - R}" height="{H - T - B}" fill="none" stroke="black"/>')
    for i, (c, sw, pts) in enumerate(series):
        d = " ".join(f"{X(t):.1f},{Y(f):.1f}" for t, f in pts)
        dash = dashes.get(c, "1,1")
        da = f'stroke-dasharray="{dash}" ' if dash else ""
        el.append(f'<polyline fill="none" stroke="{colors[sw]}" stroke-width="1.5" {da}points="{d}"/>')
        ly = T + 30 + 20 * i
        el.append(f'<line x1="{W - R + 10}" y1="{ly}" x2="{W - R + 40}" y2="{ly}" stroke="{colors[sw]}" '
                  f'stroke-width="2" {da}/>')
        el.append(f'<text x="{W - R + 46}" y="{ly + 4}">{"OVS 3.1" if sw == "ovs" else "rvs"} {c}</text>')
    el.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(el) + "\n")
    return True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--raw", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--svg", required=True)
    ap.add_argument("--command", default="bench/churn/run.sh")
    ap.add_argument("--dur", type=int, default=60)
    ap.add_argument("--last", type=int, default=30)
    args = ap.parse_args()
    runs, checks, errors = load(args.raw)
    allr = [x for v in runs.values() for x in v]
    ups = [x.get("uptime", "") for x in allr]
    loads = [float(u.split("load average:")[1].split(",")[0]) for u in ups if "load average:" in u]
    day = re.search(r"\d{4}-\d\d-\d\d", os.path.basename(args.out))
    md = [f"# Churn: datapath flows kept under short-lived-flow load, rvs vs OVS 3.1 ({day.group(0) if day else ''})",
          "",
          f"Command (root): `{args.command}` (writes this file, `{os.path.basename(args.raw)}` and "
          f"`{os.path.basename(args.svg)}`). Method: `bench/churn/README.md`.",
          "",
          "* Traffic and sampling are the shared OVS churn harness's (`shared/ovs-baseline/churn`): a looped "
          "pcap of 1.5M distinct UDP 5-tuples, 3 × 60 B packets per flow 2000 new-flow slots apart, "
          "`tcpreplay --pps=3R`, sampled every 0.5 s; one rule that reads all four tuple fields, so one exact "
          "datapath flow per 5-tuple.",
          "* Both switches run the userspace datapath in the same kind of netns on AF_PACKET veth ports "
          "(gen0→ovsp1 [1] br0 [2] ovsp2→sink0), a fresh daemon per run, OVS then rvs back to back per rate.",
          f"* {args.dur} s of traffic per run; window = the last {args.last} s. One run per cell unless n says more.",
          f"* Machine: 2 cores shared with other workers; load average (1 min) at the end of the runs "
          f"{min(loads) if loads else '?'}–{max(loads) if loads else '?'}; the harness ran at nice "
          f"{sorted({x.get('nice', 0) for x in allr})}, autogroup {sorted({x.get('autogroup', '?').split(' ', 1)[-1] for x in allr})} "
          "(generator and both switches alike, `NICE`). "
          "Figures under this load are noisy (±5–10 % run to run for OVS, see the shared results).",
          ""]
    notes = args.out[:-3] + ".notes.md" if args.out.endswith(".md") else args.out + ".notes.md"
    if os.path.exists(notes):   # hand-written interpretation, kept across re-runs
        with open(notes) as f:
            md.append(f.read().rstrip() + "\n")
    md.append("## Mask check (one exact datapath flow per 5-tuple)")
    md.append("")
    for sw in ("ovs", "rvs"):
        c = checks.get(sw)
        if c:
            md.append(f"* {sw}: {c.get('dumped_flows')} dp flows for {c.get('distinct_5tuples')} distinct tuples, "
                      f"{c.get('non_exact')} non-exact, missed {c.get('missed')}, lost {c.get('lost')}: "
                      f"**{'ok' if c.get('ok') else 'FAILED'}**; example `{c.get('example')}`")
    md.append("")
    md.append("## Targets (issue #11)")
    md.append("")
    md += targets(runs)
    md.append("")
    for cfg in configs_in(runs):
        rates = sorted({rt for c, rt, _ in runs if c == cfg})
        md.append(f"## `{cfg}`: {CONFIG_TEXT.get(cfg, cfg)}")
        md.append("")
        md.append("Flows kept (datapath flow count, `dpctl/show`), over the window; dynamic limit and dump "
                  "duration from `upcall/show`.")
        md.append("")
        md += table_kept(runs, cfg, rates)
        md.append("")
        md.append("Installs/s: OVS = `dpctl/show` missed (dpif-netdev installs a flow on every successful "
                  "upcall); rvs = coverage `datapath_flow_add` (every flow its datapath created; a "
                  "range only for an older rvs without that counter: missed minus coverage `handler_duplicate_upcall`, "
                  "`upcall_ukey_contention` and `upcall_flow_limit_hit`, lower bound, up to the same without "
                  "`upcall_flow_limit_hit`, upper bound; ratio and CPU then use the lower bound). Lost: OVS = upcalls refused "
                  "by the flow limit (packet still forwarded); rvs = misses that could not be queued to a handler "
                  "(packet dropped, like the kernel datapath); flow-limit hits/s = coverage `upcall_flow_limit_hit`. "
                  "Dropped before the switch = frames that reached ovsp1 but not the switch (AF_PACKET receive "
                  "buffer). CPU = all switch threads in the window / installs, forwarding included.")
        md.append("")
        md += table_cost(runs, cfg, rates)
        md.append("")
        md.append("<details><summary>per-thread CPU and machine load</summary>")
        md.append("")
        md += table_threads(runs, cfg, rates)
        md.append("")
        md.append("</details>")
        md.append("")
    if svg_plot(runs, args.svg):
        md.append(f"## Flows kept over time at 60k new flows/s")
        md.append("")
        md.append(f"![flows kept at 60k/s]({os.path.basename(args.svg)})")
        md.append("")
    if errors:
        md.append("## Runs without a result")
        md.append("")
        for e in errors:
            md.append(f"* {e.get('switch')} {e.get('config')} {e.get('rate')}: alive after: "
                      f"{e.get('switch_alive_after')}; driver: `{(e.get('driver_output') or e.get('error') or '')[-300:]}`; "
                      f"log: `{' / '.join(e.get('log_warnings') or [])[:300]}`")
        md.append("")
    warn = [(x["switch"], x["config"], x["rate"], x.get("log_warnings")) for x in allr
            if x.get("log_warnings") or not x.get("switch_alive_after", True)]
    if warn:
        md.append("## Daemon log warnings / exits")
        md.append("")
        for sw, c, rt, w in warn:
            md.append(f"* {sw} {c} {rt}: `{' / '.join(w or ['(daemon gone after the run)'])[:400]}`")
        md.append("")
    with open(args.out, "w") as f:
        f.write("\n".join(md))


if __name__ == "__main__":
    main()
