"""Real minibatch SGD at an interpolating minimum (see gpu_validation/_scenarios.py).

``SCENARIOS``: name -> ``fn(card, *, at, device, seed, steps, progress) -> ScenarioResult``. torch is
imported inside the functions; float64; every draw comes from a torch generator seeded by ``seed``.

- ``sgd_interpolation_mc``: per-sample Hessians (the card's model data, or for a 1-D card n curvatures
  with mean lambda and standard deviation s, equally spaced) and real minibatch SGD: batches sampled
  every step (B indices with replacement, or the first B of a random permutation without), optionally
  heavy-ball momentum. Runs at 0.95x and 1.05x the predicted eta*, each run started from the d columns
  of I/sqrt(d) with the same batches (so the mean over a run's columns is E||x_t||^2 over
  x0 ~ N(0, I/d) given its batches). The Monte Carlo mean of ||x_t||^2 over runs is compared with the
  exact second-moment recursion over the horizon in which the exact recursion moves ``MOVE``-fold (at most
  ``EARLY`` steps are z-tested: the squared norm's tails grow with t): within ``Z_MAX`` standard errors,
  and the mean must decay (0.95x) / grow (1.05x) by ``SETTLED`` over that horizon.
  A 1-D card's claimed eta* is also compared with the general operator's on the same dataset.
  Panels: E||x_t||^2 (Monte Carlo and exact) and eta*(B) against the bounds.
- ``sgd_interpolation_refute``: a conjecture card's statement searched over its family (hypothesis,
  seeded, shrunk) for a violation by more than ``margin`` (option, relative: so that the Monte Carlo can
  separate the statement's limit from eta*); at the shrunk counterexample, SGD at a step size just above
  the statement's limit (which it calls unstable) but below the exact eta* decays, and at 1.05x eta*
  grows.
- ``sgd_interpolation_mlp``: an over-parameterised MLP (2 -> width -> 1, tanh) trained to interpolation
  (L-BFGS, square loss, loss ~ 1e-21); its per-sample Gauss-Newton Hessians (the Hessians, at an exact
  interpolating minimum) give the operator's eta*(B); SGD with sampled batches started 1e-4 from the
  minimum at 0.8x and 1.25x eta* (B = 1, 4, 16) stays (E||theta_T - theta*||^2 below its start: the range
  directions contract) or escapes (more than ``ESCAPE``-fold); the inputs are redrawn (seeded) when L-BFGS
  does not reach interpolation.
"""
from __future__ import annotations

import math

import numpy as np

from gpu_validation._device import pick_device, single_thread
from gpu_validation._scenarios import Curve, Panel, ScenarioResult
from gpu_validation._simulate import Verdict, versions
from numerics import claim_value, validate_point
from numerics._models import card_data, model_of
from numerics._sgd_interpolation import (Problem, eta_crit_kron, eta_crit_matrix_free, eta_crit_momentum,
                                         eta_sufficient, search_counterexample, second_moment_trajectory)
from theory import Card, InputError, Observed, Threshold

Z_MAX = 5.0    # |MC mean - exact| / standard error allowed over the early steps
EARLY = 5     # z-tested steps: the squared norm is a product of random factors, its tails grow with t
MOVE = 3.0     # the horizon: steps for the exact recursion to move this many-fold (capped by Simulation.steps)
SETTLED = 1.5  # the Monte Carlo mean must end below start / SETTLED (decay) or above SETTLED x start (growth)
ROUTE_RTOL = 1e-9


def _dataset(lam: float, s: float, n: int) -> np.ndarray:
    """n curvatures with population mean lam and standard deviation s (equally spaced), as 1 x 1 Hessians."""
    z = np.linspace(-1.0, 1.0, n) if n > 1 else np.zeros(1)
    if n > 1:
        z = (z - z.mean()) / z.std()
    return (lam + s * z)[:, None, None]


def monte_carlo(hs: np.ndarray, batch: int, replacement: bool, eta: float, runs: int, steps: int, seed: int,
                device, beta: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard error over runs of ||x_t||^2 (t = 0..steps) for real minibatch SGD."""
    import torch
    gen = torch.Generator().manual_seed(seed)
    H = torch.as_tensor(hs, dtype=torch.float64, device=device)
    n, d = H.shape[0], H.shape[1]
    X = (torch.eye(d, dtype=torch.float64) / math.sqrt(d)).expand(runs, d, d).clone().to(device)
    X_prev = X.clone()
    out_mean, out_se = [], []

    def record(Z):
        v = (Z * Z).sum(dim=(1, 2))
        out_mean.append(float(v.mean()))
        out_se.append(float(v.std() / math.sqrt(runs)))

    record(X)
    for _ in range(steps):
        if replacement:
            idx = torch.randint(n, (runs, batch), generator=gen)
        else:
            idx = torch.rand(runs, n, generator=gen).argsort(dim=1)[:, :batch]
        HB = H[idx.to(device)].mean(dim=1)
        step = X - eta * torch.bmm(HB, X)
        if beta is not None:
            step = step + beta * (X - X_prev)
            X_prev = X
        X = step
        record(X)
    return np.array(out_mean), np.array(out_se)


def _exact(hs: np.ndarray, batch: int, replacement: bool, eta: float, steps: int, beta: float | None) -> np.ndarray:
    p = Problem(hs, batch, replacement)
    d, r = hs.shape[1], p.d
    S0 = p.basis.T @ (np.eye(d) / d) @ p.basis
    if beta is not None:
        S0 = np.kron(np.ones((2, 2)), S0)   # x_prev = x at the start
    return second_moment_trajectory(p, eta, S0, steps, beta) + (d - r) / d  # null-space directions never move


def _horizon(hs, batch, replacement, eta, beta, cap: int) -> int:
    exact = _exact(hs, batch, replacement, eta, cap, beta)
    moved = np.nonzero((exact >= MOVE * exact[0]) | (exact <= exact[0] / MOVE))[0]
    return int(max(3, moved[0] if len(moved) else cap))


def run_pair(hs, batch, replacement, eta_star, factors, runs, cap, seed, device, beta=None) -> list[dict]:
    """Monte Carlo vs exact at factors x eta_star; one dict per factor with the judgement."""
    rows = []
    for k, f in enumerate(factors):
        eta = f * eta_star
        T = _horizon(hs, batch, replacement, eta, beta, cap)
        exact = _exact(hs, batch, replacement, eta, T, beta)
        mc, se = monte_carlo(hs, batch, replacement, eta, runs, T, seed + 17 * k + (0 if replacement else 7), device,
                             beta)
        z = np.abs(mc - exact) / np.maximum(se, 1e-12 * exact[0])  # a deterministic run (c_B = 0): rounding only
        z_early = float(np.max(z[1:min(EARLY, T) + 1]))
        want = "decays" if f < 1 else "grows"
        got = ("decays" if mc[-1] < mc[0] / SETTLED else "grows" if mc[-1] > SETTLED * mc[0] else "flat")
        exact_got = "decays" if exact[-1] < exact[0] else "grows"
        rows.append({"factor": f, "eta": eta, "steps": T, "mc": mc.tolist(), "se": se.tolist(), "exact": exact.tolist(),
                     "z_early": z_early, "outcome": got, "exact_outcome": exact_got,
                     "ok": bool(z_early <= Z_MAX and got == want == exact_got), "replacement": int(replacement)})
    return rows


def _row_text(r) -> str:
    scheme = "with" if r["replacement"] else "without"
    return (f"{scheme} replacement, {r['factor']:g}x (eta = {r['eta']:.6g}): E||x_T||^2 after {r['steps']} steps: MC "
            f"{r['mc'][-1]:.4g} +- {r['se'][-1]:.2g}, exact {r['exact'][-1]:.4g} from {r['exact'][0]:.4g} "
            f"({r['outcome']}), early |z| <= {r['z_early']:.2f}")


def _mc_panel(rows, title) -> Panel:
    curves = []
    for r in rows:
        scheme = "with" if r["replacement"] else "w/o"
        t = tuple(float(i) for i in range(len(r["mc"])))
        curves.append(Curve(f"MC {scheme} {r['factor']:g}x", t, tuple(r["mc"]), "o"))
        curves.append(Curve(f"exact {scheme} {r['factor']:g}x", t, tuple(r["exact"]), "-"))
    return Panel(title, "step t", "E ||x_t||^2", tuple(curves), hlines=(("start", rows[0]["exact"][0]),), logy=True)


def _batch_panel(hs, title, mark: int | None = None, max_batch: int | None = None) -> tuple[Panel, dict]:
    """eta*(B) with and without replacement against the sufficient bound and 2/lambda_max."""
    n = hs.shape[0]
    Bs = list(range(1, (max_batch or n) + 1))
    series = {"B": Bs, "with": [], "without": [], "sufficient_with": [], "sufficient_without": []}
    for b in Bs:
        p = Problem(hs, b, True)
        series["with"].append(eta_crit_kron(p))
        series["sufficient_with"].append(eta_sufficient(p))
        if b <= n:
            q = Problem(hs, b, False)
            series["without"].append(eta_crit_kron(q))
            series["sufficient_without"].append(eta_sufficient(q))
    p1 = Problem(hs, 1, True)
    series["gd"] = 2.0 / p1.lambda_max
    series["trace"] = 2.0 / p1.trace
    x = tuple(float(b) for b in Bs)
    xw = x[:len(series["without"])]
    curves = (Curve("eta* with replacement", x, tuple(series["with"]), "o-"),
              Curve("eta* without replacement", xw, tuple(series["without"]), "-."),
              Curve("sufficient (Wu-Ma-E), with", x, tuple(series["sufficient_with"]), "--"),
              Curve("sufficient (Wu-Ma-E), without", xw, tuple(series["sufficient_without"]), ":"))
    return Panel(title, "batch size B", "critical step size", curves,
                 hlines=(("2/lambda_max (GD)", series["gd"]), ("2/Tr H", series["trace"])),
                 vlines=((f"B = {mark}", float(mark)),) if mark else ()), series


def _sgd_mc(card: Card, *, at=None, device="auto", seed=0, steps=None, progress=None) -> ScenarioResult:
    sim = card.simulation
    dev = pick_device(device)
    runs = int(sim.seeds)
    cap = int(steps or sim.steps)
    factors = tuple(sim.factors)
    verdicts, lines, panels, data = [], [], [], {}
    threshold = next((c for c in card.claims if isinstance(c, Threshold)), None)
    if threshold is not None:      # a 1-D card: its claim on a dataset with its (lambda, s)
        bindings = {k.name: float(v) for k, v in sim.at.items()}
        bindings.update({k: v for k, v in (at or {}).items()})
        point, _ = validate_point(card, bindings, claims=[threshold])
        named = {k.name: v for k, v in point.items()}
        rep = bool(int(sim.options.get("replacement", 1)))
        n = int(named.get("n", sim.options.get("n", 6)))
        B = int(named["B"])
        beta = named.get("beta")
        hs = _dataset(named["lambda"], named["s"], n)
        if np.any(hs < 0):
            lines.append("note: some curvatures are negative at this point (not PSD); the formula still applies")
        predicted = claim_value(card, threshold, point)
        p = Problem(hs, B, rep)
        engine = eta_crit_momentum(p, beta) if beta is not None else eta_crit_kron(p)
        route_ok = abs(engine - predicted) <= ROUTE_RTOL * predicted
        rows = run_pair(hs, B, rep, predicted, factors, runs, cap, seed, dev, beta)
        ok = route_ok and all(r["ok"] for r in rows)
        head = (f"n = {n} curvatures (mean {named['lambda']:g}, sd {named['s']:g}), B = {B}, "
                f"{'with' if rep else 'without'} replacement{f', beta = {beta:g}' if beta is not None else ''}: "
                f"claimed eta* = {predicted:.10g}, general operator on the dataset {engine:.10g} "
                f"({'agree' if route_ok else 'DISAGREE'} to {ROUTE_RTOL:g}); ")
        verdicts.append(Verdict(threshold.name, threshold.kind, ok, head + "; ".join(_row_text(r) for r in rows)))
        lines += [head] + [_row_text(r) for r in rows]
        panels.append(_mc_panel(rows, f"{card.id}: minibatch SGD vs the exact second-moment recursion"))
        # eta*(B) from the claim against GD's 2/lambda
        Bs = list(range(1, 17 if "n" not in named else n + 1))
        vals = [claim_value(card, threshold, {**point, card.symbol("B"): b}) for b in Bs]
        x = tuple(float(b) for b in Bs)
        eng = [(eta_crit_momentum(Problem(hs, b, rep), beta) if beta is not None else eta_crit_kron(Problem(hs, b, rep)))
               for b in Bs if rep or b <= n]
        gd = 2.0 * (1 + (beta or 0.0)) / named["lambda"]
        panels.append(Panel(f"{card.id}: eta*(B)", "batch size B", "critical step size",
                            (Curve("claimed eta*(B)", x, tuple(vals), "-"),
                             Curve("general operator on the dataset", x[:len(eng)], tuple(eng), "o")),
                            hlines=(("full batch (no noise)", gd),), vlines=((f"B = {B}", float(B)),)))
        data = {"predicted": predicted, "engine": engine, "runs": rows, "dataset": hs[:, 0, 0].tolist(), "B": B,
                "replacement": int(rep), "eta_of_B": {"B": Bs, "claimed": vals, "engine": eng}}
    else:                          # a card with per-sample Hessians as data
        over = {k: v for k, v in (at or {}).items() if card.model is not None and k in card.model.data}
        d_ = card_data(card, over)
        hs = np.asarray(d_["hessians"], dtype=float)
        n, B = hs.shape[0], int(d_["batch"])
        beta = d_.get("momentum")
        rows, preds = [], {}
        wants_mc = any(isinstance(c, Observed) and c.name == "monte_carlo" for c in card.claims)
        for rep in (True, False):
            if not rep and B > n:
                continue
            p = Problem(hs, B, rep)
            preds[int(rep)] = eta_crit_momentum(p, beta) if beta is not None else eta_crit_kron(p)
            if wants_mc:
                rows += run_pair(hs, B, rep, preds[int(rep)], factors, runs, cap, seed, dev, beta)
        ok = all(r["ok"] for r in rows)
        head = (f"n = {n} per-sample Hessians in d = {hs.shape[1]}, B = {B}"
                f"{f', heavy-ball beta = {beta:g}' if beta is not None else ''}: eta* = {preds.get(1, math.nan):.8g} "
                f"with, {preds.get(0, math.nan):.8g} without replacement")
        lines += [head] + [_row_text(r) for r in rows]
        if rows:
            panels.append(_mc_panel(rows, f"{card.id}: minibatch SGD vs the exact second-moment recursion"))
        bpanel, series = _batch_panel(hs, f"{card.id}: eta*(B) against the bounds", B, max_batch=max(n, 2 * B))
        panels.append(bpanel)
        data = {"predicted": preds, "runs": rows, "eta_of_B": series, "hessians": hs.tolist(), "B": B}
        for claim in card.claims:
            if not isinstance(claim, Observed):
                continue
            if claim.name == "monte_carlo":
                verdicts.append(Verdict(claim.name, claim.kind, ok, head + "; " + "; ".join(_row_text(r) for r in rows)))
            elif claim.name == "batch_curve":
                good, why = _judge_batch_curve(series)
                verdicts.append(Verdict(claim.name, claim.kind, good, why))
                lines.append(why)
            else:
                verdicts.append(Verdict(claim.name, claim.kind, None, "not measured by this scenario"))
    return ScenarioResult(card.id, "sgd_interpolation_mc", tuple(verdicts), tuple(lines), data, tuple(panels),
                          steps=cap, seeds=runs, seed=seed, device=str(dev), versions=versions())


def _judge_batch_curve(series) -> tuple[bool, str]:
    eps = 1e-9
    bad = []
    for scheme in ("with", "without"):
        for b, e, lo in zip(series["B"], series[scheme], series[f"sufficient_{scheme}"]):
            if not lo <= e * (1 + eps) or not e <= series["gd"] * (1 + eps):
                bad.append(f"{scheme} B={b}: sufficient {lo:.6g}, eta* {e:.6g}, 2/lambda_max {series['gd']:.6g}")
    full = series["without"][-1] if series["without"] else math.nan
    if not abs(full - series["gd"]) <= 1e-9 * series["gd"]:
        bad.append(f"full batch without replacement gives {full:.10g}, not 2/lambda_max = {series['gd']:.10g}")
    detail = (f"eta*(B) for B = 1..{series['B'][-1]}: with replacement {series['with'][0]:.5g} .. {series['with'][-1]:.5g}, "
              f"without {series['without'][0]:.5g} .. {full:.5g} (= 2/lambda_max = {series['gd']:.5g} at B = n); "
              f"every value between the sufficient bound and 2/lambda_max")
    return (not bad), (detail if not bad else "; ".join(bad))


# -- refuting a conjecture card ------------------------------------------------------------------

def _problem_of(data) -> Problem:
    return Problem(data["hessians"], data["batch"], bool(data["replacement"]))


def _trace_ratio(data) -> float:
    p = _problem_of(data)
    return eta_crit_matrix_free(p) * p.trace / 2


def _nonuniformity_ratio(data) -> float:
    p = _problem_of(data)
    if p.c == 0:
        return math.nan
    return eta_crit_matrix_free(p) * p.nonuniformity() * math.sqrt(p.c)


RATIOS = {"trace_bound": (_trace_ratio, "eta* Tr H / 2", lambda p, e: 2.0 / p.trace, "2/Tr H"),
          "nonuniformity_bound": (_nonuniformity_ratio, "eta* s sqrt(c_B)",
                                  lambda p, e: 1.0 / (p.nonuniformity() * math.sqrt(p.c)), "1/(s sqrt(c_B))")}


def _refute(card: Card, *, at=None, device="auto", seed=0, steps=None, progress=None) -> ScenarioResult:
    sim = card.simulation
    dev = pick_device(device)
    claim = next(c for c in card.claims if isinstance(c, Observed))
    key = claim.observer or claim.name
    if key not in RATIOS:
        raise InputError(f"card {card.id}: no refutation search for {key!r} (known: {', '.join(RATIOS)})")
    ratio, label, limit, limit_label = RATIOS[key]
    strategy = model_of(card).instances(card_data(card))
    margin = float(sim.options.get("margin", 0.01))
    found = search_counterexample(strategy, ratio, examples=int(sim.options.get("examples", 300)), seed=seed,
                                  margin=margin)
    ce = found["counterexample"]
    data = {"max_ratio": found["max_ratio"], "evaluated": found["evaluated"], "counterexample": ce,
            "ratio": found["ratio"]}
    if ce is None:
        detail = (f"no violation of {label} <= 1 by more than {margin:g} in {found['evaluated']} instances (largest "
                  f"{found['max_ratio']:.6g})")
        return ScenarioResult(card.id, "sgd_interpolation_refute", (Verdict(claim.name, claim.kind, True, detail),),
                              (detail,), data, steps=0, seeds=1, seed=seed, device=str(dev), versions=versions())
    hs = np.asarray(ce["hessians"], dtype=float)
    rep, B = bool(ce["replacement"]), int(ce["batch"])
    p = Problem(hs, B, rep)
    star = eta_crit_kron(p)
    bound = limit(p, star)
    # just above the statement's limit (so the statement calls it unstable), as far below eta* as possible
    eta_run = bound * (1 + margin / 4)
    cap = int(steps or sim.options.get("max_steps", sim.steps))
    runs = int(sim.options.get("runs", 100000))
    rows = run_pair(hs, B, rep, star, (eta_run / star, 1.05), runs, cap, seed, dev)
    below, above = rows
    mats = "[" + ", ".join(str(np.round(h, 6).tolist()) for h in hs) + "]"
    detail = (f"REFUTED by a shrunk counterexample (hypothesis, {found['evaluated']} instances tried): hessians={mats}, "
              f"batch={B}, replacement={int(rep)}: exact eta* = {star:.8g}, the statement's limit {limit_label} = "
              f"{bound:.8g}, {label} = {found['ratio']:.6g} > 1 (largest seen {found['max_ratio']:.4g}); real minibatch "
              f"SGD at eta = {eta_run:.6g} (above the statement's limit, below eta*): MC {below['mc'][-1]:.4g} +- "
              f"{below['se'][-1]:.2g} vs exact {below['exact'][-1]:.4g} from {below['exact'][0]:.4g} after "
              f"{below['steps']} steps ({below['outcome']}, early |z| <= {below['z_early']:.2f}); at 1.05 eta*: "
              f"{above['outcome']} (MC {above['mc'][-1]:.4g}, exact {above['exact'][-1]:.4g})")
    stable_there = below["outcome"] == "decays" == below["exact_outcome"] and below["z_early"] <= Z_MAX
    verdict = Verdict(claim.name, claim.kind, False if stable_there else None,
                      detail if stable_there else detail + "; the Monte Carlo did not confirm stability there")
    data.update({"eta_crit": star, "limit": bound, "eta_run": eta_run, "runs": rows})
    panel = _mc_panel([dict(r, factor=r["eta"] / star) for r in rows],
                      f"{card.id}: SGD at the shrunk counterexample ({label} = {found['ratio']:.4g})")
    return ScenarioResult(card.id, "sgd_interpolation_refute", (verdict,), (detail,), data, (panel,), steps=cap,
                          seeds=runs, seed=seed, device=str(dev), versions=versions())


def sgd_mc(card: Card, **kw) -> ScenarioResult:
    with single_thread():
        return _sgd_mc(card, **kw)


def refute(card: Card, **kw) -> ScenarioResult:
    with single_thread():
        return _refute(card, **kw)


SCENARIOS: dict = {"sgd_interpolation_mc": sgd_mc, "sgd_interpolation_refute": refute}


# -- a small over-parameterised MLP at an interpolating minimum ----------------------------------------

def _mlp_setup(n: int, width: int, seed: int):
    """Inputs, targets, an MLP 2 -> width -> 1 (tanh) trained to interpolation (L-BFGS, square loss)."""
    import torch
    gen = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 2, generator=gen, dtype=torch.float64)
    Y = torch.sin(2 * X[:, :1]) * torch.cos(X[:, 1:])
    sizes = [(width, 2), (width,), (1, width), (1,)]
    flat = torch.cat([torch.randn(s, generator=gen, dtype=torch.float64).reshape(-1) / math.sqrt(s[-1])
                      for s in sizes]).requires_grad_(True)

    def forward(theta, x):
        k, out, parts = 0, [], []
        for s in sizes:
            m = int(np.prod(s))
            parts.append(theta[..., k:k + m].reshape(*theta.shape[:-1], *s))
            k += m
        W1, b1, W2, b2 = parts
        hdn = torch.tanh(torch.einsum("...hi,...ni->...nh", W1, x) + b1[..., None, :])
        return (torch.einsum("...oh,...nh->...no", W2, hdn) + b2[..., None, :])[..., 0]

    opt = torch.optim.LBFGS([flat], lr=1.0, max_iter=4000, tolerance_grad=1e-15, tolerance_change=1e-20,
                            history_size=50, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = 0.5 * ((forward(flat, X) - Y[:, 0]) ** 2).mean()
        loss.backward()
        return loss

    for _ in range(5):
        opt.step(closure)
    theta = flat.detach()
    loss = float(0.5 * ((forward(theta, X) - Y[:, 0]) ** 2).mean())
    J = torch.autograd.functional.jacobian(lambda t: forward(t, X), theta)   # n x p per-sample gradients
    return X, Y[:, 0], theta, forward, J.numpy(), loss


ESCAPE = 10.0   # E||theta_T - theta*||^2 beyond this many times its start: escaped


def _mlp(card: Card, *, at=None, device="auto", seed=0, steps=None, progress=None) -> ScenarioResult:
    import torch
    sim = card.simulation
    n, width = int(sim.options.get("n", 16)), int(sim.options.get("width", 16))
    batches = [int(b) for b in (sim.options.get("b1", 1), sim.options.get("b2", 4), sim.options.get("b3", 16))]
    runs, T = int(sim.seeds), int(steps or sim.steps)
    for attempt in range(4):   # L-BFGS from another seeded start until the loss is at interpolation level
        X, Y, theta, forward, J, loss = _mlp_setup(n, width, seed + 1000 * attempt)
        if loss < 1e-16:
            break
    hs = np.einsum("ni,nj->nij", J, J)            # per-sample Gauss-Newton Hessians (= Hessians at interpolation)
    gen = torch.Generator().manual_seed(seed + 1)
    rows, lines, ok = [], [f"MLP 2-{width}-1 (tanh), {theta.numel()} parameters, n = {n}: interpolating loss "
                           f"{loss:.2e}; per-sample Gauss-Newton Hessians (rank one)"], loss < 1e-16
    for B in batches:
        p = Problem(hs, B, True)
        star = eta_crit_matrix_free(p)
        # long enough for the linearised second moment to grow 1e4-fold at the largest factor (at most 4x steps)
        growth = p.rho(max(sim.factors) * star)
        T = int(min(4 * int(steps or sim.steps), max(int(steps or sim.steps), math.ceil(math.log(1e4) / math.log(growth)))))
        for f in sim.factors:
            eta = f * star
            delta = torch.randn(runs, theta.numel(), generator=gen, dtype=torch.float64)
            delta = 1e-4 * delta / delta.norm(dim=1, keepdim=True)
            th = theta.expand(runs, -1) + delta
            start = float((delta**2).sum(1).mean())
            for _ in range(T):
                idx = torch.randint(n, (runs, B), generator=gen)
                th = th.detach().requires_grad_(True)
                sel = forward(th, X[idx]) - Y[idx]                   # runs x B: the batch's residuals only
                g = torch.autograd.grad((0.5 * sel**2).mean(1).sum(), th)[0]
                th = th.detach() - eta * g
                th = torch.where(torch.isfinite(th), th, torch.full_like(th, 1e6))
            dist = ((th - theta) ** 2).sum(1)
            mean_ratio = float(dist.mean()) / start
            escaped = float((dist > 100 * start).double().mean())
            want = "stays" if f < 1 else "escapes"
            got = "escapes" if mean_ratio > ESCAPE else "stays" if mean_ratio < 1 else "unclear"
            ok = ok and got == want
            rows.append({"B": B, "eta_crit": star, "factor": f, "eta": eta, "mean_ratio": mean_ratio,
                         "escaped_fraction": escaped, "outcome": got})
            lines.append(f"B = {B}: eta* = {star:.6g} (2/lambda_max = {2 / p.lambda_max:.6g}, 2/Tr H = {2 / p.trace:.6g}); "
                         f"{f:g}x, {T} steps: E||theta_T - theta*||^2 / start = {mean_ratio:.3g}, {100 * escaped:.0f} % of runs "
                         f"beyond 100x ({got})")
    claim = next(c for c in card.claims if isinstance(c, Observed))
    verdict = Verdict(claim.name, claim.kind, ok, "; ".join(lines))
    x = tuple(float(b) for b in batches)
    stars = tuple(r["eta_crit"] for r in rows if r["factor"] == sim.factors[0])
    panel = Panel(f"{card.id}: eta* of the operator at the interpolating minimum", "batch size B", "step size",
                  (Curve("eta*(B), Gauss-Newton per-sample Hessians", x, stars, "o-"),),
                  hlines=(("2/lambda_max (GD)", 2 / Problem(hs, 1, True).lambda_max),
                          ("2/Tr H", 2 / Problem(hs, 1, True).trace)), logx=True)
    return ScenarioResult(card.id, "sgd_interpolation_mlp", (verdict,), tuple(lines),
                          {"rows": rows, "loss": loss, "parameters": int(theta.numel())}, (panel,), steps=T,
                          seeds=runs, seed=seed, device="cpu", versions=versions())


def mlp(card: Card, **kw) -> ScenarioResult:
    with single_thread():
        return _mlp(card, **kw)


SCENARIOS["sgd_interpolation_mlp"] = mlp
