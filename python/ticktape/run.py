"""Backtests, sweeps and walk-forwards from Python.

Why: the same runs as the command line (api/api_run.c and api_research.c call
what `ticktape backtest/sweep/walkforward` call), so a fingerprint read here
equals the command's, and results arrive as DataFrames. A scenario is a file
path, YAML text, or a dict (sent as JSON, which is YAML); overrides are
"key=value" assignments as --set takes them, given as set=[...] or as keyword
arguments with "__" for the dots (venue__latency_ms=10).
"""
import ctypes as C
import json
import os

import numpy as np
import pandas as pd

from . import _lib
from ._lib import Err, check


def _value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (list, tuple)):
        return ",".join(_value(x) for x in v)
    return str(v)


def overrides_list(set=None, overrides=None):
    """"key=value" strings from set= (a list or a dict) and keyword overrides."""
    out = []
    if isinstance(set, dict):
        out += ["%s=%s" % (k, _value(v)) for k, v in set.items()]
    elif set:
        out += list(set)
    for k, v in (overrides or {}).items():
        out.append("%s=%s" % (k.replace("__", "."), _value(v)))
    return out


def scenario_arg(scenario):
    """(bytes, is_text, base_dir) for the C API."""
    if isinstance(scenario, dict):
        return json.dumps(scenario).encode(), 1, os.getcwd().encode()
    s = os.fspath(scenario)
    if "\n" in s:
        return s.encode(), 1, os.getcwd().encode()
    return s.encode(), 0, None


def _times(a):
    return pd.to_datetime(a, unit="ns", utc=True)


class Result:
    """One backtest: .summary (the --json object as a dict), .fingerprint,
    .trades, .orders, .equity (DataFrames); .trades_array ... the raw records
    (integer points and minor units)."""

    def __init__(self, handle):
        self._h = handle
        self.summary = json.loads(_lib.run_summary(handle).decode())
        self.fingerprint = _lib.run_fingerprint(handle).decode()
        self.minor = _lib.run_minor(handle)
        self.trades_array = self._records(_lib.run_trades, _lib.TRADE)
        self.orders_array = self._records(_lib.run_orders, _lib.ORDER)
        self.equity_array = self._records(_lib.run_equity, _lib.EQUITY)
        self._symbols = {}
        self._frames = {}

    def __del__(self):
        if getattr(self, "_h", None):
            _lib.run_free(self._h)
            self._h = None

    def _records(self, fn, dtype):
        n = C.c_size_t()
        p = fn(self._h, C.byref(n))
        if not p or n.value == 0:
            return np.zeros(0, dtype=dtype)
        buf = (C.c_char * (n.value * dtype.itemsize)).from_address(p)
        return np.frombuffer(buf, dtype=dtype).copy()

    def symbol(self, sid):
        """(name, digits, points, volume_step) of a symbol id of the run."""
        if sid not in self._symbols:
            d, p, s = C.c_int(), C.c_int64(), C.c_double()
            name = _lib.run_symbol(self._h, sid, C.byref(d), C.byref(p), C.byref(s))
            self._symbols[sid] = ((name.decode() if name else "#%d" % sid), d.value,
                                  p.value or 1, s.value or 0.01)
        return self._symbols[sid]

    def _sym_cols(self, ids):
        info = [self.symbol(int(i)) for i in ids]
        return ([x[0] for x in info], np.array([x[2] for x in info], dtype=float),
                np.array([x[3] for x in info], dtype=float))

    @property
    def trades(self):
        """Closed trades, the columns of trades.csv (prices and money as
        floats, times as UTC timestamps) plus *_points and *_minor."""
        if "trades" not in self._frames:
            t = self.trades_array
            names, points, step = self._sym_cols(t["symbol"])
            m = float(self.minor)
            self._frames["trades"] = pd.DataFrame({
                "id": t["id"], "symbol": names,
                "side": np.where(t["side"] > 0, "buy", "sell"),
                "lots": t["qty"] * step, "qty": t["qty"],
                "open_time": _times(t["open_ts"]), "open_price": t["open_price"] / points,
                "close_time": _times(t["close_ts"]), "close_price": t["close_price"] / points,
                "pnl": t["pnl"] / m, "commission": t["commission"] / m, "swap": t["swap"] / m,
                "net": t["net"] / m,
                "close_reason": [_lib.close_reason(int(r)).decode() for r in t["close_reason"]],
                "mae_points": t["mae_points"], "mfe_points": t["mfe_points"],
                "open_order": t["open_order"], "close_order": t["close_order"],
                "open_price_points": t["open_price"], "close_price_points": t["close_price"],
                "net_minor": t["net"]})
        return self._frames["trades"]

    @property
    def orders(self):
        """Every order event: time, symbol, client and venue ids, status,
        reason, side, price (fills; float and points) and qty."""
        if "orders" not in self._frames:
            o = self.orders_array
            names, points, _ = self._sym_cols(o["symbol"])
            self._frames["orders"] = pd.DataFrame({
                "time": _times(o["ts"]), "symbol": names, "client_id": o["client_id"],
                "venue_id": o["venue_id"],
                "status": [_lib.order_status(int(s)).decode() for s in o["status"]],
                "reason": [_lib.order_reason(int(r)).decode() for r in o["reason"]],
                "side": np.where(o["side"] > 0, "buy", np.where(o["side"] < 0, "sell", "")),
                "price": o["price"] / points, "price_points": o["price"], "qty": o["qty"]})
        return self._frames["orders"]

    @property
    def equity(self):
        """The sampled equity series indexed by UTC time: balance, equity,
        margin, exposure (currency units) and the net position (qty)."""
        if "equity" not in self._frames:
            e = self.equity_array
            m = float(self.minor)
            idx = pd.DatetimeIndex(_times(e["ts"]), name="ts")
            self._frames["equity"] = pd.DataFrame({
                "balance": e["balance"] / m, "equity": e["equity"] / m, "margin": e["margin"] / m,
                "exposure": e["exposure"] / m, "position": e["position"]}, index=idx)
        return self._frames["equity"]

    def write_reports(self, directory):
        """report.html, summary.json, trades.csv, series.h5 as the command writes them."""
        err = Err()
        check(_lib.run_reports(self._h, os.fspath(directory).encode(), C.byref(err)), err)

    def __repr__(self):
        return "<ticktape.Result %s: %d trades, net %s, fingerprint %s>" % (
            self.summary.get("name"), len(self.trades_array), self.summary.get("net_pnl"),
            self.fingerprint)


def backtest(scenario, strategy=None, set=None, **overrides):
    """Run a backtest of scenario (a path, YAML text or a dict) with overrides;
    strategy (a ticktape.Strategy) replaces the scenario's. Returns a Result;
    raises TicktapeError with ticktape's message."""
    from .strategy import _Binding
    text, is_text, base = scenario_arg(scenario)
    arr, keep = _lib.strings(overrides_list(set, overrides))
    err = Err()
    h = C.c_void_p()
    binding = _Binding(strategy) if strategy is not None else None
    cb = C.byref(binding.callbacks) if binding else None
    rc = _lib.backtest(C.byref(h), text, is_text, base, arr, len(keep), cb, C.byref(err))
    if binding:
        binding.raise_pending()
    check(rc, err)
    return Result(h)


def _table(fn, path, jobs, set, overrides):
    arr, keep = _lib.strings(overrides_list(set, overrides))
    err = Err()
    out = C.c_void_p()
    rc = fn(os.fspath(path).encode(), arr, len(keep), jobs, C.byref(out), C.byref(err))
    text = None
    if out.value:
        text = C.string_at(out.value).decode()
        _lib.libc_free(out)
    if rc < 0 and not (rc == -10 and text):
        check(rc, err)
    return json.loads(text)


def sweep(scenario, jobs=1, set=None, **overrides):
    """The scenario file's sweep: as a DataFrame, one row per run in job order
    (the columns of sweep.csv); .attrs holds the name and the swept keys."""
    t = _table(_lib.sweep, scenario, jobs, set, overrides)
    rows = []
    for r in t["runs"]:
        row = {k: r[k] for k in ("index", "run_id", "status")}
        row.update(r.get("params", {}))
        row.update({k: v for k, v in r.items() if k not in row and k != "params"})
        rows.append(row)
    df = pd.DataFrame(rows)
    for k in t.get("params", []):
        try:
            df[k] = pd.to_numeric(df[k])
        except (ValueError, TypeError):
            pass
    df.attrs["name"] = t.get("name")
    df.attrs["params"] = t.get("params")
    return df


def walkforward(scenario, jobs=1, set=None, **overrides):
    """The scenario file's walk-forward: a DataFrame of folds (windows, the
    parameters chosen, in- and out-of-sample figures); .attrs holds the
    whole --json object (oos, wfe, fingerprint ...)."""
    t = _table(_lib.walkforward, scenario, jobs, set, overrides)
    rows = []
    for f in t["folds"]:
        row = {k: f[k] for k in ("fold", "train_from", "train_to", "test_from", "test_to",
                                 "qualified")}
        for k in ("train_from", "train_to", "test_from", "test_to"):
            row[k] = pd.Timestamp(row[k])
        if f.get("params") is not None:
            row.update({"param." + k: v for k, v in f["params"].items()})
            row["objective"] = f.get("objective")
            for side in ("in_sample", "out_of_sample"):
                for k, v in f[side].items():
                    row["%s.%s" % ("is" if side == "in_sample" else "oos", k)] = v
        rows.append(row)
    df = pd.DataFrame(rows)
    df.attrs.update({k: v for k, v in t.items() if k != "folds"})
    return df
