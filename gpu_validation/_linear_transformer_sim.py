"""Scenario simulations for linear transformers (see gpu_validation/_scenarios.py).

``SCENARIOS``: name -> ``fn(card, *, at, device, seed, steps, progress) -> ScenarioResult``. torch is imported
inside the functions. Prompts are drawn by numpy generators seeded by ``seed`` (the gamma covariates need
numpy's gamma sampler) and moved to the device; models run in float64. Defaults are CPU-sized; on a CUDA
device the Adam-vs-SGD scenario switches to the paper's sizes (batch ``batch_cuda`` = 1000 prompts,
``steps_cuda`` = 10 000 steps, unless ``--steps`` is given) and the gradient scenarios use 4x larger batches.

The model is the repo's (chengxiang/LinearTransformer ``Transformer_F``): per layer
Z <- Z + (1/n) P Z M (Z^T Q Z), P = [[P_dd, 0], [0, 1]], Q = [[Q_dd, 0], [0, 0]], M = diag(1..1, 0), the
prediction -Z_L[d, n], loss mean (prediction - y_q)^2.

- ``linear_transformer_one_layer_training``: one layer (all blocks trainable; then A = -Q_dd^T), Adam on fresh
  prompts with a linearly decaying step, batched over seeds; the trained A against the closed forms and its
  *exact* loss (numerics' fourth-moment formula) against the minimum. Option ``prior_inverse``: w* ~ N(0, Sigma^-1).
- ``linear_transformer_pgd_critical_point``: the L-layer transformer in the PGD parameterisation
  (P_dd = 0, Q_dd = -A_l) at A_l = a_l Sigma^-1 (the optimal scalar steps of numerics' exact-moment model) on a
  non-isotropic Sigma with w* ~ N(0, Sigma^-1): autograd gradients over many independent batches, mean and
  standard error per entry; and the same at steps perturbed by 15 % (a control that must be clearly nonzero).
- ``linear_transformer_adam_vs_sgd``: 3 layers, every block trainable, Adam vs SGD with momentum on the same
  prompts; evaluation loss on common fresh prompts; the minibatch gradient-noise norms at the Adam-trained
  reference point of the research notes (one layer at A = 0.5 I) for ``normal`` and ``gamma`` covariates
  (kurtosis, p99/median, the CCDF).
"""
from __future__ import annotations

import math
import time

import numpy as np

from gpu_validation._device import pick_device, single_thread
from gpu_validation._scenarios import Curve, Panel, ScenarioResult
from gpu_validation._simulate import Verdict, versions
from numerics._linear_transformer import (inverse_prior_formula, isotropic_formula, one_layer_loss, prior_of,
                                          random_spd, scalar_pgd_optimum)
from numerics._models import card_data
from theory import Card, InputError, Observed


def _observed(card: Card, name: str) -> Observed | None:
    return next((c for c in card.claims if isinstance(c, Observed) and (c.observer or c.name) == name), None)


def _unjudged(card: Card, judged: set[str]) -> list[Verdict]:
    return [Verdict(c.name, c.kind, None, "no observer for this claim in this scenario") for c in card.claims
            if isinstance(c, Observed) and (c.observer or c.name) not in judged]


def _bindings(card: Card, at) -> dict[str, float]:
    out = {s.name: float(v) for s, v in card.simulation.at.items()}
    for k, v in (at or {}).items():
        if card.model is not None and k in card.model.data:
            continue
        if k not in {s.name for s in card.symbols}:
            raise InputError(f"card {card.id} has no parameter {k!r}")
        out[k] = float(v)
    return out


def full_blocks(P_dd, Q_dd):
    """(P, Q) of size d+1 from the d x d blocks (leading batch dimensions kept)."""
    import torch.nn.functional as F
    d = P_dd.shape[-1]
    P = F.pad(P_dd, (0, 1, 0, 1))
    P[..., d, d] = 1.0
    return P, F.pad(Q_dd, (0, 1, 0, 1))


def forward(Z, Ps, Qs):
    """-Z_L[d, n] of the linear transformer; Z (..., d+1, n+1), per layer P, Q (..., d+1, d+1)."""
    n = Z.shape[-1] - 1
    d = Z.shape[-2] - 1
    mask = Z.new_ones(n + 1)
    mask[n] = 0.0
    for P, Q in zip(Ps, Qs):
        Z = Z + (P @ (Z * mask)) @ (Z.transpose(-1, -2) @ Q @ Z) / n
    return -Z[..., d, n]


def prompts(rng, shape, n: int, d: int, sigma=None, prior=None, mode: str = "normal"):
    """Z (shape + (d+1, n+1)) and the query labels y_q: x ~ N(0, Sigma) (``normal``) or heavy-tailed norms
    (``gamma``: u sqrt(Gamma(0.1, scale 10)), u uniform on the sphere), w* ~ N(0, prior)."""
    m = int(np.prod(shape))
    G = rng.standard_normal((m, n + 1, d))
    if mode == "gamma":
        u = G / np.linalg.norm(G, axis=2, keepdims=True)
        X = u * np.sqrt(rng.gamma(0.1, math.sqrt(10 / 0.1), size=(m, n + 1, 1)))
    elif mode == "normal":
        X = G @ np.linalg.cholesky(sigma).T if sigma is not None else G
    else:
        raise InputError(f"unknown covariate mode {mode!r}")
    w = rng.standard_normal((m, d))
    if prior is not None:
        w = w @ np.linalg.cholesky(prior).T
    y = np.einsum("mkd,md->mk", X, w)
    Z = np.zeros((m, d + 1, n + 1))
    Z[:, :d, :] = X.transpose(0, 2, 1)
    Z[:, d, :n] = y[:, :n]
    return Z.reshape(*shape, d + 1, n + 1), y[:, n].reshape(shape)


def _tensor(x, t):
    import torch
    return torch.as_tensor(x, **t)


# -- one layer trained by Adam ------------------------------------------------------------------------

def one_layer_training(card: Card, *, at=None, device="auto", seed=0, steps=None, progress=None) -> ScenarioResult:
    with single_thread(pick_device(device).type == "cpu"):
        return _one_layer_training(card, at=at, device=device, seed=seed, steps=steps, progress=progress)


def _default_sigma(card: Card, at) -> np.ndarray:
    if card.model is not None and "Sigma" in card.model.data:
        over = {"Sigma": at["Sigma"]} if at and "Sigma" in at else {}
        return np.asarray(card_data(card, over)["Sigma"], dtype=float)
    from theory.cards.linear_transformer import SIGMA3
    return np.asarray(SIGMA3, dtype=float)


def _one_layer_training(card, *, at, device, seed, steps, progress):
    import torch
    sim = card.simulation
    opts = dict(sim.options)
    point = _bindings(card, at)
    n = int(round(point.get("n", 20)))
    sigma = _default_sigma(card, at)
    d = len(sigma)
    inverse = bool(opts.get("prior_inverse", 0)) or (card.model is not None
                                                      and card.model.data.get("prior") == "inverse")
    C = prior_of(sigma, "inverse" if inverse else "identity")
    target = inverse_prior_formula(sigma, n) if inverse else isotropic_formula(sigma, n)
    iso = isotropic_formula(sigma, n)
    L_star = one_layer_loss(target, sigma, C, n)
    iters = int(steps or sim.steps)
    if iters < 10:
        raise InputError("steps must be >= 10")
    dev = pick_device(device)
    S, lr = int(sim.seeds), float(opts.get("lr", 0.01))
    B = int(opts.get("batch", 512)) * (4 if dev.type == "cuda" else 1)
    t = dict(dtype=torch.float64, device=dev)
    gen = torch.Generator().manual_seed(seed)
    P_dd = (0.05 * torch.randn(S, 1, d, d, generator=gen, dtype=torch.float64)).to(dev).requires_grad_(True)
    Q_dd = (0.05 * torch.randn(S, 1, d, d, generator=gen, dtype=torch.float64)).to(dev).requires_grad_(True)
    opt = torch.optim.Adam([P_dd, Q_dd], lr=lr, betas=(0.9, 0.99))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda k: max(0.02, 1 - k / iters))
    rng = np.random.default_rng(seed)
    curve, err_curve, started = [], [], time.perf_counter()
    for k in range(iters):
        Z, yq = prompts(rng, (S, B), n, d, sigma, C)
        P, Q = full_blocks(P_dd, Q_dd)
        loss = ((forward(_tensor(Z, t), [P], [Q]) - _tensor(yq, t)) ** 2).mean(dim=1)
        opt.zero_grad()
        loss.sum().backward()
        opt.step()
        sched.step()
        if k % max(1, iters // 50) == 0 or k == iters - 1:
            A_now = -Q_dd.detach()[:, 0].transpose(-1, -2).cpu().numpy()
            curve.append((k, float(loss.detach().mean())))
            err_curve.append((k, float(np.mean([np.linalg.norm(a - target) / np.linalg.norm(target) for a in A_now]))))
        if progress is not None and k % 100 == 0:
            progress(k)
    A = -Q_dd.detach()[:, 0].transpose(-1, -2).cpu().numpy()
    errs = [float(np.linalg.norm(a - target) / np.linalg.norm(target)) for a in A]
    errs_iso = [float(np.linalg.norm(a - iso) / np.linalg.norm(iso)) for a in A]
    exact = [one_layer_loss(a, sigma, C, n) for a in A]
    excess = [e / L_star - 1 for e in exact]
    seconds = time.perf_counter() - started
    prior_txt = "Sigma^-1" if inverse else "I"
    lines = [f"one layer, d = {d}, n = {n}, w* ~ N(0, {prior_txt}), Adam lr {lr:g} (linear decay), batch {B}, "
             f"{iters} steps x {S} seeds ({seconds:.1f} s)"]
    for s in range(S):
        lines.append(f"  seed {s}: |A - A*|/|A*| = {errs[s]:.3%}; |A - iso formula|/|iso| = {errs_iso[s]:.3%}; exact "
                     f"loss {exact[s]:.6f} vs L* = {L_star:.6f} ({excess[s]:+.3%})")
    verdicts, judged = [], set()
    claim = _observed(card, "adam_reaches_optimum")
    if claim is not None:
        tol = claim.rtol or 0.05
        ok = max(errs) <= tol and max(excess) <= 0.01
        verdicts.append(Verdict(claim.name, claim.kind, ok, f"max |A - A*|/|A*| = {max(errs):.2%} (limit {tol:.0%}); "
                                f"max exact-loss excess {max(excess):.3%} (limit 1 %)"))
        judged.add(claim.name)
    claim = _observed(card, "trained_matches_isotropic_formula")
    if claim is not None:
        tol = claim.rtol or 0.05
        ok = max(errs_iso) <= tol
        verdicts.append(Verdict(claim.name, claim.kind, ok,
                                f"trained A vs ((1+1/n) Sigma + tr(Sigma)/n I)^-1: max relative distance "
                                f"{max(errs_iso):.1%} (claimed within {tol:.0%}); vs n/(n+d+1) Sigma^-1: "
                                f"{max(errs):.2%}; exact loss of the formula "
                                f"{one_layer_loss(iso, sigma, C, n):.5f} vs minimum {L_star:.5f}"))
        judged.add(claim.name)
    verdicts += _unjudged(card, judged)
    panels = (Panel(f"{card.id}: one-layer training", "step", "minibatch loss",
                    (Curve("Adam", tuple(float(a) for a, _ in curve), tuple(b for _, b in curve)),),
                    hlines=(("L*", L_star),), logy=True),
              Panel(f"{card.id}: distance to the optimum", "step", "|A - A*| / |A*|",
                    (Curve("Adam", tuple(float(a) for a, _ in err_curve), tuple(b for _, b in err_curve)),), logy=True))
    data = {"d": d, "n": n, "prior": "inverse" if inverse else "identity", "A": A.tolist(), "A_star": target.tolist(),
            "relative_error": errs, "relative_error_isotropic": errs_iso, "exact_loss": exact, "L_star": L_star,
            "seconds": seconds}
    return ScenarioResult(card.id, sim.algorithm, tuple(verdicts), tuple(lines), data, panels, iters, S, seed,
                          str(dev), "float64", versions())


# -- critical point of the L-layer PGD parameterisation ---------------------------------------------------

def pgd_critical_point(card: Card, *, at=None, device="auto", seed=0, steps=None, progress=None) -> ScenarioResult:
    with single_thread(pick_device(device).type == "cpu"):
        return _pgd_critical_point(card, at=at, device=device, seed=seed, steps=steps, progress=progress)


def _pgd_gradients(A_steps, sigma, n, batches, B, rng, t, dev):
    import torch
    d = len(sigma)
    prior = np.linalg.inv(sigma)
    As = [torch.as_tensor(a, **t).requires_grad_(True) for a in A_steps]
    zero = torch.zeros(d, d, **t)
    grads = []
    for _ in range(batches):
        Z, yq = prompts(rng, (B,), n, d, sigma, prior)
        Ps, Qs = zip(*[full_blocks(zero, -A) for A in As])
        loss = ((forward(_tensor(Z, t), Ps, Qs) - _tensor(yq, t)) ** 2).mean()
        g = torch.autograd.grad(loss, As)
        grads.append(torch.stack(g).cpu().numpy())
    G = np.array(grads)                       # batches x L x d x d
    mean, se = G.mean(axis=0), G.std(axis=0, ddof=1) / math.sqrt(batches)
    return mean, se


def _pgd_critical_point(card, *, at, device, seed, steps, progress):
    import torch
    sim = card.simulation
    point = _bindings(card, at)
    n, d, L = (int(round(point[k])) for k in ("n", "d", "L"))
    if not 1 <= L <= 3:
        raise InputError("L must be 1, 2 or 3")
    batches = int(steps or sim.steps)
    if batches < 10:
        raise InputError("steps (independent batches) must be >= 10")
    dev = pick_device(device)
    B = int(dict(sim.options).get("batch", 20000)) * (4 if dev.type == "cuda" else 1)
    rng = np.random.default_rng(seed)
    sigma = random_spd(rng, d, spread=3.0)
    t = dict(dtype=torch.float64, device=dev)
    _, a, _ = scalar_pgd_optimum(float(n), float(d), L)
    inv = np.linalg.inv(sigma)
    # the critical point: one order of the steps (the loss is symmetric under permuting them)
    started = time.perf_counter()
    mean, se = _pgd_gradients([al * inv for al in a], sigma, n, batches, B, rng, t, dev)
    z = np.abs(mean) / se
    mean_p, se_p = _pgd_gradients([1.15 * al * inv for al in a], sigma, n, batches, B, rng, t, dev)
    z_p = np.abs(mean_p) / se_p
    seconds = time.perf_counter() - started
    lines = [f"L = {L}, d = {d}, n = {n}, Sigma eigenvalues {np.round(np.linalg.eigvalsh(sigma), 3).tolist()}, "
             f"w* ~ N(0, Sigma^-1); steps a = {np.round(a, 5).tolist()} (exact-moment optimum)",
             f"  at A_l = a_l Sigma^-1: max |mean grad| / s.e. = {z.max():.2f} over {z.size} entries "
             f"({batches} batches x {B} prompts), max |mean grad| = {np.abs(mean).max():.2e}",
             f"  at 1.15 a_l (control): max |mean grad| / s.e. = {z_p.max():.1f}, max |mean grad| = "
             f"{np.abs(mean_p).max():.2e} ({seconds:.1f} s)"]
    verdicts, judged = [], set()
    claim = _observed(card, "pgd_critical_point")
    if claim is not None:
        ok = bool(z.max() <= 4.0 and z_p.max() >= 10.0)
        verdicts.append(Verdict(claim.name, claim.kind, ok, f"gradient at a_l Sigma^-1 within {z.max():.2f} s.e. of 0 "
                                f"(limit 4); at 1.15 a_l it is {z_p.max():.1f} s.e. from 0 (needs >= 10)"))
        judged.add(claim.name)
    verdicts += _unjudged(card, judged)
    idx = tuple(float(i) for i in range(z.size))
    panel = Panel(f"{card.id}: |mean gradient| / s.e. per entry of A_1..A_L", "entry", "|mean| / s.e.",
                  (Curve("at a_l Sigma^-1", idx, tuple(z.ravel().tolist()), "o"),
                   Curve("at 1.15 a_l Sigma^-1", idx, tuple(z_p.ravel().tolist()), "x")),
                  hlines=(("4 s.e.", 4.0),), logy=True)
    data = {"n": n, "d": d, "L": L, "steps": a.tolist(), "Sigma": sigma.tolist(), "z_max": float(z.max()),
            "z_max_perturbed": float(z_p.max()), "mean_grad": mean.tolist(), "se": se.tolist(), "seconds": seconds}
    return ScenarioResult(card.id, sim.algorithm, tuple(verdicts), tuple(lines), data, (panel,), batches, 1, seed,
                          str(dev), "float64", versions())


# -- Adam vs SGD on the 3-layer model ------------------------------------------------------------------------

def adam_vs_sgd(card: Card, *, at=None, device="auto", seed=0, steps=None, progress=None) -> ScenarioResult:
    with single_thread(pick_device(device).type == "cpu"):
        return _adam_vs_sgd(card, at=at, device=device, seed=seed, steps=steps, progress=progress)


def _train(kind, d, n, layers, iters, B, lr, seed, t, progress=None):
    import torch
    gen = torch.Generator().manual_seed(seed)
    P_dd = (0.05 * torch.randn(layers, d, d, generator=gen, dtype=torch.float64)).to(**t).requires_grad_(True)
    Q_dd = (0.05 * torch.randn(layers, d, d, generator=gen, dtype=torch.float64)).to(**t).requires_grad_(True)
    if kind == "adam":
        opt = torch.optim.Adam([P_dd, Q_dd], lr=lr, betas=(0.9, 0.9))
    else:
        opt = torch.optim.SGD([P_dd, Q_dd], lr=lr, momentum=0.9)
    rng = np.random.default_rng(seed + 1)   # the same prompts for both optimisers
    curve = []
    for k in range(iters):
        Z, yq = prompts(rng, (B,), n, d)
        P, Q = full_blocks(P_dd, Q_dd)
        loss = ((forward(_tensor(Z, t), list(P), list(Q)) - _tensor(yq, t)) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_([P_dd, Q_dd], 1.0)
        opt.step()
        if not math.isfinite(float(loss.detach())):
            break
        if k % max(1, iters // 60) == 0 or k == iters - 1:
            curve.append((k, float(loss.detach())))
        if progress is not None and k % 100 == 0:
            progress(k)
    return P_dd.detach(), Q_dd.detach(), curve


def _eval_loss(P_dd, Q_dd, Z, yq, t):
    import torch
    with torch.no_grad():
        P, Q = full_blocks(P_dd, Q_dd)
        v = ((forward(_tensor(Z, t), list(P), list(Q)) - _tensor(yq, t)) ** 2).cpu().numpy()
    return float(v.mean()), float(v.std(ddof=1) / math.sqrt(len(v)))


def noise_norms(P_dd, Q_dd, d, n, draws, mb, mode, seed, t):
    """|g_b - mean_b g| over ``draws`` minibatches of ``mb`` prompts: one backward pass with the parameters
    replicated per draw (draws x layers x d x d leaves), so each draw's gradient is its own slice."""
    import torch
    rng = np.random.default_rng(seed)
    P_rep = P_dd.expand(draws, *P_dd.shape).clone().requires_grad_(True)
    Q_rep = Q_dd.expand(draws, *Q_dd.shape).clone().requires_grad_(True)
    Z, yq = prompts(rng, (draws, mb), n, d, mode=mode)
    P, Q = full_blocks(P_rep, Q_rep)              # draws x layers x (d+1) x (d+1)
    Ps = [P[:, l][:, None] for l in range(P.shape[1])]
    Qs = [Q[:, l][:, None] for l in range(Q.shape[1])]
    loss = ((forward(_tensor(Z, t), Ps, Qs) - _tensor(yq, t)) ** 2).mean(dim=1).sum()
    gP, gQ = torch.autograd.grad(loss, [P_rep, Q_rep])
    G = torch.cat([gP.reshape(draws, -1), gQ.reshape(draws, -1)], dim=1).cpu().numpy()
    return np.linalg.norm(G - G.mean(axis=0), axis=1)


def kurtosis(x: np.ndarray) -> float:
    c = x - x.mean()
    return float((c**4).mean() / (c**2).mean() ** 2)


def _adam_vs_sgd(card, *, at, device, seed, steps, progress):
    import torch
    sim = card.simulation
    o = dict(sim.options)
    d, n, layers = int(o.get("d", 5)), int(o.get("n", 20)), int(o.get("layers", 3))
    dev = pick_device(device)
    cuda = dev.type == "cuda"
    B = int(o.get("batch_cuda", 1000)) if cuda else int(o.get("batch", 256))
    iters = int(steps or (o.get("steps_cuda", 10_000) if cuda else sim.steps))
    if iters < 10:
        raise InputError("steps must be >= 10")
    t = dict(dtype=torch.float64, device=dev)
    started = time.perf_counter()
    runs = {}
    for kind, lr in (("adam", float(o.get("lr_adam", 0.005))), ("sgd", float(o.get("lr_sgd", 0.005)))):
        runs[kind] = _train(kind, d, n, layers, iters, B, lr, seed, t, progress)
    Z, yq = prompts(np.random.default_rng(seed + 2), (int(o.get("eval", 8192)),), n, d)
    ev = {k: _eval_loss(r[0], r[1], Z, yq, t) for k, r in runs.items()}
    pgd = scalar_pgd_optimum(float(n), float(d), layers)[0] if layers <= 3 else float("nan")
    draws, mb = int(o.get("draws", 2000)), int(o.get("minibatch", 64))
    # the noise reference point of the research notes (section 7.3): one layer at A = a I (P_dd = 0, Q_dd = -a I);
    # at the trained 3-layer parameters (a degree-7 polynomial in x) single gamma prompts dominate every statistic
    a_ref = float(o.get("noise_a", 0.5))
    P1, Q1 = torch.zeros(1, d, d, **t), -a_ref * torch.eye(d, **t)[None]
    norms = {mode: noise_norms(P1, Q1, d, n, draws, mb, mode, seed + 3, t) for mode in ("normal", "gamma")}
    kurt = {m: kurtosis(v) for m, v in norms.items()}
    tail = {m: float(np.quantile(v, 0.99) / np.median(v)) for m, v in norms.items()}
    seconds = time.perf_counter() - started
    ratio = ev["adam"][0] / ev["sgd"][0]
    lines = [f"{layers} layers, d = {d}, N = {n}, batch {B}, {iters} steps each, clip 1 ({seconds:.1f} s on {dev})",
             f"  eval loss ({len(yq)} fresh prompts): Adam {ev['adam'][0]:.5f} +- {ev['adam'][1]:.1g}, SGD+momentum "
             f"{ev['sgd'][0]:.5f} +- {ev['sgd'][1]:.1g}; ratio Adam/SGD = {ratio:.3g}",
             f"  optimal {layers}-step scalar PGD loss (exact moments) = {pgd:.5f}",
             f"  gradient-noise norms, one layer at A = {a_ref:g} I ({draws} minibatches of {mb}): kurtosis normal "
             f"{kurt['normal']:.2f}, gamma {kurt['gamma']:.2f}; p99/median normal {tail['normal']:.2f}, gamma "
             f"{tail['gamma']:.2f}"]
    verdicts, judged = [], set()
    for name, ok, detail in (
            ("adam_beats_sgd", ratio < 0.5, f"Adam/SGD eval-loss ratio {ratio:.3g} (claimed < 0.5)"),
            ("beyond_pgd", ev["adam"][0] + 3 * ev["adam"][1] < pgd,
             f"Adam {ev['adam'][0]:.5f} (+3 s.e. {ev['adam'][0] + 3 * ev['adam'][1]:.5f}) vs {layers}-step PGD "
             f"optimum {pgd:.5f}"),
            ("heavier_noise_tails", kurt["gamma"] > kurt["normal"],
             f"kurtosis of noise norms: gamma {kurt['gamma']:.2f} vs normal {kurt['normal']:.2f}")):
        claim = _observed(card, name)
        if claim is not None:
            verdicts.append(Verdict(claim.name, claim.kind, bool(ok), detail))
            judged.add(name)
    verdicts += _unjudged(card, judged)
    curves = tuple(Curve(k, tuple(float(a) for a, _ in r[2]), tuple(b for _, b in r[2])) for k, r in runs.items())
    hl = (("3-step PGD optimum", pgd),) if math.isfinite(pgd) else ()
    one = scalar_pgd_optimum(float(n), float(d), 1)[0]
    panels = (Panel(f"{card.id}: training loss", "step", "minibatch loss", curves,
                    hlines=hl + (("1-layer L*", one),), logy=True),
              Panel(f"{card.id}: gradient-noise norms (CCDF)", "|g_b - mean g| / median", "P(norm > x)",
                    tuple(Curve(m, tuple(np.sort(v / np.median(v)).tolist()),
                                tuple((1 - (np.arange(len(v)) + 0.5) / len(v)).tolist())) for m, v in norms.items()),
                    logx=True, logy=True))
    data = {"eval_loss": {k: v[0] for k, v in ev.items()}, "eval_se": {k: v[1] for k, v in ev.items()},
            "ratio_adam_sgd": ratio, "pgd_optimum": pgd, "kurtosis": kurt, "p99_over_median": tail,
            "seconds": seconds, "steps": iters, "batch": B}
    return ScenarioResult(card.id, sim.algorithm, tuple(verdicts), tuple(lines), data, panels, iters, 1, seed,
                          str(dev), "float64", versions())


SCENARIOS: dict = {
    "linear_transformer_one_layer_training": one_layer_training,
    "linear_transformer_pgd_critical_point": pgd_critical_point,
    "linear_transformer_adam_vs_sgd": adam_vs_sgd,
}
