"""Symbolic derivations for SGD on noisy ill-conditioned quadratics (suspicious alignment, tiny subspaces, Dom/Bulk SGD).

Each entry of ``DERIVATIONS`` maps a name that an ``Identity`` claim may give as ``derivation`` to
a function ``(card, claim) -> Derived`` (pure SymPy; see ``theory.derive._base``).
"""
from __future__ import annotations

DERIVATIONS: dict = {}
