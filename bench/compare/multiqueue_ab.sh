#!/usr/bin/env bash
# rvs against rvs: flow setup rate (setup_rate.py, the topology and rules of run.sh) with one
# forwarding thread and one receive queue on port ovsp1, against N threads and N queues
# (`n-forwarding-threads=N`, `n_rxq=N`), alternating variant by variant and round by round.
# Needs root (netns, AF_PACKET) and tcpreplay; does not run OVS.
#
#   ROUNDS=3 VARS="q1t1 q2t2" SETUP_N=10000,50000,200000 bench/compare/multiqueue_ab.sh
#
# A variant qXtY has X receive queues on ovsp1 and Y forwarding threads (one digit each).
# Knobs: ROUNDS (2), VARS (q1t1 q2t2), SETUP_N, PPS (0 = --topspeed), OUT (JSON lines, appended;
# one {"variant"} line precedes each variant's setup_rate.py line), RVS_BIN (target/release/rvs).
set -u
REPO=$(cd "$(dirname "$0")/../.." && pwd)
export CMPB=${CMPB:-/tmp/mqab} NS=${NS:-mqab} RVS_BIN=${RVS_BIN:-$REPO/target/release/rvs}
# shellcheck source=lib.sh
source "$REPO/bench/compare/lib.sh"
[ "$(id -u)" = 0 ] || { echo "multiqueue_ab.sh: needs root (network namespaces, AF_PACKET)" >&2; exit 1; }
OUT=${OUT:-$CMPB/multiqueue-ab.jsonl}; SETUP_N=${SETUP_N:-10000,50000,200000}; PPS=${PPS:-0}
trap teardown EXIT
mkdir -p "$CMPB"
for n in ${SETUP_N//,/ }; do ensure_pcap "$n" >/dev/null; done
for r in $(seq 1 "${ROUNDS:-2}"); do
    for v in ${VARS:-q1t1 q2t2}; do
        q=${v:1:1}; t=${v:3:1}
        export RVS_N_RXQ=$q
        rvs_bridge_start "n-forwarding-threads=$t" >/dev/null 2>&1
        echo "{\"variant\":\"$v\",\"round\":$r}" >> "$OUT"
        timeout 300 python3 "$REPO/bench/compare/setup_rate.py" --switch rvs --rundir "$RVSB/run" \
            --ns "$NS" --pcap-dir "$CMPB/pcap" --n "$SETUP_N" --reps 1 --pps "$PPS" --out "$OUT" \
            >/dev/null 2>&1 || log "setup_rate.py failed for $v round $r"
        teardown
    done
done
log "wrote $OUT"
