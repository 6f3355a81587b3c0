"""Tests of `ticktape backtest` and `ticktape demo`, driven from ctest
(tests/cli/backtest.cmake).

usage: backtest_test.py CASE TICKTAPE SOURCE_DIR WORK_DIR

Cases:
  determinism  two processes at once, same scenario: same fingerprint, same
               report bytes (HTML, JSON, CSV, HDF5); real EURUSD ticks
               (imported from tests/data/dukascopy) and synthetic data
  json         --json: the last stdout line is one JSON object with the
               documented fields, equal to summary.json; the figures agree
               with pandas/numpy recomputing them from series.h5 and
               trades.csv (definitions in docs/metrics.md)
  errors       scenario mistakes name file, line and key; exit codes
  demo         `ticktape demo` works with no files and says where the
               report is; --scenario prints a scenario that `backtest` runs
               to the same fingerprint
  chromium     headless Chromium loads report.html (a 2-day run on real
               ticks and a 45-day synthetic one): every section renders
               (charts, price chart with a marker per entry and exit,
               MAE/MFE dots, histogram, by hour/weekday, drawdowns, per
               symbol), intraday axes show times with each date once, a
               probe script in a copy measures that nothing is wider than
               the page; no console message (exit 77 = skip when absent)
  shipped      the example scenarios in scenarios/ run as shipped
  rejects      rejected orders by reason (risk gate, venue) in the text, the
               JSON and the report
  tick_momentum the built-in tick strategy's first trade against Python's SMA
               of the exported ticks
  models       data.model on Dukascopy's M1 candles and on an MT5 bar export
               with <SPREAD>: summary.json and report.html name the model
               (and real ticks do not), the spread keys act, the same tick
               tape runs under every model
"""
import json
import math
import os
import re
import shutil
import subprocess
import sys

CASE, BIN, SRC, WORK = sys.argv[1:5]
SKIP = 77


def run(args, expect=0, **kw):
    p = subprocess.run([BIN] + args, capture_output=True, text=True, timeout=240, **kw)
    if expect is not None and p.returncode != expect:
        sys.exit(f"ticktape {' '.join(args)}: exit {p.returncode}, expected {expect}\n"
                 f"stdout:\n{p.stdout}\nstderr:\n{p.stderr}")
    return p


def fresh(name):
    d = os.path.join(WORK, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    return d


def import_eurusd(work):
    tape = os.path.join(work, "eurusd")
    run(["import", "dukascopy", "--symbol", "EURUSD", "--dir",
         os.path.join(SRC, "tests/data/dukascopy"), "--tape", tape,
         "--from", "2019-02-04", "--to", "2019-02-05", "--no-candles", "--quiet"])
    return tape


def last_json(stdout):
    lines = stdout.rstrip("\n").split("\n")
    return json.loads(lines[-1])


FILES = ["report.html", "summary.json", "trades.csv", "series.h5"]


def same_bytes(a, b, what):
    for f in FILES:
        with open(os.path.join(a, f), "rb") as x, open(os.path.join(b, f), "rb") as y:
            if x.read() != y.read():
                sys.exit(f"{what}: {f} differs between two processes")


def case_determinism():
    work = fresh("determinism")
    tape = import_eurusd(work)
    jobs = [
        ("eurusd", os.path.join(SRC, "scenarios/eurusd-sma-cross.yaml"), ["--set", f"data.tape={tape}"]),
        ("synthetic", os.path.join(SRC, "scenarios/synthetic-sma-cross.yaml"),
         ["--set", "data.synthetic.to=2024-01-04"]),
    ]
    for name, scen, extra in jobs:
        outs = [os.path.join(work, f"{name}-{i}") for i in range(2)]
        # two processes at the same time
        procs = [subprocess.Popen([BIN, "backtest", scen, "--out", o, "--json"] + extra,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for o in outs]
        res = [p.communicate(timeout=240) for p in procs]
        for p, (out, err) in zip(procs, res):
            if p.returncode != 0:
                sys.exit(f"{name}: exit {p.returncode}: {err}")
        fps = [last_json(out)["fingerprint"] for out, _ in res]
        if fps[0] != fps[1] or not re.fullmatch(r"[0-9a-f]{32}", fps[0]):
            sys.exit(f"{name}: fingerprints {fps}")
        same_bytes(outs[0], outs[1], name)
        if last_json(res[0][0])["trades"] < 5:
            sys.exit(f"{name}: too few trades to mean anything")
        print(f"{name}: fingerprint {fps[0]} in both processes, reports identical")
        if name != "eurusd":
            continue
        # trades past metrics.trades_in_memory go to a temporary file: same report bytes,
        # nothing left behind; an unwritable TMPDIR is an error naming it
        tmp = fresh("spill-tmp")
        spilled = os.path.join(work, "eurusd-spilled")
        env = dict(os.environ, TMPDIR=tmp)
        p = run(["backtest", scen, "--out", spilled, "--json", "--set",
                 "metrics.trades_in_memory=5"] + extra, env=env)
        if last_json(p.stdout)["fingerprint"] != fps[0]:
            sys.exit("trades spilled to a file: another fingerprint")
        for f in FILES:  # the report's scenario section shows the one override
            with open(os.path.join(outs[0], f), "rb") as x, open(os.path.join(spilled, f), "rb") as y:
                a, b = x.read(), y.read()
            if f == "report.html":
                b = b.replace(b"\nmetrics.trades_in_memory: 5", b"", 1)
            if a != b:
                sys.exit(f"trades spilled to a file: {f} differs")
        if os.listdir(tmp):
            sys.exit(f"temporary files left behind: {os.listdir(tmp)}")
        env["TMPDIR"] = os.path.join(tmp, "missing")
        p = run(["backtest", scen, "--no-reports", "--set", "metrics.trades_in_memory=5"] + extra,
                expect=1, env=env)
        if "missing" not in p.stderr or "metrics.trades_in_memory" not in p.stderr:
            sys.exit(f"unwritable TMPDIR: unclear error: {p.stderr}")
        print("eurusd: trades spilled past 5 in memory: same reports; a missing TMPDIR is named")


REQUIRED = {"fingerprint": str, "trades": int, "net_pnl": (int, float), "return_pct": (int, float),
            "sharpe": (int, float, type(None)), "max_drawdown_pct": (int, float), "events": int}


def close(a, b, rel=1e-8, what=""):
    if a is None or b is None or (isinstance(b, float) and math.isnan(b)):
        ok = a is None and (b is None or math.isnan(b))
    else:
        ok = abs(a - b) <= rel * max(1.0, abs(b))
    if not ok:
        sys.exit(f"{what}: ticktape {a!r}, pandas {b!r}")


def case_json():
    try:
        import h5py
        import numpy as np
        import pandas as pd
    except ImportError:
        print("pandas/h5py missing")
        sys.exit(SKIP)
    work = fresh("json")
    out = os.path.join(work, "out")
    # 35 days: past the minimum-data rule (30 days, 20 daily returns), so every
    # annualised figure is defined and checked against pandas below
    p = run(["backtest", os.path.join(SRC, "scenarios/synthetic-sma-cross.yaml"),
             "--set", "data.synthetic.to=2024-02-05", "--set", "metrics.risk_free=0.02",
             "--out", out, "--json"])
    j = last_json(p.stdout)
    if j["annualized"] is not True or j["min_days"] != 30 or j["min_returns"] != 20:
        sys.exit(f"35 days: annualized {j['annualized']}, rule {j['min_days']}/{j['min_returns']}")
    # below the rule: null in JSON, n/a in the text with the reason, per-trade figures instead
    short = run(["backtest", os.path.join(SRC, "scenarios/synthetic-sma-cross.yaml"),
                 "--set", "data.synthetic.to=2024-01-05", "--no-reports", "--json"])
    js = last_json(short.stdout)
    for k in ("sharpe", "sortino", "calmar", "cagr_pct", "ann_volatility_pct"):
        if js[k] is not None:
            sys.exit(f"4 days: {k} is {js[k]}, not null")
    if js["annualized"] is not False or js["sqn"] is None or js["trade_sharpe"] is None:
        sys.exit(f"4 days: annualized {js['annualized']}, sqn {js['sqn']}")
    if ("sharpe       n/a   sortino n/a" not in short.stdout or
            "they need at least 30 days and 20 daily returns" not in short.stdout):
        sys.exit("4 days: the text does not say n/a and why:\n" + short.stdout)
    if "nan" in short.stdout.lower().replace("n/a", ""):
        sys.exit("a NaN printed in the text:\n" + short.stdout)
    for k, t in REQUIRED.items():
        if k not in j or not isinstance(j[k], t):
            sys.exit(f"--json: field {k} missing or of the wrong type in {j}")
    with open(os.path.join(out, "summary.json")) as f:
        if json.load(f) != j:
            sys.exit("summary.json differs from the --json line")
    if "report       " + out + "/report.html" not in p.stdout:
        sys.exit("the output does not say where the report is")

    # recompute from the raw series (docs/metrics.md)
    h = h5py.File(os.path.join(out, "series.h5"), "r")
    ts = h["equity/ts"][:]
    eq = h["equity/equity"][:].astype(float)
    pos = h["equity/position"][:]
    expo = h["equity/exposure"][:]
    minor = int(h.attrs["minor_per_unit"])
    if h.attrs["fingerprint"].decode() != j["fingerprint"]:
        sys.exit("series.h5 fingerprint differs")
    tr = pd.read_csv(os.path.join(out, "trades.csv"))
    if len(tr) != j["trades"] or len(h["trades/net"]) != j["trades"]:
        sys.exit(f"trade counts: csv {len(tr)}, h5 {len(h['trades/net'])}, json {j['trades']}")
    if not np.array_equal(np.round(tr["net"].to_numpy() * minor).astype(np.int64), h["trades/net"][:]):
        sys.exit("trades.csv net differs from series.h5")
    b0 = j["initial_balance"] * minor
    close(j["net_pnl"], (eq[-1] - b0) / minor, what="net_pnl")
    close(j["return_pct"], (eq[-1] / b0 - 1) * 100, what="return_pct")
    s = pd.Series(eq, index=pd.to_datetime(ts, unit="ns"))
    closes = s.resample("D").last().dropna()
    prev = closes.shift(1)
    prev.iloc[0] = b0
    r = closes / prev - 1
    ex = r - 0.02 / 252
    close(j["sharpe"], ex.mean() / r.std() * math.sqrt(252), what="sharpe")
    close(j["sortino"], ex.mean() / math.sqrt((np.minimum(ex, 0) ** 2).mean()) * math.sqrt(252),
          what="sortino")
    curve = np.concatenate([[b0], eq])
    peak = np.maximum.accumulate(curve)
    close(j["max_drawdown_pct"], ((peak - curve) / peak).max() * 100, what="max_drawdown_pct")
    net = tr["net"]
    close(j["win_rate_pct"], (net > 0).mean() * 100, what="win_rate_pct")
    close(j["profit_factor"], net[net > 0].sum() / -net[net < 0].sum(), what="profit_factor")
    close(j["commissions"], tr["commission"].sum(), what="commissions")
    inm = ((pos != 0) | (expo != 0))[:-1]
    close(j["time_in_market_pct"], (np.diff(ts) * inm).sum() / (ts[-1] - ts[0]) * 100,
          what="time_in_market_pct")
    years = (ts[-1] - ts[0]) / (365.25 * 86400e9)
    close(j["cagr_pct"], ((eq[-1] / b0) ** (1 / years) - 1) * 100, what="cagr_pct")
    close(j["ann_volatility_pct"], r.std() * math.sqrt(252) * 100, what="ann_volatility_pct")
    close(j["sqn"], math.sqrt(len(net)) * net.mean() / net.std(), what="sqn")
    close(j["trade_stdev"], net.std(), what="trade_stdev")
    print("json fields present; figures agree with pandas:", {k: j[k] for k in REQUIRED})


def case_errors():
    work = fresh("errors")
    base = open(os.path.join(SRC, "scenarios/synthetic-sma-cross.yaml")).read()

    def scenario(text, name="s.yaml"):
        path = os.path.join(work, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    # an unknown key names the file, the line and the key
    bad = base.replace("  latency_ms: 5\n", "  latency_ms: 5\n  latncy: 3\n")
    line = bad.split("\n").index("  latncy: 3") + 1
    path = scenario(bad)
    p = run(["backtest", path], expect=1)
    want = f"{path}:{line}: venue.latncy: unknown key"
    if want not in p.stderr or not p.stderr.startswith("ticktape: error: "):
        sys.exit(f"stderr lacks '{want}':\n{p.stderr}")
    # a bad value
    bad = base.replace("balance: 10000", "balance: lots")
    line = bad.split("\n").index("  balance: lots") + 1
    p = run(["backtest", scenario(bad)], expect=1)
    if f"s.yaml:{line}: account.balance: expected a positive amount" not in p.stderr:
        sys.exit(p.stderr)
    # YAML syntax
    p = run(["backtest", scenario(base + "risk: [unclosed\n")], expect=1)
    if "s.yaml:" not in p.stderr or "YAML" not in p.stderr:
        sys.exit(p.stderr)
    # a bad synthetic key is named with its line
    bad = base.replace("    sigma: 0.08\n", "    sigmaa: 0.08\n")
    line = bad.split("\n").index("    sigmaa: 0.08") + 1
    p = run(["backtest", scenario(bad)], expect=1)
    if f"s.yaml:{line}: data.synthetic.sigmaa:" not in p.stderr:
        sys.exit(p.stderr)
    # --set mistakes are usage errors (exit 2) naming --set and the key
    p = run(["backtest", scenario(base), "--set", "venue.latency_ms=soon"], expect=2)
    if "--set venue.latency_ms: expected a number" not in p.stderr:
        sys.exit(p.stderr)
    run(["backtest", scenario(base), "--set", "novalue"], expect=2)
    # unknown strategy: the run fails (exit 1) and says which ones exist
    p = run(["backtest", scenario(base), "--set", "strategy.name=nope", "--no-reports"], expect=1)
    if "nope" not in p.stderr or "sma_cross" not in p.stderr:
        sys.exit(p.stderr)
    # missing file, missing argument, unknown option, help
    p = run(["backtest", os.path.join(work, "absent.yaml")], expect=1)
    if "absent.yaml: cannot open scenario" not in p.stderr:
        sys.exit(p.stderr)
    run(["backtest"], expect=2)
    run(["backtest", scenario(base), "--frobnicate"], expect=2)
    p = run(["backtest", "--help"], expect=0)
    if "usage: ticktape backtest" not in p.stdout:
        sys.exit(p.stdout)
    p = run(["backtest", "--keys"], expect=0)
    if "venue.latency_ms" not in p.stdout:
        sys.exit(p.stdout)
    print("scenario errors name file, line and key; exit codes 0/1/2 as documented")


def case_demo():
    work = fresh("demo")
    out = os.path.join(work, "demo")
    p = run(["demo", "--out", out])
    if f"report       {out}/report.html" not in p.stdout:
        sys.exit(f"demo does not say where the report is:\n{p.stdout}")
    for f in FILES:
        if not os.path.getsize(os.path.join(out, f)):
            sys.exit(f"demo: {f} missing or empty")
    m = re.search(r"^fingerprint: ([0-9a-f]{32})$", p.stdout.strip().splitlines()[-1])
    if not m:
        sys.exit(p.stdout)
    # the printed scenario, run by `backtest`, is the same run
    yaml = run(["demo", "--scenario"]).stdout
    path = os.path.join(work, "demo.yaml")
    with open(path, "w") as f:
        f.write(yaml)
    short = ["--set", "data.synthetic.to=2024-01-08"]
    a = last_json(run(["demo", "--out", os.path.join(work, "a"), "--json", "--quiet"] + short).stdout)
    b = last_json(run(["backtest", path, "--out", os.path.join(work, "b"), "--json", "--quiet"] + short).stdout)
    if a["fingerprint"] != b["fingerprint"]:
        sys.exit(f"demo {a['fingerprint']} != backtest of its scenario {b['fingerprint']}")
    print(f"demo ok, fingerprint {m.group(1)}; its scenario replays to the same fingerprint")


def case_rejects():
    """Rejected orders are named by reason in the text, the JSON and the report:
    a position limit below the strategy's size (risk gate), and an account too
    small for one lot's margin (venue)."""
    work = fresh("rejects")
    scen = os.path.join(SRC, "scenarios/eurusd-sma-cross.yaml")
    # the unrestricted run: how many orders the strategy sends (its oracle)
    free = last_json(run(["backtest", scen, "--no-reports", "--json", "--quiet"]).stdout)
    out = os.path.join(work, "risk")
    p = run(["backtest", scen, "--out", out, "--json", "--set", "risk.max_position_lots=0.05"])
    j = last_json(p.stdout)
    n = j["rejected_orders"]
    # each signal is an order the gate refuses: as many as the free run's first
    # orders (the reversals it never got into): at least its trade count
    if n < free["trades"] or j["rejected_by"] != {"risk.max_position": n} or j["trades"] != 0:
        sys.exit(f"risk: rejected {n} by {j['rejected_by']}, trades {j['trades']}")
    if j["risk_rejects"] != n:
        sys.exit(f"risk: risk_rejects {j['risk_rejects']} != rejected_orders {n}")
    if f"rejected     {n} orders: risk max_position {n}\n" not in p.stdout:
        sys.exit("risk: the text does not name the rejections:\n" + p.stdout)
    html = open(os.path.join(out, "report.html")).read()
    if (f"<tr><td>risk gate</td><td>max_position</td><td>{n}</td>" not in html or
            "risk.max_position_lots" not in html):
        sys.exit("risk: the report's rejected-orders table is missing or wrong")
    # the venue: 100 USD at 1:1 cannot hold 0.10 lot of EURUSD
    p = run(["backtest", scen, "--no-reports", "--json", "--set", "account.balance=100",
             "--set", "account.leverage=1"])
    j = last_json(p.stdout)
    n = j["rejected_orders"]
    if n != j["orders_sent"] or j["rejected_by"] != {"order.no_money": n} or j["fills"] != 0:
        sys.exit(f"venue: rejected {n} of {j['orders_sent']} sent, by {j['rejected_by']}")
    if f"rejected     {n} orders: venue no_money {n}\n" not in p.stdout:
        sys.exit("venue: the text does not name the rejections:\n" + p.stdout)
    # no rejection: no line, an empty object
    if "rejected " in run(["backtest", scen, "--no-reports"]).stdout or free["rejected_by"] != {}:
        sys.exit("a run without rejections reports some")
    print(f"rejections named: risk max_position, venue no_money ({n})")


def case_tick_momentum():
    """The built-in tick_momentum on the shipped scenario, against Python: the
    SMA of the last 1000 bids (points) from `tape export`; the first trade
    opens on the side and within a second of the first quote whose bid is more
    than 30 points away from it; the run trades."""
    work = fresh("tick_momentum")
    scen = os.path.join(SRC, "scenarios/eurusd-tick-momentum.yaml")
    out = os.path.join(work, "out")
    j = last_json(run(["backtest", scen, "--out", out, "--json", "--quiet"]).stdout)
    if j["trades"] < 10:
        sys.exit(f"tick_momentum made {j['trades']} trades on two days of ticks")
    ex = run(["tape", "export", os.path.join(SRC, "scenarios/data/eurusd-2019-02"), "--symbol",
              "EURUSD", "--from", "2019-02-04", "--to", "2019-02-06", "--time-format",
              "epoch-ns"]).stdout.strip().split("\n")[1:]
    from collections import deque
    win, total, signal = deque(), 0, None
    for line in ex:
        t, bid = line.split(",")[:2]
        b = round(float(bid) * 100000)
        win.append(b)
        total += b
        if len(win) > 1000:
            total -= win.popleft()
        if len(win) == 1000 and abs(b - total / 1000) > 30:
            signal = (int(t), "buy" if b > total / 1000 else "sell")
            break
    first = open(os.path.join(out, "trades.csv")).read().split("\n")[1].split(",")
    import datetime
    opened = datetime.datetime.strptime(first[5], "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp() * 1e9
    if not signal or first[2] != signal[1] or not (signal[0] <= opened <= signal[0] + 1e9):
        sys.exit(f"first trade {first[2]} at {first[5]}, Python's signal {signal}")
    print(f"tick_momentum: {j['trades']} trades; the first ({first[2]}) where Python puts it")


def chromium_dom(chrome, work, html, name, width=1024):
    """The DOM of html after headless Chromium loaded it (scripts run), and
    fail on any console message."""
    profile = os.path.join(work, "profile-" + name)
    p = subprocess.run([chrome, "--headless", "--no-sandbox", "--disable-gpu",
                        "--disable-background-networking", "--disable-component-update",
                        "--no-first-run", f"--user-data-dir={profile}", "--enable-logging=stderr",
                        "--v=0", "--virtual-time-budget=2000", f"--window-size={width},900",
                        "--dump-dom", "file://" + html],
                       capture_output=True, text=True, timeout=120)
    dom, log = p.stdout, p.stderr
    if p.returncode != 0 or "</html>" not in dom:
        sys.exit(f"chromium exit {p.returncode}; stderr:\n{log}")
    # console messages are logged as "...:CONSOLE(line)] ..." lines
    console = [l for l in log.split("\n") if "CONSOLE" in l or "Uncaught" in l]
    if console and name == "report":
        sys.exit("console messages:\n" + "\n".join(console))
    return dom


def parse_report(dom):
    """Shapes per SVG id, rows per table id, texts per SVG id."""
    from html.parser import HTMLParser

    class P(HTMLParser):
        def __init__(self):
            super().__init__()
            self.svg = None
            self.table = None
            self.found = {}      # svg id -> list of (tag, attrs)
            self.texts = {}      # svg id -> list of text pieces
            self.rows = {}       # table id -> number of <tr>
            self.ids = set()
            self.classed = {}    # svg id -> (class of the text element, text)
            self.cls = None

        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            if "id" in a:
                self.ids.add(a["id"])
            if tag == "svg":
                self.svg = a.get("id")
                self.found[self.svg] = []
                self.texts[self.svg] = []
            elif self.svg:
                self.found[self.svg].append((tag, a))
                if tag in ("text", "tspan", "title"):
                    self.cls = a.get("class", tag)
            if tag == "table":
                self.table = a.get("id")
                self.rows[self.table] = 0
            elif tag == "tr" and self.table:
                self.rows[self.table] += 1

        def handle_endtag(self, tag):
            if tag == "svg":
                self.svg = None
            elif tag == "table":
                self.table = None

        def handle_data(self, data):
            if self.svg and data.strip():
                self.texts[self.svg].append(data.strip())
                self.classed.setdefault(self.svg, []).append((self.cls, data.strip()))

    p = P()
    p.feed(dom)
    return p


# A test-only copy of the report with a script that measures the layout:
# every section must fit the page's width (no horizontal scrolling), and the
# trade list its box.
PROBE = """<script>
window.addEventListener('load', function () {
  var out = {page: document.documentElement.scrollWidth, view: window.innerWidth, wide: []};
  document.querySelectorAll('section, .scroll').forEach(function (e) {
    if (e.scrollWidth > e.clientWidth + 1) out.wide.push((e.id || e.className) + ' ' + e.scrollWidth + '>' + e.clientWidth);
  });
  var pre = document.createElement('pre'); pre.id = 'probe';
  pre.textContent = JSON.stringify(out); document.body.appendChild(pre);
});
</script></body>"""


def check_report(chrome, work, out, name, trades, intraday):
    dom = chromium_dom(chrome, work, os.path.join(out, "report.html"), "report")
    p = parse_report(dom)
    for chart in ("equity-chart", "drawdown-chart"):
        lines = [len(a.get("points", "").split()) for t, a in p.found.get(chart, [])
                 if t in ("polyline", "polygon")]
        if not lines or max(lines) < 50:
            sys.exit(f"{name}: {chart}: missing or empty in the DOM ({lines})")
    for i in ("trade-list", "monthly", "fingerprint", "figures", "drawdown-list", "per-symbol",
              "exit-reasons", "pnl-hist", "mae-mfe-chart", "by-hour", "by-weekday", "data"):
        if i not in p.ids:
            sys.exit(f"{name}: #{i} missing from the DOM")
    # the price chart: a line, and one entry and one exit marker per trade
    price = [k for k in p.found if k and k.startswith("price-chart-")]
    if len(price) != 1:
        sys.exit(f"{name}: price charts {price}")
    shapes = p.found[price[0]]
    entries = sum(1 for t, a in shapes if t == "path" and "entry" in a.get("class", ""))
    exits = sum(1 for t, a in shapes if t == "circle" and a.get("class") == "exit")
    line = [len(a["points"].split()) for t, a in shapes if t == "polyline"]
    if entries != trades or exits != trades or not line or line[0] < 100:
        sys.exit(f"{name}: price chart: {entries} entries, {exits} exits for {trades} trades, "
                 f"line {line}")
    # MAE/MFE: a dot per trade in each panel; histogram bars count every trade
    dots = sum(1 for t, a in p.found["mae-mfe-chart"] if t == "circle")
    if dots != 2 * trades:
        sys.exit(f"{name}: MAE/MFE dots {dots}, want {2 * trades}")
    import re as _re
    counted = sum(int(_re.search(r": (\d+) trade", x).group(1))
                  for x in p.texts["pnl-hist"] if _re.search(r": (\d+) trade", x))
    if counted != trades:
        sys.exit(f"{name}: histogram holds {counted} trades, want {trades}")
    hours = [x for c, x in p.classed["by-hour"] if c == "t"]
    counts = [int(x) for c, x in p.classed["by-hour"] if c == "n"]
    days = [x for c, x in p.classed["by-weekday"] if c == "t"]
    if hours != [str(h) for h in range(24)] or sum(counts) != trades:
        sys.exit(f"{name}: by-hour labels {hours}, counts {counts}")
    if days != ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]:
        sys.exit(f"{name}: by-weekday labels {days}")
    if p.rows["per-symbol"] != 2 or p.rows["drawdown-list"] < 2:
        sys.exit(f"{name}: per-symbol rows {p.rows['per-symbol']}, drawdowns {p.rows['drawdown-list']}")
    # time axis: intraday runs show times of day, each date once
    labels = p.texts["equity-chart"]
    times = [x for x in labels if _re.fullmatch(r"\d\d:\d\d", x)]
    dates = [x for x in labels if _re.fullmatch(r"\d{4}-\d\d-\d\d", x)]
    if intraday and (len(times) < 4 or len(dates) != len(set(dates))):
        sys.exit(f"{name}: intraday axis without times or with repeated dates: {labels}")
    if not intraday and (times or len(dates) < 3 or len(dates) != len(set(dates))):
        sys.exit(f"{name}: multi-week axis: {labels}")
    # the layout: nothing wider than the page at 1024 px (a copy with a probe script)
    with open(os.path.join(out, "report.html")) as f:
        html = f.read()
    probe = os.path.join(out, "probe.html")
    with open(probe, "w") as f:
        f.write(html.replace("</body>", PROBE, 1))
    m = _re.search(r'<pre id="probe">(.*?)</pre>', chromium_dom(chrome, work, probe, "probe"))
    if not m:
        sys.exit(f"{name}: the layout probe did not run")
    lay = json.loads(m.group(1).replace("&gt;", ">"))
    if lay["wide"] or lay["page"] > lay["view"]:
        sys.exit(f"{name}: wider than the page: {lay}")
    print(f"{name}: every section rendered; {trades} trades on the price chart; fits {lay['view']} px")
    return p


def case_chromium():
    chrome = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if not chrome:
        print("chromium not installed")
        sys.exit(SKIP)
    work = fresh("chromium")
    # an intraday run on real ticks: n/a figures explained, times on the axes
    out = os.path.join(work, "eurusd")
    j = last_json(run(["backtest", os.path.join(SRC, "scenarios/eurusd-sma-cross.yaml"),
                       "--out", out, "--quiet", "--json"]).stdout)
    p = check_report(chrome, work, out, "eurusd", j["trades"], True)
    if "short-run" not in p.ids:
        sys.exit("eurusd: the note on n/a annualised figures is missing")
    # a month and a half of synthetic data: dates on the axes, the rule met
    out = os.path.join(work, "demo")
    j = last_json(run(["demo", "--out", out, "--quiet", "--json",
                       "--set", "data.synthetic.to=2024-02-15"]).stdout)
    p = check_report(chrome, work, out, "demo", j["trades"], False)
    if "short-run" in p.ids or not j["annualized"]:
        sys.exit("demo: 45 days: the annualised figures should be defined")


def case_shipped():
    work = fresh("shipped")
    for f in sorted(os.listdir(os.path.join(SRC, "scenarios"))):
        if not f.endswith(".yaml"):
            continue
        scen = os.path.join(SRC, "scenarios", f)
        # the longer synthetic examples, shortened to keep the test to seconds
        short = {"synthetic-sma-cross.yaml": "2024-01-04",
                 "synthetic-regime-breakout.yaml": "2024-03-08"}
        extra = ["--set", "data.synthetic.to=" + short[f]] if f in short else []
        p = run(["backtest", scen, "--out", os.path.join(work, f[:-5]), "--json", "--quiet"] + extra)
        j = last_json(p.stdout)
        print(f"{f}: {j['events']} events, {j['trades']} trades, fingerprint {j['fingerprint']}")


MODEL_SCENARIO = """name: models
seed: 5
data:
  tape: {tape}
  symbols: [EURUSD]
account: {{currency: USD, balance: 10000, leverage: 100}}
strategy:
  name: sma_cross
  params: {{tf: M1, fast: 10, slow: 30, qty: 10}}
"""


def model_run(work, scen, name, sets):
    out = os.path.join(work, name)
    args = ["backtest", scen, "--out", out, "--json", "--quiet"]
    for s in sets:
        args += ["--set", s]
    j = last_json(run(args).stdout)
    with open(os.path.join(out, "summary.json")) as f:
        if json.load(f) != j:
            sys.exit(f"{name}: summary.json differs from the --json line")
    with open(os.path.join(out, "report.html")) as f:
        html = f.read()
    return j, html


def case_models():
    work = fresh("models")
    tape = os.path.join(work, "candles")
    run(["import", "dukascopy", "--symbol", "EURUSD", "--dir",
         os.path.join(SRC, "tests/data/dukascopy"), "--tape", tape, "--no-ticks", "--quiet"])
    scen = os.path.join(work, "m.yaml")
    with open(scen, "w") as f:
        f.write(MODEL_SCENARIO.format(tape=tape))
    seen = {}
    for model in ("every_tick", "ohlc_m1", "open_prices"):
        j, html = model_run(work, scen, model, ["data.model=" + model])
        if j.get("model") != model or f'id="bar-model">{model}</b>' not in html:
            sys.exit(f"{model}: the summary or the report does not name the model")
        if "M1 bars as " + model not in j["data"]:
            sys.exit(f"{model}: data line {j['data']!r}")
        # 2,880 candles: 1 + 1 events a bar (open_prices), 4 + 1 (ohlc_m1), more (every_tick)
        want = {"ohlc_m1": 2880 * 5, "open_prices": 2880 * 2}.get(model)
        if want and j["events"] != want:
            sys.exit(f"{model}: {j['events']} events, expected {want}")
        seen[model] = j
    # every model fills at the same opens with no spread: the same trades (the
    # strategy sees the same bars; only the points between differ), but for the
    # end of the run, which closes at the last point: open_prices' is the last open
    trades = {}
    for model in seen:
        with open(os.path.join(work, model, "trades.csv")) as f:
            rows = [r.split(",") for r in f.read().splitlines()[1:]]
        trades[model] = [r[2:8] for r in rows[:-1]] + [rows[-1][2:7]]
    if trades["every_tick"] != trades["ohlc_m1"] or \
            trades["open_prices"][:-1] != trades["ohlc_m1"][:-1] or \
            trades["open_prices"][-1][:4] != trades["ohlc_m1"][-1][:4]:
        sys.exit("the models' trades differ")
    if seen["every_tick"]["net_pnl"] != seen["ohlc_m1"]["net_pnl"]:
        sys.exit("every_tick and ohlc_m1: another P&L")
    # a spread costs each round trip one spread (a buy at the ask)
    j, _ = model_run(work, scen, "spread", ["data.model=ohlc_m1", "data.spread_points=10"])
    cost = round(seen["ohlc_m1"]["net_pnl"] - j["net_pnl"], 2)
    if j["trades"] != seen["ohlc_m1"]["trades"] or cost != round(j["trades"] * 1.0, 2):
        sys.exit(f"spread 10 points: cost {cost} on {j['trades']} trades, expected 1.00 each")
    # a bar model replays the tape's external streams with its points (an
    # imported calendar): every event reaches the run once (no data.from/to: all)
    run(["import", "calendar", os.path.join(SRC, "tests/data/calendar/ff_2019-02-04_06.csv"),
         "--tape", tape])
    exp = [l for l in run(["tape", "export", tape, "--symbol", "calendar"]).stdout.splitlines()[1:]
           if l]
    j, _ = model_run(work, scen, "external", ["data.model=ohlc_m1", "data.external=calendar"])
    if not exp or j["events"] != seen["ohlc_m1"]["events"] + len(exp) or \
            j["fingerprint"] == seen["ohlc_m1"]["fingerprint"]:
        sys.exit(f"ohlc_m1 with the calendar: {j['events']} events, expected "
                 f"{seen['ohlc_m1']['events']} + {len(exp)}")
    # the spread keys need a bar model
    p = run(["backtest", scen, "--set", "data.spread_points=3", "--quiet"], expect=1)
    if "data.spread_points: only with a bar model" not in p.stderr:
        sys.exit(p.stderr)
    # real ticks: the reports do not mention a model
    ticks = import_eurusd(work)
    j, html = model_run(work, scen, "ticks", ["data.tape=" + ticks])
    if "model" in j or "bar-model" in html:
        sys.exit("real ticks: the reports mention a model")
    # the same tick tape under a bar model (bars built from the ticks), spreads from them
    j, _ = model_run(work, scen, "ticks_ohlc", ["data.tape=" + ticks, "data.model=ohlc_m1",
                                                "data.spread=from_bars"])
    if j["model"] != "ohlc_m1" or j["trades"] < 10 or "from the ask bars" not in j["data"]:
        sys.exit(f"ohlc_m1 over ticks: {j}")
    # an MT5 bar export with <SPREAD>: from_bars reads the ask bars it made
    mt5 = os.path.join(work, "mt5.csv")
    lines = ["<DATE>\t<TIME>\t<OPEN>\t<HIGH>\t<LOW>\t<CLOSE>\t<TICKVOL>\t<VOL>\t<SPREAD>"]
    price = 114400
    for i in range(240):
        o = price
        c = price + (7 if (i // 20) % 2 == 0 else -7)
        h, l = max(o, c) + 2, min(o, c) - 2
        lines.append("2019.02.04\t%02d:%02d:00\t%.5f\t%.5f\t%.5f\t%.5f\t10\t0\t%d" % (
            10 + i // 60, i % 60, o / 1e5, h / 1e5, l / 1e5, c / 1e5, 4 + i % 3))
        price = c
    with open(mt5, "w") as f:
        f.write("\n".join(lines) + "\n")
    mtape = os.path.join(work, "mt5tape")
    run(["import", "mt5", mt5, "--symbol", "EURUSD", "--timeframe", "M1", "--tape", mtape])
    j, _ = model_run(work, scen, "mt5", ["data.tape=" + mtape, "data.model=open_prices",
                                         "data.spread=from_bars"])
    j0, _ = model_run(work, scen, "mt5_nospread", ["data.tape=" + mtape,
                                                   "data.model=open_prices"])
    if j["trades"] == 0 or j["trades"] != j0["trades"] or not j["net_pnl"] < j0["net_pnl"]:
        sys.exit(f"MT5 spreads: {j['trades']} trades {j['net_pnl']} against {j0['trades']} "
                 f"{j0['net_pnl']} without")
    print("models:", {m: (j["events"], j["trades"], j["net_pnl"]) for m, j in seen.items()})


{"determinism": case_determinism, "json": case_json, "errors": case_errors, "demo": case_demo,
 "chromium": case_chromium, "shipped": case_shipped, "rejects": case_rejects,
 "tick_momentum": case_tick_momentum, "models": case_models}[CASE]()
