"""Numeric routes for the central-flow cards (theory/derive/central_flow.py), independent of SymPy's
chain rule: the sharpness is computed numerically (eigvalsh of an exact Hessian), its gradient and its
rate along a flow by central differences.

``IDENTITY_NUMERICS``:
- ``central_flow_sigma``: seeded random smooth losses on R^3 (hypothesis draws the loss's seed and the
  point; L = sum_i alpha_i cos(b_i . w + c_i) + w^T A w / 2): with the claimed sigma^2 (evaluated from
  the numeric <g, s>, |s|^2, |g|^2) the flow dw/dt = -eta[g + sigma^2 s/2] must leave the numeric
  sharpness unchanged: |dS/dt| <= 1e-6 eta |s| |g| (central differences along the flow).
- ``central_flow_rate``: sigma^2 found numerically (dS/dt is affine in sigma^2: two evaluations, its
  root), then dL/dt = <g, dw/dt> (or the numeric dS/dt) compared with the claim.
- ``central_flow_projection``: the same numeric flow against the claim's ``target`` evaluated with the
  numeric vectors; the claimed residual compared with |dw/dt - target|^2.
- ``central_flow_time_average``: a random smooth loss on R^2, the step size set by eta = 2/S, a linear
  term added so that <g, grad S> = -sigma^2 |grad S|^2/2 (the central-flow relation); the exact average
  of L (or |grad L|^2) over w +- sigma u vs the claim at sigma and sigma/2: the gap must shrink at
  least like sigma^3 (ratio >= 8; the claim is exact to order sigma^2) or be below 1e-12.
- ``central_flow_toy_path``: scipy DOP853 (rtol 1e-12) integration of the *general* central flow on the
  card's loss (numeric Hessian eigenvalue, its gradient by central differences, sigma^2 by the
  numeric root of dS/dt = 0) from (mode = 0, S = 2/eta, z0) for the time t; sigma^2(t), z(t), L(w(t))
  vs the claim.
- ``scalar_rmsprop_sigma``: random smooth losses; (w, nu) on the manifold eta S/sqrt(nu) = 2; with the
  claimed sigma^2 the RMSProp central flow must keep d/dt (eta S / sqrt(nu)) = 0 (central differences).
"""
from __future__ import annotations

import math

import numpy as np
import sympy as sp
from hypothesis import HealthCheck, Phase, given, seed as hyp_seed, settings
from hypothesis import strategies as st
from scipy.integrate import solve_ivp

from numerics._compile import compiled
from numerics._result import CheckResult
from theory import Card, Identity
from theory._assume import sample_points
from theory._oracle import grad
from theory.derive.central_flow import _vector, grad_sharpness

MODELS: dict = {}
H_FD = 1e-5
RATE_RTOL = 1e-6


class SmoothLoss:
    """L(w) = sum_i alpha_i cos(b_i . w + c_i) + w^T A w / 2 + lin . w on R^d, exact gradient and Hessian."""

    def __init__(self, rng: np.random.Generator, d: int = 3, terms: int = 4):
        self.d = d
        self.alpha = rng.normal(0, 1, terms)
        self.b = rng.normal(0, 1, (terms, d))
        self.c = rng.uniform(0, 2 * math.pi, terms)
        m = rng.normal(0, 1, (d, d))
        self.A = m @ m.T / d + np.diag(rng.uniform(0, 3, d))
        self.lin = rng.normal(0, 1, d)

    def value(self, w):
        return float(self.alpha @ np.cos(self.b @ w + self.c) + 0.5 * w @ self.A @ w + self.lin @ w)

    def grad(self, w):
        return -(self.alpha * np.sin(self.b @ w + self.c)) @ self.b + self.A @ w + self.lin

    def hess(self, w):
        return -np.einsum("i,ij,ik->jk", self.alpha * np.cos(self.b @ w + self.c), self.b, self.b) + self.A

    def sharpness(self, w):
        return float(np.linalg.eigvalsh(self.hess(w))[-1])

    def gap(self, w):
        ev = np.linalg.eigvalsh(self.hess(w))
        return float(ev[-1] - ev[-2])

    def grad_sharpness(self, w, h=H_FD):
        e = np.eye(self.d)
        return np.array([(self.sharpness(w + h * e[k]) - self.sharpness(w - h * e[k])) / (2 * h) for k in range(self.d)])

    def rate(self, fn, w, v, h=H_FD):
        """d/dt fn(w + t v) at t = 0, central differences scaled to |v|."""
        n = np.linalg.norm(v)
        if n == 0:
            return 0.0
        u = v / n
        return n * (fn(w + h * u) - fn(w - h * u)) / (2 * h)


def _draw(seed_value: int, d: int = 3):
    """A smooth loss and a point with a clear spectral gap (the sharpness differentiable there)."""
    rng = np.random.default_rng(seed_value)
    for _ in range(50):
        loss = SmoothLoss(rng, d)
        w = rng.normal(0, 1, d)
        if loss.gap(w) > 0.2 and np.linalg.norm(loss.grad_sharpness(w)) > 0.05:
            return loss, w
    raise ValueError("no smooth loss with a spectral gap drawn")


def _claim_fn(claim: Identity, expr=None):
    expr = sp.S(claim.value if expr is None else expr)
    args = tuple(sorted(expr.free_symbols, key=lambda s: s.name))
    fn = compiled(expr, args)
    return lambda values: float(fn(*[values[a.name] for a in args]))


def _hyp(count: int, seed: int):
    def run(test):
        wrapped = settings(max_examples=max(count, 4), deadline=None, database=None, derandomize=False,
                           phases=(Phase.generate, Phase.shrink),
                           suppress_health_check=list(HealthCheck))(test)
        return hyp_seed(seed)(wrapped)
    return run


def _search(count: int, seed: int, body) -> tuple[dict | None, float, int]:
    """Run ``body(loss_seed, eta) -> (ok, measure, detail)`` under hypothesis; the first failure (shrunk)."""
    state = {"worst": 0.0, "n": 0, "bad": None}

    @_hyp(count, seed)
    @given(loss_seed=st.integers(0, 2**31 - 1), eta=st.floats(0.01, 1.0))
    def test(loss_seed, eta):
        ok, measure, detail = body(loss_seed, eta)
        state["n"] += 1
        if ok:
            state["worst"] = max(state["worst"], measure)
        else:
            state["bad"] = {"loss_seed": loss_seed, "eta": eta, "detail": detail, "measure": measure}
        assert ok

    try:
        test()
    except AssertionError:
        pass
    return state["bad"], state["worst"], state["n"]


def _invariants(g, s):
    return {"gLgS": float(g @ s), "gS2": float(s @ s), "gL2": float(g @ g)}


def _sigma_numeric(card: Card, claim: Identity, examples: int, seed: int, count: int) -> list[CheckResult]:
    claimed = _claim_fn(claim)
    eta_name = next((s.name for s in card.symbols if s.name == "eta"), "eta")

    def body(loss_seed, eta):
        loss, w = _draw(loss_seed)
        g, s = loss.grad(w), loss.grad_sharpness(w)
        sig = claimed({**_invariants(g, s), eta_name: eta})
        v = -eta * (g + sig / 2 * s)
        rate = loss.rate(loss.sharpness, w, v)
        scale = eta * np.linalg.norm(s) * np.linalg.norm(g)
        rel = abs(rate) / scale
        return rel <= RATE_RTOL, rel, f"dS/dt = {rate:.3e} (scale {scale:.3e}) with sigma^2 = {sig:.6g}"

    bad, worst, n = _search(count, seed, body)
    if bad is not None:
        return [CheckResult("random_losses_dS_dt", False, f"the claimed sigma^2 moves the numeric sharpness: "
                            f"{bad['detail']} (loss seed {bad['loss_seed']}, eta = {bad['eta']:.4g}, shrunk)",
                            claim.name, {"at": {"eta": bad["eta"]}, "loss_seed": bad["loss_seed"]},
                            route="random_losses", examples=n)]
    return [CheckResult("random_losses_dS_dt", True, f"random smooth losses on R^3 (hypothesis, seeded): the numeric "
                        f"sharpness (eigvalsh) has |dS/dt| / (eta |s||g|) <= {worst:.2e} along the claimed flow "
                        f"(tolerance {RATE_RTOL:g}) at {n} draws", claim.name, route="random_losses", examples=n)]


def _numeric_flow(loss: SmoothLoss, w, eta: float):
    """sigma^2 as the root of the numeric dS/dt (affine in sigma^2), and the flow."""
    g, s = loss.grad(w), loss.grad_sharpness(w)
    r0 = loss.rate(loss.sharpness, w, -eta * g)
    r1 = loss.rate(loss.sharpness, w, -eta * (g + 0.5 * s))
    # dS/dt is linear in the velocity: r(sig) = r0 + sig (r1 - r0)
    sig = -r0 / (r1 - r0)
    return sig, -eta * (g + sig / 2 * s), g, s


def _rate_numeric(card: Card, claim: Identity, examples: int, seed: int, count: int) -> list[CheckResult]:
    claimed = _claim_fn(claim)
    of = claim.arguments.get("of", "loss")

    def body(loss_seed, eta):
        loss, w = _draw(loss_seed)
        sig, v, g, s = _numeric_flow(loss, w, eta)
        got = float(g @ v) if of == "loss" else loss.rate(loss.sharpness, w, v)
        want = claimed({**_invariants(g, s), "eta": eta})
        scale = eta * np.linalg.norm(g)**2
        rel = abs(got - want) / scale
        sign_ok = of != "loss" or got <= 1e-12 * scale
        return rel <= RATE_RTOL and sign_ok, rel, f"numeric d{of}/dt = {got:.10g}, claimed {want:.10g}"

    bad, worst, n = _search(count, seed, body)
    if bad is not None:
        return [CheckResult("random_losses_rate", False, f"{bad['detail']} (loss seed {bad['loss_seed']}, eta = "
                            f"{bad['eta']:.4g}, shrunk)", claim.name, {"at": {"eta": bad["eta"]}},
                            route="random_losses", examples=n)]
    extra = " and dL/dt <= 0 at every draw" if of == "loss" else ""
    return [CheckResult("random_losses_rate", True, f"random smooth losses on R^3, sigma^2 the root of the numeric "
                        f"dS/dt: d{of}/dt = claim within {worst:.2e} eta|g|^2{extra} at {n} draws", claim.name,
                        route="random_losses", examples=n)]


def _projection_numeric(card: Card, claim: Identity, examples: int, seed: int, count: int) -> list[CheckResult]:
    target = claim.arguments["target"]
    eta_sym = next(s for s in card.symbols if s.name == "eta")
    claimed_fn = _claim_fn(claim)

    def body(loss_seed, eta):
        loss, w = _draw(loss_seed)
        sig, v, g, s = _numeric_flow(loss, w, eta)
        comps = _vector(target, {grad: [sp.Float(x) for x in g], grad_sharpness: [sp.Float(x) for x in s]}, 3)
        tv = np.array([float(e.subs(eta_sym, eta)) for e in comps])
        residual = float(np.sum((v - tv)**2))
        claimed = claimed_fn({**_invariants(g, s), "eta": eta})
        scale = (eta * np.linalg.norm(g))**2
        rel = abs(residual - claimed) / scale
        return rel <= RATE_RTOL, rel, f"|dw/dt - target|^2 = {residual:.6g} (scale {scale:.3g}), claimed {claimed:.6g}"

    bad, worst, n = _search(count, seed, body)
    if bad is not None:
        return [CheckResult("random_losses_projection", False, f"{bad['detail']} (loss seed {bad['loss_seed']}, "
                            f"shrunk)", claim.name, route="random_losses", examples=n)]
    return [CheckResult("random_losses_projection", True, f"random smooth losses on R^3: the numeric central flow "
                        f"equals the target within {worst:.2e} (relative to (eta|g|)^2) at {n} draws", claim.name,
                        route="random_losses", examples=n)]


def _average_numeric(card: Card, claim: Identity, examples: int, seed: int, count: int) -> list[CheckResult]:
    claimed = _claim_fn(claim)
    quantity = claim.arguments["quantity"]
    names = {k: v.name for k, v in claim.arguments["names"]}
    sig_name = claim.arguments["sigma"].name
    rng = np.random.default_rng(seed + 23)
    ratios = []
    for i in range(max(count, 4)):
        loss, w = _draw(int(rng.integers(2**31)), d=2)
        H = loss.hess(w)
        ev, vec = np.linalg.eigh(H)
        if ev[-1] <= 0:
            continue
        u, S = vec[:, -1], ev[-1]
        eta = 2.0 / S
        s = loss.grad_sharpness(w)
        base = 0.05 / math.sqrt(S)
        gaps = []
        for sigma in (base, base / 2):
            # the central-flow relation <g, grad S> = -sigma^2 |grad S|^2 / 2 (a linear term moves g only)
            g0 = loss.grad(w)
            shift = (-(sigma**2) * (s @ s) / 2 - g0 @ s) / (s @ s)
            loss.lin = loss.lin + shift * s
            g = loss.grad(w)
            if quantity == "loss":
                mean = (loss.value(w + sigma * u) + loss.value(w - sigma * u)) / 2
            else:
                mean = (np.sum(loss.grad(w + sigma * u)**2) + np.sum(loss.grad(w - sigma * u)**2)) / 2
            want = claimed({names["loss"]: loss.value(w), names["grad_norm2"]: float(g @ g),
                            names["grad_sharpness_norm2"]: float(s @ s), sig_name: sigma**2, "eta": eta})
            gaps.append(abs(mean - want))
        scale = max(1.0, abs(want))
        if gaps[0] <= 1e-12 * scale:
            ratios.append(math.inf)
            continue
        ratio = gaps[0] / max(gaps[1], 1e-300)
        ratios.append(ratio)
        if ratio < 8:
            return [CheckResult("exact_average_order", False, f"the gap E[{quantity}] - claim shrinks only by "
                                f"{ratio:.3g} when sigma halves (gaps {gaps[0]:.3e}, {gaps[1]:.3e}): the claim is "
                                f"not exact to order sigma^2", claim.name, route="exact_average", examples=i + 1)]
    finite = [r for r in ratios if math.isfinite(r)]
    return [CheckResult("exact_average_order", True, f"random smooth losses on R^2 at eta = 2/S on the central-flow "
                        f"relation: the exact average over w +- sigma u minus the claim shrinks by "
                        f"{min(finite) if finite else math.inf:.3g}..{max(finite) if finite else math.inf:.3g} "
                        f"when sigma halves (>= 8: exact to order sigma^2) at {len(ratios)} losses", claim.name,
                        route="exact_average", examples=len(ratios))]


def _toy_numeric(card: Card, claim: Identity, examples: int, seed: int, count: int) -> list[CheckResult]:
    args = claim.arguments
    state = tuple(card.state)
    loss_expr, mode, eta_sym, coord = sp.S(args["loss"]), args["mode"], args["eta"], args["coordinate"]
    start_sym, time_sym = args["start"], args["time"]
    quantity = args.get("quantity", "coordinate")
    params = [s for s in card.symbols if s in loss_expr.free_symbols]
    f_loss = compiled(loss_expr, (*state, *params))
    f_grad = compiled(sp.Matrix([sp.diff(loss_expr, s) for s in state]), (*state, *params))
    f_hess = compiled(sp.hessian(loss_expr, state), (*state, *params))
    claimed = _claim_fn(claim)
    free = [s for s in card.symbols if s in sp.S(claim.value).free_symbols or s in params or s == eta_sym]
    relations = [r for r in card.assumptions if r.free_symbols <= set(free)]
    worst = 0.0
    points = sample_points(free, relations, count=count, seed=seed + 31, override=card.sample)
    i_mode, i_coord = state.index(mode), state.index(coord)
    for pt in points:
        pf = {k: float(v) for k, v in pt.items()}
        pv = [pf[p] for p in params]
        eta = pf[eta_sym]

        def sharp(w):
            return float(np.linalg.eigvalsh(np.asarray(f_hess(*w, *pv), dtype=float))[-1])

        def field(_, w):
            g = np.ravel(np.asarray(f_grad(*w, *pv), dtype=float))
            e = np.eye(len(state))
            h = 1e-6
            s = np.array([(sharp(w + h * e[k]) - sharp(w - h * e[k])) / (2 * h) for k in range(len(state))])
            sig = 2 * (-g @ s) / (s @ s)
            return -eta * (g + sig / 2 * s), sig

        # the start on the edge: the mode at 0, the sharpness at 2/eta (solve for the coordinate S depends on)
        w0 = np.zeros(len(state))
        w0[i_coord] = pf[start_sym]
        others = [k for k in range(len(state)) if k not in (i_mode, i_coord)]
        k_pin = others[0]
        lo, hi = 0.0, 1e3
        w0[k_pin] = 1.0
        from scipy.optimize import brentq
        w0[k_pin] = brentq(lambda v: sharp(np.where(np.arange(len(state)) == k_pin, v, w0)) - 2 / eta, lo, hi,
                           xtol=1e-14)
        T = pf[time_sym]
        if T > 0:
            sol = solve_ivp(lambda tt, w: field(tt, w)[0], (0.0, T), w0, method="DOP853", rtol=1e-12, atol=1e-12)
            wT = sol.y[:, -1]
        else:
            wT = w0
        sig_T = field(T, wT)[1]
        got = {"coordinate": wT[i_coord], "sigma": sig_T, "loss": float(f_loss(*wT, *pv))}[quantity]
        want = claimed({k.name: v for k, v in pf.items()})
        rel = abs(got - want) / max(1.0, abs(want))
        drift = abs(sharp(wT) - 2 / eta) / (2 / eta)
        worst = max(worst, rel)
        if rel > 1e-7 or drift > 1e-7:
            return [CheckResult("dop853_central_flow", False, f"integrated central flow: {quantity}(t = {T:.4g}) = "
                                f"{got:.12g} vs claimed {want:.12g} (sharpness drift {drift:.2e}) at "
                                f"{', '.join(f'{k.name}={v:.5g}' for k, v in pf.items())}", claim.name,
                                {"at": {k.name: v for k, v in pf.items()}, "numeric": got, "claimed": want},
                                route="dop853")]
    return [CheckResult("dop853_central_flow", True, f"scipy DOP853 (rtol 1e-12) on the general central flow with the "
                        f"numeric sharpness: {quantity} = claim within {worst:.2e} and S = 2/eta held, at "
                        f"{len(points)} seeded points", claim.name, route="dop853", examples=len(points))]


def _rmsprop_numeric(card: Card, claim: Identity, examples: int, seed: int, count: int) -> list[CheckResult]:
    claimed = _claim_fn(claim)
    c_name = claim.arguments["c"].name

    def body(loss_seed, eta):
        loss, w = _draw(loss_seed)
        c = 0.01 + (loss_seed % 1000) / 1000.0
        S = loss.sharpness(w)
        if S <= 0:
            return True, 0.0, "skipped: negative sharpness"
        nu = (eta * S / 2) ** 2
        g, s = loss.grad(w), loss.grad_sharpness(w)
        sig = claimed({**_invariants(g, s), "eta": eta, c_name: c, "S": S})
        wdot = -(eta / math.sqrt(nu)) * (g + sig / 2 * s)
        nudot = c * (g @ g + sig * S**2 - nu)
        h = 1e-6
        seff = lambda tt: eta * loss.sharpness(w + tt * wdot) / math.sqrt(nu + tt * nudot)  # noqa: E731
        rate = (seff(h) - seff(-h)) / (2 * h)
        scale = abs(eta * (s @ wdot) / math.sqrt(nu)) + abs(eta * S * nudot / nu**1.5) + 1e-12
        rel = abs(rate) / scale
        return rel <= 1e-5, rel, f"d S_eff/dt = {rate:.3e} (scale {scale:.3e}) with sigma^2 = {sig:.6g}"

    bad, worst, n = _search(count, seed, body)
    if bad is not None:
        return [CheckResult("random_losses_dSeff_dt", False, f"{bad['detail']} (loss seed {bad['loss_seed']}, eta = "
                            f"{bad['eta']:.4g}, shrunk)", claim.name, route="random_losses", examples=n)]
    return [CheckResult("random_losses_dSeff_dt", True, f"random smooth losses on R^3 on the manifold eta S/sqrt(nu) = 2: "
                        f"the claimed sigma^2 keeps |dS_eff/dt| <= {worst:.2e} of its scale at {n} draws",
                        claim.name, route="random_losses", examples=n)]


IDENTITY_NUMERICS: dict = {
    "central_flow_sigma": _sigma_numeric,
    "central_flow_rate": _rate_numeric,
    "central_flow_projection": _projection_numeric,
    "central_flow_time_average": _average_numeric,
    "central_flow_toy_path": _toy_numeric,
    "scalar_rmsprop_sigma": _rmsprop_numeric,
}
