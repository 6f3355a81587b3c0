"""End-to-end tests of the research commands: `ticktape sweep`, `walkforward`,
and the gates of `backtest` / `walkforward`.

usage: research_test.py CASE TICKTAPE SOURCE_DIR WORK_DIR [CRASH_PLUGIN]

The oracles are independent of the code under test where possible: a run of
the sweep must have the fingerprint of the same parameters run alone through
`ticktape backtest --set ...`; the tables are read back with pandas and h5py;
JUnit XML with Python's XML parser.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

CASE, BIN, SRC, WORK = sys.argv[1:5]
PLUGIN = sys.argv[5] if len(sys.argv) > 5 else None
TAPE = os.path.join(SRC, "scenarios", "data", "eurusd-2019-02")

BASE = """name: {name}
seed: 42
data:
  tape: {tape}
  symbols: [EURUSD]
  from: {frm}
  to: {to}
account: {{currency: USD, balance: 10000, leverage: 100}}
venue: {{latency_ms: 5, commission: {{per_lot: 7}}}}
strategy:
  name: {strategy}
  params: {params}
"""


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def scenario(name, extra, frm="2019-02-04", to="2019-02-05", strategy="sma_cross",
             params="{tf: M1, fast: 10, slow: 30, qty: 10}"):
    path = os.path.join(WORK, name + ".yaml")
    with open(path, "w") as f:
        f.write(BASE.format(name=name, tape=TAPE, frm=frm, to=to, strategy=strategy,
                            params=params) + extra)
    return path


def run(args, expect=0):
    p = subprocess.run([BIN] + args, cwd=WORK, capture_output=True, text=True, timeout=240)
    if p.returncode != expect:
        fail("%s: exit %d, expected %d\nstdout:\n%s\nstderr:\n%s"
             % (" ".join(args), p.returncode, expect, p.stdout[-3000:], p.stderr[-3000:]))
    return p


def last_json(p):
    lines = p.stdout.strip().splitlines()
    if not lines:
        fail("no stdout")
    return json.loads(lines[-1])


SWEEP = """sweep:
  params:
    strategy:
      params:
        fast: [5, 10, 20]
        slow: [30, 60]
  heatmap: [strategy.params.fast, strategy.params.slow]
"""


def case_sweep():
    """--jobs 1 and --jobs 3 give the same table, and so do kept runner processes
    (--runs-per-process 0) and runners of 4 runs; each run equals a lone backtest."""
    import h5py
    import pandas as pd
    sc = scenario("small", SWEEP)
    p1 = run(["sweep", sc, "--jobs", "1", "--json", "--out", "t1"])
    p3 = run(["sweep", sc, "--jobs", "3", "--json", "--out", "t3"])
    j1, j3 = last_json(p1), last_json(p3)
    if j1 != j3:
        fail("--jobs 1 and --jobs 3 differ")
    for per in ("0", "4"):
        jk = last_json(run(["sweep", sc, "--jobs", "2", "--runs-per-process", per, "--json",
                            "--no-reports", "--quiet"]))
        if jk != j1:
            fail("--runs-per-process %s differs from a process per run" % per)
    for f in ("sweep.csv", "sweep.json", "sweep.html", "sweep.h5"):
        if open(os.path.join(WORK, "t1", f), "rb").read() != open(os.path.join(WORK, "t3", f), "rb").read():
            fail(f + " differs between --jobs 1 and --jobs 3")
    runs = j1["runs"]
    if len(runs) != 6 or any(r["status"] != "ok" for r in runs):
        fail("expected 6 completed runs: %s" % runs)
    # Grid order: fast slowest, slow fastest.
    got = [(r["params"]["strategy.params.fast"], r["params"]["strategy.params.slow"]) for r in runs]
    if got != [("5", "30"), ("5", "60"), ("10", "30"), ("10", "60"), ("20", "30"), ("20", "60")]:
        fail("grid order: %s" % got)
    # Independent path: the same parameters alone through `backtest --set`.
    for i in (0, 3, 5):
        r = runs[i]
        sets = []
        for k, v in r["params"].items():
            sets += ["--set", "%s=%s" % (k, v)]
        b = last_json(run(["backtest", sc, "--no-reports", "--json", "--quiet"] + sets))
        if b["fingerprint"] != r["fingerprint"]:
            fail("run %d: sweep fingerprint %s, backtest %s" % (i, r["fingerprint"], b["fingerprint"]))
        if b["trades"] != r["trades"]:
            fail("run %d: trades %s vs %s" % (i, r["trades"], b["trades"]))
    # The distinct parameters give distinct runs.
    if len({r["fingerprint"] for r in runs}) != 6:
        fail("fingerprints are not distinct")
    # CSV (pandas) and HDF5 (h5py) hold the same rows.
    csv = pd.read_csv(os.path.join(WORK, "t1", "sweep.csv"), dtype={"fingerprint": str})
    if list(csv["fingerprint"]) != [r["fingerprint"] for r in runs]:
        fail("CSV fingerprints")
    if list(csv["trades"]) != [r["trades"] for r in runs]:
        fail("CSV trades")
    with h5py.File(os.path.join(WORK, "t1", "sweep.h5"), "r") as h:
        fps = [x.decode() for x in h["runs/fingerprint"][:]]
        if fps != [r["fingerprint"] for r in runs]:
            fail("HDF5 fingerprints")
        fast = [x.decode() for x in h["runs/param.strategy.params.fast"][:]]
        if fast != ["5", "5", "10", "10", "20", "20"]:
            fail("HDF5 params: %s" % fast)
        sh = h["runs/sharpe"][:]
        for a, r in zip(sh, runs):
            if r["sharpe"] is not None and abs(a - r["sharpe"]) > 1e-9 * max(1, abs(a)):
                fail("HDF5 sharpe %r vs %r" % (a, r["sharpe"]))
    html = open(os.path.join(WORK, "t1", "sweep.html")).read()
    if "<svg" not in html or "<script" in html or "http" in html.replace("http://www.w3.org/2000/svg", ""):
        fail("HTML is not a self-contained page with an SVG heatmap")
    if len(re.findall(r"<rect ", html)) != 6:
        fail("heatmap should have 3 x 2 cells")


def case_random():
    """A seeded random search is the same twice; samples honoured; values in range."""
    sc = scenario("rnd", """sweep:
  mode: random
  samples: 5
  seed: 99
  params:
    strategy:
      params:
        fast: {from: 3, to: 12, step: 1}
        slow: [30, 40, 50]
""", to="2019-02-04T12:00:00Z")
    a = last_json(run(["sweep", sc, "--jobs", "2", "--json", "--no-reports", "--quiet"]))
    b = last_json(run(["sweep", sc, "--jobs", "1", "--json", "--no-reports", "--quiet"]))
    if a != b:
        fail("random search differs between two invocations")
    if len(a["runs"]) != 5:
        fail("samples")
    for r in a["runs"]:
        f = int(r["params"]["strategy.params.fast"])
        if not 3 <= f <= 12 or r["params"]["strategy.params.slow"] not in ("30", "40", "50"):
            fail("value out of its range: %s" % r["params"])


def case_crash():
    """A run that crashes is reported with its parameters; the sweep goes on (exit 3)."""
    if not PLUGIN:
        fail("no plugin given")
    sc = scenario("crash", """sweep:
  params:
    strategy:
      params:
        crash: [0, 1, 0]
        n: [1, 2]
""", strategy=PLUGIN, params="{crash: 0, n: 1}", to="2019-02-04T12:00:00Z")
    p = run(["sweep", sc, "--jobs", "2", "--json", "--no-reports"], expect=3)
    j = last_json(p)
    st = [r["status"] for r in j["runs"]]
    if st != ["ok", "ok", "crashed", "crashed", "ok", "ok"]:
        fail("statuses: %s" % st)
    # Kept runner processes: a crash takes its runner, the next run gets a new one.
    jk = last_json(run(["sweep", sc, "--jobs", "1", "--runs-per-process", "0", "--json",
                        "--no-reports", "--quiet"], expect=3))
    if [r["status"] for r in jk["runs"]] != st or \
            [r["fingerprint"] for r in jk["runs"] if r["status"] == "ok"] != \
            [r["fingerprint"] for r in j["runs"] if r["status"] == "ok"]:
        fail("--runs-per-process 0 after a crash: %s" % jk["runs"])
    if "strategy.params.crash=1 strategy.params.n=1" not in p.stderr or "crashed" not in p.stderr:
        fail("the crash is not reported with its parameters:\n" + p.stderr)
    if not re.search(r"signal 11|exit status", j["runs"][2]["error"]):
        fail("crash error: " + j["runs"][2]["error"])
    ok = [r for r in j["runs"] if r["status"] == "ok"]
    if len({r["fingerprint"] for r in ok}) != 1:
        fail("the four good runs (crash=0) should share one fingerprint")


WF = """sweep:
  params:
    strategy:
      params:
        fast: [5, 15]
        slow: [30, 60]
walkforward:
  mode: {mode}
  train: 12h
  test: 6h
  step: 6h
  objective: net_pnl
  min_trades: 3
"""


def case_walkforward():
    """Folds, choices and stitched figures: same at --jobs 1 and 2; the fold
    choices are the best train runs of a plain sweep over each train window."""
    sc = scenario("wf", WF.format(mode="rolling"), to="2019-02-06")
    a = last_json(run(["walkforward", sc, "--jobs", "1", "--json", "--out", "w1"]))
    b = last_json(run(["walkforward", sc, "--jobs", "2", "--json", "--no-reports"]))
    if a != b:
        fail("walkforward differs between --jobs 1 and 2")
    k = last_json(run(["walkforward", sc, "--jobs", "2", "--runs-per-process", "0", "--json",
                       "--no-reports", "--quiet"]))
    if k != a:
        fail("walkforward differs with kept runner processes (--runs-per-process 0)")
    if len(a["folds"]) != 6:
        fail("6 folds expected over 48 h with 12 h + 6 h windows: %d" % len(a["folds"]))
    # Oracle for fold 1: sweep the train window alone and pick the best net P&L
    # among runs with >= 3 trades.
    f1 = a["folds"][0]
    if f1["train_from"] != "2019-02-04T00:00:00.000Z" or f1["test_to"] != "2019-02-04T18:00:00.000Z":
        fail("fold 1 windows: %s" % f1)
    tr = scenario("wf_train1", WF.format(mode="rolling"), frm="2019-02-04",
                  to="2019-02-04T12:00:00Z")
    t = last_json(run(["sweep", tr, "--jobs", "2", "--json", "--no-reports", "--quiet"]))
    cands = [r for r in t["runs"] if r["trades"] >= 3]
    best = max(cands, key=lambda r: r["net_pnl"]) if cands else None
    if (best is None) != (f1["params"] is None):
        fail("fold 1 qualification differs from the sweep oracle")
    if best is not None:
        if best["params"] != f1["params"] or best["fingerprint"] != f1["in_sample"]["fingerprint"]:
            fail("fold 1 choice %s differs from the sweep oracle %s" % (f1["params"], best["params"]))
        # The out-of-sample run equals a backtest of the winner on the test window.
        ts = scenario("wf_test1", "", frm="2019-02-04T12:00:00Z", to="2019-02-04T18:00:00Z")
        sets = []
        for k, v in f1["params"].items():
            sets += ["--set", "%s=%s" % (k, v)]
        o = last_json(run(["backtest", ts, "--no-reports", "--json", "--quiet"] + sets))
        if o["fingerprint"] != f1["out_of_sample"]["fingerprint"]:
            fail("fold 1 out-of-sample run differs from a lone backtest of its test window")
    # Stitched net P&L is the sum of the folds' out-of-sample P&L.
    s = sum(f["out_of_sample"]["net_pnl"] for f in a["folds"] if f["params"])
    if abs(s - a["oos"]["net_pnl"]) > 0.005:
        fail("stitched net P&L %s != sum of folds %s" % (a["oos"]["net_pnl"], s))
    if not os.path.exists(os.path.join(WORK, "w1", "report.html")):
        fail("no out-of-sample report")
    anch = last_json(run(["walkforward", scenario("wfa", WF.format(mode="anchored"), to="2019-02-06"),
                          "--jobs", "2", "--json", "--no-reports", "--quiet"]))
    if any(f["train_from"] != "2019-02-04T00:00:00.000Z" for f in anch["folds"]):
        fail("anchored folds must all start at the data start")


def case_gates():
    """--gate: exit 4 with a table of failures, JUnit XML; baselines."""
    fail_gates = "gates:\n  min_trades: 1\n  min_sharpe: 100\n  max_drawdown_pct: 50\n"
    sc = scenario("g1", fail_gates)
    p = run(["backtest", sc, "--no-reports", "--gate", "--junit", "g1.xml", "--json"], expect=4)
    if "min_sharpe" not in p.stderr or "FAIL" not in p.stderr or "1 of 3 gates failed" not in p.stderr:
        fail("no failure table:\n" + p.stderr)
    last_json(p)  # the JSON line is still last
    root = ET.parse(os.path.join(WORK, "g1.xml")).getroot()
    suite = root.find("testsuite")
    if suite.get("tests") != "3" or suite.get("failures") != "1":
        fail("JUnit counts: %s" % suite.attrib)
    failed = [c.get("name") for c in suite.findall("testcase") if c.find("failure") is not None]
    if failed != ["min_sharpe"]:
        fail("JUnit failures: %s" % failed)
    # Passing gates: exit 0.
    ok = scenario("g2", "gates:\n  min_trades: 1\n  max_drawdown_pct: 50\n")
    run(["backtest", ok, "--no-reports", "--gate", "--quiet"])
    # A baseline, then a change gate against it: the same run passes ...
    run(["backtest", ok, "--no-reports", "--quiet", "--save-baseline", "base.json"])
    base = json.load(open(os.path.join(WORK, "base.json")))
    chg = scenario("g3", "gates:\n  baseline: base.json\n  max_change_pct: {net_pnl: 5, sharpe: 5}\n")
    run(["backtest", chg, "--no-reports", "--gate", "--quiet"])
    # ... a worse one (other parameters) fails.
    base["net_pnl"] = abs(base["net_pnl"]) * 10 + 1000
    json.dump(base, open(os.path.join(WORK, "base.json"), "w"))
    p = run(["backtest", chg, "--no-reports", "--gate", "--quiet"], expect=4)
    if "max_change_pct.net_pnl" not in p.stderr:
        fail("change gate not reported:\n" + p.stderr)
    # A missing baseline is an error (1), not a pass.
    os.remove(os.path.join(WORK, "base.json"))
    p = run(["backtest", chg, "--no-reports", "--gate", "--quiet"], expect=1)
    if "base.json" not in p.stderr:
        fail("missing baseline not named:\n" + p.stderr)
    # Walk-forward gates use the out-of-sample figures and the efficiency.
    wf = scenario("g4", WF.format(mode="rolling") + "gates:\n  min_wfe: 1000\n  min_trades: 1\n",
                  to="2019-02-06")
    p = run(["walkforward", wf, "--jobs", "2", "--no-reports", "--gate", "--junit", "g4.xml"],
            expect=4)
    c = {x.get("name"): x for x in ET.parse(os.path.join(WORK, "g4.xml")).getroot().iter("testcase")}
    if c["min_wfe"].find("failure") is None or c["min_trades"].find("failure") is not None:
        fail("walkforward JUnit verdicts")


def case_errors():
    """Usage errors exit 2; a bad sweep section exits 1 naming file and line."""
    run(["sweep", "--help"])
    run(["sweep"], expect=2)
    run(["sweep", "x.yaml", "--jobs", "0"], expect=2)
    p = run(["sweep", "x.yaml", "--runs-per-process", "many"], expect=2)
    if "--runs-per-process" not in p.stderr:
        fail("--runs-per-process error: " + p.stderr)
    run(["walkforward", "x.yaml", "--runs-per-process", "-1"], expect=2)
    run(["walkforward", "--bogus"], expect=2)
    run(["worker"], expect=2)
    sc = scenario("bad", "sweep:\n  params:\n    strategy:\n      params:\n        fast: {from: 9, to: 3, step: 1}\n")
    p = run(["sweep", sc], expect=1)
    if not re.search(r"bad\.yaml:\d+: sweep\.params\.strategy\.params\.fast: 'to' is below 'from'", p.stderr):
        fail("error does not name file, line and key:\n" + p.stderr)
    sc = scenario("nosweep", "")
    p = run(["sweep", sc], expect=1)
    if "no sweep: section" not in p.stderr:
        fail(p.stderr)
    sc = scenario("nowf", SWEEP)
    p = run(["walkforward", sc], expect=1)
    if "no walkforward: section" not in p.stderr:
        fail(p.stderr)


def case_shipped():
    """The example scenarios in scenarios/ run as documented."""
    sc = os.path.join(SRC, "scenarios")
    j = last_json(run(["sweep", os.path.join(sc, "sweep-eurusd-sma.yaml"), "--jobs", "2",
                       "--json", "--out", "eurusd"]))
    if len(j["runs"]) != 64 or any(r["status"] != "ok" for r in j["runs"]):
        fail("sweep-eurusd-sma: 64 completed runs expected")
    if not os.path.exists(os.path.join(WORK, "eurusd", "sweep.html")):
        fail("no sweep.html")
    j = last_json(run(["sweep", os.path.join(sc, "sweep-synthetic-random.yaml"), "--jobs", "2",
                       "--json", "--no-reports"]))
    if len(j["runs"]) != 24 or any(r["status"] != "ok" for r in j["runs"]):
        fail("sweep-synthetic-random: 24 completed runs expected")
    # The walk-forward example's min_wfe gate fails on purpose (see its comments).
    p = run(["walkforward", os.path.join(sc, "walkforward-eurusd-sma.yaml"), "--jobs", "2",
             "--json", "--no-reports", "--gate"], expect=4)
    failed = [ln.split()[0] for ln in p.stderr.splitlines() if " FAIL " in ln]
    if len(last_json(p)["folds"]) != 4 or failed != ["min_wfe"]:
        fail("walkforward-eurusd-sma: 4 folds and only min_wfe failing expected, got %s\n%s"
             % (failed, p.stderr))


def main():
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    try:
        import h5py  # noqa: F401
        import pandas  # noqa: F401
    except ImportError:
        print("SKIP: pandas/h5py missing")
        sys.exit(77)
    {"sweep": case_sweep, "random": case_random, "crash": case_crash,
     "walkforward": case_walkforward, "gates": case_gates, "errors": case_errors,
     "shipped": case_shipped}[CASE]()
    print("ok")


main()
