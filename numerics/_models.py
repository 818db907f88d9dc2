"""Numeric models: the quantities of a card's construction, computed (and computed again an
independent way) from the card's parameters and the instance data.

A topic module (``numerics/_preference.py``, ``_implicit_bias.py``, ``_logcosh.py``, ...) exposes ``MODELS = {name: NumericModel(...)}``; this module merges them. A card
names its model in ``Model(name=...)``.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import sympy as sp

from theory import Card, InputError

Quantities = dict[str, object]  # name -> float or list of floats


@dataclass(frozen=True)
class NumericModel:
    """``compute(params, data) -> quantities``: params by name (floats), data by name (floats or
    lists as given in the card or by ``--at``). ``independent`` recomputes some of the
    quantities another way (e.g. direct optimisation over the simplex vs a closed form).
    ``instances(data) -> hypothesis strategy`` draws random data of the same family; ``validate``
    turns user data into clean data or raises ``InputError`` (one line)."""
    compute: Callable[[Mapping[str, float], Mapping[str, object]], Quantities]
    independent: Callable[[Mapping[str, float], Mapping[str, object]], Quantities] | None = None
    instances: Callable[[Mapping[str, object]], object] | None = None
    validate: Callable[[Mapping[str, object]], Mapping[str, object]] | None = None
    rtol: float = 1e-6          # independent route vs compute
    description: str = ""


def topic_modules() -> list:
    """Every module of ``numerics`` that registers models or identity routes (``MODELS`` /
    ``IDENTITY_NUMERICS``), found by name: a new topic is one new file."""
    import importlib
    import pkgutil

    import numerics
    out = []
    for info in sorted(pkgutil.iter_modules(numerics.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"numerics.{info.name}")
        if hasattr(module, "MODELS") or hasattr(module, "IDENTITY_NUMERICS"):
            out.append(module)
    return out


def _registry() -> dict[str, NumericModel]:
    out: dict[str, NumericModel] = {}
    for topic in topic_modules():
        for name, model in getattr(topic, "MODELS", {}).items():
            if name in out:
                raise RuntimeError(f"numeric model {name!r} is registered twice")
            out[name] = model
    return out


_MODELS: dict[str, NumericModel] | None = None


def models() -> dict[str, NumericModel]:
    global _MODELS
    if _MODELS is None:
        _MODELS = _registry()
    return _MODELS


def register(name: str, model: NumericModel) -> None:
    """Add a model at run time (a user's own cards; tests)."""
    models()[name] = model


def model_of(card: Card) -> NumericModel:
    if card.model is None:
        raise InputError(f"card {card.id} has no numeric model")
    try:
        return models()[card.model.name]
    except KeyError:
        raise InputError(f"card {card.id} names unknown numeric model {card.model.name!r} "
                         f"(known: {', '.join(sorted(models())) or 'none'})") from None


def plain(value: object) -> object:
    """SymPy numbers and tuples in card data -> floats and lists."""
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, sp.Basic):
        return float(value)
    return value


def card_data(card: Card, overrides: Mapping[str, object] | None = None) -> dict[str, object]:
    """The card's instance data with user overrides (validated by the model)."""
    data = {k: plain(v) for k, v in card.model.data.items()}
    for k, v in (overrides or {}).items():
        if k not in data:
            raise InputError(f"card {card.id} has no data {k!r} (data: {', '.join(sorted(data)) or 'none'})")
        data[k] = plain(v)
    model = model_of(card)
    if model.validate is not None:
        data = dict(model.validate(data))
    return data


def quantities(card: Card, point: Mapping[sp.Symbol, float], data: Mapping[str, object] | None = None,
               *, independent: bool = False) -> Quantities:
    """The model's quantities at ``point`` (by symbol) on ``data`` (default: the card's)."""
    model = model_of(card)
    params = {s.name: float(v) for s, v in point.items()}
    data = card_data(card) if data is None else data
    fn = model.independent if independent else model.compute
    if fn is None:
        return {}
    out = dict(fn(params, data))
    names = {q.name for q in card.model.quantities}
    missing = names - set(out) if not independent else set()
    if missing:
        raise InputError(f"model {card.model.name} did not return {', '.join(sorted(missing))}")
    return out


def scalar(values: Mapping[str, object], name: str) -> float:
    v = values[name]
    if isinstance(v, (list, tuple, np.ndarray)):
        raise InputError(f"quantity {name} is a list; a relation needs a number")
    return float(v)


def agree(a: object, b: object, rtol: float) -> bool:
    """Numbers or lists equal to ``rtol`` relative (absolute near zero)."""
    x, y = np.atleast_1d(np.asarray(a, dtype=float)), np.atleast_1d(np.asarray(b, dtype=float))
    if x.shape != y.shape or not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        return False
    return bool(np.all(np.abs(x - y) <= rtol * np.maximum(1.0, np.maximum(np.abs(x), np.abs(y)))))


def relation_holds(lhs: float, relation: str, rhs: float, tol: float) -> bool:
    if not (math.isfinite(lhs) and math.isfinite(rhs)):
        return False
    slack = tol * max(1.0, abs(lhs), abs(rhs))
    return {"==": abs(lhs - rhs) <= slack, "<=": lhs <= rhs + slack, ">=": lhs >= rhs - slack,
            "<": lhs < rhs - slack, ">": lhs > rhs + slack}[relation]
