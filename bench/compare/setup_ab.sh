#!/usr/bin/env bash
# rvs against rvs: flow setup rate (setup_rate.py, the topology and rules of run.sh) of several
# rvs variants, alternating variant by variant and round by round so that they share the
# machine's load. Needs root (netns, AF_PACKET) and tcpreplay; does not run OVS.
#
#   VARIANTS="base:/tmp/base/release/rvs:queued after:target/release/rvs:inline" \
#   ROUNDS=5 SETUP_N=10000,50000 bench/compare/setup_ab.sh
#
# A variant is NAME:RVS_BINARY:UPCALL_MODE; UPCALL_MODE is exported as RVS_UPCALL_MODE
# (`queued` = handler threads; anything else = the daemon's default, inline misses).
# Knobs: ROUNDS (3), SETUP_N (10000,50000), PPS (0 = --topspeed), OUT (JSON lines, appended),
# CMPB/NS (state directory and netns, as lib.sh). One JSON line {"variant",...} precedes each
# variant's setup_rate.py lines.
set -u
REPO=$(cd "$(dirname "$0")/../.." && pwd)
export CMPB=${CMPB:-/tmp/rvscmp-ab} NS=${NS:-rvscmpab} RVS_BIN=$REPO/target/release/rvs
# shellcheck source=lib.sh
source "$REPO/bench/compare/lib.sh"
OUT=${OUT:-$CMPB/setup-ab.jsonl}
ROUNDS=${ROUNDS:-3}
PPS=${PPS:-0}
SETUP_N=${SETUP_N:-10000,50000}
VARIANTS=${VARIANTS:-"queued:$REPO/target/release/rvs:queued inline:$REPO/target/release/rvs:inline"}
[ "$(id -u)" = 0 ] || { echo "setup_ab.sh: needs root (network namespaces, AF_PACKET)" >&2; exit 1; }
trap teardown EXIT
mkdir -p "$CMPB"
for n in ${SETUP_N//,/ }; do ensure_pcap "$n" >/dev/null; done
for r in $(seq 1 "$ROUNDS"); do
    for v in $VARIANTS; do
        name=${v%%:*}; rest=${v#*:}
        export RVS_BIN=${rest%%:*} RVS_UPCALL_MODE=${rest#*:}
        rvs_bridge_start
        echo "{\"variant\":\"$name\",\"round\":$r,\"load\":\"$(cut -d' ' -f1-3 /proc/loadavg)\"}" >> "$OUT"
        timeout 300 python3 "$CMP_DIR/setup_rate.py" --switch rvs --rundir "$RVSB/run" --ns "$NS" \
            --pcap-dir "$CMPB/pcap" --n "$SETUP_N" --reps 1 --pps "$PPS" --out "$OUT" >/dev/null 2>&1 \
            || log "setup_rate.py failed for $name round $r"
        teardown
    done
done
log "wrote $OUT"
