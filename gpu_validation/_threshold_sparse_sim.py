"""Scenario for the sparse-coding threshold-neuron conjecture (theory/conjectures/threshold_neuron_sparse_coding.py):
full-batch GD with logistic loss on a two-layer ReLU network with one shared bias, swept over the step size.

- ``threshold_sparse_coding``: data (model (1) of arXiv:2212.07469 as the research notes describe it): x = lambda y
  e_j + xi, y = +-1 uniform, j uniform in [d], xi ~ N(0, noise^2 I_d); n training points, ``test`` fresh ones
  (seeded). Network (our reading of the paper's (2), the definition itself not read):
  f(x) = sum_i a_i [relu(<w_i, x> + b) - relu(-<w_i, x> + b)], ``width`` neurons, one shared bias b (b < 0: each
  neuron ignores |<w_i, x>| < |b|, a threshold neuron), w_i ~ N(0, I/d), a_i ~ N(0, 1/m), b = 0 (float64).
  Logistic loss mean log(1 + exp(-y f(x))); GD at ``etas`` step sizes log-spaced in [f_lo, f_hi] x 2/S0 (S0 the
  sharpness at the initialisation, power iteration on autograd HVPs), each for round(time/factor) steps (the
  same gradient-flow time eta t = time x 2/S0, so a small-eta run is a gradient-flow reference; ``steps`` sets
  ``time``). Measured:
  the bias averaged over the last ``tail`` fraction of the run (it oscillates at the edge), the final sharpness
  against 2/eta, train and test accuracy. Judges ``no_threshold_small`` (every run with eta <= f_small x 2/S0 has
  tail-mean b >= 0) and ``threshold_large`` (every run with eta >= f_large x 2/S0 has tail-mean b <= -``margin``).
"""
from __future__ import annotations

import math

from gpu_validation._scenarios import Curve, Panel, ScenarioResult, observed_claim, unjudged
from gpu_validation._simulate import Verdict, versions
from theory import Card, InputError


def sparse_data(n: int, d: int, lam: float, noise: float, gen):
    import torch
    y = torch.randint(0, 2, (n,), generator=gen).to(torch.float64) * 2 - 1
    j = torch.randint(0, d, (n,), generator=gen)
    x = noise * torch.randn(n, d, generator=gen, dtype=torch.float64)
    x[torch.arange(n), j] += lam * y
    return x, y


def network(m: int, d: int):
    """(unpack, f): the parameter vector p = (W (m x d), a (m), b) and f(p, x)."""
    import torch

    def unpack(p):
        return p[: m * d].view(m, d), p[m * d: m * d + m], p[-1]

    def f(p, x):
        W, a, b = unpack(p)
        z = x @ W.T
        return (torch.relu(z + b) - torch.relu(-z + b)) @ a
    return unpack, f


def train(opt: dict, seed: int, factors: list[float]) -> dict:
    import torch
    d, n, m = int(opt["d"]), int(opt["n"]), int(opt["width"])
    gen = torch.Generator().manual_seed(seed)
    X, Y = sparse_data(n, d, opt["lam"], opt["noise"], gen)
    Xt, Yt = sparse_data(int(opt["test"]), d, opt["lam"], opt["noise"], gen)
    W0 = torch.randn(m, d, generator=gen, dtype=torch.float64) / math.sqrt(d)
    a0 = torch.randn(m, generator=gen, dtype=torch.float64) / math.sqrt(m)
    p0 = torch.cat([W0.reshape(-1), a0, torch.zeros(1, dtype=torch.float64)])
    v0 = torch.randn(p0.numel(), generator=gen, dtype=torch.float64)
    _, f = network(m, d)

    def loss(p):
        return torch.nn.functional.softplus(-Y * f(p, X)).mean()

    def grad(p):
        p_ = p.detach().requires_grad_(True)
        return torch.autograd.grad(loss(p_), p_)[0]

    def sharpness(p, v, iters=int(opt["power"])):
        """Power iteration on reverse-over-reverse HVPs (the top eigenvalue: H is dominated by its positive part
        here; the Rayleigh quotient is reported)."""
        p_ = p.detach().requires_grad_(True)
        (g,) = torch.autograd.grad(loss(p_), p_, create_graph=True)
        lam = math.nan
        for _ in range(iters):
            hv = torch.autograd.grad(g, p_, grad_outputs=v, retain_graph=True)[0]
            lam = float(v @ hv) / float(v @ v)
            v = hv / torch.linalg.vector_norm(hv)
        return lam, v
    S0, v0 = sharpness(p0, v0 / torch.linalg.vector_norm(v0))
    runs = []
    for factor in factors:
        eta = factor * 2 / S0
        steps = max(1, round(opt["time"] / factor))     # the same gradient-flow time eta t = time x 2/S0
        p, bias = p0.clone(), []
        for _ in range(steps):
            g = grad(p)
            p = p - eta * g
            bias.append(float(p[-1]))
        L = float(loss(p))
        S, _ = sharpness(p, v0)
        tail = bias[int((1 - opt["tail"]) * steps):] or bias[-1:]
        with torch.no_grad():
            train_acc = float(((f(p, X) * Y) > 0).to(torch.float64).mean())
            test_acc = float(((f(p, Xt) * Yt) > 0).to(torch.float64).mean())
        runs.append({"eta": eta, "factor": factor, "steps": steps, "bias_tail": sum(tail) / len(tail),
                     "bias_final": bias[-1],
                     "bias_min": min(bias), "loss": L, "sharpness": S, "edge_ratio": S * eta / 2,
                     "train_acc": train_acc, "test_acc": test_acc, "finite": math.isfinite(L),
                     "bias_path": bias[:: max(1, steps // 200)]})
    return {"S0": S0, "runs": runs}


_observed = observed_claim


def sweep(card: Card, *, at=None, device="auto", seed=0, steps=None, progress=None) -> ScenarioResult:
    import torch
    torch.set_num_threads(1)
    sim = card.simulation
    opt = {k: float(v) for k, v in sim.options.items()}
    opt.update({k: float(v) for k, v in (at or {}).items() if k in opt})
    if steps is not None:
        opt["time"] = float(steps)                         # --steps: the steps of a run at eta = 2/S0
    k = int(opt["etas"])
    if k < 2 or not 0 < opt["f_lo"] < opt["f_hi"]:
        raise InputError("need etas >= 2 and 0 < f_lo < f_hi")
    etas = [opt["f_lo"] * (opt["f_hi"] / opt["f_lo"]) ** (i / (k - 1)) for i in range(k)]
    seeds = int(sim.seeds)
    results = [train(opt, seed + s, etas) for s in range(seeds)]
    verdicts, lines = [], []
    for s, res in enumerate(results):
        lines.append(f"seed {seed + s}: initial sharpness {res['S0']:.4f} (2/S0 = {2 / res['S0']:.4f})")
        for r in res["runs"]:
            lines.append(f"  eta = {r['factor']:.3f} x 2/S0 = {r['eta']:.4g} ({r['steps']} steps): tail-mean bias "
                         f"{r['bias_tail']:+.4f} (final "
                         f"{r['bias_final']:+.4f}, min {r['bias_min']:+.4f}); loss {r['loss']:.4f}; final sharpness x "
                         f"eta/2 = {r['edge_ratio']:.3f}; train {r['train_acc']:.3f}, test {r['test_acc']:.3f}")
    runs = [r for res in results for r in res["runs"]]
    judged = {}
    claim = _observed(card, "no_threshold_small")
    if claim is not None:
        small = [r for r in runs if r["factor"] <= opt["f_small"] * (1 + 1e-9)]
        worst = min((r["bias_tail"] for r in small), default=math.nan)
        ok = bool(small) and all(r["finite"] for r in small) and worst >= 0
        judged[claim.name] = worst
        verdicts.append(Verdict(claim.name, claim.kind, ok,
                                f"{len(small)} runs with eta <= {opt['f_small']:g} x 2/S0: smallest tail-mean bias "
                                f"{worst:+.4f} (must be >= 0)"))
    claim = _observed(card, "threshold_large")
    if claim is not None:
        large = [r for r in runs if r["factor"] >= opt["f_large"] * (1 - 1e-9)]
        worst = max((r["bias_tail"] for r in large), default=math.nan)
        ok = bool(large) and all(r["finite"] for r in large) and worst <= -opt["margin"]
        judged[claim.name] = worst
        verdicts.append(Verdict(claim.name, claim.kind, ok,
                                f"{len(large)} runs with eta >= {opt['f_large']:g} x 2/S0: largest tail-mean bias "
                                f"{worst:+.4f} (must be <= -{opt['margin']:g}); final sharpness x eta/2 in "
                                f"[{min(r['edge_ratio'] for r in large):.3f}, "
                                f"{max(r['edge_ratio'] for r in large):.3f}]"
                                if large else "no run in range"))
    verdicts += unjudged(card, judged)
    panels = (
        Panel("learned shared bias vs step size (sparse coding, logistic loss)", "eta / (2/S0)", "tail-mean bias b",
              tuple(Curve(f"seed {seed + s}", tuple(r["factor"] for r in res["runs"]),
                          tuple(r["bias_tail"] for r in res["runs"]), "o-") for s, res in enumerate(results)),
              hlines=(("b = 0", 0.0),)),
        Panel("test accuracy vs step size", "eta / (2/S0)", "test accuracy",
              tuple(Curve(f"seed {seed + s}", tuple(r["factor"] for r in res["runs"]),
                          tuple(r["test_acc"] for r in res["runs"]), "o-") for s, res in enumerate(results))),
        Panel("bias along training (first seed)", "gradient-flow time eta t", "b",
              tuple(Curve(f"eta = {r['eta']:.3g}", tuple(i * max(1, r["steps"] // 200) * r["eta"]
                                                        for i in range(len(r["bias_path"]))),
                          tuple(r["bias_path"]), "-") for r in results[0]["runs"])),
    )
    data = {"factors": etas, "results": [{"S0": res["S0"], "runs": [{k_: v for k_, v in r.items() if k_ != "bias_path"}
                                                               for r in res["runs"]]} for res in results],
            "judged": judged}
    return ScenarioResult(card.id, sim.algorithm, tuple(verdicts), tuple(lines), data, panels,
                          max(r["steps"] for r in runs), seeds, seed, "cpu", "float64", versions())


SCENARIOS = {"threshold_sparse_coding": sweep}
