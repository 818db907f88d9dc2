"""Symbolic derivations for GD on l(f) with a product model f (l = log cosh): the exact reduction of
the update rule to a map on invariants, and the period-two orbit of the reduced map (pure SymPy).

- ``invariant_reduction``: the image of one invariant (e.g. f = x y) under the card's update rule,
  written in the invariants alone. Derived by a lex Groebner basis of the ideal
  <I_k - i_k(state), constraints>: every non-polynomial atom (tanh(x y), ...) is first replaced by a
  fresh symbol once its argument reduces to the invariants; numerator and denominator are then
  reduced modulo the basis. The reduction is *exact* iff the normal forms are free of the state;
  otherwise the invariants do not close and a ``DerivationError`` says so.
- ``frozen_two_cycle``: the period-two orbit +p -> -p -> +p of the orbit component of the reduced
  map with the slow invariant frozen (the bifurcation diagram of the family f -> Phi(f; K)). Checks
  that Phi is odd in f, solves Phi(p; K) = -p for K, and returns the card's ``coordinate`` (e.g.
  q = 2/(eta K)) on that orbit; with ``limit=eta`` the adiabatic limit eta -> 0 at fixed p.

Arguments (tuples, so that they hash): ``invariants=((F, x*y), (K, x**2 + y**2))``,
``component=F``, ``constraints=(c**2 + s**2 - 1,)`` (extra polynomial relations among parameters,
e.g. a unit input); ``orbit=F, slow=K, amplitude=p, coordinate=2/(eta*K), limit=eta``.
"""
from __future__ import annotations

from collections.abc import Sequence

import sympy as sp

from theory._card import Card, Identity
from theory._errors import DerivationError
from theory.derive._base import Derived


def _pairs(card: Card, claim: Identity) -> tuple[tuple[sp.Symbol, sp.Expr], ...]:
    inv = claim.arguments.get("invariants")
    if not inv or not all(isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], sp.Symbol) for p in inv):
        raise DerivationError(f"card {card.id!r}, claim {claim.name}: give invariants=((SYMBOL, expr), ...)")
    if not card.state:
        raise DerivationError(f"card {card.id!r}: the reduction needs an update map (state/update)")
    return tuple((s, sp.S(e)) for s, e in inv)


def reduce_image(state: Sequence[sp.Symbol], update: Sequence[sp.Expr],
                 invariants: Sequence[tuple[sp.Symbol, sp.Expr]], component: sp.Symbol,
                 constraints: Sequence[sp.Expr] = ()) -> sp.Expr:
    """The image of the invariant ``component`` under ``state -> update``, in the invariants only."""
    state = list(state)
    names = [s for s, _ in invariants]
    if component not in names:
        raise DerivationError(f"component {component} is not one of the invariants {names}")
    extra = sorted(set().union(*(sp.S(c).free_symbols for c in constraints)) - set(state) - set(names), key=str)
    gens = (*state, *extra, *names)
    basis = sp.groebner([s - e for s, e in invariants] + [sp.S(c) for c in constraints], *gens, order="lex")

    def normal_form(expr: sp.Expr) -> sp.Expr:
        return sp.reduced(sp.expand(expr), list(basis.exprs), *gens, order="lex")[1]

    image = dict(invariants)[component].subs(dict(zip(state, update)), simultaneous=True)
    # non-polynomial atoms (tanh(x y), cosh(x y), ...): their arguments must reduce to the invariants
    atoms = sorted((a for a in image.atoms(sp.Function) if a.free_symbols & set(state)), key=sp.default_sort_key)
    forward, back = {}, {}
    for i, atom in enumerate(atoms):
        args = [normal_form(a) for a in atom.args]
        if any(a.free_symbols & set(state) for a in args):
            raise DerivationError(f"{atom} does not depend on the state through the invariants {names}")
        u = sp.Dummy(f"u{i}")
        forward[atom], back[u] = u, atom.func(*args)
    num, den = sp.fraction(sp.together(image.xreplace(forward)))
    num, den = normal_form(num), normal_form(den)
    left = (num.free_symbols | den.free_symbols) & set(state)
    if left:
        raise DerivationError(f"the image of {component} is not a function of the invariants {names} "
                              f"(its normal form still depends on {', '.join(sorted(map(str, left)))})")
    return sp.simplify((num / den).xreplace(back))


def _reduction(card: Card, claim: Identity) -> Derived:
    pairs = _pairs(card, claim)
    component = claim.arguments.get("component")
    value = reduce_image(card.state, card.mode_update, pairs, component, claim.arguments.get("constraints", ()))
    return Derived(claim.name, "invariant_reduction", value,
                   {"invariants": pairs, "component": component, "closed": True})


def frozen_two_cycle(phi: sp.Expr, orbit: sp.Symbol, slow: sp.Symbol, amplitude: sp.Symbol,
                     coordinate: sp.Expr, limit: sp.Symbol | None = None) -> sp.Expr:
    """``coordinate`` on the symmetric two-cycle +p -> -p of f -> phi(f; slow) with ``slow`` frozen."""
    a = sp.Symbol("a", positive=True)
    if sp.simplify(phi.subs(orbit, -a) + phi.subs(orbit, a)) != 0:
        raise DerivationError(f"the reduced map {phi} is not odd in {orbit}: no symmetric two-cycle")
    solutions = sp.solve(sp.Eq(phi.subs(orbit, amplitude), -amplitude), slow)
    if len(solutions) != 1:
        raise DerivationError(f"expected one value of {slow} on the two-cycle, found {solutions}")
    value = sp.simplify(sp.S(coordinate).subs(slow, solutions[0]))
    if limit is not None:
        value = sp.simplify(sp.limit(value, limit, 0))
    return value


def _two_cycle(card: Card, claim: Identity) -> Derived:
    args = claim.arguments
    missing = [k for k in ("orbit", "slow", "amplitude", "coordinate") if k not in args]
    if missing:
        raise DerivationError(f"card {card.id!r}, claim {claim.name}: frozen_two_cycle needs {', '.join(missing)}")
    pairs = _pairs(card, claim)
    phi = reduce_image(card.state, card.mode_update, pairs, args["orbit"], args.get("constraints", ()))
    value = frozen_two_cycle(phi, args["orbit"], args["slow"], args["amplitude"], args["coordinate"],
                             args.get("limit"))
    return Derived(claim.name, "frozen_two_cycle", value, {"reduced_map": phi, "limit": args.get("limit")})


DERIVATIONS: dict = {
    "invariant_reduction": _reduction,
    "frozen_two_cycle": _two_cycle,
}
