"""Gradient descent on L-smooth convex functions: the tight last-iterate worst case.

Setting:   x_{k+1} = x_k - gamma grad f(x_k), f convex and L-smooth, ||x_0 - x*|| <= D,
           performance f(x_n) - f*.
Claims:    (1) step 1/L: the worst case is exactly L D^2/(4n + 2); (2) step h/L, 0 < h <= 1: exactly
           L D^2/(4nh + 2) (Drori & Teboulle 2014, Thm 3.1 and Sec. 3.2; research notes Sec. 8: PEPit with
           CLARABEL 0.0555555558 = 1/18 at n = 4, h = 1).
Derived:   the lower bound from the Huber family f_a (theory/derive/worst_case.py: the card's rule on the
           linear piece, the worst threshold a = D/(2nh + 1) by SymPy); the upper bound is stated and
           checked by the performance-estimation SDP built from the card's rule.
Reference: Drori & Teboulle, "Performance of first-order methods for smooth convex minimization: a novel
           approach", Math. Prog. 145 (2014), arXiv 1206.3209; Goujaud et al., PEPit, arXiv 2201.04040.
"""
import sympy as sp

from theory import Card, Simulation, Source, WorstCase, grad

x = sp.Symbol("x")
gamma = sp.Symbol("gamma", positive=True)
L = sp.Symbol("L", positive=True)
D = sp.Symbol("D", positive=True)
n = sp.Symbol("n", integer=True, positive=True)
h = sp.Symbol("h", positive=True)
lam = sp.Symbol("lambda", positive=True)   # the per-mode eigenvalue every grad(.) rule declares (unused here)
k = sp.Symbol("k", integer=True, positive=True)

SOURCE = Source("1206.3209", "Thm 3.1 (tight bound L R^2/(4nh + 2) for 0 < h <= 1)", "Drori, Teboulle 2014",
                "Performance of first-order methods for smooth convex minimization: a novel approach")
COMMON = dict(step=gamma, index=k, steps=n, radius=D, constants={"L": L}, function_class="smooth_convex", tight=True)

CARDS = (
    Card(
        id="gd.convex.smooth_tight",
        title="GD with step 1/L on L-smooth convex f: worst case of f(x_n) - f* is exactly L D^2/(4n+2)",
        symbols=(gamma, L, D, n, lam), eigenvalue=lam,
        state=(x,), update=(x - gamma * grad(x),),
        assumptions=(n <= 8,), sample={n: (1, 8)},
        claims=(WorstCase("step_one_over_L", value=L * D ** 2 / (4 * n + 2), schedule=1 / L,
                          statement="max over convex L-smooth f, ||x0 - x*|| <= D, of f(x_n) - f* = L D^2/(4n+2)",
                          **COMMON),),
        source=SOURCE,
        simulation=Simulation("worst_case_gd_huber", at={L: 1, D: 1}, spectrum=(1.0,), steps=10, seeds=1,
                              options={"n_max": 8}),
    ),
    Card(
        id="gd.convex.smooth_short_steps",
        title="GD with step h/L (0 < h <= 1) on L-smooth convex f: worst case L D^2/(4nh+2)",
        symbols=(gamma, L, D, n, h, lam), eigenvalue=lam,
        state=(x,), update=(x - gamma * grad(x),),
        assumptions=(n <= 8, h <= 1), sample={n: (1, 8), h: (0.05, 1)},
        claims=(WorstCase("step_h_over_L", value=L * D ** 2 / (4 * n * h + 2), schedule=h / L,
                          statement="max over convex L-smooth f, ||x0 - x*|| <= D, of f(x_n) - f* = "
                                    "L D^2/(4nh+2) for 0 < h <= 1", **COMMON),),
        source=SOURCE,
    ),
)
