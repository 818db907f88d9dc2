"""Ghosts of softmax: the half-plane derivation, the partition-zero model (contour + 50-digit Newton vs
Pade on exact Taylor coefficients), the multiclass card, and the one-step scenario on digits."""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import examples
from numerics import check
from numerics._softmax import MODELS, _validate, instance, root_test_radius, taylor_coefficients
from theory import DerivationError, InputError, Relation
from theory._catalogue import get
from theory.derive.softmax import half_plane_strip, nearest_zero_imag

MODEL = MODELS["softmax_partition_zeros"]
Da = sp.Symbol("Delta_a", positive=True)
tau = sp.Symbol("tau")


def test_strip_is_derived_from_the_half_plane_condition():
    z, a, lo = sp.Symbol("z", real=True), sp.Symbol("a", real=True), sp.Symbol("a_min", real=True)
    width, details = half_plane_strip(sp.exp(z + a * tau), tau, a, lo, lo + Da)
    assert sp.simplify(width - sp.pi / Da) == 0
    assert sp.simplify(details["endpoint_phase"] - Da * sp.Symbol("y_im", positive=True) / 2) == 0
    with pytest.raises(DerivationError, match="not linear"):
        half_plane_strip(sp.exp(z + a * tau**2), tau, a, lo, lo + Da)


def test_binary_zeros_sit_on_the_strip_edge():
    delta = sp.Symbol("delta", real=True)
    assert sp.simplify(nearest_zero_imag(1 + sp.exp(-(delta + Da * tau)), tau) - sp.pi / Da) == 0


@pytest.mark.parametrize("delta,spread", [(0.0, 1.0), (2.0, 1.0), (-3.0, 0.5), (5.0, 3.0)])
def test_model_reproduces_the_binary_radius(delta, spread):
    q = MODEL.compute({"Delta_a": spread}, {"logits": [delta, 0.0], "slope_profile": [1.0, 0.0]})
    assert q["radius"] == pytest.approx(math.sqrt(delta**2 + math.pi**2) / spread, rel=1e-12)
    assert q["ghost_im"] == pytest.approx(math.pi / spread, rel=1e-12)


@st.composite
def instances(draw):
    k = draw(st.integers(2, 8))
    logits = draw(st.lists(st.floats(-8, 8), min_size=k, max_size=k))
    profile = draw(st.lists(st.floats(0, 1), min_size=k, max_size=k).filter(lambda s: max(s) - min(s) > 1e-3))
    spread = draw(st.floats(math.log(0.05), math.log(20)).map(math.exp))
    return {"Delta_a": spread}, {"logits": logits, "slope_profile": profile}


@settings(max_examples=examples(), deadline=None)
@given(instances())
def test_radius_bound_and_two_routes_on_random_instances(inst):
    params, data = inst
    data = _validate(data)
    q = MODEL.compute(params, data)
    bound = math.pi / params["Delta_a"]
    assert q["radius"] >= bound * (1 - 1e-12) and q["ghost_im"] >= bound * (1 - 1e-12)
    assert q["radius"] >= q["ghost_im"] * (1 - 1e-12)
    assert MODEL.independent(params, data)["radius"] == pytest.approx(q["radius"], rel=1e-8)


def test_root_test_approaches_the_radius():
    params, data = {"Delta_a": 1.0}, {"logits": [1.0, -0.5, 0.3], "slope_profile": [0.0, 1.0, 0.4]}
    r = MODEL.compute(params, data)["radius"]
    z, a = instance(params, data)
    rough, fine = (root_test_radius(taylor_coefficients(z, a, n)) for n in (40, 160))
    assert abs(fine - r) < abs(rough - r) and fine == pytest.approx(r, rel=1e-2)


def test_bad_data_is_an_input_error():
    with pytest.raises(InputError, match="not be constant"):
        _validate({"logits": [0, 1], "slope_profile": [2, 2]})
    with pytest.raises(InputError, match="same length"):
        _validate({"logits": [0, 1, 2], "slope_profile": [0, 1]})


def test_multiclass_card_verifies_and_a_wrong_bound_is_refuted():
    card = get("ghosts.multiclass.radius_lower_bound")
    report = check(card, examples=40)
    assert report.passed, [c for c in report.checks if c.passed is False]
    names = {c.name for c in report.checks}
    assert {"relation", "independent_route", "zero_free_strip", "strip_attained", "complex_root_search"} <= names
    wrong = replace(card, claims=(Relation("too_strong", sp.Symbol("radius"), ">=", 1.5 * sp.pi / Da),))
    bad = check(wrong, examples=100)
    assert not bad.passed and bad.counterexample["check"] == "relation"


def test_scenario_uses_jvp_slopes_and_judges_r_below_one():
    import torch

    from gpu_validation._networks import digits, mlp
    from gpu_validation._simulate import simulate

    card = get("ghosts.multiclass.radius_lower_bound")
    res = simulate(card, at={"n": 120, "r_tail": 256}, device="cpu", seed=3, steps=5)
    # Delta_a by hand: logits are linear in (W, b) for softmax regression, so a = x dW + db along v = -grad L
    task = digits(120, "ce")
    params, forward = mlp((64, 10), seed=3)
    for _ in range(5):
        p = {k: v.clone().requires_grad_() for k, v in params.items()}
        g = torch.autograd.grad(torch.nn.functional.cross_entropy(forward(p, task.x), task.y), list(p.values()))
        params = {k: v.detach() - 0.5 * gi for (k, v), gi in zip(p.items(), g)}
    p = {k: v.clone().requires_grad_() for k, v in params.items()}
    gw, gb = torch.autograd.grad(torch.nn.functional.cross_entropy(forward(p, task.x), task.y), [p["W0"], p["b0"]])
    a = task.x @ (-gw) + (-gb)
    assert res.data["Delta_a"] == pytest.approx(float((a.max(1).values - a.min(1).values).max()), rel=1e-12)
    ratios = np.array(res.data["loss_ratio"])
    r = np.array(res.data["r"])
    verdict = {v.claim: v.agrees for v in res.verdicts}
    assert verdict["no_failure_below_one"] == bool(ratios[r < 1].max() < 1)
    assert r.min() == pytest.approx(0.25) and r.max() <= 256 * (1 + 1e-9)
    # the onsets are the first swept r with L >= L(0) and L >= 1.1 L(0), every ratio before each below it
    for key, level in (("first_increase_r", 1.0), ("inflation_onset_r", 1.1)):
        onset = res.data[key]
        assert onset is not None, key
        k = int(np.flatnonzero(r == onset)[0])
        assert ratios[k] >= level and (ratios[:k] < level).all(), (key, onset)
    # measured on this instance (softmax regression, 5 GD steps, seed 3): every step below r = 1 decreases
    # the loss, and the loss first rises at r ~ 181 (181.02 on the grid), far beyond the ghost radius r = 1
    assert verdict["no_failure_below_one"] is True and (np.diff(ratios[r < 1]) < 0).all() and ratios[0] < 0.85
    assert 100 < res.data["first_increase_r"] < res.data["inflation_onset_r"] < 256
    with pytest.raises(InputError, match="takes --at"):
        simulate(card, at={"eta": 1.0}, device="cpu", steps=1)
