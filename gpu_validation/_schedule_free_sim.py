"""Scenario simulations for schedule-free SGD and AMUSE (see gpu_validation/_scenarios.py).

Each method is written straight-line here in torch (float64, batched over seeded runs), in the form its card
states; torch is imported inside the functions.

- ``sf_averaging_weights``: SF-SGD (c[t] = 1/t) in R^T with the gradients chosen so that y[s] = e_s (the s-th
  unit vector) at every step: x[T] then lists the weight of every y[s]. Judges ``weights_power_law`` (the
  weights vs the closed form a Gamma(T) Gamma(s + a - 1)/(Gamma(s) Gamma(T + a)), and the log-log slope over
  s in [T/10, T] vs a - 1) at the card's beta and at beta = 0.5, 0.75. Panel: weights vs s (log-log).
- ``river_valley_noise``: SGD and SF-SGD (constant c) on L = -kappa u + a v^2/2 with noisy valley gradients
  a v + sigma xi, for every gamma of the sweep: the late-time valley variance of SGD's iterate and SF's x
  vs the closed forms (``valley_variance``); SF-SGD with c[t] = 1/t: the time lag of x behind y on the river
  (``x_lags_y``). Panel: valley variance vs gamma.
- ``amuse_river_valley``: AMUSE with sign(.) for the orthogonalisation on the same toy (no noise), beta_t
  from the averaging weights c_t = 1/t; the same run with beta_t frozen at beta1 for comparison. Judges
  ``valley_decays`` and ``early_river``. Panel: |valley coordinate of Y| vs t.
"""
from __future__ import annotations

import math

from gpu_validation._device import pick_device
from gpu_validation._scenarios import Curve, Panel, ScenarioResult, observed_claim, scenario_point, unjudged
from gpu_validation._simulate import Verdict, versions
from theory import Card, InputError


_point = scenario_point


_claim = observed_claim


_unjudged = unjudged


def _steps(card: Card, steps) -> int:
    steps = int(steps or card.simulation.steps)
    if steps < 10:
        raise InputError("steps must be >= 10")
    return steps


def sf_impulse_weights(beta: float, gamma: float, T: int, device="cpu"):
    """Run SF-SGD (c[t] = 1/t) in R^T feeding the gradient that puts y[t] at e_t; returns (weights of y[s] in
    x[T], the largest |y[t] - e_t| seen, as a check that the run hit its targets)."""
    import torch
    eye = lambda k: torch.nn.functional.one_hot(torch.tensor(k, device=device), T).to(torch.float64)  # noqa: E731
    z = eye(0)
    x = z.clone()
    miss = 0.0
    for t in range(1, T):
        c = 1.0 / (t + 1)
        # the gradient g with y+ = e_t: y+ = ((1 - beta) + beta c) z+ + beta (1 - c) x and z+ = z - gamma g
        z_target = (eye(t) - beta * (1 - c) * x) / ((1 - beta) + beta * c)
        g = (z - z_target) / gamma
        # the method, straight-line
        z = z - gamma * g
        x = (1 - c) * x + c * z
        y = (1 - beta) * z + beta * x
        miss = max(miss, float((y - eye(t)).abs().max()))
    return x, miss


def averaging_weights(card: Card, *, at=None, device="auto", seed=0, steps=None, progress=None) -> ScenarioResult:
    import torch

    from numerics._compile import compiled
    pt = _point(card, at)
    T = _steps(card, steps)
    dev = pick_device(device)
    betas = sorted({0.5, 0.75, pt["beta"]})
    claim = _claim(card, "weights_power_law")
    tol = (claim.rtol if claim is not None and claim.rtol else 0.03)
    s = torch.arange(1, T + 1, dtype=torch.float64)
    lines, curves, ok, data = [], [], True, {"T": T, "betas": betas, "slopes": [], "closed_form_gap": [], "miss": []}
    sel = s >= T / 10
    for beta in betas:
        w, miss = sf_impulse_weights(beta, pt["gamma"], T, dev)
        w = w.cpu()
        a = 1.0 / (1.0 - beta)
        closed = torch.exp(math.log(a) + math.lgamma(T) + torch.lgamma(s + a - 1) - torch.lgamma(s) - math.lgamma(T + a))
        gap = float(((w - closed).abs() / closed).max())
        slope = float(torch.linalg.lstsq(torch.stack([torch.log(s[sel]), torch.ones(int(sel.sum()),
                                                      dtype=torch.float64)], 1), torch.log(w[sel]).unsqueeze(1)
                                         ).solution[0, 0])
        want = a - 1 if claim is None or claim.value is None else float(
            compiled(claim.value, [card.symbol("beta")])(beta))     # the card's exponent
        good = gap <= 1e-9 and miss <= 1e-9 and abs(slope - want) <= tol * max(1.0, want)
        ok &= good
        data["slopes"].append(slope)
        data["closed_form_gap"].append(gap)
        data["miss"].append(miss)
        lines.append(f"beta = {beta:g} (a = {a:.4g}): weights vs closed form max rel gap {gap:.2e}; log-log slope "
                     f"over s in [T/10, T] = {slope:.4f} vs claimed {want:.4f}; sum of weights "
                     f"{float(w.sum()):.12f}; targets hit within {miss:.1e}")
        step = max(1, T // 200)
        curves.append(Curve(f"measured, beta = {beta:g}", tuple(s[::step].tolist()), tuple(w[::step].tolist()), "o"))
        ref = closed[-1] * (s / T) ** want
        curves.append(Curve(f"s^(a-1), a = {a:.3g}", tuple(s[::step].tolist()), tuple(ref[::step].tolist()), "--"))
    verdicts = []
    if claim is not None:
        verdicts.append(Verdict(claim.name, claim.kind, ok, f"T = {T}: closed-form gaps "
                                f"{', '.join(f'{g:.1e}' for g in data['closed_form_gap'])} (<= 1e-9); slopes "
                                f"{', '.join(f'{v:.3f}' for v in data['slopes'])} vs the claimed exponent at beta = "
                                f"{', '.join(f'{b:g}' for b in betas)} (rtol {tol:g})"))
    verdicts += _unjudged(card, {"weights_power_law"})
    panel = Panel(f"Schedule-free SGD: weight of y_s in x_T (T = {T}, c_t = 1/t)", "s", "weight of y_s in x_T",
                  tuple(curves), logx=True, logy=True)
    return ScenarioResult(card.id, "sf_averaging_weights", tuple(verdicts), tuple(lines), data, (panel,),
                          steps=T, seeds=1, seed=seed, device=str(dev), versions=versions())


def _valley_variances(gamma, a, sigma, beta, c, kappa, steps, runs, gen, dev):
    """Late-time valley variance of SGD's iterate and SF's x (constant c), same noise for both."""
    import torch
    v = torch.zeros(runs, dtype=torch.float64, device=dev)
    z = torch.zeros_like(v)
    x = torch.zeros_like(v)
    u_sgd = torch.zeros_like(v)
    burn = steps // 2
    acc_sgd = acc_sf = 0.0
    for t in range(steps):
        xi = torch.randn(runs, generator=gen, dtype=torch.float64).to(dev)
        u_sgd = u_sgd + gamma * kappa            # the river: constant slope
        v = v - gamma * (a * v + sigma * xi)
        y = (1 - beta) * z + beta * x
        z = z - gamma * (a * y + sigma * xi)
        x = (1 - c) * x + c * z
        if t >= burn:
            acc_sgd += float((v ** 2).mean())
            acc_sf += float((x ** 2).mean())
    n = steps - burn
    return acc_sgd / n, acc_sf / n


def _lag(gamma, a, sigma, beta, kappa, T, runs, gen, dev):
    """SF-SGD with c[t] = 1/t on the river (noisy valley): the time tau at which y reached x[T]'s river position."""
    import torch
    z = torch.zeros(runs, 2, dtype=torch.float64, device=dev)
    x = z.clone()
    ys = []
    for t in range(1, T + 1):
        y = (1 - beta) * z + beta * x
        ys.append(float(y[:, 0].mean()))
        xi = torch.randn(runs, generator=gen, dtype=torch.float64).to(dev)
        g = torch.stack([torch.full((runs,), -kappa, dtype=torch.float64, device=dev), a * y[:, 1] + sigma * xi], 1)
        z = z - gamma * g
        c = 1.0 / (t + 1)
        x = (1 - c) * x + c * z
    target = float(x[:, 0].mean())       # x after T steps
    ys.append(float(((1 - beta) * z + beta * x)[:, 0].mean()))
    for k in range(len(ys) - 1):
        if ys[k] <= target <= ys[k + 1]:
            return T - (k + (target - ys[k]) / (ys[k + 1] - ys[k])), ys, target
    return math.nan, ys, target


def river_valley(card: Card, *, at=None, device="auto", seed=0, steps=None, progress=None) -> ScenarioResult:
    import torch
    from numerics._compile import compiled
    SF_VARIANCE = card.claim("sf_valley_variance").value      # the card's own closed forms
    SGD_VARIANCE = card.claim("below_sgd").value
    pt = _point(card, at)
    steps = _steps(card, steps)
    dev = pick_device(device)
    gen = torch.Generator().manual_seed(seed)
    runs = int(card.simulation.seeds)
    kappa = float(card.simulation.options.get("kappa", 1.0))
    sweep = [pt["gamma"]] if "gamma" in (at or {}) else list(card.simulation.sweep[card.symbol("gamma")])
    names = ("gamma", "a", "sigma", "beta", "c")
    syms = [card.symbol(n) for n in names]
    sgd_fn, sf_fn = compiled(SGD_VARIANCE, syms[:3]), compiled(SF_VARIANCE, syms)  # noqa: N806
    claim = _claim(card, "valley_variance")
    tol = claim.rtol if claim is not None and claim.rtol else 0.15
    lines, ok = [], True
    m_sgd, m_sf, p_sgd, p_sf = [], [], [], []
    for gm in sweep:
        vals = {**pt, "gamma": gm}
        if not gm * vals["a"] < 2:
            raise InputError(f"gamma = {gm:g}: gamma a must be < 2")
        ms, mf = _valley_variances(gm, vals["a"], vals["sigma"], vals["beta"], vals["c"], kappa, steps, runs, gen, dev)
        ps, pf = float(sgd_fn(*[vals[n] for n in names[:3]])), float(sf_fn(*[vals[n] for n in names]))
        good = abs(ms - ps) <= tol * ps and abs(mf - pf) <= tol * pf and mf < ms
        ok &= good
        for series, value in ((m_sgd, ms), (m_sf, mf), (p_sgd, ps), (p_sf, pf)):
            series.append(value)
        lines.append(f"gamma = {gm:g}: valley variance SGD {ms:.5g} (predicted {ps:.5g}), SF x {mf:.5g} (predicted "
                     f"{pf:.5g}); ratio SF/SGD {mf / ms:.3f}")
    verdicts = []
    if claim is not None:
        worst = max(max(abs(a_ - b_) / b_ for a_, b_ in zip(m_sgd, p_sgd)), max(abs(a_ - b_) / b_ for a_, b_ in
                                                                                 zip(m_sf, p_sf)))
        verdicts.append(Verdict(claim.name, claim.kind, ok, f"{len(sweep)} step sizes, {runs} runs x {steps} steps: "
                                f"worst relative gap to the closed forms {worst:.3f} (rtol {tol:g}); SF below SGD at "
                                f"{sum(f < s_ for f, s_ in zip(m_sf, m_sgd))}/{len(sweep)}"))
    lag_claim = _claim(card, "x_lags_y")
    data = {"gamma": sweep, "sgd": m_sgd, "sf": m_sf, "sgd_predicted": p_sgd, "sf_predicted": p_sf, "runs": runs,
            "steps": steps}
    if lag_claim is not None:
        lag_gamma = pt.get("gamma", sweep[len(sweep) // 2])
        lag, _, _ = _lag(lag_gamma, pt["a"], pt["sigma"], pt["beta"], kappa, steps, min(runs, 64), gen, dev)
        aw = 1.0 / (1.0 - pt["beta"])
        window = steps / (aw + 1)
        ltol = lag_claim.rtol or 0.05
        good = math.isfinite(lag) and abs(lag - window) <= ltol * window
        verdicts.append(Verdict(lag_claim.name, lag_claim.kind, good, f"c_t = 1/t, T = {steps}: x_T equals y at "
                                f"T - {lag:.2f}; averaging window T/(a_w + 1) = {window:.2f} (rtol {ltol:g})"))
        lines.append(f"lag of x behind y on the river: {lag:.2f} steps vs window {window:.2f} (beta = {pt['beta']:g}, gamma = {lag_gamma:g})")
        data["lag"], data["window"] = lag, window
    verdicts += _unjudged(card, {"valley_variance", "x_lags_y"})
    grid = [sweep[0] * (sweep[-1] / sweep[0]) ** (k / 60) for k in range(61)]
    curves = (Curve("SGD, measured", tuple(sweep), tuple(m_sgd), "o"),
              Curve("SF x, measured", tuple(sweep), tuple(m_sf), "s"),
              Curve("gamma sigma^2/(a(2 - gamma a))", tuple(grid),
                    tuple(float(sgd_fn(g_, pt["a"], pt["sigma"])) for g_ in grid), "-"),
              Curve("SF: Lyapunov closed form", tuple(grid),
                    tuple(float(sf_fn(g_, pt["a"], pt["sigma"], pt["beta"], pt["c"])) for g_ in grid), "--"))
    panel = Panel(f"River valley: stationary valley variance (a = {pt['a']:g}, sigma = {pt['sigma']:g}, beta = "
                  f"{pt['beta']:g}, c = {pt['c']:g})", "gamma", "valley variance", curves, logx=True, logy=True)
    return ScenarioResult(card.id, "river_valley_noise", tuple(verdicts), tuple(lines), data, (panel,), steps=steps,
                          seeds=runs, seed=seed, device=str(dev), versions=versions())


def amuse_run(beta1, rho, eta, mu, T0, kappa, valley, steps, starts, gen, dev, frozen=False):
    """AMUSE (sign for the orthogonalisation) on L = -kappa u + valley v^2/2; returns per-step (Y, Z, X) histories
    (steps, starts, 2)."""
    import torch
    Z = torch.zeros(starts, 2, dtype=torch.float64, device=dev)
    Z[:, 1] = (torch.rand(starts, generator=gen, dtype=torch.float64) * 2 - 1).to(dev)
    X = Z.clone()
    M = torch.zeros_like(Z)
    c_w = 1.0 / T0
    Ys, Zs, Xs = [], [], []
    for t in range(1, steps + 1):
        c_t = 1.0 / t
        if frozen or t <= T0:
            b = beta1
        else:
            S = c_t * (1 - c_w) / (c_w * (1 - c_t))
            b = 1 - S ** rho * (1 - beta1)
        Y = (1 - b) * Z + b * X
        g = torch.stack([torch.full((starts,), -kappa, dtype=torch.float64, device=dev), valley * Y[:, 1]], 1)
        M = mu * M + g
        Z = Z - eta * torch.sign(M)
        c = 1.0 / (t + 1)
        X = (1 - c) * X + c * Z
        Ys.append(Y)
        Zs.append(Z)
        Xs.append(X)
    return torch.stack(Ys).cpu(), torch.stack(Zs).cpu(), torch.stack(Xs).cpu()


def amuse_river_valley(card: Card, *, at=None, device="auto", seed=0, steps=None, progress=None) -> ScenarioResult:
    import torch
    pt = _point(card, at)
    steps = _steps(card, steps)
    dev = pick_device(device)
    opts = card.simulation.options
    T0, kappa, valley = int(opts.get("T0", 200)), float(opts.get("kappa", 1.0)), float(opts.get("valley", 4.0))
    if not 10 <= T0 < steps // 2:
        raise InputError(f"T0 = {T0} must be in [10, steps/2)")
    starts = int(card.simulation.seeds)
    args = (pt["beta1"], pt["rho"], pt["eta"], pt["mu"], T0, kappa, valley, steps, starts)
    Y, Z, X = amuse_run(*args, torch.Generator().manual_seed(seed), dev)
    Yf, _, _ = amuse_run(*args, torch.Generator().manual_seed(seed), dev, frozen=True)
    rms = lambda h, lo, hi: float(h[lo:hi, :, 1].pow(2).mean().sqrt())  # noqa: E731
    late = (steps - steps // 10, steps)
    before = (T0 - T0 // 10 - 1, T0)
    r_late, r_before, r_frozen = rms(Y, *late), rms(Y, *before), rms(Yf, *late)
    verdicts, lines = [], []
    vc = _claim(card, "valley_decays")
    if vc is not None:
        tol = vc.rtol or 0.25
        ok = r_late <= tol * r_before and r_late < r_frozen
        verdicts.append(Verdict(vc.name, vc.kind, ok, f"RMS valley coordinate of Y: {r_before:.4g} before T0, "
                                f"{r_late:.4g} over the last 10% (ratio {r_late / r_before:.3f}, at most {tol:g}); "
                                f"beta frozen at beta1: {r_frozen:.4g}"))
    prog = lambda h: float(h[T0 - 1, :, 0].mean())  # noqa: E731
    fy, fz, fx = prog(Y), prog(Z), prog(X)
    ec = _claim(card, "early_river")
    if ec is not None:
        from numerics._compile import compiled
        tol = ec.rtol or 0.05
        want = float(compiled(ec.value, [card.symbol("beta1")])(pt["beta1"]))
        ratio = fy / fz
        ok = abs(ratio - want) <= tol * want and abs(fy - fz) < abs(fx - fz)
        verdicts.append(Verdict(ec.name, ec.kind, ok, f"river coordinate at t = T0 = {T0}: Y {fy:.4g}, Z {fz:.4g}, "
                                f"X {fx:.4g}; Y/Z = {ratio:.4f} vs {want:.4f} (rtol {tol:g}); X/Z = {fx / fz:.4f}"))
    verdicts += _unjudged(card, {"valley_decays", "early_river"})
    lines.append(f"valley RMS of Y: before T0 {r_before:.4g}, late {r_late:.4g}, late with beta frozen {r_frozen:.4g}")
    lines.append(f"river at T0: Y {fy:.4g}, Z {fz:.4g}, X {fx:.4g}; at T: Y {float(Y[-1, :, 0].mean()):.4g}, "
                 f"X {float(X[-1, :, 0].mean()):.4g}")
    t_axis = tuple(float(k) for k in range(1, steps + 1, max(1, steps // 400)))
    idx = [int(k) - 1 for k in t_axis]
    curves = (Curve("|Y valley|, AMUSE", t_axis, tuple(float(Y[i, :, 1].abs().mean()) for i in idx), "-"),
              Curve("|Y valley|, beta frozen", t_axis, tuple(float(Yf[i, :, 1].abs().mean()) for i in idx), "--"))
    panel = Panel(f"AMUSE (sign updates) on a river valley: valley oscillation at Y (T0 = {T0})", "t",
                  "mean |valley coordinate of Y|", curves, vlines=(("T0", float(T0)),), logy=True)
    data = {"rms_before": r_before, "rms_late": r_late, "rms_frozen": r_frozen, "river_T0": {"Y": fy, "Z": fz, "X": fx},
            "T0": T0, "steps": steps}
    return ScenarioResult(card.id, "amuse_river_valley", tuple(verdicts), tuple(lines), data, (panel,), steps=steps,
                          seeds=starts, seed=seed, device=str(dev), versions=versions())


SCENARIOS: dict = {
    "sf_averaging_weights": averaging_weights,
    "river_valley_noise": river_valley,
    "amuse_river_valley": amuse_river_valley,
}
