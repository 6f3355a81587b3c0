#!/usr/bin/python3
"""`ticktape import calendar` against pandas reading the same CSV independently.

usage: calendar_test.py TICKTAPE TESTDATA CASE

TESTDATA/calendar holds the Forex Factory calendars of 2017 and 2019 (xz):
real data, times in UTC+08:00 all year. Cases:
  oracle     import both years into one tape, export the stream as JSON lines,
             and compare with pandas: the count per impact, every (time,
             currency, event, impact) with the +08:00 offset applied by pandas,
             every figure with its unit multiplied out by an independent
             regular expression, time order; and a hand-checked event: US
             Non-Farm Payrolls of 4 January 2019 at 13:30 UTC (08:30 New York),
             312K against 179K forecast and 176K previous.
  reimport   the same file again writes nothing (every event present); an
             older year into the stream is refused, nothing written.
  bad_rows   a file with broken rows: exit 3, each named FILE:LINE on stderr,
             the good rows imported.
  backtest   a scenario with data.external: [calendar] on the EURUSD tape of
             4-5 February 2019: the calendar's events in range are inputs,
             the same fingerprint twice; a news blackout covering the whole
             span refuses every order, none without it; a stream the tape
             lacks is an error naming it.
"""
import json, lzma, os, re, shutil, subprocess, sys, tempfile

import pandas as pd

BIN, DATA, CASE = sys.argv[1], sys.argv[2], sys.argv[3]
WORK = tempfile.mkdtemp(prefix="tt_calendar_")


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
            " ".join(args), p.returncode, expect, p.stdout, p.stderr))
        fail("unexpected exit code")
    return p


def csv_file(year):
    path = os.path.join(WORK, "ff_%d.csv" % year)
    if not os.path.exists(path):
        with lzma.open(os.path.join(DATA, "calendar", "forex_factory_calendar_%d.csv.xz" % year)) as f:
            data = f.read()
        with open(path, "wb") as f:
            f.write(data)
    return path


def import_json(path, tape, expect=0, *extra):
    p = run("import", "calendar", path, "--tape", tape, "--json", *extra, expect=expect)
    return json.loads(p.stdout.strip().splitlines()[-1]), p


def exported(tape):
    p = run("tape", "export", tape, "--symbol", "calendar", "--format", "jsonl",
            "--time-format", "epoch-ns")
    return [json.loads(line) for line in p.stdout.splitlines()]


UNITS = {"K": 1e3, "M": 1e6, "B": 1e9, "T": 1e12, "%": 1.0, "": 1.0}
FIG = re.compile(r"^(-?\d+(?:\.\d+)?)([KMBT%]?)$")
AUCTION = re.compile(r"^(-?\d+(?:\.\d+)?)\|\d+(?:\.\d+)?$")


def figure(text):
    """The number a figure carries, by a regex of our own (None: none)."""
    if not isinstance(text, str) or text == "":
        return None
    m = FIG.match(text)
    if m:
        # exact decimal scaling, as the importer promises
        digits = m.group(1)
        whole, _, frac = digits.lstrip("-").partition(".")
        exp = {"K": 3, "M": 6, "B": 9, "T": 12}.get(m.group(2), 0) - len(frac)
        return float(("-" if digits.startswith("-") else "") + whole + frac + "e%d" % exp)
    m = AUCTION.match(text)
    if m:
        return float(m.group(1))
    return None


def pandas_events(year):
    df = pd.read_csv(csv_file(year), dtype=str, keep_default_na=False)
    clock = pd.to_datetime(df["Date"] + " " + df["Time"], format="%Y-%m-%d %I:%M%p",
                           errors="coerce")
    day = pd.to_datetime(df["Date"], format="%Y-%m-%d")
    utc = clock - pd.Timedelta(hours=8)
    df["ns"] = utc.where(clock.notna(), day).astype("int64")
    df["timed"] = clock.notna()
    return df


def case_oracle():
    tape = os.path.join(WORK, "tape")
    frames = []
    for year in (2017, 2019):
        js, _ = import_json(csv_file(year), tape)
        df = pandas_events(year)
        frames.append(df)
        counts = df["Impact"].value_counts()
        check(js["rows"] == len(df) and js["events"] == len(df) and js["bad"] == 0,
              "%d: rows %d events %d bad %d, pandas %d rows" % (year, js["rows"], js["events"],
                                                                js["bad"], len(df)))
        for name, key in (("High", "high"), ("Medium", "medium"), ("Low", "low"),
                          ("Non-economic", "non_economic")):
            check(js[key] == int(counts.get(name, 0)),
                  "%d %s: ticktape %d, pandas %d" % (year, name, js[key], counts.get(name, 0)))
        check(js["untimed"] == int((~df["timed"]).sum()), "%d untimed" % year)
    ev = exported(tape)
    df = pd.concat(frames, ignore_index=True)
    check(len(ev) == len(df), "exported %d events, pandas %d rows" % (len(ev), len(df)))
    times = [e["time"] for e in ev]
    check(times == sorted(times), "events not in time order")
    check(all(e["kind"] == "external" and e["type"] == "economic_calendar" for e in ev),
          "kind/type")
    check(all(e["payload"]["time"] and int(pd.Timestamp(e["payload"]["time"]).value) == e["time"]
              for e in ev), "payload time differs from the event time")
    impact_word = {"High": "high", "Medium": "medium", "Low": "low",
                   "Non-economic": "non-economic"}
    want = sorted((int(r.ns), r.Currency.upper(), r.Event, impact_word[r.Impact])
                  for r in df.itertuples())
    got = sorted((e["time"], e["payload"]["currency"], e["payload"]["event"],
                  e["payload"]["impact"]) for e in ev)
    check(got == want, "events differ from pandas: first %s vs %s" % (
        next(((g, w) for g, w in zip(got, want) if g != w), None), ""))
    # every figure, multiplied out by our own regex
    want_fig = sorted((int(r.ns), r.Event, col, figure(getattr(r, col)))
                      for r in df.itertuples() for col in ("Actual", "Forecast", "Previous")
                      if figure(getattr(r, col)) is not None)
    got_fig = sorted((e["time"], e["payload"]["event"], col, e["payload"][col.lower()])
                     for e in ev for col in ("Actual", "Forecast", "Previous")
                     if col.lower() in e["payload"])
    check(len(got_fig) == len(want_fig), "figures: %d vs pandas %d" % (len(got_fig), len(want_fig)))
    check(got_fig == want_fig, "figures differ: %s" % (
        next(((g, w) for g, w in zip(got_fig, want_fig) if g != w), None),))
    texts = sum(1 for r in df.itertuples() for col in ("Actual", "Forecast", "Previous")
                if getattr(r, col) and figure(getattr(r, col)) is None)
    check(texts == sum(1 for e in ev for col in ("actual", "forecast", "previous")
                       if e["payload"].get(col + "_text") and col not in e["payload"]),
          "text-only figures")
    # the hand-checked event
    nfp = [e for e in ev if e["payload"]["event"] == "Non-Farm Employment Change" and
           e["payload"]["currency"] == "USD" and e["time"] // 86400000000000 == 17900]
    check(len(nfp) == 1, "NFP of 2019-01-04: %d events" % len(nfp))
    p = nfp[0]["payload"]
    check(p["time"] == "2019-01-04T13:30:00.000Z" and nfp[0]["time"] == 1546608600000000000,
          "NFP time %s" % p["time"])
    check(p["impact"] == "high" and p["timed"] is True and p["time_text"] == "9:30pm", "NFP impact")
    check(p["actual"] == 312000 and p["forecast"] == 179000 and p["previous"] == 176000 and
          p["actual_unit"] == "K" and p["actual_text"] == "312K" and nfp[0]["value"] == 312000,
          "NFP figures %s" % p)
    # the stated rule for non-times: 00:00 UTC of the date, untimed
    hol = [e for e in ev if e["payload"]["time_text"] == "All Day"]
    check(hol and all(not e["payload"]["timed"] and e["time"] % 86400000000000 == 0 for e in hol),
          "All Day events are not at 00:00 UTC")
    print("ok: %d events, per impact as pandas, NFP 2019-01-04T13:30Z 312K" % len(ev))


def case_reimport():
    tape = os.path.join(WORK, "tape")
    js, _ = import_json(csv_file(2019), tape)
    check(js["written"] == js["events"] > 4000, "first import wrote %d" % js["written"])
    js2, _ = import_json(csv_file(2019), tape)
    check(js2["written"] == 0 and js2["present"] == js["events"], "second import: %s" % js2)
    p = run("import", "calendar", csv_file(2017), "--tape", tape, expect=1)
    check("older than the end of stream 'calendar'" in p.stderr and "ff_2017.csv:" in p.stderr,
          "refusal message: %s" % p.stderr)
    check(len(exported(tape)) == js["events"], "the refused import wrote something")
    # into another stream it goes
    js3, _ = import_json(csv_file(2017), tape, 0, "--stream", "calendar2017")
    check(js3["written"] == js3["events"], "second stream")
    print("ok: re-import writes nothing, older events refused")


def case_bad_rows():
    path = os.path.join(WORK, "bad.csv")
    with open(path, "w") as f:
        f.write("Date,Time,Currency,Event,Impact,Actual,Forecast,Previous,Combined DateTime\n"
                "2019-01-04,9:30pm,USD,Non-Farm Employment Change,High,312K,179K,176K,x\n"
                "2019-01-04,25:30pm,USD,Bad clock,High,,,,x\n"
                "2019-13-04,9:30pm,USD,Bad date,High,,,,x\n"
                "2019-01-04,9:30pm,US,Bad currency,High,,,,x\n"
                "2019-01-04,9:30pm,USD,Bad impact,Huge,,,,x\n"
                "2019-01-04,9:30pm,USD,Bad figure,High,12Q,,,x\n"
                "2019-01-04,9:30pm,USD,Comma, in the name,High,,,,x\n"
                "2019-01-05,All Day,USD,Bank Holiday,Low,,,,x\n"
                "2019-01-05,12:15am,EUR,Midnight,Low,0-0-9,Pass,2.34|2.6,x\n")
    tape = os.path.join(WORK, "tape")
    js, p = import_json(path, tape, 3)
    check(js["rows"] == 9 and js["events"] == 3 and js["bad"] == 6 and js["status"] == "partial",
          "counts %s" % js)
    for line, word in ((3, "Time"), (4, "Date"), (5, "Currency"), (6, "Impact"), (7, "Actual"),
                       (8, "fields")):
        check(re.search(r"bad\.csv:%d: .*%s" % (line, word), p.stderr),
              "line %d (%s) not named: %s" % (line, word, p.stderr))
    ev = exported(tape)
    check([e["payload"]["event"] for e in ev] == ["Non-Farm Employment Change", "Midnight",
                                                  "Bank Holiday"],
          "imported %s" % [e["payload"]["event"] for e in ev])
    mid = ev[1]["payload"]
    check(mid["time"] == "2019-01-04T16:15:00.000Z", "12:15am +08:00 is 16:15 UTC the day before")
    check("actual" not in mid and mid["actual_text"] == "0-0-9" and mid["previous"] == 2.34,
          "text figures %s" % mid)
    print("ok: 6 bad rows named, 3 imported")


SCENARIO = """name: calendar-sma
seed: 42
data:
  tape: tape
  symbols: [EURUSD]
  external: [calendar]
  from: 2019-02-04
  to: 2019-02-06
account: {currency: USD, balance: 10000, leverage: 100}
venue: {latency_ms: 5}
risk:
  news_blackout: {before_min: 30, after_min: 15, impact: high}
strategy:
  name: sma_cross
  params: {tf: M1, fast: 10, slow: 30, qty: 10}
"""


def backtest(path, *sets, expect=0):
    args = ["backtest", path, "--json", "--no-reports"]
    for kv in sets:
        args += ["--set", kv]
    p = run(*args, expect=expect)
    return json.loads(p.stdout.strip().splitlines()[-1]) if expect == 0 else p


def case_backtest():
    tape = os.path.join(WORK, "tape")
    shutil.copytree(os.path.join(DATA, "..", "..", "scenarios", "data", "eurusd-2019-02"), tape)
    js, _ = import_json(os.path.join(DATA, "calendar", "ff_2019-02-04_06.csv"), tape)
    inside = [e for e in exported(tape)
              if pd.Timestamp("2019-02-04", tz="UTC").value <= e["time"] <
              pd.Timestamp("2019-02-06", tz="UTC").value]
    path = os.path.join(WORK, "s.yaml")
    with open(path, "w") as f:
        f.write(SCENARIO)
    a = backtest(path)
    check(a["events"] == 266219 + len(inside), "events %d, ticks 266219 + %d calendar events" % (
        a["events"], len(inside)))
    b = backtest(path)
    check(a["fingerprint"] == b["fingerprint"], "fingerprint differs between two runs")
    allday = backtest(path, "risk.news_blackout.before_min=3000",
                      "risk.news_blackout.after_min=3000")
    off = backtest(path, "risk.news_blackout.before_min=0", "risk.news_blackout.after_min=0")
    check(allday["risk_rejects"] > 0 and allday["orders_sent"] == 0, "blackout over the span: %s"
          % {k: allday[k] for k in ("risk_rejects", "orders_sent")})
    check(off["risk_rejects"] == 0 and off["orders_sent"] > 0, "no blackout: %s" % off)
    p = backtest(path, "data.external=news", expect=1)
    check("no external stream 'news'" in p.stderr, "missing stream: %s" % p.stderr)
    print("ok: %d calendar events replayed with the ticks; blackout refuses %d orders" % (
        len(inside), allday["risk_rejects"]))


{"oracle": case_oracle, "reimport": case_reimport, "bad_rows": case_bad_rows,
 "backtest": case_backtest}[CASE]()
shutil.rmtree(WORK, ignore_errors=True)
