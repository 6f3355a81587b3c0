"""A reinforcement-learning environment over a scenario (Gymnasium's
signature, without depending on Gymnasium).

Why: service 9 trains policies FinRL-style; this gives them ticktape's
venue, costs and risk instead of a toy market. One step is one closed bar of
the scenario's first symbol; the observation is the feature engine's row for
that bar (core/features.h; the scenario's ml: section or the features= list
chooses the columns, NaN given as 0) followed by the position in lots; the
action is the target position in lots (a float, or an array of one); the
reward is the change of the account's equity in currency units over the step.
An episode is one backtest of the scenario; the same seed and actions give
the same episode, and info["fingerprint"] at its end is the run's.
"""
import ctypes as C

import numpy as np

from . import _lib
from ._lib import Err, check
from .run import overrides_list, scenario_arg


class Box:
    """The shape and bounds of a space (the part of gymnasium.spaces.Box
    agents read)."""

    def __init__(self, low, high, shape, dtype=np.float64):
        self.low, self.high, self.shape, self.dtype = low, high, shape, dtype

    def sample(self, rng=None):
        rng = rng or np.random.default_rng()
        lo = np.broadcast_to(self.low, self.shape)
        hi = np.broadcast_to(self.high, self.shape)
        return rng.uniform(lo, hi).astype(self.dtype)


class Env:
    """Env(scenario, timeframe=None, side=None, features=None, max_position=1.0,
    max_steps=None, set=None, **overrides).

    reset(seed=None) -> (obs, info); step(action) -> (obs, reward, terminated,
    truncated, info). terminated: the data ended; truncated: max_steps reached.
    """

    metadata = {"render_modes": []}

    def __init__(self, scenario, timeframe=None, side=None, features=None, max_position=1.0,
                 max_steps=None, set=None, **overrides):
        self._h = None
        text, is_text, base = scenario_arg(scenario)
        arr, keep = _lib.strings(overrides_list(set, overrides))
        feats = ",".join(features).encode() if features else None
        err = Err()
        h = C.c_void_p()
        check(_lib.env_open(C.byref(h), text, is_text, base, arr, len(keep),
                            timeframe.encode() if timeframe else None,
                            side.encode() if side else None, feats, C.byref(err)), err)
        self._h = h
        self.width = _lib.env_width(h)
        self.columns = [_lib.env_column(h, i).decode() for i in range(self.width)]
        self.max_position = float(max_position)
        self.max_steps = max_steps
        self.observation_space = Box(-np.inf, np.inf, (self.width,))
        self.action_space = Box(-self.max_position, self.max_position, (1,))
        self._obs = np.zeros(self.width)
        self._steps = 0
        self._done = True

    def close(self):
        if getattr(self, "_h", None):
            _lib.env_free(self._h)
            self._h = None

    def __del__(self):
        self.close()

    def _info(self):
        ts, eq, pos, fp = C.c_int64(), C.c_double(), C.c_double(), C.c_char_p()
        _lib.env_info(self._h, C.byref(ts), C.byref(eq), C.byref(pos), C.byref(fp))
        return {"time": ts.value, "equity": eq.value, "position": pos.value,
                "fingerprint": fp.value.decode() if fp.value else "", "steps": self._steps}

    def reset(self, seed=None, options=None):
        """Start an episode (seed replaces the scenario's seed); returns (obs, info)."""
        err = Err()
        obs = np.zeros(self.width)
        check(_lib.env_reset(self._h, 0 if seed is None else 1, 0 if seed is None else int(seed),
                             obs.ctypes.data, C.byref(err)), err)
        self._steps = 0
        self._done = False
        return obs, self._info()

    def step(self, action):
        """Target position in lots (clipped to +-max_position); returns
        (obs, reward, terminated, truncated, info)."""
        a = float(np.asarray(action, dtype=float).reshape(-1)[0])
        a = min(max(a, -self.max_position), self.max_position)
        err = Err()
        obs = np.zeros(self.width)
        reward, done = C.c_double(), C.c_int()
        check(_lib.env_step(self._h, a, obs.ctypes.data, C.byref(reward), C.byref(done),
                            C.byref(err)), err)
        self._steps += 1
        terminated = bool(done.value)
        truncated = (not terminated and self.max_steps is not None
                     and self._steps >= self.max_steps)
        return obs, reward.value, terminated, truncated, self._info()
