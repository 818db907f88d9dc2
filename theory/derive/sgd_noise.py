"""Minibatch (data) noise of SGD linearised at an interpolating minimum (pure SymPy).

At an interpolating minimum every per-sample gradient vanishes, so SGD with batch mean Hessian
H_B = (1/B) sum_{j in batch} H_{i_j} is the random linear map x <- (I - eta H_B) x. The only
randomness is which samples form the batch. Write N_i for how often sample i is drawn (B draws):

* with replacement (i.i.d. uniform draws): E[N_i] = B/n, E[N_i (N_i - 1)] = B (B - 1)/n^2,
  E[N_i N_k] = B (B - 1)/n^2 (i != k);
* without replacement (a uniform B-subset): E[N_i] = B/n, E[N_i (N_i - 1)] = 0,
  E[N_i N_k] = B (B - 1)/(n (n - 1)).

Each follows from the probability that two *distinct* draws hit samples i and k (B (B - 1) ordered
pairs of draws; 1/n^2 independently, 1/(n (n - 1)) without replacement). For per-sample
curvatures h_i with population mean a and population second moment m2 = a^2 + s^2,

    E[h_B] = a,  E[h_B^2] = (1/B^2) [sum_i E[N_i^2] h_i^2 + sum_{i != k} E[N_i N_k] h_i h_k],

with sum_i h_i^2 = n m2 and sum_{i != k} h_i h_k = n^2 a^2 - n m2. The same sums give
E[H_B (x) H_B] = H (x) H + c_B (E_i[H_i (x) H_i] - H (x) H), c_B = Var(h_B)/s^2 (``variance_factor``).

``second_moment_rule`` turns a stochastic linear update whose coefficients are affine in the random
curvature h_B into the deterministic recursion of the state's second moments (E[z z^T], upper
triangle), using E[h_B] and E[h_B^2] only; its Schur-Cohn threshold is then the mean-square
critical step size (the Threshold engine of ``theory.derive.linear``).

Derivations for ``Identity`` claims (``DERIVATIONS``):

- ``minibatch_variance_factor``: c_B from the sampling scheme (arguments ``batch``, ``replacement``
  (1 or 0), ``population`` (n, without replacement)).
- ``commuting_dataset_threshold``: the mean-square critical step of a dataset whose per-sample
  Hessians commute, from the law of one direction's per-sample curvature (arguments ``values``,
  ``probabilities``, ``batch``, ``replacement``, ``population``, ``param``): the 1-D rule
  x <- x - eta h x, its second-moment recursion, and the positive root where its factor is 1.
- ``unit_rank_one_threshold``: B = 1 with per-sample Hessians g_i g_i^T, |g_i| = 1. Symbolic unit
  vectors (angles) in d = 2 and 3: the adjoint second-moment map satisfies
  T*(I) = I - 2 eta H + eta^2 E_i[|g_i|^2 g_i g_i^T] = I - eta (2 - eta) H, checked by simplify; T is a
  positive map, so rho(T) < 1 exactly while T*(I) < I on range(H): eta* = the positive root of
  eta (2 - eta) = 0, i.e. 2, for every geometry (and Tr H = E|g_i|^2 = 1).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import sympy as sp

from theory._card import Card, Identity
from theory._errors import DerivationError
from theory.derive._base import Derived


@dataclass(frozen=True)
class DrawMoments:
    """Moments of the draw counts N_i of one sample (``self``: E[N_i (N_i - 1)], ``pair``: E[N_i N_k])."""
    mean: sp.Expr
    self_pairs: sp.Expr
    pair: sp.Expr


def draw_moments(batch: sp.Expr, replacement: bool, population: sp.Expr) -> DrawMoments:
    """E[N_i], E[N_i (N_i - 1)] and E[N_i N_k] from the probability that two distinct draws hit i and k."""
    B, n = sp.S(batch), sp.S(population)
    ordered_pairs = B * (B - 1)                       # ordered pairs of distinct draws
    p_same = 1 / n**2 if replacement else sp.Integer(0)   # both draws hit sample i
    p_two = 1 / n**2 if replacement else 1 / (n * (n - 1))  # first hits i, second hits k != i
    return DrawMoments(B / n, sp.factor(ordered_pairs * p_same), sp.factor(ordered_pairs * p_two))


def batch_mean_moments(mean: sp.Expr, second: sp.Expr, batch: sp.Expr, replacement: bool,
                       population: sp.Expr | None = None) -> tuple[sp.Expr, sp.Expr]:
    """(E[h_B], E[h_B^2]) of the batch mean of per-sample curvatures with population mean ``mean`` and
    population second moment ``second`` (E_i h_i^2). ``population`` (n) cancels with replacement."""
    n = sp.Symbol("n_population", positive=True) if population is None else sp.S(population)
    B = sp.S(batch)
    dm = draw_moments(B, replacement, n)
    sum_sq = n * second                       # sum_i h_i^2
    sum_cross = n**2 * mean**2 - n * second   # sum_{i != k} h_i h_k
    first = sp.simplify(dm.mean * n * mean / B)
    sq = sp.factor(sp.simplify(((dm.mean + dm.self_pairs) * sum_sq + dm.pair * sum_cross) / B**2))
    if population is None and n in sq.free_symbols:
        raise DerivationError("without replacement the batch moments depend on the population size: give it")
    return first, sq


def variance_factor(batch: sp.Expr, replacement: bool, population: sp.Expr | None = None) -> sp.Expr:
    """c_B = Var(h_B) / Var_i(h_i), derived from ``batch_mean_moments`` with a symbolic curvature law."""
    a, s = sp.Symbol("a_mean", positive=True), sp.Symbol("s_spread", positive=True)
    first, sq = batch_mean_moments(a, a**2 + s**2, batch, replacement, population)
    if sp.simplify(first - a) != 0:
        raise DerivationError("the batch mean is not unbiased")
    c = sp.factor(sp.simplify((sq - a**2) / s**2))
    if c.free_symbols & {a, s}:
        raise DerivationError(f"the batch variance is not proportional to the population variance: {c}")
    return c


def second_moment_rule(state: Sequence[sp.Symbol], update: Sequence[sp.Expr], curvature: sp.Symbol,
                       mean: sp.Expr, second: sp.Expr, prefix: str = "m") -> tuple[tuple[sp.Symbol, ...],
                                                                                   tuple[sp.Expr, ...]]:
    """The second-moment recursion of a random linear update z <- A(h) z with A affine in ``curvature``
    (h, with E[h] = ``mean`` and E[h^2] = ``second``): (moment symbols E[z_p z_q], p <= q; their updates)."""
    z = sp.Matrix(list(state))
    A = sp.Matrix(list(update)).jacobian(list(state))
    if (sp.Matrix(list(update)) - A * z).applyfunc(sp.expand) != sp.zeros(len(state), 1):
        raise DerivationError("the update is not linear in the state (an interpolating minimum has no constant term)")
    A1 = A.diff(curvature)
    A0 = A.subs(curvature, 0)
    if A1.diff(curvature) != sp.zeros(*A.shape) or A.free_symbols & set(state):
        raise DerivationError("the update's coefficients must be affine in the curvature and free of the state")
    k = len(state)
    idx = [(p, q) for p in range(k) for q in range(p, k)]
    names = {pq: sp.Symbol(f"{prefix}_{state[pq[0]].name}{state[pq[1]].name}", real=True) for pq in idx}
    S = sp.Matrix(k, k, lambda p, q: names[(min(p, q), max(p, q))])
    nxt = A0 * S * A0.T + mean * (A0 * S * A1.T + A1 * S * A0.T) + second * A1 * S * A1.T
    return tuple(names[pq] for pq in idx), tuple(sp.expand(nxt[p, q]) for p, q in idx)


# -- Identity derivations -------------------------------------------------------------------------

def _arg(card: Card, claim: Identity, name: str, default=None):
    if name in claim.arguments:
        return claim.arguments[name]
    if default is not None:
        return default
    raise DerivationError(f"card {card.id!r}: claim {claim.name} needs argument {name}=")


def _replacement(card: Card, claim: Identity) -> bool:
    r = _arg(card, claim, "replacement")
    if r not in (0, 1, True, False):
        raise DerivationError(f"card {card.id!r}: replacement must be 1 or 0")
    return bool(r)


def _variance_factor(card: Card, claim: Identity) -> Derived:
    rep = _replacement(card, claim)
    c = variance_factor(_arg(card, claim, "batch"), rep, claim.arguments.get("population"))
    return Derived(claim.name, "minibatch_variance_factor", c, {"replacement": rep})


def commuting_threshold(mean: sp.Expr, second: sp.Expr, batch: sp.Expr, replacement: bool,
                        population: sp.Expr | None, eta: sp.Symbol) -> tuple[sp.Expr, dict]:
    """eta* of one eigen-direction: 1-D rule x <- x - eta h x, its second-moment factor, the positive root
    of factor = 1 (the factor is >= 0, so -1 is never crossed)."""
    x, h = sp.Symbol("x", real=True), sp.Symbol("h_B", real=True)
    m_first, m_second = batch_mean_moments(mean, second, batch, replacement, population)
    (m,), (nxt,) = second_moment_rule((x,), (x - eta * h * x,), h, m_first, m_second)
    factor = sp.expand(nxt / m)
    roots = [r for r in sp.solve(sp.Eq(factor, 1), eta) if r != 0]
    if len(roots) != 1:
        raise DerivationError(f"expected one nonzero root of the second-moment factor = 1, got {roots}")
    return sp.factor(sp.simplify(roots[0])), {"moment_factor": factor, "batch_second_moment": m_second}


def _commuting_dataset(card: Card, claim: Identity) -> Derived:
    values = [sp.S(v) for v in _arg(card, claim, "values")]
    probs = [sp.S(p) for p in _arg(card, claim, "probabilities")]
    if len(values) != len(probs) or sp.simplify(sum(probs) - 1) != 0:
        raise DerivationError(f"card {card.id!r}: the curvature law's probabilities must sum to 1")
    mean = sp.simplify(sum(p * v for p, v in zip(probs, values)))
    second = sp.simplify(sum(p * v**2 for p, v in zip(probs, values)))
    eta = _arg(card, claim, "param")
    value, details = commuting_threshold(mean, second, _arg(card, claim, "batch"), _replacement(card, claim),
                                         claim.arguments.get("population"), eta)
    return Derived(claim.name, "commuting_dataset_threshold", value, {**details, "mean": mean, "second": second})


@lru_cache(maxsize=None)
def unit_rank_one_adjoint(dim: int, samples: int) -> tuple[sp.Matrix, sp.Matrix, sp.Symbol]:
    """(T*(I) - (I - eta (2 - eta) H), H, eta) for B = 1 and unit vectors g_i given by angles (simplified)."""
    eta = sp.Symbol("eta", positive=True)
    g = []
    for i in range(samples):
        if dim == 2:
            t = sp.Symbol(f"theta_{i}", real=True)
            g.append(sp.Matrix([sp.cos(t), sp.sin(t)]))
        elif dim == 3:
            t, p = sp.Symbol(f"theta_{i}", real=True), sp.Symbol(f"phi_{i}", real=True)
            g.append(sp.Matrix([sp.sin(t) * sp.cos(p), sp.sin(t) * sp.sin(p), sp.cos(t)]))
        else:
            raise DerivationError("symbolic unit vectors are parametrised in d = 2 and 3")
    Hs = [gi * gi.T for gi in g]
    H = sum(Hs, sp.zeros(dim, dim)) / samples
    eye = sp.eye(dim)
    # T*(P) = P - eta (H P + P H) + eta^2 E_i[H_i P H_i] (B = 1: the batch is one uniform sample)
    adjoint = eye - eta * (H + H) + eta**2 * sum((Hi * eye * Hi for Hi in Hs), sp.zeros(dim, dim)) / samples
    gap = (adjoint - (eye - eta * (2 - eta) * H)).applyfunc(lambda e: sp.simplify(sp.trigsimp(e)))
    return gap, H, eta


def _unit_rank_one(card: Card, claim: Identity) -> Derived:
    evidence = {}
    for dim, samples in ((2, 3), (3, 2)):
        gap, H, eta = unit_rank_one_adjoint(dim, samples)
        if gap != sp.zeros(dim, dim):
            raise DerivationError(f"T*(I) != I - eta (2 - eta) H in d = {dim}: {gap}")
        evidence[f"d={dim}, n={samples}"] = "T*(I) = I - eta*(2 - eta)*H"
        trace = sp.simplify(sp.trigsimp(H.trace()))
        if trace != 1:
            raise DerivationError(f"Tr H = {trace}, expected 1 for unit-norm samples")
    roots = [r for r in sp.solve(sp.Eq(eta * (2 - eta), 0), eta) if r.is_positive]
    if len(roots) != 1:
        raise DerivationError(f"expected one positive root of eta (2 - eta), got {roots}")
    what = claim.arguments.get("quantity", "eta_crit")
    value = roots[0] * (1 if what == "eta_crit" else trace)  # eta* Tr H (Tr H = 1)
    return Derived(claim.name, "unit_rank_one_threshold", value, {"adjoint": evidence, "trace": trace})


DERIVATIONS = {
    "minibatch_variance_factor": _variance_factor,
    "commuting_dataset_threshold": _commuting_dataset,
    "unit_rank_one_threshold": _unit_rank_one,
}
