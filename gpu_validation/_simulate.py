"""Run a card's real algorithm around its predicted threshold and compare with the claims.

The swept parameter (the card's first threshold) takes the values ``factor x predicted`` for
each factor of the card's ``Simulation``; every (factor, seed) pair is one row of a batch.
Each run is classified: ``diverged`` (non-finite, or the state norm grew past ``DIVERGE`` times
its start), ``converged`` (the state reached a fixed point or a two-cycle: |s_T - s_{T-2}| tiny)
or ``inconclusive``. Divergence is a result, never an exception.
"""
from __future__ import annotations

import math
import platform
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from gpu_validation._device import pick_device, single_thread
from numerics import claim_value, validate_point
from theory import Card, Identity, InputError, Observed, Threshold

DIVERGE = 1e8          # growth factor of the state norm that counts as divergence
CONVERGE = 1e-10       # |s_T - s_{T-2}| / (1 + |s_0|) below this counts as converged
AMPLITUDE_RTOL = 1e-8  # measured vs predicted two-cycle amplitude


@dataclass(frozen=True)
class GridPoint:
    factor: float
    value: float
    outcomes: tuple[str, ...]
    final_norms: tuple[float, ...]
    amplitudes: tuple[float, ...]
    steps_to_diverge: tuple[int | None, ...]

    @property
    def outcome(self) -> str:
        kinds = set(self.outcomes)
        return kinds.pop() if len(kinds) == 1 else "inconclusive"

    def to_json(self) -> dict:
        return {"factor": self.factor, "value": self.value, "outcome": self.outcome,
                "outcomes": list(self.outcomes), "final_norm": [_num(v) for v in self.final_norms],
                "steps_to_diverge": list(self.steps_to_diverge)}


def _num(v: float) -> float | str:
    return float(v) if np.isfinite(v) else str(v)


@dataclass(frozen=True)
class Verdict:
    claim: str
    kind: str
    agrees: bool | None
    detail: str

    def to_json(self) -> dict:
        return {"name": self.claim, "kind": self.kind, "agrees": self.agrees, "detail": self.detail}


@dataclass(frozen=True)
class SimResult:
    id: str
    algorithm: str
    param: str
    predicted: float
    points: tuple[GridPoint, ...]
    verdicts: tuple[Verdict, ...]
    at: dict[str, float]
    spectrum: tuple[float, ...]
    steps: int
    seeds: int
    seed: int
    device: str
    dtype: str
    versions: dict[str, str]
    norms: np.ndarray = field(repr=False, compare=False)  # (steps + 1, len(points), seeds)

    @property
    def agrees(self) -> bool:
        judged = [v.agrees for v in self.verdicts if v.agrees is not None]
        return bool(judged) and all(judged)

    @property
    def grid(self) -> list[float]:
        return [p.value for p in self.points]

    def to_json(self, trajectories: bool = False) -> dict:
        out = {"id": self.id, "algorithm": self.algorithm, "param": self.param, "predicted": self.predicted,
               "grid": self.grid, "points": [p.to_json() for p in self.points],
               "claims": [v.to_json() for v in self.verdicts], "agrees": self.agrees,
               "at": self.at, "spectrum": list(self.spectrum), "steps": self.steps, "seeds": self.seeds,
               "seed": self.seed, "device": self.device, "dtype": self.dtype, "versions": self.versions}
        if trajectories:
            out["state_norms"] = [[[_num(v) for v in row] for row in step] for step in self.norms.tolist()]
        return out


def versions() -> dict:
    """The environment of numerics (packages, BLAS) plus torch and its thread count."""
    import torch

    from numerics._environment import environment
    return {**environment(), "torch": torch.__version__, "torch_threads": torch.get_num_threads()}


def run_batch(algorithm, problem, hp: Mapping[str, object], x0, steps: int,
              progress: Callable[[int], None] | None = None, init: Mapping[str, object] | None = None) -> dict:
    """Iterate a batched method: ``algorithm`` is a compiled card ``Rule`` (gradients by autograd
    of the problem's loss) or the name of a hand-written reference in ``_algorithms`` (analytic
    gradients). Returns state norms per step, the outcome per row and the final iterates. Rows that
    diverge are frozen at their last finite state. ``init``: the starting state (default: the rule's)."""
    import torch

    from gpu_validation._algorithms import ALGORITHMS
    from gpu_validation._compiled import Oracle, Rule

    if isinstance(algorithm, Rule):
        oracle = Oracle(problem.loss, problem.precond)
        rule = algorithm
        state = dict(init) if init is not None else rule.init(x0)
        first = rule.state[0]

        def advance(s, t):
            return rule.step(s, oracle, hp)
    else:
        algo = ALGORITHMS[algorithm]
        state = dict(init) if init is not None else algo.init(x0, hp)
        first = "z" if algorithm == "schedule_free_sgd" else "x"

        def advance(s, t):
            return algo.step(s, problem.grad, hp, t)

    def flat(s):
        return torch.cat([s[k] for k in sorted(s)], dim=-1)

    start = torch.linalg.vector_norm(flat(state), dim=-1)
    limit = DIVERGE * (1 + start)
    diverged = torch.zeros_like(start, dtype=torch.bool)
    diverged_at = torch.full_like(start, -1, dtype=torch.long)
    norms = [start]
    history = [flat(state)]
    chunk = max(1, steps // 100)
    for t in range(1, steps + 1):
        new = advance(state, t)
        n = torch.linalg.vector_norm(flat(new), dim=-1)
        bad = ~torch.isfinite(n) | (n > limit)
        newly = bad & ~diverged
        diverged_at = torch.where(newly, torch.full_like(diverged_at, t), diverged_at)
        diverged = diverged | bad
        keep = diverged[:, None]
        state = {k: torch.where(keep, state[k], new[k]) for k in new}
        norms.append(torch.where(diverged, torch.full_like(n, float("inf")), n))
        history = (history + [flat(state)])[-3:]
        if progress is not None and (t % chunk == 0 or t == steps):
            progress(t)
    change = torch.linalg.vector_norm(history[-1] - history[-3], dim=-1) / (1 + start)
    converged = ~diverged & (change <= CONVERGE)
    last_x = state[first]
    return {"norms": torch.stack(norms).cpu().numpy(), "diverged": diverged.cpu().numpy(),
            "converged": converged.cpu().numpy(), "diverged_at": diverged_at.cpu().numpy(),
            "final_norm": torch.linalg.vector_norm(flat(state), dim=-1).cpu().numpy(),
            "amplitude": torch.linalg.vector_norm(last_x, dim=-1).cpu().numpy(),
            "x": last_x.cpu().numpy()}


def _threshold_of(card: Card) -> Threshold:
    for c in card.claims:
        if isinstance(c, Threshold):
            return c
    raise InputError(f"card {card.id} has no threshold claim to sweep")


def simulate(card: Card, *, at: Mapping[str, object] | None = None, device: str | None = "auto",
             seed: int = 0, steps: int | None = None, seeds: int | None = None,
             factors: Sequence[float] | None = None,
             progress: Callable[[int], None] | None = None, noncommuting: bool = False) -> SimResult:
    """Run ``card``'s own update rule, compiled, at its ``Simulation`` point (``at`` overrides
    bindings, ``spectrum`` included) over ``factors`` x the predicted threshold; a card with a
    ``scenario`` runs that experiment instead."""
    import torch

    from gpu_validation._compiled import compile_rule
    from gpu_validation._problems import quadratic

    sim = card.simulation
    if sim is None:
        raise InputError(f"card {card.id} has no simulation")
    if sim.scenario in NETWORK_SCENARIOS:
        return simulate_network(card, at=at, device=device, seed=seed, steps=steps, progress=progress)
    from gpu_validation._scenarios import scenarios
    table = scenarios()
    if sim.scenario in table:
        if noncommuting:
            raise InputError(f"card {card.id}: --noncommuting does not apply")
        return table[sim.scenario](card, at=at, device=device, seed=seed, steps=steps, progress=progress)
    if sim.scenario:
        raise InputError(f"card {card.id} names unknown scenario {sim.scenario!r} (scenarios: "
                         f"{', '.join(sorted(set(table) | set(NETWORK_SCENARIOS)))}); a card is simulated from its "
                         "own update rule when it names none")
    if card.estimator is not None:
        return simulate_mean_square(card, at=at, device=device, seed=seed, steps=steps, seeds=seeds,
                                    factors=factors, progress=progress, noncommuting=noncommuting)
    if noncommuting:
        raise InputError(f"card {card.id} is not a preconditioned zeroth-order card: --noncommuting does not apply")
    rule = compile_rule(card)
    threshold = _threshold_of(card)
    bindings: dict[str, object] = {s.name: v for s, v in sim.at.items()}
    if sim.spectrum:
        bindings["spectrum"] = list(sim.spectrum)
    for name, value in (at or {}).items():
        bindings[name] = value
        if name == "spectrum" and card.eigenvalue is not None:
            bindings.pop(card.eigenvalue.name, None)
        if card.eigenvalue is not None and name == card.eigenvalue.name:
            bindings.pop("spectrum", None)
    if threshold.param.name in bindings:
        raise InputError(f"{threshold.param.name} is swept by the simulation; do not bind it")
    point, spectrum = validate_point(card, bindings, claims=[threshold])
    if spectrum is None:
        spectrum = [point[card.eigenvalue]] if card.eigenvalue is not None and card.eigenvalue in point else None
    if not spectrum:
        raise InputError(f"card {card.id}: the simulation needs a spectrum")
    steps = int(steps or sim.steps)
    seeds = int(seeds or sim.seeds)
    factors = tuple(float(f) for f in (factors or sim.factors))
    if steps < 3 or seeds < 1 or not factors or any(not f > 0 for f in factors):
        raise InputError("steps must be >= 3, seeds >= 1 and factors positive")

    predicted = claim_value(card, threshold, point, spectrum)
    if not (math.isfinite(predicted) and predicted > 0):
        raise InputError(f"card {card.id}: the claimed {threshold.param.name}* = {predicted:.6g} at this point is not a "
                         "positive number, so there is no step size to sweep around")
    unbound = sorted(p for p in rule.params if p != threshold.param.name and card.symbol(p) not in point)
    if unbound:
        raise InputError(f"card {card.id}: the simulation needs a value for {', '.join(unbound)} "
                         f"(--at {unbound[0]}=...)")
    dev = pick_device(device)
    dtype = torch.float64
    problem = quadratic(spectrum, seed=seed, dtype=dtype, device=dev, preconditioned=rule.uses_precond)
    d = problem.dim
    rows = len(factors) * seeds
    gen = torch.Generator().manual_seed(seed + 1)
    x0 = torch.randn(seeds, d, generator=gen, dtype=torch.float64).repeat(len(factors), 1).to(dev)
    hp: dict[str, object] = {s.name: torch.full((rows, 1), float(v), dtype=dtype, device=dev)
                             for s, v in point.items()}
    swept = torch.tensor([f * predicted for f in factors], dtype=dtype, device=dev).repeat_interleave(seeds)
    hp[threshold.param.name] = swept[:, None]
    out = run_batch(rule, problem, hp, x0, steps, progress)

    points = []
    for i, f in enumerate(factors):
        sl = slice(i * seeds, (i + 1) * seeds)
        outcomes = tuple("diverged" if dv else "converged" if cv else "inconclusive"
                         for dv, cv in zip(out["diverged"][sl], out["converged"][sl]))
        points.append(GridPoint(f, f * predicted, outcomes, tuple(map(float, out["final_norm"][sl])),
                                tuple(map(float, out["amplitude"][sl])),
                                tuple(int(k) if k >= 0 else None for k in out["diverged_at"][sl])))
    norms = out["norms"].reshape(steps + 1, len(factors), seeds)
    verdicts = tuple(_verdict(card, claim, threshold, points, point, spectrum) for claim in card.claims)
    return SimResult(card.id, sim.algorithm, threshold.param.name, predicted, tuple(points), verdicts,
                     {s.name: float(v) for s, v in point.items()}, tuple(spectrum), steps, seeds, seed,
                     str(dev), str(dtype).replace("torch.", ""), versions(), norms)


def _stable_pattern(points: Sequence[GridPoint]) -> tuple[bool, str]:
    below = [p for p in points if p.factor < 1]
    above = [p for p in points if p.factor > 1]
    ok_below = all(o == "converged" for p in below for o in p.outcomes)
    ok_above = all(o == "diverged" for p in above for o in p.outcomes)
    detail = ("; ".join(f"{p.factor:g}x: {p.outcome}" for p in points))
    return ok_below and ok_above, detail


def _verdict(card: Card, claim, threshold: Threshold, points, point, spectrum) -> Verdict:
    if claim is threshold:
        ok, detail = _stable_pattern(points)
        return Verdict(claim.name, claim.kind, ok, f"converged below / diverged above the prediction: {detail}")
    if isinstance(claim, Observed):
        observer = OBSERVERS.get(claim.name)
        if observer is None:
            return Verdict(claim.name, claim.kind, None, "no observer for this claim in this scenario")
        ok, detail = observer(points)
        return Verdict(claim.name, claim.kind, ok, detail)
    if isinstance(claim, Identity) and claim.derivation in IDENTITY_MEASURES:
        return IDENTITY_MEASURES[claim.derivation](card, claim, threshold, points, point, spectrum)
    return Verdict(claim.name, claim.kind, None, "not measured by this simulation")


def _observe_bounded(points: Sequence[GridPoint]) -> tuple[bool, str]:
    ok, detail = _stable_pattern(points)
    return ok, f"bounded (settled) below / diverged above the threshold: {detail}"


def _measure_two_cycle(card, claim, threshold, points, point, spectrum) -> Verdict:
    if len(spectrum) != 1:
        return Verdict(claim.name, claim.kind, None, "two-cycle amplitude is measured on one-dimensional runs")
    lam = {card.eigenvalue: spectrum[0]} if card.eigenvalue is not None else {}
    worst, rows = 0.0, []
    for p in points:
        if p.factor >= 1:
            continue
        here = {**point, **lam, threshold.param: p.value}
        predicted = claim_value(card, claim, here)
        for a in p.amplitudes:
            worst = max(worst, abs(a - predicted) / predicted)
        rows.append(f"{p.factor:g}x: {np.mean(p.amplitudes):.10g} vs {predicted:.10g}")
    ok = bool(rows) and worst <= AMPLITUDE_RTOL
    return Verdict(claim.name, claim.kind, ok, f"measured vs predicted amplitude (worst rel. error {worst:.1e}): "
                   + "; ".join(rows))


OBSERVERS: dict[str, Callable[[Sequence[GridPoint]], tuple[bool, str]]] = {"bounded": _observe_bounded}
IDENTITY_MEASURES = {"symmetric_two_cycle": _measure_two_cycle}


# -- mean-square (zeroth-order) cards ------------------------------------------------------------

Z_MAX = 5.0         # early-time |MC mean - exact| / standard error allowed
EARLY_STEPS = 10    # steps over which the Monte Carlo mean must track the exact recursion (tails stay light)
GROWTH = 10.0       # final E||x||^2 / start beyond which a run group counts as growing (and 1/GROWTH: decaying)


@dataclass(frozen=True)
class MeanSquarePoint:
    factor: float
    value: float
    outcome: str                 # converged | diverged | inconclusive (from the Monte Carlo means)
    exact_outcome: str
    mc_mean: tuple[float, ...]   # E||x_t||^2 over the runs, t = 0..steps
    mc_se: tuple[float, ...]
    exact: tuple[float, ...]     # the exact second-moment recursion on the same H
    max_early_z: float
    nonfinite: int

    @property
    def outcomes(self) -> tuple[str, ...]:
        return (self.outcome,)

    def to_json(self) -> dict:
        return {"factor": self.factor, "value": self.value, "outcome": self.outcome,
                "exact_outcome": self.exact_outcome, "mc_final": _num(self.mc_mean[-1]),
                "exact_final": _num(self.exact[-1]), "start": self.exact[0], "max_early_z": self.max_early_z,
                "nonfinite_runs": self.nonfinite}


def _classify(start: float, final: float) -> str:
    if not np.isfinite(final) or final >= GROWTH * start:
        return "diverged"
    if final <= start / GROWTH:
        return "converged"
    return "inconclusive"


def simulate_mean_square(card: Card, *, at=None, device="auto", seed=0, steps=None, seeds=None, factors=None,
                         progress=None, noncommuting: bool = False) -> SimResult:
    """Monte Carlo of the real ZO method (finite-difference estimator) at factors x eta*, compared
    with the exact second-moment recursion on the same Hessian.

    ``noncommuting`` (preconditioned cards): a random diagonal P and a dense H with
    eig(P^-1 H) = spectrum, outside the claim's assumption P H = H P. The verdict then reports
    where the exact operator's threshold lies relative to the formula, and whether the runs at the
    formula's factors behave as the formula predicts (they need not)."""
    import torch

    from gpu_validation._zo import zo_monte_carlo
    from numerics._evaluate import with_spectral
    from numerics._mean_square import SecondMomentMap, commuting_problem
    from theory import MeanSquareThreshold

    from gpu_validation._compiled import compile_rule

    sim = card.simulation
    claim = next(c for c in card.claims if isinstance(c, MeanSquareThreshold))
    rule = compile_rule(card)
    bindings: dict[str, object] = {s.name: v for s, v in sim.at.items()}
    bindings["spectrum"] = list(sim.spectrum)
    bindings.update(at or {})
    if claim.param.name in bindings:
        raise InputError(f"{claim.param.name} is swept by the simulation; do not bind it")
    point, spectrum = validate_point(card, bindings, claims=[claim])
    if spectrum is None:
        raise InputError("a mean-square simulation needs spectrum=[...]")
    point = with_spectral(card, point, spectrum)
    runs = int(seeds or sim.seeds)
    factors = tuple(float(f) for f in (factors or sim.factors))
    predicted = claim_value(card, claim, point, spectrum)
    if noncommuting:
        if card.estimator is None or not card.estimator.preconditioned:
            raise InputError(f"card {card.id} has no preconditioner: --noncommuting does not apply")
        from numerics._mean_square import noncommuting_problem, operator_root
        hessian, precond = noncommuting_problem(spectrum, seed)
        exact_root = operator_root(lambda e: SecondMomentMap(card, claim.param, e, point, hessian, precond)
                                   .spectral_radius(), 0.5 * predicted, 2.0 * predicted)
    else:
        hessian, precond = commuting_problem(card, spectrum, seed)
    d = hessian.shape[0]
    k = len(card.state)
    maps = [SecondMomentMap(card, claim.param, f * predicted, point, hessian, precond) for f in factors]
    if steps is None:  # long enough for the exact recursion to move 1e3-fold at the nearest factor
        rates = [abs(np.log(max(m.spectral_radius(), 1e-300))) for m in maps]
        steps = int(min(2000, max(50, np.ceil(np.log(1e3) / max(min(rates), 1e-9)))))
    S0 = np.zeros((k * d, k * d))
    S0[:d, :d] = np.eye(d) / d            # x0 ~ N(0, I/d), other state variables start at 0
    exact = [m.second_moments(S0, steps) for m in maps]

    dev = pick_device(device)
    n_dir = int(card.estimator.n.subs({s: point[s] for s in card.estimator.n.free_symbols}))
    unbound = sorted(p for p in rule.params if p != claim.param.name and card.symbol(p) not in point)
    if unbound:
        raise InputError(f"card {card.id}: the simulation needs a value for {', '.join(unbound)} (--at {unbound[0]}=...)")
    hp = {name: torch.tensor([point[card.symbol(name)]] * (len(factors) * runs), dtype=torch.float64,
                             device=dev)[:, None] for name in rule.params if name != claim.param.name}
    hp[claim.param.name] = torch.tensor([f * predicted for f in factors], dtype=torch.float64,
                                        device=dev).repeat_interleave(runs)[:, None]
    out = zo_monte_carlo(rule, torch.tensor(hessian, dtype=torch.float64, device=dev), hp, runs=runs,
                         steps=steps, n_directions=n_dir, directions=card.estimator.directions, seed=seed,
                         precond=None if precond is None else torch.tensor(precond, dtype=torch.float64, device=dev),
                         progress=progress)
    points = []
    for i, f in enumerate(factors):
        mc, se = out["sq_norm_mean"][:, i], out["sq_norm_se"][:, i]
        early = slice(1, min(EARLY_STEPS, steps) + 1)
        z = np.abs(mc[early] - exact[i][early]) / np.maximum(se[early], 1e-300)
        points.append(MeanSquarePoint(f, f * predicted, _classify(mc[0], mc[-1]), _classify(exact[i][0], exact[i][-1]),
                                      tuple(map(float, mc)), tuple(map(float, se)), tuple(map(float, exact[i])),
                                      float(np.max(z)), int(out["nonfinite"][i])))
    if noncommuting:  # judge against the exact operator's threshold, not the formula's
        ok = all(p.outcome == p.exact_outcome == ("converged" if p.value < exact_root else "diverged")
                 for p in points if abs(p.value / exact_root - 1) > 0.02) and abs(predicted / exact_root - 1) < 1e-6
    else:
        ok = all(p.outcome == p.exact_outcome == ("converged" if p.factor < 1 else "diverged") for p in points)
    z_ok = all(p.max_early_z <= Z_MAX for p in points)
    detail = "; ".join(f"{p.factor:g}x: MC {p.mc_mean[-1]:.3g} / exact {p.exact[-1]:.3g} from {p.exact[0]:.3g} "
                       f"({p.outcome}), early |z| <= {p.max_early_z:.2f}" for p in points)
    head = (f"NON-COMMUTING P (outside the claim's assumptions): the exact operator's threshold is "
            f"{exact_root:.6g}, the formula says {predicted:.6g} ({100 * (predicted / exact_root - 1):+.1f} %). "
            if noncommuting else "")
    verdicts = [Verdict(claim.name, claim.kind, ok and z_ok,
                        head + f"E||x_T||^2 after {steps} steps, {runs} runs per point (means, never medians): {detail}")]
    verdicts += [Verdict(c.name, c.kind, None, "not measured by this simulation") for c in card.claims if c is not claim]
    norms = np.stack([np.stack([np.asarray(p.mc_mean), np.asarray(p.exact)], axis=1) for p in points], axis=1)
    return SimResult(card.id, sim.algorithm, claim.param.name, predicted, tuple(points), tuple(verdicts),
                     {s.name: float(v) for s, v in point.items()}, tuple(spectrum), steps, runs, seed, str(dev),
                     "float64", versions(), norms)


# -- networks: observed edge-of-stability claims -------------------------------------------------

NETWORK_SCENARIOS = ("gd_mlp", "adam_mlp")
LATE = 0.4  # the last 40 % of the measurements count as "late in training"


@dataclass(frozen=True)
class NetworkPoint:
    param: str
    value: float                    # the swept parameter (e.g. eta)
    predicted: float                # the claim's value there (e.g. 2/eta)
    outcome: str                    # agrees | disagrees | diverged
    steps: tuple[int, ...]
    loss: tuple[float, ...]
    sharpness: tuple[float, ...]
    detail: str
    hvps: int

    @property
    def factor(self) -> float:
        return 1.0

    @property
    def outcomes(self) -> tuple[str, ...]:
        return (self.outcome,)

    def to_json(self) -> dict:
        return {self.param: self.value, "predicted": self.predicted, "outcome": self.outcome, "detail": self.detail,
                "steps": list(self.steps), "loss": [_num(v) for v in self.loss],
                "sharpness": [_num(v) for v in self.sharpness], "hvps": self.hvps}


def _settles_at(steps, sharp, predicted, rtol):
    late = np.asarray(sharp[int(len(sharp) * (1 - LATE)):])
    med = float(np.median(late))
    ok = abs(med / predicted - 1) <= rtol and np.all(np.abs(late / predicted - 1) <= 2 * rtol)
    return bool(ok), (f"late median {med:.4g} vs {predicted:.4g} ({100 * (med / predicted - 1):+.1f} %), late range "
                      f"[{late.min():.4g}, {late.max():.4g}]")


def _rises_below(steps, sharp, predicted, rtol):
    s = np.asarray(sharp)
    early = float(np.min(s[1:4])) if len(s) > 4 else float(s[0])  # after the first transient
    final = float(np.median(s[int(len(s) * (1 - LATE)):]))
    ok = final >= 1.05 * early and float(np.max(s[1:])) <= predicted * (1 + rtol)
    return bool(ok), f"early {early:.4g} -> late {final:.4g} ({100 * (final / early - 1):+.1f} %), max {s[1:].max():.4g} " \
                     f"vs 2/eta-type bound {predicted:.4g}"


NETWORK_OBSERVERS = {"settles_at": _settles_at, "rises_below": _rises_below}


def simulate_network(card: Card, *, at=None, device="auto", seed=0, steps=None, progress=None) -> SimResult:
    """Train the card's network at every value of its sweep and judge each observed claim."""
    import torch  # noqa: F401  (imported for the device choice below)

    from gpu_validation._networks import digits, mlp, run_adam, run_gd

    sim = card.simulation
    if len(sim.sweep) != 1:
        raise InputError(f"card {card.id}: a network simulation sweeps exactly one parameter")
    ((param, values),) = sim.sweep.items()
    bindings = {s.name: v for s, v in sim.at.items()}
    bindings.update(at or {})
    if param.name in bindings:
        values = (float(bindings.pop(param.name)),)
    dev = pick_device(device)
    steps = int(steps or sim.steps)
    every = int(sim.options.get("every", max(1, steps // 30)))
    task = digits(int(sim.options.get("n", 500)), "mse", device=dev)
    params, forward = mlp((64, int(sim.options.get("width", 32)), 10), seed=seed, device=dev,
                          init_scale=float(sim.options.get("init_scale", 1.0)))
    claims = [c for c in card.claims if isinstance(c, Observed)]
    points, verdicts = [], []
    for claim in claims:
        observer = NETWORK_OBSERVERS.get(claim.observer or claim.name)
        if observer is None or claim.value is None:
            verdicts.append(Verdict(claim.name, claim.kind, None, "no observer for this claim"))
            continue
        rows, oks = [], []
        for v in values:
            point, _ = validate_point(card, {**bindings, param.name: v}, claims=[claim])
            predicted = claim_value(card, claim, point)
            # one intra-op thread on the CPU: the reductions, hence the trajectory, do not depend on the core count
            with single_thread(dev.type == "cpu"):
                if sim.algorithm == "gd_mlp":
                    tr = run_gd(task, forward, params, v, steps, every, progress)
                elif sim.algorithm == "adam_mlp":
                    # the card's own bindings of Adam's hyper-parameters (by name); run_adam's defaults otherwise
                    hyper = {s.name: float(x) for s, x in point.items() if s.name in ("beta1", "beta2", "eps")}
                    tr = run_adam(task, forward, params, v, steps, every, progress=progress, **hyper)
                else:
                    raise InputError(f"card {card.id}: unknown network scenario {sim.algorithm!r}")
            if len(tr.steps) < 5 or tr.steps[-1] < steps - every:
                ok, detail, outcome = False, "the run diverged before the end", "diverged"
            else:
                ok, detail = observer(tr.steps, tr.sharpness, predicted, claim.rtol or 0.1)
                start = tr.sharpness[0]
                detail += f"; starts at {start:.4g} ({'below' if start < predicted else 'above'} the predicted level)"
                outcome = "agrees" if ok else "disagrees"
            oks.append(ok)
            rows.append(f"{param.name}={v:g}: {detail}")
            points.append(NetworkPoint(param.name, v, predicted, outcome, tuple(tr.steps), tuple(tr.loss),
                                       tuple(tr.sharpness), detail, tr.hvps))
        verdicts.append(Verdict(claim.name, claim.kind, all(oks), "; ".join(rows)))
    first = points[0] if points else None
    return SimResult(card.id, sim.algorithm, param.name, first.predicted if first else float("nan"), tuple(points),
                     tuple(verdicts), {s.name: float(x) for s, x in sim.at.items()}, (), steps, 1, seed, str(dev),
                     "float64", versions(), np.zeros((0, len(points), 1)))
