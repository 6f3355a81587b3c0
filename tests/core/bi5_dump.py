#!/usr/bin/python3
"""Decode Dukascopy .bi5 files to text for tests/core/test_bars_dukascopy.c.

  bi5_dump.py ticks START_S FILE    one line per tick: "ms bid ask bid_vol ask_vol"
                                    (ms since the epoch = START_S * 1000 + the record's ms;
                                    volumes as the exact float32, 9 significant digits)
  bi5_dump.py candles START_S FILE  one line per candle: "open_s open high low close volume"

Format (see /work/shared/testdata/README.md): LZMA "alone" container; a tick is
20 bytes big-endian (uint32 ms, ask, bid, float32 ask_vol, bid_vol); a candle is
24 bytes (uint32 s, open, close, low, high, float32 volume). This is only a
format transform: the oracle is Dukascopy's own candles.
"""
import lzma
import struct
import sys


def main():
    kind, start, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    raw = open(path, "rb").read()
    data = lzma.decompress(raw, format=lzma.FORMAT_ALONE) if raw else b""
    out = sys.stdout
    if kind == "ticks":
        for i in range(0, len(data), 20):
            ms, ask, bid, av, bv = struct.unpack(">3I2f", data[i : i + 20])
            out.write("%d %d %d %.9g %.9g\n" % (start * 1000 + ms, bid, ask, bv, av))
    else:
        for i in range(0, len(data), 24):
            s, o, c, lo, hi, v = struct.unpack(">5If", data[i : i + 24])
            out.write("%d %d %d %d %d %.9g\n" % (start + s, o, hi, lo, c, v))


if __name__ == "__main__":
    main()
