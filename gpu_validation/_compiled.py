"""A card's update rule compiled from SymPy to torch: the expression the engines analyse, run.

``compile_rule(card)`` walks the card's ``update`` (after common-subexpression elimination) once
and returns a ``Rule`` whose ``step`` maps a state (a dict of (B, d) tensors, one row per run) to
the next one. Names resolve as follows: a state variable is its tensor; any other parameter is a
(B, 1) tensor of ``hp`` (so one batch holds a grid of step sizes); ``grad(v)`` is the oracle's
gradient at ``v`` (torch autograd of the loss); ``precond(v)`` is ``v / P``; ``norm(v)`` the row
norm (B, 1); ``sign``, ``Abs``, ``sqrt``, ``exp``, ``log``, ``tanh``, ``Max`` and ``Min``
are elementwise; a zeroth-order card's estimator symbol is the oracle's finite-difference
estimate at the estimator's point. Products of vectors are elementwise (coordinate-wise methods).
Nothing is evaluated from text: the tree is SymPy's, built by the card or the whitelist parser.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import sympy as sp
import torch

from theory import Card, InputError
from theory._oracle import grad as GRAD, norm as NORM, precond as PRECOND

Tensor = torch.Tensor


class Oracle:
    """What a rule may query: the loss's gradient (autograd), P^{-1}, a ZO estimate."""

    def __init__(self, loss: Callable[[Tensor], Tensor], precond: Tensor | None = None,
                 estimate: Callable[[Tensor], Tensor] | None = None):
        self.loss, self._precond, self._estimate = loss, precond, estimate
        self.calls = 0

    def grad(self, v: Tensor) -> Tensor:
        """Per-row gradient of the loss at ``v`` (rows are independent runs: grad of the sum)."""
        self.calls += 1
        with torch.enable_grad():
            w = v.detach().requires_grad_(True)
            (g,) = torch.autograd.grad(self.loss(w).sum(), w)
        return g

    def precond(self, v: Tensor) -> Tensor:
        if self._precond is None:
            raise InputError("the rule uses precond(.), but the problem has no preconditioner")
        return v / self._precond

    def estimate(self, v: Tensor) -> Tensor:
        if self._estimate is None:
            raise InputError("the rule uses a gradient estimate, but the oracle has no estimator")
        return self._estimate(v)


@dataclass(frozen=True)
class Rule:
    """The compiled update: ``step(state, oracle, hp)``; ``init(x0)`` the starting state."""
    card: str
    state: tuple[str, ...]
    params: tuple[str, ...]
    copies: Mapping[str, str]            # x_prev <- x: starts equal to its source
    program: tuple[tuple[str, Callable], ...]
    outputs: tuple[Callable, ...]
    uses_precond: bool
    estimator: Callable | None           # the point of a ZO estimate, or None

    def init(self, x0: Tensor) -> dict[str, Tensor]:
        """The iterate (the first state variable) starts at ``x0``; a variable updated as a copy of
        another starts as that copy; every other variable starts at 0."""
        out = {self.state[0]: x0.clone()}
        for name in self.state[1:]:
            src = self.copies.get(name)
            out[name] = out[src].clone() if src in out else torch.zeros_like(x0)
        return out

    def step(self, state: Mapping[str, Tensor], oracle: Oracle, hp: Mapping[str, object]) -> dict[str, Tensor]:
        env: dict[str, object] = dict(hp)
        env.update(state)
        env["__ref__"] = state[self.state[0]]  # the shape grad(.) arguments are broadcast to
        if self.estimator is not None:
            env["__estimate__"] = oracle.estimate(_as_state(self.estimator(env, oracle), env["__ref__"]))
        for name, fn in self.program:
            env[name] = fn(env, oracle)
        ref = state[self.state[0]]
        return {name: _as_state(fn(env, oracle), ref) for name, fn in zip(self.state, self.outputs)}


def _as_state(value, ref: Tensor) -> Tensor:
    if isinstance(value, torch.Tensor) and value.shape == ref.shape:
        return value
    return torch.as_tensor(value, dtype=ref.dtype, device=ref.device).expand_as(ref).clone()


_ELEMENTWISE: dict[type, Callable] = {
    sp.sign: torch.sign, sp.Abs: torch.abs, sp.exp: torch.exp, sp.log: torch.log, sp.tanh: torch.tanh,
    sp.cosh: torch.cosh, sp.sinh: torch.sinh, sp.cos: torch.cos, sp.sin: torch.sin,
}


def _t(v):
    return v if isinstance(v, torch.Tensor) else torch.tensor(float(v), dtype=torch.float64)


def _compile(expr: sp.Basic, names: Mapping[sp.Symbol, str], card_id: str) -> Callable:
    """A closure env, oracle -> value for ``expr`` (tree walk; unsupported nodes are an InputError)."""
    if isinstance(expr, sp.Symbol):
        if expr not in names:
            raise InputError(f"card {card_id}: the simulation cannot bind {expr} (not a state variable or "
                             "parameter of the rule)")
        key = names[expr]
        return lambda env, o: env[key]
    if expr.is_Number or expr in (sp.pi, sp.E):
        value = float(expr)
        if not math.isfinite(value):
            raise InputError(f"card {card_id}: the update has a non-finite constant {expr}")
        return lambda env, o: value
    args = [_compile(a, names, card_id) for a in expr.args]
    if isinstance(expr, sp.Add):
        def add(env, o):
            out = args[0](env, o)
            for a in args[1:]:
                out = out + a(env, o)
            return out
        return add
    if isinstance(expr, sp.Mul):
        def mul(env, o):
            out = args[0](env, o)
            for a in args[1:]:
                out = out * a(env, o)
            return out
        return mul
    if isinstance(expr, sp.Pow):
        base, exp = args
        e = expr.exp
        if e == sp.Rational(1, 2):
            return lambda env, o: torch.sqrt(_t(base(env, o)))
        if e == -1:
            return lambda env, o: 1.0 / base(env, o)
        if e.is_Integer:
            k = int(e)
            return lambda env, o: base(env, o) ** k
        return lambda env, o: torch.pow(_t(base(env, o)), _t(exp(env, o)))
    if expr.func == GRAD:
        (a,) = args
        return lambda env, o: o.grad(_state_like(a(env, o), env))
    if expr.func == PRECOND:
        (a,) = args
        return lambda env, o: o.precond(a(env, o))
    if expr.func == NORM:
        (a,) = args
        return lambda env, o: torch.linalg.vector_norm(_t(a(env, o)), dim=-1, keepdim=True)
    if isinstance(expr, (sp.Max, sp.Min)):
        fold = torch.maximum if isinstance(expr, sp.Max) else torch.minimum

        def extremum(env, o):
            out = _t(args[0](env, o))
            for a in args[1:]:
                out = fold(out, _t(a(env, o)))
            return out
        return extremum
    for kind, fn in _ELEMENTWISE.items():
        if isinstance(expr, kind):
            (a,) = args
            return lambda env, o, fn=fn: fn(_t(a(env, o)))
    raise InputError(f"card {card_id}: the simulation cannot compile {type(expr).__name__} in the update "
                     f"({sp.sstr(expr)[:80]}); supported: + - * / powers, grad, precond, norm, sign, Abs, sqrt, "
                     "exp, log, tanh, Max, Min")


def _state_like(value, env) -> Tensor:
    return _as_state(value, env["__ref__"])


def compile_rule(card: Card) -> Rule:
    """Compile ``card.update`` (the card's own rule) to a batched torch step."""
    if not card.state:
        raise InputError(f"card {card.id} has no update rule to simulate")
    lam = card.eigenvalue
    if lam is not None and any(lam in e.free_symbols for e in card.update):
        raise InputError(f"card {card.id}: the update uses the eigenvalue {lam} directly; write the gradient as "
                         f"grad(v) (the per-mode analysis substitutes {lam}*v) so the simulation can run the rule")
    est = card.estimator
    names: dict[sp.Symbol, str] = {s: s.name for s in card.state}
    names.update({s: s.name for s in card.symbols})
    estimator = _compile(est.at, names, card.id) if est is not None else None  # the point: state, params
    if est is not None:
        names[est.symbol] = "__estimate__"
    replacements, reduced = sp.cse(list(card.update), symbols=sp.numbered_symbols("_cse"))
    program = []
    for sym, sub in replacements:
        names[sym] = sym.name
        program.append((sym.name, _compile(sub, names, card.id)))
    outputs = tuple(_compile(e, names, card.id) for e in reduced)
    used = set().union(*(e.free_symbols for e in (*card.update, *([est.at] if est else [])))) - set(card.state) - ({est.symbol} if est else set())
    params = tuple(s.name for s in card.symbols if s in used)
    copies = {s.name: e.name for s, e in zip(card.state, card.update) if isinstance(e, sp.Symbol) and e in card.state}
    uses_pre = any(e.atoms(PRECOND) for e in card.update)
    return Rule(card.id, tuple(s.name for s in card.state), params, copies, tuple(program), outputs, uses_pre,
                estimator)
