"""SGD on noisy ill-conditioned quadratics: stationary alignment, the projected-step loss threshold
(lambda^3, not lambda^4), Dom-SGD / Bulk-SGD floors; derivations, numeric routes, simulations."""
from __future__ import annotations

import json

import mpmath
import numpy as np
import pytest
import sympy as sp

from conftest import examples
from numerics import check, with_claim
from numerics._models import models, quantities
from numerics._noisy_quadratic import _instance_change, exact_projected_change, exact_projected_change_mp
from theory import DerivationError, InputError, get
from theory.derive import derive_claim
from theory.derive.noisy_quadratic import (noise_expectation, projected_loss_root, stationary_second_moment)

eta, lam, s, kappa = sp.symbols("eta lambda s kappa", positive=True)
x, y, xi = sp.symbols("x y xi", real=True)
QUADRATIC_IDS = ("sgd.quadratic.stationary_alignment", "sgd.quadratic.projected_loss_threshold",
                 "dom_bulk_sgd.quadratic.loss_floors")


def test_stationary_second_moment_of_sgd_and_of_a_two_state_map():
    S = stationary_second_moment([x], [x - eta * (lam * x + xi)], xi, s**2)
    assert sp.simplify(S[0, 0] - eta * s**2 / (lam * (2 - eta * lam))) == 0
    # heavy-ball-like two-state map: the solution satisfies its own Lyapunov equation
    beta = sp.Rational(1, 2)
    upd = [x - eta * (lam * x + xi) + beta * (x - y), x]
    S2 = stationary_second_moment([x, y], upd, xi, s**2)
    F = sp.Matrix(upd).jacobian([x, y])
    b = sp.Matrix(upd).jacobian([xi])
    assert (S2 - F * S2 * F.T - s**2 * b * b.T).applyfunc(sp.simplify) == sp.zeros(2, 2)


def test_derivation_errors_are_one_line():
    with pytest.raises(DerivationError, match="not linear"):
        stationary_second_moment([x], [x - eta * (lam * x**2 + xi)], xi, s**2)
    with pytest.raises(DerivationError, match="constant term"):
        stationary_second_moment([x], [x - eta * (lam * x + xi) + 1], xi, s**2)
    with pytest.raises(DerivationError, match="degree 3"):
        noise_expectation(xi**3 + x, xi, s**2)
    with pytest.raises(DerivationError, match="no subspace-sum symbol"):
        projected_loss_root([x], [x - eta * (lam * x + xi)], lam * x**2 / 2, xi, kappa**2, eta, [kappa, lam, x],
                            {lam**2 * x**2: sp.Symbol("M2")})


def test_projected_root_is_derived_with_lambda_cubed():
    card = get("sgd.quadratic.projected_loss_threshold")
    d = derive_claim(card, card.claim("eta_loss"))
    M2, M3, K1 = (card.symbol(n) for n in ("M_2", "M_3", "K_1"))
    assert sp.simplify(d.value - 2 * M2 / (M3 + K1)) == 0


@pytest.mark.parametrize("seed", range(5))
def test_lambda4_form_misses_the_exact_root_and_lambda3_hits_it(seed):
    lam_, Q, c, kappa2, mask = _instance_change(np.random.default_rng(100 + seed))
    f = exact_projected_change_mp(lam_, Q, c, kappa2, mask)
    i = np.flatnonzero(mask)
    m2, m3, m4 = (np.sum(lam_[i] ** p * c[i] ** 2) for p in (2, 3, 4))
    k1 = np.sum(lam_[i] * kappa2[i])
    cubed, fourth = 2 * m2 / (m3 + k1), 2 * m2 / (m4 + k1)
    with mpmath.workdps(50):
        root = mpmath.findroot(f, mpmath.mpf(cubed) * (1 + mpmath.mpf(10) ** -3))
    assert abs(float(root) - cubed) <= 1e-12 * cubed
    # the forms differ by a term of relative size |m4 - m3| / (m4 + k1); the root sides with lambda^3
    assert abs(float(root) - fourth) >= 0.99 * abs(fourth - cubed)
    # the float64 matrix route agrees on the sign just around the root
    H = Q @ np.diag(lam_) @ Q.T
    P = Q[:, mask] @ Q[:, mask].T
    C = Q @ np.diag(kappa2) @ Q.T
    assert exact_projected_change(0.5 * cubed, H, P, Q @ c, C) < 0 < exact_projected_change(2 * cubed, H, P, Q @ c, C)


def test_lambda4_form_is_off_by_a_factor_when_the_gradient_dominates_the_noise():
    lam_, c, kappa2, mask = np.array([4.0, 2.0, 0.1]), np.array([1.0, 1.0, 3.0]), np.full(3, 1e-3), np.array([1, 1, 0], bool)
    f = exact_projected_change_mp(lam_, np.eye(3), c, kappa2, mask)
    cubed = 2 * (16 + 4) / (64 + 8 + 6e-3)
    fourth = 2 * (16 + 4) / (256 + 16 + 6e-3)
    with mpmath.workdps(50):
        root = float(mpmath.findroot(f, mpmath.mpf(cubed)))
    assert root == pytest.approx(cubed, rel=1e-14) and fourth < root / 3


def test_alignment_model_routes_agree_and_validate():
    card = get("sgd.quadratic.stationary_alignment")
    point = {card.symbol("eta"): 1.2, card.symbol("s"): 0.7}
    q = quantities(card, point)
    assert q["theta_lyapunov"] == pytest.approx(q["theta_closed"], rel=1e-10)
    assert q["trace_share"] < q["theta_closed"] < 1
    qi = quantities(card, point, independent=True)
    assert qi["theta_lyapunov"] == pytest.approx(q["theta_lyapunov"], rel=1e-9)
    model = models()["sgd_noisy_alignment"]
    with pytest.raises(InputError, match="dominant eigenvalue must be >="):
        model.validate({"dominant": [0.1], "bulk": [0.5], "basis_seed": 0})
    with pytest.raises(InputError, match="no stationary law"):
        model.compute({"eta": 2.5, "s": 1.0}, {"dominant": [1.0], "bulk": [0.1], "basis_seed": 0})


@pytest.mark.parametrize("card_id", QUADRATIC_IDS)
def test_cards_verify(card_id):
    report = check(get(card_id), examples=examples(), seed=1)
    assert report.passed, [c.detail for c in report.checks if c.passed is False]


def test_wrong_energy_and_lambda4_threshold_are_refuted():
    card = get("sgd.quadratic.stationary_alignment")
    bad = with_claim(card, "gradient_energy", eta * s**2 * lam / 2)
    assert not check(bad, examples=20).passed
    proj = get("sgd.quadratic.projected_loss_threshold")
    M2, K1 = proj.symbol("M_2"), proj.symbol("K_1")
    M4 = sp.Symbol("M_4", positive=True)   # a lambda^4 sum is not even a quantity of this card
    wrong = with_claim(proj, "eta_loss", 2 * M2 / (M2 + K1))
    report = check(wrong, examples=20)
    assert not report.passed and any(c.name == "symbolic" and c.passed is False for c in report.checks)
    assert M4 not in proj.symbols


def test_alignment_simulation_agrees_and_a_wrong_formula_is_refuted():
    from gpu_validation import simulate
    card = get("sgd.quadratic.stationary_alignment")
    result = simulate(card, device="cpu", steps=3000, at={"m": [2, 20]})
    assert result.agrees, [v.detail for v in result.verdicts]
    json.dumps(result.to_json())
    bad = with_claim(card, "gradient_energy", eta * s**2 * lam / 2)   # drops the 1 / (2 - eta lam) tilt
    assert not simulate(bad, device="cpu", steps=3000, at={"m": [2, 20]}).agrees


def test_dom_bulk_quadratic_agrees_and_bad_input_is_an_input_error():
    from gpu_validation import simulate
    card = get("dom_bulk_sgd.quadratic.loss_floors")
    result = simulate(card, device="cpu", seed=3)
    assert result.agrees, [v.detail for v in result.verdicts]
    assert result.data["dom"][-1] > 5 * result.data["sgd"][-1]      # Dom-SGD stalls far above SGD
    with pytest.raises(InputError, match="no setting"):
        simulate(card, device="cpu", at={"nope": 1.0})
    with pytest.raises(InputError, match="no stationary law"):
        simulate(card, device="cpu", at={"eta": 0.05})
