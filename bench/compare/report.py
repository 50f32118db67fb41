#!/usr/bin/env python3
"""Markdown report + SVG plots from the JSON lines written by run.sh (setup_rate.py,
revalidation.py): medians, raw values and the rvs/OVS ratio per row, the issue #8 targets, and
the forwarding rows taken from bench/fwd's report of the same day.

usage: report.py --raw RUN.jsonl --out REPORT.md [--fwd FWD.md] [--command CMD]
Plots are written beside the report: <stem>-round-time.svg, <stem>-setup-rate.svg.
"""
import argparse
import json
import os
import re
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import svgplot  # noqa: E402


def med(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def fmt(v, nd=0):
    if v is None:
        return "–"
    if isinstance(v, float) and nd:
        return f"{v:,.{nd}f}"
    return f"{round(v):,}" if isinstance(v, (int, float)) else str(v)


def cell(vals, nd=0):
    vals = [v for v in vals if v is not None]
    if not vals:
        return "–"
    m = med(vals)
    raw = ", ".join(fmt(v, nd) for v in vals)
    return f"**{fmt(m, nd)}** [{raw}]"


def ratio(a, b, nd=2):
    if a is None or b is None or b == 0:
        return "–"
    return f"{a / b:.{nd}f}×"


def ratio_val(a, b):
    return None if a is None or b is None or b == 0 else a / b


def setup_section(rows, out):
    out.append("## Flow setup rate\n")
    out.append("One pass of N new 5-tuples (60 B UDP frames, one datapath flow each) from `gen0` into "
               "port 1; sampled every 10 ms via `dpctl/show`. *Active rate* = flows installed / time "
               "from the sample before the first new flow to the first sample at the final count; "
               "*µs/upcall* = CPU of every switch thread except the revalidators (OVS: its main "
               "thread does all the packet work and upcalls for these AF_PACKET ports; rvs: "
               "forwarding + handler threads) / upcalls handled; *kernel drop* = frames sent on "
               "`gen0` that the switch never looked up (socket buffer or ring full); *lost* = "
               "`dpctl/show` lost (upcalls that failed or found their queue full). "
               "**Bold** = median, [raw values].\n")
    out.append("| sender | N | OVS flows/s | rvs flows/s | **rvs/OVS** | OVS peak 100 ms | rvs peak 100 ms "
               "| OVS µs/upcall | rvs µs/upcall | **OVS/rvs CPU** | installed % OVS / rvs "
               "| kernel drop % OVS / rvs | lost OVS / rvs |")
    out.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    plot = {}
    summary = {}
    for sender in sorted({r["sender"] for r in rows}, key=lambda s: (s != "topspeed", s)):
        for n in sorted({r["n"] for r in rows if r["sender"] == sender}):
            o = [r for r in rows if r["sender"] == sender and r["n"] == n and r["switch"] == "ovs"]
            v = [r for r in rows if r["sender"] == sender and r["n"] == n and r["switch"] == "rvs"]

            def col(rs, k):
                return [r.get(k) for r in rs]
            mo, mv = med(col(o, "active_rate_fps")), med(col(v, "active_rate_fps"))
            uo, uv = med(col(o, "us_per_upcall")), med(col(v, "us_per_upcall"))
            summary[(sender, n)] = (mo, mv, uo, uv)
            for sw, m in (("ovs", mo), ("rvs", mv)):
                plot.setdefault((sw, sender), []).append((n, m))
            out.append(
                f"| {sender} | {n:,} | {cell(col(o, 'active_rate_fps'))} | {cell(col(v, 'active_rate_fps'))} "
                f"| **{ratio(mv, mo)}** | {cell(col(o, 'peak_rate_fps'))} | {cell(col(v, 'peak_rate_fps'))} "
                f"| {cell(col(o, 'us_per_upcall'), 1)} | {cell(col(v, 'us_per_upcall'), 1)} | **{ratio(uo, uv)}** "
                f"| {fmt(med(col(o, 'installed_pct')), 1)} / {fmt(med(col(v, 'installed_pct')), 1)} "
                f"| {fmt(med(col(o, 'kernel_drop_pct')), 1)} / {fmt(med(col(v, 'kernel_drop_pct')), 1)} "
                f"| {fmt(med(col(o, 'lost')))} / {fmt(med(col(v, 'lost')))} |")
    out.append("")
    samples = {}
    for r in rows:
        if r.get("sample_flow"):
            samples.setdefault(r["switch"], r["sample_flow"])
    if samples:
        out.append("Same megaflow on both switches (one installed flow of each; ports, tuple and "
                   "statistics differ by design, the rest must be identical):\n")
        for sw in ("ovs", "rvs"):
            out.append(f"* {sw}: `{samples.get(sw, '–')}`")
        shapes = {sw: re.sub(r"in_port\(\d+\)|src=\d+,dst=80|src=198\.18\.\d+\.\d+|"
                                 r"packets:.*$", "", f) for sw, f in samples.items()}
        same = len(set(shapes.values())) == 1 and len(shapes) == 2
        out.append(f"* keys and masks identical (ports and tuple aside): **{'yes' if same else 'NO'}**\n")
    return plot, summary


def reval_section(rows, out):
    out.append("## Revalidation round time\n")
    out.append("Fresh daemon per (revalidator threads R, N); N flows installed by a paced looping "
               "sender, then *steady* rounds (`revalidator/wait`, `upcall/show` dump duration) and "
               "*full* rounds (the round after an unrelated `add-flow`, every ukey re-translated). "
               "*reval CPU* = CPU time of the revalidator threads during the round (less sensitive to "
               "the machine's other load than the round's wall time); "
               "*kept* = the flow count stayed at the installed count through every full round; "
               "*xlate/round* = ukeys translated again by each full round (OVS: `xlate_actions` "
               "coverage delta, should be N; rvs: flows minus the `revalidate_unaffected` delta: "
               "by default rvs translates again only the ukeys the flow-mod may affect, "
               "`revalidation-scope=affected`, see docs/revalidation-scope.md). The rows with every "
               "ukey translated again by rvs too (`revalidation-scope=all`) follow in the next table.\n")
    out.append("| R | N | installed OVS / rvs | OVS steady ms | rvs steady ms | **rvs/OVS steady** "
               "| OVS full ms | rvs full ms | **rvs/OVS full** | steady reval CPU s OVS / rvs "
               "| full reval CPU s OVS / rvs | **rvs/OVS full CPU** "
               "| kept OVS / rvs | xlate/round OVS / rvs |")
    out.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    plot = {}
    summary = {}
    for r_ in sorted({r["n_revalidators"] for r in rows}):
        for n in sorted({r["n"] for r in rows if r["n_revalidators"] == r_}):
            o = [r for r in rows if r["n_revalidators"] == r_ and r["n"] == n and r["switch"] == "ovs"]
            v = [r for r in rows if r["n_revalidators"] == r_ and r["n"] == n and r["switch"] == "rvs"
                 and not scope_all(r)]

            def pool(rs, k):
                return [x for r in rs for x in r[k]]
            so, sv = med(pool(o, "steady_dump_ms")), med(pool(v, "steady_dump_ms"))
            fo, fv = med(pool(o, "full_dump_ms")), med(pool(v, "full_dump_ms"))
            valid = bool(o and v) and all(
                r["flows_installed"] >= 0.99 * n and r["final_flows"] == r["flows_installed"]
                and all(x == r["flows_installed"] for x in r["full_flows_after"]) for r in o + v)
            summary[(r_, n)] = (so, sv, fo, fv) if valid else (None, None, None, None)
            for sw, rs, s, f in (("ovs", o, so, fo), ("rvs", v, sv, fv)):
                # Plot only points where the switch held (nearly) N flows through every round.
                if rs and all(r["flows_installed"] >= 0.99 * n and r["final_flows"] == r["flows_installed"]
                              and all(x == r["flows_installed"] for x in r["full_flows_after"])
                              for r in rs):
                    plot.setdefault((sw, r_, "steady"), []).append((n, s))
                    plot.setdefault((sw, r_, "full"), []).append((n, f))

            def kept(rs):
                if not rs:
                    return "–"
                return "yes" if all(all(x == r["flows_installed"] for x in r["full_flows_after"])
                                    and r["final_flows"] == r["flows_installed"] for r in rs) else "NO"

            def inst(rs):
                return "–" if not rs else ", ".join(f"{r['flows_installed']:,}" for r in rs)

            def xl(rs):
                vals = pool(rs, "full_xlate_actions")
                if rs and rs[0]["switch"] == "rvs":
                    vals = [r["flows_installed"] - u if u is not None else None
                            for r in rs for u in r.get("full_unaffected", [])]
                return "–" if not vals or all(x is None for x in vals) else \
                    ", ".join(fmt(x) for x in vals)
            cfg = {x for r in o + v for x in r.get("config", "").split()
                   if not x.startswith("n-revalidator-threads")}
            note = f" ({', '.join(sorted(cfg))})" if cfg else ""
            out.append(
                f"| {r_} | {n:,}{note} | {inst(o)} / {inst(v)} | {cell(pool(o, 'steady_dump_ms'))} "
                f"| {cell(pool(v, 'steady_dump_ms'))} | **{ratio(sv, so)}** | {cell(pool(o, 'full_dump_ms'))} "
                f"| {cell(pool(v, 'full_dump_ms'))} | **{ratio(fv, fo)}** "
                f"| {fmt(med(pool(o, 'steady_reval_cpu_s')), 3)} / {fmt(med(pool(v, 'steady_reval_cpu_s')), 3)} "
                f"| {fmt(med(pool(o, 'full_reval_cpu_s')), 3)} / {fmt(med(pool(v, 'full_reval_cpu_s')), 3)} "
                f"| **{ratio(med(pool(v, 'full_reval_cpu_s')), med(pool(o, 'full_reval_cpu_s')))}** "
                f"| {kept(o)} / {kept(v)} | {xl(o)} / {xl(v)} |")
    out.append("")
    out.append("Rows where a switch did not hold N flows through every round are left out of the "
               "targets below.\n")
    return plot, summary


def scope_all(r):
    """True for an rvs point run with `revalidation-scope=all` (every ukey translated again)."""
    return "revalidation-scope" in r.get("config", "") and "all" in r.get("config", "")


def full_all_section(rows, out):
    """Full rounds with every ukey translated again on both switches; returns {(R, N): ratio}."""
    va_all = [r for r in rows if r["switch"] == "rvs" and scope_all(r)]
    if not va_all:
        return {}
    out.append("### Full rounds with every ukey translated again (rvs `revalidation-scope=all`)\n")
    out.append("The same full rounds with rvs translating every ukey again after the flow-mod, as "
               "OVS does (a separate fresh rvs daemon per point; OVS columns are the table above's).\n")
    out.append("| R | N | OVS full ms | rvs (all) full ms | **rvs/OVS full** | full reval CPU s OVS / rvs "
               "| **rvs/OVS full CPU** | kept rvs | re-translated/round rvs |")
    out.append("|---|---|---|---|---|---|---|---|---|")
    summary = {}
    for r_ in sorted({r["n_revalidators"] for r in va_all}):
        for n in sorted({r["n"] for r in va_all if r["n_revalidators"] == r_}):
            o = [r for r in rows if r["n_revalidators"] == r_ and r["n"] == n and r["switch"] == "ovs"]
            va = [r for r in va_all if r["n_revalidators"] == r_ and r["n"] == n]

            def pool(rs, k):
                return [x for r in rs for x in r[k]]
            fo, fa = med(pool(o, "full_dump_ms")), med(pool(va, "full_dump_ms"))
            kept = all(all(x == r["flows_installed"] for x in r["full_flows_after"])
                       and r["final_flows"] == r["flows_installed"] and r["flows_installed"] >= 0.99 * n
                       for r in o + va)
            summary[(r_, n)] = ratio_val(fa, fo) if kept and o else None
            retr = [r["flows_installed"] - u for r in va for u in r.get("full_unaffected", [])
                    if u is not None]
            out.append(
                f"| {r_} | {n:,} | {cell(pool(o, 'full_dump_ms'))} | {cell(pool(va, 'full_dump_ms'))} "
                f"| **{ratio(fa, fo)}** "
                f"| {fmt(med(pool(o, 'full_reval_cpu_s')), 3)} / {fmt(med(pool(va, 'full_reval_cpu_s')), 3)} "
                f"| **{ratio(med(pool(va, 'full_reval_cpu_s')), med(pool(o, 'full_reval_cpu_s')))}** "
                f"| {'yes' if kept else 'NO'} | {', '.join(fmt(x) for x in retr) or '–'} |")
    out.append("")
    return summary


def memory_section(rows, out):
    out.append("## Memory per flow\n")
    out.append("RSS of the daemon at 0 flows and at N flows (fresh daemon, before the full rounds); "
               "bytes/flow = ΔRSS / flows installed.\n")
    out.append("| R | N | OVS RSS 0 → N MiB | rvs RSS 0 → N MiB | OVS B/flow | rvs B/flow | **rvs/OVS** |")
    out.append("|---|---|---|---|---|---|---|")
    summary = {}
    for r_ in sorted({r["n_revalidators"] for r in rows}):
        for n in sorted({r["n"] for r in rows if r["n_revalidators"] == r_}):
            o = [r for r in rows if r["n_revalidators"] == r_ and r["n"] == n and r["switch"] == "ovs"]
            v = [r for r in rows if r["n_revalidators"] == r_ and r["n"] == n and r["switch"] == "rvs"]

            def rss(rs):
                return "–" if not rs else ", ".join(
                    f"{r['rss_kb_0'] / 1024:.1f} → {r['rss_kb_n'] / 1024:.1f}" for r in rs)
            bo = med([r["bytes_per_flow"] for r in o])
            bv = med([r["bytes_per_flow"] for r in v])
            full = all(r["flows_installed"] >= 0.99 * n for r in o + v)
            summary[(r_, n)] = (bo, bv) if full else (None, None)
            out.append(f"| {r_} | {n:,} | {rss(o)} | {rss(v)} | {cell([r['bytes_per_flow'] for r in o])} "
                       f"| {cell([r['bytes_per_flow'] for r in v])} | **{ratio(bv, bo)}** |")
    out.append("")
    return summary


def fwd_section(path, out, same_run):
    out.append("## Forwarding and tuple-space explosion\n")
    if not path or not os.path.isfile(path):
        out.append("Not measured in this run (no bench/fwd report found).\n")
        return
    name = os.path.basename(path)
    if same_run:
        out.append(f"Measured in this run: this script ran `bench/fwd/run.sh` after the points above "
                   f"(report `bench/results/{name}`, with every window and the method); its medians:\n")
    else:
        out.append(f"Not re-measured by this script (`FWD=0`): the forwarding rows are those of "
                   f"`bench/fwd/run.sh`'s newest report on this machine (`bench/results/{name}`), copied here:\n")
    lines = open(path).read().splitlines()
    try:
        i = next(k for k, ln in enumerate(lines) if ln.startswith("## Medians"))
    except StopIteration:
        out.append("(no Medians table found)\n")
        return
    for ln in lines[i + 1:]:
        if ln.startswith("|") or not ln.strip():
            if ln.startswith("|"):
                out.append(ln)
        else:
            break
    out.append("")


def fwd_daemon_section(rows, out):
    """Forwarding through the two daemons (fwd_daemon.py); returns {point: (ovs pps, rvs pps)}."""
    out.append("## Forwarding through the daemons\n")
    if not rows:
        out.append("Not measured in this run (`FWD_DAEMON=0`).\n")
        return {}
    out.append("Both daemons on this script's topology with the OpenFlow rules of "
               "`shared/ovs-baseline/fwd` (`gen.py fwd-rules`: `plain` = in_port=1 → output:2; "
               "`acl:N` = two drop rules whose near misses make N traffic classes with N masks) and "
               "its pcaps (`gen.py fwd-pcap`, 65536 60 B UDP frames); each switch's own upcalls build "
               "the megaflows during a paced prewarm pass, then tcpreplay `--topspeed` and a window "
               "after 1 s: forwarded pps = sink0 rx; CPU = every switch thread. **Bold** = median, "
               "[raw values].\n")
    out.append("| point | megaflows OVS / rvs | masks OVS / rvs | OVS fwd pps | rvs fwd pps | **rvs/OVS** "
               "| offered pps OVS / rvs | switch CPU % OVS / rvs | CPU ns / fwd packet OVS / rvs "
               "| **OVS/rvs CPU per packet** | misses in window OVS / rvs |")
    out.append("|---|---|---|---|---|---|---|---|---|---|---|")
    summary = {}
    points = []
    for r in rows:
        if r["point"] not in points:
            points.append(r["point"])
    for pt in points:
        o = [r for r in rows if r["point"] == pt and r["switch"] == "ovs"]
        v = [r for r in rows if r["point"] == pt and r["switch"] == "rvs"]

        def mv(rs, k):
            return med([r.get(k) for r in rs])
        po, pv = mv(o, "fwd_pps"), mv(v, "fwd_pps")
        co, cv = mv(o, "cpu_ns_per_fwd_packet"), mv(v, "cpu_ns_per_fwd_packet")
        summary[pt] = (po, pv)
        out.append(f"| `{pt}` | {fmt(mv(o, 'flows'))} / {fmt(mv(v, 'flows'))} "
                   f"| {fmt(mv(o, 'masks'))} / {fmt(mv(v, 'masks'))} "
                   f"| {cell([r['fwd_pps'] for r in o])} | {cell([r['fwd_pps'] for r in v])} "
                   f"| **{ratio(pv, po)}** | {fmt(mv(o, 'offered_pps'))} / {fmt(mv(v, 'offered_pps'))} "
                   f"| {fmt(mv(o, 'switch_cpu_pct'), 1)} / {fmt(mv(v, 'switch_cpu_pct'), 1)} "
                   f"| {fmt(co)} / {fmt(cv)} | **{ratio(co, cv)}** "
                   f"| {fmt(mv(o, 'dp_missed'))} / {fmt(mv(v, 'dp_missed'))} |")
    out.append("")
    return summary


def tse_section(rows, out):
    out.append("## Tuple-space explosion\n")
    if not rows:
        out.append("Not measured in this run.\n")
        return {}
    r0 = rows[0]
    out.append(f"Rules, traffic and attacker of `shared/ovs-baseline/fwd` (ACL: allow udp tp_dst 80/443, "
               f"nw_src 198.19.255.0/24, udp tp_src 53, drop the rest; legit = udp to port 80 from "
               f"65536 5-tuples, paced at {r0['legit_pps']} pps; informed attack = "
               f"{r0['n_attack_frames']} crafted frames, one mask each, cycled at "
               f"{r0['attack_pps']:g} pps on the same port; `max-idle=10000` on both). "
               "A = legit alone; B = attacker starts while legit runs; C = flows purged while "
               "the attacker runs, legit restarts after its masks exist. Forwarded pps = sink "
               "rx. Retained = window / A.\n")
    out.append("| phase | OVS fwd pps | rvs fwd pps | OVS retained % | rvs retained % | "
               "masks OVS / rvs | OVS switch CPU % | rvs switch CPU % "
               "| offered pps OVS / rvs | switch read pps OVS / rvs |")
    out.append("|---|---|---|---|---|---|---|---|---|---|")
    summary = {}
    for ph in ("A", "B", "C"):
        o = [r[ph] for r in rows if r["switch"] == "ovs"]
        v = [r[ph] for r in rows if r["switch"] == "rvs"]
        ret_o = [x.get("retained_pct", 100.0) for x in o]
        ret_v = [x.get("retained_pct", 100.0) for x in v]
        summary[ph] = (med(ret_o), med(ret_v))
        out.append(f"| {ph} | {cell([x['fwd_pps'] for x in o])} | {cell([x['fwd_pps'] for x in v])} "
                   f"| {cell(ret_o, 1) if ph != 'A' else '100'} | {cell(ret_v, 1) if ph != 'A' else '100'} "
                   f"| {fmt(med([x['masks'] for x in o]))} / {fmt(med([x['masks'] for x in v]))} "
                   f"| {fmt(med([x['switch_cpu_pct'] for x in o]), 1)} "
                   f"| {fmt(med([x['switch_cpu_pct'] for x in v]), 1)} "
                   f"| {fmt(med([x.get('offered_pps') for x in o]))} / "
                   f"{fmt(med([x.get('offered_pps') for x in v]))} "
                   f"| {fmt(med([x.get('switch_read_pps') for x in o]))} / "
                   f"{fmt(med([x.get('switch_read_pps') for x in v]))} |")
    out.append("")
    return summary


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--raw", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--fwd", default="")
    ap.add_argument("--fwd-same-run", action="store_true",
                    help="the --fwd report was measured by this run (run.sh FWD=1)")
    ap.add_argument("--command", default="bench/compare/run.sh")
    args = ap.parse_args()
    recs = [json.loads(ln) for ln in open(args.raw) if ln.strip()]
    meta = next((r for r in recs if r.get("scenario") == "meta"), {})
    meta_end = next((r for r in recs if r.get("scenario") == "meta_end"), {})
    setup = [r for r in recs if r.get("scenario") == "setup"]
    reval = [r for r in recs if r.get("scenario") == "revalidation"]
    stem = os.path.splitext(args.out)[0]
    base = os.path.basename(stem)

    out = [f"# rvs vs Open vSwitch 3.1, side by side ({meta.get('date', '')[:10]})\n",
           f"Produced by `{args.command}` (`bench/compare/`, issue #8); raw JSON lines in "
           f"`{os.path.basename(args.raw)}`.\n", "## Setup\n",
           f"* Knobs: `{meta.get('knobs', '')}`" + (" (quick mode)" if meta.get("quick") else ""),
           f"* Machine: Linux {meta.get('kernel', '')}, {meta.get('cpus', '')} CPUs, shared with other "
           f"workers. Load at start: `{meta.get('uptime_start', '').strip()}`; at end: "
           f"`{meta_end.get('uptime_end', '').strip()}`.",
           f"* OVS: {meta.get('ovs', '')} (Debian package), userspace datapath (`datapath_type=netdev`), "
           f"AF_PACKET ports. rvs: commit {meta.get('rvs', '')}, `rvs vswitchd` with "
           f"`datapath = \"netdev\"`, `afpacket` ports. Generator: {meta.get('tcpreplay', '')}.",
           "* Topology (identical, rebuilt for each daemon in a private netns): `gen0 =veth= ovsp1 "
           "[br0 port 1] → [br0 port 2] ovsp2 =veth= sink0`. Rules on both: "
           "`priority=10,udp,nw_dst=198.19.0.0/16,tp_dst=80,actions=move:NXM_OF_IP_SRC[]->NXM_NX_REG0[],"
           "move:NXM_OF_UDP_SRC[]->NXM_NX_REG1[0..15],output:2` and `priority=0,actions=drop` (the "
           "`move`s un-wildcard ip_src and udp_src: one megaflow per 5-tuple).",
           "* Configuration on both: `max-idle=600000`, `flow-limit=1000000` and "
           "`upcall/set-flow-limit 1000000` (the BIG_N points: BIG_LIMIT, 2 × N, shown per row, so "
           "that N flows are below the limit), `max-revalidator` 500 ms (OVS default) for setup rate and TSE, REVAL_MAXREV / BIG_MAXREV for the revalidation points (shown per row when not 500; see run.sh: with rounds over max-revalidator/2 both switches delete idle flows on a full round instead of re-translating them); default thread counts "
           "except `n-revalidator-threads=R` in the revalidation rows.",
           "* Dynamic flow limit: both switches (rvs copies OVS) shrink it after rounds longer "
           "than 1.3 s and then expire flows idle for 100 ms; on this loaded machine that empties "
           "tables of 200k+ flows, so `revalidation.py` re-issues `upcall/set-flow-limit 1000000` "
           "after every round and while installing, on both switches (the coverage deltas of the "
           "limit's changes are in the raw JSON, `flow_limit_coverage`).",
           "* Order: OVS then rvs for each scenario/point, one daemon at a time (they never run "
           "together). Load average (1 min) per measurement is in the raw JSON (`load1`).",
           ""]
    s_plot, s_sum = setup_section(setup, out) if setup else ({}, {})
    r_plot, r_sum = reval_section(reval, out) if reval else ({}, {})
    a_sum = full_all_section(reval, out) if reval else {}
    m_sum = memory_section(reval, out) if reval else {}
    fwd_section(args.fwd, out, args.fwd_same_run)
    d_sum = fwd_daemon_section([r for r in recs if r.get("scenario") == "fwd_daemon"], out)
    t_sum = tse_section([r for r in recs if r.get("scenario") == "tse"], out)

    # Targets
    out.append("## Targets of issue #8 (ratios within this run)\n")
    out.append("| target | measured | met? |")
    out.append("|---|---|---|")
    top = [(n, v) for (s, n), v in s_sum.items() if s == "topspeed"]
    if top:
        vals = [(n, ratio_val(mv, mo)) for n, (mo, mv, _, _) in sorted(top)]
        desc = ", ".join(f"N={n:,}: {x:.2f}×" if x else f"N={n:,}: –" for n, x in vals)
        ok = all(x is not None and x >= 3 for _, x in vals)
        out.append(f"| flow setup ≥ 3× OVS (topspeed, active flows/s) | {desc} | {'yes' if ok else 'no'} |")
    for idx, name in ((0, "steady"), (2, "full")):
        vals = [((r_, n), ratio_val(v[idx + 1], v[idx])) for (r_, n), v in sorted(r_sum.items())
                if v[idx] is not None and v[idx + 1] is not None]
        if vals:
            desc = ", ".join(f"R={k[0]} N={k[1]:,}: {x:.2f}" for k, x in vals)
            ok = all(x <= 0.25 for _, x in vals)
            out.append(f"| {name} revalidation ≤ ¼ of OVS's time | {desc} | {'yes' if ok else 'no'} |")
    vals = [(k, x) for k, x in sorted(a_sum.items()) if x is not None]
    if vals:
        desc = ", ".join(f"R={k[0]} N={k[1]:,}: {x:.2f}" for k, x in vals)
        ok = all(x <= 0.25 for _, x in vals)
        out.append(f"| full revalidation with every ukey translated again (rvs `revalidation-scope=all`) "
                   f"≤ ¼ of OVS's time | {desc} | {'yes' if ok else 'no'} |")
    vals = [(k, ratio_val(bv, bo)) for k, (bo, bv) in sorted(m_sum.items()) if bo and bv]
    if vals:
        desc = ", ".join(f"R={k[0]} N={k[1]:,}: {x:.2f}" for k, x in vals)
        ok = all(x <= 1 / 3 for _, x in vals)
        out.append(f"| memory per flow ≤ ⅓ of OVS's | {desc} | {'yes' if ok else 'no'} |")
    big = [r for r in reval if r["switch"] == "rvs" and r["n"] >= 1_000_000]
    if big:
        desc = ", ".join(f"R={r['n_revalidators']}: installed {r['flows_installed']:,}, full rounds "
                         f"{r['full_dump_ms']} ms" for r in big)
        ok = any(r["flows_installed"] >= 1_000_000 and r["full_dump_ms"]
                 and med(r["full_dump_ms"]) < 1000 for r in big)
        out.append(f"| 1M flows, full round < 1 s on 2 cores (rvs) | {desc} | {'yes' if ok else 'no'} |")
    else:
        out.append("| 1M flows, full round < 1 s on 2 cores (rvs) | not run | – |")
    if t_sum:
        (bo, bv), (co, cv) = t_sum["B"], t_sum["C"]
        ok = bv is not None and cv is not None and bv >= 80 and cv >= 80
        out.append(f"| ≥ 80 % throughput retained under the TSE attack (rvs) | B: {fmt(bv, 1)} %, "
                   f"C: {fmt(cv, 1)} % (OVS: B {fmt(bo, 1)} %, C {fmt(co, 1)} %) | {'yes' if ok else 'no'} |")
    else:
        out.append("| ≥ 80 % throughput retained under the TSE attack | not measured | – |")
    out.append("")
    out.append("## Missing from this script\n")
    if not t_sum:
        out.append("* Tuple-space explosion (`TSE=0` skipped it).")
    if d_sum:
        pass  # forwarding through both daemons is in its own section
    elif args.fwd_same_run:
        out.append("* Forwarding with 1 and 20 masks is measured by bench/fwd with `fwd_bench` (rvs's "
                   "datapath with the megaflows OVS built pre-installed, same keys and masks checked), "
                   "not through the `rvs` daemon's upcalls.")
    else:
        out.append("* Forwarding with 1 and 20 masks is not re-measured here: those rows are bench/fwd's, "
                   "measured with `fwd_bench` (rvs's datapath with pre-installed megaflows), not with "
                   "`rvs vswitchd`.")
    out.append("* rvs has no `xlate_actions` coverage counter, so for rvs the full rounds are "
               "checked only by the flow count (`kept`), not by a re-translation count.")
    if not any(r["switch"] == "ovs" and r["n"] >= 1_000_000 for r in reval):
        out.append("* OVS at 1M flows was not run (`BIG_OVS=1`, the default of the full mode, runs it).")
    out.append("")

    # Plots
    series = []
    for (sw, r_, kind), pts in sorted(r_plot.items()):
        series.append((f"{'OVS' if sw == 'ovs' else 'rvs'} {kind} R={r_}", pts,
                       0 if kind == "full" else 1))
    big_pts = {}
    for r in reval:
        if r["switch"] == "rvs" and r["n"] >= 1_000_000:
            big_pts.setdefault(r["n_revalidators"], r)
    if svgplot.line_plot(f"{stem}-round-time.svg", "Revalidation round time vs flows (median; points with N flows kept)",
                         "datapath flows N", "dump duration (ms)", series, ylog=True):
        out.append(f"![round time vs N]({base}-round-time.svg)\n")
    series = [(f"{'OVS' if sw == 'ovs' else 'rvs'} {sender}", pts, 0 if sender == "topspeed" else 1)
              for (sw, sender), pts in sorted(s_plot.items())]
    if svgplot.line_plot(f"{stem}-setup-rate.svg", "Flow setup rate vs N (median active rate)",
                         "new 5-tuples N (one pass)", "flows installed / s", series, ylog=True):
        out.append(f"![setup rate vs N]({base}-setup-rate.svg)\n")

    with open(args.out, "w") as f:
        f.write("\n".join(out) + "\n")
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
