#!/usr/bin/env bash
# Open vSwitch 3.1 as a behavioural oracle: a private ovsdb-server + ovs-vswitchd --enable-dummy.
#
#   tools/ovs-oracle.sh start DIR     start both daemons with run directory DIR, bridge br0 on the
#                                     dummy datapath with dummy ports p1..p4 (ofport = dp port = 1..4)
#   tools/ovs-oracle.sh stop DIR      stop them (by the pids in DIR)
#   tools/ovs-oracle.sh appctl DIR …  ovs-appctl against the oracle's vswitchd
#   tools/ovs-oracle.sh ofctl DIR …   ovs-ofctl against br0 of the oracle
#
# Installs openvswitch-switch from Debian if it is missing. Never touches the system's OVS.
set -euo pipefail
cmd=${1:?usage: start|stop|appctl|ofctl DIR ...}; dir=${2:?run directory}; shift 2
export OVS_RUNDIR=$dir OVS_LOGDIR=$dir OVS_DBDIR=$dir OVS_SYSCONFDIR=$dir
schema=/usr/share/openvswitch/vswitch.ovsschema
vsctl() { ovs-vsctl --no-wait --db=unix:$dir/db.sock "$@"; }
case $cmd in
start)
  if ! command -v ovs-vswitchd >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openvswitch-switch >/dev/null
  fi
  mkdir -p "$dir"
  rm -f "$dir"/conf.db
  ovsdb-tool create "$dir/conf.db" $schema
  ovsdb-server "$dir/conf.db" --remote=punix:$dir/db.sock --pidfile=$dir/ovsdb-server.pid \
    --unixctl=$dir/ovsdb-server.ctl --log-file=$dir/ovsdb-server.log --detach --no-chdir
  vsctl init
  ovs-vswitchd unix:$dir/db.sock --enable-dummy=override --disable-system --pidfile=$dir/ovs-vswitchd.pid \
    --unixctl=$dir/ovs-vswitchd.ctl --log-file=$dir/ovs-vswitchd.log --detach --no-chdir
  vsctl add-br br0 -- set bridge br0 datapath-type=dummy fail-mode=secure \
    other-config:datapath-id=fedcba9876543210 other-config:hwaddr=aa:55:aa:55:00:00
  for i in 1 2 3 4; do
    vsctl add-port br0 p$i -- set interface p$i type=dummy ofport_request=$i options:ifindex=$i
  done
  ovs-appctl -t $dir/ovs-vswitchd.ctl revalidator/wait >/dev/null
  ;;
stop)
  for p in ovs-vswitchd ovsdb-server; do
    [ -f "$dir/$p.pid" ] && kill "$(cat "$dir/$p.pid")" 2>/dev/null || true
  done
  ;;
appctl) ovs-appctl -t "$dir/ovs-vswitchd.ctl" "$@" ;;
ofctl) ovs-ofctl "$@" ;;
*) echo "unknown command $cmd" >&2; exit 2 ;;
esac
