"""The river-valley toy: valley variance of SGD and of schedule-free SGD under gradient noise; x lags y.

Setting:   L(u, v) = -kappa u + (a/2) v^2: a river coordinate u (constant slope kappa) and a valley coordinate v
           with curvature a; stochastic gradients a v + sigma xi (xi: zero-mean, unit-variance, independent per step).
           In the valley the methods are linear: SGD v+ = v - gamma (a v + sigma xi); schedule-free SGD (constant
           averaging weight c, the late-phase / fixed-window form) y = (1 - beta) z + beta x,
           z+ = z - gamma (a y + sigma xi), x+ = (1 - c) x + c z+.
Claims:    SGD's stationary valley variance is gamma sigma^2/(a (2 - gamma a)); SF's average x has the stationary
           variance below (the discrete Lyapunov equation of the (z, x) system, solved by SymPy), and it is at most
           SGD's for every gamma a < 2, 0 < c < 1, beta in [0, 1): SGD - SF = GAP, a product of positive factors; with c[t] = 1/t on the river, x lags y by the
           averaging window: x[T] = y at time ~ a_w T/(a_w + 1), a_w = 1/(1 - beta) (weights ~ s^(a_w - 1)).
Reference: Song, Baek, Ahn, Yun, "Through the River", arXiv:2507.09846 (river-valley picture [S]; the toy and the
           variance formulas are the research notes' Sec. 3.5 suggestions, derived here).
"""
import sympy as sp

from theory import Bound, Card, Identity, Observed, Simulation, Source, grad

gamma, a, sigma = sp.symbols("gamma a sigma", positive=True)
beta = sp.Symbol("beta", nonnegative=True)
c = sp.Symbol("c", positive=True)
xi = sp.Symbol("xi", real=True)   # the unit-variance gradient noise of one step
v, z, x = sp.symbols("v z x", real=True)

SOURCE = Source("2507.09846", "river-valley landscape (toy and formulas: research notes Sec. 3.5 [S], derived here)",
                "Song, Baek, Ahn, Yun 2025",
                "Through the River: Understanding the Benefit of Schedule-Free Methods for Language Model Training")
SGD_VARIANCE = gamma * sigma**2 / (a * (2 - gamma * a))
K = a * gamma * (1 - beta) * (1 - c)
# SGD - SF, factored so that every factor is visibly positive for gamma a < 2, 0 < c < 1, 0 <= beta < 1:
# P and Q are combinations, with weights 1 - gamma a/2 and gamma a/2, of positive terms
_u = gamma * a
_P = (1 - _u / 2) * (2 * (1 - beta) + beta * c) + _u / 2 * beta * ((1 - beta) * (2 - c) + beta * c)
_Q = (1 - _u / 2) * (4 - 2 * c) + _u / 2 * 4 * beta * (1 - c)
GAP = 2 * gamma**2 * sigma**2 * (1 - c) * _P / ((2 - _u) * (c + gamma * a * (1 - beta) * (1 - c)) * _Q)
SF_VARIANCE = c * gamma * sigma**2 * (2 - c - K) / (a * (c + K) * (4 - 2 * c - a * gamma * c - 2 * K))

SGD = Card(
    id="river_valley.sgd.valley_variance",
    title="River valley, SGD with gradient noise: stationary valley variance gamma sigma^2/(a (2 - gamma a))",
    symbols=(gamma, a, sigma, xi),
    assumptions=(gamma * a < 2,),
    state=(v,),
    update=(v - gamma * (grad(v) + sigma * xi),),
    eigenvalue=a,
    claims=(Identity("valley_variance", SGD_VARIANCE, "sf_stationary_variance", arguments={"noise": xi, "of": v}),),
    sample={a: (0.05, 10.0), sigma: (0.01, 5.0)},
    source=SOURCE,
    notes="Derived here: the stationary second moment of the per-mode rule with additive noise (Lyapunov equation "
          "solved by SymPy); numeric route: scipy.linalg.solve_discrete_lyapunov on the probed linear map. The "
          "simulation is on river_valley.sf.valley_variance (both methods, same noise).",
)

Y = (1 - beta) * z + beta * x
Z_NEXT = z - gamma * (grad(Y) + sigma * xi)
SF = Card(
    id="river_valley.sf.valley_variance",
    title="River valley, schedule-free SGD: the average x has a smaller valley variance than SGD; x lags y",
    symbols=(gamma, a, sigma, beta, c, xi),
    assumptions=(gamma * a < 2, beta < 1, c < 1),
    state=(z, x),
    update=(Z_NEXT, (1 - c) * x + c * Z_NEXT),
    eigenvalue=a,
    claims=(
        Identity("sf_valley_variance", SF_VARIANCE, "sf_stationary_variance", arguments={"noise": xi, "of": x}),
        Bound("below_sgd", of="sf_valley_variance", value=SGD_VARIANCE, sense="upper"),
        Identity("gap_to_sgd", GAP, "sf_stationary_variance",
                 arguments={"noise": xi, "of": x, "relative_to": SGD_VARIANCE}),
        Observed("valley_variance", "torch simulation on L = -kappa u + a v^2/2 with noisy valley gradients, 256 seeded "
                                    "runs per step size: the late-time valley variance of SGD's iterate and of SF's x "
                                    "(constant c) match the closed forms within rtol = 8% at every gamma of the sweep, "
                                    "and SF's is below SGD's", rtol=0.08),
        Observed("x_lags_y", "SF-SGD with c[t] = 1/t on the same river: x[T] equals y at time tau with T - tau within "
                             "rtol = 1% of the averaging window T/(a_w + 1), a_w = 1/(1 - beta)", rtol=0.01),
    ),
    sample={a: (0.05, 10.0), sigma: (0.01, 5.0), beta: (0.0, 0.99), c: (0.001, 0.99)},
    source=SOURCE,
    simulation=Simulation("river_valley_noise", at={a: 1.0, sigma: 1.0, beta: 0.9, c: 0.02}, steps=4000, seeds=256,
                          sweep={gamma: (0.05, 0.1, 0.2, 0.4, 0.8, 1.2)}, options={"kappa": 1.0}),
    notes="Derived here: Sigma = A Sigma A^T + b b^T for the (z, x) rule with constant c, solved by SymPy (the closed "
          "form above is that solution, written out); numeric routes: scipy's discrete Lyapunov solver on the probed "
          "map, and the bound SF <= SGD by hypothesis over the stable region and by the gap identity (gap_to_sgd: SGD - SF "
          "derived by SymPy equals a product of factors each positive on the assumptions) (gamma a < 2 keeps the (z, x) map "
          "stable). The notes (Sec. 3.5 [S]) only say SF's variance is smaller; the exact toy of the paper is "
          "unknown ([X]), so this is the notes' suggested toy.",
)

CARDS = (SGD, SF)
