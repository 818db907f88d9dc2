"""The modified flow on a small MLP (gpu_validation/_modified_flow_sim.py): the card's own rule (GD, heavy ball)
tracks the flow of the card's own modified loss at the claimed order while the gradient flow does not; a
wrong coefficient drops the slope to the gradient flow's; the figure is log-log."""
from __future__ import annotations

import dataclasses
import math

import pytest
import sympy as sp

from numerics._modified_flow import SLOPE_TOL
from theory import InputError, get, grad, loss, norm

torch = pytest.importorskip("torch")

from gpu_validation._modified_flow_sim import MLP, _field, compile_claim, modified_flow_mlp  # noqa: E402

x = sp.Symbol("x")
h = sp.Symbol("h", positive=True)
EXPECTED = {"gd.smooth.modified_loss": (3, "local, one step"),
            "heavy_ball.smooth.modified_loss": (2, "global, fixed horizon")}


def _mutant(card_id: str, loss_expr, seeds: int | None = None):
    card = get(card_id)
    claim = dataclasses.replace(card.claims[0], loss=loss_expr)
    sim = card.simulation if seeds is None else dataclasses.replace(card.simulation, seeds=seeds)
    return dataclasses.replace(card, id=card_id.replace("smooth", "mutant"), claims=(claim, *card.claims[1:]),
                               simulation=sim)


@pytest.fixture(scope="module")
def results():
    return {cid: modified_flow_mlp(get(cid), device="cpu", seed=0) for cid in EXPECTED}


@pytest.mark.parametrize("card_id", sorted(EXPECTED))
def test_the_modified_flow_tracks_the_iterates_at_the_claimed_order(results, card_id):
    r = results[card_id]
    order, kind = EXPECTED[card_id]
    (v,) = r.verdicts
    assert v.claim == "mlp_error_order" and v.agrees is True and r.agrees, v.detail
    runs = r.data["runs"]
    assert len(runs) == get(card_id).simulation.seeds and [u["seed"] for u in runs] == r.data["seeds"]
    for run in runs:
        assert run["kind"] == kind and run["expected"] == order and len(run["h"]) == 4
        assert abs(run["slope"] - order) <= SLOPE_TOL, run
        assert abs(run["plain_slope"] - (order - 1)) <= SLOPE_TOL, run
        # the claimed flow is closer than the gradient flow at every h, by a factor growing as h falls
        ratios = [p / e for p, e in zip(run["plain_errors"], run["errors"])]
        assert all(b > 1.5 * a for a, b in zip(ratios, ratios[1:])) and ratios[0] > 2, ratios
        assert run["integrator_share"] <= 0.01 and all(e > 1e-12 for e in run["errors"])  # above rounding
        assert run["parameters"] == 2 * 8 + 8 + 8 * 8 + 8 + 8 + 1


def test_the_flows_coefficient_comes_from_the_claim():
    """compile_claim reads the claim's modified loss: GD's 1/4, heavy ball's (1+beta)/(4(1-beta)^2) at the
    card's beta = 0.5 (1.5) with speed 1/(1-beta) = 2, equal to the claim's own ``value``."""
    for cid in EXPECTED:
        card = get(cid)
        claim = card.claims[0]
        at = {s: float(v) for s, v in card.simulation.at.items()}
        speed, _, terms = compile_claim(claim, card.state[0], at)
        coef = dict((tuple(m), c) for c, m in terms)
        assert coef[(1, 0, 0)] == 1.0 and set(coef) == {(1, 0, 0), (0, 1, 1)}
        assert coef[(0, 1, 1)] == pytest.approx(float(claim.value.subs(card.simulation.at)), rel=1e-15)
        assert speed == pytest.approx(float(claim.speed.subs(card.simulation.at)), rel=1e-15)
    b = 0.5
    assert coef[(0, 1, 1)] == pytest.approx((1 + b) / (4 * (1 - b) ** 2)) and speed == pytest.approx(2.0)
    field_card = get("gd.smooth.modified_flow_order2")
    with pytest.raises(InputError, match="modified loss"):
        compile_claim(field_card.claims[0], field_card.state[0], {})


def test_the_double_backward_field_is_minus_g_minus_2c_h_hessian_times_g():
    """The autograd field of L + c h ||g||^2 against -(g + 2 c h H g) with H g from the curvature toolkit's
    forward-over-reverse HVP (an independent autograd route)."""
    from gpu_validation.curvature import hvp
    card = get("heavy_ball.smooth.modified_loss")
    speed, M, _ = compile_claim(card.claims[0], card.state[0], {card.symbol("beta"): 0.5})
    net = MLP(8, 32, seed=3, device=torch.device("cpu"))
    theta = net.theta0
    f = (lambda t: net.loss(t[None])[0])
    g = torch.func.grad(f)(theta)
    hg = hvp(f, theta, g, check=True)
    step = 0.01
    F = _field(net, M, speed)(theta[None], torch.tensor([[step]], dtype=torch.float64))[0]
    expect = -speed * (g + 2 * 1.5 * step * hg)
    assert torch.allclose(F, expect, rtol=1e-12, atol=1e-14)
    F0 = _field(net, M, speed)(theta[None], torch.zeros(1, 1, dtype=torch.float64))[0]
    assert torch.allclose(F0, -speed * g, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("card_id, wrong", [
    ("gd.smooth.modified_loss", lambda b: loss(x) + h / 2 * norm(grad(x)) ** 2),
    ("heavy_ball.smooth.modified_loss", lambda b: loss(x) + (1 + b) / (4 * (1 - b)) * h * norm(grad(x)) ** 2),
])
def test_a_wrong_coefficient_drops_to_the_gradient_flows_order(card_id, wrong):
    """h/2 for GD's h/4; (1+beta)/(4(1-beta)) for heavy ball's (1+beta)/(4(1-beta)^2): the scenario disagrees
    and the mutant's slope is the gradient flow's (order - 1), not the claimed order."""
    card = get(card_id)
    b = card.symbol("beta") if card_id.startswith("heavy") else None
    r = modified_flow_mlp(_mutant(card_id, wrong(b), seeds=1), device="cpu", seed=0)
    order, _ = EXPECTED[card_id]
    (v,) = r.verdicts
    assert v.agrees is False and not r.agrees, v.detail
    (run,) = r.data["runs"]
    assert abs(run["slope"] - (order - 1)) <= 2 * SLOPE_TOL, run["slope"]
    assert abs(run["plain_slope"] - (order - 1)) <= SLOPE_TOL   # the experiment itself still resolves orders


def test_simulate_plot_draws_the_log_log_figure(tmp_path, capsys):
    from optverify.cli import main
    out = tmp_path / "gd_modified.png"
    assert main(["simulate", "gd.smooth.modified_loss", "--device", "cpu", "--plot", str(out)]) == 0
    text = capsys.readouterr().out
    assert "[agrees] mlp_error_order" in text and "modified flow: slope" in text and "gradient flow: slope" in text
    assert out.exists() and out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 10_000


def test_the_panels_are_log_log_with_reference_slopes(results, tmp_path):
    from optverify.plots import plot_panels
    r = results["heavy_ball.smooth.modified_loss"]
    assert len(r.panels) == 2 and all(p.logx and p.logy for p in r.panels)
    labels = [c.label for c in r.panels[0].curves]
    assert any(s.startswith("claimed") for s in labels) and any(s.startswith("gradient flow") for s in labels)
    assert "slope 2 (reference)" in labels and "slope 1 (reference)" in labels
    ref = next(c for c in r.panels[0].curves if c.label == "slope 2 (reference)")
    assert math.log(ref.y[0] / ref.y[-1]) / math.log(ref.x[0] / ref.x[-1]) == pytest.approx(2.0)
    path = plot_panels(r, tmp_path / "hb.png")
    assert path.exists() and path.stat().st_size > 10_000
