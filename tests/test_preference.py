"""Preference learning: exact population RLHF / DPO / online DPO engines, their derivations and cards."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import examples
from numerics import _preference as P
from numerics import check
from numerics._models import card_data
from theory import InputError, get
from theory.derive import derive_claim
from theory.derive.preference import kl_optimum_symbolic

IDS = ("kl_regularized.optimal_policy", "dpo.loglinear.bt_mle_equivalence",
       "rlhf_dpo.policy_misspecified", "rlhf_dpo.reward_misspecified",
       "rlhf_dpo.isomorphic_misspecified")


def _fd(f, x, eps=1e-6):
    return np.array([(f(x + eps * e) - f(x - eps * e)) / (2 * eps) for e in np.eye(len(x))])


@settings(max_examples=examples(), deadline=None)
@given(st.integers(0, 2**31 - 1))
def test_analytic_gradients_match_finite_differences(seed):
    rng = np.random.default_rng(seed)
    n, d = int(rng.integers(3, 6)), int(rng.integers(1, 3))
    psi, log_ref = rng.normal(size=(n, d)), np.log(rng.dirichlet(np.ones(n)))
    beta, r, theta = float(np.exp(rng.uniform(-2, 1))), rng.normal(size=n), rng.normal(size=d)
    i, j = np.triu_indices(n, 1)
    w, p = rng.uniform(0.1, 1, len(i)), P.sigmoid(r[i] - r[j])
    g = P.dpo_loss_and_grad(theta, psi, log_ref, beta, i, j, p, w)[1]
    assert np.allclose(g, _fd(lambda t: P.dpo_loss_and_grad(t, psi, log_ref, beta, i, j, p, w)[0], theta),
                       rtol=1e-6, atol=1e-8)
    v, gv, H = P._value_grad_hess(theta, psi, log_ref, r, beta)
    V = lambda t: P.value(P.log_policy(t, psi, log_ref), r, log_ref, beta)  # noqa: E731
    assert v == pytest.approx(V(theta), rel=1e-12)
    assert np.allclose(gv, _fd(V, theta), rtol=1e-6, atol=1e-8)
    assert np.allclose(H, np.array([_fd(lambda t: P._value_grad_hess(t, psi, log_ref, r, beta)[1][k], theta)
                                    for k in range(d)]), rtol=1e-5, atol=1e-7)


@settings(max_examples=examples(), deadline=None)
@given(st.lists(st.floats(-3, 3), min_size=2, max_size=6), st.floats(0.05, 10), st.integers(0, 1000))
def test_closed_form_optimum_matches_simplex_maximisation(r, beta, seed):
    ref = np.random.default_rng(seed).dirichlet(np.ones(len(r)))
    v, pi = P.optimal(np.asarray(r), np.log(ref), beta)
    v2, pi2 = P.simplex_max(np.asarray(r), ref, beta)
    assert v == pytest.approx(v2, rel=1e-9, abs=1e-9) and np.allclose(pi, pi2, atol=1e-6)


def test_symbolic_optimum_is_stationary():
    v, pol, r, q, beta = kl_optimum_symbolic(3)
    assert sp.simplify(v - beta * sp.log(sum(qi * sp.exp(ri / beta) for ri, qi in zip(r, q)))) == 0
    assert sp.simplify(sum(pol) - 1) == 0


@settings(max_examples=examples(), deadline=None)
@given(P.policy_misspecified_instances(None), st.floats(0.01, 10))
def test_family_a_dpo_pinned_at_reference(data, beta):
    q = P.gap_compute({"beta": beta}, data)
    assert abs(q["theta_dpo"][0]) < 1e-9
    assert q["V_dpo"] == pytest.approx(np.mean(data["reward"]), abs=1e-12)


def test_critical_beta_from_data_and_values():
    card = get("rlhf_dpo.policy_misspecified")
    derived = derive_claim(card, card.claim("critical_beta"))
    assert derived.value == sp.Rational(1, 3)
    t = sp.Symbol("beta", positive=True)
    assert sp.simplify(derived.details["curvature_at_zero"].subs(card.symbol("beta"), t)
                       - (sp.Rational(2, 9) - 2 * t / 3)) == 0
    data = card_data(card)
    below, above = (P.gap_compute({"beta": b}, data) for b in (0.3, 0.4))
    assert below["V_rlhf"] > below["V_dpo"] and above["V_rlhf"] == pytest.approx(above["V_dpo"], abs=1e-12)


def test_pilaf_pair_density_is_inverse_sigmoid_slope():
    rng = np.random.default_rng(3)
    psi, log_ref, beta, theta = rng.normal(size=(5, 2)), np.log(rng.dirichlet(np.ones(5))), 0.7, rng.normal(size=2)
    q = P.pilaf_pairs(theta, psi, log_ref, beta)
    assert q.sum() == pytest.approx(1.0)
    logp = P.log_policy(theta, psi, log_ref)
    pi, h = np.exp(logp), beta * (logp - log_ref)
    dh = h[:, None] - h[None, :]
    target = np.outer(pi, pi) / (P.sigmoid(dh) * (1 - P.sigmoid(dh)))
    sym = q + q.T
    assert np.allclose(sym / sym.sum(), target / target.sum(), rtol=1e-10)


@pytest.mark.parametrize("beta", [0.1, 0.5, 1.0])
def test_online_fixed_point_two_routes(beta):
    data = P.validate_gap({"reward": [0, 1, 0.3], "reference": [1, 2, 1], "pairs": P._uniform_pairs(3),
                           "reward_features": [[0], [1], [2]], "policy_features": [[0], [1], [2]]})
    r, log_ref, phi, psi, i, j, w, pstar = P._problem(data)
    a = P.online_dpo(psi, log_ref, beta, pstar, np.zeros(1))
    b = P.online_fixed_point_scan(psi, log_ref, beta, pstar)
    assert a == pytest.approx(b, rel=1e-9, abs=1e-12)
    assert np.max(np.abs(P.online_dpo_residual(a, psi, log_ref, beta, pstar))) < 1e-12


def test_bad_data_is_a_one_line_input_error():
    with pytest.raises(InputError, match="positive"):
        P.validate_kl({"reward": [1, 0], "reference": [1, -1]})
    with pytest.raises(InputError, match="same length"):
        P.validate_kl({"reward": [1, 0, 2], "reference": [1, 1]})
    with pytest.raises(InputError, match="pairs"):
        P.validate_gap({"reward": [1, 0], "reference": [1, 1], "pairs": [[0, -1], [1, 0]],
                        "reward_features": [[1], [0]], "policy_features": [[1], [0]]})


@pytest.mark.parametrize("card_id", IDS)
def test_cards_verify(card_id):
    report = check(get(card_id), examples=40)
    assert report.passed, [c.detail for c in report.checks if c.passed is False]


def test_finite_sample_simulation_converges():
    from gpu_validation._simulate import simulate
    res = simulate(get("rlhf_dpo.reward_misspecified"), device="cpu", seed=1)
    assert res.agrees
    assert res.data["exact"]["V_dpo"] > res.data["exact"]["V_rlhf"]
    assert all(np.mean(res.data["values"]["dpo"][-1]) > v for v in res.data["values"]["rlhf"][-1])


def test_scenarios_restore_torch_threads_and_reject_unknown_bindings():
    import torch

    from gpu_validation import simulate
    from theory import InputError
    before = torch.get_num_threads()
    card = get("rlhf_dpo.sparse_reward.sample_complexity")
    with pytest.raises(InputError, match="takes only d"):
        simulate(card, at={"nonsense": 1.0}, device="cpu")
    with pytest.raises(InputError, match="d must be an integer"):
        simulate(card, at={"d": -1.0}, device="cpu")
    assert torch.get_num_threads() == before
