#!/usr/bin/env python3
"""Issue #6's table: the engine benchmark's revalidation rounds (`cargo bench -p rvs-upcall --bench
revalidation`, JSON lines on stdin or in files) against Open vSwitch 3.1's rounds measured on this
machine by ../shared/ovs-baseline (c_revalidation.sh: RESULT lines of results/C-*-run*.txt, megaflow
mode, pooled over runs; the median of every round, as results-2026-11-22.md reports them).

Usage: report.py [--baseline DIR] BENCH.jsonl...  > report.md
Per (flows, revalidators, phase): rvs median wall ms (and min), OVS median dump ms, ratio, and whether
the issue's target (a round in at most 1/4 of OVS's time) is met. Rows without an OVS value (1M) are
shown without a ratio."""
import argparse
import glob
import json
import os
import statistics
import sys

TARGET = 0.25


def ovs_rounds(baseline):
    """{(n, revalidators, phase): [dump ms of every round]} from the baseline's raw results."""
    rounds = {}
    for path in sorted(glob.glob(os.path.join(baseline, "results", "C-*-run*.txt"))):
        with open(path) as f:
            for line in f:
                if not line.startswith("RESULT "):
                    continue
                r = json.loads(line[len("RESULT "):])
                if "mode=megaflow" not in r.get("label", ""):
                    continue
                key = (r["n_target"], r["n_revalidators"])
                rounds.setdefault(key + ("steady",), []).extend(r["steady_dump_ms"])
                rounds.setdefault(key + ("flow_mod",), []).extend(r["full_dump_ms"])
    return rounds


def rvs_rounds(paths):
    """{(n, revalidators, phase): [(median ms, min ms, raw ms list)]} from bench JSON lines."""
    rows = {}
    lines = []
    for p in paths or ["-"]:
        lines.extend(sys.stdin if p == "-" else open(p))
    for line in lines:
        line = line.strip()
        if not line.startswith("{"):
            continue
        j = json.loads(line)
        if j.get("bench") != "revalidation_round" or j.get("dpif") != "datapath":
            continue
        key = (j["flows"], j["revalidators"], j["phase"])
        rows.setdefault(key, []).extend(j["ms_raw"])
    return rows


def main():
    ap = argparse.ArgumentParser()
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--baseline", default=os.path.join(here, "..", "..", "..", "shared", "ovs-baseline"))
    ap.add_argument("files", nargs="*")
    a = ap.parse_args()
    ovs = ovs_rounds(a.baseline)
    rvs = rvs_rounds(a.files)
    print("| phase | revalidators | flows | rvs ms median [min] | OVS ms median | rvs/OVS | target ≤ ¼ |")
    print("|---|---|---|---|---|---|---|")
    met = missed = 0
    for key in sorted(rvs, key=lambda k: (k[2] != "steady", k[1], k[0])):
        n, r, phase = key
        ms = rvs[key]
        med = statistics.median(ms)
        o = ovs.get(key)
        if o:
            om = statistics.median(o)
            ratio = med / om
            ok = ratio <= TARGET
            met += ok
            missed += not ok
            cells = f"{om:g} | **{ratio:.2f}×** | {'met' if ok else 'NOT met'}"
        else:
            cells = "– | – | –"
        name = "steady" if phase == "steady" else "full (after a flow-mod)"
        print(f"| {name} | {r} | {n:,} | **{med:.1f}** [{min(ms):.1f}] | {cells} |")
    print()
    print(f"{met} rows meet the target, {missed} do not (rows with an OVS value).")


if __name__ == "__main__":
    main()
