"""The torch layer: batched fast path == naive reference loop; every card's simulation agrees
with its claims on CPU; divergence is a result; the device is chosen in one place."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from gpu_validation import DeviceError, pick_device, run_batch, simulate
from gpu_validation._algorithms import ALGORITHMS
from gpu_validation._problems import quadratic
from gpu_validation._reference import reference_run
from numerics import with_claim
from theory import catalogue, get

SIMULATED = [c for c in catalogue() if c.simulation is not None]
HYPER = {
    "gd": {"eta": [0.3, 0.9]},
    "heavy_ball": {"eta": [0.3, 0.9], "beta": [0.5, 0.9]},
    "nesterov": {"eta": [0.2, 0.6], "beta": [0.5, 0.9]},
    "adam_frozen": {"eta": [0.5, 3.0], "beta1": [0.5, 0.9]},
    "usam": {"eta": [0.2, 0.5], "rho": [0.1, 0.3]},
    "sam": {"eta": [0.3, 0.9], "rho": [0.1, 0.5]},
    "schedule_free_sgd": {"gamma": [0.3, 2.0], "beta": [0.5, 0.9], "t0": 3.0},
}


def test_every_algorithm_has_a_reference_case():
    assert set(HYPER) == set(ALGORITHMS)


@pytest.mark.parametrize("name", sorted(ALGORITHMS))
def test_batched_equals_reference_loop(name):
    problem = quadratic([2.0, 0.5, 1.0], seed=3, preconditioned=ALGORITHMS[name].needs_precond)
    x0 = torch.randn(2, 3, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    hp = {k: (torch.tensor(v, dtype=torch.float64)[:, None] if isinstance(v, list) else v)
          for k, v in HYPER[name].items()}
    if problem.precond is not None:
        hp["precond"] = problem.precond
    steps = 40
    out = run_batch(name, problem, hp, x0, steps)
    for row in range(2):
        row_hp = {k: (v[row] if isinstance(v, list) else v) for k, v in HYPER[name].items()}
        ref = reference_run(name, problem, x0[row], row_hp, steps)[-1]
        np.testing.assert_allclose(out["x"][row], ref.numpy(), rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("card", SIMULATED, ids=lambda c: c.id)
def test_simulation_agrees_with_every_claim(card):
    result = simulate(card, device="cpu")
    json.dumps(result.to_json())  # serialisable, inf included
    if card.status == "conjecture" and not result.agrees:
        # an unconfirmed conjecture is a finding: its card must say so, and every claim was judged
        assert "not confirmed" in card.notes.lower() or "disagrees" in card.notes.lower()
        assert all(v.agrees is not None for v in result.verdicts)
        return
    assert result.agrees, [v.detail for v in result.verdicts]
    for p in result.points:
        if hasattr(p, "sharpness"):  # a network run: the observer judged it
            assert p.outcome == "agrees"
        else:
            assert p.outcome == ("converged" if p.factor < 1 else "diverged")
    json.dumps(result.to_json())  # serialisable, inf included


def test_a_wrong_claim_is_refuted_by_simulation():
    card = get("gd.quadratic.critical_step")
    wrong = with_claim(card, "eta_crit", 3 / card.symbol("lambda"))  # above the true 2/lambda
    result = simulate(wrong, device="cpu", factors=[0.9, 1.1])
    assert not result.agrees
    assert [p.outcome for p in result.points] == ["diverged", "diverged"]  # 0.9 * 3/l > 2/l


def test_divergence_is_a_result_not_an_exception():
    result = simulate(get("heavy_ball.quadratic.critical_step"), device="cpu", factors=[3.0, 10.0], steps=200)
    assert all(p.outcome == "diverged" for p in result.points)
    assert all(k is not None and k < 200 for p in result.points for k in p.steps_to_diverge)
    text = json.dumps(result.to_json())
    assert "inf" in text or "final_norm" in text


def test_runs_are_reproducible_and_record_their_provenance():
    card = get("nesterov.quadratic.critical_step")
    a, b = simulate(card, device="cpu", seed=7), simulate(card, device="cpu", seed=7)
    np.testing.assert_array_equal(a.norms, b.norms)
    c = simulate(card, device="cpu", seed=8)
    assert not np.array_equal(a.norms, c.norms)
    assert a.seed == 7 and a.device == "cpu" and a.versions["torch"] == torch.__version__


def test_spectrum_override():
    result = simulate(get("gd.quadratic.critical_step"), at={"spectrum": [10.0, 1.0]}, device="cpu")
    assert result.predicted == pytest.approx(0.2) and result.agrees


def test_device_choice():
    assert pick_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert pick_device("cpu").type == "cpu"
    with pytest.raises(DeviceError):
        pick_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(DeviceError, match="no CUDA"):
            pick_device("cuda")


@pytest.mark.gpu
@pytest.mark.parametrize("card", [c for c in SIMULATED if c.estimator is None], ids=lambda c: c.id)
def test_gpu_matches_cpu(card):
    cpu, gpu = simulate(card, device="cpu"), simulate(card, device="cuda")
    assert gpu.agrees and [p.outcomes for p in gpu.points] == [p.outcomes for p in cpu.points]
    finite = np.isfinite(cpu.norms) & np.isfinite(gpu.norms) & (cpu.norms > 1e-200)
    np.testing.assert_allclose(gpu.norms[finite], cpu.norms[finite], rtol=1e-8)
