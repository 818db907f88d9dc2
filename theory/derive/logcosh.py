"""Symbolic derivations for GD / SAM / USAM on l(xy) = log cosh(xy) (bifurcation, final sharpness, drift).

Each entry of ``DERIVATIONS`` maps a name that an ``Identity`` claim may give as ``derivation`` to
a function ``(card, claim) -> Derived`` (pure SymPy; see ``theory.derive._base``).
"""
from __future__ import annotations

DERIVATIONS: dict = {}
