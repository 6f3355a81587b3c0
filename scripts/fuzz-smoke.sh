#!/usr/bin/env bash
# Build the libFuzzer targets (configured as `make fuzz` does: clang, -DTT_FUZZ=ON,
# ASan+UBSan, into build-fuzz; only the fuzz targets are built, so a broken
# unrelated target does not stop the smoke run) and run each for a short while on a copy of its seed corpus from
# tests/fuzz/corpus/<target>/. Exits non-zero when a target crashes (libFuzzer
# leaves the crashing input as build-fuzz/fuzz-runs/<target>/crash-*).
#
#   FUZZ_SECONDS=12 (per target; 24 targets: about 5 minutes of CI)   FUZZ_TARGETS="fuzz_csv fuzz_mt5_proto" (default: all,
#   among them fuzz_mt5_proto, the MT5 bridge protocol)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${FUZZ_SECONDS:-12}
bin=build-fuzz/tests
targets=${FUZZ_TARGETS:-$(cd tests/fuzz && ls fuzz_*.c | sed 's/\.c$//')}
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DTT_FUZZ=ON >/dev/null
# shellcheck disable=SC2086
cmake --build build-fuzz -j "$(nproc 2>/dev/null || echo 2)" --target $targets
if [ -z "$targets" ]; then
  echo "fuzz-smoke: no fuzz targets found in $bin" >&2
  exit 1
fi
status=0
for t in $targets; do
  work=build-fuzz/fuzz-runs/$t
  rm -rf "$work"
  mkdir -p "$work/corpus"
  if [ -d "tests/fuzz/corpus/$t" ]; then
    cp tests/fuzz/corpus/"$t"/* "$work/corpus/" 2>/dev/null || true
  fi
  log=$work/log.txt
  if (cd "$work" && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      "../../tests/$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
      -print_final_stats=1 corpus >log.txt 2>&1); then
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
    echo "fuzz-smoke: $t: ok, $runs executions in ${secs}s"
  else
    echo "fuzz-smoke: $t: FAILED (see $log)" >&2
    tail -40 "$log" >&2
    status=1
  fi
done
exit $status
