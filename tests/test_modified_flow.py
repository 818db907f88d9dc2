"""Backward error analysis: the engine derives the modified flow of an update rule; the claims are
checked symbolically, at random points of concrete losses, against the exact quadratic flow and by
the measured error order; wrong coefficients are refuted."""
from __future__ import annotations

import dataclasses
import json

import pytest
import sympy as sp

from numerics import check
from optverify.cli import main
from theory import Card, ModifiedFlow, Source, get, grad, loss, norm
from theory.derive.modified_flow import fit_loss, modified_field, one_dimensional, quadratic_rates

CARDS = ["gd.smooth.modified_loss", "gd.smooth.modified_flow_order2", "heavy_ball.smooth.modified_loss",
         "usam.smooth.modified_loss", "sam.smooth.modified_loss", "adam.smooth.modified_flow",
         "rr_sgd.smooth.modified_loss"]
x, x_prev, m = sp.symbols("x x_prev m")
h, beta = sp.symbols("h beta", positive=True)
g, H, T = sp.symbols("g H T")


def _routes(report):
    return {c.name: c for c in report.checks}


@pytest.mark.parametrize("card_id", CARDS)
def test_catalogue_modified_flows_verify_by_every_route(card_id):
    report = check(get(card_id), examples=60, seed=1)
    by = _routes(report)
    assert report.passed, [(c.name, c.detail) for c in report.checks if not c.passed]
    assert by["symbolic"].passed and by["random_points"].passed and by["random_points"].examples == 60
    assert by["error_order"].passed and "slope" in by["error_order"].detail
    if card_id.startswith(("sam.", "adam.", "rr_sgd.")):
        assert by["quadratic_exact"].passed is None   # not linear per mode (SAM, Adam) or minibatch curvature (RR)
    else:
        assert by["quadratic_exact"].passed is True


def test_the_engine_reproduces_the_table_in_one_dimension():
    gd = modified_field((x,), (x - h * grad(x),), h, 2, d=1)
    field = one_dimensional(gd.field, gd.coords, gd.L)
    assert sp.simplify(field[0] + g) == 0
    assert sp.simplify(field[1] + h * H * g / 2) == 0
    assert sp.simplify(field[2] + h ** 2 * (H ** 2 * g / 3 + T * g ** 2 / 12)) == 0


def test_momentum_written_two_ways_has_one_modified_loss():
    """Heavy ball (x, x_prev) and EMA momentum (x, m) are the same method: the same slow-manifold flow."""
    hb = modified_field((x, x_prev), (x - h * grad(x) + beta * (x - x_prev), x), h, 1)
    ema = modified_field((x, m), (x - h * (beta * m + grad(x)), beta * m + grad(x)), h, 1)
    for a, b in zip(hb.field, ema.field):
        assert all(sp.simplify(p - q) == 0 for p, q in zip(a, b))
    speed, modified = fit_loss(ema, x)
    assert sp.simplify(speed - 1 / (1 - beta)) == 0
    expected = loss(x) + (1 + beta) / (4 * (1 - beta) ** 2) * h * norm(grad(x)) ** 2
    assert sp.simplify(modified - expected) == 0


def test_order_two_of_gd_is_not_a_gradient_field():
    d = check(get("gd.smooth.modified_flow_order2"), examples=20).checks
    from theory.derive import derive_claim
    card = get("gd.smooth.modified_flow_order2")
    details = derive_claim(card, card.claims[0]).details
    assert details["gradient"] == [True, True, False] and details["loss"] is None
    assert all(c.passed is not False for c in d)


def test_exact_quadratic_rates_are_log_z_over_h():
    lam = sp.Symbol("lambda", positive=True)
    rates = quadratic_rates((x,), (x - h * lam * x,), h, 3)
    series = sp.series(sp.log(1 - h * lam) / h, h, 0, 4).removeO()
    assert sp.simplify(sum(rates) - series) == 0


def _mutant(card_id: str, loss_expr) -> Card:
    card = get(card_id)
    claim = dataclasses.replace(card.claims[0], loss=loss_expr)
    return dataclasses.replace(card, id=card_id.replace("smooth", "mutant"), claims=(claim,))


def test_a_wrong_gd_coefficient_is_refuted_three_ways():
    card = _mutant("gd.smooth.modified_loss", loss(x) + h / 2 * norm(grad(x)) ** 2)
    by = _routes(check(card, examples=60, seed=2))
    assert by["symbolic"].passed is False
    assert by["random_points"].passed is False and by["random_points"].counterexample["shrunk"]
    assert by["quadratic_exact"].passed is False
    order = by["error_order"]
    slopes = [float(part.split("slope ")[1].split(" ")[0]) for part in order.detail.split("; d=")[1:]]
    assert order.passed is False and all(s < 2.5 for s in slopes), order.detail   # the plain flow's order, not 3


def test_a_wrong_momentum_factor_is_refuted():
    """(1+beta)/(1-beta) where the derivation gives (1+beta)/(1-beta)^2 (at speed 1/(1-beta))."""
    b = next(s for s in get("heavy_ball.smooth.modified_loss").symbols if s.name == "beta")
    card = _mutant("heavy_ball.smooth.modified_loss", loss(x) + (1 + b) / (4 * (1 - b)) * h * norm(grad(x)) ** 2)
    by = _routes(check(card, examples=60, seed=3))
    assert by["symbolic"].passed is False and by["random_points"].passed is False
    assert by["quadratic_exact"].passed is False and by["error_order"].passed is False


def test_random_reshuffling_derives_the_minibatch_regulariser():
    """The engine, on m generic minibatch losses, fits speed m and L + (h/(4m)) sum_k ||grad L_k||^2 for
    the mean epoch; a single fixed order is not the mean (its order-h field is not that gradient)."""
    from theory.cards import rr_sgd_smooth_modified as R
    from theory.derive.modified_flow import fit_loss, modified_field
    card = get("rr_sgd.smooth.modified_loss")
    mf = modified_field(card.state, card.update, R.h, 1, (), d=2)
    speed, fitted = fit_loss(mf, R.x)
    m = R.M_BATCHES
    assert speed == m
    assert sp.simplify(fitted - (loss(R.x) + R.h / (4 * m) * sum(norm(grad(R.x, k)) ** 2 for k in range(1, m + 1)))) == 0
    one_order = modified_field(card.state, (R.epoch(range(1, m + 1)),), R.h, 1, (), d=2)
    fixed = fit_loss(one_order, R.x)
    assert fixed is None or sp.simplify(fixed[1] - fitted) != 0


def test_a_wrong_reshuffling_coefficient_is_refuted():
    from theory.cards import rr_sgd_smooth_modified as R
    m = R.M_BATCHES
    card = _mutant("rr_sgd.smooth.modified_loss",
                   loss(R.x) + R.h / (2 * m) * sum(norm(grad(R.x, k)) ** 2 for k in range(1, m + 1)))
    by = _routes(check(card, examples=40, seed=5))
    assert by["symbolic"].passed is False
    assert by["random_points"].passed is False and by["random_points"].counterexample["shrunk"]
    assert by["error_order"].passed is False


def test_a_minibatch_index_must_be_a_positive_integer():
    from theory import CardError
    with pytest.raises(CardError, match="minibatch index"):
        Card(id="bad.minibatch", title="t", symbols=(h,), eigenvalue=sp.Symbol("lam", positive=True),
             state=(x,), update=(x - h * grad(x, sp.Rational(1, 2)),),
             claims=(ModifiedFlow("c", step=h, loss=loss(x)),), source=Source("2101.12176", "abstract"))


@pytest.mark.parametrize("which", ["no_eps_term", "momentum_squared"])
def test_a_wrong_adam_coefficient_is_refuted(which):
    """C_j without its eps/(2(g_j^2+eps)) term, or beta1/(1-beta1)^2 for beta1/(1-beta1): the symbolic
    route, the hypothesis points and the measured order (2 -> the memoryless flow's 1) all refute it."""
    from theory.cards import adam_smooth_modified as A
    G = grad(x)
    C = A.C - A.epsilon / (2 * (G ** 2 + A.epsilon)) if which == "no_eps_term" else \
        A.C - A.beta1 / (1 - A.beta1) + A.beta1 / (1 - A.beta1) ** 2
    card = get("adam.smooth.modified_flow")
    claim = dataclasses.replace(card.claims[0], flow=-A.P * (G + A.h * C * A.hvp(x, G * A.P)))
    mutant = dataclasses.replace(card, id="adam.mutant.modified_flow", claims=(claim,))
    by = _routes(check(mutant, examples=40, seed=4))
    assert by["symbolic"].passed is False
    assert by["random_points"].passed is False and by["random_points"].counterexample["shrunk"]
    order = by["error_order"]
    slopes = [float(part.split("slope ")[1].split(" ")[0]) for part in order.detail.split("; d=")[1:]]
    assert order.passed is False and all(s < 1.5 for s in slopes), order.detail


def test_adam_flow_anti_penalises_the_one_norm_when_beta2_exceeds_beta1():
    """The derived C_j as eps -> 0 is beta1/(1-beta1) - beta2/(1-beta2): negative for beta2 > beta1; as
    eps -> oo it is beta1/(1-beta1) + 1/2, EMA momentum's coefficient (the heavy-ball check of the notes)."""
    from theory.cards import adam_smooth_modified as A
    from theory.derive import derive_claim
    card = get("adam.smooth.modified_flow")
    derived = derive_claim(card, card.claims[0]).details["field"]
    (X,) = derive_claim(card, card.claims[0]).details["coords"]
    Lf = derive_claim(card, card.claims[0]).details["L"]
    g1, H1 = sp.diff(Lf, X), sp.diff(Lf, X, 2)
    P = 1 / sp.sqrt(g1 ** 2 + A.epsilon)
    # h F_1 = -h P C (H g P) in one dimension: read C off the derived field
    C = sp.simplify(-derived[1][0] / (A.h * P * H1 * g1 * P))
    assert not C.has(H1) and A.h not in C.free_symbols   # a function of g and the constants only
    small = sp.limit(C.subs(g1, sp.Symbol("G", positive=True)), A.epsilon, 0)
    assert sp.simplify(small - (A.beta1 / (1 - A.beta1) - A.beta2 / (1 - A.beta2))) == 0
    large = sp.limit(C.subs(g1, sp.Symbol("G", positive=True)), A.epsilon, sp.oo)
    assert sp.simplify(large - (A.beta1 / (1 - A.beta1) + sp.Rational(1, 2))) == 0
    assert float(small.subs({A.beta1: 0.9, A.beta2: 0.999})) < 0


@pytest.mark.parametrize("b", [0.0, 0.5, 0.9])
def test_eval_gives_the_coefficient(b, capsys):
    assert main(["eval", "heavy_ball.smooth.modified_loss", "--at", f"beta={b}", "--json"]) == 0
    value = json.loads(capsys.readouterr().out)["values"]["coefficient"]
    assert value == pytest.approx((1 + b) / (4 * (1 - b) ** 2), rel=1e-12)
    assert main(["eval", "gd.smooth.modified_loss", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["values"]["coefficient"] == pytest.approx(0.25)


def test_derive_a_typed_rule_prints_its_modified_flow(capsys):
    assert main(["derive", "--state", "x", "--update", "x - h*grad(x + rho*grad(x))", "--param", "h",
                 "--small", "rho", "--modified-flow", "1", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["verdict"] == "derived" and out["gradient"] == [True, True]
    assert set(out["loss"].split(" + ")) == {"||g||**2*h/4", "||g||**2*rho/2", "L"}, out["loss"]  # L + (h/4 + rho/2)||g||^2
    assert out["speed"] == "1"
    assert main(["derive", "--state", "x", "--update", "x - h*grad(x)", "--param", "h", "--modified-flow", "2"]) == 0
    text = capsys.readouterr().out
    assert "F_1 = -H*g*h/2" in text and "F_2: no" in text and "no modified loss" in text


@pytest.mark.parametrize("argv, message", [
    (["--modified-flow", "5"], "expected 1, 2 or 3"),
    (["--modified-flow", "1", "--small", "nope"], "--small nope"),
])
def test_derive_modified_flow_bad_input_is_one_line(argv, message, capsys):
    code = main(["derive", "--state", "x", "--update", "x - h*grad(x)", "--param", "h", *argv])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err


def test_a_rule_that_moves_at_zero_step_is_not_a_method(capsys):
    assert main(["derive", "--state", "x", "--update", "x - grad(x) - h*grad(x)", "--param", "h",
                 "--modified-flow", "1"]) == 1
    assert "moves the iterate" in capsys.readouterr().out


def test_card_validation_of_modified_flow_claims():
    from theory import CardError
    base = dict(id="toy.gd.flow", title="t", symbols=(h, sp.Symbol("lambda", positive=True)),
                eigenvalue=sp.Symbol("lambda", positive=True), state=(x,), update=(x - h * grad(x),),
                source=Source("t"))
    with pytest.raises(CardError, match="exactly one of flow= or loss="):
        Card(**base, claims=(ModifiedFlow("c", step=h),))
    with pytest.raises(CardError, match="speed must not depend on the step"):
        Card(**base, claims=(ModifiedFlow("c", step=h, loss=loss(x), speed=1 + h),))
    with pytest.raises(CardError, match="order must be 1, 2 or 3"):
        Card(**base, claims=(ModifiedFlow("c", step=h, loss=loss(x), order=4),))


def test_show_prints_the_derived_modified_loss(capsys):
    assert main(["show", "usam.smooth.modified_loss"]) == 0
    out = capsys.readouterr().out
    assert "derived modified loss: L~ =" in out and "\\tilde L" in out and "order 1: equal" in out


def test_show_takes_the_issue_glob(capsys):
    """`optverify show gd.*.modified_flow` prints the derived field and its LaTeX (a glob matching no id
    whole is tried as a prefix); a glob matching nothing is one line and exit 2."""
    assert main(["show", "gd.*.modified_flow"]) == 0
    out = capsys.readouterr().out
    assert "gd.smooth.modified_flow_order2" in out and "derived field" in out and "LaTeX: \\dot x =" in out
    assert main(["show", "no_such.*.flow"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no card matches" in err[0]
