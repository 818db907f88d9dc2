"""Scenarios for the central-flow conjectures beyond the toy: GD on a tiny tanh MLP against its central flow
(theory/conjectures/central_flow_mlp.py), and scalar RMSProp itself against its conjectured sigma^2
(theory/conjectures/central_flow_rmsprop.py).

- ``central_flow_mlp``: data: ``points`` seeded Gaussian inputs in R^2, target sin(2 x1) cos(x2); a tanh MLP
  2-``width``-``width``-1 (gpu_validation._networks.mlp, LeCun-normal x ``init_scale``, float64), loss
  L(w) = mean (f(x) - y)^2 / 2. GD w+ = w - eta grad L for ``steps`` steps, its top Hessian eigenvalue at every
  step by a warm-started Krylov / Rayleigh-Ritz step on autograd HVPs (``top_pairs``). The central flow from the
  same start, time in GD steps: dw/dt = -eta[grad L + (1/2) sum_ab Sigma_ab grad(u_a^T H(w) u_b)], the u_a the
  ``tracked`` top eigenvectors (block Krylov once per GD step, warm-started), Sigma on those that have reached
  2/eta (gradient flow before), solved from d(u_a^T H u_b)/dt = -gamma (u_a^T H u_b - (2/eta) delta_ab) and
  clipped to Sigma >= 0 (``central_field``). For one eigenvalue: sigma^2 = 2[<-grad L, grad S> + gamma(S -
  2/eta)/eta]/|grad S|^2, the formula of theory/cards/central_flow.py plus a restoring term that makes integration
  drift of S decay at rate gamma = ``restore`` per step; the paper's own scheme is the constrained flow solved as
  a complementarity problem (SDCP). grad(u^T H u) with u fixed: autograd of the HVP (the third-derivative
  contraction). ``substeps`` >= 4 per GD step (the flow is stiff across the valley, rate eta S = 2 per step),
  explicit midpoint (``rk`` = 2) or classical RK4 (``rk`` = 4). In ``window``-step windows from ``transient``
  steps after the flow's edge entry: GD's mean loss vs L(w(t)) + tr Sigma/eta (``mean_loss``), vs L(w(t)) alone
  (``sigma_term_needed``), GD's mean sharpness vs 2/eta (``gd_sharpness_around_edge``); the flow's top eigenvalue
  vs 2/eta from ``settle`` steps after its entry (``flow_pinned``).
- ``central_flow_scalar_rmsprop_toy``: see ``scalar_rmsprop_toy``.
"""
from __future__ import annotations

import math

import sympy as sp

from gpu_validation._scenarios import Curve, Panel, ScenarioResult, observed_claim, unjudged
from gpu_validation._simulate import Verdict, versions
from theory import Card, InputError


def problem(points: int, width: int, init_scale: float, seed: int):
    """(w0 flat float64, loss(w flat) -> scalar): the data and network of the scenario (the initial weights from
    gpu_validation._networks.mlp, the forward pass on the flat vector, cut by views)."""
    import torch

    from gpu_validation._networks import mlp
    from gpu_validation.curvature import flatten
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(points, 2, generator=gen, dtype=torch.float64)
    y = (torch.sin(2 * x[:, 0]) * torch.cos(x[:, 1])).unsqueeze(1)
    params, _ = mlp((2, width, width, 1), seed=seed, init_scale=init_scale)
    w0 = flatten(params).detach().clone()
    shapes = [tuple(t.shape) for t in params.values()]          # W0, b0, W1, b1, W2, b2 (insertion order)
    sizes = [t.numel() for t in params.values()]

    def loss(w):
        W0, b0, W1, b1, W2, b2 = (part.view(shape) for part, shape in zip(torch.split(w, sizes), shapes))
        h = torch.tanh(x @ W0 + b0)
        h = torch.tanh(h @ W1 + b1)
        return 0.5 * ((h @ W2 + b2 - y) ** 2).mean()
    return w0, loss


def hvp_at(loss, w):
    """v -> H(w) v by reverse-over-reverse autograd (the gradient's graph built once, kept for every v)."""
    import torch
    w_ = w.detach().requires_grad_(True)
    (g,) = torch.autograd.grad(loss(w_), w_, create_graph=True)
    return lambda v: torch.autograd.grad(g, w_, grad_outputs=v, retain_graph=True)[0].detach()


def top_pairs(hvp, U0, depth: int):
    """(theta (k,), U (k, n)): the k largest Ritz pairs of H on the block Krylov space {U0, H U0, ..., H^depth U0}
    (k = rows of U0, full re-orthogonalisation); warm-started from the previous eigenvectors this is a restarted
    block Lanczos step."""
    import torch
    k = U0.shape[0]
    Q, HQ = [], []

    def add(v):
        for _ in range(2):
            if Q:
                B = torch.stack(Q)
                v = v - (B @ v) @ B
        nv = torch.linalg.vector_norm(v)
        if float(nv) > 1e-10:
            Q.append(v / nv)
            HQ.append(hvp(Q[-1]))
            return True
        return False
    for v in U0:
        add(v)
    for _ in range(depth):
        for j in range(len(Q) - k, len(Q)):
            add(HQ[j])
    B, HB = torch.stack(Q), torch.stack(HQ)
    T = B @ HB.T
    theta, V = torch.linalg.eigh(0.5 * (T + T.T))
    U = V[:, -k:].flip(1).T @ B
    return theta[-k:].flip(0), U / torch.linalg.vector_norm(U, dim=1, keepdim=True)


def central_field(loss, eta: float, restore: float):
    """field(w, U) -> (dw/dt, Sigma eigenvalues, restricted sharpnesses): the central flow's velocity (time in GD
    steps) with Sigma supported on span(U), U (m, n) the active top eigenvectors at the edge (m = 0: gradient
    flow), refreshed by ``top_pairs`` at the start of every substep and held fixed across its RK stages.
    h_ab = u_a^T H(w) u_b, G_ab = grad_w h_ab (autograd of the HVP, U fixed);
    dw/dt = -eta[grad L + (1/2) sum_ab Sigma_ab G_ab], Sigma (m x m symmetric) solved from
    d h_ab/dt = -restore (h_ab - (2/eta) delta_ab) (the edge conditions, with drift restored), then projected
    onto the PSD cone (negative eigenvalues clipped: the complementarity of the paper's SDCP)."""
    import torch

    def field(w, U):
        m = U.shape[0]
        w_ = w.detach().requires_grad_(True)
        L = loss(w_)
        (g,) = torch.autograd.grad(L, w_, create_graph=m > 0)
        if m == 0:
            return -eta * g.detach(), torch.zeros(0, dtype=w.dtype), torch.zeros(0, dtype=w.dtype)
        HU = [torch.autograd.grad(g, w_, grad_outputs=u, create_graph=True, retain_graph=True)[0] for u in U]
        pairs = [(a, b) for a in range(m) for b in range(a, m)]
        G, h = [], []
        for n_, (a, b) in enumerate(pairs):
            hab = U[a] @ HU[b]
            h.append(float(hab.detach()))
            G.append(torch.autograd.grad(hab, w_, retain_graph=n_ + 1 < len(pairs))[0])
        g = g.detach()
        G = torch.stack(G)
        # Sigma parametrised by its upper triangle s_p (p = (a, b)); <H, Sigma> = sum_p mult_p s_p h_p
        mult = torch.tensor([1.0 if a == b else 2.0 for a, b in pairs], dtype=w.dtype)
        target = torch.tensor([h[p] - (2 / eta if a == b else 0.0) for p, (a, b) in enumerate(pairs)], dtype=w.dtype)
        # d h_q/dt = -eta <G_q, g + 1/2 sum_p mult_p s_p G_p> = -restore target_q
        A = 0.5 * eta * (G @ G.T) * mult
        rhs = restore * target - eta * (G @ g)
        s = torch.linalg.lstsq(A, rhs.unsqueeze(1)).solution.squeeze(1)
        Sig = torch.zeros(m, m, dtype=w.dtype)
        for p, (a, b) in enumerate(pairs):
            Sig[a, b] = Sig[b, a] = s[p]
        ev, V = torch.linalg.eigh(Sig)
        ev = ev.clamp(min=0.0)
        Sig = (V * ev) @ V.T
        s = torch.stack([Sig[a, b] for a, b in pairs])
        drift = 0.5 * (mult * s) @ G
        return -eta * (g + drift), ev.flip(0), torch.tensor([h[p] for p, (a, b) in enumerate(pairs) if a == b])
    return field


_observed = observed_claim


def run(opt: dict, eta: float, steps: int, seed: int, progress=None) -> dict:
    """GD and the central flow from the same start; per-step series (lists) of both."""
    import torch
    w0, loss = problem(int(opt["points"]), int(opt["width"]), float(opt["init_scale"]), seed)
    k, depth, sub = int(opt["tracked"]), int(opt["depth"]), int(opt["substeps"])
    if sub < 4:
        raise InputError("substeps must be >= 4 (across the stiff valley direction: at most 0.25 GD step)")
    if int(opt.get("rk", 4)) not in (2, 4):
        raise InputError("rk must be 2 (explicit midpoint) or 4 (classical RK4)")
    gen = torch.Generator().manual_seed(seed + 1)
    U0 = torch.randn(k, w0.numel(), generator=gen, dtype=torch.float64)
    _, U0 = top_pairs(hvp_at(loss, w0), U0, 12)
    def grad(w):
        w_ = w.detach().requires_grad_(True)
        return torch.autograd.grad(loss(w_), w_)[0]
    gd = {"loss": [], "sharpness": []}
    w, U = w0.clone(), U0[:1].clone()                  # GD: only its top eigenvalue, on a 4-dimensional Krylov space
    for t in range(steps + 1):
        th, U = top_pairs(hvp_at(loss, w), U, 3)
        gd["loss"].append(float(loss(w)))
        gd["sharpness"].append(float(th[0]))
        if not math.isfinite(gd["loss"][-1]):
            break
        w = w - eta * grad(w)
    field = central_field(loss, eta, float(opt["restore"]))
    cf = {"loss": [], "trace_sigma": [], "sharpness": [], "second": [], "active": []}
    c, U, h, active, t0 = w0.clone(), U0.clone(), 1.0 / sub, 0, None
    edge = 2.0 / eta
    rk = int(opt.get("rk", 4))
    for t in range(steps + 1):
        # the top eigenpairs once per GD step (warm-started block Krylov); U is held over the step's substeps, where
        # the field evaluates S = u^T H u (the Rayleigh quotient) and grad S at each stage point
        th, U = top_pairs(hvp_at(loss, c), U, depth)
        active = max(active, int((th >= edge * (1 - float(opt["active_tol"]))).sum()))
        if active and t0 is None:
            t0 = t
        act = U[:active]
        for j in range(sub):
            k1, sig, _ = field(c, act)
            if j == 0:
                cf["loss"].append(float(loss(c)))
                cf["trace_sigma"].append(float(sig.sum()))
                cf["sharpness"].append(float(th[0]))
                cf["second"].append(float(th[1]) if k > 1 else math.nan)
                cf["active"].append(active)
            if t == steps:
                break
            if rk == 2:                                    # explicit midpoint
                c = c + h * field(c + h / 2 * k1, act)[0]
                continue
            k2 = field(c + h / 2 * k1, act)[0]
            k3 = field(c + h / 2 * k2, act)[0]
            k4 = field(c + h * k3, act)[0]
            c = c + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        if progress is not None and (t + 1) % 50 == 0:
            progress(t + 1)
    return {"gd": gd, "cf": cf, "t0": t0, "params": int(w0.numel())}


def mlp_flow(card: Card, *, at=None, device="auto", seed=0, steps=None, progress=None) -> ScenarioResult:
    import torch
    torch.set_num_threads(1)
    sim = card.simulation
    eta = float((at or {}).get("eta", next(float(v) for s, v in sim.at.items() if s.name == "eta")))
    steps = int(steps or sim.steps)
    opt = {k: float(v) for k, v in sim.options.items()}
    win, transient = int(opt["window"]), int(opt["transient"])
    if steps < 10:
        raise InputError("steps must be >= 10")
    out = run(opt, eta, steps, seed, progress)
    gd, cf, t0 = out["gd"], out["cf"], out["t0"]
    edge = 2.0 / eta
    pred = [l + s / eta for l, s in zip(cf["loss"], cf["trace_sigma"])]
    rows = []
    start = (t0 if t0 is not None else steps) + transient
    while start + win <= steps + 1 and len(gd["loss"]) >= start + win:
        sl = slice(start, start + win)
        mean = lambda v: sum(v[sl]) / win  # noqa: E731
        rows.append({"step": start + win // 2, "gd_L": mean(gd["loss"]), "cf_L": mean(cf["loss"]),
                     "cf_pred": mean(pred),
                     "gd_S": mean(gd["sharpness"]), "cf_S": max(cf["sharpness"][sl]),
                     "cf_S_min": min(cf["sharpness"][sl]), "cf_trace": mean(cf["trace_sigma"]),
                     "active": cf["active"][start + win - 1]})
        start += win
    verdicts, lines = [], []
    lines.append(f"{out['params']} parameters; GD {len(gd['loss']) - 1} steps at eta = {eta:g} (2/eta = {edge:g}); the "
                 f"central flow reaches 2/eta at step {t0}; active eigenvalues at the end {cf['active'][-1]}")
    for r in rows:
        lines.append(f"step {r['step']:4d}: GD <L> {r['gd_L']:.5f} vs flow L(w) + tr Sigma/eta {r['cf_pred']:.5f} "
                     f"(L(w) {r['cf_L']:.5f}); GD <S> eta/2 {r['gd_S'] / edge:.4f}; flow S eta/2 in "
                     f"[{r['cf_S_min'] / edge:.5f}, {r['cf_S'] / edge:.5f}]; active {r['active']}")
    judged = {}
    claim = _observed(card, "mean_loss")
    if claim is not None:
        rel = [abs(r["gd_L"] - r["cf_pred"]) / abs(r["cf_pred"]) for r in rows]
        worst = max(rel) if rows and all(map(math.isfinite, rel)) else math.inf
        judged["mean_loss"] = rel
        verdicts.append(Verdict(claim.name, claim.kind, worst <= claim.rtol,
                                f"{len(rows)} windows of {win} steps from {transient} steps after the flow's edge "
                                f"entry: worst |<L>_GD - (L(w) + tr Sigma/eta)| / (L(w) + tr Sigma/eta) = {worst:.2%} "
                                f"(tolerance {claim.rtol:.0%})"))
    claim = _observed(card, "sigma_term_needed")
    if claim is not None:
        rel = [abs(r["gd_L"] - r["cf_L"]) / abs(r["gd_L"]) for r in rows]
        least = min(rel) if rows and all(map(math.isfinite, rel)) else -math.inf
        judged["sigma_term_needed"] = rel
        verdicts.append(Verdict(claim.name, claim.kind, least > claim.rtol,
                                f"{len(rows)} windows: L(w(t)) alone misses GD's mean loss by at least {least:.1%} "
                                f"(must exceed {claim.rtol:.0%})"))
    claim = _observed(card, "flow_pinned")
    if claim is not None:
        after = [i for i in range(len(cf["sharpness"])) if t0 is not None and i >= t0 + int(opt["settle"])]
        dev = max((abs(cf["sharpness"][i] / edge - 1) for i in after), default=math.inf)
        judged["flow_pinned"] = dev
        verdicts.append(Verdict(claim.name, claim.kind, dev <= claim.rtol,
                                f"flow's top eigenvalue from {int(opt['settle'])} steps after its edge entry (step "
                                f"{t0}): max |S eta/2 - 1| = {dev:.2e} (tolerance {claim.rtol:g})"))
    claim = _observed(card, "gd_sharpness_around_edge")
    if claim is not None:
        rel = [abs(r["gd_S"] / edge - 1) for r in rows]
        worst = max(rel) if rows and all(map(math.isfinite, rel)) else math.inf
        judged["gd_sharpness_around_edge"] = rel
        verdicts.append(Verdict(claim.name, claim.kind, worst <= claim.rtol,
                                f"{len(rows)} windows: worst |<S>_GD eta/2 - 1| = {worst:.2%} (tolerance "
                                f"{claim.rtol:.0%})"))
    verdicts += unjudged(card, judged)
    ts = tuple(float(i) for i in range(len(gd["loss"])))
    tc = tuple(float(i) for i in range(len(cf["loss"])))
    wx = tuple(float(r["step"]) for r in rows)
    panels = (
        Panel(f"train loss, tanh MLP, eta = {eta:g}", "step", "loss",
              (Curve("GD (raw)", ts, tuple(gd["loss"]), "-"),
               Curve(f"GD ({win}-step window mean)", wx, tuple(r["gd_L"] for r in rows), "o"),
               Curve("central flow L(w(t))", tc, tuple(cf["loss"]), ":"),
               Curve("central flow L(w) + tr Sigma/eta", tc, tuple(pred), "--"))),
        Panel("sharpness", "step", "top Hessian eigenvalue",
              (Curve("GD", ts, tuple(gd["sharpness"]), "-"),
               Curve("central flow", tc, tuple(cf["sharpness"]), "--"),
               Curve("central flow, 2nd eigenvalue", tc, tuple(cf["second"]), ":")),
              hlines=(("2/eta", edge),)),
    )
    data = {"eta": eta, "t0": t0, "windows": rows, "judged": judged, "gd": gd, "cf": cf}
    return ScenarioResult(card.id, sim.algorithm, tuple(verdicts), tuple(lines), data, panels, steps, 1, seed,
                          "cpu", "float64", versions())


SCENARIOS = {"central_flow_mlp": mlp_flow}


# -- scalar RMSProp on the toy of theory/cards/central_flow.py (research notes section 3.3) -----------------------
def scalar_rmsprop_toy(card: Card, *, at=None, device="auto", seed=0, steps=None, progress=None) -> ScenarioResult:
    """``central_flow_scalar_rmsprop_toy``: scalar RMSProp (nu_t = beta2 nu_{t-1} + (1 - beta2)|g_t|^2, nu updated
    before the step, w+ = w - (eta/sqrt(nu_t)) g_t; nu_0 = |g(w_0)|^2) on the toy loss of the GD central-flow card,
    float64, from (x0, y0, z0). In ``window``-step windows after ``transient`` steps: the oscillation variance
    <((w_t - w_bar) . u)^2> (u the top Hessian eigenvector at the window-mean w_bar) against the card's claimed
    sigma^2 evaluated at w_bar: S = lambda_1(H(w_bar)), grad S = (u^T dH/dw_k u)_k, g = grad L(w_bar),
    c = (1 - beta2)/beta2 (judges ``method_variance``). The effective sharpness eta S(w_bar)/sqrt(<nu>) is reported."""
    import numpy as np

    from theory.cards import central_flow as cf
    sim = card.simulation
    opt = {k: float(v) for k, v in sim.options.items()}
    eta_sym = next(s for s in card.symbols if s.name == "eta")
    eta = float((at or {}).get("eta", sim.at[eta_sym]))
    steps = int(steps or sim.steps)
    win, transient, beta2 = int(opt["window"]), int(opt["transient"]), opt["beta2"]
    if steps < transient + win:
        raise InputError(f"steps must be >= transient + window = {transient + win}")
    if not 0 < beta2 < 1:
        raise InputError("beta2 must lie in (0, 1)")
    state = (cf.x, cf.y, cf.z)
    loss = cf.TOY_LOSS.subs({cf.c: opt["c_toy"], cf.kappa: opt["kappa"], cf.a: opt["a"], cf.q: opt["q"]})
    grad_f = sp.lambdify(state, [sp.diff(loss, v) for v in state], "numpy")
    hess_e = sp.hessian(loss, state)
    hess_f = sp.lambdify(state, hess_e, "numpy")
    dhess_f = [sp.lambdify(state, sp.diff(hess_e, v), "numpy") for v in state]
    claim = card.claim("sigma_squared")
    args = claim.arguments
    inv = {sym.name: sym for sym, _ in args["invariants"]}
    c_val = (1 - beta2) / beta2
    sig_f = sp.lambdify((eta_sym, args["c"], args["sharpness"], inv["gLgS"], inv["gS2"], inv["gL2"]), claim.value,
                        "numpy")
    w = np.array([opt["x0"], opt["y0"], opt["z0"]], dtype=float)
    g = np.array(grad_f(*w), dtype=float)
    nu = float(g @ g)
    W, NU = np.empty((steps, 3)), np.empty(steps)
    for t in range(steps):
        g = np.array(grad_f(*w), dtype=float)
        nu = beta2 * nu + (1 - beta2) * float(g @ g)
        W[t], NU[t] = w, nu
        w = w - eta / math.sqrt(nu) * g
        if progress is not None and (t + 1) % 5000 == 0:
            progress(t + 1)
    rows = []
    for s0 in range(transient, steps - win + 1, win):
        sl = slice(s0, s0 + win)
        wb = W[sl].mean(0)
        ev, V = np.linalg.eigh(np.array(hess_f(*wb), dtype=float))
        S, u = float(ev[-1]), V[:, -1]
        gS = np.array([u @ np.array(d(*wb), dtype=float) @ u for d in dhess_f])
        gb = np.array(grad_f(*wb), dtype=float)
        pred = float(sig_f(eta, c_val, S, float(gb @ gS), float(gS @ gS), float(gb @ gb)))
        meas = float((((W[sl] - wb) @ u) ** 2).mean())
        rows.append({"step": s0 + win // 2, "variance": meas, "sigma2": pred,
                     "S_eff": eta * S / math.sqrt(NU[sl].mean()),
                     "S": S, "finite": bool(np.isfinite(W[sl]).all())})
    verdicts, lines, judged = [], [], {}
    lines.append(f"scalar RMSProp, eta = {eta:g}, beta2 = {beta2:g} (c = {c_val:.6g}), {steps} steps from "
                 f"({opt['x0']:g}, {opt['y0']:g}, {opt['z0']:g})")
    for r in rows[:: max(1, len(rows) // 10)]:
        lines.append(f"step {r['step']:6d}: <(dw.u)^2> {r['variance']:.7g} vs sigma^2 {r['sigma2']:.7g} (relative "
                     f"{abs(r['variance'] - r['sigma2']) / abs(r['sigma2']):.2e}); eta S/sqrt(<nu>) {r['S_eff']:.5f}; "
                     f"S {r['S']:.3f}")
    ob = _observed(card, "method_variance")
    if ob is not None:
        rel = [abs(r["variance"] - r["sigma2"]) / abs(r["sigma2"]) for r in rows]
        worst = max(rel) if rows and all(r["finite"] for r in rows) else math.inf
        judged["method_variance"] = rel
        verdicts.append(Verdict(ob.name, ob.kind, worst <= ob.rtol,
                                f"{len(rows)} windows of {win} steps after step {transient}: worst relative gap "
                                f"{worst:.2e} (median {sorted(rel)[len(rel) // 2]:.2e}; tolerance {ob.rtol:g})"))
    verdicts += unjudged(card, judged)
    every = max(1, steps // 2000)
    ts = tuple(float(i) for i in range(0, steps, every))
    wx = tuple(float(r["step"]) for r in rows)
    panels = (
        Panel(f"scalar RMSProp on the toy, eta = {eta:g}, beta2 = {beta2:g}", "step", "oscillation variance",
              (Curve(f"method <(dw.u)^2> ({win}-step windows)", wx, tuple(r["variance"] for r in rows), "o"),
               Curve("claimed sigma^2 at the window mean", wx, tuple(r["sigma2"] for r in rows), "--"))),
        Panel("effective sharpness", "step", "eta S / sqrt(nu)",
              (Curve("method, raw", ts, tuple(float(eta * W[i, 1] / math.sqrt(NU[i])) for i in range(0, steps, every)),
                     "-"),
               Curve("window means", wx, tuple(r["S_eff"] for r in rows), "o")), hlines=(("2", 2.0),)),
    )
    data = {"eta": eta, "beta2": beta2, "windows": rows, "judged": judged}
    return ScenarioResult(card.id, sim.algorithm, tuple(verdicts), tuple(lines), data, panels, steps, 1, seed, "cpu",
                          "float64", versions())


SCENARIOS["central_flow_scalar_rmsprop_toy"] = scalar_rmsprop_toy
