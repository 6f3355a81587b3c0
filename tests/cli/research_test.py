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
    m = re.search(r'<svg id="heatmap-net_pnl".*?</svg>', html, re.S)
    if not m or len(re.findall(r'<rect class="cell"', m.group(0))) != 6:
        fail("the net_pnl heatmap should have 3 x 2 cells")


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


def case_wf_report():
    """The README's walk-forward: text, walkforward.json, the report's fold
    table, summary.json, trades.csv, JUnit and the gate table agree on every
    value; the counts are right (events, trades); the fold boundaries are on
    the equity chart; each fold's efficiency is recomputed here from its
    windows and P&L."""
    sc = os.path.join(SRC, "scenarios", "walkforward-eurusd-sma.yaml")
    junit = os.path.join(WORK, "wf.xml")
    p = run(["walkforward", sc, "--jobs", "2", "--json", "--out", "wfr", "--gate", "--junit", junit],
            expect=4)
    j = last_json(p)
    text = p.stdout
    html = open(os.path.join(WORK, "wfr", "report.html")).read()
    summ = json.load(open(os.path.join(WORK, "wfr", "summary.json")))
    trades = open(os.path.join(WORK, "wfr", "trades.csv")).read().strip().split("\n")[1:]

    def money(v):
        return "%.2f" % v

    def ratio(v):
        return "n/a" if v is None else "%.6g" % v
    rows = re.findall(r'<tr><td>(\d+)</td><td><span class="nw">.*?</td><td><span class="nw">.*?</td>'
                      r'<td class="l">(.*?)</td><td>(\d+) / (\d+)</td><td>(.*?)</td><td class="\w*">'
                      r'(.*?)</td><td>(\d+)</td><td class="\w*">(.*?)</td><td>(\d+)</td>'
                      r'<td class="\w*">(.*?)%</td><td class="neg">(.*?)%</td><td class="eff">(.*?)</td>',
                      html)
    if len(rows) != len(j["folds"]) or len(rows) != 4:
        fail("report fold table: %d rows, JSON %d folds" % (len(rows), len(j["folds"])))
    day = 86400.0
    for f, r in zip(j["folds"], rows):
        n = f["fold"]
        is_, oos = f["in_sample"], f["out_of_sample"]
        # efficiency by hand: OOS net per test day over IS net per train day
        tr = (parse_ts(f["train_to"]) - parse_ts(f["train_from"])) / day
        te = (parse_ts(f["test_to"]) - parse_ts(f["test_from"])) / day
        eff = (oos["net_pnl"] / te) / (is_["net_pnl"] / tr) if is_["net_pnl"] > 0 else None
        if (eff is None) != (f["efficiency"] is None) or \
                (eff is not None and abs(eff - f["efficiency"]) > 1e-9 * abs(eff)):
            fail("fold %d efficiency %s, by hand %s" % (n, f["efficiency"], eff))
        want = [str(n), str(f["qualified"]), str(f["runs"]), ratio(f["objective"]),
                money(is_["net_pnl"]), str(is_["trades"]), money(oos["net_pnl"]),
                str(oos["trades"]), "%.2f" % oos["return_pct"],
                "%.2f" % -oos["max_drawdown_pct"], ratio(f["efficiency"])]
        got = [r[0], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11]]
        if got != want:
            fail("fold %d: report %s, JSON %s" % (n, got, want))
        line = [l for l in text.split("\n") if re.match(r"%d\s+2017" % n, l)]
        cells = line[0].split() if line else []
        if cells[-6:] != [ratio(f["objective"]), money(is_["net_pnl"]), str(is_["trades"]),
                          money(oos["net_pnl"]), str(oos["trades"]), ratio(f["efficiency"])]:
            fail("fold %d text %s disagrees with JSON" % (n, cells))
    # counts: the stitched run's events and trades are the folds'
    events = sum(f["out_of_sample"]["events"] for f in j["folds"] if f["params"])
    if summ["events"] != events or j["oos"]["events"] != events or events == 0:
        fail("events: summary %s, JSON %s, folds %s" % (summ["events"], j["oos"]["events"], events))
    if "%d events" % events not in html or "%d trades, %d events" % (j["oos"]["trades"], events) \
            not in text:
        fail("the report or the text does not count %d events" % events)
    ntr = sum(f["out_of_sample"]["trades"] for f in j["folds"] if f["params"])
    if not (len(trades) == ntr == j["oos"]["trades"] == summ["trades"]):
        fail("trades: csv %d, folds %d, JSON %d, summary %d" % (len(trades), ntr,
                                                               j["oos"]["trades"], summ["trades"]))
    # the fold boundaries on the equity chart: a line per fold
    eq = re.search(r'<svg id="equity-chart".*?</svg>', html, re.S).group(0)
    marks = re.findall(r'<text class="mlabel"[^>]*>fold (\d+)</text>', eq)
    if marks != [str(i) for i in range(1, len(j["folds"]) + 1)]:
        fail("fold markers on the equity chart: %s" % marks)
    # WFE, net P&L, trades, drawdown: text, JSON, report, gate table, JUnit
    wfe = ratio(j["wfe"])
    if "walk-forward efficiency %s" % wfe not in text or '<b id="wfe">%s</b>' % wfe not in html:
        fail("WFE %s: text or report disagree" % wfe)
    gate = {l.split()[0]: l for l in p.stderr.split("\n") if l.startswith(("min_", "max_"))}
    if "wfe %s < 0.5" % wfe not in gate.get("min_wfe", ""):
        fail("gate table WFE: %s" % gate.get("min_wfe"))
    pnl = j["oos"]["net_pnl"]
    if "net_pnl %g %s 0" % (pnl, ">=" if pnl >= 0 else "<") not in gate.get("min_net_pnl", "") or \
            "trades %d >= 10" % j["oos"]["trades"] not in gate.get("min_trades", "") or \
            "max_drawdown_pct %.6g <= 10" % j["oos"]["max_drawdown_pct"] not in \
            gate.get("max_drawdown_pct", ""):
        fail("gate table disagrees with the JSON: %s" % gate)
    cases = {c.get("name"): c for c in ET.parse(junit).getroot().iter("testcase")}
    for name, line in gate.items():
        fl = cases[name].find("failure")
        if ("FAIL" in line) != (fl is not None) or (fl is not None and fl.get("message") not in line):
            fail("JUnit %s disagrees with the gate table: %s" % (name, line))
    # summary.json prints ratios with 12 significant digits, walkforward.json with 15
    if summ["net_pnl"] != j["oos"]["net_pnl"] or \
            (summ["sharpe"] is None) != (j["oos"]["sharpe"] is None) or \
            (summ["sharpe"] is not None and
             float("%.12g" % j["oos"]["sharpe"]) != summ["sharpe"]):
        fail("summary.json and walkforward.json disagree")
    # a fold that chooses nothing says why, alike in the text, the JSON and the report
    sh = scenario("wf_sharpe", WF.format(mode="rolling").replace("objective: net_pnl",
                                                                 "objective: sharpe"),
                  to="2019-02-06")
    p = run(["walkforward", sh, "--json", "--out", "wfs"])
    j = last_json(p)
    why = "sharpe is n/a for every run that qualified (train windows below the minimum-data rule)"
    html = open(os.path.join(WORK, "wfs", "report.html")).read()
    if any(f["params"] is not None or f["why_none"] != why for f in j["folds"]) or \
            p.stdout.count("(" + why + ")") != len(j["folds"]) or html.count(why) != len(j["folds"]):
        fail("folds without a choice do not say why alike:\n" + p.stdout)
    if "walk-forward efficiency n/a (no fold chose a parameter set)" not in p.stdout:
        fail("no WFE sentence for a walk-forward without choices")


def parse_ts(s):
    import datetime
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


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
    """Usage errors exit 2; a bad sweep section exits 1 naming file and line;
    every run failed exits 1 and some 3, in sweep and walkforward; backtest,
    sweep, walkforward and paper refuse the same bad input alike."""
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
    # every run failed: 1, as a lone backtest of any of them; some: 3. Here the
    # sweep's fast is never below slow (sma_cross refuses it) ...
    wf = "walkforward:\n  train: 6h\n  test: 6h\n"
    grid = "sweep:\n  params:\n    strategy:\n      params:\n        fast: [%s]\n        slow: [20, 30]\n"
    sc = scenario("allfail", grid % "40, 50" + wf)
    b = run(["backtest", sc, "--set", "strategy.params.fast=40", "--set", "strategy.params.slow=20",
             "--no-reports"], expect=1)
    if "fast must be < slow" not in b.stderr:
        fail("backtest: " + b.stderr)
    p = run(["sweep", sc, "--no-reports"], expect=1)
    if "every run failed (4 of 4)" not in p.stderr or "fast must be < slow" not in p.stderr:
        fail("sweep, every run failed: " + p.stderr)
    p = run(["walkforward", sc, "--no-reports"], expect=1)
    if "every train run failed (12 of 12)" not in p.stderr:
        fail("walkforward, every train run failed: " + p.stderr)
    # ... and here half of it is
    sc = scenario("somefail", grid % "5, 50" + wf)
    p = run(["sweep", sc, "--no-reports"], expect=3)
    if "2 of 4 runs did not complete" not in p.stderr:
        fail("sweep, some runs failed: " + p.stderr)
    p = run(["walkforward", sc, "--no-reports"], expect=3)
    if "6 of 12 train runs did not complete" not in p.stderr:
        fail("walkforward, some train runs failed: " + p.stderr)
    # the same bad input is refused alike by every command that runs a scenario
    good = scenario("good", "")
    for cmd in (["backtest"], ["sweep"], ["walkforward"], ["paper", "--nats", "nats://127.0.0.1:1"]):
        for bad, code, says in ((["--set", "venue.latncy=3"], 2, "--set venue.latncy: unknown key"),
                                (["--set", "nope"], 2, "--set: expected KEY=VALUE"),
                                (["--set", "venue.latency_ms=soon"], 2, "expected a number"),
                                (["--bogus"], 2, "unknown option --bogus")):
            p = run([cmd[0], good] + cmd[1:] + bad, expect=code)
            if says not in p.stderr:
                fail("%s %s: %s" % (cmd[0], bad, p.stderr))
        p = run([cmd[0], os.path.join(WORK, "absent.yaml")] + cmd[1:], expect=1)
        if "absent.yaml: cannot open scenario" not in p.stderr:
            fail("%s, a missing scenario: %s" % (cmd[0], p.stderr))


def chromium(html, width=1024):
    chrome = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chrome:
        print("SKIP: chromium not installed")
        sys.exit(77)
    p = subprocess.run([chrome, "--headless", "--no-sandbox", "--disable-gpu",
                        "--disable-background-networking", "--no-first-run",
                        "--user-data-dir=" + os.path.join(WORK, "profile"), "--enable-logging=stderr",
                        "--virtual-time-budget=2000", "--window-size=%d,900" % width, "--dump-dom",
                        "file://" + html], capture_output=True, text=True, timeout=120)
    if p.returncode != 0 or "</html>" not in p.stdout:
        fail("chromium exit %d: %s" % (p.returncode, p.stderr[-2000:]))
    return p.stdout


# Test-only: clicks each figure's label in turn and records which heatmap is
# displayed, and whether anything is wider than the window.
SWEEP_PROBE = """<script>
window.addEventListener('load', function () {
  var shown = [];
  document.querySelectorAll('.tabs label').forEach(function (l) {
    l.click();
    var vis = [];
    document.querySelectorAll('.hm').forEach(function (m) {
      if (getComputedStyle(m).display !== 'none') vis.push(m.querySelector('svg.map').id);
    });
    shown.push([l.textContent, vis]);
  });
  var wide = [];
  document.querySelectorAll('section').forEach(function (e) {
    if (e.scrollWidth > e.clientWidth + 1) wide.push(e.id);
  });
  var pre = document.createElement('pre'); pre.id = 'probe';
  pre.textContent = JSON.stringify({shown: shown, wide: wide,
                                    page: document.documentElement.scrollWidth, view: innerWidth});
  document.body.appendChild(pre);
});
</script></body>"""


def case_page():
    """sweep.html of the two-day tick sweep (bench/sweep-eurusd-ticks.yaml, the
    README's sweep before it moved onto bars) in headless Chromium: two-day runs are
    ranked by net P&L (no Sharpe ratio) and say why; a heatmap per main figure
    with a legend, one shown at a time and switched by its label; the best
    cell's neighbourhood and its rank against Python's own ranking of the
    cells; a table that fits the page."""
    sc = os.path.join(SRC, "bench", "sweep-eurusd-ticks.yaml")
    p = run(["sweep", sc, "--jobs", "2", "--json", "--out", "page"])
    j = last_json(p)
    if "best by net_pnl (no run has a Sharpe ratio" not in p.stdout:
        fail("the text does not say the ranking fell back to net_pnl:\n" + p.stdout)
    html_path = os.path.join(WORK, "page", "sweep.html")
    dom = chromium(html_path)
    if 'id="ranking-note"' not in dom or "Ranked by <b>net_pnl</b>" not in dom:
        fail("no ranking note")
    figs = ["net_pnl", "sharpe", "return_pct", "sqn", "profit_factor", "max_drawdown_pct",
            "win_rate_pct", "trades"]
    for f in figs:
        m = re.search(r'<svg id="heatmap-%s".*?</svg>' % f, dom, re.S)
        if not m or len(re.findall(r'<rect class="cell"', m.group(0))) != 64:
            fail("heatmap-%s: 8 x 8 cells expected" % f)
        if 'id="legend-%s"' % f not in dom:
            fail("no legend for " + f)
    # the ranked table: net_pnl descending, 64 rows
    rows = re.findall(r'<tr><td>(\d+)</td><td>(\d+)</td><td>ok</td>.*?<td class="rk">(-?[\d.]+)</td>',
                      dom)
    vals = [float(v) for _, _, v in rows]
    if len(rows) != 64 or vals != sorted(vals, reverse=True):
        fail("ranked table: %d rows, order %s" % (len(rows), vals[:5]))
    # stability: the best cell's neighbours, ranked here from sweep.json
    cells = {(r["params"]["strategy.params.fast"], r["params"]["strategy.params.slow"]): r["net_pnl"]
             for r in j["runs"]}
    xs = sorted({k[0] for k in cells}, key=float)
    ys = sorted({k[1] for k in cells}, key=float)
    best = max(cells, key=lambda k: (cells[k], -j["runs"].index(
        next(r for r in j["runs"] if (r["params"]["strategy.params.fast"],
                                      r["params"]["strategy.params.slow"]) == k))))
    bx, by = xs.index(best[0]), ys.index(best[1])
    vals = list(cells.values())

    def u(v):
        below = sum(1 for w in vals if v > w)
        equal = sum(1 for w in vals if w == v)
        return (below + (equal - 1) / 2) / (len(vals) - 1)
    nb = [cells[(xs[x], ys[y])] for x in range(bx - 1, bx + 2) for y in range(by - 1, by + 2)
          if 0 <= x < len(xs) and 0 <= y < len(ys) and (x, y) != (bx, by)]
    top = (1 - sum(u(v) for v in nb) / len(nb)) * 100
    want = "the %d neighbours of the best cell rank on average in the top %.0f%% of cells" % (
        len(nb), max(top, 1))
    m = re.search(r'<table id="stability-net_pnl".*?</table><p class="stab-note">(.*?)</p>', dom, re.S)
    if not m or want not in m.group(1):
        fail("stability: want '%s', page says %s" % (want, m and m.group(1)))
    # the choice of figure, and the layout, with a probe script in a copy
    with open(html_path) as f:
        html = f.read()
    probe = os.path.join(WORK, "page", "probe.html")
    with open(probe, "w") as f:
        f.write(html.replace("</body>", SWEEP_PROBE, 1))
    m = re.search(r'<pre id="probe">(.*?)</pre>', chromium(probe))
    if not m:
        fail("the probe did not run")
    res = json.loads(m.group(1))
    for label, vis in res["shown"]:
        if vis != ["heatmap-" + label]:
            fail("clicking %s shows %s" % (label, vis))
    if [l for l, _ in res["shown"]] != figs:
        fail("figure choices %s" % res["shown"])
    if res["wide"] or res["page"] > res["view"]:
        fail("wider than the page: %s" % res)
    # an explicit --figure ranks by it, without the note
    run(["sweep", sc, "--jobs", "2", "--out", "page2", "--figure", "sqn", "--quiet"])
    html = open(os.path.join(WORK, "page2", "sweep.html")).read()
    if "Ranked by <b>sqn</b>" not in html or "ranking-note" in html:
        fail("--figure sqn")
    p = run(["sweep", sc, "--figure", "win_rate"], expect=2)
    if "'win_rate' is now 'win_rate_pct'" not in p.stderr:
        fail("old figure name: " + p.stderr)


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
     "shipped": case_shipped, "page": case_page, "wf_report": case_wf_report}[CASE]()
    print("ok")


main()
