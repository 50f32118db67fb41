# shellcheck shell=bash
# Helpers for bench/compare (source it). Adapted from the shared OVS harness
# shared/ovs-baseline/lib.sh (private ovsdb-server + ovs-vswitchd, netns + veth topology),
# extended with the same topology for rvs. Everything lives under $CMPB and in netns $NS,
# both private to this benchmark; daemons are stopped by the PIDs in their own pidfiles.

set -u
CMP_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CMPB=${CMPB:-/tmp/rvscmp}
NS=${NS:-rvscmp}
OVSB=$CMPB/ovs
RVSB=$CMPB/rvs
export OVS_RUNDIR=$OVSB/run OVS_DBDIR=$OVSB/db OVS_LOGDIR=$OVSB/log
export OVS_SYSCONFDIR=$OVSB/etc OVS_PKGDATADIR=/usr/share/openvswitch
export OVS_BINDIR=/usr/bin OVS_SBINDIR=/usr/sbin
DB_SOCK=unix:$OVS_RUNDIR/db.sock
RVS_BIN=${RVS_BIN:-}
# Ceiling and pinned value of the flow limit on both switches (run.sh raises it for BIG_N).
FLOW_LIMIT=${FLOW_LIMIT:-1000000}

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "FATAL: $*"; exit 1; }

vsctl()  { ovs-vsctl --db="$DB_SOCK" --timeout=60 "$@"; }
appctl() { ovs-appctl --timeout=120 "$@"; }

# The megaflow rule (shared/ovs-baseline/lib.sh, mode "megaflow"): reading ip_src and udp_src
# into registers un-wildcards them, so every 5-tuple gets its own datapath flow
# (in_port, udp, nw_src exact, nw_dst /16, tp_src exact, tp_dst=80). Used on BOTH switches.
RULE_MEGAFLOW='priority=10,udp,nw_dst=198.19.0.0/16,tp_dst=80,actions=move:NXM_OF_IP_SRC[]->NXM_NX_REG0[],move:NXM_OF_UDP_SRC[]->NXM_NX_REG1[0..15],output:2'
RULE_DEFAULT='priority=0,actions=drop'

ovs_stop() {
    local p d i
    for d in ovs-vswitchd ovsdb-server; do
        p=$(cat "$OVS_RUNDIR/$d.pid" 2>/dev/null) || continue
        [ -n "$p" ] && [ -d "/proc/$p" ] || continue
        ovs-appctl --timeout=10 -t "$OVS_RUNDIR/$d.$p.ctl" exit >/dev/null 2>&1 || true
        for i in $(seq 1 50); do [ -d "/proc/$p" ] || break; sleep 0.1; done
        if [ -d "/proc/$p" ]; then kill -TERM "$p" 2>/dev/null; sleep 0.5; fi
        if [ -d "/proc/$p" ]; then kill -KILL "$p" 2>/dev/null; fi
    done
}

rvs_stop() {
    local p i
    p=$(cat "$RVSB/run/rvs.pid" 2>/dev/null) || return 0
    [ -n "$p" ] && [ -d "/proc/$p" ] || return 0
    timeout 20 "$RVS_BIN" appctl -t "$RVSB/run/rvs.$p.ctl" exit >/dev/null 2>&1 || true
    for i in $(seq 1 100); do [ -d "/proc/$p" ] || break; sleep 0.1; done
    if [ -d "/proc/$p" ]; then kill -TERM "$p" 2>/dev/null; sleep 1; fi
    if [ -d "/proc/$p" ]; then kill -KILL "$p" 2>/dev/null; fi
}

ns_create() {
    ip netns del "$NS" 2>/dev/null || true
    ip netns add "$NS"
    ip netns exec "$NS" ip link set lo up
    ip netns exec "$NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
}
ns_delete() { ip netns del "$NS" 2>/dev/null || true; }
nsx() { ip netns exec "$NS" "$@"; }

# Identical topology for both switches (a fresh netns each time):
#   gen0 =veth= ovsp1 [br0 ofport 1]  ->  [br0 ofport 2] ovsp2 =veth= sink0
topo_create() {
    ns_create
    nsx ip link add gen0 type veth peer name ovsp1
    nsx ip link add ovsp2 type veth peer name sink0
    for i in gen0 ovsp1 ovsp2 sink0; do nsx ip link set "$i" up; done
}

# ovs_bridge_start KEY=VALUE... : fresh netns + OVS (userspace datapath) with the megaflow rule
# (or the rules of $RULES_FILE, ovs-ofctl add-flows syntax); max-idle=$MAX_IDLE (600000).
ovs_bridge_start() {
    local kv
    ovs_stop; rvs_stop
    topo_create
    rm -rf "$OVSB/run" "$OVSB/db" "$OVSB/log" "$OVSB/etc"
    mkdir -p "$OVS_RUNDIR" "$OVS_DBDIR" "$OVS_LOGDIR" "$OVS_SYSCONFDIR/openvswitch"
    ovsdb-tool create "$OVS_DBDIR/conf.db" "$OVS_PKGDATADIR/vswitch.ovsschema" || die "ovsdb-tool create"
    ovsdb-server "$OVS_DBDIR/conf.db" --remote="p$DB_SOCK" -vconsole:off \
        --pidfile --detach --no-chdir --log-file="$OVS_LOGDIR/ovsdb-server.log" || die "ovsdb-server"
    vsctl --no-wait init
    nsx ovs-vswitchd "$DB_SOCK" --pidfile --detach --no-chdir -vconsole:off \
        --log-file="$OVS_LOGDIR/ovs-vswitchd.log" || die "ovs-vswitchd"
    vsctl --timeout=30 wait-until Open_vSwitch . next_cfg=0 >/dev/null 2>&1 || true
    vsctl set Open_vSwitch . other_config:max-idle="${MAX_IDLE:-600000}" other_config:flow-limit="$FLOW_LIMIT"
    for kv in "$@"; do vsctl set Open_vSwitch . "other_config:$kv"; done
    vsctl add-br br0 -- set bridge br0 datapath_type=netdev \
        -- add-port br0 ovsp1 -- set interface ovsp1 ofport_request=1 \
        -- add-port br0 ovsp2 -- set interface ovsp2 ofport_request=2
    ovs-ofctl del-flows br0
    if [ -n "${RULES_FILE:-}" ]; then
        ovs-ofctl add-flows br0 "$RULES_FILE"
    else
        ovs-ofctl add-flow br0 "$RULE_MEGAFLOW"
        ovs-ofctl add-flow br0 "$RULE_DEFAULT"
    fi
    appctl upcall/set-flow-limit "$FLOW_LIMIT" >/dev/null
    appctl revalidator/wait
    log "OVS pid $(cat "$OVS_RUNDIR/ovs-vswitchd.pid") ready in netns $NS ($*)"
}

# rvs_bridge_start KEY=VALUE... : fresh netns + rvs (netdev datapath, afpacket ports), same rules
# and the same other_config as OVS.
# RVS_N_RXQ (default 1): receive queues (`n_rxq`) of port ovsp1.
rvs_bridge_start() {
    local kv i p
    ovs_stop; rvs_stop
    topo_create
    rm -rf "$RVSB/run"; mkdir -p "$RVSB/run"
    {
        echo 'datapath = "netdev"'
        echo "log-file = \"$RVSB/run/rvs.log\""
        echo '[other_config]'
        echo "max-idle = ${MAX_IDLE:-600000}"
        echo "flow-limit = $FLOW_LIMIT"
        for kv in "$@"; do echo "${kv%%=*} = ${kv#*=}"; done
        echo '[[bridge]]'
        echo 'name = "br0"'
        if [ -n "${RULES_FILE:-}" ]; then
            echo "flows-file = \"$RULES_FILE\""
        else
            echo "flows = ['$RULE_MEGAFLOW', '$RULE_DEFAULT']"
        fi
        echo '[[bridge.port]]'
        echo 'name = "ovsp1"'
        echo 'type = "afpacket"'
        echo 'ofport = 1'
        [ "${RVS_N_RXQ:-1}" = 1 ] || echo "n_rxq = $RVS_N_RXQ"
        echo '[[bridge.port]]'
        echo 'name = "ovsp2"'
        echo 'type = "afpacket"'
        echo 'ofport = 2'
    } > "$RVSB/rvs.toml"
    # `ip netns exec` execs the command: $! is rvs's own pid (it also writes rvs.pid).
    ip netns exec "$NS" "$RVS_BIN" vswitchd --config "$RVSB/rvs.toml" --rundir "$RVSB/run" \
        > "$RVSB/run/stdout.log" 2>&1 &
    p=$!
    for i in $(seq 1 100); do [ -S "$RVSB/run/rvs.$p.ctl" ] && break; sleep 0.1; done
    [ -S "$RVSB/run/rvs.$p.ctl" ] || { kill -TERM "$p" 2>/dev/null; die "rvs (pid $p) did not start: $(tail -3 "$RVSB/run/stdout.log")"; }
    [ "$(cat "$RVSB/run/rvs.pid" 2>/dev/null)" = "$p" ] || die "rvs.pid does not hold $p"
    # OVS's default rule for a new bridge is NORMAL at priority 0: replaced by the drop rule above.
    timeout 20 "$RVS_BIN" appctl -t "$RVSB/run/rvs.$p.ctl" upcall/set-flow-limit "$FLOW_LIMIT" >/dev/null
    timeout 20 "$RVS_BIN" appctl -t "$RVSB/run/rvs.$p.ctl" revalidator/wait >/dev/null
    log "rvs pid $p ready in netns $NS ($*)"
}

teardown() {
    ovs_stop
    rvs_stop
    ns_delete
}

ensure_pcap() {  # ensure_pcap N -> path
    local n=$1 f=$CMPB/pcap/u$1.pcap
    mkdir -p "$CMPB/pcap"
    [ -s "$f" ] || python3 "$CMP_DIR/gen_pcap.py" "$n" "$f"
    echo "$f"
}
