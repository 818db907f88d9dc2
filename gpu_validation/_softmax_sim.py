"""Scenario simulations for softmax step-size radii beyond the binary case (ghosts of softmax) (see
gpu_validation/_scenarios.py).

``ghosts_softmax_step``: a softmax classifier on scikit-learn digits (float64; softmax regression by
default, ``hidden`` > 0 adds one tanh layer), trained ``steps`` full-batch GD steps from the seed's
initialisation; then ONE step theta + tau v along v = -grad L with tau swept so that r = tau Delta_a / pi
runs over [0.25, 4] (and a tail up to ``r_tail`` to locate the onset). Delta_a comes from one JVP of
the logits along v: a_ik = grad z_ik . v, Delta_a,i = max_k a_ik - min_k a_ik per example; the batch
loss is the mean of the per-example losses, so its Taylor radius is at least the smallest
per-example radius, pi / max_i Delta_a,i: Delta_a = max_i Delta_a,i. (The logit-spread proxy
pi / max_i (max_k z_ik - min_k z_ik) is reported for contrast only.) The loss ratio L(theta + tau v) / L(theta)
is measured at every r.

``SCENARIOS``: name -> ``fn(card, *, at, device, seed, steps, progress) -> ScenarioResult``.
torch is imported inside the functions (this layer imports torch lazily).
"""
from __future__ import annotations

import math
import warnings

from gpu_validation._scenarios import Curve, Panel, ScenarioResult
from gpu_validation._simulate import Verdict, versions
from theory import InputError, Observed

DEFAULTS = {"n": 500.0, "hidden": 0.0, "lr": 0.5, "r_min": 0.25, "r_max": 4.0, "r_tail": 256.0, "points": 25.0,
            "inflation": 1.1}


def _options(card, at) -> dict[str, float]:
    opts = dict(DEFAULTS)
    opts.update({k: float(v) for k, v in card.simulation.options.items()})
    for name, value in (at or {}).items():
        if name not in DEFAULTS:
            raise InputError(f"card {card.id}: the softmax step scenario takes --at {', '.join(sorted(DEFAULTS))}, "
                             f"not {name!r}")
        try:
            opts[name] = float(value)
        except (TypeError, ValueError):
            raise InputError(f"--at {name} must be a number") from None
    if not (opts["n"] >= 10 and opts["hidden"] >= 0 and opts["lr"] > 0 and 0 < opts["r_min"] < 1 < opts["r_max"]
            and opts["r_tail"] >= opts["r_max"] and opts["points"] >= 5 and opts["inflation"] > 1):
        raise InputError("need n >= 10, hidden >= 0, lr > 0, 0 < r_min < 1 < r_max <= r_tail, points >= 5, "
                         "inflation > 1")
    return opts


def softmax_step(card, *, at=None, device="auto", seed=0, steps=None, progress=None) -> ScenarioResult:
    import torch
    from torch.func import jvp

    from gpu_validation._device import pick_device
    from gpu_validation._networks import digits, mlp

    opts = _options(card, at)
    steps = int(card.simulation.steps if steps is None else steps)
    if steps < 0:
        raise InputError("steps must be >= 0")
    dev = pick_device(device)
    n, hidden = int(opts["n"]), int(opts["hidden"])
    task = digits(n, "ce", device=dev)
    params, forward = mlp((64, hidden, 10) if hidden else (64, 10), seed=seed, device=dev)

    def loss(p):
        return torch.nn.functional.cross_entropy(forward(p, task.x), task.y)

    for i in range(steps):  # full-batch GD to a trained state
        p = {k: v.detach().requires_grad_() for k, v in params.items()}
        grads = torch.autograd.grad(loss(p), list(p.values()))
        params = {k: v.detach() - opts["lr"] * g for (k, v), g in zip(p.items(), grads)}
        if progress is not None:
            progress(i)
    p = {k: v.detach().requires_grad_() for k, v in params.items()}
    l0 = loss(p)
    grads = torch.autograd.grad(l0, list(p.values()))
    params = {k: v.detach() for k, v in p.items()}
    direction = {k: -g.detach() for k, g in zip(params, grads)}
    with warnings.catch_warnings():  # forward AD loads torch's jit decompositions once (a torch-internal deprecation)
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"torch\.")
        logits, slopes = jvp(lambda q: forward(q, task.x), (params,), (direction,))  # a_ik = grad z_ik . v
    spread_i = slopes.max(1).values - slopes.min(1).values
    delta_a = float(spread_i.max())
    rho_a = math.pi / delta_a
    proxy = math.pi / float((logits.max(1).values - logits.min(1).values).max())
    acc = float((logits.argmax(1) == task.y).double().mean())
    l0 = float(l0.detach())

    k = int(opts["points"])
    core = [opts["r_min"] * (opts["r_max"] / opts["r_min"]) ** (j / (k - 1)) for j in range(k)]
    ratio_step = core[1] / core[0]
    tail = []
    r = core[-1] * ratio_step
    while r <= opts["r_tail"] * (1 + 1e-12):
        tail.append(r)
        r *= ratio_step
    grid = core + tail
    ratios = []
    with torch.no_grad():
        for r in grid:
            tau = r * rho_a
            value = float(loss({key: params[key] + tau * direction[key] for key in params}))
            ratios.append(value / l0 if math.isfinite(value) else math.inf)

    below = [(r, q) for r, q in zip(grid, ratios) if r < 1]
    worst_below = max(q for _, q in below)
    increase = next((r for r, q in zip(grid, ratios) if not q < 1), None)          # first r with L >= L(0)
    inflate = next((r for r, q in zip(grid, ratios) if not q < opts["inflation"]), None)
    best = min(zip(grid, ratios), key=lambda t: t[1])

    def where(r):
        return f"r = {r:.3g}" if r is not None else f"none up to r = {grid[-1]:.3g}"

    verdicts = []
    for claim in card.claims:
        if not isinstance(claim, Observed):
            continue
        name = claim.observer or claim.name
        if name == "no_failure_below_one":
            ok = worst_below < 1
            verdicts.append(Verdict(claim.name, claim.kind, ok,
                                    f"largest L(tau)/L(0) over the {len(below)} swept r < 1: {worst_below:.4g} "
                                    f"({'every' if ok else 'not every'} step below r = 1 decreases the loss)"))
        elif name == "collapse_near_one":
            ok = inflate is not None and 1 <= inflate <= opts["r_max"]
            verdicts.append(Verdict(claim.name, claim.kind, ok,
                                    f"loss-inflation onset (L >= {opts['inflation']:g} L(0)): {where(inflate)}; "
                                    f"claimed within [1, {opts['r_max']:g}]"))
        else:
            verdicts.append(Verdict(claim.name, claim.kind, None, "no observer for this claim in this scenario"))

    model = "softmax regression 64-10" if not hidden else f"tanh MLP 64-{hidden}-10"
    lines = (f"{model} on {n} digits, {steps} GD steps (lr {opts['lr']:g}): L(0) = {l0:.5g}, accuracy {acc:.3f}",
             f"Delta_a = max_i (max_k a_ik - min_k a_ik) = {delta_a:.6g} from one JVP along -grad L; "
             f"rho_a = pi/Delta_a = {rho_a:.6g} (median per-example Delta_a {float(spread_i.median()):.4g})",
             f"logit-spread proxy pi/max_i(max_k z_ik - min_k z_ik) = {proxy:.6g} (not the JVP bound; for contrast)",
             "L(tau)/L(0) at r = 0.25, 0.5, 1, 2, 4: " + ", ".join(
                 f"{_at(grid, ratios, x):.4g}" for x in (0.25, 0.5, 1.0, 2.0, 4.0)),
             f"largest ratio below r = 1: {worst_below:.4g}; lowest loss at r = {best[0]:.3g} "
             f"(ratio {best[1]:.4g})",
             f"first r with L >= L(0): {where(increase)}; first r with L >= {opts['inflation']:g} L(0): "
             f"{where(inflate)}")
    panel = Panel("one step along -grad L: loss vs normalised step r = tau Delta_a / pi",
                  "r = tau / rho_a", "L(theta + tau v) / L(theta)",
                  (Curve("measured loss ratio", tuple(grid), tuple(ratios), "o-"),),
                  hlines=(("L(0)", 1.0), (f"{opts['inflation']:g} L(0)", opts["inflation"])),
                  vlines=(("r = 1 (tau = pi/Delta_a)", 1.0),), logx=True, logy=True)
    data = {"r": grid, "loss_ratio": ratios, "loss0": l0, "accuracy": acc, "Delta_a": delta_a, "rho_a": rho_a,
            "per_example_Delta_a_median": float(spread_i.median()), "logit_spread_rho": proxy,
            "first_increase_r": increase, "inflation_onset_r": inflate, "pretrain_steps": steps,
            "options": opts, "delta_a_definition": "max over examples of the per-example JVP slope spread"}
    return ScenarioResult(card.id, card.simulation.algorithm, tuple(verdicts), lines, data, (panel,), steps=steps,
                          seeds=1, seed=seed, device=str(dev), versions=versions())


def _at(grid, ratios, x):
    return min(zip(grid, ratios), key=lambda t: abs(math.log(t[0] / x)))[1]


SCENARIOS = {"ghosts_softmax_step": softmax_step}
