"""Scenario simulations for the minimalist model of progressive sharpening f(x) = (x^T u) prod v_i
(see gpu_validation/_scenarios.py).

``minimalist_sharpness``: GD / SGD (batches drawn without replacement) in float64 on
L = |X u P - y|^2 / (2N) with synthetic data (X Gaussian N x 2N, y Gaussian), from a small balanced
initialisation (|u| = v_i = alpha). Runs: a base setting and one-at-a-time changes of N, D, the batch
size B and the step size (a fraction of 2 / S_upper, i.e. below the edge of stability). Sharpness =
top eigenvalue of the dense Hessian (torch.func.hessian, eigvalsh), every ``every`` steps. Judged:
``gd_band``: full-batch runs end inside [S_lower, S_upper] of the balanced minimum (slack ``slack``,
3 %: GD's O(eta^2) per-step imbalance drift moves the end point off the balanced minimum);
``level_set_band``: every D = 2 run (GD or SGD) ends inside the two-layer bounds evaluated at its own
measured final imbalance C = |Pi_W u|^2 - v^2 (slack ``slack_level_set``, 1e-3: this one is exact). The prediction S_hat_D = sigma_1^2 Q^((D-1)/D) / N is
reported for every run. A run whose loss does not fall below ``loss_tol`` x its start is reported
as not converged (judged False).

``SCENARIOS``: name -> ``fn(card, *, at, device, seed, steps, progress) -> ScenarioResult``.
torch is imported inside the functions (this layer imports torch lazily).
"""
from __future__ import annotations

import math

from gpu_validation._device import pick_device
from gpu_validation._scenarios import Curve, Panel, ScenarioResult
from gpu_validation._simulate import Verdict, versions
from theory import InputError


def _runs(base: dict, options) -> list[dict]:
    runs = [dict(base)]
    for key, values in (("N", (8, 24)), ("D", (3, 4)), ("B", (4,)), ("eta_frac", (0.6,))):
        for value in values:
            runs.append({**base, key: value})
    if options.get("extra", 0):
        runs.append({**base, "D": 2, "B": 2, "eta_frac": 0.5})
    return runs


def _bounds(sig, dvec, N, D):
    Q = float((dvec ** 2 / sig ** 2).sum())
    s1, d1, Sd2 = float(sig[0]), float(abs(dvec[0])), float((dvec ** 2).sum())
    lo = (s1 ** 2 * Q ** ((D - 1) / D) + (D - 1) * d1 ** 2 * Q ** (-1 / D)) / N
    hi = (s1 ** 2 * Q ** ((D - 1) / D) + (D - 1) * Sd2 * Q ** (-1 / D)) / N
    return Q, s1, d1, Sd2, lo, hi, s1 ** 2 * Q ** ((D - 1) / D) / N


def model_loss(t, X, y):
    """L = |X u P - y|^2 / (2 n) at t = (u, v_1..v_{D-1})."""
    import torch

    r = X @ t[: X.shape[1]] * torch.prod(t[X.shape[1]:]) - y
    return (r @ r) / (2 * len(y))


def model_gradient(t, X, y):
    """The analytic gradient of ``model_loss`` (checked against autograd in the tests)."""
    import torch

    d = X.shape[1]
    u, vs = t[:d], t[d:]
    P = torch.prod(vs)
    g = X.T @ (X @ u * P - y) / len(y)
    others = torch.stack([torch.prod(torch.cat([vs[:i], vs[i + 1:]])) for i in range(len(vs))])
    return torch.cat([P * g, (u @ g) * others])


def _run_one(cfg: dict, *, steps: int, every: int, seed: int, dev, progress, alpha_frac: float, loss_tol: float):
    import torch

    N, D, B = int(cfg["N"]), int(cfg["D"]), int(cfg["B"])
    d = 2 * N
    gen = torch.Generator().manual_seed(seed + 1000 * N + 10 * D)
    X = torch.randn(N, d, generator=gen, dtype=torch.float64) / math.sqrt(d)
    y = torch.randn(N, generator=gen, dtype=torch.float64)
    Ue, sig, Wt = torch.linalg.svd(X, full_matrices=False)
    dvec = Ue.T @ y
    Q, s1, d1, Sd2, lo, hi, shat = _bounds(sig, dvec, N, D)
    eta = float(cfg["eta_frac"]) * 2 / hi
    a_star = Q ** (1 / (2 * D))
    proj = Wt.T @ Wt                         # Pi_W, projection on the row space of X
    w = proj @ torch.randn(d, generator=gen, dtype=torch.float64)  # in the row space: C = 0 at the start
    alpha = alpha_frac * a_star
    theta = torch.cat([alpha * w / torch.linalg.vector_norm(w), torch.full((D - 1,), alpha, dtype=torch.float64)])
    X, y, theta, proj = X.to(dev), y.to(dev), theta.to(dev), proj.to(dev)

    def loss(t, rows=None):
        return model_loss(t, X if rows is None else X[rows], y if rows is None else y[rows])

    def sharpness(t):
        return float(torch.linalg.eigvalsh(torch.func.hessian(loss)(t))[-1])

    def grad(t, rows=None):
        return model_gradient(t, X if rows is None else X[rows], y if rows is None else y[rows])
    start = float(loss(theta))
    track_steps, track_s = [0], [sharpness(theta)]
    diverged = False
    for t in range(1, steps + 1):
        if B >= N:
            g = grad(theta)
        else:
            rows = torch.randperm(N, generator=gen)[:B].to(dev)
            g = grad(theta, rows)
        theta = theta - eta * g
        if not bool(torch.isfinite(theta).all()) or float(theta.abs().max()) > 1e6:
            diverged = True
            break
        if t % every == 0 or t == steps:
            track_steps.append(t)
            track_s.append(sharpness(theta))
        if progress is not None and t % max(1, steps // 10) == 0:
            progress(t)
    final_loss = float(loss(theta)) if not diverged else math.inf
    u, vs = theta[:d], theta[d:]
    pu = proj @ u
    C_final = float(pu @ pu - vs[0] ** 2) if D == 2 else math.nan
    out = {**cfg, "eta": eta, "Q": Q, "sigma_1": s1, "d_1": d1, "S_d2": Sd2, "S_lower": lo, "S_upper": hi,
           "S_hat": shat, "S_final": track_s[-1] if not diverged else math.inf, "loss_start": start,
           "loss_final": final_loss, "converged": (not diverged) and final_loss <= loss_tol * start,
           "diverged": diverged, "steps": track_steps, "sharpness": track_s, "C_final": C_final}
    if D == 2 and not diverged:
        V = (math.sqrt(C_final ** 2 + 4 * Q) - C_final) / 2
        out["S_lower_C"] = (s1 ** 2 * V + d1 ** 2 / V) / N
        out["S_upper_C"] = (s1 ** 2 * V + Sd2 / V) / N
    return out


def minimalist_sharpness(card, *, at=None, device="auto", seed=0, steps=None, progress=None) -> ScenarioResult:

    sim = card.simulation
    opts = dict(sim.options)
    at = dict(at or {})
    base = {"N": int(opts.get("N", 16)), "D": int(opts.get("D", 2)), "B": int(opts.get("B", 0)),
            "eta_frac": float(opts.get("eta_frac", 0.3))}
    for key in list(at):
        if key not in base:
            raise InputError(f"card {card.id}: --at takes {', '.join(base)}, not {key!r}")
        value = float(at[key])
        if key == "eta_frac" and not 0 < value < 1:
            raise InputError("eta_frac must be in (0, 1) (a fraction of 2 / S_upper)")
        if key != "eta_frac" and (value != int(value) or value < (2 if key != "B" else 0)):
            raise InputError(f"{key} must be an integer >= {2 if key != 'B' else 0} (B = 0: full batch)")
        base[key] = value if key == "eta_frac" else int(value)
    steps = int(steps or sim.steps)
    every = max(1, int(opts.get("every", 100)))
    slack = float(opts.get("slack", 0.03))
    slack_c = float(opts.get("slack_level_set", 1e-3))
    dev = pick_device(device)
    from gpu_validation.curvature import _forward_ad_ready
    _forward_ad_ready()  # takes torch's one-time torch.jit.script DeprecationWarning before torch.func is used
    results = [_run_one({**cfg, "B": int(cfg["N"]) if not 0 < int(cfg["B"]) < int(cfg["N"]) else int(cfg["B"])}, steps=steps, every=every, seed=seed,
                        dev=dev, progress=progress, alpha_frac=float(opts.get("alpha_frac", 0.3)),
                        loss_tol=float(opts.get("loss_tol", 1e-10)))
               for cfg in _runs(base, opts)]

    def label(r):
        return f"N={r['N']} D={r['D']} B={r['B']} eta={r['eta_frac']:g}x2/S_up"

    lines = [f"{label(r)}: S_final {r['S_final']:.5g}, band [{r['S_lower']:.5g}, {r['S_upper']:.5g}], "
             f"S_hat_D {r['S_hat']:.5g} (S/S_hat {r['S_final'] / r['S_hat']:.4f}), loss {r['loss_final']:.2e}"
             + (f", C_final {r['C_final']:.4g}, D=2 band at C [{r['S_lower_C']:.5g}, {r['S_upper_C']:.5g}]"
                if "S_lower_C" in r else "") for r in results]

    gd = [r for r in results if r["B"] >= r["N"]]
    bad = [label(r) for r in gd if not (r["converged"] and r["S_lower"] * (1 - slack) <= r["S_final"]
                                        <= r["S_upper"] * (1 + slack))]
    verdicts = []
    for claim in card.claims:
        if claim.name == "gd_band":
            verdicts.append(Verdict(claim.name, claim.kind, not bad and bool(gd),
                                    f"{len(gd) - len(bad)}/{len(gd)} full-batch runs converged inside [S_lower, "
                                    f"S_upper] (slack {slack:g})" + (f"; outside: {'; '.join(bad)}" if bad else "")))
        elif claim.name == "level_set_band":
            two = [r for r in results if r["D"] == 2]
            bad2 = [label(r) for r in two if not (r["converged"] and r["S_lower_C"] * (1 - slack_c) <= r["S_final"]
                                                  <= r["S_upper_C"] * (1 + slack_c))]
            verdicts.append(Verdict(claim.name, claim.kind, not bad2 and bool(two),
                                    f"{len(two) - len(bad2)}/{len(two)} D = 2 runs (GD and SGD) end inside the "
                                    f"bounds at their measured imbalance (slack {slack_c:g})"
                                    + (f"; outside: {'; '.join(bad2)}" if bad2 else "")))
        else:
            verdicts.append(Verdict(claim.name, claim.kind, None, "not measured by this scenario"))

    ok_runs = sorted((r for r in results if not r["diverged"]), key=lambda r: r["S_hat"])
    lo_all = min(r["S_hat"] for r in ok_runs) if ok_runs else 0.0
    hi_all = max(r["S_upper"] for r in ok_runs) if ok_runs else 1.0
    panels = (
        Panel("final sharpness vs the prediction S_hat_D", "S_hat_D = sigma_1^2 Q^((D-1)/D) / N",
              "final sharpness (top Hessian eigenvalue)",
              (Curve("measured", tuple(r["S_hat"] for r in ok_runs), tuple(r["S_final"] for r in ok_runs), "o"),
               Curve("S_lower (per run)", tuple(r["S_hat"] for r in ok_runs), tuple(r["S_lower"] for r in ok_runs), "^"),
               Curve("S_upper (per run)", tuple(r["S_hat"] for r in ok_runs), tuple(r["S_upper"] for r in ok_runs), "v"),
               Curve("y = x", (lo_all, hi_all), (lo_all, hi_all), "-"))),
        Panel("sharpness along training", "step", "top Hessian eigenvalue",
              tuple(Curve(label(r), tuple(float(s) for s in r["steps"]), tuple(r["sharpness"]), "-")
                    for r in results)),
    )
    return ScenarioResult(card.id, sim.algorithm, tuple(verdicts), tuple(lines),
                          {"runs": [{k: (v if not isinstance(v, float) or math.isfinite(v) else str(v))
                                     for k, v in r.items()} for r in results],
                           "options": {"steps": steps, "every": every, "slack": slack, **base}},
                          panels, steps, len(results), seed, str(dev), "float64", versions())


SCENARIOS = {"minimalist_sharpness": minimalist_sharpness}
