#!/usr/bin/env python3
"""Live trading through MetaTrader 5, end to end through the `ticktape` binary:
`ticktape live` against `ticktape mt5-sim` on the real EURUSD sample
(scenarios/data/eurusd-2019-02, 4-5 February 2019), the example tick-momentum
plugin with an attached stop-loss (so the broker's own stop-loss deals come
back as venue deals).

usage: mt5_test.py CASE TICKTAPE SOURCE_DIR WORK_DIR PLUGIN

Oracles: mt5-sim's deal log (every fill of `live --orders` is one deal:
price, volume, side, in order, none missing, none twice), and `ticktape
replay` of the session's journal (same fingerprint, same order-event list).

  session   netting account, commissions: fills = deals; replay parity.
  hedging   the same on a hedging account (each fill its own position).
  faults    requotes, a reject, no money, market closed, invalid stops, a
            partial (FOK: rejected), latency: each gives its order event
            (rejected, with its reason); fills = deals; replay parity.
  tls       the session case over TLS (--tls-cert/--tls-key; mt5-sim --tls-ca
            trusting the self-signed certificate, made with openssl(1)).
  inflight  the connection dropped with a fill in flight, an answer lost
            (queried, not re-sent), and the terminal restarted (1 s away)
            with a position open: fills = deals, no duplicate order, no
            difference at reconciliation.
  crash     kill -9 in the middle with a position open, restart on the same
            journal: replayed, reconciled without difference, trading goes
            on; fills = deals over both runs; the journal replays to the
            second run's fingerprint.
  usage     --help texts, missing --mt5, a world-readable secret file (and
            TLS key), --tls-cert without --tls-key, a
            terminal whose account mode is not the scenario's (refused),
            a bad --fault (usage error naming the key).
"""
import csv
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
WORK = os.path.join(WORK, CASE)
shutil.rmtree(WORK, ignore_errors=True)
os.makedirs(WORK)
TAPE = os.path.join(SRC, "scenarios/data/eurusd-2019-02")
SECRET = os.path.join(WORK, "mt5.key")


def fail(msg):
    print("FAIL:", msg)
    for name in ("live.err", "sim.err", "live2.err"):
        path = os.path.join(WORK, name)
        if os.path.exists(path):
            print(f"---- {name} (tail)")
            print("".join(open(path).readlines()[-30:]))
    sys.exit(1)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def read(name):
    path = os.path.join(WORK, name)
    return open(path).read() if os.path.exists(path) else ""


def wait_for(cond, what, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return
        time.sleep(0.02)
    fail("timed out waiting for " + what)


def run(args, **kw):
    return subprocess.run([TT] + args, capture_output=True, text=True, timeout=120, **kw)


def secret():
    with open(SECRET, "w") as f:
        f.write("correct horse battery staple\n")
    os.chmod(SECRET, 0o600)


def scenario(mode="netting", name="mt5", qty=1):
    path = os.path.join(WORK, f"{name}.yaml")
    with open(path, "w") as f:
        f.write(f"""name: {name}
seed: 7
data:
  tape: {TAPE}
  symbols: [EURUSD]
account: {{currency: USD, balance: 10000, leverage: 100, mode: {mode}}}
strategy:
  name: {PLUGIN}
  params: {{n: 20, move: 4, qty: {qty}, sl: 6}}
""")
    return path


def start_live(scen, port, journal, tag="live", extra=()):
    out = open(os.path.join(WORK, tag + ".out"), "w")
    err = open(os.path.join(WORK, tag + ".err"), "w")
    p = subprocess.Popen([TT, "live", scen, "--mt5", f"127.0.0.1:{port}", "--secret-file",
                          SECRET, "--journal", journal, "--json", "--heartbeat-ms", "300",
                          "--answer-ms", "300", "--out", os.path.join(WORK, tag),
                          "--orders", os.path.join(WORK, tag + "-orders.csv"),
                          "--status-every", "0.5"] + list(extra), stdout=out, stderr=err)
    wait_for(lambda: "waiting for the terminal" in read(tag + ".err"), tag + " to listen")
    return p


def start_sim(port, extra=(), tag="sim"):
    err = open(os.path.join(WORK, tag + ".err"), "w")
    return subprocess.Popen([TT, "mt5-sim", "--connect", f"127.0.0.1:{port}", "--secret-file",
                             SECRET, "--tape", TAPE, "--commission", "3.5", "--deals",
                             os.path.join(WORK, "deals.csv"), "--json", "--give-up", "30"] +
                            list(extra), stdout=subprocess.PIPE, stderr=err, text=True)


def end_live(p, tag="live"):
    p.send_signal(signal.SIGINT)
    rc = p.wait(timeout=60)
    if rc != 0:
        fail(f"{tag} exited {rc}")
    return json.loads(read(tag + ".out").strip().splitlines()[-1])


def fills(tag="live"):
    """(side, qty in lots x 100, price in points) of every fill, in order."""
    rows = list(csv.DictReader(open(os.path.join(WORK, tag + "-orders.csv"))))
    return [(int(r["side"]), int(r["qty"]), int(r["price"])) for r in rows
            if r["status"] in ("filled", "partially_filled") and int(r["price"])], rows


def deals():
    rows = list(csv.DictReader(open(os.path.join(WORK, "deals.csv"))))
    return [(1 if r["side"] == "buy" else -1, round(float(r["volume"]) * 100),
             round(float(r["price"]) * 100000)) for r in rows], rows


def check_fills_are_deals(f, d):
    if f != d:
        for i, (a, b) in enumerate(zip(f, d)):
            if a != b:
                fail(f"fill {i}: engine {a} != broker {b} ({len(f)} fills, {len(d)} deals)")
        fail(f"{len(f)} engine fills, {len(d)} broker deals")
    if len(f) < 5:
        fail(f"too few fills to prove anything: {len(f)}")


def replay_and_compare(scen, journal, summary, tag="live"):
    r = run(["replay", journal, "--scenario", scen, "--json", "--out",
             os.path.join(WORK, "replay"), "--orders", os.path.join(WORK, "replay-orders.csv")])
    if r.returncode != 0:
        fail("replay: " + r.stderr)
    rs = json.loads(r.stdout.strip().splitlines()[-1])
    for key in ("fingerprint", "events", "trades", "net_pnl"):
        if summary[key] != rs[key]:
            fail(f"{key}: live {summary[key]} != replay {rs[key]}")
    if read(tag + "-orders.csv") != read("replay-orders.csv"):
        fail("order-event lists differ between the live run and its replay")
    print(f"parity: fingerprint {rs['fingerprint']}, {rs['events']} events")


def session(mode, sim_extra=(), live_extra=(), qty=1):
    secret()
    port = free_port()
    scen = scenario(mode, qty=qty)
    journal = os.path.join(WORK, "journal")
    p = start_live(scen, port, journal, extra=live_extra)
    s = start_sim(port, ["--account", mode, "--speed", "4000", "--from", "2019-02-04T06:00:00",
                         "--to", "2019-02-04T12:00:00"] + list(sim_extra))
    out, _ = s.communicate(timeout=120)
    if s.returncode != 0:
        fail(f"mt5-sim exited {s.returncode}")
    sim = json.loads(out.strip().splitlines()[-1])
    time.sleep(0.5)
    summary = end_live(p)
    return scen, journal, summary, sim


def reasons(rows):
    out = {}
    for r in rows:
        if r["status"] == "rejected":
            out[int(r["reason"])] = out.get(int(r["reason"]), 0) + 1
    return out


def case_session(mode="netting"):
    scen, journal, summary, sim = session(mode)
    f, rows = fills()
    d, drows = deals()
    check_fills_are_deals(f, d)
    if not any(r["reason"] == "sl" for r in drows):
        print("note: no stop-loss deal in this window")
    replay_and_compare(scen, journal, summary)
    print(f"{mode}: {len(f)} fills = {len(d)} deals, {sim['ticks_sent']} quotes")


def case_tls():
    cert, key = os.path.join(WORK, "cert.pem"), os.path.join(WORK, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert, "-days", "1",
                    "-subj", "/CN=ticktape", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    os.chmod(key, 0o600)
    scen, journal, summary, sim = session("netting", ["--tls-ca", cert],
                                          ["--tls-cert", cert, "--tls-key", key])
    f, _ = fills()
    d, _ = deals()
    check_fills_are_deals(f, d)
    replay_and_compare(scen, journal, summary)
    print(f"tls: {len(f)} fills = {len(d)} deals, {sim['ticks_sent']} quotes")


def case_faults():
    faults = ["requote:every=9", "reject:at=3", "nomoney:at=5", "closed:at=7", "stops:at=11",
              "partial:at=13", "latency:ms=20,at=15"]
    extra = []
    for x in faults:
        extra += ["--fault", x]
    scen, journal, summary, sim = session("netting", extra, qty=4)
    f, rows = fills()
    d, _ = deals()
    check_fills_are_deals(f, d)
    got = reasons(rows)
    # reason codes (core/order.h): no_money 10, broker 32, requote 30,
    # market_closed 31, stops_level 25
    want = {30: 1, 32: 2, 10: 1, 31: 1, 25: 1}  # partial FOK -> 10006: broker
    for k, v in want.items():
        if got.get(k, 0) < v:
            fail(f"rejections by reason: {got}, expected at least {want}")
    replay_and_compare(scen, journal, summary)
    print(f"faults: rejections {got}; {len(f)} fills = deals")


def case_inflight():
    scen, journal, summary, sim = session("netting", ["--fault", "drop:order=4,down=200",
                                                      "--fault", "noreply:at=8",
                                                      "--fault", "restart:at=15000,down=1000"])
    f, rows = fills()
    d, _ = deals()
    check_fills_are_deals(f, d)
    if sim["sessions"] < 3:
        fail(f"the connection was not dropped, then the terminal restarted: {sim}")
    m = re.findall(r"reconciliation differences (\d+)", read("live.err"))
    if not m or int(m[-1]):
        fail(f"reconciliation after the restart found differences: {m}")
    err = read("live.err")
    if "terminal disconnected" not in err:
        fail("the disconnection was not reported")
    m = re.findall(r"queries (\d+)", err)
    if not m or int(m[-1]) < 1:
        fail("the lost answer was not queried")
    # no order reached the broker twice: one opening deal per engine order
    _, drows = deals()
    opened = {}
    for r in drows:
        if r["reason"] == "expert":
            opened[r["magic"]] = opened.get(r["magic"], 0) + 1
    twice = [m for m, n in opened.items() if n > 1]
    if twice:
        fail(f"orders executed twice (magic): {twice}")
    if "does not hold" in err:
        fail("a stop-loss deal of the order in flight was dropped")
    replay_and_compare(scen, journal, summary)
    print(f"inflight: {len(f)} fills = deals over {sim['sessions']} sessions")


def position_of(drows):
    net = 0
    for r in drows:
        v = round(float(r["volume"]) * 100)
        net += v if r["side"] == "buy" else -v
    return net


def case_crash():
    secret()
    port = free_port()
    scen = scenario("netting")
    journal = os.path.join(WORK, "journal")
    p = start_live(scen, port, journal)
    # paced by rate: the market goes on while ticktape is away
    s = start_sim(port, ["--rate", "3000", "--from", "2019-02-04T06:00:00", "--to",
                         "2019-02-04T09:00:00"])
    wait_for(lambda: len(re.findall(r"fills (\d+)", read("live.err"))) > 0 and
             int(re.findall(r"fills (\d+)", read("live.err"))[-1]) >= 6, "6 fills", 60)
    p.send_signal(signal.SIGKILL)
    p.wait()
    time.sleep(0.5)
    p2 = start_live(scen, port, journal, tag="live2")
    wait_for(lambda: "terminal in sync" in read("live2.err"), "the restarted session's sync", 60)
    out, _ = s.communicate(timeout=120)
    time.sleep(0.5)
    summary = end_live(p2, "live2")
    err = read("live2.err")
    if "replaying it" not in err:
        fail("the restart did not replay the journal")
    m = re.findall(r"reconciliation differences (\d+)", err)
    if not m or int(m[-1]):
        fail(f"reconciliation found differences: {m}")
    f, rows = fills("live2")
    d, drows = deals()
    check_fills_are_deals(f, d)
    replay_and_compare(scen, journal, summary, "live2")
    print(f"crash: {len(f)} fills = deals over the kill and the restart; broker position "
          f"{position_of(drows)}")


def case_usage():
    secret()
    for cmd in ("live", "mt5-sim", "mt5-connector"):
        r = run([cmd, "--help"])
        if r.returncode != 0 or f"usage: ticktape {cmd}" not in r.stdout:
            fail(f"{cmd} --help")
    scen = scenario()
    r = run(["live", scen, "--secret-file", SECRET])
    if r.returncode != 2 or "--mt5" not in r.stderr:
        fail(f"live without --mt5: {r.returncode} {r.stderr}")
    loose = os.path.join(WORK, "loose.key")
    with open(loose, "w") as f:
        f.write("correct horse battery staple\n")
    os.chmod(loose, 0o644)
    r = run(["live", scen, "--mt5", "127.0.0.1:1", "--secret-file", loose])
    if r.returncode != 2 or "chmod 600" not in r.stderr:
        fail(f"a readable secret file: {r.returncode} {r.stderr}")
    r = run(["live", scen, "--mt5", "127.0.0.1:1", "--secret-file", SECRET, "--tls-cert",
             SECRET])
    if r.returncode != 2 or "--tls-cert needs --tls-key" not in r.stderr:
        fail(f"--tls-cert alone: {r.returncode} {r.stderr}")
    r = run(["mt5-connector", "--listen", "127.0.0.1:1", "--nats", "nats://127.0.0.1:1",
             "--symbols", "EURUSD", "--secret-file", SECRET, "--tls-cert", SECRET,
             "--tls-key", loose])
    if r.returncode != 2 or "chmod 600" not in r.stderr:
        fail(f"a readable TLS key: {r.returncode} {r.stderr}")
    r = run(["mt5-sim", "--connect", "127.0.0.1:1", "--tape", TAPE, "--secret-file", SECRET,
             "--fault", "requote:evry=3"])
    if r.returncode != 2 or "requote does not take 'evry=3'" not in r.stderr:
        fail(f"a bad --fault: {r.returncode} {r.stderr}")
    # a hedging terminal for a netting scenario is refused
    port = free_port()
    p = start_live(scen, port, os.path.join(WORK, "j-mode"))
    s = start_sim(port, ["--account", "hedging", "--give-up", "2", "--to",
                         "2019-02-04T01:00:00"])
    wait_for(lambda: "account mode does not match" in read("sim.err") or
             "is hedging, the scenario's netting" in read("live.err"), "the refusal")
    s.send_signal(signal.SIGTERM)
    s.wait(timeout=30)
    end_live(p)
    print("usage: ok")


CASES = {"session": case_session, "hedging": lambda: case_session("hedging"),
         "faults": case_faults, "inflight": case_inflight, "crash": case_crash,
         "usage": case_usage, "tls": case_tls}
CASES[CASE]()
print("ok")
