"""The oracle an update rule is written against (pure SymPy).

A card writes its method once, with these functions standing for what the method queries:

- ``grad(v)``: the gradient of the loss at the point ``v`` (an expression in the state);
- ``precond(v)``: ``P^{-1} v`` for a frozen positive diagonal preconditioner ``P``;
- ``norm(v)``: the Euclidean norm of ``v`` (a scalar per run);
- ``sign(v)``: SymPy's own ``sign``, elementwise;
- ``grad(v, k)``: the gradient of minibatch k's loss L_k (k = 1..m, the loss L the mean of the m
  L_k) for methods that step through minibatches (random reshuffling); ``loss(v, k)`` likewise.

Claims about modified flows (backward error analysis) also use the loss and its higher
derivatives at a point: ``loss(v)``, ``hvp(v, u)`` (the Hessian at v times u) and
``d3(v, u, w)`` (the third-derivative tensor at v applied to u and w). Products and powers of
vectors are elementwise; ``norm`` is the Euclidean norm.

The same expression is used twice. The per-mode analysis (``per_mode``) works in one eigen-mode
of the quadratic f(x) = 1/2 x^T H x: ``grad(v) -> lambda v`` (lambda the card's eigenvalue
symbol), ``norm(v) -> |v|``, and ``precond(v) -> v`` with lambda an eigenvalue of
``P^{-1/2} H P^{-1/2}`` (a linear change of variables, exact for a frozen P). The simulation
compiles the unchanged expression to torch, with ``grad`` from autograd on a real loss.
"""
from __future__ import annotations

from collections.abc import Iterable

import sympy as sp

grad = sp.Function("grad")
precond = sp.Function("precond")
norm = sp.Function("norm")
sign = sp.sign
loss = sp.Function("loss")
hvp = sp.Function("hvp")
d3 = sp.Function("d3")

ORACLE: dict[str, object] = {"grad": grad, "precond": precond, "norm": norm, "sign": sign}
DERIVATIVES: dict[str, object] = {"loss": loss, "hvp": hvp, "d3": d3}  # for modified-flow claims
_CALLS = (grad, precond, norm)


def oracle_calls(exprs: Iterable[sp.Basic]) -> set[sp.Basic]:
    """Every oracle application (``grad(...)``, ``precond(...)``, ``norm(...)``) in ``exprs``."""
    found: set[sp.Basic] = set()
    for e in exprs:
        for f in _CALLS:
            found |= sp.S(e).atoms(f)
    return found


def uses_oracle(exprs: Iterable[sp.Basic]) -> bool:
    return bool(oracle_calls(exprs))


def uses(exprs: Iterable[sp.Basic], function) -> bool:
    return any(sp.S(e).atoms(function) for e in exprs)


def per_mode(expr: sp.Basic, eigenvalue: sp.Symbol | None) -> sp.Expr:
    """The rule in one eigen-mode of a quadratic: grad(v) -> eigenvalue*v, norm(v) -> |v|,
    precond(v) -> v (nested calls included)."""
    expr = sp.S(expr)
    if not oracle_calls([expr]):
        return expr
    if eigenvalue is None:
        raise ValueError("an update written with grad(.) needs the card's eigenvalue symbol")
    # a minibatch gradient grad(v, k) counts as the mode's (the per-mode reading of a minibatch rule
    # assumes the minibatch Hessians share the mode; the modified-flow routes do not use it)
    return expr.replace(grad, lambda v, *k: eigenvalue * v).replace(precond, lambda v: v).replace(
        norm, lambda v: sp.Abs(v))


def batches(exprs: Iterable[sp.Basic]) -> tuple[int, ...]:
    """The minibatch indices k of every ``grad(v, k)`` / ``loss(v, k)`` in ``exprs`` (sorted)."""
    found: set[int] = set()
    for e in exprs:
        for call in sp.S(e).atoms(grad) | sp.S(e).atoms(loss):
            if len(call.args) == 2:
                found.add(int(call.args[1]))
    return tuple(sorted(found))
