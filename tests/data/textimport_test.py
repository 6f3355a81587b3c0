#!/usr/bin/python3
"""End-to-end checks of the text and HDF5 importers and `tape gaps`.

usage: textimport_test.py TICKTAPE TESTDATA CASE

The samples in TESTDATA/text were derived from real Dukascopy EURUSD data by
text/make_samples.py; the oracles (oracle_ticks.csv, oracle_bars.csv) are the
values of the original bi5 records. Each case imports one format into a fresh
tape, reads it back through `ticktape tape export` (CSV, or HDF5 through
h5py/pandas for bars), and compares with the oracle.
"""
import csv, io, json, os, shutil, subprocess, sys, tempfile

BIN, DATA, CASE = sys.argv[1], sys.argv[2], sys.argv[3]
TEXT = os.path.join(DATA, "text")
WORK = tempfile.mkdtemp(prefix="tt_textimport_")


def run(*args, expect=0):
    p = subprocess.run([BIN] + list(args), capture_output=True, text=True)
    if p.returncode != expect:
        sys.stderr.write("command: %s\nexit %d (expected %d)\nstdout:\n%s\nstderr:\n%s\n" % (
            " ".join(args), p.returncode, expect, p.stdout, p.stderr))
        fail("unexpected exit code")
    return p


def fail(msg):
    print("FAIL:", msg)
    shutil.rmtree(WORK, ignore_errors=True)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def oracle_ticks():
    with open(os.path.join(TEXT, "oracle_ticks.csv")) as f:
        return [(int(r["ts_ns"]), int(r["bid_points"]), int(r["ask_points"]),
                 r["bid_volume"], r["ask_volume"]) for r in csv.DictReader(f)]


def oracle_bars():
    with open(os.path.join(TEXT, "oracle_bars.csv")) as f:
        return [(int(r["ts_ns"]), int(r["open"]), int(r["high"]), int(r["low"]),
                 int(r["close"]), float(r["volume"])) for r in csv.DictReader(f)]


def points(s):
    whole, _, frac = s.partition(".")
    frac = (frac + "00000")[:5]
    return int(whole) * 100000 + int(frac)


def exported_ticks(tape):
    p = run("tape", "export", tape, "--symbol", "EURUSD", "--time-format", "epoch-ns")
    rows = list(csv.DictReader(io.StringIO(p.stdout)))
    return [(int(r["time"]), points(r["bid"]), points(r["ask"]), r["bid_volume"],
             r["ask_volume"]) for r in rows]


def compare_ticks(tape, volumes):
    want, got = oracle_ticks(), exported_ticks(tape)
    check(len(got) == len(want), "tick count %d, oracle %d" % (len(got), len(want)))
    for i, (g, w) in enumerate(zip(got, want)):
        if volumes:
            # volumes compare as float32 values (the text forms may differ: "1" vs "1.0")
            ok = g[:3] == w[:3] and float(g[3]) == float(w[3]) and float(g[4]) == float(w[4])
        else:
            ok = g[:3] == w[:3] and float(g[3]) == 0 and float(g[4]) == 0
        check(ok, "tick %d: tape %r, oracle %r" % (i, g, w))


def h5_bars(tape, key="EURUSD/bars_M1_bid"):
    out = os.path.join(WORK, "bars.h5")
    run("tape", "export", tape, "--symbol", "EURUSD", "--format", "hdf5", "-o", out)
    import h5py
    with h5py.File(out, "r") as f:
        g = f[key]
        return [tuple(int(x) for x in row) + (float(v), int(n)) for row, v, n in zip(
            zip(g["ts"][:], g["open_points"][:], g["high_points"][:], g["low_points"][:],
                g["close_points"][:]), g["volume"][:], g["ticks"][:])]


def compare_bars(tape, volume_of):
    want, got = oracle_bars(), h5_bars(tape)
    check(len(got) == len(want), "bar count %d, oracle %d" % (len(got), len(want)))
    for i, (g, w) in enumerate(zip(got, want)):
        check(g[:5] == w[:5], "bar %d: tape %r, oracle %r" % (i, g, w))
        vol, ticks = volume_of(w[5])
        check(g[5] == vol and g[6] == ticks, "bar %d volume/ticks %r, expected %r" % (
            i, g[5:], (vol, ticks)))


def tape(name):
    return os.path.join(WORK, name)


def sample(name):
    return os.path.join(TEXT, name)


# The generator writes volume*10 rounded as Polygon's v and n, and as MT5's <TICKVOL>.
def tenfold(v):
    return (float(round(v * 10)), round(v * 10))


def case_polygon_quotes():
    for name in ("polygon_quotes.csv", "polygon_quotes.csv.gz"):
        t = tape(name)
        p = run("import", "polygon", sample(name), "--tape", t, "--json")
        summary = json.loads(p.stdout.strip().splitlines()[-1])
        check(summary["rows"] == 400 and summary["bad_rows"] == 0, "summary %r" % summary)
        compare_ticks(t, volumes=False)


def case_polygon_aggs():
    t = tape("aggs")
    run("import", "polygon", sample("polygon_aggs.json"), "--tape", t, "--timeframe", "M1")
    compare_bars(t, tenfold)


def case_polygon_filter():
    # Two tickers in one flat file: --symbol keeps one and counts the others as skipped;
    # without --symbol an unknown ticker stops the import with a message saying how to declare it.
    src = open(sample("polygon_quotes.csv")).read().splitlines()
    mixed = [src[0]] + [l.replace("C:EUR-USD", "C:XYZ-ABC") for l in src[1:51]] + src[1:]
    path = os.path.join(WORK, "mixed.csv")
    open(path, "w").write("\n".join(mixed) + "\n")
    t = tape("filter")
    p = run("import", "polygon", path, "--tape", t, "--symbol", "EURUSD", "--json")
    s = json.loads(p.stdout.strip().splitlines()[-1])
    check(s["skipped_rows"] == 50 and s["ticks_written"] == 400, "summary %r" % s)
    compare_ticks(t, volumes=False)
    p = run("import", "polygon", path, "--tape", tape("nofilter"), expect=1)
    check("C:XYZ-ABC" in p.stderr and "declare" in p.stderr and ":2:" in p.stderr,
          "unknown ticker message: %r" % p.stderr)


def case_mt5_ticks():
    t = tape("mt5")
    run("import", "mt5", sample("mt5_ticks.csv"), "--symbol", "EURUSD", "--utc-offset", "+02:00",
        "--tape", t)
    compare_ticks(t, volumes=False)


def case_mt5_bars():
    t = tape("mt5bars")
    run("import", "mt5", sample("mt5_bars.csv"), "--symbol", "EURUSD", "--utc-offset", "+02:00",
        "--timeframe", "M1", "--tape", t)
    compare_bars(t, lambda v: (0.0, round(v * 10)))


def case_histdata():
    t = tape("histdata")
    run("import", "csv", sample("histdata_ticks.csv"), "--columns", "time,bid,ask,skip",
        "--time-format", "histdata", "--symbol", "EURUSD", "--tape", t)
    compare_ticks(t, volumes=False)
    run("import", "csv", sample("histdata_m1.csv"), "--columns", "time,open,high,low,close,volume",
        "--delimiter", "semicolon", "--time-format", "histdata", "--symbol", "EURUSD",
        "--timeframe", "M1", "--tape", t)
    compare_bars(t, lambda v: (0.0, 0))


def case_generic():
    t = tape("generic")
    run("import", "csv", sample("generic_ticks.csv"), "--columns",
        "time,bid,ask,bid_volume,ask_volume", "--symbol", "EURUSD", "--tape", t)
    compare_ticks(t, volumes=True)
    t = tape("generic_ms")
    run("import", "csv", sample("generic_ticks_ms.csv"), "--columns", "time,bid,ask",
        "--time-format", "epoch-ms", "--symbol", "EURUSD", "--tape", t)
    compare_ticks(t, volumes=False)
    # epoch-ns with a symbol column, derived from the oracle itself
    path = os.path.join(WORK, "ns.csv")
    with open(path, "w") as f:
        f.write("symbol;ts;bid;ask\n")
        for ts, b, a, _, _ in oracle_ticks():
            f.write("EUR/USD;%d;%d.%05d;%d.%05d\n" % (ts, b // 100000, b % 100000, a // 100000,
                                                     a % 100000))
    t = tape("generic_ns")
    run("import", "csv", path, "--columns", "symbol,time,bid,ask", "--delimiter", ";",
        "--time-format", "epoch-ns", "--tape", t)
    compare_ticks(t, volumes=False)


def case_bad_rows():
    # Damage a copy of the Polygon sample: each bad line must be named by file and
    # line, every other row imported, and the exit code must be 3 (partial).
    lines = open(sample("polygon_quotes.csv")).read().splitlines()
    bad = {
        5: "C:EUR-USD,48,1.1445x,48,1.14452,1549274400900000000",   # bad price
        9: "C:EUR-USD,48,1.14457,48",                               # too few fields
        12: 'C:EUR-USD,48,"1.14457,48,1.14452,15492744009',         # unterminated quote
        20: "C:EUR-USD,48,1.14457,48,1.14452,yesterday",            # bad time
        33: "C:EUR-USD,48,1.144571,48,1.14452,1549274400900000000", # finer than a point
    }
    out = list(lines)
    for ln, text in bad.items():
        out[ln - 1] = text  # replaces the original row at file line ln
    path = os.path.join(WORK, "damaged.csv")
    open(path, "w").write("\n".join(out) + "\n")
    t = tape("bad")
    p = run("import", "polygon", path, "--tape", t, "--json", expect=3)
    for ln in bad:
        check("damaged.csv:%d:" % ln in p.stderr, "line %d not reported: %s" % (ln, p.stderr))
    s = json.loads(p.stdout.strip().splitlines()[-1])
    check(s["bad_rows"] == len(bad), "bad_rows %r" % s)
    # every good row is in the tape: the oracle minus the replaced rows (file line n = tick n-2)
    lost = {ln - 2 for ln in bad}
    want = [w for i, w in enumerate(oracle_ticks()) if i not in lost]
    got = exported_ticks(t)
    check([g[:3] for g in got] == [w[:3] for w in want],
          "kept %d ticks, expected %d" % (len(got), len(want)))


def case_truncated():
    # A .csv.gz cut short: the rows before the cut are imported, the cut is one bad row
    # naming the file and line, exit 3.
    data = open(sample("polygon_quotes.csv.gz"), "rb").read()
    path = os.path.join(WORK, "cut.csv.gz")
    open(path, "wb").write(data[:len(data) * 2 // 3])
    p = run("import", "polygon", path, "--tape", tape("cut"), "--json", expect=3)
    check("cut.csv.gz:" in p.stderr and "truncated" in p.stderr, p.stderr)
    s = json.loads(p.stdout.strip().splitlines()[-1])
    got = exported_ticks(tape("cut"))
    check(s["bad_rows"] == 1 and len(got) == s["ticks_written"] > 100, "summary %r" % s)
    want = oracle_ticks()[:len(got)]
    check([g[:3] for g in got] == [w[:3] for w in want], "ticks before the cut differ")


def case_quality():
    # Duplicates go through the shared quality rules: counted, dropped by default, and
    # quarantined with file:line. A row from the past is sorted into place first (here
    # it is the copy of an earlier row: a duplicate there).
    lines = open(sample("generic_ticks.csv")).read().splitlines()
    lines.insert(11, lines[10])       # exact duplicate of data row 10 (file line 12)
    lines.insert(31, lines[5])        # a row from the past (file line 32)
    path = os.path.join(WORK, "q.csv")
    open(path, "w").write("\n".join(lines) + "\n")
    q = os.path.join(WORK, "quarantine.csv")
    p = run("import", "csv", path, "--columns", "time,bid,ask,bid_volume,ask_volume", "--symbol",
            "EURUSD", "--tape", tape("q"), "--quarantine", q, "--json")
    s = json.loads(p.stdout.strip().splitlines()[-1])
    rules = s["quality"]["rules"]
    check(rules["duplicate"]["dropped"] == 2 and rules["order"]["dropped"] == 0,
          "quality %r" % s["quality"])
    check(s["bad_rows"] == 0 and s["ticks_written"] == 400, "summary %r" % s)
    qt = open(q).read()
    check("q.csv:12" in qt and "q.csv:32" in qt, "quarantine file: %r" % qt)
    compare_ticks(tape("q"), volumes=True)


def case_hdf5():
    # A tape with ticks (with volumes) and bars -> HDF5 -> h5py and pandas read the
    # same values the tape's CSV export prints; `import hdf5` gives the same ticks back.
    t = tape("src")
    run("import", "csv", sample("generic_ticks.csv"), "--columns",
        "time,bid,ask,bid_volume,ask_volume", "--symbol", "EURUSD", "--tape", t)
    run("import", "polygon", sample("polygon_aggs.json"), "--tape", t)
    h5 = os.path.join(WORK, "x.h5")
    run("tape", "export", t, "--symbol", "EURUSD", "--format", "hdf5", "-o", h5)
    csv_text = run("tape", "export", t, "--symbol", "EURUSD", "--time-format", "epoch-ns").stdout
    rows = list(csv.DictReader(io.StringIO(csv_text)))
    import h5py, numpy as np, pandas as pd
    df = pd.read_hdf(h5, "EURUSD/quotes")
    check(list(df.columns) == ["ts", "bid", "ask", "bid_volume", "ask_volume", "bid_points",
                               "ask_points"], "pandas columns %r" % list(df.columns))
    check(str(df["ts"].dtype) == "datetime64[ns]", "ts dtype %s" % df["ts"].dtype)
    check(len(df) == len(rows) == 400, "rows %d vs %d" % (len(df), len(rows)))
    ts = df["ts"].values.astype("int64")
    for i, r in enumerate(rows):
        ok = (ts[i] == int(r["time"]) and df["bid"].iat[i] == float(r["bid"]) and
              df["ask"].iat[i] == float(r["ask"]) and
              df["bid_points"].iat[i] == points(r["bid"]) and
              df["ask_points"].iat[i] == points(r["ask"]) and
              df["bid_volume"].iat[i] == np.float32(r["bid_volume"]) and
              df["ask_volume"].iat[i] == np.float32(r["ask_volume"]))
        check(ok, "row %d: pandas %r, csv %r" % (i, df.iloc[i].to_dict(), r))
    with h5py.File(h5, "r") as f:
        g = f["EURUSD/quotes"]
        check(np.array_equal(g["ts"][:], ts), "h5py ts differs from pandas")
        check(g["bid_volume"].dtype == np.float32, "bid_volume dtype %s" % g["bid_volume"].dtype)
        check([float(x) for x in g["ask"][:]] == [float(r["ask"]) for r in rows], "h5py ask")
        check(f.attrs["ticktape_layout"] == b"ticktape-hdf5 1", "layout attribute")
    bars = pd.read_hdf(h5, "EURUSD/bars_M1_bid")
    want = oracle_bars()
    check(len(bars) == len(want), "bars %d" % len(bars))
    check([int(x) for x in bars["close_points"]] == [w[4] for w in want], "bar closes")
    check([float(x) for x in bars["high"]] == [w[2] / 100000 for w in want], "bar highs")
    # back in: the same ticks and bars
    back = tape("back")
    p = run("import", "hdf5", h5, "--tape", back, "--json")
    s = json.loads(p.stdout.strip().splitlines()[-1])
    check(s["ticks_written"] == 400 and s["bars_written"] == 60, "hdf5 import %r" % s)
    again = run("tape", "export", back, "--symbol", "EURUSD", "--time-format", "epoch-ns").stdout
    check(again == csv_text, "ticks after export/import differ")
    check(h5_bars(back) == h5_bars(t), "bars after export/import differ")


def case_gaps():
    # One tick every 30 s from Friday 2019-02-01 20:00 UTC to the close at 22:00, then
    # from the Sunday reopening at 22:00 to Monday 03:00, with no ticks in
    # [Mon 00:30, Mon 01:15). Expected: exactly that hole; the weekend is not a gap.
    # A summer weekend (US daylight saving: close and reopen at 21:00 UTC) shows that the
    # New York convention follows DST while the fixed 22:00 UTC rule does not.
    import datetime as dt
    utc = dt.timezone.utc

    def ns(d):
        return int(d.timestamp()) * 10**9

    def series(spans, hole):
        out = []
        for a, b in spans:
            t = ns(a)
            while t < ns(b):
                if not (ns(hole[0]) <= t < ns(hole[1])):
                    out.append(t)
                t += 30 * 10**9
        return out

    def write(path, times):
        with open(path, "w") as f:
            for i, t in enumerate(times):
                b = 114000 + i % 7
                f.write("%d,1.%05d,1.%05d\n" % (t, b - 100000, b + 2 - 100000))

    winter = series([(dt.datetime(2019, 2, 1, 20, tzinfo=utc), dt.datetime(2019, 2, 1, 22, tzinfo=utc)),
                     (dt.datetime(2019, 2, 3, 22, tzinfo=utc), dt.datetime(2019, 2, 4, 3, tzinfo=utc))],
                    (dt.datetime(2019, 2, 4, 0, 30, tzinfo=utc), dt.datetime(2019, 2, 4, 1, 15, tzinfo=utc)))
    summer = series([(dt.datetime(2019, 6, 7, 19, tzinfo=utc), dt.datetime(2019, 6, 7, 21, tzinfo=utc)),
                     (dt.datetime(2019, 6, 9, 21, tzinfo=utc), dt.datetime(2019, 6, 9, 23, tzinfo=utc))],
                    (dt.datetime(2019, 6, 9, 22, 10, tzinfo=utc), dt.datetime(2019, 6, 9, 22, 13, tzinfo=utc)))
    t, ts = tape("winter"), tape("summer")
    for name, times, tp in (("winter.csv", winter, t), ("summer.csv", summer, ts)):
        path = os.path.join(WORK, name)
        write(path, times)
        run("import", "csv", path, "--columns", "time,bid,ask", "--time-format", "epoch-ns",
            "--symbol", "EURUSD", "--tape", tp)

    def gaps(tp, *opts):
        p = run("tape", "gaps", tp, "--symbol", "EURUSD", "--json", *opts)
        return [(g["from"], g["to"]) for g in json.loads(p.stdout.strip().splitlines()[-1])["gaps"]]

    want = [("2019-02-04T00:30:00.000Z", "2019-02-04T01:15:00.000Z"),
            ("2019-06-09T22:10:00.000Z", "2019-06-09T22:13:00.000Z")]
    got = gaps(t, "--timeframe", "M1") + gaps(ts, "--timeframe", "M1")
    check(got == want, "gaps %r, expected %r" % (got, want))
    # With a fixed 22:00 UTC weekend, the summer Friday 21:00-22:00 and Sunday 21:00-22:00 hours
    # are outside the close: Friday 21:00-22:00 becomes a gap (no ticks there), Sunday 21:00-22:00
    # has ticks so it is not.
    got = gaps(t, "--weekend", "utc22") + gaps(ts, "--weekend", "utc22")
    check(got == [want[0], ("2019-06-07T21:00:00.000Z", "2019-06-07T22:00:00.000Z"), want[1]],
          "utc22 gaps %r" % got)
    # With no weekend rule the whole close is a gap: Friday 22:00 to Sunday 22:00.
    check(gaps(t, "--weekend", "none") == [("2019-02-01T22:00:00.000Z", "2019-02-03T22:00:00.000Z"),
                                           want[0]], "no-weekend gaps")
    # --min-gap filters the 3-minute hole; the human output names the interval
    check(gaps(ts, "--min-gap", "5m") == [], "min-gap")
    p = run("tape", "gaps", t, "--symbol", "EURUSD")
    check(p.stdout.startswith("2019-02-04T00:30:00.000Z  2019-02-04T01:15:00.000Z  45m\n1 gap,"),
          "text output %r" % p.stdout)
    # --from/--to: the leading and trailing parts of the range count too
    got = gaps(t, "--from", "2019-02-04T02:00:00Z", "--to", "2019-02-04T04:00:00Z")
    check(got == [("2019-02-04T03:00:00.000Z", "2019-02-04T04:00:00.000Z")], "ranged %r" % got)


def case_usage():
    p = run("import", "csv", sample("generic_ticks.csv"), "--symbol", "EURUSD", "--tape",
            tape("u"), expect=2)
    check("--columns" in p.stderr, p.stderr)
    p = run("import", "csv", sample("generic_ticks.csv"), "--columns", "time,bid,nonsense",
            "--symbol", "EURUSD", "--tape", tape("u"), expect=2)
    check("nonsense" in p.stderr, p.stderr)
    p = run("import", "mt5", sample("mt5_ticks.csv"), "--symbol", "NOPE", "--tape", tape("u"),
            expect=1)
    check("declare" in p.stderr, p.stderr)
    p = run("import", "mt5", sample("polygon_quotes.csv"), "--symbol", "EURUSD", "--tape",
            tape("u"), expect=1)
    check("not a MetaTrader 5 export" in p.stderr, p.stderr)
    p = run("import", "polygon", os.path.join(WORK, "missing.csv"), "--tape", tape("u"), expect=1)
    check("missing.csv" in p.stderr, p.stderr)
    for fmt in ("polygon", "csv", "mt5", "hdf5"):
        p = run("import", fmt, "--help")
        check(p.stdout.startswith("usage: ticktape import " + fmt), p.stdout)
    p = run("tape", "gaps", "--help")
    check(p.stdout.startswith("usage: ticktape tape gaps"), p.stdout)


CASES = {k[5:]: v for k, v in globals().items() if k.startswith("case_")}
if CASE not in CASES:
    fail("unknown case %s (known: %s)" % (CASE, ", ".join(sorted(CASES))))
CASES[CASE]()
shutil.rmtree(WORK, ignore_errors=True)
print("ok:", CASE)
