#!/usr/bin/env python3
"""Every run ends with `fingerprint: <32 hex digits>` as the last line of stdout,
and the same inputs give the same fingerprint (a sweep's at any --jobs).

usage: fingerprint_line.py TICKTAPE SOURCE_DIR
"""
import os, re, subprocess, sys, tempfile

BIN, SRC = sys.argv[1], sys.argv[2]
SC = os.path.join(SRC, "scenarios")
LINE = re.compile(r"^fingerprint: ([0-9a-f]{32})$")


def last_fp(*args):
    p = subprocess.run([BIN, *args], capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"{args}: exit {p.returncode}\n{p.stderr[-2000:]}")
    last = p.stdout.strip().splitlines()[-1]
    m = LINE.match(last)
    if not m:
        sys.exit(f"{args}: last line is not 'fingerprint: <hex>': {last!r}")
    return m.group(1)


tmp = tempfile.mkdtemp()
a = last_fp("backtest", os.path.join(SC, "eurusd-sma-cross.yaml"), "--out", os.path.join(tmp, "a"))
b = last_fp("backtest", os.path.join(SC, "eurusd-sma-cross.yaml"), "--out", os.path.join(tmp, "b"))
assert a == b, (a, b)
c = last_fp("backtest", os.path.join(SC, "eurusd-sma-cross.yaml"), "--no-reports",
            "--set", "strategy.params.fast=11")
assert c != a, "another parameter, another fingerprint"
s1 = last_fp("sweep", os.path.join(SC, "sweep-eurusd-sma.yaml"), "--jobs", "1", "--out", os.path.join(tmp, "s1"))
s2 = last_fp("sweep", os.path.join(SC, "sweep-eurusd-sma.yaml"), "--jobs", "2", "--out", os.path.join(tmp, "s2"))
assert s1 == s2, (s1, s2)
last_fp("walkforward", os.path.join(SC, "walkforward-eurusd-sma.yaml"), "--out", os.path.join(tmp, "w"))
last_fp("bench", "replay", "--ticks", "100k", "--repeat", "1")
print("5 passed, 0 failed")
