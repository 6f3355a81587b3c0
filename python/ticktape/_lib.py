"""ticktape's flat C API (api/ticktape_api.h) through ctypes.

Why: the package has no compiled part of its own; everything goes through
libticktape.so, found once at import: the file or folder named by
$TICKTAPE_LIB, else the library this package was installed with (the
_install.py written by `make install`), else the loader's search path.
Every record layout mirrored here is checked against the library's own
sizeof (tt_api_struct_size) at load, so a mismatch fails loudly at import
instead of reading garbage.
"""
import ctypes as C
import os

import numpy as np

_HERE = os.path.dirname(os.path.abspath(__file__))


class TicktapeError(Exception):
    """An error reported by libticktape: .code is its TT_E* code (negative),
    .name its short name ("EINVAL"), str() its message."""

    NAMES = {-1: "EIO", -2: "EFORMAT", -3: "ECHECKSUM", -4: "EVERSION", -5: "EINVAL",
             -6: "ENOMEM", -7: "ENOTFOUND", -8: "EORDER", -9: "ETORN", -10: "EPARTIAL",
             -11: "ENET", -12: "EABI", -13: "ESTATE"}

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.name = self.NAMES.get(code, "E?")


def _candidates():
    env = os.environ.get("TICKTAPE_LIB")
    if env:
        return [os.path.join(env, "libticktape.so") if os.path.isdir(env) else env]
    out = []
    try:
        from . import _install  # written by `make install`
        out.append(os.path.join(_install.LIBDIR, "libticktape.so.0"))
    except ImportError:
        pass
    out += ["libticktape.so.0", "libticktape.so"]
    return out


def _load():
    errors = []
    for path in _candidates():
        try:
            return C.CDLL(path)
        except OSError as e:
            errors.append(str(e))
    raise ImportError("ticktape: cannot load libticktape (set TICKTAPE_LIB to the library "
                      "or its folder): " + "; ".join(errors))


lib = _load()


class Err(C.Structure):
    _fields_ = [("code", C.c_int), ("msg", C.c_char * 1024)]


def check(rc, err):
    """Raise TicktapeError for a negative return code; else return it."""
    if rc < 0:
        raise TicktapeError(rc, err.msg.decode("utf-8", "replace") or
                            TicktapeError.NAMES.get(rc, "error %d" % rc))
    return rc


# ---- record layouts (checked against the library below) ----

QUOTE = np.dtype([("ts", "<i8"), ("bid", "<i8"), ("ask", "<i8"), ("bid_vol", "<f4"),
                  ("ask_vol", "<f4")], align=True)
BAR = np.dtype([("ts", "<i8"), ("close_ts", "<i8"), ("open", "<i8"), ("high", "<i8"),
                ("low", "<i8"), ("close", "<i8"), ("volume", "<f8"), ("ticks", "<u4"),
                ("tf", "u1"), ("side", "u1"), ("reserved", "<u2")], align=True)
TRADE = np.dtype([("id", "<u8"), ("symbol", "<u4"), ("side", "i1"), ("close_reason", "u1"),
                  ("reserved", "<u2"), ("qty", "<i8"), ("open_ts", "<i8"),
                  ("open_price", "<i8"), ("close_ts", "<i8"), ("close_price", "<i8"),
                  ("pnl", "<i8"), ("commission", "<i8"), ("swap", "<i8"), ("net", "<i8"),
                  ("open_order", "<u8"), ("close_order", "<u8"), ("mae_points", "<i8"),
                  ("mfe_points", "<i8")], align=True)
ORDER = np.dtype([("ts", "<i8"), ("client_id", "<u8"), ("venue_id", "<u8"),
                  ("symbol", "<u4"), ("status", "u1"), ("reason", "<u2"), ("side", "i1"),
                  ("price", "<i8"), ("qty", "<i8")], align=True)
EQUITY = np.dtype([("ts", "<i8"), ("balance", "<i8"), ("equity", "<i8"), ("margin", "<i8"),
                   ("exposure", "<i8"), ("position", "<i8")], align=True)


class Account(C.Structure):
    _fields_ = [(n, C.c_int64) for n in ("balance", "equity", "unrealized", "margin",
                                          "free_margin", "exposure", "realized",
                                          "commissions", "swaps", "net_qty")] + \
               [("margin_level", C.c_double)]


class ApiBar(C.Structure):
    _fields_ = [("ts", C.c_int64), ("close_ts", C.c_int64), ("open", C.c_int64),
                ("high", C.c_int64), ("low", C.c_int64), ("close", C.c_int64),
                ("volume", C.c_double), ("ticks", C.c_uint32), ("tf", C.c_uint8),
                ("side", C.c_uint8), ("reserved", C.c_uint16)]


_ctx = C.c_void_p
CREATE = C.CFUNCTYPE(C.c_int, C.c_void_p, _ctx)
ON_START = C.CFUNCTYPE(C.c_int, C.c_void_p, _ctx)
ON_QUOTE = C.CFUNCTYPE(None, C.c_void_p, _ctx, C.c_int64, C.c_uint32, C.c_int64, C.c_int64)
ON_BAR = C.CFUNCTYPE(None, C.c_void_p, _ctx, C.POINTER(ApiBar), C.c_uint32)
ON_FILL = C.CFUNCTYPE(None, C.c_void_p, _ctx, C.c_int64, C.c_uint32, C.c_uint64, C.c_int,
                      C.c_int64, C.c_int64, C.c_int64)
ON_ORDER = C.CFUNCTYPE(None, C.c_void_p, _ctx, C.c_int64, C.c_uint32, C.c_uint64, C.c_int,
                       C.c_int, C.c_int, C.c_int64)
ON_TIMER = C.CFUNCTYPE(None, C.c_void_p, _ctx, C.c_uint64, C.c_uint64)
ON_EXTERNAL = C.CFUNCTYPE(None, C.c_void_p, _ctx, C.c_int64, C.c_uint32, C.c_uint32,
                          C.c_double, C.POINTER(C.c_uint8), C.c_uint32)
ON_STOP = C.CFUNCTYPE(None, C.c_void_p, _ctx)


class Callbacks(C.Structure):
    _fields_ = [("user", C.c_void_p), ("create", CREATE), ("on_start", ON_START),
                ("on_quote", ON_QUOTE), ("on_bar", ON_BAR), ("on_fill", ON_FILL),
                ("on_order", ON_ORDER), ("on_timer", ON_TIMER), ("on_external", ON_EXTERNAL),
                ("on_stop", ON_STOP)]


def _fn(name, res, *args):
    f = getattr(lib, name)
    f.restype = res
    f.argtypes = list(args)
    return f


_P = C.c_void_p
_E = C.POINTER(Err)
_S = C.c_char_p
_I64 = C.c_int64
_PP = C.POINTER(C.c_void_p)
_STRS = C.POINTER(C.c_char_p)

api_version = _fn("tt_api_version", C.c_int)
library_version = _fn("tt_api_library_version", _S)
struct_size = _fn("tt_api_struct_size", C.c_size_t, _S)

tape_open = _fn("tt_api_tape_open", C.c_int, _PP, _S, _E)
tape_close = _fn("tt_api_tape_close", None, _P)
tape_streams = _fn("tt_api_tape_streams", C.c_int, _P)
tape_stream = _fn("tt_api_tape_stream", C.c_int, _P, C.c_int, C.POINTER(_S), C.POINTER(_S),
                  C.POINTER(C.c_uint64), C.POINTER(_I64), C.POINTER(_I64), _E)
instrument = _fn("tt_api_instrument", C.c_int, _S, C.POINTER(_I64), C.POINTER(C.c_int), _E)
quotes_open = _fn("tt_api_quotes_open", C.c_int, _PP, _P, _S, _I64, _I64,
                  C.POINTER(C.c_uint64), _E)
bars_open = _fn("tt_api_bars_open", C.c_int, _PP, _P, _S, _S, _S, _I64, _I64,
                C.POINTER(C.c_uint64), _E)
quotes_read = _fn("tt_api_quotes_read", _I64, _P, _P, C.c_size_t, _E)
bars_read = _fn("tt_api_bars_read", _I64, _P, _P, C.c_size_t, _E)
cursor_close = _fn("tt_api_cursor_close", None, _P)

backtest = _fn("tt_api_backtest", C.c_int, _PP, _S, C.c_int, _S, _STRS, C.c_int,
               C.POINTER(Callbacks), _E)
run_free = _fn("tt_api_run_free", None, _P)
run_summary = _fn("tt_api_run_summary", _S, _P)
run_fingerprint = _fn("tt_api_run_fingerprint", _S, _P)
run_minor = _fn("tt_api_run_minor", _I64, _P)
run_trades = _fn("tt_api_run_trades", _P, _P, C.POINTER(C.c_size_t))
run_orders = _fn("tt_api_run_orders", _P, _P, C.POINTER(C.c_size_t))
run_equity = _fn("tt_api_run_equity", _P, _P, C.POINTER(C.c_size_t))
run_symbol = _fn("tt_api_run_symbol", _S, _P, C.c_uint32, C.POINTER(C.c_int), C.POINTER(_I64),
                 C.POINTER(C.c_double))
run_reports = _fn("tt_api_run_reports", C.c_int, _P, _S, _E)
order_status = _fn("tt_api_order_status", _S, C.c_int)
order_reason = _fn("tt_api_order_reason", _S, C.c_int)
close_reason = _fn("tt_api_close_reason", _S, C.c_int)

sweep = _fn("tt_api_sweep", C.c_int, _S, _STRS, C.c_int, C.c_uint, C.POINTER(C.c_void_p), _E)
walkforward = _fn("tt_api_walkforward", C.c_int, _S, _STRS, C.c_int, C.c_uint,
                  C.POINTER(C.c_void_p), _E)
libc_free = C.CDLL(None).free
libc_free.argtypes = [C.c_void_p]
libc_free.restype = None

ctx_now = _fn("tt_api_ctx_now", _I64, _ctx)
ctx_symbol_id = _fn("tt_api_ctx_symbol_id", C.c_uint32, _ctx, _S)
ctx_symbol_name = _fn("tt_api_ctx_symbol_name", _S, _ctx, C.c_uint32)
ctx_symbol_count = _fn("tt_api_ctx_symbol_count", C.c_uint32, _ctx)
ctx_symbol_at = _fn("tt_api_ctx_symbol_at", C.c_uint32, _ctx, C.c_uint32)
ctx_quote = _fn("tt_api_ctx_quote", C.c_int, _ctx, C.c_uint32, C.POINTER(_I64), C.POINTER(_I64))
ctx_position = _fn("tt_api_ctx_position", _I64, _ctx, C.c_uint32)
ctx_account = _fn("tt_api_ctx_account", None, _ctx, C.POINTER(Account))
ctx_submit = _fn("tt_api_ctx_submit", C.c_uint64, _ctx, C.c_uint32, C.c_int, C.c_int, C.c_int,
                 _I64, _I64, _I64, _I64, _I64, _I64, C.c_uint32)
ctx_cancel = _fn("tt_api_ctx_cancel", C.c_int, _ctx, C.c_uint64)
ctx_modify = _fn("tt_api_ctx_modify", C.c_int, _ctx, C.c_uint64, _I64, _I64, _I64, _I64)
ctx_close = _fn("tt_api_ctx_close", C.c_int, _ctx, C.c_uint32)
ctx_timer_set = _fn("tt_api_ctx_timer_set", C.c_uint64, _ctx, _I64, C.c_uint64)
ctx_timer_cancel = _fn("tt_api_ctx_timer_cancel", None, _ctx, C.c_uint64)
ctx_log = _fn("tt_api_ctx_log", None, _ctx, C.c_int, _S)
ctx_random = _fn("tt_api_ctx_random", C.c_double, _ctx)
ctx_param_int = _fn("tt_api_ctx_param_int", C.c_int, _ctx, _S, _I64, C.POINTER(_I64))
ctx_param_double = _fn("tt_api_ctx_param_double", C.c_int, _ctx, _S, C.c_double,
                       C.POINTER(C.c_double))
ctx_param_str = _fn("tt_api_ctx_param_str", C.c_int, _ctx, _S, _S, C.POINTER(_S))
ctx_subscribe_bars = _fn("tt_api_ctx_subscribe_bars", C.c_int, _ctx, C.c_uint32, _S, _S)
ctx_fail = _fn("tt_api_ctx_fail", C.c_int, _ctx, C.c_int, _S)

env_open = _fn("tt_api_env_open", C.c_int, _PP, _S, C.c_int, _S, _STRS, C.c_int, _S, _S, _S, _E)
env_free = _fn("tt_api_env_free", None, _P)
env_width = _fn("tt_api_env_width", C.c_int, _P)
env_column = _fn("tt_api_env_column", _S, _P, C.c_int)
env_reset = _fn("tt_api_env_reset", C.c_int, _P, C.c_int, C.c_uint64, _P, _E)
env_step = _fn("tt_api_env_step", C.c_int, _P, C.c_double, _P, C.POINTER(C.c_double),
               C.POINTER(C.c_int), _E)
env_info = _fn("tt_api_env_info", None, _P, C.POINTER(_I64), C.POINTER(C.c_double),
               C.POINTER(C.c_double), C.POINTER(_S))


def _check_layouts():
    mirrors = {"quote": QUOTE.itemsize, "bar": BAR.itemsize, "trade": TRADE.itemsize,
               "order": ORDER.itemsize, "equity": EQUITY.itemsize, "err": C.sizeof(Err), "account": C.sizeof(Account),
               "callbacks": C.sizeof(Callbacks)}
    for name, size in mirrors.items():
        have = struct_size(name.encode())
        if have != size:
            raise ImportError("ticktape: the record '%s' is %d bytes in libticktape, %d here "
                              "(a library of another version?)" % (name, have, size))


_check_layouts()


def strings(items):
    """A C array of char* (and the bytes it points to, to keep alive)."""
    data = [s.encode() if isinstance(s, str) else bytes(s) for s in items]
    arr = (C.c_char_p * max(len(data), 1))(*data)
    return arr, data
