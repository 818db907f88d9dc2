"""Contract: every claim of every card passes its independent numeric checks, and the Schur
crossing property holds on hypothesis-drawn points inside each card's assumptions."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import examples
from strategies import eigenvalues, momentum, sam_radius
from numerics import check, spectral_radius
from numerics._spectral import matrix_of
from numerics._evaluate import claim_value
from theory import Observed, Threshold, catalogue

CARDS = catalogue()
CLAIMS = [(c, k) for c in CARDS for k in c.claims if not isinstance(k, Observed)]
THRESHOLDS = [(c, k) for c, k in CLAIMS if isinstance(k, Threshold)]


# conjectures the numeric checks refute, by the claims that must fail (each with a shrunk counterexample);
# every other card's checks must all pass, and a listed conjecture that stops failing fails here too
REFUTED = {"linear_transformer.one_layer.isotropic_formula_inverse_prior": {"isotropic_formula_is_optimal"}}


def _needs_pepit(card) -> bool:
    """A worst-case claim's SDP route needs the optional PEPit peer (``optverify[peers]``)."""
    if not any(k.kind == "worst_case" for k in card.claims):
        return False
    try:
        import PEPit  # noqa: F401
        import cvxpy  # noqa: F401
    except ImportError:
        return True
    return False


@pytest.mark.parametrize("card", CARDS, ids=lambda c: c.id)
def test_every_check_passes(card):
    if _needs_pepit(card):
        pytest.skip("PEPit/cvxpy not installed (pip install 'optverify[peers]'): the SDP route is inconclusive")
    report = check(card, examples=examples(), seed=0)
    failed = [c for c in report.checks if c.passed is False]
    if card.id in REFUTED:
        assert card.status == "conjecture"
        assert {c.claim for c in failed} == REFUTED[card.id], [(c.claim, c.name, c.detail) for c in failed]
        assert all(c.counterexample and c.counterexample.get("shrunk") and not c.inconclusive for c in failed)
        return
    assert not failed, "\n".join(f"{c.claim}:{c.name}: {c.detail}" for c in failed)
    for claim in card.claims:
        if isinstance(claim, Threshold):
            # per claim: another claim's passing check never stands in for this one's
            ran = {c.name for c in report.checks if c.passed and c.claim == claim.name}
            missing = {"symbolic", "random_points", "spectral_crossing", "mpmath_root"} - ran
            assert not missing, f"{claim.name}: no passing {sorted(missing)}"


@pytest.mark.parametrize(("card", "claim"), THRESHOLDS, ids=lambda x: getattr(x, "id", getattr(x, "name", "")))
@given(data=st.data())
def test_spectral_radius_crosses_one_at_the_claim(card, claim, data):
    from numerics import points
    syms = [s for s in card.symbols if s in (matrix_of(card).free_symbols | claim.value.free_symbols)
            and s != claim.param]
    p = data.draw(points(card, syms))
    v = claim_value(card, claim, p)
    assert spectral_radius(card, claim.param, 0.98 * v, p) < 1 < spectral_radius(card, claim.param, 1.02 * v, p)


@pytest.mark.parametrize(("card", "claim"), THRESHOLDS, ids=lambda x: getattr(x, "id", getattr(x, "name", "")))
def test_spectrum_gives_the_minimum_over_eigenvalues(card, claim):
    from numerics import evaluate
    if card.eigenvalue is None:
        pytest.skip("no eigenvalue symbol")
    sim = card.simulation
    at = {s.name: v for s, v in sim.at.items()}
    spectrum = [3.0, 0.5, 1.25]
    whole = evaluate(card, {**at, "spectrum": spectrum})[claim.name]
    each = [evaluate(card, {**at, card.eigenvalue.name: lam})[claim.name] for lam in spectrum]
    assert whole == min(each)


SPECTRAL = [(c, k) for c, k in THRESHOLDS if c.eigenvalue is not None and c.eigenvalue in k.value.free_symbols]


@pytest.mark.parametrize(("card", "claim"), SPECTRAL, ids=lambda x: getattr(x, "id", getattr(x, "name", "")))
@given(data=st.data())
def test_whole_spectrum_threshold_is_where_the_first_mode_goes_unstable(card, claim, data):
    """eta*(spectrum) = min_i eta*(lambda_i): every mode is stable at 0.99x, some mode unstable at 1.01x."""
    from numerics import evaluate, points
    from strategies import spectra
    spectrum = data.draw(spectra(max_dim=6, max_condition=1e4))
    others = [s for s in card.symbols if s in claim.value.free_symbols and s not in (card.eigenvalue, claim.param)]
    p = data.draw(points(card, others)) if others else {}
    v = evaluate(card, {**{s.name: val for s, val in p.items()}, "spectrum": spectrum})[claim.name]
    radius = lambda eta: max(spectral_radius(card, claim.param, eta, {**p, card.eigenvalue: lam})  # noqa: E731
                             for lam in spectrum)
    assert radius(0.99 * v) < 1 < radius(1.01 * v)


@given(lam=eigenvalues, beta=momentum)
def test_nesterov_never_tolerates_a_larger_step_than_heavy_ball(lam, beta):
    from numerics import evaluate
    hb = evaluate(catalogue_by_id("heavy_ball.quadratic.critical_step"), {"lambda": lam, "beta": beta})["eta_crit"]
    nag = evaluate(catalogue_by_id("nesterov.quadratic.critical_step"), {"lambda": lam, "beta": beta})["eta_crit"]
    assert nag <= hb * (1 + 1e-15)


@given(lam=eigenvalues, rho=sam_radius)
def test_usam_threshold_is_below_gd(lam, rho):
    from numerics import evaluate
    gd = evaluate(catalogue_by_id("gd.quadratic.critical_step"), {"lambda": lam})["eta_crit"]
    usam = evaluate(catalogue_by_id("usam.quadratic.critical_step"), {"lambda": lam, "rho": rho})["eta_crit"]
    assert usam < gd


def catalogue_by_id(card_id):
    from theory import get
    return get(card_id)
