"""ZO-GD on small networks: the CNN (shapes, exact curvature through conv layers), the two-point
estimator (unbiased, one step = its definition), divergence as a result, the band judge on
constructed series, and the zo_gd_network scenario end to end at a tiny scale."""
from __future__ import annotations

import json

import numpy as np
import pytest
import sympy as sp
import torch

from gpu_validation._networks import cnn, digits, loss_of, mlp, run_zo_gd, zo_estimate
from gpu_validation._zo_network_sim import judge_band, zo_gd_network
from gpu_validation.curvature import flatten, hvp, top_eigenvalues, trace, unflatten
from theory import Card, InputError, Observed, Simulation, Source, catalogue

F64 = torch.float64
ETA = sp.Symbol("eta", positive=True)


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _card(eta_values, steps=300, **options):
    return Card(id="zo_gd.mlp.tiny_test", title="tiny", symbols=(ETA,),
                claims=(Observed("trace_band", "Tr H in [2/eta - 2 lambda_max, 2/eta]", value=2 / ETA),),
                source=Source("2604.14669"),
                simulation=Simulation("zo_gd_network", sweep={ETA: eta_values}, steps=steps,
                                      options={"n": 60, "width": 6, "every": 100, "trace_tol": 0.05, **options}))


def test_cnn_shapes_and_curvature_through_convolutions():
    task = digits(12, "mse")
    params, forward = cnn((2, 3), seed=1)
    assert forward(params, task.x).shape == (12, 10)
    assert params["W"].shape == (3 * 16, 10) and all(v.dtype == F64 for v in params.values())
    loss = loss_of(task, forward)
    g = torch.Generator().manual_seed(0)
    v = {k: torch.randn(p.shape, generator=g, dtype=F64) for k, p in params.items()}
    hvp(loss, params, v, check=True)  # forward-over-reverse vs reverse-over-reverse vs finite differences
    # Hutch++ and Lanczos against the dense Hessian (the model is small enough to form it)
    x = flatten(params)
    H = torch.autograd.functional.hessian(lambda z: loss(unflatten(z, params)), x)
    exact = torch.linalg.eigvalsh(H)
    assert trace(loss, params, tol=1e-3, max_hvps=x.numel() + 40).value == pytest.approx(float(exact.sum()), rel=1e-2)
    top = top_eigenvalues(loss, params, k=1, tol=1e-8)
    assert top.values[0] == pytest.approx(float(exact[-1]), rel=1e-6)


def test_cnn_rejects_an_odd_side():
    with pytest.raises(ValueError, match="even"):
        cnn(side=7)


def test_two_point_estimate_is_unbiased_on_a_network():
    task = digits(40, "mse")
    params, forward = mlp((64, 4, 10), seed=2)
    loss = loss_of(task, forward)
    x = flatten(params)
    f = lambda z: loss(unflatten(z, params))  # noqa: E731
    grad = torch.func.grad(f)(x)
    g = torch.Generator().manual_seed(3)
    n = 4000
    est = torch.stack([zo_estimate(f, x, torch.randn(x.numel(), generator=g, dtype=F64), 1e-3) for _ in range(n)])
    z = (est.mean(0) - grad) / (est.std(0) / n**0.5)
    assert float(z.abs().max()) < 5.0  # ~300 coordinates: a max |z| of 5 has probability ~2e-4 under the CLT


def test_one_zo_step_is_its_definition():
    task = digits(30, "mse")
    params, forward = mlp((64, 5, 10), seed=4)
    loss = loss_of(task, forward)
    out = run_zo_gd(task, forward, params, 0.01, 1, 1, mu=1e-3, seed=9, trace_tol=0.1)
    x = flatten(params)
    u = torch.randn(x.numel(), generator=torch.Generator().manual_seed(9), dtype=F64)
    f = lambda z: loss(unflatten(z, params))  # noqa: E731
    step = x - 0.01 * (f(x + 1e-3 * u) - f(x - 1e-3 * u)) / 2e-3 * u
    torch.testing.assert_close(flatten(out.params), step, rtol=0, atol=1e-14)
    assert out.steps == [0, 1] and len(out.trace) == len(out.sharpness) == 2


def test_divergence_is_a_result():
    task = digits(30, "mse")
    params, forward = mlp((64, 5, 10), seed=0)
    out = run_zo_gd(task, forward, params, 50.0, 200, 50, trace_tol=0.1)
    assert out.diverged_at is not None and out.diverged_at <= 200
    result = zo_gd_network(_card((50.0,), steps=300), device="cpu")
    assert result.data["runs"][0]["outcome"] == "diverged" and not result.agrees
    json.dumps(result.to_json())


def _series(start, late_values, lam=2.0, se=0.1):
    trace = [start] + list(late_values)
    return trace, [se] * len(trace), [lam] * len(trace)


def test_band_judge_on_constructed_series():
    eta = 0.1  # 2/eta = 20, band [16, 20] with lambda_max = 2
    ok, detail, num = judge_band(*_series(40.0, [30, 25, 18, 18.5, 19]), eta)
    assert ok and num["inside"] and not num["start_in_band"] and "inside the band" in detail
    assert not judge_band(*_series(18.0, [30, 25, 18, 18.5, 19]), eta)[0]          # started inside: no "entering"
    assert not judge_band(*_series(40.0, [30, 25, 14, 14.5, 15]), eta)[0]          # settles below the band
    assert not judge_band(*_series(10.0, [15, 18, 21, 22, 23]), eta)[0]            # above 2/eta
    assert not judge_band(*_series(40.0, [30, 25, 18, 18.5, 19], lam=6.0), eta)[0]  # lambda_max not far below
    # the tolerance is two late standard errors, no more
    assert judge_band(*_series(40.0, [30, 20.15, 20.15, 20.15], se=0.1), eta)[0]
    assert not judge_band(*_series(40.0, [30, 20.25, 20.25, 20.25], se=0.1), eta)[0]


def test_scenario_end_to_end_at_a_tiny_scale():
    result = zo_gd_network(_card((0.004, 0.008)), device="cpu", seed=1)
    runs = result.data["runs"]
    assert [r["eta"] for r in runs] == [0.004, 0.008]
    for r in runs:
        assert r["steps"] == [0, 100, 200, 300]
        np.testing.assert_allclose(r["band_low"], [2 / r["eta"] - 2 * v for v in r["lambda_max"]])
        # the judge's numbers from the raw series: the last 40 % of the 4 measurements are the last 2
        assert r["late_trace_median"] == pytest.approx(float(np.median(r["trace"][-2:])), rel=1e-12)
        assert r["late_band_low"] == pytest.approx(2 / r["eta"] - 2 * float(np.median(r["lambda_max"][-2:])),
                                                   rel=1e-12)
        # measured at this scale (60 digits, width 6, 300 steps, seed 1): Tr H starts outside the band
        # (165.9), rises, and settles BELOW it (late median -47 % of 2/eta at eta = 0.004, -25 % at
        # 0.008), with lambda_max far below 2/eta (<= 0.07 x): the run disagrees
        assert r["outcome"] == "disagrees", r["detail"]
        assert not r["start_in_band"] and not r["inside"] and r["far_below"]
        assert r["late_trace_median"] < r["late_band_low"] - 2 * r["late_trace_stderr"]
        assert r["trace"][0] == pytest.approx(runs[0]["trace"][0], rel=1e-12)   # one initialisation
        assert max(r["lambda_max"]) <= 0.1 * 2 / r["eta"]
    gaps = [r["late_trace_median"] / r["two_over_eta"] - 1 for r in runs]
    assert -0.52 < gaps[0] < -0.42 and -0.30 < gaps[1] < -0.20, gaps
    assert len(result.panels) == 3 and result.panels[0].hlines == (("2/eta", 2 / 0.004),)
    assert len(result.verdicts) == 1 and result.verdicts[0].agrees is False
    assert "below the band" in result.verdicts[0].detail
    json.dumps(result.to_json())
    again = zo_gd_network(_card((0.004,)), device="cpu", seed=1)
    assert again.data["runs"][0]["trace"] == runs[0]["trace"]  # seeded


def test_scenario_rejects_bad_settings():
    with pytest.raises(InputError, match="unknown option"):
        zo_gd_network(_card((0.02,), widht=4), device="cpu")
    with pytest.raises(InputError, match="not eta or an option"):
        zo_gd_network(_card((0.02,)), at={"beta": 0.5}, device="cpu")
    with pytest.raises(InputError, match="outputs"):
        zo_gd_network(_card((0.02,)), at={"outputs": 3.0}, device="cpu")
    with pytest.raises(InputError, match="3 x the measurement interval"):
        zo_gd_network(_card((0.02,)), steps=200, device="cpu")


ZO_NETWORK_CARDS = [c for c in catalogue() if c.simulation is not None and c.simulation.algorithm == "zo_gd_network"]


@pytest.mark.slow
@pytest.mark.parametrize("card", ZO_NETWORK_CARDS, ids=lambda c: c.id)
def test_card_default_simulation(card):
    """A theorem card's run must agree. Either way the run survives and its trace ends at or below
    the upper edge 2/eta of mean-square stability (Theorem 1's upper bound, the part of the claim
    this scale confirms), with lambda_max far below 2/eta."""
    result = zo_gd_network(card, device="cpu")
    for run in result.data["runs"]:
        assert run["outcome"] in ("agrees", "disagrees"), run["detail"]
        assert run["late_trace_median"] <= run["two_over_eta"] + 2 * run["late_trace_stderr"]
        assert run["far_below"] and not run["start_in_band"]
        if card.status == "theorem":
            assert run["outcome"] == "agrees", run["detail"]
    json.dumps(result.to_json())
