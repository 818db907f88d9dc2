"""Scenario simulations for implicit bias (max margin, per-sample Adam fixed point, Adam as FTRL, perceptron limit) (see gpu_validation/_scenarios.py).

``SCENARIOS``: name -> ``fn(card, *, at, device, seed, steps, progress) -> ScenarioResult``.
torch is imported inside the functions (this layer imports torch lazily).
"""
from __future__ import annotations

SCENARIOS: dict = {}
