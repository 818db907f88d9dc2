"""Mean-square stability of a random linear iteration on a quadratic (pure SymPy).

Setting: f(x) = 1/2 x^T H x, H = diag(lam_i) in its eigenbasis (the direction laws are rotation
invariant). A card gives, per eigen-mode, the update of its state z (k variables) as a linear
function of z and of g, the mode's coordinate of the gradient estimate g_hat = U H y, with
y = a^T z the point where the estimate is taken and U = (1/n) sum_j u_j u_j^T. Then, with
F = d update / d z, b = d update / d g and S = E[z z^T] of the mode,

    S+ = F S F^T + lam (F S a b^T + b a^T S F^T) + b b^T (kappa_self lam^2 a^T S a + kappa_c C),
    C  = sum_k lam_k^2 a^T S_k a       (the only coupling between modes, rank one),

using E[U] = I, E[U_ik U_il] = 0 for k != l, E[U_ii^2] - E[U_ik^2] = kappa_self, E[U_ik^2] =
kappa_c. Stacking the modes' upper-triangular moments gives T = blockdiag(D_i) + c w^T. When each
D_i is Schur stable, the Perron root of T equals 1 exactly when 1 = sum_i G(lam_i) with the mode
gain G(lam) = w^T (I - D)^{-1} c (matrix determinant lemma). The engine derives D, c, w, the gain
and the per-mode limit (the Schur-Cohn threshold of D), all from the card's update rule.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sympy as sp

from theory._errors import DerivationError
from theory.derive.linear import critical_threshold
from theory.derive.moments import projector_moments


@dataclass(frozen=True)
class ModeOperator:
    moments: tuple[tuple[int, int], ...]   # (p, q), p <= q: which E[z_p z_q] each row tracks
    D: sp.Matrix                           # self part of one mode
    c: sp.Matrix                           # column: how the coupling scalar C enters the mode
    w: sp.Matrix                           # row: the mode's contribution to C
    kappa_self: sp.Expr
    kappa_coupling: sp.Expr


def _linear_parts(state, update, g, at):
    F = sp.Matrix(update).jacobian(state).applyfunc(sp.simplify)
    b = sp.Matrix(update).jacobian([g]).applyfunc(sp.simplify)
    a = sp.Matrix([at]).jacobian(state).T.applyfunc(sp.simplify)
    for part, what in ((F, "state"), (b, "the gradient estimate"), (a, "the evaluation point")):
        if part.free_symbols & (set(state) | {g}):
            raise DerivationError(f"the update is not linear in {what}")
    if _constant_terms(update, F, state, g):
        raise DerivationError("the update has a constant term; mean-square analysis needs a linear map")
    if _constant_terms([at], a.T, state, g):
        raise DerivationError("the gradient estimate's point has a constant term; mean-square analysis needs it "
                              "linear in the state")
    return F, b, a


def _constant_terms(update, F, state, g) -> list[sp.Expr]:
    """The nonzero parts of the update that are neither linear in the state nor in the gradient
    estimate (a linear map has none)."""
    rest = sp.Matrix(update).subs({g: 0}) - F * sp.Matrix(state)
    return [e for e in (sp.simplify(r) for r in rest) if e != 0]


def mode_operator(state: Sequence[sp.Symbol], update: Sequence[sp.Expr], g: sp.Symbol, at: sp.Expr,
                  lam: sp.Symbol, *, directions: str, n: sp.Expr = sp.Integer(1),
                  d: sp.Expr | None = None) -> ModeOperator:
    """The per-mode second-moment operator of a ZO-type random linear update."""
    F, b, a = _linear_parts(list(state), list(update), g, at)
    pm = projector_moments(directions, n, d)
    if sp.simplify(pm.mean - 1) != 0:
        raise DerivationError("the direction law must have E[u u^T] = I")
    k = len(state)
    idx = [(p, q) for p in range(k) for q in range(p, k)]
    s = {pq: sp.Symbol(f"s_{pq[0]}{pq[1]}", real=True) for pq in idx}
    S = sp.Matrix(k, k, lambda p, q: s[(min(p, q), max(p, q))])
    C = sp.Symbol("C_coupling", real=True)
    aSa = (a.T * S * a)[0, 0]
    nxt = (F * S * F.T + lam * (F * S * a * b.T + b * a.T * S * F.T)
           + b * b.T * (pm.kappa_self * lam**2 * aSa + pm.kappa_coupling * C))
    vec_next = sp.Matrix([sp.expand(nxt[p, q]) for p, q in idx])
    svec = [s[pq] for pq in idx]
    D = vec_next.subs(C, 0).jacobian(svec).applyfunc(sp.factor)
    c = vec_next.jacobian([C]).applyfunc(sp.factor)
    w = sp.Matrix([sp.expand(lam**2 * aSa)]).jacobian(svec).applyfunc(sp.factor)
    return ModeOperator(tuple(idx), D, c, w, pm.kappa_self, pm.kappa_coupling)


def mode_gain(op: ModeOperator) -> sp.Expr:
    """G(lam) = w (I - D)^{-1} c, the mode's term in the secular equation sum_i G(lam_i) = 1."""
    eye = sp.eye(op.D.shape[0])
    sol = (eye - op.D).LUsolve(op.c)
    return sp.factor(sp.simplify((op.w * sol)[0, 0]))


def mode_limit(op: ModeOperator, param: sp.Symbol, others: Sequence[sp.Symbol], assumptions=(),
               sample=None) -> sp.Expr:
    """The largest ``param`` interval (0, limit) on which one mode's self operator D is stable."""
    return critical_threshold(op.D, param, others=others, assumptions=assumptions, sample=sample).value


def equal_spectrum_root(gain: sp.Expr, param: sp.Symbol, multiplicity: sp.Expr, limit: sp.Expr) -> sp.Expr:
    """Solve multiplicity * G = 1 for ``param`` and keep the root inside (0, limit)."""
    roots = sp.solve(sp.Eq(multiplicity * gain, 1), param)
    inside = [r for r in roots if sp.simplify(r - limit).is_negative is not False and r.is_positive is not False]
    if len(inside) != 1:
        raise DerivationError(f"expected one root of {multiplicity}*G = 1 below the mode limit, got {roots}")
    return sp.factor(inside[0])
