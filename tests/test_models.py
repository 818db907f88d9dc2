"""The numeric-model mechanism: Relation claims over a model's quantities, the independent route,
random instances, eval with data overrides, and refutation with a shrunk counterexample."""
from __future__ import annotations

import json

import numpy as np
import pytest
import sympy as sp
from hypothesis import strategies as st

from numerics import check
from numerics._evaluate import evaluate
from numerics._models import NumericModel, models, register
from optverify.cli import main
from theory import Card, CardError, InputError, Model, Relation, Source

x = sp.Symbol("x", positive=True)
q, s = sp.Symbol("q"), sp.Symbol("s")


def _compute(params, data):
    w = data["weights"]
    return {"q": sum(wi * params["x"] ** 2 for wi in w), "s": sum(w)}


def _independent(params, data):
    total = 0.0
    for wi in data["weights"]:
        total += wi * params["x"] * params["x"]
    return {"q": total}


def _validate(data):
    w = data["weights"]
    if any(wi < 0 for wi in w):
        raise InputError("weights must be nonnegative")
    return data


register("toy_weighted_square", NumericModel(
    _compute, _independent, lambda base: st.fixed_dictionaries(
        {"weights": st.lists(st.floats(0, 10), min_size=1, max_size=5)}), _validate))


def toy(relation: Relation) -> Card:
    return Card(id="toy.model.relation", title="toy", symbols=(x,), claims=(relation,), source=Source("toy"),
                model=Model("toy_weighted_square", (q, s), data={"weights": (1, 2)}, instances=True))


def test_relation_verified_with_independent_route():
    report = check(toy(Relation("nonneg", q, ">=", 0)), examples=50)
    assert report.passed, report.checks
    names = [c.name for c in report.checks]
    assert "relation" in names and "independent_route" in names


def test_false_relation_is_refuted_with_shrunk_counterexample():
    report = check(toy(Relation("too_small", q, "<=", 2 * x**2)), examples=100)
    assert not report.passed
    ce = report.counterexample
    assert ce is not None and ce["shrunk"] and ce["check"] == "relation"


def test_relation_uses_random_instances():
    # true on the card's data (weights sum to 3) but false for other instances of the family
    report = check(toy(Relation("card_only", s, "==", 3)), examples=100)
    assert not report.passed and report.counterexample["data"] is not None


def test_eval_returns_quantities_relations_and_overrides():
    card = toy(Relation("nonneg", q, ">=", 0))
    values = evaluate(card, {"x": 2.0})
    assert values["q"] == pytest.approx(12.0) and values["s"] == pytest.approx(3.0) and values["nonneg"] is True
    assert evaluate(card, {"x": 2.0, "weights": [1.0]})["q"] == pytest.approx(4.0)
    with pytest.raises(InputError, match="nonnegative"):
        evaluate(card, {"x": 2.0, "weights": [-1.0]})


def test_card_validation_of_models():
    with pytest.raises(CardError, match="undeclared"):
        toy(Relation("bad", sp.Symbol("zz"), ">=", 0))
    with pytest.raises(CardError, match="relation must be one of"):
        toy(Relation("bad", q, "=>", 0))
    with pytest.raises(CardError, match="not parameters"):
        Card(id="toy.model.bad", title="t", symbols=(x,), claims=(Relation("r", x, ">", 0),), source=Source("t"),
             model=Model("m", (x,)))


def test_cli_eval_json_with_list_data(tmp_path, capsys):
    card_file = tmp_path / "toy_card.py"
    card_file.write_text(
        "import sympy as sp\nfrom theory import Card, Model, Relation, Source\n"
        "x = sp.Symbol('x', positive=True)\nq, s = sp.symbols('q s')\n"
        "CARD = Card(id='toy.model.cli', title='t', symbols=(x,), claims=(Relation('nonneg', q, '>=', 0),),"
        " source=Source('t'), model=Model('toy_weighted_square', (q, s), data={'weights': (1, 2)}))\n")
    assert main(["eval", "toy.model.cli", "--cards", str(tmp_path), "--at", "x=1", "--at", "weights=[3,4]",
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["values"]["q"] == pytest.approx(7.0)
    assert main(["eval", "toy.model.cli", "--cards", str(tmp_path), "--at", "x=1", "--at", "nope=[1]"]) == 2
    err = capsys.readouterr().err
    assert "no parameter 'nope'" in err and "weights" in err


def test_table_values_side_by_side(tmp_path, capsys):
    (tmp_path / "toy_card.py").write_text(
        "import sympy as sp\nfrom theory import Card, Model, Relation, Source\n"
        "x = sp.Symbol('x', positive=True)\nq, s = sp.symbols('q s')\n"
        "CARD = Card(id='toy.model.table', title='t', symbols=(x,), claims=(Relation('nonneg', q, '>=', 0),),"
        " source=Source('t'), model=Model('toy_weighted_square', (q, s), data={'weights': (1, 2)}))\n")
    assert main(["table", "--values", "toy.model", "--cards", str(tmp_path), "--grid", "x=1,2"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "| construction | at | q | s |"
    assert lines[2:] == ["| `toy.model.table` | x=1 | 3 | 3 |", "| `toy.model.table` | x=2 | 12 | 3 |"]
    assert main(["table", "--values", "toy.model", "--cards", str(tmp_path), "--grid", "x=1,2", "--format",
                 "latex"]) == 0
    assert r"\texttt{toy.model.table} & $x=2$ & 12 & 3 \\" in capsys.readouterr().out
    assert main(["table", "--values", "nothing.here", "--cards", str(tmp_path)]) == 2
    assert main(["table", "--values", "toy", "--cards", str(tmp_path), "--grid", "x=a"]) == 2


def test_registry_is_one_dict():
    assert "toy_weighted_square" in models()


def test_eval_takes_unbound_hyper_parameters_from_the_card_simulation(capsys):
    # the max-margin quantities do not depend on the optimiser's eta0/beta1/beta2: eval needs only the data
    argv = ["eval", "adam_incremental.separable.fixed_point_margin", "--at", "X=[[1,2],[2,-1],[-1,-1]]",
            "--at", "y=[1,1,-1]", "--json"]
    assert main(argv) == 0
    values = json.loads(capsys.readouterr().out)["values"]
    assert values["gamma_inf"] >= values["gamma_2"] > 0
    assert main(argv[:2] + ["--at", "X=[[1,2],[-1,-2]]", "--at", "y=[1,1]"]) == 2
    assert "not linearly separable" in capsys.readouterr().err


MODEL_DATA = [(c.id, k) for c in __import__("theory").catalogue() if c.model is not None for k in c.model.data]


@pytest.mark.parametrize(("card_id", "key"), MODEL_DATA, ids=lambda x: str(x))
def test_non_finite_data_is_a_one_line_error(capsys, card_id, key):
    assert main(["eval", card_id, "--at", f"{key}=[NaN, 1]"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("optverify: error:") and "\n" not in err and "internal" not in err


@pytest.mark.parametrize("failure", [FloatingPointError("overflow in exp"), np.linalg.LinAlgError("singular"),
                                     "nonfinite"])
def test_numerical_failure_of_a_model_is_a_result(capsys, monkeypatch, failure):
    """The model is forced to fail (it raises, or returns a non-finite quantity), whatever the
    installed numpy/scipy would do at extreme parameters: eval reports it and exits 0."""
    import numerics._evaluate as ev
    import numerics._models as models
    real = models.quantities

    def failing(card, point, data=None, **kw):
        if failure == "nonfinite":
            return {k: float("inf") for k in real(card, point, data, **kw)}
        raise failure
    monkeypatch.setattr(models, "quantities", failing)
    assert ev  # the evaluator imports quantities from numerics._models at call time
    assert main(["eval", "rlhf_dpo.policy_misspecified", "--at", "beta=0.5", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["values"]["V_rlhf"] is None and "failed numerically" in out["not_evaluated"]["V_rlhf"]


def test_eval_runs_a_model_with_only_the_parameters_it_reads(capsys):
    # the alignment model reads eta and s (s from the card's simulation); the per-mode identity needs lambda too
    assert main(["eval", "sgd.quadratic.stationary_alignment", "--at", "eta=0.5", "--at", "dominant=[1,0.9]",
                 "--at", "bulk=[0.1,0.05]", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["values"]["theta_closed"] == pytest.approx(out["values"]["theta_lyapunov"], rel=1e-9)
    assert out["values"]["gradient_energy"] is None and "lambda" in out["not_evaluated"]["gradient_energy"]


def test_table_values_over_every_construction_does_not_abort(capsys):
    # cards whose parameters the grid does not give get a row of dashes; the others their values
    assert main(["table", "--values", "--grid", "beta=0.3"]) == 0
    rows = capsys.readouterr().out.strip().splitlines()[2:]
    assert any(r.startswith("| `rlhf_dpo.policy_misspecified` | beta=0.3 | ") for r in rows)
    assert len(rows) == sum(1 for c in __import__("theory").catalogue() if c.model is not None)
