"""Scenarios for the central-flow cards (theory/cards/central_flow.py): GD against its central flow.

- ``central_flow_toy``: GD (the card's own update rule, float64) on the toy of the card from the card's
  start; the central flow integrated from the same start in torch with autograd: dw/dt = -eta[grad L +
  sigma^2/2 grad S], S the top eigenvalue of the autograd Hessian (eigh), grad S = grad_w u^T H(w) u
  with u the top eigenvector held fixed, sigma^2 = 2<-grad L, grad S>/|grad S|^2 once S has reached
  2/eta (gradient flow before); RK4, one GD step per RK step. In 100-step windows after the
  transient: GD's mean x^2 vs the window mean of sigma^2(t), GD's mean z vs z(t), GD's mean L vs
  L(w(t)) + sigma^2(t)/eta. Judges ``gd_variance``, ``gd_mean_loss``, ``gd_mean_z``.
"""
from __future__ import annotations

import math

import sympy as sp

from gpu_validation._device import pick_device
from gpu_validation._scenarios import Curve, Panel, ScenarioResult, observed_claim, scenario_point, unjudged
from gpu_validation._simulate import Verdict, versions
from theory import Card, InputError


_point = scenario_point


_observed = observed_claim


def central_flow_field(loss_fn, eta: float, edge_reached: bool):
    """The central flow's velocity at w (torch, autograd): (dw/dt, sigma^2, S)."""
    import torch

    def field(w):
        w = w.detach().requires_grad_(True)
        L = loss_fn(w)
        (g,) = torch.autograd.grad(L, w, create_graph=True)
        eye = torch.eye(w.numel(), dtype=w.dtype, device=w.device)
        (H,) = torch.autograd.grad(g, w, grad_outputs=eye, is_grads_batched=True, create_graph=True)
        ev, vec = torch.linalg.eigh(H.detach())
        u = vec[:, -1]
        S = ev[-1]
        if not edge_reached and float(S) < 2.0 / eta:
            return (-eta * g).detach(), 0.0, float(S)
        uHu = u @ (H @ u)
        (gS,) = torch.autograd.grad(uHu, w)
        g = g.detach()
        sig = float(2 * (-(g @ gS)) / (gS @ gS))
        return (-eta * (g + sig / 2 * gS)).detach(), sig, float(S)
    return field


def toy(card: Card, *, at=None, device="auto", seed=0, steps=None, progress=None) -> ScenarioResult:
    import torch
    sim = card.simulation
    pt = _point(card, at)
    steps = int(steps or sim.steps)
    if steps < 10:
        raise InputError("steps must be >= 10")
    dev = pick_device(device)
    opt = {k: float(v) for k, v in sim.options.items()}
    eta = pt["eta"]
    claim_loss = next(c for c in card.claims if getattr(c, "arguments", {}).get("loss") is not None)
    loss_expr = sp.S(claim_loss.arguments["loss"])
    params = {s: pt[s.name] for s in card.symbols if s in loss_expr.free_symbols}
    bound = loss_expr.subs(params)
    state = tuple(card.state)
    names = {"exp": torch.exp}
    f_loss = sp.lambdify(state, bound, modules=[names])
    update = [sp.lambdify(state, sp.S(e).subs(params).subs(card.symbols[0], eta), modules=[names])
              for e in card.update]

    def loss_fn(w):
        return f_loss(*[w[i] for i in range(len(state))])

    w = torch.tensor([opt["x0"], opt["y0"], opt["z0"]], dtype=torch.float64, device=dev)
    gd = [w]
    for t in range(steps):
        w = torch.stack([torch.as_tensor(f(*w), dtype=torch.float64) for f in update])
        gd.append(w)
        if progress is not None and (t + 1) % 2000 == 0:
            progress(t + 1)
    gd = torch.stack(gd).cpu()
    gd_loss = torch.tensor([float(loss_fn(r)) for r in gd])
    # the central flow: RK4 from the same start, one GD step per RK step (the option `stride` takes more steps per
    # RK step after the edge; the flow is stiff across the valley (rate eta S = 2 per step), so RK4 is stable only
    # for stride <= 1.39); the flow's quantities are interpolated linearly to every step
    stride = int(opt.get("stride", 1))
    c = torch.tensor([opt["x0"], opt["y0"], opt["z0"]], dtype=torch.float64)
    edge, t0 = False, None
    times, cf, sig = [], [], []
    t = 0.0
    while True:
        f = central_flow_field(loss_fn, eta, edge)
        k1, s1, S = f(c)
        if not edge and S >= 2.0 / eta:
            edge, t0 = True, int(t)
            f = central_flow_field(loss_fn, eta, edge)
            k1, s1, S = f(c)
        times.append(t)
        cf.append(c)
        sig.append(s1)
        if t >= steps:
            break
        h = float(min(stride if edge else 1, steps - t))
        k2 = f(c + h / 2 * k1)[0]
        k3 = f(c + h / 2 * k2)[0]
        k4 = f(c + h * k3)[0]
        c = c + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        t += h
    import numpy as np
    grid = np.arange(steps + 1, dtype=float)
    cf_np = np.stack([c_.numpy() for c_ in cf])
    cf = torch.tensor(np.stack([np.interp(grid, times, cf_np[:, k]) for k in range(cf_np.shape[1])], axis=1))
    sig = torch.tensor(np.interp(grid, times, np.array(sig)))
    cf_pred = torch.tensor([float(loss_fn(r)) for r in cf]) + sig / eta
    win, transient = int(opt["window"]), int(opt["transient"])
    limit_sigma = float(sig[-1])
    rows = []
    start = transient
    while start + win <= steps:
        sl = slice(start, start + win)
        rows.append({"step": start + win // 2, "gd_x2": float((gd[sl, 0] ** 2).mean()), "cf_sigma2": float(sig[sl].mean()),
                     "gd_z": float(gd[sl, 2].mean()), "cf_z": float(cf[sl, 2].mean()),
                     "gd_L": float(gd_loss[sl].mean()), "cf_L": float(cf_pred[sl].mean()),
                     "gd_y": float(gd[sl, 1].mean())})
        start += win
    verdicts, lines = [], []
    lines.append(f"central flow reaches S = 2/eta at step {t0}; sigma^2 at the end {limit_sigma:.6f}")
    for r in rows[:: max(1, len(rows) // 8)]:
        lines.append(f"step {r['step']:5d}: <x^2> {r['gd_x2']:.5f} vs sigma^2 {r['cf_sigma2']:.5f}; <z> {r['gd_z']:.3f} "
                     f"vs {r['cf_z']:.3f}; <L> {r['gd_L']:.5f} vs {r['cf_L']:.5f}; <y> {r['gd_y']:.3f}")
    ok_rows = [r for r in rows if math.isfinite(r["gd_x2"])]
    judged = {}
    for name, a_key, b_key, scale_key in (("gd_variance", "gd_x2", "cf_sigma2", "cf_sigma2"),
                                          ("gd_mean_z", "gd_z", "cf_z", "cf_z")):
        claim = _observed(card, name)
        if claim is None:
            continue
        rel = [abs(r[a_key] - r[b_key]) / abs(r[scale_key]) for r in ok_rows]
        worst = max(rel) if rel and len(ok_rows) == len(rows) else math.inf
        judged[name] = rel
        verdicts.append(Verdict(claim.name, claim.kind, worst <= claim.rtol,
                                f"{len(rows)} windows of {win} steps after step {transient}: worst relative gap "
                                f"{worst:.3%} (median {sorted(rel)[len(rel) // 2]:.3%}; tolerance {claim.rtol:.1%})"))
    claim = _observed(card, "gd_mean_loss")
    if claim is not None:
        scale = abs(ok_rows[0]["gd_L"]) if ok_rows else math.nan
        rel = [abs(r["gd_L"] - r["cf_L"]) / scale for r in ok_rows]
        judged["gd_mean_loss"] = rel
        worst = max(rel) if rel and len(ok_rows) == len(rows) else math.inf
        verdicts.append(Verdict(claim.name, claim.kind, worst <= claim.rtol,
                                f"{len(rows)} windows: worst |<L> - (L(w) + sigma^2/eta)| = {worst * scale:.5f}, "
                                f"{worst:.3%} of the EoS loss scale {scale:.4f} (tolerance {claim.rtol:.1%})"))
    verdicts += unjudged(card, judged)
    ts = tuple(float(i) for i in range(steps + 1))
    wx = tuple(float(r["step"]) for r in rows)
    panels = (
        Panel(f"train loss, eta = {eta:g}", "step", "loss",
              (Curve("GD (raw)", ts, tuple(gd_loss.tolist()), "-"),
               Curve(f"GD ({win}-step window mean)", wx, tuple(r["gd_L"] for r in rows), "o"),
               Curve("central flow L(w) + sigma^2/eta", ts, tuple(cf_pred.tolist()), "--"))),
        Panel("oscillation variance", "step", "x^2",
              (Curve("GD x_t^2", ts, tuple((gd[:, 0] ** 2).tolist()), "-"),
               Curve(f"GD <x^2> ({win}-step windows)", wx, tuple(r["gd_x2"] for r in rows), "o"),
               Curve("central flow sigma^2(t)", ts, tuple(sig.tolist()), "--"))),
        Panel("sharpness y and the slow coordinate z", "step", "value",
              (Curve("GD y", ts, tuple(gd[:, 1].tolist()), "-"),
               Curve("GD z", ts, tuple(gd[:, 2].tolist()), "-"),
               Curve("central flow z(t)", ts, tuple(cf[:, 2].tolist()), "--")),
              hlines=(("2/eta", 2.0 / eta),)),
    )
    data = {"eta": eta, "t0": t0, "windows": rows, "relative_gaps": judged}
    return ScenarioResult(card.id, sim.algorithm, tuple(verdicts), tuple(lines), data, panels, steps, 1, seed,
                          str(dev), "float64", versions())


SCENARIOS = {"central_flow_toy": toy}
