#!/usr/bin/env bash
# A long fuzzing campaign: each target for a fixed number of executions, one
# after the other (the machine may be shared: run it under `nice -n 19`), on a
# copy of its seed corpus, in build-fuzz/fuzz-campaign/<target>/. Prints one
# line per target with the executions, the time and the final coverage, and
# exits non-zero when a target finds a crash (the input is left there).
#
#   FUZZ_RUNS=10000000 (per target)   FUZZ_TARGETS="fuzz_wire_tick ..." (default: the
#   network decoders)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${FUZZ_RUNS:-10000000}
targets=${FUZZ_TARGETS:-"fuzz_wire_tick fuzz_wire_json fuzz_wire_bar fuzz_wire_external fuzz_job fuzz_completion fuzz_bi5_records"}
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DTT_FUZZ=ON >/dev/null
# shellcheck disable=SC2086
cmake --build build-fuzz -j "$(nproc 2>/dev/null || echo 2)" --target $targets >/dev/null
status=0
for t in $targets; do
  work=build-fuzz/fuzz-campaign/$t
  rm -rf "$work"
  mkdir -p "$work/corpus"
  cp tests/fuzz/corpus/"$t"/* "$work/corpus/" 2>/dev/null || true
  start=$(date +%s)
  if (cd "$work" && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      "../../tests/$t" -runs="$runs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
      -print_final_stats=1 corpus >log.txt 2>&1); then
    done_runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/log.txt" | grep -o '[0-9]*$')
    cov=$(grep -o 'cov: [0-9]*' "$work/log.txt" | tail -1 | grep -o '[0-9]*')
    echo "fuzz-campaign: $t: ok, $done_runs executions in $(( $(date +%s) - start )) s, coverage $cov, corpus $(ls "$work/corpus" | wc -l)"
  else
    echo "fuzz-campaign: $t: FAILED (see $work/log.txt)" >&2
    tail -40 "$work/log.txt" >&2
    status=1
  fi
done
exit $status
