"""Minimalist model of progressive sharpening (arXiv 2506.06940): derivations, numeric models, the
identities' numeric routes, refutation of wrong claims, and the GD/SGD scenario."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import sympy as sp

from conftest import examples
from numerics import check
from numerics._minimalist import (_validate, balanced_minimum, beta_star, fd_hessian, gradient, hessian, loss,
                                  realise, two_layer_minimum)
from theory import InputError, Relation
from theory.cards import minimalist as M
from theory.derive import derive_claim

PARAMS = {"N": 5, "D": 3, "sigma_1": 2.0, "d_1": 0.7, "Q": 3.0, "S_d2": 2.5, "C": 0.4}


def test_realisation_has_the_requested_statistics():
    X, y = realise(PARAMS, {"seed": 3, "extra_dims": 2})
    U, s, _ = np.linalg.svd(X, full_matrices=False)
    d = U.T @ y
    assert X.shape == (5, 7)
    assert s[0] == pytest.approx(2.0, rel=1e-12) and abs(d[0]) == pytest.approx(0.7, rel=1e-12)
    assert float(d @ d) == pytest.approx(2.5, rel=1e-12)
    assert float(np.sum(d ** 2 / s ** 2)) == pytest.approx(3.0, rel=1e-12)
    assert float(beta_star(X, y) @ beta_star(X, y)) == pytest.approx(3.0, rel=1e-12)


def test_dense_hessian_matches_finite_differences_off_the_minimum():
    X, y = realise(PARAMS, {"seed": 1, "extra_dims": 3})
    rng = np.random.default_rng(0)
    theta = rng.standard_normal(X.shape[1] + 2)  # D = 3, residual terms are non-zero here
    H, Hfd = hessian(theta, X, y), fd_hessian(theta, X, y)
    assert np.allclose(H, H.T)
    assert np.max(np.abs(H - Hfd)) <= 1e-6 * np.max(np.abs(H))
    h = 1e-6
    e = np.zeros_like(theta)
    e[0] = h
    assert gradient(theta, X, y)[0] == pytest.approx((loss(theta + e, X, y) - loss(theta - e, X, y)) / (2 * h),
                                                     rel=1e-6)


def test_balanced_minimum_is_a_balanced_interpolating_minimum():
    X, y = realise(PARAMS, {"seed": 2, "extra_dims": 1})
    theta = balanced_minimum(X, y, 4)
    d = X.shape[1]
    assert loss(theta, X, y) <= 1e-28
    assert np.linalg.norm(theta[:d]) == pytest.approx(theta[d], rel=1e-12)
    assert np.allclose(theta[d:], theta[d])
    assert np.sum(np.linalg.eigvalsh(hessian(theta, X, y)) > 1e-9) == 5  # rank N


def test_two_layer_minimum_has_the_requested_imbalance():
    X, y = realise(PARAMS, {"seed": 4, "extra_dims": 2})
    theta, _ = two_layer_minimum(X, y, -1.3, 4)
    d = X.shape[1]
    Pu = np.linalg.pinv(X) @ (X @ theta[:d])
    assert float(Pu @ Pu - theta[d] ** 2) == pytest.approx(-1.3, rel=1e-12)
    assert loss(theta, X, y) <= 1e-28


def test_derivations_reproduce_the_claimed_closed_forms():
    for card in (M.BALANCED, M.TWO_LAYER, M.INCREMENT):
        for claim in card.claims:
            if claim.kind == "identity":
                assert sp.simplify(derive_claim(card, claim).value - claim.value) == 0, (card.id, claim.name)


@pytest.mark.parametrize("card", [M.BALANCED, M.TWO_LAYER, M.NOT_MONOTONE, M.INCREMENT], ids=lambda c: c.id)
def test_cards_verify(card):
    report = check(card, examples=min(examples(), 30), count=4)
    assert report.passed, [c for c in report.checks if not c.passed]


def test_wrong_bound_is_refuted_with_a_counterexample():
    wrong = Relation("S_below_upper", M.S, "<=", M.S_lower)  # the lower bound is not an upper bound
    card = replace(M.BALANCED, claims=(wrong,))
    report = check(card, examples=60)
    assert not report.passed and report.counterexample is not None and report.counterexample["shrunk"]


def test_wrong_increment_is_refuted():
    claim = M.INCREMENT.claim("sgd_expected_increment")
    wrong = replace(claim, value=M.gd_increment + 2 * M.sgd_excess)
    report = check(replace(M.INCREMENT, claims=(wrong,)), examples=20, count=3)
    assert not report.passed
    assert any(c.name == "applied_update" and c.passed is False for c in report.checks)


def test_monotone_claim_in_the_common_direction_is_refuted():
    # 'more imbalance is always flatter' is false: dS/dC <= 0 fails past the lower bound's minimiser
    wrong = Relation("always_flatter", M.dS_dC, "<=", 0)
    report = check(replace(M.NOT_MONOTONE, claims=(wrong,)), examples=100)
    assert not report.passed


def test_bad_data_is_an_input_error():
    with pytest.raises(InputError, match="seed"):
        _validate({"seed": -1, "extra_dims": 0})
    with pytest.raises(InputError, match="S_d2"):
        realise({**PARAMS, "S_d2": 0.1}, {"seed": 0, "extra_dims": 0})


def test_scenario_runs_and_agrees():
    from gpu_validation._simulate import simulate
    card = M.SIMULATED
    res = simulate(card, device="cpu")  # the card's default steps (the documented run)
    assert res.agrees, [v.detail for v in res.verdicts]
    runs = res.data["runs"]
    assert len(runs) == 7 and all(r["converged"] for r in runs)
    assert len(res.panels) == 2 and any(c.label == "y = x" for c in res.panels[0].curves)
    with pytest.raises(InputError):
        simulate(card, device="cpu", at={"eta_frac": 1.5}, steps=20)


def test_scenario_gradient_matches_autograd():
    import torch

    from gpu_validation import _minimalist_sim as sim
    from gpu_validation.curvature import _forward_ad_ready
    _forward_ad_ready()
    gen = torch.Generator().manual_seed(0)
    X = torch.randn(5, 9, generator=gen, dtype=torch.float64)
    y = torch.randn(5, generator=gen, dtype=torch.float64)
    t = torch.randn(9 + 3, generator=gen, dtype=torch.float64)
    assert torch.allclose(sim.model_gradient(t, X, y), torch.func.grad(sim.model_loss)(t, X, y), rtol=1e-12, atol=1e-14)
    res = sim._run_one({"N": 6, "D": 3, "B": 6, "eta_frac": 0.3}, steps=10, every=5, seed=0,
                       dev=torch.device("cpu"), progress=None, alpha_frac=0.3, loss_tol=1.0)
    assert res["steps"] == [0, 5, 10] and len(res["sharpness"]) == 3
