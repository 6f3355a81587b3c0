#!/usr/bin/python3
"""The tape and the importers through the real binary (issue 12): every case
ends with all the data, or a named error and a non-zero exit; never exit 0
with less.

usage: tape_integrity_test.py TICKTAPE TESTDATA CASE [ROUNDS]

Oracles: the Dukascopy sample decoded here with Python's lzma and struct
(nothing of ticktape involved), and the text samples' oracle_ticks.csv.

CASE:
  concurrent  two writers at once (an import, merge --tape, import calendar while
              synth writes): the second fails naming the first, or waits
  killed      kill -9 of an import at ROUNDS (default 24) random moments: the
              tape verifies as of its last commit and says that an import was
              interrupted; running the import again completes it exactly
  faults      an import whose k-th write or fsync fails (ENOSPC, EIO): a named
              error and exit 1; the tape holds a prefix; the rerun completes it
  backfill    4 February imported after 5 February is merged in, not skipped;
              an overlap with other values is a conflict: kept, or replaced
  suspects    a bi5 hour with an ask of 40000 points, a zero bid, NaN, infinite and
              negative volumes: quarantined (not on the quote stream, not in
              bars), counted, exit 3; tape export --quarantine lists them; a
              rerun adds nothing twice; --keep-suspect keeps them
  strict      backtest, sweep, walkforward, bars, tape export and publish on a
              cut tape: exit 1 naming the file, the blocks and the events
              missing; with --allow-partial: exit 3, and the text summary, the
              --json summary ("partial": {"events": N, "expected": M}) and the
              report say so; merge and mt5-sim --tape refuse it, naming it
  text        a CSV in reverse time order is sorted, or fails naming its line;
              a bad date names itself, in every command; --from after --to is
              a usage error in every command; a symbol not on the tape lists
              the tape's symbols
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
                             "--to", "2019-02-06", "--param", "tick_rate=20", "--tape", tape],
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
    # the other writers of a tape: merge into it, a calendar into it
    src = os.path.join(DATA, "..", "..", "scenarios", "data", "eurusd-2019-02")
    cal = os.path.join(DATA, "calendar", "ff_2019-02-04_06.csv")
    for cmd in (["merge", src, "--tape", tape], ["import", "calendar", cal, "--tape", tape]):
        p = run(*cmd, ok=(1,))
        check(slow.poll() is None, "the first writer finished too early for the test")
        check(f"is being written by pid {slow.pid} (synth)" in p.stderr, f"{cmd[:2]}: {p.stderr}")
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
    p = run("import", "calendar", cal, "--tape", tape, "--wait", "--json")
    check(json.loads(p.stdout.strip().splitlines()[-1])["written"] > 0, p.stdout)
    run("tape", "verify", tape)
    print("ok: a second writer (import, merge, import calendar) fails naming the first, or "
          "waits; both complete")


def case_killed():
    # one day (17 blocks, commits after 8 and 16 and at the end) keeps 24 rounds short
    want = oracle_ticks((4,))
    day = ("--from", "2019-02-04", "--to", "2019-02-04")
    rnd = random.Random(12)
    # how long a whole import takes here
    tape = os.path.join(WORK, "timing")
    t0 = time.monotonic()
    run(*import_cmd(tape, *day)[1:])
    full = time.monotonic() - t0
    interrupted = 0
    for r in range(ROUNDS):
        tape = os.path.join(WORK, f"k{r}")
        p = subprocess.Popen(import_cmd(tape, *day), stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        if r % 2:
            # odd rounds: a random moment after the first commit (fsyncs make the
            # first commit slow on a busy disk: wall time alone would miss it)
            manifest = os.path.join(tape, "MANIFEST")
            while p.poll() is None and not os.path.exists(manifest):
                time.sleep(0.002)
            time.sleep(rnd.uniform(0, full * 0.6))
        else:
            time.sleep(rnd.uniform(0.02, full * 0.9))
        p.send_signal(signal.SIGKILL)
        if p.wait() == 0:
            got, _ = exported(tape)  # it finished before the kill: all of it
            check(got == want, f"round {r}: exit 0 with {len(got)} ticks")
        elif not os.path.exists(os.path.join(tape, "MANIFEST")):
            # killed before the first commit: nothing is claimed
            e = run("tape", "export", tape, "--symbol", "EURUSD", ok=(1,))
            check("nothing committed" in e.stderr or "not a tape" in e.stderr or
                  "no such tape" in e.stderr, e.stderr)
        else:
            interrupted += 1
            v = run("tape", "verify", tape, ok=(1,))
            check("did not finish" in v.stderr, f"round {r}: {v.stderr}")
            got, e = exported(tape)
            check("did not finish" in e.stderr, e.stderr)
            check(0 < len(got) <= len(want) and got == want[:len(got)],
                  f"round {r}: {len(got)} ticks are not a prefix of the sample")
        # the same import again completes it: no gap, no duplicate
        p = run(*import_cmd(tape, *day)[1:])
        s = summary(p)
        check(s["ticks_present"] + s["ticks_written"] == len(want) and s["ticks_conflicts"] == 0,
              s)
        got, e = exported(tape)
        check(got == want, f"round {r}: the rerun left {len(got)} ticks")
        check(e.stderr == "", e.stderr)
        run("tape", "verify", tape)
        shutil.rmtree(tape)
    check(interrupted >= ROUNDS // 3, f"only {interrupted} of {ROUNDS} kills hit a commit")
    print(f"ok: {ROUNDS} kill -9 ({interrupted} after a commit): every tape verified as of its "
          f"last commit, and the rerun completed it")


def case_faults():
    want = oracle_ticks()
    hits = 0
    for spec in ("write:1:ENOSPC", "write:7:EIO", "write:20:ENOSPC:sticky", "fsync:3:EIO",
                 "write:40:EIO:short", "rename:2:EIO"):
        tape = os.path.join(WORK, spec.replace(":", "_"))
        p = run(*import_cmd(tape)[1:], ok=(0, 1), env={"TICKTAPE_FAULT": spec})
        if p.returncode == 0:
            got, _ = exported(tape)
            check(got == want, f"{spec}: exit 0 with {len(got)} ticks")
            continue
        hits += 1
        check("error:" in p.stderr and ("No space left" in p.stderr or
                                         "Input/output error" in p.stderr or
                                         "short write" in p.stderr), f"{spec}: {p.stderr}")
        if os.path.exists(os.path.join(tape, "MANIFEST")):
            got, _ = exported(tape)
            check(got == want[:len(got)], f"{spec}: not a prefix")
        run(*import_cmd(tape)[1:])
        got, _ = exported(tape)
        check(got == want, f"{spec}: the rerun left {len(got)} ticks")
        run("tape", "verify", tape)
    check(hits >= 5, f"only {hits} faults surfaced")
    print(f"ok: {hits} injected faults named, exit 1; each rerun completed the tape")


def case_backfill():
    tape = os.path.join(WORK, "tape")
    day5 = run(*import_cmd(tape, "--from", "2019-02-05", "--to", "2019-02-05")[1:])
    s5 = summary(day5)
    p = run(*import_cmd(tape, "--from", "2019-02-04", "--to", "2019-02-04")[1:])
    s4 = summary(p)
    check(s4["ticks_present"] == 0 and s4["ticks_written"] + s5["ticks_written"] == 266219,
          (s4, s5))
    check("already on the tape" not in p.stderr or "0 tick" in p.stderr, p.stderr)
    got, _ = exported(tape)
    check(got == oracle_ticks(), "4 February was not merged in before 5 February")
    run("tape", "verify", tape)
    # an overlap with other values: reported conflicts, the tape's kept ...
    csvfile = os.path.join(WORK, "other.csv")
    rows = oracle_ticks((4,), volumes=True)[:50]
    with open(csvfile, "w") as f:
        f.write("time,bid,ask,bid_volume,ask_volume\n")
        for i, (ms, bid, ask, bv, av) in enumerate(rows):
            d = 1 if i % 5 == 0 else 0
            f.write(f"{ms},{(bid + d) / 1e5:.5f},{(ask + d) / 1e5:.5f},{bv!r},{av!r}\n")
    rows = [r[:3] for r in rows]
    cols = "time,bid,ask,bid_volume,ask_volume"
    p = run("import", "csv", csvfile, "--columns", cols, "--symbol", "EURUSD",
            "--time-format", "epoch-ms", "--tape", tape, "--json", ok=(3,))
    s = json.loads(p.stdout.strip().splitlines()[-1])
    check(s["conflicts"] == 10 and s["present"] == 40, s)
    check("conflict: EURUSD quote at" in p.stderr and "kept" in p.stderr, p.stderr)
    got, _ = exported(tape)
    check(got == oracle_ticks(), "a conflict changed the tape without --replace")
    # ... or replaced with --replace
    p = run("import", "csv", csvfile, "--columns", cols, "--symbol", "EURUSD",
            "--time-format", "epoch-ms", "--tape", tape, "--json", "--replace")
    s = json.loads(p.stdout.strip().splitlines()[-1])
    check(s["conflicts"] == 10 and s["present"] == 40 and "replaced" in p.stderr, s)
    got, _ = exported(tape)
    check(got[:50] == [(ms, b + (1 if i % 5 == 0 else 0), a + (1 if i % 5 == 0 else 0))
                       for i, (ms, b, a) in enumerate(rows)], "--replace did not replace")
    check(len(got) == 266219, len(got))
    run("tape", "verify", tape)
    print("ok: back-fill merged in time order; conflicts reported, kept, then replaced")


def case_suspects():
    tree = os.path.join(WORK, "tree")
    hour = os.path.join(tree, "EURUSD", "2019", "01", "04")
    os.makedirs(hour)
    src = os.path.join(SAMPLE, "EURUSD", "2019", "01", "04", "10h_ticks.bi5")
    data = bytearray(lzma.decompress(open(src, "rb").read(), format=lzma.FORMAT_ALONE))
    recs = [struct.unpack(">IIIff", data[i:i + 20]) for i in range(0, len(data), 20)]
    bad = {100: ("ask", 40000), 200: ("bid", 0), 300: ("bv", float("nan")),
           400: ("av", float("inf")), 500: ("bv", -2.5)}
    for i, (field, v) in bad.items():
        ms, ask, bid, av, bv = recs[i]
        recs[i] = (ms, v if field == "ask" else ask, v if field == "bid" else bid,
                   v if field == "av" else av, v if field == "bv" else bv)
    raw = b"".join(struct.pack(">IIIff", *r) for r in recs)
    open(os.path.join(hour, "10h_ticks.bi5"), "wb").write(lzma.compress(raw, format=lzma.FORMAT_ALONE))
    tape = os.path.join(WORK, "tape")
    cmd = ["import", "dukascopy", "--symbol", "EURUSD", "--dir", tree, "--tape", tape,
           "--no-candles", "--json"]
    p = run(*cmd, ok=(3,))
    s = summary(p)
    q = s["quality"]
    check(q["suspect"] == 5 and s["ticks_quarantined"] == 5, s)
    check(q["rules"]["band"]["dropped"] == 1 and q["rules"]["volume"]["dropped"] == 3 and
          q["rules"]["nonpositive"]["dropped"] == 1, q)
    check(s["ticks_written"] == len(recs) - 5, s)
    check("quarantined as suspect" in p.stderr and "--quarantine" in p.stderr, p.stderr)
    got, _ = exported(tape)
    want = [(hour_ms(10) + r[0], r[2], r[1]) for i, r in enumerate(recs) if i not in bad]
    check(got == want, "the quote stream holds a suspect tick, or lost a good one")
    e = run("tape", "export", tape, "--symbol", "EURUSD", "--quarantine",
            "--time-format", "epoch-ms")
    rows = list(csv.DictReader(io.StringIO(e.stdout)))
    check([(r["rule"], int(r["time"])) for r in rows] ==
          [("band", hour_ms(10) + recs[100][0]), ("nonpositive", hour_ms(10) + recs[200][0]),
           ("volume", hour_ms(10) + recs[300][0]), ("volume", hour_ms(10) + recs[400][0]),
           ("volume", hour_ms(10) + recs[500][0])], rows)
    check(rows[0]["ask"] == "0.40000" and rows[2]["bid_volume"] == "nan" and
          rows[3]["ask_volume"] == "inf" and rows[4]["bid_volume"] == "-2.5", rows)
    check(all(r["origin"] == "EURUSD/2019/01/04/10h_ticks.bi5" for r in rows), rows)
    # the bars of the tape never see them (no NaN volume, no 0.4 low)
    b = run("bars", tape, "--symbol", "EURUSD", "--timeframe", "H1").stdout
    check("nan" not in b and "0.40000" not in b and "inf" not in b, b)
    # running it again adds nothing twice, quarantine included
    p = run(*cmd, ok=(3,))
    s = summary(p)
    check(s["ticks_written"] == 0 and s["ticks_present"] == len(recs) - 5, s)
    e2 = run("tape", "export", tape, "--symbol", "EURUSD", "--quarantine")
    check(len(e2.stdout.splitlines()) == 6, e2.stdout)
    run("tape", "verify", tape)
    # --keep-suspect keeps them on the quote stream
    tape2 = os.path.join(WORK, "kept")
    p = run("import", "dukascopy", "--symbol", "EURUSD", "--dir", tree, "--tape", tape2,
            "--no-candles", "--json", "--keep-suspect")
    s = summary(p)
    check(s["ticks_written"] == len(recs) and s["quality"]["rules"]["band"]["hits"] == 1, s)
    e = run("tape", "export", tape2, "--symbol", "EURUSD", "--quarantine")
    check("nothing quarantined" in e.stderr, e.stderr)
    print("ok: 5 suspect ticks quarantined, counted, exit 3, listed by export --quarantine; "
          "--keep-suspect keeps them")


def hour_ms(h, day=4):
    return int(datetime.datetime(2019, 2, day, h, tzinfo=datetime.timezone.utc).timestamp()) * 1000


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def case_strict():
    src = os.path.join(DATA, "..", "..")
    cut = os.path.join(WORK, "cut")
    shutil.copytree(os.path.join(src, "scenarios", "data", "eurusd-2019-02"), cut)
    seg = os.path.join(cut, "EURUSD", "quote", "2019-02.tts")
    os.truncate(seg, 500000)
    total = 266219
    named = lambda e: ("2019-02.tts" in e and "blocks 17 to 32 of 33 are missing" in e and  # noqa
                       "126955 of 266219 events" in e)
    scen = lambda n: os.path.join(src, "scenarios", n)  # noqa: E731
    tape = ["--set", f"data.tape={cut}"]
    # the sweep and walk-forward examples run on M1 bars (the open_prices model) of
    # the 2017 tape: one of its bar segments cut
    cut17 = os.path.join(WORK, "cut17")
    shutil.copytree(os.path.join(src, "scenarios", "data", "eurusd-2017h1"), cut17)
    os.truncate(os.path.join(cut17, "EURUSD", "bar-M1-bid", "2017-03.tts"), 40000)
    named17 = lambda e: "2017-03.tts" in e and "are missing" in e  # noqa: E731
    tape17 = ["--set", f"data.tape={cut17}"]
    runs = {
        "backtest": ["backtest", scen("eurusd-sma-cross.yaml"), *tape, "--json",
                     "--out", os.path.join(WORK, "bt")],
        "sweep": ["sweep", scen("sweep-eurusd-sma.yaml"), *tape17, "--json", "--jobs", "2",
                  "--out", os.path.join(WORK, "sw")],
        "walkforward": ["walkforward", scen("walkforward-eurusd-sma.yaml"), *tape17, "--json",
                        "--jobs", "2", "--out", os.path.join(WORK, "wf")],
    }
    for name, cmd in runs.items():
        p = run(*cmd, ok=(1, 3))
        nm = named if name == "backtest" else named17
        check(p.returncode == 1 and nm(p.stderr) or
              (name != "backtest" and "failed" in p.stdout + p.stderr and nm(p.stderr)),
              f"{name} on a cut tape: exit {p.returncode}: {p.stderr[-800:]}")
        p = run(*cmd, "--allow-partial", ok=(3,))
        j = json.loads(p.stdout.strip().splitlines()[-1])
        check("partial" in j and j["partial"]["events"] < j["partial"]["expected"], (name, j))
        check("\npartial " in p.stdout and "damaged" in p.stdout, (name, p.stdout[-1000:]))
        check("reading what is left" in p.stderr, (name, p.stderr[-500:]))
        if name == "backtest":
            check(j["partial"] == {"events": 139264, "expected": total}, j["partial"])
            check(j["events"] == 139264, j)
            html = open(os.path.join(WORK, "bt", "report.html")).read()
            check('id="partial"' in html and "139264 of its 266219 events" in html, "report")
            sj = json.load(open(os.path.join(WORK, "bt", "summary.json")))
            check(sj["partial"] == j["partial"], sj)
    p = run("bars", cut, "--symbol", "EURUSD", "--timeframe", "H1", ok=(1,))
    check(named(p.stderr) and p.stdout == "", p.stderr)
    p = run("bars", cut, "--symbol", "EURUSD", "--timeframe", "H1", "--allow-partial", ok=(3,))
    check("partial: 139264 events read, 266219 expected" in p.stderr, p.stderr)
    p = run("tape", "export", cut, "--symbol", "EURUSD", ok=(1,))
    check(named(p.stderr) and p.stdout == "", p.stderr)
    got, p = exported(cut, (3,), "--allow-partial")
    check(len(got) == 139264 and got == oracle_ticks()[:139264], len(got))
    # publish: refused before connecting; with --allow-partial, published and said
    p = run("publish", cut, "--nats", "nats://127.0.0.1:1", ok=(1,))
    check(named(p.stderr), p.stderr)
    port = free_port()
    nats = subprocess.Popen(["nats-server", "-a", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(500):
            try:
                import socket
                socket.create_connection(("127.0.0.1", port), 0.1).close()
                break
            except OSError:
                time.sleep(0.01)
        p = run("publish", cut, "--nats", f"nats://127.0.0.1:{port}", "--allow-partial",
                "--json", "--limit", "200000", ok=(3,))
        j = json.loads(p.stdout.strip().splitlines()[-1])
        check(j["partial"] == {"events": 139264, "expected": total}, j)
    finally:
        nats.terminate()
        nats.wait()
    # the newer readers: merge (an input) and the terminal stand-in
    out = os.path.join(WORK, "merged")
    p = run("merge", cut, "--tape", out, ok=(1,))
    check(named(p.stderr), f"merge: {p.stderr}")
    check(not os.path.exists(os.path.join(out, "EURUSD")), "merge wrote from a cut input")
    p = run("mt5-sim", "--connect", "127.0.0.1:1", "--tape", cut, ok=(1,),
            env={"TT_MT5_SECRET": "s3cret-for-the-test"})
    check(named(p.stderr), f"mt5-sim: {p.stderr}")
    print("ok: a cut tape stops backtest, sweep, walkforward, bars, export, publish, merge and "
          "mt5-sim, naming what is missing; --allow-partial runs on the rest and says so "
          "everywhere")


def case_text():
    text = os.path.join(DATA, "text")
    with open(os.path.join(text, "oracle_ticks.csv")) as f:
        oracle = [(int(r["ts_ns"]) // 1000000, int(r["bid_points"]), int(r["ask_points"]))
                  for r in csv.DictReader(f)]
    lines = open(os.path.join(text, "generic_ticks.csv")).read().splitlines()
    rev = os.path.join(WORK, "reverse.csv")
    open(rev, "w").write("\n".join([lines[0]] + lines[:0:-1]) + "\n")
    cols = ["--columns", "time,bid,ask,bid_volume,ask_volume", "--symbol", "EURUSD"]
    tape = os.path.join(WORK, "rev")
    p = run("import", "csv", rev, *cols, "--tape", tape, "--json")
    s = json.loads(p.stdout.strip().splitlines()[-1])
    check(s["ticks_written"] == 400 and s["quality"]["dropped"] == 0, s)
    got, _ = exported(tape)
    check(got == oracle, "the reversed file was not imported whole and in order")
    # out of order by more than the buffer holds: the import fails naming the line
    p = run("import", "csv", rev, *cols, "--tape", os.path.join(WORK, "rev2"),
            "--sort-buffer", "100", ok=(1,))
    check("reverse.csv:102: a row at" in p.stderr and "--sort-buffer" in p.stderr, p.stderr)
    # a row with a date that does not exist is a bad row, named, exit 3
    bad = os.path.join(WORK, "bad.csv")
    open(bad, "w").write(lines[0] + "\n" + lines[1] + "\n" +
                         lines[2].replace("2019-02-04", "2019-02-30") + "\n" + lines[3] + "\n")
    p = run("import", "csv", bad, *cols, "--tape", os.path.join(WORK, "bad"), ok=(3,))
    check("bad.csv:3:" in p.stderr and "1 bad row" in p.stderr, p.stderr)
    # every command: a bad date names itself; --from after --to is a usage error
    t = os.path.join(SAMPLE, "..", "..", "..", "scenarios", "data", "eurusd-2019-02")
    cmds = [["tape", "export", t, "--symbol", "EURUSD"],
            ["tape", "gaps", t, "--symbol", "EURUSD"],
            ["bars", t, "--symbol", "EURUSD", "--timeframe", "M1"],
            ["publish", t, "--nats", "nats://127.0.0.1:1"],
            ["import", "dukascopy", "--symbol", "EURUSD", "--dir", SAMPLE, "--tape",
             os.path.join(WORK, "never")],
            ["download", "dukascopy", "--symbol", "EURUSD", "--dir", os.path.join(WORK, "never")],
            ["synth", "--symbol", "EURUSD", "--csv", os.path.join(WORK, "never.csv")]]
    for c in cmds:
        p = run(*c, "--from", "2019-02-30", "--to", "2019-03-02", ok=(2,))
        check("'2019-02-30'" in p.stderr and ("is not a time" in p.stderr or
                                               "expected a UTC time" in p.stderr),
              f"{c[:2]}: {p.stderr}")
        p = run(*c, "--from", "2019-02-05", "--to", "2019-02-04", ok=(2,))
        check("range is empty" in p.stderr or "later than from" in p.stderr, f"{c[:2]}: {p.stderr}")
    check(not os.path.exists(os.path.join(WORK, "never")), "a usage error wrote something")
    # a symbol that is not on the tape: an error listing what is
    for c in (["tape", "export", t, "--symbol", "GBPUSD"],
              ["bars", t, "--symbol", "GBPUSD", "--timeframe", "M1"],
              ["tape", "gaps", t, "--symbol", "GBPUSD"]):
        p = run(*c, ok=(1,))
        check("GBPUSD is not on tape" in p.stderr and "it holds: EURUSD" in p.stderr,
              f"{c[:2]}: {p.stderr}")
    print("ok: reverse order sorted or refused by line; bad dates and empty ranges refused in "
          "every command; absent symbols named with the tape's")


CASES = {"concurrent": case_concurrent, "killed": case_killed, "faults": case_faults,
         "backfill": case_backfill, "text": case_text, "suspects": case_suspects,
         "strict": case_strict}
try:
    CASES[CASE]()
finally:
    shutil.rmtree(WORK, ignore_errors=True)
