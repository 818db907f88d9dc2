"""Numeric models and identity checks for preference learning (KL-regularised optimum, RLHF vs DPO).

Exact population optimisation on a finite response set Y = {0..n-1}:

* true reward r*, reference pi_ref, KL weight beta; V(pi) = E_pi[r*] - beta KL(pi || pi_ref);
* Bradley-Terry labels p_ij = sigma(r*_i - r*_j) on pairs weighted by mu_ij (symmetric, n x n);
* reward class F = {Phi w} (``reward_features`` Phi, n x d_F; the identity matrix is the tabular class);
* policy class Pi = {pi_theta ∝ pi_ref exp(Psi theta)} (``policy_features`` Psi; identity = tabular);
* RLHF: w = argmin BT loss of Phi w; pi_RLHF = argmax_{Pi} E_pi[Phi w] - beta KL (multistart, global);
* DPO: argmin over theta of the BT loss of the implicit reward h_theta = beta log(pi_theta / pi_ref),
  with h and its Jacobian computed from the policy's log-probabilities (not from the linear shortcut);
* online DPO: the fixed point of iterated DPO whose pairs come from the policy-dependent PILAF sampler
  (``pilaf_pairs``); V_best = max over Pi of the true V (the best-in-class value).

``MODELS``: name -> NumericModel; ``IDENTITY_NUMERICS``: derivation name -> numeric route
``(card, claim, examples, seed, count) -> list[CheckResult]``.
"""
from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from hypothesis import strategies as st
from scipy.optimize import minimize, minimize_scalar

from numerics._models import NumericModel
from numerics._result import CheckResult
from theory import InputError
from theory._assume import sample_points

NEWTON_TOL = 1e-13


# -- basic pieces ---------------------------------------------------------------------------------


def _lstsq(A, b, rcond=None):
    """numpy's least squares, refusing non-finite input (LAPACK would print to the terminal and fail)."""
    if not (np.all(np.isfinite(A)) and np.all(np.isfinite(b))):
        raise FloatingPointError("non-finite values in a least-squares step (parameters out of numerical range)")
    return np.linalg.lstsq(A, b, rcond=rcond)

def sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(z, dtype=float)))


def log_sigmoid(z):
    z = np.asarray(z, dtype=float)
    return np.minimum(z, 0.0) - np.log1p(np.exp(-np.abs(z)))


def log_policy(theta: np.ndarray, psi: np.ndarray, log_ref: np.ndarray) -> np.ndarray:
    """log pi_theta for pi_theta ∝ pi_ref exp(psi theta)."""
    z = log_ref + psi @ theta
    m = z.max()
    return z - (m + math.log(np.exp(z - m).sum()))


def value(logp: np.ndarray, reward: np.ndarray, log_ref: np.ndarray, beta: float) -> float:
    """V(pi) = E_pi[r] - beta KL(pi || pi_ref), from log pi."""
    p = np.exp(logp)
    return float(p @ reward - beta * (p @ (logp - log_ref)))


def optimal(reward: np.ndarray, log_ref: np.ndarray, beta: float) -> tuple[float, np.ndarray]:
    """Closed form: pi* ∝ pi_ref exp(r / beta), V* = beta log E_ref exp(r / beta)."""
    z = log_ref + reward / beta
    m = z.max()
    lse = m + math.log(np.exp(z - m).sum())
    return beta * lse, np.exp(z - lse)


def pair_arrays(n: int, mu: np.ndarray):
    """Unordered pairs i < j with positive weight: index arrays and weights (mu symmetrised)."""
    i, j = np.triu_indices(n, 1)
    w = 0.5 * (mu[i, j] + mu[j, i])
    keep = w > 0
    return i[keep], j[keep], w[keep]


# -- Bradley-Terry maximum likelihood ---------------------------------------------------------------

def bt_loss(delta: np.ndarray, p: np.ndarray, w: np.ndarray) -> float:
    """Population BT negative log-likelihood of score differences ``delta`` (labels p, weights w)."""
    return float(-(w * (p * log_sigmoid(delta) + (1 - p) * log_sigmoid(-delta))).sum())


def bt_mle(D: np.ndarray, p: np.ndarray, w: np.ndarray, x0: np.ndarray | None = None) -> np.ndarray:
    """argmin_x bt_loss(D x): damped Newton (min-norm steps where the Hessian is singular)."""
    x = np.zeros(D.shape[1]) if x0 is None else np.array(x0, dtype=float)
    f = bt_loss(D @ x, p, w)
    for _ in range(200):
        s = sigmoid(D @ x)
        g = D.T @ (w * (s - p))
        if np.max(np.abs(g)) < NEWTON_TOL * max(1.0, np.max(np.abs(x))):
            break
        H = (D * (w * s * (1 - s))[:, None]).T @ D
        step = -_lstsq(H, g, rcond=1e-14)[0]
        dec = -(g @ step)  # Newton decrement
        if dec < 1e-30 * max(1.0, abs(f)):
            break
        if dec < 1e-10 * max(1.0, abs(f)):  # inside the quadratic basin: full steps, no line search
            x = x + step
            f = bt_loss(D @ x, p, w)
            continue
        t = 1.0
        while t > 1e-12:
            xn = x + t * step
            fn = bt_loss(D @ xn, p, w)
            if fn <= f + 1e-4 * t * (g @ step):
                break
            t *= 0.5
        if t <= 1e-12:
            break
        x, f = xn, fn
    return x


def dpo_loss_and_grad(theta, psi, log_ref, beta, i, j, p, w):
    """DPO population loss and gradient from the policy's log-probabilities (generic chain rule)."""
    logp = log_policy(theta, psi, log_ref)
    h = beta * (logp - log_ref)                          # implicit reward
    J = beta * (psi - np.exp(logp) @ psi)                # d h / d theta (rows: responses)
    d = h[i] - h[j]
    s = sigmoid(d)
    return bt_loss(d, p, w), (J[i] - J[j]).T @ (w * (s - p)), J[i] - J[j], s


def dpo_fit(psi, log_ref, beta, i, j, p, w, x0=None) -> np.ndarray:
    """argmin_theta DPO loss: Gauss-Newton with backtracking (exact Newton for log-linear Pi)."""
    x = np.zeros(psi.shape[1]) if x0 is None else np.array(x0, dtype=float)
    f, g, Dj, s = dpo_loss_and_grad(x, psi, log_ref, beta, i, j, p, w)
    for _ in range(200):
        if np.max(np.abs(g)) < NEWTON_TOL * max(1.0, np.max(np.abs(x))):
            break
        H = (Dj * (w * s * (1 - s))[:, None]).T @ Dj
        step = -_lstsq(H, g, rcond=1e-14)[0]
        dec = -(g @ step)
        if dec < 1e-30 * max(1.0, abs(f)):
            break
        if dec < 1e-10 * max(1.0, abs(f)):
            x = x + step
            f, g, Dj, s = dpo_loss_and_grad(x, psi, log_ref, beta, i, j, p, w)
            continue
        t = 1.0
        while t > 1e-12:
            xn = x + t * step
            fn, gn, Dn, sn = dpo_loss_and_grad(xn, psi, log_ref, beta, i, j, p, w)
            if fn <= f + 1e-4 * t * (g @ step):
                break
            t *= 0.5
        if t <= 1e-12:
            break
        x, f, g, Dj, s = xn, fn, gn, Dn, sn
    return x


# -- KL-regularised maximisation over a log-linear class ----------------------------------------------

def _neg_value_grad(theta, psi, log_ref, reward, beta):
    logp = log_policy(theta, psi, log_ref)
    pi = np.exp(logp)
    c = reward - beta * (logp - log_ref)
    v = float(pi @ c)
    psic = psi - pi @ psi
    return -v, -(psic.T @ (pi * (c - v)))  # grad V = Cov_pi(psi, r - h)


def _starts(psi, log_ref, reward, beta, seed: int = 0) -> list[np.ndarray]:
    pi0 = np.exp(log_ref)
    pc = psi - pi0 @ psi
    ls = _lstsq(pc * np.sqrt(pi0)[:, None], (reward - pi0 @ reward) / beta * np.sqrt(pi0), rcond=None)[0]
    rng = np.random.default_rng(seed)
    scale = max(1.0, float(np.max(np.abs(ls))))
    out = [np.zeros(psi.shape[1]), ls, -ls, 0.5 * ls, 2 * ls]
    out += [rng.normal(0.0, scale, psi.shape[1]) for _ in range(2)]
    return out


def _value_grad_hess(theta, psi, log_ref, reward, beta):
    """V(pi_theta), its gradient Cov_pi(psi, c) and Hessian E_pi[(c - cbar) psi_c psi_c^T] - beta Cov_pi(psi),
    c = reward - h_theta (h_theta = beta log(pi_theta / pi_ref), psi_c = psi - E_pi psi)."""
    logp = log_policy(theta, psi, log_ref)
    pi = np.exp(logp)
    c = reward - beta * (logp - log_ref)
    v = float(pi @ c)
    pc = psi - pi @ psi
    g = pc.T @ (pi * (c - v))
    H = (pc * (pi * (c - v))[:, None]).T @ pc - beta * (pc * pi[:, None]).T @ pc
    return v, g, H


def _polish(x, psi, log_ref, reward, beta, iters: int = 20):
    """Newton polish of a local maximiser (min-norm steps: the tabular class has a flat direction), damped
    by backtracking; a step is kept only if V does not decrease."""
    v, g, H = _value_grad_hess(x, psi, log_ref, reward, beta)
    for _ in range(iters):
        if np.max(np.abs(g)) < NEWTON_TOL * max(1.0, abs(v)):
            break
        eig = np.linalg.eigvalsh(H)
        if eig[-1] < -1e-14 * max(1.0, abs(eig[0])) or psi.shape[1] == psi.shape[0]:
            step = -_lstsq(H, g, rcond=1e-12)[0]
        else:  # not locally concave: a gradient step scaled by the curvature
            step = g / max(1e-300, float(np.max(np.abs(eig))))
        t = 1.0
        while t > 1e-10:
            xn = x + t * step
            vn, gn, Hn = _value_grad_hess(xn, psi, log_ref, reward, beta)
            if vn >= v - 1e-15 * max(1.0, abs(v)):
                break
            t *= 0.5
        if t <= 1e-10 or np.max(np.abs(xn - x)) == 0:
            break
        x, v, g, H = xn, vn, gn, Hn
    return v, x


def _values(thetas: np.ndarray, psi, log_ref, reward, beta) -> np.ndarray:
    """V(pi_theta) for many theta at once (rows of ``thetas``)."""
    z = log_ref[None, :] + thetas @ psi.T
    m = z.max(axis=1, keepdims=True)
    logp = z - (m + np.log(np.exp(z - m).sum(axis=1, keepdims=True)))
    p = np.exp(logp)
    return (p * (reward[None, :] - beta * (logp - log_ref[None, :]))).sum(axis=1)


def best_in_class(psi, log_ref, reward, beta) -> tuple[float, np.ndarray]:
    """max_theta E_{pi_theta}[reward] - beta KL(pi_theta || pi_ref), a non-concave problem in general:
    V at a set of candidates (the starts, plus a 1-d grid for one parameter), BFGS from the best two (d > 1),
    Newton polish of the best."""
    starts = np.array(_starts(psi, log_ref, reward, beta))
    span = 4.0 * max(1.0, float(np.max(np.abs(starts))))
    if psi.shape[1] == 1:
        starts = np.vstack([starts, np.linspace(-span, span, 801)[:, None]])
    elif psi.shape[1] < psi.shape[0]:
        starts = np.vstack([starts, np.random.default_rng(1).uniform(-span, span, (400, psi.shape[1]))])
    vals = _values(starts, psi, log_ref, reward, beta)
    order = np.argsort(-vals)
    best_v, best_x = -math.inf, None
    for k in order[:2]:
        v, x = _polish(starts[k], psi, log_ref, reward, beta, iters=100)
        if v > best_v:
            best_v, best_x = v, x
    return best_v, best_x


def best_in_class_independent(psi, log_ref, reward, beta) -> tuple[float, np.ndarray]:
    """The same maximum another way: a dense grid (1-d) or Nelder-Mead from a grid of starts, then
    a bounded scalar / Nelder-Mead polish; no gradients."""
    def negv(t):
        return -value(log_policy(np.atleast_1d(t), psi, log_ref), reward, log_ref, beta)

    scale = 4.0 * max(1.0, float(np.max(np.abs(reward))) / beta) / max(1e-12, float(np.max(np.abs(psi))))
    if psi.shape[1] == 1:
        grid = np.linspace(-scale, scale, 4001)
        vals = [negv(t) for t in grid]
        k = int(np.argmin(vals))
        lo, hi = grid[max(k - 1, 0)], grid[min(k + 1, len(grid) - 1)]
        res = minimize_scalar(negv, bounds=(lo, hi), method="bounded", options={"xatol": 1e-12})
        return -float(res.fun), np.atleast_1d(res.x)
    best = None
    axes = [np.linspace(-scale, scale, 3)] * psi.shape[1]
    for x0 in np.array(np.meshgrid(*axes)).reshape(psi.shape[1], -1).T:
        res = minimize(negv, x0, method="Nelder-Mead", options={"xatol": 1e-10, "fatol": 1e-15, "maxiter": 20000})
        if best is None or res.fun < best.fun:
            best = res
    return -float(best.fun), best.x


# -- online DPO with the PILAF sampler ---------------------------------------------------------------

def pilaf_pairs(theta, psi, log_ref, beta) -> np.ndarray:
    """Ordered-pair probabilities q(y, y') of the (theoretical) PILAF sampler at pi_theta.

    With h = beta log(pi/pi_ref): pi^+ ∝ pi exp(h) and pi^- ∝ pi exp(-h) (the policies interpolated /
    extrapolated from pi_ref through pi); a pair is (y, y') ~ pi x pi with probability a and
    (y, y') ~ pi^+ x pi^- with probability 1 - a, a = 1 / (1 + Z+ Z-), so that the symmetrised pair
    density is ∝ pi(y) pi(y') / sigma'(h(y) - h(y')): the expected DPO gradient then equals the gradient
    of V(pi_theta) to first order in the reward error."""
    logp = log_policy(theta, psi, log_ref)
    pi = np.exp(logp)
    h = beta * (logp - log_ref)
    up, down = pi * np.exp(h - h.max()), pi * np.exp(-(h - h.min()))
    zp, zm = up.sum() * math.exp(h.max()), down.sum() * math.exp(-h.min())
    a = 1.0 / (1.0 + zp * zm)
    return a * np.outer(pi, pi) + (1 - a) * np.outer(up / up.sum(), down / down.sum())


def online_dpo(psi, log_ref, beta, pstar, theta0, sampler=None) -> np.ndarray:
    """The population fixed point of online DPO: theta with zero expected DPO gradient when the pairs
    come from the sampler at theta itself (hybrid Powell root from theta0, e.g. the offline DPO solution)."""
    from scipy.optimize import root
    sampler = pilaf_pairs if sampler is None else sampler
    sol = root(online_dpo_residual, np.array(theta0, dtype=float), args=(psi, log_ref, beta, pstar, sampler),
               method="hybr", tol=1e-14)
    return sol.x


def online_dpo_residual(theta, psi, log_ref, beta, pstar, sampler=None) -> np.ndarray:
    """Expected online-DPO gradient at theta with pairs from the sampler at theta (zero at the fixed point)."""
    n = psi.shape[0]
    i, j = np.triu_indices(n, 1)
    q = (pilaf_pairs if sampler is None else sampler)(theta, psi, log_ref, beta)
    return dpo_loss_and_grad(theta, psi, log_ref, beta, i, j, pstar[i, j], q[i, j] + q[j, i])[1]


def online_fixed_point_scan(psi, log_ref, beta, pstar, steps: int = 20000) -> np.ndarray:
    """The online-DPO fixed point another way. 1-d: the stable zero of the expected gradient (a sign change
    from - to +) nearest 0 on a grid, refined by brentq. d > 1: the online-DPO gradient flow
    theta <- theta - eta g(theta) from 0 (explicit steps, step size from the local curvature)."""
    from scipy.optimize import brentq
    if psi.shape[1] == 1:
        def g(t):
            return float(online_dpo_residual(np.array([t]), psi, log_ref, beta, pstar)[0])
        span = 10.0 / (beta * max(1e-12, float(np.ptp(psi))))
        grid = np.linspace(-span, span, 2001)
        vals = np.array([g(t) for t in grid])
        roots = [brentq(g, grid[k], grid[k + 1], xtol=1e-15, rtol=1e-15) for k in range(len(grid) - 1)
                 if vals[k] < 0 <= vals[k + 1]]
        if not roots:
            raise ValueError("online DPO: no stable fixed point in the scanned range")
        return np.array([min(roots, key=abs)])
    theta = np.zeros(psi.shape[1])
    for _ in range(steps):
        theta = theta - 0.5 / beta**2 * online_dpo_residual(theta, psi, log_ref, beta, pstar)
    return theta


# -- data ---------------------------------------------------------------------------------------

def _matrix(x, name: str, rows: int | None = None) -> np.ndarray:
    try:
        a = np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a list of numbers (or a list of rows)") from None
    if a.ndim == 1 and rows is not None:
        a = a[:, None]
    if not np.all(np.isfinite(a)):
        raise InputError(f"{name} must be finite")
    if rows is not None and (a.ndim != 2 or a.shape[0] != rows):
        raise InputError(f"{name} must have one row per response ({rows}), got shape {a.shape}")
    return a


def validate_kl(data: Mapping[str, object]) -> dict:
    r = _matrix(data["reward"], "reward")
    ref = _matrix(data["reference"], "reference")
    if r.ndim != 1 or ref.shape != r.shape or len(r) < 2:
        raise InputError("reward and reference must be lists of the same length (>= 2 responses)")
    if np.any(ref <= 0):
        raise InputError("reference probabilities must be positive")
    ref = ref / ref.max()  # scale first: a sum of huge weights must not overflow
    return {**data, "reward": [float(v) for v in r], "reference": [float(v) for v in ref / ref.sum()]}


def validate_gap(data: Mapping[str, object]) -> dict:
    out = validate_kl(data)
    n = len(out["reward"])
    mu = _matrix(data["pairs"], "pairs")
    if mu.shape != (n, n) or np.any(mu < 0) or not np.any(np.triu(mu + mu.T, 1) > 0):
        raise InputError(f"pairs must be an {n} x {n} matrix of nonnegative pair weights, not all zero")
    for key in ("reward_features", "policy_features"):
        out[key] = _matrix(data[key], key, rows=n).tolist()
    return {**out, "pairs": mu.tolist()}


def _problem(data):
    r = np.asarray(data["reward"], dtype=float)
    log_ref = np.log(np.asarray(data["reference"], dtype=float))
    mu = np.asarray(data["pairs"], dtype=float)
    phi = np.asarray(data["reward_features"], dtype=float)
    psi = np.asarray(data["policy_features"], dtype=float)
    n = len(r)
    i, j, w = pair_arrays(n, mu)
    pstar = sigmoid(r[:, None] - r[None, :])
    return r, log_ref, phi, psi, i, j, w, pstar


# -- models -------------------------------------------------------------------------------------

def kl_compute(params, data):
    beta = params["beta"]
    r, log_ref = np.asarray(data["reward"], dtype=float), np.log(np.asarray(data["reference"], dtype=float))
    v, pi = optimal(r, log_ref, beta)
    return {"V_star": v, "policy": pi.tolist(), "V_ref": float(np.exp(log_ref) @ r)}


def simplex_max(r: np.ndarray, ref: np.ndarray, beta: float) -> tuple[float, np.ndarray]:
    """max over the probability simplex of E_pi r - beta KL(pi || ref) by SLSQP on pi itself
    (constraints sum pi = 1, pi >= 0; no closed form used)."""
    n = len(r)

    def negv(p):
        p = np.maximum(p, 1e-300)
        return -(p @ r - beta * (p @ (np.log(p) - np.log(ref))))

    def grad(p):
        p = np.maximum(p, 1e-300)
        return -(r - beta * (np.log(p) - np.log(ref) + 1))

    res = minimize(negv, ref.copy(), jac=grad, method="SLSQP", bounds=[(1e-300, 1.0)] * n,
                   constraints=[{"type": "eq", "fun": lambda p: p.sum() - 1, "jac": lambda p: np.ones(n)}],
                   options={"ftol": 1e-15, "maxiter": 1000})
    p = np.maximum(res.x, 1e-300)
    p = p / p.sum()
    # polish: fixed-point (mirror) steps p <- p * exp(eta (r - beta log(p/ref))) normalised
    for _ in range(200):
        c = r - beta * (np.log(p) - np.log(ref))
        p = p * np.exp((c - c.max()) / (2 * beta))
        p = p / p.sum()
    return float(-negv(p)), p


def kl_independent(params, data):
    v, p = simplex_max(np.asarray(data["reward"], dtype=float), np.asarray(data["reference"], dtype=float),
                       params["beta"])
    return {"V_star": v, "policy": p.tolist()}


def _reward_vector(seq):
    return st.lists(st.floats(-3, 3, allow_nan=False), min_size=len(seq), max_size=len(seq))


def kl_instances(base):
    n = len(base["reward"])
    return st.fixed_dictionaries({"reward": _reward_vector(base["reward"]),
                                  "reference": st.lists(st.floats(0.05, 1.0), min_size=n, max_size=n)}
                                 ).map(validate_kl)


def gap_compute(params, data, *, online: bool = False):
    beta = params["beta"]
    r, log_ref, phi, psi, i, j, w, pstar = _problem(data)
    v_star, _ = optimal(r, log_ref, beta)
    # RLHF: BT-MLE of the reward in span(Phi), then KL-regularised maximisation over Pi
    wr = bt_mle(phi[i] - phi[j], pstar[i, j], w)
    r_hat = phi @ wr
    _, th_rlhf = best_in_class(psi, log_ref, r_hat, beta)
    th_dpo = dpo_fit(psi, log_ref, beta, i, j, pstar[i, j], w)
    out = {"V_star": v_star,
           "V_rlhf": value(log_policy(th_rlhf, psi, log_ref), r, log_ref, beta),
           "V_dpo": value(log_policy(th_dpo, psi, log_ref), r, log_ref, beta),
           "theta_rlhf": th_rlhf.tolist(), "theta_dpo": th_dpo.tolist(), "reward_fit": wr.tolist()}
    if online:
        v_best, th_best = best_in_class(psi, log_ref, r, beta)
        th_on = online_dpo(psi, log_ref, beta, pstar, np.zeros(psi.shape[1]))
        out.update({"V_online": value(log_policy(th_on, psi, log_ref), r, log_ref, beta), "V_best": v_best,
                    "theta_online": th_on.tolist(), "theta_best": th_best.tolist()})
    return out


def gap_independent(params, data, *, online: bool = False):
    """V_star by simplex maximisation; V_rlhf by a gradient-free maximisation over Pi of the reward
    fitted by BFGS (no Newton); V_dpo from a BFGS fit of the DPO loss; V_best by gradient-free search;
    V_online from a root of the expected online-DPO gradient started away from the fixed-point loop."""
    beta = params["beta"]
    r, log_ref, phi, psi, i, j, w, pstar = _problem(data)
    v_star, _ = simplex_max(r, np.exp(log_ref), beta)
    D = phi[i] - phi[j]

    def bt(x):
        d = D @ x
        return bt_loss(d, pstar[i, j], w), D.T @ (w * (sigmoid(d) - pstar[i, j]))

    wr = minimize(bt, np.zeros(phi.shape[1]), jac=True, method="BFGS", options={"gtol": 1e-13}).x
    v_rlhf_theta = best_in_class_independent(psi, log_ref, phi @ wr, beta)[1]

    def dpo(x):
        f, g, _, _ = dpo_loss_and_grad(x, psi, log_ref, beta, i, j, pstar[i, j], w)
        return f, g

    th_dpo = minimize(dpo, np.zeros(psi.shape[1]), jac=True, method="BFGS", options={"gtol": 1e-13}).x
    out = {"V_star": v_star, "V_rlhf": value(log_policy(v_rlhf_theta, psi, log_ref), r, log_ref, beta),
           "V_dpo": value(log_policy(th_dpo, psi, log_ref), r, log_ref, beta)}
    if online:
        out["V_best"] = best_in_class_independent(psi, log_ref, r, beta)[0]
        out["V_online"] = value(log_policy(online_fixed_point_scan(psi, log_ref, beta, pstar), psi, log_ref),
                                r, log_ref, beta)
    return out


# -- construction families (random members for hypothesis) ---------------------------------------------

def _uniform_pairs(n):
    return (np.ones((n, n)) - np.eye(n)).tolist()


def policy_misspecified_instances(base):
    """Family A: r* = (a, a, a - 1), tabular F, Pi log-linear on phi = (s, -s, 0), uniform pi_ref, pair
    weights with mu(1,3) = mu(2,3) and mu(1,2) free (the symmetry that pins theta_DPO at 0)."""
    def build(a, s, m12, m3):
        return validate_gap({"reward": [a, a, a - 1.0], "reference": [1.0, 1.0, 1.0],
                             "pairs": [[0, m12, m3], [m12, 0, m3], [m3, m3, 0]],
                             "reward_features": np.eye(3).tolist(), "policy_features": [[s], [-s], [0.0]]})
    return st.builds(build, st.floats(-2, 2), st.floats(0.2, 3.0), st.floats(0.0, 2.0), st.floats(0.1, 2.0))


def reward_misspecified_instances(base):
    """Family B: r* = (a, a, b), a != b, F linear on phi = (s, -s, 0) (theta_MLE = 0 by symmetry), Pi tabular,
    random pi_ref, mu(1,3) = mu(2,3)."""
    def build(a, gap, s, ref, m12, m3):
        return validate_gap({"reward": [a, a, a - gap], "reference": ref,
                             "pairs": [[0, m12, m3], [m12, 0, m3], [m3, m3, 0]],
                             "reward_features": [[s], [-s], [0.0]], "policy_features": np.eye(3).tolist()})
    return st.builds(build, st.floats(-2, 2), st.one_of(st.floats(-3, -0.2), st.floats(0.2, 3)),
                     st.floats(0.2, 3.0), st.lists(st.floats(0.1, 1.0), min_size=3, max_size=3),
                     st.floats(0.0, 2.0), st.floats(0.1, 2.0))


def isomorphic_instances(base):
    """Family C: F = {theta phi}, Pi = {pi ∝ pi_ref exp(theta phi)} on the same 1-d features, uniform pairs and
    pi_ref, r* drawn around the notes' shape (0, 1, c) with phi = (0, 1, 2) and c in [0.1, 0.45] (c = 0 is degenerate: every method returns pi_ref)."""
    def build(c, scale):
        return validate_gap({"reward": [0.0, scale, scale * c], "reference": [1.0, 1.0, 1.0],
                             "pairs": _uniform_pairs(3), "reward_features": [[0.0], [1.0], [2.0]],
                             "policy_features": [[0.0], [1.0], [2.0]]})
    return st.builds(build, st.floats(0.1, 0.45), st.floats(0.5, 2.0))


def loglinear_instances(base):
    """Random log-linear problems: n in 3..5 responses, d in 1..2 features shared by F and Pi, random r*,
    pi_ref and pair weights (the isomorphic setting of the BT-MLE / DPO equivalence)."""
    def build(n, d, seed):
        rng = np.random.default_rng(seed)
        feats = rng.normal(size=(n, d))
        mu = rng.uniform(0.1, 1.0, size=(n, n))
        return validate_gap({"reward": rng.normal(size=n).tolist(), "reference": rng.uniform(0.1, 1, n).tolist(),
                             "pairs": (mu + mu.T).tolist(), "reward_features": feats.tolist(),
                             "policy_features": feats.tolist()})
    return st.builds(build, st.integers(3, 5), st.integers(1, 2), st.integers(0, 2**31 - 1))


def loglinear_compute(params, data):
    """gap_compute plus theta_gap = max |beta theta_DPO - w_MLE| / max(1, max |w_MLE|) (F and Pi on the same
    features: the BT-MLE of the linear reward and the DPO minimiser, fitted separately)."""
    if not np.array_equal(np.asarray(data["reward_features"]), np.asarray(data["policy_features"])):
        raise InputError("the log-linear equivalence needs reward_features == policy_features")
    out = gap_compute(params, data)
    w, th = np.asarray(out["reward_fit"]), np.asarray(out["theta_dpo"])
    out["theta_gap"] = float(np.max(np.abs(params["beta"] * th - w)) / max(1.0, float(np.max(np.abs(w)))))
    return out


MODELS: dict = {
    "kl_regularized_optimum": NumericModel(kl_compute, kl_independent, kl_instances, validate_kl, 1e-6,
                                           "closed-form pi*, V* vs SLSQP + mirror polish over the simplex"),
    "rlhf_dpo_policy_misspecified": NumericModel(gap_compute, gap_independent, policy_misspecified_instances,
                                                 validate_gap, 1e-6, "exact population RLHF / DPO (family A)"),
    "rlhf_dpo_reward_misspecified": NumericModel(gap_compute, gap_independent, reward_misspecified_instances,
                                                 validate_gap, 1e-6, "exact population RLHF / DPO (family B)"),
    "rlhf_dpo_isomorphic": NumericModel(lambda p, d: gap_compute(p, d, online=True),
                                        lambda p, d: gap_independent(p, d, online=True), isomorphic_instances,
                                        validate_gap, 1e-6, "exact RLHF / DPO / online DPO with PILAF (family C)"),
    "dpo_loglinear": NumericModel(loglinear_compute, gap_independent, loglinear_instances, validate_gap, 1e-6,
                                  "DPO over a log-linear class vs BT-MLE on the same features"),
}


# -- identity numeric routes ---------------------------------------------------------------------------

def _kl_numeric(card, claim, examples, seed, count):
    """The claimed V*(beta) vs a direct SLSQP maximisation over the simplex at seeded beta."""
    from numerics._evaluate import claim_value
    from numerics._models import card_data
    data = card_data(card)
    r, ref = np.asarray(data["reward"]), np.asarray(data["reference"])
    syms = [s for s in card.symbols if s in claim.value.free_symbols]
    worst = 0.0
    for p in sample_points(syms, list(card.assumptions), count=count, seed=seed + 3, override=card.sample):
        pf = {s: float(v) for s, v in p.items()}
        v_claim = claim_value(card, claim, pf)
        v_num, _ = simplex_max(r, ref, pf[card.symbol("beta")])
        rel = abs(v_claim - v_num) / max(1.0, abs(v_num))
        worst = max(worst, rel)
        if rel > 1e-9:
            return [CheckResult("simplex_maximisation", False, f"claimed V* {v_claim!r} vs simplex max {v_num!r} at "
                                f"beta={pf[card.symbol('beta')]:.6g}", claim.name, {"at": {"beta": pf[card.symbol('beta')]}})]
    return [CheckResult("simplex_maximisation", True, f"direct SLSQP maximisation over the simplex = claim within "
                        f"{worst:.2g} at {count} seeded beta", claim.name)]


def _implicit_reward_numeric(card, claim, examples, seed, count):
    """DPO loss of random log-linear policies (from their log-probabilities) = BT loss of the linear
    reward beta theta^T phi, on random instances, to 1e-12."""
    rng = np.random.default_rng(seed)
    worst = 0.0
    for _ in range(max(count, 20)):
        n, d = int(rng.integers(3, 7)), int(rng.integers(1, 4))
        psi, log_ref = rng.normal(size=(n, d)), np.log(rng.dirichlet(np.ones(n)))
        beta, theta = float(np.exp(rng.uniform(-3, 2))), rng.normal(size=d)
        r = rng.normal(size=n)
        i, j = np.triu_indices(n, 1)
        w, p = rng.uniform(0.1, 1, len(i)), sigmoid(r[i] - r[j])
        f_dpo = dpo_loss_and_grad(theta, psi, log_ref, beta, i, j, p, w)[0]
        f_bt = bt_loss((psi[i] - psi[j]) @ (beta * theta), p, w)
        worst = max(worst, abs(f_dpo - f_bt) / max(1.0, abs(f_bt)))
    ok = worst < 1e-12
    return [CheckResult("dpo_loss_vs_bt_loss", ok, f"DPO loss from log-probabilities = BT loss of beta theta^T phi "
                        f"within {worst:.2g} on {max(count, 20)} random log-linear instances", claim.name)]


def _critical_beta_numeric(card, claim, examples, seed, count):
    """Second derivative of the exact RLHF objective V(theta) at theta = 0 by central differences
    (the reward fitted by the numeric BT-MLE) changes sign at the claimed beta."""
    from numerics._evaluate import claim_value
    from numerics._models import card_data
    data = card_data(card)
    r, log_ref, phi, psi, i, j, w, pstar = _problem(data)
    r_hat = phi @ bt_mle(phi[i] - phi[j], pstar[i, j], w)
    b = claim_value(card, claim, {})
    e = 1e-4

    def second(beta):
        f = [value(log_policy(np.array([t]), psi, log_ref), r_hat, log_ref, beta) for t in (-e, 0.0, e)]
        return (f[0] - 2 * f[1] + f[2]) / e**2

    lo, hi = second(0.99 * b), second(1.01 * b)
    ok = lo > 0 > hi
    return [CheckResult("second_difference_sign", ok, f"V''(0) by finite differences: {lo:.4g} at 0.99 beta_c, "
                        f"{hi:.4g} at 1.01 beta_c", claim.name)]


IDENTITY_NUMERICS: dict = {
    "kl_regularized_optimum": _kl_numeric,
    "loglinear_implicit_reward": _implicit_reward_numeric,
    "rlhf_critical_beta": _critical_beta_numeric,
}
