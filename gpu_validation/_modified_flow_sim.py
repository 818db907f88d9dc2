"""Modified flows on a small MLP (see gpu_validation/_scenarios.py): the card's own update rule, run on
a real network's full-batch loss, against the flow of the card's own ModifiedFlow claim.

``SCENARIOS``: name -> ``fn(card, *, at, device, seed, steps, progress) -> ScenarioResult``. torch is
imported inside the functions; float64 throughout; every draw comes from a seeded torch generator.

- ``modified_flow_mlp``: a tanh MLP (2 -> width -> width -> 1, LeCun init from the seed) on a seeded
  synthetic regression set (n inputs ~ N(0, I), targets sin(x1) + x2^2/2 - x1 x2/2 plus seeded noise),
  L(theta) = mean (f - y)^2 / 2. The claimed field is compiled from the claim itself: its modified loss
  with loss(x) -> L(theta) and norm(grad(x))^2 -> ||g||^2 = g.g (g by autograd with create_graph), its
  parameters from the card's simulation point, and F = -speed * grad_theta of that loss (so the
  h c ||g||^2 term contributes 2 c h H g through a double backward: an autograd HVP). The plain flow
  is the same expression at step 0 (-speed * g). Both are integrated by classical RK4 with fixed
  substeps (dt = h / ``substeps`` at the smallest h) in float64; the discrete iterates are the card's
  update rule compiled to torch (gpu_validation/_compiled.py), gradients by autograd.
  One state variable (GD): the local error |x_1 - phi_h(x_0)| at h = h0 / 2^j, j = 0..``levels``-1;
  a field exact to order k has slope k + 2, the plain flow slope 2. More state (heavy ball): the
  method starts on the flow's slow manifold (x_prev = phi_{-h}(x_0), the flow integrated backwards by
  one step, the flow under test for each comparison) and the global error at the fixed horizon
  T = K h0, K = ``horizon`` x memory steps at h0, has slope k + 1, the plain flow slope 1
  (numerics/_modified_flow.py's convention). h0 = ``h0`` / (speed * lambda_max(H(theta_0)) * memory), memory
  = 1 / (1 - rho), rho the zero-step map's contraction of the auxiliary state (heavy ball: beta; measured
  from the compiled rule's Jacobian; 1 for one state variable). Judges the card's Observed ``mlp_error_order``: on
  every seed, |slope - (k + 1 or 2)| <= SLOPE_TOL and |plain slope - (that - 1)| <= SLOPE_TOL, the
  integrator's own error (RK4 at dt against 2 dt) below 1 % of every measured error.
"""
from __future__ import annotations

import math

import sympy as sp

from gpu_validation._device import pick_device, single_thread
from gpu_validation._scenarios import Curve, Panel, ScenarioResult
from gpu_validation._simulate import Verdict, versions
from numerics import validate_point
from numerics._modified_flow import SLOPE_TOL, slope
from theory import Card, InputError, ModifiedFlow, Observed
from theory._oracle import grad as GRAD, loss as LOSS, norm as NORM

INTEGRATOR_SHARE = 0.01   # RK4's own error (dt vs 2 dt) must stay below this share of every measured error


def _opt(card: Card, name: str, default: float) -> float:
    return float(card.simulation.options.get(name, default))


def _point(card: Card, at) -> dict[sp.Symbol, float]:
    """The card's simulation bindings with the user's overrides, checked against the assumptions."""
    bindings = {s.name: float(v) for s, v in card.simulation.at.items()}
    bindings.update(at or {})
    point, _ = validate_point(card, bindings, claims=[c for c in card.claims if isinstance(c, Observed)],
                              require=False)
    return {s: float(v) for s, v in point.items()}


def compile_claim(claim: ModifiedFlow, x: sp.Symbol, params: dict[sp.Symbol, float]):
    """(speed, M): the claim's flow speed (a float) and its modified loss as a function
    M(L, G2, h) of torch tensors, L the loss, G2 = ||grad L||^2, h the step (per row). Only the
    oracle atoms loss(x) and norm(grad(x)) may occur; anything else is an InputError."""
    if claim.loss is None:
        raise InputError(f"claim {claim.name}: the MLP scenario compiles a modified loss (loss=...), not a field")
    Ls, G2s, hs = sp.Dummy("L"), sp.Dummy("G2", nonnegative=True), sp.Dummy("h")
    expr = claim.loss.xreplace({NORM(GRAD(x)) ** 2: G2s})
    expr = expr.xreplace({NORM(GRAD(x)): sp.sqrt(G2s), LOSS(x): Ls})
    others = {p: sp.Float(v) for p, v in params.items() if p != claim.step}
    expr = expr.xreplace({**others, claim.step: hs})
    speed = sp.S(claim.speed).xreplace(others)
    bad = (expr.free_symbols | speed.free_symbols) - {Ls, G2s, hs}
    if bad or speed.free_symbols:
        raise InputError(f"claim {claim.name}: unbound {', '.join(sorted(map(str, bad | speed.free_symbols)))} "
                         "(bind it in the card's simulation)")
    if expr.atoms(sp.Function):
        raise InputError(f"claim {claim.name}: the MLP scenario compiles loss(x) and norm(grad(x)) only, got "
                         f"{sp.sstr(expr)}")
    poly = sp.Poly(sp.expand(expr), Ls, G2s, hs) if expr.is_polynomial(Ls, G2s, hs) else None
    if poly is None:
        raise InputError(f"claim {claim.name}: the modified loss is not polynomial in L, ||g||^2 and h")
    terms = [(float(coef), monom) for monom, coef in zip(poly.monoms(), poly.coeffs())]

    def M(L, G2, h):
        out = 0.0 * L
        for coef, (a, b, c) in terms:
            out = out + coef * L ** a * G2 ** b * h ** c
        return out
    return float(speed), M, terms


class MLP:
    """A tanh MLP 2 -> w -> w -> 1 on a fixed synthetic regression set; parameters are rows of a (B, P)
    tensor (one independent network per row), the loss per row."""

    def __init__(self, width: int, n: int, seed: int, device):
        import torch

        from gpu_validation._networks import mlp
        from gpu_validation.curvature import flatten
        gen = torch.Generator().manual_seed(seed)
        X = torch.randn(n, 2, generator=gen, dtype=torch.float64)
        y = torch.sin(X[:, 0]) + 0.5 * X[:, 1] ** 2 - 0.5 * X[:, 0] * X[:, 1]
        y = y + 0.1 * torch.randn(n, generator=gen, dtype=torch.float64)
        params, _ = mlp((2, width, width, 1), seed)
        # LeCun-normal weights from the seed; small random biases (zero biases make the network odd in x)
        for k in params:
            if k.startswith("b"):
                params[k] = 0.1 * torch.randn(params[k].shape, generator=gen, dtype=torch.float64)
        self.X, self.y = X.to(device), y.to(device)
        self.shapes = [(k, tuple(v.shape)) for k, v in params.items()]
        self.theta0 = flatten(params).to(device)
        self.width, self.n = width, n

    def loss(self, theta):
        """(B, P) -> (B,): mean squared error / 2 of each row's network."""
        import torch
        B = theta.shape[0]
        parts, i = {}, 0
        for k, shape in self.shapes:
            size = math.prod(shape)
            parts[k] = theta[:, i:i + size].reshape(B, *shape)
            i += size
        a = torch.tanh(torch.einsum("nj,bjk->bnk", self.X, parts["W0"]) + parts["b0"][:, None, :])
        a = torch.tanh(torch.einsum("bnj,bjk->bnk", a, parts["W1"]) + parts["b1"][:, None, :])
        f = (torch.einsum("bnj,bjk->bnk", a, parts["W2"]) + parts["b2"][:, None, :])[..., 0]
        return 0.5 * ((f - self.y) ** 2).mean(dim=1)

    def top_eigenvalue(self, theta) -> float:
        import torch
        H = torch.autograd.functional.hessian(lambda t: self.loss(t[None])[0], theta)
        return float(torch.linalg.eigvalsh(H).abs().max())


def _field(net: MLP, M, speed: float):
    """theta (B, P), h (B, 1) -> -speed * grad_theta M(L, ||g||^2, h), per row (double backward)."""
    import torch

    def F(theta, h):
        with torch.enable_grad():
            t = theta.detach().requires_grad_(True)
            L = net.loss(t)
            (g,) = torch.autograd.grad(L.sum(), t, create_graph=True)
            m = M(L, (g * g).sum(dim=1), h[:, 0])
            (gm,) = torch.autograd.grad(m.sum(), t)
        return -speed * gm
    return F


def _rk4(F, theta, h, dt, steps: int, keep: set[int] | None = None):
    """``steps`` classical RK4 steps of size dt ((B, 1), may be negative); the states at the step
    counts in ``keep`` (and the last)."""
    out = {}
    y = theta
    for k in range(1, steps + 1):
        k1 = F(y, h)
        k2 = F(y + 0.5 * dt * k1, h)
        k3 = F(y + 0.5 * dt * k2, h)
        k4 = F(y + dt * k3, h)
        y = y + dt / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
        if keep is not None and k in keep:
            out[k] = y
    out[steps] = y
    return out


def _memory(rule, oracle, hp, theta) -> float:
    """1 / (1 - rho): rho the largest modulus among the eigenvalues of the zero-step map's Jacobian
    (central differences at the state (theta, theta, ...)) other than the position's P unit ones."""
    import torch
    names = rule.state
    P = theta.numel()
    D = P * len(names)
    eps = 1e-6
    base = theta.repeat(len(names))
    z = torch.cat([base + eps * torch.eye(D, dtype=theta.dtype, device=theta.device),
                   base - eps * torch.eye(D, dtype=theta.dtype, device=theta.device)])
    state = {n: z[:, i * P:(i + 1) * P] for i, n in enumerate(names)}
    out = rule.step(state, oracle, hp)
    image = torch.cat([out[n] for n in names], dim=1)
    J = ((image[:D] - image[D:]) / (2 * eps)).T
    moduli = torch.linalg.eigvals(J.cpu()).abs().sort().values
    rho = float(moduli[:D - P].max())
    return 1.0 / max(1.0 - min(rho, 0.999), 1e-3)


def _claims(card: Card) -> tuple[ModifiedFlow, Observed | None]:
    flows = [c for c in card.claims if isinstance(c, ModifiedFlow) and c.loss is not None]
    if not flows:
        raise InputError(f"card {card.id}: the MLP scenario needs a ModifiedFlow claim with a modified loss")
    observed = next((c for c in card.claims if isinstance(c, Observed) and (c.observer or c.name) == "mlp_error_order"),
                    None)
    return flows[0], observed


def measure(card: Card, *, at=None, device="cpu", seed: int = 0) -> dict:
    """The error of the card's rule against the claimed flow and the plain flow at h0 / 2^j on the MLP
    of ``seed``: {h, errors, plain_errors, slope, plain_slope, expected, kind, integrator, ...}."""
    import torch

    from gpu_validation._compiled import Oracle, compile_rule
    claim, _ = _claims(card)
    x = card.state[0]
    params = _point(card, at)
    speed, M, terms = compile_claim(claim, x, params)
    dev = pick_device(device)
    net = MLP(int(_opt(card, "width", 8)), int(_opt(card, "n", 32)), seed, dev)
    lam_max = net.top_eigenvalue(net.theta0)
    levels = int(_opt(card, "levels", 4))
    rule = compile_rule(card)
    oracle = Oracle(net.loss)
    hp_fixed = {p.name: v for p, v in params.items() if p.name in rule.params and p != claim.step}
    multi = len(card.state) > 1
    if multi and (len(card.state) != 2 or rule.copies.get(card.state[1].name) != card.state[0].name):
        raise InputError(f"card {card.id}: the MLP scenario starts a multi-state rule on the flow's history "
                         "only for copies of the previous iterate (heavy ball's x_prev)")
    # a rule with memory is expanded in h / (1 - rho) (rho: its zero-step contraction, heavy ball's beta): the
    # step range starts inside that regime and the horizon spans ``horizon`` memory times at h0
    memory = _memory(rule, oracle, {**hp_fixed, claim.step.name: 0.0}, net.theta0) if multi else 1.0
    h0 = _opt(card, "h0", 0.2) / (speed * lam_max * memory)
    hs = [h0 / 2 ** j for j in range(levels)]
    sub = int(_opt(card, "substeps", 4))
    if sub < 2 or sub % 2:
        raise InputError("option substeps must be an even number >= 2 (RK4 is also run at half of them)")
    coarse = sub // 2  # RK4 at half the substeps: |coarse - fine| bounds the fine run's error (~16x over)
    F = _field(net, M, speed)
    J = len(hs)
    P = net.theta0.numel()
    # rows 0..J-1: the claimed flow at h_j; rows J..2J-1: the plain flow (the claim at step 0)
    hrow = torch.tensor(hs + [0.0] * J, dtype=torch.float64, device=dev)[:, None]
    hstep = torch.tensor(hs + hs, dtype=torch.float64, device=dev)[:, None]
    x0 = net.theta0.expand(2 * J, P).clone()

    def run_rule(state, h, steps):
        hp = {**hp_fixed, claim.step.name: h}
        for _ in range(steps):
            state = rule.step(state, oracle, hp)
        return state

    if not multi:
        # local error: one step of the rule against the flows over time h_j (m RK4 substeps of h_j / m);
        # RK4 at half the substeps too, for its own error
        fine = {m: _rk4(F, x0, hrow, hstep / m, m)[m] for m in (coarse, sub)}
        one = rule.step(rule.init(x0), oracle, {**hp_fixed, claim.step.name: hstep})[rule.state[0]]
        err = torch.linalg.vector_norm(one - fine[sub], dim=1).cpu()
        integ = torch.linalg.vector_norm(fine[coarse] - fine[sub], dim=1).cpu()
        expected, kind, horizon, steps_run = claim.order + 2, "local, one step", None, 1
    else:
        K = max(1, round(_opt(card, "horizon", 8) * memory))
        T = K * h0
        fine = {}
        for m in (coarse, sub):
            # the slow manifold: x_prev = phi_{-h}(x0) along the flow under test (m substeps backwards)
            back = _rk4(F, x0, hrow, -hstep / m, m)[m]
            # forward: one dt for every row, T / dt substeps
            n_sub = K * 2 ** (J - 1) * m
            dt = torch.full_like(hrow, T / n_sub)
            fine[m] = (back, _rk4(F, x0, hrow, dt, n_sub)[n_sub])
        back, end = fine[sub]
        ends = []
        for j in range(J):
            rows = [j, J + j]
            state = {rule.state[0]: x0[rows]}
            for name in rule.state[1:]:
                state[name] = back[rows]
            n = K * 2 ** j
            ends.append(run_rule(state, hstep[rows], n)[rule.state[0]])
        last = torch.cat([e[:1] for e in ends] + [e[1:] for e in ends])
        err = torch.linalg.vector_norm(last - end, dim=1).cpu()
        b1, e1 = fine[coarse]
        integ = torch.maximum(torch.linalg.vector_norm(e1 - end, dim=1),
                              torch.linalg.vector_norm(b1 - back, dim=1)).cpu()
        expected, kind, horizon, steps_run = claim.order + 1, "global, fixed horizon", T, K * 2 ** (J - 1)
    errors, plain = err[:J].tolist(), err[J:].tolist()
    out = {"seed": seed, "h": hs, "errors": errors, "plain_errors": plain, "slope": slope(hs, errors),
           "plain_slope": slope(hs, plain), "expected": expected, "kind": kind, "lambda_max": lam_max,
           "speed": speed, "modified_loss": [[c, list(mon)] for c, mon in terms], "parameters": len(net.theta0),
           "integrator_error": integ.tolist(), "integrator_share": float(max(integ / err)),
           "horizon": horizon, "memory": memory, "steps": steps_run, "substeps": sub, "width": net.width, "n": net.n,
           "initial_loss": float(net.loss(net.theta0[None])[0]),
           "params": {p.name: v for p, v in params.items()}}
    return out


def modified_flow_mlp(card: Card, *, at=None, device="auto", seed=0, steps=None, progress=None) -> ScenarioResult:
    claim, observed = _claims(card)
    sim = card.simulation
    dev = pick_device(device)
    runs = []
    with single_thread(dev.type == "cpu"):
        for s in range(int(sim.seeds)):
            runs.append(measure(card, at=at, device=str(dev), seed=seed + s))
            if progress is not None:
                progress(s + 1)
    exp = runs[0]["expected"]
    lines, ok_all = [], True
    for r in runs:
        good = abs(r["slope"] - exp) <= SLOPE_TOL and abs(r["plain_slope"] - (exp - 1)) <= SLOPE_TOL \
            and r["integrator_share"] <= INTEGRATOR_SHARE
        ok_all = ok_all and good
        lines.append(f"seed {r['seed']}: {r['kind']} error, {r['parameters']} parameters, lambda_max = "
                     f"{r['lambda_max']:.4g}, h = " + ", ".join(f"{h:.4g}" for h in r["h"])
                     + (f", horizon T = {r['horizon']:.4g}" if r["horizon"] is not None else ""))
        lines.append(f"  modified flow: slope {r['slope']:.3f}, errors " + ", ".join(f"{e:.3e}" for e in r["errors"]))
        lines.append(f"  gradient flow: slope {r['plain_slope']:.3f}, errors "
                     + ", ".join(f"{e:.3e}" for e in r["plain_errors"]))
        lines.append(f"  RK4 check (dt vs 2 dt): at most {r['integrator_share']:.1e} of the measured error")
    verdicts = []
    if observed is not None:
        detail = (f"{runs[0]['kind']} error of the card's rule on a {runs[0]['parameters']}-parameter tanh MLP at "
                  f"h = h0/2^j, j = 0..{len(runs[0]['h']) - 1}: claimed flow slopes "
                  + ", ".join(f"{r['slope']:.2f}" for r in runs) + f" (expected {exp} +- {SLOPE_TOL}), gradient flow "
                  + ", ".join(f"{r['plain_slope']:.2f}" for r in runs) + f" (expected {exp - 1} +- {SLOPE_TOL}); "
                  f"RK4 error at most {max(r['integrator_share'] for r in runs):.1e} of the errors; "
                  f"{len(runs)} seed(s)")
        verdicts.append(Verdict(observed.name, observed.kind, ok_all, detail))
    verdicts += [Verdict(c.name, c.kind, None, "no observer for this claim in this scenario")
                 for c in card.claims if isinstance(c, Observed) and c is not observed]
    r0 = runs[0]
    first = [Curve(f"claimed (modified) flow, slope {r0['slope']:.2f}", tuple(r0["h"]), tuple(r0["errors"]), "o-"),
             Curve(f"gradient flow, slope {r0['plain_slope']:.2f}", tuple(r0["h"]), tuple(r0["plain_errors"]), "o-")]
    for order, base in ((exp, r0["errors"][0]), (exp - 1, r0["plain_errors"][0])):
        first.append(Curve(f"slope {order} (reference)", tuple(r0["h"]),
                           tuple(base * (h / r0["h"][0]) ** order for h in r0["h"]), ":"))
    rel = tuple(2.0 ** -j for j in range(len(r0["h"])))
    both = []
    for key, label in (("errors", "claimed"), ("plain_errors", "gradient")):
        for r in runs:
            both.append(Curve(f"{label}, seed {r['seed']}", rel, tuple(e / r[key][0] for e in r[key]),
                              "o" if key == "errors" else "x"))
    for order in (exp, exp - 1):
        both.append(Curve(f"slope {order} (reference)", rel, tuple(v ** order for v in rel), ":"))
    panels = (
        Panel(f"{card.id} on a tanh MLP, seed {r0['seed']}: {r0['kind']} error of the iterates against the "
              "claimed flow and the gradient flow", "step size h", "error |x_h - phi(x_0)|", tuple(first),
              logx=True, logy=True),
        Panel(f"every seed ({len(runs)}): error / error at h0 against h / h0", "h / h0", "relative error",
              tuple(both), logx=True, logy=True),
    )
    data = {"runs": runs, "seeds": [r["seed"] for r in runs], "expected": exp, "slope_tol": SLOPE_TOL,
            "integrator_share_max": INTEGRATOR_SHARE, "claim": claim.name}
    return ScenarioResult(card.id, sim.algorithm, tuple(verdicts), tuple(lines), data, panels,
                          max(r["steps"] for r in runs), len(runs), seed, str(dev), "float64", versions())


SCENARIOS = {"modified_flow_mlp": modified_flow_mlp}
