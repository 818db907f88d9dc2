"""Edge-of-stability runs on real (small) networks: data, models, full-batch training loops that
measure the top Hessian eigenvalue (or the preconditioned one) along the way.

Data ships with a package (scikit-learn's digits) or is synthetic; nothing is downloaded.
Models are functional (a dict of float64 tensors and a forward function), so the curvature
toolkit sees the loss as ``params -> scalar``. Straight-line loops, nanoGPT style.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from gpu_validation.curvature import top_eigenvalues


@dataclass(frozen=True)
class Task:
    x: torch.Tensor
    y: torch.Tensor          # one-hot targets (MSE) or class indices (cross-entropy)
    loss_kind: str           # "mse" | "ce"


def digits(n: int = 500, loss_kind: str = "mse", device="cpu") -> Task:
    """The first n images of scikit-learn's digits (8x8, 10 classes), standardised per pixel."""
    from sklearn.datasets import load_digits
    x, y = load_digits(return_X_y=True)
    x = (x - x.mean(0)) / (x.std(0) + 1e-8)
    xt = torch.tensor(x[:n], dtype=torch.float64, device=device)
    yt = torch.tensor(y[:n], device=device)
    if loss_kind == "mse":
        yt = torch.nn.functional.one_hot(yt, 10).to(torch.float64)
    return Task(xt, yt, loss_kind)


def mlp(widths: tuple[int, ...], seed: int, activation: str = "tanh", device="cpu",
        init_scale: float = 1.0) -> tuple[dict, Callable]:
    """Parameters (LeCun-normal init times ``init_scale``: std init_scale/sqrt(fan-in); zero biases)
    and ``forward(params, x)``. A scale below 1 starts training at a lower sharpness."""
    g = torch.Generator().manual_seed(seed)
    params = {}
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
        params[f"W{i}"] = (init_scale * torch.randn(a, b, generator=g, dtype=torch.float64) / a**0.5).to(device)
        params[f"b{i}"] = torch.zeros(b, dtype=torch.float64, device=device)
    act = {"tanh": torch.tanh, "elu": torch.nn.functional.elu}[activation]
    layers = len(widths) - 1

    def forward(p, x):
        for i in range(layers):
            x = x @ p[f"W{i}"] + p[f"b{i}"]
            if i < layers - 1:
                x = act(x)
        return x

    return params, forward


def loss_of(task: Task, forward: Callable) -> Callable[[dict], torch.Tensor]:
    def loss(p):
        out = forward(p, task.x)
        if task.loss_kind == "mse":
            return 0.5 * ((out - task.y) ** 2).sum(1).mean()
        return torch.nn.functional.cross_entropy(out, task.y)
    return loss


@dataclass
class Trace:
    """Measurements along one run."""
    steps: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    sharpness: list[float] = field(default_factory=list)
    hvps: int = 0


def _top(loss, params, init):
    res = top_eigenvalues(loss, params, k=1, tol=1e-5, seed=0, init=init)
    return float(res.values[0]), res.vectors, int(res.hvps)


def run_gd(task: Task, forward: Callable, params: dict, eta: float, steps: int, every: int,
           progress: Callable[[int], None] | None = None) -> Trace:
    """Full-batch GD; the top Hessian eigenvalue every ``every`` steps (Lanczos, warm-started)."""
    loss = loss_of(task, forward)
    grad = torch.func.grad(loss)
    p = {k: v.clone() for k, v in params.items()}
    trace, vec = Trace(), None
    for t in range(steps + 1):
        if t % every == 0:
            value = float(loss(p))
            if not np.isfinite(value):
                break
            s, vec, n = _top(loss, p, vec)
            trace.steps.append(t), trace.loss.append(value), trace.sharpness.append(s)
            trace.hvps += n
            if progress is not None:
                progress(t)
        if t == steps:
            break
        g = grad(p)
        p = {k: p[k] - eta * g[k] for k in p}
    return trace


def run_adam(task: Task, forward: Callable, params: dict, eta: float, steps: int, every: int, beta1: float = 0.9,
             beta2: float = 0.999, eps: float = 1e-8, progress: Callable[[int], None] | None = None) -> Trace:
    """Full-batch Adam (bias-corrected); measures the top eigenvalue of P^-1 H with
    P = diag(sqrt(v_hat) + eps), as that of the symmetric P^-1/2 H P^-1/2."""
    loss = loss_of(task, forward)
    grad = torch.func.grad(loss)
    p = {k: v.clone() for k, v in params.items()}
    m = {k: torch.zeros_like(v) for k, v in p.items()}
    v2 = {k: torch.zeros_like(v) for k, v in p.items()}
    trace, vec = Trace(), None
    for t in range(1, steps + 1):
        g = grad(p)
        m = {k: beta1 * m[k] + (1 - beta1) * g[k] for k in p}
        v2 = {k: beta2 * v2[k] + (1 - beta2) * g[k] ** 2 for k in p}
        pre = {k: (v2[k] / (1 - beta2**t)).sqrt() + eps for k in p}
        p = {k: p[k] - eta * (m[k] / (1 - beta1**t)) / pre[k] for k in p}
        if t % every == 0:
            value = float(loss(p))
            if not np.isfinite(value):
                break
            scale = {k: pre[k] ** -0.5 for k in p}
            base = {k: x.detach() for k, x in p.items()}
            pre_loss = lambda z: loss({k: base[k] + scale[k] * z[k] for k in base})  # noqa: E731
            zero = {k: torch.zeros_like(x) for k, x in base.items()}
            s, vec, n = _top(pre_loss, zero, vec)
            trace.steps.append(t), trace.loss.append(value), trace.sharpness.append(s)
            trace.hvps += n
            if progress is not None:
                progress(t)
    return trace


def cnn(channels: tuple[int, int] = (4, 8), seed: int = 0, activation: str = "tanh", side: int = 8,
        classes: int = 10, device="cpu") -> tuple[dict, Callable]:
    """A small CNN on side x side one-channel images given as flat rows (N, side^2), e.g. digits:
    conv 3x3 (padding 1) -> act -> conv 3x3 (padding 1) -> act -> 2x2 average pool -> linear.
    Parameters (LeCun-normal init: std 1/sqrt(fan-in), zero biases) and ``forward(params, x)``."""
    if side % 2:
        raise ValueError(f"side must be even (2x2 pooling), got {side}")
    g = torch.Generator().manual_seed(seed)
    c1, c2 = channels
    flat = c2 * (side // 2) ** 2
    shapes = {"K0": (c1, 1, 3, 3), "c0": (c1,), "K1": (c2, c1, 3, 3), "c1": (c2,), "W": (flat, classes),
              "b": (classes,)}
    fan_in = {"K0": 9, "K1": 9 * c1, "W": flat}
    params = {}
    for name, shape in shapes.items():
        if name in fan_in:
            params[name] = (torch.randn(*shape, generator=g, dtype=torch.float64) / fan_in[name] ** 0.5).to(device)
        else:
            params[name] = torch.zeros(*shape, dtype=torch.float64, device=device)
    act = {"tanh": torch.tanh, "elu": torch.nn.functional.elu}[activation]
    conv = torch.nn.functional.conv2d

    def forward(p, x):
        z = x.reshape(-1, 1, side, side)
        z = act(conv(z, p["K0"], p["c0"], padding=1))
        z = act(conv(z, p["K1"], p["c1"], padding=1))
        z = torch.nn.functional.avg_pool2d(z, 2).flatten(1)
        return z @ p["W"] + p["b"]

    return params, forward


@dataclass
class ZOTrace:
    """Measurements along one zeroth-order run: loss, Tr H (Hutch++, with its standard error)
    and lambda_max (Lanczos) at the measured steps; ``diverged_at``: the step where the loss
    became non-finite or exceeded the divergence limit (None: it did not)."""
    steps: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    trace: list[float] = field(default_factory=list)
    trace_stderr: list[float] = field(default_factory=list)
    sharpness: list[float] = field(default_factory=list)
    hvps: int = 0
    diverged_at: int | None = None
    params: dict | None = None


def zo_estimate(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, u: torch.Tensor,
                mu: float) -> torch.Tensor:
    """The two-point central-difference estimate [f(x + mu u) - f(x - mu u)] / (2 mu) u of grad f(x)
    (flat x, one direction u: two evaluations of f; with u ~ N(0, I) its mean is grad f + O(mu^2))."""
    return ((f(x + mu * u) - f(x - mu * u)) / (2 * mu)) * u


def run_zo_gd(task: Task, forward: Callable, params: dict, eta: float, steps: int, every: int, *,
              mu: float = 1e-3, seed: int = 0, diverge: float = 1e6, trace_tol: float = 0.02,
              trace_hvps: int = 400, progress: Callable[[int], None] | None = None) -> ZOTrace:
    """Full-batch ZO-GD with the two-point central-difference estimator, one Gaussian direction
    a step: g_hat = [L(x + mu u) - L(x - mu u)] / (2 mu) u, u ~ N(0, I_d), x <- x - eta g_hat
    (two loss evaluations a step, no gradients). Every ``every`` steps: the loss, Tr H by Hutch++
    (relative tolerance ``trace_tol``) and lambda_max by Lanczos (warm-started). Directions come
    from ``torch.Generator().manual_seed(seed)`` on the CPU. The run stops, diverged, when the
    loss (checked every steps // 100 steps and at every measurement) is non-finite or above
    ``diverge`` x its starting value: a result, not an error."""
    from gpu_validation.curvature import flatten, trace as hutchpp, unflatten

    loss = loss_of(task, forward)
    x = flatten(params).detach().clone()
    f = lambda z: loss(unflatten(z, params))  # noqa: E731
    gen = torch.Generator().manual_seed(seed)
    out, vec = ZOTrace(), None
    start = float(f(x))
    limit = diverge * max(start, 1e-12)
    chunk = max(1, steps // 100)
    with torch.no_grad():
        for t in range(steps + 1):
            if t % every == 0 or t == steps:
                value = float(f(x))
                if not (np.isfinite(value) and value <= limit):
                    out.diverged_at = t
                    break
                with torch.enable_grad():
                    p = unflatten(x, params)
                    tr = hutchpp(loss, p, tol=trace_tol, seed=seed + t, max_hvps=trace_hvps)
                    s, vec, n = _top(loss, p, vec)
                out.steps.append(t), out.loss.append(value), out.sharpness.append(s)
                out.trace.append(tr.value), out.trace_stderr.append(tr.stderr)
                out.hvps += tr.hvps + n
            if t == steps:
                break
            u = torch.randn(x.numel(), generator=gen, dtype=torch.float64).to(x)
            x = x - eta * zo_estimate(f, x, u, mu)
            if (t + 1) % chunk == 0:
                value = float(f(x))  # divergence to within 1 % of the run, between measurements too
                if not (np.isfinite(value) and value <= limit):
                    out.diverged_at = t + 1
                    break
                if progress is not None:
                    progress(t + 1)
    out.params = unflatten(x, params)
    return out
