#!/usr/bin/python3
"""Derive the text-import samples from real Dukascopy data (run with /usr/bin/python3).

Source: Dukascopy's own EURUSD files for 4 February 2019 (copied to source/):
the 10:00 UTC hour of ticks and the day's BID 1-minute candles. The first
N_TICKS ticks and the M1 candles of 10:00-10:59 are written in each format an
importer reads, plus the oracle files the tests compare the tape against:

  oracle_ticks.csv   ts_ns,bid_points,ask_points,bid_volume,ask_volume (float32, shortest)
  oracle_bars.csv    ts_ns,open,high,low,close (points),volume (float32 widened)

Format notes (what the importers must undo):
  polygon_quotes.csv(.gz)  Polygon flat file, ticker C:EUR-USD, participant_timestamp in ns
  polygon_aggs.json        v2 aggregates response, t in ms, prices as decimal numbers
  mt5_ticks.csv            MT5 tick export: UTF-16LE + BOM, CRLF, tab-separated, server
                           time UTC+02:00, unchanged sides left empty, FLAGS 2=bid 4=ask
  mt5_bars.csv             MT5 bar export (same encoding), server time UTC+02:00
  histdata_ticks.csv       HistData tick CSV: "YYYYMMDD HHMMSSmmm,bid,ask,0", EST (UTC-5)
  histdata_m1.csv          HistData M1 bars: "YYYYMMDD HHMMSS;o;h;l;c;0", EST (UTC-5)
  generic_ticks.csv        header time,bid,ask,bid_volume,ask_volume; ISO 8601 times
  generic_ticks_ms.csv     no header; epoch-ms,bid,ask (ticks whose ms time is exact)
"""
import gzip, lzma, os, struct, datetime as dt
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(HERE, "source")
N_TICKS = 400
POINTS = 100000
HOUR = dt.datetime(2019, 2, 4, 10, tzinfo=dt.timezone.utc)
DAY = dt.datetime(2019, 2, 4, tzinfo=dt.timezone.utc)
NS = 10**9


def bi5(name):
    with open(os.path.join(SRC, name), "rb") as f:
        return lzma.decompress(f.read(), format=lzma.FORMAT_ALONE)


def ts_ns(d):
    return int(d.timestamp()) * NS


def price(p):
    return "%d.%05d" % (p // POINTS, p % POINTS)


def f32(v):
    return str(np.float32(v))


def civil(ns, offset_h, fmt):
    d = dt.datetime.fromtimestamp(ns // NS, dt.timezone.utc) + dt.timedelta(hours=offset_h)
    ms = (ns % NS) // 10**6
    return d.strftime(fmt).replace("MMM", "%03d" % ms)


raw = bi5("EURUSD-2019-02-04-10h_ticks.bi5")
ticks = []
for i in range(N_TICKS):
    ms, ask, bid, av, bv = struct.unpack(">IIIff", raw[i * 20:(i + 1) * 20])
    ticks.append((ts_ns(HOUR) + ms * 10**6, bid, ask, bv, av))

raw = bi5("EURUSD-2019-02-04-BID_candles_min_1.bi5")
bars = []
for i in range(len(raw) // 24):
    sec, o, c, l, h, v = struct.unpack(">IIIIIf", raw[i * 24:(i + 1) * 24])
    t = ts_ns(DAY) + sec * NS
    if ts_ns(HOUR) <= t < ts_ns(HOUR) + 3600 * NS:
        bars.append((t, o, h, l, c, v))


def out(name, text, encoding="ascii"):
    with open(os.path.join(HERE, name), "w", encoding=encoding, newline="") as f:
        f.write(text)


out("oracle_ticks.csv", "ts_ns,bid_points,ask_points,bid_volume,ask_volume\n" +
    "".join("%d,%d,%d,%s,%s\n" % (t, b, a, f32(bv), f32(av)) for t, b, a, bv, av in ticks))
out("oracle_bars.csv", "ts_ns,open,high,low,close,volume\n" +
    "".join("%d,%d,%d,%d,%d,%r\n" % (t, o, h, l, c, float(np.float32(v)))
            for t, o, h, l, c, v in bars))

# Polygon quotes flat file (plain and gzip).
pq = "ticker,ask_exchange,ask_price,bid_exchange,bid_price,participant_timestamp\n" + "".join(
    "C:EUR-USD,48,%s,48,%s,%d\n" % (price(a), price(b), t) for t, b, a, _, _ in ticks)
out("polygon_quotes.csv", pq)
with gzip.GzipFile(os.path.join(HERE, "polygon_quotes.csv.gz"), "wb", mtime=0) as g:
    g.write(pq.encode())

# Polygon aggregates (prices as JSON numbers: shortest decimal, as Polygon writes them).
def jnum(p):
    s = price(p).rstrip("0")
    return s[:-1] if s.endswith(".") else s

results = ",\n".join(
    '  {"v":%d,"vw":%s,"o":%s,"c":%s,"h":%s,"l":%s,"t":%d,"n":%d}' %
    (int(round(v * 10)), jnum((o + c) // 2), jnum(o), jnum(c), jnum(h), jnum(l), t // 10**6,
     int(round(v * 10))) for t, o, h, l, c, v in bars)
out("polygon_aggs.json",
    '{"ticker":"C:EURUSD","queryCount":%d,"resultsCount":%d,"adjusted":true,"results":[\n%s\n],'
    '"status":"OK","request_id":"sample","count":%d}\n' % (len(bars), len(bars), results, len(bars)))

# MetaTrader 5 tick export: UTF-16LE with BOM, CRLF, server time UTC+2.
lines = ["<DATE>\t<TIME>\t<BID>\t<ASK>\t<LAST>\t<VOLUME>\t<FLAGS>"]
pb = pa = None
for t, b, a, _, _ in ticks:
    flags = (2 if b != pb else 0) | (4 if a != pa else 0)
    lines.append("%s\t%s\t%s\t%s\t\t\t%d" % (
        civil(t, 2, "%Y.%m.%d"), civil(t, 2, "%H:%M:%S.MMM"),
        price(b) if b != pb else "", price(a) if a != pa else "", flags))
    pb, pa = b, a
out("mt5_ticks.csv", "\ufeff" + "\r\n".join(lines) + "\r\n", "utf-16-le")

lines = ["<DATE>\t<TIME>\t<OPEN>\t<HIGH>\t<LOW>\t<CLOSE>\t<TICKVOL>\t<VOL>\t<SPREAD>"]
for t, o, h, l, c, v in bars:
    lines.append("%s\t%s\t%s\t%s\t%s\t%s\t%d\t0\t3" % (
        civil(t, 2, "%Y.%m.%d"), civil(t, 2, "%H:%M:%S"), price(o), price(h), price(l),
        price(c), int(round(v * 10))))
out("mt5_bars.csv", "\ufeff" + "\r\n".join(lines) + "\r\n", "utf-16-le")

# HistData.com: EST (UTC-5) all year, no header.
out("histdata_ticks.csv", "".join("%s,%s,%s,0\n" % (civil(t, -5, "%Y%m%d %H%M%SMMM"),
                                                    price(b), price(a)) for t, b, a, _, _ in ticks))
out("histdata_m1.csv", "".join("%s;%s;%s;%s;%s;0\n" % (civil(t, -5, "%Y%m%d %H%M%S"), price(o),
                                                       price(h), price(l), price(c))
                               for t, o, h, l, c, v in bars))

# Generic CSV, ISO 8601 times with milliseconds, and with volumes.
out("generic_ticks.csv", "time,bid,ask,bid_volume,ask_volume\n" + "".join(
    "%s,%s,%s,%s,%s\n" % (civil(t, 0, "%Y-%m-%dT%H:%M:%S.MMMZ"), price(b), price(a), f32(bv),
                          f32(av)) for t, b, a, bv, av in ticks))
out("generic_ticks_ms.csv", "".join("%d,%s,%s\n" % (t // 10**6, price(b), price(a))
                                    for t, b, a, _, _ in ticks))
print("wrote %d ticks and %d bars in each format" % (len(ticks), len(bars)))
