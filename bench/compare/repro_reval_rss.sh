#!/usr/bin/env bash
# Hunts an intermittent failure seen once in bench/results/compare-2026-11-26-s3.md: the rvs
# revalidation point R=2, N=50k installed 124 flows in 25 s and its RSS grew to 8 GB. Replays that
# point (R=1 and R=2, TRIES times) with the compare harness (lib.sh, revalidation.py) and watches the
# daemon's RSS every second; above 1.5 GB it records top -H, a 3 s perf profile, upcall/show,
# dpctl/show, coverage/show and two gdb backtraces of every thread into $CMPB/mon.TRY.R and
# stops (exit 3). Needs root (netns) and gdb.
#   TRIES=5 bench/compare/repro_reval_rss.sh      (release binary: target/release/rvs)
set -uo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
export RVS_BIN=${RVS_BIN:-$REPO/target/release/rvs}
export CMPB=${CMPB:-/tmp/rvsrepro} NS=${NS:-rvsrepro}
source "$REPO/bench/compare/lib.sh"
trap 'teardown' EXIT
mkdir -p "$CMPB"; LOG=$CMPB/run.log; RAW=$CMPB/raw.jsonl; : > $RAW
for i in $(seq 1 ${TRIES:-6}); do
  for r in 1 2; do
  rvs_bridge_start n-revalidator-threads=$r max-revalidator=2000 2>>$LOG
  pid=$(cat $RVSB/run/rvs.pid 2>/dev/null)
  ( caught=0; for k in $(seq 1 40); do sleep 1; rss=$(ps -o rss= -p $pid 2>/dev/null | tr -d ' '); [ -z "$rss" ] && break
      if [ "$rss" -gt 1500000 ] && [ $caught = 0 ]; then caught=1; echo "CAUGHT pid $pid rss $rss"; top -H -b -n1 -p $pid | head -20
        timeout 20 perf record -g -o $CMPB/perf.data -p $pid -- sleep 3 >/dev/null 2>&1; perf report -i $CMPB/perf.data --no-children --stdio 2>/dev/null | grep -v '^#' | grep -v '^$' | head -60
        "$RVS_BIN" appctl --rundir $RVSB/run upcall/show; "$RVS_BIN" appctl --rundir $RVSB/run dpctl/show; "$RVS_BIN" appctl --rundir $RVSB/run coverage/show | head -60
        # Where every thread is (a stuck forwarding thread, a lock it waits for), and again 2 s later.
        for snap in 1 2; do echo "== backtraces $snap"; timeout 60 gdb -p $pid -batch -ex "thread apply all bt 30" 2>/dev/null | grep -v "^\[New LWP"; sleep 2; done; fi; done ) > $CMPB/mon.$i.$r 2>&1 &
  mon=$!
  timeout 120 python3 "$CMP_DIR/revalidation.py" --switch rvs --rundir "$RVSB/run" --ns "$NS" --n 50000 \
     --pcap "$(ensure_pcap 50000)" --pps 60000 --install-deadline 25 --steady 2 --full 1 \
     --config "n-revalidator-threads=$r" --out "$RAW" >> $LOG 2>&1
  wait $mon
  echo "try $i R=$r: $(tail -1 $RAW | python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); print(d.get("flows_installed"), d.get("rss_kb_n"))')"
  grep -q CAUGHT $CMPB/mon.$i.$r && { cp $RVSB/run/rvs.log $CMPB/caught-rvs.log 2>/dev/null; teardown; exit 3; }
  teardown
  done
done
