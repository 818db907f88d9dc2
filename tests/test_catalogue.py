"""Contract tests over the whole catalogue: one list, many invariants."""
from __future__ import annotations

import re

import pytest
import sympy as sp

from gpu_validation import scenario_names
from theory import Card, Identity, MeanSquareThreshold, Observed, Relation, Threshold, catalogue
from theory._card import ID_PATTERN
from theory.derive import derive

CARDS = catalogue()
ISSUE_2_IDS = {
    "gd.quadratic.critical_step", "heavy_ball.quadratic.critical_step", "nesterov.quadratic.critical_step",
    "adam_frozen.quadratic.critical_step", "usam.quadratic.critical_step", "sam.quadratic.two_cycle",
    "schedule_free_sgd.quadratic.critical_step",
}


def test_catalogue_is_sorted_unique_and_complete():
    ids = [c.id for c in CARDS]
    assert ids == sorted(ids) and len(ids) == len(set(ids))
    assert ISSUE_2_IDS <= set(ids)


@pytest.mark.parametrize("card", CARDS, ids=lambda c: c.id)
def test_card_is_well_formed(card: Card):
    assert ID_PATTERN.match(card.id)
    assert card.origin.startswith(("theory.cards.", "theory.conjectures."))
    declared = set(card.symbols) | set(card.state) | set(card.branch.values()) | (
        {card.estimator.symbol} if card.estimator is not None else set())
    for expr in card.update:
        assert expr.free_symbols <= declared
    assert re.search(r"\d{4}\.\d{4,5}", str(card.source)), "every card cites an arXiv id"
    assert card.title and card.claims


@pytest.mark.parametrize("card", CARDS, ids=lambda c: c.id)
def test_every_claim_is_derived_from_the_update_rule(card: Card):
    derived = derive(card)
    for claim in card.claims:
        d = derived[claim.name]
        if isinstance(claim, (Observed, Relation)):  # measured by simulation / computed by a numeric model
            assert d.value is None
            continue
        if claim.kind == "modified_flow":
            # the engine's field equals the claimed one at every order; a claimed loss's coefficient is
            # the derived loss's (the derived loss exists whenever every order is a gradient field)
            assert all(d.details["agrees"]), claim.name
            if claim.loss is not None:
                assert d.value is not None and sp.simplify(d.value - claim.value) == 0
            continue
        assert d.value is not None and d.value.free_symbols <= set(card.symbols)
        if isinstance(claim, (Threshold, Identity)):
            # symbolic equality, paired with numeric agreement in test_cards_numeric
            assert sp.simplify(d.value - claim.value) == 0, claim.name
        if isinstance(claim, MeanSquareThreshold):
            assert sp.simplify(d.value - claim.gain) == 0
            assert sp.simplify(d.details["mode_limit"] - claim.mode_limit) == 0


@pytest.mark.parametrize("card", [c for c in CARDS if any(isinstance(k, Observed) for k in c.claims)
                                  or c.simulation is not None], ids=lambda c: c.id)
def test_every_simulated_or_observed_claim_has_a_scenario(card: Card):
    assert card.simulation is not None
    scenario = card.simulation.scenario
    assert (not scenario and card.state) or scenario in scenario_names()


def _change_of_basis(card: Card, seed: int) -> Card:
    """The same method written in another state basis u = T s (T invertible, integer)."""
    import random
    from dataclasses import replace
    rng = random.Random(seed)
    n = len(card.state)
    while True:
        t = sp.Matrix(n, n, lambda i, j: rng.randint(-2, 2) + (3 if i == j else 0))
        if t.det() != 0:
            break
    u = sp.symbols(f"u0:{n}", real=True)
    s_of_u = t.inv() * sp.Matrix(u)
    f = sp.Matrix(card.update).subs(dict(zip(card.state, s_of_u)), simultaneous=True)
    new_update = tuple(sp.expand(e) for e in t * f)
    claims = tuple(c for c in card.claims if isinstance(c, Threshold))
    return replace(card, id=card.id + "_basis", state=u, update=new_update, claims=claims, simulation=None)


@pytest.mark.parametrize("card", [c for c in CARDS if not c.branch and any(isinstance(k, Threshold) for k in c.claims)],
                         ids=lambda c: c.id)
@pytest.mark.parametrize("seed", [1, 2])
def test_threshold_does_not_depend_on_the_state_basis(card: Card, seed: int):
    """Metamorphic (PEPit's 'uselessly complexified' idea): same map, other coordinates."""
    other = _change_of_basis(card, seed)
    for claim in other.claims:
        original = derive(card)[claim.name].value
        assert sp.simplify(derive(other)[claim.name].value - original) == 0
