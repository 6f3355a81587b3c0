"""Python benchmarks (docs/benchmarks.md, section "Python"): a tape's quotes
into numpy and pandas, and the cost of a strategy callback written in Python.

usage: TICKTAPE_LIB=build/libticktape.so PYTHONPATH=python \\
       /usr/bin/python3 bench/bench_python.py TICKTAPE [--days N] [--rate R] [--repeat N]

A synthetic EURUSD tape is generated first (`ticktape synth`, GBM, R ticks/s
for N weekdays: 5 days at 25/s are 10.8M ticks) in a temporary folder.

- quotes: Tape.quotes("EURUSD") (numpy records) and Tape.quotes_df (a
  DataFrame with float prices), wall time, median of --repeat, in ticks/s.
- callbacks: backtests of the tape with the C strategy buy_and_hold, a Python
  strategy with no callback (the engine's work alone), one whose on_quote
  (every tick) does nothing, one subscribed to S1 bars without on_bar, and
  one whose on_bar does nothing, alternated --repeat times; the cost per
  callback is the difference of the medians of a mode and its baseline
  divided by the callbacks.
"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import ticktape


def args():
    a = {"days": 5, "rate": 25, "repeat": 5}
    argv = sys.argv[1:]
    if not argv:
        sys.exit(__doc__)
    a["bin"] = argv.pop(0)
    while argv:
        k = argv.pop(0).lstrip("-")
        a[k] = int(argv.pop(0))
    return a


class OnQuote(ticktape.Strategy):
    params = {"qty": 10}

    def on_quote(self, ctx, q):
        pass


class Nothing(ticktape.Strategy):
    params = {"qty": 10}


class BarsOnly(ticktape.Strategy):
    bars = ["S1"]
    params = {"qty": 10}


class OnBar(ticktape.Strategy):
    bars = ["S1"]
    params = {"qty": 10}

    def on_start(self, ctx):
        self.n = 0

    def on_bar(self, ctx, bar):
        self.n += 1


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def main():
    a = args()
    work = tempfile.mkdtemp(prefix="tt-bench-python-")
    try:
        tape = os.path.join(work, "tape")
        to = "2024-01-%02d" % (1 + a["days"] + 2 * ((a["days"] + 4) // 5))
        subprocess.run([a["bin"], "synth", "--tape", tape, "--from", "2024-01-01", "--to", to,
                        "--param", "tick_rate=%d" % a["rate"], "--seed", "1"], check=True,
                       stdout=subprocess.DEVNULL)
        t = ticktape.Tape(tape)
        n = len(t.quotes("EURUSD"))
        print("machine: %d CPUs, load %s" % (os.cpu_count(), open("/proc/loadavg").read()[:14]))
        print("tape: %d EURUSD ticks, %s to %s" % (n, "2024-01-01", to))
        np_t, df_t = [], []
        for _ in range(a["repeat"]):
            np_t.append(timed(lambda: t.quotes("EURUSD"))[0])
            df_t.append(timed(lambda: t.quotes_df("EURUSD"))[0])
        for name, ts in (("Tape.quotes -> numpy", np_t), ("Tape.quotes_df -> pandas", df_t)):
            m = statistics.median(ts)
            print("%-26s median %.3f s  %.1f M ticks/s  (best %.3f s)" % (name, m, n / m / 1e6,
                                                                        min(ts)))
        scen = {"name": "bench-python", "seed": 1,
                "data": {"tape": tape, "symbols": ["EURUSD"]},
                "strategy": {"name": "buy_and_hold", "params": {"qty": 10}}}
        # (name, strategy factory, baseline name, callbacks)
        modes = [("C buy_and_hold", None, None), ("Python, no callback", Nothing, None),
                 ("Python on_quote", OnQuote, "Python, no callback"),
                 ("Python, S1 bars, no cb", BarsOnly, None),
                 ("Python on_bar S1", OnBar, "Python, S1 bars, no cb")]
        runs = {m[0]: [] for m in modes}
        calls = {"Python on_quote": n}
        for _ in range(a["repeat"]):
            for name, cls, _base in modes:
                s = cls() if cls else None
                runs[name].append(timed(lambda: ticktape.backtest(scen, s))[0])
                if isinstance(s, OnBar):
                    calls[name] = s.n
        for name, _cls, base in modes:
            m = statistics.median(runs[name])
            extra = ""
            if base:
                extra = "  %.2f us per callback (%d callbacks, over \"%s\")" % (
                    (m - statistics.median(runs[base])) / calls[name] * 1e6, calls[name], base)
            print("%-26s median %.3f s%s" % (name, m, extra))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
