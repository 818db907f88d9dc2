"""Assumptions: three-valued checks and the sampling box they imply (pure SymPy + stdlib)."""
from __future__ import annotations

import math
import random
from collections.abc import Iterable, Mapping, Sequence

import sympy as sp

# Default sampling box for a parameter that is only known to be positive: log-uniform over
# four decades keeps conditioning moderate while still covering small and large scales.
POSITIVE_RANGE = (1e-2, 1e2)
REAL_RANGE = (-10.0, 10.0)
# Keep sampled values this far inside a strict bound, so checks at 0.99x / 1.01x stay meaningful.
STRICT_MARGIN = 1e-3
INTEGER_MAX = 20  # integer parameters (multiplicities, direction counts) are drawn from 1..20


_FAST: dict[sp.Basic, tuple] = {}


def _fast_holds(relation: sp.Basic, values: Mapping[sp.Symbol, object]) -> bool | None:
    """Float fast path: a relation between real expressions, compiled once (stdlib math), at float
    values of all its symbols. None when it does not apply (then SymPy decides)."""
    if not isinstance(relation, sp.core.relational.Relational) or isinstance(relation, (sp.Eq, sp.Ne)):
        return None
    entry = _FAST.get(relation)
    if entry is None:
        args = tuple(sorted(relation.free_symbols, key=lambda s: s.name))
        entry = (args, sp.lambdify(args, relation.lhs - relation.rhs, modules="math"), type(relation))
        _FAST[relation] = entry
    args, gap, kind = entry
    try:
        vals = [values[a] for a in args]
    except KeyError:
        return None
    if not all(isinstance(v, float) for v in vals):
        return None
    try:
        g = gap(*vals)
    except (ValueError, ZeroDivisionError, OverflowError, TypeError):
        return None
    if not isinstance(g, float) or not math.isfinite(g) or abs(g) < 1e-9 * (1 + max(abs(v) for v in vals)):
        return None  # near the boundary or not a real number: let SymPy decide exactly
    return {sp.StrictLessThan: g < 0, sp.LessThan: g < 0, sp.StrictGreaterThan: g > 0,
            sp.GreaterThan: g > 0}.get(kind)


def holds(relation: sp.Basic, values: Mapping[sp.Symbol, object]) -> bool | None:
    """True / False when ``relation`` is decided at ``values``, None when undecidable."""
    if values:
        fast = _fast_holds(relation, values)
        if fast is not None:
            return fast
    expr = relation.subs(values) if values else relation
    if expr in (sp.true, True):
        return True
    if expr in (sp.false, False):
        return False
    return None


def symbol_violation(symbol: sp.Symbol, value: object) -> str | None:
    """Why ``value`` contradicts the SymPy assumptions of ``symbol`` (None when it does not)."""
    if isinstance(value, sp.Basic):
        v = value
    else:
        v = sp.Integer(value) if isinstance(value, int) else sp.Float(value)
    checks = (("positive", v.is_positive), ("nonnegative", v.is_nonnegative),
              ("negative", v.is_negative), ("integer", v.is_integer), ("real", v.is_real))
    for name, ok in checks:
        if getattr(symbol, f"is_{name}") and ok is False:
            return f"{symbol.name} must be {name}, got {value}"
    return None


def box(symbol: sp.Symbol, assumptions: Iterable[sp.Basic]) -> tuple[float, float, bool, bool]:
    """(lo, hi, lo_open, hi_open) implied by the symbol's own assumptions and by the
    one-symbol relations among ``assumptions`` (``beta < 1``, ``0 <= beta``)."""
    lo, hi, lo_open, hi_open = -math.inf, math.inf, True, True
    if symbol.is_positive:
        lo, lo_open = 0.0, True
    elif symbol.is_nonnegative:
        lo, lo_open = 0.0, False
    for rel in assumptions:
        if not isinstance(rel, sp.core.relational.Relational) or rel.free_symbols != {symbol}:
            continue
        lhs, rhs = rel.lhs, rel.rhs
        strict = isinstance(rel, (sp.StrictLessThan, sp.StrictGreaterThan))
        upper = isinstance(rel, (sp.StrictLessThan, sp.LessThan))  # lhs < rhs
        if lhs == symbol and rhs.is_number:
            bound, is_upper = float(rhs), upper
        elif rhs == symbol and lhs.is_number:
            bound, is_upper = float(lhs), not upper
        else:
            continue
        if is_upper and bound <= hi:
            hi, hi_open = bound, strict
        elif not is_upper and bound >= lo:
            lo, lo_open = bound, strict
    return lo, hi, lo_open, hi_open


def sampling_range(symbol: sp.Symbol, assumptions: Sequence[sp.Basic],
                   override: Mapping[sp.Symbol, tuple[float, float]] | None = None
                   ) -> tuple[float, float, bool]:
    """(lo, hi, log_scale) to draw ``symbol`` from: the assumption box, clipped to finite
    defaults and pulled ``STRICT_MARGIN`` inside strict bounds."""
    if override and symbol in override:
        lo, hi = override[symbol]
        return float(lo), float(hi), lo > 0 and hi / lo > 100
    lo, hi, lo_open, hi_open = box(symbol, assumptions)
    if lo == 0.0 and math.isinf(hi):
        return POSITIVE_RANGE[0], POSITIVE_RANGE[1], True
    lo = max(lo, REAL_RANGE[0]) if math.isinf(lo) else lo
    hi = min(hi, REAL_RANGE[1]) if math.isinf(hi) else hi
    width = hi - lo
    if lo_open:
        lo += STRICT_MARGIN * max(width, 1.0) if lo == 0.0 else STRICT_MARGIN * width
    if hi_open:
        hi -= STRICT_MARGIN * width
    return lo, hi, False


def sample_points(symbols: Sequence[sp.Symbol], assumptions: Sequence[sp.Basic], *,
                  count: int, seed: int = 0,
                  override: Mapping[sp.Symbol, tuple[float, float]] | None = None,
                  max_tries: int = 10_000) -> list[dict[sp.Symbol, sp.Rational]]:
    """``count`` exact rational points inside the assumptions (rejection sampling in the box)."""
    rng = random.Random(seed)
    ranges = {s: sampling_range(s, assumptions, override) for s in symbols}
    points: list[dict[sp.Symbol, sp.Rational]] = []
    for _ in range(max_tries):
        if len(points) == count:
            break
        point = {}
        for s, (lo, hi, log) in ranges.items():
            if s.is_integer:
                point[s] = sp.Integer(rng.randint(max(1, math.ceil(lo)), max(1, min(INTEGER_MAX, math.floor(hi)))))
                continue
            x = math.exp(rng.uniform(math.log(lo), math.log(hi))) if log else rng.uniform(lo, hi)
            point[s] = sp.Rational(round(x, 6)) if abs(x) >= 1e-4 else sp.Rational(x).limit_denominator(10**9)
        if all(holds(a, point) is not False for a in assumptions):
            points.append(point)
    if len(points) < count:
        raise ValueError(f"could not draw {count} points inside the assumptions {list(assumptions)}")
    return points


QUANTILES = (0.02, 0.25, 0.5, 0.75, 0.98)


def sweep_points(symbols: Sequence[sp.Symbol], assumptions: Sequence[sp.Basic], base: Mapping[sp.Symbol, sp.Rational],
                 override: Mapping[sp.Symbol, tuple[float, float]] | None = None) -> list[dict[sp.Symbol, sp.Rational]]:
    """One parameter at a time swept across its sampling range (``QUANTILES``; log-spaced for a
    log range), the others at ``base``: edges and the middle of every range are always probed,
    which a few random points can miss. Points outside the assumptions are dropped."""
    out = []
    for s in symbols:
        if s.is_integer:
            continue
        lo, hi, log = sampling_range(s, assumptions, override)
        for q in QUANTILES:
            x = math.exp(math.log(lo) + q * (math.log(hi) - math.log(lo))) if log else lo + q * (hi - lo)
            point = dict(base)
            point[s] = sp.Rational(round(x, 6)) if abs(x) >= 1e-4 else sp.Rational(x).limit_denominator(10**9)
            if all(holds(a, point) is not False for a in assumptions):
                out.append(point)
    return out
