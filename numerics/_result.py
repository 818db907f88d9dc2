"""One check's outcome (shared by the topic modules' numeric routes)."""
from __future__ import annotations

from dataclasses import dataclass

# The independent method behind each check, by check name (a check not listed is its own route:
# the topic modules name their checks after their method, e.g. "lyapunov", "kronecker_mp").
ROUTES = {
    "symbolic": "symbolic", "symbolic_gain": "symbolic", "symbolic_mode_limit": "symbolic",
    "symbolic_sign": "symbolic", "derive": "symbolic",
    "random_points": "random_points",
    "hypothesis_agreement": "hypothesis_points",
    "spectral_crossing": "hypothesis_spectral",
    "mpmath_root": "mpmath_root",
    "second_iterate_fixed_point": "second_iterate_root",
    "exact_operator": "hypothesis_exact_operator",
    "bound_vs_root_and_operator": "hypothesis_exact_operator",
    "hypothesis_bound": "hypothesis_bound",
    "relation": "model_quantities",
    "independent_route": "independent_model",
    "simulation": "simulation",
    "gave_up": "budget",
}


def route_of(name: str) -> str:
    return ROUTES.get(name, name)


@dataclass(frozen=True)
class CheckResult:
    """One check's outcome. ``passed`` is None when the check does not apply here.

    ``route`` names the independent method behind the check (default: ``ROUTES`` by name);
    ``examples`` is how many valid examples (points, spectra, instances) it actually evaluated,
    None where the check is not example-based (a symbolic proof) or its route does not count them.
    ``inconclusive``: the check could not gather its evidence (e.g. no point satisfies the
    assumptions); it is never a pass (``passed`` is False)."""
    name: str
    passed: bool | None
    detail: str
    claim: str = ""
    counterexample: dict | None = None
    route: str = ""
    examples: int | None = None
    inconclusive: bool = False

    def __post_init__(self):
        if self.inconclusive and self.passed is not False:
            raise ValueError(f"an inconclusive check is not a pass ({self.name})")

    @property
    def route_label(self) -> str:
        return self.route or route_of(self.name)

    def to_json(self) -> dict:
        return {"name": f"{self.claim}:{self.name}" if self.claim else self.name,
                "passed": self.passed, "detail": self.detail,
                "route": self.route_label, "examples": self.examples, "inconclusive": self.inconclusive}
