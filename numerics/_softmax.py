"""Numeric models and identity checks for softmax step-size radii beyond the binary case (ghosts of softmax) (see numerics/_models.py).

``MODELS``: name -> NumericModel; ``IDENTITY_NUMERICS``: derivation name -> numeric route
``(card, claim, examples, seed, count) -> list[CheckResult]``.
"""
from __future__ import annotations

MODELS: dict = {}
IDENTITY_NUMERICS: dict = {}
