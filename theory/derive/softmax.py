"""Symbolic derivations for softmax step-size radii beyond the binary case (ghosts of softmax).

Each entry of ``DERIVATIONS`` maps a name that an ``Identity`` claim may give as ``derivation`` to
a function ``(card, claim) -> Derived`` (pure SymPy; see ``theory.derive._base``).

- ``half_plane_strip``: the partition function Z(tau) = sum_k exp(E(a_k, tau)) with exponents E linear
  in tau and slopes a_k in an interval [a_lo, a_hi]. Writing tau = x + i y and factoring out the
  phase of the middle slope m = (a_lo + a_hi)/2, the k-th term becomes |term_k| exp(i theta(a_k) y-phase);
  when every phase lies in (-pi/2, pi/2) all terms lie in the open right half-plane and Z != 0.
  The engine computes theta(a) from the exponent, checks that it is monotone in a (so the extremes
  are the endpoints), and returns the largest |Im tau| for which both endpoint phases stay inside
  (-pi/2, pi/2): the first positive zero of cos(theta(a_hi)). Every zero of Z then has
  |tau| >= |Im tau| >= that half-width.
- ``nearest_zero_imag``: min |Im tau| over the complex zeros of a partition function whose zero
  set SymPy returns as a finite set or integer-indexed families (the binary case: the strip
  half-width is attained, so it cannot be widened).
"""
from __future__ import annotations

import sympy as sp

from theory._errors import DerivationError
from theory.derive._base import Derived
from theory.derive.singularities import solution_families


def _least(candidates: list[sp.Expr], why: str) -> sp.Expr:
    """The least of symbolic candidates, ordered by the sign of their differences (SymPy decides);
    a DerivationError when an order cannot be decided."""
    if not candidates:
        raise DerivationError(f"{why}: no candidates")
    best = candidates[0]
    for c in candidates[1:]:
        diff = sp.simplify(c - best)
        if diff.is_negative:
            best = c
        elif not diff.is_nonnegative:
            raise DerivationError(f"{why}: {best} vs {c}")
    return sp.simplify(best)


def _smallest_positive_root(expr: sp.Expr, y: sp.Symbol) -> sp.Expr:
    """The smallest positive root of ``expr`` in ``y`` (finite sets or integer-indexed families)."""
    finite, families = solution_families(expr, y, sp.S.Reals)
    candidates: list[sp.Expr] = [r for r in finite if sp.S(r).is_positive]
    n = sp.Symbol("n_index", integer=True)
    for lam in families:
        f = lam.expr.subs(lam.variables[0], n)
        slope = sp.diff(f, n)
        if slope.free_symbols & {n} or not (slope.is_positive or slope.is_negative):
            raise DerivationError(f"cannot order the root family {lam}")
        # f(n) = f(0) + slope * n: the smallest positive member
        f0 = f.subs(n, 0)
        k = sp.floor(-f0 / slope) + 1 if slope.is_positive else sp.ceiling(-f0 / slope) - 1
        k = sp.simplify(k)
        if not k.is_number:
            raise DerivationError(f"the first positive member of {lam} depends on the parameters")
        candidates.append(sp.simplify(f.subs(n, k)))
    if not candidates:
        raise DerivationError(f"{expr} has no positive root in {y}")
    return _least(candidates, "cannot order the roots")


def half_plane_strip(term: sp.Expr, tau: sp.Symbol, slope: sp.Symbol, lo: sp.Expr, hi: sp.Expr) -> tuple[sp.Expr, dict]:
    """Half-width of the zero-free strip |Im tau| < w of Z = sum over slopes in [lo, hi] of ``term``.

    ``term`` = exp(E) with E linear in ``tau`` (e.g. exp(z + a*tau))."""
    if not isinstance(term, sp.exp):
        raise DerivationError(f"half_plane_strip needs a term exp(E), got {term}")
    E = sp.expand(term.args[0])
    if sp.diff(E, tau, 2) != 0:
        raise DerivationError(f"the exponent {E} is not linear in {tau}")
    x, y = sp.Symbol("x_re", real=True), sp.Symbol("y_im", positive=True)
    mid = (lo + hi) / 2
    # phase of the term at tau = x + i y after factoring out the phase of the middle slope's term
    phase = sp.simplify(sp.im(sp.expand_complex(E.subs(tau, x + sp.I * y))) - sp.im(
        sp.expand_complex(E.subs({tau: x + sp.I * y, slope: mid}))))
    modulus = sp.simplify(sp.exp(sp.re(sp.expand_complex(E.subs(tau, x + sp.I * y)))))
    if x in phase.free_symbols:
        raise DerivationError(f"the phase {phase} depends on Re tau")
    dphase = sp.simplify(sp.diff(phase, slope))
    if dphase.free_symbols & {slope}:
        raise DerivationError(f"the phase {phase} is not monotone in {slope}")
    top, bottom = sp.simplify(phase.subs(slope, hi)), sp.simplify(phase.subs(slope, lo))
    if sp.simplify(top + bottom) != 0:
        raise DerivationError(f"endpoint phases {top}, {bottom} are not symmetric about the middle slope")
    # rotated term: modulus * exp(i*phase); real part modulus*cos(phase) > 0 for every slope iff
    # cos(top) > 0 (|phase| <= |top| by monotonicity): the strip ends at the first positive root
    rotated_re = sp.simplify(sp.re(sp.expand_complex(modulus * sp.exp(sp.I * phase))))
    width = _smallest_positive_root(sp.cos(top), y)
    return width, {"phase": phase, "endpoint_phase": top, "rotated_real_part": rotated_re,
                   "middle_slope": mid}


def nearest_zero_imag(partition: sp.Expr, tau: sp.Symbol) -> sp.Expr:
    """min |Im tau| over the complex zeros of ``partition``."""
    finite, families = solution_families(partition, tau)
    candidates: list[sp.Expr] = [sp.Abs(sp.im(z)) for z in finite]
    n = sp.Symbol("n_index", integer=True)
    for lam in families:
        f = lam.expr.subs(lam.variables[0], n)
        im = sp.expand(sp.im(sp.expand_complex(f)))
        step = sp.diff(im, n)
        if step.free_symbols & {n} or step == 0:
            raise DerivationError(f"Im of the zero family {lam} is not an arithmetic progression")
        # |im0 + step*n| over integers n: nearest members to n0 = -im0/step
        n0 = sp.simplify(-im.subs(n, 0) / step)
        if not n0.is_number:
            raise DerivationError(f"the nearest member of {lam} depends on the parameters")
        for k in {sp.floor(n0), sp.ceiling(n0)}:
            candidates.append(sp.simplify(sp.Abs(im.subs(n, k))))
    return _least(candidates, "the nearest zero's imaginary part depends on the parameters")


def _strip(card, claim) -> Derived:
    args = claim.arguments
    need = ("term", "variable", "slope", "slope_range")
    if any(k not in args for k in need):
        raise DerivationError(f"card {card.id!r}: half_plane_strip needs arguments {', '.join(need)}")
    lo, hi = args["slope_range"]
    width, details = half_plane_strip(sp.S(args["term"]), args["variable"], args["slope"], sp.S(lo), sp.S(hi))
    return Derived(claim.name, "half_plane_strip", width, details)


def _nearest_imag(card, claim) -> Derived:
    args = claim.arguments
    if "partition" not in args or "variable" not in args:
        raise DerivationError(f"card {card.id!r}: nearest_zero_imag needs arguments partition= and variable=")
    return Derived(claim.name, "nearest_zero_imag", nearest_zero_imag(sp.S(args["partition"]), args["variable"]),
                   {"partition": args["partition"]})


DERIVATIONS: dict = {"half_plane_strip": _strip, "nearest_zero_imag": _nearest_imag}
