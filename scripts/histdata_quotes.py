#!/usr/bin/python3
"""HistData.com M1 bars -> a quote CSV that `ticktape import csv` reads.

Usage: histdata_quotes.py OUT.csv [--spread POINTS] [--points 100000] FILE.csv[.xz] ...

HistData publishes BID bars only (no ticks, no ask, volume 0), in EST without
daylight saving (UTC-05:00 all year). A backtest needs quotes to fill orders,
so each bar becomes four quotes inside its minute, in the path MetaTrader's
"OHLC" tester uses: open at :00, then low and high (an up bar: close >= open)
or high and low (a down bar) at :15 and :30, close at :45. The bid is the bar's
price; the ask is bid + SPREAD points (default 10 = 1 pip for EURUSD), a stated
assumption since the source has no ask.

Bid bars built from these quotes by ticktape (`ticktape bars --side bid`, the
feature engine) have exactly the HistData open, high, low and close on every
timeframe of a minute or more, and 4 ticks per source bar; the spread features
are the constant SPREAD.

Output columns: time (UTC ns since the epoch), bid, ask (decimals). Import with
  ticktape import csv OUT.csv --columns time,bid,ask --time-format epoch-ns \
      --symbol EURUSD --tape TAPE
"""
import argparse
import lzma
import sys
from datetime import datetime, timezone

EST = 5 * 3600  # HistData: UTC-05:00 all year


def read_bars(path):
    opener = lzma.open if path.endswith(".xz") else open
    with opener(path, "rt") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            stamp, o, h, l, c, _vol = line.split(";")
            t = datetime.strptime(stamp, "%Y%m%d %H%M%S").replace(tzinfo=timezone.utc)
            yield int(t.timestamp()) + EST, o, h, l, c


def to_points(text, points):
    whole, _, frac = text.partition(".")
    digits = len(str(points)) - 1
    frac = (frac + "0" * digits)[:digits]
    return int(whole) * points + int(frac)


def fmt(p, points):
    digits = len(str(points)) - 1
    return "%d.%0*d" % (p // points, digits, p % points)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("files", nargs="+")
    ap.add_argument("--spread", type=int, default=10)
    ap.add_argument("--points", type=int, default=100000)
    a = ap.parse_args()
    n = 0
    last = None
    with open(a.out, "w") as out:
        out.write("time,bid,ask\n")
        for path in sorted(a.files):
            for sec, o, h, l, c in read_bars(path):
                if last is not None and sec <= last:
                    sys.exit("%s: bar at %d not after %d" % (path, sec, last))
                last = sec
                po, ph, pl, pc = (to_points(x, a.points) for x in (o, h, l, c))
                mid = (pl, ph) if pc >= po else (ph, pl)
                for k, p in enumerate((po, mid[0], mid[1], pc)):
                    ns = (sec * 1000 + 15000 * k) * 1000000
                    out.write("%d,%s,%s\n" % (ns, fmt(p, a.points), fmt(p + a.spread, a.points)))
                n += 1
    print("%d bars, %d quotes -> %s" % (n, 4 * n, a.out))


if __name__ == "__main__":
    main()
