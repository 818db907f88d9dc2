"""Numeric models and identity checks for SGD on noisy ill-conditioned quadratics (suspicious alignment, tiny subspaces, Dom/Bulk SGD) (see numerics/_models.py).

``MODELS``: name -> NumericModel; ``IDENTITY_NUMERICS``: derivation name -> numeric route
``(card, claim, examples, seed, count) -> list[CheckResult]``.
"""
from __future__ import annotations

MODELS: dict = {}
IDENTITY_NUMERICS: dict = {}
