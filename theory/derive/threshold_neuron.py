"""GD on l(xy) for an even loss l (Ahn, Bubeck, Chewi, Lee, Suarez, Zhang, arXiv:2212.07469): the
step-size phase transition and the final sharpness above it, derived from the card's update rule
(pure SymPy). ``mode`` is the coordinate that oscillates (x), ``slow`` the one that sets the
sharpness (y); the minima are the line mode = 0.

- ``threshold_neuron_transition``: the minima (0, y) are fixed points (checked); the Jacobian there is
  triangular with eigenvalues m(y) = d mode+/d mode and 1; the minimum loses stability where
  m(y) = -1: solved for Y = y^2 (the unique positive root) -- the critical y0^2.
- ``threshold_neuron_final_sharpness``: the amplitude equations of the period-two oscillation near the
  transition. With mode_t = (-1)^t a_t and A = a^2 (the map is odd in the mode, checked):
  A+ = alpha1^2 A + 2 alpha1 alpha3 A^2 + O(A^3), Y+ = Y + beta2 A + O(A^2) (Taylor coefficients of the
  update in the mode at mode = 0); alpha1 = 1 + mu near the transition Y*, mu ~ alpha1'(Y*)(Y - Y*).
  Continuous time: dA/dt = 2A(mu + alpha3* A), dmu/dt = gamma A, gamma = alpha1'(Y*) beta2*. Along a
  trajectory A(mu) solves the linear ODE dA/dmu = 2(mu + alpha3* A)/gamma (dsolve): A = C e^(lambda mu)
  + P(mu), lambda = 2 alpha3*/gamma. For a start far above the threshold (mu0 -> infinity, A0 -> 0)
  the exponential term vanishes iff lambda > 0 (checked; otherwise no start-independent limit and a
  ``DerivationError``), so the oscillation dies where P(mu_inf) = 0, and
  Y_inf = Y* + mu_inf / alpha1'(Y*). For l = log cosh: Y_inf = 2/eta - 3 eta/2; for sqrt(1 + s^2):
  2/eta - eta; in general 2/(eta l2) + 3 eta l2^2 / l4 (l2 = l''(0), l4 = l''''(0) < 0).
"""
from __future__ import annotations

import sympy as sp

from theory._card import Card, Identity
from theory._errors import DerivationError
from theory.derive._base import Derived


def _setting(card: Card, claim: Identity):
    args = claim.arguments
    for key in ("mode", "slow", "eta"):
        if key not in args:
            raise DerivationError(f"card {card.id!r}, claim {claim.name}: give {key}=")
    mode, slow, eta = args["mode"], args["slow"], args["eta"]
    state = tuple(card.state)
    if set(state) != {mode, slow}:
        raise DerivationError(f"card {card.id!r}: the state must be ({mode}, {slow})")
    up = dict(zip(state, card.mode_update))
    xm, ys = up[mode], up[slow]
    if sp.simplify(xm.subs(mode, 0)) != 0 or sp.simplify(ys.subs(mode, 0) - slow) != 0:
        raise DerivationError(f"the line {mode} = 0 is not made of fixed points of the update")
    if sp.simplify(xm.subs(mode, -mode) + xm) != 0 or sp.simplify(ys.subs(mode, -mode) - ys) != 0:
        raise DerivationError(f"the update is not odd in {mode} (the loss is not even): no period-two oscillation")
    return mode, slow, eta, xm, ys


def _taylor(expr, var, n):
    return sp.simplify(sp.diff(expr, var, n).subs(var, 0) / sp.factorial(n))


def _critical(card: Card, claim: Identity):
    mode, slow, eta, xm, ys = _setting(card, claim)
    Y = sp.Symbol("Y", positive=True)
    J = sp.Matrix([[sp.diff(xm, mode), sp.diff(xm, slow)], [sp.diff(ys, mode), sp.diff(ys, slow)]]).subs(mode, 0)
    if sp.simplify(J[1, 0]) != 0 or sp.simplify(J[0, 1]) != 0 or sp.simplify(J[1, 1] - 1) != 0:
        raise DerivationError(f"the Jacobian on {mode} = 0 is not diag(m, 1): {J}")
    m = sp.simplify(J[0, 0])
    m_Y = sp.simplify(m.subs(slow, sp.sqrt(Y)))
    if sp.simplify(m.subs(slow, -slow) - m) != 0:
        raise DerivationError(f"the multiplier {m} is not a function of {slow}^2")
    roots = [r for r in sp.solve(sp.Eq(m_Y, -1), Y) if r.is_positive is not False]
    if len(roots) != 1:
        raise DerivationError(f"m({slow}^2) = -1 has {len(roots)} positive roots: {roots}")
    return mode, slow, eta, xm, ys, Y, m_Y, sp.simplify(roots[0])


def _transition(card: Card, claim: Identity) -> Derived:
    mode, slow, eta, xm, ys, Y, m_Y, y_star = _critical(card, claim)
    below = sp.simplify(m_Y.subs(Y, y_star / 2))
    return Derived(claim.name, "threshold_neuron_transition", y_star,
                   {"multiplier": m_Y, "multiplier_at_half": below})


def _final(card: Card, claim: Identity) -> Derived:
    mode, slow, eta, xm, ys, Y, m_Y, y_star = _critical(card, claim)
    flip = -xm                                    # mode_t = (-1)^t a_t: a+ = -mode+(a)
    alpha1 = _taylor(flip, mode, 1).subs(slow, sp.sqrt(Y))
    alpha3 = _taylor(flip, mode, 3).subs(slow, sp.sqrt(Y))
    beta2 = _taylor(ys**2, mode, 2).subs(slow, sp.sqrt(Y))
    if sp.simplify(_taylor(ys**2, mode, 1)) != 0:
        raise DerivationError("y+^2 - y^2 has a term linear in the mode")
    at = {Y: y_star}
    if sp.simplify(alpha1.subs(at) - 1) != 0:
        raise DerivationError(f"alpha1 = {alpha1} is not 1 at the transition")
    slope = sp.simplify(sp.diff(alpha1, Y).subs(at))
    a3, b2 = sp.simplify(alpha3.subs(at)), sp.simplify(beta2.subs(at))
    if a3 == 0:
        raise DerivationError("the cubic coefficient vanishes at the transition (l''''(0) = 0): no "
                              "start-independent limit at this order")
    gamma = sp.simplify(slope * b2)
    mu = sp.Symbol("mu", real=True)
    A = sp.Function("A")
    sol = sp.dsolve(sp.Eq(A(mu).diff(mu), 2 * (mu + a3 * A(mu)) / gamma), A(mu)).rhs
    lam = sp.simplify(2 * a3 / gamma)
    if lam.is_positive is not True:
        raise DerivationError(f"lambda = {lam} is not provably positive: a start far above the threshold does "
                              f"not forget its start (the loss must be sub-quadratic, l''''(0) < 0)")
    constants = sorted(sol.free_symbols - {mu} - set(card.symbols) - {eta}, key=str)
    particular = sp.expand(sol.subs({k: 0 for k in constants}))
    roots = sp.solve(sp.Eq(particular, 0), mu)
    if len(roots) != 1:
        raise DerivationError(f"P(mu) = 0 has {len(roots)} roots")
    y_inf = sp.simplify(y_star + roots[0] / slope)
    return Derived(claim.name, "threshold_neuron_final_sharpness", sp.expand(y_inf),
                   {"critical": y_star, "alpha3": a3, "beta2": b2, "gamma": gamma, "lambda": lam,
                    "mu_inf": sp.simplify(roots[0]), "A_of_mu": sol})


DERIVATIONS: dict = {
    "threshold_neuron_transition": _transition,
    "threshold_neuron_final_sharpness": _final,
}
