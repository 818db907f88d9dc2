"""Threshold neurons (arXiv:2212.07469): the step-size transition of GD on l(xy) and the final sharpness above it,
for log cosh, sqrt(1 + s^2) and any even loss typed in; mutations refuted; the sweep scenario."""
from __future__ import annotations

from dataclasses import replace

import pytest
import sympy as sp

from conftest import examples
from numerics import check, with_claim
from numerics._threshold_neuron import IDENTITY_NUMERICS
from theory import DerivationError, catalogue
from theory.cards.threshold_neuron import LOGCOSH, SQRT1P, eta, s, transition_card
from theory.derive import derive_claim


def test_cards_are_in_the_catalogue():
    assert {"threshold_neuron.logcosh.transition", "threshold_neuron.sqrt1p.transition"} <= {c.id for c in catalogue()}


@pytest.mark.parametrize("card", [LOGCOSH, SQRT1P], ids=lambda c: c.id)
def test_cards_verify(card):
    report = check(card, examples=min(examples(), 30), seed=1)
    assert report.passed, [r for r in report.checks if r.passed is False]
    assert {"gd_transition", "gd_final_sharpness", "symbolic"} <= {r.name for r in report.checks if r.passed}


@pytest.mark.parametrize(("loss", "l2", "l4"), [
    (sp.log(sp.cosh(s)), 1, -2), (sp.sqrt(1 + s**2), 1, -3), (2 * sp.log(sp.cosh(s / 2)) * 3, sp.Rational(3, 2), None),
    (sp.sqrt(4 + s**2), sp.Rational(1, 2), None)])
def test_the_mechanism_works_for_any_even_loss(loss, l2, l4):
    card = transition_card("typed", loss, sp.S.Zero, "typed")
    l4 = sp.diff(loss, s, 4).subs(s, 0) if l4 is None else l4
    assert sp.simplify(derive_claim(card, card.claim("transition")).value - 2 / (eta * l2)) == 0
    final = derive_claim(card, card.claim("final_sharpness")).value
    assert sp.simplify(final - (2 / (eta * l2) + 3 * eta * l2**2 / l4)) == 0


def test_a_super_quadratic_loss_has_no_start_independent_limit():
    card = transition_card("quartic", s**2 / 2 + s**4 / 24, sp.S.Zero, "s^2/2 + s^4/24")
    with pytest.raises(DerivationError, match="not provably positive"):
        derive_claim(card, card.claim("final_sharpness"))
    with pytest.raises(DerivationError, match="not odd"):
        derive_claim(transition_card("odd", s**2 / 2 + s**3, 0, "odd"), transition_card("odd", s**2 / 2 + s**3, 0,
                                                                                          "odd").claim("transition"))


@pytest.mark.parametrize(("card", "claim", "wrong"), [
    (LOGCOSH, "transition", 1 / eta),                 # the transition at 1/eta
    (SQRT1P, "transition", 4 / eta),
    (LOGCOSH, "final_sharpness", 2 / eta - eta),      # the other loss's gap
    (SQRT1P, "final_sharpness", 2 / eta - 3 * eta / 2),
], ids=lambda v: getattr(v, "id", str(v))[:40])
def test_a_wrong_claim_is_refuted_by_the_numeric_route_alone(card, claim, wrong):
    mutant = with_claim(card, claim, wrong)
    target = mutant.claim(claim)
    results = IDENTITY_NUMERICS[target.derivation](mutant, target, 10, 0, 4)
    assert any(r.passed is False for r in results), results


def _scenario(card, **kw):
    from gpu_validation._threshold_neuron_sim import SCENARIOS
    return SCENARIOS[card.simulation.algorithm](card, device="cpu", seed=0, **kw)


def test_sweep_scenario_agrees_and_a_wrong_limit_is_refuted():
    res = _scenario(LOGCOSH, steps=6000)
    assert res.agrees, res.verdicts
    lo, hi = res.data["groups"]["above"]
    final = res.data["final_y2"][lo:hi]
    assert max(final) - min(final) < 1e-6 and max(final) < 16
    wrong = tuple(replace(cl, value=2 / eta - eta) if cl.name == "same_limit_above" else cl for cl in LOGCOSH.claims)
    verdicts = {v.claim: v.agrees for v in _scenario(replace(LOGCOSH, claims=wrong), steps=6000).verdicts}
    assert verdicts["same_limit_above"] is False and verdicts["stays_below"] is True
