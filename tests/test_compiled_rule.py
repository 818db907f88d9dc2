"""One update rule, two uses: the card's rule compiled to torch equals the hand-written reference
of the same method (to 1e-12, on random states, hyper-parameters and losses), the simulation runs
the card's rule and nothing else, and the compiler handles methods it has never seen."""
from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
import torch

from gpu_validation import run_batch, simulate
from gpu_validation._algorithms import ALGORITHMS
from gpu_validation._compiled import Oracle, compile_rule
from gpu_validation._problems import quadratic
from gpu_validation._reference import reference_run
from gpu_validation._zo import ZO_METHODS, zo_monte_carlo
from theory import Card, InputError, Simulation, Source, Threshold, catalogue, get, grad, norm, precond

# card -> the hand-written reference of its method (gpu_validation._algorithms / _zo)
REFERENCE = {
    "gd.quadratic.critical_step": "gd",
    "heavy_ball.quadratic.critical_step": "heavy_ball",
    "nesterov.quadratic.critical_step": "nesterov",
    "adam_frozen.quadratic.critical_step": "adam_frozen",
    "usam.quadratic.critical_step": "usam",
    "sam.quadratic.two_cycle": "sam",
    "schedule_free_sgd.quadratic.critical_step": "schedule_free_sgd",
    "zo_gd.quadratic.ms_critical_step": "zo_gd",
    "zo_gd.quadratic.ms_critical_step_sphere": "zo_gd",
    "zo_gdm.quadratic.ms_critical_step": "zo_gdm",
    "zo_adam_frozen.quadratic.ms_critical_step": "zo_adam_frozen",
}
D, B = 4, 6


def test_every_reference_has_a_card_and_every_card_id_exists():
    assert set(REFERENCE.values()) == set(ALGORITHMS) | set(ZO_METHODS)
    ids = {c.id for c in catalogue()}
    assert set(REFERENCE) <= ids


def _losses(seed: int):
    """A random quadratic in a non-diagonal eigenbasis, and a non-quadratic loss (log cosh + quartic)."""
    g = torch.Generator().manual_seed(seed)
    problem = quadratic([3.0, 1.0, 0.5, 0.1], seed=seed, preconditioned=True)
    a = torch.randn(D, D, generator=g, dtype=torch.float64)

    def nonquadratic(x):
        z = x @ a
        return torch.log(torch.cosh(z)).sum(-1) + 0.1 * (x ** 4).sum(-1)
    return problem, [problem.loss, nonquadratic]


def _autograd(loss):
    return Oracle(loss).grad


@pytest.mark.parametrize("card_id", [k for k, v in REFERENCE.items() if v in ALGORITHMS])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_compiled_rule_equals_hand_written_step(card_id, seed):
    card = get(card_id)
    name = REFERENCE[card_id]
    rule = compile_rule(card)
    problem, losses = _losses(seed)
    g = torch.Generator().manual_seed(100 + seed)
    for loss in losses:
        state = {k: torch.randn(B, D, generator=g, dtype=torch.float64) for k in rule.state}
        hp = {k: 0.05 + 0.9 * torch.rand(B, 1, generator=g, dtype=torch.float64) for k in rule.params}
        ref_hp = dict(hp, precond=problem.precond)
        ref_state = dict(state)
        if name == "schedule_free_sgd":  # the card is the late phase: the averaged iterate x is frozen (c = 0)
            hp["x"] = torch.randn(B, D, generator=g, dtype=torch.float64)
            ref_hp["t0"], ref_state["x"] = math.inf, hp["x"]
            ref_hp.pop("x", None)
        ours = rule.step(state, Oracle(loss, problem.precond), hp)
        theirs = ALGORITHMS[name].step(ref_state, _autograd(loss), ref_hp, 1)
        for k in rule.state:
            np.testing.assert_allclose(ours[k].numpy(), theirs[k].numpy(), rtol=1e-12, atol=1e-14)


# two rows of hyper-parameters per method, one converging and one near or past its threshold
ROWS = {"gd": {"eta": [0.3, 0.95]}, "heavy_ball": {"eta": [0.3, 0.9], "beta": [0.5, 0.9]},
        "nesterov": {"eta": [0.2, 0.6], "beta": [0.5, 0.9]}, "adam_frozen": {"eta": [0.5, 3.0], "beta1": [0.5, 0.9]},
        "usam": {"eta": [0.2, 0.5], "rho": [0.1, 0.3]}, "sam": {"eta": [0.3, 0.9], "rho": [0.1, 0.5]},
        "schedule_free_sgd": {"gamma": [0.3, 2.0], "beta": [0.5, 0.9]}}


@pytest.mark.parametrize("card_id", [k for k, v in REFERENCE.items() if v in ALGORITHMS])
def test_compiled_rule_run_equals_the_independent_reference(card_id):
    """40 steps of the card's compiled rule (batched, autograd through the card's loss) == the unbatched
    reference loop written as the paper writes the method (gpu_validation._reference: velocity forms,
    P solved against, the schedule-free average as a running sum), row by row, to 1e-12."""
    name = REFERENCE[card_id]
    rule = compile_rule(get(card_id))
    problem = quadratic([2.0, 0.5, 1.0], seed=3, preconditioned=rule.uses_precond)
    x0 = torch.randn(2, 3, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    hp = {k: torch.tensor(v, dtype=torch.float64)[:, None] for k, v in ROWS[name].items()}
    ref_extra = {}
    if name == "schedule_free_sgd":  # the card is the late phase: the average x is frozen at the start
        hp["x"], ref_extra["t0"] = x0.clone(), math.inf
    assert set(hp) == set(rule.params)
    out = run_batch(rule, problem, hp, x0, 40)
    assert not out["diverged"].any()
    for row in range(2):
        ref = reference_run(name, problem, x0[row], {**{k: v[row] for k, v in ROWS[name].items()}, **ref_extra}, 40)
        np.testing.assert_allclose(out["x"][row], ref[-1].numpy(), rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("card_id", [k for k, v in REFERENCE.items() if v in ZO_METHODS])
def test_compiled_zo_rule_equals_hand_written_monte_carlo(card_id):
    card = get(card_id)
    rule = compile_rule(card)
    problem = quadratic([2.0, 1.0, 0.3], seed=4, preconditioned=True)
    hp = {k: torch.tensor([0.1] * 5 + [0.2] * 5, dtype=torch.float64)[:, None] if k == "eta" else 0.7
          for k in rule.params}
    kw = dict(runs=5, steps=5, n_directions=2, directions=card.estimator.directions, seed=9,
              precond=problem.precond if rule.uses_precond else None)
    ours = zo_monte_carlo(rule, problem.hessian, hp, **kw)
    theirs = zo_monte_carlo(REFERENCE[card_id], problem.hessian, hp, **kw)
    np.testing.assert_allclose(ours["x"], theirs["x"], rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(ours["sq_norm_mean"], theirs["sq_norm_mean"], rtol=1e-12)


def test_no_card_names_a_method_to_simulate():
    methods = set(ALGORITHMS) | set(ZO_METHODS)
    for card in catalogue():
        if card.simulation is not None:
            assert card.simulation.scenario not in methods, card.id


def test_a_card_naming_a_method_is_told_to_drop_it():
    card = get("gd.quadratic.critical_step")
    from dataclasses import replace
    named = replace(card, simulation=Simulation("gd", spectrum=(1.0,)))
    with pytest.raises(InputError, match="own update rule"):
        simulate(named, device="cpu")


# -- methods the suite has never seen --------------------------------------------------------------

eta, lam = sp.symbols("eta lambda", positive=True)
wd = sp.Symbol("wd", nonnegative=True)
gamma = sp.Symbol("gamma", real=True)
x, x_prev, m = sp.symbols("x x_prev m", real=True)


def _card(cid, symbols, state, update, value, at, assumptions=(), spectrum=(3.0, 1.0, 0.2)):
    return Card(id=cid, title=cid, symbols=symbols, state=state, update=update, eigenvalue=lam,
                assumptions=assumptions, claims=(Threshold("eta_crit", param=eta, value=value),),
                source=Source("test"), simulation=Simulation(at=at, spectrum=spectrum, steps=2000, seeds=2))


WEIGHT_DECAY = _card("gd_wd.quadratic.critical_step", (eta, wd, lam), (x,), (x - eta * (grad(x) + wd * x),),
                     2 / (lam + wd), {wd: 0.1})


def test_weight_decay_runs_its_own_rule_at_wd_3():
    """The weight-decay term is simulated: at wd = 3 the GD threshold 2/lambda_max would be far off."""
    result = simulate(WEIGHT_DECAY, device="cpu", at={"wd": 3.0})
    assert result.agrees, [v.detail for v in result.verdicts]
    assert result.predicted == pytest.approx(2 / (3.0 + 3.0))
    from numerics import with_claim
    wrong = with_claim(WEIGHT_DECAY, "eta_crit", 2 / lam)  # the GD formula: refuted by the runs at wd = 3
    assert not simulate(wrong, device="cpu", at={"wd": 3.0}).agrees


def test_unseen_methods_compile_and_match_a_hand_written_loop():
    """Extrapolated GD and a normalised-momentum method, never seen by the compiler: the compiled
    rule equals a loop written here, step for step."""
    extrap = _card("extrap.quadratic.critical_step", (eta, gamma, lam), (x, x_prev),
                   (x - eta * grad(x + gamma * (x - x_prev)), x), 2 / lam, {gamma: 0.3},
                   assumptions=(gamma > -1, gamma < 1))
    beta = sp.Symbol("beta", nonnegative=True)
    normed = _card("nmom.quadratic.critical_step", (eta, beta, lam), (x, m),
                   (x - eta * precond(beta * m + grad(x)) / (1 + norm(m)), beta * m + grad(x)), 2 / lam, {beta: 0.5},
                   assumptions=(beta < 1,))
    problem, losses = _losses(7)
    g = torch.Generator().manual_seed(3)
    for loss in losses:
        o = Oracle(loss, problem.precond)
        s = {"x": torch.randn(B, D, generator=g, dtype=torch.float64),
             "x_prev": torch.randn(B, D, generator=g, dtype=torch.float64)}
        out = compile_rule(extrap).step(s, o, {"eta": 0.1, "gamma": 0.3})
        y = s["x"] + 0.3 * (s["x"] - s["x_prev"])
        np.testing.assert_allclose(out["x"].numpy(), (s["x"] - 0.1 * o.grad(y)).numpy(), rtol=1e-12)
        np.testing.assert_allclose(out["x_prev"].numpy(), s["x"].numpy())
        s = {"x": torch.randn(B, D, generator=g, dtype=torch.float64), "m": torch.randn(B, D, generator=g,
                                                                                       dtype=torch.float64)}
        out = compile_rule(normed).step(s, o, {"eta": 0.1, "beta": 0.5})
        mn = 0.5 * s["m"] + o.grad(s["x"])
        expect = s["x"] - 0.1 * (mn / problem.precond) / (1 + torch.linalg.vector_norm(s["m"], dim=-1, keepdim=True))
        np.testing.assert_allclose(out["x"].numpy(), expect.numpy(), rtol=1e-12)
        np.testing.assert_allclose(out["m"].numpy(), mn.numpy(), rtol=1e-12)


def test_extrapolated_gd_threshold_simulated():
    """x - eta grad(x + gamma (x - x_prev)): per mode the threshold is 2/(lambda (1 + 2 gamma)) for
    gamma >= 0; the simulation of the typed rule agrees, and GD's 2/lambda is refuted by it."""
    g = sp.Symbol("gamma", nonnegative=True)
    extrap = _card("extrap.quadratic.critical_step", (eta, g, lam), (x, x_prev), (x - eta * grad(x + g * (x - x_prev)), x),
                   2 / (lam * (1 + 2 * g)), {g: 0.3}, assumptions=(g < 1,))
    assert simulate(extrap, device="cpu").agrees
    from numerics import with_claim
    assert not simulate(with_claim(extrap, "eta_crit", 2 / lam), device="cpu").agrees


def test_rule_init_copies_start_as_copies():
    rule = compile_rule(get("heavy_ball.quadratic.critical_step"))
    x0 = torch.randn(2, 3, dtype=torch.float64)
    s = rule.init(x0)
    assert torch.equal(s["x"], x0) and torch.equal(s["x_prev"], x0)
    s = compile_rule(get("adam_frozen.quadratic.critical_step")).init(x0)
    assert torch.equal(s["m"], torch.zeros_like(x0))


def test_run_batch_with_a_rule_matches_the_reference_by_name():
    card = get("nesterov.quadratic.critical_step")
    problem = quadratic([2.0, 0.5, 1.0], seed=3)
    x0 = torch.randn(2, 3, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    hp = {"eta": torch.tensor([[0.2], [0.6]], dtype=torch.float64), "beta": 0.9}
    a = run_batch(compile_rule(card), problem, hp, x0, 60)
    b = run_batch("nesterov", problem, hp, x0, 60)
    np.testing.assert_allclose(a["x"], b["x"], rtol=1e-11, atol=1e-300)
