"""Numeric models and identity checks for SGD on noisy ill-conditioned quadratics (suspicious
alignment, tiny subspaces, Dom/Bulk SGD) (see numerics/_models.py).

``MODELS``: name -> NumericModel; ``IDENTITY_NUMERICS``: derivation name -> numeric route
``(card, claim, examples, seed, count) -> list[CheckResult]``.

Routes, independent of the symbolic solves in ``theory/derive/noisy_quadratic.py``:
* stationary moments: the per-mode map's F, b evaluated numerically, then (i) scipy's discrete
  Lyapunov solver and (ii) a 50-digit mpmath solve of (I - F kron F) vec S = vec(variance b b^T).
* projected loss root: a random d-dimensional instance in a random eigenbasis (H = Q diag(lam) Q^T,
  noise covariance Q diag(kappa^2) Q^T, subspace projector P = Q_S Q_S^T); the exact expected
  change of L(x - eta P (H x + xi)) from matrix moment formulas, its root by brentq; the claim
  evaluated on the instance's subspace sums must equal that root, the change must be < 0 just
  below and > 0 just above it. The same search also reports how far the lambda^4 variant quoted from
  the paper's project page is from the exact root.
* the alignment model: the full d x d stationary covariance of x+ = (I - eta H) x - eta xi in a random
  eigenbasis, by scipy's Lyapunov solver (compute) and by a doubling sum of the covariance series
  (independent), against the closed form sum_D w / sum_all w with w the derived per-mode energy.
"""
from __future__ import annotations

import math
from functools import lru_cache

import mpmath
import numpy as np
import sympy as sp
from scipy.linalg import solve_discrete_lyapunov

from numerics._compile import MP_DIGITS, compiled
from numerics._evaluate import claim_value, claim_value_mp
from numerics._models import NumericModel
from numerics._result import CheckResult
from theory import InputError
from theory._assume import sample_points
from theory.derive import derive_claim

RTOL = 1e-10


def _fmt(p) -> str:
    return ", ".join(f"{s.name}={float(v):.6g}" for s, v in p.items())


# -- stationary moments -----------------------------------------------------------------------------

def _mode_parts(card, claim):
    xi, variance = claim.arguments["noise"], sp.S(claim.arguments["variance"])
    upd = sp.Matrix(card.mode_update)
    F, b = upd.jacobian(list(card.state)), upd.jacobian([xi])
    q = sp.expand(sp.S(claim.arguments["of"]))
    Q = sp.hessian(q, list(card.state)) / 2                # q = z^T Q z
    syms = [s for s in card.symbols if s in (F.free_symbols | b.free_symbols | Q.free_symbols
                                             | variance.free_symbols | sp.S(claim.value).free_symbols)]
    return F, b, Q, variance, syms


def _stationary_numeric(card, claim, examples, seed, count) -> list[CheckResult]:
    F, b, Q, variance, syms = _mode_parts(card, claim)
    relations = [r for r in card.assumptions_for(claim) if r.free_symbols <= set(syms)]
    f_np, b_np, q_np, v_np = (compiled(e, syms) for e in (F, b, Q, variance))
    f_mp, b_mp, q_mp, v_mp = (compiled(e, syms, "mpmath") for e in (F, b, Q, variance))
    worst, worst_mp = 0.0, mpmath.mpf(0)
    for p in sample_points(syms, relations, count=count, seed=seed + 11, override=card.sample):
        pf = {s: float(v) for s, v in p.items()}
        args = [pf[s] for s in syms]
        Fn, bn, Qn = (np.atleast_2d(np.asarray(f(*args), dtype=float)) for f in (f_np, b_np, q_np))
        if max(abs(np.linalg.eigvals(Fn))) >= 1:
            return [CheckResult("lyapunov", False, f"the per-mode map is not stable at {_fmt(pf)}", claim.name)]
        S = solve_discrete_lyapunov(Fn, float(v_np(*args)) * bn @ bn.T)
        got, want = float(np.trace(Qn @ S)), claim_value(card, claim, pf)
        rel = abs(got - want) / max(abs(want), 1e-300)
        worst = max(worst, rel)
        if rel > RTOL:
            return [CheckResult("lyapunov", False, f"scipy Lyapunov solve gives {got:.15g}, claim {want:.15g} at "
                                f"{_fmt(pf)}", claim.name, {"at": {s.name: v for s, v in pf.items()},
                                                           "claimed": want, "lyapunov": got})]
        with mpmath.workdps(MP_DIGITS):
            a_mp = [mpmath.mpf(v) for v in args]
            Fm, bm, Qm = (mpmath.matrix(sp.Matrix(f(*a_mp)).tolist()) if not isinstance(f(*a_mp), mpmath.matrix)
                          else f(*a_mp) for f in (f_mp, b_mp, q_mp))
            k = Fm.rows
            kron = mpmath.matrix(k * k, k * k)
            for i in range(k):
                for j in range(k):
                    for r in range(k):
                        for c in range(k):
                            kron[i * k + r, j * k + c] = Fm[i, j] * Fm[r, c]
            N = v_mp(*a_mp) * bm * bm.T
            vecS = mpmath.lu_solve(mpmath.eye(k * k) - kron, mpmath.matrix([N[i, j] for i in range(k)
                                                                             for j in range(k)]))
            val = mpmath.fsum(Qm[i, j] * vecS[i * k + j] for i in range(k) for j in range(k))
            claim_mp = claim_value_mp(card, claim, pf)
            worst_mp = max(worst_mp, abs(val - claim_mp) / abs(claim_mp))
        if worst_mp > mpmath.mpf(10) ** -40:
            return [CheckResult("kronecker_mp", False, f"50-digit solve gives {mpmath.nstr(val, 20)}, claim "
                                f"{mpmath.nstr(claim_mp, 20)} at {_fmt(pf)}", claim.name)]
    return [CheckResult("lyapunov", True, f"scipy discrete Lyapunov solve of the per-mode map = claim within "
                        f"{worst:.1e} at {count} points", claim.name),
            CheckResult("kronecker_mp", True, f"50-digit (I - F kron F) solve = claim within "
                        f"{mpmath.nstr(worst_mp, 3)}", claim.name)]


# -- projected loss root ----------------------------------------------------------------------------

def random_instance(rng: np.random.Generator, d: int, k: int, gap: float):
    """A dominant (top-k) / bulk spectrum with lambda_max = 1 and lambda_k / lambda_{k+1} = gap."""
    dom = np.sort(rng.uniform(0.3, 1.0, k))[::-1]
    dom[0] = 1.0
    bulk = np.sort(dom[-1] / gap * rng.uniform(0.01, 1.0, d - k))[::-1]
    bulk[0] = dom[-1] / gap
    return dom, bulk


def rotation(rng: np.random.Generator, d: int) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((d, d)))
    return q * np.sign(np.diag(r))


def exact_projected_change(eta: float, H: np.ndarray, P: np.ndarray, x: np.ndarray, noise_cov: np.ndarray) -> float:
    """E L(x - eta P (H x + xi)) - L(x), L = 1/2 x^T H x, xi ~ (0, noise_cov): exact moments in matrix form,
    E L(x+) = 1/2 (x - eta P g)^T H (x - eta P g) + eta^2/2 tr(H P C P), g = H x, written with the
    1/2 x^T H x terms cancelled exactly (no float64 cancellation at small eta)."""
    pg = P @ (H @ x)
    return float(-eta * (H @ x) @ pg + 0.5 * eta**2 * (pg @ H @ pg + np.trace(H @ P @ noise_cov @ P)))


def _instance_change(rng):
    d = int(rng.integers(2, 12))
    k = int(rng.integers(1, d))
    dom, bulk = random_instance(rng, d, k, float(np.exp(rng.uniform(0, np.log(1e3)))))
    lam = np.concatenate([dom, bulk]) * float(np.exp(rng.uniform(np.log(1e-2), np.log(1e2))))
    Q = rotation(rng, d)
    c = rng.standard_normal(d) * np.exp(rng.uniform(-3, 3, d))
    kappa2 = np.exp(rng.uniform(-4, 4, d)) * rng.uniform(0, 1) ** 2
    mask = np.zeros(d, bool)
    mask[:k] = True
    if rng.uniform() < 0.5:
        mask = ~mask                      # the bulk subspace
    return lam, Q, c, kappa2, mask


def exact_projected_change_mp(lam, Q, c, kappa2, mask):
    """eta -> E dL of one step projected on span(Q[:, mask]), at MP_DIGITS digits: the basis Q is
    re-orthonormalised at that precision, then H, P, the noise covariance and x are formed as matrices."""
    with mpmath.workdps(MP_DIGITS):
        Qm, _ = mpmath.qr(mpmath.matrix(Q.tolist()))
        d = len(lam)
        diag = lambda v: mpmath.diag([mpmath.mpf(float(t)) for t in v])  # noqa: E731
        H = Qm * diag(lam) * Qm.T
        keep = mpmath.diag([1 if m else 0 for m in mask])
        P = Qm * keep * Qm.T
        C = Qm * diag(kappa2) * Qm.T
        x = Qm * mpmath.matrix([mpmath.mpf(float(t)) for t in c])
        g = H * x
        pg = P * g
        lin = -(g.T * pg)[0]
        quad = ((pg.T * H * pg)[0] + sum((H * P * C * P)[i, i] for i in range(d))) / 2
    return lambda eta: lin * eta + quad * eta**2


def _projected_numeric(card, claim, examples, seed, count) -> list[CheckResult]:
    """The claim on random instances vs the root of the exact expected projected loss change (50 digits)."""
    derived = derive_claim(card, claim)
    moments = dict(claim.arguments["moments"])
    gens = derived.details["gens"]
    lam_s, x_s = claim.arguments["eigenvalue"], card.state[0]
    noise_scale = [g for g in gens if g not in (lam_s, x_s)]
    fns = {sym: compiled(sp.S(mono), [lam_s, x_s, *noise_scale], "mpmath") for mono, sym in moments.items()}
    rng = np.random.default_rng(seed + 12)
    worst, worst_alt = mpmath.mpf(0), mpmath.mpf(0)
    n = max(count, 4) * 4
    for _ in range(n):
        lam, Q, c, kappa2, mask = _instance_change(rng)
        f = exact_projected_change_mp(lam, Q, c, kappa2, mask)
        idx = np.flatnonzero(mask)
        with mpmath.workdps(MP_DIGITS):
            point = {sym: mpmath.fsum(fn(mpmath.mpf(float(lam[i])), mpmath.mpf(float(c[i])),
                                         *([mpmath.sqrt(mpmath.mpf(float(kappa2[i])))] * len(noise_scale)))
                                      for i in idx) for sym, fn in fns.items()}
            v = claim_value_mp(card, claim, point)
            below, above = f(v * mpmath.mpf("0.99")), f(v * mpmath.mpf("1.01"))
            if not (below < 0 < above):
                return [CheckResult("exact_projected_change", False,
                                    f"E dL = {mpmath.nstr(below, 3)} at 0.99x and {mpmath.nstr(above, 3)} at 1.01x "
                                    f"the claim {mpmath.nstr(v, 8)} (instance d={len(lam)})", claim.name,
                                    {"claimed": float(v)})]
            root = mpmath.findroot(f, v * mpmath.mpf("1.001"))
            rel = abs(root - v) / v
            worst = max(worst, rel)
            if rel > mpmath.mpf(10) ** -30:
                return [CheckResult("exact_projected_change", False, f"root of the exact E dL is "
                                    f"{mpmath.nstr(root, 20)}, claim {mpmath.nstr(v, 20)} (instance d={len(lam)})",
                                    claim.name, {"claimed": float(v), "root": float(root)})]
            l_, c_ = [mpmath.mpf(float(lam[i])) for i in idx], [mpmath.mpf(float(c[i])) for i in idx]
            k_ = [mpmath.mpf(float(kappa2[i])) for i in idx]
            alt = 2 * mpmath.fsum(a**2 * b**2 for a, b in zip(l_, c_)) / (
                mpmath.fsum(a**4 * b**2 for a, b in zip(l_, c_)) + mpmath.fsum(a * q for a, q in zip(l_, k_)))
            worst_alt = max(worst_alt, abs(alt - root) / root)
    return [CheckResult("exact_projected_change", True,
                        f"on {n} random instances (random eigenbasis, dominant or bulk subspace, 50 digits) E dL < 0 "
                        f"at 0.99x and > 0 at 1.01x the claim; its root = claim within {mpmath.nstr(worst, 3)}. "
                        f"The lambda^4 variant 2 sum lam^2 c^2 / (sum lam^4 c^2 + sum lam kappa^2) misses the root "
                        f"by up to {mpmath.nstr(worst_alt, 3)} relative", claim.name)]


IDENTITY_NUMERICS = {
    "stationary_moment": _stationary_numeric,
    "projected_loss_root": _projected_numeric,
}


# -- the alignment model --------------------------------------------------------------------------

@lru_cache(maxsize=None)
def _sgd_mode_energy():
    """w(eta, lam, s) = stationary E (lam x)^2 of x+ = x - eta (lam x + xi): the engine's derivation."""
    from theory.derive.noisy_quadratic import stationary_second_moment
    eta, lam, s = sp.symbols("eta lambda s", positive=True)
    x, xi = sp.symbols("x xi", real=True)
    S = stationary_second_moment([x], [x - eta * (lam * x + xi)], xi, s**2)
    return compiled(sp.factor(lam**2 * S[0, 0]), (eta, lam, s))


def _spectrum(data):
    dom, bulk = np.asarray(data["dominant"], float), np.asarray(data["bulk"], float)
    return dom, bulk, np.concatenate([dom, bulk])


def _validate(data):
    for key in ("dominant", "bulk"):
        v = data.get(key)
        if not isinstance(v, (list, tuple)) or not v or not all(isinstance(t, (int, float)) for t in v):
            raise InputError(f"{key} must be a non-empty list of numbers")
        if any(not (t > 0 and math.isfinite(t)) for t in v):
            raise InputError(f"{key} eigenvalues must be positive and finite")
    if min(data["dominant"]) < max(data["bulk"]):
        raise InputError("every dominant eigenvalue must be >= every bulk eigenvalue")
    if len(data["dominant"]) + len(data["bulk"]) > 60:
        raise InputError("at most 60 eigenvalues in all (the model solves a d x d Lyapunov equation)")
    seed = data.get("basis_seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, (int, float)) or not float(seed).is_integer() or seed < 0:
        raise InputError(f"basis_seed must be a nonnegative integer, got {seed!r}")
    return {**data, "basis_seed": int(seed)}


def _setup(params, data):
    eta, s = params["eta"], params["s"]
    dom, bulk, lam = _spectrum(data)
    if not eta * lam.max() < 2:
        raise InputError(f"eta * lambda_max = {eta * lam.max():.6g} >= 2: SGD has no stationary law")
    Q = rotation(np.random.default_rng(int(data.get("basis_seed", 0))), lam.size)
    H = Q @ np.diag(lam) @ Q.T
    PD = Q[:, :dom.size] @ Q[:, :dom.size].T
    A = np.eye(lam.size) - eta * H
    N = eta**2 * s**2 * np.eye(lam.size)
    return dom, bulk, lam, H, PD, A, N


def _theta_of(Sigma, H, PD) -> float:
    G = H @ Sigma @ H
    return float(np.trace(PD @ G) / np.trace(G))


def _alignment_compute(params, data):
    dom, bulk, lam, H, PD, A, N = _setup(params, data)
    w = _sgd_mode_energy()(params["eta"], lam, params["s"])
    return {"theta_lyapunov": _theta_of(solve_discrete_lyapunov(A, N), H, PD),
            "theta_closed": float(w[:dom.size].sum() / w.sum()),
            "trace_share": float(dom.sum() / lam.sum())}


def _alignment_independent(params, data):
    """Sigma = sum_j A^j N A^jT by doubling: Sigma <- Sigma + A^(2^n) Sigma A^(2^n)T."""
    dom, bulk, lam, H, PD, A, N = _setup(params, data)
    Sigma, Ak = N.copy(), A.copy()
    for _ in range(200):
        Sigma = Sigma + Ak @ Sigma @ Ak.T
        Ak = Ak @ Ak
        if np.abs(Ak).max() < 1e-18:
            break
    else:
        raise ArithmeticError("the covariance series did not converge in 2^200 terms")
    return {"theta_lyapunov": _theta_of(Sigma, H, PD)}


def _alignment_instances(base):
    from hypothesis import strategies as st

    @st.composite
    def draw(draw_):
        k = draw_(st.integers(1, 5))
        nb = draw_(st.integers(1, 20))
        gap = draw_(st.floats(0.0, math.log(1e3)).map(math.exp))
        seed = draw_(st.integers(0, 2**16))
        dom, bulk = random_instance(np.random.default_rng(seed), k + nb, k, gap)
        return {"dominant": [float(v) for v in dom], "bulk": [float(v) for v in bulk], "basis_seed": seed}
    return draw()


MODELS = {
    "sgd_noisy_alignment": NumericModel(
        _alignment_compute, _alignment_independent, _alignment_instances, _validate, rtol=1e-8,
        description="stationary gradient alignment of SGD with additive noise on a dominant/bulk quadratic"),
}

__all__ = ["MODELS", "IDENTITY_NUMERICS", "random_instance", "rotation", "exact_projected_change"]
