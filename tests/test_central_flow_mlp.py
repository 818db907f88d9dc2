"""Central flows beyond the toy (arXiv:2410.24206) and threshold neurons on sparse coding (arXiv:2212.07469): the
MLP central flow against GD, scalar RMSProp measured against the conjectured sigma^2, the learned bias against eta.
Each scenario is run small here; a tightened or mutated claim must be refuted by the same measurement."""
from __future__ import annotations

from dataclasses import replace

import pytest
import sympy as sp

from numerics import check, with_claim
from theory import catalogue
from theory.conjectures.central_flow_mlp import CARD as MLP
from theory.conjectures.central_flow_rmsprop import CARD as RMSPROP, NOTES_SIGMA, NU, S, c, eta, gLgS, gL2, gS2
from theory.conjectures.threshold_neuron_sparse_coding import CARD as SPARSE


def test_cards_are_conjectures_in_the_catalogue():
    cards = {card.id: card for card in catalogue()}
    for card in (MLP, SPARSE, RMSPROP):
        assert cards[card.id].status == "conjecture"
    assert {cl.name for cl in cards[RMSPROP.id].claims} == {"sigma_squared", "method_variance"}


def test_rmsprop_card_still_verifies_with_its_observed_claim():
    report = check(RMSPROP, examples=10, seed=1)
    assert report.passed, [r for r in report.checks if r.passed is False]


# -- scalar RMSProp, the method itself ------------------------------------------------------------------------------
def _rmsprop(card, **kw):
    from gpu_validation._central_flow_mlp_sim import SCENARIOS
    return SCENARIOS[card.simulation.algorithm](card, device="cpu", seed=0, **kw)


def test_scalar_rmsprop_oscillates_with_the_claimed_variance():
    res = _rmsprop(RMSPROP, steps=8000)
    assert res.agrees, res.verdicts
    rows = res.data["windows"]
    assert len(rows) == 12
    assert max(res.data["judged"]["method_variance"]) < 1e-4           # measured 4.7e-5 at most
    assert all(abs(r["S_eff"] - 2) < 1e-3 for r in rows)               # the method sits at its edge


@pytest.mark.parametrize("wrong", [
    (-c * (gL2 - NU) / (2 * NU)) / (gS2 / S**2 + 2 * c / eta**2),                   # the gradient term dropped
    (-(2 / S**2) * gLgS - c * (gL2 - NU) / (2 * NU)) / (gS2 / S**2 + c / eta**2),   # 2c/eta^2 -> c/eta^2
    NOTES_SIGMA * sp.Rational(101, 100),                                             # 1% off
], ids=["no_gradient_term", "half_c_term", "one_percent"])
def test_a_wrong_sigma_is_refuted_by_the_method(wrong):
    res = _rmsprop(with_claim(RMSPROP, "sigma_squared", wrong), steps=8000)
    verdicts = {v.claim: v.agrees for v in res.verdicts}
    assert verdicts["method_variance"] is False, res.verdicts


# -- the MLP central flow -------------------------------------------------------------------------------------------
def test_mlp_field_gives_the_toy_sigma_on_the_edge():
    """The autograd field (Sigma from the edge conditions) on the toy of central_flow.gd.toy_predictions, at a point
    on the edge (x = 0, y = 2/eta): sigma^2 = 2(c + kappa a (z - 2a/eta)), the card's closed form."""
    import torch

    from gpu_validation._central_flow_mlp_sim import central_field
    eta_, c_, kappa, a, q = 0.1, 0.05, 0.01, 1.0, 0.5

    def loss(w):
        x, y, z = w[0], w[1], w[2]
        return y * x**2 / 2 - q / 4 * x**4 - c_ * y + kappa / 2 * (z - a * y) ** 2
    for z in (21.0, 25.0, 29.5):
        w = torch.tensor([0.0, 2 / eta_, z], dtype=torch.float64)
        u = torch.tensor([[1.0, 0.0, 0.0]], dtype=torch.float64)
        v, sig, h = central_field(loss, eta_, 0.1)(w, u)
        want = 2 * (c_ + kappa * a * (z - a * 2 / eta_))
        assert abs(float(sig[0]) - want) < 1e-12 and abs(float(h[0]) - 2 / eta_) < 1e-12
        assert abs(float(v[1])) < 1e-12                              # y pinned: dS/dt = 0
    # off the edge the restoring term pulls S back: dy/dt = -gamma (y - 2/eta)
    w = torch.tensor([0.0, 2 / eta_ + 0.5, 25.0], dtype=torch.float64)
    v, _, _ = central_field(loss, eta_, 0.1)(w, torch.tensor([[1.0, 0.0, 0.0]], dtype=torch.float64))
    assert abs(float(v[1]) + 0.1 * 0.5) < 1e-12


def test_krylov_top_pairs_match_the_dense_hessian():
    import torch

    from gpu_validation._central_flow_mlp_sim import hvp_at, problem, top_pairs
    from gpu_validation.curvature import _forward_ad_ready
    _forward_ad_ready()
    w0, loss = problem(16, 6, 0.5, 0)                                 # 67 parameters: the dense Hessian is cheap
    dense = torch.linalg.eigvalsh(torch.autograd.functional.hessian(loss, w0, vectorize=True))
    start = torch.randn(2, w0.numel(), generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    theta, U = top_pairs(hvp_at(loss, w0), start, 12)
    assert torch.allclose(theta, dense[-2:].flip(0), rtol=1e-8)
    assert torch.allclose(U @ U.T, torch.eye(2, dtype=torch.float64), atol=1e-10)


def _mlp(card, steps):
    from gpu_validation._central_flow_mlp_sim import SCENARIOS
    return SCENARIOS[card.simulation.algorithm](card, device="cpu", seed=0, steps=steps)


def test_mlp_flow_is_pinned_and_a_tighter_band_is_refuted():
    # one run judged against a band 100x tighter than the card's: the measured deviation must lie between the two
    tight = tuple(replace(cl, rtol=1e-5) if cl.name == "flow_pinned" else cl for cl in MLP.claims)
    res = _mlp(replace(MLP, claims=tight), 90)
    assert res.data["t0"] == 60                                       # the flow reaches 2/eta at step 60
    assert {v.claim: v.agrees for v in res.verdicts}["flow_pinned"] is False
    assert 1e-5 < res.data["judged"]["flow_pinned"] < MLP.claim("flow_pinned").rtol
    gd_s = res.data["gd"]["sharpness"]
    assert max(gd_s) > 2 / 0.7                                        # GD crosses the edge as well
    assert res.data["windows"] == []                                  # 90 steps: no window after the transient


def test_mlp_time_averages_follow_the_flow_after_the_transient():
    # the card's default run, judged with a mean-loss band 10x tighter: only that claim may fail, and the measured
    # gap must lie between the two bands
    tight = tuple(replace(cl, rtol=0.005) if cl.name == "mean_loss" else cl for cl in MLP.claims)
    res = _mlp(replace(MLP, claims=tight), MLP.simulation.steps)
    verdicts = {v.claim: v.agrees for v in res.verdicts}
    assert verdicts == {"mean_loss": False, "sigma_term_needed": True, "gd_sharpness_around_edge": True,
                        "flow_pinned": True}, res.verdicts
    judged = res.data["judged"]
    assert len(judged["mean_loss"]) == 4 and 0.005 < max(judged["mean_loss"]) < MLP.claim("mean_loss").rtol
    assert min(judged["sigma_term_needed"]) > 0.35                     # L(w) alone is ~40% low
    assert all(r["active"] == 1 for r in res.data["windows"])          # one unstable eigenvalue at eta = 0.7


# -- sparse coding: the bias against eta ----------------------------------------------------------------------------
SMALL = {"etas": 4, "f_lo": 0.5, "f_hi": 2.0}


def _sparse(card, **opts):
    from gpu_validation._threshold_sparse_sim import SCENARIOS
    sim = replace(card.simulation, seeds=1, options={**card.simulation.options, **SMALL, **opts})
    return SCENARIOS[sim.algorithm](replace(card, simulation=sim), device="cpu", seed=0)


def test_sparse_coding_bias_turns_negative_only_above_the_edge():
    res = _sparse(SPARSE)
    assert res.agrees, res.verdicts
    runs = res.data["results"][0]["runs"]
    assert [r["factor"] > 1 for r in runs] == [False, False, True, True]
    assert all(r["bias_tail"] > 0.3 for r in runs[:2]) and all(r["bias_tail"] < -0.3 for r in runs[2:])


def test_sparse_coding_claims_placed_across_the_transition_are_refuted():
    verdicts = {v.claim: v.agrees for v in _sparse(SPARSE, f_large=0.7, f_small=1.5).verdicts}
    assert verdicts == {"threshold_large": False, "no_threshold_small": False}
