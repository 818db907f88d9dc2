"""Scenario for the threshold-neuron cards (theory/cards/threshold_neuron.py): GD on l(xy) from a sweep of
y0^2 across the transition, the card's own update rule run in torch (float64, batched over starts).

- ``threshold_neuron_transition``: x0 fixed, y0^2 on a grid from 0.3 to 2 x 2/eta (the figure: y_inf^2 vs
  y0^2 with the 2/eta line) plus seeded random starts below and above; judges ``stays_below`` (every start
  with y0^2 <= below x 2/eta keeps y^2 within rtol) and ``same_limit_above`` (every start with y0^2 in
  [above_lo, above_hi] x 2/eta ends at the same y_inf^2, within rtol of the claimed gap below 2/eta).
"""
from __future__ import annotations

import math

import sympy as sp

from gpu_validation._device import pick_device
from gpu_validation._scenarios import Curve, Panel, ScenarioResult, scenario_point, unjudged
from gpu_validation._simulate import Verdict, versions
from theory import Card, InputError, Observed

FUNCTIONS = ("tanh", "sqrt", "exp", "log", "cosh", "sinh", "cos", "sin", "abs", "atan")


def torch_update(card: Card, eta_sym: sp.Symbol):
    """The card's update rule as a torch function of (state..., eta)."""
    import torch
    names = {n: getattr(torch, n) for n in FUNCTIONS}
    fns = [sp.lambdify((*card.state, eta_sym), e, modules=[names]) for e in card.update]
    return lambda *args: [f(*args) for f in fns]


_point = scenario_point


def transition(card: Card, *, at=None, device="auto", seed=0, steps=None, progress=None) -> ScenarioResult:
    import torch
    sim = card.simulation
    eta = _point(card, at)["eta"]
    eta_sym = next(s for s in card.symbols if s.name == "eta")
    steps = int(steps or sim.steps)
    if steps < 10:
        raise InputError("steps must be >= 10")
    dev = pick_device(device)
    gen = torch.Generator().manual_seed(seed)
    n = int(sim.seeds)
    opt = {k: float(v) for k, v in sim.options.items()}
    edge = 2.0 / eta
    x0 = opt["x0"]
    grid = torch.linspace(0.3, 2.0, n, dtype=torch.float64) * edge
    below = (0.3 + (opt["below"] - 0.3) * torch.rand(n, generator=gen, dtype=torch.float64)) * edge
    above = (opt["above_lo"] + (opt["above_hi"] - opt["above_lo"]) * torch.rand(n, generator=gen,
                                                                               dtype=torch.float64)) * edge
    y0sq = torch.cat([grid, below, above]).to(dev)
    step = torch_update(card, eta_sym)
    x = torch.full_like(y0sq, x0)
    y = torch.sqrt(y0sq)
    hist = [y.clone() ** 2]
    for t in range(steps):
        x, y = step(x, y, eta)
        if (t + 1) % max(1, steps // 400) == 0:
            hist.append(y.clone() ** 2)
        if progress is not None and (t + 1) % 2000 == 0:
            progress(t + 1)
    final = (y ** 2).cpu()
    y0sq = y0sq.cpu()
    residual = (x * y).abs().cpu()
    g, b, a = slice(0, n), slice(n, 2 * n), slice(2 * n, 3 * n)
    verdicts, lines = [], []
    done = set()
    claim = next((c for c in card.claims if isinstance(c, Observed) and c.name == "stays_below"), None)
    if claim is not None:
        done.add(claim.name)
        rel = ((final[b] - y0sq[b]).abs() / y0sq[b])
        worst = float(rel.max()) if bool(torch.isfinite(final[b]).all()) else math.inf
        verdicts.append(Verdict(claim.name, claim.kind, worst <= (claim.rtol or 0.03),
                                f"{n} starts with y0^2 <= {opt['below']:g} x 2/eta: max |y_inf^2 - y0^2| / y0^2 = "
                                f"{worst:.4f} (tolerance {claim.rtol:g})"))
        lines.append(f"below: max relative change of y^2 {worst:.5f}, median {float(rel.median()):.5f}")
    claim = next((c for c in card.claims if isinstance(c, Observed) and c.name == "same_limit_above"), None)
    if claim is not None:
        done.add(claim.name)
        want = float(sp.S(claim.value).subs(eta_sym, eta))
        lo, hi = float(final[a].min()), float(final[a].max())
        converged = bool((residual[a] < 1e-8).all())
        gap_meas, gap_claim = edge - 0.5 * (lo + hi), edge - want
        rel = abs(gap_meas - gap_claim) / abs(gap_claim)
        ok = converged and (hi - lo) / edge < 1e-3 and rel <= (claim.rtol or 0.01) and hi < edge
        verdicts.append(Verdict(claim.name, claim.kind, ok,
                                f"{n} starts with y0^2 in [{opt['above_lo']:g}, {opt['above_hi']:g}] x 2/eta: "
                                f"{'all' if converged else 'not all'} converged, y_inf^2 in [{lo:.6f}, {hi:.6f}] "
                                f"(2/eta = {edge:g}); gap {gap_meas:.6f} vs claimed {gap_claim:.6f} (relative "
                                f"{rel:.2%}, tolerance {claim.rtol:.0%})"))
        lines.append(f"above: y_inf^2 = {lo:.8f} .. {hi:.8f}, claimed {want:.8f}")
    verdicts += unjudged(card, done)
    for s0, s1 in zip(y0sq[g].tolist(), final[g].tolist()):
        lines.append(f"sweep: y0^2 = {s0:9.4f} (eta y0^2/2 = {eta * s0 / 2:.3f}) -> y_inf^2 = {s1:.6f}")
    picks = [0, n // 3, n // 2, (2 * n) // 3, n - 1]
    hist_t = torch.stack(hist).cpu()
    every = max(1, steps // 400)
    ts = tuple(float(i * every) for i in range(hist_t.shape[0]))
    panels = (
        Panel(f"{card.title.split(':')[0]}: final sharpness vs initial, eta = {eta:g}", "y0^2 (initial sharpness)",
              "y_inf^2 (final sharpness)",
              (Curve(f"GD, x0 = {x0:g}", tuple(y0sq[g].tolist()), tuple(final[g].tolist()), "o-"),
               Curve("random starts below", tuple(y0sq[b].tolist()), tuple(final[b].tolist()), "v"),
               Curve("random starts above", tuple(y0sq[a].tolist()), tuple(final[a].tolist()), "^"),
               Curve("y_inf^2 = y0^2", (0.0, 2.0 * edge), (0.0, 2.0 * edge), ":")),
              hlines=(("2/eta", edge),), vlines=(("y0^2 = 2/eta", edge),)),
        Panel("sharpness y^2 along GD", "step", "y^2",
              tuple(Curve(f"y0^2 = {float(y0sq[i]):.1f}", ts, tuple(hist_t[:, i].tolist()), "-") for i in picks),
              hlines=(("2/eta", edge),)),
    )
    data = {"eta": eta, "edge": edge, "x0": x0, "y0_squared": y0sq.tolist(), "final_y2": final.tolist(),
            "groups": {"sweep": [0, n], "below": [n, 2 * n], "above": [2 * n, 3 * n]}}
    return ScenarioResult(card.id, sim.algorithm, tuple(verdicts), tuple(lines), data, panels, steps, 3 * n, seed,
                          str(dev), "float64", versions())


SCENARIOS = {"threshold_neuron_transition": transition}
