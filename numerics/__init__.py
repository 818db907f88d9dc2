"""optverify's numeric layer: evaluation and independent checks of the theory's cards (no torch)."""
from numerics._check import CardReport, CheckResult, check, check_claim, with_claim
from numerics._evaluate import claim_value, evaluate, validate_point
from numerics._implicit_bias import FixedPoint, MaxMargin, adam_fixed_point, max_margin
from numerics._spectral import critical_by_brentq, spectral_radius
from numerics._strategies import points

__all__ = ["CardReport", "CheckResult", "check", "check_claim", "with_claim", "evaluate", "claim_value",
           "validate_point", "spectral_radius", "critical_by_brentq", "points", "max_margin", "adam_fixed_point",
           "MaxMargin", "FixedPoint"]
