#!/usr/bin/env bash
# Churn benchmark: datapath flows kept under a constant load of short-lived flows, rvs next to
# Open vSwitch 3.1 (userspace datapath), back to back per offered rate, same traffic, same
# sampling.  Needs root.  One command:
#
#   bench/churn/run.sh [--quick]
#
# writes bench/results/churn-<date>.raw.jsonl (one JSON line per run, with the 0.5 s series),
# bench/results/churn-<date>.md (tables with the rvs/OVS ratio per row) and
# bench/results/churn-<date>-60k.svg (flows kept over time at 60k new flows/s).
#
# Knobs (env):
#   CONFIGS   ';'-separated  name|limit_init|other_config|rates  (default: the full matrix below;
#             --quick: warm at 10k and 60k, fresh at 60k, 20 s runs)
#   ONLY      comma-separated config names to run out of CONFIGS (default: all)
#   DUR=60 LAST=30   seconds of traffic per run, summary window = the last LAST s
#   CHECK=1   first verify, for each switch, one exact-match datapath flow per 5-tuple
#   APPEND=0  1: append to an existing raw file instead of starting a new one
#   OUT=bench/results/churn-<date>.md  (RAW = OUT with .raw.jsonl, SVG = OUT with -60k.svg)
#   OVS_CHURN_HARNESS  the shared OVS harness (default ../shared/ovs-baseline/churn beside the repo)
#   SWITCHES="ovs rvs"  which switches to run (e.g. SWITCHES=rvs for a quick look at rvs alone;
#             the report's ratios need both)
#   RVS_FEATURES  cargo features of the rvs build, e.g. `mimalloc` (default: none, the C library's
#             malloc); named in the report's command line
#   OVSB=/tmp/rvschurn NS=rvschurn  state dir and netns this script creates and removes
#   NICE=-10  scheduling priority of this script and everything it starts (generator, both
#             switches, samplers): the machine is shared, and at the default priority other
#             jobs' compilers take most of the 2 cores.  The script runs in its own session
#             (setsid), and with sched_autogroup enabled the nice value is also set on that
#             session's autogroup (nice alone only ranks threads inside one autogroup).
#             Empty = leave the priority alone.
# Bounded: each driver runs under `timeout DUR+150`, tcpreplay has --duration, daemons are stopped
# by the PIDs in their pidfiles, the netns is deleted on exit.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
if [ -z "${RVS_CHURN_SESSION:-}" ]; then   # own session = own scheduler autogroup
    RVS_CHURN_SESSION=1 exec setsid -w "$HERE/run.sh" "$@"
fi
QUICK=0
if [ "${1:-}" = "--quick" ]; then QUICK=1; fi
# shellcheck source=lib.sh
source "$HERE/lib.sh"
set +u

ALL_RATES=10000,20000,30000,60000,100000
if [ "$QUICK" = 1 ]; then
    DEF_CONFIGS="warm|preset||10000,60000;fresh|fresh||60000"
    DUR=${DUR:-20}
    LAST=${LAST:-10}
else
    DEF_CONFIGS="warm|preset||$ALL_RATES;warm-flow-limit=1000000|preset|flow-limit=1000000|100000"
    DEF_CONFIGS+=";fresh|fresh||$ALL_RATES;warm-max-idle=1000|preset|max-idle=1000|$ALL_RATES"
    DUR=${DUR:-60}
    LAST=${LAST:-30}
fi
CONFIGS=${CONFIGS:-$DEF_CONFIGS}
ONLY=${ONLY:-}
CHECK=${CHECK:-1}
APPEND=${APPEND:-0}
PPF=3 GAP=2000 NFLOWS=1500000
DATE=$(date +%Y-%m-%d)
SUFFIX=""
if [ "$QUICK" = 1 ]; then SUFFIX=-quick; fi
OUT=${OUT:-$RVS_REPO/bench/results/churn-$DATE$SUFFIX.md}
RAW=${OUT%.md}.raw.jsonl
SVG=${OUT%.md}-60k.svg
LOG=$OVSB/run.log

[ "$(id -u)" = 0 ] || { echo "run.sh: needs root (network namespaces, AF_PACKET)" >&2; exit 1; }
NICE=${NICE--10}
if [ -n "$NICE" ]; then
    renice -n "$NICE" -p $$ >/dev/null
    if [ -w "/proc/$$/autogroup" ]; then echo "$NICE" > "/proc/$$/autogroup"; fi
fi
AUTOGROUP=$(cat "/proc/$$/autogroup" 2>/dev/null || echo none)
timeout 900 "$OVS_BASELINE_DIR/install.sh" >&2
cleanup() { rvs_stop || true; teardown || true; }
trap cleanup EXIT

RVS_FEATURES=${RVS_FEATURES:-}
(cd "$RVS_REPO" && timeout 3000 cargo build --release -q -p rvs ${RVS_FEATURES:+--features "$RVS_FEATURES"})
[ -x "$RVS_BIN" ] || die "no rvs binary at $RVS_BIN"

mkdir -p "$OVSB" "$(dirname "$OUT")"
pcap=$(ensure_churn_pcap "$NFLOWS" "$PPF" "$GAP")
[ "$APPEND" = 1 ] || : > "$RAW"

drv() {  # drv SWITCH TIMEOUT ARGS...  -> driver stdout
    timeout "$2" ip netns exec "$NS" env OVSB="$OVSB" OVS_BASELINE_DIR="$OVS_BASELINE_DIR" \
        python3 "$HERE/churn.py" --switch "$1" --pcap "$pcap" --ppf "$PPF" --gap "$GAP" \
        --nflows "$NFLOWS" "${@:3}"
}

start_switch() {  # start_switch SWITCH other_config...
    local sw=$1 p; shift
    if [ "$sw" = ovs ]; then
        setup_topo "$@" 2>>"$LOG"
        # ovs-vswitchd --detach calls setsid(): its own autogroup, which needs the same nice
        for p in $(vswitchd_pid) $(ovsdb_pid); do
            if [ -n "$NICE" ] && [ -w "/proc/$p/autogroup" ]; then echo "$NICE" > "/proc/$p/autogroup"; fi
        done
    else
        rvs_setup "$@" 2>>"$LOG"
    fi
}
stop_switch() {  # stop_switch SWITCH
    if [ "$1" = ovs ]; then teardown; else rvs_teardown; fi
}
switch_pid() { if [ "$1" = ovs ]; then vswitchd_pid; else rvs_pid; fi; }
switch_appctl() {
    local sw=$1; shift
    if [ "$sw" = ovs ]; then appctl "$@"; else rvs_appctl "$@"; fi
}

# record SWITCH CONFIG LIMIT_INIT OTHER RATE PID FILE: RUN/CHECK lines of FILE -> $RAW, with context.
record() {
    local alive=0 warn
    [ -d "/proc/$6" ] && alive=1
    if [ "$1" = ovs ]; then
        warn=$(grep -E 'WARN|ERR' "$OVS_LOGDIR/ovs-vswitchd.log" 2>/dev/null \
               | grep -v 'enumerate system datapaths' | tail -5 || true)
    else
        warn=$(grep -aE 'WARN|ERR|panic' "$OVSB/rvs.log" "$OVSB/rvs.out" 2>/dev/null | tail -5 || true)
    fi
    python3 - "$7" "$RAW" "$1" "$2" "$3" "$4" "$5" "$alive" "$(uptime)" "$warn" "$(nice)" \
        "$(cat "/proc/$6/autogroup" 2>/dev/null || echo "$AUTOGROUP")" <<'EOF'
import json, sys
src, raw, sw, cfg, li, oc, rate, alive, up, warn, nice, ag = sys.argv[1:13]
n = 0
with open(src) as f, open(raw, "a") as o:
    for line in f:
        kind, _, body = line.partition(" ")
        if kind not in ("RUN", "CHECK"):
            continue
        r = json.loads(body)
        r.update(kind=kind, switch=sw, config=cfg, limit_init=li, other_config=oc,
                 rate=int(rate) if rate.isdigit() else None, switch_alive_after=alive == "1",
                 uptime=up.strip(), log_warnings=[w for w in warn.splitlines() if w], nice=int(nice),
                 autogroup=ag)
        o.write(json.dumps(r) + "\n")
        n += 1
if n == 0:
    with open(raw, "a") as o:
        o.write(json.dumps({"kind": "ERROR", "switch": sw, "config": cfg, "limit_init": li,
                            "other_config": oc, "rate": int(rate) if rate.isdigit() else None,
                            "switch_alive_after": alive == "1", "uptime": up.strip(),
                            "log_warnings": warn.splitlines(),
                            "driver_output": open(src).read()[-3000:]}) + "\n")
    print(f"  no RUN line from the driver ({sw} {cfg} {rate})", file=sys.stderr)
EOF
}

summary_line() {  # the last RAW line, one human line
    tail -1 "$RAW" | python3 -c 'import json,sys
r=json.loads(sys.stdin.read())
if r.get("kind")!="RUN": print("  ", r.get("kind"), r.get("switch"), r.get("ok", r.get("error", ""))); sys.exit()
sc=r.get("stats_check",{})
print("  %s %s %s: kept %s [%s..%s] limit %s dump %s ms installs/s %s lost/s %s kdrop %s%% cpu/install %s us sum-ok %s" % (
 r["switch"], r["config"], r["rate"], r["w_flows_median"], r["w_flows_min"], r["w_flows_max"],
 r["w_limit_median"], r["w_dump_ms_median"], r["w_installed_per_s"], r["w_lost_per_s"],
 r["w_kernel_drop_pct"], r["w_cpu_us_per_install"], sc.get("ok")))' >&2 || true
}

echo "### $(date -Is) $(uname -r) $(nproc) cpus; $(uptime); nice $(nice); autogroup $AUTOGROUP" >> "$LOG"
if [ "$CHECK" = 1 ]; then
    for sw in ${SWITCHES:-ovs rvs}; do
        start_switch "$sw"
        pid=$(switch_pid "$sw")
        drv "$sw" 120 --check > "$OVSB/drv.out" 2>>"$LOG" || true
        record "$sw" check - - - "$pid" "$OVSB/drv.out"
        summary_line
        stop_switch "$sw"
    done
fi

IFS=';' read -r -a cfgs <<< "$CONFIGS"
for c in "${cfgs[@]}"; do
    IFS='|' read -r name limit_init other rates <<< "$c"
    if [ -n "$ONLY" ] && [[ ",$ONLY," != *",$name,"* ]]; then continue; fi
    flow_limit=200000
    for kv in $other; do case $kv in flow-limit=*) flow_limit=${kv#flow-limit=} ;; esac; done
    for rate in ${rates//,/ }; do
        for sw in ${SWITCHES:-ovs rvs}; do
            log "$name rate $rate: $sw"
            # shellcheck disable=SC2086
            start_switch "$sw" $other
            pid=$(switch_pid "$sw")
            if [ "$limit_init" = preset ]; then
                switch_appctl "$sw" upcall/set-flow-limit "$flow_limit" >/dev/null
            fi
            drv "$sw" $((DUR + 150)) --rate "$rate" --dur "$DUR" --last "$LAST" \
                --limit-init "$limit_init" --label "$name" > "$OVSB/drv.out" 2>>"$LOG" || true
            record "$sw" "$name" "$limit_init" "$other" "$rate" "$pid" "$OVSB/drv.out"
            summary_line
            stop_switch "$sw"
        done
    done
done

cmd="bench/churn/run.sh"
if [ -n "$RVS_FEATURES" ]; then cmd="RVS_FEATURES=$RVS_FEATURES $cmd"; fi
if [ "$QUICK" = 1 ]; then cmd+=" --quick"; fi
python3 "$HERE/report.py" --raw "$RAW" --out "$OUT" --svg "$SVG" --command "$cmd" \
    --dur "$DUR" --last "$LAST"
log "wrote $OUT, $RAW, $SVG"
