"""Tapes as numpy arrays and pandas DataFrames.

Why: a notebook wants a symbol's ticks as columns at memory speed. The C side
(api/api_tape.c) decodes the tape's blocks in batches straight into a numpy
array of fixed 32-byte (quotes) or 64-byte (bars) records, sized once from the
stream's event count (an upper bound) and trimmed; Python touches no
individual tick. Prices stay integer points in the arrays; the DataFrames add
float prices (points / points-per-unit of the instrument) next to them.
"""
import ctypes as C

import numpy as np
import pandas as pd

from . import _lib
from ._lib import Err, check

_CHUNK = 1 << 22  # records per read when the bound is not known


def to_ns(t):
    """UTC nanoseconds of t: None (open), an int (ns), a str or a datetime."""
    if t is None:
        return 0
    if isinstance(t, (int, np.integer)):
        return int(t)
    ts = pd.Timestamp(t)
    if ts.tzinfo is None:
        ts = ts.tz_localize("UTC")
    return int(ts.value)


def instrument(symbol):
    """(points per price unit, display digits) of a built-in instrument."""
    err = Err()
    points, digits = C.c_int64(), C.c_int()
    check(_lib.instrument(symbol.encode(), C.byref(points), C.byref(digits), C.byref(err)), err)
    return points.value, digits.value


class Tape:
    """A tape folder. Tape(path).quotes("EURUSD") -> numpy records;
    .quotes_df(...) / .bars_df(...) -> DataFrames with a UTC index."""

    def __init__(self, path):
        self._h = None
        self.path = str(path)
        err = Err()
        h = C.c_void_p()
        check(_lib.tape_open(C.byref(h), self.path.encode(), C.byref(err)), err)
        self._h = h

    def close(self):
        if self._h:
            _lib.tape_close(self._h)
            self._h = None

    def __del__(self):
        self.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def streams(self):
        """The tape's streams as a DataFrame: symbol, kind, events, first, last."""
        rows = []
        for i in range(_lib.tape_streams(self._h)):
            err = Err()
            sym, kind = C.c_char_p(), C.c_char_p()
            n, first, last = C.c_uint64(), C.c_int64(), C.c_int64()
            check(_lib.tape_stream(self._h, i, C.byref(sym), C.byref(kind), C.byref(n),
                                   C.byref(first), C.byref(last), C.byref(err)), err)
            rows.append((sym.value.decode(), kind.value.decode(), n.value,
                         pd.Timestamp(first.value, tz="UTC"), pd.Timestamp(last.value, tz="UTC")))
        return pd.DataFrame(rows, columns=["symbol", "kind", "events", "first", "last"])

    def symbols(self):
        return sorted(set(self.streams()["symbol"]))

    def _read(self, cursor, bound, dtype, reader):
        err = Err()
        try:
            parts = []
            cap = bound if 0 < bound <= (1 << 28) else _CHUNK
            while True:
                arr = np.empty(cap, dtype=dtype)
                n = check(reader(cursor, arr.ctypes.data, cap, C.byref(err)), err)
                parts.append(arr[:n])
                if n < cap:
                    break
                cap = _CHUNK
        finally:
            _lib.cursor_close(cursor)
        if len(parts) == 1:
            return parts[0]
        return np.concatenate(parts)

    def quotes(self, symbol, start=None, end=None):
        """symbol's quotes with ts in [start, end) as a numpy structured array:
        ts (UTC ns), bid, ask (integer points), bid_vol, ask_vol (float32)."""
        err = Err()
        cur, bound = C.c_void_p(), C.c_uint64()
        check(_lib.quotes_open(C.byref(cur), self._h, symbol.encode(), to_ns(start), to_ns(end),
                               C.byref(bound), C.byref(err)), err)
        return self._read(cur, bound.value, _lib.QUOTE, _lib.quotes_read)

    def bars(self, symbol, timeframe="M1", side="bid", start=None, end=None):
        """symbol's bars opening in [start, end): the tape's bar stream, else
        built from its quotes. Fields: ts (open), close_ts, open, high, low,
        close (points), volume, ticks."""
        err = Err()
        cur, bound = C.c_void_p(), C.c_uint64()
        check(_lib.bars_open(C.byref(cur), self._h, symbol.encode(), timeframe.encode(),
                             side.encode(), to_ns(start), to_ns(end), C.byref(bound),
                             C.byref(err)), err)
        return self._read(cur, bound.value, _lib.BAR, _lib.bars_read)

    def quotes_df(self, symbol, start=None, end=None):
        """The quotes as a DataFrame indexed by UTC time: bid, ask (float
        prices), bid_points, ask_points (int), bid_vol, ask_vol."""
        q = self.quotes(symbol, start, end)
        points, _ = instrument(symbol)
        idx = pd.DatetimeIndex(q["ts"].view("datetime64[ns]"), name="ts").tz_localize("UTC")
        return pd.DataFrame({"bid": q["bid"] / points, "ask": q["ask"] / points,
                             "bid_points": q["bid"], "ask_points": q["ask"],
                             "bid_vol": q["bid_vol"], "ask_vol": q["ask_vol"]}, index=idx)

    def bars_df(self, symbol, timeframe="M1", side="bid", start=None, end=None):
        """The bars as a DataFrame indexed by open time (UTC): open, high,
        low, close (floats), *_points (int), volume, ticks."""
        b = self.bars(symbol, timeframe, side, start, end)
        points, _ = instrument(symbol)
        idx = pd.DatetimeIndex(b["ts"].view("datetime64[ns]"), name="ts").tz_localize("UTC")
        cols = {k: b[k] / points for k in ("open", "high", "low", "close")}
        cols.update({k + "_points": b[k] for k in ("open", "high", "low", "close")})
        cols["volume"] = b["volume"]
        cols["ticks"] = b["ticks"]
        return pd.DataFrame(cols, index=idx)
