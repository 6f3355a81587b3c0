#!/usr/bin/python3
"""pandas reference bars for tests/core/test_bars_pandas.c.

Usage: bars_ref.py TICKS.csv OUT.csv

TICKS has columns ts,bid,ask,bid_vol,ask_vol (ts in UTC ns, prices in points,
volumes as float32 values). OUT gets one row per (timeframe, side, bar):
tf,side,time,open,high,low,close,volume,ticks, with time the bar's open (ns).

Bars come from DataFrame.resample with left-closed, left-labelled bins (S1: a
groupby on the floored second, to avoid millions of empty bins):
fixed lengths with origin="epoch" (so H4 bins start at 00, 04, ... UTC),
weeks with "W-MON" shifted to open on Monday, months with "MS". Empty bins are
dropped (no tick, no bar). mid = (bid + ask) / 2 rounded half to even by
numpy.round; mid volume = (bid_vol + ask_vol) / 2.
"""
import sys

import numpy as np
import pandas as pd

RULES = {
    "S1": "1s", "M1": "1min", "M5": "5min", "M15": "15min", "M30": "30min",
    "H1": "1h", "H4": "4h", "D1": "1D", "W1": "W-MON", "MN1": "MS",
}


def main():
    t = pd.read_csv(sys.argv[1])
    idx = pd.to_datetime(t["ts"], unit="ns")
    # volumes were written with 9 digits: exactly one float32 each
    bv = t["bid_vol"].astype(np.float32).astype(float)
    av = t["ask_vol"].astype(np.float32).astype(float)
    sides = {
        "bid": (t["bid"].astype(float), bv),
        "ask": (t["ask"].astype(float), av),
        "mid": (np.round((t["bid"] + t["ask"]) / 2.0), (bv + av) * 0.5),
    }
    parts = []
    for tf, rule in RULES.items():
        for side, (price, vol) in sides.items():
            df = pd.DataFrame({"p": price.to_numpy(), "v": vol.to_numpy()}, index=idx)
            if tf == "S1":
                # resample would materialise ~7 million empty one-second bins over
                # the span; group the ticks by their floored second instead.
                sec = (t["ts"] // 1_000_000_000) * 1_000_000_000
                r = df.groupby(pd.to_datetime(sec, unit="ns").to_numpy())
            elif tf == "W1":
                # "W-MON" bins end on Mondays; closed/label left makes each bin
                # [Monday, next Monday) labelled by its opening Monday.
                r = df.resample(rule, closed="left", label="left")
            elif tf == "MN1":
                r = df.resample(rule, closed="left", label="left")
            else:
                r = df.resample(rule, closed="left", label="left", origin="epoch")
            o = r["p"].agg(["first", "max", "min", "last", "count"])
            o["volume"] = r["v"].sum()
            o = o[o["count"] > 0]
            part = pd.DataFrame({
                "tf": tf, "side": side, "time": o.index.asi8,
                "open": o["first"].astype(np.int64), "high": o["max"].astype(np.int64),
                "low": o["min"].astype(np.int64), "close": o["last"].astype(np.int64),
                "volume": o["volume"], "ticks": o["count"].astype(np.int64)})
            parts.append(part)
    pd.concat(parts).to_csv(sys.argv[2], index=False, float_format="%.17g")


if __name__ == "__main__":
    main()
