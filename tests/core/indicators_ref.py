#!/usr/bin/python3
"""pandas reference for tests/core/test_indicators.c.

Usage: indicators_ref.py IN.csv OUT.csv

IN has columns ts,open,high,low,close,volume (ts in UTC ns). OUT gets one column
per indicator value, written with 17 significant digits ("nan" before warm-up).
Every definition here is the textbook one written with pandas primitives,
independently of core/indicators.c:
  rolling(n).mean/std/max/min, ewm(span=n, adjust=False), ewm(alpha=1/n) for
  Wilder smoothing seeded with the simple mean of the first n values (TA-Lib's
  convention), groupby(UTC day).cumsum for VWAP.
"""
import sys

import numpy as np
import pandas as pd


def wilder(x, n):
    """Wilder smoothing: mean of the first n valid values, then y = y + (x - y)/n."""
    x = x.astype(float)
    first = int(np.flatnonzero(x.notna().to_numpy())[0])
    seed_pos = first + n - 1
    y = x.copy()
    y.iloc[: seed_pos + 1] = np.nan
    y.iloc[seed_pos] = x.iloc[first : first + n].mean()
    return y.ewm(alpha=1.0 / n, adjust=False).mean()


def main():
    df = pd.read_csv(sys.argv[1])
    h, l, c, v = df["high"], df["low"], df["close"], df["volume"]
    out = pd.DataFrame(index=df.index)

    out["sma20"] = c.rolling(20).mean()
    out["ema20"] = c.ewm(span=20, adjust=False).mean()
    w = np.arange(1, 11, dtype=float)
    out["wma10"] = c.rolling(10).apply(lambda a: np.dot(a, w) / w.sum(), raw=True)
    out["std20s"] = c.rolling(20).std(ddof=1)
    out["std20p"] = c.rolling(20).std(ddof=0)
    # The z-score divides by the std, so it magnifies the ~1e-8 relative error that
    # pandas' online rolling variance carries right after a flat stretch (row 3060
    # of the test series: exactly 19/sqrt(20), pandas is off in the 9th digit).
    # Here each window's mean and std are computed two-pass by numpy instead.
    m20 = c.rolling(20).apply(lambda a: a.mean(), raw=True)
    s20 = c.rolling(20).apply(lambda a: np.std(a, ddof=1), raw=True)
    z = (c - m20) / s20
    out["z20"] = z.where(~((s20 == 0) & m20.notna()), 0.0)
    mid, sp = c.rolling(20).mean(), c.rolling(20).std(ddof=0)
    out["bb_mid"], out["bb_up"], out["bb_lo"] = mid, mid + 2.0 * sp, mid - 2.0 * sp

    d = c.diff()
    g, lo = d.clip(lower=0), (-d).clip(lower=0)
    ag, al = wilder(g, 14), wilder(lo, 14)
    rsi = 100.0 - 100.0 / (1.0 + ag / al)
    rsi = rsi.where(al != 0, np.where(ag == 0, 50.0, 100.0))
    out["rsi14"] = rsi.where(ag.notna())

    pc = c.shift(1)
    tr = pd.concat([h - l, (h - pc).abs(), (l - pc).abs()], axis=1).max(axis=1)
    tr.iloc[0] = np.nan
    out["atr14"] = wilder(tr, 14)

    e12 = c.ewm(span=12, adjust=False).mean()
    e26 = c.ewm(span=26, adjust=False).mean()
    macd = e12 - e26
    sig = macd.ewm(span=9, adjust=False).mean()
    out["macd"], out["macd_sig"], out["macd_hist"] = macd, sig, macd - sig

    hh, ll = h.rolling(14).max(), l.rolling(14).min()
    raw = (100.0 * (c - ll) / (hh - ll)).where(hh != ll, 50.0).where(hh.notna())
    k = raw.rolling(3).mean()
    out["stoch_k"], out["stoch_d"] = k, k.rolling(3).mean()

    up, down = h.diff(), -l.diff()
    pdm = pd.Series(np.where((up > down) & (up > 0), up, 0.0), index=df.index)
    mdm = pd.Series(np.where((down > up) & (down > 0), down, 0.0), index=df.index)
    pdm.iloc[0] = mdm.iloc[0] = np.nan
    trs, pds, mds = wilder(tr, 14), wilder(pdm, 14), wilder(mdm, 14)
    pdi = (100.0 * pds / trs).where(trs > 0, 0.0).where(trs.notna())
    mdi = (100.0 * mds / trs).where(trs > 0, 0.0).where(trs.notna())
    ssum = pdi + mdi
    dx = (100.0 * (pdi - mdi).abs() / ssum).where(ssum > 0, 0.0).where(ssum.notna())
    out["adx14"], out["pdi14"], out["mdi14"] = wilder(dx, 14), pdi, mdi

    dh, dl = h.rolling(20).max(), l.rolling(20).min()
    out["don_up"], out["don_lo"], out["don_mid"] = dh, dl, (dh + dl) / 2.0

    day = df["ts"] // 86_400_000_000_000
    tp = (h + l + c) / 3.0
    out["vwap"] = (tp * v).groupby(day).cumsum() / v.groupby(day).cumsum()

    out.to_csv(sys.argv[2], index=False, float_format="%.17g", na_rep="nan")


if __name__ == "__main__":
    main()
