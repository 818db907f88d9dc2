"""Mutation tests: perturb each constant of every threshold claim; the suite must refute the
mutant with a concrete, shrunk counterexample, and accept the card's own formula."""
from __future__ import annotations

from dataclasses import replace

import pytest
import sympy as sp

from numerics import check, with_claim
from optverify.cli import main
from theory import Relation, Threshold, catalogue

THRESHOLDS = [(c, k) for c in catalogue() for k in c.claims if isinstance(k, Threshold)]


def mutants(expr: sp.Expr) -> list[sp.Expr]:
    """One mutant per numeric atom: the atom n becomes n + 1 (exponents included)."""
    out = []
    for atom in sorted(expr.atoms(sp.Number), key=sp.default_sort_key):
        mutant = expr.xreplace({atom: atom + 1})
        if sp.simplify(mutant - expr) != 0:
            out.append(mutant)
    scaled = expr * sp.Rational(101, 100)  # a 1 % error must be caught as well
    return out + [scaled]


@pytest.mark.parametrize(("card", "claim"), THRESHOLDS, ids=lambda x: getattr(x, "id", getattr(x, "name", "")))
def test_every_mutant_is_refuted_with_a_counterexample(card, claim):
    found = mutants(claim.value)
    assert found
    for mutant in found:
        report = check(with_claim(card, claim.name, mutant), examples=100, seed=0)
        assert not report.passed, f"mutant {mutant} of {claim.value} was not caught"
        ce = report.counterexample
        assert ce is not None and ce.get("shrunk"), f"no shrunk counterexample for {mutant}"
        assert set(ce["at"]) <= {s.name for s in card.symbols}


def test_cli_refutes_a_wrong_claim_and_accepts_the_right_one(capsys):
    assert main(["check", "heavy_ball.quadratic.critical_step", "--claim", "eta_crit=2*(1+2*beta)/lambda",
                 "--no-simulate"]) == 1
    out = capsys.readouterr().out
    assert "REFUTED" in out and "counterexample (shrunk)" in out
    assert main(["check", "heavy_ball.quadratic.critical_step", "--claim", "eta_crit=2*(1+beta)/lambda",
                 "--no-simulate"]) == 0


@pytest.mark.parametrize(("card", "claim"), THRESHOLDS, ids=lambda x: getattr(x, "id", getattr(x, "name", "")))
def test_the_claim_written_by_hand_passes(card, claim):
    text = f"{claim.name}={sp.sstr(claim.value)}".replace("**", "^")
    assert main(["check", card.id, "--claim", text, "--no-simulate", "--examples", "50"]) == 0


# -- relations over numeric models: the check bites ----------------------------------------------

RELATIONS = [(c, k) for c in catalogue() for k in c.claims if isinstance(k, Relation)]
NEGATION = {"<=": ">", ">=": "<", "<": ">=", ">": "<="}


def _only(card, claim):
    return replace(card, claims=(claim,))


@pytest.mark.parametrize(("card", "claim"), [(c, k) for c, k in RELATIONS if k.relation == "=="
                                             and not k.rhs.is_zero],
                         ids=lambda x: getattr(x, "id", getattr(x, "name", "")))
def test_an_equality_relation_catches_a_one_percent_error(card, claim):
    mutant = replace(claim, rhs=claim.rhs * sp.Rational(101, 100))
    report = check(_only(card, mutant), examples=20, seed=0)
    assert not report.passed and report.counterexample is not None, f"{mutant.rhs} was not caught"


@pytest.mark.parametrize(("card", "claim"), [(c, k) for c, k in RELATIONS if k.relation in NEGATION],
                         ids=lambda x: getattr(x, "id", getattr(x, "name", "")))
def test_the_negated_inequality_is_refuted(card, claim):
    """Not vacuous: where the claim holds, its negation must fail at a concrete point."""
    mutant = replace(claim, relation=NEGATION[claim.relation])  # same tolerance: the complement of the claim
    report = check(_only(card, mutant), examples=20, seed=0)
    assert not report.passed and report.counterexample is not None
