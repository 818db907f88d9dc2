"""Scenario simulations for preference learning (KL-regularised optimum, RLHF vs DPO) (see gpu_validation/_scenarios.py).

``SCENARIOS``: name -> ``fn(card, *, at, device, seed, steps, progress) -> ScenarioResult``.
torch is imported inside the functions (this layer imports torch lazily). float64 throughout; every random
draw comes from a generator seeded by ``seed``; runs are batched over seeds (one row per seed).

- ``preference_finite_sample``: the real algorithms trained from n sampled preference pairs (labels drawn from
  the Bradley-Terry model of the card's r*): DPO (L-BFGS on the empirical DPO loss through log pi_theta),
  RLHF (L-BFGS reward-model fit on the empirical BT loss, then L-BFGS ascent of E_pi[r_hat] - beta KL from a small
  random start) and, for cards whose model has V_online, online DPO (``rounds`` rounds of n/rounds fresh pairs
  drawn from the PILAF sampler at the current policy, one gradient step on them per round with a decaying step
  1/(L (1 + k/20)^0.6), Polyak average over the second half; a full DPO refit per round is unstable at small
  beta: it jumps to a degenerate far fixed point). The exact V of each
  trained policy is compared with the population values of the card's numeric model as n grows.
- ``preference_sparse_reward``: linear BT with a k-sparse reward in d dimensions; two-stage RLHF with an
  l1-penalised reward fit (proximal gradient) vs DPO's dense log-linear fit (small ridge); the number of pairs
  needed to reach V >= V* - eps, against d, and fitted log-log slopes.
"""
from __future__ import annotations

import math

import numpy as np

from gpu_validation._device import pick_device, single_thread
from gpu_validation._scenarios import Curve, Panel, ScenarioResult
from gpu_validation._simulate import Verdict, versions
from numerics import validate_point
from numerics._models import card_data, quantities
from numerics._preference import log_policy, pilaf_pairs, value
from theory import Card, InputError, Observed


def _point(card: Card, at) -> dict[str, float]:
    bindings = {s.name: float(v) for s, v in card.simulation.at.items()}
    data_over = {}
    for name, v in (at or {}).items():
        if card.model is not None and name in card.model.data:
            data_over[name] = v
        else:
            bindings[name] = v
    point, _ = validate_point(card, bindings, claims=[c for c in card.claims if isinstance(c, Observed)],
                              require=False)
    return {s.name: float(v) for s, v in point.items()}, data_over


def _claim(card: Card, name: str) -> Observed | None:
    return next((c for c in card.claims if isinstance(c, Observed) and (c.observer or c.name) == name), None)


def _lbfgs(params, closure_loss, iters: int):
    """Minimise a (seed-separable) scalar loss with L-BFGS + strong Wolfe line search."""
    import torch
    opt = torch.optim.LBFGS([params], lr=1.0, max_iter=iters, tolerance_grad=1e-12, tolerance_change=1e-15,
                            history_size=20, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = closure_loss(params)
        loss.backward()
        return loss

    opt.step(closure)
    return params.detach()


def _bt_nll(d, y):
    import torch.nn.functional as F
    return (y * F.softplus(-d) + (1 - y) * F.softplus(d)).sum()


def _draw_pairs(gen, probs: np.ndarray, S: int, n: int, r_star, dev):
    """S x n ordered pairs from the pair distribution ``probs`` (n_resp x n_resp) and BT labels
    (y = 1: the first response is preferred)."""
    import torch
    N = probs.shape[0]
    flat = torch.as_tensor(probs.reshape(-1), dtype=torch.float64)
    idx = torch.multinomial(flat.expand(S, -1), n, replacement=True, generator=gen)
    i, j = (idx // N).to(dev), (idx % N).to(dev)
    p = torch.sigmoid(r_star[i] - r_star[j])
    y = (torch.rand(S, n, generator=gen, dtype=torch.float64).to(dev) < p).to(torch.float64)
    return i, j, y


def _dpo(i, j, y, psi, log_ref, beta, theta0, iters):
    import torch

    def loss(th):
        logp = torch.log_softmax(log_ref + th @ psi.T, dim=1)
        h = beta * (logp - log_ref)
        return _bt_nll(torch.gather(h, 1, i) - torch.gather(h, 1, j), y) / i.shape[1]

    return _lbfgs(theta0.clone().requires_grad_(True), loss, iters)


def finite_sample(card: Card, *, at=None, device="auto", seed=0, steps=None, progress=None) -> ScenarioResult:
    with single_thread():
        return _finite_sample(card, at=at, device=device, seed=seed, steps=steps, progress=progress)


def _finite_sample(card: Card, *, at=None, device="auto", seed=0, steps=None, progress=None) -> ScenarioResult:
    import torch
    sim = card.simulation
    point, data_over = _point(card, at)
    beta = point["beta"]
    data = card_data(card, data_over)
    exact = quantities(card, {card.symbol("beta"): beta}, data)
    iters = int(steps or sim.steps)
    if iters < 10:
        raise InputError("steps must be >= 10")
    S = int(sim.seeds)
    opts = dict(sim.options)
    ns = [int(round(v)) for v in np.geomspace(opts.get("n_min", 100), opts.get("n_max", 10000),
                                               int(opts.get("points", 3)))]
    rounds = int(opts.get("rounds", 10))
    dev = pick_device(device)
    gen = torch.Generator().manual_seed(seed)
    t64 = dict(dtype=torch.float64, device=dev)
    r = np.asarray(data["reward"], dtype=float)
    log_ref_np = np.log(np.asarray(data["reference"], dtype=float))
    phi_np, psi_np = np.asarray(data["reward_features"], float), np.asarray(data["policy_features"], float)
    mu = np.triu(np.asarray(data["pairs"], float) + np.asarray(data["pairs"], float).T, 1)
    mu = mu / mu.sum()
    r_star, log_ref = torch.as_tensor(r, **t64), torch.as_tensor(log_ref_np, **t64)
    phi, psi = torch.as_tensor(phi_np, **t64), torch.as_tensor(psi_np, **t64)
    online = "V_online" in exact
    methods = ["rlhf", "dpo"] + (["online"] if online else [])
    V = {m: np.zeros((len(ns), S)) for m in methods}

    def v_of(theta_rows):
        return [value(log_policy(t, psi_np, log_ref_np), r, log_ref_np, beta) for t in theta_rows.cpu().numpy()]

    for a, n in enumerate(ns):
        i, j, y = _draw_pairs(gen, mu, S, n, r_star, dev)
        # DPO
        th = _dpo(i, j, y, psi, log_ref, beta, torch.zeros(S, psi.shape[1], **t64), iters)
        V["dpo"][a] = v_of(th)
        # RLHF: reward model, then KL-regularised policy optimisation with the learned reward

        def rm_loss(w):
            rh = w @ phi.T
            return _bt_nll(torch.gather(rh, 1, i) - torch.gather(rh, 1, j), y) / n

        w = _lbfgs(torch.zeros(S, phi.shape[1], **t64).requires_grad_(True), rm_loss, iters)
        r_hat = w @ phi.T

        def neg_v(th):
            logp = torch.log_softmax(log_ref + th @ psi.T, dim=1)
            return -(logp.exp() * (r_hat - beta * (logp - log_ref))).sum()

        th0 = 0.1 * torch.randn(S, psi.shape[1], generator=gen, dtype=torch.float64).to(dev)
        th = _lbfgs(th0.requires_grad_(True), neg_v, iters)
        V["rlhf"][a] = v_of(th)
        if online:  # stochastic online DPO: fresh PILAF pairs each round, one gradient step, Polyak average
            th = torch.zeros(S, psi.shape[1], **t64)
            m = max(1, n // rounds)
            dpsi = (psi[:, None, :] - psi[None, :, :]).reshape(-1, psi.shape[1])
            lip = beta**2 * float(torch.linalg.matrix_norm(dpsi, ord=2) ** 2) / (4 * dpsi.shape[0]) + 1e-300
            avg, count = torch.zeros_like(th), 0
            for k in range(rounds):
                rows = []
                for s in range(S):  # the PILAF sampler at each seed's current policy
                    q = pilaf_pairs(th[s].cpu().numpy(), psi_np, log_ref_np, beta)
                    rows.append(_draw_pairs(gen, q, 1, m, r_star, dev))
                i2, j2, y2 = (torch.cat([rw[c] for rw in rows]) for c in range(3))
                th = th.clone().requires_grad_(True)
                logp = torch.log_softmax(log_ref + th @ psi.T, dim=1)
                h = beta * (logp - log_ref)
                loss = _bt_nll(torch.gather(h, 1, i2) - torch.gather(h, 1, j2), y2) / m
                (g,) = torch.autograd.grad(loss, th)
                th = (th - g / (lip * (1 + k / 20) ** 0.6)).detach()
                if k >= rounds // 2:
                    avg, count = avg + th, count + 1
            V["online"][a] = v_of(avg / count)
        if progress is not None:
            progress(a + 1)

    names = {"rlhf": "V_rlhf", "dpo": "V_dpo", "online": "V_online"}
    lines, verdicts, curves, errs = [], [], [], {}
    for mth in methods:
        target = float(exact[names[mth]])
        mean, se = V[mth].mean(axis=1), V[mth].std(axis=1, ddof=1) / math.sqrt(S) if S > 1 else np.zeros(len(ns))
        errs[mth] = (np.abs(mean - target), se)
        for a, n in enumerate(ns):
            lines.append(f"{mth:6s} n = {n:6d}: mean V = {mean[a]:.6f} (s.e. {se[a]:.2g}, {S} seeds); exact "
                         f"{names[mth]} = {target:.6f}")
        curves.append(Curve(mth, tuple(float(n) for n in ns), tuple(mean.tolist()), "o-"))
    claim = _claim(card, "finite_sample_convergence")
    if claim is not None:
        tol = claim.rtol or 0.05
        bad = []
        for mth in methods:
            err, se = errs[mth]
            scale = max(abs(float(exact["V_star"]) - float(exact["V_dpo"])), abs(float(exact[names[mth]])) * 1e-3)
            if not (err[-1] <= 4 * se[-1] + tol * scale):
                bad.append(f"{mth}: |mean V - exact| = {err[-1]:.3g} at n = {ns[-1]} (4 s.e. + {tol:g} x {scale:.3g})")
        ok = not bad
        verdicts.append(Verdict(claim.name, claim.kind, ok,
                                ("at n = %d every method's mean V is within 4 s.e. + %g x (V* - V_dpo) of its exact "
                                 "population value" % (ns[-1], tol)) if ok else "; ".join(bad)))
    for c in card.claims:
        if isinstance(c, Observed) and (c.observer or c.name) != "finite_sample_convergence":
            verdicts.append(Verdict(c.name, c.kind, None, "no observer for this claim in this scenario"))
    hl = tuple((f"exact {names[m]}", float(exact[names[m]])) for m in methods) + (("V*", float(exact["V_star"])),)
    panel = Panel(f"{card.id}: V of the trained policy vs number of preference pairs (beta = {beta:g})",
                  "preference pairs n", "V(pi) = E_pi r* - beta KL", tuple(curves), hlines=hl, logx=True)
    out = {"beta": beta, "n": ns, "values": {m: V[m].tolist() for m in methods},
           "exact": {k: float(v) for k, v in exact.items() if not isinstance(v, list)}, "rounds": rounds}
    return ScenarioResult(card.id, sim.algorithm, tuple(verdicts), tuple(lines), out, (panel,), iters, S, seed,
                          str(dev), "float64", versions())


# -- sparse reward: RLHF (l1 reward fit) vs DPO (dense) ----------------------------------------------------

def _sparse_instance(gen, d: int, k: int, m: int, dev):
    """k-sparse theta* (entries +-2, +-1.5 pattern), m candidate responses with N(0, I) features."""
    import torch
    theta = torch.zeros(d, dtype=torch.float64)
    pattern = torch.tensor([2.0, -2.0, 1.5, -1.5], dtype=torch.float64)
    theta[:k] = pattern[torch.arange(k) % 4]
    feats = torch.randn(m, d, generator=gen, dtype=torch.float64)
    return theta.to(dev), feats.to(dev)


def _fit_linear_bt(X, y, lam_l1: float, ridge: float, iters: int):
    """Batched (over seeds) BT fit of a linear reward on pair differences X (S x n x d): proximal gradient
    (ISTA) for the l1 penalty, plain gradient for the ridge; step 1 / L with L = ||X||^2 / (4 n)."""
    import torch
    S, n, d = X.shape
    L = torch.linalg.matrix_norm(X, ord=2) ** 2 / (4 * n) + ridge
    step = (1.0 / L)[:, None]
    w = torch.zeros(S, d, dtype=X.dtype, device=X.device)
    for _ in range(iters):
        z = torch.einsum("snd,sd->sn", X, w)
        g = torch.einsum("snd,sn->sd", X, torch.sigmoid(z) - y) / n + ridge * w
        w = w - step * g
        if lam_l1 > 0:
            w = torch.sign(w) * torch.clamp(w.abs() - step * lam_l1, min=0.0)
    return w


def _crossing(ns, vals, target: float) -> float | None:
    """The pairs n at which V first reaches ``target``: interpolated linearly in log n between the
    last grid point below and the first at or above it (a grid point alone would quantise n_eps to
    the grid's ratio, and the fitted slope with it)."""
    for i, v in enumerate(vals):
        if v >= target:
            if i == 0:
                return float(ns[0])
            lo, hi = vals[i - 1], v
            frac = (target - lo) / (hi - lo) if hi > lo else 1.0
            return float(math.exp(math.log(ns[i - 1]) + frac * (math.log(ns[i]) - math.log(ns[i - 1]))))
    return None


def sparse_reward(card: Card, *, at=None, device="auto", seed=0, steps=None, progress=None) -> ScenarioResult:
    with single_thread():
        return _sparse_reward(card, at=at, device=device, seed=seed, steps=steps, progress=progress)


def _sparse_reward(card: Card, *, at=None, device="auto", seed=0, steps=None, progress=None) -> ScenarioResult:
    import torch
    sim = card.simulation
    opts = dict(sim.options)
    beta, k, m = float(opts.get("beta", 0.5)), int(opts.get("k", 3)), int(opts.get("candidates", 50))
    eps_frac = float(opts.get("eps", 0.1))
    dims = [int(v) for v in sim.sweep.get(card.symbol("d"), (50, 100, 200, 400))]
    for name, v in (at or {}).items():
        if name != "d":
            raise InputError(f"card {card.id} sweeps d; --at takes only d=VALUE (got {name!r})")
        if isinstance(v, list) or not (math.isfinite(float(v)) and float(v).is_integer() and 2 * k <= v <= 5000):
            raise InputError(f"d must be an integer in [{2 * k}, 5000], got {v!r}")
        dims = [int(v)]
    ns = [int(v) for v in np.geomspace(opts.get("n_min", 25), opts.get("n_max", 3200), int(opts.get("points", 8)))]
    S, iters = int(sim.seeds), int(steps or sim.steps)
    dev = pick_device(device)
    gen = torch.Generator().manual_seed(seed)
    lines, curves_r, curves_d, need = [], [], [], {"rlhf": [], "dpo": []}
    for d in dims:
        theta, feats = _sparse_instance(gen, d, k, m, dev)
        r_star = feats @ theta
        log_ref = torch.full((m,), -math.log(m), dtype=torch.float64, device=dev)
        v_star = beta * torch.logsumexp(log_ref + r_star / beta, 0)
        v_ref = r_star.mean()
        target = v_star - eps_frac * (v_star - v_ref)

        def v_of(w):  # exact V of pi ∝ pi_ref exp(features . w / beta), rows of w
            logp = torch.log_softmax(log_ref + (w @ feats.T) / beta, dim=1)
            return (logp.exp() * (r_star - beta * (logp - log_ref))).sum(1)

        vr, vd = [], []
        for n in ns:
            a = torch.randn(S, n, d, generator=gen, dtype=torch.float64).to(dev)
            b = torch.randn(S, n, d, generator=gen, dtype=torch.float64).to(dev)
            X = a - b
            y = (torch.rand(S, n, generator=gen, dtype=torch.float64).to(dev)
                 < torch.sigmoid(X @ theta)).to(torch.float64)
            w_l1 = _fit_linear_bt(X, y, float(opts.get("l1", 0.5)) * math.sqrt(math.log(d) / n), 0.0, iters)
            w_dense = _fit_linear_bt(X, y, 0.0, float(opts.get("ridge", 1e-3)), iters)
            vr.append(float(v_of(w_l1).mean()))
            vd.append(float(v_of(w_dense).mean()))
        for name, vals, store in (("rlhf", vr, curves_r), ("dpo", vd, curves_d)):
            hit = _crossing(ns, vals, float(target))
            need[name].append(hit)
            store.append(Curve(f"d = {d}", tuple(float(n) for n in ns), tuple(vals), "o-"))
            lines.append(f"d = {d:4d} {name:4s}: V at n = {ns} -> {[round(v, 3) for v in vals]}; V* = {float(v_star):.3f}; "
                         f"n to reach V* - {eps_frac:g}(V* - V_ref): {None if hit is None else round(hit, 1)}")
        if progress is not None:
            progress(d)
    slopes = {}
    for name in need:
        pts = [(d, n) for d, n in zip(dims, need[name]) if n is not None]
        slopes[name] = float(np.polyfit(np.log([p[0] for p in pts]), np.log([p[1] for p in pts]), 1)[0]) \
            if len(pts) >= 2 else None
        lines.append(f"{name}: fitted slope of log n_eps against log d = {slopes[name]}")
    verdicts = []
    claim = _claim(card, "sample_complexity_trend")
    if claim is not None:
        sr, sd = slopes["rlhf"], slopes["dpo"]
        if sr is None or sd is None:
            verdicts.append(Verdict(claim.name, claim.kind, None, "the target was not reached at enough d "
                                    f"(n_max = {ns[-1]}); run longer (see the card's notes)"))
        else:
            ok = sd > sr + float(opts.get("slope_gap", 0.3))
            verdicts.append(Verdict(claim.name, claim.kind, ok, f"slope of log n_eps vs log d: RLHF (l1) {sr:.2f}, "
                                    f"DPO (dense) {sd:.2f} (claimed: DPO's exceeds RLHF's by > "
                                    f"{opts.get('slope_gap', 0.3)})"))
    panels = (Panel("RLHF (l1 reward fit): V vs pairs", "pairs n", "V", tuple(curves_r), logx=True),
              Panel("DPO (dense log-linear): V vs pairs", "pairs n", "V", tuple(curves_d), logx=True))
    out = {"dims": dims, "n": ns, "need": need, "slopes": slopes, "beta": beta, "k": k, "eps": eps_frac}
    return ScenarioResult(card.id, sim.algorithm, tuple(verdicts), tuple(lines), out, panels, iters, S, seed,
                          str(dev), "float64", versions())


SCENARIOS: dict = {"preference_finite_sample": finite_sample, "preference_sparse_reward": sparse_reward}
