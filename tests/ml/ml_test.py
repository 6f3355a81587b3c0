#!/usr/bin/python3
"""The machine-learning commands end to end (docs/ml.md).

Usage: ml_test.py CASE TICKTAPE SOURCE_DIR WORK_DIR

Cases:
  train        `ticktape train` twice: byte-identical model and sidecar; another
               seed gives other bytes; the sidecar names the features, label,
               window, versions, and a fingerprint that follows the data
  errors       ml: section errors with file, line and key; a model whose
               features are not the scenario's is refused, naming the column;
               a sidecar of another model is refused
  nats         training.started|progress|completed|failed.{run_id} on a real
               nats-server, read with the NATS text protocol
  parity       python3-xgboost loads ticktape's model and predicts, on the
               exported rows, the same float32 values as ticktape's `prediction`
               column, bit for bit; the xgb strategy's signals in a backtest carry
               the same predictions (tests/sim/test_ml.c checks that in C too)
  python_model a model trained by python3-xgboost on the exported features (no
               sidecar) is loaded, predicts like Python bit for bit, and trades
  paper        the xgb strategy in a paper session on NATS publishes
               TradingSignal JSON with its ModelPrediction on signals.EURUSD, whose
               features are the row of the bar (the one published just before on
               features.EURUSD.1s), from which python3-xgboost predicts the
               signal's accuracy_score bit for bit; the journal replays to the
               same fingerprint
  walkforward  `ticktape walkforward` with an ml: section: a model per fold,
               trained on rows whose labels end before the test window, the
               same fold table at --jobs 1 and 2, models byte-identical, gates
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time

import h5py
import numpy as np

CASE, TT, SRC, WORK = sys.argv[1:5]
TAPE = os.path.join(SRC, "scenarios", "data", "eurusd-2017h1")
shutil.rmtree(WORK, ignore_errors=True)
os.makedirs(WORK)


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def run(args, expect=0):
    p = subprocess.run([TT] + args, capture_output=True, text=True, timeout=600, cwd=WORK)
    if expect is not None and p.returncode != expect:
        fail("ticktape %s: exit %d, expected %d\n%s%s" % (" ".join(args), p.returncode, expect,
                                                         p.stdout, p.stderr))
    return p


def scenario(name, ml="", extra="", frm="2017-01-02", to="2017-04-01", tf="M15"):
    text = """name: %s
seed: 11
data:
  tape: %s
  symbols: [EURUSD]
  from: %s
  to: %s
account: {currency: USD, balance: 10000, leverage: 100}
venue: {latency_ms: 5, commission: {per_lot: 7}}
ml:
  timeframe: %s
  label: {kind: sign, horizon: 8, dead_zone: 0.0002}
  xgboost: {objective: "binary:logistic", max_depth: 3, eta: 0.2, rounds: 30, subsample: 0.8}
%s%s""" % (name, TAPE, frm, to, tf, ml, extra)
    path = os.path.join(WORK, name + ".yaml")
    with open(path, "w") as f:
        f.write(text)
    return path


def read(path, mode="r"):
    with open(path, mode) as f:
        return f.read()


def h5_rows(path):
    with h5py.File(path, "r") as h:
        names = h["features"].attrs["names"]
        names = names.decode() if isinstance(names, bytes) else str(names)
        pred = h["prediction"][:] if "prediction" in h else None
        return h["features"][:], names.split(","), h["time"][:], pred


# ---- NATS, with the text protocol ----

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


class Subscriber:
    """Collects (subject, payload) of every message on `subject` (wildcards)."""

    def __init__(self, port, subject, *more):
        self.msgs = []
        self.s = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.s.recv(4096)
        subs = b"".join(b"SUB " + x.encode() + b" %d\r\n" % (i + 1)
                        for i, x in enumerate((subject,) + more))
        self.s.sendall(b'CONNECT {"verbose":false}\r\n' + subs + b"PING\r\n")
        buf = b""
        while b"PONG" not in buf:
            buf += self.s.recv(4096)
        self.stop = False
        self.t = threading.Thread(target=self.loop, daemon=True)
        self.t.start()

    def loop(self):
        buf = b""
        self.s.settimeout(0.2)
        while not self.stop:
            try:
                chunk = self.s.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            if not chunk:
                return
            buf += chunk
            while True:
                i = buf.find(b"\r\n")
                if i < 0:
                    break
                line = buf[:i].decode()
                if line.startswith("MSG "):
                    parts = line.split()
                    n = int(parts[-1])
                    if len(buf) < i + 2 + n + 2:
                        break
                    self.msgs.append((parts[1], buf[i + 2: i + 2 + n]))
                    buf = buf[i + 2 + n + 2:]
                elif line.startswith("PING"):
                    self.s.sendall(b"PONG\r\n")
                    buf = buf[i + 2:]
                else:
                    buf = buf[i + 2:]

    def close(self):
        self.stop = True
        self.t.join(timeout=5)
        self.s.close()


# ---- cases ----

def case_train():
    scen = scenario("train")
    run(["train", scen, "--model", "a.json"])
    run(["train", scen, "--model", "b.json"])
    for ext in ("", ".meta"):
        if read(os.path.join(WORK, "a.json" + ext), "rb") != read(os.path.join(WORK, "b.json" + ext), "rb"):
            fail("two trainings differ in a.json%s" % ext)
    meta = json.loads(read(os.path.join(WORK, "a.json.meta")))
    model = json.loads(read(os.path.join(WORK, "a.json")))
    if model["learner"]["objective"]["name"] != "binary:logistic":
        fail("not an XGBoost JSON model of the objective")
    if meta["features"] != model["learner"]["feature_names"] or len(meta["features"]) < 100:
        fail("sidecar features differ from the model's feature names")
    for k in ("ticktape", "xgboost", "data_fingerprint", "window", "label", "model_xxh3"):
        if k not in meta:
            fail("sidecar without " + k)
    if meta["label"]["kind"] != "sign" or meta["label"]["horizon"] != 8 or meta["timeframe"] != "M15":
        fail("sidecar label/timeframe wrong: %r" % meta["label"])
    if not (meta["window"]["from"] >= "2017-01-02" and meta["window"]["labels_to"] <= "2017-04-01"):
        fail("training window outside the data: %r" % meta["window"])
    # another seed: other bytes (subsample draws); other data: another fingerprint
    run(["train", scen, "--model", "c.json", "--set", "seed=12"])
    if read(os.path.join(WORK, "c.json"), "rb") == read(os.path.join(WORK, "a.json"), "rb"):
        fail("another seed gave the same model")
    run(["train", scen, "--model", "d.json", "--set", "data.to=2017-03-20"])
    if json.loads(read(os.path.join(WORK, "d.json.meta")))["data_fingerprint"] == meta["data_fingerprint"]:
        fail("other data, same fingerprint")
    print("train: byte-identical twice; seed and data change the model and fingerprint")


def case_errors():
    bad = scenario("bad", ml="  featurez: default\n")
    p = run(["features", bad, "--out", "x.csv"], expect=1)
    if not re.search(r"bad\.yaml:\d+: ml\.featurez: unknown key", p.stderr):
        fail("unknown ml key not named with file and line: " + p.stderr)
    bad = scenario("bad2", ml="  features: [rsi_14, no_such]\n")
    p = run(["features", bad, "--out", "x.csv"], expect=1)
    if not re.search(r"bad2\.yaml:\d+: ml\.features: .*'no_such'", p.stderr):
        fail("unknown feature not named: " + p.stderr)
    p = run(["train", scenario("bad3"), "--model", "x.json", "--set", "ml.xgboost.nthread=4"],
            expect=1)
    if "one thread" not in p.stderr:
        fail("nthread not refused: " + p.stderr)
    # a model whose features are not the scenario's
    scen = scenario("small", ml="  features: [rsi_14, ret_1, vol_20, h1_rsi_14]\n")
    run(["train", scen, "--model", "small.json"])
    other = scenario("other", ml="  features: [rsi_14, ret_2, vol_20, h1_rsi_14]\n")
    p = run(["features", other, "--out", "o.csv", "--model", "small.json"], expect=1)
    if "features do not match" not in p.stderr or "'ret_1'" not in p.stderr or "'ret_2'" not in p.stderr:
        fail("feature mismatch not explained: " + p.stderr)
    p = run(["features", scenario("tf", ml="  features: [rsi_14, ret_1, vol_20, h1_rsi_14]\n", tf="M5"),
             "--out", "o.csv", "--model", "small.json"], expect=1)
    if "trained on M15 bars" not in p.stderr:
        fail("timeframe mismatch not explained: " + p.stderr)
    # a sidecar of another model
    run(["train", scenario("big"), "--model", "big.json"])
    shutil.copy(os.path.join(WORK, "big.json.meta"), os.path.join(WORK, "small.json.meta"))
    p = run(["features", scen, "--out", "o.csv", "--model", "small.json"], expect=1)
    if "belongs to another model" not in p.stderr:
        fail("foreign sidecar accepted: " + p.stderr)
    # the xgb strategy refuses it too, naming the model
    p = run(["backtest", scenario("bt", extra="strategy: {name: xgb, params: {model: small.json}}\n"),
             "--no-reports"], expect=1)
    if "small.json.meta: belongs to another model" not in p.stderr:
        fail("backtest accepted a foreign sidecar: " + p.stderr)
    print("errors: keys with file and line, feature and timeframe mismatches, foreign sidecar")


def case_nats():
    port = free_port()
    srv = start_nats(port)
    try:
        sub = Subscriber(port, "training.>")
        scen = scenario("nats")
        run(["train", scen, "--model", "n.json", "--nats", "nats://127.0.0.1:%d" % port,
             "--run-id", "run42"])
        run(["train", scen, "--model", "m.json", "--nats", "nats://127.0.0.1:%d" % port,
             "--run-id", "run43", "--set", "ml.xgboost.max_depth=-3"], expect=1)
        time.sleep(0.5)
        sub.close()
    finally:
        srv.terminate()
        srv.wait(timeout=10)
    subjects = [s for s, _ in sub.msgs]
    for want in ("training.started.run42", "training.progress.run42", "training.completed.run42",
                 "training.failed.run43"):
        if want not in subjects:
            fail("no %s (got %s)" % (want, subjects))
    done = json.loads(dict(sub.msgs)["training.completed.run42"])
    meta = json.loads(read(os.path.join(WORK, "n.json.meta")))
    if done["data_fingerprint"] != meta["data_fingerprint"] or done["rows"] != meta["rows"]["used"]:
        fail("completed message disagrees with the sidecar: %r" % done)
    last = [json.loads(p) for s, p in sub.msgs if s == "training.progress.run42"][-1]
    if last["round"] != last["rounds"] or last["rounds"] != 30:
        fail("progress does not reach the last round: %r" % last)
    failed = json.loads(dict(sub.msgs)["training.failed.run43"])
    if "max_depth" not in failed["error"]:
        fail("failed message without the reason: %r" % failed)
    print("nats: %d messages, started/progress/completed and failed" % len(sub.msgs))


def case_parity():
    import xgboost as xgb
    scen = scenario("parity", frm="2017-01-02", to="2017-07-01")
    run(["train", scen, "--model", "p.json", "--set", "data.to=2017-04-01"])
    run(["features", scen, "--out", "rows.h5", "--model", "p.json"])
    x, names, _, pred = h5_rows(os.path.join(WORK, "rows.h5"))
    b = xgb.Booster(model_file=os.path.join(WORK, "p.json"))
    py = b.predict(xgb.DMatrix(x, missing=np.nan, feature_names=names))
    if py.dtype != np.float32 or len(py) != len(pred):
        fail("shapes differ")
    same = py.view(np.uint32) == pred.view(np.uint32)
    if not same.all():
        i = int(np.flatnonzero(~same)[0])
        fail("row %d: python %r, ticktape %r" % (i, py[i], pred[i]))
    # the CSV export reads back to the same float32 values
    run(["features", scen, "--out", "rows.csv", "--model", "p.json", "--set", "data.to=2017-02-01"])
    import pandas as pd
    csv = pd.read_csv(os.path.join(WORK, "rows.csv"))
    pc = csv["prediction"].to_numpy(np.float32)
    if not (pc.view(np.uint32) == pred[: len(pc)].view(np.uint32)).all():
        fail("CSV predictions differ from HDF5")
    pyc = b.predict(xgb.DMatrix(csv[names].to_numpy(), missing=np.nan, feature_names=names))
    if not (pyc.view(np.uint32) == pc.view(np.uint32)).all():
        fail("python on the CSV rows differs")
    print("parity: %d rows (HDF5) and %d rows (CSV), python3-xgboost = ticktape bit for bit"
          % (len(pred), len(pc)))


def case_python_model():
    import xgboost as xgb
    scen = scenario("pym", frm="2017-01-02", to="2017-07-01")
    run(["features", scen, "--out", "train.h5", "--set", "data.to=2017-04-01"])
    with h5py.File(os.path.join(WORK, "train.h5"), "r") as h:
        x, y = h["features"][:], h["label"][:]
        names = h["features"].attrs["names"]
        names = (names.decode() if isinstance(names, bytes) else str(names)).split(",")
    keep = ~np.isnan(y) & (y != 0)
    d = xgb.DMatrix(x[keep], label=(y[keep] > 0).astype(np.float32), missing=np.nan,
                    feature_names=names)
    bst = xgb.train({"objective": "binary:logistic", "max_depth": 4, "eta": 0.1, "nthread": 1,
                     "seed": 3}, d, num_boost_round=40)
    bst.save_model(os.path.join(WORK, "py.json"))
    # ticktape's predictions with Python's model, on later rows
    run(["features", scen, "--out", "test.h5", "--model", "py.json", "--set", "data.from=2017-04-01"])
    xt, _, _, pred = h5_rows(os.path.join(WORK, "test.h5"))
    py = bst.predict(xgb.DMatrix(xt, missing=np.nan, feature_names=names))
    if not (py.view(np.uint32) == pred.view(np.uint32)).all():
        fail("ticktape's predictions with the Python model differ from Python's")
    # it trades (no sidecar: tf given as a parameter)
    bt = scenario("pybt", frm="2017-04-01", to="2017-07-01",
                  extra="strategy: {name: xgb, params: {model: py.json, tf: M15, long_above: 0.55, "
                        "short_below: 0.45}}\n")
    j = json.loads(run(["backtest", bt, "--json", "--quiet", "--no-reports"]).stdout.strip().splitlines()[-1])
    if j["trades"] < 10:
        fail("the Python model hardly traded: %r" % j["trades"])
    p = run(["backtest", scenario("pybt2", frm="2017-04-01", to="2017-07-01",
                                  extra="strategy: {name: xgb, params: {model: py.json}}\n"),
             "--no-reports"], expect=1)
    if "parameter tf" not in p.stderr:
        fail("no sidecar and no tf: not explained: " + p.stderr)
    print("python_model: %d rows bit for bit; %d trades, net %s" % (len(pred), j["trades"], j["net_pnl"]))


def case_paper():
    # bars follow arrival time in a paper session: a model on S1 bars gets a
    # signal a second while the ticks arrive at 200 a second
    scen = scenario("paper", tf="S1", frm="2017-01-03", to="2017-01-05",
                    extra="strategy: {name: xgb, params: {model: s1.json, long_above: 0.5, "
                          "short_below: 0.5, qty: 1}}\n")
    run(["train", scen, "--model", "s1.json", "--set", "ml.label.horizon=4"])
    model_id = json.loads(read(os.path.join(WORK, "s1.json.meta")))["model_xxh3"]
    port = free_port()
    srv = start_nats(port)
    url = "nats://127.0.0.1:%d" % port
    try:
        sub = Subscriber(port, "signals.>", "features.>")
        journal = os.path.join(WORK, "journal")
        err = open(os.path.join(WORK, "paper.err"), "w")
        p = subprocess.Popen([TT, "paper", scen, "--nats", url, "--publish-json", "--journal",
                              journal, "--json", "--out", os.path.join(WORK, "paper-out")],
                             stdout=subprocess.PIPE, stderr=err, text=True, cwd=WORK)
        for _ in range(500):
            if "listening on" in read(os.path.join(WORK, "paper.err")):
                break
            time.sleep(0.02)
        run(["publish", TAPE, "--nats", url, "--rate", "200", "--from", "2017-01-03T08:00:00Z",
             "--limit", "1200"])
        time.sleep(1.5)
        p.send_signal(2)
        out, _ = p.communicate(timeout=60)
        time.sleep(0.3)
        sub.close()
    finally:
        srv.terminate()
        srv.wait(timeout=10)
    if p.returncode != 0:
        fail("paper exited %d: %s" % (p.returncode, read(os.path.join(WORK, "paper.err"))))
    summary = json.loads(out.strip().splitlines()[-1])
    sigs = [json.loads(m) for s, m in sub.msgs if s == "signals.EURUSD"]
    if len(sigs) < 4:
        fail("only %d signals published" % len(sigs))
    for g in sigs:
        ml = g.get("ml_data")
        if not ml or ml["model_id"] != model_id or not (0 <= ml["accuracy_score"] <= 1):
            fail("a signal without the model's prediction: %r" % g)
        if g["type"] not in ("BUY", "SELL", "CLOSE") or g["symbol"] != "EURUSD":
            fail("a malformed TradingSignal: %r" % g)
    rows = check_signal_rows(sub.msgs)
    r = run(["replay", journal, "--scenario", scen, "--json", "--no-reports"])
    rs = json.loads(r.stdout.strip().splitlines()[-1])
    if rs["fingerprint"] != summary["fingerprint"]:
        fail("replay fingerprint %s, paper %s" % (rs["fingerprint"], summary["fingerprint"]))
    print("paper: %d TradingSignals with ModelPrediction (model %s) carrying their rows, %d rows "
          "on features.EURUSD.1s, python3-xgboost agrees bit for bit; %d trades; replay %s"
          % (len(sigs), model_id, rows, summary["trades"], rs["fingerprint"]))


def check_signal_rows(msgs):
    """Each signal's ModelPrediction.features is the row published just before
    it on features.EURUSD.1s, and python3-xgboost predicts accuracy_score from
    it bit for bit."""
    import xgboost as xgb
    booster = xgb.Booster(model_file=os.path.join(WORK, "s1.json"))
    last, rows, checked = None, 0, 0
    for subj, data in msgs:
        m = json.loads(data)
        if subj == "features.EURUSD.1s":
            if m["timeframe"] != "S1" or m["symbol"] != "EURUSD" or len(m["features"]) != 120:
                fail("a malformed feature row: %r" % m)
            last, rows = m, rows + 1
            continue
        if subj != "signals.EURUSD":
            continue
        feats = m["ml_data"]["features"]
        if last is None or len(feats) != 120:
            fail("a signal without its row (%d features)" % len(feats))
        names = list(last["features"].keys())
        want = [np.nan if v is None else v for v in last["features"].values()]
        got = [np.nan if v is None else v for v in feats]
        a, b = np.array(want, dtype=np.float64), np.array(got, dtype=np.float64)
        if not np.array_equal(a.view(np.uint64)[~np.isnan(a)], b.view(np.uint64)[~np.isnan(b)]) \
                or not (np.isnan(a) == np.isnan(b)).all():
            fail("a signal's features differ from the bar's row at %s" % last["close_time"])
        p = booster.predict(xgb.DMatrix(b.reshape(1, -1), missing=np.nan, feature_names=names))
        if np.float32(m["ml_data"]["accuracy_score"]).view(np.uint32) != p.view(np.uint32)[0]:
            fail("python3-xgboost predicts %r from the signal's features, the signal says %r"
                 % (float(p[0]), m["ml_data"]["accuracy_score"]))
        checked += 1
    if checked < 4 or rows < checked:
        fail("%d signals checked, %d rows" % (checked, rows))
    return rows


WF = """walkforward:
  mode: rolling
  train: 8w
  test: 4w
  step: 4w
gates:
  min_trades: 5
%s"""


def case_walkforward():
    extra = "strategy: {name: xgb, params: {long_above: 0.55, short_below: 0.45}}\n"
    scen = scenario("wf", frm="2017-01-02", to="2017-07-01", extra=extra + WF % "",
                    ml="  embargo: 8\n")
    outs = {}
    for jobs in ("1", "2"):
        p = run(["walkforward", scen, "--jobs", jobs, "--json", "--out", "wf" + jobs, "--gate"])
        outs[jobs] = json.loads(p.stdout.strip().splitlines()[-1])
    a, b = outs["1"], outs["2"]
    if len(a["folds"]) != 4:
        fail("4 folds expected, got %d" % len(a["folds"]))
    for fa, fb in zip(a["folds"], b["folds"]):
        for k in ("in_sample", "out_of_sample", "training"):
            if fa[k] != fb[k]:
                fail("fold %d: %s differs between --jobs 1 and 2" % (fa["fold"], k))
        if read(os.path.join(WORK, fa["model"]), "rb") != read(os.path.join(WORK, fb["model"]), "rb"):
            fail("fold %d: models differ between --jobs 1 and 2" % fa["fold"])
    if a["fingerprint"] != b["fingerprint"]:
        fail("walk-forward fingerprints differ")
    for f in a["folds"]:
        meta = json.loads(read(os.path.join(WORK, f["model"] + ".meta")))
        tr = f["training"]
        if not (meta["window"]["labels_to"] <= f["test_from"] and tr["labels_to"] <= f["test_from"]):
            fail("fold %d: a label reaches %s, the test starts %s" % (
                f["fold"], meta["window"]["labels_to"], f["test_from"]))
        if tr["embargo"] != 8 or meta["window"]["from"] < f["train_from"]:
            fail("fold %d: embargo or window wrong: %r" % (f["fold"], tr))
        # the fold's model is `ticktape train` on the train window
        run(["train", scen, "--model", "fold.json", "--set", "data.from=" + f["train_from"],
             "--set", "data.to=" + f["train_to"]])
        if read(os.path.join(WORK, "fold.json"), "rb") != read(os.path.join(WORK, f["model"]), "rb"):
            fail("fold %d: the model differs from ticktape train on its window" % f["fold"])
        # and its out-of-sample run is a plain backtest of the test window
        j = json.loads(run(["backtest", scen, "--json", "--quiet", "--no-reports",
                            "--set", "strategy.params.model=" + f["model"],
                            "--set", "data.from=" + f["test_from"],
                            "--set", "data.to=" + f["test_to"]]).stdout.strip().splitlines()[-1])
        if j["fingerprint"] != f["out_of_sample"]["fingerprint"]:
            fail("fold %d: out-of-sample run differs from its backtest" % f["fold"])
    # a gate that fails
    bad = scenario("wfbad", frm="2017-01-02", to="2017-07-01",
                   extra=extra + WF % "  min_net_pnl: 1000000\n", ml="  embargo: 8\n")
    p = run(["walkforward", bad, "--jobs", "2", "--out", "wfbad", "--gate"], expect=4)
    if "min_net_pnl" not in p.stderr:
        fail("failed gate not shown: " + p.stderr)
    p = run(["walkforward", scen, "--nats", "nats://127.0.0.1:1"], expect=2)
    if "--nats" not in p.stderr or "local process pool" not in p.stderr:
        fail("the --nats refusal does not say why: " + p.stderr)
    print("walkforward: 4 folds equal at --jobs 1 and 2; models = train on the window; OOS = "
          "backtest; labels end before each test window; gates; OOS net %s" % a["oos"]["net_pnl"])


def main():
    {"train": case_train, "errors": case_errors, "nats": case_nats, "parity": case_parity,
     "python_model": case_python_model, "paper": case_paper, "walkforward": case_walkforward}[CASE]()
    print("ok")


main()
