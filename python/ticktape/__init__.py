"""ticktape from Python: tapes as numpy/pandas, backtests, sweeps and
walk-forwards as DataFrames, strategies written in Python, and a
reinforcement-learning environment (docs/python.md).

Everything runs in libticktape (found through $TICKTAPE_LIB, else next to the
installed library); this package is ctypes glue over its flat C API
(api/ticktape_api.h), with numpy and pandas from Debian.
"""
from ._lib import TicktapeError
from .tape import Tape, instrument
from .run import Result, backtest, sweep, walkforward
from .strategy import Strategy, Context
from .env import Env

__all__ = ["Tape", "instrument", "backtest", "sweep", "walkforward", "Result", "Strategy",
           "Context", "Env", "TicktapeError", "version"]


def version():
    """libticktape's version ("0.1.0")."""
    from . import _lib
    return _lib.library_version().decode()
