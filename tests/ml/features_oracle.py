#!/usr/bin/python3
"""Oracle and look-ahead tests of `ticktape features` (core/features.c).

Usage: features_oracle.py TICKTAPE SOURCE_DIR WORK_DIR

1. HistData half-year: the six months of EURUSD M1 BID bars (tests/data/histdata)
   become quotes (scripts/histdata_quotes.py), a tape (`ticktape import csv`) and
   M5 feature rows (`ticktape features --out .h5`); pandas recomputes every
   default feature from the original CSVs (tests/ml/features_ref.py): every
   value must agree to 1e-9 relative to max(1, |reference|), with the same NaN
   pattern, and the row count must equal pandas' count of closed bars.
2. Real ticks: the Dukascopy tape of 4-5 February 2019 at M1, where spreads,
   tick counts and volumes are real: the same comparison, pandas building the
   bars and the spread statistics from the exported ticks.
3. Look-ahead: every price at or after a time t inside a bar is changed; every
   row of a bar that closed at or before t must be bit-identical, and the rows
   after t must differ (the change is seen, so the test would catch a leak).
"""
import os
import shutil
import subprocess
import sys

import h5py
import numpy as np
import pandas as pd

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import features_ref  # noqa: E402

TT, SRC, WORK = sys.argv[1], sys.argv[2], sys.argv[3]
ROOT = os.path.dirname(os.path.dirname(SRC))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import histdata_quotes  # noqa: E402

MIN = 60 * 10**9


def run(*args):
    r = subprocess.run([TT, *args], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("ticktape %s failed (%d):\n%s%s" % (" ".join(args), r.returncode, r.stdout, r.stderr))
    return r.stdout


def scenario(path, tape, tf, extra=""):
    with open(path, "w") as f:
        f.write("name: oracle\ndata:\n  tape: %s\n  symbols: [EURUSD]\n%s"
                "ml:\n  timeframe: %s\n  features: default\n"
                "  label: {kind: forward_return, horizon: 3}\n" % (tape, extra, tf))


def load_h5(path):
    with h5py.File(path, "r") as h:
        names = h["features"].attrs["names"]
        names = names.decode() if isinstance(names, bytes) else str(names)
        return (pd.DataFrame(h["features"][:], columns=names.split(",")),
                h["time"][:], h["close_time"][:])


def compare(tag, got, ref):
    assert list(got.columns) == list(ref.columns), "%s: column order differs" % tag
    assert len(got) == len(ref), "%s: %d rows, pandas has %d" % (tag, len(got), len(ref))
    worst = []
    bad = 0
    for name in got.columns:
        a, b = got[name].to_numpy(float), ref[name].to_numpy(float)
        na, nb = np.isnan(a), np.isnan(b)
        if (na != nb).any():
            i = int(np.flatnonzero(na != nb)[0])
            print("%s: %s: NaN pattern differs first at row %d (ticktape %r, pandas %r)" % (
                tag, name, i, a[i], b[i]))
            bad += 1
            continue
        ok = ~na
        if not ok.any():
            worst.append((0.0, name, 0))
            continue
        err = np.abs(a[ok] - b[ok]) / np.maximum(1.0, np.abs(b[ok]))
        k = int(np.argmax(err))
        worst.append((float(err[k]), name, int(np.flatnonzero(ok)[k])))
        if err[k] > 1e-9:
            bad += 1
            print("%s: %s: row %d differs: ticktape %r, pandas %r" % (
                tag, name, worst[-1][2], a[ok][k], b[ok][k]))
    worst.sort(reverse=True)
    values = int(np.isfinite(got.to_numpy()).sum())
    print("%s: %d rows x %d features, %d values compared; worst %s" % (
        tag, len(got), got.shape[1], values,
        ", ".join("%s %.2g" % (n, e) for e, n, _ in worst[:4])))
    assert bad == 0, "%s: %d features differ from pandas" % (tag, bad)
    defined = [n for n in got.columns if np.isfinite(got[n].to_numpy()).any()]
    return defined


def histdata_bars(files, base_ns):
    rows = []
    for path in sorted(files):
        for sec, o, h, l, c in histdata_quotes.read_bars(path):
            rows.append((sec * 10**9, *(histdata_quotes.to_points(x, 100000) for x in (o, h, l, c))))
    m1 = pd.DataFrame(rows, columns=["open_ns", "open", "high", "low", "close"])
    key = m1["open_ns"].to_numpy(np.int64) // base_ns
    g = m1.groupby(key, sort=True)
    b = pd.DataFrame({"open": g["open"].first(), "high": g["high"].max(), "low": g["low"].min(),
                      "close": g["close"].last(), "ticks": 4 * g["open"].count()})
    b["open_ns"] = b.index.to_numpy(np.int64) * base_ns
    b["close_ns"] = b["open_ns"] + base_ns
    b["volume"] = 0.0
    b["spread_mean"] = b["spread_max"] = 10.0
    b = b.reset_index(drop=True).astype({c: float for c in ("open", "high", "low", "close")})
    return b.iloc[:-1]  # the last bar never closes inside the data


def tick_bars(csv_path, base_ns):
    t = pd.read_csv(csv_path, dtype={"bid": str, "ask": str})
    bid = np.array([histdata_quotes.to_points(x, 100000) for x in t["bid"]], dtype=float)
    ask = np.array([histdata_quotes.to_points(x, 100000) for x in t["ask"]], dtype=float)
    vol = t["bid_volume"].to_numpy(np.float32).astype(np.float64)
    q = pd.DataFrame({"key": t["time"].to_numpy(np.int64) // base_ns, "bid": bid,
                      "spread": np.where((bid > 0) & (ask > 0), ask - bid, np.nan), "vol": vol})
    q = q[q["bid"] > 0]
    g = q.groupby("key", sort=True)
    b = pd.DataFrame({"open": g["bid"].first(), "high": g["bid"].max(), "low": g["bid"].min(),
                      "close": g["bid"].last(), "ticks": g["bid"].count(),
                      "volume": g["vol"].sum(), "spread_mean": g["spread"].mean(),
                      "spread_max": g["spread"].max()})
    b["open_ns"] = b.index.to_numpy(np.int64) * base_ns
    b["close_ns"] = b["open_ns"] + base_ns
    return b.reset_index(drop=True).iloc[:-1]


def main():
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    hist = [os.path.join(SRC, "histdata", f) for f in sorted(os.listdir(os.path.join(SRC, "histdata")))]
    quotes = os.path.join(WORK, "quotes.csv")
    subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "histdata_quotes.py"), quotes,
                    *hist], check=True, capture_output=True)
    tape = os.path.join(WORK, "hd")
    run("import", "csv", quotes, "--columns", "time,bid,ask", "--time-format", "epoch-ns",
        "--symbol", "EURUSD", "--tape", tape)

    # 1. HistData, M5
    scen = os.path.join(WORK, "hd.yaml")
    scenario(scen, tape, "M5")
    out = os.path.join(WORK, "hd.h5")
    run("features", scen, "--out", out)
    got, t_open, _ = load_h5(out)
    bars = histdata_bars(hist, 5 * MIN)
    assert (bars["open_ns"].to_numpy(np.int64) == t_open).all(), "bar times differ"
    ref = features_ref.features(bars, 5 * MIN)
    defined = compare("histdata M5", got, ref)
    assert len(defined) >= 100, "only %d features ever defined on the half-year" % len(defined)

    # 2. Dukascopy ticks, M1 (real spreads, tick counts, volumes)
    duka = os.path.join(SRC, "..", "..", "scenarios", "data", "eurusd-2019-02")
    ticks = os.path.join(WORK, "duka.csv")
    run("tape", "export", duka, "--symbol", "EURUSD", "--time-format", "epoch-ns", "-o", ticks)
    scen2 = os.path.join(WORK, "duka.yaml")
    scenario(scen2, os.path.abspath(duka), "M1")
    out2 = os.path.join(WORK, "duka.h5")
    run("features", scen2, "--out", out2)
    got2, t2, _ = load_h5(out2)
    bars2 = tick_bars(ticks, MIN)
    assert (bars2["open_ns"].to_numpy(np.int64) == t2).all(), "tick bar times differ"
    compare("dukascopy M1", got2, features_ref.features(bars2, MIN))
    for n in ("spread_rel", "ticks", "volume_ratio_20"):
        assert np.nanstd(got2[n].to_numpy()) > 0, n + " is constant on real ticks"

    # 3. look-ahead: change every price at or after t (inside the 10:00 M5 bar)
    t = int(pd.Timestamp("2017-03-15T10:02:30Z").value)
    q = pd.read_csv(quotes, dtype={"bid": str, "ask": str})
    late = q["time"].to_numpy(np.int64) >= t
    for col in ("bid", "ask"):
        pts = np.array([histdata_quotes.to_points(x, 100000) for x in q[col]], dtype=np.int64)
        pts = np.where(late, pts + 37 + (np.arange(len(pts)) % 11) * 3, pts)
        q[col] = ["%d.%05d" % (p // 100000, p % 100000) for p in pts]
    quotes2 = os.path.join(WORK, "quotes_changed.csv")
    q.to_csv(quotes2, index=False)
    tape2 = os.path.join(WORK, "hd_changed")
    run("import", "csv", quotes2, "--columns", "time,bid,ask", "--time-format", "epoch-ns",
        "--symbol", "EURUSD", "--tape", tape2)
    scen3 = os.path.join(WORK, "hd_changed.yaml")
    scenario(scen3, tape2, "M5")
    out3 = os.path.join(WORK, "hd_changed.h5")
    run("features", scen3, "--out", out3)
    got3, t3, c3 = load_h5(out3)
    _, _, c1 = load_h5(out)
    assert (t3 == t_open).all()
    before = c1 <= t
    a, b = got.to_numpy()[before], got3.to_numpy()[before]
    same = (a == b) | (np.isnan(a) & np.isnan(b))
    assert same.all(), "a row before t changed: %s" % str(np.argwhere(~same)[:5])
    after = ~before
    diff = ~((got.to_numpy()[after] == got3.to_numpy()[after]) |
             (np.isnan(got.to_numpy()[after]) & np.isnan(got3.to_numpy()[after])))
    assert diff.any(axis=1).all(), "a row after t did not change"
    print("look-ahead: %d rows before %s identical, all %d rows after it changed" % (
        before.sum(), "2017-03-15T10:02:30Z", after.sum()))
    print("ok")


if __name__ == "__main__":
    main()
