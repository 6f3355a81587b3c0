#!/usr/bin/python3
"""The news features (core/features.c, the `news` group) against pandas, and
their look-ahead test.

Usage: news_oracle.py TICKTAPE SOURCE_DIR WORK_DIR

The HistData half-year tape (scenarios/data/eurusd-2017h1) gets the real 2017
Forex Factory calendar (tests/data/calendar, times in UTC+08:00) imported as its
`calendar` stream; `ticktape features` writes the M15 rows of the news group.

1. Oracle: pandas reads the calendar CSV itself (its own +08:00 conversion and
   clock parsing), keeps the timed events of EUR, USD or All, and computes for
   each bar's close T the minutes to the first high (resp. medium or high)
   impact event after T, when it is at most 7 days ahead, and the minutes since
   the last one at or before T. Every value must be equal, NaN where pandas has
   none.
2. Figures never enter: every Actual, Forecast and Previous of the file changed
   (or emptied): the rows are byte-identical.
3. Look-ahead (the pattern of features_oracle.py): every event scheduled after
   t + 7 days is removed (a calendar announces a week ahead, the features'
   rule); every row of a bar that closed at or before t is byte-identical, and
   rows after t change (the test would see a leak).
"""
import lzma
import os
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd

TT, SRC, WORK = sys.argv[1], sys.argv[2], sys.argv[3]
TAPE = os.path.join(SRC, "scenarios", "data", "eurusd-2017h1")
CAL = os.path.join(SRC, "tests", "data", "calendar", "forex_factory_calendar_2017.csv.xz")
MIN = 60 * 10**9
WEEK = 7 * 24 * 60 * MIN
NAMES = ["news_high_next_min", "news_high_prev_min", "news_medium_next_min",
         "news_medium_prev_min"]
shutil.rmtree(WORK, ignore_errors=True)
os.makedirs(WORK)


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def run(*args, ok=(0,)):
    p = subprocess.run([TT] + list(args), capture_output=True, text=True, cwd=WORK)
    if p.returncode not in ok:
        fail("ticktape %s: exit %d\n%s%s" % (" ".join(args), p.returncode, p.stdout, p.stderr))
    return p


def calendar_df(path):
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    clock = pd.to_datetime(df["Date"] + " " + df["Time"], format="%Y-%m-%d %I:%M%p",
                           errors="coerce")
    df["ns"] = (clock - pd.Timedelta(hours=8)).astype("int64")
    df["timed"] = clock.notna()
    return df


def rows_for(name, csv_text):
    """Import csv_text as the calendar of a copy of the tape; the news rows."""
    tape = os.path.join(WORK, name, "tape")
    shutil.copytree(TAPE, tape)
    cal = os.path.join(WORK, name, "cal.csv")
    with open(cal, "w") as f:
        f.write(csv_text)
    run("import", "calendar", cal, "--tape", tape, ok=(0, 3))
    scen = os.path.join(WORK, name, "s.yaml")
    with open(scen, "w") as f:
        f.write("""name: news-%s
data:
  tape: %s
  symbols: [EURUSD]
  external: [calendar]
  from: 2017-01-02
  to: 2017-07-01
ml:
  timeframe: M15
  features: [news]
  label: {kind: sign, horizon: 8}
""" % (name, tape))
    out = os.path.join(WORK, name, "rows.csv")
    run("features", scen, "--out", out)
    with open(out) as f:
        return f.read()


def table(text, path):
    with open(path, "w") as f:
        f.write(text)
    df = pd.read_csv(path)
    df["close_ns"] = pd.to_datetime(df["time"], utc=True).astype("int64") + 15 * MIN
    return df


def reference(cal, close):
    """pandas: the four features at each close time (int64 ns array)."""
    ev = cal[cal["timed"] & cal["Currency"].isin(["EUR", "USD", "All"])]
    out = {}
    for tag, impacts in (("high", ["High"]), ("medium", ["High", "Medium"])):
        t = np.sort(ev[ev["Impact"].isin(impacts)]["ns"].to_numpy(np.int64))
        i = np.searchsorted(t, close, side="right")  # first event > close
        nxt = np.where(i < len(t), t[np.minimum(i, len(t) - 1)], 0)
        ok = (i < len(t)) & (nxt - close <= WEEK)
        out["news_%s_next_min" % tag] = np.where(ok, (nxt - close).astype(np.float64) / MIN,
                                                 np.nan)
        prv = np.where(i > 0, t[np.maximum(i - 1, 0)], 0)
        out["news_%s_prev_min" % tag] = np.where(i > 0, (close - prv).astype(np.float64) / MIN,
                                                 np.nan)
    return out


def main():
    with lzma.open(CAL) as f:
        original = f.read().decode()
    base = rows_for("base", original)
    got = table(base, os.path.join(WORK, "base.csv"))
    cal = calendar_df(os.path.join(WORK, "base", "cal.csv"))
    ref = reference(cal, got["close_ns"].to_numpy(np.int64))
    n = len(got)
    if n < 12000:
        fail("only %d rows" % n)
    for name in NAMES:
        a, b = got[name].to_numpy(np.float64), ref[name]
        if not (np.isnan(a) == np.isnan(b)).all():
            fail("%s: NaN pattern differs at %d rows" % (name, (np.isnan(a) != np.isnan(b)).sum()))
        m = ~np.isnan(a)
        if not (a[m] == b[m]).all():
            k = np.argmax(a[m] != b[m])
            fail("%s: %r against pandas %r" % (name, a[m][k], b[m][k]))
        if m.sum() < n // 2:
            fail("%s: defined on %d of %d rows only" % (name, m.sum(), n))
    print("oracle: %d M15 rows x %d news features equal to pandas on the real 2017 calendar "
          "(%d high-impact EUR/USD/All events)" % (n, len(NAMES), (cal["timed"] & cal["Impact"].eq(
              "High") & cal["Currency"].isin(["EUR", "USD", "All"])).sum()))

    # 2. the figures never enter a row
    df = pd.read_csv(os.path.join(WORK, "base", "cal.csv"), dtype=str, keep_default_na=False)
    for col in ("Actual", "Forecast", "Previous"):
        df[col] = np.where(df[col] == "", "1.5%", "")
    figs = rows_for("figures", df.to_csv(index=False))
    if figs != base:
        fail("changing the released figures changed the rows")
    print("figures: every Actual, Forecast and Previous changed: rows byte-identical")

    # 3. look-ahead: events after t + 7 days removed
    t = pd.Timestamp("2017-04-03T10:00:00Z").value
    keep = ~(cal["ns"].to_numpy(np.int64) > t + WEEK)
    cut = pd.read_csv(os.path.join(WORK, "base", "cal.csv"), dtype=str, keep_default_na=False)
    cut = rows_for("cut", cut[keep].to_csv(index=False))
    lines_a, lines_b = base.splitlines(), cut.splitlines()
    if len(lines_a) != len(lines_b):
        fail("row count changed")
    close = got["close_ns"].to_numpy(np.int64)
    early = close <= t
    same = np.array([x == y for x, y in zip(lines_a[1:], lines_b[1:])])
    if not same[early].all():
        fail("a row closed before t changed when events after t + 7 days were removed")
    if same[~early].all():
        fail("no row after t changed: the test would not see a leak")
    print("look-ahead: %d rows closed by %s identical, %d later rows changed"
          % (early.sum(), "2017-04-03T10:00Z", (~same[~early]).sum()))


main()
