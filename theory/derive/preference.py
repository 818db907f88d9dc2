"""Symbolic derivations for preference learning (KL-regularised optimum, RLHF vs DPO).

Each entry of ``DERIVATIONS`` maps a name that an ``Identity`` claim may give as ``derivation`` to
a function ``(card, claim) -> Derived`` (pure SymPy; see ``theory.derive._base``).

- ``kl_regularized_optimum``: maximise E_pi[r] - beta KL(pi || q) over the simplex for a *symbolic*
  reward r_1..r_n and reference q_1..q_n (n = the card's number of responses) by Lagrange stationarity,
  check the Hessian is negative definite, substitute back: V* as a closed form; then the card's data.
- ``loglinear_implicit_reward``: for pi_theta ∝ pi_ref exp(theta . phi) on a symbolic three-response set,
  the DPO implicit-reward difference beta log(pi(y)/pi_ref(y)) - beta log(pi(y')/pi_ref(y')) after the
  normaliser and the reference cancel (so the DPO loss is the BT loss of the linear reward beta theta . phi).
- ``rlhf_critical_beta``: for a tabular reward class (the BT-MLE is r* up to a constant: its population
  score is checked to vanish there) and a one-parameter log-linear policy class, the beta at which the
  second derivative of the RLHF objective V(theta) at theta = 0 changes sign.
"""
from __future__ import annotations

import sympy as sp

from theory._card import Card, Identity
from theory._errors import DerivationError
from theory.derive._base import Derived


def _data(card: Card, *names: str) -> list:
    if card.model is None or any(n not in card.model.data for n in names):
        raise DerivationError(f"card {card.id!r}: the derivation needs model data {', '.join(names)}")
    return [card.model.data[n] for n in names]


def _exact(values) -> list[sp.Expr]:
    return [sp.nsimplify(v, rational=True) for v in values]


def _beta(card: Card, claim: Identity) -> sp.Symbol:
    beta = claim.arguments.get("beta")
    if beta is None:
        try:
            beta = card.symbol("beta")
        except KeyError:
            raise DerivationError(f"card {card.id!r}: no beta symbol (give arguments beta=SYMBOL)") from None
    return beta


def kl_optimum_symbolic(n: int):
    """(V*, pi*, r, q, beta): the KL-regularised maximum for symbolic reward r and reference q."""
    r = sp.symbols(f"r1:{n + 1}", real=True)
    q = sp.symbols(f"q1:{n + 1}", positive=True)
    beta = sp.Symbol("beta", positive=True)
    lam = sp.Symbol("lambda", real=True)
    p = sp.symbols(f"p1:{n + 1}", positive=True)
    objective = sum(p[i] * r[i] - beta * p[i] * sp.log(p[i] / q[i]) for i in range(n))
    lagrangian = objective - lam * (sum(p) - 1)
    sol = {}
    for i in range(n):
        roots = sp.solve(sp.diff(lagrangian, p[i]), p[i])
        if len(roots) != 1:
            raise DerivationError(f"stationarity in p{i + 1} has {len(roots)} solutions")
        sol[p[i]] = roots[0]
    lam_roots = sp.solve(sp.Eq(sum(sol.values()), 1), lam)
    if len(lam_roots) != 1:
        raise DerivationError("the normalisation has no unique multiplier")
    policy = [sp.simplify(sol[p[i]].subs(lam, lam_roots[0])) for i in range(n)]
    hessian = [sp.simplify(sp.diff(objective, p[i], 2)) for i in range(n)]  # diagonal
    if not all(h.is_negative for h in hessian):
        raise DerivationError("the objective is not strictly concave on the simplex")
    value = objective.subs(dict(zip(p, policy)))
    value = sp.simplify(sp.expand_log(sp.simplify(value), force=True))
    return value, policy, r, q, beta


def _kl_optimum(card: Card, claim: Identity) -> Derived:
    reward, reference = _data(card, "reward", "reference")
    n = len(reward)
    value, policy, r, q, beta = kl_optimum_symbolic(n)
    ref = _exact(reference)
    total = sum(ref)
    subs = {**dict(zip(r, _exact(reward))), **{q[i]: ref[i] / total for i in range(n)}, beta: _beta(card, claim)}
    return Derived(claim.name, "lagrange_stationarity", sp.simplify(value.subs(subs)),
                   {"generic_value": value, "generic_policy": policy,
                    "policy": [sp.simplify(pi.subs(subs)) for pi in policy]})


def _implicit_reward(card: Card, claim: Identity) -> Derived:
    args = claim.arguments
    try:
        theta, phi_y, phi_yp = (tuple(args[k]) for k in ("theta", "phi_y", "phi_yp"))
    except KeyError:
        raise DerivationError(f"card {card.id!r}: give arguments theta=, phi_y=, phi_yp= (tuples)") from None
    if not len(theta) == len(phi_y) == len(phi_yp):
        raise DerivationError("theta and the feature vectors must have the same length")
    beta = _beta(card, claim)
    d = len(theta)
    phi_z = sp.symbols(f"c1:{d + 1}", real=True)          # a third response, to make Z a genuine sum
    refs = sp.symbols("rho_y rho_yp rho_z", positive=True)
    feats = (phi_y, phi_yp, phi_z)
    scores = [sum(t * f for t, f in zip(theta, phi)) for phi in feats]
    Z = sum(rho * sp.exp(s) for rho, s in zip(refs, scores))
    pi = [rho * sp.exp(s) / Z for rho, s in zip(refs, scores)]
    h = [beta * sp.log(pi[k] / refs[k]) for k in range(2)]
    diff = sp.simplify(sp.expand_log(h[0] - h[1], force=True))
    leftover = diff.free_symbols - set(card.symbols)
    if leftover:
        raise DerivationError(f"the implicit-reward difference still depends on {sorted(map(str, leftover))}")
    return Derived(claim.name, "log_linear_cancellation", diff, {"normaliser": Z})


def _critical_beta(card: Card, claim: Identity) -> Derived:
    reward, reference, pairs, rfeat, pfeat = _data(card, "reward", "reference", "pairs", "reward_features",
                                                   "policy_features")
    n = len(reward)
    r, ref = _exact(reward), _exact(reference)
    ref = [v / sum(ref) for v in ref]
    mu = [_exact(row) for row in pairs]
    if sp.Matrix([_exact(row) for row in rfeat]).rank() != n:
        raise DerivationError("rlhf_critical_beta needs a tabular reward class (features of full rank n)")
    psi = [_exact(row) for row in pfeat]
    if any(len(row) != 1 for row in psi):
        raise DerivationError("rlhf_critical_beta needs a one-parameter log-linear policy class")
    # tabular BT-MLE: the population score sum_j mu_ij (sigma(x_i - x_j) - sigma(r_i - r_j)) vanishes at x = r
    x = sp.symbols(f"x1:{n + 1}", real=True)
    sig = lambda z: 1 / (1 + sp.exp(-z))  # noqa: E731
    for i in range(n):
        score = sum((mu[i][j] + mu[j][i]) * (sig(x[i] - x[j]) - sig(r[i] - r[j])) for j in range(n) if j != i)
        if sp.simplify(score.subs(dict(zip(x, r)))) != 0:
            raise DerivationError("the BT score does not vanish at r* (tabular MLE)")
    theta, beta = sp.Symbol("theta", real=True), _beta(card, claim)
    w = [ref[k] * sp.exp(theta * psi[k][0]) for k in range(n)]
    Z = sum(w)
    pi = [wk / Z for wk in w]
    V = sum(pi[k] * r[k] - beta * pi[k] * (theta * psi[k][0] - sp.log(Z)) for k in range(n))
    curvature = sp.simplify(sp.diff(V, theta, 2).subs(theta, 0))
    roots = [c for c in sp.solve(sp.Eq(curvature, 0), beta) if c.is_positive]
    if len(roots) != 1:
        raise DerivationError(f"V''(0) = {curvature} has {len(roots)} positive roots in beta")
    return Derived(claim.name, "second_derivative_at_uniform", sp.nsimplify(roots[0]),
                   {"curvature_at_zero": curvature, "objective": V})


DERIVATIONS: dict = {
    "kl_regularized_optimum": _kl_optimum,
    "loglinear_implicit_reward": _implicit_reward,
    "rlhf_critical_beta": _critical_beta,
}
