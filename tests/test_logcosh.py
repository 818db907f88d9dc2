"""GD / SAM / USAM on log cosh(xy): the invariant reduction, the period-2 curve, and the scenarios."""
from __future__ import annotations

from dataclasses import replace

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import examples
from numerics import check, with_claim
from numerics._logcosh import IDENTITY_NUMERICS, _orbit
from theory import AssumptionError, DerivationError, InputError, catalogue
from theory.cards.logcosh_xy import (BIFURCATION, D, F, FINAL_SHARPNESS, K, REDUCTION, REDUCTION_VUX, eta, p, x,
                                     y)
from theory.cards.sam_logcosh import CARD as SAM
from theory.derive import derive_claim
from theory.derive.logcosh import frozen_two_cycle, reduce_image

IDS = {"logcosh_xy.gd.reduction", "logcosh_vux.gd.reduction", "logcosh_xy.gd.bifurcation_alignment",
       "logcosh_xy.gd.final_sharpness", "sam.logcosh_xy.drift"}


def test_cards_are_in_the_catalogue():
    assert IDS <= {c.id for c in catalogue()}


@pytest.mark.parametrize("card", [REDUCTION, REDUCTION_VUX, BIFURCATION], ids=lambda c: c.id)
def test_identity_cards_verify(card):
    report = check(card, examples=min(examples(), 30), seed=1)
    assert report.passed, [c for c in report.checks if c.passed is False]
    ran = {c.name for c in report.checks if c.passed}
    assert {"symbolic", "random_points"} <= ran
    assert ran & {"full_step_50_digits", "period_two_orbit"}


def test_reduction_refuses_invariants_that_do_not_close():
    # f+ involves x^2 + y^2, which is not a polynomial function of (xy, x^2 - y^2)
    with pytest.raises(DerivationError, match="not a function of the invariants"):
        reduce_image(REDUCTION.state, REDUCTION.update, ((F, x * y), (D, x**2 - y**2)), F)


def test_two_cycle_refuses_a_map_that_is_not_odd():
    with pytest.raises(DerivationError, match="not odd"):
        frozen_two_cycle(F + F**2 - eta * sp.tanh(F) * K, F, K, p, 2 / (eta * K))


def test_the_exact_curve_tends_to_the_bifurcation_curve():
    exact = derive_claim(BIFURCATION, BIFURCATION.claim("period_two_curve")).value
    assert sp.simplify(exact.subs(eta, 0) - sp.tanh(p) / p) == 0


@pytest.mark.parametrize(("card", "claim", "wrong"), [
    (REDUCTION, "f_next", F * (1 + eta**2 * sp.tanh(F)**2) - 2 * eta * sp.tanh(F) * K),
    (REDUCTION, "D_next", D * (1 - eta**2 * sp.tanh(F))),
    (BIFURCATION, "period_two_curve", sp.tanh(p) / p),
    (BIFURCATION, "bifurcation_curve", sp.tanh(p) / p * (1 + p / 100)),
], ids=lambda v: getattr(v, "id", str(v))[:30])
def test_a_wrong_claim_is_refuted_by_the_numeric_route_alone(card, claim, wrong):
    mutant = with_claim(card, claim, wrong)
    target = mutant.claim(claim)
    results = IDENTITY_NUMERICS[target.derivation](mutant, target, 20, 0, 4)
    assert any(r.passed is False for r in results), results
    assert not check(mutant, examples=20, seed=0).passed


@settings(max_examples=min(examples(), 20), deadline=None)
@given(e=st.floats(0.01, 0.5), amp=st.floats(0.05, 3.5))
def test_numeric_orbit_matches_the_closed_form(e, amp):
    k_star, back, gain = _orbit(BIFURCATION, BIFURCATION.claim("period_two_curve"), {eta: e}, amp, 0)
    q = 2 / (e * k_star)
    exact = float((2 * sp.tanh(amp) / (amp * (2 + e**2 * sp.tanh(amp)**2))))
    assert q == pytest.approx(exact, rel=1e-9)
    assert back == pytest.approx(amp, rel=1e-8)


def _scenario(card, **kw):
    from gpu_validation._logcosh_sim import SCENARIOS
    return SCENARIOS[card.simulation.algorithm](card, device="cpu", seed=kw.pop("seed", 0), **kw)


def test_alignment_scenario_agrees_and_draws_the_curve():
    res = _scenario(BIFURCATION, steps=400)
    assert res.agrees, res.verdicts
    assert max(res.data["median_gap"]) <= BIFURCATION.claim("alignment").rtol
    assert res.panels[0].curves[0].label == "q = tanh(p)/p"


def test_final_sharpness_scenario_agrees_and_a_tighter_band_is_refuted():
    res = _scenario(FINAL_SHARPNESS, steps=2500)
    assert res.agrees, res.verdicts
    edge = 2 / res.data["eta"]
    lo, hi = res.data["groups"]["above"]
    final = res.data["final_y2"][lo:hi]
    assert all((1 - 0.03) * edge <= v < edge for v in final)
    # the final sharpness is ~1.2% below 2/eta, so a 0.5% band must disagree
    tight = tuple(replace(c, rtol=0.005) if c.name == "final_sharpness" else c for c in FINAL_SHARPNESS.claims)
    bad = _scenario(replace(FINAL_SHARPNESS, claims=tight), steps=2500)
    assert not bad.agrees


def test_sam_scenario_sam_drifts_usam_stalls():
    res = _scenario(SAM, steps=3000)
    assert res.agrees, res.verdicts
    assert all(s < u for s, u in zip(res.data["sam_final_y2"], res.data["usam_final_y2"]))
    one = _scenario(SAM, steps=200, at={"rho": 0.3})
    assert one.data["rho"] == [0.3]


def test_bad_input_is_a_one_line_error():
    with pytest.raises(AssumptionError, match="eta must be positive"):
        _scenario(FINAL_SHARPNESS, steps=50, at={"eta": -1.0})
    with pytest.raises(AssumptionError, match="rho must be positive"):
        _scenario(SAM, steps=50, at={"rho": -0.5})
    with pytest.raises(InputError, match="no parameter"):
        _scenario(BIFURCATION, steps=50, at={"zeta": 1.0})
