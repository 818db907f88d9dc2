"""Softmax collapse (arXiv:2501.04697): thresholds per float format, K classes, the gradient at collapse,
StableMax's tail, the orthogonal gradient's norm, the homogeneity identity, and a small modular-addition run."""
from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp

from conftest import examples
from numerics import check, with_claim
from numerics._softmax_collapse import (FORMAT_NAMES, IDENTITY_NUMERICS, Format, collapse_margin_measured,
                                        log_softmax_backward, mlp_forward_backward, orthograd_direction, stablemax_ce,
                                        stable_loss)
from theory import catalogue
from theory.cards.orthograd import HOMOGENEOUS, NORM, G, L, P, R, eta, z1
from theory.cards.softmax_collapse import GRADIENT, K_CLASS, MODULAR, THRESHOLDS, K, N, m
from theory.cards.stablemax import TAIL, D
from theory.cards.stablemax import K as K_sm
from theory.derive import derive_claim
from theory.derive.softmax_collapse import FORMATS, collapse_threshold, homogeneity_degree, bias_free_mlp

IDS = {"softmax_collapse.binary.margin_threshold", "softmax_collapse.kclass.threshold_interval",
       "softmax_collapse.binary.gradient_at_collapse", "softmax_collapse.modular_addition.float32_collapse",
       "stablemax.tail.loss", "orthograd.projection.norm", "orthograd.homogeneous_mlp.radial_derivative"}
IDENTITY_CARDS = (THRESHOLDS, K_CLASS, GRADIENT, TAIL, NORM, HOMOGENEOUS)


def test_cards_are_in_the_catalogue():
    assert IDS <= {c.id for c in catalogue()}


@pytest.mark.parametrize("card", IDENTITY_CARDS, ids=lambda c: c.id)
def test_cards_verify(card):
    report = check(card, examples=min(examples(), 30), seed=1)
    assert report.passed, [c for c in report.checks if c.passed is False]
    routes = {c.route_label for c in report.checks if c.passed}
    assert "symbolic" in routes and any(r.endswith("numeric route") for r in routes), routes


@pytest.mark.parametrize("name", FORMAT_NAMES)
def test_derived_threshold_equals_the_measured_one(name):
    p, e_min = FORMATS[name]
    fmt = Format(name)
    assert (fmt.precision, fmt.min_exponent) == (p, e_min)  # the format description vs np.finfo
    derived = float(collapse_threshold(p, e_min))
    measured = collapse_margin_measured(fmt)
    assert abs(measured - derived) <= fmt.ulp(derived)
    # one ulp below the measured margin the loss is not 0, at it (and above) it is
    below = float(fmt.from_int(fmt.to_int(measured) - 1))  # the representable margin just below
    assert stable_loss(fmt, np.array([[below, 0.0]]))[0] != 0
    assert stable_loss(fmt, np.array([[measured, 0.0], [2 * measured, 0.0]])).tolist() == [0.0, 0.0]


def test_ties_round_to_one_and_one_more_ulp_does_not():
    for name in FORMAT_NAMES:
        fmt = Format(name)
        half = 2.0 ** -fmt.precision
        assert float(fmt.add(1.0, half)) == 1.0              # the tie goes to the even significand: 1
        assert float(fmt.add(1.0, fmt.up(half))) > 1.0        # just above half an ulp rounds up


@pytest.mark.parametrize(("card", "claim", "wrong"), [
    (THRESHOLDS, "float32", 23 * sp.log(2)),
    (THRESHOLDS, "float16", 10 * sp.log(2)),
    (THRESHOLDS, "bfloat16", 7 * sp.log(2)),
    (THRESHOLDS, "float64", 52 * sp.log(2)),
    (K_CLASS, "upper_float32", sp.log((K - 1) * 2**23)),
    (K_CLASS, "lower_float32", sp.log(2 * 2**24)),
    (GRADIENT, "label_component", sp.exp(-m) / N),
    (GRADIENT, "wrong_component", sp.Integer(0)),
    (GRADIENT, "wrong_component", sp.exp(-m)),
    (GRADIENT, "normal_until", 125 * sp.log(2)),
    (GRADIENT, "nonzero_until", 151 * sp.log(2)),
    (TAIL, "tail_loss", sp.log(1 + K_sm / (D + 1))),
    (TAIL, "tail_rate", K_sm),
    (NORM, "flow_rate", eta * G),
    (NORM, "step_growth", eta**2 * G),
    (NORM, "step_growth_rescaled", eta**2 * (G - P**2 / R)),
    (HOMOGENEOUS, "degree", sp.Integer(2)),
    (HOMOGENEOUS, "radial", (L + 1) * (HOMOGENEOUS.claim("radial").value / L)),
], ids=lambda v: getattr(v, "id", str(v))[:28])
def test_a_wrong_claim_is_refuted_by_the_numeric_route_alone(card, claim, wrong):
    bad = with_claim(card, claim, wrong)
    target = bad.claim(claim)
    results = IDENTITY_NUMERICS[target.derivation](bad, target, 20, 0, 6)
    assert any(r.passed is False for r in results), [r.detail for r in results]
    assert not check(bad, examples=10, seed=0).passed


def test_k_class_kernels_span_the_interval():
    fmt = Format("float32")
    lo, hi = float(collapse_threshold(24, -126)), float(collapse_threshold(24, -126, "k_class_upper", 113))
    got = {k: collapse_margin_measured(fmt, k, 113) for k in ("max_first", "small_first", "stable")}
    assert abs(got["max_first"] - lo) <= fmt.ulp(lo)
    assert abs(got["small_first"] - hi) <= fmt.ulp(hi) + 112 * 2.0**-24
    assert lo < got["stable"] < hi + fmt.ulp(hi)  # numpy's pairwise sum: strictly inside for K = 113


def test_gradient_at_collapse_is_not_zero():
    fmt = Format("float32")
    for margin in (17.0, 40.0, 80.0):
        z = np.array([[margin, 0.0]] * 4, dtype=np.float32)
        loss, grad = log_softmax_backward(fmt, z, np.zeros(4, dtype=int))
        assert np.all(loss == 0) and np.all(grad[:, 0] == 0)
        assert np.allclose(grad[:, 1], math.exp(-margin) / 4, rtol=1e-6) and np.all(grad[:, 1] > 0)
    derived = derive_claim(GRADIENT, GRADIENT.claim("label_component"))
    assert derived.details["exact_label"] != 0  # in exact arithmetic the label component is -1/(N (e^m + 1))


def test_gradient_at_collapse_with_torch_autograd():
    torch = pytest.importorskip("torch")
    z = torch.tensor([[17.0, 0.0], [40.0, 0.0], [80.0, 0.0]], dtype=torch.float32, requires_grad=True)
    loss = torch.nn.functional.cross_entropy(z, torch.zeros(3, dtype=torch.long))
    loss.backward()
    assert loss.item() == 0.0 and torch.all(z.grad[:, 0] == 0)
    want = torch.exp(-z.detach()[:, 0].double()) / 3
    assert torch.allclose(z.grad[:, 1].double(), want, rtol=1e-6) and torch.all(z.grad[:, 1] > 0)


def test_torch_thresholds_scenario():
    pytest.importorskip("torch")
    from gpu_validation._softmax_collapse_sim import torch_thresholds
    result = torch_thresholds(THRESHOLDS)
    assert result.agrees, result.lines
    rows = {r["format"]: r for r in result.data["rows"]}
    assert rows["float32"]["grad_label"] == 0 and rows["float32"]["grad_wrong"] > 0


def test_stablemax_tail_numbers():
    z = np.zeros((1, 113))
    z[0, 0] = 1e4
    loss = float(stablemax_ce(z, np.array([0]))[0])
    assert abs(loss - math.log1p(112 / 10001)) <= 1e-15
    assert abs(loss - 1.1137e-2) < 1e-6 and abs(112 / 1e4 - 1.1199e-2) < 1e-6  # 5.2's numbers [D]
    derived = derive_claim(TAIL, TAIL.claim("tail_rate")).value
    assert sp.simplify(derived - (K_sm - 1)) == 0


def test_orthograd_norm_conservation_and_second_order_growth():
    rng = np.random.default_rng(3)
    for rescaled in (False, True):
        th, g = rng.normal(size=30), rng.normal(size=30)
        d = orthograd_direction(th, g, rescaled)
        assert abs(th @ d) <= 1e-12 * np.linalg.norm(th) * np.linalg.norm(g)  # the flow's d|theta|^2/dt = 0
        etas = np.array([1e-1, 1e-2, 1e-3])
        growth = np.array([np.sum((th - e * d) ** 2) - np.sum(th**2) for e in etas])
        order = np.polyfit(np.log(etas), np.log(growth), 1)[0]
        assert abs(order - 2) < 0.01 and np.all(growth > 0)
        assert np.allclose(growth, etas**2 * (d @ d), rtol=1e-6)


def test_orthograd_torch_step_matches():
    torch = pytest.importorskip("torch")
    from gpu_validation._softmax_collapse_sim import _orthograd_
    gen = torch.Generator().manual_seed(0)
    w = torch.randn(7, 5, generator=gen, dtype=torch.float64, requires_grad=True)
    (w.sin().sum() + (w**2).sum()).backward()
    g = w.grad.clone()
    _orthograd_([w])
    assert abs(float((w.grad * w.detach()).sum())) < 1e-12 and abs(float(w.grad.norm() - g.norm())) < 1e-12
    lr = 1e-3
    new = w.detach() - lr * w.grad
    assert abs(float((new**2).sum() - (w.detach()**2).sum()) - lr**2 * float(g.norm()**2)) < 1e-14


def test_homogeneity_identity_with_torch_autograd():
    torch = pytest.importorskip("torch")
    gen = torch.Generator().manual_seed(1)
    widths = (226, 200, 200, 113)  # the authors' bias-free MLP
    ws = [(torch.randn(o, i, generator=gen, dtype=torch.float64) / math.sqrt(i)).requires_grad_()
          for i, o in zip(widths, widths[1:])]
    x = torch.rand(5, 226, generator=gen, dtype=torch.float64)
    y = torch.arange(5)
    for i in range(5):
        h = x[i:i + 1]
        for k, w in enumerate(ws):
            h = h @ w.T if k == len(ws) - 1 else torch.relu(h @ w.T)
        z = h[0]
        ce = torch.logsumexp(z, 0) - z[y[i]]
        grads = torch.autograd.grad(ce, ws)
        radial = sum(float((g * w.detach()).sum()) for g, w in zip(grads, ws))
        z = z.detach()
        p = torch.softmax(z, 0)
        want = 3 * float((p * z).sum() - z[y[i]])
        assert abs(radial - want) <= 1e-10 * (1 + abs(want))


def test_numpy_backprop_and_symbolic_degree():
    rng = np.random.default_rng(5)
    ws = [rng.normal(size=(o, i)) for i, o in zip((4, 6, 6, 3), (6, 6, 3))]
    x = np.abs(rng.normal(size=(8, 4)))
    z, grads = mlp_forward_backward(ws, x, np.zeros(8, dtype=int))
    theta = np.concatenate([w.ravel() for w in ws])
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    assert np.allclose(grads @ theta, 3 * ((p * z).sum(1) - z[:, 0]), rtol=1e-10, atol=1e-12)
    w_syms, logits = bias_free_mlp((2, 2, 3), (sp.Symbol("x0", positive=True), sp.Symbol("x1", positive=True)))
    assert homogeneity_degree(w_syms, logits) == 2
    bound = derive_claim(HOMOGENEOUS, HOMOGENEOUS.claim("radial")).value
    assert float(bound.subs({z1: 3, sp.Symbol("z2", real=True): 1, sp.Symbol("z3", real=True): -2, L: 3})) < 0


def test_small_modular_addition_run():
    pytest.importorskip("torch")
    from gpu_validation._softmax_collapse_sim import modular_addition
    # the card's own (check-sized) run: 200 full-batch steps at lr 0.05, hidden 64
    result = modular_addition(MODULAR, seed=0)
    runs = result.data["runs"]
    verdicts = {v.claim: v for v in result.verdicts}
    assert verdicts["softmax_collapses"].agrees, result.lines
    assert verdicts["stablemax_no_collapse"].agrees, result.lines
    assert verdicts["orthograd_no_collapse"].agrees, result.lines
    assert max(runs["orthograd"]["sc"]) == 0.0 and max(runs["stablemax"]["sc"]) == 0.0
    assert max(runs["softmax"]["sc"]) > 0 and max(runs["softmax"]["test_acc"]) <= 0.1


def test_the_scenario_refutes_collapse_that_has_not_happened():
    pytest.importorskip("torch")
    from dataclasses import replace

    from gpu_validation._softmax_collapse_sim import modular_addition
    # 20 steps: nothing fits yet, so no collapse and no generalisation; a strict sc_min is not met either
    short = modular_addition(MODULAR, seed=0, steps=20)
    verdicts = {v.claim: v.agrees for v in short.verdicts}
    assert verdicts["softmax_collapses"] is False and verdicts["orthograd_no_collapse"] is False
    strict = replace(MODULAR, simulation=replace(MODULAR.simulation, options={**MODULAR.simulation.options,
                                                                               "sc_min": 0.5}))
    assert not modular_addition(strict, seed=0, steps=20).agrees
