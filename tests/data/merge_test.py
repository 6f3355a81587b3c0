#!/usr/bin/python3
"""`ticktape merge` on tapes built from real EURUSD ticks, against pandas.

usage: merge_test.py TICKTAPE SOURCE_DIR CASE

The sources are two hours of Dukascopy EURUSD (4 February 2019, 08:00-10:00,
from scenarios/data/eurusd-2019-02), exported and re-imported with scripted
differences. Cases:
  identical  a tape and its copy: with every policy the merged feed is the
             tape's quotes with consecutive repeats dropped (identical ticks
             of two sources count once), and the log names both sources
  failover   A has a 10-minute hole; B is A with the ask one point higher:
             priority policy, stale 2 s, recover 5 s and 3 quotes. pandas
             computes the expected feed by the rules (A's quotes; B's from
             B's first quote more than 2 s after A's last; A's again from its
             third quote at least 5 s after it came back) and the merged tape
             must be exactly that, with one failover and one fail-back logged
  spike      A, B and C where C has five spikes of +50 pips: best policy; no
             spike reaches the merged feed, each is logged as a quarantine
  errors     the same merge twice gives the same tape; an output that holds
             the symbol already, or --names of the wrong length, is refused
"""
import json, os, shutil, subprocess, sys, tempfile

import pandas as pd

BIN, SRC, CASE = sys.argv[1], sys.argv[2], sys.argv[3]
WORK = tempfile.mkdtemp(prefix="tt_merge_")
TAPE = os.path.join(SRC, "scenarios", "data", "eurusd-2019-02")


def fail(msg):
    print("FAIL:", msg)
    shutil.rmtree(WORK, ignore_errors=True)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def run(*args, expect=0):
    p = subprocess.run([BIN] + list(args), capture_output=True, text=True)
    if p.returncode != expect:
        sys.stderr.write("command: %s\nexit %d (expected %d)\nstdout:\n%s\nstderr:\n%s\n" % (
            " ".join(args), p.returncode, expect, p.stdout[-3000:], p.stderr[-3000:]))
        fail("unexpected exit code")
    return p


def points(s):
    whole, _, frac = s.partition(".")
    neg = whole.startswith("-")
    v = abs(int(whole)) * 100000 + int((frac + "00000")[:5])
    return -v if neg else v


def export(tape, symbol="EURUSD"):
    path = os.path.join(WORK, "export.csv")
    run("tape", "export", tape, "--symbol", symbol, "--time-format", "epoch-ns", "-o", path)
    df = pd.read_csv(path, dtype={"bid": str, "ask": str})
    df["bid"] = df["bid"].map(points)
    df["ask"] = df["ask"].map(points)
    return df


def make_tape(name, df):
    path = os.path.join(WORK, name + ".csv")
    out = df.copy()
    out["bid"] = out["bid"].map(lambda p: "%d.%05d" % divmod(p, 100000))
    out["ask"] = out["ask"].map(lambda p: "%d.%05d" % divmod(p, 100000))
    out.to_csv(path, index=False)
    tape = os.path.join(WORK, name)
    p = run("import", "csv", path, "--tape", tape, "--symbol", "EURUSD", "--columns",
            "time,bid,ask,bid_volume,ask_volume", "--time-format", "epoch-ns", "--header",
            "--quality", "spike=flag", "--quality", "crossed=flag", "--json")
    js = json.loads(next(l for l in p.stdout.splitlines() if l.startswith("{")))
    check(js["ticks_written"] == len(df), "%s: imported %d of %d" % (name, js["ticks_written"],
                                                                     len(df)))
    return tape


def base():
    full = os.path.join(WORK, "full.csv")
    run("tape", "export", TAPE, "--symbol", "EURUSD", "--time-format", "epoch-ns",
        "--from", "2019-02-04T08:00:00Z", "--to", "2019-02-04T10:00:00Z", "-o", full)
    df = pd.read_csv(full, dtype={"bid": str, "ask": str})
    df["bid"] = df["bid"].map(points)
    df["ask"] = df["ask"].map(points)
    return df


def dedup(df):
    """Consecutive repeats of (bid, ask) dropped: what the merged feed keeps."""
    keep = (df["bid"] != df["bid"].shift()) | (df["ask"] != df["ask"].shift())
    return df[keep].reset_index(drop=True)


def merge(tapes, out, *opts, names=None):
    args = ["merge"] + tapes + ["--tape", out, "--json"] + list(opts)
    if names:
        args += ["--names", names]
    p = run(*args)
    return json.loads(p.stdout.strip().splitlines()[-1]), p


def merge_log(out):
    p = run("tape", "export", out, "--symbol", "_merge", "--format", "jsonl")
    return [json.loads(line)["payload"] for line in p.stdout.splitlines()]


def same(df, want, what):
    got = df[["time", "bid", "ask"]].to_numpy()
    exp = want[["time", "bid", "ask"]].to_numpy()
    if got.shape != exp.shape or not (got == exp).all():
        n = min(len(got), len(exp))
        bad = next((i for i in range(n) if not (got[i] == exp[i]).all()), n)
        fail("%s: %d merged quotes, %d expected; first difference at %d: %s vs %s" % (
            what, len(got), len(exp), bad, got[bad] if bad < len(got) else None,
            exp[bad] if bad < len(exp) else None))


def case_identical():
    df = base()
    a = make_tape("a", df)
    b = make_tape("b", df)
    for policy in ("best", "priority", "median"):
        out = os.path.join(WORK, "out_" + policy)
        js, _ = merge([a, b], out, "--policy", policy)
        check(js["in"] == [len(df), len(df)], "%s: read %s" % (policy, js["in"]))
        same(export(out), dedup(df), policy)
        check(js["failovers"] == 0 and js["crosses"] == 0, "%s: events %s" % (policy, js))
        log = merge_log(out)
        src = [r for r in log if r["event"] == "sources"]
        check(src and src[0]["bid"] == ("a" if policy == "priority" else "a+b"),
              "%s: sources %s" % (policy, src[:1]))
    print("ok: %d ticks twice -> %d merged, every policy" % (len(df), len(dedup(df))))


def case_failover():
    df = base()
    t0 = pd.Timestamp("2019-02-04T08:30:00Z").value
    t1 = pd.Timestamp("2019-02-04T08:40:00Z").value
    a_df = df[(df["time"] < t0) | (df["time"] >= t1)].reset_index(drop=True)
    b_df = df.copy()
    b_df["ask"] = b_df["ask"] + 1
    a = make_tape("a", a_df)
    b = make_tape("b", b_df)
    out = os.path.join(WORK, "out")
    js, p = merge([a, b], out, "--policy", "priority", "--stale", "2s", "--recover", "5s",
                  "--recover-ticks", "3")
    # the rules, independently: A until stale; B from B's first quote > 2 s after A's last
    a_last = a_df[a_df["time"] < t0]["time"].max()
    fo = b_df[b_df["time"] > a_last + 2 * 10**9]["time"].min()
    back = a_df[a_df["time"] >= t1]["time"].to_numpy()
    first = back[0]
    ok = [t for i, t in enumerate(back) if i >= 2 and t - first >= 5 * 10**9]
    fb = ok[0]
    want = pd.concat([a_df[a_df["time"] < fo], b_df[(b_df["time"] >= fo) & (b_df["time"] < fb)],
                      a_df[a_df["time"] >= fb]])
    # at fo and fb both sources quote: quotes of one time are taken together, so the
    # merged quote there is already the new source's
    want = want.sort_values("time", kind="stable").reset_index(drop=True)
    same(export(out), dedup(want), "failover")
    log = merge_log(out)
    fos = [r for r in log if r["event"] == "failover"]
    fbs = [r for r in log if r["event"] == "failback"]
    check(len(fos) == 1 and len(fbs) == 1, "failovers %s fail-backs %s" % (fos, fbs))
    check(pd.Timestamp(fos[0]["time"]).value == fo and fos[0]["reason"] == "stale" and
          fos[0]["from"] == "a" and fos[0]["to"] == "b", "failover %s" % fos[0])
    check(pd.Timestamp(fbs[0]["time"]).value == fb and fbs[0]["to"] == "a",
          "fail-back %s" % fbs[0])
    check(fo - a_last <= 2 * 10**9 + (df["time"].diff().max()), "failover too late")
    print("ok: failover %.3f s after A's last quote, fail-back %.3f s after A came back" % (
        (fo - a_last) / 1e9, (fb - first) / 1e9))


def case_spike():
    df = base()
    b_df = df.copy()
    b_df["ask"] = b_df["ask"] + 1
    c_df = df.copy()
    idx = [1000, 2500, 4000, 5500, 7000]
    c_df.loc[idx, "bid"] += 500
    c_df.loc[idx, "ask"] += 500
    tapes = [make_tape("a", df), make_tape("b", b_df), make_tape("c", c_df)]
    out = os.path.join(WORK, "out")
    js, p = merge(tapes, out, "--policy", "best", "--recover", "2s")
    m = export(out)
    check(m["bid"].max() <= df["bid"].max() and m["ask"].max() <= b_df["ask"].max(),
          "a spike reached the merged feed: max bid %d" % m["bid"].max())
    spiked = set(zip(c_df.loc[idx, "time"], c_df.loc[idx, "bid"]))
    check(not any((t, b) in spiked for t, b in zip(m["time"], m["bid"])), "a spiked bid merged")
    log = merge_log(out)
    q = [r for r in log if r["event"] == "state" and r["source"] == "c" and
         r["reason"] == "deviation"]
    check(len(q) == len(idx), "quarantines %d, spikes %d" % (len(q), len(idx)))
    check(all(r["value"] > 10 for r in q), "deviation values %s" % [r["value"] for r in q])
    print("ok: %d spikes quarantined, none merged; %d merged quotes" % (len(q), len(m)))


def case_errors():
    df = base()
    a = make_tape("a", df)
    b = make_tape("b", df.assign(ask=df["ask"] + 2))
    o1, o2 = os.path.join(WORK, "o1"), os.path.join(WORK, "o2")
    merge([a, b], o1, "--policy", "median")
    merge([a, b], o2, "--policy", "median")
    e1, e2 = export(o1), export(o2)
    check(e1.equals(e2), "two merges differ")
    check(run("tape", "export", o1, "--symbol", "_merge", "--format", "jsonl").stdout ==
          run("tape", "export", o2, "--symbol", "_merge", "--format", "jsonl").stdout,
          "two merge logs differ")
    p = run("merge", a, b, "--tape", o1, expect=1)
    check("already holds EURUSD/quote" in p.stderr, "existing output: %s" % p.stderr)
    p = run("merge", a, b, "--tape", os.path.join(WORK, "o3"), "--names", "x", expect=2)
    check("--names gives 1 names for 2 tapes" in p.stderr, "names: %s" % p.stderr)
    print("ok: deterministic, refusals")


{"identical": case_identical, "failover": case_failover, "spike": case_spike,
 "errors": case_errors}[CASE]()
shutil.rmtree(WORK, ignore_errors=True)
