"""Scenario simulations for SGD on noisy ill-conditioned quadratics (suspicious alignment, tiny
subspaces, Dom/Bulk SGD) (see gpu_validation/_scenarios.py).

``SCENARIOS``: name -> ``fn(card, *, at, device, seed, steps, progress) -> ScenarioResult``.
torch is imported inside the functions (this layer imports torch lazily). float64 throughout; runs are
batched over (setting, seed) rows; every random draw comes from a generator seeded with ``seed``.

* ``sgd_alignment_gap``: SGD with additive isotropic noise on a diagonal quadratic (the eigenbasis: the
  isotropic noise law is rotation invariant, so this is the same process as in any basis) for a sweep of
  spectral gaps m; the dominant / total gradient energies averaged after burn-in vs theta_inf.
* ``dom_bulk_quadratic``: SGD to stationarity, then from that common state SGD, Dom-SGD (update projected
  on the top-k eigenspace) and Bulk-SGD (on its complement); final losses vs the predicted floors.
* ``dom_bulk_mlp``: the same protocol on a small tanh MLP on scikit-learn's digits (MSE), the projection
  onto the top-k Hessian eigenspace of the full-batch loss by Lanczos (k = number of classes).
"""
from __future__ import annotations

import math
import time
from collections.abc import Mapping

import numpy as np
import sympy as sp

from gpu_validation._device import pick_device, single_thread
from gpu_validation._scenarios import Curve, Panel, ScenarioResult
from gpu_validation._simulate import Verdict, versions
from numerics import claim_value
from theory import Card, InputError, Observed

Z_MAX = 4.0   # a measured mean may differ from its prediction by at most this many standard errors


def _bindings(card: Card, at: Mapping[str, object] | None) -> tuple[dict[str, float], dict[str, tuple]]:
    """The simulation's parameter values and sweeps, with ``--at`` overrides (numbers or lists)."""
    sim = card.simulation
    values = {s.name: float(v) for s, v in sim.at.items()}
    sweeps = {s.name: tuple(v) for s, v in sim.sweep.items()}
    options = {k: float(v) for k, v in sim.options.items()}
    for name, raw in (at or {}).items():
        if isinstance(raw, list):
            if name not in sweeps:
                raise InputError(f"card {card.id}: only {', '.join(sweeps) or 'no parameter'} takes a list")
            if not raw or any(not isinstance(v, (int, float)) or not v > 0 for v in raw):
                raise InputError(f"{name} must be a list of positive numbers")
            sweeps[name] = tuple(float(v) for v in raw)
        elif name in values or name in options:
            if not isinstance(raw, (int, float)) or not math.isfinite(raw) or raw <= 0:
                raise InputError(f"{name} must be a positive number, got {raw!r}")
            (values if name in values else options)[name] = float(raw)
        elif name in sweeps:
            if not isinstance(raw, (int, float)) or not raw > 0:
                raise InputError(f"{name} must be a positive number, got {raw!r}")
            sweeps[name] = (float(raw),)
        else:
            known = sorted(values) + sorted(sweeps) + sorted(options)
            raise InputError(f"card {card.id}: the simulation has no setting {name!r} (settings: {', '.join(known)})")
    values.update(options)
    return values, sweeps


def _observed(card: Card, name: str) -> Observed:
    claim = card.claim(name)
    assert isinstance(claim, Observed)
    return claim


def _gap_spectrum(d: int, k: int, top: float, gap: float) -> np.ndarray:
    """Dominant linspace(top, 0.8 top) (k values), bulk (0.8 top / gap) x linspace(1, 0.1): lambda_k/lambda_k+1 = gap."""
    dom = np.linspace(top, 0.8 * top, k)
    bulk = dom[-1] / gap * np.linspace(1.0, 0.1, d - k)
    return np.concatenate([dom, bulk])


def _predicted_alignment(card: Card, eta: float, s: float, lam: np.ndarray, k: int) -> float:
    claim = card.claim("gradient_energy")
    syms = {sym.name: sym for sym in card.symbols}
    w = np.array([claim_value(card, claim, {syms["eta"]: eta, syms["lambda"]: float(v), syms["s"]: s}) for v in lam])
    return float(w[:k].sum() / w.sum())


# -- alignment vs spectral gap --------------------------------------------------------------------

def sgd_alignment_gap(card: Card, *, at=None, device="auto", seed=0, steps=None, progress=None) -> ScenarioResult:
    import torch

    values, sweeps = _bindings(card, at)
    eta, s = values["eta"], values["s"]
    d, k, top = int(values["d"]), int(values["k"]), values["top"]
    gaps = sweeps["m"]
    steps = int(steps or card.simulation.steps)
    seeds = card.simulation.seeds
    if not 0 < k < d or steps < 20:
        raise InputError("need 0 < k < d and steps >= 20")
    if eta * top >= 2:
        raise InputError(f"eta * lambda_max = {eta * top:g} >= 2: SGD has no stationary law")
    dev = pick_device(device)
    spectra = np.stack([_gap_spectrum(d, k, top, g) for g in gaps])
    lam = torch.tensor(np.repeat(spectra, seeds, axis=0), dtype=torch.float64, device=dev)   # (rows, d)
    rows = lam.shape[0]
    gen = torch.Generator(device=dev).manual_seed(seed)
    x = torch.zeros(rows, d, dtype=torch.float64, device=dev)
    burn = steps // 2
    every = max(1, steps // 200)
    e_dom = torch.zeros(rows, dtype=torch.float64, device=dev)
    e_all = torch.zeros(rows, dtype=torch.float64, device=dev)
    trace_t, trace_theta = [], []
    start = time.perf_counter()
    for t in range(1, steps + 1):
        noise = torch.randn(rows, d, generator=gen, dtype=torch.float64, device=dev)
        x = x - eta * (lam * x + s * noise)
        g2 = (lam * x) ** 2
        if t > burn:
            e_dom += g2[:, :k].sum(1)
            e_all += g2.sum(1)
        if t % every == 0:
            theta = (g2[:, :k].sum(1) / g2.sum(1)).reshape(len(gaps), seeds).mean(1)
            trace_t.append(t)
            trace_theta.append(theta.cpu().numpy())
            if progress is not None:
                progress(t)
    elapsed = time.perf_counter() - start
    if not bool(torch.isfinite(x).all()):
        verdict = Verdict("alignment_vs_gap", "observed", False, "diverged (non-finite iterate)")
        return ScenarioResult(card.id, "sgd_alignment_gap", (verdict,), ("diverged",), {"diverged": True},
                              steps=steps, seeds=seeds, seed=seed, device=str(dev), versions=versions())
    ratio = (e_dom / e_all).reshape(len(gaps), seeds).cpu().numpy()
    measured, se = ratio.mean(1), ratio.std(1, ddof=1) / math.sqrt(seeds)
    predicted = np.array([_predicted_alignment(card, eta, s, spectra[i], k) for i in range(len(gaps))])
    claim = _observed(card, "alignment_vs_gap")
    rtol = claim.rtol or 0.02
    # the bulk share 1 - theta is what the gap drives to 0: judge it, not only theta (which nears 1)
    bulk_err = np.abs((1 - measured) - (1 - predicted)) / (1 - predicted)
    theta_err = np.abs(measured - predicted) / predicted
    ok = bool(np.all(theta_err <= rtol) and np.all(bulk_err <= 5 * rtol))
    lines = [f"m = {g:g}: theta measured {mv:.4f} +- {sv:.4f} (se over {seeds} seeds), predicted {pv:.4f}; "
             f"bulk share off by {be:.1%}" for g, mv, sv, pv, be in zip(gaps, measured, se, predicted, bulk_err)]
    lines.append(f"d = {d}, k = {k}, eta = {eta:g}, s = {s:g}, {steps} steps ({burn} burn-in), {elapsed:.2f} s")
    detail = (f"theta within {theta_err.max():.2%} (allowed {rtol:.0%}) and the bulk share 1 - theta within "
              f"{bulk_err.max():.1%} (allowed {5 * rtol:.0%}) of the prediction at m = {', '.join(f'{g:g}' for g in gaps)}")
    trace_theta = np.array(trace_theta)
    panels = (
        Panel("stationary alignment vs spectral gap", "spectral gap m", "alignment theta",
              (Curve("predicted theta_inf", tuple(gaps), tuple(predicted), "-"),
               Curve("simulated SGD (mean over seeds)", tuple(gaps), tuple(measured), "o")), logx=True),
        Panel("alignment along the run", "step", "theta_t (mean over seeds)",
              tuple(Curve(f"m = {g:g}", tuple(trace_t), tuple(trace_theta[:, i]), "-") for i, g in enumerate(gaps)),
              hlines=tuple((f"theta_inf, m = {g:g}", float(p)) for g, p in zip(gaps, predicted))),
    )
    data = {"gaps": list(gaps), "measured": measured.tolist(), "stderr": se.tolist(), "predicted": predicted.tolist(),
            "eta": eta, "s": s, "d": d, "k": k, "top": top, "burn_in": burn, "seconds": elapsed}
    return ScenarioResult(card.id, "sgd_alignment_gap", (Verdict(claim.name, claim.kind, ok, detail),),
                          tuple(lines), data, panels, steps=steps, seeds=seeds, seed=seed, device=str(dev),
                          versions=versions())


SCENARIOS = {
    "sgd_alignment_gap": sgd_alignment_gap,
}

_ = sp  # sympy symbols are looked up by name on the card


# -- Dom-SGD / Bulk-SGD / SGD after switching on the quadratic ---------------------------------------

def dom_bulk_quadratic(card: Card, *, at=None, device="auto", seed=0, steps=None, progress=None) -> ScenarioResult:
    import torch

    at = dict(at or {})
    spectrum = np.sort(np.asarray(at.pop("spectrum", card.simulation.spectrum), dtype=float))[::-1]
    if spectrum.ndim != 1 or not np.all(np.isfinite(spectrum)) or not np.all(spectrum > 0):
        raise InputError("spectrum must be a list of positive numbers")
    values, _ = _bindings(card, at)
    eta, s = values["eta"], values["s"]
    d, k, top = spectrum.size, int(values["k"]), float(spectrum[0])
    switch, init = int(values["switch"]), values["init"]
    steps = int(steps or card.simulation.steps)
    seeds = card.simulation.seeds
    if not 0 < k < d or steps <= switch + 20:
        raise InputError(f"need 0 < k < d and steps > switch + 20 (switch = {switch})")
    if eta * top >= 2:
        raise InputError(f"eta * lambda_max = {eta * top:g} >= 2: SGD has no stationary law")
    dev = pick_device(device)
    gap = float(spectrum[k - 1] / spectrum[k])
    lam = torch.tensor(spectrum.copy(), dtype=torch.float64, device=dev)
    dom = torch.zeros(d, dtype=torch.float64, device=dev)
    dom[:k] = 1.0                                  # the eigenbasis: P_D is the first k coordinates
    gen = torch.Generator(device=dev).manual_seed(seed)
    x = init * torch.randn(seeds, d, generator=gen, dtype=torch.float64, device=dev)

    def loss(z):
        return 0.5 * (lam * z**2).sum(-1)

    start = time.perf_counter()
    for _ in range(switch):                         # common SGD phase
        x = x - eta * (lam * x + s * torch.randn(seeds, d, generator=gen, dtype=torch.float64, device=dev))
    g2 = (lam * x) ** 2
    theta_switch = (g2[:, :k].sum(1) / g2.sum(1)).cpu().numpy()
    x0 = x.clone()
    # the three methods from the same state with the same noise draws: SGD, Dom-SGD (P_D), Bulk-SGD (I - P_D)
    masks = torch.stack([torch.ones(d, dtype=torch.float64, device=dev), dom, 1 - dom])   # (3, d)
    z = x0.unsqueeze(0).repeat(3, 1, 1)                                                    # (3, seeds, d)
    post = steps - switch
    every = max(1, post // 200)
    ts, curves = [0], [loss(z).cpu().numpy()]
    for t in range(1, post + 1):
        noise = torch.randn(seeds, d, generator=gen, dtype=torch.float64, device=dev)
        z = z - eta * masks[:, None, :] * (lam * z + s * noise)
        if t % every == 0:
            ts.append(t)
            curves.append(loss(z).cpu().numpy())
            if progress is not None:
                progress(switch + t)
    elapsed = time.perf_counter() - start
    curves = np.array(curves)                      # (times, 3, seeds)
    if not np.all(np.isfinite(curves)):
        verdicts = tuple(Verdict(c.name, c.kind, False, "diverged (non-finite loss)")
                         for c in card.claims if isinstance(c, Observed))
        return ScenarioResult(card.id, "dom_bulk_quadratic", verdicts, ("diverged",), {"diverged": True},
                              steps=steps, seeds=seeds, seed=seed, device=str(dev), versions=versions())

    # predictions from the card's stationary per-mode loss, per row from its switch state
    claim = card.claim("mode_stationary_loss")
    syms = {sym.name: sym for sym in card.symbols}
    floor_mode = np.array([claim_value(card, claim, {syms["eta"]: eta, syms["lambda"]: float(v), syms["s"]: s})
                           for v in spectrum])
    c0 = x0.cpu().numpy()
    dom_floor = 0.5 * (spectrum[k:] * c0[:, k:] ** 2).sum(1) + floor_mode[:k].sum()          # (seeds,)
    rho2 = (1 - eta * spectrum) ** 2
    stat = 2 * floor_mode / spectrum                                                         # E c^2 stationary

    def sgd_mean(t):  # exact E L_SGD(switch + t) given the switch state, averaged over seeds
        p = rho2 ** t
        return float((0.5 * spectrum * (p * c0**2 + stat * (1 - p))).sum(1).mean())

    ts_a = np.array(ts)
    window = ts_a >= post * 3 // 4                 # the last quarter of the post-switch run
    mean_curve = curves.mean(2)                    # (times, 3)
    sgd_pred = np.array([sgd_mean(t) for t in ts])

    def blocks(series):  # means over 20 consecutive blocks of recorded times (the first point: the switch)
        return np.array([b.mean(0) for b in np.array_split(np.asarray(series)[1:], 20)])
    verdicts, lines = [], []
    for c in card.claims:
        if not isinstance(c, Observed):
            continue
        rtol = c.rtol or 0.05
        if c.name == "dom_sgd_floor":
            measured, pred = float(mean_curve[window, 1].mean()), float(dom_floor.mean())
            err = abs(measured - pred) / pred
            ok = err <= rtol
            detail = (f"Dom-SGD loss over the last quarter {measured:.6g} vs predicted floor 1/2 sum_B lam c(t0)^2 + "
                      f"sum_D eta s^2/(2(2 - eta lam)) = {pred:.6g} ({err:.2%}, allowed {rtol:.0%})")
        elif c.name == "sgd_curve":
            per_seed = blocks(curves[:, 0, :])                                    # (20, seeds)
            diff = per_seed.mean(1) - blocks(sgd_pred)
            z = np.abs(diff) / (per_seed.std(1, ddof=1) / math.sqrt(seeds))
            rel = np.abs(diff) / blocks(sgd_pred)
            ok = bool(z.max() <= Z_MAX and rel.max() <= rtol)
            detail = (f"SGD's mean loss follows the exact expectation from the switch state: within {rel.max():.2%} "
                      f"(allowed {rtol:.0%}) and {z.max():.2f} standard errors (allowed {Z_MAX:g}) on {z.size} "
                      f"time blocks")
        elif c.name == "bulk_matches_sgd":
            paired = blocks(curves[:, 2, :] - curves[:, 0, :])                  # (20, seeds): same noise draws
            z = np.abs(paired.mean(1)) / np.maximum(paired.std(1, ddof=1) / math.sqrt(seeds), 1e-300)
            rel = np.abs(paired.mean(1)) / blocks(mean_curve[:, 0])
            ok = bool(z.max() <= Z_MAX and rel.max() <= rtol)
            drop_sgd = float(mean_curve[0, 0] / mean_curve[-1, 0])
            detail = (f"Bulk-SGD's mean loss = SGD's within {rel.max():.2%} (allowed {rtol:.0%}) and {z.max():.2f} "
                      f"standard errors of the paired difference (allowed {Z_MAX:g}) on {z.size} time blocks, while "
                      f"SGD lowered the loss {drop_sgd:.3g}x after switching")
        else:
            verdicts.append(Verdict(c.name, c.kind, None, "no observer for this claim in this scenario"))
            continue
        verdicts.append(Verdict(c.name, c.kind, ok, detail))
    lines.append(f"switch after {switch} SGD steps: alignment theta = {theta_switch.mean():.4f} "
                 f"(min {theta_switch.min():.4f} over {seeds} seeds)")
    for i, name in enumerate(("SGD", "Dom-SGD", "Bulk-SGD")):
        lines.append(f"{name}: loss {mean_curve[0, i]:.6g} at the switch -> {mean_curve[-1, i]:.6g} after {post} steps")
    lines.append(f"predicted Dom-SGD floor {dom_floor.mean():.6g}; SGD stationary loss {floor_mode.sum():.6g}")
    lines.append(f"d = {d}, k = {k}, m = {gap:g}, eta = {eta:g}, s = {s:g}, init {init:g}, {elapsed:.2f} s")
    panels = (Panel("after switching (mean over seeds)", "steps after the switch", "loss",
                    (Curve("SGD", tuple(ts), tuple(mean_curve[:, 0])),
                     Curve("Dom-SGD", tuple(ts), tuple(mean_curve[:, 1])),
                     Curve("Bulk-SGD", tuple(ts), tuple(mean_curve[:, 2]), "--"),
                     Curve("SGD, exact expectation", tuple(ts), tuple(sgd_pred), ":")),
                    hlines=(("predicted Dom-SGD floor", float(dom_floor.mean())),
                            ("SGD stationary loss", float(floor_mode.sum()))), logy=True),)
    data = {"t": ts, "sgd": mean_curve[:, 0].tolist(), "dom": mean_curve[:, 1].tolist(),
            "bulk": mean_curve[:, 2].tolist(), "sgd_predicted": sgd_pred.tolist(),
            "dom_floor": float(dom_floor.mean()), "theta_switch": theta_switch.tolist(), "eta": eta, "s": s,
            "d": d, "k": k, "m": gap, "switch": switch, "seconds": elapsed}
    return ScenarioResult(card.id, "dom_bulk_quadratic", tuple(verdicts), tuple(lines), data, panels, steps=steps,
                          seeds=seeds, seed=seed, device=str(dev), versions=versions())


SCENARIOS["dom_bulk_quadratic"] = dom_bulk_quadratic


# -- the same protocol on a small MLP (digits, MSE), top-k Hessian eigenspace by Lanczos ----------------

def dom_bulk_mlp(card: Card, *, at=None, device="auto", seed=0, steps=None, progress=None) -> ScenarioResult:
    import torch

    from gpu_validation._networks import digits, loss_of, mlp
    from gpu_validation.curvature import flatten, top_eigenvalues, unflatten

    values, _ = _bindings(card, at)
    eta = values["eta"]
    n, width, batch, k = int(values["n"]), int(values["width"]), int(values["batch"]), int(values["k"])
    switch, every, tol = int(values["switch"]), int(values["every"]), values["lanczos_tol"]
    steps = int(steps or card.simulation.steps)
    if steps <= switch + every or batch < 1 or k < 1:
        raise InputError(f"need steps > switch + every (switch = {switch}, every = {every}), batch >= 1, k >= 1")
    dev = pick_device(device)
    with single_thread():
        return _dom_bulk_mlp(card, torch, values, eta, n, width, batch, k, switch, every, tol, steps, seed, dev,
                             progress, digits, loss_of, mlp, flatten, top_eigenvalues, unflatten)


def _dom_bulk_mlp(card, torch, values, eta, n, width, batch, k, switch, every, tol, steps, seed, dev, progress,
                  digits, loss_of, mlp, flatten, top_eigenvalues, unflatten) -> ScenarioResult:
    task = digits(n, "mse", device=dev)
    params, forward = mlp((64, width, 10), seed, "tanh", device=dev)
    full = loss_of(task, forward)
    theta0 = flatten(params).detach()
    gen = torch.Generator().manual_seed(seed + 1)
    order = [torch.randint(0, task.x.shape[0], (batch,), generator=gen) for _ in range(steps)]

    def batch_grad(theta, idx):
        th = theta.detach().requires_grad_(True)
        out = forward(unflatten(th, params), task.x[idx])
        (g,) = torch.autograd.grad(0.5 * ((out - task.y[idx]) ** 2).sum(1).mean(), th)
        return g

    def full_loss(theta):
        return float(full(unflatten(theta, params)))

    def full_grad(theta):
        th = theta.detach().requires_grad_(True)
        (g,) = torch.autograd.grad(full(unflatten(th, params)), th)
        return g

    start = time.perf_counter()
    theta = theta0.clone()
    for t in range(switch):                                    # common SGD phase
        theta = theta - eta * batch_grad(theta, order[t])
        if progress is not None and t % 50 == 0:
            progress(t)
    if not bool(torch.isfinite(theta).all()):
        verdicts = tuple(Verdict(c.name, c.kind, False, "diverged before the switch")
                         for c in card.claims if isinstance(c, Observed))
        return ScenarioResult(card.id, "dom_bulk_mlp", verdicts, ("diverged",), {"diverged": True}, steps=steps,
                              seed=seed, device=str(dev), versions=versions())
    eig = top_eigenvalues(lambda p: full(p), unflatten(theta, params), k=k, tol=tol, seed=seed)
    g = full_grad(theta)
    chi_switch = float((eig.vectors @ g).square().sum() / g.square().sum())
    runs = {"SGD": theta.clone(), "Dom-SGD": theta.clone(), "Bulk-SGD": theta.clone()}
    basis = {name: eig.vectors for name in runs}
    ts, curves, chis, hvps = [0], {name: [full_loss(theta)] for name in runs}, [], eig.hvps
    for t in range(switch, steps):
        for name in runs:
            th = runs[name]
            if name != "SGD" and (t - switch) % every == 0 and t > switch:
                res = top_eigenvalues(lambda p: full(p), unflatten(th, params), k=k, tol=tol, seed=seed + t,
                                      init=basis[name])
                basis[name], hvps = res.vectors, hvps + res.hvps
            gb = batch_grad(th, order[t])
            if name == "Dom-SGD":
                gb = basis[name].T @ (basis[name] @ gb)
            elif name == "Bulk-SGD":
                gb = gb - basis[name].T @ (basis[name] @ gb)
            runs[name] = th - eta * gb
        if (t + 1 - switch) % every == 0 or t + 1 == steps:
            ts.append(t + 1 - switch)
            for name in runs:
                curves[name].append(full_loss(runs[name]))
            g = full_grad(runs["Dom-SGD"])   # Dom-SGD's own gradient vs its own (fresh) top-k eigenspace
            chis.append(float((basis["Dom-SGD"] @ g).square().sum() / g.square().sum()))
            if progress is not None:
                progress(t + 1)
    elapsed = time.perf_counter() - start
    arr = {name: np.array(v) for name, v in curves.items()}
    if not all(np.all(np.isfinite(v)) for v in arr.values()):
        verdicts = tuple(Verdict(c.name, c.kind, False, "diverged after the switch")
                         for c in card.claims if isinstance(c, Observed))
        return ScenarioResult(card.id, "dom_bulk_mlp", verdicts, ("diverged",), {"diverged": True}, steps=steps,
                              seed=seed, device=str(dev), versions=versions())
    l0 = arr["SGD"][0]
    drop = {name: l0 - v[-1] for name, v in arr.items()}
    verdicts = []
    for c in card.claims:
        if not isinstance(c, Observed):
            continue
        rtol = c.rtol or 0.2
        if c.name == "dom_sgd_stalls":
            frac = drop["Dom-SGD"] / drop["SGD"] if drop["SGD"] > 0 else float("inf")
            ok = drop["SGD"] > 0 and frac <= rtol
            detail = (f"Dom-SGD lowered the loss by {drop['Dom-SGD']:.4g}, {frac:.1%} of SGD's {drop['SGD']:.4g} "
                      f"(allowed {rtol:.0%})")
        elif c.name == "bulk_matches_sgd":
            frac = drop["Bulk-SGD"] / drop["SGD"] if drop["SGD"] > 0 else float("-inf")
            ok = drop["SGD"] > 0 and abs(frac - 1) <= rtol
            detail = (f"Bulk-SGD lowered the loss by {drop['Bulk-SGD']:.4g}, {frac:.1%} of SGD's {drop['SGD']:.4g} "
                      f"(allowed {1 - rtol:.0%}..{1 + rtol:.0%})")
        elif c.name == "aligned_at_switch":
            ok = chi_switch >= 1 - rtol
            detail = (f"at the switch ||P_k grad L||^2 / ||grad L||^2 = {chi_switch:.3f} (required >= {1 - rtol:.2f}); "
                      f"top-{k} Hessian eigenvalues {eig.values[0]:.4g} .. {eig.values[-1]:.4g}, "
                      f"converged {eig.converged}")
        else:
            verdicts.append(Verdict(c.name, c.kind, None, "no observer for this claim in this scenario"))
            continue
        verdicts.append(Verdict(c.name, c.kind, bool(ok), detail))
    lines = [f"switch after {switch} SGD steps (batch {batch}, eta = {eta:g}): full-batch loss {l0:.6g}, "
             f"alignment {chi_switch:.4f}, top-{k} eigenvalues {eig.values[0]:.4g} .. {eig.values[-1]:.4g}"]
    lines += [f"{name}: loss {v[0]:.6g} -> {v[-1]:.6g} after {steps - switch} steps" for name, v in arr.items()]
    lines.append(f"MLP 64-{width}-10 tanh on {n} digits (MSE), projection refreshed every {every} steps by Lanczos "
                 f"(tol {tol:g}), {hvps} Hessian-vector products, {elapsed:.2f} s")
    panels = (Panel("small MLP after switching", "steps after the switch", "full-batch loss",
                    tuple(Curve(name, tuple(ts), tuple(v), "--" if name == "Bulk-SGD" else "-")
                          for name, v in arr.items()), logy=True),
              Panel("Dom-SGD's gradient alignment with its top-k eigenspace", "steps after the switch",
                    "||P_k grad L||^2 / ||grad L||^2", (Curve("SGD", tuple(ts[1:]), tuple(chis)),)))
    data = {"t": ts, **{name: v.tolist() for name, v in arr.items()}, "alignment": chis, "chi_switch": chi_switch,
            "eigenvalues": list(eig.values), "hvps": hvps, "seconds": elapsed, "eta": eta, "n": n, "width": width,
            "batch": batch, "k": k, "switch": switch, "every": every}
    return ScenarioResult(card.id, "dom_bulk_mlp", tuple(verdicts), tuple(lines), data, panels, steps=steps,
                          seeds=1, seed=seed, device=str(dev), versions=versions())


SCENARIOS["dom_bulk_mlp"] = dom_bulk_mlp
