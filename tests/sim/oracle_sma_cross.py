#!/usr/bin/python3
"""Independent oracle for the sma_cross backtest on real Dukascopy data.

Reads the raw Dukascopy tick files (LZMA-alone .bi5, 20-byte big-endian
records) with Python's own lzma and struct modules, builds M1 bid bars with
pandas, and replays the rules of sma_cross (docs/strategy-api.md) and of the
simulated venue (docs/venue.md) with exact integer arithmetic:

  * a bar covers [open, open + 60 s) and is known at its close time; bars of
    minutes without ticks do not exist; the last (partial) bar is never
    closed because the replay ends before its close time;
  * SMA fast/slow of bar closes; direction = sign(fast - slow), compared
    exactly as 30 * sum(fast window) vs 10 * sum(slow window) for 10/30;
    a trade happens when the direction flips (ignoring zeros and the first
    direction seen);
  * the order is sent at the bar's close time and, with no latency, fills at
    the last tick strictly before that time (timers run before the quotes of
    their instant): a buy at its ask, a sell at its bid;
  * the position (qty 10 = 0.1 lot, 1 point = 10 cents) is closed at the next
    flip, or at the end of the data at the last tick (long at the bid, short
    at the ask).

Writes one CSV line per trade: open_ts_ns,side,open_price,close_ts_ns,
close_price,pnl_cents. Run:
  /usr/bin/python3 tests/sim/oracle_sma_cross.py tests/data/dukascopy \
      > tests/data/trade/sma_cross_eurusd.csv
"""
import lzma
import os
import struct
import sys
from datetime import datetime, timezone

import numpy as np
import pandas as pd

FAST, SLOW, QTY = 10, 30, 10
CENTS_PER_POINT = QTY * 1000 / 100000 * 100  # qty 10 = 10,000 EUR; 1 point = 0.1 USD


def ticks(root):
    rows = []
    base = os.path.join(root, "EURUSD", "2019")
    for month in sorted(os.listdir(base)):
        mdir = os.path.join(base, month)
        if not os.path.isdir(mdir):
            continue
        for day in sorted(os.listdir(mdir)):
            ddir = os.path.join(mdir, day)
            if not os.path.isdir(ddir):
                continue
            for f in sorted(os.listdir(ddir)):
                if not f.endswith("h_ticks.bi5"):
                    continue
                hour = int(f[:2])
                start = datetime(2019, int(month) + 1, int(day), hour, tzinfo=timezone.utc)
                start_ns = int(start.timestamp()) * 10**9
                data = open(os.path.join(ddir, f), "rb").read()
                if not data:
                    continue
                raw = lzma.decompress(data, format=lzma.FORMAT_ALONE)
                for ms, ask, bid, _av, _bv in struct.iter_unpack(">IIIff", raw):
                    rows.append((start_ns + ms * 10**6, bid, ask))
    t = pd.DataFrame(rows, columns=["ts", "bid", "ask"])
    return t.sort_values("ts", kind="stable").reset_index(drop=True)


def main():
    t = ticks(sys.argv[1])
    minute = 60 * 10**9
    t["open"] = t["ts"] // minute * minute
    bars = t.groupby("open", sort=True)["bid"].last()  # close of each M1 bid bar
    bars = bars.iloc[:-1]  # the last bar never closes
    closes = bars.to_numpy(dtype=np.int64)
    opens = bars.index.to_numpy(dtype=np.int64)
    ts = t["ts"].to_numpy(dtype=np.int64)
    bid = t["bid"].to_numpy(dtype=np.int64)
    ask = t["ask"].to_numpy(dtype=np.int64)

    def touch(at):  # the last tick strictly before `at`
        i = np.searchsorted(ts, at, side="left") - 1
        return bid[i], ask[i]

    csum = np.concatenate([[0], np.cumsum(closes)])
    last = 0
    pos = None  # (side, open_ts, open_price)
    out = []
    for k in range(SLOW - 1, len(closes)):
        f = csum[k + 1] - csum[k + 1 - FAST]
        s = csum[k + 1] - csum[k + 1 - SLOW]
        d = np.sign(SLOW * f - FAST * s)
        if d != 0 and last != 0 and d != last:
            at = opens[k] + minute
            b, a = touch(at)
            if pos is not None:
                side, ots, opx = pos
                cpx = b if side > 0 else a
                out.append((ots, side, opx, at, cpx, (cpx - opx) * side * CENTS_PER_POINT))
            pos = (int(d), at, a if d > 0 else b)
        if d != 0:
            last = d
    if pos is not None:
        side, ots, opx = pos
        cpx = bid[-1] if side > 0 else ask[-1]
        out.append((ots, side, opx, int(ts[-1]), cpx, (cpx - opx) * side * CENTS_PER_POINT))
    print("open_ts_ns,side,open_price,close_ts_ns,close_price,pnl_cents")
    for r in out:
        print("%d,%d,%d,%d,%d,%d" % (r[0], r[1], r[2], r[3], r[4], round(r[5])))


if __name__ == "__main__":
    main()
