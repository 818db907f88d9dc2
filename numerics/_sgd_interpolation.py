"""Mean-square stability of minibatch SGD (and SGD with heavy-ball momentum) at an interpolating
minimum, for any per-sample Hessians H_1..H_n and batch size B (numpy/scipy/mpmath).

Linearised at an interpolating minimum, SGD is x <- (I - eta H_B) x with H_B the batch mean. The
second moment S = E[x x^T] evolves by T(S) = S - eta (H S + S H) + eta^2 E[H_B S H_B], and

    E[H_B (x) H_B] = H (x) H + c_B (E_i[H_i (x) H_i] - H (x) H),

c_B = Var(h_B)/Var(h_i): derived by SymPy from the sampling scheme (theory.derive.sgd_noise), or
computed here a second way by enumerating every batch. Directions outside range(H) are never moved
(range(H_i) is inside range(H) for PSD H_i), so the threshold is computed on range(H).

Three routes to eta* (the first step size where rho(T) = 1):

* ``eta_crit_kron``: the d^2 x d^2 Kronecker matrix I - eta (I (x) H + H (x) I) + eta^2 E[H_B (x) H_B],
  its spectral radius on a grid of eta in (0, 2/lambda_max], bisection after the first grid point
  where rho >= 1.
* ``eta_crit_matrix_free``: T is completely positive, so its spectral radius is its Perron root, an
  eigenvalue with a PSD eigenvector; it equals 1 exactly where det(eta E - K) = 0
  (K = I (x) H + H (x) I > 0 on range(H), E = E[H_B (x) H_B]), and rho < 1 for small eta. So
  eta* = 1 / mu_max with mu_max the largest eigenvalue of the symmetric operator
  K^{-1/2} E K^{-1/2}, applied matrix-free: E(S) = (1 - c_B) H S H + c_B E_i[H_i S H_i] (O(n d^3)) and
  K^{-1/2} in H's eigenbasis (entrywise 1/sqrt(h_k + h_l)); Lanczos (scipy eigsh) for large d.
* ``eta_crit_mp``: the root of det(eta E - K) at 50 digits (mpmath findroot, d <= 5).

The Wu-Ma-E sufficient condition lambda_max(E[(I - eta H_B)^2]) <= 1, with
E[(I - eta H_B)^2] = (I - eta H)^2 + eta^2 c_B Sigma, Sigma = E_i[H_i^2] - H^2, holds exactly for
eta <= 2 / lambda_max(H^{-1/2} (H^2 + c_B Sigma) H^{-1/2}) (a Loewner inequality), and by brentq on
the eigenvalue as a second route. Non-uniformity s = sqrt(lambda_max(Sigma)) (Wu, Ma, E 2018).

Momentum: z = (x, x_prev), A_B = [[(1 + beta) I - eta H_B, -beta I], [I, 0]], T(S) = E[A_B S A_B^T] with
E[A_B (x) A_B] from the same E[H_B (x) H_B]; eta* by grid + bisection on the Kronecker radius, and
the 50-digit root of det(M(eta) - I) (the Perron root crosses 1 at +1) as the independent route.
"""
from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from functools import lru_cache

import mpmath
import numpy as np
from scipy.optimize import brentq

from numerics._models import NumericModel
from numerics._result import CheckResult
from theory import InputError
from theory._assume import sample_points

RANGE_TOL = 1e-10      # eigenvalues of H below this x lambda_max span its null space
GRID = 96              # grid points for the first crossing of rho = 1
KRON_MAX_DIM = 12      # above this d the Kronecker route is skipped (d^4 entries)
MP_MAX_DIM = 5
ENUMERATE_MAX = 20_000  # batches enumerated exactly by the independent c_B route


# -- data --------------------------------------------------------------------------------------------

def _number(v) -> bool:
    """A finite real scalar (not a list, not a bool)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(float(v))


def validate(data: Mapping[str, object]) -> dict:
    """Per-sample Hessians (a list of d x d symmetric PSD lists), batch >= 1, replacement 1 or 0,
    optional momentum in [0, 1)."""
    try:
        hs = np.asarray(data["hessians"], dtype=float)
    except (ValueError, TypeError):
        raise InputError("hessians must be a list of d x d lists of numbers, e.g. hessians=[[[2,0],[0,1]],[[1,1],[1,1]]]") from None
    if hs.ndim != 3 or hs.shape[1] != hs.shape[2] or hs.shape[0] < 1 or hs.shape[1] < 1:
        raise InputError(f"hessians must be a list of n square d x d matrices, got shape {hs.shape}")
    if not np.all(np.isfinite(hs)):
        raise InputError("hessians must be finite")
    scale = max(1.0, float(np.max(np.abs(hs))))
    if np.max(np.abs(hs - hs.transpose(0, 2, 1))) > 1e-9 * scale:
        raise InputError("every per-sample Hessian must be symmetric")
    hs = (hs + hs.transpose(0, 2, 1)) / 2
    low = min(float(np.linalg.eigvalsh(h).min()) for h in hs)
    if low < -1e-9 * scale:
        raise InputError(f"every per-sample Hessian must be PSD at an interpolating minimum (smallest eigenvalue {low:.3g})")
    if np.max(np.abs(hs.mean(0))) == 0:
        raise InputError("the mean Hessian is zero: every step size is stable")
    batch, rep = data.get("batch", 1), data.get("replacement", 1)
    if not _number(batch) or float(batch) != int(float(batch)) or int(float(batch)) < 1:
        raise InputError(f"batch must be a positive integer, got {batch!r}")
    if not _number(rep) or float(rep) not in (0.0, 1.0):
        raise InputError(f"replacement must be 1 (with) or 0 (without), got {rep!r}")
    n, batch, rep = hs.shape[0], int(float(batch)), int(float(rep))
    if not rep and batch > n:
        raise InputError(f"without replacement the batch ({batch}) cannot exceed the number of samples ({n})")
    out = {**data, "hessians": hs.tolist(), "batch": batch, "replacement": rep}
    if "momentum" in data:
        if not _number(data["momentum"]):
            raise InputError(f"momentum must be a number in [0, 1), got {data['momentum']!r}")
        beta = float(data["momentum"])
        if not 0 <= beta < 1:
            raise InputError(f"momentum must be in [0, 1), got {beta!r}")
        out["momentum"] = beta
    return out


@lru_cache(maxsize=2)
def _c_formula(replacement: bool):
    """c_B(B, n) as derived by SymPy from the sampling scheme (theory.derive.sgd_noise)."""
    import sympy as sp

    from theory.derive.sgd_noise import variance_factor
    B, n = sp.Symbol("B", positive=True, integer=True), sp.Symbol("n", positive=True, integer=True)
    return sp.lambdify((B, n), variance_factor(B, replacement, None if replacement else n), "math")


def variance_factor(batch: int, n: int, replacement: bool) -> float:
    """c_B: 1/B with replacement, (n - B)/(B (n - 1)) without (a full batch is deterministic: 0)."""
    if not replacement and batch >= n:
        return 0.0
    return float(_c_formula(bool(replacement))(batch, n))


def enumerated_second_moment(hs: np.ndarray, batch: int, replacement: bool) -> np.ndarray | None:
    """E[H_B (x) H_B] by enumerating every batch (ordered draws with replacement, subsets without);
    None when there are more than ``ENUMERATE_MAX`` batches."""
    n, d = hs.shape[0], hs.shape[1]
    count = n**batch if replacement else math.comb(n, batch)
    if count > ENUMERATE_MAX:
        return None
    draws = itertools.product(range(n), repeat=batch) if replacement else itertools.combinations(range(n), batch)
    acc = np.zeros((d * d, d * d))
    for idx in draws:
        hb = hs[list(idx)].mean(0)
        acc += np.kron(hb, hb)
    return acc / count


class Problem:
    """Per-sample Hessians restricted to range(H), the batch law's c_B and the operator's parts."""

    def __init__(self, hessians, batch: int = 1, replacement: bool = True, c: float | None = None):
        hs = np.asarray(hessians, dtype=float)
        H = hs.mean(0)
        w, U = np.linalg.eigh(H)
        keep = w > RANGE_TOL * max(w.max(), 0.0)
        if not np.any(keep):
            raise InputError("the mean Hessian is zero: every step size is stable")
        self.full_dim = hs.shape[1]
        self.basis = U[:, keep]                       # range(H); H's eigenbasis there
        self.hs = np.einsum("ji,njk,kl->nil", self.basis, hs, self.basis)
        self.h = w[keep]
        self.H = np.diag(self.h)
        self.n, self.d = self.hs.shape[0], self.hs.shape[1]
        self.batch, self.replacement = int(batch), bool(replacement)
        self.c = variance_factor(self.batch, self.n, self.replacement) if c is None else float(c)

    @property
    def lambda_max(self) -> float:
        return float(self.h.max())

    @property
    def trace(self) -> float:
        return float(self.h.sum())

    def sigma(self) -> np.ndarray:
        """Sigma = E_i[H_i^2] - H^2 (the per-sample Hessians' covariance, contracted)."""
        return np.einsum("nij,njk->ik", self.hs, self.hs) / self.n - self.H @ self.H

    def nonuniformity(self) -> float:
        return math.sqrt(max(float(np.linalg.eigvalsh(self.sigma()).max()), 0.0))

    def second_moment(self) -> np.ndarray:
        """E[H_B (x) H_B] = H (x) H + c_B (E_i[H_i (x) H_i] - H (x) H)."""
        HH = np.kron(self.H, self.H)
        per = np.einsum("nij,nkl->ikjl", self.hs, self.hs).reshape(self.d**2, self.d**2) / self.n
        return HH + self.c * (per - HH)

    def kron(self, eta: float, second: np.ndarray | None = None) -> np.ndarray:
        eye = np.eye(self.d)
        E = self.second_moment() if second is None else second
        return np.eye(self.d**2) - eta * (np.kron(eye, self.H) + np.kron(self.H, eye)) + eta**2 * E

    def rho(self, eta: float, second: np.ndarray | None = None) -> float:
        """The spectral radius (the Kronecker matrix is symmetric: K and E[H_B (x) H_B] are)."""
        w = np.linalg.eigvalsh(self.kron(eta, second))
        return float(max(abs(w[0]), abs(w[-1])))

    def apply_T(self, S: np.ndarray, eta: float) -> np.ndarray:
        """T(S), matrix-free (S in range(H)'s coordinates)."""
        HS = self.H @ S
        per = (self.hs @ S @ self.hs).mean(0)
        return S - eta * (HS + HS.T) + eta**2 * ((1 - self.c) * self.H @ S @ self.H + self.c * per)


def first_crossing(rho, hi: float, grid: int = GRID) -> float:
    """The first eta in (0, hi] where rho(eta) reaches 1: a grid, then bisection (brentq)."""
    prev = 0.0
    for k in range(1, grid + 1):
        eta = hi * k / grid
        if rho(eta) >= 1:
            if prev == 0.0:
                prev = hi / grid * 1e-6
            return brentq(lambda e: rho(e) - 1, prev, eta, xtol=1e-15, rtol=1e-15, maxiter=200)
        prev = eta
    return math.inf


def eta_crit_kron(p: Problem, second: np.ndarray | None = None) -> float:
    """Route 1: the Kronecker matrix's spectral radius, first crossing of 1 in (0, 2/lambda_max]
    (eta lambda_max <= 2 is necessary: the mean iterate (I - eta H)^t x0 must stay bounded)."""
    E = p.second_moment() if second is None else second
    hi = 2.0 / p.lambda_max * (1 + 1e-9)
    return first_crossing(lambda e: p.rho(e, E), hi)


def _k_inv_sqrt(p: Problem) -> np.ndarray:
    return 1.0 / np.sqrt(p.h[:, None] + p.h[None, :])


def eta_crit_matrix_free(p: Problem) -> float:
    """Route 2: eta* = 1 / lambda_max(K^{-1/2} E K^{-1/2}), the operator applied to d x d matrices."""
    from scipy.sparse.linalg import LinearOperator, eigsh
    W = _k_inv_sqrt(p)
    d = p.d

    def apply(v):
        S = W * v.reshape(d, d)
        per = (p.hs @ S @ p.hs).mean(0)
        out = (1 - p.c) * p.H @ S @ p.H + p.c * per
        return (W * out).reshape(-1)

    if d * d <= 16:  # small: the same operator's matrix, column by column (still never the Kronecker form)
        A = np.column_stack([apply(e) for e in np.eye(d * d)])
        mu = float(np.linalg.eigvalsh((A + A.T) / 2).max())
    else:
        op = LinearOperator((d * d, d * d), matvec=apply, dtype=float)
        mu = float(eigsh(op, k=1, which="LA", tol=1e-14, v0=np.ones(d * d), maxiter=20 * d * d)[0][0])
    return 1.0 / mu if mu > 0 else math.inf


def eta_crit_mp(p: Problem, start: float, digits: int = 50) -> mpmath.mpf:
    """Route 3: the root of det(eta E - K) next to ``start`` at ``digits`` digits."""
    if p.d > MP_MAX_DIM:
        raise InputError(f"the 50-digit route runs for d <= {MP_MAX_DIM} (range of H: d = {p.d})")
    with mpmath.workdps(digits + 10):
        H = mpmath.matrix([[mpmath.mpf(x) for x in row] for row in p.H.tolist()])
        hs = [mpmath.matrix([[mpmath.mpf(x) for x in row] for row in h.tolist()]) for h in p.hs]
        c, d = mpmath.mpf(p.c), p.d

        def kron(a, b):
            out = mpmath.matrix(d * d, d * d)
            for i in range(d):
                for j in range(d):
                    for k in range(d):
                        for m in range(d):
                            out[i * d + k, j * d + m] = a[i, j] * b[k, m]
            return out
        HH = kron(H, H)
        per = sum((kron(h, h) for h in hs), mpmath.matrix(d * d, d * d)) / p.n
        E = HH + c * (per - HH)
        eye = mpmath.eye(d)
        K = kron(eye, H) + kron(H, eye)
        root = mpmath.findroot(lambda e: mpmath.det(e * E - K), mpmath.mpf(start), tol=mpmath.mpf(10) ** (-digits))
    return root


def eta_sufficient(p: Problem) -> float:
    """Wu-Ma-E: the largest eta with lambda_max((I - eta H)^2 + eta^2 c_B Sigma) <= 1, as a Loewner bound."""
    Q = p.H @ p.H + p.c * p.sigma()
    Wh = 1.0 / np.sqrt(p.h)
    return 2.0 / float(np.linalg.eigvalsh(Wh[:, None] * Q * Wh[None, :]).max())


def eta_sufficient_brentq(p: Problem) -> float:
    """The same bound by brentq on lambda_max(E[(I - eta H_B)^2]) - 1."""
    Q = p.H @ p.H + p.c * p.sigma()
    eye = np.eye(p.d)

    def f(e):
        return float(np.linalg.eigvalsh(eye - 2 * e * p.H + e * e * Q).max()) - 1

    return first_crossing(lambda e: f(e) + 1, 2.0 / p.lambda_max * (1 + 1e-9))


# -- momentum -------------------------------------------------------------------------------------

def momentum_kron(p: Problem, eta: float, beta: float) -> np.ndarray:
    """E[A_B (x) A_B] for z = (x, x_prev): A_B = A0 - eta J H_B J^T, J = [I; 0]."""
    d = p.d
    eye, zero = np.eye(d), np.zeros((d, d))
    A0 = np.block([[(1 + beta) * eye, -beta * eye], [eye, zero]])
    J = np.vstack([eye, zero])
    Hh = J @ p.H @ J.T
    JJ = np.kron(J, J)
    EHH = JJ @ p.second_moment() @ JJ.T
    return np.kron(A0, A0) - eta * (np.kron(A0, Hh) + np.kron(Hh, A0)) + eta**2 * EHH


def eta_crit_momentum(p: Problem, beta: float) -> float:
    hi = 2.0 * (1 + beta) / p.lambda_max * (1 + 1e-9)
    return first_crossing(lambda e: float(np.max(np.abs(np.linalg.eigvals(momentum_kron(p, e, beta))))), hi)


def eta_crit_momentum_mp(p: Problem, beta: float, start: float, digits: int = 50) -> mpmath.mpf:
    """det(M(eta) - I) = 0 next to ``start`` at 50 digits (M built at 50 digits from the float64 parts)."""
    if p.d > 3:
        raise InputError("the 50-digit momentum route runs for d <= 3")
    base = momentum_kron(p, 0.0, beta)
    lin = (momentum_kron(p, 1.0, beta) - momentum_kron(p, -1.0, beta)) / 2
    quad = (momentum_kron(p, 1.0, beta) + momentum_kron(p, -1.0, beta)) / 2 - base
    with mpmath.workdps(digits + 10):
        M0, M1, M2 = (mpmath.matrix(m.tolist()) for m in (base, lin, quad))
        eye = mpmath.eye(base.shape[0])
        return mpmath.findroot(lambda e: mpmath.det(M0 + e * M1 + e * e * M2 - eye), mpmath.mpf(start),
                               tol=mpmath.mpf(10) ** (-digits))


# -- the numeric model ------------------------------------------------------------------------------

def _problem(data) -> Problem:
    return Problem(data["hessians"], data["batch"], bool(data["replacement"]))


def _key(data) -> str:
    import json
    return json.dumps({k: data[k] for k in ("hessians", "batch", "replacement", "momentum") if k in data})


_COMPUTED: dict[str, dict] = {}


def compute(params: Mapping[str, float], data: Mapping[str, object]) -> dict:
    """The model's quantities (cached per instance: a card's relations are searched over the same instances)."""
    key = _key(data)
    if key not in _COMPUTED:
        if len(_COMPUTED) > 4096:
            _COMPUTED.clear()
        _COMPUTED[key] = _compute(data)
    return dict(_COMPUTED[key])


def _compute(data: Mapping[str, object]) -> dict:
    p = _problem(data)
    free = eta_crit_matrix_free(p)
    kron = eta_crit_kron(p) if p.d <= KRON_MAX_DIM else free
    out = {"eta_crit": kron, "eta_crit_matrix_free": free, "eta_sufficient": eta_sufficient(p),
           "eta_gd": 2.0 / p.lambda_max, "lambda_max": p.lambda_max, "trace_H": p.trace,
           "nonuniformity": p.nonuniformity(), "c_B": p.c,
           "rho_below": p.rho(0.99 * kron) if p.d <= KRON_MAX_DIM else math.nan,
           "rho_above": p.rho(1.01 * kron) if p.d <= KRON_MAX_DIM else math.nan}
    if "momentum" in data:
        out["eta_crit_momentum"] = eta_crit_momentum(p, data["momentum"])
        out["eta_heavy_ball"] = 2.0 * (1 + data["momentum"]) / p.lambda_max
    return out


def independent(params: Mapping[str, float], data: Mapping[str, object]) -> dict:
    """eta* as the 50-digit root of det(eta E - K) with E[H_B (x) H_B] from enumerated batches (where few
    enough), the sufficient bound by brentq on the eigenvalue, c_B by enumeration."""
    p = _problem(data)
    out: dict[str, float] = {"eta_sufficient": eta_sufficient_brentq(p)}
    enumerated = enumerated_second_moment(p.hs, p.batch, p.replacement)
    start = eta_crit_matrix_free(p)
    if enumerated is not None:
        HH, per = np.kron(p.H, p.H), np.einsum("nij,nkl->ikjl", p.hs, p.hs).reshape(p.d**2, p.d**2) / p.n
        spread = per - HH
        if np.max(np.abs(spread)) > 1e-12:
            out["c_B"] = float(np.sum((enumerated - HH) * spread) / np.sum(spread * spread))
        if p.d <= KRON_MAX_DIM:
            start = eta_crit_kron(p, enumerated)
    if p.d <= MP_MAX_DIM and math.isfinite(start):
        out["eta_crit"] = float(eta_crit_mp(p, start))
    if "momentum" in data and p.d <= 3:
        guess = eta_crit_momentum(p, data["momentum"])
        out["eta_crit_momentum"] = float(eta_crit_momentum_mp(p, data["momentum"], guess))
    return out


# -- random instances (hypothesis strategies) ---------------------------------------------------------

def _factors(draw, st, d: int, rank_one: bool):
    rank = 1 if rank_one else draw(st.integers(1, d))
    entries = st.floats(-2, 2, allow_nan=False, allow_infinity=False).map(lambda v: round(v, 3))
    return np.array(draw(st.lists(st.lists(entries, min_size=rank, max_size=rank), min_size=d, max_size=d)))


def family(*, rank_one: bool = False, unit_norm: bool = False, batch: str = "any", replacement: str = "any",
           max_dim: int = 3, max_samples: int = 5, momentum: bool = False):
    """Random instances: per-sample Hessians G_i G_i^T (G_i a d x r factor with entries in [-2, 2] (3
    decimals), r = 1 for ``rank_one``, unit-norm columns for ``unit_norm``); ``batch``: 'one', 'many'
    (2..n+1) or 'any'; ``replacement``: 'with', 'without' or 'any'. Shrinks towards small d, n and
    simple entries."""
    from hypothesis import strategies as st

    @st.composite
    def build(draw):
        d = draw(st.integers(1, max_dim))
        n = draw(st.integers(1 if batch != "many" else 2, max_samples))
        hs = []
        for _ in range(n):
            G = _factors(draw, st, d, rank_one)
            if unit_norm:
                norm = np.linalg.norm(G)
                G = G / norm if norm > 1e-3 else np.eye(d)[:, :1]
            hs.append(G @ G.T)
        hs = np.array(hs)
        rep = {"with": 1, "without": 0}.get(replacement) if replacement != "any" else draw(st.integers(0, 1))
        if batch == "one":
            B = 1
        elif batch == "many":
            B = draw(st.integers(2, n if not rep else n + 1))
        else:
            B = draw(st.integers(1, n if not rep else n + 1))
        out = {"hessians": hs.tolist(), "batch": B, "replacement": rep}
        if momentum:
            out["momentum"] = draw(st.sampled_from([0.0, 0.5, 0.9]))
        return out

    def usable(data) -> bool:
        H = np.mean(np.asarray(data["hessians"]), 0)
        w = np.linalg.eigvalsh(H)
        # the kept range must be well conditioned for float64 roots at 1e-9
        kept = w[w > RANGE_TOL * w.max()] if w.max() > 0 else w[:0]
        return w.max() > 1e-3 and kept.min() > 1e-4 * w.max()

    return build().filter(usable)


MODEL_DESCRIPTION = ("minibatch SGD second-moment operator at an interpolating minimum: Kronecker radius (grid + "
                     "bisection) and matrix-free Perron root; 50-digit root and enumerated batches independently")


def _restricted(check, what: str):
    def validate_restricted(data):
        out = validate(data)
        why = check(out)
        if why:
            raise InputError(f"{what}: {why}")
        return out
    return validate_restricted


def _rank_one_b1(data) -> str | None:
    if data["batch"] != 1:
        return f"the claim is for batch = 1, got {data['batch']}"
    if any(np.linalg.matrix_rank(np.asarray(h), tol=1e-9 * max(1.0, np.abs(h).max())) > 1 for h in data["hessians"]):
        return "the claim is for rank-one per-sample Hessians (square loss, scalar output)"
    return None


def _models():
    def fam(**kw):
        return lambda base: family(**kw)

    return {
        "sgd_interpolation": NumericModel(compute, independent, fam(), validate, 1e-9, MODEL_DESCRIPTION),
        "sgd_interpolation_momentum": NumericModel(compute, independent, fam(momentum=True, max_dim=2, max_samples=4),
                                                   validate, 1e-9, MODEL_DESCRIPTION + "; heavy-ball momentum"),
        "sgd_interpolation_rank_one_b1": NumericModel(compute, independent, fam(rank_one=True, batch="one"),
                                                      _restricted(_rank_one_b1, "sgd.interpolation rank-one card"),
                                                      1e-9, MODEL_DESCRIPTION + "; rank-one H_i, B = 1"),
        # the conjecture cards: the family the statement is tried on; refuted by their scenario
        "sgd_interpolation_family_psd_b1": NumericModel(compute, None, fam(batch="one"), validate, 1e-9,
                                                        MODEL_DESCRIPTION + "; general PSD H_i, B = 1"),
        "sgd_interpolation_family_rank_one_batch": NumericModel(
            compute, None, fam(rank_one=True, batch="many", replacement="with"), validate, 1e-9,
            MODEL_DESCRIPTION + "; rank-one H_i, B > 1 with replacement"),
        "sgd_interpolation_family_any": NumericModel(compute, None, fam(), validate, 1e-9,
                                                     MODEL_DESCRIPTION + "; general PSD H_i, any B"),
    }


MODELS = _models()


# -- identity numeric routes ---------------------------------------------------------------------------

def _variance_factor_numeric(card, claim, examples, seed, count):
    """c_B by enumerating every batch of random finite populations (scalar curvatures), against the claim."""
    from numerics._evaluate import claim_value
    rng = np.random.default_rng(seed + 11)
    syms = [s for s in card.symbols if s in claim.value.free_symbols]
    rep = bool(claim.arguments["replacement"])
    worst, tried = 0.0, 0
    for p in sample_points(syms, list(card.assumptions), count=4 * count, seed=seed + 11, override=card.sample):
        pf = {s: float(v) for s, v in p.items()}
        B = int(pf.get(claim.arguments["batch"], claim.arguments["batch"]))
        pop = claim.arguments.get("population")
        n = int(pf[pop]) if pop is not None else int(rng.integers(max(2, B), max(2, B) + 4))
        count_batches = n**B if rep else math.comb(n, B)
        if count_batches > ENUMERATE_MAX:
            continue
        h = rng.normal(size=n)
        draws = itertools.product(range(n), repeat=B) if rep else itertools.combinations(range(n), B)
        means = np.array([h[list(i)].mean() for i in draws])
        c_enum = float(means.var() / h.var())
        v = claim_value(card, claim, pf)
        worst = max(worst, abs(c_enum - v) / max(abs(v), 1e-300) if v != 0 else abs(c_enum))
        tried += 1
        if worst > 1e-9:
            return [CheckResult("enumerated_batches", False, f"Var(h_B)/Var(h_i) over all {count_batches} batches = "
                                f"{c_enum:.12g}, claimed {v:.12g} at B={B}, n={n}", claim.name,
                                {"at": {"B": B, "n": n}, "claimed": v, "enumerated": c_enum})]
    if tried == 0:
        return [CheckResult("enumerated_batches", False, "inconclusive: no sampled point small enough to enumerate",
                            claim.name, inconclusive=True)]
    return [CheckResult("enumerated_batches", True, f"Var(h_B)/Var(h_i) over every batch of a random population = "
                        f"claim within {worst:.1e} at {tried} points", claim.name, examples=tried)]


def _commuting_dataset_numeric(card, claim, examples, seed, count):
    """The dataset the claim describes, built as matrices (``DATASETS``, e.g. the orthogonal example
    H_i = n lam e_i e_i^T), through the general operator: Kronecker, matrix-free and 50-digit routes."""
    from numerics._evaluate import claim_value
    syms = [s for s in card.symbols if s in claim.value.free_symbols]
    rep = bool(claim.arguments["replacement"])
    pts = sample_points(syms, list(card.assumptions), count=count, seed=seed + 12, override=card.sample)
    worst, worst_mp = 0.0, 0.0
    builder = claim.arguments.get("dataset")
    for p in pts:
        pf = {s: float(v) for s, v in p.items()}
        hs = DATASETS[builder](pf, card)
        B = int(pf[claim.arguments["batch"]]) if not isinstance(claim.arguments["batch"], int) else claim.arguments["batch"]
        prob = Problem(hs, B, rep)
        v = claim_value(card, claim, pf)
        k, f = eta_crit_kron(prob), eta_crit_matrix_free(prob)
        worst = max(worst, abs(k - v) / v, abs(f - v) / v)
        if prob.d <= MP_MAX_DIM:
            worst_mp = max(worst_mp, float(abs(eta_crit_mp(prob, f) - v) / v))
        if worst > 1e-9 or worst_mp > 1e-9:
            return [CheckResult("general_operator", False, f"Kronecker {k:.12g}, matrix-free {f:.12g}, claimed {v:.12g} "
                                f"at {', '.join(f'{s.name}={x:g}' for s, x in pf.items())}", claim.name,
                                {"at": {s.name: x for s, x in pf.items()}, "claimed": v, "kron": k, "matrix_free": f})]
    return [CheckResult("general_operator", True, f"the dataset's per-sample Hessians through the general operator: "
                        f"Kronecker and matrix-free within {worst:.1e}, 50-digit root within {worst_mp:.1e} of the claim "
                        f"at {len(pts)} points", claim.name, examples=len(pts))]


def _orthogonal(pf, card):
    n = int(pf[card.symbol("n")])
    lam = pf[card.symbol("lambda")]
    return np.array([n * lam * np.outer(e, e) for e in np.eye(n)])


DATASETS = {"orthogonal": _orthogonal}


def _unit_rank_one_numeric(card, claim, examples, seed, count):
    """Random unit-norm rank-one instances (any geometry, d up to 6, n up to 8), B = 1: the general
    operator's eta* (and eta* Tr H) against the claim."""
    from numerics._evaluate import claim_value
    rng = np.random.default_rng(seed + 13)
    target = claim_value(card, claim, {})
    worst, trials = 0.0, max(count, 24)
    for _ in range(trials):
        d, n = int(rng.integers(1, 7)), int(rng.integers(1, 9))
        g = rng.normal(size=(n, d)) * rng.uniform(0.1, 3, size=(n, d)) ** 2
        g /= np.linalg.norm(g, axis=1, keepdims=True)
        prob = Problem(np.einsum("ni,nj->nij", g, g), 1, True)
        eta = eta_crit_matrix_free(prob)
        eta_k = eta_crit_kron(prob)
        value = eta if claim.arguments.get("quantity", "eta_crit") == "eta_crit" else eta * prob.trace
        worst = max(worst, abs(value - target) / target, abs(eta_k - eta) / eta)
    ok = worst < 1e-9
    return [CheckResult("random_geometries", ok, f"general operator on {trials} random unit-norm rank-one instances "
                        f"(d <= 6, n <= 8, B = 1): {claim.name} = {target:g} within {worst:.1e}", claim.name,
                        examples=trials)]


IDENTITY_NUMERICS = {
    "minibatch_variance_factor": _variance_factor_numeric,
    "commuting_dataset_threshold": _commuting_dataset_numeric,
    "unit_rank_one_threshold": _unit_rank_one_numeric,
}


# -- searching a family for a counterexample (the conjecture cards' scenario) ---------------------------

def search_counterexample(strategy, ratio, *, examples: int = 300, seed: int = 0, margin: float = 0.0) -> dict:
    """The shrunk (hypothesis' simplest) instance with ``ratio(data) > 1 + margin``, plus the largest ratio seen
    while searching. ``ratio`` returns a float (nan: not an instance of the statement, skipped)."""
    import random

    from hypothesis import HealthCheck, Phase, find, settings
    from hypothesis.errors import NoSuchExample
    seen = {"max": -math.inf, "arg": None, "n": 0}

    def violates(data) -> bool:
        r = ratio(data)
        if not math.isfinite(r):
            return False
        seen["n"] += 1
        if r > seen["max"]:
            seen["max"], seen["arg"] = r, data
        return r > 1 + max(margin, 1e-9)

    cfg = settings(max_examples=examples, database=None, deadline=None, derandomize=False,
                   phases=[Phase.generate, Phase.shrink], suppress_health_check=list(HealthCheck))
    try:
        found = find(strategy, violates, settings=cfg, random=random.Random(seed))
    except NoSuchExample:
        found = None
    return {"counterexample": found, "ratio": ratio(found) if found is not None else None,
            "max_ratio": seen["max"], "max_instance": seen["arg"], "evaluated": seen["n"]}


def second_moment_trajectory(p: Problem, eta: float, S0: np.ndarray, steps: int, beta: float | None = None) -> np.ndarray:
    """E||x_t||^2 (t = 0..steps) from the exact recursion (S0 in range(H)'s coordinates; with ``beta``
    the state is (x, x_prev) and S0 is 2d x 2d)."""
    out = [float(np.trace(S0[:p.d, :p.d]))]
    if beta is None:
        S = S0.copy()
        for _ in range(steps):
            S = p.apply_T(S, eta)
            out.append(float(np.trace(S)))
        return np.array(out)
    M = momentum_kron(p, eta, beta)
    v = S0.reshape(-1)
    D = 2 * p.d
    for _ in range(steps):
        v = M @ v
        out.append(float(np.trace(v.reshape(D, D)[:p.d, :p.d])))
    return np.array(out)

