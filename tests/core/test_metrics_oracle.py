"""Oracle for tests/core/test_metrics.c: the figures of docs/metrics.md,
computed with pandas/numpy from CSV files the C test writes.

usage: test_metrics_oracle.py EQUITY.csv TRADES.csv INITIAL PPY RISK_FREE
prints "key value" lines; prints SKIP when pandas is missing.
"""
import sys

try:
    import numpy as np
    import pandas as pd
except ImportError:
    print("SKIP pandas")
    sys.exit(0)

eq_path, tr_path, initial, ppy, rf = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
e = pd.read_csv(eq_path)
t = pd.read_csv(tr_path)

ts = e["ts"].to_numpy(dtype=np.int64)
eq = e["equity"].astype(float)
final = eq.iloc[-1]
out = {}
out["total_return"] = final / initial - 1
years = (ts[-1] - ts[0]) / (365.25 * 86400e9)
out["cagr"] = (final / initial) ** (1 / years) - 1

# daily closes: last point of each UTC day that has points
s = pd.Series(eq.to_numpy(), index=pd.to_datetime(ts, unit="ns"))
closes = s.resample("D").last().dropna()
prev = closes.shift(1)
prev.iloc[0] = initial
r = closes / prev - 1
out["days"] = len(r)
sd = r.std()  # ddof=1
ex = r - rf / ppy
out["ann_volatility"] = sd * np.sqrt(ppy)
out["sharpe"] = ex.mean() / sd * np.sqrt(ppy)
out["sortino"] = ex.mean() / np.sqrt((np.minimum(ex, 0.0) ** 2).mean()) * np.sqrt(ppy)

# drawdown: the curve starts at the initial balance at the first point's time
curve = pd.DataFrame({"ts": np.concatenate([[ts[0]], ts]), "eq": np.concatenate([[initial], eq.to_numpy()])})
peak = curve["eq"].cummax()
dd = peak - curve["eq"]
frac = dd / peak
out["max_drawdown"] = dd.max()
out["max_drawdown_frac"] = frac.max()
out["calmar"] = out["cagr"] / out["max_drawdown_frac"]
is_peak = curve["eq"] >= peak
peak_ts = curve["ts"].where(is_peak).ffill()
under = ~is_peak
dur = (curve["ts"] - peak_ts.shift(1))[under.shift(1, fill_value=False)]
durs = list(dur)
if under.iloc[-1]:
    durs.append(curve["ts"].iloc[-1] - peak_ts.iloc[-1])
out["max_dd_duration"] = max(durs) if durs else 0

inm = (e["position"] != 0).to_numpy()[:-1]
out["time_in_market"] = (np.diff(ts) * inm).sum() / (ts[-1] - ts[0])

net = t["net"].astype(float)
wins, losses = net[net > 0], net[net < 0]
out["win_rate"] = len(wins) / len(net)
out["profit_factor"] = wins.sum() / -losses.sum()
out["expectancy"] = net.mean()
out["avg_win"] = wins.mean()
out["avg_loss"] = losses.mean()
out["trade_stdev"] = net.std()  # ddof=1
out["sqn"] = np.sqrt(len(net)) * net.mean() / net.std()  # backtrader's SQN analyzer
out["commissions"] = t["commission"].sum()
out["swaps"] = t["swap"].sum()

for k, v in out.items():
    print(k, repr(float(v)))
