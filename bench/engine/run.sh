#!/usr/bin/env bash
# Issue #6's measurement: the engine benchmark's revalidation rounds over the userspace datapath
# (10k, 50k, 160k, 200k flows; steady and after a flow-mod; 1 and 2 revalidators), then the table
# against Open vSwitch 3.1's rounds on this machine (../shared/ovs-baseline, results/C-*-run*.txt).
#
#   bench/engine/run.sh [OUT_PREFIX]     # writes OUT_PREFIX.jsonl and OUT_PREFIX.md
# Knobs: SIZES (10000,50000,160000,200000), ROUNDS (11 rounds per point), REPS (2 processes per point).
set -eu
REPO=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${1:-$REPO/bench/results/engine-$(date -u +%F)}
SIZES=${SIZES:-10000,50000,160000,200000}
ROUNDS=${ROUNDS:-11}
REPS=${REPS:-2}
cd "$REPO"
cargo bench -p rvs-upcall --bench revalidation --no-run 2>&1 | tail -1
BIN=$(ls -t target/release/deps/revalidation-* | grep -v '\.d$' | head -1)
: > "$OUT.jsonl"
for rep in $(seq 1 "$REPS"); do
    for r in 1 2; do
        RVS_BENCH_PARTS=datapath RVS_BENCH_SIZES=$SIZES RVS_BENCH_ROUNDS=$ROUNDS RVS_BENCH_HANDLERS=1 \
            RVS_BENCH_REVALIDATORS=$r "$BIN" 2>/dev/null | grep '"revalidation_round"' >> "$OUT.jsonl"
    done
done
{
    echo "# Engine revalidation rounds against Open vSwitch 3.1 (issue #6), $(date -u +%F)"
    echo
    echo "\`bench/engine/run.sh\` at $(git rev-parse --short HEAD): \`cargo bench -p rvs-upcall --bench revalidation\`"
    echo "(userspace datapath, fake translator), $REPS processes × $ROUNDS rounds per point; OVS = the dump duration of"
    echo "every round measured by ../shared/ovs-baseline/c_revalidation.sh on this machine (results-2026-11-22)."
    echo "Machine load at the end: \`$(uptime)\`. Raw rounds: \`$(basename "$OUT").jsonl\`."
    echo
    python3 bench/engine/report.py "$OUT.jsonl"
} > "$OUT.md"
cat "$OUT.md"
