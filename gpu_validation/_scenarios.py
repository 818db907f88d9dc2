"""Scenario simulations: a card's ``Simulation(algorithm=NAME)`` that is neither a quadratic grid
nor a network run is looked up here. A topic module (``gpu_validation/_preference_sim.py``,
``_implicit_bias_sim.py``, ``_logcosh_sim.py``, ...) exposes
``SCENARIOS = {name: fn}`` with ``fn(card, *, at, device, seed, steps, progress) -> ScenarioResult``;
the function imports torch itself (this layer imports torch lazily).

A scenario returns what it measured (``data``), one ``Verdict`` per claim it judges, figure panels
(``Panel``: curves and reference lines; ``optverify`` draws them) and printable ``lines``.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from gpu_validation._simulate import Verdict, _num


@dataclass(frozen=True)
class Curve:
    label: str
    x: tuple[float, ...]
    y: tuple[float, ...]
    style: str = "-"          # a line style ("-", "--", ":", "o-") or markers only ("o", "v", "^", "s", "x", "+", "d")

    def to_json(self) -> dict:
        return {"label": self.label, "x": [_num(v) for v in self.x], "y": [_num(v) for v in self.y]}


@dataclass(frozen=True)
class Panel:
    title: str
    xlabel: str
    ylabel: str
    curves: tuple[Curve, ...]
    hlines: tuple[tuple[str, float], ...] = ()   # (label, y): predicted levels, drawn dashed
    vlines: tuple[tuple[str, float], ...] = ()
    logx: bool = False
    logy: bool = False

    def to_json(self) -> dict:
        return {"title": self.title, "xlabel": self.xlabel, "ylabel": self.ylabel,
                "curves": [c.to_json() for c in self.curves],
                "hlines": [{"label": k, "y": _num(v)} for k, v in self.hlines],
                "vlines": [{"label": k, "x": _num(v)} for k, v in self.vlines]}


@dataclass(frozen=True)
class ScenarioResult:
    id: str
    algorithm: str
    verdicts: tuple[Verdict, ...]
    lines: tuple[str, ...]                  # what the CLI prints, one measurement per line
    data: dict                              # the measured series and settings (JSON-ready)
    panels: tuple[Panel, ...] = ()
    steps: int = 0
    seeds: int = 1
    seed: int = 0
    device: str = "cpu"
    dtype: str = "float64"
    versions: dict = field(default_factory=dict)
    points: tuple = ()                      # scenarios have no threshold grid

    @property
    def agrees(self) -> bool:
        judged = [v.agrees for v in self.verdicts if v.agrees is not None]
        return bool(judged) and all(judged)

    def to_json(self, trajectories: bool = False) -> dict:
        return {"id": self.id, "algorithm": self.algorithm, "claims": [v.to_json() for v in self.verdicts],
                "agrees": self.agrees, "data": self.data, "panels": [p.to_json() for p in self.panels],
                "steps": self.steps, "seeds": self.seeds, "seed": self.seed, "device": self.device,
                "dtype": self.dtype, "versions": self.versions}


Scenario = Callable[..., ScenarioResult]


def observed_claim(card, name: str):
    """The card's Observed claim that the observer ``name`` judges (its ``observer``, else its name), or None."""
    from theory import Observed
    return next((c for c in card.claims if isinstance(c, Observed) and (c.observer or c.name) == name), None)


def unjudged(card, done) -> list[Verdict]:
    """A no-verdict entry for every Observed claim of the card that no observer in ``done`` judged."""
    from theory import Observed
    return [Verdict(c.name, c.kind, None, "no observer for this claim in this scenario")
            for c in card.claims if isinstance(c, Observed) and (c.observer or c.name) not in done]


def scenario_point(card, at) -> dict[str, float]:
    """A scenario's parameter values by name: the card's simulation bindings with the user's
    ``--at`` overrides, checked against the card's assumptions."""
    from numerics import validate_point
    from theory import Observed
    bindings = {s.name: float(v) for s, v in card.simulation.at.items()}
    bindings.update(at or {})
    point, _ = validate_point(card, bindings, claims=[c for c in card.claims if isinstance(c, Observed)],
                              require=False)
    return {s.name: float(v) for s, v in point.items()}


def scenarios() -> dict[str, Scenario]:
    """Every module of ``gpu_validation`` with a ``SCENARIOS`` dict, found by name (a new topic is one file)."""
    import importlib
    import pkgutil

    import gpu_validation
    out: dict[str, Scenario] = {}
    for info in sorted(pkgutil.iter_modules(gpu_validation.__path__), key=lambda i: i.name):
        if not info.name.endswith("_sim"):
            continue
        topic = importlib.import_module(f"gpu_validation.{info.name}")
        if not hasattr(topic, "SCENARIOS"):
            continue
        for name, fn in topic.SCENARIOS.items():
            if name in out:
                raise RuntimeError(f"scenario {name!r} is registered twice")
            out[name] = fn
    return out
