"""The engines' result type, shared by the topic modules that register derivations."""
from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp


@dataclass(frozen=True)
class Derived:
    """The engine's result for one claim: ``value`` (None for observed claims) and evidence."""
    claim: str
    engine: str
    value: sp.Expr | None
    details: dict = field(default_factory=dict)
