"""Scenario simulations for implicit bias on separable data (see gpu_validation/_scenarios.py).

Logistic regression (linear model, sum of per-sample losses log(1 + exp(-y_i x_i.w))) trained by the real
algorithms, batched over seeds (a seed draws the cyclic sample order and a tiny random start):
- ``inc_adam``: incremental Adam, one sample per step in a fixed cyclic order, epsilon = 0;
- ``full_adam``: full-batch Adam, epsilon = 0;
- ``signum_1`` / ``signum_full``: Signum (sign of the momentum) with batch 1 (cyclic) and the full batch;
- ``adam_proxy``: w <- w - eta_t sum_i grad L_i / sqrt(sum_i grad L_i^2);
- ``gd``: gradient descent.
All with eta_t = eta0 / sqrt(t), float64. At log-spaced checkpoints the scenario measures the normalised
margin of w in the l2, l_inf and fixed-point Mahalanobis geometries, each divided by that geometry's
optimum (numerics.max_margin / adam_fixed_point).

Verdict of an Observed claim (its ``observer`` names the target geometry: ``l2``, ``linf``,
``fixed_point``): for every algorithm the card runs, (i) the final target ratio (seed minimum) is
>= ``threshold`` (card option, default 0.95); (ii) it exceeds by >= ``gap`` (default 0.05) the target
ratio of every competing geometry's own max-margin solution, so the limit is told apart from them;
(iii) monotone approach: the mean target ratio over the last quarter of the checkpoints is at least the
mean over the second quarter (minus 1e-3). Convergence in direction is logarithmically slow: the card's
default is a short run; longer runs are ``optverify simulate ID --steps N``.
"""
from __future__ import annotations

import math
import time
from functools import partial

import numpy as np

from gpu_validation._device import single_thread
from gpu_validation._scenarios import Curve, Panel, ScenarioResult
from gpu_validation._simulate import Verdict, versions
from theory import InputError, Observed

GEOMETRIES = ("l2", "linf", "fixed_point")
COMPETING = {"l2": ("linf",), "linf": ("l2",), "fixed_point": ("l2", "linf")}
LABELS = {"inc_adam": "incremental Adam", "full_adam": "full-batch Adam", "signum_1": "Signum (batch 1)",
          "signum_full": "Signum (full batch)", "adam_proxy": "AdamProxy", "gd": "GD"}


def _targets(X: np.ndarray, y: np.ndarray) -> dict:
    """Optimal margins, the fixed-point metric, and each optimum's ratios in the other geometries."""
    from numerics._implicit_bias import adam_fixed_point, max_margin, normalised_margin
    l2, li = max_margin(X, y, "l2"), max_margin(X, y, "linf")
    fp = adam_fixed_point(X, y)
    if not fp.converged:
        raise InputError(f"the dual fixed point did not converge (residual {fp.residual:.2e}); no fixed-point target")
    mm = max_margin(X, y, "l2", metric=fp.metric)
    gamma = {"l2": l2.margin, "linf": li.margin, "fixed_point": mm.margin}
    dirs = {"l2": l2.direction, "linf": li.direction, "fixed_point": mm.direction}
    cross = {}
    for a, w in dirs.items():   # cross[a][b]: the b-ratio of a's optimum
        cross[a] = {"l2": normalised_margin(X, y, w, "l2") / gamma["l2"],
                    "linf": normalised_margin(X, y, w, "linf") / gamma["linf"],
                    "fixed_point": normalised_margin(X, y, w, "l2", fp.metric) / gamma["fixed_point"]}
    return {"gamma": gamma, "metric": fp.metric, "lambda": fp.lam, "cross": cross}


def _train(alg: str, Z, *, steps: int, eta0: float, beta1: float, beta2: float, seeds: int, seed: int,
           checkpoints: list[int], device, progress=None) -> np.ndarray:
    """Run ``alg`` for every seed; returns w at the checkpoints, shape (len(checkpoints), seeds, d)."""
    import torch
    N, d = Z.shape
    gen = torch.Generator(device="cpu").manual_seed(seed)
    order = torch.stack([torch.randperm(N, generator=gen) for _ in range(seeds)]).to(device)   # (S, N)
    w = (1e-3 * torch.randn(seeds, d, generator=gen, dtype=torch.float64)).to(device)
    m = torch.zeros_like(w)
    v = torch.zeros_like(w)
    marks = set(checkpoints)
    out = []
    for t in range(1, steps + 1):
        eta = eta0 / math.sqrt(t)
        if alg in ("inc_adam", "signum_1"):
            zi = Z[order[:, (t - 1) % N]]                                   # (S, d): this step's sample
            g = -torch.sigmoid(-(w * zi).sum(1, keepdim=True)) * zi
        elif alg == "adam_proxy":   # scale-free: weights sigma(-s_i)/sigma(-s_min) in log space (no 0/0 underflow)
            logp = torch.nn.functional.logsigmoid(-(w @ Z.T))
            # weights below e^-300 are clamped there (a 1e-130 relative change) to keep clear of slow subnormals
            G = -torch.exp((logp - logp.max(1, keepdim=True).values).clamp(min=-300.0)).unsqueeze(2) * Z
            g = G.sum(1)
        else:
            G = -torch.sigmoid(-(w @ Z.T)).unsqueeze(2) * Z                 # (S, N, d) per-sample gradients
            g = G.sum(1)
        if alg in ("inc_adam", "full_adam"):
            m.mul_(beta1).add_(g, alpha=1 - beta1)
            v.mul_(beta2).addcmul_(g, g, value=1 - beta2)
            w = w - eta * m / v.sqrt()
        elif alg in ("signum_1", "signum_full"):
            m.mul_(beta1).add_(g, alpha=1 - beta1)
            w = w - eta * torch.sign(m)
        elif alg == "adam_proxy":
            w = w - eta * g / (G * G).sum(1).sqrt()
        elif alg == "gd":
            w = w - eta * g
        else:
            raise InputError(f"unknown algorithm {alg!r}")
        if t in marks:
            out.append(w.detach().cpu().numpy().copy())
        if progress is not None and t % 1000 == 0:
            progress(t)
    return np.stack(out)


def _ratios(W: np.ndarray, Z: np.ndarray, targets: dict) -> dict[str, np.ndarray]:
    """W: (..., d) -> ratio arrays (...) per geometry (nan where w is not finite)."""
    mins = np.min(W @ Z.T, axis=-1)
    norms = {"l2": np.linalg.norm(W, axis=-1), "linf": np.max(np.abs(W), axis=-1),
             "fixed_point": np.sqrt(np.sum(targets["metric"] * W * W, axis=-1))}
    return {g: mins / norms[g] / targets["gamma"][g] for g in GEOMETRIES}


def _judge(claim, ratios: dict[str, dict[str, np.ndarray]], targets: dict, threshold: float, gap: float) -> Verdict:
    geometry = claim.observer or claim.name
    if geometry not in GEOMETRIES:
        return Verdict(claim.name, claim.kind, None, f"unknown observer {geometry!r} (known: {', '.join(GEOMETRIES)})")
    details, ok = [], True
    for alg, r in ratios.items():
        series = r[geometry]                       # (checkpoints, seeds)
        if not np.all(np.isfinite(series[-1])):
            return Verdict(claim.name, claim.kind, False, f"{LABELS[alg]}: diverged (non-finite iterate)")
        final = float(np.min(series[-1]))
        rival = max(targets["cross"][c][geometry] for c in COMPETING[geometry])
        k = len(series)
        early, late = float(np.mean(series[k // 4: k // 2])), float(np.mean(series[3 * k // 4:]))
        passed = final >= threshold and final - rival >= gap and late >= early - 1e-3
        ok &= passed
        details.append(f"{LABELS[alg]}: {geometry} ratio {final:.4f} (>= {threshold:g}: {final >= threshold}); "
                       f"competing optimum's {geometry} ratio {rival:.4f} (gap {final - rival:.4f} >= {gap:g}: "
                       f"{final - rival >= gap}); mean ratio 2nd quarter {early:.4f} -> last quarter {late:.4f}")
    return Verdict(claim.name, claim.kind, ok, "; ".join(details))


def _margins(card, *, algorithms: tuple[str, ...], at=None, device="auto", seed: int = 0, steps=None,
             progress=None) -> ScenarioResult:
    import torch

    from gpu_validation._device import pick_device
    from numerics._implicit_bias import as_data
    sim = card.simulation
    bind = {s.name: float(v) for s, v in sim.at.items()}
    data = dict(card.model.data) if card.model is not None else {}
    for name, value in (at or {}).items():
        if name in ("X", "y"):
            data[name] = value
        elif name in bind:
            try:
                bind[name] = float(value)
            except (TypeError, ValueError):
                raise InputError(f"{name} must be a number") from None
        else:
            raise InputError(f"card {card.id}: the simulation takes {', '.join(sorted(bind) + ['X', 'y'])}, "
                             f"not {name!r}")
    if "eta0" not in bind:
        raise InputError(f"card {card.id}: the simulation needs eta0")
    bind.setdefault("beta1", 0.0)       # momentum-free where the card has none
    bind.setdefault("beta2", 0.999)     # used by Adam only
    if not (bind["eta0"] > 0 and 0 <= bind["beta1"] < 1 and 0 < bind["beta2"] < 1):
        raise InputError("need eta0 > 0, 0 <= beta1 < 1, 0 < beta2 < 1")
    X, y = as_data(data.get("X"), data.get("y"))
    targets = _targets(X, y)
    steps = int(steps or sim.steps)
    if steps < 16:
        raise InputError("steps must be >= 16")
    seeds = int(sim.seeds)
    threshold, gap = float(sim.options.get("threshold", 0.95)), float(sim.options.get("gap", 0.05))
    checkpoints = sorted(set(np.unique(np.geomspace(8, steps, 40).astype(int)).tolist()) | {steps})
    dev = pick_device(device)
    torch_Z = torch.tensor(X * y[:, None], dtype=torch.float64, device=dev)
    Z = X * y[:, None]
    ratios, seconds = {}, {}
    with single_thread(dev.type == "cpu"):
        for alg in algorithms:
            t0 = time.perf_counter()
            W = _train(alg, torch_Z, steps=steps, eta0=bind["eta0"], beta1=bind["beta1"], beta2=bind["beta2"],
                       seeds=seeds, seed=seed, checkpoints=checkpoints, device=dev, progress=progress)
            seconds[alg] = time.perf_counter() - t0
            ratios[alg] = _ratios(W, Z, targets)
    verdicts = tuple(_judge(c, ratios, targets, threshold, gap) for c in card.claims if isinstance(c, Observed))
    lines = [f"optimal margins: l2 {targets['gamma']['l2']:.6g}, linf {targets['gamma']['linf']:.6g}, fixed point "
             f"{targets['gamma']['fixed_point']:.6g}; fixed point lambda {np.round(targets['lambda'], 4).tolist()}"]
    for a in GEOMETRIES:
        lines.append(f"{a} optimum's ratios: " + ", ".join(f"{b} {targets['cross'][a][b]:.4f}" for b in GEOMETRIES))
    for alg, r in ratios.items():
        lines.append(f"{LABELS[alg]} after {steps} steps (seed min): " + ", ".join(
            f"{g} {float(np.min(r[g][-1])):.4f}" for g in GEOMETRIES) + f" [{seconds[alg]:.1f} s]")
    panels = tuple(
        Panel(f"{LABELS[alg]}: normalised margin / optimum", "step", "ratio",
              tuple(Curve(g, tuple(float(c) for c in checkpoints), tuple(float(v) for v in np.min(r[g], axis=1)))
                    for g in GEOMETRIES),
              hlines=(("threshold", threshold),), logx=True)
        for alg, r in ratios.items())
    return ScenarioResult(
        id=card.id, algorithm=sim.algorithm, verdicts=verdicts, lines=tuple(lines),
        data={"at": bind, "steps": steps, "seeds": seeds, "checkpoints": checkpoints,
              "gamma": targets["gamma"], "cross": targets["cross"], "lambda": targets["lambda"].tolist(),
              "metric": targets["metric"].tolist(), "threshold": threshold, "gap": gap,
              "ratios": {alg: {g: np.min(r[g], axis=1).tolist() for g in GEOMETRIES} for alg, r in ratios.items()},
              "seconds": seconds},
        panels=panels, steps=steps, seeds=seeds, seed=seed, device=str(dev), versions=versions())


SCENARIOS: dict = {
    "margins_incremental_adam": partial(_margins, algorithms=("inc_adam",)),
    "margins_incremental_adam_and_proxy": partial(_margins, algorithms=("inc_adam", "adam_proxy")),
    "margins_full_batch_adam": partial(_margins, algorithms=("full_adam",)),
    "margins_signum": partial(_margins, algorithms=("signum_1", "signum_full")),
    "margins_gd": partial(_margins, algorithms=("gd",)),
}
