"""The CLI contract other issues and users script against, and one-line errors with exit 2."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import png_content
from optverify.cli import main
from theory import catalogue, get


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_list_shows_every_card(capsys):
    code, out, _ = run(capsys, "list")
    assert code == 0
    for card in catalogue():
        assert card.id in out
    code, out, _ = run(capsys, "list", "--json")
    assert {c["id"] for c in json.loads(out)} == {c.id for c in catalogue()}


def test_show_has_the_derivation(capsys):
    code, out, _ = run(capsys, "show", "heavy_ball.quadratic.critical_step")
    assert code == 0
    for part in ("iteration matrix", "characteristic polynomial", "Schur-Cohn", "derived (schur_cohn)",
                 "LaTeX", "2*(beta + 1)/lambda"):
        assert part in out


def test_eval_json_contract(capsys):
    code, out, _ = run(capsys, "eval", "nesterov.quadratic.critical_step", "--at", "lambda=3.5", "--at", "beta=0.9",
                       "--json")
    data = json.loads(out)
    assert code == 0 and data["id"] == "nesterov.quadratic.critical_step"
    assert data["at"] == {"lambda": 3.5, "beta": 0.9}
    assert data["values"]["eta_crit"] == pytest.approx(2 * 1.9 / (2.8 * 3.5), rel=1e-15)


def test_eval_spectrum(capsys):
    code, out, _ = run(capsys, "eval", "heavy_ball.quadratic.critical_step", "--at", "spectrum=[4, 1, 0.25]",
                       "--at", "beta=0.5", "--json")
    assert code == 0 and json.loads(out)["values"]["eta_crit"] == pytest.approx(3 / 4)


def test_check_json_contract(capsys):
    code, out, _ = run(capsys, "check", "gd.quadratic.critical_step", "--json", "--examples", "20")
    (report,) = json.loads(out)
    assert code == 0 and report["passed"] is True and report["counterexample"] is None
    assert {"id", "passed", "checks", "counterexample"} <= set(report)
    assert all({"name", "passed", "detail"} <= set(c) for c in report["checks"])
    assert any(c["name"].endswith("simulation") and c["passed"] for c in report["checks"])


def test_check_refutes_with_counterexample_json(capsys):
    code, out, _ = run(capsys, "check", "usam.quadratic.critical_step", "--claim", "eta_crit=2/lambda", "--json",
                       "--no-simulate", "--examples", "50")
    (report,) = json.loads(out)
    assert code == 1 and report["passed"] is False
    assert set(report["counterexample"]["at"]) <= {"lambda", "rho"}


def test_conjecture_command_is_check_claim(capsys):
    code, _, _ = run(capsys, "conjecture", "gd.quadratic.critical_step", "eta_crit = 2/lambda", "--no-simulate",
                     "--examples", "20")
    assert code == 0


def test_simulate_json_contract(capsys, tmp_path):
    plot = tmp_path / "sam.png"
    code, out, _ = run(capsys, "simulate", "sam.quadratic.two_cycle", "--json", "--plot", str(plot))
    data = json.loads(out)
    assert code == 0 and data["agrees"] is True
    assert data["predicted"] == pytest.approx(2.0) and len(data["grid"]) == len(data["points"])
    assert {p["outcome"] for p in data["points"]} == {"converged", "diverged"}
    assert {"seed", "device", "versions"} <= set(data)
    png_content(plot, (3.4, 2.6))   # the one-column threshold figure, drawn


def test_simulate_scenario_json_text_and_plot(capsys, tmp_path):
    """A scenario card (a construction's simulation): verdicts, measured data, panels, provenance."""
    plot = tmp_path / "final.png"
    code, out, _ = run(capsys, "simulate", "logcosh_xy.gd.final_sharpness", "--json", "--plot", str(plot))
    data = json.loads(out)
    assert code == 0 and data["agrees"] is True and data["claims"]
    assert all(c["agrees"] is True for c in data["claims"])
    assert data["panels"] and all(p["curves"] for p in data["panels"])
    assert {"seed", "device", "versions", "data"} <= set(data)
    png_content(plot, (5.2 * len(data["panels"]), 4.2))   # one 5.2 x 4.2 in panel per scenario panel, drawn
    code, out, _ = run(capsys, "simulate", "logcosh_xy.gd.final_sharpness")
    assert code == 0 and "[agrees]" in out


def test_unconfirmed_conjecture_is_reported_not_failed_by_check_all(capsys, monkeypatch):
    from dataclasses import replace

    import optverify.cli as cli
    from numerics import CardReport, CheckResult
    fake = {"a.b.theorem": "theorem", "a.b.conjecture": "conjecture"}

    def check(card, **_):
        ok = card.status == "theorem"
        return CardReport(card.id, (CheckResult("x", ok, "measured"),), 0, 1, status=card.status)

    cards = [replace(get("gd.quadratic.critical_step"), id=i, status=st, simulation=None) for i, st in fake.items()]
    monkeypatch.setattr(cli, "catalogue", lambda **_: cards)
    monkeypatch.setattr("numerics.check", check)
    code, out, _ = run(capsys, "check", "--all", "--workers", "1")  # in-process: the patched catalogue
    assert code == 0 and "UNCONFIRMED (conjecture)  a.b.conjecture" in out and "not confirmed: a.b.conjecture" in out
    monkeypatch.setattr(cli, "get", lambda i, **_: next(c for c in cards if c.id == i))
    code, out, _ = run(capsys, "check", "a.b.conjecture")
    assert code == 1


def test_new_card_and_user_folder(capsys, tmp_path):
    folder = tmp_path / "conjectures"
    code, out, _ = run(capsys, "new", "my_method.quadratic.critical_step", "--dir", str(folder))
    assert code == 0 and (folder / "my_method_quadratic_critical_step.py").exists()
    code, out, _ = run(capsys, "check", "--cards", str(folder), "--examples", "20")
    assert code == 0 and "VERIFIED  my_method.quadratic.critical_step" in out
    code, out, _ = run(capsys, "list", "--cards", str(folder))
    assert "my_method.quadratic.critical_step" in out and "conjecture" in out
    # a user's wrong formula in a file is refuted like a built-in card
    path = folder / "my_method_quadratic_critical_step.py"
    path.write_text(path.read_text().replace("value=2 * (1 + beta) / lam", "value=2 * (1 + 2 * beta) / lam"))
    code, out, _ = run(capsys, "check", "--cards", str(folder), "--examples", "20", "--no-simulate")
    assert code == 1 and "counterexample" in out


BAD = [
    ("eval", "no.such.card"),
    ("eval", "heavy_ball.quadratic.critical_step", "--at", "lambda"),
    ("eval", "heavy_ball.quadratic.critical_step", "--at", "lambda=abc", "--at", "beta=0.5"),
    ("eval", "heavy_ball.quadratic.critical_step", "--at", "mu=1", "--at", "beta=0.5"),
    ("eval", "heavy_ball.quadratic.critical_step", "--at", "lambda=-1", "--at", "beta=0.5"),
    ("eval", "heavy_ball.quadratic.critical_step", "--at", "lambda=1", "--at", "beta=1.0"),
    ("eval", "heavy_ball.quadratic.critical_step", "--at", "lambda=nan", "--at", "beta=0.5"),
    ("eval", "heavy_ball.quadratic.critical_step", "--at", "beta=0.5"),
    ("eval", "heavy_ball.quadratic.critical_step", "--at", "spectrum=[1, -2]", "--at", "beta=0.5"),
    ("eval", "heavy_ball.quadratic.critical_step", "--at", "spectrum=[1,", "--at", "beta=0.5"),
    ("eval", "sam.quadratic.two_cycle", "--at", "eta=0", "--at", "rho=1", "--at", "lambda=1"),
    ("eval", "sam.quadratic.two_cycle", "--at", "eta=-0.5", "--at", "rho=1", "--at", "lambda=1"),
    ("check", "heavy_ball.quadratic.critical_step", "--claim", "eta_crit=__import__('os').getcwd()"),
    ("check", "heavy_ball.quadratic.critical_step", "--claim", "eta_crit=2*(1+mu)/lambda"),
    ("check", "heavy_ball.quadratic.critical_step", "--claim", "eta_crit=2*(1+"),
    ("check", "heavy_ball.quadratic.critical_step", "--claim", "eta_crit=2/eta"),
    ("check", "heavy_ball.quadratic.critical_step", "--claim", "no_such_claim=2/lambda"),
    ("check", "--cards", "/nonexistent/folder"),
    ("check",),
    ("simulate", "gd.quadratic.critical_step", "--steps", "0"),
    ("simulate", "gd.quadratic.critical_step", "--at", "eta=1"),
    ("simulate", "gd.quadratic.critical_step", "--factors", "1,x"),
    ("simulate", "gd.quadratic.critical_step", "--device", "tpu"),
    ("new", "Not An Id"),
    ("frobnicate",),
]


@pytest.mark.parametrize("argv", BAD, ids=lambda a: " ".join(a)[:60])
def test_bad_input_is_one_line_and_exit_2(capsys, argv):
    code, out, err = run(capsys, *argv)
    assert code == 2, (out, err)
    assert err.count("\n") == 1 and err.startswith("optverify: error:") and "Traceback" not in err


def test_cuda_without_cuda_is_a_clear_error(capsys):
    import torch
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    code, _, err = run(capsys, "simulate", "gd.quadratic.critical_step", "--device", "cuda")
    assert code == 2 and "CUDA" in err


def test_broken_user_card_file_is_one_line(capsys, tmp_path):
    (tmp_path / "bad.py").write_text("import sympy as sp\nCARD = 1 / 0\n")
    code, _, err = run(capsys, "check", "--cards", str(tmp_path))
    assert code == 2 and "ZeroDivisionError" in err and err.count("\n") == 1


@pytest.mark.parametrize("argv", [["list"], ["show", "gd.quadratic.critical_step"], ["table"],
                                  ["eval", "gd.quadratic.critical_step", "--at", "lambda=2"]])
def test_light_commands_do_not_import_torch(argv):
    code = ("import sys; from optverify.cli import main; rc = main(%r); "
            "assert 'torch' not in sys.modules, 'torch imported'; sys.exit(rc)" % (argv,))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=Path(__file__).parents[1])
    assert proc.returncode == 0, proc.stderr


def test_console_script_runs():
    proc = subprocess.run([sys.executable, "-m", "optverify", "list"], capture_output=True, text=True)
    assert proc.returncode == 0 and "gd.quadratic.critical_step" in proc.stdout


@pytest.mark.parametrize(("card_id", "claim"), [
    ("kl_regularized.optimal_policy", "V_star_closed_form"),     # a numeric route that samples the claim's symbols
    ("zo_gd.quadratic.ms_critical_step", "eta_equal_spectrum"),  # ... and a multiplicity only the claim names
    ("ghosts.multiclass.radius_lower_bound", "zero_free_strip"),
    ("zo_gd.quadratic.ms_bounds", "lower"),                      # a counterexample with a spectrum (a list)
])
def test_a_constant_claim_is_refuted_not_crashed(capsys, card_id, claim):
    code, out, err = run(capsys, "check", card_id, "--claim", f"{claim}=1", "--examples", "20", "--no-simulate")
    assert code == 1 and ("REFUTED" in out or "FAILED" in out)
    assert "internal error" not in err


def test_check_takes_globs(capsys):
    """`check 'amuse.*'` checks every matching card; a glob matching nothing is one line and exit 2."""
    from optverify.cli import main
    assert main(["check", "amuse.*", "--no-simulate", "--workers", "1"]) == 0
    assert "VERIFIED  amuse.interpolation.schedule" in capsys.readouterr().out
    assert main(["check", "no_such_topic.*"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no card matches" in err[0]
