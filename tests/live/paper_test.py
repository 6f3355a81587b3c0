#!/usr/bin/env python3
"""Paper trading and replay parity, end to end through the `ticktape` binary.

usage: paper_test.py CASE TICKTAPE SOURCE_DIR WORK_DIR PLUGIN

Starts nats-server on 127.0.0.1 and a free port, imports the real Dukascopy
EURUSD sample (tests/data/dukascopy, 4-5 February 2019, 266,219 ticks) into a
tape, and runs a scenario whose strategy is the example tick-momentum plugin
with 2 ms venue latency (so fills go through the engine queue and the wall
clock). Cases:

  parity    paper session on NATS, the whole sample published as TickData at
            full speed, SIGINT; `replay` of its journal must give the same
            fingerprint, event count and order-event list (non-empty, with
            fills); the summary is the last stdout line, as for backtest.
  restart   SIGTERM instead, nats-server restarted mid-session (the client
            reconnects, the journal marks the gap), a malformed message on
            ticks.EURUSD (counted, logged with its subject); parity still holds.
  defaults  the README's demo: the shipped tick-momentum scenario with the
            default settings takes in every tick published at --speed max,
            trades, says nothing was lost (text, JSON, report) and replays to
            its fingerprint; a session made to drop says so and exits 3 (0
            with --allow-drops); replay refuses another scenario or other
            overrides than the session's, naming them (--force overrides).
  usage     --help, a missing feed, a reused journal directory, a directory
            that is not a journal; --duration, publish --rate, the status line.
  kafka     the same on Kafka: librdkafka's mock cluster in a helper process
            (tt_kafka_mock; TT_KAFKA_BROKERS selects a real cluster instead),
            the sample published to tick_archive, `paper --kafka` consuming it
            as a consumer group from the beginning and archiving its outputs,
            SIGINT, replay parity.
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

CASE, TT, SRC, WORK, PLUGIN = sys.argv[1:6]
KAFKA_MOCK = sys.argv[6] if len(sys.argv) > 6 else None
WORK = os.path.join(WORK, CASE)
shutil.rmtree(WORK, ignore_errors=True)
os.makedirs(WORK)


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


def stop_nats(p):
    p.terminate()
    p.wait(timeout=10)


def raw_publish(port, subject, payload):
    """Publish with the NATS text protocol, so nothing of ours builds the message."""
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.recv(4096)  # INFO
    s.sendall(b"CONNECT {\"verbose\":false}\r\nPUB " + subject.encode() + b" " +
              str(len(payload)).encode() + b"\r\n" + payload + b"\r\nPING\r\n")
    buf = b""
    while b"PONG" not in buf:
        buf += s.recv(4096)
    s.close()


def run(args, **kw):
    return subprocess.run([TT] + args, capture_output=True, text=True, timeout=120, **kw)


def import_sample():
    tape = os.path.join(WORK, "tape")
    r = run(["import", "dukascopy", "--symbol", "EURUSD", "--dir",
             os.path.join(SRC, "tests/data/dukascopy"), "--tape", tape, "--from", "2019-02-04",
             "--to", "2019-02-05", "--no-candles", "--quiet"])
    if r.returncode != 0:
        fail("import: " + r.stderr)
    return tape


def scenario():
    path = os.path.join(WORK, "paper.yaml")
    with open(path, "w") as f:
        f.write(f"""name: paper-parity
seed: 7
data:
  tape: tape
  symbols: [EURUSD]
account: {{currency: USD, balance: 10000, leverage: 100}}
venue:
  latency_ms: 2
  commission: {{per_lot: 7}}
strategy:
  name: {PLUGIN}
  params: {{n: 20, move: 4, qty: 1, sl: 6}}
""")
    return path


def start_paper(port, scen, journal, extra=()):
    out = open(os.path.join(WORK, "paper.out"), "w")
    err = open(os.path.join(WORK, "paper.err"), "w")
    p = subprocess.Popen([TT, "paper", scen, "--nats", f"nats://127.0.0.1:{port}", "--journal",
                          journal, "--json", "--queue", "1000000", "--allow-drops", "--out",
                          os.path.join(WORK, "paper"), "--orders",
                          os.path.join(WORK, "paper-orders.csv"), "--status-every", "0.2"] +
                         list(extra),
                         stdout=out, stderr=err)
    wait_for(lambda: "listening on" in read("paper.err"), "paper to listen")
    return p


def read(name):
    with open(os.path.join(WORK, name)) as f:
        return f.read()


def wait_for(cond, what, timeout=20):
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return
        time.sleep(0.02)
    fail("timed out waiting for " + what)


def publish(tape, port, *extra):
    r = run(["publish", tape, "--nats", f"nats://127.0.0.1:{port}", "--json"] + list(extra))
    if r.returncode != 0:
        fail("publish: " + r.stderr)
    return json.loads(r.stdout.strip().splitlines()[-1])["published"]


def counts():
    """The live counters of the last stderr line of `paper`."""
    m = re.search(r"inputs (\d+) \(arrived (\d+), dropped (\d+), rejected (\d+), gaps (\d+), "
                  r"dropped by nats.c (\d+)\)", read("paper.err"))
    if not m:
        fail("no counters line: " + read("paper.err"))
    k = dict(zip(("inputs", "arrived", "dropped", "rejected", "gaps", "nats_dropped"),
                 map(int, m.groups())))
    print("paper counters:", k)
    return k


def status_inputs():
    """Inputs and queue depth from the last `--status-every` line, or None."""
    m = re.findall(r"inputs (\d+)  queue (\d+)", read("paper.err"))
    return (int(m[-1][0]), int(m[-1][1])) if m else None


def wait_settled(want, timeout=60):
    """Until the session has taken in `want` inputs with nothing queued, or its
    count stopped moving for 1.5 s (ticks dropped under load are counted)."""
    end, last, since = time.time() + timeout, None, time.time()
    while time.time() < end:
        st = status_inputs()
        if st and st[0] >= want and st[1] == 0:
            return
        if st != last:
            last, since = st, time.time()
        elif time.time() - since > 1.5:
            return
        time.sleep(0.1)
    fail(f"the session did not settle: {status_inputs()}, wanted {want}")


def finish_paper(p, sig, want=0):
    wait_settled(want)
    p.send_signal(sig)
    rc = p.wait(timeout=60)
    if rc != 0:
        fail(f"paper exited {rc}: {read('paper.err')}")
    lines = read("paper.out").strip().splitlines()
    summary = json.loads(lines[-1])  # the last stdout line is the summary object
    return summary


def replay_and_compare(scen, journal, summary):
    r = run(["replay", journal, "--scenario", scen, "--json", "--out",
             os.path.join(WORK, "replay"), "--orders", os.path.join(WORK, "replay-orders.csv")])
    if r.returncode != 0:
        fail("replay: " + r.stderr)
    rs = json.loads(r.stdout.strip().splitlines()[-1])
    for key in ("fingerprint", "events", "trades", "net_pnl"):
        if summary[key] != rs[key]:
            fail(f"{key}: paper {summary[key]} != replay {rs[key]}")
    po, ro = read("paper-orders.csv"), read("replay-orders.csv")
    if po != ro:
        fail("order-event lists differ")
    rows = po.strip().splitlines()[1:]
    fills = [x for x in rows if ",filled," in x or ",partially_filled," in x]
    # How many orders a session makes depends on arrival timing (ticks keep
    # coming while an order is in flight); parity is what is checked.
    if len(rows) < 6 or len(fills) < 2:
        fail(f"too few orders to prove anything: {len(rows)} events, {len(fills)} fills")
    print(f"parity: fingerprint {rs['fingerprint']}, {rs['events']} events, "
          f"{len(rows)} order events, {len(fills)} fills, {rs['trades']} trades")


def case_parity():
    port = free_port()
    nats = start_nats(port)
    try:
        tape, scen = import_sample(), scenario()
        journal = os.path.join(WORK, "journal")
        p = start_paper(port, scen, journal)
        n = publish(tape, port)
        if n != 266219:
            fail(f"published {n} ticks, expected the sample's 266219")
        summary = finish_paper(p, signal.SIGINT, n)
        k = counts()
        # Every tick reached the engine or is counted as dropped (by nats.c when
        # decoding cannot keep up, e.g. under the sanitizers; by the inbox).
        if k["arrived"] + k["nats_dropped"] != n or k["rejected"] or k["gaps"]:
            fail(f"ticks unaccounted for: published {n}, {k}")
        if k["inputs"] != k["arrived"] - k["dropped"] + 1:  # + STOP
            fail(f"inputs: {k}")
        replay_and_compare(scen, journal, summary)
    finally:
        stop_nats(nats)


def start_readme_paper(port, journal, extra=()):
    """`paper` as the README runs it: the shipped tick-momentum scenario, the
    default settings (no --queue)."""
    out = open(os.path.join(WORK, "paper.out"), "w")
    err = open(os.path.join(WORK, "paper.err"), "w")
    p = subprocess.Popen([TT, "paper", os.path.join(SRC, "scenarios", "eurusd-tick-momentum.yaml"),
                          "--nats", f"nats://127.0.0.1:{port}", "--journal", journal, "--json",
                          "--out", os.path.join(WORK, "paper"), "--status-every", "0.2"] +
                         list(extra), stdout=out, stderr=err)
    wait_for(lambda: "listening on" in read("paper.err"), "paper to listen")
    return p


def stop_readme_paper(p, want):
    wait_settled(want)
    p.send_signal(signal.SIGINT)
    rc = p.wait(timeout=60)
    return rc, json.loads(read("paper.out").strip().splitlines()[-1])


def check_replay_refusals(scen, journal, fingerprint):
    """Replay checks what it replays: the session record names the scenario's
    content hash and every --set; another scenario, other overrides are refused
    naming what differs, unless --force; comments and layout do not matter."""
    text = open(scen).read()
    other = os.path.join(WORK, "other.yaml")
    with open(other, "w") as f:
        f.write(text.replace("latency_ms: 2", "latency_ms: 5"))
    r = run(["replay", journal, "--scenario", other, "--no-reports"])
    if r.returncode != 1 or "venue.latency_ms (session: 2, now: 5)" not in r.stderr or \
            "--force" not in r.stderr:
        fail(f"another scenario: exit {r.returncode}: {r.stderr}")
    r = run(["replay", journal, "--scenario", scen, "--no-reports", "--set",
             "strategy.params.n=500"])
    if r.returncode != 1 or "the session ran with no override, this replay with --set " \
                            "strategy.params.n=500" not in r.stderr:
        fail(f"an override the session did not have: exit {r.returncode}: {r.stderr}")
    r = run(["replay", journal, "--scenario", other, "--no-reports", "--force", "--json"])
    if r.returncode != 0 or "replaying anyway (--force)" not in r.stderr or \
            json.loads(r.stdout.strip().splitlines()[-1])["fingerprint"] == fingerprint:
        fail(f"--force: exit {r.returncode}: {r.stderr}")
    same = os.path.join(WORK, "same.yaml")
    with open(same, "w") as f:
        f.write("# the same scenario, reformatted\n" + text.replace("\n", "\n\n"))
    r = run(["replay", journal, "--scenario", same, "--json", "--no-reports"])
    if r.returncode != 0 or json.loads(r.stdout.strip().splitlines()[-1])["fingerprint"] != \
            fingerprint:
        fail(f"the same scenario, other comments and layout: exit {r.returncode}: {r.stderr}")
    rec = open(os.path.join(journal, "session.txt")).read()
    if not re.search(r"^scenario_hash [0-9a-f]{32}$", rec, re.M) or "strategy.name: tick_momentum" \
            not in rec:
        fail("session record: " + rec)
    print("replay refuses another scenario and other overrides, naming them; --force; layout ignored")


def case_defaults():
    """The README's paper demo on this machine: `publish --speed max` of the
    whole sample into a session with the default settings. Every one of the
    266,219 ticks is taken in (backpressure and nats.c's buffer), the summaries
    say nothing was lost (text, JSON, report), the shipped scenario trades, and
    the journal replays to the same fingerprint. Then a session made to drop
    (a tiny queue, --drop-when-full) says what it lost and exits 3, or 0 with
    --allow-drops."""
    port = free_port()
    nats = start_nats(port)
    scen = os.path.join(SRC, "scenarios", "eurusd-tick-momentum.yaml")
    tape = os.path.join(SRC, "scenarios", "data", "eurusd-2019-02")
    try:
        journal = os.path.join(WORK, "journal")
        p = start_readme_paper(port, journal)
        n = publish(tape, port, "--speed", "max")
        if n != 266219:
            fail(f"published {n}")
        rc, summary = stop_readme_paper(p, n)
        k = counts()
        if rc != 0 or k["dropped"] or k["nats_dropped"] or k["arrived"] != n:
            fail(f"the default settings lost ticks: exit {rc}, {k}")
        if (summary["drops"], summary["rejects"], summary["gaps"]) != (0, 0, 0):
            fail(f"JSON: drops {summary['drops']}, rejects {summary['rejects']}, gaps {summary['gaps']}")
        if f"feed         {n} messages; lost: 0 ticks dropped, 0 rejected, 0 gaps" not in \
                read("paper.out"):
            fail("the text does not say what was lost:\n" + read("paper.out"))
        if summary["trades"] < 5:
            fail(f"the README's scenario made {summary['trades']} trades on the sample")
        r = run(["replay", journal, "--scenario", scen, "--json", "--no-reports"])
        rs = json.loads(r.stdout.strip().splitlines()[-1])
        if r.returncode != 0 or rs["fingerprint"] != summary["fingerprint"]:
            fail(f"replay: exit {r.returncode}, {rs.get('fingerprint')} != {summary['fingerprint']}")
        if "drops" in rs:
            fail("a replay's summary has no feed: no drops key")
        check_replay_refusals(scen, journal, summary["fingerprint"])
        print(f"README demo: {n} ticks in, none lost, {summary['trades']} trades, "
              f"replay fingerprint {rs['fingerprint']}")
        # made to drop: exit 3 and the count everywhere
        for allow in (False, True):
            journal = os.path.join(WORK, "journal-drop-%d" % allow)
            extra = ["--queue", "128", "--drop-when-full"] + (["--allow-drops"] if allow else [])
            p = start_readme_paper(port, journal, extra)
            publish(tape, port, "--speed", "max")
            rc, summary = stop_readme_paper(p, n)
            k = counts()
            drops = k["dropped"] + k["nats_dropped"]
            if drops == 0:
                fail("a 128-slot queue without backpressure dropped nothing")
            if rc != (0 if allow else 3) or summary["drops"] != drops:
                fail(f"dropping: exit {rc}, JSON drops {summary['drops']}, counters {k}")
            if not allow and "ticks were dropped" not in read("paper.err"):
                fail("exit 3 without saying why: " + read("paper.err")[-500:])
            html = read(os.path.join("paper", "report.html"))
            if f"{drops} ticks dropped" not in html or 'id="data-warning"' not in html:
                fail("the report does not show the drops")
        print(f"dropping: {drops} counted in the text, JSON and report; exit 3, or 0 with --allow-drops")
        # a session with an override: replay needs the same one
        journal = os.path.join(WORK, "journal-set")
        p = start_readme_paper(port, journal, ["--set", "strategy.params.move=20"])
        m = publish(tape, port, "--speed", "max", "--limit", "20000")
        rc, summary = stop_readme_paper(p, m)
        r = run(["replay", journal, "--scenario", scen, "--no-reports"])
        if r.returncode != 1 or "the session ran with --set strategy.params.move=20, this " \
                                "replay with none" not in r.stderr:
            fail(f"a session's override left out: exit {r.returncode}: {r.stderr}")
        r = run(["replay", journal, "--scenario", scen, "--json", "--no-reports", "--set",
                 "strategy.params.move=20"])
        if r.returncode != 0 or json.loads(r.stdout.strip().splitlines()[-1])["fingerprint"] != \
                summary["fingerprint"]:
            fail(f"the session's override given: exit {r.returncode}: {r.stderr}")
    finally:
        stop_nats(nats)


def case_restart():
    port = free_port()
    nats = start_nats(port)
    try:
        tape, scen = import_sample(), scenario()
        journal = os.path.join(WORK, "journal")
        p = start_paper(port, scen, journal)
        a = publish(tape, port, "--to", "2019-02-04T12:00:00")
        raw_publish(port, "ticks.EURUSD", b"\x0a\xff\xff\x01")
        wait_for(lambda: "not a valid protobuf" in read("paper.err"), "the malformed message")
        time.sleep(0.5)
        stop_nats(nats)
        wait_for(lambda: "disconnected" in read("paper.err"), "the disconnect")
        nats = start_nats(port)
        wait_for(lambda: "reconnected" in read("paper.err"), "the reconnect")
        time.sleep(0.3)
        b = publish(tape, port, "--from", "2019-02-04T12:00:00")
        summary = finish_paper(p, signal.SIGTERM, a + b + 2)
        err = read("paper.err")
        k = counts()
        if k["rejected"] != 1 or k["gaps"] != 1:
            fail(f"expected one rejected message and one gap: {k}")
        if k["arrived"] - 2 + k["nats_dropped"] != a + b:  # two gap marks arrived too
            fail(f"ticks unaccounted for: published {a} + {b}, {k}")
        if k["inputs"] != k["arrived"] - k["dropped"] + 1:
            fail(f"inputs: {k}")
        if "ticks.EURUSD: TickData: not a valid protobuf" not in err:
            fail("the malformed message was not logged with its subject")
        replay_and_compare(scen, journal, summary)
    finally:
        stop_nats(nats)


def case_usage():
    r = run(["paper", "--help"])
    if r.returncode != 0 or "usage: ticktape paper" not in r.stdout:
        fail("paper --help")
    r = run(["replay", "--help"])
    if r.returncode != 0 or "usage: ticktape replay" not in r.stdout:
        fail("replay --help")
    r = run(["publish", "--help"])
    if r.returncode != 0 or "usage: ticktape publish" not in r.stdout:
        fail("publish --help")
    for args, code, text in ((["publish", WORK], 2, "one target"),
                             (["publish", WORK, "--nats", "nats://x", "--kafka", "y"], 2,
                              "one target"),
                             (["publish", WORK, "--nats", "nats://x", "--speed", "fast"], 2,
                              "--speed"),
                             (["publish", os.path.join(WORK, "nope"), "--nats",
                               "nats://127.0.0.1:1"], 1, "ticktape: error:")):
        r = run(args)
        if r.returncode != code or text not in r.stderr:
            fail(f"{args}: exit {r.returncode}, {r.stderr}")
    scen = scenario()
    r = run(["paper", scen])
    if r.returncode != 2 or "--nats" not in r.stderr:
        fail(f"paper without a feed: {r.returncode} {r.stderr}")
    r = run(["replay", WORK, "--scenario", scen])
    if r.returncode != 1 or "no journal here" not in r.stderr:
        fail(f"replay of a non-journal: {r.returncode} {r.stderr}")
    os.makedirs(os.path.join(WORK, "used", "_journal"))
    port = free_port()
    nats = start_nats(port)
    try:
        r = run(["paper", scen, "--nats", f"nats://127.0.0.1:{port}", "--journal",
                 os.path.join(WORK, "used")])
        if r.returncode != 1 or "already holds a journal" not in r.stderr:
            fail(f"reused journal dir: {r.returncode} {r.stderr}")
    finally:
        stop_nats(nats)
    r = run(["paper", scen, "--nats", f"nats://127.0.0.1:{free_port()}"])
    if r.returncode != 1 or "ticktape: error: nats" not in r.stderr:
        fail(f"no server: {r.returncode} {r.stderr}")
    case_duration_rate_tty(scen)


def case_duration_rate_tty(scen):
    """--duration ends a session by itself; publish --rate paces; on a
    terminal (util-linux `script` provides one) the status line is drawn."""
    port = free_port()
    nats = start_nats(port)
    try:
        tape = import_sample()
        url = f"nats://127.0.0.1:{port}"
        t0 = time.time()
        p = subprocess.Popen([TT, "paper", scen, "--nats", url, "--duration", "2", "--json",
                              "--no-reports"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
        time.sleep(0.4)
        r = run(["publish", tape, "--nats", url, "--rate", "5000", "--limit", "2000", "--json"])
        pub = json.loads(r.stdout.strip().splitlines()[-1])
        if r.returncode != 0 or pub["published"] != 2000:
            fail(f"publish --rate: {r.returncode} {r.stdout} {r.stderr}")
        if not 0.38 <= pub["seconds"] <= 1.5:  # 2000 ticks at 5000/s = 0.4 s
            fail(f"publish --rate 5000 of 2000 ticks took {pub['seconds']} s")
        out, err = p.communicate(timeout=30)
        took = time.time() - t0
        if p.returncode != 0 or not 1.9 <= took <= 10:
            fail(f"paper --duration 2: exit {p.returncode} after {took:.1f} s: {err}")
        summary = json.loads(out.strip().splitlines()[-1])
        if summary["events"] < 2001:  # the ticks, and STOP
            fail(f"paper --duration saw {summary['events']} events")
        if shutil.which("script"):
            cmd = (f"{TT} paper {scen} --nats {url} --duration 1.5 --no-reports "
                   f"2>&1 >/dev/null")
            r = subprocess.run(["script", "-qec", cmd, "/dev/null"], capture_output=True,
                               text=True, timeout=60)
            if "inputs" not in r.stdout or "connected" not in r.stdout:
                fail("no status line on a terminal: " + r.stdout[-500:])
    finally:
        stop_nats(nats)


def case_kafka():
    mock = None
    brokers = os.environ.get("TT_KAFKA_BROKERS")
    if brokers:
        print("kafka: the real cluster at", brokers)
    else:
        mock = subprocess.Popen([KAFKA_MOCK, "1"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True)
        brokers = mock.stdout.readline().strip()
        print("kafka: librdkafka's mock cluster at", brokers)
    try:
        tape, scen = import_sample(), scenario()
        r = run(["publish", tape, "--kafka", brokers, "--json", "--to", "2019-02-04T12:00:00"])
        if r.returncode != 0:
            fail("publish --kafka: " + r.stderr)
        n = json.loads(r.stdout.strip().splitlines()[-1])["published"]
        journal = os.path.join(WORK, "journal")
        out = open(os.path.join(WORK, "paper.out"), "w")
        err = open(os.path.join(WORK, "paper.err"), "w")
        group = f"tt-paper-test-{os.getpid()}-{int(time.time())}"
        p = subprocess.Popen([TT, "paper", scen, "--kafka", brokers, "--from-beginning",
                              "--status-every", "0.2",
                              "--kafka-set", f"group.id={group}", "--journal", journal, "--json",
                              "--queue", "1000000", "--out", os.path.join(WORK, "paper"),
                              "--orders", os.path.join(WORK, "paper-orders.csv")],
                             stdout=out, stderr=err)
        # A consumer group needs a few seconds to join; then the archive flows in.
        wait_for(lambda: (status_inputs() or (0, 0))[0] > 0, "the first Kafka ticks", 30)
        summary = finish_paper(p, signal.SIGINT, n)
        k = counts()
        if not brokers or (not os.environ.get("TT_KAFKA_BROKERS") and k["arrived"] != n):
            fail(f"published {n} ticks to tick_archive, the session took in {k}")
        m = re.search(r"kafka produced (\d+) \(delivered (\d+), failed (\d+), undelivered (\d+)\)",
                      read("paper.err"))
        if not m or int(m.group(1)) == 0 or m.group(1) != m.group(2) or m.group(3) != "0":
            fail("archive outputs not all delivered: " + read("paper.err"))
        replay_and_compare(scen, journal, summary)
    finally:
        if mock:
            mock.stdin.close()
            mock.wait(timeout=20)


{"parity": case_parity, "restart": case_restart, "usage": case_usage,
 "kafka": case_kafka, "defaults": case_defaults}[CASE]()
print("ok")
