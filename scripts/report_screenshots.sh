#!/usr/bin/env bash
# The screenshots of docs/reports.md (docs/img/report-*.png, sweep-*.png,
# walkforward-*.png): the README's runs, each report section framed by an
# iframe scrolled to it (report.html#id) and shot by headless Chromium.
#
#   scripts/report_screenshots.sh BINARY
set -euo pipefail
bin=$(readlink -f "${1:?usage: report_screenshots.sh BINARY}")
top=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/tt-shots.XXXXXX")
trap 'rm -rf -- "$work"' EXIT
cd "$top"
"$bin" backtest scenarios/eurusd-sma-cross.yaml --out "$work/bt" --quiet
"$bin" demo --out "$work/demo" --quiet
"$bin" sweep scenarios/sweep-eurusd-sma.yaml --jobs 2 --out "$work/sweep" --quiet
"$bin" walkforward scenarios/walkforward-eurusd-sma.yaml --jobs 2 --out "$work/wf" --quiet || true

# shot OUT_NAME PAGE ANCHOR HEIGHT: the page from the element ANCHOR down, HEIGHT px tall
shot() {
  local name=$1 page=$2 anchor=$3 height=$4
  cat >"$work/frame.html" <<HTML
<!DOCTYPE html><html><body style="margin:0;overflow:hidden">
<iframe src="file://$page#$anchor" style="border:0;width:1000px;height:${height}px"></iframe>
</body></html>
HTML
  chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
    --hide-scrollbars --user-data-dir="$work/profile" --virtual-time-budget=2000 \
    --window-size=1000,"$height" --screenshot="$top/docs/img/$name.png" \
    "file://$work/frame.html" >/dev/null 2>&1
}
shot report-header-figures "$work/bt/report.html" top 760
shot report-equity "$work/bt/report.html" equity 640
shot report-drawdowns-price "$work/bt/report.html" drawdowns 640
shot report-trade-results "$work/demo/report.html" distribution 860
shot report-breakdowns "$work/bt/report.html" breakdowns 560
shot report-trades "$work/bt/report.html" trades 400
shot sweep-heatmap "$work/sweep/sweep.html" heatmap 560
shot sweep-runs "$work/sweep/sweep.html" runs 420
shot walkforward-folds "$work/wf/report.html" equity 1100
echo "screenshots in docs/img"
