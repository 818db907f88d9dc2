"""Numeric routes for the schedule-free identities (see theory/derive/schedule_free.py), independent of the
symbolic derivations: the card's own update rule is RUN (grad(.) fed arbitrary seeded numbers), never the
derived closed form.

``IDENTITY_NUMERICS``:
- ``sf_online_average``: the rule at 50 digits on seeded random sequences (c[t] in (0.01, 1], g[t] ~ N(0, 4),
  random start) for 40 steps; x[t+1] - (1 - c'[t+1]) x[t] - c'[t+1] y[t+1] with the CLAIMED c' must vanish
  to 1e-40 at every step.
- ``sf_average_weights``: the weights measured through the rule: per step, the map (x, u+) -> x+ (u = z or y)
  is found by probing the compiled rule (the gradient solved so that u+ hits a target; a third probe checks
  that x+ does not depend on the rest of the state); w[T, s] = B_s prod_{r>s} A_r is compared with the claim
  (a weight, or the ratio w[s+1]/w[s]) at 50 digits on seeded (s, T).
- ``sf_averaging_exponent``: the same measured weights for T = 1e6 (float64, log space), least-squares slopes of
  log w vs log s over the windows [s0, 10 s0], s0 = 1e3, 1e4, 1e5; the claim must be within 1e-3 (relative,
  at least 1e-3 absolute) of the last slope and the gap must shrink with s0 (finite-s correction O(a^2/s)).
- ``sf_step_image``: the rule at 50 digits on random sequences; the quantity from the actual (state, next state)
  vs the claim in the new coordinates (solved back from the state).
- ``sf_stationary_variance``: A and b probed from the compiled noisy rule, scipy's solve_discrete_lyapunov,
  w^T Sigma w vs the claim at seeded points (and rho(A) < 1 there).
- ``amuse_schedule``: S_t and beta_t evaluated from their definitions at 50 digits at integer t > T0
  (S), at t = T0, and at t = 10^6 .. 10^24 (the limit: the gap must shrink to < 1e-6).
- ``sf_preconditioned_threshold``: random NON-commuting P (diagonal, positive) and H (PSD, random eigenbasis),
  d = 2..5: the full-space late-phase map built by running the card's rule with grad(v) = H v, precond(v) = P v;
  brentq's root of rho(M(gamma)) - 1 vs the claim at lambda = lambda_max(PH).
``MODELS``: none.
"""
from __future__ import annotations

import mpmath
import numpy as np
import sympy as sp
from scipy.linalg import solve_discrete_lyapunov
from scipy.optimize import brentq

from numerics._compile import MP_DIGITS, compiled
from numerics._result import CheckResult
from theory import Card, Identity
from theory._assume import sample_points
from theory.derive.schedule_free import gradient_point, step

MODELS: dict = {}
STEP_TOL = mpmath.mpf(10) ** -40
STEPS = 40
EXPONENT_RTOL = 1e-3
EXPONENT_WINDOWS = (1e3, 1e4, 1e5)
EXPONENT_T = 1_000_000


def _fmt(point) -> str:
    return ", ".join(f"{k.name}={float(v):.6g}" for k, v in point.items())


def _params(card: Card, claim: Identity, exprs, count: int, seed: int, exclude=()) -> list[dict]:
    free = set().union(*(sp.S(e).free_symbols for e in exprs)) & set(card.symbols)
    syms = [s for s in card.symbols if s in free and s not in exclude]
    rel = [r for r in card.assumptions_for(claim) if r.free_symbols <= set(syms)]
    return [{k: float(v) for k, v in p.items()} for p in sample_points(syms, rel, count=count, seed=seed,
                                                                       override=card.sample)]


def _claim_fn(claim: Identity, module: str = "mpmath"):
    args = tuple(sorted(sp.S(claim.value).free_symbols, key=lambda t: t.name))
    fn = compiled(claim.value, args, module)
    return lambda vals: fn(*[vals[a] for a in args])


class _Rule:
    """The card's rule with grad(.) -> g, compiled over (state, g, parameters)."""

    def __init__(self, card: Card, module: str = "mpmath"):
        self.g = sp.Symbol("g_numeric", real=True)
        nxt = step(card, self.g)
        self.state = card.state
        exprs = [nxt[s] for s in card.state] + [gradient_point(card)]
        self.params = sorted(set().union(*(e.free_symbols for e in exprs)) - set(card.state) - {self.g},
                             key=lambda t: t.name)
        self.fns = [compiled(e, (*card.state, self.g, *self.params), module) for e in exprs]

    def __call__(self, state, g, p):
        vals = [f(*state, g, *[p[q] for q in self.params]) for f in self.fns]
        return vals[:-1], vals[-1]          # next state, gradient point AT THE CURRENT state

    def point(self, state, p):
        return self(state, 0, p)[1]


def _online_numeric(card: Card, claim: Identity, examples: int, seed: int, count: int) -> list[CheckResult]:
    c = claim.arguments["weight"]
    x_i = card.state.index(claim.arguments.get("average", card.state[-1]))
    rule, claimed = _Rule(card), _claim_fn(claim)
    rng = np.random.default_rng(seed + 31)
    worst = mpmath.mpf(0)
    pts = _params(card, claim, list(card.update) + [claim.value], count, seed + 3, exclude=(c,))
    with mpmath.workdps(MP_DIGITS):
        for p in pts:
            pm = {k: mpmath.mpf(v) for k, v in p.items()}
            state = [mpmath.mpf(float(v)) for v in rng.normal(0, 2, len(card.state))]
            for t in range(STEPS):
                ct = mpmath.mpf(float(rng.uniform(0.01, 1.0)))
                gt = mpmath.mpf(float(rng.normal(0, 2)))
                q = {**pm, c: ct}
                nxt, _ = rule(state, gt, q)
                y_next = rule.point(nxt, q)
                cp = claimed(q)
                gap = abs(nxt[x_i] - (1 - cp) * state[x_i] - cp * y_next) / max(1, abs(nxt[x_i]))
                worst = max(worst, gap)
                if gap > STEP_TOL:
                    return [CheckResult("rule_sequences_50_digits", False,
                                        f"step {t + 1}: x+ = {mpmath.nstr(nxt[x_i], 15)} but (1 - c') x + c' y+ = "
                                        f"{mpmath.nstr((1 - cp) * state[x_i] + cp * y_next, 15)} at {_fmt(p)}, "
                                        f"c = {float(ct):.6g}", claim.name, {"at": {k.name: v for k, v in p.items()}})]
                state = nxt
    return [CheckResult("rule_sequences_50_digits", True, f"the rule run {STEPS} steps on {len(pts)} seeded random "
                        f"(c, g) sequences: x+ = (1 - c') x + c' y+ with the claimed c' within "
                        f"{mpmath.nstr(worst, 3)} (50 digits)", claim.name, examples=len(pts) * STEPS)]


def _online_schedule_numeric(card: Card, claim: Identity, examples: int, seed: int, count: int) -> list[CheckResult]:
    args = claim.arguments
    c, t_sym, sched = args["weight"], args["index"], sp.S(args["schedule"])
    x_i = card.state.index(args.get("average", card.state[-1]))
    rule, claimed = _Rule(card), _claim_fn(claim)
    others = sorted(sched.free_symbols - {t_sym}, key=lambda q: q.name)
    cfn = compiled(sched, (t_sym, *others), "mpmath")
    rng = np.random.default_rng(seed + 53)
    pts = _params(card, claim, list(card.update) + [claim.value, sched], count, seed + 59, exclude=(c, t_sym))
    worst, checked = mpmath.mpf(0), 0
    with mpmath.workdps(MP_DIGITS):
        for p in pts:
            pm = {k: mpmath.mpf(v) for k, v in p.items()}
            state = [mpmath.mpf(float(v)) for v in rng.normal(0, 2, len(card.state))]
            start = int(rng.integers(1, 200))
            for k in range(STEPS):
                tv = mpmath.mpf(start + k)
                ct = cfn(tv, *[pm[o] for o in others])
                q = {**pm, c: ct, t_sym: tv}
                nxt, _ = rule(state, mpmath.mpf(float(rng.normal(0, 2))), q)
                if all(holds_mp(cond, q) for cond in claim.conditions):
                    cp = claimed(q)
                    gap = abs(nxt[x_i] - (1 - cp) * state[x_i] - cp * rule.point(nxt, q)) / max(1, abs(nxt[x_i]))
                    worst, checked = max(worst, gap), checked + 1
                    if gap > STEP_TOL:
                        return [CheckResult("rule_schedule_50_digits", False, f"t = {int(tv)}: x+ is not "
                                            f"(1 - c') x + c' y+ with the claimed c' = {mpmath.nstr(cp, 12)} at "
                                            f"{_fmt(p)}", claim.name, {"at": {kk.name: v for kk, v in p.items()}})]
                state = nxt
    if not checked:
        return [CheckResult("rule_schedule_50_digits", False, "inconclusive: no step satisfied the claim's conditions",
                            claim.name, inconclusive=True)]
    return [CheckResult("rule_schedule_50_digits", True, f"the rule run with the schedule c_t (clip included) on "
                        f"random gradients: x+ = (1 - c'_t) x + c'_t y+ with the claimed c'_t within "
                        f"{mpmath.nstr(worst, 3)} at {checked} steps (50 digits, {len(pts)} seeded points)",
                        claim.name, examples=checked)]


def holds_mp(cond, q) -> bool:
    lhs = compiled(cond.lhs - cond.rhs, tuple(sorted(cond.free_symbols, key=lambda s: s.name)), "mpmath")
    v = lhs(*[q[s] for s in sorted(cond.free_symbols, key=lambda s: s.name)])
    return bool({">=": v >= 0, ">": v > 0, "<=": v <= 0, "<": v < 0}[cond.rel_op])


def step_coefficients(card: Card, claim: Identity, p: dict, ct, module: str = "mpmath"):
    """(A, B) of x+ = A x + B u+ for one step with averaging weight ct, by probing the rule; and the
    dependence of x+ on the rest of the state with u+ = x = 0 (must be 0)."""
    rule = _Rule(card, module)
    c = claim.arguments["weight"]
    x_i = card.state.index(claim.arguments.get("average", card.state[-1]))
    of = claim.arguments.get("of", "gradient_point")
    q = {**p, c: ct}

    def u_next(state, g):
        nxt, _ = rule(state, g, q)
        return nxt, (rule.point(nxt, q) if of == "gradient_point" else nxt[card.state.index(claim.arguments["iterate"])])

    def x_next(state, target):
        (_, u0), (_, u1) = u_next(state, 0), u_next(state, 1)
        g = (target - u0) / (u1 - u0)       # u+ is affine in the gradient
        return u_next(state, g)[0][x_i]

    zero = [0] * len(card.state)
    e_x = list(zero)
    e_x[x_i] = 1
    A = x_next(e_x, 0)
    B = x_next(zero, 1)
    rest = [x_next([1 if j == k else 0 for j in range(len(zero))], 0) for k in range(len(zero)) if k != x_i]
    return A, B, rest


def measured_weights_mp(card: Card, claim: Identity, p: dict, T: int) -> list:
    sched = sp.S(claim.arguments["schedule"])
    t_sym = claim.arguments["index"]
    cfn = compiled(sched, (t_sym, *sorted(sched.free_symbols - {t_sym}, key=lambda s: s.name)), "mpmath")
    others = sorted(sched.free_symbols - {t_sym}, key=lambda s: s.name)
    coeffs = []
    for r in range(1, T + 1):
        ct = cfn(mpmath.mpf(r), *[mpmath.mpf(p[o]) for o in others])
        A, B, rest = step_coefficients(card, claim, {k: mpmath.mpf(v) for k, v in p.items()}, ct)
        if any(abs(v) > mpmath.mpf(10) ** -40 for v in rest):
            raise ValueError(f"x+ depends on the state beyond (x, u+) at step {r}: not an average of u")
        coeffs.append((A, B))
    # w[T, s] = B_s prod_{r = s+1..T} A_r   (s = 1..T; the start enters through B_1 = c'_1)
    out, tail = [mpmath.mpf(0)] * T, mpmath.mpf(1)
    for s_ in range(T, 0, -1):
        out[s_ - 1] = coeffs[s_ - 1][1] * tail
        tail *= coeffs[s_ - 1][0]
    return out


def _weights_numeric(card: Card, claim: Identity, examples: int, seed: int, count: int) -> list[CheckResult]:
    args = claim.arguments
    s_sym, T_sym, ratio = args["slot"], args["horizon"], args.get("quantity") == "ratio"
    claimed = _claim_fn(claim)
    sched = sp.S(args["schedule"])
    rng = np.random.default_rng(seed + 5)
    pts = _params(card, claim, list(card.update) + [claim.value, sched], max(2, count // 2), seed + 13,
                  exclude=(s_sym, T_sym, args["weight"]))
    worst = mpmath.mpf(0)
    with mpmath.workdps(MP_DIGITS):
        for p in pts:
            T = int(rng.integers(5, 25))
            w = measured_weights_mp(card, claim, p, T)
            for s_ in range(1, T):
                vals = {**{k: mpmath.mpf(v) for k, v in p.items()}, s_sym: mpmath.mpf(s_), T_sym: mpmath.mpf(T)}
                want = claimed(vals)
                got = w[s_] / w[s_ - 1] if ratio else w[s_ - 1]
                gap = abs(got - want) / max(1, abs(want))
                worst = max(worst, gap)
                if gap > mpmath.mpf(10) ** -35:
                    return [CheckResult("measured_weights_50_digits", False,
                                        f"{'w[s+1]/w[s]' if ratio else 'w[T, s]'} measured through the rule "
                                        f"{mpmath.nstr(got, 15)} vs claimed {mpmath.nstr(want, 15)} at s = {s_}, "
                                        f"T = {T}, {_fmt(p)}", claim.name, {"at": {k.name: v for k, v in p.items()}})]
    return [CheckResult("measured_weights_50_digits", True, f"weights measured by probing the rule step by step "
                        f"(T = 5..24, every s) equal the claim within {mpmath.nstr(worst, 3)} at {len(pts)} seeded "
                        f"points (50 digits)", claim.name, examples=len(pts))]


def measured_log_weights(card: Card, claim: Identity, p: dict, T: int) -> np.ndarray:
    """log w[T, s], s = 1..T, in float64 (vectorised over steps): the rule probed at every c_t at once."""
    sched = sp.S(claim.arguments["schedule"])
    t_sym = claim.arguments["index"]
    others = sorted(sched.free_symbols - {t_sym}, key=lambda s: s.name)
    cfn = compiled(sched, (t_sym, *others))
    ts = np.arange(1, T + 1, dtype=float)
    ct = np.broadcast_to(np.asarray(cfn(ts, *[p[o] for o in others]), dtype=float), ts.shape)
    A, B, rest = step_coefficients(card, claim, p, ct, module="numpy")
    A = np.broadcast_to(np.asarray(A, dtype=float), ts.shape)
    B = np.broadcast_to(np.asarray(B, dtype=float), ts.shape)
    if any(np.max(np.abs(np.asarray(r, dtype=float))) > 1e-12 for r in rest):
        raise ValueError("x+ depends on the state beyond (x, u+): not an average")
    logA = np.log(np.clip(A, 1e-300, None))
    tail = np.concatenate([np.cumsum(logA[::-1])[::-1][1:], [0.0]])   # sum_{r > s} log A_r
    return np.log(np.clip(B, 1e-300, None)) + tail


def _exponent_numeric(card: Card, claim: Identity, examples: int, seed: int, count: int) -> list[CheckResult]:
    args = claim.arguments
    claimed = _claim_fn(claim, "numpy")
    sched = sp.S(args["schedule"])
    pts = _params(card, claim, list(card.update) + [claim.value, sched], max(2, count // 2), seed + 17,
                  exclude=(args["weight"],))
    worst, fits = 0.0, []
    for p in pts:
        logw = measured_log_weights(card, claim, p, EXPONENT_T)
        s_all = np.arange(1, EXPONENT_T + 1, dtype=float)
        want = float(claimed(p))
        gaps = []
        for s0 in EXPONENT_WINDOWS:
            sel = (s_all >= s0) & (s_all <= 10 * s0)
            slope = float(np.polyfit(np.log(s_all[sel]), logw[sel], 1)[0])
            gaps.append(abs(slope - want))
        fits.append(slope)
        tol = EXPONENT_RTOL * max(1.0, abs(want))
        shrinking = gaps[-1] < 1e-8 or gaps[-1] < gaps[0]
        if gaps[-1] > tol or not shrinking:
            return [CheckResult("loglog_fit", False, f"log-log slope of the measured weights over s in "
                                f"[1e5, 1e6] is {slope:.6g} (gaps {', '.join(f'{g:.3g}' for g in gaps)} over windows "
                                f"from 1e3), claimed {want:.6g} at {_fmt(p)}", claim.name,
                                {"at": {k.name: v for k, v in p.items()}, "measured": slope, "claimed": want})]
        worst = max(worst, gaps[-1] / max(1.0, abs(want)))
    return [CheckResult("loglog_fit", True, f"log-log slopes of the weights measured through the rule (T = "
                        f"{EXPONENT_T:.0e}, windows [s0, 10 s0], s0 = 1e3..1e5) approach the claim, last gap "
                        f"{worst:.2e} relative (<= {EXPONENT_RTOL:g}) at {len(pts)} seeded points; slopes "
                        f"{', '.join(f'{f:.4f}' for f in fits)}", claim.name, examples=len(pts))]


def _step_image_numeric(card: Card, claim: Identity, examples: int, seed: int, count: int) -> list[CheckResult]:
    args = claim.arguments
    quantity, coords, nxt_syms, g = sp.S(args["quantity"]), dict(args["coordinates"]), dict(args.get("next", ())), \
        args["gradient"]
    # the new coordinates (e.g. D in z = x + D), solved back from the state: D = z - x
    rule_syms = set().union(*(sp.S(e).free_symbols for e in card.update))
    new_syms = sorted(set().union(*(sp.S(e).free_symbols for e in coords.values())) - rule_syms,
                      key=lambda t: t.name)
    inverse = sp.solve([sp.Eq(k, v) for k, v in coords.items()], new_syms, dict=True)
    if len(inverse) != 1:
        raise ValueError(f"cannot solve the coordinates {coords} back from the state")
    inv = {k: compiled(v, card.state, "mpmath") for k, v in inverse[0].items()}
    q_fn = compiled(quantity, (*card.state, *nxt_syms, *card.symbols), "mpmath")
    rule, claimed = _Rule(card), _claim_fn(claim)
    rng = np.random.default_rng(seed + 41)
    pts = _params(card, claim, list(card.update) + [claim.value], count, seed + 19,
                  exclude=tuple(inverse[0]) + (g,))
    worst = mpmath.mpf(0)
    with mpmath.workdps(MP_DIGITS):
        for p in pts:
            pm = {k: mpmath.mpf(v) for k, v in p.items()}
            state = [mpmath.mpf(float(v)) for v in rng.normal(0, 2, len(card.state))]
            for t in range(STEPS // 2):
                gt = mpmath.mpf(float(rng.normal(0, 2)))
                nxt, _ = rule(state, gt, pm)
                vals = {**pm, g: gt, **{k: f(*state) for k, f in inv.items()}}
                full = {**vals, **{s: mpmath.mpf(0) for s in card.symbols if s not in vals}}
                got = q_fn(*state, *[nxt[card.state.index(v)] for v in nxt_syms.values()],
                           *[full[s] for s in card.symbols])
                want = claimed(vals)
                gap = abs(got - want) / max(1, abs(want))
                worst = max(worst, gap)
                if gap > STEP_TOL:
                    return [CheckResult("rule_sequences_50_digits", False, f"step {t + 1}: {quantity} = "
                                        f"{mpmath.nstr(got, 15)} from the rule vs claimed {mpmath.nstr(want, 15)} at "
                                        f"{_fmt(p)}", claim.name)]
                state = nxt
    return [CheckResult("rule_sequences_50_digits", True, f"{quantity} from {STEPS // 2} steps of the rule on "
                        f"{len(pts)} random sequences equals the claim within {mpmath.nstr(worst, 3)} (50 digits)",
                        claim.name, examples=len(pts))]


def _stationary_numeric(card: Card, claim: Identity, examples: int, seed: int, count: int) -> list[CheckResult]:
    noise, of = claim.arguments["noise"], sp.S(claim.arguments["of"])
    params = sorted(set().union(*(e.free_symbols for e in card.mode_update)) - set(card.state) - {noise},
                    key=lambda t: t.name)
    F = compiled(sp.Matrix(card.mode_update), (*card.state, noise, *params))
    w = np.array([float(of.diff(s)) for s in card.state])
    claimed = _claim_fn(claim, "numpy")
    pts = _params(card, claim, list(card.mode_update) + [claim.value], count, seed + 23)
    n, worst = len(card.state), 0.0
    for p in pts:
        pv = [p[q] for q in params]
        A = np.column_stack([np.ravel(F(*np.eye(n)[k], 0.0, *pv)) for k in range(n)])
        b = np.ravel(F(*np.zeros(n), 1.0, *pv))
        rho = max(abs(np.linalg.eigvals(A)))
        if not rho < 1:
            return [CheckResult("scipy_lyapunov", False, f"the noisy rule is not stable (rho = {rho:.6g}) at "
                                f"{_fmt(p)}, where a stationary variance is claimed", claim.name)]
        sigma = solve_discrete_lyapunov(A, np.outer(b, b))
        got, want = float(w @ sigma @ w), float(claimed(p))
        if "relative_to" in claim.arguments:
            ref = sp.S(claim.arguments["relative_to"])
            got = float(compiled(ref, sorted(ref.free_symbols, key=lambda q: q.name))(
                *[p[q] for q in sorted(ref.free_symbols, key=lambda q: q.name)])) - got
        gap = abs(got - want) / max(abs(want), 1e-300)
        worst = max(worst, gap)
        if gap > 1e-8:
            return [CheckResult("scipy_lyapunov", False, f"scipy's discrete Lyapunov solution gives {got:.12g}, "
                                f"claimed {want:.12g} at {_fmt(p)}", claim.name,
                                {"at": {k.name: v for k, v in p.items()}, "numeric": got, "claimed": want})]
    return [CheckResult("scipy_lyapunov", True, f"A, b probed from the compiled rule; scipy.linalg."
                        f"solve_discrete_lyapunov's w^T Sigma w equals the claim within {worst:.2e} at {len(pts)} "
                        f"seeded points (rho(A) < 1 at each)", claim.name, examples=len(pts))]


def _amuse_numeric(card: Card, claim: Identity, examples: int, seed: int, count: int) -> list[CheckResult]:
    args = claim.arguments
    t, T0, rho, b1 = args["index"], args["warmup"], args["rho"], args["beta1"]
    sched = sp.S(args["schedule"])
    cfn = compiled(sched, (t, *sorted(sched.free_symbols - {t}, key=lambda s: s.name)), "mpmath")
    others = sorted(sched.free_symbols - {t}, key=lambda s: s.name)
    claimed = _claim_fn(claim)
    q = args.get("quantity", "S")
    rng = np.random.default_rng(seed + 43)
    pts = _params(card, claim, [claim.value, sched, rho, b1, T0], count, seed + 29, exclude=(t,))
    worst = mpmath.mpf(0)

    def S_of(tv, p):       # the code's definition, from the weights c_t and c_w = c_{T0}
        ct = cfn(tv, *[p[o] for o in others])
        cw = cfn(p[T0], *[p[o] for o in others])
        return ct * (1 - cw) / (cw * (1 - ct))

    with mpmath.workdps(MP_DIGITS):
        for p in pts:
            pm = {k: mpmath.mpf(v) for k, v in p.items()}
            if T0 in pm:
                pm[T0] = mpmath.mpf(int(round(p[T0])))
            beta_of = lambda tv: 1 - S_of(tv, pm) ** pm[rho] * (1 - pm[b1])  # noqa: E731
            if q == "S":
                checks = [(mpmath.mpf(int(pm[T0]) + int(k)), None) for k in rng.integers(1, 10_000, 5)]
                gaps = [abs(S_of(tv, pm) - claimed({**pm, t: tv})) / max(1, abs(S_of(tv, pm))) for tv, _ in checks]
            elif q == "beta_at_warmup":
                gaps = [abs(beta_of(pm[T0]) - claimed(pm))]
            else:
                seq = [abs(beta_of(mpmath.mpf(10) ** k) - claimed(pm)) for k in (6, 12, 24)]
                if not (seq[-1] < seq[0] and seq[-1] < mpmath.mpf(10) ** -6):
                    return [CheckResult("definition_50_digits", False, f"|beta_t - claimed limit| at t = 1e6, 1e12, "
                                        f"1e24: {', '.join(mpmath.nstr(v, 5) for v in seq)} (does not vanish) at "
                                        f"{_fmt(p)}", claim.name)]
                gaps = [mpmath.mpf(0)]
            worst = max([worst, *gaps])
            if max(gaps) > STEP_TOL:
                return [CheckResult("definition_50_digits", False, f"the definition gives a gap "
                                    f"{mpmath.nstr(max(gaps), 5)} to the claim at {_fmt(p)}", claim.name,
                                    {"at": {k.name: v for k, v in p.items()}})]
    return [CheckResult("definition_50_digits", True, f"S_t = c_t (1 - c_w)/(c_w (1 - c_t)) and beta_t = "
                        f"1 - S_t^rho (1 - beta1) evaluated from the weights at 50 digits agree with the claim "
                        f"({'the gap at t = 1e24 < 1e-6 and shrinking' if q == 'beta_limit' else 'within ' + mpmath.nstr(worst, 3)}) "
                        f"at {len(pts)} seeded points", claim.name, examples=len(pts))]


def _full_space_map(card: Card, P: np.ndarray, H: np.ndarray, p: dict, gamma_sym, gamma: float) -> np.ndarray:
    """The late-phase linear map of the card's rule in R^d: grad(v) = H v, precond(v) = P v, parameters
    (the frozen average included) at 0 except p; built column by column by running the rule."""
    d = len(P)
    mods = [{"grad": lambda v: H @ v, "precond": lambda v: P @ v}, "numpy"]
    params = [s for s in card.symbols if s != card.eigenvalue]
    fn = sp.lambdify((*card.state, *params), sp.Matrix(card.update), modules=mods)
    vals = {**{s: 0.0 for s in params}, **{k: v for k, v in p.items()}, gamma_sym: gamma}
    n = len(card.state)
    cols = []
    for k in range(n * d):
        st = np.zeros(n * d)
        st[k] = 1.0
        blocks = [st[i * d:(i + 1) * d] for i in range(n)]
        out = fn(*blocks, *[vals[s] for s in params])
        cols.append(np.concatenate([np.ravel(np.asarray(out[i, 0], dtype=float)) for i in range(n)]))
    return np.column_stack(cols)


def _threshold_numeric(card: Card, claim: Identity, examples: int, seed: int, count: int) -> list[CheckResult]:
    gamma_sym, lam = claim.arguments["param"], card.eigenvalue
    claimed = _claim_fn(claim, "numpy")
    frozen = claim.arguments.get("frozen", ())
    pts = _params(card, claim, [claim.value], count, seed + 37, exclude=(lam,))
    rng = np.random.default_rng(seed + 47)
    worst, commuting = 0.0, 0
    for p in pts:
        d = int(rng.integers(2, 6))
        P = np.diag(rng.uniform(0.05, 3.0, d))
        Q, _ = np.linalg.qr(rng.normal(size=(d, d)))
        H = Q @ np.diag(rng.uniform(0.0, 5.0, d)) @ Q.T
        commuting += np.allclose(P @ H, H @ P)
        lam_max = float(max(np.linalg.eigvals(P @ H).real))
        want = float(claimed({**p, lam: lam_max}))
        base = {k: v for k, v in p.items() if k not in frozen}

        def rho(gm):
            return float(max(abs(np.linalg.eigvals(_full_space_map(card, P, H, base, gamma_sym, gm))))) - 1.0

        if not (rho(0.99 * want) < 0 < rho(1.01 * want)):
            return [CheckResult("full_space_noncommuting", False, f"rho - 1 = {rho(0.99 * want):.3g} at 0.99x and "
                                f"{rho(1.01 * want):.3g} at 1.01x the claim {want:.6g}, d = {d}, {_fmt(p)}",
                                claim.name)]
        root = brentq(rho, 0.99 * want, 1.01 * want, xtol=1e-15 * want, rtol=1e-14)
        worst = max(worst, abs(root - want) / want)
        if abs(root - want) > 1e-9 * want:
            return [CheckResult("full_space_noncommuting", False, f"rho(M(gamma)) = 1 at gamma = {root:.15g}, "
                                f"claimed {want:.15g} (lambda_max(PH) = {lam_max:.6g}, d = {d}) at {_fmt(p)}",
                                claim.name)]
    return [CheckResult("full_space_noncommuting", True, f"full-space map of the rule with random non-commuting "
                        f"P (diagonal) and H (PSD), d = 2..5: brentq's root of rho - 1 equals the claim at "
                        f"lambda = lambda_max(PH) within {worst:.1e} at {len(pts)} seeded draws "
                        f"({commuting} commuting)", claim.name, examples=len(pts))]


IDENTITY_NUMERICS: dict = {
    "sf_online_average": _online_numeric,
    "sf_average_weights": _weights_numeric,
    "sf_averaging_exponent": _exponent_numeric,
    "sf_online_average_schedule": _online_schedule_numeric,
    "sf_step_image": _step_image_numeric,
    "sf_stationary_variance": _stationary_numeric,
    "amuse_schedule": _amuse_numeric,
    "sf_preconditioned_threshold": _threshold_numeric,
}

__all__ = ["IDENTITY_NUMERICS", "MODELS", "measured_log_weights", "measured_weights_mp"]
