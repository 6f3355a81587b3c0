#!/usr/bin/env python3
"""The status server's cost to a whole paper session at 10,000 ticks/s
(docs/benchmarks.md, "Status server").

usage: bench_status_e2e.py TICKTAPE SOURCE_DIR [--runs N] [--seconds S]

A local nats-server; `ticktape paper scenarios/eurusd-sma-cross.yaml` fed by
`ticktape publish --rate 10000` for S seconds (default 10), twice per round:
without --http, and with --http plus a client that scrapes /metrics and
/api/state every second and holds /api/events open (as Prometheus and a
dashboard would). The CPU time of the paper process (user + system, from
/proc/PID/stat) over the publishing window, in % of one core; rounds
alternate the two variants; medians are printed.
"""
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

TT, SRC = sys.argv[1:3]
RUNS = int(sys.argv[sys.argv.index("--runs") + 1]) if "--runs" in sys.argv else 3
SECS = float(sys.argv[sys.argv.index("--seconds") + 1]) if "--seconds" in sys.argv else 10
TICKS = os.sysconf("SC_CLK_TCK")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def cpu(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def one(nport, work, http):
    err_path = os.path.join(work, "paper.err")
    args = [TT, "paper", os.path.join(SRC, "scenarios/eurusd-sma-cross.yaml"), "--nats",
            f"nats://127.0.0.1:{nport}", "--no-reports", "--quiet", "--queue", "1000000"]
    if http:
        args += ["--http", "127.0.0.1:0"]
    with open(err_path, "w") as err:
        p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=err)
    while "listening on" not in open(err_path).read():
        time.sleep(0.05)
    stop = threading.Event()
    if http:
        port = int(re.search(r"127\.0\.0\.1:(\d+)/", open(err_path).read()).group(1))

        def scrape():
            sse = urllib.request.urlopen(f"http://127.0.0.1:{port}/api/events")
            while not stop.wait(1.0):
                for path in ("/metrics", "/api/state"):
                    urllib.request.urlopen(f"http://127.0.0.1:{port}{path}").read()
            sse.close()
        th = threading.Thread(target=scrape, daemon=True)
        th.start()
    c0, t0 = cpu(p.pid), time.monotonic()
    subprocess.run([TT, "publish", os.path.join(SRC, "scenarios/data/eurusd-2019-02"), "--nats",
                    f"nats://127.0.0.1:{nport}", "--rate", "10000", "--limit",
                    str(int(SECS * 10000))], check=True, capture_output=True)
    c1, t1 = cpu(p.pid), time.monotonic()
    stop.set()
    p.send_signal(signal.SIGINT)
    p.wait(timeout=60)
    return (c1 - c0) / (t1 - t0) * 100


def main():
    nport = free_port()
    nats = subprocess.Popen(["nats-server", "-a", "127.0.0.1", "-p", str(nport)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    try:
        with tempfile.TemporaryDirectory() as work:
            plain, served = [], []
            for _ in range(RUNS):
                plain.append(one(nport, work, False))
                served.append(one(nport, work, True))
    finally:
        nats.terminate()
    a, b = statistics.median(plain), statistics.median(served)
    print(f"paper at 10,000 ticks/s, {SECS:g} s, median of {RUNS} alternating rounds")
    print(f"  without --http          {a:6.2f}% of a core   {['%.2f' % x for x in plain]}")
    print(f"  with --http, scraped    {b:6.2f}% of a core   {['%.2f' % x for x in served]}")
    print(f"  difference              {b - a:+6.2f}%")
    print(json.dumps({"plain_pct": a, "served_pct": b, "diff_pct": b - a, "runs": RUNS}))


main()
