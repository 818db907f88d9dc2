"""Numeric models and identity checks for implicit bias (max margin, per-sample Adam fixed point, Adam as FTRL, perceptron limit) (see numerics/_models.py).

``MODELS``: name -> NumericModel; ``IDENTITY_NUMERICS``: derivation name -> numeric route
``(card, claim, examples, seed, count) -> list[CheckResult]``.
"""
from __future__ import annotations

MODELS: dict = {}
IDENTITY_NUMERICS: dict = {}
