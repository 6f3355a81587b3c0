#!/usr/bin/env bash
# Every benchmark of docs/benchmarks.md, one after the other, with the commands
# the document quotes. `make bench` runs it after building (Release, build/).
#
# usage: scripts/bench.sh [BUILD_DIR] [--quick]
#   --quick   smaller inputs and fewer repeats (a smoke run, minutes not tens)
#
# The figures are only worth quoting from an idle machine: the script prints
# the load average and CPU count first, and each benchmark says whether it
# reports wall or CPU time. Benchmarks that need nats-server are skipped, with
# a message, when it is not installed.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=build
QUICK=0
for a in "$@"; do
  case "$a" in
    --quick) QUICK=1 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) BUILD=$a ;;
  esac
done
T="$BUILD/ticktape"
B="$BUILD/bench"
if [ ! -x "$T" ]; then
  echo "bench.sh: $T not found; build first (make build, or cmake --build $BUILD)" >&2
  exit 2
fi
cmake --build "$BUILD" -j "$(nproc)" --target bench_backtest bench_import bench_bars \
  bench_synth bench_live bench_ml bench_mt5 bench_aggregate bench_status >/dev/null

if [ "$QUICK" = 1 ]; then
  TICKS=2000000 REP=3 TREP=3 SYN=2000000 BARS=1000000
else
  TICKS=10000000 REP=5 TREP=9 SYN=20000000 BARS=5000000
fi

section() { printf '\n== %s\n' "$*"; }

section "machine: $(nproc) CPUs, $(uname -m), load average $(cut -d' ' -f1-3 /proc/loadavg)," \
  "$(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"

section "replay: the tape and the engine loop (wall, medians)"
"$T" bench replay --ticks "$TICKS" --repeat "$REP"
"$T" bench replay --tape scenarios/data/eurusd-2019-02 --repeat "$TREP"

section "Dukascopy import and tape size (thread CPU time, best of repeats)"
"$B/bench_import" tests/data/dukascopy --repeat "$REP"

section "bars and indicators"
"$B/bench_bars" --ticks "$TICKS" --repeat "$REP"

section "machine learning: features and prediction per bar, 100 features, 200 trees (wall, best and mean)"
ML_MODEL=$(mktemp -u "${TMPDIR:-/tmp}/bench_ml.XXXXXX.json")
"$B/bench_ml" --model "$ML_MODEL" --repeat "$REP"
rm -f "$ML_MODEL" "$ML_MODEL.meta"

section "backtest throughput against replay alone (process CPU time, medians)"
"$B/bench_backtest" throughput --ticks "$TICKS" --repeat 3
"$B/bench_backtest" throughput --tape scenarios/data/eurusd-2019-02 --repeat "$TREP"

section "bar backtest: sma_cross 10/30 on synthetic M1 bars under ohlc_m1 (process CPU time)"
"$B/bench_backtest" bars --bars "$BARS" --repeat 3

section "backtest memory: sma_cross over 1 and 10 synthetic years (peak RSS per process)"
if [ "$QUICK" = 1 ]; then
  "$B/bench_backtest" rss 1 --interval M1
else
  for years in 1 10; do "$B/bench_backtest" rss "$years" --interval M1; done
fi

section "synthetic markets (ticks/s per model)"
"$B/bench_synth" "$SYN"

section "python: a tape into numpy/pandas, the cost of a Python callback (wall)"
TICKTAPE_LIB="$BUILD/libticktape.so" PYTHONPATH=python /usr/bin/python3 bench/bench_python.py "$T" \
  --repeat "$([ "$QUICK" = 1 ] && echo 2 || echo 5)" --rate "$([ "$QUICK" = 1 ] && echo 5 || echo 25)"

section "live trading through MT5: quote at the terminal to order at the terminal, loopback with mt5-sim (wall, percentiles)"
MT5_J=$(mktemp -d "${TMPDIR:-/tmp}/bench_mt5.XXXXXX")
"$B/bench_mt5" --rates 100,1000,10000 --seconds "$([ "$QUICK" = 1 ] && echo 2 || echo 10)"
"$B/bench_mt5" --rates 1000 --seconds "$([ "$QUICK" = 1 ] && echo 2 || echo 10)" --journal "$MT5_J/j"
rm -rf "$MT5_J"

if command -v nats-server >/dev/null 2>&1; then
  section "research: 64-run sweep, --jobs 1 / --jobs 2 / two NATS workers (wall)"
  /usr/bin/python3 bench/bench_research.py "$T" --repeat "$([ "$QUICK" = 1 ] && echo 2 || echo 7)"

  section "live: tick-to-trade latency over NATS (wall, percentiles)"
  port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  tmp=$(mktemp -d)
  nats-server -a 127.0.0.1 -p "$port" >"$tmp/nats.log" 2>&1 &
  npid=$!
  trap 'kill $npid 2>/dev/null; rm -rf "$tmp"' EXIT
  sleep 0.5
  "$B/bench_live" t2t --nats "nats://127.0.0.1:$port" --rates 1000,10000 \
    --seconds "$([ "$QUICK" = 1 ] && echo 2 || echo 10)" --baseline

  section "aggregator: latency it adds, 3 sources over NATS (wall, percentiles)"
  "$B/bench_aggregate" --nats "nats://127.0.0.1:$port" --rates 1000,10000 \
    --seconds "$([ "$QUICK" = 1 ] && echo 2 || echo 10)" --journal "$tmp"

  section "status server: recorder ns/tick, CPU per request, a paper session at 10,000 ticks/s"
  "$B/bench_status" --runs "$([ "$QUICK" = 1 ] && echo 3 || echo 9)"
  /usr/bin/python3 bench/bench_status_e2e.py "$T" . --runs "$([ "$QUICK" = 1 ] && echo 1 || echo 3)" \
    --seconds "$([ "$QUICK" = 1 ] && echo 3 || echo 8)"
else
  section "research and live benchmarks skipped: nats-server is not installed (make setup)"
fi
