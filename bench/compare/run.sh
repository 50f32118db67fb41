#!/usr/bin/env bash
# Side-by-side benchmark: rvs vs Open vSwitch 3.1, same machine, same run, identical topology,
# rules and traffic (issue #8). Needs root (network namespaces, AF_PACKET).
#
#   bench/compare/run.sh [--quick]
#
# Runs, for OVS and then rvs on the same veth topology in a private netns:
#   setup        flow setup rate (setup_rate.py): one pass of N new 5-tuples, --topspeed and paced
#   revalidation steady and full round time + RSS per flow (revalidation.py), fresh daemon per
#                (revalidators R, N)
#   tse          legit throughput retained under a tuple-space-explosion attack (tse.py)
# and writes bench/results/compare-<date>.{md,jsonl} plus SVG plots (report.py).
#   forwarding   bench/fwd/run.sh (1 and 20 masks; FWD=1, the full mode's default), whose report
#                is written beside this one and copied into it; with FWD=0 the forwarding rows are
#                copied from bench/fwd's newest report (an earlier run, said so in the report).
#
# Knobs (env; defaults = full mode, --quick in brackets):
#   SETUP_N=10000,50000,200000 [10000,50000]   SETUP_REPS=3 [1]   PACED_PPS=50000 (0 = skip)
#   REVAL_N="10000 160000 200000" [10000 50000] RLIST="1 2" [1]   STEADY=5 [3]  FULL=3 [2]
#   BIG_N=1000000 [none]: extra revalidation point for rvs, and for OVS unless BIG_OVS=0
#   RVS_SCOPE_ALL=1: one more rvs point per (R, N) with `revalidation-scope=all` (every ukey
#     translated again after a change, as OVS does; the default translates only affected ones)
#   INSTALL_PPS=60000 (paced install for revalidation points; BIG_N uses BIG_PPS=150000)
#   BIG_LIMIT=2*BIG_N (at least 1M): flow limit (ceiling and pinned value) of the BIG_N points
#   REVAL_MAXREV=2000 BIG_MAXREV=6000: max-revalidator (ms) of the revalidation points (BIG_N),
#   the same on both switches. When the previous round took longer than max-revalidator/2
#   (OVS's default 500 ms gives 250 ms, which a loaded 2-core machine exceeds from ~150k flows),
#   both switches DELETE flows idle since their install on a full round instead of
#   re-translating them, and the "full round" would time deletions.
#   FWD_DAEMON=1 FWD_POINTS=plain,acl:1,acl:20 FWD_DAEMON_REPS=3 [1]: forwarding through both daemons
#                (fwd_daemon.py: the shared harness's rules and pcaps, megaflows from each switch's
#                own upcalls, tcpreplay --topspeed; ~25 s per point and switch with 3 repetitions)
#   TSE=1 TSE_REPS=3 [1] TSE_ATTACK_PPS=1000 TSE_LEGIT_PPS=150000: tuple-space explosion (tse.py,
#   with the rules, pcaps and attacker of shared/ovs-baseline/fwd, found beside the repository or
#   through OVS_FWD_HARNESS; max-idle=10000 on both switches)
#   FWD=1 [0]: run bench/fwd/run.sh (REPS=3, ~4 min) into OUT with -fwd.md
#   RVS_FEATURES= cargo features of the rvs build, e.g. `mimalloc` (default: none; in the knobs line)
#   CMPB=/tmp/rvscmp NS=rvscmp: state directory and netns this script creates and removes
#   OUT=bench/results/compare-<date>.md
# Bounded: every driver runs under `timeout`, every loop in the drivers has a deadline; daemons
# are stopped by the PIDs in their pidfiles and the netns is deleted on exit.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
QUICK=0
[ "${1:-}" = "--quick" ] && QUICK=1
if [ $QUICK = 1 ]; then
    : "${SETUP_N:=10000,50000}" "${SETUP_REPS:=1}" "${REVAL_N:=10000 50000}" "${RLIST:=1}"
    : "${STEADY:=3}" "${FULL:=2}" "${BIG_N:=}" "${TSE_REPS:=1}" "${FWD:=0}" "${FWD_DAEMON_REPS:=1}"
fi
FWD=${FWD:-1}
SETUP_N=${SETUP_N:-10000,50000,200000} SETUP_REPS=${SETUP_REPS:-3} PACED_PPS=${PACED_PPS:-50000}
REVAL_N=${REVAL_N:-10000 160000 200000} RLIST=${RLIST:-1 2} STEADY=${STEADY:-5} FULL=${FULL:-3}
BIG_N=${BIG_N-1000000} BIG_OVS=${BIG_OVS:-1} INSTALL_PPS=${INSTALL_PPS:-60000} BIG_PPS=${BIG_PPS:-150000}
BIG_MAXREV=${BIG_MAXREV:-6000} REVAL_MAXREV=${REVAL_MAXREV:-2000}
BIG_LIMIT=${BIG_LIMIT:-$(( ${BIG_N:-0} * 2 > 1000000 ? ${BIG_N:-0} * 2 : 1000000 ))}
RVS_SCOPE_ALL=${RVS_SCOPE_ALL:-1}
FWD_DAEMON=${FWD_DAEMON:-1} FWD_POINTS=${FWD_POINTS:-plain,acl:1,acl:20} FWD_DAEMON_REPS=${FWD_DAEMON_REPS:-3}
TSE=${TSE:-1} TSE_REPS=${TSE_REPS:-3} TSE_ATTACK_PPS=${TSE_ATTACK_PPS:-1000} TSE_LEGIT_PPS=${TSE_LEGIT_PPS:-150000}
DATE=$(date +%Y-%m-%d)
OUT=${OUT:-$REPO/bench/results/compare-$DATE.md}
RAW=${OUT%.md}.jsonl

[ "$(id -u)" = 0 ] || { echo "run.sh: needs root (network namespaces, AF_PACKET)" >&2; exit 1; }

# Open vSwitch 3.1 and tcpreplay from Debian's packages, only if missing.
PKGS="openvswitch-switch openvswitch-common tcpreplay iproute2 procps python3"
missing=""
for p in $PKGS; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
    timeout 600 apt-get update
    DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y --no-install-recommends $missing
fi

RVS_FEATURES=${RVS_FEATURES:-}
(cd "$REPO" && timeout 1800 cargo build --release -q -p rvs ${RVS_FEATURES:+--features "$RVS_FEATURES"})
TARGET_DIR=$(cd "$REPO" && cargo metadata --format-version 1 --no-deps 2>/dev/null \
      | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
export RVS_BIN=$TARGET_DIR/release/rvs

# shellcheck source=lib.sh
source "$REPO/bench/compare/lib.sh"
trap 'teardown' EXIT
mkdir -p "$CMPB" "$(dirname "$OUT")"
LOG=$CMPB/run.log
: > "$RAW"

{
    echo "{\"scenario\": \"meta\", \"command\": \"$*\", \"quick\": $QUICK, \"date\": \"$(date -Is)\","
    echo " \"uptime_start\": \"$(uptime)\", \"kernel\": \"$(uname -r)\", \"cpus\": $(nproc),"
    echo " \"ovs\": \"$(ovs-vswitchd --version | head -1)\", \"rvs\": \"$(cd "$REPO" && git rev-parse --short HEAD)\","
    echo " \"tcpreplay\": \"$(tcpreplay --version 2>&1 | head -1)\","
    echo " \"knobs\": \"SETUP_N=$SETUP_N SETUP_REPS=$SETUP_REPS PACED_PPS=$PACED_PPS REVAL_N=$REVAL_N RLIST=$RLIST STEADY=$STEADY FULL=$FULL BIG_N=$BIG_N BIG_OVS=$BIG_OVS INSTALL_PPS=$INSTALL_PPS BIG_PPS=$BIG_PPS BIG_MAXREV=$BIG_MAXREV BIG_LIMIT=$BIG_LIMIT REVAL_MAXREV=$REVAL_MAXREV RVS_SCOPE_ALL=$RVS_SCOPE_ALL FWD=$FWD FWD_DAEMON=$FWD_DAEMON FWD_POINTS=$FWD_POINTS FWD_DAEMON_REPS=$FWD_DAEMON_REPS TSE=$TSE TSE_REPS=$TSE_REPS TSE_ATTACK_PPS=$TSE_ATTACK_PPS TSE_LEGIT_PPS=$TSE_LEGIT_PPS RVS_FEATURES=$RVS_FEATURES\"}"
} | python3 -c 'import json,sys; print(json.dumps(json.loads(sys.stdin.read())))' >> "$RAW"

for n in ${SETUP_N//,/ } $REVAL_N $BIG_N; do ensure_pcap "$n" >/dev/null; done

start() {  # start SWITCH KEY=VALUE...
    local sw=$1; shift
    if [ "$sw" = ovs ]; then ovs_bridge_start "$@" 2>>"$LOG"; else rvs_bridge_start "$@" 2>>"$LOG"; fi
}
rundir() { if [ "$1" = ovs ]; then echo "$OVS_RUNDIR"; else echo "$RVSB/run"; fi; }

# ---------------------------------------------------------------- flow setup rate
for sw in ovs rvs; do
    start "$sw"
    log "setup rate: $sw"
    timeout 900 python3 "$CMP_DIR/setup_rate.py" --switch "$sw" --rundir "$(rundir "$sw")" \
        --ns "$NS" --pcap-dir "$CMPB/pcap" --n "$SETUP_N" --reps "$SETUP_REPS" --out "$RAW" \
        >> "$LOG" 2>&1 || log "setup rate $sw topspeed: driver failed (see $LOG)"
    if [ "$PACED_PPS" != 0 ]; then
        timeout 900 python3 "$CMP_DIR/setup_rate.py" --switch "$sw" --rundir "$(rundir "$sw")" \
            --ns "$NS" --pcap-dir "$CMPB/pcap" --n "$SETUP_N" --reps "$SETUP_REPS" \
            --pps "$PACED_PPS" --out "$RAW" >> "$LOG" 2>&1 \
            || log "setup rate $sw paced: driver failed (see $LOG)"
    fi
    teardown
done

# ---------------------------------------------------------------- revalidation + memory
reval_point() {  # reval_point SWITCH R N PPS DEADLINE [KEY=VALUE...]
    local sw=$1 r=$2 n=$3 pps=$4 dl=$5
    shift 5
    start "$sw" "n-revalidator-threads=$r" "$@"
    log "revalidation: $sw R=$r N=$n $*"
    local limit_note=""
    [ "$FLOW_LIMIT" != 1000000 ] && limit_note=" flow-limit=$FLOW_LIMIT"
    timeout $((dl + 600)) python3 "$CMP_DIR/revalidation.py" --switch "$sw" --rundir "$(rundir "$sw")" \
        --ns "$NS" --n "$n" --pcap "$(ensure_pcap "$n")" --pps "$pps" --install-deadline "$dl" \
        --flow-limit "$FLOW_LIMIT" --steady "$STEADY" --full "$FULL" \
        --config "n-revalidator-threads=$r $*$limit_note" --out "$RAW" >> "$LOG" 2>&1 \
        || log "revalidation $sw R=$r N=$n: driver failed (see $LOG)"
    teardown
}
for r in $RLIST; do
    for n in $REVAL_N; do
        for sw in ovs rvs; do
            reval_point "$sw" "$r" "$n" "$INSTALL_PPS" 90 "max-revalidator=$REVAL_MAXREV"
        done
        # rvs translating every ukey again after a change, as OVS does (its default translates
        # only the ukeys a change may affect).
        if [ "$RVS_SCOPE_ALL" = 1 ]; then
            reval_point rvs "$r" "$n" "$INSTALL_PPS" 90 "max-revalidator=$REVAL_MAXREV" \
                'revalidation-scope="all"'
        fi
    done
    if [ -n "$BIG_N" ]; then
        # The limit above N: at the limit both switches refuse new flows, and rvs's adaptive
        # policy also evicts the longest idle ones to make room, which is not what this point
        # measures.
        if [ "$BIG_OVS" = 1 ]; then
            FLOW_LIMIT=$BIG_LIMIT reval_point ovs "$r" "$BIG_N" "$BIG_PPS" 240 "max-revalidator=$BIG_MAXREV"
        fi
        FLOW_LIMIT=$BIG_LIMIT reval_point rvs "$r" "$BIG_N" "$BIG_PPS" 240 "max-revalidator=$BIG_MAXREV"
    fi
done

# The shared OVS harness's traffic generator (rules, pcaps, attacker), used by path.
FWDH=${OVS_FWD_HARNESS:-}
for d in "$REPO/../shared/ovs-baseline/fwd" /work/shared/ovs-baseline/fwd; do
    [ -z "$FWDH" ] && [ -f "$d/gen.py" ] && FWDH=$(cd "$d" && pwd)
done

# ---------------------------------------------------------------- forwarding through the daemons
if [ "$FWD_DAEMON" = 1 ]; then
    if [ -n "$FWDH" ] && [ -f "$FWDH/gen.py" ]; then
        P=$CMPB/pcap
        python3 "$FWDH/gen.py" fwd-rules PLAIN "$P/fwd-plain.rules"
        python3 "$FWDH/gen.py" fwd-rules ACL "$P/fwd-acl.rules"
        for point in ${FWD_POINTS//,/ }; do
            kind=${point%%:*} n=1
            [ "$kind" = acl ] && n=${point#*:}
            [ -s "$P/fwd$n.pcap" ] || python3 "$FWDH/gen.py" fwd-pcap "$n" "$P/fwd$n.pcap"
            for sw in ovs rvs; do
                RULES_FILE=$P/fwd-$kind.rules start "$sw"
                log "forwarding through the daemon: $sw $point"
                timeout $((120 + FWD_DAEMON_REPS * 30)) python3 "$CMP_DIR/fwd_daemon.py" --switch "$sw" \
                    --rundir "$(rundir "$sw")" --ns "$NS" --point "$point" --pcap "$P/fwd$n.pcap" \
                    --expect-flows "$n" --reps "$FWD_DAEMON_REPS" --out "$RAW" >> "$LOG" 2>&1 \
                    || log "forwarding $sw $point: driver failed (see $LOG)"
                teardown
            done
        done
    else
        log "forwarding through the daemons skipped: shared/ovs-baseline/fwd not found (set OVS_FWD_HARNESS)"
    fi
fi

# ---------------------------------------------------------------- tuple-space explosion
if [ "$TSE" = 1 ]; then
    if [ -n "$FWDH" ] && [ -f "$FWDH/gen.py" ] && [ -f "$FWDH/attack.py" ]; then
        P=$CMPB/pcap
        python3 "$FWDH/gen.py" tse-rules "$P/tse.rules"
        [ -s "$P/tse-legit.pcap" ] || python3 "$FWDH/gen.py" tse-legit "$P/tse-legit.pcap"
        [ -s "$P/tse-attack.pcap" ] || python3 "$FWDH/gen.py" tse-attack "$P/tse-attack.pcap" --mode informed >&2
        for sw in ovs rvs; do
            RULES_FILE=$P/tse.rules MAX_IDLE=10000 start "$sw"
            log "tuple-space explosion: $sw"
            timeout $((120 + TSE_REPS * 120)) python3 "$CMP_DIR/tse.py" --switch "$sw" --rundir "$(rundir "$sw")" \
                --ns "$NS" --legit "$P/tse-legit.pcap" --attack "$P/tse-attack.pcap" \
                --attacker "$FWDH/attack.py" --attack-pps "$TSE_ATTACK_PPS" --legit-pps "$TSE_LEGIT_PPS" \
                --reps "$TSE_REPS" --out "$RAW" >> "$LOG" 2>&1 || log "tse $sw: driver failed (see $LOG)"
            teardown
        done
    else
        log "tuple-space explosion skipped: shared/ovs-baseline/fwd not found (set OVS_FWD_HARNESS)"
    fi
fi

# ---------------------------------------------------------------- forwarding (bench/fwd)
FWD_OUT=$(ls "$REPO"/bench/results/fwd-*.md 2>/dev/null | sort | tail -1 || true)
FWD_SAME_RUN=()
if [ "$FWD" = 1 ]; then
    log "forwarding: bench/fwd/run.sh"
    if OUT="${OUT%.md}-fwd.md" timeout 1500 "$REPO/bench/fwd/run.sh" >> "$LOG" 2>&1; then
        FWD_OUT="${OUT%.md}-fwd.md"
        FWD_SAME_RUN=(--fwd-same-run)
    else
        log "forwarding: bench/fwd/run.sh failed (see $LOG); copying the newest earlier report"
    fi
fi

echo "{\"scenario\": \"meta_end\", \"date\": \"$(date -Is)\", \"uptime_end\": \"$(uptime)\"}" >> "$RAW"
timeout 120 python3 "$CMP_DIR/report.py" --raw "$RAW" --out "$OUT" \
    --fwd "$FWD_OUT" "${FWD_SAME_RUN[@]}" --command "bench/compare/run.sh $*"
log "wrote $OUT"
