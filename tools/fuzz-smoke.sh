#!/usr/bin/env bash
# Runs every cargo-fuzz target for N seconds (default 60) on stable Rust.
# cargo-fuzz needs nightly-only flags (-Zsanitizer); RUSTC_BOOTSTRAP=1 lets the stable toolchain accept them.
# Installs cargo-fuzz if it is missing. Usage: tools/fuzz-smoke.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
secs=${1:-60}; shift || true
command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(RUSTC_BOOTSTRAP=1 cargo fuzz list)
for t in "${targets[@]}"; do
  echo "-- fuzz $t for ${secs}s"
  log=$(mktemp)
  if ! RUSTC_BOOTSTRAP=1 cargo fuzz run "$t" -- -max_total_time="$secs" -print_final_stats=1 >"$log" 2>&1; then
    tail -n 60 "$log"; echo "fuzz target $t failed"; exit 1
  fi
  grep -E 'stat::number_of_executed_units' "$log" || tail -n 5 "$log"
  rm -f "$log"
done
