#!/usr/bin/python3
"""End-to-end test of `ticktape bars` (run by ctest: tests/core/bars_cli.cmake).

  bars_cli.py TICKTAPE SOURCE_DIR

Builds a small Dukascopy tree from tests/data/bars/ (EURUSD 2019-02-04, hours 00,
07, 08), imports it with `ticktape import dukascopy`, then checks `ticktape bars`:
  - M1 bid, CSV, epoch-ms: every bar equals Dukascopy's own 1-minute BID candle
    (prices as exact decimals with 5 digits; volume to float32 precision);
  - M5 mid and H1 ask: equal to bars computed here in Python from the decoded
    ticks (mid = (bid+ask)/2 rounded half to even: Python's round() is exactly
    that on x.5; volume the exact Decimal sum of each tick's float32 volume
    read as its shortest decimal, printed with no float noise);
  - JSONL gives the same bars as CSV; ISO times; D1/W1/MN1 hold all ticks in one bar
    whose time is the period's open (W1: Monday 2019-02-04, MN1: 2019-02-01);
  - --from/--to cut the ticks read, --no-partial drops the last (partial) bar;
  - a torn tape tail gives the bars of the complete blocks and exit status 3;
  - --help exits 0, usage errors exit 2, an unknown symbol or one without quotes in
    the tape exits 1; an empty time range prints just the header.
"""
import json
import lzma
from decimal import Decimal
import os
import shutil
import struct
import subprocess
import sys
import tempfile

DAY_MS = 1549238400000  # 2019-02-04T00:00Z
HOURS = (0, 7, 8)
FAILS = []


def check(cond, what):
    if not cond:
        FAILS.append(what)
        print("FAIL:", what)


def bi5(path):
    raw = open(path, "rb").read()
    return lzma.decompress(raw, format=lzma.FORMAT_ALONE) if raw else b""


def load_ticks(data_dir):
    ticks = []
    for h in HOURS:
        d = bi5(os.path.join(data_dir, "EURUSD_2019-02-04_%02dh_ticks.bi5" % h))
        for i in range(0, len(d), 20):
            ms, ask, bid, av, bv = struct.unpack(">3I2f", d[i : i + 20])
            ticks.append((DAY_MS + h * 3600000 + ms, bid, ask, bv, av))
    return ticks


def fmt(points):
    return "%d.%05d" % (points // 100000, points % 100000)


def f32_decimal(v):
    """The shortest decimal that reads back as the same float32, as a Decimal:
    the tick volume the source meant (1.12, not 1.1200000047683716)."""
    for p in range(1, 10):
        t = "%.*g" % (p, v)
        if struct.unpack(">f", struct.pack(">f", float(t)))[0] == v:
            return Decimal(t)
    return Decimal(repr(v))


def expected_bars(ticks, period_ms, side):
    """Bars computed here; volume the exact decimal sum of the ticks' volumes."""
    bars = []
    for ms, bid, ask, bv, av in ticks:
        if side == "bid":
            p, v = bid, f32_decimal(bv)
        elif side == "ask":
            p, v = ask, f32_decimal(av)
        else:
            s = bid + ask
            p, v = (s // 2 if s % 2 == 0 else int(round(s / 2))), (f32_decimal(bv) + f32_decimal(av)) / 2
        t = ms - ms % period_ms
        if bars and bars[-1][0] == t:
            b = bars[-1]
            b[2], b[3], b[4], b[5], b[6] = max(b[2], p), min(b[3], p), p, b[5] + v, b[6] + 1
        else:
            bars.append([t, p, p, p, p, v, 1])
    return bars


def run(tt, *args, expect=0):
    r = subprocess.run([tt] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True)
    check(r.returncode == expect,
          "%s: exit %d, expected %d (%s)" % (" ".join(args), r.returncode, expect, r.stderr.strip()))
    return r.stdout


def parse_csv(text):
    lines = text.strip().split("\n")
    check(lines[0] == "time,open,high,low,close,volume,ticks", "CSV header: " + lines[0])
    return [l.split(",") for l in lines[1:]]


def fmt_decimal(d):
    """A Decimal as ticktape prints it: fixed notation, no trailing zeros."""
    t = format(d.normalize(), "f")
    return t


def compare(rows, bars, what, exact_volume=True):
    check(len(rows) == len(bars), "%s: %d bars, expected %d" % (what, len(rows), len(bars)))
    for r, b in zip(rows, bars):
        want = [str(b[0])] + [fmt(x) for x in b[1:5]]
        if r[:5] != want:
            check(False, "%s: %s != %s" % (what, r[:5], want))
            return
        # exact: the printed decimal is the decimal sum, with no float noise
        vol_ok = (Decimal(r[5]) == b[5] and r[5] == fmt_decimal(b[5]) if exact_volume
                  else abs(float(r[5]) - b[5]) <= 1e-6 * b[5])
        if not vol_ok or int(r[6]) != b[6]:
            check(False, "%s at %s: volume/ticks %s %s != %r %d" % (what, r[0], r[5], r[6], b[5], b[6]))
            return


def main():
    tt, src = sys.argv[1], sys.argv[2]
    data = os.path.join(src, "tests", "data", "bars")
    tmp = tempfile.mkdtemp(prefix="tt_bars_cli_")
    try:
        tree = os.path.join(tmp, "duka", "EURUSD", "2019", "01", "04")
        os.makedirs(tree)
        for h in HOURS:
            shutil.copy(os.path.join(data, "EURUSD_2019-02-04_%02dh_ticks.bi5" % h),
                        os.path.join(tree, "%02dh_ticks.bi5" % h))
        tape = os.path.join(tmp, "tape")
        run(tt, "import", "dukascopy", "--symbol", "EURUSD", "--dir", os.path.join(tmp, "duka"),
            "--tape", tape, "--from", "2019-02-04", "--to", "2019-02-04")
        ticks = load_ticks(data)

        # M1 bid against Dukascopy's candles (open, close, low, high order in the file)
        c = bi5(os.path.join(data, "EURUSD_2019-02-04_BID_candles_min_1.bi5"))
        candles = {}
        for i in range(0, len(c), 24):
            s, o, cl, lo, hi, v = struct.unpack(">5If", c[i : i + 24])
            candles[DAY_MS + s * 1000] = [DAY_MS + s * 1000, o, hi, lo, cl, v]
        rows = parse_csv(run(tt, "bars", tape, "--symbol", "EURUSD", "--timeframe", "M1",
                             "--side", "bid", "--format", "csv", "--time-format", "epoch-ms"))
        want = [candles[int(r[0])] + [int(r[6])] for r in rows if int(r[0]) in candles]
        check(len(want) == 180, "M1: %d bars have a Dukascopy candle, expected 180" % len(want))
        compare(rows, want, "M1 bid vs Dukascopy", exact_volume=False)

        m5 = parse_csv(run(tt, "bars", tape, "--symbol", "EURUSD", "--timeframe", "M5",
                           "--side", "mid", "--time-format", "epoch-ms"))
        compare(m5, expected_bars(ticks, 300000, "mid"), "M5 mid")
        h1 = parse_csv(run(tt, "bars", tape, "--symbol", "EURUSD", "--timeframe", "1h",
                           "--side", "ask", "--time-format", "epoch-ms"))
        compare(h1, expected_bars(ticks, 3600000, "ask"), "H1 ask")

        # JSONL = CSV; ISO times
        js = [json.loads(l) for l in run(tt, "bars", tape, "--symbol", "EURUSD", "--timeframe",
                                         "M5", "--side", "mid", "--format", "jsonl").split("\n") if l]
        check(len(js) == len(m5) and len(js) > 0, "JSONL: %d bars, CSV %d" % (len(js), len(m5)))
        check(js and js[0]["time"] == "2019-02-04T00:00:00.000Z",
              "JSONL time " + (str(js[0]["time"]) if js else "missing"))
        check(all("%.5f" % j["open"] == r[1] and float(j["volume"]) == float(r[5])
                  and j["ticks"] == int(r[6]) for j, r in zip(js, m5)), "JSONL values differ from CSV")

        # one bar per period for D1, W1 (Monday), MN1 (the 1st)
        for tf, t in (("D1", "2019-02-04T00:00:00.000Z"), ("W1", "2019-02-04T00:00:00.000Z"),
                      ("MN1", "2019-02-01T00:00:00.000Z")):
            rows = parse_csv(run(tt, "bars", tape, "--symbol", "EURUSD", "--timeframe", tf))
            check(len(rows) == 1 and rows[0][0] == t and int(rows[0][6]) == len(ticks),
                  "%s: %s" % (tf, rows))
            # the day's volume: every tick's decimal, summed exactly
            total = sum(f32_decimal(t[3]) for t in ticks)
            check(rows and rows[0][5] == fmt_decimal(total),
                  "%s volume %s, the ticks' sum %s" % (tf, rows and rows[0][5], total))

        # --from/--to: ticks in [07:30, 08:10) -> M15 bars 07:30, 07:45, 08:00 (partial)
        rows = parse_csv(run(tt, "bars", tape, "--symbol", "EURUSD", "--timeframe", "M15",
                             "--from", "2019-02-04T07:30:00Z", "--to", "2019-02-04T08:10:00Z"))
        check([r[0][11:16] for r in rows] == ["07:30", "07:45", "08:00"], "--from/--to: %s" % rows)
        n810 = sum(1 for t in ticks if DAY_MS + 8 * 3600000 <= t[0] < DAY_MS + 8 * 3600000 + 600000)
        check(rows and int(rows[-1][6]) == n810, "--to: last bar holds %s ticks, expected %d"
              % (rows[-1][6] if rows else "?", n810))
        rows = parse_csv(run(tt, "bars", tape, "--symbol", "EURUSD", "--timeframe", "M15",
                             "--from", "2019-02-04T07:30:00Z", "--to", "2019-02-04T08:10:00Z",
                             "--no-partial"))
        check(len(rows) == 2, "--no-partial: %d bars" % len(rows))

        # a torn tail (the last block cut short): the complete blocks' bars, exit 3
        torn = os.path.join(tmp, "torn")
        shutil.copytree(tape, torn)
        seg = os.path.join(torn, "EURUSD", "quote", "2019-02.tts")
        os.truncate(seg, os.path.getsize(seg) - 10)
        rows = parse_csv(run(tt, "bars", torn, "--symbol", "EURUSD", "--timeframe", "H1", expect=3))
        check(0 < len(rows) <= 3 and sum(int(r[6]) for r in rows) < len(ticks),
              "torn tail: %d bars" % len(rows))

        # conventions
        check(run(tt, "bars", "--help").startswith("usage: ticktape bars"), "--help text")
        run(tt, "bars", tape, "--symbol", "EURUSD", expect=2)
        run(tt, "bars", tape, "--symbol", "EURUSD", "--timeframe", "M7", expect=2)
        run(tt, "bars", tape, "--symbol", "EURUSD", "--timeframe", "M1", "--side", "last", expect=2)
        run(tt, "bars", tape, "--symbol", "EURUSD", "--timeframe", "M1", "--bogus", "1", expect=2)
        run(tt, "bars", tape, "--symbol", "NOSUCH", "--timeframe", "M1", expect=1)
        # a known symbol without quotes in this tape is an error, not an empty answer
        check(run(tt, "bars", tape, "--symbol", "GBPUSD", "--timeframe", "M1", expect=1) == "",
              "GBPUSD: nothing on stdout")
        # an empty range is not an error: just the header
        out = run(tt, "bars", tape, "--symbol", "EURUSD", "--timeframe", "M1", "--from", "2030-01-01")
        check(out == "time,open,high,low,close,volume,ticks\n", "empty range: %r" % out)
        run(tt, "bars", tape, "--symbol", "EURUSD", "--timeframe", "M1", "--from", "2019-02-05",
            "--to", "2019-02-04", expect=2)
    finally:
        shutil.rmtree(tmp)
    if FAILS:
        print("%d check(s) failed" % len(FAILS))
        return 1
    print("bars CLI: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
