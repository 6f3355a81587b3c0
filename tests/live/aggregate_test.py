#!/usr/bin/env python3
"""`ticktape aggregate` through the binary, with nats-server on a free port.

usage: aggregate_test.py CASE TICKTAPE SOURCE_DIR WORK_DIR

  replay   three feeds of real EURUSD ticks published with `ticktape publish
           --source NAME` (the third stops early, so it goes stale), the
           aggregator with --journal and --out stopped by SIGINT; then
           `aggregate --replay JOURNAL --out` writes the same file byte for
           byte; a what-if replay with --policy median differs; --json
           summaries; the health object on stderr (--status-every) names the
           three sources.
  usage    no --nats nor --replay (2), both (2), no server (1), a journal that
           is not an aggregator's (1), a used journal directory (1).
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

CASE, TT, SRC, WORK = sys.argv[1:5]
WORK = os.path.join(WORK, CASE)
shutil.rmtree(WORK, ignore_errors=True)
os.makedirs(WORK)
TAPE = os.path.join(SRC, "scenarios", "data", "eurusd-2019-02")


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def start_nats(port):
    p = subprocess.Popen(["nats-server", "-a", "127.0.0.1", "-p", str(port)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(500):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return p
        except OSError:
            time.sleep(0.01)
    p.kill()
    fail("nats-server did not start")


def run(*args, expect=0):
    p = subprocess.run([TT] + list(args), capture_output=True, text=True, timeout=120)
    if p.returncode != expect:
        fail("%s: exit %d (expected %d)\n%s%s" % (" ".join(args), p.returncode, expect,
                                                   p.stdout[-2000:], p.stderr[-2000:]))
    return p


def case_replay():
    port = free_port()
    srv = start_nats(port)
    url = "nats://127.0.0.1:%d" % port
    try:
        journal = os.path.join(WORK, "journal")
        live = os.path.join(WORK, "live.jsonl")
        agg = subprocess.Popen([TT, "aggregate", "--nats", url, "--journal", journal, "--out",
                                live, "--policy", "best", "--stale", "1s", "--recover", "1s",
                                "--status-every", "1", "--json"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(0.5)
        pubs = [subprocess.Popen([TT, "publish", TAPE, "--nats", url, "--source", name,
                                  "--rate", "1000", "--limit", str(limit)],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                for name, limit in (("ic", 3000), ("pep", 3000), ("fx", 1000))]
        for p in pubs:
            if p.wait(timeout=60):
                fail("publish failed")
        time.sleep(1.5)
        agg.send_signal(signal.SIGINT)
        out, err = agg.communicate(timeout=30)
        if agg.returncode:
            fail("aggregate exit %d: %s" % (agg.returncode, err[-2000:]))
        js = json.loads(out.strip().splitlines()[-1])
        if js["ticks"] != 7000 or js["sources"] != 3 or js["rejected"] or js["dropped"]:
            fail("summary %s" % {k: js[k] for k in ("ticks", "sources", "rejected", "dropped")})
        health = [json.loads(l) for l in err.splitlines() if l.startswith("{")]
        if not health or set(health[-1]["sources"]) != {"ic", "pep", "fx"}:
            fail("health lines: %s" % err[-1000:])
        if health[-1]["sources"]["fx"]["status"] != "down":
            fail("fx stopped early and should be down (stale): %s" % health[-1]["sources"]["fx"])
        rep = os.path.join(WORK, "replay.jsonl")
        p = run("aggregate", "--replay", journal, "--out", rep, "--json")
        rjs = json.loads(p.stdout.strip().splitlines()[-1])
        a, b = open(live, "rb").read(), open(rep, "rb").read()
        if a != b or not a:
            fail("replay differs from the live output (%d vs %d bytes)" % (len(a), len(b)))
        if rjs["mismatches"] or rjs["ticks"] != 7000 or rjs["merged"] != js["merged"]:
            fail("replay summary %s vs %s" % (rjs, js))
        lines = [json.loads(l) for l in a.decode().splitlines()]
        if not any(l.get("event") == "state" and l.get("source") == "fx" and
                   l.get("reason") == "stale" for l in lines):
            fail("no stale event for fx")
        alt = os.path.join(WORK, "median.jsonl")
        run("aggregate", "--replay", journal, "--out", alt, "--policy", "median")
        if open(alt, "rb").read() == a:
            fail("a median replay gave the best feed")
        print("ok: 7000 ticks of 3 sources, %d merged, replay identical (%d bytes)" % (
            js["merged"], len(a)))
    finally:
        srv.terminate()
        srv.wait(timeout=10)


def case_usage():
    run("aggregate", expect=2)
    run("aggregate", "--nats", "nats://127.0.0.1:1", "--replay", WORK, expect=2)
    port = free_port()
    p = run("aggregate", "--nats", "nats://127.0.0.1:%d" % port, "--duration", "1", expect=1)
    if "nats" not in p.stderr:
        fail("no server: %s" % p.stderr)
    run("aggregate", "--replay", os.path.join(WORK, "nothing"), expect=1)
    srv = start_nats(port)
    try:
        journal = os.path.join(WORK, "j")
        run("aggregate", "--nats", "nats://127.0.0.1:%d" % port, "--journal", journal,
            "--duration", "0.5")
        p = run("aggregate", "--nats", "nats://127.0.0.1:%d" % port, "--journal", journal,
                "--duration", "0.5", expect=1)
        if "journal" not in p.stderr:
            fail("used journal: %s" % p.stderr)
        p = run("aggregate", "--replay", journal, "--json")
        if json.loads(p.stdout.strip().splitlines()[-1])["ticks"] != 0:
            fail("an empty session replayed ticks")
    finally:
        srv.terminate()
        srv.wait(timeout=10)
    print("ok: usage errors and refusals")


{"replay": case_replay, "usage": case_usage}[CASE]()
