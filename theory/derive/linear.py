"""Linear stability: characteristic polynomial, Schur-Cohn (Jury) conditions for any degree,
and the critical value of a parameter, all derived from an iteration matrix (pure SymPy).

The Schur-Cohn reduction: a real polynomial p(z) = a_n z^n + ... + a_0 has every root strictly
inside the unit disc iff a_n^2 - a_0^2 > 0 and p_1(z) = (a_n p(z) - a_0 z^n p(1/z)) / z (degree
n-1) has too. Each stage gives one polynomial inequality in the parameters; the product of the
stage conditions contains p(1) and p(-1) as factors, so the real-root boundaries z = +-1 and the
complex-pair boundary |z| = 1 all appear among the factors.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import sympy as sp

from theory._assume import sample_points, sweep_points
from theory._budget import checkpoint, stage
from theory._errors import DerivationError

Z = sp.Symbol("z")


def characteristic_polynomial(matrix: sp.Matrix, z: sp.Symbol = Z) -> sp.Poly:
    """det(z I - M) as a monic polynomial in z."""
    n = matrix.shape[0]
    if matrix.shape != (n, n):
        raise DerivationError(f"iteration matrix must be square, got shape {matrix.shape}")
    return sp.Poly(sp.expand((z * sp.eye(n) - matrix).det(method="berkowitz")), z)


def schur_conditions(poly: sp.Poly) -> list[sp.Expr]:
    """Expressions g_k with: all roots of ``poly`` in the open unit disc iff every g_k > 0."""
    coeffs = [sp.expand(c) for c in reversed(poly.all_coeffs())]  # a_0 .. a_n
    conditions: list[sp.Expr] = []
    while len(coeffs) > 1:
        a0, an = coeffs[0], coeffs[-1]
        conditions.append(sp.factor(an**2 - a0**2))
        n = len(coeffs) - 1
        # p_1 coefficients: b_k = a_n a_{k+1} - a_0 a_{n-1-k}, k = 0..n-1
        coeffs = [sp.expand(an * coeffs[k + 1] - a0 * coeffs[n - 1 - k]) for k in range(n)]
    return conditions


def is_schur_stable(conditions: Sequence[sp.Expr], values: Mapping[sp.Symbol, sp.Basic]) -> bool:
    """Exact evaluation of the Schur-Cohn conditions at a rational point."""
    return all(sp.nsimplify(c.subs(values)) > 0 for c in conditions)


@dataclass(frozen=True)
class ThresholdDerivation:
    """What the engine derived: the critical value and the evidence behind it."""
    value: sp.Expr
    polynomial: sp.Poly
    conditions: tuple[sp.Expr, ...]
    candidates: tuple[sp.Expr, ...]
    boundary: str  # which root crosses the unit circle first: "z=-1", "z=1" or "|z|=1 (complex)"
    never_stable: int = 0  # sampled points where no param > 0 is stable (the value is <= 0 there)


def _boundary_candidates(conditions: Sequence[sp.Expr], param: sp.Symbol) -> list[tuple[sp.Expr, sp.Expr]]:
    """(candidate value, factor it zeroes) for every factor of every condition that depends on param."""
    out: list[tuple[sp.Expr, sp.Expr]] = []
    seen: set = set()
    for cond in conditions:
        num, den = sp.fraction(sp.together(cond))
        for part in (num, den):
            _, factors = sp.factor_list(part)
            for fac, _mult in factors:
                checkpoint()
                if param not in fac.free_symbols or fac in seen:
                    continue
                seen.add(fac)
                for sol in sp.solve(fac, param, dict=False):
                    out.append((sp.simplify(sol), fac))
    return out


def _real_positive(value: sp.Basic) -> float | None:
    v = complex(sp.N(value, 30))
    if abs(v.imag) > 1e-20 * max(1.0, abs(v.real)) or v.real <= 0:
        return None
    return v.real


def _classify_boundary(poly: sp.Poly, point: Mapping, param: sp.Symbol, value: sp.Expr) -> str:
    p = poly.as_expr().subs(point).subs(param, value.subs(point))
    if abs(complex(sp.N(p.subs(Z, -1), 40))) < 1e-25:
        return "z=-1"
    if abs(complex(sp.N(p.subs(Z, 1), 40))) < 1e-25:
        return "z=1"
    return "|z|=1 (complex pair)"


def critical_threshold(matrix: sp.Matrix, param: sp.Symbol, *, others: Sequence[sp.Symbol],
                       assumptions: Sequence[sp.Basic] = (), points: int = 6, seed: int = 0,
                       sample: Mapping | None = None) -> ThresholdDerivation:
    """Derive eta* with: the iteration is Schur stable for 0 < param < eta*, unstable just above.

    Candidates are the roots in ``param`` of every factor of every Schur-Cohn condition. At
    ``points`` exact rational points drawn inside the assumptions (and at points sweeping each
    parameter across its range, edges included), the engine locates the first
    interval (between consecutive positive candidates) where a condition fails; the candidate at
    its left end must be the same expression at every point, else the threshold is piecewise
    and a ``DerivationError`` says so. ``sp.oo`` means stable for every positive ``param``.
    """
    with stage("characteristic polynomial"):
        poly = characteristic_polynomial(matrix)
    with stage("Schur-Cohn conditions"):
        conditions = tuple(schur_conditions(poly))
    with stage("Schur boundary search"):
        candidates = _boundary_candidates(conditions, param)
    with stage("binding root at sample points"):
        return _binding(poly, conditions, candidates, param, others, assumptions, points, seed, sample)


def _binding_here(conditions, candidates, param, point) -> tuple[sp.Expr | None, str]:
    """At one point: the candidate that binds first, ``sp.oo`` (stable for every param > 0), or
    None with a reason when the map is unstable for every param > 0 there."""
    conds_here = [c.subs(point) for c in conditions]
    values = []
    for expr, _fac in candidates:
        v = _real_positive(expr.subs(point))
        if v is not None:
            values.append((v, expr))
    values.sort(key=lambda t: t[0])
    edges = sorted({round(v, 12) for v, _ in values})
    lefts = [0.0] + edges
    rights = edges + [None]
    verdicts = []
    for lo, hi in zip(lefts, rights):
        checkpoint()
        mid = lo * 2 + 1 if hi is None else (lo + hi) / 2
        mid_q = sp.Rational(mid).limit_denominator(10**12) if hi is None else sp.nsimplify(mid, rational=True)
        verdicts.append((lo, hi, all(sp.N(c.subs(param, mid_q), 30) > 0 for c in conds_here)))
        if lo > 0.0 and not verdicts[-1][2] and verdicts[0][2]:
            break  # stable from 0 up to lo, unstable after it: lo binds
    if not verdicts[0][2]:
        later = [(lo, hi) for lo, hi, ok in verdicts[1:] if ok]
        if later:
            lo, hi = later[0]
            raise DerivationError(
                f"at {_decimal(point)} the map is unstable for small {param} > 0 but stable for {param} in "
                f"({lo:.6g}, {'oo' if hi is None else f'{hi:.6g}'}): not a threshold 0 < {param} < value")
        return None, f"unstable for every {param} > 0"
    first_bad = next((lo for lo, _hi, ok in verdicts if not ok), None)
    if first_bad is None:
        return sp.oo, ""
    matches = [e for v, e in values if abs(v - first_bad) <= 1e-10 * max(1.0, first_bad)]
    return _simplest(matches), ""


def _decimal(point: Mapping) -> str:
    return ", ".join(f"{k}={float(v):.6g}" for k, v in point.items()) or "every point"


def _same(a: sp.Expr, b: sp.Expr) -> bool:
    return a == b or (a is not sp.oo and b is not sp.oo and sp.simplify(a - b) == 0)


def _where_branch_changes(conditions, candidates, param, p, q, first) -> str:
    """Bisect the segment p -> q for where the binding candidate stops being ``first``."""
    lo, hi = 0.0, 1.0
    for _ in range(30):
        mid = (lo + hi) / 2
        here = {k: sp.Rational(float(p[k]) + mid * (float(q[k]) - float(p[k]))).limit_denominator(10**9) for k in p}
        try:
            value, _ = _binding_here(conditions, candidates, param, here)
        except DerivationError:
            value = None
        if value is not None and _same(value, first):
            lo = mid
        else:
            hi = mid
    at = {k: float(p[k]) + hi * (float(q[k]) - float(p[k])) for k in p}
    moving = [k for k in p if float(p[k]) != float(q[k])]
    return ", ".join(f"{k}={at[k]:.6g}" for k in moving)


def _binding(poly, conditions, candidates, param, others, assumptions, points, seed, sample) -> ThresholdDerivation:
    chosen: sp.Expr | None = None
    chosen_point: dict | None = None
    boundary = ""
    never: list[dict] = []   # points where the map is unstable for every param > 0
    drawn = sample_points(list(others), assumptions, count=points, seed=seed, override=sample)
    probes = drawn + (sweep_points(list(others), assumptions, drawn[0], override=sample) if drawn and others else [])
    for point in probes:
        here, _why = _binding_here(conditions, candidates, param, point)
        if here is None:
            never.append(point)
            continue
        if chosen is None:
            chosen, chosen_point = here, point
            if here is not sp.oo:
                boundary = _classify_boundary(poly, point, param, here)
        elif not _same(chosen, here):
            where = _where_branch_changes(conditions, candidates, param, chosen_point, point, chosen)
            raise DerivationError(
                f"the critical {param} is piecewise over the assumptions: {chosen} binds at "
                f"{_decimal(chosen_point)}, {here} at {_decimal(point)}; the branch changes near {where}. "
                f"Tighten the assumptions on that side (e.g. --assume) or fix the parameter (--at)")
    if chosen is None:
        raise DerivationError(f"the map is unstable for small {param} > 0 (for every {param} > 0) at "
                              f"{_decimal(never[0]) if never else 'every point'}")
    for point in never:  # there the claim must say "never stable": a threshold value <= 0
        v = complex(sp.N(chosen.subs(point), 30)) if chosen is not sp.oo else complex(float("inf"))
        if abs(v.imag) < 1e-20 and v.real <= 0:
            continue
        raise DerivationError(
            f"the critical {param} is piecewise over the assumptions: {chosen} binds at {_decimal(chosen_point)}, "
            f"but at {_decimal(point)} the map is unstable for every {param} > 0 (while {chosen} = "
            f"{v.real:.6g} there); the branch changes near "
            f"{_where_branch_changes(conditions, candidates, param, chosen_point, point, chosen)}. Tighten the "
            f"assumptions (e.g. --assume) or fix the parameter (--at)")
    return ThresholdDerivation(value=sp.factor(chosen) if chosen is not sp.oo else chosen,
                               polynomial=poly, conditions=conditions,
                               candidates=tuple(e for e, _ in candidates), boundary=boundary,
                               never_stable=len(never))


def _simplest(exprs: Sequence[sp.Expr]) -> sp.Expr:
    return min(exprs, key=lambda e: (sp.count_ops(e), sp.srepr(e)))
