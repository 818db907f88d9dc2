"""Numeric routes for GD on l(f), l = log cosh, with a product model f (see theory/derive/logcosh.py).

``IDENTITY_NUMERICS``:
- ``invariant_reduction``: from random states, one step of the FULL update rule at 50 digits, its
  invariant compared with the claimed reduced map; and, when the card's claims give every component
  of the reduced map, 30 iterates of the full map vs 30 iterates of the claimed reduced map.
- ``frozen_two_cycle``: the period-two orbit found numerically through the full map: a state with
  invariants (f, K) is lifted by least squares, stepped by the card's update rule, and its orbit
  invariant read off; brentq finds the frozen K at which +p maps to -p; the claimed coordinate is
  compared with coordinate(K*); the orbit is checked to be a genuine, attracting period-2 orbit
  (Phi(-p) = +p; its multiplier Phi'(p) Phi'(-p) by central differences must be < 1 in modulus in the
  eta -> 0 limit, and is reported (not judged) at finite eta, where large eta p can destabilise it). For a claim with ``limit=eta`` the
  orbit is found at eta = 1e-2 and 1e-3 and the gap to the claim must vanish like eta^2 (|gap| <= eta^2).
``MODELS``: none.
"""
from __future__ import annotations

import math

import mpmath
import numpy as np
import sympy as sp
from scipy.optimize import brentq, least_squares

from numerics._compile import MP_DIGITS, compiled
from numerics._result import CheckResult
from theory import Card, Identity
from theory._assume import sample_points

MODELS: dict = {}

STEP_RTOL = mpmath.mpf(10) ** -40     # one step, 50 digits
ITER_RTOL = mpmath.mpf(10) ** -30     # 30 iterates, 50 digits (chaotic growth is far below 1e20)
ITERATES = 30
ORBIT_RTOL = 1e-9                     # brentq's orbit vs the claim (float64 through the full map)
LIMIT_ETAS = (1e-2, 1e-3)


def _fmt(point) -> str:
    return ", ".join(f"{k.name if hasattr(k, 'name') else k}={float(v):.6g}" for k, v in point.items())


def _parameters(card: Card, claim: Identity, count: int, seed: int, fixed=()) -> list[dict[sp.Symbol, float]]:
    """Seeded parameter points for the update rule: the card's own sampling, each constraint solved for
    one parameter (the first real root), e.g. s = sqrt(1 - c^2) for a unit input."""
    invariant_syms = {s for s, _ in claim.arguments.get("invariants", ())}
    constraints = [sp.S(c) for c in claim.arguments.get("constraints", ())]
    needed = set().union(*(e.free_symbols for e in card.mode_update)) & set(card.symbols)
    solved: dict[sp.Symbol, list[sp.Expr]] = {}
    for con in constraints:
        sym = sorted(con.free_symbols & needed - set(solved), key=lambda t: t.name)[-1]
        solved[sym] = sp.solve(con, sym)
    free = [s for s in card.symbols if (s in needed or s in fixed) and s not in solved and s not in invariant_syms]
    relations = [r for r in card.assumptions if r.free_symbols <= set(free)]
    out = []
    for pt in sample_points(free, relations, count=count, seed=seed, override=card.sample):
        pf = {k: float(v) for k, v in pt.items()}
        chosen = {}
        for sym, roots in solved.items():
            real = [r for r in roots if abs(complex(r.subs(pf)).imag) < 1e-300]
            if not real:
                break
            chosen[sym] = real[0]
            pf[sym] = float(real[0].subs(pf))
        else:
            out.append((pf, chosen))
    return out


def _mp_point(pf: dict, chosen: dict) -> dict:
    """The point at 50 digits, solved parameters recomputed at 50 digits (e.g. s = sqrt(1 - c^2))."""
    pm = {k: mpmath.mpf(v) for k, v in pf.items() if k not in chosen}
    for sym, root in chosen.items():
        args = tuple(sorted(root.free_symbols, key=lambda t: t.name))
        pm[sym] = compiled(root, args, "mpmath")(*[pm[a] for a in args])
    return pm


def _reduction_numeric(card: Card, claim: Identity, examples: int, seed: int, count: int) -> list[CheckResult]:
    pairs = tuple(claim.arguments["invariants"])
    names = [s for s, _ in pairs]
    component = claim.arguments["component"]
    points = _parameters(card, claim, count, seed + 7)
    params = sorted(set().union(*(e.free_symbols for e in card.mode_update)) & set(card.symbols), key=lambda t: t.name)
    step = compiled(sp.Matrix(card.mode_update), (*card.state, *params), "mpmath")
    invariant = {s: compiled(e, (*card.state, *params), "mpmath") for s, e in pairs}
    value_args = tuple(sorted(sp.S(claim.value).free_symbols, key=lambda t: t.name))
    value = compiled(claim.value, value_args, "mpmath")
    # sibling claims that together give every component of the reduced map (same invariants)
    siblings = {c.arguments["component"]: c for c in card.claims if isinstance(c, Identity)
                and c.derivation == claim.derivation and tuple(c.arguments.get("invariants", ())) == pairs}
    closed = set(names) <= set(siblings)
    rng = np.random.default_rng(seed + 11)
    worst_step, worst_iter = mpmath.mpf(0), mpmath.mpf(0)
    with mpmath.workdps(MP_DIGITS):
        for pf, chosen in points:
            pm = _mp_point(pf, chosen)
            state = [mpmath.mpf(float(v)) for v in rng.normal(0.0, 1.5, size=len(card.state))]

            def inv(st):
                return {s: invariant[s](*st, *[pm[q] for q in params]) for s in names}

            def claimed(c, vals):
                fn = compiled(c.value, tuple(sorted(sp.S(c.value).free_symbols, key=lambda t: t.name)), "mpmath")
                return fn(*[vals[t] if t in vals else pm[t] for t in
                            sorted(sp.S(c.value).free_symbols, key=lambda t: t.name)])

            nxt = [e for e in step(*state, *[pm[q] for q in params])]
            here, there = inv(state), inv(nxt)
            pred = value(*[here[t] if t in here else pm[t] for t in value_args])
            rel = abs(pred - there[component]) / max(1, abs(there[component]))
            worst_step = max(worst_step, rel)
            if rel > STEP_RTOL:
                return [CheckResult("full_step_50_digits", False,
                                    f"{component}+ of the full map {mpmath.nstr(there[component], 20)} vs claimed "
                                    f"{mpmath.nstr(pred, 20)} at {_fmt(pf)}, state {[float(v) for v in state]}",
                                    claim.name, {"at": {k.name: v for k, v in pf.items()}, "state":
                                                 [float(v) for v in state]})]
            if closed:
                full, red = state, here
                for t in range(ITERATES):
                    full = [e for e in step(*full, *[pm[q] for q in params])]
                    red = {s: claimed(siblings[s], red) for s in names}
                    got = inv(full)
                    rel = max(abs(got[s] - red[s]) / max(1, abs(got[s])) for s in names)
                    worst_iter = max(worst_iter, rel)
                    if rel > ITER_RTOL:
                        return [CheckResult("iterates_50_digits", False, f"after {t + 1} steps the full map's "
                                            f"invariants {[mpmath.nstr(got[s], 15) for s in names]} differ from the "
                                            f"reduced map's {[mpmath.nstr(red[s], 15) for s in names]} at {_fmt(pf)}",
                                            claim.name)]
    out = [CheckResult("full_step_50_digits", True, f"one step of the full update rule from {len(points)} random "
                       f"states: {component}+ = claim within {mpmath.nstr(worst_step, 3)} (50 digits)", claim.name)]
    if closed:
        out.append(CheckResult("iterates_50_digits", True, f"{ITERATES} iterates of the full map and of the claimed "
                               f"reduced map ({', '.join(map(str, names))}) agree within "
                               f"{mpmath.nstr(worst_iter, 3)} from {len(points)} random states", claim.name))
    return out


class _FrozenMap:
    """f -> Phi(f; K) evaluated through the card's full update rule (lift, step, read the invariant)."""

    def __init__(self, card: Card, claim: Identity, point: dict, seed: int):
        pairs = tuple(claim.arguments["invariants"])
        self.names = [s for s, _ in pairs]
        self.orbit, self.slow = claim.arguments["orbit"], claim.arguments["slow"]
        params = sorted(set().union(*(e.free_symbols for e in card.mode_update)) & set(card.symbols), key=lambda t: t.name)
        self.pvals = [point[q] for q in params]
        self.step = compiled(sp.Matrix(card.mode_update), (*card.state, *params))
        self.inv = compiled(sp.Matrix([e for _, e in pairs]), (*card.state, *params))
        self.jac = compiled(sp.Matrix([e for _, e in pairs]).jacobian(card.state), (*card.state, *params))
        self.start = np.random.default_rng(seed).normal(size=len(card.state))

    def lift(self, target: dict) -> np.ndarray:
        want = np.array([target[s] for s in self.names])
        scale = math.sqrt(max(abs(want).max(), 1.0))
        res = least_squares(lambda st: np.ravel(self.inv(*st, *self.pvals)) - want, self.start * scale,
                            jac=lambda st: np.asarray(self.jac(*st, *self.pvals), dtype=float),
                            xtol=1e-15, ftol=1e-15, gtol=1e-15, method="lm")
        if np.max(np.abs(res.fun)) > 1e-11 * max(1.0, abs(want).max()):
            raise ValueError(f"no state has invariants {target}")
        return res.x

    def __call__(self, f: float, k: float) -> float:
        st = self.lift({self.orbit: f, self.slow: k})
        nxt = np.ravel(self.step(*st, *self.pvals))
        return float(np.ravel(self.inv(*nxt, *self.pvals))[self.names.index(self.orbit)])


def _orbit(card, claim, point, amp, seed):
    """Frozen K* with Phi(+amp; K*) = -amp (brentq on a log grid of K), and the orbit's diagnostics."""
    phi = _FrozenMap(card, claim, point, seed)
    g = lambda k: phi(amp, k) + amp  # noqa: E731
    grid = np.geomspace(2.0 * amp * (1 + 1e-9), 1e6, 40)
    vals = [g(k) for k in grid]
    for a, b, ga, gb in zip(grid, grid[1:], vals, vals[1:]):
        if ga == 0 or ga * gb < 0:
            k_star = brentq(g, a, b, xtol=1e-14 * b, rtol=1e-15, maxiter=200)
            break
    else:
        raise ValueError("no frozen K maps +p to -p")
    back = phi(-amp, k_star)
    h = 1e-6 * max(1.0, amp)
    d_plus = (phi(amp + h, k_star) - phi(amp - h, k_star)) / (2 * h)
    d_minus = (phi(-amp + h, k_star) - phi(-amp - h, k_star)) / (2 * h)
    return k_star, back, d_plus * d_minus


def _two_cycle_numeric(card: Card, claim: Identity, examples: int, seed: int, count: int) -> list[CheckResult]:
    args = claim.arguments
    amp_sym, slow, limit = args["amplitude"], args["slow"], args.get("limit")
    coord_args = tuple(sorted(sp.S(args["coordinate"]).free_symbols, key=lambda t: t.name))
    coordinate = compiled(args["coordinate"], coord_args)
    claim_args = tuple(sorted(sp.S(claim.value).free_symbols, key=lambda t: t.name))
    claimed = compiled(claim.value, claim_args)
    points = _parameters(card, claim, count, seed + 9, fixed=(amp_sym,))
    worst, worst_gain, unstable = 0.0, 0.0, 0
    for i, (pf, _) in enumerate(points):
        amp = pf[amp_sym]
        etas = [pf.get(limit)] if limit is None else list(LIMIT_ETAS)
        for e in etas:
            pt = dict(pf) if limit is None else {**pf, limit: e}
            try:
                k_star, back, gain = _orbit(card, claim, pt, amp, seed + i)
            except ValueError as exc:
                return [CheckResult("period_two_orbit", False, f"{exc} at {_fmt(pt)}", claim.name)]
            q_star = float(coordinate(*[k_star if t == slow else pt[t] for t in coord_args]))
            want = float(claimed(*[pt[t] for t in claim_args]))
            gap = abs(q_star - want)
            allowed = ORBIT_RTOL * max(1.0, abs(want)) + (0.0 if limit is None else e**2)
            detail = (f"orbit at {_fmt(pt)}: {slow}* = {k_star:.12g}, coordinate {q_star:.12g} vs claimed {want:.12g}, "
                      f"Phi(-p) = {back:.12g}, multiplier {gain:.6g}")
            if gap > allowed or abs(back - amp) > 1e-8 * max(1.0, amp):
                return [CheckResult("period_two_orbit", False, detail, claim.name,
                                    {"at": {k.name: v for k, v in pt.items()}, "claimed": want, "numeric": q_star})]
            if limit is not None and not abs(gain) < 1:  # the eta -> 0 orbit: multiplier (1 - 4p/sinh 2p)^2 < 1
                return [CheckResult("attracting", False, detail, claim.name)]
            unstable += not abs(gain) < 1
            worst, worst_gain = max(worst, gap / max(1.0, abs(want))), max(worst_gain, abs(gain))
    how = (f"|gap| <= {ORBIT_RTOL:g}" if limit is None
           else f"|gap| <= eta^2 at eta = {', '.join(map(str, LIMIT_ETAS))} (O(eta^2) approach to the limit)")
    return [CheckResult("period_two_orbit", True, f"brentq on the frozen full map (lift, GD step, invariant) finds "
                        f"the orbit +p -> -p -> +p at {len(points)} points; claimed coordinate vs numeric: {how}, "
                        f"worst relative gap {worst:.2e}", claim.name),
            CheckResult("attracting", True if not unstable else None,
                        f"the orbit is attracting: |Phi'(p) Phi'(-p)| <= {worst_gain:.4f} < 1" if not unstable else
                        f"the orbit is attracting at {len(points) - unstable}/{len(points)} points (at finite eta and "
                        f"large p it can lose stability; stability is not part of this claim)", claim.name)]


IDENTITY_NUMERICS: dict = {
    "invariant_reduction": _reduction_numeric,
    "frozen_two_cycle": _two_cycle_numeric,
}
