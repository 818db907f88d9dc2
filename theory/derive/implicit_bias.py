"""Symbolic derivations for implicit bias (max margin, per-sample Adam fixed point, Adam as FTRL, perceptron limit).

Each entry of ``DERIVATIONS`` maps a name that an ``Identity`` claim may give as ``derivation`` to
a function ``(card, claim) -> Derived`` (pure SymPy; see ``theory.derive._base``).
"""
from __future__ import annotations

DERIVATIONS: dict = {}
