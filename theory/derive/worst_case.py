"""Worst cases of first-order methods over function classes, derived where SymPy can (pure SymPy).

What is *derived* here (from the card's own update rule and step schedule):

- Lipschitz convex class, the resisting-oracle instance f(x) = max(M max_{i<=n+1} x_i, -M c), x0 = 0
  (Nesterov's lower-bound construction): SymPy solves ||x0 - x*|| = c sqrt(n+1) = D for c, so
  f* = -M D/sqrt(n+1); the card's rule is run on the instance in exact arithmetic for small n (the
  oracle returns M e_j for the first maximising coordinate) and f(x_n) = 0 is computed, so
  f(x_n) - f* = M D/sqrt(n+1): a *lower* bound on the worst case for every positive schedule.
  The matching upper bound of the linear-decay schedule (Zamani & Glineur 2023, arXiv 2307.11134,
  as the research notes attribute it [U]) is *stated*, not derived: the SDP (numerics) checks it.
- The classical potential argument min_k f(x_k) - f* <= (D^2 + M^2 sum gamma_k^2)/(2 sum gamma_k) over
  n+1 gradient steps: SymPy minimises it over a constant step (gamma* = D/(M sqrt(n+1)), value
  M D/sqrt(n+1)); recorded in the details (it bounds the best iterate, not the last).
- Smooth convex class, the Huber family f_a(x) = L a |x| - L a^2/2 (|x| >= a), L x^2/2 (|x| < a)
  (Drori & Teboulle 2014), x0 = D: SymPy runs the card's rule with a constant step in the linear
  piece, solves d f_a(x_n)/da = 0 for the worst threshold a = D/(2nLgamma + 1), checks the iterate
  stays in the linear piece, and gets f(x_n) - f* = L D^2/(4 n L gamma + 2); the matching upper
  bound (Drori & Teboulle 2014, Thm 3.1, for 0 < L gamma <= 1) is stated and checked by the SDP.
- The refinement bound of arXiv 2310.07831 (as its code ``find_schedule.func`` minimises, research
  notes Sec. 6) for the card's schedule with constant gradient norms G_t = M: the inner sums in
  closed form by ``summation``, the outer sum over k kept as a ``Sum``.
- The refined schedule eta_t ~ G_t^-2 sum_{p>t} G_p^-2 for constant norms: linear decay
  1 - t/(T - 1) after normalising eta_0 = 1 (``refined_schedule_constant_norms``).
"""
from __future__ import annotations

import sympy as sp

from theory._card import Card, Identity, WorstCase
from theory._errors import DerivationError
from theory._oracle import grad
from theory.derive._base import Derived

EXACT_STEPS = (1, 2, 3, 4)   # the resisting-oracle instance is run exactly for these n (where admissible)


def linear_rule(card: Card, claim: WorstCase) -> tuple[sp.Expr, sp.Expr]:
    """(a, b) with the card's update x+ = a x + b grad(x); a rule of another form is refused."""
    x = card.state[0]
    g = sp.Dummy("g")
    rule = sp.expand(card.update[0].xreplace({grad(x): g}))
    others = sorted(map(str, rule.atoms(sp.core.function.AppliedUndef)))
    if others:
        raise DerivationError(f"card {card.id!r}: the worst-case engines read x+ = a x + b grad(x); "
                              f"the rule uses {', '.join(others)}")
    a, b = sp.diff(rule, x), sp.diff(rule, g)
    if sp.expand(rule - a * x - b * g) != 0 or (a.free_symbols | b.free_symbols) & {x, g}:
        raise DerivationError(f"card {card.id!r}: the update {card.update[0]} is not linear in x and grad(x)")
    return a, b


def step_at(claim: WorstCase, k) -> sp.Expr:
    return claim.schedule.subs(claim.index, k)


def _constant(claim: WorstCase) -> sp.Symbol:
    return next(iter(claim.constants.values()))


def _admissible(card: Card, claim: WorstCase, n: int) -> bool:
    for a in card.assumptions:
        if a.free_symbols == {claim.steps} and a.subs(claim.steps, n) in (sp.false, False):
            return False
    return True


def resisting_instance(card: Card, claim: WorstCase, n: int) -> sp.Expr:
    """f(x_n) - f* of the card's rule on the resisting-oracle instance in R^(n+1), exact."""
    a, b = linear_rule(card, claim)
    M, D, N = _constant(claim), claim.radius, claim.steps
    c = sp.solve(sp.Eq(sp.Symbol("c", positive=True) * sp.sqrt(N + 1), D), sp.Symbol("c", positive=True))[0]
    c_n = c.subs(N, n)
    floor = -M * c_n
    x = [sp.S.Zero] * (n + 1)
    for k in range(1, n + 1):
        gamma = step_at(claim, k).subs(N, n)
        if not sp.S(gamma).is_positive:
            raise DerivationError(f"card {card.id!r}: the step {gamma} at k={k} is not known to be positive")
        top = max(range(n + 1), key=lambda i: (_value_key(x[i]), -i))
        g = [M if i == top else sp.S.Zero for i in range(n + 1)]
        x = [sp.simplify(a.subs({claim.step: gamma, N: n}) * xi + b.subs({claim.step: gamma, N: n}) * gi)
             for xi, gi in zip(x, g)]
    f_n = sp.Max(M * sp.Max(*x), floor)
    return sp.simplify(f_n - floor)


def _value_key(v: sp.Expr):
    """Order coordinates: zero beats a provably negative one (the instance's coordinates are 0 or negative)."""
    if v == 0:
        return 0
    if sp.S(v).is_negative:
        return -1
    raise DerivationError(f"the resisting instance's coordinate {v} is not provably <= 0")


def _lipschitz_lower(card: Card, claim: WorstCase) -> Derived:
    M, D, N = _constant(claim), claim.radius, claim.steps
    c = sp.Symbol("c", positive=True)
    radius = sp.solve(sp.Eq(c * sp.sqrt(N + 1), D), c)[0]       # ||x* - x0|| = c sqrt(n+1) = D
    value = sp.simplify(M * radius)                              # f(x_n) = 0 (coordinate n+1 untouched)
    exact = {}
    for n in EXACT_STEPS:
        if _admissible(card, claim, n):
            got = resisting_instance(card, claim, n)
            exact[n] = got
            if sp.simplify(got - value.subs(N, n)) != 0:
                raise DerivationError(f"card {card.id!r}: the resisting instance gives {got} at n={n}, "
                                      f"not {value.subs(N, n)}")
    # the classical potential bound on the best iterate, minimised over a constant step (n+1 steps)
    gam = sp.Symbol("gamma_const", positive=True)
    potential = (D ** 2 + (N + 1) * M ** 2 * gam ** 2) / (2 * (N + 1) * gam)
    best = [s for s in sp.solve(sp.diff(potential, gam), gam) if s.is_positive]
    return Derived(claim.name, "resisting_oracle_instance", value,
                   {"lower_bound_by": "resisting oracle on max(M max_i x_i, -M D/sqrt(n+1))",
                    "exact_runs": exact,
                    "upper_bound": ("stated (SDP-checked): Zamani-Glineur 2023 [U]" if claim.tight else
                                    "none: the claim is a lower bound (strictness: SDP-checked)"),
                    "potential_bound": potential, "potential_best_step": best[0] if best else None,
                    "potential_best_value": sp.simplify(potential.subs(gam, best[0])) if best else None})


def _huber_lower(card: Card, claim: WorstCase) -> Derived:
    a_rule, b_rule = linear_rule(card, claim)
    L, D, N = _constant(claim), claim.radius, claim.steps
    gamma = claim.schedule
    if claim.index in gamma.free_symbols:
        raise DerivationError(f"card {card.id!r}: the Huber derivation needs a constant step, got {gamma}")
    if sp.simplify(a_rule.subs(claim.step, gamma) - 1) != 0:
        raise DerivationError(f"card {card.id!r}: the Huber derivation reads x+ = x - gamma grad(x)")
    thr, k = sp.Symbol("a", positive=True), sp.Symbol("k", integer=True, nonnegative=True)
    slope = L * thr                                          # f_a'(x) on the linear piece x >= a
    xk = sp.Function("xk")
    sol = sp.rsolve(xk(k + 1) - (a_rule.subs(claim.step, gamma) * xk(k) + b_rule.subs(claim.step, gamma) * slope),
                    xk(k), {xk(0): D})
    x_n = sp.simplify(sol.subs(k, N))
    gap = L * thr * x_n - L * thr ** 2 / 2                   # f_a(x_n) - f*, f* = f_a(0) = 0
    worst = [s for s in sp.solve(sp.diff(gap, thr), thr) if s.is_positive is not False]
    if len(worst) != 1:
        raise DerivationError(f"card {card.id!r}: no unique worst Huber threshold ({worst})")
    a_star = sp.simplify(worst[0])
    margin = sp.simplify(x_n.subs(thr, a_star) - a_star)    # x_n stays on the linear piece
    if margin.is_nonnegative is not True:
        raise DerivationError(f"card {card.id!r}: cannot show x_n >= a ({margin})")
    value = sp.simplify(gap.subs(thr, a_star))
    return Derived(claim.name, "huber_family", value,
                   {"threshold": a_star, "x_n": x_n.subs(thr, a_star), "linear_piece_margin": margin,
                    "upper_bound": "stated (SDP-checked): Drori-Teboulle 2014, Thm 3.1"})


def refinement_bound(claim: WorstCase, norms=None) -> sp.Expr:
    """B(lambda) of arXiv 2310.07831 (code ``find_schedule.func``), lambda_t = schedule at index t+1,
    t = 0..n-1, G_t = M (or ``norms``); inner sums in closed form, the outer one a ``Sum``."""
    M, D, N = _constant(claim), claim.radius, claim.steps
    t, j, k = (sp.Symbol(s, integer=True, nonnegative=True) for s in ("t", "j", "k"))
    lam = claim.schedule.subs(claim.index, t + 1)
    total = sp.factor(sp.summation(lam, (t, 0, N - 1)))
    squares = lambda lo: sp.factor(sp.summation(M ** 2 * lam ** 2, (t, lo, N - 1)))  # noqa: E731
    after = sp.factor(sp.summation(lam, (t, k + 1, N - 1)))
    from_k = sp.factor(sp.summation(lam, (t, k, N - 1)))
    term = sp.factor(lam.subs(t, k) * squares(k) / (after * from_k))
    return D ** 2 / (2 * total) + squares(0) / (2 * total) + sp.Sum(term, (k, 0, N - 2)) / 2


def derive_worst_case(card: Card, claim: WorstCase) -> Derived:
    """The engine's closed form for a worst-case claim (dispatched by ``theory.derive.derive_claim``)."""
    how = claim.derivation or "hard_instance"
    if how == "refinement_bound":
        if claim.function_class != "convex_lipschitz":
            raise DerivationError(f"card {card.id!r}: the refinement bound is for the Lipschitz class")
        linear_rule(card, claim)
        return Derived(claim.name, "refinement_bound_2310.07831", refinement_bound(claim),
                       {"norms": "G_t = M (the class's worst norm)"})
    if claim.function_class == "convex_lipschitz":
        return _lipschitz_lower(card, claim)
    if claim.function_class == "smooth_convex":
        return _huber_lower(card, claim)
    raise DerivationError(f"card {card.id!r}: no worst-case engine for {claim.function_class!r}")


def refined_schedule_constant_norms(card: Card, claim: Identity) -> Derived:
    """eta_t = w_t sum_{p=t+1}^{T-1} w_p with w_t = G^-2 (constant norms), normalised by eta_0."""
    args = claim.arguments
    t, T = args["t"], args["T"]
    G = sp.Symbol("G", positive=True)
    p = sp.Symbol("p", integer=True)
    w = G ** -2
    eta = w * sp.summation(w, (p, t + 1, T - 1))
    value = sp.simplify(eta / eta.subs(t, 0))
    return Derived(claim.name, "refined_schedule_closed_form", value, {"unnormalised": sp.simplify(eta)})


DERIVATIONS = {"refined_schedule_constant_norms": refined_schedule_constant_norms}
