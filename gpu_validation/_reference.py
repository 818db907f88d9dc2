"""A reference written independently of the batched fast path in ``_algorithms``, which is tested equal
to it: one run at a time (a 1-D state), a plain Python loop over the steps, float64, every gradient by
torch autograd of the loss f(x) = 1/2 x^T H x written out here (never the problem's analytic H x), and
each method in the form its paper writes it:

- gd: x_{t+1} = x_t - eta grad f(x_t).
- heavy_ball (Polyak 1964; Cohen et al. 2021): velocity form v_{t+1} = beta v_t - eta grad f(x_t),
  x_{t+1} = x_t + v_{t+1}, v_0 = 0 (the fast path keeps x_prev instead).
- nesterov (Sutskever et al. 2013; Cohen et al. 2021): v_{t+1} = beta v_t - eta grad f(x_t + beta v_t),
  x_{t+1} = x_t + v_{t+1}, v_0 = 0.
- adam_frozen (Cohen et al. 2022, Adam with its preconditioner frozen): m_t = beta1 m_{t-1} +
  (1 - beta1) g_t, x_{t+1} = x_t - eta P^{-1} m_t with P the diagonal MATRIX diag(p), solved against.
- usam (Andriushchenko & Flammarion 2022): x_{t+1} = x_t - eta grad f(x_t + rho grad f(x_t)).
- sam (Foret et al. 2021): eps_t = rho g_t / ||g_t||_2 (the norm as sqrt(g . g)), x_{t+1} = x_t - eta
  grad f(x_t + eps_t).
- schedule_free_sgd (Defazio et al. 2024): y_t = (1 - beta) z_t + beta x_t, z_{t+1} = z_t - gamma grad f(y_t),
  and x the weighted average of the start and the z's: with the averaging weights c_t = 1/(t0 + t + 1)
  of the paper's recursion x_t = (1 - c_t) x_{t-1} + c_t z_t, x_t = ((t0 + 1) x_0 + sum_{s<=t} z_s) /
  (t0 + t + 1), kept here as that running sum (t0 = inf: x stays x_0).
"""
from __future__ import annotations

import math

import torch

from gpu_validation._problems import Quadratic


def reference_run(algorithm: str, problem: Quadratic, x0: torch.Tensor, hp: dict[str, float],
                  steps: int) -> list[torch.Tensor]:
    """States (the iterate x after each step; z for schedule-free) of one run from the 1-D start ``x0``."""
    H = problem.hessian

    def f(v: torch.Tensor) -> torch.Tensor:
        return 0.5 * torch.dot(v, torch.mv(H, v))

    def grad(v: torch.Tensor) -> torch.Tensor:
        v = v.detach().clone().requires_grad_(True)
        (g,) = torch.autograd.grad(f(v), v)
        return g.detach()

    x = x0.detach().clone()
    out = []
    if algorithm == "gd":
        for _ in range(steps):
            x = x - hp["eta"] * grad(x)
            out.append(x.clone())
    elif algorithm in ("heavy_ball", "nesterov"):
        v = torch.zeros_like(x)
        look = 1.0 if algorithm == "nesterov" else 0.0    # Nesterov takes the gradient at x + beta v
        for _ in range(steps):
            v = hp["beta"] * v - hp["eta"] * grad(x + look * hp["beta"] * v)
            x = x + v
            out.append(x.clone())
    elif algorithm == "adam_frozen":
        P = torch.diag(problem.precond)
        m = torch.zeros_like(x)
        for _ in range(steps):
            m = hp["beta1"] * m + (1 - hp["beta1"]) * grad(x)
            x = x - hp["eta"] * torch.linalg.solve(P, m)
            out.append(x.clone())
    elif algorithm == "usam":
        for _ in range(steps):
            x = x - hp["eta"] * grad(x + hp["rho"] * grad(x))
            out.append(x.clone())
    elif algorithm == "sam":
        for _ in range(steps):
            g = grad(x)
            eps = hp["rho"] * g / torch.sqrt(torch.dot(g, g))
            x = x - hp["eta"] * grad(x + eps)
            out.append(x.clone())
    elif algorithm == "schedule_free_sgd":
        t0 = float(hp.get("t0", 0))
        z, x_start = x.clone(), x.clone()
        z_sum = torch.zeros_like(x)
        for t in range(1, steps + 1):
            y = (1 - hp["beta"]) * z + hp["beta"] * x
            z = z - hp["gamma"] * grad(y)
            z_sum = z_sum + z
            x = x_start if math.isinf(t0) else ((t0 + 1) * x_start + z_sum) / (t0 + t + 1)
            out.append(z.clone())
    else:
        raise KeyError(algorithm)
    return out
