"""Scenario simulations for GD / SAM / USAM on L(x, y) = log cosh(xy) (see gpu_validation/_scenarios.py).

``SCENARIOS``: name -> ``fn(card, *, at, device, seed, steps, progress) -> ScenarioResult``.
torch is imported inside the functions (this layer imports torch lazily). All runs are batched over
starts (one row per start) in float64; starts are drawn from the seeded generator.

- ``logcosh_gd_alignment``: GD from starts in the card's box; (p, q) = (xy, 2/(eta (x^2 + y^2))) per
  step; judges ``alignment`` (median |q - tanh(p)/p| over the oscillating phase, per start).
- ``logcosh_gd_final_sharpness``: GD from starts above (y0^2 >= above * 2/eta) and below
  (y0^2 <= below * 2/eta) the threshold, and across the transition band for the figure; judges
  ``final_sharpness`` and ``below_threshold``.
- ``logcosh_sam_drift``: SAM and USAM from one start near the minima manifold, for every rho of the
  sweep; judges ``sam_drifts`` and ``usam_stalls``.
"""
from __future__ import annotations

import math

from gpu_validation._device import pick_device
from gpu_validation._scenarios import Curve, Panel, ScenarioResult, scenario_point
from gpu_validation._simulate import Verdict, versions
from numerics import validate_point
from theory import Card, InputError, Observed


_point = scenario_point


def _opt(card: Card, name: str) -> float:
    return float(card.simulation.options[name])


def _gd(x, y, eta: float, steps: int, progress=None):
    """Batched GD on log cosh(xy); returns the (steps + 1, n) histories of x and y."""
    import torch
    xs, ys = [x], [y]
    for t in range(steps):
        th = torch.tanh(x * y)
        x, y = x - eta * y * th, y - eta * x * th
        xs.append(x)
        ys.append(y)
        if progress is not None and (t + 1) % 500 == 0:
            progress(t + 1)
    return torch.stack(xs), torch.stack(ys)


def _setup(card: Card, at, steps, device, seed):
    """The card's simulation, eta, the step count (>= 10), the device, a seeded generator, the number of starts."""
    import torch
    sim = card.simulation
    eta = _point(card, at)["eta"]
    steps = int(steps or sim.steps)
    if steps < 10:
        raise InputError("steps must be >= 10")
    return sim, eta, steps, pick_device(device), torch.Generator().manual_seed(seed), int(sim.seeds)


def _claim(card: Card, name: str) -> Observed | None:
    return next((c for c in card.claims if isinstance(c, Observed) and (c.observer or c.name) == name), None)


def _fail_verdicts(card: Card, done: set[str]) -> list[Verdict]:
    return [Verdict(c.name, c.kind, None, "no observer for this claim in this scenario")
            for c in card.claims if isinstance(c, Observed) and (c.observer or c.name) not in done]


def alignment(card: Card, *, at=None, device="auto", seed=0, steps=None, progress=None) -> ScenarioResult:
    import torch
    sim, eta, steps, dev, gen, n = _setup(card, at, steps, device, seed)
    x0 = _opt(card, "x_lo") + (_opt(card, "x_hi") - _opt(card, "x_lo")) * torch.rand(n, generator=gen,
                                                                                      dtype=torch.float64)
    y0 = _opt(card, "y_lo") + (_opt(card, "y_hi") - _opt(card, "y_lo")) * torch.rand(n, generator=gen,
                                                                                      dtype=torch.float64)
    xs, ys = _gd(x0.to(dev), y0.to(dev), eta, steps, progress)
    p = (xs * ys).cpu()
    q = (2.0 / (eta * (xs**2 + ys**2))).cpu()
    finite = torch.isfinite(p).all(dim=0) & torch.isfinite(q).all(dim=0)
    ap = p.abs().clamp_min(1e-300)
    gap = (q - torch.tanh(ap) / ap).abs()
    p_min = _opt(card, "p_min")
    medians, lines, curves = [], [], []
    for j in range(n):
        if not bool(finite[j]):
            medians.append(math.inf)
            lines.append(f"start {j} (x0={float(x0[j]):.3f}, y0={float(y0[j]):.3f}): diverged")
            continue
        peak = int(torch.argmax(p[:, j].abs()))
        mask = (torch.arange(steps + 1) >= peak) & (p[:, j].abs() >= p_min)
        if int(mask.sum()) < 5:
            medians.append(math.inf)
            lines.append(f"start {j}: no oscillating phase (|p| >= {p_min} for < 5 steps after the peak)")
            continue
        med = float(gap[mask, j].median())
        medians.append(med)
        lines.append(f"start {j} (x0={float(x0[j]):.3f}, y0={float(y0[j]):.3f}): {int(mask.sum())} oscillating "
                     f"steps, median |q - tanh(p)/p| = {med:.4f} (max {float(gap[mask, j].max()):.4f}; at the "
                     f"start {float(gap[0, j]):.4f}), final y^2 = {float(ys[-1, j]) ** 2:.5f}")
        curves.append(Curve(f"start {j}", tuple(p[:, j].tolist()), tuple(q[:, j].tolist()), "o"))
    grid = torch.linspace(-3.5, 3.5, 351, dtype=torch.float64)
    grid = grid[grid.abs() > 1e-9]
    curve = Curve("q = tanh(p)/p", tuple(grid.tolist()), tuple((torch.tanh(grid) / grid).tolist()), "-")
    verdicts = []
    claim = _claim(card, "alignment")
    if claim is not None:
        tol = claim.rtol or 0.02
        ok = all(m <= tol for m in medians)
        verdicts.append(Verdict(claim.name, claim.kind, ok, f"median |q - tanh(p)/p| over the oscillating phase: "
                                f"worst {max(medians):.4f} over {n} starts (tolerance {tol:g}) at eta = {eta:g}"))
    verdicts += _fail_verdicts(card, {"alignment"})
    panel = Panel(f"(p, q) plane, eta = {eta:g}: GD iterates and the bifurcation curve", "p = xy",
                  "q = 2 / (eta (x^2 + y^2))", (curve, *curves), hlines=(("q = 1 (sharpness = 2/eta)", 1.0),))
    data = {"eta": eta, "x0": x0.tolist(), "y0": y0.tolist(), "median_gap": medians,
            "final_y2": (ys[-1].cpu() ** 2).tolist(), "p_min": p_min}
    return ScenarioResult(card.id, sim.algorithm, tuple(verdicts), tuple(lines), data, (panel,), steps, n, seed,
                          str(dev), "float64", versions())


def final_sharpness(card: Card, *, at=None, device="auto", seed=0, steps=None, progress=None) -> ScenarioResult:
    import torch
    sim, eta, steps, dev, gen, n = _setup(card, at, steps, device, seed)
    edge = 2.0 / eta
    above, below, y_max = _opt(card, "above"), _opt(card, "below"), _opt(card, "y_max")
    x_lo, x_hi = _opt(card, "x_lo"), _opt(card, "x_hi")
    y_above_lo = math.sqrt(above * edge)
    if y_max <= y_above_lo:
        y_max = 1.5 * y_above_lo
    # three groups of n starts: above the threshold, below it, and a sweep of y0^2 across it (figure)
    u = torch.rand(3, n, generator=gen, dtype=torch.float64)
    xa = x_lo + (x_hi - x_lo) * u[0]
    ya = y_above_lo + (y_max - y_above_lo) * torch.rand(n, generator=gen, dtype=torch.float64)
    yb_hi = math.sqrt(below * edge)
    yb = (0.4 + 0.6 * torch.rand(n, generator=gen, dtype=torch.float64)) * yb_hi
    xb = x_lo + (x_hi - x_lo) * u[1]
    xb = torch.minimum(xb.abs(), 0.5 * yb) * torch.sign(xb)  # keep |x0| < y0 (y is the large factor)
    ys_sweep = torch.sqrt(torch.linspace(0.3 * edge, y_max**2, n, dtype=torch.float64))
    xs_sweep = 0.05 + 0.0 * u[2]
    x0 = torch.cat([xa, xb, xs_sweep]).to(dev)
    y0 = torch.cat([ya, yb, ys_sweep]).to(dev)
    xs, ys = _gd(x0, y0, eta, steps, progress)
    x_end, y2_end = xs[-1].cpu(), (ys[-1] ** 2).cpu()
    x0, y0 = x0.cpu(), y0.cpu()
    finite = torch.isfinite(x_end) & torch.isfinite(y2_end)
    lines, verdicts = [], []
    a, b = slice(0, n), slice(n, 2 * n)
    conv_a = finite[a] & (x_end[a] * ys[-1, a].cpu()).abs().lt(1e-8)
    claim = _claim(card, "final_sharpness")
    if claim is not None:
        tol = claim.rtol or 0.03
        lo_a, hi_a = float(y2_end[a].min()), float(y2_end[a].max())
        inside = bool(conv_a.all()) and lo_a >= (1 - tol) * edge and hi_a < edge
        spread = (hi_a - lo_a) / edge
        ok = inside and spread <= 1e-3
        verdicts.append(Verdict(claim.name, claim.kind, ok,
                                f"{n} starts with y0^2 in [{above:g}, {y_max**2 / edge:.2f}] x 2/eta: "
                                f"{int(conv_a.sum())} converged, y_inf^2 in [{lo_a:.6f}, {hi_a:.6f}] vs 2/eta = "
                                f"{edge:g} (band [{(1 - tol) * edge:.4f}, {edge:g})), spread {spread:.2e} of 2/eta"))
        lines.append(f"above threshold: y_inf^2 = {lo_a:.8f} .. {hi_a:.8f}; y_inf^2 / (2/eta) = {lo_a / edge:.6f}")
    claim = _claim(card, "below_threshold")
    if claim is not None:
        tol = claim.rtol or 0.05
        cons = y0[b] ** 2 - x0[b] ** 2
        rel = ((y2_end[b] - cons).abs() / cons)
        worst = float(rel.max()) if bool(finite[b].all()) else math.inf
        verdicts.append(Verdict(claim.name, claim.kind, worst <= tol,
                                f"{n} starts with y0^2 <= {below:g} x 2/eta: max |y_inf^2 - (y0^2 - x0^2)| / "
                                f"(y0^2 - x0^2) = {worst:.4f} (tolerance {tol:g}), median {float(rel.median()):.4f}"))
        lines.append(f"below threshold: relative change of y^2 - x^2: max {worst:.5f}, median {float(rel.median()):.5f}")
    verdicts += _fail_verdicts(card, {"final_sharpness", "below_threshold"})
    sw = slice(2 * n, 3 * n)
    for y0s, y2 in zip(y0[sw].tolist(), y2_end[sw].tolist()):
        lines.append(f"sweep: y0^2 = {y0s**2:8.4f} (eta y0^2 / 2 = {eta * y0s**2 / 2:.3f}) -> y_inf^2 = {y2:.6f}")
    pick = torch.tensor([0, n, 2 * n, 2 * n + n // 2, 3 * n - 1])
    t = tuple(float(i) for i in range(steps + 1))
    traj = tuple(Curve(f"y0^2 = {float(y0[i]) ** 2:.1f}", t, tuple((ys[:, i].cpu() ** 2).tolist()), "-")
                 for i in pick.tolist())
    panels = (
        Panel(f"final sharpness vs start, eta = {eta:g}", "y0^2 (initial sharpness)", "y_inf^2 (final sharpness)",
              (Curve("sweep (x0 = 0.05)", tuple((y0[sw] ** 2).tolist()), tuple(y2_end[sw].tolist()), "o-"),
               Curve("above (random x0)", tuple((y0[a] ** 2).tolist()), tuple(y2_end[a].tolist()), "o"),
               Curve("below (random x0)", tuple((y0[b] ** 2).tolist()), tuple(y2_end[b].tolist()), "o"),
               Curve("y_inf^2 = y0^2", (0.0, y_max**2), (0.0, y_max**2), ":")),
              hlines=(("2/eta", edge),), vlines=(("y0^2 = 2/eta", edge),)),
        Panel("sharpness y^2 along GD", "step", "y^2", traj, hlines=(("2/eta", edge),), logx=True),
    )
    data = {"eta": eta, "edge": edge, "x0": x0.tolist(), "y0": y0.tolist(), "final_y2": y2_end.tolist(),
            "groups": {"above": [0, n], "below": [n, 2 * n], "sweep": [2 * n, 3 * n]}}
    return ScenarioResult(card.id, sim.algorithm, tuple(verdicts), tuple(lines), data, panels, steps, 3 * n, seed,
                          str(dev), "float64", versions())


def _sam_run(x, y, eta, rho, steps: int, normalized: bool, progress=None):
    """Batched SAM (normalized) or USAM on log cosh(xy), one row per rho; returns the y^2 history and the
    step at which each row diverged (non-finite or |w| > 1e6; the row is frozen there), or -1."""
    import torch
    y2 = [y * y]
    dead = torch.full_like(x, -1.0)
    for t in range(steps):
        th = torch.tanh(x * y)
        gx, gy = y * th, x * th
        if normalized:
            norm = torch.sqrt(gx * gx + gy * gy)
            scale = torch.where(norm > 0, rho / torch.where(norm > 0, norm, torch.ones_like(norm)),
                                torch.zeros_like(norm))
        else:
            scale = rho
        xp, yp = x + scale * gx, y + scale * gy
        tp = torch.tanh(xp * yp)
        xn, yn = x - eta * yp * tp, y - eta * xp * tp
        bad = ~(torch.isfinite(xn) & torch.isfinite(yn)) | (xn.abs() + yn.abs() > 1e6)
        newly = bad & (dead < 0)
        dead = torch.where(newly, torch.full_like(dead, float(t + 1)), dead)
        alive = dead < 0
        x, y = torch.where(alive, xn, x), torch.where(alive, yn, y)
        y2.append(y * y)
        if progress is not None and (t + 1) % 1000 == 0:
            progress(t + 1)
    return torch.stack(y2), dead


def sam_drift(card: Card, *, at=None, device="auto", seed=0, steps=None, progress=None) -> ScenarioResult:
    import torch
    sim = card.simulation
    at = dict(at or {})
    ((rho_sym, sweep),) = sim.sweep.items()
    rhos = [float(at.pop(rho_sym.name))] if rho_sym.name in at else list(sweep)
    point = _point(card, {**at, rho_sym.name: rhos[0]})
    for r in rhos:
        validate_point(card, {"eta": point["eta"], rho_sym.name: r}, require=False)
    eta = point["eta"]
    steps = int(steps or sim.steps)
    if steps < 10:
        raise InputError("steps must be >= 10")
    dev = pick_device(device)
    x0, y0 = _opt(card, "x0"), _opt(card, "y0")  # a fixed start: no random draw (the seed is recorded)
    r = torch.tensor(rhos, dtype=torch.float64, device=dev)
    ones = torch.ones_like(r)
    sam, sam_dead = _sam_run(x0 * ones, y0 * ones, eta, r, steps, True, progress)
    usam, usam_dead = _sam_run(x0 * ones, y0 * ones, eta, r, steps, False, progress)
    sam, usam, sam_dead, usam_dead = sam.cpu(), usam.cpu(), sam_dead.cpu(), usam_dead.cpu()
    half = steps // 2
    lines, ok_sam, ok_usam = [], [], []
    for i, rv in enumerate(rhos):
        s_end, s_half = float(sam[-1, i]), float(sam[half, i])
        u_end, u_half = float(usam[-1, i]), float(usam[half, i])
        edge = (-1 + math.sqrt(1 + 8 * rv / eta)) / (2 * rv)
        s_ok = sam_dead[i] < 0 and s_end <= 0.5 * y0**2 and s_end <= s_half
        u_div = bool(usam_dead[i] >= 0)
        u_stall = not u_div and abs(u_end - u_half) <= 1e-6 * u_half and u_end > s_end
        ok_sam.append(bool(s_ok))
        ok_usam.append(u_div or u_stall)
        usam_what = (f"diverged at step {int(usam_dead[i])}" if u_div else
                     f"y^2: {u_half:.6g} -> {u_end:.6g} (USAM edge y^2 (1 + rho y^2) = 2/eta at {edge:.4g})")
        lines.append(f"rho = {rv:g}: SAM y^2 {y0**2:g} -> {s_half:.4g} (step {half}) -> {s_end:.4g} (step {steps})"
                     f"{' DIVERGED' if sam_dead[i] >= 0 else ''}; USAM {usam_what}")
    verdicts = []
    claim = _claim(card, "sam_drifts")
    if claim is not None:
        verdicts.append(Verdict(claim.name, claim.kind, all(ok_sam),
                                f"SAM drifted (y_T^2 <= y0^2/2, still non-increasing) at {sum(ok_sam)}/{len(rhos)} rho "
                                f"values; final y^2 = {[round(float(v), 4) for v in sam[-1]]}"))
    claim = _claim(card, "usam_stalls")
    if claim is not None:
        verdicts.append(Verdict(claim.name, claim.kind, all(ok_usam),
                                f"USAM stalled or diverged at {sum(ok_usam)}/{len(rhos)} rho values; final y^2 = "
                                f"{[round(float(v), 4) for v in usam[-1]]}"))
    verdicts += _fail_verdicts(card, {"sam_drifts", "usam_stalls"})
    t = tuple(float(k) for k in range(steps + 1))
    curves = []
    for i, rv in enumerate(rhos):
        curves.append(Curve(f"SAM rho={rv:g}", t, tuple(sam[:, i].tolist()), "-"))
        curves.append(Curve(f"USAM rho={rv:g}", t, tuple(usam[:, i].tolist()), "--"))
    grid = torch.linspace(min(rhos), max(rhos), 50, dtype=torch.float64)
    panels = (
        Panel(f"sharpness y^2 along SAM / USAM, eta = {eta:g}", "step", "y^2 (sharpness of the nearest minimum)",
              tuple(curves), hlines=(("2/eta", 2 / eta),), logx=True),
        Panel("final sharpness vs rho", "rho", f"y^2 after {steps} steps",
              (Curve("SAM", tuple(rhos), tuple(sam[-1].tolist()), "o-"),
               Curve("USAM", tuple(rhos), tuple(usam[-1].tolist()), "o-"),
               Curve("USAM edge (y^2 (1 + rho y^2) = 2/eta)", tuple(grid.tolist()),
                     tuple(((-1 + torch.sqrt(1 + 8 * grid / eta)) / (2 * grid)).tolist()), ":")),
              hlines=(("y0^2", y0**2),), logx=True),
    )
    data = {"eta": eta, "rho": rhos, "x0": x0, "y0": y0, "sam_final_y2": sam[-1].tolist(),
            "usam_final_y2": usam[-1].tolist(), "sam_half_y2": sam[half].tolist(), "usam_half_y2": usam[half].tolist(),
            "sam_diverged_at": sam_dead.tolist(), "usam_diverged_at": usam_dead.tolist()}
    return ScenarioResult(card.id, sim.algorithm, tuple(verdicts), tuple(lines), data, panels, steps, len(rhos), seed,
                          str(dev), "float64", versions())


SCENARIOS: dict = {
    "logcosh_gd_alignment": alignment,
    "logcosh_gd_final_sharpness": final_sharpness,
    "logcosh_sam_drift": sam_drift,
}
