#!/usr/bin/env python3
"""End-to-end checks of `ticktape tape info|verify|export`, `bench replay`,
`--help`/`--version`, driven through the real binary.

Oracle for export: the Dukascopy sample decoded here independently with
Python's lzma and struct modules (no ticktape code involved).

usage: tape_cli.py TICKTAPE SOURCE_DIR
"""
import json, lzma, os, shutil, struct, subprocess, sys, tempfile, datetime

BIN, SRC = sys.argv[1], sys.argv[2]
TAPE = os.path.join(SRC, "scenarios", "data", "eurusd-2019-02")
DUKA = os.path.join(SRC, "tests", "data", "dukascopy", "EURUSD", "2019", "01")
failures = 0


def run(*args, ok=(0,)):
    p = subprocess.run([BIN, *args], capture_output=True, text=True)
    if p.returncode not in ok:
        raise AssertionError(f"{args}: exit {p.returncode}\nstdout: {p.stdout[-2000:]}\nstderr: {p.stderr[-2000:]}")
    return p


def check(name, fn):
    global failures
    try:
        fn()
        print(f"ok   {name}")
    except Exception as e:  # noqa: BLE001 - report and go on
        failures += 1
        print(f"FAIL {name}: {e}")


def duka_ticks(day, hours=range(24)):
    """(ms since epoch, bid, ask, bid_vol, ask_vol) straight from the bi5 files."""
    out = []
    base = datetime.datetime(2019, 2, day, tzinfo=datetime.timezone.utc)
    for h in hours:
        path = os.path.join(DUKA, f"{day:02d}", f"{h:02d}h_ticks.bi5")
        raw = open(path, "rb").read()
        if not raw:
            continue
        data = lzma.decompress(raw, format=lzma.FORMAT_ALONE)
        t0 = int((base + datetime.timedelta(hours=h)).timestamp() * 1000)
        for off in range(0, len(data), 20):
            ms, ask, bid, av, bv = struct.unpack(">IIIff", data[off:off + 20])
            out.append((t0 + ms, bid, ask, bv, av))
    return out


def t_info_json():
    p = run("tape", "info", TAPE, "--json")
    j = json.loads(p.stdout.strip().splitlines()[-1])
    assert j["events"] == 266219, j["events"]
    assert j["bytes"] > 0 and j["bytes"] == sum(s["bytes"] for s in j["streams"])
    s = j["streams"][0]
    assert (s["symbol"], s["kind"], s["events"]) == ("EURUSD", "quote", 266219), s
    assert s["first"] == "2019-02-04T00:00:00.994Z" and s["last"] == "2019-02-05T23:59:59.765Z", s
    assert 0 < j["bytes_per_event"] < 5.31, j["bytes_per_event"]  # smaller than the bi5 files
    text = run("tape", "info", TAPE).stdout
    assert "266219" in text and "EURUSD" in text


def t_export_matches_bi5():
    want = duka_ticks(4, range(0, 3))
    p = run("tape", "export", TAPE, "--symbol", "EURUSD", "--to", "2019-02-04T03:00:00Z",
            "--time-format", "epoch-ms")
    lines = p.stdout.splitlines()
    assert lines[0] == "time,bid,ask,bid_volume,ask_volume", lines[0]
    rows = lines[1:]
    assert len(rows) == len(want), (len(rows), len(want))
    for row, (ms, bid, ask, bv, av) in zip(rows, want):
        t, b, a, v1, v2 = row.split(",")
        assert int(t) == ms and b == f"{bid / 1e5:.5f}" and a == f"{ask / 1e5:.5f}", (row, ms, bid, ask)
        # volumes: the same float32 bits
        assert struct.pack(">f", float(v1)) == struct.pack(">f", bv), (row, bv)
        assert struct.pack(">f", float(v2)) == struct.pack(">f", av), (row, av)


def t_export_ranges_and_formats():
    p = run("tape", "export", TAPE, "--symbol", "EURUSD", "--from", "2019-02-05T10:00:00Z",
            "--to", "2019-02-05T10:01:00Z", "--format", "jsonl")
    recs = [json.loads(x) for x in p.stdout.splitlines()]
    want = [t for t in duka_ticks(5, [10]) if t[0] < 1549360860000]
    assert len(recs) == len(want) > 0, (len(recs), len(want))
    assert recs[0]["time"].startswith("2019-02-05T10:00:") and recs[0]["symbol"] == "EURUSD"
    assert abs(recs[0]["bid"] - want[0][1] / 1e5) < 1e-12
    ns = run("tape", "export", TAPE, "--symbol", "EURUSD", "--from", "1549360800000ms",
             "--to", "1549360860000ms", "--time-format", "epoch-ns").stdout.splitlines()[1:]
    assert len(ns) == len(want) and int(ns[0].split(",")[0]) == want[0][0] * 1000000
    out = os.path.join(tempfile.mkdtemp(), "x.csv")
    run("tape", "export", TAPE, "--symbol", "EURUSD", "--to", "2019-02-04T00:10:00Z", "-o", out)
    assert open(out).readline().startswith("time,bid,ask")


def t_errors():
    p = run("tape", "export", TAPE, "--symbol", "FOOBAR", ok=(1,))
    assert "unknown symbol 'FOOBAR'" in p.stderr and "declare" in p.stderr, p.stderr
    p = run("tape", "export", TAPE, "--symbol", "EURUSD", "--time-format", "weird", ok=(2,))
    assert "--time-format" in p.stderr
    p = run("tape", "info", "/nonexistent/tape", ok=(1,))
    assert "/nonexistent/tape" in p.stderr
    run("tape", "frobnicate", ok=(2,))
    run("nosuchcommand", ok=(2,))


def copy_tape():
    d = tempfile.mkdtemp()
    shutil.copytree(TAPE, os.path.join(d, "t"))
    seg = os.path.join(d, "t", "EURUSD", "quote", "2019-02.tts")
    return os.path.join(d, "t"), seg


def t_verify():
    p = run("tape", "verify", TAPE)
    assert "266219 events verified" in p.stdout, p.stdout
    tape, seg = copy_tape()
    data = bytearray(open(seg, "rb").read())
    data[len(data) // 2] ^= 0x10  # a flipped bit in the middle of some block
    open(seg, "wb").write(bytes(data))
    p = run("tape", "verify", tape, ok=(1,))
    assert "2019-02.tts" in p.stderr and "block" in p.stderr, p.stderr
    tape, seg = copy_tape()
    size = os.path.getsize(seg)
    os.truncate(seg, size - 100)  # cut inside the last block
    p = run("tape", "verify", tape, ok=(1,))
    assert "cut at byte" in p.stderr and "2019-02.tts" in p.stderr, p.stderr
    # reading is an error naming the segment and what is missing ...
    p = run("tape", "export", tape, "--symbol", "EURUSD", ok=(1,))
    assert "2019-02.tts" in p.stderr and "block 32 of 33 is missing" in p.stderr, p.stderr
    assert p.stdout == "", p.stdout[:200]
    # ... or with --allow-partial every complete block, said, exit 3
    p = run("tape", "export", tape, "--symbol", "EURUSD", "--allow-partial", ok=(3,))
    assert "partial:" in p.stderr and 200000 < len(p.stdout.splitlines()) < 266220


def xxh64(data, seed=0):
    """XXH64 from its specification (Debian's python3 has no xxhash module)."""
    P1, P2, P3, P4, P5 = (11400714785074694791, 14029467366897019727, 1609587929392839161,
                          9650029242287828579, 2870177450012600261)
    M = (1 << 64) - 1
    rotl = lambda x, r: ((x << r) | (x >> (64 - r))) & M  # noqa: E731
    rnd = lambda acc, lane: (rotl((acc + lane * P2) & M, 31) * P1) & M  # noqa: E731
    n, i = len(data), 0
    if n >= 32:
        v = [(seed + P1 + P2) & M, (seed + P2) & M, seed, (seed - P1) & M]
        while i + 32 <= n:
            for k in range(4):
                v[k] = rnd(v[k], struct.unpack_from("<Q", data, i + 8 * k)[0])
            i += 32
        h = (rotl(v[0], 1) + rotl(v[1], 7) + rotl(v[2], 12) + rotl(v[3], 18)) & M
        for k in range(4):
            h = (((h ^ rnd(0, v[k])) * P1) + P4) & M
    else:
        h = (seed + P5) & M
    h = (h + n) & M
    while i + 8 <= n:
        h = ((rotl(h ^ rnd(0, struct.unpack_from("<Q", data, i)[0]), 27) * P1) + P4) & M
        i += 8
    if i + 4 <= n:
        h = ((rotl(h ^ ((struct.unpack_from("<I", data, i)[0] * P1) & M), 23) * P2) + P3) & M
        i += 4
    while i < n:
        h = (rotl(h ^ ((data[i] * P5) & M), 11) * P1) & M
        i += 1
    h ^= h >> 33
    h = (h * P2) & M
    h ^= h >> 29
    h = (h * P3) & M
    return h ^ (h >> 32)


def to_format1(seg):
    """A format 2 segment written back as format 1: version 1, no commit records."""
    b = open(seg, "rb").read()
    h = bytearray(b[:64])
    h[8:10] = struct.pack("<H", 1)
    h[56:64] = struct.pack("<Q", xxh64(bytes(h[:56])))
    out, off = bytearray(), 64
    while off < len(b):
        if b[off:off + 4] == b"TTCM":
            off += 64
            continue
        n = 48 + struct.unpack("<I", b[off + 28:off + 32])[0]
        out += b[off:off + n]
        off += n
    return h, bytes(out)


def t_verify_repair_upgrade():
    empty = tempfile.mkdtemp()
    p = run("tape", "verify", empty, ok=(1,))
    assert "not a tape" in p.stderr, p.stderr
    p = run("tape", "verify", os.path.join(empty, "nope"), ok=(1,))
    assert "no such tape directory" in p.stderr, p.stderr
    # a cut segment: repair says what it drops, then the tape verifies
    tape, seg = copy_tape()
    os.truncate(seg, os.path.getsize(seg) - 5000)
    p = run("tape", "repair", tape)
    assert "cut back to its last sound commit" in p.stdout and "events dropped" in p.stdout, p.stdout
    p = run("tape", "verify", tape)
    assert "events verified" in p.stdout
    # a segment file the manifest does not name
    tape, seg = copy_tape()
    shutil.copy(seg, seg.replace("2019-02.tts", "2019-03.tts"))
    p = run("tape", "verify", tape, ok=(1,))
    assert "2019-03.tts" in p.stderr and "manifest does not name" in p.stderr, p.stderr
    p = run("tape", "repair", tape)
    assert "2019-03.tts: removed" in p.stdout, p.stdout
    run("tape", "verify", tape)
    # a format 1 tape: read with a warning, verify says to upgrade, upgrade does it
    tape, seg = copy_tape()
    h, body = to_format1(seg)
    assert xxh64(b"") == 0xEF46DB3751D8E999  # the specification's value for no input
    open(seg, "wb").write(bytes(h) + body)
    os.remove(os.path.join(tape, "MANIFEST"))
    p = run("tape", "export", tape, "--symbol", "EURUSD", "--to", "2019-02-04T00:10:00Z")
    assert "format 1" in p.stderr and "tape upgrade" in p.stderr, p.stderr
    p = run("tape", "verify", tape, ok=(1,))
    assert "format 1" in p.stderr, p.stderr
    p = run("import", "csv", "--tape", tape, "--columns", "time,bid,ask", "--symbol", "EURUSD",
            "/dev/null", ok=(1,))
    assert "tape upgrade" in p.stderr, p.stderr
    p = run("tape", "upgrade", tape)
    assert "format 1 -> 2: 33 blocks, 266219 events" in p.stdout, p.stdout
    p = run("tape", "verify", tape)
    assert "266219 events verified" in p.stdout
    assert open(seg, "rb").read() == open(os.path.join(TAPE, "EURUSD", "quote", "2019-02.tts"),
                                          "rb").read(), "the upgrade is the shipped tape's bytes"


def t_bench_json():
    p = run("bench", "replay", "--ticks", "200k", "--repeat", "1", "--json")
    j = json.loads(p.stdout.strip().splitlines()[-1])
    for k in ("events", "seconds", "events_per_second", "bytes_per_event"):
        assert k in j, k
    assert j["events"] == 200000 and j["events_per_second"] > 0 and j["bytes_per_event"] > 0
    p = run("bench", "replay", "--tape", TAPE, "--repeat", "1", "--json")
    assert json.loads(p.stdout.strip().splitlines()[-1])["events"] == 266219


def t_help():
    assert run("--version").stdout.startswith("ticktape ")
    top = run("--help").stdout
    cmds = [l.split()[0] for l in top.split("commands:")[1].split("options:")[0].strip().splitlines()]
    assert "tape" in cmds and "bench" in cmds and "demo" in cmds, cmds
    for c in cmds:
        p = run(c, "--help")
        assert "usage" in p.stdout.lower(), (c, p.stdout[:200])
    for sub in ("info", "verify", "export"):
        assert "usage" in run("tape", sub, "--help").stdout.lower()
    assert "usage" in run("bench", "replay", "--help").stdout.lower()


for name, fn in [("tape info --json", t_info_json), ("export equals the bi5 files", t_export_matches_bi5),
                 ("export ranges and formats", t_export_ranges_and_formats), ("errors", t_errors),
                 ("verify: sound, flipped bit, torn tail", t_verify), ("bench replay --json", t_bench_json),
                 ("--help everywhere", t_help),
                 ("verify, repair, upgrade", t_verify_repair_upgrade)]:
    check(name, fn)
print(f"{8 - failures} passed, {failures} failed")
sys.exit(1 if failures else 0)
