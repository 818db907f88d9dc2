"""Linear transformers / in-context regression (arXiv:2306.00297, 2310.01082): the Wick moment engine, the
forward identity, the one-layer optima, scalar PGD, the CLI interfaces and the torch scenarios.

Hold-out instances (other Sigma, n, d than the cards') are compared with independent computations:
scipy minimisation of the numpy fourth-moment loss, Monte Carlo, chi-square moments. Paper / research-note
numbers appear only as comparison targets, with their source."""
from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from numerics import check
from numerics import _linear_transformer as nlt
from theory import get
from theory.derive import derive
from theory.derive import linear_transformer as lt

n_, d_ = sp.symbols("n d", positive=True)


# -- the moment engine -------------------------------------------------------------------------------------

def test_engine_gives_the_wishart_moments_of_a_general_sigma():
    s11, s22 = sp.symbols("s11 s22", positive=True)
    s12 = sp.Symbol("s12", real=True)
    S = sp.Matrix([[s11, s12], [s12, s22]])
    m = lt.sample_moments(S, n_)
    assert sp.simplify(m["E[S]"] - S) == sp.zeros(2)
    assert sp.simplify(m["E[SCS]"] - ((n_ + 1) / n_ * S * S + S.trace() / n_ * S)) == sp.zeros(2)


@pytest.mark.parametrize("k", range(1, 7))
def test_trace_moments_match_chi_square_and_sphere_moments(k):
    m = lt.trace_moment(k, n_, d_)
    assert sp.expand(m.subs(d_, 1) * n_**k - sp.prod([n_ + 2 * j for j in range(k)])) == 0   # d = 1: chi^2_n
    assert sp.expand(m.subs(n_, 1) - sp.prod([d_ + 2 * j for j in range(k)])) == 0            # n = 1: |x|^2k


@pytest.mark.parametrize(("k", "n", "d"), [(5, 7, 3), (6, 9, 2), (3, 4, 6)])
def test_high_trace_moments_agree_with_monte_carlo(k, n, d):
    lam = nlt.wishart_eigenvalues(n, d, 60_000, seed=k * 100 + n)
    v = (lam**k).sum(axis=1)
    exact = float(lt.trace_moment(k, n_, d_).subs({n_: n, d_: d}))
    assert abs(v.mean() - exact) <= 4 * v.std(ddof=1) / math.sqrt(len(v))


def test_engine_refuses_words_it_cannot_afford():
    with pytest.raises(Exception, match="refused"):
        lt.trace_word_moment([None] * (lt.MAX_WORD + 1), n_, None, d_)


# -- forward identity --------------------------------------------------------------------------------------

def test_forward_identity_derives_to_zero_and_fails_for_a_wrong_rule():
    X = sp.Matrix(2, 2, lambda i, j: sp.Symbol(f"x{i}{j}", real=True))
    y = sp.Matrix(1, 2, sp.symbols("y0 y1", real=True))
    q = sp.Matrix(2, 1, sp.symbols("q0 q1", real=True))
    A = sp.Matrix(2, 2, lambda i, j: sp.Symbol(f"a{i}{j}", real=True))   # not symmetric
    out = lt.transformer_forward(X, y, q, [A], 2)
    # the layer applies A^T: with a non-symmetric A, GD preconditioned by A itself is NOT what it computes
    assert sp.expand(out - lt.pgd_prediction(X, y, q, [A], 2)) != 0
    assert sp.expand(out - lt.pgd_prediction(X, y, q, [A.T], 2)) == 0


def test_forward_card_verifies():
    report = check(get("linear_transformer.forward.pgd_identity"), examples=5, seed=0)
    assert report.passed, [c.detail for c in report.checks if c.passed is False]
    assert any(c.name == "forward_vs_pgd_50_digits" and c.passed for c in report.checks)


# -- one layer -----------------------------------------------------------------------------------------------

@settings(max_examples=25, deadline=None)
@given(d=st.integers(1, 6), n=st.integers(1, 60), seed=st.integers(0, 2**31 - 1),
       prior=st.sampled_from(["identity", "inverse"]))
def test_hold_out_closed_forms_are_the_numerical_minimum(d, n, seed, prior):
    sigma = nlt.random_spd(np.random.default_rng(seed), d)
    C = nlt.prior_of(sigma, prior)
    best, A_min = nlt.minimise_one_layer(sigma, C, n)
    closed = nlt.isotropic_formula(sigma, n) if prior == "identity" else nlt.inverse_prior_formula(sigma, n)
    assert np.allclose(A_min, closed, rtol=1e-6, atol=1e-6 * np.abs(closed).max())
    if prior == "inverse":
        assert math.isclose(best, d * (d + 1) / (n + d + 1), rel_tol=1e-8)
    else:
        M = (n + 1) / n * sigma + np.trace(sigma) / n * np.eye(d)
        assert math.isclose(best, np.trace(sigma) - np.trace(sigma @ sigma @ np.linalg.inv(M)), rel_tol=1e-8)


@pytest.mark.parametrize(("d", "n", "seed", "prior"), [(4, 10, 3, "identity"), (3, 6, 5, "inverse")])
def test_hold_out_monte_carlo_loss_matches_the_exact_optimum(d, n, seed, prior):
    sigma = nlt.random_spd(np.random.default_rng(seed), d)
    C = nlt.prior_of(sigma, prior)
    A = nlt.isotropic_formula(sigma, n) if prior == "identity" else nlt.inverse_prior_formula(sigma, n)
    mc, se = nlt.monte_carlo_loss(A, sigma, C, n, prompts=100_000, seed=seed)
    assert abs(mc - nlt.one_layer_loss(A, sigma, C, n)) <= 4 * se


def test_isotropic_formula_is_worse_under_the_inverse_prior_only_for_non_scalar_sigma():
    sigma = nlt.random_spd(np.random.default_rng(1), 4, spread=3)
    C = np.linalg.inv(sigma)
    iso, best = nlt.isotropic_formula(sigma, 20), nlt.inverse_prior_formula(sigma, 20)
    assert nlt.one_layer_loss(iso, sigma, C, 20) > nlt.one_layer_loss(best, sigma, C, 20) * 1.01
    scalar = 2.5 * np.eye(4)
    assert np.allclose(nlt.isotropic_formula(scalar, 20), nlt.inverse_prior_formula(scalar, 20))


def test_sigma_identity_comparison_target():
    # comparison target: research notes theorems-preference-bias-sf.md 6.3 (Sigma = I, d = 5, n = 20)
    q = nlt.one_layer_compute({"n": 20.0}, nlt.validate_one_layer({"Sigma": np.eye(5).tolist()}))
    assert math.isclose(q["loss"], 1.153846, abs_tol=1e-6) and math.isclose(q["A"][0][0], 0.769231, abs_tol=1e-6)


def test_one_layer_derivation_matches_the_card_claims():
    card = get("linear_transformer.one_layer.optimum_inverse_prior")
    derived = derive(card)
    for claim in card.claims:
        if claim.kind == "identity":
            assert sp.simplify(derived[claim.name].value - claim.value) == 0
    n = card.symbol("n")
    assert sp.simplify(derived["min_loss"].value - 6 / (n + 3)) == 0          # d(d+1)/(n+d+1) at d = 2
    A = derived["A_11"].details["A_star"]
    sigma = sp.Matrix([[card.symbol("s11"), card.symbol("s12")], [card.symbol("s12"), card.symbol("s22")]])
    assert sp.simplify(A - n / (n + 3) * sigma.inv()) == sp.zeros(2)


def test_a_wrong_relation_is_refuted():
    """The inverse-prior card's L* = d(d+1)/(n+d+1) fails on the N(0, I) prior: the relation check can fail."""
    card = get("linear_transformer.one_layer.optimum_inverse_prior")
    wrong = replace(card, claims=(card.claim("minimum_is_whitened"),),
                    model=replace(card.model, data={**card.model.data, "prior": "identity"}, instances=False))
    report = check(wrong, examples=5, seed=0)
    assert not report.passed and report.counterexample is not None


def test_bad_sigma_is_an_input_error():
    from theory import InputError
    for bad in ([[1, 2], [2, 1]], [[1, 0.5], [0, 1]], [[1, 2, 3]]):
        with pytest.raises(InputError):
            nlt.validate_one_layer({"Sigma": bad})


# -- scalar PGD ------------------------------------------------------------------------------------------------

def test_scalar_pgd_comparison_targets():
    # comparison targets: research notes theorems-preference-bias-sf.md 6.4 (L = 2, exact moments) and
    # theorems-flows-sgd-schedules.md 7.1 (L = 3, Monte Carlo, +- 0.3 %)
    loss2, a2, _ = nlt.scalar_pgd_optimum(20.0, 5.0, 2)
    assert math.isclose(loss2, 0.361240, abs_tol=2e-6)
    assert np.allclose(a2, [0.51537, 1.24957], atol=2e-5)
    loss3, a3, _ = nlt.scalar_pgd_optimum(20.0, 5.0, 3)
    assert abs(loss3 / 0.1340 - 1) < 0.005
    assert np.allclose(a3, [0.4219, 0.6884, 1.7128], atol=0.005)


@pytest.mark.parametrize(("n", "d", "L"), [(12, 3, 2), (30, 2, 3), (8, 6, 1)])
def test_hold_out_scalar_pgd_loss_agrees_with_monte_carlo(n, d, L):
    loss, a, g = nlt.scalar_pgd_optimum(float(n), float(d), L)
    mc, se = nlt.scalar_pgd_monte_carlo(a, n, d, draws=40_000, seed=n + d + L)
    assert abs(mc - loss) <= 4 * se and g < 1e-8
    if L == 1:
        assert math.isclose(loss, d * (d + 1) / (n + d + 1), rel_tol=1e-10)


def test_scalar_pgd_card_relations_pass_on_few_examples():
    report = check(get("linear_transformer.l_step.scalar_pgd_optimum"), examples=8, seed=1)
    failed = [c for c in report.checks if c.passed is False]
    assert not failed, [c.detail for c in failed]


# -- CLI interfaces ------------------------------------------------------------------------------------------

def _eval_json(capsys, *args):
    from optverify.cli import main
    assert main(["eval", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_eval_one_layer_with_a_matrix_sigma(capsys):
    sigma = [[2.0, 0.3], [0.3, 0.5]]
    out = _eval_json(capsys, "linear_transformer.one_layer.optimum", "--at", f"Sigma={json.dumps(sigma)}",
                     "--at", "n=7")
    S = np.array(sigma)
    M = 8 / 7 * S + np.trace(S) / 7 * np.eye(2)
    assert math.isclose(out["values"]["loss"], np.trace(S) - np.trace(S @ S @ np.linalg.inv(M)), rel_tol=1e-10)
    assert np.allclose(out["values"]["A"], np.linalg.inv(M))


def test_eval_scalar_pgd(capsys):
    out = _eval_json(capsys, "linear_transformer.l_step.scalar_pgd_optimum", "--at", "L=2", "--at", "d=5",
                     "--at", "n=20")
    assert math.isclose(out["values"]["loss"], 0.361240, abs_tol=2e-6)   # comparison target (notes 6.4)
    assert len(out["values"]["steps"]) == 2


def test_eval_rejects_four_steps(capsys):
    from optverify.cli import main
    assert main(["eval", "linear_transformer.l_step.scalar_pgd_optimum", "--at", "L=4", "--at", "d=5",
                 "--at", "n=20", "--json"]) == 2
    assert "L must be 1, 2 or 3" in capsys.readouterr().err


# -- torch scenarios (CPU-sized) ---------------------------------------------------------------------------

def _run(card, steps=None, **options):
    from gpu_validation._linear_transformer_sim import SCENARIOS
    sim = replace(card.simulation, options={**card.simulation.options, **options})
    card = replace(card, simulation=sim)
    return SCENARIOS[sim.scenario](card, device="cpu", seed=0, steps=steps)


def test_one_layer_adam_reaches_the_optimum_and_refutes_the_isotropic_formula_under_inverse_prior():
    res = _run(get("linear_transformer.one_layer.optimum"), steps=400)
    assert res.agrees, res.lines
    assert max(res.data["relative_error"]) < 0.05
    wrong = _run(get("linear_transformer.one_layer.isotropic_formula_inverse_prior"), steps=400)
    assert not wrong.agrees
    assert min(wrong.data["relative_error_isotropic"]) > 0.10 and max(wrong.data["relative_error"]) < 0.05


def test_pgd_critical_point_scenario():
    res = _run(get("linear_transformer.l_step.scalar_pgd_optimum"), steps=12, batch=3000)
    assert res.data["z_max"] <= 4.0 and res.data["z_max_perturbed"] >= 10.0, res.lines


def test_adam_vs_sgd_small_run():
    res = _run(get("linear_transformer.three_layer.adam_vs_sgd"), steps=250, batch=64, eval=2048, draws=800)
    assert res.data["ratio_adam_sgd"] < 1.0
    assert res.data["kurtosis"]["gamma"] > res.data["kurtosis"]["normal"]
    assert {p.title.split(": ")[-1] for p in res.panels} == {"training loss", "gradient-noise norms (CCDF)"}


@pytest.mark.slow
def test_adam_vs_sgd_default_run_agrees():
    res = _run(get("linear_transformer.three_layer.adam_vs_sgd"))
    assert res.agrees, res.lines


def test_rotated_spectrum_comparison_targets():
    # comparison targets: research notes theorems-flows-sgd-schedules.md 7.1, Note 1 (Sigma = U diag(4, 2, 1, 0.5,
    # 0.25) U^T, d = 5, n = 20): L* = 1.588443; the Sigma^-1-type guess n/(n+d+1) Sigma^-1 gives 1.7885 there
    rng = np.random.default_rng(7)
    U, _ = np.linalg.qr(rng.standard_normal((5, 5)))
    sigma = U @ np.diag([4, 2, 1, 0.5, 0.25]) @ U.T
    q = nlt.one_layer_compute({"n": 20.0}, nlt.validate_one_layer({"Sigma": sigma.tolist()}))
    assert math.isclose(q["loss"], 1.588443, abs_tol=1e-6) and math.isclose(q["loss_min"], q["loss"], rel_tol=1e-9)
    guess = nlt.one_layer_loss(nlt.inverse_prior_formula(sigma, 20), sigma, np.eye(5), 20)
    assert math.isclose(guess, 1.7885, abs_tol=1e-4)
