"""Symbolic derivations for preference learning (KL-regularised optimum, RLHF vs DPO).

Each entry of ``DERIVATIONS`` maps a name that an ``Identity`` claim may give as ``derivation`` to
a function ``(card, claim) -> Derived`` (pure SymPy; see ``theory.derive._base``).
"""
from __future__ import annotations

DERIVATIONS: dict = {}
