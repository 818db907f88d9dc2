"""Implicit bias: max-margin solvers (KKT certificates, independent solvers, hold-out data), the per-sample
Adam dual fixed point, the exact identities' derivations, and the margin simulations."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import examples
from numerics import adam_fixed_point, check, max_margin
from numerics._implicit_bias import (gr_metric, linf_margin_by_dual_lp, margin_by_slsqp, margin_by_svc,
                                     normalised_margin, planted_data)
from theory import InputError, get
from theory.cards.implicit_bias_separable import G43, GR84

IDS = ("adam.ftrl_identity", "adam_proxy.separable.update_direction", "logistic_gd.large_step.perceptron_limit",
       "adam_full_batch.separable.linf_max_margin", "signum.separable.linf_max_margin",
       "adam_incremental.separable.fixed_point_margin", "adam_incremental.gr_data.l2_max_margin")


def _data(d):
    return np.array(d["X"], dtype=float), np.array(d["y"], dtype=float)


seeds = st.integers(0, 2**32 - 1)


@settings(max_examples=max(10, examples() // 4), deadline=None)
@given(seeds, st.integers(2, 8), st.integers(2, 8))
def test_l2_and_mahalanobis_margins_agree_with_svc_and_slsqp(seed, n, d):
    rng = np.random.default_rng(seed)
    X, y = planted_data(rng, n, d)
    res = max_margin(X, y, "l2")
    assert res.kkt_residual <= 1e-9
    metric = rng.uniform(0.2, 5.0, size=d)
    mm = max_margin(X, y, "l2", metric=metric)
    assert mm.kkt_residual <= 1e-9
    for m, ours in ((None, res.margin), (metric, mm.margin)):
        assert abs(margin_by_slsqp(X, y, m) - ours) <= 1e-6 * ours
        # libsvm's SMO (SVC, C = 1e10, tol 1e-12) ends ~1e-6 short of the optimum on some instances: its
        # separator is feasible, so it can never beat the optimum, and it comes within 1e-5 of it
        svc = margin_by_svc(X, y, m)
        assert ours * (1 - 1e-5) <= svc <= ours * (1 + 1e-12)
    # the returned direction attains the returned margin in its own geometry
    assert normalised_margin(X, y, mm.direction, "l2", metric) == pytest.approx(mm.margin, rel=1e-9)


@settings(max_examples=max(10, examples() // 4), deadline=None)
@given(seeds, st.integers(2, 8), st.integers(2, 8))
def test_linf_margin_agrees_with_the_dual_lp(seed, n, d):
    X, y = planted_data(np.random.default_rng(seed), n, d)
    res = max_margin(X, y, "linf")
    assert res.kkt_residual <= 1e-9
    # normalised margins, never directions (the l_inf optimum need not be unique)
    assert abs(linf_margin_by_dual_lp(X, y) - res.margin) <= 1e-6 * res.margin
    assert normalised_margin(X, y, res.direction, "linf") == pytest.approx(res.margin, rel=1e-9)
    assert res.margin >= max_margin(X, y, "l2").margin * (1 - 1e-9)   # |w|_inf <= |w|_2


def test_hold_out_family_matches_independent_solvers():
    """A family not used while writing the solvers: heavy-tailed rows, unbalanced labels, tiny margins,
    duplicated and scaled points, N >> d."""
    rng = np.random.default_rng(20260501)
    worst = 0.0
    for k in range(12):
        n, d = int(rng.integers(10, 30)), int(rng.integers(2, 5))
        u = rng.standard_t(3, size=d)
        X = rng.standard_t(3, size=(n, d)) * rng.uniform(0.1, 10, size=d)
        y = np.where(X @ u > 0, 1.0, -1.0)
        X = X + 1e-3 * (k + 1) * y[:, None] * u / np.linalg.norm(u)
        X = np.vstack([X, 3.0 * X[:2]])
        y = np.concatenate([y, y[:2]])
        for norm, other in (("l2", margin_by_slsqp(X, y)), ("linf", linf_margin_by_dual_lp(X, y))):
            got = max_margin(X, y, norm).margin
            worst = max(worst, abs(got - other) / other)
        # SVC (libsvm's SMO) stops early on these: its separator is feasible, so its margin cannot beat ours
        assert margin_by_svc(X, y) <= max_margin(X, y, "l2").margin * (1 + 1e-12)
    assert worst <= 1e-6


def test_notes_datasets_margins_and_fixed_point():
    X, y = _data(GR84)
    # comparison targets from the research notes (theorems-preference-bias-sf.md 2.6; c_i rounded to 4 digits)
    assert max_margin(X, y, "l2").margin == pytest.approx(3.27892, rel=1e-4)
    assert max_margin(X, y, "linf").margin == pytest.approx(7.51724, rel=1e-4)
    fp = adam_fixed_point(X, y)
    assert fp.converged and np.ptp(fp.metric) <= 1e-12 * fp.metric.max()
    X, y = _data(G43)
    fp = adam_fixed_point(X, y)
    assert fp.converged and fp.residual <= 1e-12
    assert np.allclose(fp.lam, [0.0053, 0.6019, 0.0, 0.3929], atol=1e-4)          # notes' lambda
    assert np.allclose(fp.metric, [0.1416, 0.1862, 0.7663, 0.7913, 0.8377, 0.1616], atol=1e-4)
    lam = fp.lam
    # the metric by hand, coordinate by coordinate: M_k = (sum_i lambda_i^2 x_ik^2)^(1/2)
    by_hand = [math.sqrt(math.fsum((lam[i] * X[i, k]) ** 2 for i in range(len(lam)))) for k in range(X.shape[1])]
    np.testing.assert_allclose(fp.metric, by_hand, rtol=1e-13)
    np.testing.assert_allclose(gr_metric(X, lam), by_hand, rtol=1e-13)
    # the limit direction is the Mahalanobis optimum at its own metric and neither l2 nor l_inf
    mm = max_margin(X, y, "l2", metric=fp.metric)
    assert fp.margin == pytest.approx(mm.margin, rel=1e-9)
    assert normalised_margin(X, y, fp.direction, "l2") / max_margin(X, y, "l2").margin == pytest.approx(0.8014, abs=1e-4)
    assert normalised_margin(X, y, fp.direction, "linf") / max_margin(X, y, "linf").margin == pytest.approx(0.6374,
                                                                                                        abs=2e-4)


def test_non_convergence_is_a_result_not_an_error():
    X, y = _data(G43)
    fp = adam_fixed_point(X, y, max_iter=2, adaptive=False)
    assert not fp.converged and fp.iterations == 2 and fp.residual > 0


@pytest.mark.parametrize("X, y, match", [
    ([[1.0, 0.0], [1.0, 0.0]], [1, -1], "not linearly separable"),
    ([[0.0, 0.0]], [1], "not linearly separable"),
    ([[1.0, float("nan")]], [1], "finite"),
    ([[1.0, 2.0]], [1, 1], "one label per row"),
    ([[1.0, 2.0]], [0.5], r"\+1 or -1"),
    ([1.0, 2.0], [1], "N x d"),
])
def test_misuse_is_a_one_line_input_error(X, y, match):
    with pytest.raises(InputError, match=match) as info:
        max_margin(X, y)
    assert "\n" not in str(info.value)
    with pytest.raises(InputError):
        adam_fixed_point(X, y)


def test_bad_norm_and_metric():
    X, y = _data(G43)
    with pytest.raises(InputError, match="norm"):
        max_margin(X, y, "l1")
    with pytest.raises(InputError, match="metric"):
        max_margin(X, y, "l2", metric=[1.0, -1.0, 1, 1, 1, 1])
    with pytest.raises(InputError, match="metric"):
        max_margin(X, y, "linf", metric=[1.0] * 6)


def test_eval_rejects_non_separable_override():
    from numerics._evaluate import evaluate
    card = get("adam_full_batch.separable.linf_max_margin")
    with pytest.raises(InputError, match="separable"):
        evaluate(card, {"eta0": 0.1, "beta1": 0.9, "beta2": 0.9, "X": [[1.0, 0.0], [1.0, 0.0]], "y": [1, -1]})


@pytest.mark.parametrize("card_id", IDS[:3])
def test_identity_cards_verify(card_id):
    report = check(get(card_id), examples=min(examples(), 50))
    assert report.passed, [c for c in report.checks if c.passed is False]
    names = {c.name for c in report.checks}
    assert {"symbolic", "random_points", "hypothesis_agreement"} <= names and len(names) >= 4


def test_ftrl_identity_is_refuted_when_the_rate_is_wrong():
    import sympy as sp

    from numerics import with_claim
    card = get("adam.ftrl_identity")
    wrong = with_claim(card, "ftrl_step", card.claim("ftrl_step").value * sp.sqrt(card.symbol("beta2")))
    assert not check(wrong, examples=20).passed


def test_gr_metric_route_compares_with_the_claim():
    """The identity's numeric route evaluates the CLAIMED metric: a doubled (or squared) claim fails it."""
    import sympy as sp

    from numerics._check import check_claim
    from numerics import with_claim
    card = get("adam_incremental.gr_data.l2_max_margin")
    claim = card.claim("metric_is_isotropic")

    def route(c):
        return {r.name: r for r in check_claim(c, c.claim("metric_is_isotropic"), examples=10)}

    good = route(card)
    assert good["gr_metric_value"].passed is True and good["gr_fixed_point_is_l2"].passed is True
    for wrong_value in (2 * claim.value, claim.value ** 2, claim.value * (1 + sp.Rational(1, 10**6))):
        bad = route(with_claim(card, "metric_is_isotropic", wrong_value))
        assert bad["gr_metric_value"].passed is False, wrong_value
        assert "!= M(lambda)_k" in bad["gr_metric_value"].detail


def test_gr_reduction_refused_on_non_gr_metric():
    import sympy as sp

    from theory.derive import DERIVATIONS
    from theory import DerivationError, Identity
    card = get("adam_incremental.gr_data.l2_max_margin")
    claim = card.claim("metric_is_isotropic")
    assert DERIVATIONS["gr_metric_isotropic"](card, claim).value.free_symbols <= set(card.symbols)
    bad = Identity("x", sp.Integer(1), "gr_metric_isotropic", arguments={"weights": (1,), "scales": (1, 2), "dims": 2})
    with pytest.raises(DerivationError):
        DERIVATIONS["gr_metric_isotropic"](card, bad)


@pytest.mark.parametrize("card_id", IDS[3:])
def test_margin_cards_relations_verify(card_id):
    from numerics._check import check_claim
    from theory import Relation
    card = get(card_id)
    for claim in card.claims:
        if isinstance(claim, Relation):
            results = check_claim(card, claim, examples=min(examples(), 30))
            assert all(r.passed for r in results), results


def test_simulation_reproduces_the_pattern_on_gr84():
    """Short runs: incremental Adam -> l2 on GR data, full-batch Adam -> l_inf."""
    pytest.importorskip("torch")
    from gpu_validation import simulate
    inc = simulate(get("adam_incremental.gr_data.l2_max_margin"), device="cpu", steps=3000)
    full = simulate(get("adam_full_batch.separable.linf_max_margin"), device="cpu", steps=3000)
    r_inc, r_full = inc.data["ratios"]["inc_adam"], full.data["ratios"]["full_adam"]
    assert r_inc["l2"][-1] >= 0.95 and r_inc["linf"][-1] <= 0.6
    assert r_full["linf"][-1] >= 0.95 and r_full["linf"][-1] > r_full["l2"][-1] + 0.05
    assert inc.agrees and full.agrees and inc.panels and inc.lines


def test_simulation_fixed_point_on_generic_data_and_bad_bindings():
    pytest.importorskip("torch")
    from gpu_validation import simulate
    card = get("adam_incremental.separable.fixed_point_margin")
    res = simulate(card, device="cpu", steps=20000)
    for alg in ("inc_adam", "adam_proxy"):
        r = res.data["ratios"][alg]
        assert r["fixed_point"][-1] >= 0.95 and r["l2"][-1] < 0.85 and r["linf"][-1] < 0.7
    with pytest.raises(InputError):
        simulate(card, device="cpu", at={"nope": 1.0})
    with pytest.raises(InputError, match="separable"):
        simulate(card, device="cpu", at={"X": [[1.0, 0.0], [1.0, 0.0]], "y": [1, -1]})


def test_fixed_point_routes_share_no_code_and_agree():
    """The model's independent route finds the fixed point itself: with adam_fixed_point, the NNLS dual
    solver and gr_metric all disabled it still runs, and its gamma_fp equals the damped iteration's on
    random generic and GR instances, degenerate fixed points (weight 0 on some samples) included."""
    from numerics import _implicit_bias as ib

    rng = np.random.default_rng(20260502)
    cases = [planted_data(np.random.default_rng(int(s)), int(n), int(d), gr=bool(k % 3 == 0))
             for k, (s, n, d) in enumerate(zip(rng.integers(0, 2**32 - 1, 24), rng.integers(2, 7, 24),
                                               rng.integers(2, 7, 24)))]
    cases.append(_data(G43))
    expected = [ib._geometries({}, {"X": X.tolist(), "y": y.tolist()}) for X, y in cases]
    assert any(np.min(adam_fixed_point(X, y).lam) == 0 for X, y in cases)   # degenerate fixed points occur

    def disabled(*_a, **_k):
        raise AssertionError("the independent route used the main route's code")

    patch = pytest.MonkeyPatch()
    for name in ("adam_fixed_point", "_quadratic", "gr_metric", "max_margin", "_metric_floor"):
        patch.setattr(ib, name, disabled)
    try:
        for (X, y), exp in zip(cases, expected):
            other = ib._geometries_independent({}, {"X": X.tolist(), "y": y.tolist()})
            for key in ("gamma_2", "gamma_inf", "gamma_fp"):
                assert other[key] == pytest.approx(exp[key], rel=1e-7), (key, X.shape)
    finally:
        patch.undo()
    # the exact dual map against the NNLS one at a random metric
    X, y = cases[1]
    metric = rng.uniform(0.2, 5.0, X.shape[1])
    alpha = ib.svm_duals_by_support(y[:, None] * X, metric)
    mm = max_margin(X, y, "l2", metric=metric)
    assert 1 / np.sqrt(alpha.sum()) == pytest.approx(mm.margin, rel=1e-10)   # gamma^2 = 1 / sum alpha
    # beyond SUPPORT_ENUMERATION_MAX samples the dual map falls back on SLSQP (measured within 1e-8)
    X, y = planted_data(np.random.default_rng(3), ib.SUPPORT_ENUMERATION_MAX + 8, 4)
    metric = rng.uniform(0.2, 5.0, 4)
    alpha = ib.svm_duals_by_support(y[:, None] * X, metric)
    assert 1 / np.sqrt(alpha.sum()) == pytest.approx(max_margin(X, y, "l2", metric=metric).margin, rel=1e-7)
