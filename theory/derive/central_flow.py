"""Central flows (Cohen, Damian, Talwalkar, Kolter, Lee, arXiv:2410.24206): the oscillation variance
sigma^2 derived from the condition that the sharpness stays at 2/eta (pure SymPy).

Vocabulary (the claim's ``flow`` argument, in the oracle's words): ``grad(w)`` is the loss gradient
at the centre w, ``grad_sharpness(w)`` the gradient of the sharpness S(w) = lambda_1(H(w)), ``inner``
the Euclidean inner product, products elementwise. The unknown (e.g. ``sigma2``) is a scalar.

Engines (``DERIVATIONS``):

- ``central_flow_sigma``: a generic loss L and a generic sharpness S on R^d (undefined SymPy functions
  of d coordinates; d = 3); the centre moves as w(t) with dw/dt = the claim's ``flow``; SymPy's chain
  rule gives dS/dt = d/dt S(w(t)); ``solve(dS/dt = 0, unknown)`` gives sigma^2, which is then written in
  the card's scalar ``invariants`` (e.g. gLgS = <grad L, grad S>, gS2 = |grad S|^2) by a lex Groebner
  normal form (the component symbols are eliminated; an expression that is not a function of the
  invariants is a ``DerivationError``).
- ``central_flow_rate``: with sigma^2 so solved, d/dt of ``of`` (``"loss"`` or ``"sharpness"``) along
  the flow, in the invariants (the loss: -eta(|g|^2 - <g, s>^2/|s|^2), i.e. -eta |P_perp g|^2).
- ``central_flow_projection``: |dw/dt - target|^2 in the invariants, ``target`` a vector expression in the
  same vocabulary (e.g. -eta P_perp grad L); an exact projection gives 0.
- ``central_flow_time_average``: the ansatz w_t = w + x_t u, x_t = +-sigma (period two, E x = 0,
  E x^2 = sigma^2), u the top Hessian eigenvector: a generic loss on R^2 in the eigenbasis (u = e1, so
  L_11 = S = 2/eta, L_12 = 0), the Taylor expansion of ``quantity`` (``loss`` or ``grad_norm2``) along u
  averaged over +-sigma; the term <grad L, grad S> = <grad L, T[u, u]> is replaced by its value on the
  central flow (-sigma^2 |grad S|^2 / 2, from ``central_flow_sigma``), and the average kept to order
  sigma^2 (a bookkeeping eps: sigma -> eps sigma).
- ``central_flow_toy_path``: the same solve on a concrete loss (the claim's
  ``loss`` in the card's state; ``mode`` the oscillating coordinate): the sharpness on the manifold
  mode = 0 is the Hessian eigenvalue of the mode's unit vector (checked: the loss is even in the mode,
  so that vector is an eigenvector there and dS/dmode = 0), sigma^2 from dS/dt = 0 at S = 2/eta; the path
  integrates the remaining flow (``dsolve``) from ``start`` at time ``time`` (checking that the sharpness
  coordinate is pinned); ``quantity`` = coordinate, sigma or loss (L at the centre) along the path.
- ``scalar_rmsprop_sigma``: scalar RMSProp's central flow (arXiv:2410.24206, part 2 of the site): state
  (w, nu), dw/dt = -(eta/sqrt(nu))[g + sigma^2 s/2], dnu/dt = c(|g|^2 + sigma^2 S^2 - nu); sigma^2 from
  d/dt (eta S / sqrt(nu)) = 0 on the manifold eta S / sqrt(nu) = 2 (a conjecture: the paper's formula
  could not be read).
"""
from __future__ import annotations

from collections.abc import Sequence

import sympy as sp

from theory._card import Card, Identity
from theory._errors import DerivationError
from theory._oracle import grad, norm
from theory.derive._base import Derived

grad_sharpness = sp.Function("grad_sharpness")
inner = sp.Function("inner")
DIMENSION = 3


def generic(d: int = DIMENSION):
    """Coordinates X1..Xd, a generic loss L(X) and a generic sharpness S(X)."""
    X = tuple(sp.Symbol(f"X{i + 1}", real=True) for i in range(d))
    return X, sp.Function("L")(*X), sp.Function("S")(*X)


def _vector(expr: sp.Expr, vectors: dict, d: int) -> list[sp.Expr]:
    """The components of a vector expression: each vector call replaced by its k-th component."""
    expr = sp.S(expr)
    scalars = {}
    for call in expr.atoms(inner):
        a, b = (_vector(arg, vectors, d) for arg in call.args)
        scalars[call] = sum(x * y for x, y in zip(a, b))
    for call in expr.atoms(norm):
        a = _vector(call.args[0], vectors, d)
        scalars[call] = sp.sqrt(sum(x**2 for x in a))
    expr = expr.xreplace(scalars)
    out = []
    for k in range(d):
        out.append(expr.replace(lambda e: e.func in vectors, lambda e: vectors[e.func][k]))
    return out


def _scalar(expr: sp.Expr, vectors: dict, d: int) -> sp.Expr:
    comps = _vector(expr, vectors, d)
    if any(sp.simplify(c - comps[0]) != 0 for c in comps[1:]):
        raise DerivationError(f"{expr} is not a scalar (its components differ)")
    return comps[0]


def in_invariants(expr: sp.Expr, components: Sequence[sp.Symbol],
                  invariants: Sequence[tuple[sp.Symbol, sp.Expr]]) -> sp.Expr:
    """``expr`` (rational in ``components``) written in the invariants: lex Groebner normal forms of
    numerator and denominator, the components ordered first (eliminated)."""
    names = [s for s, _ in invariants]
    gens = (*components, *names)
    basis = sp.groebner([s - e for s, e in invariants], *gens, order="lex")
    num, den = sp.fraction(sp.together(sp.expand(expr)))

    def nf(p):
        return sp.reduced(sp.expand(p), list(basis.exprs), *gens, order="lex")[1]

    num, den = nf(num), nf(den)
    left = (num.free_symbols | den.free_symbols) & set(components)
    if left:
        raise DerivationError(f"{expr} is not a function of the invariants {names} "
                              f"(its normal form still depends on {', '.join(sorted(map(str, left)))})")
    return sp.factor(num / den)


class _Generic:
    """The generic setting of one claim: L, S on R^d, the flow's components, the invariants."""

    def __init__(self, card: Card, claim: Identity, d: int = DIMENSION):
        args = claim.arguments
        for key in ("flow", "unknown", "invariants"):
            if key not in args:
                raise DerivationError(f"card {card.id!r}, claim {claim.name}: give {key}=")
        self.X, self.L, self.S = generic(d)
        self.d = d
        self.unknown = args["unknown"]
        self.gL = [sp.diff(self.L, x) for x in self.X]
        self.gS = [sp.diff(self.S, x) for x in self.X]
        self.vectors = {grad: self.gL, grad_sharpness: self.gS}
        self.flow = _vector(args["flow"], self.vectors, d)
        # component symbols for the invariants' Groebner elimination
        self.comp = {**{a: sp.Symbol(f"l{i + 1}", real=True) for i, a in enumerate(self.gL)},
                     **{a: sp.Symbol(f"s{i + 1}", real=True) for i, a in enumerate(self.gS)}}
        self.invariants = tuple((s, _scalar(e, self.vectors, d).xreplace(self.comp)) for s, e in args["invariants"])

    def rate(self, function: sp.Expr) -> sp.Expr:
        """d/dt function(w(t)) along the flow, by SymPy's chain rule on w(t) = (X1(t), ..., Xd(t))."""
        t = sp.Symbol("t")
        path = {x: sp.Function(f"W{i + 1}")(t) for i, x in enumerate(self.X)}
        total = sp.diff(function.subs(path, simultaneous=True), t)
        velocity = {sp.Derivative(path[x], t): f for x, f in zip(self.X, self.flow)}
        total = total.subs(velocity)
        return sp.expand(total.subs({v: k for k, v in path.items()}))

    def sigma(self) -> sp.Expr:
        sols = sp.solve(sp.Eq(self.rate(self.S), 0), self.unknown)
        if len(sols) != 1:
            raise DerivationError(f"dS/dt = 0 has {len(sols)} solutions for {self.unknown}: {sols}")
        return sols[0]

    def invariant_form(self, expr: sp.Expr) -> sp.Expr:
        return in_invariants(sp.S(expr).xreplace(self.comp), list(self.comp.values()), self.invariants)


def _sigma(card: Card, claim: Identity) -> Derived:
    g = _Generic(card, claim)
    sigma = g.sigma()
    return Derived(claim.name, "central_flow_sigma", g.invariant_form(sigma),
                   {"dS_dt": g.rate(g.S), "sigma_generic": sigma, "dimension": g.d})


def _rate(card: Card, claim: Identity) -> Derived:
    g = _Generic(card, claim)
    of = claim.arguments.get("of", "loss")
    if of not in ("loss", "sharpness"):
        raise DerivationError(f"card {card.id!r}, claim {claim.name}: of= must be 'loss' or 'sharpness'")
    sigma = g.sigma()
    rate = g.rate(g.L if of == "loss" else g.S).subs(g.unknown, sigma)
    return Derived(claim.name, "central_flow_rate", g.invariant_form(sp.together(rate)),
                   {"sigma": g.invariant_form(sigma), "of": of})


def _projection(card: Card, claim: Identity) -> Derived:
    g = _Generic(card, claim)
    if "target" not in claim.arguments:
        raise DerivationError(f"card {card.id!r}, claim {claim.name}: give target=")
    target = _vector(claim.arguments["target"], g.vectors, g.d)
    sigma = g.sigma()
    residual = sum((f.subs(g.unknown, sigma) - t)**2 for f, t in zip(g.flow, target))
    residual = sp.together(sp.expand(residual))
    return Derived(claim.name, "central_flow_projection", sp.simplify(g.invariant_form(residual)),
                   {"sigma": g.invariant_form(sigma)})


def _time_average(card: Card, claim: Identity) -> Derived:
    args = claim.arguments
    missing = [k for k in ("quantity", "sigma", "eta", "names") if k not in args]
    if missing:
        raise DerivationError(f"card {card.id!r}, claim {claim.name}: give {', '.join(missing)}")
    quantity, sig2, eta = args["quantity"], args["sigma"], args["eta"]
    names = dict(args["names"])  # {"loss": Lw, "grad_norm2": gL2, "grad_sharpness_norm2": gS2}
    X, L, _ = generic(2)
    x, eps = sp.symbols("x_osc eps", real=True)
    if quantity == "loss":
        q = L
    elif quantity == "grad_norm2":
        q = sum(sp.diff(L, xi)**2 for xi in X)
    else:
        raise DerivationError(f"quantity must be 'loss' or 'grad_norm2', got {quantity!r}")
    # formal Taylor expansion along u = e1 to second order: q(w + eps x e1) = sum_n (eps x)^n/n! d1^n q
    series = sum((eps * x)**n / sp.factorial(n) * sp.diff(q, X[0], n) for n in range(3))
    sigma = sp.Symbol("sigma", positive=True)
    average = sp.expand((series.subs(x, sigma) + series.subs(x, -sigma)) / 2)
    # every derivative of L as a symbol L_ij..., so that the eigen-relations do not leak into higher ones
    def name(der):
        idx = sorted(X.index(v) + 1 for v, k in der.variable_count for _ in range(k))
        return sp.Symbol("L_" + "".join(map(str, idx)), real=True)
    lam = {der: name(der) for der in average.atoms(sp.Derivative)}
    average = average.xreplace(lam)
    sym = {str(v): v for v in lam.values()}
    get = lambda key: sym.get(key, sp.Symbol(key, real=True))  # noqa: E731
    # the eigenbasis: u = e1 is the top eigenvector, eigenvalue S = 2/eta
    average = average.subs({get("L_11"): 2 / eta, get("L_12"): 0})
    # <grad L, grad S> = <grad L, T[u, u]> = L_1 L_111 + L_2 L_112; on the central flow it is
    # -sigma^2 |grad S|^2 / 2 (central_flow_sigma), one order of sigma^2 higher
    gS2 = names.get("grad_sharpness_norm2", sp.Symbol("gS2", positive=True))
    l1, l2, t111, t112 = get("L_1"), get("L_2"), get("L_111"), get("L_112")
    w = sp.Dummy("w")
    average = sp.expand(average.subs(t111, (w - l2 * t112) / l1))
    average = sp.expand(average.subs(w, -(eps * sigma)**2 * gS2 / 2))
    average = sum(average.coeff(eps, n) * eps**n for n in range(3)).subs(eps, 1)
    average = sp.expand(average.subs(sigma, sp.sqrt(sig2)))
    gL2 = names.get("grad_norm2", sp.Symbol("gL2", positive=True))
    average = average.xreplace({L: names.get("loss", sp.Symbol("Lw"))})
    left = average.free_symbols & (set(lam.values()) - {l1, l2})
    if left:
        raise DerivationError(f"the average still depends on higher derivatives {sorted(map(str, left))}: {average}")
    value = in_invariants(average, [l1, l2], ((gL2, l1**2 + l2**2),))
    return Derived(claim.name, "central_flow_time_average", sp.expand(value), {"quantity": quantity})


# -- a concrete loss (the toy of the notes, section 3.3) -------------------------------------------

def _toy(card: Card, claim: Identity):
    args = claim.arguments
    for key in ("loss", "mode", "eta", "unknown"):
        if key not in args:
            raise DerivationError(f"card {card.id!r}, claim {claim.name}: give {key}=")
    state = tuple(card.state)
    loss, mode, eta, unknown = sp.S(args["loss"]), args["mode"], args["eta"], args["unknown"]
    if mode not in state:
        raise DerivationError(f"mode {mode} is not a state variable")
    if sp.simplify(loss.subs(mode, -mode) - loss) != 0:
        raise DerivationError(f"the loss is not even in {mode}: its sharpness on {mode} = 0 is not smooth there")
    H = sp.hessian(loss, state).subs(mode, 0)
    i = state.index(mode)
    if any(sp.simplify(H[i, j]) != 0 for j in range(len(state)) if j != i):
        raise DerivationError(f"e_{mode} is not a Hessian eigenvector on {mode} = 0")
    S = sp.simplify(H[i, i])
    # the other eigenvalues (the block without the mode) are the stable ones: reported for the card
    others = sp.Matrix(H).copy()
    others.row_del(i)
    others.col_del(i)
    gS = [sp.S.Zero if s == mode else sp.diff(S, s) for s in state]  # dS/dmode = 0 (S is even in the mode)
    gL = [sp.diff(loss, s).subs(mode, 0) for s in state]
    flow = [-eta * (a + unknown / 2 * b) for a, b in zip(gL, gS)]
    rate = sp.expand(sum(b * f for b, f in zip(gS, flow)))
    sols = sp.solve(sp.Eq(rate, 0), unknown)
    if len(sols) != 1:
        raise DerivationError(f"dS/dt = 0 has {len(sols)} solutions for {unknown}")
    # on the edge S = 2/eta: solve for one state variable appearing in S
    pinned = [s for s in state if s != mode and s in S.free_symbols]
    if len(pinned) != 1:
        raise DerivationError(f"the sharpness {S} must depend on exactly one coordinate besides {mode}")
    edge = sp.solve(sp.Eq(S, 2 / eta), pinned[0])
    if len(edge) != 1:
        raise DerivationError(f"S = 2/eta has {len(edge)} solutions for {pinned[0]}")
    on_edge = {pinned[0]: edge[0]}
    sigma = sp.simplify(sols[0].subs(on_edge))
    field = [sp.simplify(f.subs(unknown, sols[0]).subs(on_edge)) for f in flow]
    return state, loss, mode, S, others, sigma, field, pinned[0], on_edge


def _toy_path(card: Card, claim: Identity) -> Derived:
    state, loss, mode, S, others, sigma, field, pinned, on_edge = _toy(card, claim)
    args = claim.arguments
    for key in ("coordinate", "start", "time"):
        if key not in args:
            raise DerivationError(f"card {card.id!r}, claim {claim.name}: give {key}=")
    coord, start, t = args["coordinate"], args["start"], args["time"]
    if sp.simplify(field[state.index(pinned)]) != 0:
        raise DerivationError(f"{pinned} is not pinned by the central flow: d{pinned}/dt = {field[state.index(pinned)]}")
    moving = [s for s in state if s not in (mode, pinned)]
    if moving != [coord]:
        raise DerivationError(f"the path needs exactly one moving coordinate, found {moving}")
    fn = sp.Function("zeta")
    ode = sp.Eq(sp.diff(fn(t), t), field[state.index(coord)].subs(coord, fn(t)))
    sol = sp.dsolve(ode, fn(t), ics={fn(0): start})
    quantity = args.get("quantity", "coordinate")
    path = sp.simplify(sol.rhs)
    if quantity == "coordinate":
        value = path
    elif quantity == "sigma":
        value = sigma.subs(coord, path)
    elif quantity == "loss":
        value = loss.subs(mode, 0).subs(on_edge).subs(coord, path)
    else:
        raise DerivationError(f"quantity must be coordinate, sigma or loss, got {quantity!r}")
    return Derived(claim.name, "central_flow_toy_path", sp.simplify(value), {"ode": ode, "path": path})


# -- scalar RMSProp (conjecture) ---------------------------------------------------------------------

def _rmsprop_sigma(card: Card, claim: Identity) -> Derived:
    args = claim.arguments
    missing = [k for k in ("eta", "c", "unknown", "invariants", "nu", "sharpness") if k not in args]
    if missing:
        raise DerivationError(f"card {card.id!r}, claim {claim.name}: give {', '.join(missing)}")
    eta, c, unknown, nu_s, S_s = args["eta"], args["c"], args["unknown"], args["nu"], args["sharpness"]
    X, L, S = generic()
    t = sp.Symbol("t")
    path = {x: sp.Function(f"W{i + 1}")(t) for i, x in enumerate(X)}
    nu = sp.Function("NU")(t)
    gL = [sp.diff(L, x) for x in X]
    gS = [sp.diff(S, x) for x in X]
    wdot = [-(eta / sp.sqrt(nu)) * (a + unknown / 2 * b) for a, b in zip(gL, gS)]
    nudot = c * (sum(a**2 for a in gL) + unknown * S**2 - nu)
    seff = eta * S.subs(path, simultaneous=True) / sp.sqrt(nu)
    total = sp.diff(seff, t)
    total = total.subs({sp.Derivative(path[x], t): f.subs(path, simultaneous=True) for x, f in zip(X, wdot)})
    total = total.subs(sp.Derivative(nu, t), nudot.subs(path, simultaneous=True))
    total = total.subs({v: k for k, v in path.items()}).subs(nu, nu_s)
    sols = sp.solve(sp.Eq(total, 0), unknown)
    if len(sols) != 1:
        raise DerivationError(f"dS_eff/dt = 0 has {len(sols)} solutions")
    sigma = sols[0]
    comp = {**{a: sp.Symbol(f"l{i + 1}", real=True) for i, a in enumerate(gL)},
            **{a: sp.Symbol(f"s{i + 1}", real=True) for i, a in enumerate(gS)}}
    vectors = {grad: gL, grad_sharpness: gS}
    invariants = tuple((s, _scalar(e, vectors, DIMENSION).xreplace(comp)) for s, e in args["invariants"])
    value = in_invariants(sp.S(sigma).xreplace(comp).subs(S, S_s), list(comp.values()), invariants)
    return Derived(claim.name, "scalar_rmsprop_sigma", value, {"dSeff_dt": total})


DERIVATIONS: dict = {
    "central_flow_sigma": _sigma,
    "central_flow_rate": _rate,
    "central_flow_projection": _projection,
    "central_flow_time_average": _time_average,
    "central_flow_toy_path": _toy_path,
    "scalar_rmsprop_sigma": _rmsprop_sigma,
}
