#!/usr/bin/python3
"""The Backtrader oracle: ticktape's bar models against Backtrader's fill rule.

Backtrader (not installed here) documents its default broker this way: a
Market order "will be executed with the next available price. In
backtesting it will be the opening price of the next bar". A moving-average
crossover in Backtrader is

    cross = bt.ind.CrossOver(bt.ind.SMA(period=fast), bt.ind.SMA(period=slow))
    def next(self):
        if self.cross > 0: self.order_target_size(target=+qty)
        elif self.cross < 0: self.order_target_size(target=-qty)

where CrossOver is +1 at a bar whose fast - slow is > 0 while the last
non-zero difference before it was < 0 (NonZeroDifference), -1 the other way
round, and the strategy runs once both averages have their periods. This
file writes that rule down independently of ticktape, with pandas on the
raw Dukascopy candle files (LZMA-alone .bi5, 24-byte big-endian records:
seconds, open, close, low, high, volume), in exact integer arithmetic
(fast - slow > 0 is slow * sum(fast window) > fast * sum(slow window)):

  * SMA fast and slow of the M1 closes; a cross at the close of bar i;
  * the order fills at the open of bar i + 1 (none after the last bar);
  * a reversal closes the position and opens the other side at that price.

Then it imports the same candles with `ticktape import dukascopy
--no-ticks`, runs the built-in sma_cross with data.model ohlc_m1,
open_prices and every_tick, zero spread, no latency, no commission, no
swaps, and compares trades.csv with the oracle's trades: side, open minute,
open price, close minute and close price of every trade, and its P&L. The
last trade is the position still open at the end, which ticktape closes at
the last price point (docs/scenarios.md: the last bar's close, or its open
under open_prices); the oracle leaves it open, as Backtrader does, so only
its opening is compared, and its close is checked against that rule.

usage: oracle_backtrader.py TICKTAPE SOURCE_DIR WORK_DIR
"""
import csv
import lzma
import os
import shutil
import struct
import subprocess
import sys
from datetime import datetime, timezone

import numpy as np
import pandas as pd

BIN, SRC, WORK = sys.argv[1:4]
QTY = 10  # 0.1 lot of EURUSD: one point = 10 cents
PAIRS = [(10, 30), (5, 20), (20, 60), (3, 100)]
MODELS = ["ohlc_m1", "open_prices", "every_tick"]


def candles(root):
    """The BID M1 candles of every day directory, in time order."""
    rows = []
    base = os.path.join(root, "EURUSD", "2019")
    for month in sorted(os.listdir(base)):
        mdir = os.path.join(base, month)
        if not os.path.isdir(mdir):
            continue
        for day in sorted(os.listdir(mdir)):
            f = os.path.join(mdir, day, "BID_candles_min_1.bi5")
            if not os.path.exists(f):
                continue
            start = int(datetime(2019, int(month) + 1, int(day), tzinfo=timezone.utc).timestamp())
            raw = lzma.decompress(open(f, "rb").read(), format=lzma.FORMAT_ALONE)
            for sec, o, c, lo, hi, _v in struct.iter_unpack(">IIIIIf", raw):
                rows.append(((start + sec) * 10**9, o, hi, lo, c))
    return pd.DataFrame(rows, columns=["ts", "open", "high", "low", "close"])


def backtrader_trades(bars, fast, slow):
    """Backtrader's fills for the crossover, as closed trades (the last open)."""
    close = bars["close"].to_numpy(dtype=np.int64)
    opens = bars["open"].to_numpy(dtype=np.int64)
    ts = bars["ts"].to_numpy(dtype=np.int64)
    sf = pd.Series(close).rolling(fast).sum()
    ss = pd.Series(close).rolling(slow).sum()
    fills = []  # (ts, side, price)
    nzd = 0  # sign of the last non-zero fast - slow
    for i in range(slow - 1, len(bars)):
        d = int(sf[i]) * slow - int(ss[i]) * fast
        sign = (d > 0) - (d < 0)
        cross = sign if sign and nzd and sign != nzd else 0
        if sign:
            nzd = sign
        if cross and i + 1 < len(bars):
            fills.append((int(ts[i + 1]), cross, int(opens[i + 1])))
    trades, pos = [], None
    for t, side, px in fills:
        if pos:
            trades.append(pos + (t, px))
        pos = (side, t, px)
    return trades, pos


def minute(iso):
    return int(datetime.strptime(iso, "%Y-%m-%dT%H:%M:%S.%fZ")
               .replace(tzinfo=timezone.utc).timestamp()) * 10**9


def price(text):
    return int(round(float(text) * 100000))


def ticktape_trades(out):
    with open(os.path.join(out, "trades.csv")) as f:
        return list(csv.DictReader(f))


def main():
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    data = os.path.join(SRC, "tests/data/dukascopy")
    bars = candles(data)
    assert len(bars) == 2880, len(bars)
    tape = os.path.join(WORK, "tape")
    subprocess.run([BIN, "import", "dukascopy", "--symbol", "EURUSD", "--dir", data, "--tape",
                    tape, "--no-ticks", "--quiet"], check=True)
    scen = os.path.join(WORK, "s.yaml")
    with open(scen, "w") as f:
        f.write("name: backtrader\nseed: 1\n"
                "data: {tape: %s, symbols: [EURUSD], from: 2019-02-04, to: 2019-02-06}\n"
                "account: {currency: USD, balance: 10000, leverage: 100, swaps: false}\n"
                "venue: {latency_ms: 0}\n"
                "strategy: {name: sma_cross, params: {tf: M1, qty: %d}}\n" % (tape, QTY))
    compared = 0
    for fast, slow in PAIRS:
        want, still_open = backtrader_trades(bars, fast, slow)
        assert len(want) > 10, (fast, slow, len(want))
        for model in MODELS:
            out = os.path.join(WORK, "%s-%d-%d" % (model, fast, slow))
            subprocess.run([BIN, "backtest", scen, "--out", out, "--quiet", "--set",
                            "data.model=" + model, "--set", "strategy.params.fast=%d" % fast,
                            "--set", "strategy.params.slow=%d" % slow], check=True)
            got = ticktape_trades(out)
            what = "%s fast=%d slow=%d" % (model, fast, slow)
            if len(got) != len(want) + 1:
                sys.exit("%s: %d trades, Backtrader's rule gives %d closed and one open"
                         % (what, len(got), len(want)))
            for k, (w, g) in enumerate(zip(want, got)):
                side, t_open, p_open, t_close, p_close = w
                row = (1 if g["side"] == "buy" else -1, minute(g["open_time"]),
                       price(g["open_price"]), minute(g["close_time"]), price(g["close_price"]))
                if row != w:
                    sys.exit("%s: trade %d is %s, Backtrader's rule gives %s" % (what, k + 1, row, w))
                pnl = side * (p_close - p_open) * QTY  # cents: a point of 0.1 lot is 10 cents
                if round(float(g["pnl"]) * 100) != pnl or g["close_reason"] != "signal":
                    sys.exit("%s: trade %d P&L %s (%s), expected %d cents"
                             % (what, k + 1, g["pnl"], g["close_reason"], pnl))
            last = got[-1]
            side, t_open, p_open = still_open
            end_px = int(bars["open" if model == "open_prices" else "close"].iloc[-1])
            if ((1 if last["side"] == "buy" else -1, minute(last["open_time"]),
                 price(last["open_price"])) != (side, t_open, p_open) or
                    last["close_reason"] != "end" or price(last["close_price"]) != end_px):
                sys.exit("%s: the position open at the end: %s" % (what, last))
            compared += len(want)
    print("Backtrader's rule and ticktape agree on %d trades (%d pairs x %d models)"
          % (compared, len(PAIRS), len(MODELS)))


main()
