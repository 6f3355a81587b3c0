"""Strategies written in Python, run by the engine.

Why: research code is Python; the engine is C. A Strategy subclass overrides
any of on_start, on_quote, on_bar, on_fill, on_order, on_timer, on_external,
on_stop; the engine calls them through one C strategy of the API
(api/api_strategy.c) with the same order API as a C strategy (Context below
calls the same host functions as tt_ctx_*). Only the callbacks a class
overrides are given to C, so a strategy that wants bars pays nothing per tick.

Prices are integer points (ctx.points(symbol) per unit), quantities are
volume-step lots (qty 100 = 1 lot with the default step 0.01), times UTC ns.

An exception raised in a callback stops the strategy's callbacks (the run
goes on without it to its end) and is raised again by backtest(); one raised
in setup fails the run with its message.
"""
import ctypes as C
from collections import namedtuple

from . import _lib

Quote = namedtuple("Quote", "ts symbol bid ask")
Bar = namedtuple("Bar", "ts close_ts symbol open high low close volume ticks tf")
Fill = namedtuple("Fill", "ts symbol client_id side price qty commission")
Order = namedtuple("Order", "ts symbol client_id status reason side leaves_qty")
External = namedtuple("External", "ts symbol type value data")

BUY, SELL = 1, -1
_TYPES = {"market": 1, "limit": 2, "stop": 3, "stop_limit": 4}
_TIFS = {"gtc": 1, "ioc": 2, "fok": 3, "gtd": 4}
_TF_NAMES = {1: "S1", 2: "M1", 3: "M5", 4: "M15", 5: "M30", 6: "H1", 7: "H4", 8: "D1",
             9: "W1", 10: "MN1"}


class Context:
    """The strategy's view of the run (valid inside callbacks only)."""

    def __init__(self):
        self._c = None
        self._names = {}
        self._ids = {}

    def _sym(self, s):
        if isinstance(s, str):
            if s not in self._ids:
                self._ids[s] = _lib.ctx_symbol_id(self._c, s.encode())
                if not self._ids[s]:
                    raise KeyError("unknown symbol %r" % s)
            return self._ids[s]
        return int(s)

    @property
    def now(self):
        """Event time, UTC ns."""
        return _lib.ctx_now(self._c)

    def symbol_id(self, name):
        return self._sym(name)

    def symbol_name(self, sid):
        if sid not in self._names:
            n = _lib.ctx_symbol_name(self._c, sid)
            self._names[sid] = n.decode() if n else None
        return self._names[sid]

    @property
    def symbols(self):
        """The run's symbol ids."""
        return [_lib.ctx_symbol_at(self._c, i) for i in range(_lib.ctx_symbol_count(self._c))]

    def quote(self, symbol):
        """(bid, ask) in points, or None before the first quote."""
        b, a = C.c_int64(), C.c_int64()
        if _lib.ctx_quote(self._c, self._sym(symbol), C.byref(b), C.byref(a)):
            return b.value, a.value
        return None

    def position(self, symbol):
        """Net signed qty."""
        return _lib.ctx_position(self._c, self._sym(symbol))

    def account(self):
        """The account (minor units): balance, equity, margin, ... as a dict."""
        a = _lib.Account()
        _lib.ctx_account(self._c, C.byref(a))
        return {k: getattr(a, k) for k, _ in _lib.Account._fields_}

    def submit(self, symbol, side, qty, type="market", price=0, stop_price=0, take_profit=0,
               stop_loss=0, tif="gtc", expire=0, position=0):
        """An order (tt_order_req); returns its client id (0: not sent)."""
        side = BUY if side in (BUY, "buy") else SELL if side in (SELL, "sell") else side
        return _lib.ctx_submit(self._c, self._sym(symbol), side, _TYPES.get(type, type),
                               _TIFS.get(tif, tif), int(qty), int(price), int(stop_price),
                               int(take_profit), int(stop_loss), int(expire), int(position))

    def buy(self, symbol, qty, **kw):
        return self.submit(symbol, BUY, qty, **kw)

    def sell(self, symbol, qty, **kw):
        return self.submit(symbol, SELL, qty, **kw)

    def market(self, symbol, signed_qty, stop_loss=0, take_profit=0):
        """A market order of signed_qty (> 0 buys), as tt_ctx_market."""
        return self.submit(symbol, BUY if signed_qty >= 0 else SELL, abs(int(signed_qty)),
                           stop_loss=stop_loss, take_profit=take_profit)

    def cancel(self, client_id):
        return _lib.ctx_cancel(self._c, client_id)

    def modify(self, client_id, price=0, stop_price=0, stop_loss=0, take_profit=0):
        return _lib.ctx_modify(self._c, client_id, price, stop_price, stop_loss, take_profit)

    def close(self, symbol=0):
        """Flatten a symbol (0: every symbol) with market orders."""
        return _lib.ctx_close(self._c, self._sym(symbol) if symbol else 0)

    def timer(self, at, value=0):
        return _lib.ctx_timer_set(self._c, int(at), value)

    def cancel_timer(self, timer_id):
        _lib.ctx_timer_cancel(self._c, timer_id)

    def log(self, msg, level=1):
        _lib.ctx_log(self._c, level, str(msg).encode())

    def random(self):
        """The strategy's seeded stream: a float in [0, 1)."""
        return _lib.ctx_random(self._c)

    # setup only
    def param(self, key, default):
        """A strategy.params entry (setup only), typed like default."""
        k = key.encode()
        if isinstance(default, bool) or isinstance(default, str):
            out = C.c_char_p()
            rc = _lib.ctx_param_str(self._c, k, str(default).lower() if isinstance(default, bool)
                                    else default.encode(), C.byref(out))
            v = out.value.decode() if out.value else ""
            val = v in ("1", "true", "yes") if isinstance(default, bool) else v
        elif isinstance(default, int):
            out = C.c_int64()
            rc = _lib.ctx_param_int(self._c, k, default, C.byref(out))
            val = out.value
        else:
            out = C.c_double()
            rc = _lib.ctx_param_double(self._c, k, float(default), C.byref(out))
            val = out.value
        if rc < 0:
            raise ValueError("strategy.params.%s: a bad value" % key)
        return val

    def subscribe_bars(self, symbol, timeframe="M1", side="bid"):
        rc = _lib.ctx_subscribe_bars(self._c, self._sym(symbol), timeframe.encode(),
                                     side.encode())
        if rc < 0:
            raise ValueError("cannot subscribe to %s bars of %s (%s)" % (timeframe, symbol, side))


class Strategy:
    """Base class: override what you need. Class attributes:
    bars = ["M1"] subscribes every run symbol to those timeframes' bid bars
    (or (symbol, tf, side) tuples); params = {"fast": 10} reads each from the
    scenario's strategy.params into self.fast (default as given)."""

    bars = ()
    params = {}

    def setup(self, ctx):
        """Called once when the run is built (parameters, bar subscriptions)."""

    def on_start(self, ctx):
        pass

    def on_quote(self, ctx, quote):
        pass

    def on_bar(self, ctx, bar):
        pass

    def on_fill(self, ctx, fill):
        pass

    def on_order(self, ctx, order):
        pass

    def on_timer(self, ctx, timer_id, value):
        pass

    def on_external(self, ctx, event):
        pass

    def on_stop(self, ctx):
        pass


def _overrides(obj, name):
    return getattr(type(obj), name, None) is not getattr(Strategy, name)


class _Binding:
    """The C callbacks of one strategy instance (kept alive for the run)."""

    def __init__(self, strategy):
        self.s = strategy
        self.ctx = Context()
        self.error = None
        cb = _lib.Callbacks()
        cb.create = _lib.CREATE(self._create)
        self._keep = [cb.create]
        table = [("on_start", _lib.ON_START, self._start), ("on_quote", _lib.ON_QUOTE, self._quote),
                 ("on_bar", _lib.ON_BAR, self._bar), ("on_fill", _lib.ON_FILL, self._fill),
                 ("on_order", _lib.ON_ORDER, self._order), ("on_timer", _lib.ON_TIMER, self._timer),
                 ("on_external", _lib.ON_EXTERNAL, self._external),
                 ("on_stop", _lib.ON_STOP, self._stop)]
        for name, proto, fn in table:
            if _overrides(strategy, name):
                f = proto(fn)
                setattr(cb, name, f)
                self._keep.append(f)
        self.callbacks = cb

    def _fail(self, e):
        if self.error is None:
            self.error = e

    def raise_pending(self):
        if self.error is not None:
            e, self.error = self.error, None
            raise e

    def _create(self, user, c):
        self.ctx._c = c
        try:
            for k, default in dict(getattr(self.s, "params", {})).items():
                setattr(self.s, k, self.ctx.param(k, default))
            for sub in self.s.bars:
                if isinstance(sub, str):
                    for sid in self.ctx.symbols:
                        self.ctx.subscribe_bars(sid, sub, "bid")
                else:
                    self.ctx.subscribe_bars(*sub)
            self.s.setup(self.ctx)
            return 0
        except Exception as e:  # noqa: BLE001 (reported as the run's error)
            self._fail(e)
            return _lib.ctx_fail(c, -5, ("python strategy %s: %s: %s" % (
                type(self.s).__name__, type(e).__name__, e)).encode())

    def _start(self, user, c):
        if self.error is None:
            try:
                self.s.on_start(self.ctx)
            except Exception as e:  # noqa: BLE001
                self._fail(e)
        return 0

    def _quote(self, user, c, ts, sym, bid, ask):
        if self.error is None:
            try:
                self.s.on_quote(self.ctx, Quote(ts, sym, bid, ask))
            except Exception as e:  # noqa: BLE001
                self._fail(e)

    def _bar(self, user, c, b, sym):
        if self.error is None:
            try:
                b = b[0]
                self.s.on_bar(self.ctx, Bar(b.ts, b.close_ts, sym, b.open, b.high, b.low, b.close,
                                            b.volume, b.ticks, _TF_NAMES.get(b.tf, "?")))
            except Exception as e:  # noqa: BLE001
                self._fail(e)

    def _fill(self, user, c, ts, sym, cid, side, price, qty, commission):
        if self.error is None:
            try:
                self.s.on_fill(self.ctx, Fill(ts, sym, cid, side, price, qty, commission))
            except Exception as e:  # noqa: BLE001
                self._fail(e)

    def _order(self, user, c, ts, sym, cid, status, reason, side, leaves):
        if self.error is None:
            try:
                self.s.on_order(self.ctx, Order(ts, sym, cid, _lib.order_status(status).decode(),
                                                _lib.order_reason(reason).decode(), side, leaves))
            except Exception as e:  # noqa: BLE001
                self._fail(e)

    def _timer(self, user, c, tid, value):
        if self.error is None:
            try:
                self.s.on_timer(self.ctx, tid, value)
            except Exception as e:  # noqa: BLE001
                self._fail(e)

    def _external(self, user, c, ts, sym, etype, value, data, n):
        if self.error is None:
            try:
                self.s.on_external(self.ctx, External(ts, sym, etype, value,
                                                      C.string_at(data, n) if n else b""))
            except Exception as e:  # noqa: BLE001
                self._fail(e)

    def _stop(self, user, c):
        if self.error is None:
            try:
                self.s.on_stop(self.ctx)
            except Exception as e:  # noqa: BLE001
                self._fail(e)
