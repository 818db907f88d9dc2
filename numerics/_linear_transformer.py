"""Numeric models and identity routes for linear transformers / in-context linear regression.

Independent of the SymPy engine where it matters:

* the exact one-layer loss from numpy fourth moments (Isserlis written as an einsum over the Gaussian's
  components, not the pairing engine), minimised by scipy over every d x d A;
* Monte Carlo of the loss over >= 1e5 prompts (seeded), with its standard error;
* the forward pass of the linear transformer at 50 digits (mpmath) and in float64 (the repo's full-block
  parameterisation), against preconditioned GD;
* Monte Carlo of E tr S^k and of tr p(S)^2 from Wishart draws, and the exact special cases d = 1
  (chi-square moments n(n+2)...(n+2k-2)) and n = 1 (E |x|^2k = d(d+2)...(d+2k-2)).

``MODELS``: ``linear_transformer_one_layer`` (data Sigma, prior) and ``linear_transformer_scalar_pgd``
(parameters n, d, L). ``IDENTITY_NUMERICS``: routes for the derivations of theory/derive/linear_transformer.py.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from functools import lru_cache

import mpmath
import numpy as np
from hypothesis import strategies as st
from scipy.optimize import minimize

from numerics._models import NumericModel
from numerics._result import CheckResult
from theory import InputError
from theory._assume import sample_points

MC_PROMPTS = 100_000
SE_LIMIT = 4.0   # Monte Carlo agreement: within this many standard errors


# -- one layer: exact loss, closed forms, Monte Carlo ----------------------------------------------------

def fourth_moment(sigma: np.ndarray) -> np.ndarray:
    """E[x_a x_b x_c x_e] for x ~ N(0, Sigma) (Isserlis)."""
    return (np.einsum("ab,ce->abce", sigma, sigma) + np.einsum("ac,be->abce", sigma, sigma)
            + np.einsum("ae,bc->abce", sigma, sigma))


def second_sample_moment(sigma: np.ndarray, prior: np.ndarray, n: float) -> np.ndarray:
    """E[S C S] for S = (1/n) sum_i x_i x_i^T: the n(n-1) cross terms and the n diagonal fourth moments."""
    cross = sigma @ prior @ sigma
    diag = np.einsum("abce,bc->ae", fourth_moment(sigma), prior)
    return ((n - 1) * cross + diag) / n


def one_layer_loss(A: np.ndarray, sigma: np.ndarray, prior: np.ndarray, n: float) -> float:
    """E tr(Sigma (A S - I) C (S A^T - I)) = E (x_q^T A S w - x_q^T w)^2, w ~ N(0, C)."""
    K = second_sample_moment(sigma, prior, n)
    return float(np.trace(sigma @ A @ K @ A.T) - 2 * np.trace(sigma @ A @ sigma @ prior) + np.trace(sigma @ prior))


def one_layer_grad(A, sigma, prior, n) -> np.ndarray:
    K = second_sample_moment(sigma, prior, n)
    return 2 * sigma @ A @ K - 2 * sigma @ prior @ sigma


def prior_of(sigma: np.ndarray, prior: str) -> np.ndarray:
    return np.eye(len(sigma)) if prior == "identity" else np.linalg.inv(sigma)


def isotropic_formula(sigma: np.ndarray, n: float) -> np.ndarray:
    """((1 + 1/n) Sigma + tr(Sigma)/n I)^-1: the claim of linear_transformer.one_layer.optimum."""
    return np.linalg.inv((1 + 1 / n) * sigma + np.trace(sigma) / n * np.eye(len(sigma)))


def inverse_prior_formula(sigma: np.ndarray, n: float) -> np.ndarray:
    """n/(n+d+1) Sigma^-1: the claim of linear_transformer.one_layer.optimum_inverse_prior."""
    return n / (n + len(sigma) + 1) * np.linalg.inv(sigma)


def minimise_one_layer(sigma, prior, n) -> tuple[float, np.ndarray]:
    """scipy BFGS over all d x d entries of A from A = 0 (no closed form used)."""
    d = len(sigma)
    K = second_sample_moment(sigma, prior, n)
    B, const = sigma @ prior @ sigma, float(np.trace(sigma @ prior))

    def f(a):
        A = a.reshape(d, d)
        SA = sigma @ A
        return float(np.sum(SA * (A @ K)) - 2 * np.sum(A * B) + const), (2 * SA @ K - 2 * B).ravel()

    res = minimize(f, np.zeros(d * d), jac=True, method="BFGS", options={"gtol": 1e-12, "maxiter": 5000})
    return float(res.fun), res.x.reshape(d, d)


def monte_carlo_loss(A, sigma, prior, n: int, prompts: int = MC_PROMPTS, seed: int = 0,
                     chunk: int = 20_000) -> tuple[float, float]:
    """Mean and standard error of (x_q^T A S w - x_q^T w)^2 over fresh prompts (seeded)."""
    rng = np.random.default_rng(seed)
    d = len(sigma)
    ch_x, ch_w = np.linalg.cholesky(sigma), np.linalg.cholesky(prior)
    vals = []
    left = prompts
    while left > 0:
        b = min(chunk, left)
        X = rng.standard_normal((b, n, d)) @ ch_x.T
        xq = rng.standard_normal((b, d)) @ ch_x.T
        w = rng.standard_normal((b, d)) @ ch_w.T
        y = np.einsum("bnd,bd->bn", X, w)
        Sw = np.einsum("bnd,bn->bd", X, y) / n          # S w* = (1/n) sum_i x_i y_i
        pred = np.einsum("bd,de,be->b", xq, A, Sw)
        vals.append((pred - np.einsum("bd,bd->b", xq, w)) ** 2)
        left -= b
    v = np.concatenate(vals)
    return float(v.mean()), float(v.std(ddof=1) / math.sqrt(len(v)))


def _sigma(data) -> np.ndarray:
    try:
        s = np.asarray(data["Sigma"], dtype=float)
    except (TypeError, ValueError):
        raise InputError("Sigma must be a square matrix of numbers, e.g. Sigma=[[2,0.5],[0.5,1]]") from None
    if s.ndim != 2 or s.shape[0] != s.shape[1] or not 1 <= s.shape[0] <= 12 or not np.all(np.isfinite(s)):
        raise InputError(f"Sigma must be a finite square matrix (1 x 1 .. 12 x 12), got shape {s.shape}")
    if not np.allclose(s, s.T, rtol=0, atol=1e-12 * max(1.0, float(np.max(np.abs(s))))):
        raise InputError("Sigma must be symmetric")
    ev = np.linalg.eigvalsh(s)
    if ev[0] <= 1e-9 * max(1.0, ev[-1]):
        raise InputError(f"Sigma must be positive definite (smallest eigenvalue {ev[0]:.3g})")
    return (s + s.T) / 2


def validate_one_layer(data: Mapping[str, object]) -> dict:
    s = _sigma(data)
    prior = data.get("prior", "identity")
    if prior not in ("identity", "inverse"):
        raise InputError("prior must be 'identity' (w* ~ N(0, I)) or 'inverse' (w* ~ N(0, Sigma^-1))")
    return {**data, "Sigma": s.tolist(), "prior": prior}


def _n(params) -> float:
    n = float(params["n"])
    if not n >= 1:
        raise InputError(f"n must be >= 1, got {n:g}")
    return n


def one_layer_compute(params, data):
    n = _n(params)
    sigma = np.asarray(data["Sigma"], dtype=float)
    C = prior_of(sigma, data["prior"])
    closed = isotropic_formula(sigma, n) if data["prior"] == "identity" else inverse_prior_formula(sigma, n)
    best, A_min = minimise_one_layer(sigma, C, n)
    g = one_layer_grad(closed, sigma, C, n)
    scale = float(np.linalg.norm(sigma @ C @ sigma))
    out = {"loss": one_layer_loss(closed, sigma, C, n), "loss_min": best,
           "grad_norm": float(np.linalg.norm(g) / scale), "A": closed.tolist(), "A_min": A_min.tolist(),
           "dim": float(len(sigma))}
    if data["prior"] == "inverse":
        out["loss_iso"] = one_layer_loss(isotropic_formula(sigma, n), sigma, C, n)
    return out


def one_layer_independent(params, data):
    """The minimiser another way: the normal equations Sigma A K = Sigma C Sigma solved by numpy."""
    n = _n(params)
    sigma = np.asarray(data["Sigma"], dtype=float)
    C = prior_of(sigma, data["prior"])
    K = second_sample_moment(sigma, C, n)
    A = np.linalg.solve(K.T, (C @ sigma).T).T      # A K = C Sigma
    return {"loss_min": one_layer_loss(A, sigma, C, n), "A_min": A.tolist()}


def random_spd(rng, d: int, spread: float = 1.0) -> np.ndarray:
    """A random SPD matrix: eigenvalues 10^U(-1, 1) with max/min >= 2^spread, a random orthogonal basis."""
    ev = 10 ** rng.uniform(-1, 1, d)
    if d > 1:
        ev[0] = max(ev[0], 2.0 ** spread * ev[1:].min())
    Q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    return Q @ np.diag(ev) @ Q.T


def one_layer_instances(base):
    def build(d, seed):
        return validate_one_layer({"Sigma": random_spd(np.random.default_rng(seed), d).tolist(),
                                   "prior": base.get("prior", "identity")})
    return st.builds(build, st.integers(2, 5), st.integers(0, 2**31 - 1))


# -- L scalar PGD steps on Sigma = I -----------------------------------------------------------------------

@lru_cache(maxsize=None)
def _moment_polys(kmax: int):
    """E tr S^k as numpy-callable functions of (n, d) from the moment engine (theory), k = 0..kmax."""
    import sympy as sp
    from theory.derive.linear_transformer import trace_moment
    n, d = sp.symbols("n d", positive=True)
    fns = [sp.lambdify((n, d), d, "math")]
    fns += [sp.lambdify((n, d), trace_moment(k, n, d), "math") for k in range(1, kmax + 1)]
    return fns


def trace_moments(n: float, d: float, kmax: int) -> np.ndarray:
    return np.array([f(n, d) for f in _moment_polys(kmax)], dtype=float)


def _poly_of_steps(a: np.ndarray) -> np.ndarray:
    """Coefficients (increasing powers) of p(s) = prod_l (1 - a_l s)."""
    p = np.array([1.0])
    for al in a:
        p = np.convolve(p, np.array([1.0, -al]))
    return p


def scalar_pgd_loss(a, moments) -> tuple[float, np.ndarray]:
    """E tr p(S)^2 = sum_k c_k E tr S^k and its gradient in the steps."""
    a = np.atleast_1d(np.asarray(a, dtype=float))
    p = _poly_of_steps(a)
    loss = float(np.convolve(p, p) @ moments[: 2 * len(a) + 1])
    grad = np.zeros(len(a))
    for l in range(len(a)):
        q = _poly_of_steps(np.delete(a, l))
        dp = -np.concatenate([[0.0], q])                     # d p / d a_l = -s prod_{j != l} (1 - a_j s)
        grad[l] = 2 * float(np.convolve(p, dp) @ moments[: 2 * len(a) + 1])
    return loss, grad


@lru_cache(maxsize=4096)
def scalar_pgd_optimum(n: float, d: float, L: int) -> tuple[float, np.ndarray, float]:
    """(loss, sorted steps, gradient norm) of min over a in R^L of E tr p(S)^2 (multistart BFGS)."""
    if L == 0:
        return float(d), np.zeros(0), 0.0
    moments = trace_moments(n, d, 2 * L)
    base = n / (n + d + 1)
    best = None
    rng = np.random.default_rng(L)
    starts = [base * np.geomspace(0.5, 2.0, L) if L > 1 else np.array([base])]
    starts += [base * np.exp(rng.uniform(-1.0, 1.5, L)) for _ in range(3)]
    for a0 in starts:
        res = minimize(lambda a: scalar_pgd_loss(a, moments), a0, jac=True, method="BFGS",
                       options={"gtol": 1e-14, "maxiter": 2000})
        if best is None or res.fun < best.fun:
            best = res
    a = best.x
    for _ in range(5):  # Newton polish with a central-difference Hessian of the exact gradient
        g = scalar_pgd_loss(a, moments)[1]
        h = 1e-6 * np.maximum(1.0, np.abs(a))
        H = np.array([(scalar_pgd_loss(a + h[j] * np.eye(L)[j], moments)[1]
                       - scalar_pgd_loss(a - h[j] * np.eye(L)[j], moments)[1]) / (2 * h[j]) for j in range(L)])
        try:
            step = np.linalg.solve((H + H.T) / 2, g)
        except np.linalg.LinAlgError:
            break
        trial = a - step
        if scalar_pgd_loss(trial, moments)[0] <= scalar_pgd_loss(a, moments)[0] + 1e-15:
            a = trial
    loss, g = scalar_pgd_loss(a, moments)
    p = _poly_of_steps(a)
    scale = float(np.abs(np.convolve(p, p)) @ moments[: 2 * L + 1])   # the size of the terms that cancel
    return loss, np.sort(a), float(np.linalg.norm(g * np.maximum(1.0, np.abs(a))) / scale)


def _ints(params) -> tuple[float, float, int]:
    n, d, L = float(params["n"]), float(params["d"]), params["L"]
    if float(L) != int(L) or not 1 <= int(L) <= 3:
        raise InputError(f"L must be 1, 2 or 3 (moments up to E tr S^6), got {L}")
    if n < 1 or d < 1:
        raise InputError("n and d must be >= 1")
    return n, d, int(L)


def scalar_pgd_compute(params, data):
    n, d, L = _ints(params)
    loss, steps, gnorm = scalar_pgd_optimum(n, d, L)
    steps = steps.copy()
    fewer = scalar_pgd_optimum(n, d, L - 1)[0]
    one = scalar_pgd_optimum(n, d, 1)[0]
    return {"loss": loss, "steps": steps.tolist(), "grad_norm": gnorm, "loss_fewer": fewer, "loss_one_step": one}


def wishart_eigenvalues(n: int, d: int, draws: int, seed: int) -> np.ndarray:
    """Eigenvalues of S = (1/n) X^T X, X an n x d standard Gaussian matrix, ``draws`` times."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((draws, n, d))
    return np.linalg.eigvalsh(np.einsum("bni,bnj->bij", X, X) / n)


def scalar_pgd_monte_carlo(steps, n: int, d: int, draws: int = 40_000, seed: int = 0) -> tuple[float, float]:
    """Mean and standard error of tr p(S)^2 = sum_i p(lambda_i)^2 over Wishart draws (integer n, d)."""
    lam = wishart_eigenvalues(int(n), int(d), draws, seed)
    p = np.ones_like(lam)
    for a in steps:
        p = p * (1 - a * lam)
    v = (p**2).sum(axis=1)
    return float(v.mean()), float(v.std(ddof=1) / math.sqrt(draws))


def scalar_pgd_independent(params, data):
    n, d, L = _ints(params)
    if n != int(n) or d != int(d):
        return {}
    steps = scalar_pgd_compute(params, data)["steps"]
    mc, _ = scalar_pgd_monte_carlo(steps, int(n), int(d), draws=20_000, seed=int(n * 1000 + d * 10 + L))
    return {"loss": mc}


MODELS: dict = {
    "linear_transformer_one_layer": NumericModel(one_layer_compute, one_layer_independent, one_layer_instances,
                                                 validate_one_layer, 1e-6,
                                                 "exact one-layer ICL loss (numpy Isserlis) minimised by scipy"),
    "linear_transformer_scalar_pgd": NumericModel(scalar_pgd_compute, scalar_pgd_independent, None, None, 0.03,
                                                  "optimal scalar PGD steps on exact Wishart moments vs Monte Carlo"),
}


# -- identity routes ---------------------------------------------------------------------------------------

def pgd_forward_mp(X, y, xq, As, n):
    """-[Z_L]_{d+1,n+1} with P = [[0,0],[0,1]], Q = -[[A,0],[0,0]] (mpmath matrices) and PGD's x_q^T w_L."""
    d = X.rows
    Z = mpmath.matrix(d + 1, n + 1)
    for i in range(d):
        for j in range(n):
            Z[i, j] = X[i, j]
        Z[i, n] = xq[i]
    for j in range(n):
        Z[d, j] = y[j]
    for A in As:
        Q = mpmath.matrix(d + 1, d + 1)
        for i in range(d):
            for j in range(d):
                Q[i, j] = -A[i, j]
        ZM = Z.copy()
        for i in range(d + 1):
            ZM[i, n] = 0
        PZM = mpmath.matrix(d + 1, n + 1)
        for j in range(n + 1):
            PZM[d, j] = ZM[d, j]
        Z = Z + PZM * (Z.T * Q * Z) / n
    w = mpmath.matrix(d, 1)
    for A in As:
        r = X.T * w
        for j in range(n):
            r[j] -= y[j]
        w = w - A * (X * r) / n
    pred = sum(xq[i] * w[i] for i in range(d))
    return -Z[d, n], pred


def transformer_full_np(X, y, xq, Ps, Qs):
    """The repo's parameterisation (P_l = [[P_dd, 0], [0, 1]], Q_l = [[Q_dd, 0], [0, 0]]) in float64."""
    d, n = X.shape
    Z = np.zeros((d + 1, n + 1))
    Z[:d, :n], Z[:d, n], Z[d, :n] = X, xq, y
    for P, Q in zip(Ps, Qs):
        Pf, Qf = np.zeros((d + 1, d + 1)), np.zeros((d + 1, d + 1))
        Pf[:d, :d], Pf[d, d], Qf[:d, :d] = P, 1.0, Q
        ZM = Z.copy()
        ZM[:, n] = 0
        Z = Z + Pf @ ZM @ (Z.T @ Qf @ Z) / n
    return -Z[d, n]


def _forward_numeric(card, claim, examples, seed, count):
    rng = np.random.default_rng(seed)
    worst, worst64 = mpmath.mpf(0), 0.0
    trials = max(count, 12)
    with mpmath.workdps(50):
        for _ in range(trials):
            d, n, L = int(rng.integers(1, 7)), int(rng.integers(1, 13)), int(rng.integers(1, 5))
            Xf, yf, qf = rng.standard_normal((d, n)), rng.standard_normal(n), rng.standard_normal(d)
            Af = []
            for _ in range(L):
                B = rng.standard_normal((d, d)) / math.sqrt(d)
                Af.append((B + B.T) / 2)
            X = mpmath.matrix(Xf.tolist())
            As = [mpmath.matrix(A.tolist()) for A in Af]
            out, pred = pgd_forward_mp(X, mpmath.matrix(yf.tolist()), mpmath.matrix(qf.tolist()), As, n)
            scale = max(mpmath.mpf(1), abs(pred))
            worst = max(worst, abs(out - pred) / scale)
            out64 = transformer_full_np(Xf, yf, qf, [np.zeros((d, d))] * L, [-A for A in Af])
            worst64 = max(worst64, abs(out64 - float(pred)) / float(scale))
    ok = worst < mpmath.mpf(10) ** -40 and worst64 < 1e-10
    return [CheckResult("forward_vs_pgd_50_digits", ok,
                        f"transformer output - x_q^T w_L: within {mpmath.nstr(worst, 3)} relative at 50 digits and "
                        f"{worst64:.1e} in float64 (full-block model, P_dd = 0) on {trials} random instances "
                        f"(d <= 6, n <= 12, L <= 4)", claim.name)]


def _sigma2(point, card) -> np.ndarray:
    s = {sym.name: float(v) for sym, v in point.items()}
    return np.array([[s["s11"], s["s12"]], [s["s12"], s["s22"]]])


def _one_layer_numeric(card, claim, examples, seed, count):
    from numerics._evaluate import claim_value
    prior_name = claim.arguments.get("prior", "identity")
    quantity = claim.arguments["quantity"]
    syms = list(card.symbols)
    pts = sample_points(syms, list(card.assumptions), count=count, seed=seed + 11, override=card.sample)
    if quantity != "loss":
        i, j = (int(c) - 1 for c in quantity.split("_")[1])
        worst = 0.0
        for p in pts:
            pf = {s: float(v) for s, v in p.items()}
            sigma, n = _sigma2(p, card), pf[card.symbol("n")]
            _, A_min = minimise_one_layer(sigma, prior_of(sigma, prior_name), n)
            v = claim_value(card, claim, pf)
            rel = abs(v - A_min[i, j]) / max(1.0, float(np.max(np.abs(A_min))))
            worst = max(worst, rel)
            if rel > 1e-6:
                return [CheckResult("scipy_minimiser", False, f"claimed {quantity} = {v:.10g} vs scipy's minimiser "
                                    f"{A_min[i, j]:.10g} at n={n:g}, Sigma={sigma.tolist()}", claim.name,
                                    {"at": {s.name: float(x) for s, x in p.items()}, "claimed": v,
                                     "numeric": float(A_min[i, j])})]
        return [CheckResult("scipy_minimiser", True, f"scipy's minimiser of the exact loss (numpy fourth moments, "
                            f"all 4 entries of A free) = claimed {quantity} within {worst:.1e} at {count} seeded "
                            f"(Sigma, n)", claim.name)]
    out = []
    for k, p in enumerate(pts[:3]):
        pf = {s: float(v) for s, v in p.items()}
        sigma, n = _sigma2(p, card), int(round(pf[card.symbol("n")]))
        C = prior_of(sigma, prior_name)
        _, A_min = minimise_one_layer(sigma, C, n)
        v = claim_value(card, claim, pf)
        mc, se = monte_carlo_loss(A_min, sigma, C, n, seed=seed + 100 + k)
        z = abs(mc - v) / se
        out.append((z, mc, se, v, n, sigma))
        if z > SE_LIMIT:
            return [CheckResult("monte_carlo_loss", False, f"Monte Carlo loss {mc:.6g} +- {se:.2g} ({MC_PROMPTS} "
                                f"prompts) vs claimed {v:.6g} ({z:.1f} s.e.) at n={n}, Sigma={sigma.round(4).tolist()}",
                                claim.name, {"at": {s.name: float(x) for s, x in p.items()}, "claimed": v, "mc": mc})]
    worst = max(o[0] for o in out)
    desc = "; ".join(f"{o[1]:.5g} +- {o[2]:.1g} vs {o[3]:.5g}" for o in out)
    return [CheckResult("monte_carlo_loss", True, f"Monte Carlo loss at scipy's minimiser ({MC_PROMPTS} prompts "
                        f"each): {desc}; worst {worst:.2f} s.e.", claim.name)]


def _moment_numeric(card, claim, examples, seed, count):
    from numerics._evaluate import claim_value
    k = int(claim.arguments["k"])
    n_sym, d_sym = claim.arguments["n"], claim.arguments["d"]
    bad = []
    for m in range(1, 9):   # exact special cases: d = 1 (chi-square / n) and n = 1 (|x|^2k)
        chi = math.prod(m + 2 * j for j in range(k)) / m**k
        sph = math.prod(m + 2 * j for j in range(k))
        a = claim_value(card, claim, {n_sym: float(m), d_sym: 1.0, **{s: 1.0 for s in card.symbols
                                                                          if s not in (n_sym, d_sym)}})
        b = claim_value(card, claim, {n_sym: 1.0, d_sym: float(m), **{s: 1.0 for s in card.symbols
                                                                          if s not in (n_sym, d_sym)}})
        if not math.isclose(a, chi, rel_tol=1e-12) or not math.isclose(b, sph, rel_tol=1e-12):
            bad.append(f"n={m}, d=1: {a} vs chi-square {chi}; n=1, d={m}: {b} vs {sph}")
    results = [CheckResult("exact_special_cases", not bad, "; ".join(bad) or f"d = 1: n^-k E (chi^2_n)^k, n = 1: "
                           f"E |x|^{2 * k} = d(d+2)...(d+{2 * k - 2}), both exact for n, d = 1..8", claim.name)]
    rng = np.random.default_rng(seed + k)
    worst = 0.0
    for _ in range(3):
        n, d = int(rng.integers(2, 25)), int(rng.integers(1, 7))
        lam = wishart_eigenvalues(n, d, 40_000, int(rng.integers(2**31)))
        v = (lam**k).sum(axis=1)
        mc, se = float(v.mean()), float(v.std(ddof=1) / math.sqrt(len(v)))
        c = claim_value(card, claim, {n_sym: float(n), d_sym: float(d),
                                      **{s: 1.0 for s in card.symbols if s not in (n_sym, d_sym)}})
        z = abs(mc - c) / se
        worst = max(worst, z)
        if z > SE_LIMIT:
            results.append(CheckResult("monte_carlo_moment", False, f"E tr S^{k} at n={n}, d={d}: claimed {c:.8g}, "
                                       f"Monte Carlo {mc:.8g} +- {se:.2g} ({z:.1f} s.e.)", claim.name))
            return results
    results.append(CheckResult("monte_carlo_moment", True, f"Monte Carlo of tr S^{k} (40000 Wishart draws at 3 "
                               f"random (n, d)) within {worst:.2f} s.e. of the claim", claim.name))
    return results


IDENTITY_NUMERICS: dict = {
    "linear_transformer_pgd_forward": _forward_numeric,
    "icl_one_layer_optimum": _one_layer_numeric,
    "wishart_trace_moment": _moment_numeric,
}
