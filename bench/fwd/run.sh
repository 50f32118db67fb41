#!/usr/bin/env bash
# Forwarding benchmark: rvs's userspace datapath next to Open vSwitch 3.1 on the same veth
# topology, in the same run (see compare.py for the method). Needs root. Writes
# bench/results/fwd-<date>.md (medians, raw windows, rvs/OVS ratio) and fwd-<date>.raw.jsonl.
#
# Knobs (env): POINTS=plain,acl:1,acl:20  REPS=3  WARM=1  DUR=5  THREADS=1 (rvs forwarding threads)
#   OVS_FWD_HARNESS  the shared OVS harness (default: ../shared/ovs-baseline/fwd beside the repo)
#   NS=rvsfwd OVSB=/tmp/rvsfwd  the netns and the OVS state directory this script creates and removes
# Bounded: the driver runs under `timeout`; tcpreplay has --duration; the bench binary has
# --max-seconds; daemons are stopped by the PIDs in their pidfiles and the netns is deleted on exit.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
export OVS_FWD_HARNESS=${OVS_FWD_HARNESS:-$(cd "$REPO/../shared/ovs-baseline/fwd" 2>/dev/null && pwd || true)}
export NS=${NS:-rvsfwd} OVSB=${OVSB:-/tmp/rvsfwd}
POINTS=${POINTS:-plain,acl:1,acl:20} REPS=${REPS:-3} WARM=${WARM:-1} DUR=${DUR:-5} THREADS=${THREADS:-1}
DATE=$(date +%Y-%m-%d)
OUT=${OUT:-$REPO/bench/results/fwd-$DATE.md}
RAW=${OUT%.md}.raw.jsonl

[ "$(id -u)" = 0 ] || { echo "run.sh: needs root (network namespaces, AF_PACKET)" >&2; exit 1; }
[ -f "$OVS_FWD_HARNESS/fwd.py" ] || { echo "run.sh: set OVS_FWD_HARNESS to shared/ovs-baseline/fwd" >&2; exit 1; }

# What the harness needs (openvswitch-switch, tcpreplay, ...), installed only if missing.
timeout 900 "$OVS_FWD_HARNESS/../install.sh" >&2

# The harness's helpers and the OVS_RUNDIR/... variables that point ovs-ofctl/ovs-appctl at its
# private daemons (the driver inherits them).
# shellcheck source=/dev/null
source "$OVS_FWD_HARNESS/lib.sh"
cleanup() {
    # Only what this script created: the harness's daemons (by pidfile) and our netns.
    teardown || true
}
trap cleanup EXIT

(cd "$REPO" && timeout 1800 cargo build --release -q -p rvs-dpif --example fwd_bench)
BIN=$(cd "$REPO" && cargo metadata --format-version 1 --no-deps 2>/dev/null \
      | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release/examples/fwd_bench

mkdir -p "$(dirname "$OUT")" "$OVSB"
n_points=$(echo "$POINTS" | tr ',' '\n' | wc -l)
limit=$((300 + REPS * n_points * 2 * (${DUR%.*} + ${WARM%.*} + 30)))
timeout "$limit" python3 "$REPO/bench/fwd/compare.py" --points "$POINTS" --reps "$REPS" \
    --warm "$WARM" --dur "$DUR" --threads "$THREADS" --binary "$BIN" --out "$OUT" --raw "$RAW" \
    --command "POINTS=$POINTS REPS=$REPS WARM=$WARM DUR=$DUR THREADS=$THREADS bench/fwd/run.sh" \
    > "$OVSB/compare.log"
echo "wrote $OUT" >&2
