"""Tests of the Python package (python/ticktape) over libticktape, driven from
ctest (tests/python/python.cmake) with Debian's /usr/bin/python3.

usage: python_test.py CASE TICKTAPE SOURCE_DIR WORK_DIR
(the package and the library come from PYTHONPATH and TICKTAPE_LIB)

Cases, each against something the package did not compute itself:
  tape         quotes equal the Dukascopy .bi5 files decoded here with lzma and
               struct (tests/data/dukascopy); M1 bars built from them equal
               Dukascopy's own 1-minute candles; ranges cut where asked; the
               DataFrames' UTC index and float prices
  backtest     every shipped scenario: the fingerprint and the summary equal
               `ticktape backtest --json`; trades equal trades.csv, equity
               equals series.h5 (h5py); overrides; errors carry the command's
               message
  research     sweep DataFrame equals sweep.csv; walk-forward equals
               walkforward.json, both written by the command
  strategy     sma_cross written in Python gives the C built-in's fingerprint;
               every callback is called; an exception in a callback is raised
               by backtest(); reports written from Python equal the command's
  docs         the training example of docs/python.md runs and prints what the
               page shows
  env          the same seed and actions give the same episode (observations,
               rewards, fingerprint); other actions another; rewards add up
               to the equity change; targets become positions; the features
               equal `ticktape features`' rows
"""
import glob
import json
import lzma
import math
import os
import shutil
import struct
import subprocess
import sys

import numpy as np
import pandas as pd

import ticktape

CASE, BIN, SRC, WORK = sys.argv[1:5]
SCEN = os.path.join(SRC, "scenarios")
TAPE = os.path.join(SCEN, "data/eurusd-2019-02")
DUKA = os.path.join(SRC, "tests/data/dukascopy/EURUSD/2019/01")


def fail(msg):
    sys.exit("FAIL: " + msg)


def check(cond, msg):
    if not cond:
        fail(msg)


def run(args, expect=0):
    p = subprocess.run([BIN] + args, capture_output=True, text=True, timeout=280)
    if expect is not None and p.returncode != expect:
        fail(f"ticktape {' '.join(args)}: exit {p.returncode}\n{p.stdout}\n{p.stderr}")
    return p


def fresh(name):
    d = os.path.join(WORK, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    return d


# ---- tape ----

def bi5_ticks():
    """Every tick of the two days, decoded from the .bi5 files (README facts:
    LZMA alone, 20-byte big-endian records, ms since the hour; folder month
    counts from 00)."""
    rows = []
    for day in ("04", "05"):
        for h in range(24):
            path = os.path.join(DUKA, day, "%02dh_ticks.bi5" % h)
            raw = open(path, "rb").read()
            if not raw:
                continue
            data = lzma.decompress(raw, format=lzma.FORMAT_ALONE)
            hour = pd.Timestamp("2019-02-%sT%02d:00:00Z" % (day, h)).value
            for off in range(0, len(data), 20):
                ms, ask, bid, av, bv = struct.unpack(">IIIff", data[off:off + 20])
                rows.append((hour + ms * 1_000_000, bid, ask, bv, av))
    return np.array(rows, dtype=[("ts", "i8"), ("bid", "i8"), ("ask", "i8"), ("bid_vol", "f4"),
                                 ("ask_vol", "f4")])


def bi5_candles(day):
    data = lzma.decompress(open(os.path.join(DUKA, day, "BID_candles_min_1.bi5"), "rb").read(),
                           format=lzma.FORMAT_ALONE)
    start = pd.Timestamp("2019-02-%sT00:00:00Z" % day).value
    out = []
    for off in range(0, len(data), 24):
        s, o, c, lo, hi, v = struct.unpack(">IIIIIf", data[off:off + 24])
        out.append((start + s * 1_000_000_000, o, hi, lo, c, v))
    return out


def case_tape():
    ref = bi5_ticks()
    check(len(ref) == 266219, "the test data should hold 266,219 ticks, got %d" % len(ref))
    t = ticktape.Tape(TAPE)
    q = t.quotes("EURUSD")
    check(len(q) == len(ref), "quotes: %d, bi5 files: %d" % (len(q), len(ref)))
    for f in ("ts", "bid", "ask"):
        bad = np.nonzero(q[f] != ref[f])[0]
        check(len(bad) == 0, "quotes.%s differs from the bi5 files at %s" % (f, bad[:5]))
    for f in ("bid_vol", "ask_vol"):  # float32 bit for bit
        check(np.array_equal(q[f].view("u4"), ref[f].view("u4")), "quotes.%s not bit-exact" % f)
    # a range: [from, to) on the event time
    a, b = "2019-02-04T10:00:00Z", "2019-02-04T11:30:00Z"
    qa, qb = pd.Timestamp(a).value, pd.Timestamp(b).value
    part = t.quotes("EURUSD", a, b)
    want = ref[(ref["ts"] >= qa) & (ref["ts"] < qb)]
    check(np.array_equal(part, want), "quotes in a range differ from the bi5 ticks in it")
    df = t.quotes_df("EURUSD", a, b)
    check(str(df.index.tz) == "UTC" and df.index.dtype.str.endswith("M8[ns]") or
          str(df.index.dtype) == "datetime64[ns, UTC]", "quotes_df index not UTC ns")
    check(df.index[0] == pd.Timestamp(want["ts"][0], tz="UTC"), "quotes_df first time")
    check(np.array_equal(df["bid_points"].to_numpy(), want["bid"]), "quotes_df bid_points")
    check(np.allclose(df["ask"].to_numpy(), want["ask"] / 1e5, rtol=0, atol=1e-12),
          "quotes_df float ask")
    # M1 bid bars of 4 February from the ticks against Dukascopy's own candles
    bars = t.bars("EURUSD", "M1", "bid", "2019-02-04", "2019-02-05")
    cand = [c for c in bi5_candles("04") if c[5] > 0]  # minutes with ticks
    check(len(bars) == len(cand), "M1 bars %d, Dukascopy candles with volume %d" %
          (len(bars), len(cand)))
    for bar, c in zip(bars, cand):
        got = (int(bar["ts"]), int(bar["open"]), int(bar["high"]), int(bar["low"]),
               int(bar["close"]))
        check(got == c[:5], "bar %s != candle %s" % (got, c[:5]))
    bdf = t.bars_df("EURUSD", "H1", "bid", "2019-02-04", "2019-02-05")
    check(len(bdf) == 24 and bdf.index[1] == pd.Timestamp("2019-02-04T01:00Z"), "H1 bars_df")
    check(bdf["high_points"].max() == max(c[2] for c in cand), "H1 high against candles")
    try:
        t.quotes("EURUSD", a, b)
        ticktape.Tape(os.path.join(WORK, "no-such-tape"))
        fail("a missing tape did not raise")
    except ticktape.TicktapeError as e:
        check(e.name == "ENOTFOUND" and "no-such-tape" in str(e), "missing tape: %s" % e)
    try:
        t.bars("EURUSD", "M7")
        fail("a bad timeframe did not raise")
    except ticktape.TicktapeError as e:
        check("M7" in str(e), str(e))
    print("tape: %d quotes equal the bi5 files; %d M1 bars equal the candles" % (len(q), len(bars)))


# ---- backtest ----

def cli_run(scenario, out, extra=()):
    p = run(["backtest", scenario, "--json", "--quiet", "--out", out] + list(extra))
    return json.loads(p.stdout.strip().split("\n")[-1])


def compare_trades(df, csv_path):
    ref = pd.read_csv(csv_path)
    check(len(df) == len(ref), "trades: %d, trades.csv %d" % (len(df), len(ref)))
    if not len(ref):
        return
    for col in ref.columns:
        got, want = df[col], ref[col]
        if col.endswith("_time"):  # the CSV writes milliseconds (bar models' ticks have ns)
            want = pd.to_datetime(want, utc=True)
            ok = (got.reset_index(drop=True).dt.floor("ms") == want).all()
        elif want.dtype.kind == "f":
            ok = np.allclose(got.to_numpy(float), want.to_numpy(float), rtol=0, atol=5e-9)
        else:
            ok = (got.astype(str).reset_index(drop=True) == want.astype(str)).all()
        check(ok, "trades column %s differs from trades.csv" % col)


def compare_equity(r, h5_path):
    """The equity DataFrame against series.h5 (docs/reports.md: /equity/*,
    minor units and volume steps)."""
    import h5py
    df = r.equity
    with h5py.File(h5_path, "r") as f:
        g = f["equity"]
        check(len(df) == len(g["ts"]), "equity points %d, series.h5 %d" % (len(df), len(g["ts"])))
        check(np.array_equal(df.index.asi8, g["ts"][()].astype("i8")), "equity times")
        for col in ("balance", "equity", "margin", "exposure"):
            check(np.array_equal(np.round(df[col].to_numpy() * r.minor).astype("i8"),
                                 g[col][()].astype("i8")), "equity column %s" % col)
        check(np.array_equal(df["position"].to_numpy(), g["position"][()]), "equity position")


def case_backtest():
    scenarios = sorted(glob.glob(os.path.join(SCEN, "*.yaml")))
    check(len(scenarios) >= 5, "shipped scenarios missing")
    for path in scenarios:
        name = os.path.basename(path)[:-5]
        out = fresh("bt-" + name)
        ref = cli_run(path, out)
        r = ticktape.backtest(path)
        check(r.fingerprint == ref["fingerprint"], "%s: fingerprint %s, command %s" %
              (name, r.fingerprint, ref["fingerprint"]))
        check(r.summary == ref, "%s: the summary differs from --json" % name)
        compare_trades(r.trades, os.path.join(out, "trades.csv"))
        if os.path.exists(os.path.join(out, "series.h5")):
            compare_equity(r, os.path.join(out, "series.h5"))
        check(len(r.orders) > 0 or r.summary["trades"] == 0, "%s: no order events" % name)
        print("backtest %s: %s, %d trades" % (name, r.fingerprint, len(r.trades)))
    # overrides: keywords, set=, and a dict scenario
    sma = os.path.join(SCEN, "eurusd-sma-cross.yaml")
    ref = cli_run(sma, fresh("bt-set"), ["--set", "strategy.params.fast=5", "--set",
                                         "venue.latency_ms=20"])
    r1 = ticktape.backtest(sma, strategy__params__fast=5, venue__latency_ms=20)
    r2 = ticktape.backtest(sma, set=["strategy.params.fast=5", "venue.latency_ms=20"])
    check(r1.fingerprint == ref["fingerprint"] == r2.fingerprint, "overrides")
    doc = {"name": "dict", "seed": 3,
           "data": {"synthetic": {"model": "gbm", "symbols": ["EURUSD"], "from": "2024-01-01",
                                  "to": "2024-01-02"}},
           "strategy": {"name": "sma_cross", "params": {"fast": 5, "slow": 20}}}
    ytext = ("name: dict\nseed: 3\ndata:\n  synthetic: {model: gbm, symbols: [EURUSD], "
             "from: 2024-01-01, to: 2024-01-02}\n"
             "strategy:\n  name: sma_cross\n  params: {fast: 5, slow: 20}\n")
    yfile = os.path.join(WORK, "dict.yaml")
    open(yfile, "w").write(ytext)
    ref = cli_run(yfile, fresh("bt-dict"))
    check(ticktape.backtest(doc).fingerprint == ref["fingerprint"], "a dict scenario")
    check(ticktape.backtest(ytext).fingerprint == ref["fingerprint"], "YAML text")
    # errors: the command's message
    p = run(["backtest", sma, "--set", "venue.latency_ms=fast", "--quiet"], expect=None)
    check(p.returncode != 0, "a bad override passed the command")
    try:
        ticktape.backtest(sma, venue__latency_ms="fast")
        fail("a bad override did not raise")
    except ticktape.TicktapeError as e:
        check(e.name == "EINVAL" and str(e) in p.stderr, "message %r not in %r" % (str(e),
                                                                                    p.stderr))
    bad = os.path.join(WORK, "bad.yaml")
    open(bad, "w").write(ytext.replace("fast: 5", "fast: 50"))
    p = run(["backtest", bad, "--quiet"], expect=None)
    try:
        ticktape.backtest(bad)
        fail("fast >= slow did not raise")
    except ticktape.TicktapeError as e:
        check(str(e) in p.stderr and "bad.yaml" in str(e), "%r vs %r" % (str(e), p.stderr))


# ---- research ----

def case_research():
    path = os.path.join(SCEN, "sweep-eurusd-sma.yaml")
    out = fresh("sweep")
    run(["sweep", path, "--jobs", "2", "--quiet", "--out", out])
    ref = pd.read_csv(os.path.join(out, "sweep.csv"))
    df = ticktape.sweep(path, jobs=2)
    check(list(df.columns) == [c for c in ref.columns if c != "error"] or
          list(df.columns) == list(ref.columns), "sweep columns %s vs %s" %
          (list(df.columns), list(ref.columns)))
    check(len(df) == len(ref) == 64, "sweep rows")
    for col in df.columns:
        a, b = df[col], ref[col]
        if b.dtype.kind == "f":
            check(np.allclose(a.to_numpy(float), b.to_numpy(float), rtol=1e-11, atol=1e-12,
                              equal_nan=True), "sweep column %s" % col)
        else:
            check((a.astype(str) == b.astype(str)).all(), "sweep column %s" % col)
    path = os.path.join(SCEN, "walkforward-eurusd-sma.yaml")
    out = fresh("wf")
    run(["walkforward", path, "--jobs", "2", "--quiet", "--out", out])
    ref = json.load(open(os.path.join(out, "walkforward.json")))
    wf = ticktape.walkforward(path, jobs=2)
    check(wf.attrs["fingerprint"] == ref["fingerprint"], "walk-forward fingerprint")
    check(wf.attrs["oos"] == ref["oos"], "walk-forward oos figures")
    check(len(wf) == len(ref["folds"]), "folds")
    for (_, row), f in zip(wf.iterrows(), ref["folds"]):
        check(row["test_from"] == pd.Timestamp(f["test_from"]), "fold window")
        if f["params"] is not None:
            check(row["oos.fingerprint"] == f["out_of_sample"]["fingerprint"], "fold oos fp")
            for k, v in f["params"].items():
                check(str(row["param." + k]) == v, "fold params")
    print("research: sweep of %d runs and %d folds equal the command's" % (len(df), len(wf)))


# ---- strategies ----

class PySmaCross(ticktape.Strategy):
    """core/strategies.c's sma_cross, line for line."""
    bars = ["M1"]
    params = {"tf": "M1", "fast": 10, "slow": 30, "qty": 10}

    def on_start(self, ctx):
        self.sym = ctx.symbols[0]
        self.closes, self.last, self.inflight = [], 0, 0
        self.calls = {"start": 1, "bar": 0, "fill": 0, "order": 0, "stop": 0}

    def on_bar(self, ctx, bar):
        self.calls["bar"] += 1
        self.closes.append(float(bar.close))
        if len(self.closes) < self.slow:
            return
        f = sum(self.closes[-self.fast:]) / self.fast
        s = sum(self.closes[-self.slow:]) / self.slow
        d = 1 if f > s else -1 if f < s else 0
        if d and self.last and d != self.last and not self.inflight:
            net = ctx.position(self.sym)
            cur = 1 if net > 0 else -1 if net < 0 else 0
            if cur != d:
                if cur:
                    self.inflight += ctx.close(self.sym)
                if ctx.market(self.sym, d * self.qty):
                    self.inflight += 1
        if d:
            self.last = d

    def on_fill(self, ctx, fill):
        self.calls["fill"] += 1

    def on_order(self, ctx, o):
        self.calls["order"] += 1
        if o.client_id and o.status in ("filled", "cancelled", "rejected", "expired",
                                        "failed") and self.inflight > 0:
            self.inflight -= 1

    def on_stop(self, ctx):
        self.calls["stop"] += 1
        self.final = ctx.account()


class Boom(ticktape.Strategy):
    def on_quote(self, ctx, q):
        if ctx.now > pd.Timestamp("2019-02-04T12:00Z").value:
            raise RuntimeError("boom at %d" % q.ts)


def case_strategy():
    sma = os.path.join(SCEN, "eurusd-sma-cross.yaml")
    out = fresh("strategy-ref")
    ref = cli_run(sma, out)
    s = PySmaCross()
    r = ticktape.backtest(sma, s)
    check(r.fingerprint == ref["fingerprint"], "Python sma_cross %s, C %s" %
          (r.fingerprint, ref["fingerprint"]))
    check(r.summary["trades"] == ref["trades"], "trades")
    check(s.calls["bar"] > 2000 and s.calls["fill"] > 0 and s.calls["stop"] == 1,
          "callbacks %s" % s.calls)
    check(s.calls["order"] >= 3 * s.calls["fill"] // 2, "order events %s" % s.calls)
    check(s.final["equity"] == round(ref["final_equity"] * 100), "account at stop")
    r.write_reports(fresh("strategy-py"))
    got = open(os.path.join(WORK, "strategy-py", "trades.csv")).read()
    check(got == open(os.path.join(out, "trades.csv")).read(), "trades.csv from Python")
    # parameters come from the scenario (and --set)
    s2 = PySmaCross()
    ticktape.backtest(sma, s2, strategy__params__fast=7)
    check(s2.fast == 7 and s2.slow == 30, "params %d %d" % (s2.fast, s2.slow))
    # an unknown parameter fails as for a C strategy
    try:
        ticktape.backtest(sma, Boom())
        fail("unread parameters passed")
    except ticktape.TicktapeError as e:
        check("unknown parameter" in str(e), str(e))
    text = open(sma).read().replace("params: {tf: M1, fast: 10, slow: 30, qty: 10}", "params: {}")
    text = text.replace("tape: data/", "tape: %s/data/" % SCEN)  # text resolves against the cwd
    try:
        ticktape.backtest(text)  # sanity: the text runs
        ticktape.backtest(text, Boom())
        fail("the exception was not raised")
    except RuntimeError as e:
        check(str(e).startswith("boom at"), str(e))
    print("strategy: Python sma_cross = C sma_cross (%s), %s" % (r.fingerprint, s.calls))


# ---- env ----

def case_env():
    sma = os.path.join(SCEN, "eurusd-sma-cross.yaml")
    # no loss limits: random actions lose, and a halted account holds no target
    env = ticktape.Env(sma, timeframe="M5", features=["ret_1", "rsi_14", "atr_14_rel"],
                       max_position=0.5, risk__daily_loss_pct=99, risk__max_drawdown_pct=99)
    check(env.columns == ["ret_1", "rsi_14", "atr_14_rel", "position"], str(env.columns))

    def episode(seed, actions_seed):
        obs, info = env.reset(seed=seed)
        rng = np.random.default_rng(actions_seed)
        rows, rewards, infos = [obs], [], [info]
        while True:
            a = float(np.round(rng.uniform(-0.5, 0.5), 2))
            obs, rew, term, trunc, info = env.step(a)
            rows.append(obs)
            rewards.append(rew)
            infos.append((a, info))
            if term or trunc:
                return np.array(rows), np.array(rewards), infos

    a = episode(7, 1)
    b = episode(7, 1)
    c = episode(7, 2)
    check(np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]), "same seed+actions")
    check(a[2][-1][1]["fingerprint"] == b[2][-1][1]["fingerprint"] != "", "episode fingerprint")
    check(a[2][-1][1]["fingerprint"] != c[2][-1][1]["fingerprint"], "other actions, same fp")
    check(not np.array_equal(a[1], c[1]), "other actions, same rewards")
    final = a[2][-1][1]["equity"]
    check(abs(a[1].sum() - (final - 10000.0)) < 1e-6, "rewards add up to %f" % (final - 10000))
    # the target becomes the position one step later (the orders go at the next tick)
    held = sum(1 for (act, info) in a[2][1:-1] if abs(info["position"] - act) < 1e-9)
    check(held >= 0.9 * (len(a[2]) - 2), "targets reached %d of %d" % (held, len(a[2]) - 2))
    # features equal the command's rows for the same bars
    out = os.path.join(WORK, "features.csv")
    fdoc = os.path.join(WORK, "env-features.yaml")
    open(fdoc, "w").write(open(sma).read().replace("data/eurusd", os.path.join(SCEN, "data/eurusd")) +
                          "ml:\n  timeframe: M5\n  features: [ret_1, rsi_14, atr_14_rel]\n"
                          "  label: {kind: sign, horizon: 1}\n")
    p = run(["features", fdoc, "--out", out], expect=None)
    if p.returncode == 0 and os.path.exists(out):
        ref = pd.read_csv(out)
        cols = ["ret_1", "rsi_14", "atr_14_rel"]
        got = a[0][:, :3]
        want = ref[cols].to_numpy()[: len(got)]
        want = np.where(np.isnan(want), 0.0, want)
        check(np.allclose(got[: len(want)], want, rtol=1e-9, atol=1e-12),
              "env features differ from `ticktape features`")
    else:
        fail("ticktape features: %s" % p.stderr)
    # a synthetic scenario: the seed changes the market
    syn = os.path.join(SCEN, "synthetic-sma-cross.yaml")
    e2 = ticktape.Env(syn, timeframe="M15", features=["ret_1"])

    def first(seed, n=20):  # the first bar has no return yet: look at n
        rows = [e2.reset(seed=seed)[0]]
        rows += [e2.step(0.0)[0] for _ in range(n)]
        return np.array(rows)

    o1, o2, o3 = first(1), first(2), first(1)
    check(np.array_equal(o1, o3) and not np.array_equal(o1, o2), "synthetic seeds")
    try:
        ticktape.Env(sma, features=["no_such"])
        fail("a bad feature passed")
    except ticktape.TicktapeError as e:
        check("no_such" in str(e), str(e))
    print("env: %d steps, deterministic, reward %.2f" % (len(a[1]), a[1].sum()))


def case_docs():
    """The training example of docs/python.md, run as written."""
    text = open(os.path.join(SRC, "docs/python.md")).read()
    block = text.split("### Training a policy", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    p = subprocess.run([sys.executable, "-c", block], cwd=SRC, capture_output=True, text=True,
                       timeout=280)
    check(p.returncode == 0, "the example failed:\n%s\n%s" % (p.stdout, p.stderr))
    last = p.stdout.strip().split("\n")[-1]
    check(last.startswith("trained policy:"), "the example printed %r" % p.stdout)
    check(last in text, "docs/python.md shows another result than %r" % last)
    print("docs: " + last)


CASES = {"docs": case_docs, "tape": case_tape, "backtest": case_backtest, "research": case_research,
         "strategy": case_strategy, "env": case_env}

if __name__ == "__main__":
    os.makedirs(WORK, exist_ok=True)
    CASES[CASE]()
