"""One check's outcome (shared by the topic modules' numeric routes)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CheckResult:
    """One check's outcome. ``passed`` is None when the check does not apply here."""
    name: str
    passed: bool | None
    detail: str
    claim: str = ""
    counterexample: dict | None = None

    def to_json(self) -> dict:
        return {"name": f"{self.claim}:{self.name}" if self.claim else self.name,
                "passed": self.passed, "detail": self.detail}
