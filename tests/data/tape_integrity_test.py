#!/usr/bin/python3
"""The tape and the importers through the real binary (issue 12): every case
ends with all the data, or a named error and a non-zero exit; never exit 0
with less.

usage: tape_integrity_test.py TICKTAPE TESTDATA CASE [ROUNDS]

Oracles: the Dukascopy sample decoded here with Python's lzma and struct
(nothing of ticktape involved), and the text samples' oracle_ticks.csv.

CASE:
  concurrent  two writers at once: the second fails naming the first, or waits
"""
import csv, datetime, io, json, lzma, os, random, shutil, signal, struct, subprocess, sys
import tempfile, time

BIN, DATA, CASE = sys.argv[1], sys.argv[2], sys.argv[3]
ROUNDS = int(sys.argv[4]) if len(sys.argv) > 4 else 24
SAMPLE = os.path.join(DATA, "dukascopy")
WORK = tempfile.mkdtemp(prefix="tt_integrity_")


def fail(msg):
    print("FAIL:", msg)
    shutil.rmtree(WORK, ignore_errors=True)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def run(*args, ok=(0,), env=None):
    p = subprocess.run([BIN, *args], capture_output=True, text=True,
                       env=dict(os.environ, **(env or {})))
    if p.returncode not in ok:
        fail(f"ticktape {' '.join(args)}: exit {p.returncode}, expected {ok}\n"
             f"stdout: {p.stdout[-3000:]}\nstderr: {p.stderr[-3000:]}")
    return p


def oracle_ticks(days=(4, 5), volumes=False):
    """(ms, bid, ask[, bid_volume, ask_volume]) of every tick of the sample, from the bi5 files."""
    out = []
    for day in days:
        base = datetime.datetime(2019, 2, day, tzinfo=datetime.timezone.utc)
        for h in range(24):
            path = os.path.join(SAMPLE, "EURUSD", "2019", "01", f"{day:02d}", f"{h:02d}h_ticks.bi5")
            raw = open(path, "rb").read()
            if not raw:
                continue
            data = lzma.decompress(raw, format=lzma.FORMAT_ALONE)
            t0 = int((base + datetime.timedelta(hours=h)).timestamp() * 1000)
            for off in range(0, len(data), 20):
                ms, ask, bid, av, bv = struct.unpack(">IIIff", data[off:off + 20])
                out.append((t0 + ms, bid, ask, bv, av) if volumes else (t0 + ms, bid, ask))
    return out


def points(s):
    whole, _, frac = s.partition(".")
    return int(whole) * 100000 + int((frac + "00000")[:5])


def exported(tape, ok=(0,), *extra):
    p = run("tape", "export", tape, "--symbol", "EURUSD", "--time-format", "epoch-ms", *extra,
            ok=ok)
    rows = list(csv.reader(io.StringIO(p.stdout)))[1:]
    return [(int(r[0]), points(r[1]), points(r[2])) for r in rows], p


def import_cmd(tape, *extra):
    return [BIN, "import", "dukascopy", "--symbol", "EURUSD", "--dir", SAMPLE, "--tape", tape,
            "--no-candles", "--threads", "1", "--json", *extra]


def summary(p):
    return json.loads(p.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- cases

def case_concurrent():
    tape = os.path.join(WORK, "tape")
    # a long writer: synth appends a week of fast ticks
    slow = subprocess.Popen([BIN, "synth", "--symbol", "GBPUSD", "--from", "2019-02-04",
                             "--to", "2019-02-18", "--param", "tick_rate=40", "--tape", tape],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lock = os.path.join(tape, ".lock")
    for _ in range(2000):
        if os.path.exists(lock) and open(lock).read().startswith(f"pid {slow.pid} "):
            break
        time.sleep(0.005)
    else:
        fail("the first writer never took the lock")
    p = subprocess.run(import_cmd(tape), capture_output=True, text=True)
    check(slow.poll() is None, "the first writer finished too early for the test")
    check(p.returncode == 1, f"second writer: exit {p.returncode}: {p.stderr}")
    check(f"is being written by pid {slow.pid} (synth)" in p.stderr, p.stderr)
    # while it runs, readers see only what it committed: the tape verifies
    v = run("tape", "verify", tape, ok=(0, 1))
    check("did not finish" not in v.stderr and "after the last commit" not in v.stderr, v.stderr)
    # --wait waits for it, then imports everything
    p = subprocess.run(import_cmd(tape, "--wait"), capture_output=True, text=True)
    check(p.returncode == 0, f"--wait: exit {p.returncode}: {p.stderr}")
    check(slow.wait() == 0, "the first writer failed")
    s = summary(p)
    check(s["ticks_written"] == 266219 and s["ticks_present"] == 0, s)
    got, _ = exported(tape)
    check(got == oracle_ticks(), "the tape does not hold the sample once")
    run("tape", "verify", tape)
    print("ok: a second writer fails naming the first, or waits; both complete")


CASES = {"concurrent": case_concurrent}
try:
    CASES[CASE]()
finally:
    shutil.rmtree(WORK, ignore_errors=True)
