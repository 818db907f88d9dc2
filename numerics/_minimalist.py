"""Numeric models and identity checks for the minimalist model of progressive sharpening f(x) = (x^T u) prod v_i (see numerics/_models.py).

``MODELS``: name -> NumericModel; ``IDENTITY_NUMERICS``: derivation name -> numeric route
``(card, claim, examples, seed, count) -> list[CheckResult]``.
"""
from __future__ import annotations

MODELS: dict = {}
IDENTITY_NUMERICS: dict = {}
