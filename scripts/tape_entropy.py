#!/usr/bin/env python3
"""Entropy bound for a quote tape: how small could a lossless encoding of these
ticks be if it codes each column on its own (order 0) or given the previous tick?

usage: ticktape tape export TAPE --symbol S --time-format epoch-ms > ticks.csv
       /usr/bin/python3 scripts/tape_entropy.py ticks.csv [POINTS]   (POINTS default 100000)

Prints the empirical entropy of each column the tape stores (time deltas, bid and
spread deltas, volumes as hundredths) and their sum in bytes per tick. Conditional
entropies over many contexts are optimistic on small samples.
"""
import collections, math, sys

import numpy as np
import pandas as pd


def H(x):
    c = collections.Counter(x)
    n = len(x)
    return -sum(v / n * math.log2(v / n) for v in c.values())


def Hc(x, ctx):
    return H(list(zip(ctx, x))) - H(list(ctx))


d = pd.read_csv(sys.argv[1])
pts = int(sys.argv[2]) if len(sys.argv) > 2 else 100000
dt = np.diff(d.time.values)
bid = (d.bid * pts).round().astype(np.int64).values
ask = (d.ask * pts).round().astype(np.int64).values
db, dsp = np.diff(bid), np.diff(ask - bid)
kb = (d.bid_volume * 100).round().astype(np.int64).values[1:]
ka = (d.ask_volume * 100).round().astype(np.int64).values[1:]
pair = list(zip(db, dsp))
cols = {"time delta": H(list(dt)), "(bid, spread) deltas": H(pair),
        "bid volume": H(list(kb)), "ask volume": H(list(ka))}
for k, v in cols.items():
    print(f"{k:22s} {v:6.2f} bits")
print(f"order-0 sum            {sum(cols.values()) / 8:6.3f} bytes/tick")
bucket = [min(int(math.log2(v + 1)), 12) for v in dt]
o1 = (Hc(list(dt[1:]), bucket[:-1]) + Hc(pair[1:], pair[:-1]) +
      Hc(list(kb[1:]), list(kb[:-1])) + Hc(list(ka), list(kb)))
print(f"order-1 estimate       {o1 / 8:6.3f} bytes/tick (optimistic)")
