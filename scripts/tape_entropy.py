#!/usr/bin/env python3
"""Entropy bound for a quote tape: how small could a lossless encoding of these
ticks be if it codes each column on its own (order 0) or given the previous tick?

usage: ticktape tape export TAPE --symbol S --time-format epoch-ms > ticks.csv
       /usr/bin/python3 scripts/tape_entropy.py ticks.csv [POINTS]   (POINTS default 100000)

Prints the empirical entropy of each column the tape stores (time deltas, bid and
spread deltas, volumes as hundredths) and their sum in bytes per tick. Conditional
entropies over many contexts are optimistic on small samples: they assume the coder
knows each context's distribution for free. The last lines are therefore the cost of
an adaptive coder that has to learn them (PPM-style escapes to an adaptive order-0
model, new values at 24 bits), with the richest contexts found to help on the
EURUSD sample: the time delta given the previous one's log2 bucket, the price pair
given the previous pair, each volume given its side's price move and previous volume.
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

da = np.diff(ask)
kb0 = (d.bid_volume * 100).round().astype(np.int64).values[:-1]
ka0 = (d.ask_volume * 100).round().astype(np.int64).values[:-1]
n = len(dt)


def adaptive(xs, ctxs):
    """Bits of an adaptive context model with escapes (PPM method C)."""
    tab = collections.defaultdict(collections.Counter)
    tot = collections.Counter()
    o0, o0n, bits = collections.Counter(), 0, 0.0
    for x, c in zip(xs, ctxs):
        cc, m, k = tab[c], tot[c], len(tab[c])
        if cc[x]:
            bits -= math.log2(cc[x] / (m + k))
        else:
            if m:
                bits -= math.log2(k / (m + k))
            k0 = len(o0)
            if o0[x]:
                bits -= math.log2(o0[x] / (o0n + k0))
            else:
                if o0n:
                    bits -= math.log2(max(k0, 1) / (o0n + k0))
                bits += 24
            o0[x] += 1
            o0n += 1
        cc[x] += 1
        tot[c] += 1
    return bits / n


prev_bucket = [0] + bucket[:-1]
ad = {"time delta | previous bucket": adaptive(list(dt), prev_bucket),
      "(bid, ask) deltas | previous": adaptive(list(zip(db, da)),
                                               [(0, 0)] + list(zip(db, da))[:-1]),
      "bid volume | bid move, previous": adaptive(list(kb), list(zip(np.sign(db), kb0))),
      "ask volume | ask move, previous": adaptive(list(ka), list(zip(np.sign(da), ka0)))}
for k, v in ad.items():
    print(f"adaptive: {k:34s} {v:6.2f} bits")
print(f"adaptive context model {sum(ad.values()) / 8:6.3f} bytes/tick (what a coder that learns pays)")
