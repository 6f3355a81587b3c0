#!/usr/bin/env bash
# The behaviour invariant of a refactoring: every shipped scenario's backtest
# (fingerprint, --json summary, summary.json, trades.csv, report.html), the
# sweep and walk-forward tables of the research scenarios, and `ticktape demo`,
# recorded with one build and compared byte for byte with another.
#
#   scripts/invariant.sh record BINARY DIR   write the outputs of BINARY to DIR
#   scripts/invariant.sh check  BINARY DIR   run BINARY again, compare with DIR
#
# check exits 1 and names every file that differs.
set -euo pipefail
mode=${1:?usage: invariant.sh record|check BINARY DIR}
bin=$(readlink -f "${2:?binary}")
dir=${3:?directory}
top=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/tt-invariant.XXXXXX")
trap 'rm -rf -- "$work"' EXIT

out=$work/out
mkdir -p "$out"
cd "$top"
for s in scenarios/*.yaml; do
  n=$(basename "$s" .yaml)
  "$bin" backtest "$s" --out "$work/$n" --json --quiet >"$out/$n.backtest.json"
  for f in summary.json trades.csv report.html; do
    cp "$work/$n/$f" "$out/$n.$f"
  done
  case "$n" in
    sweep-*)
      "$bin" sweep "$s" --jobs 2 --out "$work/$n-sweep" --json --quiet >"$out/$n.sweep.json"
      cp "$work/$n-sweep/sweep.csv" "$out/$n.sweep.csv" ;;
    walkforward-*)
      "$bin" walkforward "$s" --jobs 2 --out "$work/$n-wf" --json --quiet >"$out/$n.walkforward.json" || true
      for f in "$work/$n-wf"/*.csv; do cp "$f" "$out/$n.wf.$(basename "$f")"; done ;;
  esac
done
"$bin" demo --out "$work/demo" --json --quiet >"$out/demo.json"
for f in summary.json trades.csv report.html; do cp "$work/demo/$f" "$out/demo.$f"; done

case "$mode" in
  record)
    rm -rf -- "$dir"; mkdir -p "$dir"; cp "$out"/* "$dir"/
    echo "invariant: recorded $(ls "$dir" | wc -l) files in $dir" ;;
  check)
    bad=0
    for f in "$dir"/*; do
      b=$(basename "$f")
      if ! cmp -s "$f" "$out/$b"; then echo "invariant: DIFFERS $b" >&2; bad=1; fi
    done
    for f in "$out"/*; do
      [ -e "$dir/$(basename "$f")" ] || { echo "invariant: NEW $(basename "$f")" >&2; bad=1; }
    done
    [ $bad -eq 0 ] && echo "invariant: all $(ls "$dir" | wc -l) files byte-identical"
    exit $bad ;;
  *) echo "usage: invariant.sh record|check BINARY DIR" >&2; exit 2 ;;
esac
