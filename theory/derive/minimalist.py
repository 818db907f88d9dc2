"""Symbolic derivations for the minimalist model of progressive sharpening f(x) = (x^T u) prod v_i.

Each entry of ``DERIVATIONS`` maps a name that an ``Identity`` claim may give as ``derivation`` to
a function ``(card, claim) -> Derived`` (pure SymPy; see ``theory.derive._base``).
"""
from __future__ import annotations

DERIVATIONS: dict = {}
