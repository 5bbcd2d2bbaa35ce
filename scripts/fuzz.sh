#!/usr/bin/env bash
# Runs every libFuzzer target for SECONDS each, two at a time (this machine has two cores), on a
# working corpus seeded from fuzz/corpus/<target>. Prints each target's executions per second and
# coverage, keeps any crashing input in build-fuzz/findings/, and fails when a target found one.
# Usage: scripts/fuzz.sh BUILD_DIR SECONDS [TARGET...]
set -uo pipefail
build=${1:?build dir}
seconds=${2:?seconds}
shift 2
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(json xml csv evtx template rule kql model)
top=$(cd "$(dirname "$0")/.." && pwd)
jobs=$(nproc)
mkdir -p "$build/findings"

run_one() {
  local t=$1 work="$build/corpus/$1" log="$build/fuzz_$1.log"
  mkdir -p "$work"
  # -rss_limit_mb: a reader must stay bounded; -timeout: no input may take ten seconds.
  LSAN_OPTIONS="suppressions=$top/fuzz/lsan.supp:print_suppressions=0" "$build/fuzz/fuzz_$t" "$work" "$top/fuzz/corpus/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -max_len=131072 -print_final_stats=1 -artifact_prefix="$build/findings/$t-" >"$log" 2>&1
  local rc=$?
  local execs cov
  execs=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$')
  cov=$(grep -E '^#[0-9]+.*cov:' "$log" | tail -1 | grep -o 'cov: [0-9]* ft: [0-9]*')
  local files
  files=$(find "$work" -type f | wc -l)
  if [ $rc -eq 0 ]; then
    printf 'fuzz %-9s ok       %6s exec/s  %s  corpus %s inputs\n' "$t" "${execs:-?}" "${cov:-?}" "$files"
  else
    printf 'fuzz %-9s FINDING  (exit %s) see %s and %s/findings/\n' "$t" "$rc" "$log" "$build"
    tail -n 30 "$log"
  fi
  return $rc
}

failed=0
pids=()
for t in "${targets[@]}"; do
  run_one "$t" &
  pids+=($!)
  if [ ${#pids[@]} -ge "$jobs" ]; then
    wait "${pids[0]}" || failed=1
    pids=("${pids[@]:1}")
  fi
done
for p in "${pids[@]}"; do wait "$p" || failed=1; done
exit $failed
