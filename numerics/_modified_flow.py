"""Modified flows, checked numerically: the claimed field at random points of concrete losses, and
the error order of the discrete steps against the claimed flow, measured.

The concrete losses are smooth test functions in 2-4 dimensions (a random quadratic, a quartic and
a sine term, from a seed). The card's update rule and the claimed field are read here with their
own small interpreter (SymPy on the concrete loss, then NumPy), not with the engine's series
arithmetic; the flow is integrated by SciPy's DOP853 at rtol 1e-13.

Error order. A method with one state variable: the local error |step_h(x0) - flow_h(x0)| over
h0 / 2^j, j = 0..3; a field exact to order k in the step has slope k + 2, the plain gradient flow
slope 2. A method with more state (momentum, moments) starts on the claimed flow's history: the
auxiliary state is run along the flow's points before t = 0 (from its zero-step value), then the
global error at a fixed horizon has slope k + 1, the plain flow slope 1.
"""
from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import sympy as sp
from scipy.integrate import solve_ivp

from numerics._result import CheckResult
from theory import Card
from theory._card import ModifiedFlow
from theory._oracle import batches, d3, grad, hvp, loss, norm

SLOPE_TOL = 0.15
RTOL_POINTS = 1e-9


def smooth_test_loss(d: int, seed: int) -> tuple[tuple[sp.Symbol, ...], sp.Expr]:
    """A smooth test loss on R^d: a random positive-definite quadratic, a quartic and a sine term."""
    rng = np.random.default_rng(seed)
    th = tuple(sp.Symbol(f"t{i}", real=True) for i in range(d))
    q = rng.normal(size=(d, d))
    a = q @ q.T / d + 0.5 * np.eye(d)
    expr = sum(sp.Rational(round(a[i, j] * 1000), 2000) * th[i] * th[j] for i in range(d) for j in range(d))
    expr += sp.Rational(round(rng.uniform(0.1, 0.4) * 1000), 4000) * th[0] ** 4
    expr += sp.Rational(round(rng.uniform(0.1, 0.4) * 1000), 1000) * sp.sin(
        sum(sp.Rational(round(rng.normal() * 100), 100) * t for t in th) + sp.Rational(round(rng.normal() * 100), 100))
    if d > 1:
        expr += sp.Rational(round(rng.uniform(-0.3, 0.3) * 1000), 1000) * th[0] ** 2 * th[1]
    return th, expr


def minibatch_losses(coords, expr, m: int, seed: int) -> list[sp.Expr]:
    """m minibatch losses whose mean is ``expr``: expr plus smooth perturbations (a random quadratic
    and a sine each) with zero mean over the minibatches."""
    rng = np.random.default_rng(seed + 7919)
    d = len(coords)
    bumps = []
    for _ in range(m):
        q = rng.normal(size=(d, d))
        bump = sum(sp.Rational(round(q[i, j] * 300), 1000) * coords[i] * coords[j] for i in range(d) for j in range(d))
        bump += sp.Rational(round(rng.uniform(0.1, 0.4) * 1000), 1000) * sp.sin(
            sum(sp.Rational(round(rng.normal() * 100), 100) * t for t in coords) + sp.Rational(round(rng.normal() * 100), 100))
        bump += sum(sp.Rational(round(rng.normal() * 500), 1000) * t for t in coords)
        bumps.append(bump)
    mean = sp.Add(*bumps) / m
    return [expr + b - mean for b in bumps]


def concrete_for(card: Card, d: int, seed: int) -> "Concrete":
    """The concrete test loss of a card's checks (with minibatch losses for a minibatch rule)."""
    coords, expr = smooth_test_loss(d, seed)
    used = batches(card.update)
    return Concrete(coords, expr, minibatch_losses(coords, expr, max(used), seed) if used else ())


class Concrete:
    """Update rules and claims on one concrete loss, as SymPy expressions in its coordinates
    (``parts``: the minibatch losses of a minibatch rule, whose mean is the loss)."""

    def __init__(self, coords, expr, parts=()):
        self.coords, self.L = coords, expr
        self.parts = [(p, [sp.diff(p, c) for c in coords]) for p in parts]
        self.g = [sp.diff(expr, c) for c in coords]
        self.H = [[sp.diff(gi, c) for c in coords] for gi in self.g]
        self.T = [[[sp.diff(hij, c) for c in coords] for hij in row] for row in self.H]

    def _at(self, exprs, point):
        sub = dict(zip(self.coords, point))
        return [e.xreplace(sub) for e in exprs]

    def value(self, e, env: Mapping):
        if e in env:
            return env[e]
        if isinstance(e, sp.Symbol) or e.is_Number or e.is_NumberSymbol:
            return e
        if isinstance(e, (sp.Add, sp.Mul)):
            vals = [self.value(a, env) for a in e.args]
            op = (lambda p, q: p + q) if isinstance(e, sp.Add) else (lambda p, q: p * q)
            out = vals[0]
            for v in vals[1:]:
                out = _zip(out, v, op)
            return out
        if isinstance(e, sp.Pow):
            base, ex = self.value(e.base, env), self.value(e.exp, env)
            return _zip(base, ex, lambda p, q: p ** q)
        n = len(self.coords)
        if isinstance(e, grad):
            g = self.g if len(e.args) == 1 else self.parts[int(e.args[1]) - 1][1]
            return self._at(g, self.value(e.args[0], env))
        if isinstance(e, loss):
            ell = self.L if len(e.args) == 1 else self.parts[int(e.args[1]) - 1][0]
            return self._at([ell], self.value(e.args[0], env))[0]
        if isinstance(e, hvp):
            point, u = self.value(e.args[0], env), self.value(e.args[1], env)
            rows = [self._at(r, point) for r in self.H]
            return [sum(rows[j][i] * u[i] for i in range(n)) for j in range(n)]
        if isinstance(e, d3):
            point, u, w = (self.value(a, env) for a in e.args)
            return [sum(self._at([self.T[j][i][k]], point)[0] * u[i] * w[k] for i in range(n) for k in range(n))
                    for j in range(n)]
        if isinstance(e, norm):
            v = self.value(e.args[0], env)
            return sp.sqrt(sum(c ** 2 for c in v))
        if isinstance(e, sp.Function) and len(e.args) == 1:
            inner = self.value(e.args[0], env)
            return [e.func(c) for c in inner] if isinstance(inner, list) else e.func(inner)
        raise ValueError(f"{e}: not supported on a concrete loss")


def _zip(a, b, op):
    if isinstance(a, list) and isinstance(b, list):
        return [op(p, q) for p, q in zip(a, b)]
    if isinstance(a, list):
        return [op(p, b) for p in a]
    if isinstance(b, list):
        return [op(a, q) for q in b]
    return op(a, b)


def _vector_symbols(name: str, d: int) -> list[sp.Symbol]:
    return [sp.Symbol(f"{name}__{i}", real=True) for i in range(d)]


_NUMPY_FUNCTIONS = {"sin": np.sin, "cos": np.cos, "exp": np.exp, "log": np.log, "tanh": np.tanh, "sqrt": np.sqrt,
                    "sign": np.sign, "Abs": np.abs, "cosh": np.cosh, "sinh": np.sinh, "atan": np.arctan}


def compiled_step(card: Card, conc: Concrete, params: Mapping[sp.Symbol, float]):
    """The card's update rule on the concrete loss: (state vectors) -> next state vectors (NumPy).

    The rule's expression tree is interpreted numerically (an oracle call evaluates the concrete
    loss's compiled gradient at the numeric point), so nested calls (an epoch of minibatch steps,
    SAM's ascent point) cost one gradient each, never a symbolic composition."""
    coords = list(conc.coords)
    grads = {None: sp.lambdify(coords, conc.g, "numpy")}
    losses = {None: sp.lambdify(coords, conc.L, "numpy")}
    for k, (part, g) in enumerate(conc.parts, start=1):
        grads[k], losses[k] = sp.lambdify(coords, g, "numpy"), sp.lambdify(coords, part, "numpy")
    values = {p: float(v) for p, v in params.items()}

    def ev(e, env, memo):
        if e in env:
            return env[e]
        if e in memo:
            return memo[e]
        if isinstance(e, sp.Symbol):
            if e not in values:
                raise ValueError(f"the update rule needs a value for {e}")
            out = values[e]
        elif e.is_Number or e.is_NumberSymbol:
            out = float(e)
        elif isinstance(e, sp.Add):
            out = sum((ev(a, env, memo) for a in e.args[1:]), ev(e.args[0], env, memo))
        elif isinstance(e, sp.Mul):
            out = ev(e.args[0], env, memo)
            for a in e.args[1:]:
                out = out * ev(a, env, memo)
        elif isinstance(e, sp.Pow):
            out = np.power(ev(e.base, env, memo), ev(e.exp, env, memo))
        elif isinstance(e, (grad, loss)):
            point = np.asarray(ev(e.args[0], env, memo), dtype=float)
            k = int(e.args[1]) if len(e.args) == 2 else None
            fn = (grads if isinstance(e, grad) else losses)[k]
            out = np.asarray(fn(*point), dtype=float) if isinstance(e, grad) else float(fn(*point))
        elif isinstance(e, norm):
            out = float(np.linalg.norm(ev(e.args[0], env, memo)))
        elif isinstance(e, sp.Function) and len(e.args) == 1 and type(e).__name__ in _NUMPY_FUNCTIONS:
            out = _NUMPY_FUNCTIONS[type(e).__name__](ev(e.args[0], env, memo))
        else:
            raise ValueError(f"{e}: not supported on a concrete loss")
        memo[e] = out
        return out

    d = len(coords)

    def step(state: list[np.ndarray]) -> list[np.ndarray]:
        env = {s: np.asarray(v, dtype=float) for s, v in zip(card.state, state)}
        memo: dict = {}
        return [np.broadcast_to(np.asarray(ev(u, env, memo), dtype=float), (d,)).copy() for u in card.update]
    return step


def compiled_field(claim: ModifiedFlow, x: sp.Symbol, conc: Concrete, params: Mapping[sp.Symbol, float],
                   plain: bool = False):
    """The claimed field F(theta) on the concrete loss (NumPy); ``plain``: its zero-step part
    instead (the step and the small parameters set to 0: for a modified loss the gradient flow
    -speed * grad L, for Adam the memoryless flow -g/sqrt(g^2 + eps)), the baseline whose error
    order is lower."""
    th = list(conc.coords)
    if plain:
        params = {**params, claim.step: 0.0, **{s: 0.0 for s in claim.small}}
    env = {x: th, **{p: sp.Float(v) for p, v in params.items()}}
    speed = sp.S(claim.speed).xreplace(env)
    if plain and claim.flow is None:
        comps = [-speed * gi for gi in conc.g]
    elif claim.flow is not None:
        comps = conc.value(claim.flow, env)
    else:
        ell = conc.value(claim.loss, env)
        comps = [-speed * sp.diff(ell, c) for c in th]
    fn = sp.lambdify(th, comps, "numpy")
    return lambda theta: np.asarray(fn(*theta), dtype=float)


def _flow_points(field, x0, h, n):
    """The flow's points at t = 0, h, ..., n h (one DOP853 integration, rtol 1e-13, dense output)."""
    ts = h * np.arange(n + 1)
    sol = solve_ivp(lambda _t, y: field(y), (0.0, ts[-1]), x0, method="DOP853", rtol=1e-13, atol=1e-15, t_eval=ts)
    if not sol.success:
        raise FloatingPointError(sol.message)
    return [sol.y[:, j] for j in range(n + 1)]


def _flow(field, x0, t):
    sol = solve_ivp(lambda _t, y: field(y), (0.0, t), x0, method="DOP853", rtol=1e-13, atol=1e-15)
    if not sol.success:
        raise FloatingPointError(sol.message)
    return sol.y[:, -1]


def slope(hs, errors) -> float:
    return float(np.polyfit(np.log(hs), np.log(errors), 1)[0])


def error_order(card: Card, claim: ModifiedFlow, params: Mapping[sp.Symbol, float], d: int, seed: int,
                aux_start=None, h0: float | None = None, horizon: float = 0.5, history: int = 50) -> dict:
    """Measured error slopes of the discrete steps against the claimed flow and the plain flow."""
    conc = concrete_for(card, d, seed)
    coords = conc.coords
    rng = np.random.default_rng(seed + 1)
    x0 = rng.uniform(-0.8, 0.8, size=d)
    x = card.state[0]
    multi = len(card.state) > 1
    base = dict(params)
    speed = float(sp.S(claim.speed).subs(base))
    hess = np.array(sp.lambdify(coords, conc.H, "numpy")(*x0), dtype=float)
    scale = speed * max(1.0, float(np.linalg.norm(hess, 2)))
    if h0 is None:
        # a method with memory (momentum, moment EMAs) is expanded in h / (1 - rho), rho the largest
        # contraction of its state at zero step (heavy ball: beta; Adam: max(beta1, beta2)): the
        # step range starts inside that regime, not only inside the loss's curvature scale
        memory = _memory(card, conc, base, claim.step, x0, aux_start) if multi else 1.0
        h0 = (0.08 / memory if multi else 0.2) / scale
    hs = [h0 / 2 ** j for j in range(4)]
    errors, plain_errors = [], []
    for h in hs:
        at = {**base, claim.step: h, **{s: float(r) * h for s, r in claim.small.items()}}
        step = compiled_step(card, conc, at)
        field = compiled_field(claim, x, conc, at)
        gf = compiled_field(claim, x, conc, at, plain=True)
        if not multi:
            (one,) = step([x0])
            errors.append(float(np.linalg.norm(one - _flow(field, x0, h))))
            plain_errors.append(float(np.linalg.norm(one - _flow(gf, x0, h))))
            continue
        n = int(round(horizon / h))
        warm = max(history, math.ceil(1.0 / h))
        out = []
        for f in (field, gf):
            # the auxiliary state run along the flow's own points (from its zero-step value), so the
            # method starts on its slow manifold; then the method and the flow from the last point
            path = _flow_points(f, x0, h, warm)
            state = [path[0]] + [np.asarray(a(path[0]), dtype=float) for a in aux_start]
            for j in range(warm):
                state = [path[j + 1]] + step(state)[1:]
            start = state[0].copy()
            for _ in range(n):
                state = step(state)
            out.append(float(np.linalg.norm(state[0] - _flow(f, start, n * h))))
        errors.append(out[0])
        plain_errors.append(out[1])
    expected = claim.order + (1 if multi else 2)
    return {"h": hs, "errors": errors, "plain_errors": plain_errors, "slope": slope(hs, errors),
            "plain_slope": slope(hs, plain_errors), "expected": expected, "dimension": d,
            "kind": "global, fixed horizon" if multi else "local, one step"}


def _memory(card: Card, conc: Concrete, params, step_symbol, x0, aux_start) -> float:
    """1 / (1 - rho): rho the largest modulus among the zero-step map's Jacobian eigenvalues other
    than the position's 1s, by central differences at (x0, the slow manifold's zero-step state)."""
    step = compiled_step(card, conc, {**params, step_symbol: 0.0})
    state = [np.asarray(x0, dtype=float)] + [np.asarray(a(x0), dtype=float) for a in (aux_start or [])]
    if len(state) != len(card.state):
        return 1.0
    flat = np.concatenate(state)
    sizes = [len(s) for s in state]

    def f(z):
        parts = np.split(z, np.cumsum(sizes)[:-1])
        return np.concatenate(step(list(parts)))
    eps = 1e-6
    J = np.empty((flat.size, flat.size))
    for i in range(flat.size):
        e = np.zeros_like(flat)
        e[i] = eps
        J[:, i] = (f(flat + e) - f(flat - e)) / (2 * eps)
    moduli = sorted(np.abs(np.linalg.eigvals(J)))
    rest = moduli[:flat.size - len(x0)]  # the position's d unit eigenvalues are the largest
    rho = max(rest) if rest else 0.0
    return 1.0 / max(1.0 - min(rho, 0.999), 1e-3)


def _concretise(exprs, coords, L, conc: Concrete, parts=()) -> list[sp.Expr]:
    """Engine expressions (in the generic loss L of the engine's coordinates, or its generic
    minibatch losses ``parts``) on a concrete loss of the same dimension, in the concrete coordinates."""
    if len(coords) != len(conc.coords):
        raise ValueError("the concrete loss must have the engine's dimension")
    to_engine = dict(zip(conc.coords, coords))
    pairs = [(Lk, ck.xreplace(to_engine)) for Lk, (ck, _) in zip(parts, conc.parts)] if parts else \
        [(L, conc.L.xreplace(to_engine))]
    back = dict(zip(coords, conc.coords))
    out = []
    for e in exprs:
        e = sp.S(e)
        for generic, concrete in pairs:
            e = e.subs(generic, concrete)
        out.append(e.doit().xreplace(back))
    return out


def checks(card: Card, claim: ModifiedFlow, derived, examples: int, seed: int, count: int) -> list[CheckResult]:
    from numerics._check import _search
    from numerics._strategies import points
    details = derived.details
    out = []
    bad = [k for k, ok in enumerate(details["agrees"]) if not ok]
    out.append(CheckResult("symbolic", not bad,
                           "derived field = claimed field at every order (generic loss, d = "
                           f"{len(details['coords'])}, simplify(a - b) == 0)" if not bad else
                           f"derived and claimed field differ at order {bad[0]} (step^{bad[0]})", claim.name,
                           route="symbolic"))
    # random points: the difference on concrete losses, searched by hypothesis (a counterexample shrinks)
    coords, L = details["coords"], details["L"]
    d = len(coords)
    conc = concrete_for(card, d, seed)
    diffs = []
    for k in range(claim.order + 1):
        diffs += [sp.expand(a - b) for a, b in zip(details["field"][k], details["claimed"][k])]
    parts = details.get("batches", ())
    concrete = _concretise(diffs, coords, L, conc, parts)
    scale_exprs = _concretise([c for k in range(claim.order + 1) for c in details["field"][k]], coords, L, conc, parts)
    params = [s for s in card.symbols if any(s in e.free_symbols for e in concrete + scale_exprs)]
    fn = sp.lambdify(list(conc.coords) + params, concrete, "numpy")
    size = sp.lambdify(list(conc.coords) + params, scale_exprs, "numpy")
    import hypothesis.strategies as st
    strategy = st.tuples(st.lists(st.floats(-1.0, 1.0), min_size=d, max_size=d), points(card, params))

    def fails(sample) -> bool:
        theta, point = sample
        args = list(theta) + [point[p] for p in params]
        with np.errstate(all="ignore"):
            gap = np.abs(np.asarray(fn(*args), dtype=float))
            ref = np.abs(np.asarray(size(*args), dtype=float))
        if not np.all(np.isfinite(gap)):
            return False
        return bool(np.max(gap) > RTOL_POINTS * max(1.0, float(np.max(ref))))
    found = _search(strategy, fails, examples, seed)
    example = found.found
    ok = example is None and found.valid >= found.minimum
    out.append(CheckResult(
        "random_points", ok,
        (f"derived = claimed field to {RTOL_POINTS:g} at {found.valid} random (theta, parameter) points of a "
         f"concrete test loss in {d} dimensions") if ok else
        (f"derived and claimed field differ at theta = {list(example[0])}, "
         f"{ {p.name: v for p, v in example[1].items()} } (shrunk)" if example is not None else
         f"inconclusive: only {found.valid} valid points of {found.asked} asked for; not a pass"),
        claim.name, {"theta": list(example[0]), **{p.name: v for p, v in example[1].items()}, "shrunk": True}
        if example is not None else None, route="hypothesis_points", examples=found.valid,
        inconclusive=example is None and not ok))
    out.append(_quadratic_check(card, claim, seed, count))
    out.append(_order_check(card, claim, derived, seed))
    return out


def _quadratic_check(card: Card, claim: ModifiedFlow, seed: int, count: int) -> CheckResult:
    """The claim on a quadratic mode L = lambda X^2 / 2 against the exact flow r = log(z)/h of the
    per-mode iteration (z its root that tends to 1), order by order: symbolically and at random
    parameter points."""
    from theory.derive.modified_flow import ModifiedField, claimed_field, generic_loss, quadratic_rates
    lam = card.eigenvalue
    if batches(card.update):
        return CheckResult("quadratic_exact", None, "a minibatch rule: minibatch quadratics with their own "
                           "curvature have no single per-mode exact flow to compare with", claim.name,
                           route="quadratic_exact")
    rates = quadratic_rates(card.state, card.mode_update, claim.step, claim.order, tuple(claim.small))
    if rates is None or lam is None:
        return CheckResult("quadratic_exact", None, "the per-mode rule is not linear in the state (e.g. SAM's "
                           "normalised step): no linear exact flow on a quadratic to compare with", claim.name,
                           route="quadratic_exact")
    coords, L = generic_loss(1)
    mf = ModifiedField(coords, L, (), {}, claim.step, tuple(claim.small))
    claimed = claimed_field(claim, card.state[0], mf)
    quad = lam * coords[0] ** 2 / 2
    per_mode = [sp.simplify(sp.S(f[0]).subs(L, quad).doit() / coords[0]) for f in claimed]
    gaps = [sp.simplify(a - b) for a, b in zip(per_mode, rates)]
    bad = [k for k, gap in enumerate(gaps) if gap != 0]
    free = sorted(set().union(*(sp.S(g).free_symbols for g in per_mode + rates)), key=str)
    rng = np.random.default_rng(seed)
    worst = 0.0
    fns = [sp.lambdify(free, [a, b], "numpy") for a, b in zip(per_mode, rates)]
    for _ in range(count):
        point = {str(sym): float(rng.uniform(0.05, 0.9)) for sym in free}
        for fn in fns:
            a, b = fn(*point.values())
            worst = max(worst, abs(a - b) / max(1.0, abs(b)))
    ok = not bad and worst <= RTOL_POINTS
    rate_text = ", ".join(f"r_{k} = {sp.sstr(r)}" for k, r in enumerate(rates))
    return CheckResult("quadratic_exact", ok,
                       (f"on L = {lam} x^2/2 the claimed field equals the exact flow log(z)/{claim.step} order by order "
                        f"({rate_text}; at {count} random points within {worst:.1e})") if ok else
                       (f"on L = {lam} x^2/2 the claimed field differs from the exact flow at order "
                        f"{bad[0] if bad else '?'}: claimed {sp.sstr(per_mode[bad[0]] if bad else per_mode)}, exact "
                        f"{sp.sstr(rates[bad[0]] if bad else rates)} (worst gap {worst:.2e})"),
                       claim.name, route="quadratic_exact", examples=count)


def _order_check(card: Card, claim: ModifiedFlow, derived, seed: int) -> CheckResult:
    import random

    from numerics._strategies import sampling_range
    rng = random.Random(seed)
    params = {}
    used = set().union(*(sp.S(u).free_symbols for u in card.update)) | claim.claimed.free_symbols | claim.speed.free_symbols
    for s in card.symbols:
        if s == claim.step or s in claim.small or s not in used:
            continue
        lo, hi, _ = sampling_range(s, list(card.assumptions), card.sample)
        lo, hi = max(lo, -1e3), min(hi, 1e3)
        params[s] = lo + (hi - lo) * (0.3 + 0.4 * rng.random())
    rows, failed, last = [], [], None
    for d in (2, 3):
        aux = []
        if len(card.state) > 1:
            conc = concrete_for(card, d, seed + d)
            details = derived.details
            aux = [_zero_step(details["slow"][a][0][0], details["coords"], details["L"], conc, params)
                   for a in card.state[1:]]
        try:
            m = error_order(card, claim, params, d, seed + d, aux_start=aux)
        except (FloatingPointError, ValueError, ArithmeticError) as exc:
            return CheckResult("error_order", False, f"the order test could not run: {exc}", claim.name,
                               route="error_order", inconclusive=True)
        good = abs(m["slope"] - m["expected"]) <= SLOPE_TOL and m["plain_slope"] <= m["expected"] - 1 + SLOPE_TOL
        rows.append(f"d={d}: slope {m['slope']:.2f} (plain flow {m['plain_slope']:.2f}), errors "
                    + ", ".join(f"{e:.2e}" for e in m["errors"]))
        if not good:
            failed.append(d)
        last = m
    detail = (f"{last['kind']} error at h = h0/2^j, j = 0..3: expected slope {last['expected']} +- {SLOPE_TOL}, "
              f"the plain flow's at most {last['expected'] - 1}; " + "; ".join(rows)
              + f" (parameters {', '.join(f'{k}={v:.3g}' for k, v in params.items()) or 'none'})")
    return CheckResult("error_order", not failed, detail, claim.name, route="error_order", examples=8)


def _zero_step(component, coords, L, conc: Concrete, params):
    """The engine's zero-step auxiliary value (first coordinate of its 2-D form, e.g. m = dL/dX1,
    v = (dL/dX1)^2, x_prev = X1) as the rule for every coordinate of a concrete loss in any
    dimension; one that couples coordinates is refused (the order test then cannot start)."""
    e0 = sp.S(component)
    if any(c in e0.free_symbols for c in coords[1:]) or any(
            v != coords[0] for a in e0.atoms(sp.Derivative) for v in a.variables):
        raise ValueError("the zero-step auxiliary state couples coordinates")
    funcs = []
    for j in range(len(conc.coords)):
        val = e0.replace(lambda a: isinstance(a, sp.Derivative) and a.expr == L,
                         lambda a, j=j: sp.diff(conc.L, *([conc.coords[j]] * len(a.variables))))
        val = val.xreplace({coords[0]: conc.coords[j], **{p: sp.Float(v) for p, v in params.items()}})
        funcs.append(val)
    fn = sp.lambdify(conc.coords, funcs, "numpy")
    return lambda theta: np.asarray(fn(*theta), dtype=float)
