# shellcheck shell=bash
# Helpers for the churn benchmark (rvs next to OVS 3.1).  Source this file; do not run it.
#
# The OVS side is the shared OVS churn harness, used as is: its lib.sh (`setup_topo`: netns,
# veths gen0->ovsp1 [ofport 1] br0 [ofport 2] ovsp2->sink0, a private ovsdb-server +
# ovs-vswitchd with datapath_type=netdev, the churn rule; `teardown`) and its pcap generator.
# The rvs side builds the identical topology and runs `rvs vswitchd` inside the same kind of
# netns with the same two rules (`rvs_setup`, `rvs_stop`).
#
# Own names, so nothing here touches another harness's instances:
#   OVSB (default /tmp/rvschurn)   OVS state (run/ db/ log/), rvs state (rvs-run/, rvs.toml,
#                                  rvs.log) and the cached pcap (pcap/)
#   NS   (default rvschurn)        the network namespace this harness creates and deletes
set -u
RVS_CHURN_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RVS_REPO=$(cd "$RVS_CHURN_DIR/../.." && pwd)
if [ -z "${OVS_CHURN_HARNESS:-}" ]; then
    for d in "$RVS_REPO/../shared/ovs-baseline/churn" "$RVS_REPO/../../shared/ovs-baseline/churn"; do
        if [ -f "$d/lib.sh" ]; then OVS_CHURN_HARNESS=$(cd "$d" && pwd); break; fi
    done
fi
if [ ! -f "${OVS_CHURN_HARNESS:-}/lib.sh" ]; then
    echo "bench/churn: set OVS_CHURN_HARNESS=/path/to/shared/ovs-baseline/churn" >&2
    exit 1
fi
export OVS_CHURN_HARNESS
export OVS_BASELINE_DIR=${OVS_BASELINE_DIR:-$(cd "$OVS_CHURN_HARNESS/.." && pwd)}
export OVSB=${OVSB:-/tmp/rvschurn}
export NS=${NS:-rvschurn}
# shellcheck source=/dev/null
source "$OVS_CHURN_HARNESS/lib.sh"
RVS_RUNDIR=$OVSB/rvs-run
RVS_CTL=$RVS_RUNDIR/rvs.ctl
RVS_BIN=${RVS_BIN:-$RVS_REPO/target/release/rvs}

rvs_appctl() { ovs-appctl --timeout=60 -t "$RVS_CTL" "$@"; }
rvs_pid() { awk '{print $1; exit}' "$RVS_RUNDIR/rvs.pid" 2>/dev/null; }

# rvs_setup [other_config k=v ...]
#   The shared harness's topology in netns $NS, with rvs instead of ovs-vswitchd: a TOML config
#   (datapath netdev, br0 with AF_PACKET ports ovsp1 = ofport 1, ovsp2 = ofport 2, the churn rule
#   and priority=0 drop, the given knobs), the daemon started with `ip netns exec`.
rvs_setup() {
    local kv i cfg=$OVSB/rvs.toml
    rvs_stop 2>/dev/null || true
    ns_create
    nsx ip link add gen0 type veth peer name ovsp1
    nsx ip link add ovsp2 type veth peer name sink0
    for i in gen0 ovsp1 ovsp2 sink0; do nsx ip link set "$i" up; done
    rm -rf "$RVS_RUNDIR"
    mkdir -p "$RVS_RUNDIR"
    {
        echo 'datapath = "netdev"'
        echo "log-file = \"$OVSB/rvs.log\""
        echo '[other_config]'
        for kv in "$@"; do echo "${kv%%=*} = ${kv#*=}"; done
        echo '[[bridge]]'
        echo 'name = "br0"'
        echo "flows = [\"$CHURN_RULE\", \"priority=0,actions=drop\"]"
        for i in 1 2; do
            printf '[[bridge.port]]\nname = "ovsp%s"\ntype = "afpacket"\nofport = %s\n' "$i" "$i"
        done
    } > "$cfg"
    : > "$OVSB/rvs.log"
    ip netns exec "$NS" "$RVS_BIN" vswitchd --config "$cfg" --rundir "$RVS_RUNDIR" \
        >> "$OVSB/rvs.out" 2>&1 < /dev/null &
    for i in $(seq 1 300); do
        [ -S "$RVS_CTL" ] && rvs_appctl version >/dev/null 2>&1 && break
        sleep 0.1
    done
    rvs_appctl revalidator/wait >/dev/null || die "rvs did not start (see $OVSB/rvs.out)"
    log "rvs pid $(rvs_pid) ready in netns $NS; other_config: $(rvs_appctl get | tr '\n' ' ')"
}

# Stop the rvs this harness started (PID from its pidfile only).
rvs_stop() {
    local p i
    p=$(rvs_pid) || return 0
    [ -n "$p" ] && [ -d "/proc/$p" ] || return 0
    rvs_appctl exit >/dev/null 2>&1 || true
    for i in $(seq 1 100); do [ -d "/proc/$p" ] || break; sleep 0.1; done
    if [ -d "/proc/$p" ]; then log "rvs $p did not exit, SIGTERM"; kill -TERM "$p" 2>/dev/null; sleep 1; fi
    if [ -d "/proc/$p" ]; then log "rvs $p still there, SIGKILL"; kill -KILL "$p" 2>/dev/null; fi
}

rvs_teardown() { rvs_stop; ns_delete; }
