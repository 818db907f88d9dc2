"""Softmax collapse with torch's own kernels, and modular addition mod 113 (arXiv:2501.04697).

``SCENARIOS``: name -> ``fn(card, *, at, device, seed, steps, progress) -> ScenarioResult`` (torch imported
inside the functions).

- ``softmax_collapse_torch_thresholds``: torch.nn.functional.cross_entropy (log_softmax + nll_loss) on CPU in
  float16, bfloat16, float32, float64; the least margin (logits (m, 0), label 0) with loss exactly 0, bisected over
  the format's representable margins, vs p ln 2 (judges ``torch_kernels``); the autograd gradient at collapse
  (label component, wrong component vs exp(-m)) is reported.
- ``softmax_collapse_modular_addition``: (a + b) mod 113 from the concatenated one-hot pair (2 * 113 inputs), a
  bias-free ReLU MLP (226 -> H -> H -> 113, the authors' models.py with hidden H), full batch on a seeded train
  split, AdamW (betas 0.9/0.99, eps 1e-25, no weight decay), three variants: softmax CE in float32, StableMax CE
  (computed in float64, as the authors' code), and softmax CE float32 with the orthogonal gradient (the authors'
  per-tensor projection rescaled to |g|). Per logged step: train/test accuracy, the SC fraction (samples whose
  loss, in the dtype of the loss the variant trains on, is exactly 0) and the train loss. Judges
  ``softmax_collapses``, ``stablemax_no_collapse``, ``orthograd_no_collapse``.
"""
from __future__ import annotations

import math
import time

from gpu_validation._scenarios import Curve, Panel, ScenarioResult, observed_claim, unjudged
from gpu_validation._simulate import Verdict, versions
from theory import Card, InputError

P_MOD = 113


_claim = observed_claim


_unjudged = unjudged


def _opt(card: Card, name: str, default: float) -> float:
    return float(card.simulation.options.get(name, default))


# -- thresholds with torch's kernels --------------------------------------------------------------

TORCH_DTYPES = ("float16", "bfloat16", "float32", "float64")


def torch_threshold(name: str) -> dict:
    """Bisected least margin with F.cross_entropy == 0 in torch dtype ``name`` (CPU), and the gradient there."""
    import torch
    import torch.nn.functional as F

    from numerics._softmax_collapse import Format, bisect_margin
    fmt = Format(name)
    dtype = getattr(torch, name)

    def loss(m: float, grad: bool = False):
        z = torch.tensor([[float(m), 0.0]], dtype=dtype, requires_grad=grad)
        out = F.cross_entropy(z, torch.tensor([0]), reduction="mean")
        return z, out

    def zero(m) -> bool:
        with torch.no_grad():
            return bool(loss(float(m))[1] == 0)
    measured = bisect_margin(fmt, zero, 0.25, 4 * fmt.precision)
    want = fmt.precision * math.log(2)
    z, out = loss(measured, grad=True)
    out.backward()
    g = z.grad[0].double().tolist()
    return {"format": name, "precision": fmt.precision, "measured": measured, "p_ln2": want, "ulp": fmt.ulp(want),
            "gap": measured - want, "loss_at": float(out.detach()), "grad_label": g[0], "grad_wrong": g[1],
            "exp_minus_m": math.exp(-measured)}


def torch_k_class(classes: int) -> dict:
    """torch F.cross_entropy in float32 with K - 1 competitors at 0: where its collapse margin falls in
    [24 ln 2, ln((K - 1) 2^24)]."""
    import torch
    import torch.nn.functional as F

    from numerics._softmax_collapse import Format, bisect_margin
    fmt = Format("float32")

    def zero(m) -> bool:
        z = torch.zeros(1, classes, dtype=torch.float32)
        z[0, 0] = float(m)
        with torch.no_grad():
            return bool(F.cross_entropy(z, torch.tensor([0])) == 0)
    measured = bisect_margin(fmt, zero, 0.25, 100.0)
    lower, upper = 24 * math.log(2), math.log((classes - 1) * 2.0**24)
    return {"classes": classes, "measured": measured, "lower": lower, "upper": upper,
            "where": (measured - lower) / (upper - lower)}


def torch_thresholds(card: Card, *, at=None, device="auto", seed=0, steps=None, progress=None) -> ScenarioResult:
    import torch
    rows = [torch_threshold(name) for name in TORCH_DTYPES]
    lines = [f"torch {torch.__version__}, CPU, kernel torch.nn.functional.cross_entropy (log_softmax + nll_loss), "
             f"logits (m, 0), label 0"]
    ok = True
    for r in rows:
        good = bool(abs(r["gap"]) <= r["ulp"])
        ok &= good
        lines.append(f"{r['format']}: loss exactly 0 from m = {r['measured']!r} (p ln 2 = {r['p_ln2']:.10g}, gap "
                     f"{r['gap']:+.3g}, ulp {r['ulp']:.3g}); autograd there: label component {r['grad_label']:.3g}, "
                     f"wrong component {r['grad_wrong']:.6g} (exp(-m) = {r['exp_minus_m']:.6g})")
    k_row = torch_k_class(113)
    lines.append(f"float32, K = 113 (112 competitors at 0): torch's loss exactly 0 from m = {k_row['measured']:.8g}, "
                 f"{k_row['where']:.2f} of the interval [{k_row['lower']:.6g}, {k_row['upper']:.6g}] "
                 f"(softmax_collapse.kclass.threshold_interval; reported, not judged)")
    verdicts = []
    claim = _claim(card, "torch_kernels")
    if claim is not None:
        verdicts.append(Verdict(claim.name, claim.kind, ok, "; ".join(
            f"{r['format']} {r['measured']:.8g} vs {r['p_ln2']:.8g}" for r in rows) + " (within one ulp each)"
            if ok else "a format's torch threshold is more than one ulp from p ln 2: " + "; ".join(lines[1:])))
    verdicts += _unjudged(card, {"torch_kernels"})
    panel = Panel("torch F.cross_entropy: least margin with loss exactly 0", "precision p (bits)", "margin m",
                  (Curve("measured (torch, CPU)", tuple(float(r["precision"]) for r in rows),
                         tuple(r["measured"] for r in rows), "o"),
                   Curve("p ln 2", tuple(float(p) for p in range(6, 56)),
                         tuple(p * math.log(2) for p in range(6, 56)), "-")))
    return ScenarioResult(card.id, card.simulation.algorithm, tuple(verdicts), tuple(lines),
                          {"rows": rows, "k_class": k_row}, (panel,),
                          1, 1, seed, "cpu", "float16/bfloat16/float32/float64", versions())


# -- modular addition ---------------------------------------------------------------------------

def _stablemax_ce(z, y):
    """The authors' StableMax cross-entropy (utils.py), in float64, per sample."""
    import torch
    z = z.double()
    s = torch.where(z >= 0, z + 1, 1 / (1 - z + 1e-30))
    logp = torch.log(s / s.sum(dim=-1, keepdim=True))
    return -logp.gather(1, y[:, None])[:, 0]


def _orthograd_(params) -> None:
    """The authors' orthograd.py: per tensor, g_perp = g - <w,g>/(<w,w> + 1e-30) w, rescaled to |g|."""
    import torch
    with torch.no_grad():
        for w in params:
            g = w.grad
            gp = g - ((w * g).sum() / ((w * w).sum() + 1e-30)) * w
            g.copy_(gp * (g.norm() / (gp.norm() + 1e-30)))


def train_modular(variant: str, *, hidden: int, lr: float, steps: int, train_frac: float, seed: int, log_every: int,
                  progress=None) -> dict:
    """One run (variant: softmax | stablemax | orthograd); returns the logged series."""
    import torch
    import torch.nn.functional as F
    gen = torch.Generator().manual_seed(seed)
    a, b = torch.meshgrid(torch.arange(P_MOD), torch.arange(P_MOD), indexing="ij")
    a, b = a.flatten(), b.flatten()
    y = (a + b) % P_MOD
    perm = torch.randperm(P_MOD * P_MOD, generator=gen)
    n_train = int(train_frac * P_MOD * P_MOD)
    tr, te = perm[:n_train], perm[n_train:]

    def init(n_out, n_in):  # torch.nn.Linear's default U(-1/sqrt(n_in), 1/sqrt(n_in)), seeded
        return ((torch.rand(n_out, n_in, generator=gen) * 2 - 1) / math.sqrt(n_in)).requires_grad_()
    W = [init(hidden, 2 * P_MOD), init(hidden, hidden), init(P_MOD, hidden)]

    def logits(idx):  # one-hot(a) ++ one-hot(b) @ W1^T, as a gather (the same numbers as the matmul)
        h = torch.relu(W[0][:, a[idx]].T + W[0][:, P_MOD + b[idx]].T)
        return torch.relu(h @ W[1].T) @ W[2].T

    def per_sample(z, t):
        return _stablemax_ce(z, t) if variant == "stablemax" else F.cross_entropy(z.float(), t, reduction="none")

    opt = torch.optim.AdamW(W, lr=lr, betas=(0.9, 0.99), eps=1e-25, weight_decay=0.0)
    log = {"step": [], "train_acc": [], "test_acc": [], "sc": [], "loss": [], "weight_norm": []}
    for k in range(steps + 1):
        z = logits(tr)
        losses = per_sample(z, y[tr])
        loss = losses.mean()
        if k % log_every == 0 or k == steps:
            with torch.no_grad():
                log["step"].append(k)
                log["train_acc"].append(float((z.argmax(1) == y[tr]).float().mean()))
                log["test_acc"].append(float((logits(te).argmax(1) == y[te]).float().mean()))
                log["sc"].append(float((losses == 0).float().mean()))
                log["loss"].append(float(loss))
                log["weight_norm"].append(float(torch.sqrt(sum((w * w).sum() for w in W))))
        if k == steps:
            break
        opt.zero_grad()
        loss.backward()
        if variant == "orthograd":
            _orthograd_(W)
        opt.step()
        if progress is not None and (k + 1) % 500 == 0:
            progress(k + 1)
    return log


VARIANTS = ("softmax", "stablemax", "orthograd")
LABELS = {"softmax": "softmax CE (float32)", "stablemax": "StableMax CE (float64)",
          "orthograd": "softmax CE (float32) + orthogonal gradient"}


def modular_addition(card: Card, *, at=None, device="auto", seed=0, steps=None, progress=None) -> ScenarioResult:
    import torch
    sim = card.simulation
    steps = int(steps or sim.steps)
    if steps < 10:
        raise InputError("steps must be >= 10")
    hidden = int(_opt(card, "hidden", 64))
    lr = _opt(card, "lr", 0.02)
    frac = _opt(card, "train_frac", 0.4)
    log_every = max(1, int(_opt(card, "log_every", max(1, steps // 40))))
    sc_min = _opt(card, "sc_min", 0.05)
    test_max = _opt(card, "test_acc_max", 0.1)
    test_min = _opt(card, "test_acc_min", 0.9)
    fit_min = _opt(card, "stablemax_train_acc", 0.99)
    torch.manual_seed(seed)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # deterministic sums on CPU, and the shared machine's cores
    try:
        started = time.perf_counter()
        runs = {v: train_modular(v, hidden=hidden, lr=lr, steps=steps, train_frac=frac, seed=seed,
                                 log_every=log_every, progress=progress) for v in VARIANTS}
        seconds = time.perf_counter() - started
    finally:
        torch.set_num_threads(threads)
    lines = [f"(a + b) mod {P_MOD}, one-hot pairs, bias-free ReLU MLP 226-{hidden}-{hidden}-113, train fraction {frac}, "
             f"full batch, AdamW lr {lr} betas (0.9, 0.99) eps 1e-25 no weight decay, {steps} steps, seed {seed}, "
             f"CPU ({seconds:.1f} s for the three runs)"]
    for v, r in runs.items():
        first_sc = next((s for s, f in zip(r["step"], r["sc"]) if f > 0), None)
        lines.append(f"{LABELS[v]}: final train acc {r['train_acc'][-1]:.3f}, test acc {r['test_acc'][-1]:.3f} (max "
                     f"{max(r['test_acc']):.3f}), SC fraction final {r['sc'][-1]:.3f} (max {max(r['sc']):.3f}, first "
                     f"> 0 at step {first_sc}), loss {r['loss'][-1]:.3e}, |theta| {r['weight_norm'][-1]:.1f}")
    verdicts, done = [], set()
    s, st_, og = runs["softmax"], runs["stablemax"], runs["orthograd"]
    c = _claim(card, "softmax_collapses")
    if c is not None:
        done.add("softmax_collapses")
        ok = s["sc"][-1] >= sc_min and s["train_acc"][-1] == 1.0 and max(s["test_acc"]) <= test_max
        verdicts.append(Verdict(c.name, c.kind, ok, f"softmax CE float32: final SC fraction {s['sc'][-1]:.3f} (needs >= "
                                f"{sc_min:g}), train acc {s['train_acc'][-1]:.3f} (needs 1), max test acc "
                                f"{max(s['test_acc']):.3f} (needs <= {test_max:g})"))
    c = _claim(card, "stablemax_no_collapse")
    if c is not None:
        done.add("stablemax_no_collapse")
        ok = max(st_["sc"]) == 0.0 and st_["train_acc"][-1] >= fit_min and st_["loss"][-1] > 0
        verdicts.append(Verdict(c.name, c.kind, ok, f"StableMax CE: max SC fraction {max(st_['sc']):.3f} (needs 0), "
                                f"train acc {st_['train_acc'][-1]:.3f} (needs >= {fit_min:g}), final loss {st_['loss'][-1]:.3e} (> 0: the "
                                f"gradient keeps flowing); test acc {st_['test_acc'][-1]:.3f} (not judged)"))
    c = _claim(card, "orthograd_no_collapse")
    if c is not None:
        done.add("orthograd_no_collapse")
        ok = max(og["sc"]) == 0.0 and og["test_acc"][-1] >= test_min
        verdicts.append(Verdict(c.name, c.kind, ok, f"orthogonal gradient: max SC fraction {max(og['sc']):.3f} (needs "
                                f"0), final test acc {og['test_acc'][-1]:.3f} (needs >= {test_min:g})"))
    verdicts += _unjudged(card, done)
    styles = {"softmax": "-", "stablemax": "--", "orthograd": ":"}
    panels = (
        Panel("test accuracy", "step", "test accuracy",
              tuple(Curve(LABELS[v], tuple(map(float, r["step"])), tuple(r["test_acc"]), styles[v])
                    for v, r in runs.items())),
        Panel("softmax collapse: fraction of train samples with loss exactly 0", "step", "SC fraction",
              tuple(Curve(LABELS[v], tuple(map(float, r["step"])), tuple(r["sc"]), styles[v])
                    for v, r in runs.items())),
    )
    data = {"runs": runs, "hidden": hidden, "lr": lr, "train_frac": frac, "seconds": seconds}
    return ScenarioResult(card.id, sim.algorithm, tuple(verdicts), tuple(lines), data, panels, steps, 1, seed, "cpu",
                          "float32 (StableMax loss float64)", versions())


SCENARIOS: dict = {
    "softmax_collapse_torch_thresholds": torch_thresholds,
    "softmax_collapse_modular_addition": modular_addition,
}
