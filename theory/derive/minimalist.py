"""Symbolic derivations for the minimalist model of progressive sharpening f(x) = (x^T u) prod v_i.

Model (Yoo, Song, Yun, arXiv:2506.06940): F(theta) = X u P in R^N with P = v_1 ... v_{D-1},
L = |F - y|^2 / (2N), X = sum_j sigma_j e_j w_j^T (N <= d, full row rank), d_j = e_j^T y,
Q = sum_j d_j^2 / sigma_j^2 = |beta*|^2 (beta* = X^+ y). At an interpolating minimum the residual
vanishes, so the Hessian is the Gauss-Newton matrix J^T J / N, whose non-zero spectrum is that of
the Gram matrix G = J J^T / N = (1/N) sum_k (dF/dtheta_k)(dF/dtheta_k)^T.

Each entry of ``DERIVATIONS`` maps a name that an ``Identity`` claim may give as ``derivation`` to
a function ``(card, claim) -> Derived`` (pure SymPy; see ``theory.derive._base``).

- ``minimalist_balanced_rayleigh``: e_1^T G e_1 at the balanced minimum (|u| = |v_i| = a), derived
  from the model's output along the top singular direction, F_1 = sigma_1 (w_1^T u) P: the
  u-derivative and the D - 1 layer derivatives (exchangeable at the balanced point; the
  symmetric form is cross-checked against explicit products for D = 2..5), then the interpolation
  F_1 = d_1 and the balance |u|^2 = a^2 with |u|^2 = Q / a^(2(D-1)) solved for a.
- ``minimalist_balanced_weyl``: lambda_max(A) + lambda_max(B) for G = A + B, A the u-block
  P^2 X X^T / N (top eigenvalue sigma_1^2 P^2 / N) and B the layer block, a sum of D - 1 rank-one
  terms (dF/dv_i)(dF/dv_i)^T / N whose only non-zero eigenvalue is its trace; derived on a
  3-mode instance (d_1, d_2, d_3) and written with S_d2 = sum_j d_j^2.
- ``minimalist_imbalance_minimum``: D = 2, the minimum on the level set of the imbalance
  C = |Pi_W u|^2 - v^2: interpolation Pi_W u v = beta* gives |Pi_W u|^2 v^2 = Q; eliminate
  |Pi_W u|^2 and solve for v^2 > 0.
- ``minimalist_bound_argmin``: the imbalance C that minimises a bound b(V) (V = v*^2) on the
  sharpness: b'(V) = 0 solved for V > 0, mapped to C through the level-set relation.
- ``minimalist_invariant_increment``: the one-step change I(x+) - I(x) of an invariant I of
  gradient flow under the card's update rule x+ = update(x, g_hat), with g_hat the full-batch mean
  of per-example gradients (GD) or, with ``batch``, the mean over a uniformly random subset of
  size B (sampling without replacement) in expectation: the increment is expanded in selection
  indicators xi_i (xi_i^2 = xi_i), and E[prod_{i in S} xi_i] = prod_{m<|S|} (B - m) / (n - m).
"""
from __future__ import annotations

import sympy as sp

from theory._card import Card, Identity
from theory._errors import DerivationError
from theory.derive._base import Derived


def _args(card: Card, claim: Identity, *names: str) -> list:
    missing = [n for n in names if n not in claim.arguments]
    if missing:
        raise DerivationError(f"card {card.id!r}: derivation {claim.derivation} needs arguments "
                              f"{', '.join(missing)}")
    return [claim.arguments[n] for n in names]


def _balanced_scale(Q: sp.Expr, depth: sp.Expr) -> sp.Expr:
    """a > 0 with |u|^2 = a^2 at the balanced interpolating minimum: |u|^2 = Q / a^(2(D-1))."""
    a = sp.Symbol("a", positive=True)
    sols = [s for s in sp.solve(sp.Eq(Q / a ** (2 * (depth - 1)), a ** 2), a) if s.is_positive is not False]
    if len(sols) != 1:
        raise DerivationError(f"balanced scale: expected one positive solution, found {sols}")
    return sols[0]


def _layer_gram_entry(depth: int | sp.Expr, sigma: sp.Expr, target: sp.Expr, explicit: bool) -> sp.Expr:
    """(dF_1/du)^2 + sum_i (dF_1/dv_i)^2 at the balanced point, F_1 = sigma (w_1^T u) prod v_i,
    after imposing F_1 = target; in terms of the common layer value a (returned with a free)."""
    a = sp.Symbol("a", positive=True)
    c = sp.Symbol("c", real=True)  # c = w_1^T u
    if explicit:
        vs = sp.symbols(f"v1:{int(depth)}", positive=True)
        F1 = sigma * c * sp.Mul(*vs)
        grads = [sp.diff(F1, c)] + [sp.diff(F1, v) for v in vs]
        entry = sum(g ** 2 for g in grads).subs({v: a for v in vs})
        F1a = F1.subs({v: a for v in vs})
    else:
        vl = sp.Symbol("v_l", positive=True)  # the differentiated layer; the other D - 2 sit at a
        F1 = sigma * c * vl * a ** (depth - 2)
        entry = (sp.diff(F1, c) ** 2 + (depth - 1) * sp.diff(F1, vl) ** 2).subs(vl, a)
        F1a = F1.subs(vl, a)
    (c_star,) = sp.solve(sp.Eq(F1a, target), c)
    return sp.expand(entry.subs(c, c_star))


def _balanced_rayleigh(card: Card, claim: Identity) -> Derived:
    depth, N, sigma1, d1, Q = _args(card, claim, "depth", "samples", "sigma1", "d1", "difficulty")
    a = sp.Symbol("a", positive=True)
    symmetric = _layer_gram_entry(depth, sigma1, d1, explicit=False)
    for k in range(2, 6):  # the exchangeable-layer step against explicit products of D - 1 layers
        explicit = _layer_gram_entry(k, sigma1, d1, explicit=True)
        if sp.simplify(explicit - symmetric.subs(depth, k)) != 0:
            raise DerivationError(f"layer symmetry failed at D = {k}: {explicit} vs {symmetric.subs(depth, k)}")
    scale = _balanced_scale(Q, depth)
    value = sp.powsimp(sp.expand(symmetric.subs(a, scale) / N), force=True)
    return Derived(claim.name, "gauss_newton_gram", value,
                   {"gram_entry_in_a": symmetric, "balanced_scale": scale})


def _balanced_weyl(card: Card, claim: Identity) -> Derived:
    depth, N, sigma1, Q, Sd2 = _args(card, claim, "depth", "samples", "sigma1", "difficulty", "target_sq")
    a = sp.Symbol("a", positive=True)
    ds = sp.symbols("d_1:4", real=True)
    y = sp.Matrix(ds)
    P = a ** (depth - 1)
    # u-block: dF/du = P X, so A = P^2 X X^T / N = P^2 diag(sigma_j^2) / N in the e-basis; top = sigma_1^2 P^2 / N
    top_A = sigma1 ** 2 * P ** 2 / N
    # layer block: dF/dv_i = X u P / v_i = y / a at the balanced interpolating minimum (X u P = y)
    layer = (y / a) * (y / a).T
    B = (depth - 1) * layer / N
    if layer.rank() != 1:
        raise DerivationError("the layer block is not rank one")
    top_B = sp.simplify(sp.expand(B.trace()).subs(ds[0] ** 2, Sd2 - ds[1] ** 2 - ds[2] ** 2))
    if top_B.free_symbols & set(ds):
        raise DerivationError(f"could not write the layer block's eigenvalue in S_d2: {top_B}")
    scale = _balanced_scale(Q, depth)
    value = sp.powsimp(sp.expand((top_A + top_B).subs(a, scale)), force=True)
    return Derived(claim.name, "weyl_gram_blocks", value, {"top_u_block": top_A, "top_layer_block": top_B,
                                                            "balanced_scale": scale})


def _imbalance_level_set(C: sp.Expr, Q: sp.Expr) -> sp.Expr:
    """v^2 > 0 at the interpolating minimum with imbalance C (D = 2)."""
    V, U = sp.symbols("V U", positive=True)  # V = v^2, U = |Pi_W u|^2
    sols = sp.solve([sp.Eq(U * V, Q), sp.Eq(U - V, C)], [U, V], dict=True)
    # both U and V must be positive; a root that is negative at some C (e.g. C = 0) is not the branch
    positive = [s[V] for s in sols if all(sp.S(s[W]).subs(C, c).is_positive is not False
                                          for W in (U, V) for c in (-1, 0, 1))]
    if len(positive) != 1:
        raise DerivationError(f"expected one positive v^2 on the imbalance level set, found {sols}")
    return sp.simplify(positive[0])


def _imbalance_minimum(card: Card, claim: Identity) -> Derived:
    C, Q = _args(card, claim, "imbalance", "difficulty")
    return Derived(claim.name, "imbalance_level_set", _imbalance_level_set(C, Q), {})


def _bound_argmin(card: Card, claim: Identity) -> Derived:
    bound, V, C, Q = _args(card, claim, "bound", "level", "imbalance", "difficulty")
    crit = [s for s in sp.solve(sp.diff(bound, V), V) if s.is_positive is not False and s.is_real is not False]
    crit = [s for s in crit if sp.simplify(sp.diff(bound, V, 2).subs(V, s)).is_positive is not False]
    if len(crit) != 1:
        raise DerivationError(f"expected one positive minimiser of {bound} over {V}, found {crit}")
    # on the level set, C = |Pi_W u|^2 - v^2 = Q / V - V (V = v^2); check it inverts the derived v*^2(C)
    c_of_v = Q / V - V
    vstar = _imbalance_level_set(C, Q)
    probe = sp.Symbol("probe", positive=True)
    back = vstar.subs(C, c_of_v.subs(V, probe))
    back = back.replace(lambda x: x.is_Pow and x.exp == sp.Rational(1, 2), lambda x: sp.sqrt(sp.factor(x.base)))
    if sp.simplify(back - probe) != 0:
        raise DerivationError("the level-set map C(V) does not invert v*^2(C)")
    value = sp.simplify(c_of_v.subs(V, crit[0]))
    return Derived(claim.name, "bound_minimiser_on_level_set", value, {"V_argmin": crit[0]})


def _selection_expectation(expr: sp.Expr, xis: tuple[sp.Symbol, ...], B: sp.Expr, n: int) -> sp.Expr:
    """E over a uniformly random B-subset of n (without replacement) of a polynomial in the
    selection indicators xi_i."""
    poly = sp.Poly(sp.expand(expr), *xis)
    out = sp.S(0)
    for monom, coeff in poly.terms():
        k = sum(1 for e in monom if e > 0)  # xi_i^e = xi_i
        prob = sp.Mul(*[(B - m) / sp.S(n - m) for m in range(k)])
        out += coeff * prob
    return out


def _invariant_increment(card: Card, claim: Identity) -> Derived:
    invariant, at, gradient, per_example = _args(card, claim, "invariant", "at", "gradient", "per_example")
    if not card.state:
        raise DerivationError(f"card {card.id!r}: the increment needs the card's update rule (state/update)")
    at, gradient = dict(at), tuple(gradient)
    if set(at) != set(card.state):
        raise DerivationError("argument 'at' must bind every state variable to a parameter")
    n = len(per_example)
    if n < 1 or any(len(g) != len(gradient) for g in per_example):
        raise DerivationError("per_example must list one gradient (with one entry per g_hat symbol) per example")
    batch = claim.arguments.get("batch")
    if batch is None:
        g_hat = [sp.Add(*[g[k] for g in per_example]) / n for k in range(len(gradient))]
        xis: tuple[sp.Symbol, ...] = ()
    else:
        xis = tuple(sp.Symbol(f"xi_{i}", nonnegative=True) for i in range(n))
        g_hat = [sp.Add(*[xi * g[k] for xi, g in zip(xis, per_example)]) / batch for k in range(len(gradient))]
    step = {gh: val for gh, val in zip(gradient, g_hat)}
    after = {x: sp.S(f).subs(step, simultaneous=True) for x, f in zip(card.state, card.mode_update)}
    increment = sp.expand(invariant.subs(after, simultaneous=True) - invariant)
    if xis:
        increment = _selection_expectation(increment * batch ** 2, xis, batch, n) / batch ** 2
    value = sp.factor(sp.expand(increment.subs(at, simultaneous=True)))
    if value.free_symbols & set(card.state):
        raise DerivationError("the increment still depends on the state after binding 'at'")
    return Derived(claim.name, "expand_update" + ("_expect_minibatch" if xis else ""), value,
                   {"examples": n, "batch": batch})


DERIVATIONS: dict = {
    "minimalist_balanced_rayleigh": _balanced_rayleigh,
    "minimalist_balanced_weyl": _balanced_weyl,
    "minimalist_imbalance_minimum": _imbalance_minimum,
    "minimalist_bound_argmin": _bound_argmin,
    "minimalist_invariant_increment": _invariant_increment,
}

__all__ = ["DERIVATIONS"]
