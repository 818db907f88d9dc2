"""Max-margin solvers: ours (NNLS least-distance QP for l2; HiGHS LP for l_inf) vs peers in the same run.

Reports, per problem size, wall time of each route and the relative margin gap to ours:
l2 vs scikit-learn's SVC (hard margin on the data and its mirror image) and SLSQP on the primal;
l_inf vs the dual LP (HiGHS interior point). Ratios are peer time / our time. Run:

    python benchmarks/bench_max_margin.py
"""
from __future__ import annotations

import time

import numpy as np

from numerics import max_margin
from numerics._implicit_bias import linf_margin_by_dual_lp, margin_by_slsqp, margin_by_svc, planted_data


def timed(fn, repeat: int = 3):
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def main() -> None:
    print(f"{'N x d':>10} | {'l2 ours':>9} {'SVC':>9} {'ratio':>6} {'gap':>8} | {'SLSQP':>9} {'ratio':>6} {'gap':>8} |"
          f" {'linf ours':>9} {'dual LP':>9} {'ratio':>6} {'gap':>8}")
    for n, d in ((8, 6), (32, 16), (128, 32), (256, 64)):
        X, y = planted_data(np.random.default_rng(n * d), n, d)
        t2, mm2 = timed(lambda: max_margin(X, y, "l2"))
        ts, g_svc = timed(lambda: margin_by_svc(X, y))
        tq, g_sl = timed(lambda: margin_by_slsqp(X, y), repeat=1)
        ti, mmi = timed(lambda: max_margin(X, y, "linf"))
        td, g_lp = timed(lambda: linf_margin_by_dual_lp(X, y))
        rel = lambda a, b: abs(a - b) / b  # noqa: E731
        print(f"{n:>4} x {d:<3} | {t2:9.4f} {ts:9.4f} {ts / t2:6.1f} {rel(g_svc, mm2.margin):8.1e} | {tq:9.4f} "
              f"{tq / t2:6.1f} {rel(g_sl, mm2.margin):8.1e} | {ti:9.4f} {td:9.4f} {td / ti:6.1f} "
              f"{rel(g_lp, mmi.margin):8.1e}")


if __name__ == "__main__":
    main()
