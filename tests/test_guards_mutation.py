"""Mutants of the guards and certificates (issue 19), kept as tests: each plants one bug in-process
(monkeypatching the function that implements the guard) and requires the assertion that states the
guard (tests/guard_checks.py, used by the real tests) to fail. The suite must not survive any of them.
Derivation caches are off here, so no mutant's result is stored or read."""
from __future__ import annotations

import math
import random

import pytest

import guard_checks
import theory.derive
from theory.derive import linear, mean_square

CAUGHT = (AssertionError, pytest.fail.Exception)


@pytest.fixture(autouse=True)
def no_derive_cache(monkeypatch):
    monkeypatch.setenv("OPTVERIFY_CACHE", "off")
    monkeypatch.setattr(theory.derive, "_CACHE", {})


def test_piecewise_guard_disabled_is_caught(monkeypatch):
    monkeypatch.setattr(linear, "_same", lambda a, b: True)   # every branch "equals" the first one
    with pytest.raises(CAUGHT):
        guard_checks.assert_piecewise_guard()


def test_boundary_labels_swapped_are_caught(monkeypatch):
    original = linear._classify_boundary
    swap = {"z=-1": "z=1", "z=1": "z=-1"}
    monkeypatch.setattr(linear, "_classify_boundary", lambda *a: (lambda b: swap.get(b, b))(original(*a)))
    with pytest.raises(CAUGHT):
        guard_checks.assert_boundary_labels()


def test_boundary_labels_swapped_are_caught_in_show(monkeypatch):
    original = linear._classify_boundary
    swap = {"z=-1": "z=1", "z=1": "z=-1"}
    monkeypatch.setattr(linear, "_classify_boundary", lambda *a: (lambda b: swap.get(b, b))(original(*a)))
    with pytest.raises(CAUGHT):
        guard_checks.assert_show_labels()


def test_mean_square_constant_term_guard_disabled_is_caught(monkeypatch):
    monkeypatch.setattr(mean_square, "_constant_terms", lambda *a: [])
    with pytest.raises(CAUGHT):
        guard_checks.assert_constant_term_guard()


def test_kkt_stationarity_residual_zeroed_is_caught(monkeypatch):
    from numerics import _implicit_bias as ib
    original = ib._kkt_quadratic
    monkeypatch.setattr(ib, "_kkt_quadratic", lambda *a: {**original(*a), "stationarity": 0.0})
    with pytest.raises(CAUGHT):
        guard_checks.assert_kkt_stationarity_bites()


def test_unsatisfiable_taken_as_a_pass_is_caught(monkeypatch):
    """The old _search: Unsatisfiable read as 'no counterexample', the asked-for count reported as run."""
    from hypothesis import find
    from hypothesis.errors import NoSuchExample, Unsatisfiable

    from numerics import _check

    def old_search(strategy, fails, examples, seed, space=math.inf):
        try:
            found = find(strategy, fails, settings=_check._settings(examples), random=random.Random(seed))
        except (NoSuchExample, Unsatisfiable):
            found = None
        return _check.Search(found, examples, examples, space=space)

    monkeypatch.setattr(_check, "_search", old_search)
    with pytest.raises(CAUGHT):
        guard_checks.assert_unsatisfiable_is_not_a_pass()
    with pytest.raises(CAUGHT):
        guard_checks.assert_too_few_examples_is_not_a_pass()


def test_minimum_of_valid_examples_ignored_is_caught(monkeypatch):
    from numerics import _check
    monkeypatch.setattr(_check, "MIN_VALID_FRACTION", 0.0)   # one valid example would do
    with pytest.raises(CAUGHT):
        guard_checks.assert_too_few_examples_is_not_a_pass()

