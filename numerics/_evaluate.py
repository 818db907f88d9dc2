"""Evaluate a card's claims at a parameter point (float64 and 50-digit mpmath)."""
from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
import mpmath
import numpy as np
import sympy as sp

from numerics._compile import MP_DIGITS, compiled
from theory import AssumptionError, Bound, Card, InputError, MeanSquareThreshold, Observed, Relation, Threshold
from theory._assume import holds, symbol_violation
from theory._card import Claim

SPECTRUM = "spectrum"
FUNCTIONALS = {"trace": sum, "max": max, "min": min, "dim": len}


def with_spectral(card: Card, point: Mapping[sp.Symbol, float], spectrum: Sequence[float] | None) -> dict:
    """``point`` plus the card's spectral symbols (trace, lambda_max, ...) computed from ``spectrum``."""
    out = dict(point)
    if card.spectral:
        spec = spectrum if spectrum is not None else ([point[card.eigenvalue]] if card.eigenvalue in point else None)
        if spec is None:
            return out
        for sym, functional in card.spectral.items():
            out[sym] = float(FUNCTIONALS[functional](spec))
    return out


def as_float(value: object, name: str) -> float:
    """A finite float, or an ``InputError`` naming the parameter."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise InputError(f"{name} must be a number, got {value!r}")
    v = float(value)
    if not math.isfinite(v):
        raise InputError(f"{name} must be finite, got {value!r}")
    return v


def validate_point(card: Card, at: Mapping[str, object], *, claims: Sequence[Claim] | None = None,
                   require: bool = True) -> tuple[dict[sp.Symbol, float], list[float] | None]:
    """Check user bindings against the card: known names, finite numbers, assumptions.

    Returns (bindings by symbol, spectrum or None). ``require``: every parameter the claims
    need must be bound (the eigenvalue symbol may come as a spectrum instead).
    """
    by_name = {s.name: s for s in card.symbols}
    point: dict[sp.Symbol, float] = {}
    spectrum: list[float] | None = None
    for name, raw in at.items():
        if name == SPECTRUM:
            if card.eigenvalue is None:
                raise InputError(f"card {card.id} takes no spectrum (it has no eigenvalue symbol)")
            if not isinstance(raw, (list, tuple)) or not raw:
                raise InputError("spectrum must be a non-empty list of numbers, e.g. spectrum=[4,1,0.25]")
            spectrum = [as_float(v, "spectrum entry") for v in raw]
            # a zero eigenvalue is a neutral direction of a PSD Hessian: allowed, and skipped by
            # per-eigenvalue claims; anything else must satisfy the eigenvalue symbol's assumptions
            if card.eigenvalue.is_nonnegative and min(spectrum) < 0:
                raise AssumptionError(f"spectrum: {card.eigenvalue.name} must be nonnegative (H is PSD), "
                                      f"got {min(spectrum)}")
            for v in sorted(set(spectrum))[:1] + sorted(set(spectrum))[-1:]:
                why = None if v == 0 and card.eigenvalue.is_nonnegative else symbol_violation(card.eigenvalue, v)
                if why:
                    raise AssumptionError(f"spectrum: {why}")
            if not any(v > 0 for v in spectrum):
                raise AssumptionError("spectrum: at least one eigenvalue must be positive")
            continue
        if name not in by_name:
            known = ", ".join(sorted(by_name) + ([SPECTRUM] if card.eigenvalue is not None else [])
                              + (sorted(card.model.data) if card.model is not None else []))
            raise InputError(f"card {card.id} has no parameter {name!r} (parameters: {known})")
        sym = by_name[name]
        if sym in card.spectral:
            raise InputError(f"{name} is the {card.spectral[sym]} of the spectrum: give spectrum=[...] instead")
        point[sym] = as_float(raw, name)
        why = symbol_violation(sym, point[sym])
        if why:
            raise AssumptionError(why)
    if spectrum is not None and card.eigenvalue in point:
        raise InputError(f"give either {card.eigenvalue.name} or spectrum, not both")
    claims = card.claims if claims is None else claims
    relations = list(card.assumptions) + [c for cl in claims for c in getattr(cl, "conditions", ())]
    for rel in relations:
        if rel.free_symbols <= set(point) and holds(rel, point) is False:
            raise AssumptionError(f"{rel} does not hold at " +
                                  ", ".join(f"{s.name}={point[s]:g}" for s in rel.free_symbols))
    if spectrum is not None:
        with_eig = [r for r in relations if card.eigenvalue in r.free_symbols and r.free_symbols <= set(point) | {
            card.eigenvalue}]
        for lam in (sorted({v for v in spectrum if v > 0}) if with_eig else ()):
            here = {**point, card.eigenvalue: lam}
            for rel in with_eig:
                if holds(rel, here) is False:
                    raise AssumptionError(f"{rel} does not hold for spectrum entry {lam:g}")
    if require:
        needed = set()
        for claim in claims:
            needed |= set(card.parameters_of(claim))
        if spectrum is not None:
            needed.discard(card.eigenvalue)
        if spectrum is not None or card.eigenvalue in point:
            needed -= set(card.spectral)
        missing = sorted(s.name for s in needed - set(point))
        if missing:
            hint = f" (or {SPECTRUM}=[...])" if card.eigenvalue is not None and card.eigenvalue.name in missing else ""
            raise InputError(f"card {card.id} needs a value for {', '.join(missing)}{hint}")
    return point, spectrum


def claim_value(card: Card, claim: Claim, point: Mapping[sp.Symbol, float],
                spectrum: Sequence[float] | None = None, expr: sp.Expr | None = None) -> float:
    """A claim's value at ``point`` in float64. With a spectrum, the claim is evaluated per
    eigenvalue and the minimum is taken (the binding eigenvalue for a step-size threshold)."""
    if isinstance(claim, MeanSquareThreshold):
        from numerics._mean_square import secular_root
        spec = spectrum if spectrum is not None else [point[card.eigenvalue]]
        return secular_root(card, claim, with_spectral(card, point, spec), spec, gain=expr)
    point = with_spectral(card, point, spectrum)
    expr = sp.S(claim.value if expr is None else expr)
    args = tuple(s for s in card.symbols if s in expr.free_symbols)
    fn = compiled(expr, args)
    uses_eig = card.eigenvalue is not None and card.eigenvalue in expr.free_symbols
    if spectrum is not None and uses_eig:
        if not isinstance(claim, (Threshold, Bound)):
            raise InputError(f"claim {claim.name} is not a threshold: evaluate it at one {card.eigenvalue.name}")
        values = [_real(fn, [lam if s == card.eigenvalue else point[s] for s in args])
                  for lam in spectrum if lam > 0]  # zero eigenvalues: neutral directions
        return min(values)
    return _real(fn, [point[s] for s in args])


def _real(fn, args) -> float:
    """fn(*args) as a float; nan where the formula is undefined there (a pole, a complex value,
    an overflow): a numerical failure is a value the checks judge, never an exception."""
    try:
        with np.errstate(all="ignore"):
            v = fn(*args)
        if isinstance(v, complex) or np.iscomplexobj(v):
            v = complex(v)
            return v.real if v.imag == 0 else math.nan
        return float(v)
    except (ZeroDivisionError, OverflowError, ValueError, TypeError):
        return math.nan


def claim_value_mp(card: Card, claim: Claim, point: Mapping[sp.Symbol, object],
                   expr: sp.Expr | None = None) -> mpmath.mpf:
    """A claim's value at ``point`` with ``MP_DIGITS`` significant digits."""
    expr = sp.S(claim.value if expr is None else expr)
    args = tuple(s for s in card.symbols if s in expr.free_symbols)
    fn = compiled(expr, args, "mpmath")
    with mpmath.workdps(MP_DIGITS):
        return fn(*[mpmath.mpf(point[s]) for s in args])


def evaluate_with_reasons(card: Card, at: Mapping[str, object]) -> tuple[dict[str, float | None], dict[str, str]]:
    """Every non-observed claim of ``card`` at the bindings ``at``; a claim whose parameters are
    not all bound is None, with the reason. Raises when no claim can be evaluated."""
    data_over: dict[str, object] = {}
    if card.model is not None:
        data_over = {k: v for k, v in at.items() if k in card.model.data}
        at = {k: v for k, v in at.items() if k not in card.model.data}
    claims = [c for c in card.claims if (not isinstance(c, Observed) or c.value is not None)
              and not isinstance(c, Relation)]
    point, spectrum = validate_point(card, at, claims=claims, require=False)
    values: dict[str, object] = {}
    reasons: dict[str, str] = {}
    first_error: InputError | None = None
    for claim in claims:
        try:
            validate_point(card, at, claims=[claim])
            values[claim.name] = claim_value(card, claim, point, spectrum)
        except InputError as exc:
            values[claim.name] = None
            reasons[claim.name] = str(exc)
            first_error = first_error or exc
    if card.model is not None:
        if data_over:  # a claim's closed form is stated for the card's own data
            for claim in claims:
                if values.get(claim.name) is not None:
                    values[claim.name] = None
                    reasons[claim.name] = (f"the closed form is stated for the card's own data; with "
                                           f"{', '.join(sorted(data_over))} given, see the model's quantities")
        _model_values(card, point, data_over, values, reasons)
    if first_error is not None and all(v is None for v in values.values()):
        raise first_error
    return values, reasons


def _plain(v: object) -> object:
    """numpy scalars and arrays -> float and (nested) lists, for printing and JSON."""
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, (np.floating, np.integer)):
        return float(v)
    return v


def _model_values(card: Card, point, data_over, values: dict, reasons: dict) -> None:
    """The model's quantities and the truth of each relation; a parameter the model reads must be bound
    (by the user or by the card's simulation)."""
    from numerics._models import card_data, quantities, relation_holds, scalar
    data = card_data(card, data_over)  # bad data is an error even when parameters are missing
    # a parameter the user did not bind takes the card's own simulation value (e.g. an optimiser's
    # hyper-parameters, which a construction's quantities do not depend on)
    defaults = dict(card.simulation.at) if card.simulation is not None else {}
    point = {**{s: float(v) for s, v in defaults.items() if s in card.symbols}, **point}
    for rel in card.assumptions:
        if holds(rel, point) is False:
            raise AssumptionError(f"{rel} does not hold")
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            q = quantities(card, point, data)
        if not all(np.all(np.isfinite(np.asarray(v, dtype=float))) for v in q.values()):
            raise ArithmeticError("a quantity is not finite")
    except KeyError as exc:  # the model reads a parameter that is not bound
        missing = exc.args[0] if exc.args else "?"
        for qs in card.model.quantities:
            values[qs.name] = None
            reasons[qs.name] = f"card {card.id} needs a value for {missing}"
        return
    except (ValueError, ArithmeticError, np.linalg.LinAlgError) as exc:  # numerical failure: a result
        for qs in card.model.quantities:
            values[qs.name] = None
            reasons[qs.name] = f"the model failed numerically here ({type(exc).__name__}: {exc})"
        return
    values.update({k: _plain(v) for k, v in q.items()})
    for claim in card.claims:
        if isinstance(claim, Relation):
            if any(holds(c, point) is False for c in claim.where):
                values[claim.name] = None
                reasons[claim.name] = f"claimed only where {', '.join(map(str, claim.where))}"
                continue
            env = {**{s: point[s] for s in card.symbols if s in point},
                   **{s: scalar(q, s.name) for s in card.model.quantities
                      if s.name in q and not isinstance(q[s.name], list)}}
            free = claim.lhs.free_symbols | claim.rhs.free_symbols | set().union(*(c.free_symbols for c in claim.where))
            if not free <= set(env):
                values[claim.name] = None
                reasons[claim.name] = f"needs {', '.join(sorted(s.name for s in free - set(env)))}"
                continue
            lhs, rhs = float(claim.lhs.subs(env)), float(claim.rhs.subs(env))
            values[claim.name] = relation_holds(lhs, claim.relation, rhs, claim.tol)


def evaluate(card: Card, at: Mapping[str, object]) -> dict[str, float | None]:
    """Every non-observed claim of ``card`` at the user's bindings ``at`` (names -> numbers,
    ``spectrum`` -> list); None for a claim that needs a parameter not given. Raises
    ``InputError``/``AssumptionError`` on bad input."""
    return evaluate_with_reasons(card, at)[0]
