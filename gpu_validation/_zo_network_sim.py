"""Scenario simulations for zeroth-order GD on small networks (Hessian trace band) (see gpu_validation/_scenarios.py).

``zo_gd_network``: full-batch ZO-GD (two-point central differences, one Gaussian direction a step,
``gpu_validation._networks.run_zo_gd``) on scikit-learn's digits, at every step size of the card's
sweep, from one initialisation (optionally pre-trained by full-batch GD). Along the run it measures
Tr H (Hutch++) and lambda_max (Lanczos) and judges the claim of arXiv:2604.14669 that the trace
enters the band [2/eta - 2 lambda_max, 2/eta] while lambda_max stays far below 2/eta.

"Enters" is judged, per step size, as:
  * the start is outside the band (measured with lambda_max at step 0): otherwise "enters" would be
    a property of the chosen eta, not of the dynamics;
  * the median of the last ``late`` fraction of the trace measurements lies in
    [2/eta - 2 lam_late - 2 se, 2/eta + 2 se], lam_late the median late lambda_max and se the median
    late Hutch++ standard error (two standard errors: the estimate's own precision, nothing more);
  * every late lambda_max is at most ``far`` x 2/eta (default 1/4: GD at this eta would sit at 2/eta).
A run whose loss becomes non-finite or exceeds 1e6 x its start is "diverged" (a result).

``SCENARIOS``: name -> ``fn(card, *, at, device, seed, steps, progress) -> ScenarioResult``.
torch is imported inside the functions (this layer imports torch lazily).
"""
from __future__ import annotations

import time

import numpy as np

from gpu_validation._device import single_thread
from gpu_validation._scenarios import Curve, Panel, ScenarioResult
from gpu_validation._simulate import Verdict, _num, versions
from theory import InputError, Observed

# settings a card's Simulation.options (or --at NAME=VALUE) may set, with their defaults
OPTIONS: dict[str, float] = {
    "n": 500,            # digits used (the first n)
    "outputs": 10,       # 10: one-hot digit class; 1: parity target +-1 (scalar output)
    "ce": 0,             # 1: cross-entropy (outputs = 10 only); 0: MSE 1/2 |f - y|^2
    "cnn": 0,            # 1: the small CNN (channels c1, c2); 0: the MLP 64-width-outputs
    "width": 32, "c1": 4, "c2": 8,
    "elu": 0,            # 1: ELU activations; 0: tanh
    "every": 0,          # measure every this many steps (0: steps // 20)
    "mu": 1e-3,          # finite-difference radius
    "gd_steps": 0,       # full-batch GD pre-training steps before ZO-GD
    "gd_eta": 0.3,       # its step size
    "trace_tol": 0.01,   # Hutch++ relative tolerance
    "late": 0.4,         # the last 40 % of the measurements count as "late"
    "far": 0.25,         # lambda_max <= far * 2/eta counts as "far below"
}


OBSERVERS = ("judge_band", "trace_band")  # an Observed claim's observer (or name) this scenario judges


def judge_band(trace, stderr, lam, eta: float, *, late: float = 0.4, far: float = 0.25) -> tuple[bool, str, dict]:
    """The verdict above on measured series (index 0 = the start). Returns (ok, detail, numbers)."""
    trace, stderr, lam = (np.asarray(v, dtype=float) for v in (trace, stderr, lam))
    edge = 2.0 / eta
    k = max(1, int(round(len(trace) * late)))
    tail = slice(len(trace) - k, len(trace))
    med, lam_med, se = float(np.median(trace[tail])), float(np.median(lam[tail])), float(np.median(stderr[tail]))
    low = edge - 2 * lam_med
    start_in = bool(edge - 2 * lam[0] <= trace[0] <= edge)
    inside = bool(low - 2 * se <= med <= edge + 2 * se)
    lam_max = float(np.max(lam[tail]))
    far_ok = bool(lam_max <= far * edge)
    ok = inside and far_ok and not start_in and len(trace) >= 3
    where = "inside" if inside else ("below" if med < low - 2 * se else "above")
    detail = (f"2/eta = {edge:.4g}: Tr H {trace[0]:.4g} at the start ({'inside' if start_in else 'outside'} the band) "
              f"-> late median {med:.4g} +- {se:.2g}, {where} the band [{low:.4g}, {edge:.4g}] "
              f"({100 * (med / edge - 1):+.1f} % of 2/eta); late lambda_max <= {lam_max:.4g} = "
              f"{lam_max / edge:.3f} x 2/eta ({'far below' if far_ok else 'NOT far below'}: limit {far:g})")
    numbers = {"two_over_eta": edge, "late_band_low": low, "late_trace_median": med, "late_trace_stderr": se,
               "late_lambda_max_median": lam_med, "late_lambda_max_max": lam_max, "start_in_band": start_in,
               "inside": inside, "far_below": far_ok}
    return bool(ok), detail, numbers


def _setup(opts: dict, seed: int, device):
    import torch

    from gpu_validation._networks import Task, cnn, digits, mlp

    n, outputs = int(opts["n"]), int(opts["outputs"])
    if outputs not in (1, 10):
        raise InputError(f"outputs must be 10 (digit class) or 1 (parity), got {outputs}")
    if opts["ce"] and outputs != 10:
        raise InputError("cross-entropy needs outputs = 10")
    if not 10 <= n <= 1797:
        raise InputError(f"n must be between 10 and 1797 (the digits data set), got {n}")
    task = digits(n, "ce" if opts["ce"] else "mse", device=device)
    if outputs == 1:
        y = torch.argmax(task.y, 1) if task.y.ndim == 2 else task.y
        task = Task(task.x, (2.0 * (y % 2) - 1.0).to(torch.float64)[:, None], "mse")
    act = "elu" if opts["elu"] else "tanh"
    if opts["cnn"]:
        params, forward = cnn((int(opts["c1"]), int(opts["c2"])), seed=seed, activation=act, classes=outputs,
                              device=device)
        model = f"CNN conv3x3({int(opts['c1'])})-conv3x3({int(opts['c2'])})-pool-linear({outputs}), {act}"
    else:
        params, forward = mlp((64, int(opts["width"]), outputs), seed=seed, activation=act, device=device)
        model = f"MLP 64-{int(opts['width'])}-{outputs}, {act}"
    loss = "cross-entropy" if opts["ce"] else "MSE"
    target = "parity +-1" if outputs == 1 else "digit class"
    return task, params, forward, f"{model}, {loss} on {n} digits ({target})"


def _pretrain(task, forward, params, steps: int, eta: float):
    import torch

    from gpu_validation._networks import loss_of
    grad = torch.func.grad(loss_of(task, forward))
    for _ in range(steps):
        g = grad(params)
        params = {k: params[k] - eta * g[k] for k in params}
    return params


def zo_gd_network(card, *, at=None, device="auto", seed=0, steps=None, progress=None) -> ScenarioResult:
    """Run the card's sweep; on the CPU with one torch thread (restored after): these models are
    tiny, and several threads slow down manyfold when another process shares the cores."""
    with single_thread():
        return _zo_gd_network(card, at=at, device=device, seed=seed, steps=steps, progress=progress)


def _zo_gd_network(card, *, at, device, seed, steps, progress) -> ScenarioResult:
    from gpu_validation._device import pick_device
    from gpu_validation._networks import run_zo_gd

    sim = card.simulation
    if len(sim.sweep) != 1:
        raise InputError(f"card {card.id}: zo_gd_network sweeps exactly one parameter (the step size)")
    ((param, values),) = sim.sweep.items()
    opts = dict(OPTIONS)
    for name, v in sim.options.items():
        if name not in OPTIONS:
            raise InputError(f"card {card.id}: unknown option {name!r} (known: {', '.join(OPTIONS)})")
        opts[name] = float(v)
    for name, v in (at or {}).items():
        if name == param.name:
            if not isinstance(v, float) or not v > 0:
                raise InputError(f"{param.name} must be a positive number")
            values = (float(v),)
        elif name in OPTIONS:
            if not isinstance(v, float):
                raise InputError(f"--at {name}: expected a number")
            opts[name] = v
        else:
            raise InputError(f"--at {name}: not {param.name} or an option ({', '.join(OPTIONS)})")
    steps = int(steps or sim.steps)
    every = int(opts["every"]) or max(1, steps // 20)
    if steps < 3 * every:
        raise InputError(f"steps ({steps}) must be at least 3 x the measurement interval ({every})")
    dev = pick_device(device)
    task, params, forward, model = _setup(opts, seed, dev)
    started = time.perf_counter()
    if opts["gd_steps"]:
        params = _pretrain(task, forward, params, int(opts["gd_steps"]), opts["gd_eta"])
    claims = [c for c in card.claims if isinstance(c, Observed)]
    runs, rows, oks, lines = [], [], [], [f"{model}; {int(opts['gd_steps'])} GD pre-training steps "
                                          f"(eta {opts['gd_eta']:g}); ZO-GD, mu = {opts['mu']:g}, {steps} steps, "
                                          f"Tr H and lambda_max every {every}"]
    for i, eta in enumerate(values):
        offset = i * steps
        tick = (lambda t, o=offset: progress(o + t)) if progress is not None else None
        t0 = time.perf_counter()
        tr = run_zo_gd(task, forward, params, eta, steps, every, mu=opts["mu"], seed=seed,
                       trace_tol=opts["trace_tol"], progress=tick)
        wall = time.perf_counter() - t0
        run = {param.name: eta, "steps": tr.steps, "loss": [_num(v) for v in tr.loss],
               "trace": [_num(v) for v in tr.trace], "trace_stderr": [_num(v) for v in tr.trace_stderr],
               "lambda_max": [_num(v) for v in tr.sharpness],
               "band_low": [_num(2 / eta - 2 * v) for v in tr.sharpness], "two_over_eta": 2 / eta,
               "diverged_at": tr.diverged_at, "hvps": tr.hvps, "wall_s": round(wall, 2)}
        if tr.diverged_at is not None:
            ok, detail, outcome = False, f"2/eta = {2 / eta:.4g}: diverged at step {tr.diverged_at}", "diverged"
        else:
            ok, detail, numbers = judge_band(tr.trace, tr.trace_stderr, tr.sharpness, eta, late=opts["late"],
                                             far=opts["far"])
            run.update(numbers)
            outcome = "agrees" if ok else "disagrees"
        run["outcome"], run["detail"] = outcome, detail
        runs.append(run)
        rows.append(f"{param.name}={eta:g}: {detail}")
        oks.append(ok)
        lines.append(f"{param.name} = {eta:g}: {detail}; loss {tr.loss[0]:.4g} -> {tr.loss[-1]:.4g} "
                     f"-> {outcome} ({wall:.1f} s)")
    verdicts = tuple(Verdict(c.name, c.kind, all(oks), "; ".join(rows)) if (c.observer or c.name) in OBSERVERS
                     else Verdict(c.name, c.kind, None, f"no observer {c.observer or c.name!r} in zo_gd_network "
                                  f"(known: {', '.join(OBSERVERS)})") for c in claims)
    panels = []
    for run in runs:
        eta = run[param.name]
        panels.append(Panel(f"Tr H, {param.name} = {eta:g}", "step", "Tr H",
                            (Curve("Tr H (Hutch++)", tuple(run["steps"]), tuple(map(float, run["trace"])), "o-"),
                             Curve("2/eta - 2 lambda_max (band's lower edge)", tuple(run["steps"]),
                                   tuple(map(float, run["band_low"])), "--")),
                            hlines=(("2/eta", 2 / eta),)))
    panels.append(Panel("lambda_max (Lanczos)", "step", "lambda_max",
                        tuple(Curve(f"{param.name} = {r[param.name]:g}", tuple(r["steps"]),
                                    tuple(map(float, r["lambda_max"])), "o-") for r in runs),
                        hlines=tuple((f"2/eta ({param.name} = {r[param.name]:g})", 2 / r[param.name]) for r in runs),
                        logy=True))
    data = {"model": model, "options": opts, "steps": steps, "every": every, "runs": runs,
            "wall_s": round(time.perf_counter() - started, 2)}
    return ScenarioResult(card.id, sim.algorithm, verdicts, tuple(lines), data, tuple(panels), steps=steps, seeds=1,
                          seed=seed, device=str(dev), versions=versions())


SCENARIOS: dict = {"zo_gd_network": zo_gd_network}
