"""Implicit bias on separable data: max-margin solvers with KKT certificates, the per-sample Adam
dual fixed point, and the numeric routes of the exact Adam identities (see numerics/_models.py).

Geometry. Rows z_i = y_i x_i. A direction w has normalised margin min_i z_i.w / ||w|| in
- ``l2``: ||w||_2 (hard-margin SVM through the origin, a QP),
- ``linf``: ||w||_inf (an LP, HiGHS),
- ``l2`` with ``metric=m`` (diagonal, m_k > 0): the Mahalanobis norm ||w||_M = sqrt(sum_k m_k w_k^2)
  (a QP with kernel Z diag(1/m) Z^T).
The optimum gamma = max_w min_i z_i.w / ||w|| is unique; the l_inf direction is often not, so compare
normalised margins there, never directions.

Solvers. QP: least-distance programming by Lawson-Hanson NNLS (exact active set). LP: HiGHS.
Independent routes (for checks): sklearn's SVC on the sign-symmetrised data (hard margin through the
origin), SLSQP on the primal, the dual LP min_{lambda in simplex} ||Z^T lambda||_1 (LP duality), and
for the Adam fixed point ``fixed_point_by_support``: constant-damping iteration of a dual map built from
support-set enumeration (no NNLS) and a hand-written metric, from its own uniform start.

``MODELS``: name -> NumericModel; ``IDENTITY_NUMERICS``: derivation name -> numeric route.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from scipy.optimize import linprog, minimize, nnls

from numerics._models import NumericModel
from numerics._result import CheckResult
from theory import InputError

SEPARABLE_TOL = 1e-9  # an l_inf margin below this (relative to max |x|) counts as not separable


# -- input ---------------------------------------------------------------------------------------

def as_data(X, y) -> tuple[np.ndarray, np.ndarray]:
    """(X, y) as float arrays (N x d, N) with labels +-1, or a one-line InputError."""
    try:
        Xa = np.array(X, dtype=float)
        ya = np.array(y, dtype=float)
    except (TypeError, ValueError):
        raise InputError("X must be a list of equal-length rows of numbers and y a list of numbers") from None
    if Xa.ndim != 2 or Xa.shape[0] < 1 or Xa.shape[1] < 1:
        raise InputError(f"X must be a non-empty N x d table, got shape {Xa.shape}")
    if ya.ndim != 1 or ya.shape[0] != Xa.shape[0]:
        raise InputError(f"y must have one label per row of X ({Xa.shape[0]}), got shape {ya.shape}")
    if not (np.all(np.isfinite(Xa)) and np.all(np.isfinite(ya))):
        raise InputError("X and y must be finite (no NaN or inf)")
    if not np.all(np.abs(ya) == 1):
        raise InputError("labels y must be +1 or -1")
    return Xa, ya


def _metric(metric, d: int) -> np.ndarray | None:
    if metric is None:
        return None
    m = np.array(metric, dtype=float).reshape(-1)
    if m.shape != (d,) or not np.all(np.isfinite(m)) or not np.all(m > 0):
        raise InputError(f"metric must be {d} positive finite numbers (the diagonal of M)")
    return m


# -- results -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class MaxMargin:
    """The max-margin direction (unit norm in its geometry), the optimal normalised margin, the dual
    variables alpha of min ||w|| s.t. Z w >= 1 (scaled so that w_hat = w*/||w*||), and the KKT residuals."""
    norm: str
    direction: np.ndarray
    margin: float
    duals: np.ndarray
    kkt: Mapping[str, float] = field(default_factory=dict)

    @property
    def kkt_residual(self) -> float:
        return max(self.kkt.values())


@dataclass(frozen=True)
class FixedPoint:
    """lambda in the simplex with lambda = alpha(lambda)/||alpha(lambda)||_1; metric = diag of M(lambda);
    direction = M^-1 Z^T lambda normalised in ||.||_M; residual = ||lambda - T(lambda)||_1."""
    lam: np.ndarray
    metric: np.ndarray
    direction: np.ndarray
    margin: float
    iterations: int
    residual: float
    converged: bool


# -- helpers -------------------------------------------------------------------------------------

def _z(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    return X * y[:, None]


def norm_of(w: np.ndarray, norm: str, metric: np.ndarray | None = None) -> float:
    if norm == "linf":
        return float(np.max(np.abs(w)))
    if metric is not None:
        return float(np.sqrt(np.sum(metric * w * w)))
    return float(np.linalg.norm(w))


def normalised_margin(X, y, w, norm: str = "l2", metric=None) -> float:
    """min_i y_i x_i.w / ||w|| in the geometry (a number; -inf for w = 0)."""
    Xa, ya = as_data(X, y)
    w = np.asarray(w, dtype=float)
    n = norm_of(w, norm, _metric(metric, Xa.shape[1]))
    return float(np.min(_z(Xa, ya) @ w) / n) if n > 0 else -math.inf


def _separability(Z: np.ndarray) -> float:
    """max_{||w||_inf <= 1} min_i z_i.w by LP (> 0 iff separable through the origin)."""
    N, d = Z.shape
    c = np.zeros(d + 1)
    c[-1] = -1.0
    A = np.hstack([-Z, np.ones((N, 1))])
    res = linprog(c, A_ub=A, b_ub=np.zeros(N), bounds=[(-1, 1)] * d + [(None, None)], method="highs")
    if res.status != 0:
        raise InputError(f"the separability LP failed: {res.message}")
    return float(-res.fun)


def _require_separable(Z: np.ndarray) -> None:
    scale = float(np.max(np.abs(Z)))
    if scale == 0 or _separability(Z) <= SEPARABLE_TOL * scale:
        raise InputError("the data are not linearly separable through the origin (no w with y_i x_i.w > 0 "
                         "for all i)")


def _ldp(G: np.ndarray) -> np.ndarray:
    """min ||u||_2 s.t. G u >= 1 (least-distance programming, Lawson & Hanson ch. 23, via NNLS)."""
    N, d = G.shape
    E = np.vstack([G.T, np.ones((1, N))])
    f = np.zeros(d + 1)
    f[-1] = 1.0
    v, _ = nnls(E, f, maxiter=50 * (N + d))
    r = E @ v - f
    if abs(r[-1]) < 1e-14:
        raise InputError("the data are not linearly separable through the origin")
    return -r[:d] / r[-1]


def _kkt_quadratic(Z: np.ndarray, w: np.ndarray, alpha: np.ndarray, metric: np.ndarray) -> dict[str, float]:
    """KKT residuals of min 1/2 w^T M w s.t. Z w >= 1 at (w, alpha), relative to the scale of w."""
    scale = max(1.0, float(np.max(np.abs(metric * w))))
    slack = Z @ w - 1
    return {"primal_feasibility": float(max(0.0, -np.min(slack))),
            "dual_feasibility": float(max(0.0, -np.min(alpha))),
            "complementary_slackness": float(np.max(np.abs(alpha * slack))) / scale,
            "stationarity": float(np.max(np.abs(metric * w - Z.T @ alpha))) / scale}


def _quadratic(Z: np.ndarray, metric: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(w*, alpha) of min 1/2 w^T M w s.t. Z w >= 1 (M = diag(metric))."""
    s = np.sqrt(metric)
    u = _ldp(Z / s)               # u = M^1/2 w
    w = u / s
    # duals: M w = Z^T alpha, alpha >= 0, supported on the active constraints (NNLS on the active set)
    active = np.flatnonzero(Z @ w <= 1 + 1e-9 * max(1.0, float(np.max(np.abs(Z @ w)))))
    alpha = np.zeros(Z.shape[0])
    a, _ = nnls(Z[active].T, metric * w, maxiter=50 * Z.shape[0])
    alpha[active] = a
    return w, alpha


def _linf(Z: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict[str, float]]:
    """(w*, alpha, kkt) of min ||w||_inf s.t. Z w >= 1 by the LP min t s.t. Z w >= 1, |w_k| <= t."""
    N, d = Z.shape
    c = np.zeros(d + 1)
    c[-1] = 1.0
    A = np.vstack([np.hstack([-Z, np.zeros((N, 1))]),
                   np.hstack([np.eye(d), -np.ones((d, 1))]),
                   np.hstack([-np.eye(d), -np.ones((d, 1))])])
    b = np.concatenate([-np.ones(N), np.zeros(2 * d)])
    res = linprog(c, A_ub=A, b_ub=b, bounds=[(None, None)] * (d + 1), method="highs-ds")
    if res.status != 0:
        raise InputError(f"the l_inf max-margin LP failed: {res.message}")
    w, t = res.x[:d], float(res.x[-1])
    alpha = -res.ineqlin.marginals[:N]
    v = Z.T @ alpha
    scale = max(1.0, t)
    kkt = {"primal_feasibility": float(max(0.0, -np.min(Z @ w - 1))),
           "dual_feasibility": float(max(0.0, -np.min(alpha))),
           "complementary_slackness": float(np.max(np.abs(alpha * (Z @ w - 1)))) / scale,
           # subgradient condition Z^T alpha in d||w||_inf(w): ||v||_1 = 1 and v.w = ||v||_1 ||w||_inf
           "stationarity": abs(float(np.sum(np.abs(v))) - 1.0) + abs(float(np.sum(np.abs(v))) * t - float(v @ w))
           / scale,
           "duality_gap": abs(float(np.sum(alpha)) - t) / scale}
    return w, alpha, kkt


# -- public solvers ------------------------------------------------------------------------------

def max_margin(X, y, norm: str = "l2", metric=None, *, check: bool = True) -> MaxMargin:
    """The max-margin direction of separable data in the l2, l_inf or diagonal-Mahalanobis geometry.

    ``norm='l2'`` with ``metric=None``: the l2 SVM; with ``metric=m`` (the diagonal of M, m > 0): the
    Mahalanobis SVM min w^T M w s.t. y_i x_i.w >= 1. ``norm='linf'``: the l_inf max margin (LP).
    Non-separable data, bad shapes or non-finite values raise ``InputError`` (``check=False`` skips the
    separability LP for data already checked)."""
    Xa, ya = as_data(X, y)
    if norm not in ("l2", "linf"):
        raise InputError(f"norm must be 'l2' or 'linf', got {norm!r}")
    m = _metric(metric, Xa.shape[1])
    if norm == "linf" and m is not None:
        raise InputError("a metric goes with norm='l2' (the Mahalanobis geometry), not with 'linf'")
    Z = _z(Xa, ya)
    if check:
        _require_separable(Z)
    if norm == "linf":
        w, alpha, kkt = _linf(Z)
    else:
        mm = np.ones(Z.shape[1]) if m is None else m
        w, alpha = _quadratic(Z, mm)
        kkt = _kkt_quadratic(Z, w, alpha, mm)
    size = norm_of(w, norm, m)
    return MaxMargin(norm if m is None else "mahalanobis", w / size, 1.0 / size, alpha * (1.0 / size),
                     dict(kkt))


def gr_metric(X: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """diag M(lambda) = (sum_i lambda_i^2 x_ik^2)^(1/2), coordinate-wise."""
    return np.sqrt((lam[:, None] ** 2 * X ** 2).sum(axis=0))


def _metric_floor(m: np.ndarray) -> np.ndarray:
    top = float(np.max(m))
    return np.maximum(m, 1e-12 * top) if top > 0 else np.ones_like(m)


def adam_fixed_point(X, y, *, damping: float = 0.5, tol: float = 1e-12, max_iter: int = 2000,
                     start=None, adaptive: bool = True, check: bool = True) -> FixedPoint:
    """The per-sample Adam (beta2 -> 1) dual fixed point by damped iteration
    lambda <- (1 - rho) lambda + rho T(lambda) (rho adapted from ``damping`` unless adaptive=False), T(lambda) = alpha(lambda)/||alpha(lambda)||_1, alpha the
    duals of the Mahalanobis SVM with metric M(lambda). Non-convergence is a result (converged=False).

    The fixed point need not be unique (degenerate ones put all weight on few samples); this returns the
    one the damped iteration reaches from ``start`` (default: uniform lambda)."""
    Xa, ya = as_data(X, y)
    if not 0 < damping <= 1:
        raise InputError("damping must be in (0, 1]")
    Z = _z(Xa, ya)
    if check:
        _require_separable(Z)
    N = Z.shape[0]
    lam = np.full(N, 1.0 / N) if start is None else np.asarray(start, dtype=float) / np.sum(start)

    def T(l: np.ndarray) -> np.ndarray:
        _, alpha = _quadratic(Z, _metric_floor(gr_metric(Xa, l)))
        return alpha / np.sum(alpha)

    residual, it, rho, last = math.inf, 0, damping, math.inf
    for it in range(1, max_iter + 1):
        t = T(lam)
        residual = float(np.sum(np.abs(t - lam)))
        if residual <= tol:
            lam = t
            break
        if adaptive:   # lengthen the step while the residual falls, shorten it when it rises
            rho = min(1.0, 1.5 * rho) if residual < last else max(0.05, 0.5 * rho)
            last = residual
        lam = (1 - rho) * lam + rho * t
    metric = _metric_floor(gr_metric(Xa, lam))
    w = (Z.T @ lam) / metric
    size = norm_of(w, "l2", metric)
    margin = float(np.min(Z @ w)) / size if size > 0 else -math.inf
    return FixedPoint(lam, metric, w / size if size > 0 else w, margin, it, residual, residual <= tol)


# -- independent routes ----------------------------------------------------------------------------

def margin_by_svc(X, y, metric=None) -> float:
    """l2 / Mahalanobis optimal margin by scikit-learn's SVC (hard margin: C = 1e10) on the data and its
    mirror image (-x_i, -y_i), which forces the intercept to 0 (the problem through the origin)."""
    from sklearn.svm import SVC
    Xa, ya = as_data(X, y)
    m = _metric(metric, Xa.shape[1])
    Xs = Xa / np.sqrt(m) if m is not None else Xa
    clf = SVC(kernel="linear", C=1e10, tol=1e-12, max_iter=10**7)
    clf.fit(np.vstack([Xs, -Xs]), np.concatenate([ya, -ya]))
    u = clf.coef_.ravel()
    return float(np.min(ya * (Xs @ u)) / np.linalg.norm(u))


def margin_by_slsqp(X, y, metric=None) -> float:
    """l2 / Mahalanobis optimal margin by SLSQP on the primal min 1/2 w^T M w s.t. Z w >= 1."""
    Xa, ya = as_data(X, y)
    Z = _z(Xa, ya)
    m = _metric(metric, Xa.shape[1])
    m = np.ones(Z.shape[1]) if m is None else m
    w0 = Z.mean(axis=0)
    w0 = w0 / max(np.min(Z @ w0), 1e-3) if np.min(Z @ w0) > 0 else np.ones(Z.shape[1])
    res = minimize(lambda w: 0.5 * np.sum(m * w * w), w0, jac=lambda w: m * w, method="SLSQP",
                   constraints=[{"type": "ineq", "fun": lambda w: Z @ w - 1, "jac": lambda w: Z}],
                   options={"ftol": 1e-15, "maxiter": 1000})
    w = res.x
    return float(np.min(Z @ w) / np.sqrt(np.sum(m * w * w)))


def linf_margin_by_dual_lp(X, y) -> float:
    """gamma_inf = min_{lambda in simplex} ||Z^T lambda||_1 (LP duality), by HiGHS interior point."""
    Xa, ya = as_data(X, y)
    Z = _z(Xa, ya)
    N, d = Z.shape
    c = np.concatenate([np.zeros(N), np.ones(d)])
    A = np.vstack([np.hstack([Z.T, -np.eye(d)]), np.hstack([-Z.T, -np.eye(d)])])
    res = linprog(c, A_ub=A, b_ub=np.zeros(2 * d), A_eq=np.concatenate([np.ones(N), np.zeros(d)])[None, :],
                  b_eq=[1.0], bounds=[(0, None)] * N + [(None, None)] * d, method="highs-ipm")
    if res.status != 0:
        raise InputError(f"the dual l_inf LP failed: {res.message}")
    return float(res.fun)


SUPPORT_ENUMERATION_MAX = 12   # samples up to which the independent dual solver enumerates support sets


def _metric_by_hand(X: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """M(lambda)_k = (sum_i lambda_i^2 x_ik^2)^(1/2), coordinate by coordinate (compensated sums), floored
    at 1e-12 of its largest entry (as the fixed point's metric)."""
    m = np.array([math.sqrt(math.fsum((float(lam[i]) * float(X[i, k])) ** 2 for i in range(X.shape[0])))
                  for k in range(X.shape[1])])
    top = float(np.max(m))
    return np.maximum(m, 1e-12 * top) if top > 0 else np.ones_like(m)


def svm_duals_by_support(Z: np.ndarray, metric: np.ndarray) -> np.ndarray:
    """Duals alpha of the Mahalanobis SVM min 1/2 w^T diag(m) w s.t. Z w >= 1, without NNLS: up to
    ``SUPPORT_ENUMERATION_MAX`` samples, exactly, by enumerating support sets S (smallest first) and
    keeping the first whose solve K_SS alpha_S = 1 (K = Z diag(1/m) Z^T) has alpha_S >= 0 and satisfies
    (K alpha)_i >= 1 off S (the KKT conditions); beyond that, SLSQP on the dual QP."""
    import itertools
    N = Z.shape[0]
    K = (Z / metric[None, :]) @ Z.T
    if N <= SUPPORT_ENUMERATION_MAX:
        for size in range(1, N + 1):
            for S in itertools.combinations(range(N), size):
                idx = list(S)
                a_S, *_ = np.linalg.lstsq(K[np.ix_(idx, idx)], np.ones(size), rcond=None)
                if np.any(a_S < -1e-12):
                    continue
                alpha = np.zeros(N)
                alpha[idx] = np.maximum(a_S, 0.0)
                g = K @ alpha
                if np.all(g >= 1 - 1e-9) and np.all(np.abs(g[idx] - 1) <= 1e-9):
                    return alpha
        raise InputError("no support set satisfies the SVM's KKT conditions (data not separable?)")
    res = minimize(lambda a: 0.5 * a @ K @ a - a.sum(), np.full(N, 1.0 / N), jac=lambda a: K @ a - 1.0,
                   method="SLSQP", bounds=[(0.0, None)] * N, options={"ftol": 1e-15, "maxiter": 2000})
    return np.maximum(res.x, 0.0)


def fixed_point_by_support(X, y, *, damping: float = 0.5, tol: float = 1e-12, max_iter: int = 5000):
    """The per-sample Adam dual fixed point by a second route, sharing no code with ``adam_fixed_point``:
    the plain damped iteration lambda <- (1 - rho) lambda + rho T(lambda) with a CONSTANT rho (no
    adaptive step) from uniform lambda, T from the support-enumeration duals (no NNLS) at the metric
    written out coordinate by coordinate. Returns (lambda, metric, residual)."""
    Xa, ya = as_data(X, y)
    Z = ya[:, None] * Xa
    N = Z.shape[0]

    def T(l: np.ndarray) -> np.ndarray:
        alpha = svm_duals_by_support(Z, _metric_by_hand(Xa, l))
        return alpha / alpha.sum()

    lam, residual = np.full(N, 1.0 / N), math.inf
    for _ in range(max_iter):
        t = T(lam)
        residual = float(np.sum(np.abs(t - lam)))
        if residual <= tol:
            lam = t
            break
        lam = (1 - damping) * lam + damping * t
    return lam, _metric_by_hand(Xa, lam), residual


# -- random separable data (hypothesis strategies) -------------------------------------------------

def planted_data(rng: np.random.Generator, n: int, d: int, margin: float = 0.2, gr: bool = False):
    """Separable data with a planted separator u: y_i = sign(x_i.u); generic Gaussian rows pushed
    ``margin`` along y_i u, or GR rows x_i = c_i s_i (s_i in {-1, 1}^d, c_i > 0)."""
    u = rng.normal(size=d)
    u /= np.linalg.norm(u)
    if gr:
        c = rng.uniform(0.5, 3.0, size=n)
        S = rng.choice([-1.0, 1.0], size=(n, d))
        y = np.sign(S @ u)
        return c[:, None] * S, y
    X = rng.normal(size=(n, d))
    y = np.where(X @ u >= 0, 1.0, -1.0)
    return X + margin * y[:, None] * u[None, :], y


def data_strategy(gr: bool = False, max_n: int = 6, max_d: int = 6):
    from hypothesis import strategies as st

    def build(args):
        seed, n, d = args
        X, y = planted_data(np.random.default_rng(seed), n, d, gr=gr)
        return {"X": X.tolist(), "y": y.tolist()}

    return st.tuples(st.integers(0, 2**32 - 1), st.integers(2, max_n), st.integers(2, max_d)).map(build)


# -- numeric models ------------------------------------------------------------------------------

def _validate(data: Mapping[str, object]) -> Mapping[str, object]:
    X, y = as_data(data.get("X"), data.get("y"))
    _require_separable(_z(X, y))
    return {**data, "X": X.tolist(), "y": y.tolist()}


def _key(data: Mapping[str, object]) -> tuple:
    return tuple(map(tuple, np.asarray(data["X"], dtype=float))), tuple(np.asarray(data["y"], dtype=float))


def _geometries(params: Mapping[str, float], data: Mapping[str, object]) -> dict[str, object]:
    return dict(_geometries_cached(*_key(data)))


@lru_cache(maxsize=512)
def _geometries_cached(Xt: tuple, yt: tuple) -> dict[str, object]:
    X, y = as_data(Xt, yt)
    _require_separable(_z(X, y))
    l2, li = max_margin(X, y, "l2", check=False), max_margin(X, y, "linf", check=False)
    fp = adam_fixed_point(X, y, check=False)
    mm = max_margin(X, y, "l2", metric=fp.metric, check=False)

    def ratio(w, norm, best, metric=None):
        return normalised_margin(X, y, w, norm, metric) / best

    return {"gamma_2": l2.margin, "gamma_inf": li.margin, "gamma_fp": mm.margin,
            "kkt_2": l2.kkt_residual, "kkt_inf": li.kkt_residual, "kkt_fp": mm.kkt_residual,
            "fp_residual": fp.residual,
            # the fixed point's own direction vs the Mahalanobis SVM at its metric (self-consistency)
            "fp_self": fp.margin / mm.margin,
            "r_inf_of_l2": ratio(l2.direction, "linf", li.margin),
            "r_2_of_inf": ratio(li.direction, "l2", l2.margin),
            "r_2_of_fp": ratio(fp.direction, "l2", l2.margin),
            "r_inf_of_fp": ratio(fp.direction, "linf", li.margin),
            "r_fp_of_l2": ratio(l2.direction, "l2", mm.margin, fp.metric),
            "r_fp_of_inf": ratio(li.direction, "l2", mm.margin, fp.metric),
            "metric_spread": float(np.max(fp.metric) / np.min(fp.metric))}


def _geometries_independent(params: Mapping[str, float], data: Mapping[str, object]) -> dict[str, object]:
    """gamma_2 and gamma_fp by SLSQP on the primal, gamma_inf by the dual LP; the fixed point by
    ``fixed_point_by_support`` from its own start (nothing taken from ``adam_fixed_point``). Fixed points
    need not be unique: both routes define the one reached from uniform lambda, and on 300 random
    instances (generic and GR, N, d <= 6) the two routes' gamma_fp agreed to 1e-12."""
    X, y = as_data(data["X"], data["y"])
    _, metric, _ = fixed_point_by_support(X, y)
    return {"gamma_2": margin_by_slsqp(X, y), "gamma_inf": linf_margin_by_dual_lp(X, y),
            "gamma_fp": margin_by_slsqp(X, y, metric=metric)}


MODELS: dict[str, NumericModel] = {
    # independent route: gamma_2 and gamma_fp by SLSQP on the primal, gamma_inf by the dual LP (HiGHS IPM);
    # the fixed point by constant-damping iteration of the support-enumeration dual map (no NNLS, own start)
    "max_margin_geometries": NumericModel(
        _geometries, _geometries_independent, lambda base: data_strategy(gr=False), _validate, rtol=1e-6,
        description="l2 / l_inf / fixed-point Mahalanobis max margins of separable data (X, y) and the "
                    "cross ratios of each direction's normalised margin to each optimum"),
    "max_margin_geometries_gr": NumericModel(
        _geometries, _geometries_independent, lambda base: data_strategy(gr=True), _validate, rtol=1e-6,
        description="as max_margin_geometries, on random GR data (|x_ik| = c_i)"),
}


# -- numeric routes of the symbolic identities ------------------------------------------------------

def _adam_ftrl_numeric(card, claim, examples: int, seed: int, count: int) -> list[CheckResult]:
    """Adam's recursion (float64, vector gradients, up to 60 steps) vs the discounted-FTRL argmin
    Delta_t = argmin_D <sum_s beta1^(t-s) g_s, D> + 1/2 sum_k D_k^2 / eta_tk (solved coordinate-wise
    from the first-order condition) with the stated learning rate, on random gradient sequences."""
    rng = np.random.default_rng(seed)
    bias = bool(claim.arguments.get("bias_correction", False))
    tied = "beta2" in claim.arguments  # beta2 = beta1^2: the scale-free FTRL rate
    worst = 0.0
    for _ in range(max(count, 8)):
        T, d = int(rng.integers(1, 61)), int(rng.integers(1, 6))
        alpha, b1 = float(rng.uniform(1e-3, 1)), float(rng.uniform(0.05, 0.99))
        b2 = b1 ** 2 if tied else float(rng.uniform(0.05, 0.9999))
        G = rng.normal(size=(T, d)) * np.exp(rng.uniform(-3, 3, size=(T, 1)))
        m, v = np.zeros(d), np.zeros(d)
        for t in range(1, T + 1):
            g = G[t - 1]
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            step = -alpha * (m / (1 - b1 ** t if bias else 1)) / np.sqrt(v / (1 - b2 ** t if bias else 1))
            w1 = b1 ** (t - np.arange(1, t + 1))
            w2 = b2 ** (t - np.arange(1, t + 1))
            loss = w1 @ G[:t]                                     # discounted linear losses
            if tied:   # scale-free FTRL on the discounted losses gtilde_s = beta1^(t-s) g_s
                eta = alpha * (1 - b1) / math.sqrt(1 - b1 ** 2) / np.sqrt(((w1[:, None] * G[:t]) ** 2).sum(0))
            else:
                eta = alpha * (1 - b1) / np.sqrt((1 - b2) * (w2 @ (G[:t] ** 2)))
            if bias:
                eta = eta * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
            ftrl = minimize(lambda D: float(loss @ D + 0.5 * np.sum(D * D / eta)), np.zeros(d),
                            jac=lambda D: loss + D / eta, method="BFGS", options={"gtol": 1e-13}).x
            closed = -eta * loss
            err = float(np.max(np.abs(step - closed) / np.maximum(1.0, np.abs(step))))
            err_argmin = float(np.max(np.abs(ftrl - closed) / np.maximum(1.0, np.abs(closed))))
            worst = max(worst, err)
            if err > 1e-10 or err_argmin > 1e-6:
                return [CheckResult("adam_recursion_vs_ftrl", False,
                                    f"step {t}: Adam {step} vs FTRL {closed} (argmin {ftrl})", claim.name)]
    return [CheckResult("adam_recursion_vs_ftrl", True,
                        f"Adam's recursion = discounted-FTRL step (closed form and BFGS argmin) on {max(count, 8)} "
                        f"random gradient sequences (T <= 60, d <= 5): worst relative error {worst:.1e}", claim.name)]


def _perceptron_numeric(card, claim, examples: int, seed: int, count: int) -> list[CheckResult]:
    """GD on the logistic loss at step gamma, rescaled by 1/gamma, vs the batch perceptron, on random
    data: the distance after t steps shrinks to 0 as gamma grows (exact limit at fixed t)."""
    rng = np.random.default_rng(seed)
    worst = 0.0
    for _ in range(max(count, 8)):
        n, d, steps = int(rng.integers(2, 30)), int(rng.integers(1, 6)), int(rng.integers(1, 20))
        A = rng.normal(size=(n, d))
        y = rng.choice([-1.0, 1.0], size=n)
        Z = A * y[:, None]
        u = np.zeros(d)
        for _t in range(steps):
            s = Z @ u
            u = u + (Z.T @ np.where(s < 0, 1.0, np.where(s == 0, 0.5, 0.0))) / n
        dists = []
        for gamma in (1e2, 1e4, 1e8):
            x = np.zeros(d)
            for _t in range(steps):
                s = Z @ x
                x = x + gamma * (Z.T @ (0.5 * (1 - np.tanh(s / 2)))) / n   # sigma(-s), overflow-free
            dists.append(float(np.linalg.norm(x / gamma - u)))
        worst = max(worst, dists[-1])
        # past the first steps the perceptron sits on ties only on a null set; the limit must be approached
        if not (dists[-1] <= 1e-6 * max(1.0, float(np.linalg.norm(u))) and dists[-1] <= dists[0] + 1e-12):
            return [CheckResult("gd_rescaled_vs_perceptron", False,
                                f"||x_t/gamma - u_t|| = {dists} for gamma = 1e2, 1e4, 1e8 (n={n}, d={d}, t={steps})",
                                claim.name)]
    return [CheckResult("gd_rescaled_vs_perceptron", True,
                        f"logistic GD / gamma -> batch perceptron at fixed t on {max(count, 8)} random datasets: "
                        f"||x_t/gamma - u_t|| <= {worst:.1e} at gamma = 1e8", claim.name)]


def _proxy_numeric(card, claim, examples: int, seed: int, count: int) -> list[CheckResult]:
    """Incremental Adam's epoch-level update (the exact epoch sum with beta1, beta2) at beta2 = 1 - 1e-9
    vs the AdamProxy direction sum_i g_i / sqrt(sum_i g_i^2), on random per-sample gradients."""
    rng = np.random.default_rng(seed)
    worst = 0.0
    for _ in range(max(count, 8)):
        N, d = int(rng.integers(1, 8)), int(rng.integers(1, 6))
        b1 = float(rng.uniform(0.0, 0.99))
        G = rng.normal(size=(N, d))
        proxy = G.sum(0) / np.sqrt((G ** 2).sum(0))

        def epoch_formula(b2: float) -> np.ndarray:
            c = (1 - b1) / (1 - b1 ** N) * math.sqrt((1 - b2 ** N) / (1 - b2))
            total = np.zeros(d)
            for i in range(N):
                lag = (i - np.arange(N)) % N
                total += (b1 ** lag) @ G / np.sqrt((b2 ** lag) @ (G ** 2))
            return c * total

        for b2 in (0.5, 0.9):   # Adam's own recursion, run until the moments are periodic
            m, v = np.zeros(d), np.zeros(d)
            for _epoch in range(3000):
                total = np.zeros(d)
                for i in range(N):
                    m = b1 * m + (1 - b1) * G[i]
                    v = b2 * v + (1 - b2) * G[i] ** 2
                    total += m / np.sqrt(v)
            if float(np.max(np.abs(total - epoch_formula(b2)))) > 1e-9 * max(1.0, float(np.max(np.abs(total)))):
                return [CheckResult("epoch_update_limit", False, f"Adam's periodic epoch sum {total} != the epoch "
                                    f"formula {epoch_formula(b2)} at beta1={b1:.3g}, beta2={b2}", claim.name)]
        errs = [float(np.max(np.abs(epoch_formula(b2) - proxy * math.sqrt(N)) / np.sqrt(N)))
                for b2 in (1 - 1e-3, 1 - 1e-6, 1 - 1e-9)]
        worst = max(worst, errs[-1])
        if not (errs[-1] < 1e-7 and errs[-1] <= errs[0]):
            return [CheckResult("epoch_update_limit", False, f"epoch update vs proxy: errors {errs} at "
                                f"beta2 = 1-1e-3, 1-1e-6, 1-1e-9 (N={N}, d={d}, beta1={b1:.3g})", claim.name)]
    return [CheckResult("epoch_update_limit", True, f"epoch update -> sqrt(N) x AdamProxy direction as beta2 -> 1 on "
                        f"{max(count, 8)} random gradient sets (error {worst:.1e} at beta2 = 1 - 1e-9); Adam's periodic epoch "
                        "sum = the epoch formula at beta2 = 0.5, 0.9", claim.name)]


def _gr_metric_numeric(card, claim, examples: int, seed: int, count: int) -> list[CheckResult]:
    """Two numeric routes. ``gr_metric_value``: the CLAIMED value, evaluated at random weights lambda and
    scales c, against every coordinate of the metric M(lambda)_k = ||(lambda_i x_ik)_i||_2 computed from an
    explicit random GR dataset x_ik = c_i s_ik (random signs s_ik, the claim's own sizes), to 1e-12.
    ``gr_fixed_point_is_l2``: on random GR data the fixed point is the l2 SVM (metric proportional to the
    identity for every lambda, and the dual fixed point's direction attains the l2 optimum by SLSQP)."""
    import sympy as sp

    from numerics._compile import compiled
    rng = np.random.default_rng(seed)
    weights, scales = tuple(claim.arguments["weights"]), tuple(claim.arguments["scales"])
    dims = int(claim.arguments["dims"])
    extra = claim.value.free_symbols - set(weights) - set(scales)
    if extra:
        raise KeyError(f"the claimed metric uses {', '.join(sorted(map(str, extra)))} beyond the weights and "
                       "scales the route samples")
    value = compiled(sp.S(claim.value), (*weights, *scales), "numpy")
    worst, trials = 0.0, max(count, 8)
    results = []
    for k in range(trials):
        lam = rng.dirichlet(np.ones(len(weights))) * rng.uniform(0.1, 10.0)
        c = rng.uniform(0.2, 5.0, size=len(scales))
        X = c[:, None] * rng.choice([-1.0, 1.0], size=(len(scales), dims))
        metric = np.array([math.sqrt(math.fsum((lam[i] * X[i, j]) ** 2 for i in range(len(lam))))
                           for j in range(dims)])
        claimed = float(value(*lam, *c))
        err = float(np.max(np.abs(metric - claimed))) / float(np.max(metric))
        worst = max(worst, err)
        if not err <= 1e-12:
            results.append(CheckResult("gr_metric_value", False, f"GR instance {k}: the claimed metric {claimed:.12g} "
                                       f"!= M(lambda)_k = {metric.tolist()} (lambda={lam.tolist()}, c={c.tolist()})",
                                       claim.name, examples=k + 1))
            break
    else:
        results.append(CheckResult("gr_metric_value", True, f"the claimed value = every coordinate of M(lambda) on "
                                   f"{trials} random GR datasets (x_ik = c_i s_ik, {len(scales)} x {dims}): worst "
                                   f"relative error {worst:.1e}", claim.name, examples=trials))
    for k in range(trials):
        n, d = int(rng.integers(2, 7)), int(rng.integers(2, 9))
        X, y = planted_data(rng, n, d, gr=True)
        lam = rng.dirichlet(np.ones(n))
        m = gr_metric(X, lam)
        fp = adam_fixed_point(X, y)
        qp = margin_by_slsqp(X, y)
        r2 = normalised_margin(X, y, fp.direction) / qp
        if np.ptp(m) > 1e-12 * np.max(m) or not fp.converged or abs(r2 - 1) > 1e-6:
            return results + [CheckResult("gr_fixed_point_is_l2", False, f"GR instance {k}: metric spread "
                                          f"{np.ptp(m):.2e}, fixed point converged={fp.converged}, l2 ratio {r2:.10f}",
                                          claim.name, examples=k + 1)]
    return results + [CheckResult("gr_fixed_point_is_l2", True, f"{trials} random GR datasets: M(lambda) ∝ I at "
                                  "random lambda, the fixed point converges and its direction has the l2 optimum "
                                  "margin (SLSQP QP) to 1e-6", claim.name, examples=trials)]


IDENTITY_NUMERICS: dict = {
    "adam_discounted_ftrl": _adam_ftrl_numeric,
    "logistic_gd_perceptron_limit": _perceptron_numeric,
    "incremental_adam_proxy_limit": _proxy_numeric,
    "gr_metric_isotropic": _gr_metric_numeric,
}
