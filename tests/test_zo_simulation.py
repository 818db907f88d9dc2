"""Zeroth-order Monte Carlo: batched == naive loop; E||x_t||^2 matches an exact moment recursion;
the finite-difference estimator is exact on quadratics; reproducible; divergence is a result."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from gpu_validation._problems import quadratic
from gpu_validation._zo import ZO_METHODS, fd_gradient, sample_directions, zo_monte_carlo

HP = {"zo_gd": {"eta": [0.3, 0.1, 0.5, 0.2]},
      "zo_gdm": {"eta": [0.1, 0.05, 0.2, 0.1], "beta": [0.5, 0.9, 0.0, 0.7]},
      "zo_adam_frozen": {"eta": [0.3, 0.1, 0.5, 0.2], "beta1": [0.9, 0.5, 0.0, 0.99]}}


def reference_zo(method, problem, x0, hp, *, steps, n, directions, mu, seed, row, batch):
    """One run, a Python loop, the estimate from 2n explicit loss evaluations. Its directions are
    row ``row`` of the batch draws (the same generator stream as the batched path)."""
    g = torch.Generator().manual_seed(seed)
    x, m = x0.clone(), torch.zeros_like(x0)
    sq = [float(x @ x)]
    for _ in range(steps):
        u = sample_directions(g, batch, n, x.shape[0], directions)[row]
        est = torch.zeros_like(x)
        for j in range(n):
            est = est + (problem.loss(x + mu * u[j]) - problem.loss(x - mu * u[j])) / (2 * mu) * u[j]
        est = est / n
        if method == "zo_gd":
            x = x - hp["eta"] * est
        elif method == "zo_gdm":
            m = hp["beta"] * m + est
            x = x - hp["eta"] * m
        else:
            m = hp["beta1"] * m + (1 - hp["beta1"]) * est
            x = x - hp["eta"] * m / problem.precond
        sq.append(float(x @ x))
    return np.array(sq), x


@pytest.mark.parametrize("directions", ["gaussian", "sphere"])
@pytest.mark.parametrize("method", ZO_METHODS)
def test_batched_equals_reference_loop(method, directions):
    # mu = 0.5: on a quadratic the estimate does not depend on mu, and a large mu keeps the
    # cancellation in f(x + mu u) - f(x - mu u) far below the 1e-12 comparison
    problem = quadratic([2.0, 0.5, 1.0], seed=3, preconditioned=True)
    x0 = torch.randn(4, 3, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    hp = {k: torch.tensor(v, dtype=torch.float64)[:, None] for k, v in HP[method].items()}
    kw = dict(steps=25, directions=directions, mu=0.5, seed=11)
    out = zo_monte_carlo(method, problem.hessian, hp, runs=1, n_directions=3, x0=x0,
                         precond=problem.precond, **kw)
    for row in range(4):
        sq, x = reference_zo(method, problem, x0[row], {k: v[row] for k, v in HP[method].items()},
                             n=3, row=row, batch=4, **kw)
        np.testing.assert_allclose(out["sq_norm_mean"][:, row], sq, rtol=1e-12, atol=0)
        np.testing.assert_allclose(out["x"][row], x.numpy(), rtol=1e-12, atol=1e-300)


def exact_sq_norm(spectrum, eta, steps, m4, m22, n):
    """E||x_t||^2 for zo_gd with x0 ~ N(0, I/d), from the diagonal second moments s_i = E y_i^2
    in the eigenbasis (y = Q^T x; Q^T u has the same law as u for both direction laws).

    y' = (I - eta U L) y with U = (1/n) sum_j u_j u_j^T, L = diag(l), E[U] = I. Then
    E[y'y'^T] = S - eta (L S + S L) + eta^2 E[U L S L U], and with coordinate sign symmetry
    E[(U A U)_ii] = sum_k A_kk E[U_ik^2], so the diagonal closes:
        s_i' = (1 - 2 eta l_i) s_i + eta^2 (E[U_ii^2] l_i^2 s_i + sum_{k != i} E[U_ik^2] l_k^2 s_k),
    E[U_ii^2] = m4/n + (1 - 1/n), E[U_ik^2] = m22/n (cross terms j != j' give E[u_i^2] E[u_i^2] = 1
    on the diagonal and E[u_i u_k]^2 = 0 off it). Gaussian: m4 = 3, m22 = 1, which for n = 1
    gives s_i' = (1 - 2 eta l_i + 2 eta^2 l_i^2) s_i + eta^2 sum_k l_k^2 s_k. Sphere of radius
    sqrt(d): m4 = 3d/(d+2), m22 = d/(d+2) (check: m4 + (d-1) m22 = E[u_i^2 ||u||^2] = d).
    """
    lam = np.asarray(spectrum, dtype=float)
    d = len(lam)
    uii, uik = m4 / n + (1 - 1 / n), m22 / n
    s = np.full(d, 1 / d)
    out = [s.sum()]
    for _ in range(steps):
        cross = uik * (np.sum(lam**2 * s) - lam**2 * s)
        s = (1 - 2 * eta * lam) * s + eta**2 * (uii * lam**2 * s + cross)
        out.append(s.sum())
    return np.array(out)


@pytest.mark.parametrize("directions,n", [("gaussian", 1), ("sphere", 3)])
def test_mean_square_matches_exact_recursion(directions, n):
    spectrum, etas, runs, steps = [1.0, 0.7, 0.4, 0.2, 0.1], [0.1, 0.4], 20000, 10
    d = len(spectrum)
    problem = quadratic(spectrum, seed=7)
    eta = torch.tensor(etas, dtype=torch.float64).repeat_interleave(runs)[:, None]
    out = zo_monte_carlo("zo_gd", problem.hessian, {"eta": eta}, runs=runs, steps=steps,
                         n_directions=n, directions=directions, seed=1)
    m4, m22 = (3.0, 1.0) if directions == "gaussian" else (3 * d / (d + 2), d / (d + 2))
    for k, e in enumerate(etas):
        exact = exact_sq_norm(spectrum, e, steps, m4, m22, n)
        z = (out["sq_norm_mean"][:, k] - exact) / out["sq_norm_se"][:, k]
        assert np.all(np.abs(z) < 5), (e, z)
    assert not out["nonfinite"].any()


@pytest.mark.parametrize("directions", ["gaussian", "sphere"])
def test_finite_difference_is_exact_on_quadratics(directions):
    g = torch.Generator().manual_seed(2)
    h = quadratic([3.0, 1.0, 0.2, 0.05], seed=4).hessian
    x = torch.randn(6, 4, generator=g, dtype=torch.float64)
    u = sample_directions(g, 6, 5, 4, directions)
    shortcut = ((u @ h) * x[:, None, :]).sum(-1)[..., None].mul(u).mean(1)  # (1/n) sum (u^T H x) u
    for mu in (1e-6, 1e-4, 1e-2, 1.0):
        np.testing.assert_allclose(fd_gradient(h, x, u, mu).numpy(), shortcut.numpy(), rtol=1e-6)
    if directions == "sphere":
        np.testing.assert_allclose(torch.linalg.vector_norm(u, dim=-1).numpy(), 2.0, rtol=1e-14)


def test_same_seed_same_arrays_and_divergence_is_a_result():
    h = quadratic([2.0, 1.0, 0.5], seed=0).hessian
    eta = torch.tensor([0.1, 50.0, 1e200], dtype=torch.float64).repeat_interleave(2)[:, None]
    kw = dict(runs=2, steps=300, n_directions=2, directions="sphere")
    calls = []
    a = zo_monte_carlo("zo_gdm", h, {"eta": eta, "beta": 0.5}, seed=3, progress=calls.append, **kw)
    b = zo_monte_carlo("zo_gdm", h, {"eta": eta, "beta": 0.5}, seed=3, **kw)
    c = zo_monte_carlo("zo_gdm", h, {"eta": eta, "beta": 0.5}, seed=4, **kw)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
    assert not np.array_equal(a["sq_norm_mean"][:, 0], c["sq_norm_mean"][:, 0])
    assert a["sq_norm_mean"].shape == (301, 3) and a["x"].shape == (6, 3)
    # eta = 0.1 converges; eta = 1e200 overflows at the first step; eta = 50 diverges. Whether an
    # eta = 50 run overflows or stalls finite (where f(x + mu u) - f(x - mu u) rounds to 0) depends on
    # rounding, so divergence is: non-finite, or |x|^2 grown past 1e20 (it starts near 1)
    assert a["nonfinite"][0] == 0 and np.isfinite(a["sq_norm_mean"][:, 0]).all() and a["sq_norm_mean"][-1, 0] < 1e-20
    assert a["nonfinite"][2] == 2 and np.isinf(a["sq_norm_mean"][1:, 2]).all()
    end = (a["x"][2:4] ** 2).sum(-1)
    assert np.all(~np.isfinite(end) | (end > 1e20)), end
    assert (a["nonfinite"][1] > 0) == bool(np.isinf(a["sq_norm_mean"][-1, 1]))   # an overflowed run counts as inf
    assert 90 <= len(calls) <= 110 and calls[-1] == 300


def test_divergence_saturates_where_the_loss_difference_rounds_away():
    # in float64 f(x + mu u) - f(x - mu u) ~ 2 mu x^T H u is lost under f(x) ~ |x|^2 once
    # |x| > ~ mu / eps: the estimate becomes 0 (or rounding noise) and a diverging run stalls
    # there, finite; a converging run likewise floors near |x| ~ mu * eps. Where the rounding noise
    # before the stall takes a diverging run is not fixed by float64 alone (BLAS summation order): a run
    # may stall anywhere above ~1e20 or overflow. So: every diverging run is non-finite or above 1e20,
    # and every one that stayed finite stalled EXACTLY (its estimate at fresh directions is 0).
    h = quadratic([1.0, 0.7, 0.4, 0.2, 0.1], seed=0).hessian
    eta = torch.tensor([0.3, 50.0], dtype=torch.float64).repeat_interleave(50)[:, None]
    floors, stalls = [], []
    for mu in (1e-4, 1e-2):
        out = zo_monte_carlo("zo_gd", h, {"eta": eta}, runs=50, steps=3000, mu=mu, seed=0)
        assert out["nonfinite"][0] == 0 and np.isfinite(out["sq_norm_mean"][:, 0]).all()
        floors.append(out["sq_norm_mean"][-1, 0])
        x = torch.tensor(out["x"][50:])
        sq = (x * x).sum(-1).numpy()
        assert np.all(~np.isfinite(sq) | (sq > 1e20)), sq
        finite = np.isfinite(sq)
        assert out["nonfinite"][1] == int((~finite).sum())
        if finite.any():
            xs = x[torch.from_numpy(finite)]
            u = sample_directions(torch.Generator().manual_seed(1), xs.shape[0], 3, 5, "gaussian")
            assert torch.equal(fd_gradient(h, xs, u, mu), torch.zeros_like(xs))
            stalls.append(float(np.median(sq[finite])))
    floor, floor2 = floors
    assert 1e-45 < floor < 1e-33 and 1e2 < floor2 / floor < 1e6  # |x| ~ 1e-4 * eps, give or take; scales like mu^2
    if len(stalls) == 2:   # both stalled finite: above |x| ~ mu / eps, higher for the larger mu
        assert stalls[0] > 1e20 and stalls[1] > stalls[0]


def test_adam_frozen_without_momentum_or_precond_is_zo_gd():
    h = quadratic([2.0, 1.0, 0.5, 0.1], seed=1).hessian
    eta = torch.tensor([0.05, 0.2, 0.6], dtype=torch.float64)[:, None]
    kw = dict(runs=1, steps=50, n_directions=2, seed=9)
    gd = zo_monte_carlo("zo_gd", h, {"eta": eta}, **kw)
    adam = zo_monte_carlo("zo_adam_frozen", h, {"eta": eta, "beta1": 0.0},
                          precond=torch.ones(4, dtype=torch.float64), **kw)
    for key in gd:
        np.testing.assert_array_equal(adam[key], gd[key])


H = torch.eye(2, dtype=torch.float64)


@pytest.mark.parametrize("args,kw,match", [
    (("zo_sgd", H, {"eta": 0.1}), {}, "unknown ZO method"),
    (("zo_gd", H, {"eta": 0.1}), {"directions": "uniform"}, "unknown directions"),
    (("zo_gd", H, {"eta": 0.1}), {"n_directions": 0}, "n_directions"),
    (("zo_gd", H, {"eta": 0.1}), {"mu": 0.0}, "mu must be > 0"),
    (("zo_gd", torch.ones(2, 3, dtype=torch.float64), {"eta": 0.1}), {}, "square"),
    (("zo_gd", torch.tensor([[1.0, 2.0], [0.0, 1.0]], dtype=torch.float64), {"eta": 0.1}), {}, "symmetric"),
    (("zo_gdm", H, {"eta": 0.1}), {}, "needs hyper-parameter 'beta'"),
    (("zo_gd", H, {"eta": 0.1, "beta": 0.5}), {}, "not 'beta'"),
    (("zo_adam_frozen", H, {"eta": 0.1, "beta1": 0.9}), {}, "needs precond"),
    (("zo_gd", H, {"eta": torch.ones(3, 1, dtype=torch.float64)}), {}, "not a multiple of runs"),
])
def test_bad_input_is_a_one_line_value_error(args, kw, match):
    with pytest.raises(ValueError, match=match) as err:
        zo_monte_carlo(*args, **{"runs": 2, "steps": 3, **kw})
    assert "\n" not in str(err.value)
