"""No check passes without evidence: an unsatisfiable filter or too few valid examples is not a pass;
every check names its route and how many valid examples it ran (``check --json``, text, ``show``);
the guards and certificates the engines rely on bite (issue 19)."""
from __future__ import annotations

import json

import pytest

from guard_checks import (assert_constant_term_guard, assert_kkt_stationarity_bites,
                          assert_too_few_examples_is_not_a_pass, assert_unsatisfiable_is_not_a_pass, vacuous_card)
from numerics import CheckResult, check
from optverify.cli import main
from optverify.render import report_text


def test_a_false_relation_under_impossible_assumptions_is_not_a_pass():
    """Before: 'passed at 50 hypothesis points' (hypothesis' Unsatisfiable taken for 'no counterexample')."""
    assert_unsatisfiable_is_not_a_pass()


def test_the_vacuous_card_is_reported_inconclusive_in_text():
    text = report_text(check(vacuous_card(), examples=20, seed=0))
    assert text.startswith("INCONCLUSIVE  test.vacuous  (0/1 checks passed)")
    assert "inconclusive" in text and "0 examples" in text and "route model_quantities" in text


def test_conjecture_on_an_impossible_rule_says_inconclusive():
    from optverify.cli import _verdict
    assert _verdict(check(vacuous_card(), examples=20, seed=0)) == "INCONCLUSIVE"


def test_too_few_valid_examples_is_not_a_pass():
    assert_too_few_examples_is_not_a_pass()


def test_an_inconclusive_result_cannot_be_a_pass():
    with pytest.raises(ValueError, match="not a pass"):
        CheckResult("x", True, "held", inconclusive=True)


def test_a_card_without_free_parameters_is_exhausted_not_inconclusive():
    """A claim with no free parameter has one point: evaluating it is the whole search space."""
    from theory import get
    report = check(get("rlhf_dpo.policy_misspecified"), examples=50, seed=0)
    (c,) = [c for c in report.checks if c.claim == "critical_beta" and c.name == "hypothesis_agreement"]
    assert c.passed is True and c.examples == 1 and not c.inconclusive


def test_check_json_gives_route_and_examples_per_check(capsys):
    assert main(["check", "heavy_ball.quadratic.critical_step", "--json", "--examples", "30", "--no-simulate"]) == 0
    (report,) = json.loads(capsys.readouterr().out)
    checks = {c["name"]: c for c in report["checks"]}
    assert all({"name", "passed", "detail", "route", "examples"} <= set(c) for c in checks.values())
    assert {n: (c["route"], c["examples"]) for n, c in checks.items()} == {
        "eta_crit:symbolic": ("symbolic", None),
        "eta_crit:random_points": ("random_points", 8),
        "eta_crit:spectral_crossing": ("hypothesis_spectral", 30),
        "eta_crit:mpmath_root": ("mpmath_root", 4)}
    assert "at 30 hypothesis points" in checks["eta_crit:spectral_crossing"]["detail"]


def test_every_catalogue_hypothesis_check_counts_its_examples():
    """Mean-square (spectra), bound and relation routes report the valid examples they ran."""
    from theory import get
    report = check(get("zo_gd.quadratic.ms_bounds"), examples=20, seed=0)
    assert report.passed
    by_route = {}
    for c in report.checks:
        by_route.setdefault(c.route_label, []).append(c.examples)
    assert by_route["hypothesis_exact_operator"] and all(n == 20 for n in by_route["hypothesis_exact_operator"])
    assert all(isinstance(n, int) and n > 0 for n in by_route["random_points"] + by_route["mpmath_root"])
    assert by_route["symbolic"] and all(n is None for n in by_route["symbolic"])


def test_verbose_text_names_each_route(capsys):
    assert main(["check", "gd.quadratic.critical_step", "--verbose", "--examples", "20", "--no-simulate"]) == 0
    out = capsys.readouterr().out
    assert "eta_crit:spectral_crossing (route hypothesis_spectral, 20 examples):" in out
    assert "eta_crit:symbolic (route symbolic):" in out


def test_mean_square_constant_term_is_refused():
    assert_constant_term_guard()


def test_max_margin_kkt_stationarity_residual_bites():
    assert_kkt_stationarity_bites()
