"""Numeric models and identity checks for the minimalist model of progressive sharpening
f(x) = (x^T u) prod v_i (see numerics/_models.py and theory/derive/minimalist.py).

Instances: ``realise(params, data)`` builds X (N x d, d = N + extra_dims) and y with the card's
top singular value sigma_1, top coefficient d_1 = e_1^T y, difficulty Q = sum d_j^2/sigma_j^2 and
S_d2 = |y|^2; the other singular values / coefficients and the rotations E, W come from the
data seed. The Hessian is the exact dense one of L = |X u P - y|^2 / (2N) (Gauss-Newton plus
residual terms), at any point, in real or complex arithmetic (complex-step derivatives).

``MODELS``: name -> NumericModel; ``IDENTITY_NUMERICS``: derivation name -> numeric route
``(card, claim, examples, seed, count) -> list[CheckResult]``.
"""
from __future__ import annotations

import itertools
import math

import mpmath
import numpy as np
from hypothesis import strategies as st
from scipy.optimize import brentq, minimize_scalar

from numerics._compile import MP_DIGITS, compiled
from numerics._evaluate import claim_value, claim_value_mp
from numerics._models import NumericModel
from numerics._result import CheckResult
from theory import InputError
from theory._assume import sample_points

MAX_EXTRA = 12


# -- data ---------------------------------------------------------------------------------------------

def _validate(data):
    out = dict(data)
    for key, hi in (("seed", 2 ** 32 - 1), ("extra_dims", MAX_EXTRA)):
        v = out.get(key)
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= hi:
            raise InputError(f"{key} must be an integer in [0, {hi}], got {out.get(key)!r}")
        out[key] = v
    return out


def _instances(base):
    return st.fixed_dictionaries({"seed": st.integers(0, 2 ** 31 - 1), "extra_dims": st.integers(0, 6)})


def _orthonormal(rng, rows: int, cols: int) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((rows, cols)))
    return q * np.sign(np.diag(r))


def realise(params, data) -> tuple[np.ndarray, np.ndarray]:
    """(X, y) with the given N, sigma_1, d_1, Q, S_d2 (other modes from the data seed).

    Modes j >= 2 share R_d = S_d2 - d_1^2 by Dirichlet weights w_j and R_q = Q - d_1^2/sigma_1^2 by
    rho_j proportional to w_j z_j, z_j ~ U[1/kappa, 1], kappa = sigma_1^2 R_q / R_d >= 1, which keeps
    sigma_j^2 = d_j^2 / (rho_j R_q) <= sigma_1^2."""
    n = int(round(params["N"]))
    s1, d1, Q, Sd2 = (float(params[k]) for k in ("sigma_1", "d_1", "Q", "S_d2"))
    if n < 2:
        raise InputError("N must be >= 2")
    Rd, Rq = Sd2 - d1 ** 2, Q - d1 ** 2 / s1 ** 2
    if not (Rd > 0 and Rq > 0 and s1 ** 2 * Rq >= Rd * (1 - 1e-12)):
        raise InputError("need d_1^2 < S_d2 <= Q sigma_1^2 for an instance with sigma_1 the largest")
    rng = np.random.default_rng(int(data["seed"]))
    kappa = max(1.0, s1 ** 2 * Rq / Rd)
    w = rng.dirichlet(np.ones(n - 1))
    z = rng.uniform(1 / kappa, 1.0, n - 1)
    rho = w * z / np.sum(w * z)
    dj = np.sqrt(w * Rd) * rng.choice([-1.0, 1.0], n - 1)
    sj = np.sqrt(np.minimum(w * Rd / (rho * Rq), s1 ** 2))
    sig = np.concatenate([[s1], sj])
    dvec = np.concatenate([[d1], dj])
    dim = n + int(data["extra_dims"])
    E, W = _orthonormal(rng, n, n), _orthonormal(rng, dim, n)
    return (E * sig) @ W.T, E @ dvec


# -- the model: loss, gradient, dense Hessian -----------------------------------------------------------

def _split(theta, d):
    return theta[:d], theta[d:]


def loss(theta, X, y) -> float:
    u, vs = _split(theta, X.shape[1])
    r = X @ u * np.prod(vs) - y
    return float(r @ r) / (2 * len(y))


def gradient(theta, X, y) -> np.ndarray:
    u, vs = _split(theta, X.shape[1])
    P = np.prod(vs)
    r = X @ u * P - y
    g = X.T @ r / len(y)
    gv = [float(u @ g) * np.prod(np.delete(vs, i)) for i in range(len(vs))]
    return np.concatenate([P * g, gv])


def hessian(theta, X, y) -> np.ndarray:
    """Exact Hessian of L at theta = (u, v_1..v_m): J^T J / N + (1/N) sum_k r_k grad^2 F_k, with
    dF/du = P X, dF/dv_i = X u P_{-i}, d2F/du dv_i = P_{-i} X, d2F/dv_i dv_j = X u P_{-ij} (i != j).
    Works in complex arithmetic (transposes, no conjugates) for complex-step derivatives."""
    d = X.shape[1]
    u, vs = _split(theta, d)
    m, n = len(vs), len(y)
    P = np.prod(vs)
    Xu = X @ u
    r = Xu * P - y
    p_i = [np.prod(np.delete(vs, i)) for i in range(m)]
    J = np.concatenate([P * X, np.stack([Xu * p for p in p_i], axis=1)], axis=1)
    H = J.T @ J / n
    Xr = X.T @ r / n
    uXr = u @ Xr
    for i in range(m):
        H[:d, d + i] += Xr * p_i[i]
        H[d + i, :d] += Xr * p_i[i]
        for j in range(m):
            if i != j:
                H[d + i, d + j] += uXr * np.prod(np.delete(vs, [i, j]))
    return H


def fd_hessian(theta, X, y) -> np.ndarray:
    """Central differences of the analytic gradient, symmetrised (independent of ``hessian``)."""
    p = len(theta)
    H = np.empty((p, p))
    for k in range(p):
        h = 1e-5 * max(1.0, abs(theta[k]))
        e = np.zeros(p)
        e[k] = h
        H[:, k] = (gradient(theta + e, X, y) - gradient(theta - e, X, y)) / (2 * h)
    return (H + H.T) / 2


def fd_jacobian(theta, X) -> np.ndarray:
    """Central differences of the network output F(theta) = X u P (N x p)."""
    d = X.shape[1]

    def F(t):
        u, vs = _split(t, d)
        return X @ u * np.prod(vs)

    cols = []
    for k in range(len(theta)):
        h = 1e-6 * max(1.0, abs(theta[k]))
        e = np.zeros(len(theta))
        e[k] = h
        cols.append((F(theta + e) - F(theta - e)) / (2 * h))
    return np.stack(cols, axis=1)


def beta_star(X, y) -> np.ndarray:
    return np.linalg.pinv(X) @ y


def balanced_minimum(X, y, depth: int) -> np.ndarray:
    """u P = beta*, |u| = |v_i| = a: a = |beta*|^(1/D), u = beta* / a^(D-1), v_i = a."""
    b = beta_star(X, y)
    a = np.linalg.norm(b) ** (1.0 / depth)
    return np.concatenate([b / a ** (depth - 1), np.full(depth - 1, a)])


def level_set_v2(Qd: float, C: float) -> float:
    """v^2 on the minima with imbalance C = |Pi_W u|^2 - v^2 (|Pi_W u|^2 v^2 = Q): a root by brentq
    of Q/V - V - C, decreasing in V from +inf to -inf."""
    f = lambda V: Qd / V - V - C  # noqa: E731
    lo, hi = 1.0, 1.0
    while f(lo) <= 0:
        lo /= 4
    while f(hi) >= 0:
        hi *= 4
    return brentq(f, lo, hi, xtol=1e-300, rtol=4 * np.finfo(float).eps, maxiter=500)


def null_component(X, rng) -> np.ndarray:
    """A random vector in the null space of X (u's part that the imbalance ignores)."""
    z = rng.standard_normal(X.shape[1])
    return 0.3 * (z - np.linalg.pinv(X) @ (X @ z))


def two_layer_minimum(X, y, C: float, rng_seed: int):
    """theta = (u, v) at the minimum with imbalance C, and d theta / dC (implicit function theorem)."""
    b = beta_star(X, y)
    Qd = float(b @ b)
    V = level_set_v2(Qd, C)
    v = math.sqrt(V)
    u = b / v + null_component(X, np.random.default_rng(rng_seed + 1))
    dV = -1.0 / (Qd / V ** 2 + 1.0)
    dv = dV / (2 * v)
    return np.concatenate([u, [v]]), np.concatenate([-b * dv / v ** 2, [dv]])


def top_eig(H) -> tuple[float, np.ndarray]:
    w, q = np.linalg.eigh(H)
    return float(w[-1]), q[:, -1]


# -- model: balanced minimum, depth D -------------------------------------------------------------------

def _balanced(params, data):
    X, y = realise(params, data)
    theta = balanced_minimum(X, y, int(round(params["D"])))
    return X, y, theta


def _balanced_compute(params, data):
    X, y, theta = _balanced(params, data)
    return {"S": top_eig(hessian(theta, X, y))[0]}


def _balanced_independent(params, data):
    X, y, theta = _balanced(params, data)
    return {"S": top_eig(fd_hessian(theta, X, y))[0]}


# -- model: D = 2 minima on the imbalance level set ---------------------------------------------------

def _two_layer_compute(params, data):
    X, y = realise(params, data)
    theta, dtheta = two_layer_minimum(X, y, float(params["C"]), int(data["seed"]))
    S, q = top_eig(hessian(theta, X, y))
    h = 1e-30  # complex step: dH/dC exactly (H is polynomial in theta), then Hellmann-Feynman
    dH = np.imag(hessian(theta + 1j * h * dtheta, X, y.astype(complex))) / h
    return {"S": S, "dS_dC": float(q @ dH @ q)}


def _two_layer_independent(params, data):
    X, y = realise(params, data)
    C = float(params["C"])

    def S_at(c):
        theta, _ = two_layer_minimum(X, y, c, int(data["seed"]))
        return top_eig(hessian(theta, X, y))[0]

    theta, _ = two_layer_minimum(X, y, C, int(data["seed"]))
    h = 1e-4 * max(1.0, abs(C))
    return {"S": top_eig(fd_hessian(theta, X, y))[0], "dS_dC": (S_at(C + h) - S_at(C - h)) / (2 * h)}


MODELS = {
    "minimalist_balanced": NumericModel(
        _balanced_compute, _balanced_independent, _instances, _validate, rtol=1e-6,
        description="exact dense Hessian at the balanced minimum of a random realisation; independent: "
                    "central differences of the analytic gradient"),
    "minimalist_two_layer": NumericModel(
        _two_layer_compute, _two_layer_independent, _instances, _validate, rtol=1e-6,
        description="D = 2: exact dense Hessian at the minimum with imbalance C (brentq on the level set), "
                    "dS/dC by complex step + Hellmann-Feynman; independent: finite differences"),
}


# -- identity numeric routes ----------------------------------------------------------------------------

def _points(card, claim, count, seed):
    relations = list(card.assumptions_for(claim)) + list(claim.arguments.get("instance", ()))
    pts = sample_points(list(card.symbols), relations, count=count, seed=seed, override=card.sample)
    return [{s: float(v) for s, v in p.items()} for p in pts]


def _fmt(p) -> str:
    return ", ".join(f"{s.name}={v:.6g}" for s, v in p.items())


def _gram_route(card, claim, count, seed, which: str) -> list[CheckResult]:
    """e_1^T G e_1 ('rayleigh') or lambda_max(u-block) + lambda_max(layer block) ('weyl') of the Gram
    matrix from a finite-difference Jacobian at the balanced minimum of a random realisation."""
    worst = 0.0
    for k, p in enumerate(_points(card, claim, count, seed + 11)):
        params = {s.name: v for s, v in p.items()}
        X, y = realise(params, {"seed": seed + k, "extra_dims": 2})
        depth = int(round(params["D"]))
        theta = balanced_minimum(X, y, depth)
        J = fd_jacobian(theta, X)
        n, d = X.shape
        if which == "rayleigh":
            e1 = np.linalg.svd(X)[0][:, 0]
            value = float(e1 @ (J @ J.T) @ e1) / n
        else:
            Ju, Jv = J[:, :d], J[:, d:]
            value = (np.linalg.eigvalsh(Ju @ Ju.T)[-1] + np.linalg.eigvalsh(Jv @ Jv.T)[-1]) / n
        claimed = claim_value(card, claim, p)
        rel = abs(value - claimed) / abs(claimed)
        worst = max(worst, rel)
        if not rel <= 1e-7:
            return [CheckResult(f"fd_gram_{which}", False, f"finite-difference Gram gives {value:.12g}, claim "
                                f"{claimed:.12g} at {_fmt(p)}", claim.name, {"at": params, "claimed": claimed})]
    what = "e_1^T (J J^T / N) e_1" if which == "rayleigh" else "lambda_max of the u- and layer-blocks of J J^T / N"
    return [CheckResult(f"fd_gram_{which}", True, f"{what} from a finite-difference Jacobian at the balanced "
                        f"minimum of random realisations = claim within {worst:.1e} at {count} points", claim.name)]


def _rayleigh_numeric(card, claim, examples, seed, count):
    return _gram_route(card, claim, count, seed, "rayleigh")


def _weyl_numeric(card, claim, examples, seed, count):
    return _gram_route(card, claim, count, seed, "weyl")


def _level_set_numeric(card, claim, examples, seed, count):
    """brentq (float64) and findroot (50 digits) of Q/V - V - C; and the imbalance measured on a
    realised minimum u = beta*/v* (+ a null-space part) equals C."""
    C, Q = claim.arguments["imbalance"], claim.arguments["difficulty"]
    worst, worst_mp, worst_c = 0.0, mpmath.mpf(0), 0.0
    for k, p in enumerate(_points(card, claim, count, seed + 12)):
        c, q = p[C], p[Q]
        claimed = claim_value(card, claim, p)
        root = level_set_v2(q, c)
        worst = max(worst, abs(root - claimed) / claimed)
        with mpmath.workdps(MP_DIGITS):
            cm, qm = mpmath.mpf(c), mpmath.mpf(q)
            r_mp = mpmath.findroot(lambda V: qm / V - V - cm, mpmath.mpf(root))
            worst_mp = max(worst_mp, abs(r_mp - claim_value_mp(card, claim, p)) / r_mp)
        params = {s.name: v for s, v in p.items()}
        X, y = realise(params, {"seed": seed + k, "extra_dims": 2})
        b = beta_star(X, y)
        scale = float(b @ b) / q  # the realisation's Q equals the card's up to rounding
        vstar = math.sqrt(claimed * scale)
        u = b / vstar + null_component(X, np.random.default_rng(seed + k))
        Pu = np.linalg.pinv(X) @ (X @ u)
        measured = float(Pu @ Pu) - vstar ** 2
        worst_c = max(worst_c, abs(measured - c * scale) / max(1.0, abs(c)))
    ok = worst <= 1e-12 and worst_mp <= mpmath.mpf(10) ** -30 and worst_c <= 1e-9
    return [CheckResult("level_set_root", ok, f"brentq root of Q/V - V - C = claim within {worst:.1e}; 50-digit "
                        f"findroot within {mpmath.nstr(worst_mp, 3)}; imbalance |Pi_W u|^2 - v^2 measured on a "
                        f"realised minimum = C within {worst_c:.1e}, at {count} points", claim.name)]


def _argmin_numeric(card, claim, examples, seed, count):
    """Minimise the bound b(V) over V > 0 (bounded Brent on log V, then a 50-digit root of b'(V)),
    map the minimiser to C = Q/V - V (the level set), compare with the claim."""
    bound, V, Q = claim.arguments["bound"], claim.arguments["level"], claim.arguments["difficulty"]
    syms = [s for s in card.symbols if s in bound.free_symbols]
    f = compiled(bound, (V, *syms))
    f_mp = compiled(bound, (V, *syms), "mpmath")
    worst, worst_mp = 0.0, mpmath.mpf(0)
    for p in _points(card, claim, count, seed + 13):
        args = [p[s] for s in syms]
        res = minimize_scalar(lambda t: f(math.exp(t), *args), bounds=(-40.0, 40.0), method="bounded",
                              options={"xatol": 1e-10})
        Vs = math.exp(res.x)
        claimed = claim_value(card, claim, p)
        c_num = p[Q] / Vs - Vs
        worst = max(worst, abs(c_num - claimed) / max(1.0, abs(claimed)))
        with mpmath.workdps(MP_DIGITS):
            a_mp = [mpmath.mpf(x) for x in args]
            Vm = mpmath.findroot(lambda t: mpmath.diff(lambda s: f_mp(s, *a_mp), t), mpmath.mpf(Vs))
            cm = mpmath.mpf(p[Q]) / Vm - Vm
            worst_mp = max(worst_mp, abs(cm - claim_value_mp(card, claim, p)) / max(1, abs(cm)))
    ok = worst <= 1e-6 and worst_mp <= mpmath.mpf(10) ** -30
    return [CheckResult("bound_minimiser", ok, f"numeric minimiser of the bound mapped to C = claim within "
                        f"{worst:.1e} (bounded Brent), {mpmath.nstr(worst_mp, 3)} (50-digit root of b'), at "
                        f"{count} points", claim.name)]


def _increment_numeric(card, claim, examples, seed, count):
    """Apply the card's update rule numerically (float64 and 50 digits) with the full-batch mean, or
    with every B-subset of the examples (enumerated), and average I(x+) - I(x)."""
    invariant, at = claim.arguments["invariant"], dict(claim.arguments["at"])
    gradient, per_example = tuple(claim.arguments["gradient"]), claim.arguments["per_example"]
    batch = claim.arguments.get("batch")
    state = tuple(card.state)
    params = [s for s in card.symbols if s not in gradient]
    upd = [compiled(f, (*state, *gradient, *params), m) for f in card.mode_update for m in ("numpy", "mpmath")]
    inv = {m: compiled(invariant, state, m) for m in ("numpy", "mpmath")}
    syms = [s for s in card.symbols if s not in gradient]
    rel = [r for r in card.assumptions_for(claim) if r.free_symbols <= set(syms)]
    pts = sample_points(syms, rel, count=count, seed=seed + 14, override=card.sample)
    worst, worst_mp = 0.0, mpmath.mpf(0)
    n = len(per_example)
    for p in pts:
        pf = {s: float(v) for s, v in p.items()}
        B = int(round(pf[batch])) if batch is not None else n
        subsets = list(itertools.combinations(range(n), B))
        for mode in ("numpy", "mpmath"):
            num = (lambda x: mpmath.mpf(x)) if mode == "mpmath" else float  # noqa: E731
            with mpmath.workdps(MP_DIGITS):
                x0 = [num(pf[at[s]]) for s in state]
                par = [num(pf[s]) for s in params]
                per = [[num(pf[g]) for g in row] for row in per_example]
                total = 0
                for sub in subsets:
                    gh = [sum(per[i][k] for i in sub) / B for k in range(len(gradient))]
                    fns = upd[(0 if mode == "numpy" else 1)::2]
                    x1 = [fn(*x0, *gh, *par) for fn in fns]
                    total += inv[mode](*x1) - inv[mode](*x0)
                measured = total / len(subsets)
                claimed = claim_value_mp(card, claim, pf) if mode == "mpmath" else claim_value(card, claim, pf)
                err = abs(measured - claimed) / max(1, abs(claimed))
                if mode == "mpmath":
                    worst_mp = max(worst_mp, err)
                else:
                    worst = max(worst, float(err))
    ok = worst <= 1e-10 and worst_mp <= mpmath.mpf(10) ** -30
    how = "every B-subset enumerated" if batch is not None else "the full-batch step"
    return [CheckResult("applied_update", ok, f"I(x+) - I(x) from the update rule applied numerically ({how}) = "
                        f"claim within {worst:.1e} (float64), {mpmath.nstr(worst_mp, 3)} (50 digits), at {count} "
                        f"points", claim.name)]


IDENTITY_NUMERICS = {
    "minimalist_balanced_rayleigh": _rayleigh_numeric,
    "minimalist_balanced_weyl": _weyl_numeric,
    "minimalist_imbalance_minimum": _level_set_numeric,
    "minimalist_bound_argmin": _argmin_numeric,
    "minimalist_invariant_increment": _increment_numeric,
}
