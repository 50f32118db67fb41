#!/usr/bin/env bash
# CI entry point of the differential conformance suite: installs Open vSwitch 3.1 (Debian's
# openvswitch-switch) if it is missing, builds the rvs daemon, and plays every scenario on both.
# Exit status: non-zero only if a scenario that is not a known gap differs.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v ovs-vswitchd >/dev/null || ! command -v ovsdb-server >/dev/null \
    || ! command -v ovs-vsctl >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openvswitch-switch >/dev/null
fi
ovs-vswitchd --version | head -1
cargo build -p rvs
python3 conformance/run.py --rvs target/debug/rvs "$@"
