"""Worst-case claims (issue 17 B): the exact worst case of the subgradient method and of GD by a
performance-estimation SDP (PEPit) built from the card's own rule and schedule, the hard instances
(SymPy and NumPy, no PEPit), the refinement bound of arXiv 2310.07831 and its refined schedule.

Tests that need the SDP skip cleanly without PEPit (``pytest.importorskip``); the path without
PEPit is tested by hiding the import: the SDP route is then inconclusive, never a pass."""
from __future__ import annotations

import dataclasses
import math
import sys
import time

import numpy as np
import pytest
import sympy as sp

from numerics import check
from numerics._check import routes_of
from numerics import _worst_case as wc
from theory import Card, CardError, Source, WorstCase, get, grad
from theory.derive import derive_claim
from theory.derive.worst_case import refinement_bound

WORST_CASE_CARDS = ["subgradient.lipschitz.linear_decay_tight", "subgradient.lipschitz.constant_step_worse",
                    "gd.convex.smooth_tight", "gd.convex.smooth_short_steps", "schedule_refinement.bound.upper_on_pep"]
SCHEDULE_CARD = "schedule_refinement.closed_form.constant_norms_linear_decay"
EXAMPLES = 20


def _by_name(report):
    return {(c.claim, c.name): c for c in report.checks}


def _mutate(card_id: str, name: str | None = None, **changes) -> Card:
    card = get(card_id)
    claim = card.claims[0] if name is None else card.claim(name)
    new = dataclasses.replace(claim, **changes)
    return dataclasses.replace(card, claims=tuple(new if c is claim else c for c in card.claims))


def _symbol(card: Card, name: str) -> sp.Symbol:
    return card.symbol(name)


# -- the SDP route: every card verifies by every route ----------------------------------------------

@pytest.mark.parametrize("card_id", WORST_CASE_CARDS)
def test_worst_case_cards_verify_by_every_route(card_id):
    pytest.importorskip("PEPit")
    pytest.importorskip("cvxpy")
    started = time.perf_counter()
    card = get(card_id)
    report = check(card, examples=EXAMPLES, seed=0)
    seconds = time.perf_counter() - started
    assert report.passed, [(c.claim, c.name, c.detail) for c in report.checks if not c.passed]
    by = _by_name(report)
    for claim in card.claims:
        assert routes_of(card, claim)[:4] == ["symbolic", "pep_sdp", "hard_instance", "hypothesis_pep"]
        for route in ("symbolic", "pep_sdp", "hard_instance", "hypothesis_pep"):
            result = by[(claim.name, route)]
            assert result.passed is True and not result.inconclusive, (route, result.detail)
        assert by[(claim.name, "pep_sdp")].examples >= len(wc._steps_range(card, claim)) >= 7
    assert seconds < 30, f"{card_id} took {seconds:.1f} s"


def test_pep_reproduces_the_research_notes_numbers():
    """Notes Sec. 6 and 8 (CLARABEL): linear decay 0.577350, 0.447214, 0.333333 at n = 2, 4, 8; GD 1/18 at n = 4."""
    pytest.importorskip("PEPit")
    card = get("subgradient.lipschitz.linear_decay_tight")
    claim = card.claims[0]
    unit = {_symbol(card, "M"): 1.0, _symbol(card, "D"): 1.0}
    got = [wc.pep_value(card, claim, n, unit) for n in (2, 4, 8)]
    assert np.allclose(got, [1 / math.sqrt(3), 1 / math.sqrt(5), 1 / 3], rtol=0, atol=1e-6)
    gd = get("gd.convex.smooth_tight")
    assert abs(wc.pep_value(gd, gd.claims[0], 4, {_symbol(gd, "L"): 1.0, _symbol(gd, "D"): 1.0}) - 1 / 18) < 1e-6


def test_the_best_constant_step_is_worse_than_linear_decay():
    """The SDP minimised over the constant step: the notes' 0.6000, 0.4901 (n = 2, 4), above M D/sqrt(n+1)."""
    pytest.importorskip("PEPit")
    card = get("subgradient.lipschitz.constant_step_worse")
    claim = card.claims[0]
    unit = {_symbol(card, "M"): 1.0, _symbol(card, "D"): 1.0}
    for n, notes in ((2, 0.6000), (4, 0.4901)):   # (n = 8: in the card's own SDP route)
        best, at = wc._best_over(card, claim, n, unit, _symbol(card, "s"))
        assert abs(best - notes) < 1e-3 and best > 1 / math.sqrt(n + 1) * (1 + wc.STRICT_MARGIN), (n, best, at)


def test_the_linear_decay_scale_is_optimal():
    """Scaling the linear-decay schedule by 0.9 or 1.1 raises the SDP worst case above M D/sqrt(n+1)."""
    pytest.importorskip("PEPit")
    card = get("subgradient.lipschitz.linear_decay_tight")
    claim = card.claims[0]
    unit = {_symbol(card, "M"): 1.0, _symbol(card, "D"): 1.0}
    for factor in (0.9, 1.1):
        other = dataclasses.replace(claim, schedule=factor * claim.schedule)
        assert wc.pep_value(card, other, 4, unit) > 1 / math.sqrt(5) + 1e-4


# -- mutations are refuted ------------------------------------------------------------------------

MUTATIONS = [
    ("subgradient.lipschitz.linear_decay_tight", None, "value", lambda c: c.value.subs(c.steps + 1, c.steps)),  # MD/sqrt(n)
    ("gd.convex.smooth_tight", None, "value", lambda c: _symbol(get("gd.convex.smooth_tight"), "L")
     * _symbol(get("gd.convex.smooth_tight"), "D") ** 2 / (4 * c.steps + 1)),                                  # 4n + 1
    ("gd.convex.smooth_short_steps", None, "value", lambda c: c.value * sp.Rational(21, 20)),
    ("subgradient.lipschitz.constant_step_worse", None, "value", lambda c: c.value * sp.Rational(6, 5)),
    ("schedule_refinement.bound.upper_on_pep", "linear_decay_bound", "value", lambda c: c.value * sp.Rational(3, 10)),
]


@pytest.mark.parametrize(("card_id", "name", "field", "mutate"), MUTATIONS, ids=[m[0] for m in MUTATIONS])
def test_a_wrong_constant_is_refuted(card_id, name, field, mutate):
    card = get(card_id)
    claim = card.claims[0] if name is None else card.claim(name)
    bad = _mutate(card_id, name, **{field: mutate(claim)})
    bad = dataclasses.replace(bad, claims=tuple(c for c in bad.claims if c.name == claim.name))  # that claim alone
    report = check(bad, examples=EXAMPLES, seed=0)
    assert not report.passed
    by = _by_name(report)
    assert by[(claim.name, "symbolic")].passed is False
    if "PEPit" in sys.modules or _has_pepit():
        pep = by[(claim.name, "pep_sdp")]
        assert pep.passed is False and not pep.inconclusive and pep.counterexample, pep.detail


def test_the_sdp_is_built_from_the_cards_schedule():
    """Doubling the card's steps (not the claimed value) makes the tight claim fail on the SDP."""
    pytest.importorskip("PEPit")
    card = get("subgradient.lipschitz.linear_decay_tight")
    claim = card.claims[0]
    bad = _mutate(card.id, schedule=2 * claim.schedule)
    results = {c.name: c for c in check(bad, examples=EXAMPLES, seed=0).checks}
    assert results["pep_sdp"].passed is False and "SDP worst case" in results["pep_sdp"].detail


def test_a_wrong_refined_schedule_is_refuted():
    card = get(SCHEDULE_CARD)
    claim = card.claims[0]
    t, T = claim.arguments["t"], claim.arguments["T"]
    report = check(_mutate(SCHEDULE_CARD, value=1 - t / T), examples=EXAMPLES, seed=0)
    by = _by_name(report)
    assert by[(claim.name, "symbolic")].passed is False
    assert by[(claim.name, "closed_form_numpy")].passed is False


def _has_pepit() -> bool:
    try:
        wc._pepit()
        return True
    except wc.PEPUnavailable:
        return False


# -- without PEPit: inconclusive, never a pass --------------------------------------------------------

def test_without_pepit_the_sdp_route_is_inconclusive_not_a_pass(monkeypatch):
    monkeypatch.setitem(sys.modules, "PEPit", None)            # ``import PEPit`` now raises ImportError
    monkeypatch.setitem(sys.modules, "PEPit.functions", None)
    card = get("subgradient.lipschitz.linear_decay_tight")
    report = check(card, examples=EXAMPLES, seed=0)
    by = {c.name: c for c in report.checks}
    for route in ("pep_sdp", "hypothesis_pep"):
        assert by[route].inconclusive and by[route].passed is False and "not a pass" in by[route].detail
    assert by["symbolic"].passed and by["hard_instance"].passed   # the routes without PEPit still run
    assert not report.passed


# -- the derivations and the hard instances (no PEPit) ----------------------------------------------

def test_the_resisting_instance_gives_the_lower_bound_exactly():
    card = get("subgradient.lipschitz.linear_decay_tight")
    d = derive_claim(card, card.claims[0])
    M, D = _symbol(card, "M"), _symbol(card, "D")
    assert d.engine == "resisting_oracle_instance"
    assert {n: sp.simplify(v * sp.sqrt(n + 1) / (M * D)) for n, v in d.details["exact_runs"].items()} == {
        1: 1, 2: 1, 3: 1, 4: 1}
    # the classical potential bound: best constant step D/(M sqrt(n+1)), value M D/sqrt(n+1) (best iterate)
    n = card.claims[0].steps
    assert sp.simplify(d.details["potential_best_step"] - D / (M * sp.sqrt(n + 1))) == 0
    assert sp.simplify(d.details["potential_best_value"] - M * D / sp.sqrt(n + 1)) == 0
    rng = np.random.default_rng(3)
    for n_ in (2, 5, 8):
        p = {M: float(rng.uniform(0.2, 5)), D: float(rng.uniform(0.2, 5))}
        assert abs(wc.resisting_instance(card, card.claims[0], n_, p) - p[M] * p[D] / math.sqrt(n_ + 1)) < 1e-12


def test_the_huber_family_gives_the_tight_gd_value():
    card = get("gd.convex.smooth_short_steps")
    claim = card.claims[0]
    d = derive_claim(card, claim)
    L, D, h = (_symbol(card, s) for s in ("L", "D", "h"))
    assert sp.simplify(d.value - L * D ** 2 / (4 * claim.steps * h + 2)) == 0
    assert sp.simplify(d.details["threshold"] - D / (2 * claim.steps * h + 1)) == 0
    value, a = wc.huber_instance(card, claim, 5, {L: 2.0, D: 0.5, h: 0.3})
    assert abs(value - 2.0 * 0.25 / (4 * 5 * 0.3 + 2)) < 1e-13 and abs(a - 0.5 / (2 * 5 * 0.3 + 1)) < 1e-6


def test_the_refinement_bound_matches_the_papers_code_and_the_notes():
    """B in SymPy (the engine) and in NumPy (the code's formula) agree; the notes' constant-norm values
    B sqrt(T) = 2.1174 (T = 10) for linear decay 1 - t/T at the bound-optimal scale."""
    card = get("schedule_refinement.bound.upper_on_pep")
    claim = card.claim("linear_decay_bound")
    M, D = _symbol(card, "M"), _symbol(card, "D")
    engine = refinement_bound(claim)
    for n in (2, 5, 8):
        lam = wc.schedule(claim, n, {M: 1.3, D: 0.7})
        want = wc.refinement_bound_numpy(lam, [1.3] * n, 0.7)
        assert abs(float(engine.subs({M: 1.3, D: 0.7, claim.steps: n}).doit()) - want) < 1e-12 * want
    # notes Sec. 6: n = 8, linear decay: B = 0.749 vs PEP 0.333
    assert abs(wc.claimed(claim, 8, {M: 1.0, D: 1.0}) - 0.749) < 5e-4
    from scipy.optimize import minimize_scalar
    T = 10
    shape = 1 - np.arange(T) / T
    best = minimize_scalar(lambda c: wc.refinement_bound_numpy(c * shape, np.ones(T), 1.0), bounds=(1e-3, 10),
                           method="bounded", options={"xatol": 1e-10})
    assert abs(best.fun * math.sqrt(T) - 2.1174) < 1e-4


def test_the_refined_schedule_is_linear_decay_for_constant_norms():
    card = get(SCHEDULE_CARD)
    report = check(card, examples=EXAMPLES, seed=0)
    assert report.passed, [(c.name, c.detail) for c in report.checks if not c.passed]
    by = {c.name: c for c in report.checks}
    assert "order" in by["bound_minimiser"].detail and by["bound_minimiser_random_norms"].passed
    assert list(wc.refined_schedule(np.full(5, 2.0)) / wc.refined_schedule(np.full(5, 2.0))[0]) == [1, 0.75, 0.5, 0.25, 0]


# -- card validation ----------------------------------------------------------------------------------

def _card(**claim_changes) -> Card:
    x, gamma, M, D = sp.Symbol("x"), *sp.symbols("gamma M D", positive=True)
    n, k = sp.Symbol("n", integer=True, positive=True), sp.Symbol("k", integer=True, positive=True)
    lam = sp.Symbol("lambda", positive=True)
    fields = dict(name="w", value=M * D / sp.sqrt(n + 1), step=gamma, schedule=D / (M * sp.sqrt(n + 1)), index=k,
                  steps=n, radius=D, constants={"M": M})
    fields.update(claim_changes)
    return Card(id="test.worst.case", title="t", symbols=(gamma, M, D, n, lam), eigenvalue=lam, state=(x,),
                update=(x - gamma * grad(x),), claims=(WorstCase(**fields),), source=Source("2310.07831"))


def test_a_good_worst_case_card_builds_and_bad_ones_fail():
    assert _card().claims[0].kind == "worst_case"
    with pytest.raises(CardError, match="function_class"):
        _card(function_class="strongly_convex")
    with pytest.raises(CardError, match="constants"):
        _card(constants={"L": sp.Symbol("M", positive=True)})
    with pytest.raises(CardError, match="step index"):
        _card(index=sp.Symbol("n", integer=True, positive=True))
    with pytest.raises(CardError, match="undeclared"):
        _card(value=sp.Symbol("Q") / 2)


# -- the simulation ---------------------------------------------------------------------------------

def test_the_simulation_attains_the_claim_on_the_hard_instance():
    pytest.importorskip("torch")
    from gpu_validation._worst_case_sim import SCENARIOS
    for card_id, scenario in (("subgradient.lipschitz.linear_decay_tight", "worst_case_subgradient"),
                              ("gd.convex.smooth_tight", "worst_case_gd_huber")):
        card = get(card_id)
        card = dataclasses.replace(card, simulation=dataclasses.replace(card.simulation, options={"n_max": 4}))
        result = SCENARIOS[scenario](card, at={"D": 0.8}, device="cpu", seed=0)
        assert result.agrees and result.verdicts[0].agrees is True
        assert result.data["n"] == [1, 2, 3, 4]
        assert np.allclose(result.data["instance"], result.data["claimed"], rtol=1e-12, atol=0)
        panel = result.panels[0]
        assert panel.title == "PEP value vs n" and panel.logx and panel.logy
        if _has_pepit():
            assert result.data["pep_n"] == [1, 2, 4]
            claimed = [result.data["claimed"][n - 1] for n in result.data["pep_n"]]
            pep = result.data["pep"]["PEP, card's schedule"]
            assert np.allclose(pep, claimed, rtol=0, atol=1e-6)
            if card_id.startswith("subgradient"):
                flat = result.data["pep"]["PEP, constant step D/(M sqrt(n+1))"]
                assert all(f > c + 1e-3 for f, c in zip(flat, claimed))
