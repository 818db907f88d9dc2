"""Numeric models and identity checks for preference learning (KL-regularised optimum, RLHF vs DPO) (see numerics/_models.py).

``MODELS``: name -> NumericModel; ``IDENTITY_NUMERICS``: derivation name -> numeric route
``(card, claim, examples, seed, count) -> list[CheckResult]``.
"""
from __future__ import annotations

MODELS: dict = {}
IDENTITY_NUMERICS: dict = {}
