"""Zeroth-order (ZO) methods on a quadratic f(x) = 1/2 x^T H x, batched Monte Carlo.

The gradient is the real two-point finite-difference estimator with n random directions,

    g_hat(x) = (1/n) sum_j [f(x + mu u_j) - f(x - mu u_j)] / (2 mu) u_j,

evaluated from losses (no (u^T H x) u shortcut), with the u_j drawn afresh every step for every
run: "gaussian" u ~ N(0, I_d), or "sphere" u uniform on the sphere of radius sqrt(d).
Every run is a row of a (B, d) tensor; E||x_t||^2 is accumulated per step over blocks of runs,
never storing trajectories. torch is imported at the top: this module is imported lazily.

Rounding is part of the real estimator: f(x + mu u) - f(x - mu u) ~ 2 mu x^T H u cancels
against f(x) ~ |x|^2, so in float64 a run only moves while roughly mu eps < |x| < mu / eps. A
diverging run stalls, finite, near |x| ~ mu / eps (the estimate rounds to 0) and a converging
one floors near |x| ~ mu eps: with mu = 1e-4, ||x||^2 ends near 1e30 or 1e-39, not inf or 0.
"""
from __future__ import annotations

import math
from collections.abc import Callable

import torch

ZO_METHODS: tuple[str, ...] = ("zo_gd", "zo_gdm", "zo_adam_frozen")
DIRECTIONS: tuple[str, ...] = ("gaussian", "sphere")
HYPER: dict[str, tuple[str, ...]] = {"zo_gd": ("eta",), "zo_gdm": ("eta", "beta"),
                                     "zo_adam_frozen": ("eta", "beta1")}


def sample_directions(generator: torch.Generator, B: int, n: int, d: int, directions: str,
                      dtype=torch.float64, device="cpu") -> torch.Tensor:
    """(B, n, d) directions: i.i.d. N(0, I_d), or sqrt(d) z / ||z|| (uniform on the sphere of
    radius sqrt(d)). One randn call either way, so both consume the generator alike."""
    u = torch.randn(B, n, d, generator=generator, dtype=dtype, device=device)
    if directions == "sphere":
        u = math.sqrt(d) * u / torch.linalg.vector_norm(u, dim=-1, keepdim=True)
    return u


def loss(hessian: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """f(x) = 1/2 x^T H x over the last dimension."""
    return 0.5 * ((x @ hessian) * x).sum(-1)


def fd_gradient(hessian: torch.Tensor, x: torch.Tensor, u: torch.Tensor, mu: float) -> torch.Tensor:
    """Two-point estimate (B, d) at x (B, d) from directions u (B, n, d), by 2n loss evaluations."""
    xb = x[:, None, :]
    diff = loss(hessian, xb + mu * u) - loss(hessian, xb - mu * u)  # (B, n)
    return ((diff / (2 * mu))[..., None] * u).mean(dim=1)


def zo_monte_carlo(method: str, hessian: torch.Tensor, hp: dict[str, torch.Tensor | float], *,
                   runs: int, steps: int, n_directions: int = 1, directions: str = "gaussian",
                   mu: float = 1e-4, seed: int = 0, x0: torch.Tensor | None = None,
                   precond: torch.Tensor | None = None,
                   progress: Callable[[int], None] | None = None) -> dict:
    """Run ``method`` on B independent rows and return per-group statistics of ||x_t||^2.

    Batch convention: B is x0.shape[0] if x0 is given, else the largest leading size of the hp
    tensors, else ``runs``. Each hp value is a python float or a tensor with B or 1 elements
    ((B, 1), (B,) or a scalar), one value per row. Rows are grouped in consecutive blocks of
    ``runs`` (group g = rows g*runs .. (g+1)*runs - 1; B % runs == 0), normally one grid point
    per group with the same hyper-parameters on all its rows. Required hp: zo_gd {eta},
    zo_gdm {eta, beta}, zo_adam_frozen {eta, beta1} plus ``precond`` (the (d,) positive P).

    x0 None: rows i.i.d. N(0, I/d), so E||x0||^2 = 1. Random draws all come from one
    torch.Generator(device=hessian.device) seeded with ``seed``, in this order: x0 (only when
    x0 is None), then one ``sample_directions(g, B, n_directions, d, directions)`` per step.

    Returns numpy arrays: "sq_norm_mean", "sq_norm_se" (standard error of that mean; nan when
    runs == 1) and "log_sq_norm_mean" (mean of log10 ||x_t||^2), each (steps + 1, B // runs);
    "nonfinite" (B // runs,), the runs whose ||x_t||^2 became inf/nan (overflow included) at some
    step; such a run counts as inf from then on, so its group's mean is inf (a result, not an
    error); "x" (B, d), the final iterates (inf/nan in non-finite runs).
    """
    from gpu_validation._compiled import Oracle, Rule
    rule = method if isinstance(method, Rule) else None
    if rule is None and method not in ZO_METHODS:
        raise ValueError(f"unknown ZO method {method!r} (choose from {', '.join(ZO_METHODS)})")
    if rule is not None and rule.estimator is None:
        raise ValueError(f"the rule of {rule.card} takes no gradient estimate")
    needed = rule.params if rule is not None else HYPER[method]
    if directions not in DIRECTIONS:
        raise ValueError(f"unknown directions {directions!r} (choose from {', '.join(DIRECTIONS)})")
    if n_directions < 1:
        raise ValueError(f"n_directions must be >= 1, got {n_directions}")
    if not mu > 0:
        raise ValueError(f"mu must be > 0, got {mu}")
    if runs < 1 or steps < 0:
        raise ValueError(f"need runs >= 1 and steps >= 0, got runs={runs}, steps={steps}")
    if hessian.ndim != 2 or hessian.shape[0] != hessian.shape[1]:
        raise ValueError(f"hessian must be square (d, d), got shape {tuple(hessian.shape)}")
    scale = float(hessian.abs().max()) if hessian.numel() else 0.0
    if float((hessian - hessian.T).abs().max()) > 1e-12 * scale:
        raise ValueError("hessian must be symmetric")
    label = rule.card if rule is not None else method
    for name in needed:
        if name not in hp:
            raise ValueError(f"{label} needs hyper-parameter {name!r} (given: {', '.join(sorted(hp)) or 'none'})")
    for name in hp:
        if name not in needed:
            raise ValueError(f"{label} takes hyper-parameters {', '.join(needed)}, not {name!r}")
    dtype, device, d = hessian.dtype, hessian.device, hessian.shape[0]
    if method == "zo_adam_frozen" or (rule is not None and rule.uses_precond):
        if precond is None:
            raise ValueError(f"{label} needs precond (the frozen diagonal P, shape (d,))")
        precond = torch.as_tensor(precond, dtype=dtype, device=device)
        if precond.shape != (d,) or not bool((precond > 0).all()):
            raise ValueError(f"precond must be a positive vector of shape ({d},), got shape {tuple(precond.shape)}")
    hp = {k: torch.as_tensor(v, dtype=dtype, device=device).reshape(-1, 1) for k, v in hp.items()}
    B = x0.shape[0] if x0 is not None else max([runs] + [v.shape[0] for v in hp.values()])
    if B % runs:
        raise ValueError(f"batch size {B} is not a multiple of runs={runs}")
    for k, v in hp.items():
        if v.shape[0] not in (1, B):
            raise ValueError(f"hyper-parameter {k!r} has {v.shape[0]} values for a batch of {B} rows")

    g = torch.Generator(device=device).manual_seed(seed)
    if x0 is None:
        x = torch.randn(B, d, generator=g, dtype=dtype, device=device) / math.sqrt(d)
    else:
        if tuple(x0.shape) != (B, d):
            raise ValueError(f"x0 must have shape (B, {d}), got {tuple(x0.shape)}")
        x = x0.to(dtype=dtype, device=device).clone()
    m = torch.zeros_like(x)
    if rule is not None:  # the iterate starts at x0, every other state variable at 0 (as the exact recursion)
        state = {name: (x if i == 0 else torch.zeros_like(x)) for i, name in enumerate(rule.state)}
    dead = torch.zeros(B, dtype=torch.bool, device=device)
    groups = B // runs
    means, ses, logs = [], [], []

    def record(x, dead):
        sq = (x * x).sum(-1)
        dead = dead | ~torch.isfinite(sq)
        sq = torch.where(dead, torch.full_like(sq, math.inf), sq).view(groups, runs)
        mean = sq.mean(1)
        if runs > 1:
            se = (((sq - mean[:, None]) ** 2).sum(1) / (runs - 1) / runs).sqrt()
            se = torch.where(torch.isfinite(mean), se, torch.full_like(se, math.inf))
        else:
            se = torch.full_like(mean, math.nan)
        means.append(mean)
        ses.append(se)
        logs.append(torch.log10(sq).mean(1))
        return dead

    dead = record(x, dead)
    chunk = max(1, steps // 100)
    for t in range(1, steps + 1):
        u = sample_directions(g, B, n_directions, d, directions, dtype, device)
        if rule is not None:  # the card's own rule; its estimator symbol is the estimate at its point
            oracle = Oracle(lambda v: loss(hessian, v), precond,
                            estimate=lambda v, u=u: fd_gradient(hessian, v, u, mu))
            state = rule.step(state, oracle, hp)
            x = state[rule.state[0]]
            dead = record(x, dead)
            if progress is not None and (t % chunk == 0 or t == steps):
                progress(t)
            continue
        grad = fd_gradient(hessian, x, u, mu)
        if method == "zo_gd":
            x = x - hp["eta"] * grad
        elif method == "zo_gdm":
            m = hp["beta"] * m + grad
            x = x - hp["eta"] * m
        else:
            m = hp["beta1"] * m + (1 - hp["beta1"]) * grad
            x = x - hp["eta"] * m / precond
        dead = record(x, dead)
        if progress is not None and (t % chunk == 0 or t == steps):
            progress(t)
    return {"sq_norm_mean": torch.stack(means).cpu().numpy(), "sq_norm_se": torch.stack(ses).cpu().numpy(),
            "log_sq_norm_mean": torch.stack(logs).cpu().numpy(),
            "nonfinite": dead.view(groups, runs).sum(1).cpu().numpy(), "x": x.cpu().numpy()}
