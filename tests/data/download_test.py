#!/usr/bin/python3
"""`ticktape download dukascopy` against a local server (duka_http_server.py)
serving the real sample tree on 127.0.0.1, with injected faults.

usage: download_test.py TICKTAPE TESTDATA
"""
import json
import os
import subprocess
import sys
import tempfile
import time

TT, DATA = sys.argv[1], sys.argv[2]
HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLE = os.path.join(DATA, "dukascopy")
PY = sys.executable

D4 = "EURUSD/2019/01/04/"
D5 = "EURUSD/2019/01/05/"
RETRIED_500 = D4 + "10h_ticks.bi5"   # two 500s, then fine
SLOW = D4 + "11h_ticks.bi5"          # first answer slower than the timeout
TRUNC = D4 + "12h_ticks.bi5"         # first body short of its Content-Length
NOLEN = D4 + "13h_ticks.bi5"         # first body short, no Content-Length
DEAD = D5 + "01h_ticks.bi5"          # always 500 (first run only)
EMPTY = D5 + "22h_ticks.bi5"         # served as 0 bytes: an hour without ticks


def start_server(tmp, tag, faults):
    port_file = os.path.join(tmp, f"port-{tag}")
    log = os.path.join(tmp, f"log-{tag}")
    stats = os.path.join(tmp, f"stats-{tag}")
    cmd = [PY, os.path.join(HERE, "duka_http_server.py"), "--root", SAMPLE,
           "--port-file", port_file, "--log", log, "--stats", stats, *faults]
    srv = subprocess.Popen(cmd)
    for _ in range(200):
        if os.path.exists(port_file):
            break
        time.sleep(0.025)
    else:
        srv.kill()
        sys.exit("FAIL: test server did not start")
    return srv, int(open(port_file).read()), log, stats


def download(port, out, jobs="2", ok=(0,)):
    args = [TT, "download", "dukascopy", "--symbol", "EURUSD", "--from", "2019-02-04",
            "--to", "2019-02-06T02:00:00", "--dir", out, "--base-url", f"http://127.0.0.1:{port}",
            "--jobs", jobs, "--retries", "3", "--timeout", "1", "--backoff-ms", "50", "--json"]
    p = subprocess.run(args, capture_output=True, text=True, timeout=120)
    if p.returncode not in ok:
        sys.exit(f"FAIL: exit {p.returncode}\nstdout:\n{p.stdout}\nstderr:\n{p.stderr}")
    return json.loads(p.stdout.strip().splitlines()[-1]), p


def log_lines(log):
    return [l.split() for l in open(log).read().splitlines()]


def tree_files(root):
    out = []
    for dp, _, fs in os.walk(root):
        out += [os.path.relpath(os.path.join(dp, f), root) for f in fs]
    return sorted(out)


def same_as_sample(out, rel):
    return open(os.path.join(out, rel), "rb").read() == open(os.path.join(SAMPLE, rel), "rb").read()


with tempfile.TemporaryDirectory(prefix="tt_dl_") as tmp:
    out = os.path.join(tmp, "tree")
    hours = [D4 + f"{h:02d}h_ticks.bi5" for h in range(24)] + \
            [D5 + f"{h:02d}h_ticks.bi5" for h in range(24)]

    # Run 1: every fault at once; DEAD never succeeds.
    srv, port, log, stats = start_server(tmp, "1", [
        "--fail500", f"{RETRIED_500}=2", "--fail500", f"{DEAD}=-1",
        "--slow", f"{SLOW}=1:2.5", "--truncate", f"{TRUNC}=1", "--nolength", f"{NOLEN}=1",
        "--empty", EMPTY, "--delay", "0.02"])
    try:
        s, p = download(port, out, ok=(3,))
    finally:
        srv.kill()
        srv.wait()
    assert s["files"] == 50, s                      # 48 hours + 2 hours past the sample
    assert s["downloaded"] == 46 and s["empty"] == 1 and s["failed"] == 1, s
    assert s["missing"] == 2 and s["gaps"] == 1, s  # 2019-02-06 00h, 01h: 404
    # retries: 2 (500s) + 1 (slow) + 1 (truncated) + 1 (no length) + 3 (dead)
    assert s["retries"] == 8, s
    assert DEAD in p.stderr and "HTTP 500" in p.stderr, p.stderr
    assert "2019-02-06T00:00Z .. 2019-02-06T01:00Z: 2 hours" in p.stderr, p.stderr
    files = tree_files(out)
    assert not [f for f in files if f.endswith(".part")], files   # no temporary left
    assert DEAD not in files, files                                # never a partial file
    for rel in hours:
        if rel not in (DEAD, EMPTY):
            assert same_as_sample(out, rel), rel
    assert os.path.getsize(os.path.join(out, EMPTY)) == 0  # written, as Dukascopy's 0-byte hours
    got = log_lines(log)
    assert [l[1] for l in got if l[0] == RETRIED_500] == ["500", "500", "200"], got
    assert [l[1] for l in got if l[0] == TRUNC][:2] == ["200-truncated", "200"], got
    assert [l[1] for l in got if l[0] == NOLEN][:2] == ["200-nolength", "200"], got
    assert sum(1 for l in got if l[0] == DEAD) == 4, got           # 1 try + 3 retries
    mx = json.load(open(stats))["max_inflight"]
    assert 1 < mx <= 2, f"requests in flight at once: {mx} (bound --jobs 2)"

    # Run 2: the server is healthy; only the missing file is fetched (resume).
    srv, port, log2, _ = start_server(tmp, "2", [])
    try:
        s, p = download(port, out)
        s3, p3 = download(port, out, jobs="4")
    finally:
        srv.kill()
        srv.wait()
    assert s["downloaded"] == 1 and s["skipped"] == 47 and s["failed"] == 0, s
    assert same_as_sample(out, DEAD)
    assert s3["downloaded"] == 0 and s3["skipped"] == 48 and s3["missing"] == 2, s3
    asked = [l[0] for l in log_lines(log2)]
    # run 2: DEAD + the two absent hours; run 3: only the two absent hours again
    assert asked.count(DEAD) == 1 and len(asked) == 5, asked
    print(f"ok: retries {8}, truncated bodies re-fetched, failed file never left behind, "
          f"resume fetched 1 then 0 files, at most {mx} requests in flight")
