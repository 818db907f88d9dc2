"""Central flows (arXiv:2410.24206): sigma^2 from dS/dt = 0, the projection, the time averages, the toy, scalar
RMSProp; mutations refuted by the numeric routes alone; the toy simulation against the central flow."""
from __future__ import annotations

from dataclasses import replace

import pytest
import sympy as sp

from conftest import examples
from numerics import check, with_claim
from numerics._central_flow import IDENTITY_NUMERICS
from theory import DerivationError, catalogue
from theory.cards.central_flow import (PROJECTED, SIGMA_SQUARED, TIME_AVERAGES, TOY_PREDICTIONS, EDGE, Z_PATH,
                                       GENERIC, a, c, eta, gL2, gLgS, gS2, kappa, sigma2, Lw, w)
from theory.conjectures.central_flow_rmsprop import CARD as RMSPROP, NOTES_SIGMA, S as S_RMS, c as c_rms
from theory._card import Identity
from theory._oracle import grad
from theory.derive import derive_claim
from theory.derive.central_flow import grad_sharpness, in_invariants

IDS = {"central_flow.gd.sigma_squared", "central_flow.gd.projected_gradient_flow", "central_flow.gd.time_averages",
       "central_flow.gd.toy_predictions", "central_flow.scalar_rmsprop.sigma_squared"}


def test_cards_are_in_the_catalogue():
    cards = {card.id: card for card in catalogue()}
    assert IDS <= set(cards)
    assert cards["central_flow.scalar_rmsprop.sigma_squared"].status == "conjecture"


@pytest.mark.parametrize("card", [SIGMA_SQUARED, PROJECTED, TIME_AVERAGES, TOY_PREDICTIONS, RMSPROP],
                         ids=lambda c: c.id)
def test_cards_verify(card):
    report = check(card, examples=min(examples(), 30), seed=1)
    assert report.passed, [r for r in report.checks if r.passed is False]
    routes = {r.route for r in report.checks if r.passed}
    assert "symbolic" in routes and len(routes) >= 3, routes


def test_sigma_is_solved_from_dS_dt_not_restated():
    d = derive_claim(SIGMA_SQUARED, SIGMA_SQUARED.claim("sigma_squared"))
    assert sp.simplify(d.value + 2 * gLgS / gS2) == 0
    # the engine saw the chain rule: dS/dt is a sum over the three coordinates
    assert len(sp.Add.make_args(sp.expand(d.details["dS_dt"]))) == 6


def test_a_flow_with_a_different_coefficient_gives_a_different_sigma():
    flow = -eta * (grad(w) + GENERIC["unknown"] * grad_sharpness(w))   # sigma^2 instead of sigma^2/2
    claim = Identity("s", -2 * gLgS / gS2, "central_flow_sigma", arguments={**GENERIC, "flow": flow})
    card = replace(SIGMA_SQUARED, claims=(claim,))
    assert sp.simplify(derive_claim(card, claim).value + gLgS / gS2) == 0


def test_invariants_that_do_not_close_are_refused():
    l1, l2 = sp.symbols("l1 l2", real=True)
    with pytest.raises(DerivationError, match="not a function of the invariants"):
        in_invariants(l1 * l2, [l1, l2], ((gL2, l1**2 + l2**2),))


@pytest.mark.parametrize(("card", "claim", "wrong"), [
    (SIGMA_SQUARED, "sigma_squared", 1 * (-gLgS) / gS2),                       # 1 instead of 2
    (PROJECTED, "loss_rate", -eta * (gL2 - gLgS**2 / (2 * gS2))),
    (PROJECTED, "projection_residual", eta**2 * gL2 / 10),
    (TIME_AVERAGES, "mean_loss", Lw + sigma2 / (2 * eta)),
    (TIME_AVERAGES, "mean_grad_norm2", gL2 + 2 * sigma2 / eta**2),
    (TOY_PREDICTIONS, "sigma_squared", 1 * (c + kappa * a * (Z_PATH - a * EDGE))),
    (TOY_PREDICTIONS, "z_path", a * EDGE + (Z_PATH - a * EDGE) * sp.exp(-eta * kappa / 2)),
    (RMSPROP, "sigma_squared", NOTES_SIGMA * (1 + c_rms / (1 + S_RMS))),
], ids=lambda v: getattr(v, "id", str(v))[:40])
def test_a_wrong_claim_is_refuted_by_the_numeric_route_alone(card, claim, wrong):
    mutant = with_claim(card, claim, wrong)
    target = mutant.claim(claim)
    results = IDENTITY_NUMERICS[target.derivation](mutant, target, 10, 0, 4)
    assert any(r.passed is False for r in results), results
    assert not check(mutant, examples=10, seed=0).passed


def _toy(card, steps):
    from gpu_validation._central_flow_sim import SCENARIOS
    return SCENARIOS[card.simulation.algorithm](card, device="cpu", seed=0, steps=steps)


def test_toy_simulation_agrees_and_a_tighter_band_is_refuted():
    res = _toy(TOY_PREDICTIONS, 1400)
    assert res.agrees, res.verdicts
    assert res.data["t0"] == 35                      # GD and the central flow enter the edge at step 35
    gaps = res.data["relative_gaps"]
    assert max(gaps["gd_variance"]) <= 0.004 and max(gaps["gd_mean_z"]) <= 0.01
    assert [p.title.split(",")[0] for p in res.panels][:2] == ["train loss", "oscillation variance"]
    tight = tuple(replace(cl, rtol=0.001) if cl.name == "gd_variance" else cl for cl in TOY_PREDICTIONS.claims)
    verdicts = {v.claim: v.agrees for v in _toy(replace(TOY_PREDICTIONS, claims=tight), 1400).verdicts}
    assert verdicts["gd_variance"] is False
