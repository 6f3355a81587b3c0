#!/usr/bin/python3
"""pandas/numpy reference of every default feature of core/features.c.

Written from the definitions in docs/ml.md, independently of the C code:
rolling windows are numpy sliding windows computed two-pass (mean, then the
deviations), EMAs are pandas ewm(span=n, adjust=False), Wilder smoothing is
ewm(alpha=1/n) seeded with the mean of the first n values (TA-Lib's
convention), higher timeframes are groupbys of the base bars on floor(open /
length) matched to each base bar by the last higher close <= its close.

features(bars, base_ns) takes a DataFrame with one row per closed base bar:
  open_ns, close_ns (int64 UTC ns), open, high, low, close (float64 points),
  ticks, volume, spread_mean, spread_max (points; NaN for a bar without a
  two-sided quote)
and returns a DataFrame with one column per feature, catalog order.
"""
import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

DAY = 86_400 * 10**9
LN2 = np.log(2.0)


def roll(x, n, fn):
    """fn over each window of the last n values (NaN until n values, or when a
    window holds a NaN)."""
    x = np.asarray(x, dtype=float)
    out = np.full(len(x), np.nan)
    if len(x) >= n:
        out[n - 1:] = fn(sliding_window_view(x, n))
    return out


def rmean(x, n):
    return roll(x, n, lambda w: w.mean(axis=1))


def rstd(x, n, ddof):
    return roll(x, n, lambda w: w.std(axis=1, ddof=ddof))


def rmax(x, n):
    return roll(x, n, lambda w: w.max(axis=1))


def rmin(x, n):
    return roll(x, n, lambda w: w.min(axis=1))


def ratio_or(a, b, if_zero):
    a, b = np.asarray(a, float), np.asarray(b, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(b == 0, if_zero, a / b)
    return np.where(np.isnan(a) | np.isnan(b), np.nan, r)


def position(x, lo, hi):
    x, lo, hi = (np.asarray(v, float) for v in (x, lo, hi))
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(hi > lo, (x - lo) / (hi - lo), 0.5)
    return np.where(np.isnan(x) | np.isnan(lo) | np.isnan(hi), np.nan, r)


def wilder(x, n):
    """Mean of the first n valid values, then y += (x - y) / n."""
    x = pd.Series(np.asarray(x, float))
    valid = np.flatnonzero(x.notna().to_numpy())
    if len(valid) < n:
        return np.full(len(x), np.nan)
    first = int(valid[0])
    seed_pos = first + n - 1
    y = x.copy()
    y.iloc[: seed_pos + 1] = np.nan
    y.iloc[seed_pos] = x.iloc[first: first + n].mean()
    return y.ewm(alpha=1.0 / n, adjust=False).mean().to_numpy()


def ema(x, n):
    e = pd.Series(np.asarray(x, float)).ewm(span=n, adjust=False).mean().to_numpy()
    e[: n - 1] = np.nan
    return e


def rsi(c, n):
    d = np.diff(c, prepend=np.nan)
    g, l = np.clip(d, 0, None), np.clip(-d, 0, None)
    g[0] = l[0] = np.nan
    ag, al = wilder(g, n), wilder(l, n)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = 100.0 - 100.0 / (1.0 + ag / al)
    r = np.where(al == 0, np.where(ag == 0, 50.0, 100.0), r)
    return np.where(np.isnan(ag), np.nan, r)


def true_range(h, l, c):
    pc = np.concatenate([[np.nan], c[:-1]])
    tr = np.maximum.reduce([h - l, np.abs(h - pc), np.abs(l - pc)])
    tr[0] = np.nan
    return tr


def adx(h, l, c, n):
    tr = true_range(h, l, c)
    up = np.diff(h, prepend=np.nan)
    down = -np.diff(l, prepend=np.nan)
    pdm = np.where((up > down) & (up > 0), up, 0.0)
    mdm = np.where((down > up) & (down > 0), down, 0.0)
    pdm[0] = mdm[0] = np.nan
    trs, pds, mds = wilder(tr, n), wilder(pdm, n), wilder(mdm, n)
    with np.errstate(divide="ignore", invalid="ignore"):
        pdi = np.where(trs > 0, 100.0 * pds / trs, 0.0)
        mdi = np.where(trs > 0, 100.0 * mds / trs, 0.0)
    pdi = np.where(np.isnan(trs), np.nan, pdi)
    mdi = np.where(np.isnan(trs), np.nan, mdi)
    s = pdi + mdi
    with np.errstate(divide="ignore", invalid="ignore"):
        dx = np.where(s > 0, 100.0 * np.abs(pdi - mdi) / s, 0.0)
    dx = np.where(np.isnan(s), np.nan, dx)
    return wilder(dx, n), pdi, mdi


def zscore(x, n):
    m, s = rmean(x, n), rstd(x, n, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(s > 0, (np.asarray(x, float) - m) / s, 0.0)
    return np.where(np.isnan(s), np.nan, z)


def stoch(h, l, c, n, smooth, d):
    hh, ll = rmax(h, n), rmin(l, n)
    with np.errstate(divide="ignore", invalid="ignore"):
        raw = np.where(hh > ll, 100.0 * (c - ll) / (hh - ll), 50.0)
    raw = np.where(np.isnan(hh), np.nan, raw)
    k = rmean_nan_start(raw, smooth)
    return k, rmean_nan_start(k, d)


def rmean_nan_start(x, n):
    """Rolling mean of a series that starts with NaNs (the indicator feeds its
    average only from its first defined value)."""
    x = np.asarray(x, float)
    out = np.full(len(x), np.nan)
    valid = np.flatnonzero(~np.isnan(x))
    if len(valid):
        f = int(valid[0])
        out[f:] = rmean(x[f:], n)
    return out


def bollinger(c, n):
    mid, sd = rmean(c, n), rstd(c, n, 0)
    return mid, mid - 2.0 * sd, mid + 2.0 * sd


def shift(x, k):
    x = np.asarray(x, float)
    out = np.full(len(x), np.nan)
    if k < len(x):
        out[k:] = x[: len(x) - k]
    return out


def base_features(b):
    o, h, l, c = (b[k].to_numpy(float) for k in ("open", "high", "low", "close"))
    f = {}
    with np.errstate(divide="ignore", invalid="ignore"):
        for k in (1, 2, 3, 5, 10, 20, 50, 100):
            f["ret_%d" % k] = c / shift(c, k) - 1
        for k in (1, 2, 3, 5, 10, 20, 50, 100):
            f["logret_%d" % k] = np.log(c / shift(c, k))
    lr = f["logret_1"]
    for n in (5, 10, 20, 50, 100):
        f["vol_%d" % n] = rstd(lr, n, 1)
    hl, co = np.log(h / l), np.log(c / o)
    f["vol_park_20"] = np.sqrt(rmean(hl * hl, 20) / (4.0 * LN2))
    f["vol_gk_20"] = np.sqrt(rmean(0.5 * hl * hl - (2.0 * LN2 - 1.0) * co * co, 20))
    f["vol_ratio_5_50"] = ratio_or(f["vol_5"], f["vol_50"], 1.0)
    f["vol_ratio_20_100"] = ratio_or(f["vol_20"], f["vol_100"], 1.0)
    for n in (7, 14, 28):
        f["rsi_%d" % n] = rsi(c, n)
    cs = pd.Series(c)
    macd = (cs.ewm(span=12, adjust=False).mean() - cs.ewm(span=26, adjust=False).mean()).to_numpy()
    sig = pd.Series(macd).ewm(span=9, adjust=False).mean().to_numpy()
    ready = np.arange(len(c)) >= 26 + 9 - 2
    f["macd_rel"] = np.where(ready, macd / c, np.nan)
    f["macd_signal_rel"] = np.where(ready, sig / c, np.nan)
    f["macd_hist_rel"] = np.where(ready, (macd - sig) / c, np.nan)
    mid, lo, up = bollinger(c, 20)
    f["bb_pctb_20"] = position(c, lo, up)
    f["bb_width_20"] = (up - lo) / mid
    _, lo50, up50 = bollinger(c, 50)
    f["bb_pctb_50"] = position(c, lo50, up50)
    tr = true_range(h, l, c)
    for n in (7, 14, 28):
        f["atr_%d_rel" % n] = wilder(tr, n) / c
    f["adx_14"], f["plus_di_14"], f["minus_di_14"] = adx(h, l, c, 14)
    f["stoch_k_14"], f["stoch_d_14"] = stoch(h, l, c, 14, 3, 3)
    f["stoch_k_5"], f["stoch_d_5"] = stoch(h, l, c, 5, 1, 3)
    for n in (20, 50, 100):
        f["zscore_close_%d" % n] = zscore(c, n)
    f["zscore_logret_20"] = np.concatenate([[np.nan], zscore(lr[1:], 20)])
    sma = {n: rmean(c, n) for n in (10, 20, 50, 100)}
    for n in (10, 20, 50, 100):
        f["dist_sma_%d" % n] = c / sma[n] - 1
    for n in (10, 20, 50, 100):
        f["dist_ema_%d" % n] = c / ema(c, n) - 1
    f["sma_ratio_10_50"] = sma[10] / sma[50] - 1
    f["sma_ratio_20_100"] = sma[20] / sma[100] - 1
    for n in (20, 50):
        f["donchian_pos_%d" % n] = position(c, rmin(l, n), rmax(h, n))
    f["donchian_width_20"] = (rmax(h, 20) - rmin(l, 20)) / c
    rng = h - l
    with np.errstate(divide="ignore", invalid="ignore"):
        f["body_ratio"] = np.where(rng > 0, (c - o) / rng, 0.0)
        f["upper_wick_ratio"] = np.where(rng > 0, (h - np.maximum(o, c)) / rng, 0.0)
        f["lower_wick_ratio"] = np.where(rng > 0, (np.minimum(o, c) - l) / rng, 0.0)
    f["range_rel"] = rng / c
    f["close_pos"] = position(c, l, h)
    f["gap_rel"] = o / shift(c, 1) - 1
    f["body_rel"] = c / o - 1
    f["range_ratio_20"] = ratio_or(f["range_rel"], rmean(f["range_rel"], 20), 1.0)
    up_ = np.where(c > shift(c, 1), 1.0, 0.0)
    up_[0] = np.nan
    path = np.abs(c - shift(c, 1))
    for n in (10, 20):
        f["up_frac_%d" % n] = rmean(up_, n)
    for n in (10, 20):
        f["efficiency_%d" % n] = ratio_or(np.abs(c - shift(c, n)), roll(path, n, lambda w: w.sum(axis=1)), 0.0)
    ticks, vol = b["ticks"].to_numpy(float), b["volume"].to_numpy(float)
    f["ticks"] = ticks
    f["ticks_ratio_20"] = ratio_or(ticks, rmean(ticks, 20), 1.0)
    sm = pd.Series(b["spread_mean"].to_numpy(float)).ffill().to_numpy()
    sx = pd.Series(b["spread_max"].to_numpy(float)).ffill().to_numpy()
    f["spread_rel"] = sm / c
    f["spread_max_rel"] = sx / c
    f["spread_ratio_20"] = ratio_or(sm, rmean_nan_start(sm, 20), 1.0)
    f["volume_ratio_20"] = ratio_or(vol, rmean(vol, 20), 1.0)
    t = b["open_ns"].to_numpy(np.int64)
    day = t // DAY
    frac = (t - day * DAY).astype(float) / float(DAY)
    dow = ((day + 3) % 7).astype(float)
    f["hour_sin"] = np.sin(2.0 * np.pi * frac)
    f["hour_cos"] = np.cos(2.0 * np.pi * frac)
    f["dow_sin"] = np.sin(2.0 * np.pi * dow / 7.0)
    f["dow_cos"] = np.cos(2.0 * np.pi * dow / 7.0)
    hour = (t - day * DAY) // (3600 * 10**9)
    f["session_sydney"] = ((hour >= 21) | (hour < 6)).astype(float)
    f["session_tokyo"] = (hour < 9).astype(float)
    f["session_london"] = ((hour >= 7) & (hour < 16)).astype(float)
    f["session_newyork"] = ((hour >= 12) & (hour < 21)).astype(float)
    f["session_london_newyork"] = ((hour >= 12) & (hour < 16)).astype(float)
    return f


HTF = (("m15", 15 * 60), ("h1", 3600), ("h4", 4 * 3600), ("d1", 86400))


def htf_features(b, base_ns):
    f = {}
    c = b["close"].to_numpy(float)
    for name, secs in HTF:
        length = secs * 10**9
        cols = ["ret_1", "ret_4", "rsi_14", "atr_14_rel", "dist_sma_20", "bb_pctb_20", "adx_14",
                "range_pos"]
        if length <= base_ns:
            for k in cols:
                f["%s_%s" % (name, k)] = np.full(len(b), np.nan)
            continue
        key = b["open_ns"].to_numpy(np.int64) // length
        g = b.groupby(key, sort=True)
        hb = pd.DataFrame({"open": g["open"].first(), "high": g["high"].max(),
                           "low": g["low"].min(), "close": g["close"].last()})
        hclose_ns = (hb.index.to_numpy(np.int64) + 1) * length
        H, L, C = (hb[k].to_numpy(float) for k in ("high", "low", "close"))
        hr = rsi(C, 14)
        ha = wilder(true_range(H, L, C), 14)
        mid, lo, up = bollinger(C, 20)
        hadx, _, _ = adx(H, L, C, 14)
        j = np.searchsorted(hclose_ns, b["close_ns"].to_numpy(np.int64), side="right") - 1
        ok = j >= 0
        jj = np.where(ok, j, 0)

        def at(arr, back=0):
            k = jj - back
            v = np.where(k >= 0, arr[np.clip(k, 0, None)], np.nan)
            return np.where(ok, v, np.nan)

        f[name + "_ret_1"] = at(C) / at(C, 1) - 1
        f[name + "_ret_4"] = at(C) / at(C, 4) - 1
        f[name + "_rsi_14"] = at(hr)
        f[name + "_atr_14_rel"] = at(ha) / at(C)
        f[name + "_dist_sma_20"] = c / at(mid) - 1
        f[name + "_bb_pctb_20"] = position(c, at(lo), at(up))
        f[name + "_adx_14"] = at(hadx)
        f[name + "_range_pos"] = position(c, at(L), at(H))
    return f


def features(bars, base_ns):
    f = base_features(bars)
    f.update(htf_features(bars, base_ns))
    return pd.DataFrame(f)
