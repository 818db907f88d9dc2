"""Mean-square stability, numerically and independently of the symbolic reduction.

- ``secular_root``: the claimed closed form, i.e. the root of sum_i gain(lam_i) = 1 on
  (0, min_i mode_limit(lam_i)), by brentq (float64) or findroot (50 digits).
- ``SecondMomentMap``: the exact second-moment map S -> E[A S A^T] of the full d-dimensional
  method in the ORIGINAL basis (any symmetric H, any positive diagonal P), built from the
  card's per-mode update coefficients and the isotropic fourth-moment tensor of the direction
  law, E[U_ij U_ml] = alpha d_ij d_ml + gamma (d_im d_jl + d_il d_jm). Its Perron root decides
  mean-square stability; nothing here uses the secular equation.
- ``ModalMap``: the same map restricted to the modes' own second moments (diagonal + rank one),
  matrix-free, for d up to 1e4 and beyond. It restates the engine's per-mode recursion
  (theory/derive/mean_square.py), so it is NOT an independent route for the formula: the tests
  check it against ``SecondMomentMap`` (spectral radii equal on random spectra) and check the
  formula itself against ``SecondMomentMap``.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import mpmath
import numpy as np
import sympy as sp
from scipy.optimize import brentq
from scipy.sparse.linalg import LinearOperator, eigs

from numerics._compile import MP_DIGITS, compiled
from theory import Card, InputError, MeanSquareThreshold

DENSE_LIMIT = 3000  # dense eigenvalues up to this many second-moment entries; ARPACK beyond


# -- the claimed closed form ------------------------------------------------------------------

def _mode_fns(card: Card, claim: MeanSquareThreshold, gain=None, limit=None, module="numpy"):
    gain = claim.gain if gain is None else gain
    limit = claim.mode_limit if limit is None else limit
    args = tuple(s for s in card.symbols if s in (gain.free_symbols | limit.free_symbols) and s != card.eigenvalue
                 and s != claim.param)
    g = compiled(gain, (claim.param, card.eigenvalue, *args), module)
    lim = compiled(limit, (card.eigenvalue, *args), module)
    return g, lim, args


def secular_root(card: Card, claim: MeanSquareThreshold, point: Mapping[sp.Symbol, float],
                 spectrum: Sequence[float], gain=None, limit=None) -> float:
    """Root of sum_i gain(lam_i) = 1 in (0, min_i limit(lam_i)); zero eigenvalues are neutral."""
    g, lim, args = _mode_fns(card, claim, gain, limit)
    rest = [point[s] for s in args]
    lams = np.array([v for v in spectrum if v > 0], dtype=float)
    if lams.size == 0:
        return math.inf
    hi = float(min(lim(v, *rest) for v in lams))
    if not (math.isfinite(hi) and hi > 0):
        raise InputError(f"mode limit {hi} is not a positive number at this point")

    def f(eta):
        return float(np.sum(g(eta, lams, *rest))) - 1.0

    top = hi * (1 - 1e-14)
    if not (f(top) > 0 or not math.isfinite(f(top))):
        raise InputError("the secular function does not exceed 1 below the mode limit (no root)")
    lo = hi * 1e-12
    if f(lo) >= 0:
        raise InputError("the secular function is not below 1 near zero (no root)")
    return brentq(lambda e: f(e) if math.isfinite(f(e)) else 1.0, lo, top, xtol=1e-300,
                  rtol=4 * np.finfo(float).eps, maxiter=500)


def secular_root_mp(card: Card, claim: MeanSquareThreshold, point, spectrum, start: float):
    """The same root at ``MP_DIGITS`` digits (Anderson-Bjorck bracketing near the float64 root)."""
    g, _lim, args = _mode_fns(card, claim, module="mpmath")
    with mpmath.workdps(MP_DIGITS):
        rest = [mpmath.mpf(point[s]) for s in args]
        lams = [mpmath.mpf(v) for v in spectrum if v > 0]

        def f(eta):
            return mpmath.fsum(g(eta, lam, *rest) for lam in lams) - 1

        a, b = mpmath.mpf(start) * (1 - mpmath.mpf(10) ** -9), mpmath.mpf(start) * (1 + mpmath.mpf(10) ** -9)
        root = mpmath.findroot(f, (a, b), solver="anderson")
        return root, f(root)


# -- per-mode update coefficients, straight from the card's update rule -----------------------

@dataclass(frozen=True)
class ModeCoefficients:
    F: np.ndarray      # k x k
    b: np.ndarray      # k
    a: np.ndarray      # k
    precond_rows: np.ndarray  # bool k: components whose increment is multiplied by P^{-1}


def mode_coefficients(card: Card, param: sp.Symbol, value: float, point: Mapping[sp.Symbol, float]) -> ModeCoefficients:
    est = card.estimator
    if est is None:
        raise InputError(f"card {card.id} has no estimator")
    upd = sp.Matrix(card.mode_update)
    F = upd.jacobian(card.state)
    b = upd.jacobian([est.symbol])
    a = sp.Matrix([est.at]).jacobian(card.state)
    values = {**point, param: value}
    num = lambda m: np.array(m.subs({s: values[s] for s in m.free_symbols if s in values}), dtype=float)  # noqa: E731
    rows = np.array([s in est.preconditioned for s in card.state])
    return ModeCoefficients(num(F), num(b).ravel(), num(a).ravel(), rows)


def isotropic_moments(card: Card, point: Mapping[sp.Symbol, float], d: int) -> tuple[float, float]:
    """(alpha, gamma) of E[U_ij U_ml] for U = (1/n) sum of n i.i.d. directions u u^T.

    One direction: Gaussian E[u_i u_j u_m u_l] = sum of the three pairings; uniform on the sphere
    of radius sqrt(d): d/(d+2) times that. Independent directions add (1 - 1/n) d_ij d_ml.
    """
    est = card.estimator
    n = float(est.n.subs({s: point[s] for s in est.n.free_symbols if s in point}))
    if not (n >= 1 and float(n).is_integer()):
        raise InputError(f"number of directions must be a positive integer, got {n}")
    scale = 1.0 if est.directions == "gaussian" else d / (d + 2.0)
    return (1 - 1 / n) + scale / n, scale / n


class SecondMomentMap:
    """S -> E[A S A^T] for the full method on H (and frozen diagonal P), state blocks [component][coord]."""

    def __init__(self, card: Card, param: sp.Symbol, value: float, point: Mapping[sp.Symbol, float],
                 hessian: np.ndarray, precond: np.ndarray | None = None, moments_dim: int | None = None):
        """``moments_dim``: the dimension of the direction law when ``hessian`` is the restriction
        of a larger problem to its non-null eigenspace (sphere moments depend on it)."""
        h = np.asarray(hessian, dtype=float)
        if h.ndim != 2 or h.shape[0] != h.shape[1] or not np.allclose(h, h.T, atol=1e-12 * max(1, abs(h).max())):
            raise InputError("the Hessian must be a symmetric square matrix")
        self.d = d = h.shape[0]
        self.co = mode_coefficients(card, param, value, point)
        self.k = k = len(self.co.b)
        self.alpha, self.gamma = isotropic_moments(card, {**point, param: value}, moments_dim or d)
        pinv = np.ones(d) if precond is None else 1.0 / np.asarray(precond, dtype=float)
        # A(U) = A0 + Pm (b a^T kron U H),  A0 = I + Pm ((F - I) kron I)
        pm = np.concatenate([pinv if r else np.ones(d) for r in self.co.precond_rows])
        self.pm = pm
        self.h = h
        self.A0 = np.eye(k * d) + pm[:, None] * np.kron(self.co.F - np.eye(k), np.eye(d))
        self.EB = pm[:, None] * np.kron(np.outer(self.co.b, self.co.a), h)
        self.bb = np.outer(self.co.b, self.co.b)
        self.a = self.co.a

    @property
    def size(self) -> int:
        return (self.k * self.d) ** 2

    def apply(self, S: np.ndarray) -> np.ndarray:
        """One step of the exact recursion; S has shape (..., kd, kd)."""
        k, d = self.k, self.d
        A0, EB = self.A0, self.EB
        out = A0 @ S @ A0.T + A0 @ S @ EB.T + EB @ S @ A0.T
        blocks = S.reshape(S.shape[:-2] + (k, d, k, d))
        Y = np.einsum("r,...rjsm,s->...jm", self.a, blocks, self.a)        # E[y y^T]
        M = self.h @ Y @ self.h
        tr = np.trace(M, axis1=-2, axis2=-1)[..., None, None]
        EUMU = self.alpha * M + self.gamma * (np.swapaxes(M, -1, -2) + tr * np.eye(d))
        KSK = np.einsum("pq,...il->...piql", self.bb, EUMU).reshape(S.shape)
        return out + self.pm[:, None] * KSK * self.pm[None, :]

    def matrix(self) -> np.ndarray:
        n = self.k * self.d
        basis = np.eye(n * n).reshape(n * n, n, n)
        return self.apply(basis).reshape(n * n, n * n).T

    def spectral_radius(self) -> float:
        if self.size <= DENSE_LIMIT:
            return float(np.max(np.abs(np.linalg.eigvals(self.matrix()))))
        n = self.k * self.d
        op = LinearOperator((n * n, n * n), matvec=lambda v: self.apply(v.reshape(n, n)).ravel(), dtype=float)
        return float(np.max(np.abs(eigs(op, k=1, which="LM", return_eigenvectors=False, tol=1e-13, maxiter=20000))))

    def second_moments(self, S0: np.ndarray, steps: int) -> np.ndarray:
        """E||x_t||^2 (the first state component) for t = 0..steps from E[z0 z0^T] = S0."""
        d = self.d
        out, S = [float(np.trace(S0[:d, :d]))], S0
        for _ in range(steps):
            S = self.apply(S)
            out.append(float(np.trace(S[:d, :d])))
        return np.array(out)


class ModalMap:
    """The modes' own second moments (k x k per mode) with the rank-one coupling, matrix-free. The
    engine's recursion restated numerically (a fast path, validated against ``SecondMomentMap``)."""

    def __init__(self, card: Card, param: sp.Symbol, value: float, point: Mapping[sp.Symbol, float],
                 spectrum: Sequence[float]):
        self.lams = np.asarray(spectrum, dtype=float)
        self.co = mode_coefficients(card, param, value, point)
        d = len(self.lams)
        alpha, gamma = isotropic_moments(card, {**point, param: value}, d)
        self.k_self, self.k_c = alpha + gamma, gamma   # E[U_ii^2] - E[U_ik^2], E[U_ik^2]

    def apply(self, S: np.ndarray) -> np.ndarray:   # S: (d, k, k)
        F, b, a, lam = self.co.F, self.co.b, self.co.a, self.lams[:, None, None]
        FS = np.einsum("pq,iqr->ipr", F, S)
        out = np.einsum("ipr,sr->ips", FS, F)
        Sa = np.einsum("iqr,r->iq", FS, a)                       # F S a
        cross = np.einsum("iq,s->iqs", Sa, b)
        out += lam * (cross + np.swapaxes(cross, 1, 2))
        aSa = np.einsum("p,ipq,q->i", a, S, a)
        C = np.sum(self.lams**2 * aSa)
        out += (self.k_self * self.lams**2 * aSa + self.k_c * C)[:, None, None] * np.outer(b, b)[None]
        return out

    def spectral_radius(self) -> float:
        d, k = len(self.lams), len(self.co.b)
        n = d * k * k
        if n <= DENSE_LIMIT:
            basis = np.eye(n).reshape(n, d, k, k)
            mat = np.stack([self.apply(B).ravel() for B in basis], axis=1)
            return float(np.max(np.abs(np.linalg.eigvals(mat))))
        op = LinearOperator((n, n), matvec=lambda v: self.apply(v.reshape(d, k, k)).ravel(), dtype=float)
        return float(np.max(np.abs(eigs(op, k=1, which="LM", return_eigenvectors=False, tol=1e-13, maxiter=20000))))


def random_hessian(spectrum: Sequence[float], seed: int) -> np.ndarray:
    """Q diag(spectrum) Q^T with a Haar-random orthogonal Q."""
    rng = np.random.default_rng(seed)
    d = len(spectrum)
    q, r = np.linalg.qr(rng.standard_normal((d, d)))
    q = q * np.sign(np.diag(r))
    h = q @ np.diag(np.asarray(spectrum, dtype=float)) @ q.T
    return 0.5 * (h + h.T)


def commuting_problem(card: Card, spectrum: Sequence[float], seed: int) -> tuple[np.ndarray, np.ndarray | None]:
    """(H, P) realising ``spectrum`` as eig(P^{-1} H) with P H = H P. Without a preconditioned
    state, P is None and H has a Haar-random eigenbasis; with one, P is a random positive diagonal
    and H = P diag(spectrum) (diagonal too, so the two commute). Zero eigenvalues are dropped:
    null directions are neutral (their block of the operator has eigenvalue exactly 1 and is driven
    by, but never drives, the others), so stability is decided on the rest."""
    spectrum = [v for v in spectrum if v > 0]
    if card.estimator is not None and card.estimator.preconditioned:
        rng = np.random.default_rng(seed)
        p = rng.uniform(0.5, 2.0, len(spectrum))
        return np.diag(p * np.asarray(spectrum, dtype=float)), p
    return random_hessian(spectrum, seed), None


def operator_root(radius, lo: float, hi: float) -> float:
    """Root of radius(eta) - 1 in [lo, hi] by brentq."""
    return brentq(lambda e: radius(e) - 1.0, lo, hi, xtol=1e-300, rtol=1e-13, maxiter=200)


def noncommuting_problem(spectrum: Sequence[float], seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(H, P): a random positive diagonal P and a dense H = P^{1/2} Q diag(spectrum) Q^T P^{1/2},
    so eig(P^{-1} H) = spectrum exactly while P H != H P."""
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.5, 2.0, len(spectrum))
    s = np.sqrt(p)
    h = s[:, None] * random_hessian(spectrum, seed + 1) * s[None, :]
    return 0.5 * (h + h.T), p


def noncommuting_gap(card: Card, claim: MeanSquareThreshold, point: Mapping[sp.Symbol, float],
                     spectrum: Sequence[float], seed: int) -> tuple[float, float]:
    """(formula on eig(P^{-1}H), exact operator root) for a non-commuting diagonal P."""
    from numerics._evaluate import claim_value
    formula = claim_value(card, claim, point, spectrum)
    hessian, p = noncommuting_problem(spectrum, seed)
    rho = lambda e: SecondMomentMap(card, claim.param, e, point, hessian, p).spectral_radius()  # noqa: E731
    lo, hi = 0.5 * formula, 1.5 * formula
    while rho(lo) >= 1:
        lo *= 0.5
    while rho(hi) <= 1:
        hi *= 1.5
    return formula, operator_root(rho, lo, hi)
