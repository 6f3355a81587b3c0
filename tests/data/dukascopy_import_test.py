#!/usr/bin/python3
"""Script tests of `ticktape import dukascopy` against an independent oracle.

The oracle reads the same bi5 files with Python's own lzma module and struct:
nothing of ticktape's decoder is involved.

usage: dukascopy_import_test.py TICKTAPE TESTDATA CASE
CASE: lossless | bars | partial | candles | symbol | threads | resume | quarantine
"""
import collections
import csv
import io
import json
import lzma
import os
import shutil
import struct
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from decimal import Decimal

TT, DATA, CASE = sys.argv[1], sys.argv[2], sys.argv[3]
SAMPLE = os.path.join(DATA, "dukascopy")
DAYS = (4, 5)  # February 2019; directory month 01 (00-based)
POINTS = 100000


def run(*args, ok=(0,)):
    p = subprocess.run([TT, *args], capture_output=True, text=True)
    if p.returncode not in ok:
        sys.exit(f"FAIL: ticktape {' '.join(args)} exited {p.returncode}\n"
                 f"stdout:\n{p.stdout}\nstderr:\n{p.stderr}")
    return p


def hour_ms(day, hour):
    return int(datetime(2019, 2, day, hour, tzinfo=timezone.utc).timestamp()) * 1000


def decode_hour(path, day, hour):
    """Ticks of one file: (time_ms, ask, bid, ask_vol_bits, bid_vol_bits)."""
    data = open(path, "rb").read()
    if not data:
        return []
    raw = lzma.decompress(data, format=lzma.FORMAT_ALONE)
    assert len(raw) % 20 == 0, path
    base = hour_ms(day, hour)
    out = []
    for i in range(0, len(raw), 20):
        ms, ask, bid, av, bv = struct.unpack(">IIIII", raw[i:i + 20])
        out.append((base + ms, ask, bid, av, bv))
    return out


def oracle_ticks(root, skip=()):
    ticks = []
    for day in DAYS:
        for hour in range(24):
            p = os.path.join(root, "EURUSD", "2019", "01", f"{day:02d}", f"{hour:02d}h_ticks.bi5")
            if (day, hour) in skip or not os.path.exists(p):
                continue
            ticks.extend(decode_hour(p, day, hour))
    return ticks


def points(s):
    v = Decimal(s) * POINTS
    assert v == v.to_integral_value(), s
    return int(v)


def f32_bits(s):
    return struct.unpack(">I", struct.pack(">f", float(s)))[0]


def export_ticks(tape):
    out = run("tape", "export", tape, "--symbol", "EURUSD", "--format", "csv",
              "--time-format", "epoch-ms").stdout
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["time", "bid", "ask", "bid_volume", "ask_volume"], rows[0]
    return [(int(r[0]), points(r[2]), points(r[1]), f32_bits(r[4]), f32_bits(r[3]))
            for r in rows[1:]]


def import_sample(tmp, root=SAMPLE, extra=(), ok=(0,)):
    tape = os.path.join(tmp, "tape")
    p = run("import", "dukascopy", "--symbol", "EURUSD", "--dir", root, "--tape", tape,
            "--json", *extra, ok=ok)
    summary = json.loads(p.stdout.strip().splitlines()[-1])
    return tape, summary, p


def case_lossless(tmp):
    want = oracle_ticks(SAMPLE)
    assert len(want) == 266219, len(want)  # the README's count
    tape, s, p = import_sample(tmp, extra=("--no-candles",))
    assert s["ticks_read"] == 266219 and s["ticks_written"] == 266219, s
    assert s["files"] == 48 and s["files_bad"] == 0 and s["gaps"] == 0, s
    assert "data quality" in p.stdout and "spread" in p.stdout, p.stdout  # the table
    got = export_ticks(tape)
    assert len(got) == len(want), (len(got), len(want))
    for i, (g, w) in enumerate(zip(got, want)):
        if g != w:
            sys.exit(f"FAIL: tick {i}: exported {g} != bi5 {w}")
    info = json.loads(run("tape", "info", tape, "--json").stdout.strip().splitlines()[-1])
    assert info["events"] == 266219, info
    print(f"ok: {len(got)} ticks identical (time ms, ask, bid, float32 volume bits); "
          f"tape {info['bytes']} bytes = {info['bytes'] / len(got):.3f} bytes/tick")


def case_bars(tmp):
    """1-minute bid bars built by `ticktape bars` from the imported ticks equal
    Dukascopy's own BID_candles_min_1 for both days. Candles of minutes without
    ticks (Dukascopy repeats the previous close with volume 0) have no bar of
    ours: they are checked to be flat; none occur on these two days."""
    tape, s, _ = import_sample(tmp, extra=("--no-candles",))
    out = run("bars", tape, "--symbol", "EURUSD", "--timeframe", "M1", "--side", "bid",
              "--format", "csv", "--time-format", "epoch-ms").stdout
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0][:7] == ["time", "open", "high", "low", "close", "volume", "ticks"], rows[0]
    ours = {int(r[0]): r for r in rows[1:]}
    compared = flat = 0
    for day in DAYS:
        p = os.path.join(SAMPLE, "EURUSD", "2019", "01", f"{day:02d}", "BID_candles_min_1.bi5")
        raw = lzma.decompress(open(p, "rb").read(), format=lzma.FORMAT_ALONE)
        base = hour_ms(day, 0)
        prev_close = None
        for i in range(0, len(raw), 24):
            sec, o, c, lo, hi, vol = struct.unpack(">IIIIIf", raw[i:i + 24])
            t = base + sec * 1000
            if t not in ours:
                assert vol == 0 and o == c == lo == hi == prev_close, (day, sec)
                flat += 1
            else:
                r = ours[t]
                got = tuple(points(x) for x in r[1:5])
                if got != (o, hi, lo, c):
                    sys.exit(f"FAIL: {t}: bar {got} != candle O/H/L/C {(o, hi, lo, c)}")
                # float32 sums: the candle's volume is the minute's bid volume, rounded
                assert abs(float(r[5]) - vol) <= 1e-3 * max(1.0, vol), (t, r[5], vol)
                assert int(r[6]) > 0
                compared += 1
            prev_close = c
    assert compared + flat == 2880, (compared, flat)
    assert len(ours) == compared, (len(ours), compared)
    print(f"ok: {compared} one-minute bid bars equal Dukascopy's candles (O/H/L/C exact), "
          f"{flat} flat candles")


def case_partial(tmp):
    """A truncated file and a corrupt file are named, the rest imports, exit 3;
    a missing hour is a gap, a 0-byte hour is not."""
    root = os.path.join(tmp, "tree")
    shutil.copytree(SAMPLE, root)
    d4 = os.path.join(root, "EURUSD", "2019", "01", "04")
    d5 = os.path.join(root, "EURUSD", "2019", "01", "05")
    trunc = os.path.join(d4, "10h_ticks.bi5")
    data = open(trunc, "rb").read()
    open(trunc, "wb").write(data[:len(data) // 2])
    corrupt = os.path.join(d5, "07h_ticks.bi5")
    open(corrupt, "wb").write(b"\xff" + bytes(range(255)) * 8)
    os.remove(os.path.join(d5, "03h_ticks.bi5"))
    os.remove(os.path.join(d5, "04h_ticks.bi5"))
    os.remove(os.path.join(d5, "23h_ticks.bi5"))
    open(os.path.join(d4, "22h_ticks.bi5"), "wb").close()  # 0 bytes: no ticks, not a gap

    want = oracle_ticks(root, skip={(4, 10), (5, 7)})
    tape, s, p = import_sample(tmp, root=root, extra=("--no-candles",), ok=(3,))
    assert trunc in p.stderr and corrupt in p.stderr, p.stderr
    assert "truncated" in p.stderr, p.stderr
    assert s["status"] == "partial" and s["files_bad"] == 2, s
    assert s["files"] == 45 and s["files_empty"] == 1, s
    assert s["hours_missing"] == 3 and s["gaps"] == 2, s
    assert "2019-02-05T03:00Z .. 2019-02-05T04:00Z: 2 hours" in p.stderr, p.stderr
    assert "2019-02-05T23:00Z .. 2019-02-05T23:00Z: 1 hour" in p.stderr, p.stderr
    assert s["ticks_written"] == len(want), (s, len(want))
    got = export_ticks(tape)
    assert got == want
    print(f"ok: partial import, 2 bad files named, {len(got)} ticks imported, 2 gaps")


def case_candles(tmp):
    """Candle files import as bar streams: counts from the oracle."""
    tape, s, _ = import_sample(tmp, extra=("--no-ticks",))
    info = json.loads(run("tape", "info", tape, "--json").stdout.strip().splitlines()[-1])
    streams = {x["kind"]: x["events"] for x in info["streams"]}
    want = collections.Counter()
    for rel, kind in (("2018/BID_candles_day_1.bi5", "bar-D1-bid"),
                      ("2019/BID_candles_day_1.bi5", "bar-D1-bid"),
                      ("2019/00/BID_candles_hour_1.bi5", "bar-H1-bid"),
                      ("2019/01/BID_candles_hour_1.bi5", "bar-H1-bid"),
                      ("2019/01/04/BID_candles_min_1.bi5", "bar-M1-bid"),
                      ("2019/01/05/BID_candles_min_1.bi5", "bar-M1-bid")):
        raw = lzma.decompress(open(os.path.join(SAMPLE, "EURUSD", rel), "rb").read(),
                              format=lzma.FORMAT_ALONE)
        want[kind] += len(raw) // 24
    assert streams == dict(want), (streams, want)
    assert s["bars_written"] == sum(want.values()) == 5026, s
    assert s["candle_files"] == 6, s
    print(f"ok: candle files imported as bars: {dict(want)}")


def case_symbol(tmp):
    """An unknown symbol is an error that says how to declare it; a declared one imports."""
    root = os.path.join(tmp, "tree")
    os.makedirs(os.path.join(root, "FOOBAR", "2019", "01", "04"))
    shutil.copy(os.path.join(SAMPLE, "EURUSD", "2019", "01", "04", "10h_ticks.bi5"),
                os.path.join(root, "FOOBAR", "2019", "01", "04", "10h_ticks.bi5"))
    tape = os.path.join(tmp, "tape")
    p = run("import", "dukascopy", "--symbol", "FOOBAR", "--dir", root, "--tape", tape, ok=(1,))
    assert "unknown symbol 'FOOBAR'" in p.stderr and "--instruments" in p.stderr, p.stderr
    decl = os.path.join(tmp, "instruments.txt")
    open(decl, "w").write("FOOBAR 100000 5 10 100000 FOO BAR\n")
    p = run("import", "dukascopy", "--symbol", "FOOBAR", "--dir", root, "--tape", tape,
            "--instruments", decl, "--from", "2019-02-04", "--to", "2019-02-04", "--json")
    s = json.loads(p.stdout.strip().splitlines()[-1])
    assert s["ticks_written"] == 8438 and s["hours"] == 24 and s["hours_missing"] == 23, s
    # one end only: the other is the tree's (04 February holds the only file)
    p = run("import", "dukascopy", "--symbol", "FOOBAR", "--dir", root, "--tape", tape + "2",
            "--instruments", decl, "--from", "2019-02-04T10:00:00", "--json")
    s = json.loads(p.stdout.strip().splitlines()[-1])
    assert s["ticks_written"] == 8438 and s["hours"] == 14, s
    p = run("import", "dukascopy", "--symbol", "EURUSD", "--tape", tape, ok=(2,))
    assert "required" in p.stderr
    print("ok: unknown symbol refused with a declaration hint; declared symbol imported")


def case_threads(tmp):
    """The tape is the same at 1 and 2 decoder threads (byte for byte)."""
    digests = []
    for n in ("1", "2"):
        sub = os.path.join(tmp, n)
        os.makedirs(sub)
        tape, s, _ = import_sample(sub, extra=("--threads", n))
        blob = []
        for dp, _, fs in sorted(os.walk(tape)):
            for f in sorted(fs):
                blob.append((os.path.relpath(os.path.join(dp, f), tape),
                             open(os.path.join(dp, f), "rb").read()))
        digests.append(blob)
    assert digests[0] == digests[1], "tapes differ between --threads 1 and 2"
    print("ok: identical tapes at 1 and 2 threads")


def case_resume(tmp):
    """Importing again merges with what the tape holds: day 1, then days 1-2
    (only day 2 is new; the candles of day 1 are on the tape, the daily and
    monthly candles before it are merged in), then everything again (nothing
    new); the tape then exports exactly the 266,219 ticks once each."""
    tape = os.path.join(tmp, "tape")
    base = ["import", "dukascopy", "--symbol", "EURUSD", "--dir", SAMPLE, "--tape", tape, "--json"]
    day1 = len(oracle_ticks(SAMPLE)) - sum(
        len(decode_hour(os.path.join(SAMPLE, "EURUSD", "2019", "01", "05", f"{h:02d}h_ticks.bi5"), 5, h))
        for h in range(24))
    s1 = json.loads(run(*base, "--from", "2019-02-04", "--to", "2019-02-04").stdout.splitlines()[-1])
    assert s1["ticks_written"] == day1 and s1["ticks_present"] == 0, s1
    s2 = json.loads(run(*base).stdout.splitlines()[-1])
    assert s2["ticks_present"] == day1 and s2["ticks_written"] == 266219 - day1, s2
    # the bars of the first run are on the tape; every other bar is new
    assert s2["bars_present"] == s1["bars_written"] > 1440, (s1, s2)
    assert s2["bars_present"] + s2["bars_written"] == 5026, s2
    assert s2["ticks_conflicts"] == 0 and s2["bars_conflicts"] == 0, s2
    p3 = run(*base)
    s3 = json.loads(p3.stdout.splitlines()[-1])
    assert s3["ticks_present"] == 266219 and s3["ticks_written"] == 0, s3
    assert s3["bars_present"] == 5026 and s3["bars_written"] == 0, s3
    assert "266219 tick(s) were on the tape already" in p3.stderr, p3.stderr
    assert export_ticks(tape) == oracle_ticks(SAMPLE)
    run("tape", "verify", tape)
    print(f"ok: re-import merges: {day1} + {266219 - day1} new ticks, then 0")


def case_quarantine(tmp):
    """Nothing is dropped silently: with spread=drop, the ticks whose spread is
    over 5 pips (50 points, found here from the raw files) are exactly the ones
    missing from the tape, counted in the table and written to the quarantine."""
    want = oracle_ticks(SAMPLE)
    wide = [t for t in want if t[1] - t[2] > 50]
    assert len(wide) == 7, len(wide)
    q = os.path.join(tmp, "quarantine.csv")
    tape, s, p = import_sample(tmp, extra=("--no-candles", "--quality", "spread=drop",
                                           "--quarantine", q))
    qs = s["quality"]
    assert qs["dropped"] == 7 and qs["rules"]["spread"] == {
        "hits": 7, "dropped": 7, "repaired": 0, "policy": "drop"}, qs
    assert s["ticks_written"] == 266219 - 7, s
    rows = list(csv.reader(open(q)))
    assert rows[0][:3] == ["rule", "action", "origin"], rows[0]
    got = [(int(r[5]) // 1000000, points(r[7]), points(r[6])) for r in rows[1:]]
    assert all(r[0] == "spread" and r[1] == "drop" and r[2].endswith("_ticks.bi5") for r in rows[1:])
    assert got == [(t[0], t[1], t[2]) for t in wide], (got, wide)
    assert export_ticks(tape) == [t for t in want if t[1] - t[2] <= 50]
    bad = run("import", "dukascopy", "--symbol", "EURUSD", "--dir", SAMPLE, "--tape", tape,
              "--quality", "spread=repair", ok=(2,))
    assert "not allowed" in bad.stderr, bad.stderr
    print("ok: 7 wide-spread ticks dropped, counted and quarantined; nothing else missing")


CASES = {"quarantine": case_quarantine, "resume": case_resume, "lossless": case_lossless, "bars": case_bars, "partial": case_partial,
         "candles": case_candles, "symbol": case_symbol, "threads": case_threads}

with tempfile.TemporaryDirectory(prefix="tt_duka_") as tmp:
    CASES[CASE](tmp)
