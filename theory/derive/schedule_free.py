"""Symbolic engines for schedule-free methods (pure SymPy): every identity is derived from the card's own
update rule, written once as  y = (1 - beta) z + beta x,  z+ = z - gamma g(y),  x+ = (1 - c) x + c z+.

The rule is read with ``grad(v)`` replaced by a free symbol g (an ARBITRARY gradient: nothing below uses
the loss), and the averaging weight ``c`` of the step is the card's parameter named by ``weight``.

- ``sf_online_average``: the weight c' with x+ = (1 - c') x + c' y+ (y+ the gradient point at the next
  state): c' = (x+ - x)/(y+ - x), which must be free of the state and of g. Also checked on symbolic
  sequences: the rule unrolled for T = 4 steps with symbols c_1..c_4, g_1..g_4 satisfies the identity
  at every step (else a DerivationError).
- ``sf_average_weights``: the weight of z_s (``of="iterate"``) or of y_s (``of="gradient_point"``) in x_T
  for a schedule c_t (an expression in ``index``): the rule gives x+ = A x + B u+ (u = z or y; A, B
  derived, A + B = 1 checked), so w_{T,s} = B(s) prod_{r=s+1}^{T} A(r) (SymPy's product). With
  ``quantity="ratio"`` it returns w_{T,s+1}/w_{T,s} (free of T).
- ``sf_online_average_schedule``: c'_t with the claim's schedule substituted (late branch of a clip).
- ``sf_averaging_exponent``: the exponent e of w_{T,s} ~ s^e: lim_{s->oo} s (w_{T,s+1}/w_{T,s} - 1).
- ``sf_step_image``: a quantity of (state, next state) under the rule, rewritten in new coordinates
  (e.g. D = z - x): ``quantity`` uses the state symbols and the ``next`` symbols; ``coordinates`` maps
  state symbols to expressions in the new ones; the result must be free of the eliminated symbols.
- ``sf_stationary_variance``: the rule's per-mode form with an additive unit-variance noise symbol
  (``noise``) is linear, s+ = A s + b xi; the stationary covariance solves Sigma = A Sigma A^T + b b^T
  (the discrete Lyapunov equation, solved as a linear system in Sigma's entries); returns w^T Sigma w
  for the linear form ``of`` (with ``relative_to=R``: R - w^T Sigma w, the gap to a reference variance).
- ``amuse_schedule``: AMUSE's interpolation schedule from the averaging weights: S_t = c_t (1 - c_w) /
  (c_w (1 - c_t)) with c_w = c at the end of warmup T0, beta_t = 1 - S_t^rho (1 - beta1);
  ``quantity`` = "S" (closed form for the schedule), "beta_at_warmup" (t = T0) or "beta_limit" (t -> oo).
- ``sf_preconditioned_threshold``: the critical step of the late-phase map (x frozen) by the Schur engine
  on the card's per-mode rule (lambda: an eigenvalue of the preconditioned Hessian); its numeric route
  (numerics/_schedule_free.py) checks the full-space map with NON-commuting P and H.
"""
from __future__ import annotations

import sympy as sp

from theory._card import Card, Identity
from theory._errors import DerivationError
from theory._oracle import grad as _grad, precond as _precond
from theory.derive._base import Derived

SEQUENCE_STEPS = 4


def gradient_point(card: Card) -> sp.Expr:
    """The point where the rule takes its gradient (the unique argument of grad(.))."""
    points = {a.args[0] for e in card.update for a in sp.S(e).atoms(_grad)}
    if len(points) != 1:
        raise DerivationError(f"card {card.id!r}: expected one gradient point grad(y) in the update, found "
                              f"{sorted(map(str, points)) or 'none'}")
    return points.pop()


def step(card: Card, g: sp.Symbol) -> dict[sp.Symbol, sp.Expr]:
    """The next state with grad(.) replaced by the free symbol g (an arbitrary gradient); a preconditioner
    precond(v) -> v (an arbitrary gradient, preconditioned, is again arbitrary: g stands for P g)."""
    return {s: sp.S(e).replace(_grad, lambda v: g).replace(_precond, lambda v: v)
            for s, e in zip(card.state, card.update)}


def _weight_symbol(card: Card, claim: Identity) -> sp.Symbol:
    c = claim.arguments.get("weight")
    if not isinstance(c, sp.Symbol) or c not in card.symbols:
        raise DerivationError(f"card {card.id!r}, claim {claim.name}: give weight=<the averaging-weight parameter>")
    return c


def _average(card: Card, claim: Identity) -> sp.Symbol:
    x = claim.arguments.get("average", card.state[-1])
    if x not in card.state:
        raise DerivationError(f"card {card.id!r}: the average {x} is not a state variable")
    return x


def online_weight(card: Card, x: sp.Symbol) -> sp.Expr:
    """c' with x+ = (1 - c') x + c' y+, from the rule (free of the state and the gradient)."""
    g = sp.Dummy("g")
    nxt = step(card, g)
    y_next = gradient_point(card).subs(nxt, simultaneous=True)
    cp = sp.factor(sp.simplify((nxt[x] - x) / (y_next - x)))
    left = cp.free_symbols & (set(card.state) | {g})
    if left or cp.atoms(sp.Function) - cp.atoms(sp.Abs):
        raise DerivationError(f"(x+ - x)/(y+ - x) = {cp} depends on {sorted(map(str, left)) or 'the direction'}: "
                              "x is not an online average of the gradient points")
    return cp


def _sequence_check(card: Card, x: sp.Symbol, c: sp.Symbol, cp: sp.Expr) -> bool:
    """Unroll the rule T steps on symbolic sequences c_t, g_t (from a symbolic state) and check
    x_{t+1} = (1 - c'_{t+1}) x_t + c'_{t+1} y_{t+1} at every step, exactly."""
    g = sp.Dummy("g")
    nxt = step(card, g)
    point = gradient_point(card)
    state = {s: sp.Symbol(f"{s.name}_0") for s in card.state}
    for t in range(1, SEQUENCE_STEPS + 1):
        ct, gt = sp.Symbol(f"c_{t}"), sp.Symbol(f"g_{t}")
        new = {s: e.subs({**state, c: ct, g: gt}, simultaneous=True) for s, e in nxt.items()}
        y_new = point.subs({**new, c: ct}, simultaneous=True)
        cpt = cp.subs(c, ct)
        if sp.simplify(new[x] - (1 - cpt) * state[x] - cpt * y_new) != 0:
            return False
        state = new
    return True


def _online_average(card: Card, claim: Identity) -> Derived:
    x, c = _average(card, claim), _weight_symbol(card, claim)
    cp = online_weight(card, x)
    if not _sequence_check(card, x, c, cp):
        raise DerivationError(f"card {card.id!r}: the one-step weight {cp} fails on unrolled symbolic sequences")
    return Derived(claim.name, "sf_online_average", cp,
                   {"sequence_steps": SEQUENCE_STEPS, "sequences": "symbolic c_1..c_T, g_1..g_T", "checked": True})


def averaging_coefficients(card: Card, claim: Identity) -> tuple[sp.Expr, sp.Expr]:
    """(A, B) of x+ = A x + B u+ with u = z (``of="iterate"``) or u = y (``of="gradient_point"``)."""
    x, of = _average(card, claim), claim.arguments.get("of", "gradient_point")
    _weight_symbol(card, claim)   # validates the argument
    if of == "gradient_point":
        cp = online_weight(card, x)
        return 1 - cp, cp
    z = claim.arguments.get("iterate")
    if of != "iterate" or z not in card.state or z == x:
        raise DerivationError(f"card {card.id!r}: of must be 'gradient_point' or 'iterate' (with iterate=<state>)")
    g, zn = sp.Dummy("g"), sp.Dummy("z_next")
    nxt = step(card, g)
    sols = sp.solve(sp.Eq(nxt[z], zn), g)
    if len(sols) != 1:
        raise DerivationError(f"card {card.id!r}: cannot eliminate the gradient from {z}+ = {nxt[z]}")
    xn = sp.expand(nxt[x].subs(g, sols[0]))
    A, B = sp.simplify(xn.coeff(x)), sp.simplify(xn.coeff(zn))
    if sp.simplify(xn - A * x - B * zn) != 0 or (A.free_symbols | B.free_symbols) & set(card.state):
        raise DerivationError(f"card {card.id!r}: x+ = {xn} is not a combination of x and {z}+")
    if sp.simplify(A + B - 1) != 0:
        raise DerivationError(f"card {card.id!r}: x+ = {A} x + {B} {z}+ is not an average (A + B != 1)")
    return A, B


def _schedule(card: Card, claim: Identity):
    args = claim.arguments
    t, sched = args.get("index"), args.get("schedule")
    if not isinstance(t, sp.Symbol) or sched is None:
        raise DerivationError(f"card {card.id!r}, claim {claim.name}: give schedule=<c_t> and index=t")
    c = _weight_symbol(card, claim)
    return lambda e, at: sp.S(e).subs(c, sp.S(sched).subs(t, at))


def weight_ratio(card: Card, claim: Identity, s: sp.Symbol) -> sp.Expr:
    A, B = averaging_coefficients(card, claim)
    at = _schedule(card, claim)
    return sp.factor(sp.simplify(at(B, s + 1) / (at(B, s) * at(A, s + 1))))


def _weights(card: Card, claim: Identity) -> Derived:
    args = claim.arguments
    s, T = args.get("slot"), args.get("horizon")
    if s not in card.symbols or T not in card.symbols:
        raise DerivationError(f"card {card.id!r}, claim {claim.name}: give slot=s and horizon=T (card symbols)")
    if args.get("quantity") == "ratio":
        value = weight_ratio(card, claim, s)
        if T in value.free_symbols:
            raise DerivationError(f"the weight ratio {value} depends on the horizon {T}")
        return Derived(claim.name, "sf_average_weights", value, {"quantity": "ratio"})
    A, B = averaging_coefficients(card, claim)
    at, r = _schedule(card, claim), sp.Dummy("r", positive=True, integer=True)
    w = at(B, s) * sp.product(at(A, r), (r, s + 1, T))
    value = sp.simplify(sp.gammasimp(sp.combsimp(w.rewrite(sp.gamma))))
    return Derived(claim.name, "sf_average_weights", value, {"A": A, "B": B, "product": w})


def _late(expr: sp.Expr, t: sp.Symbol) -> sp.Expr:
    """The branch of a clipped schedule (Min/Max of terms) that holds as t -> oo."""
    def pick(*args, big):
        lims = [sp.limit(a, t, sp.oo) for a in args]
        return args[lims.index(max(lims) if big else min(lims))]
    return sp.S(expr).replace(sp.Min, lambda *a: pick(*a, big=False)).replace(sp.Max, lambda *a: pick(*a, big=True))


def _late_claim(claim: Identity) -> Identity:
    from dataclasses import replace
    args = dict(claim.arguments)
    args["schedule"] = _late(args["schedule"], args["index"])
    return replace(claim, arguments=args)


def _online_schedule(card: Card, claim: Identity) -> Derived:
    """c'_t for the claim's schedule c_t (its late, unclipped branch), from the rule."""
    x, c = _average(card, claim), _weight_symbol(card, claim)
    cp = online_weight(card, x)
    late = _late_claim(claim)
    value = sp.factor(sp.simplify(cp.subs(c, late.arguments["schedule"])))
    return Derived(claim.name, "sf_online_average_schedule", value, {"c_prime": cp,
                                                                      "schedule": late.arguments["schedule"]})


def _exponent(card: Card, claim: Identity) -> Derived:
    s = sp.Dummy("s", positive=True)
    ratio = weight_ratio(card, _late_claim(claim), s)
    value = sp.simplify(sp.limit(s * (ratio - 1), s, sp.oo))
    if value.has(sp.oo, -sp.oo, sp.zoo, sp.nan) or value.free_symbols & {s}:
        raise DerivationError(f"card {card.id!r}: the weights are not a power law (s (ratio - 1) -> {value})")
    return Derived(claim.name, "sf_averaging_exponent", value, {"ratio": ratio.subs(s, sp.Symbol("s"))})


def _step_image(card: Card, claim: Identity) -> Derived:
    args = claim.arguments
    quantity, coords = sp.S(args.get("quantity")), dict(args.get("coordinates", ()))
    nxt_syms = dict(args.get("next", ()))  # next-state symbol -> state symbol
    g = args.get("gradient")
    if quantity is None or not isinstance(g, sp.Symbol):
        raise DerivationError(f"card {card.id!r}, claim {claim.name}: give quantity=, gradient=, next=")
    nxt = step(card, g)
    expr = quantity.subs({k: nxt[v] for k, v in nxt_syms.items()}, simultaneous=True)
    expr = sp.factor(sp.simplify(expr.subs(coords, simultaneous=True)))
    left = expr.free_symbols & (set(coords) | set(nxt_syms))
    if left:
        raise DerivationError(f"{quantity} = {expr} still depends on {sorted(map(str, left))}")
    return Derived(claim.name, "sf_step_image", expr, {"coordinates": coords})


def stationary_covariance(state, update, noise: sp.Symbol) -> sp.Matrix:
    F = sp.Matrix([sp.S(e) for e in update])
    A = F.jacobian(list(state)).subs(noise, 0)
    b = F.diff(noise)
    if b.free_symbols & set(state) or sp.simplify(F - A * sp.Matrix(list(state)) - b * noise) != sp.zeros(len(state), 1):
        raise DerivationError("the noisy rule is not linear (s+ = A s + b xi)")
    n = len(state)
    S = sp.Matrix(n, n, lambda i, j: sp.Symbol(f"S_{min(i, j)}{max(i, j)}"))
    unknowns = sorted(S.free_symbols, key=str)
    eqs = [e for e in set((S - A * S * A.T - b * b.T).values()) if e != 0]
    sol = sp.solve(eqs, unknowns, dict=True)
    if len(sol) != 1 or set(sol[0]) != set(unknowns):
        raise DerivationError("the Lyapunov equation has no unique solution (the rule is not stable)")
    return S.subs(sol[0])


def _stationary(card: Card, claim: Identity) -> Derived:
    noise, of = claim.arguments.get("noise"), sp.S(claim.arguments.get("of"))
    if not isinstance(noise, sp.Symbol) or of is None:
        raise DerivationError(f"card {card.id!r}, claim {claim.name}: give noise=<xi> and of=<linear form>")
    sigma = stationary_covariance(card.state, card.mode_update, noise)
    w = sp.Matrix([of.diff(s) for s in card.state])
    value = sp.factor(sp.simplify((w.T * sigma * w)[0, 0]))
    if "relative_to" in claim.arguments:      # the gap to a reference variance (e.g. SGD's), reference - variance
        value = sp.factor(sp.simplify(sp.S(claim.arguments["relative_to"]) - value))
    return Derived(claim.name, "sf_stationary_variance", value, {"covariance": sigma})


def _amuse(card: Card, claim: Identity) -> Derived:
    args = claim.arguments
    t, T0, sched = args.get("index"), args.get("warmup"), args.get("schedule")
    rho, b1 = args.get("rho"), args.get("beta1")
    if not all(isinstance(v, sp.Symbol) for v in (t, T0, rho, b1)) or sched is None:
        raise DerivationError(f"card {card.id!r}: amuse_schedule needs index, warmup, schedule, rho, beta1")
    ct, cw = sp.S(sched), sp.S(sched).subs(t, T0)
    S = ct * (1 - cw) / (cw * (1 - ct))
    beta_t = 1 - S**rho * (1 - b1)
    q = args.get("quantity", "S")
    if q == "S":
        value = sp.factor(sp.simplify(S))
    elif q == "beta_at_warmup":
        value = sp.simplify(beta_t.subs(t, T0))
    elif q == "beta_limit":
        value = sp.simplify(sp.limit(beta_t, t, sp.oo))
    else:
        raise DerivationError(f"amuse_schedule: unknown quantity {q!r}")
    return Derived(claim.name, "amuse_schedule", value, {"S": S, "beta_t": beta_t})


def _preconditioned_threshold(card: Card, claim: Identity) -> Derived:
    from theory.derive.linear import critical_threshold
    from theory.derive.maps import iteration_matrix
    param = claim.arguments.get("param")
    matrix = iteration_matrix(card.state, card.mode_update, card.branch)
    others = [s for s in card.symbols if s in matrix.free_symbols and s != param]
    assumptions = [a for a in card.assumptions if a.free_symbols <= set(others)]
    res = critical_threshold(matrix, param, others=others, assumptions=assumptions, sample=dict(card.sample))
    return Derived(claim.name, "sf_preconditioned_threshold", res.value, {"matrix": matrix})


DERIVATIONS: dict = {
    "sf_online_average": _online_average,
    "sf_average_weights": _weights,
    "sf_averaging_exponent": _exponent,
    "sf_online_average_schedule": _online_schedule,
    "sf_step_image": _step_image,
    "sf_stationary_variance": _stationary,
    "amuse_schedule": _amuse,
    "sf_preconditioned_threshold": _preconditioned_threshold,
}
