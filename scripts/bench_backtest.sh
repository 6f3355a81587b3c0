#!/usr/bin/env bash
# Backtest benchmarks (docs/benchmarks.md, section "run"): throughput against
# replay alone, on synthetic ticks and on the real EURUSD sample, bar backtests under
# a bar model, and peak RSS
# for one and ten synthetic years (each span in its own process).
# usage: scripts/bench_backtest.sh [BUILD_DIR]   (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
B="$BUILD/bench/bench_backtest"
if [ ! -x "$B" ]; then
  cmake --build "$BUILD" --target bench_backtest >/dev/null
fi
echo "== throughput: 10,000,000 synthetic EURUSD ticks (CPU seconds, median of 3)"
"$B" throughput --ticks 10000000 --repeat 3
echo
echo "== throughput: real EURUSD, Dukascopy 4-5 Feb 2019 (median of 5)"
"$B" throughput --tape scenarios/data/eurusd-2019-02 --repeat 5
echo
echo "== bars: sma_cross 10/30 on 5,000,000 synthetic M1 bars under ohlc_m1 (median of 3)"
"$B" bars --bars 5000000 --repeat 3
echo
echo "== memory: sma_cross over 1 and 10 synthetic years (0.5 ticks/s)"
for years in 1 10; do
  for interval in M1 H1; do
    "$B" rss "$years" --interval "$interval"
  done
done
