"""Assertions that a guard or a certificate bites, shared by the tests that state them
(test_engine_linear, test_evidence) and by tests/test_guards_mutation.py, which plants each
bug in-process and requires the same assertion to fail. Every module attribute a mutant may
replace is looked up when the assertion runs, never bound at import."""
from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp

from theory import DerivationError, Relation, Threshold, catalogue
from theory._card import Card, Source

ETA, LAM, MU = sp.symbols("eta lambda mu", positive=True)


# -- the piecewise guard of the Schur-Cohn engine (theory/derive/linear.py) ----------------------

def assert_piecewise_guard() -> None:
    """diag(1 - eta lambda, 1 - eta mu): eta* = 2 / max(lambda, mu) is piecewise over lambda, mu > 0;
    the engine must say so (not return one branch), and each side alone is a plain threshold."""
    from theory.derive import linear
    m = sp.diag(1 - ETA * LAM, 1 - ETA * MU)
    with pytest.raises(DerivationError, match="piecewise") as err:
        linear.critical_threshold(m, ETA, others=[LAM, MU])
    assert "2/lambda" in str(err.value) and "2/mu" in str(err.value), err.value
    assert linear.critical_threshold(m, ETA, others=[LAM, MU], assumptions=[LAM > MU]).value == 2 / LAM
    assert linear.critical_threshold(m, ETA, others=[LAM, MU], assumptions=[MU > LAM]).value == 2 / MU


# -- which root crosses the unit circle first --------------------------------------------------

def _crossing_root(matrix: sp.Matrix, param: sp.Symbol, value: sp.Expr, point: dict) -> complex:
    """The eigenvalue of largest modulus just above the threshold (numpy, independent of the engine)."""
    v = float(sp.S(value).subs(point))
    f = sp.lambdify(param, matrix.subs(point), "numpy")
    eig = np.linalg.eigvals(np.array(f(v * (1 + 1e-7)), dtype=float))
    return complex(eig[np.argmax(np.abs(eig))])


def _label_of(root: complex) -> str:
    if abs(root.imag) > 1e-6:
        return "|z|=1 (complex pair)"
    return "z=-1" if root.real < 0 else "z=1"


def assert_boundary_labels() -> None:
    """The engine's ``boundary`` names the root numpy sees leave the unit circle: GD's mode crosses
    z = -1, 1 - eta + eta^2 crosses z = +1, and every catalogue threshold card agrees with numpy."""
    from theory.derive import iteration_matrix, linear
    from theory._assume import sample_points
    gd = linear.critical_threshold(sp.Matrix([[1 - ETA * LAM]]), ETA, others=[LAM])
    assert (gd.value, gd.boundary) == (2 / LAM, "z=-1")
    up = linear.critical_threshold(sp.Matrix([[1 - ETA + ETA**2]]), ETA, others=[])
    assert (up.value, up.boundary) == (1, "z=1")
    seen = set()
    for card in catalogue():
        for claim in card.claims:
            if not isinstance(claim, Threshold):
                continue
            matrix = iteration_matrix(card.state, card.mode_update, card.branch)
            others = [s for s in card.symbols if s in matrix.free_symbols and s != claim.param]
            assumptions = [a for a in card.assumptions if a.free_symbols <= set(others)]
            res = linear.critical_threshold(matrix, claim.param, others=others, assumptions=assumptions,
                                            sample=dict(card.sample))
            point = sample_points(others, assumptions, count=1, seed=0, override=card.sample)[0]
            point = {s: float(v) for s, v in point.items()}
            want = _label_of(_crossing_root(matrix, claim.param, res.value, point))
            assert res.boundary == want, f"{card.id}: engine says {res.boundary}, numpy sees {want} at {point}"
            seen.add(res.boundary)
    assert "z=-1" in seen  # the catalogue exercises at least the label GD's cards print


def assert_show_labels() -> None:
    """What ``show`` prints for GD (its mode crosses z = -1) and for heavy ball (also z = -1)."""
    from optverify.render import show
    from theory import get
    for card_id in ("gd.quadratic.critical_step", "heavy_ball.quadratic.critical_step"):
        assert "first boundary crossed: z=-1" in show(get(card_id)), card_id


# -- the mean-square constant-term guard (theory/derive/mean_square.py) --------------------------

def assert_constant_term_guard() -> None:
    """A ZO update with a constant term (x - eta g + c) is not a linear map: refused, by name."""
    from theory.derive import mean_square
    x = sp.Symbol("x", real=True)
    g, c = sp.symbols("g c", real=True)
    fine = mean_square.mode_operator([x], [x - ETA * g], g, x, LAM, directions="gaussian")
    assert fine.D.shape == (1, 1)
    for update, at in (([x - ETA * g + 1], x), ([x - ETA * g + c * ETA], x), ([x - ETA * g], x + c)):
        with pytest.raises(DerivationError, match="constant term"):
            mean_square.mode_operator([x], update, g, at, LAM, directions="gaussian")


# -- the max-margin KKT certificate (numerics/_implicit_bias.py) ---------------------------------

def _separable(seed: int = 0, n: int = 12, d: int = 3):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = np.sign(X @ rng.normal(size=d))
    return y[:, None] * X


def assert_kkt_stationarity_bites() -> None:
    """At the solution every residual is ~0; moving w or alpha off it makes the stationarity residual
    M w - Z^T alpha exceed 1e-6 (the certificate is not vacuous)."""
    from numerics import _implicit_bias as ib
    for seed, metric in ((0, np.ones(3)), (1, np.array([0.5, 2.0, 3.0]))):
        Z = _separable(seed)
        w, alpha = ib._quadratic(Z, metric)
        at = ib._kkt_quadratic(Z, w, alpha, metric)
        assert max(at.values()) < 1e-9, at
        assert np.count_nonzero(alpha) >= 1
        moved_w = ib._kkt_quadratic(Z, w * (1 + 1e-3), alpha, metric)
        assert moved_w["stationarity"] > 1e-6, moved_w
        assert moved_w["primal_feasibility"] == 0.0  # a feasible w: only stationarity can notice
        nudged = alpha.copy()
        nudged[np.argmax(alpha)] *= 1.01
        moved_alpha = ib._kkt_quadratic(Z, w, nudged, metric)
        assert moved_alpha["stationarity"] > 1e-6, moved_alpha


# -- no pass without evidence (numerics/_check.py) -----------------------------------------------

def vacuous_card() -> Card:
    """A false relation (q + a + b <= -1 with q, a, b >= 0) under impossible assumptions (a > b + 1 > a + 2)."""
    q, a, b = sp.symbols("q a b", nonnegative=True)
    return Card(id="test.vacuous", title="a false relation under impossible assumptions", symbols=(q, a, b),
                claims=(Relation("never", q + a + b, "<=", -1),), source=Source("test"),
                assumptions=(a > b + 1, b > a + 1))


def assert_unsatisfiable_is_not_a_pass() -> None:
    from numerics import _check
    report = _check.check(vacuous_card(), examples=50, seed=0)
    (c,) = report.checks
    assert c.passed is False and c.inconclusive and c.examples == 0, c
    assert not report.passed
    assert c.to_json()["examples"] == 0 and c.to_json()["route"] == "model_quantities"


def assert_too_few_examples_is_not_a_pass() -> None:
    """Fewer valid examples than the minimum: the search reports how many it ran and the check is
    inconclusive; a strategy declared finite and exhausted, or the full count, is a pass."""
    from hypothesis import strategies as st

    from numerics import _check
    few = st.integers(0, 3)  # four distinct examples: hypothesis runs out of new ones long before 100
    search = _check._search(few, lambda v: False, 100, 0)
    assert search.found is None and 0 < search.valid <= 10 < search.minimum, search
    r = _check._no_counterexample("x", "test_route", search, "c", "held")
    assert r.passed is False and r.inconclusive and r.examples == search.valid, r
    exhausted = _check._search(few, lambda v: False, 100, 0, space=4)
    assert _check._no_counterexample("x", "test_route", exhausted, "c", "held").passed is True
    rare = st.floats(0.0, 1.0).filter(lambda v: math.sin(1e6 * v) > 0.9999)  # ~0.5 % of draws pass the filter
    search = _check._search(rare, lambda v: False, 100, 0)
    assert search.valid < search.minimum, search
    assert _check._no_counterexample("x", "test_route", search, "c", "held").passed is False
    full = _check.Search(None, 100, 100)
    r = _check._no_counterexample("x", "test_route", full, "c", "held")
    assert r.passed is True and r.examples == 100 and "at 100 hypothesis points" in r.detail
