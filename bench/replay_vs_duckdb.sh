#!/usr/bin/env bash
# Replay from the tape against DuckDB scanning the same ticks from Parquet
# (issue 16, item 3): both on one thread, in CPU time, alternating rounds in
# the same minutes. DuckDB is a benchmark peer only (npm's @duckdb/node-api,
# installed by hand into NODE_MODULES; never in the build or the tests).
#
#   npm install --prefix DIR @duckdb/node-api
#   bench/replay_vs_duckdb.sh WORK DIR/node_modules build/ticktape [OTHER_TICKTAPE] [ROUNDS]
#
# WORK gets: the EURUSD sample's ticks (scenarios/data/eurusd-2019-02, 266,219)
# repeated 20 times a week apart (5,324,380 ticks), as a CSV, as a tape
# written by the first binary, and as Parquet (zstd-19, bench/duckdb_peer.mjs).
# Each round runs `ticktape bench replay --tape T --repeat 7` with each binary
# given, then the DuckDB scans; each prints its medians.
set -euo pipefail
work=${1:?WORK}
mods=${2:?NODE_MODULES}
bin=$(readlink -f "${3:?TICKTAPE}")
other=${4:-}
rounds=${5:-3}
top=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$work"
if [ ! -f "$work/ticks20.csv" ]; then
  "$bin" tape export "$top/scenarios/data/eurusd-2019-02" --symbol EURUSD \
      --time-format epoch-ns >"$work/ticks.csv"
  /usr/bin/python3 - "$work" <<'EOF'
import sys
w = sys.argv[1]
lines = open(w + "/ticks.csv").read().splitlines()
week = 7 * 86400 * 10**9
with open(w + "/ticks20.csv", "w") as f:
    f.write(lines[0] + "\n")
    for k in range(20):
        for l in lines[1:]:
            t, rest = l.split(",", 1)
            f.write("%d,%s\n" % (int(t) + k * week, rest))
EOF
  rm -rf "$work/t20"
  "$bin" import csv "$work/ticks20.csv" --columns time,bid,ask,bid_volume,ask_volume \
      --time-format epoch-ns --symbol EURUSD --tape "$work/t20" >/dev/null
fi
for r in $(seq 1 "$rounds"); do
  for b in "$bin" $other; do
    echo "round $r: $b"
    "$b" bench replay --tape "$work/t20" --repeat 7 | grep -E "cpu time|tape size"
  done
  echo "round $r: duckdb"
  NODE_PATH="$mods" node "$top/bench/duckdb_peer.mjs" "$work/ticks20.csv" "$work/t20.parquet" 7
done
uptime
