"""Symbolic derivations for SGD on noisy ill-conditioned quadratics (suspicious alignment, tiny
subspaces, Dom/Bulk SGD). Pure SymPy; every quantity is computed from the card's per-mode update rule.

Setting: one eigen-mode of f(x) = 1/2 x^T H x, state z (here the coordinate x of the mode), updated
by a rule that is linear in z and in an additive noise ``xi`` (E xi = 0, E xi^2 = variance, xi
independent of z), e.g. SGD x+ = x - eta (lam x + xi).

* ``stationary_moment``: E[q(z)] for a quadratic form q under the stationary law. The stationary
  second moment S = E[z z^T] solves the discrete Lyapunov equation S = F S F^T + variance b b^T
  (F = d update/d z, b = d update/d xi); the engine solves that linear system for the entries of S.
  For SGD: E x^2 = eta s^2 / (lam (2 - eta lam)), so the gradient energy E (lam x)^2 =
  eta s^2 lam / (2 - eta lam) and the loss 1/2 lam E x^2 = eta s^2 / (2 (2 - eta lam)).
* ``projected_loss_root``: the expected loss change of one step applied to the modes of a subspace S
  (the others untouched) is sum_{i in S} [a_i eta + b_i eta^2] (a polynomial in the step); the engine
  expands the per-mode change E[loss(update)] - loss over the noise, collects the eta and eta^2
  coefficients, replaces every monomial in (lam, x, noise scale) by the card's symbol for its sum over
  S (summation is linear), and returns the positive root -A_S / B_S.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import sympy as sp

from theory._errors import DerivationError
from theory.derive._base import Derived


# -- shared pieces ------------------------------------------------------------------------------

def noise_expectation(expr: sp.Expr, xi: sp.Symbol, variance: sp.Expr) -> sp.Expr:
    """E over xi of a polynomial of degree <= 2 in xi (only E xi = 0 and E xi^2 = variance are known)."""
    poly = sp.Poly(sp.expand(expr), xi)
    if poly.degree() > 2:
        raise DerivationError(f"the expression has degree {poly.degree()} in the noise {xi}; only its first two "
                              "moments are specified")
    return sp.expand(poly.coeff_monomial(1) + poly.coeff_monomial(xi**2) * variance)


def _linear_noisy_parts(state: Sequence[sp.Symbol], update: Sequence[sp.Expr], xi: sp.Symbol):
    upd = sp.Matrix(update)
    F = upd.jacobian(list(state)).applyfunc(sp.simplify)
    b = upd.jacobian([xi]).applyfunc(sp.simplify)
    if (F.free_symbols | b.free_symbols) & (set(state) | {xi}):
        raise DerivationError("the update is not linear in the state and the noise")
    rest = upd - F * sp.Matrix(state) - b * xi
    if any(sp.simplify(e) != 0 for e in rest):
        raise DerivationError("the update has a constant term; the stationary law needs a linear map")
    return F, b


def stationary_second_moment(state: Sequence[sp.Symbol], update: Sequence[sp.Expr], xi: sp.Symbol,
                             variance: sp.Expr) -> sp.Matrix:
    """S = E[z z^T] of the stationary law of z+ = F z + b xi: the solution of S = F S F^T + variance b b^T."""
    F, b = _linear_noisy_parts(state, update, xi)
    k = len(state)
    s = {(p, q): sp.Symbol(f"S_{p}{q}", real=True) for p in range(k) for q in range(p, k)}
    S = sp.Matrix(k, k, lambda p, q: s[(min(p, q), max(p, q))])
    eqs = list({e for e in (S - F * S * F.T - variance * b * b.T) if e != 0})
    sol = sp.solve(eqs, list(s.values()), dict=True)
    if len(sol) != 1:
        raise DerivationError("the stationary second-moment equation has no unique solution (is the map stable?)")
    return S.subs(sol[0]).applyfunc(sp.factor)


def _noise_args(card, claim) -> tuple[sp.Symbol, sp.Expr]:
    args = claim.arguments
    if "noise" not in args or "variance" not in args:
        raise DerivationError(f"card {card.id!r}: {claim.derivation} needs arguments noise= and variance=")
    if not card.state:
        raise DerivationError(f"card {card.id!r}: {claim.derivation} needs the per-mode update (state/update)")
    return args["noise"], sp.S(args["variance"])


# -- derivations -------------------------------------------------------------------------------

def stationary_moment_of(card, claim) -> sp.Expr:
    """E[q(z)] under the stationary law, q = claim.arguments['of'] (a quadratic form in the state)."""
    xi, variance = _noise_args(card, claim)
    if "of" not in claim.arguments:
        raise DerivationError(f"card {card.id!r}: stationary_moment needs the argument of= (a quadratic form)")
    q = sp.expand(sp.S(claim.arguments["of"]))
    state = list(card.state)
    poly = sp.Poly(q, *state)
    if any(sum(m) != 2 for m in poly.monoms()):
        raise DerivationError(f"card {card.id!r}: of= must be a quadratic form in the state {state}")
    S = stationary_second_moment(state, card.mode_update, xi, variance)
    value = sp.Integer(0)
    for m, coeff in zip(poly.monoms(), poly.coeffs()):
        i, j = [v for v, e in enumerate(m) for _ in range(e)]
        value += coeff * S[i, j]
    return sp.factor(sp.simplify(value))


def _stationary(card, claim) -> Derived:
    xi, variance = _noise_args(card, claim)
    S = stationary_second_moment(card.state, card.mode_update, xi, variance)
    return Derived(claim.name, "stationary_lyapunov", stationary_moment_of(card, claim), {"second_moment": S})


def one_step_loss_change(state: Sequence[sp.Symbol], update: Sequence[sp.Expr], loss: sp.Expr, xi: sp.Symbol,
                         variance: sp.Expr) -> sp.Expr:
    """E_xi[loss(update)] - loss, per mode."""
    after = sp.S(loss).subs(dict(zip(state, update)), simultaneous=True)
    return sp.expand(noise_expectation(after, xi, variance) - loss)


def subspace_sum(expr: sp.Expr, gens: Sequence[sp.Symbol], moments: Mapping[sp.Expr, sp.Symbol]) -> sp.Expr:
    """Replace each monomial of ``expr`` in ``gens`` by the symbol for its sum over the subspace."""
    poly = sp.Poly(sp.expand(expr), *gens)
    table = {sp.Poly(k, *gens).monoms()[0]: v for k, v in moments.items()}
    out = sp.Integer(0)
    for m, coeff in zip(poly.monoms(), poly.coeffs()):
        if m not in table:
            mono = sp.Mul(*[g**e for g, e in zip(gens, m)])
            raise DerivationError(f"no subspace-sum symbol for the monomial {mono} (give it in moments=)")
        out += coeff * table[m]
    return out


def projected_loss_root(state, update, loss, xi, variance, step, gens, moments) -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    """(root, A_S, B_S): E dL_S = A_S step + B_S step^2, root = -A_S / B_S."""
    change = one_step_loss_change(state, update, loss, xi, variance)
    poly = sp.Poly(change, step)
    if poly.degree() > 2 or poly.coeff_monomial(1) != 0:
        raise DerivationError(f"the expected one-step loss change is not of the form A {step} + B {step}^2: {change}")
    a, b = poly.coeff_monomial(step), poly.coeff_monomial(step**2)
    A, B = subspace_sum(a, gens, moments), subspace_sum(b, gens, moments)
    return sp.factor(-A / B), A, B


def _projected_root(card, claim) -> Derived:
    xi, variance = _noise_args(card, claim)
    args = claim.arguments
    for key in ("loss", "step", "moments"):
        if key not in args:
            raise DerivationError(f"card {card.id!r}: projected_loss_root needs the argument {key}=")
    moments = dict(args["moments"])  # given as ((monomial, symbol), ...): hashable
    gens = sorted(set().union(*(sp.S(k).free_symbols for k in moments)), key=lambda s: s.name)
    root, A, B = projected_loss_root(card.state, card.mode_update, args["loss"], xi, variance, args["step"], gens, moments)
    return Derived(claim.name, "projected_loss_polynomial", root, {"A": A, "B": B, "gens": gens})


DERIVATIONS = {
    "stationary_moment": _stationary,
    "projected_loss_root": _projected_root,
}
