"""Numeric routes for the threshold-neuron cards (theory/derive/threshold_neuron.py): GD itself.

``IDENTITY_NUMERICS``:
- ``threshold_neuron_transition``: numpy float64 GD on the card's own update rule (compiled), x0 = 0.1,
  from y0^2 = (1 - d) Y and (1 + d) Y for the claimed threshold Y, d in {0.1, 0.2}, at eta in
  {1/4, 1/8, 1/16}: below, y barely moves (relative drop of y^2 below d/2); above, y^2 ends below the
  start by more than d/2 (the oscillation carries it down to the edge). A threshold placed wrongly (by
  more than about d/2) fails one side.
- ``threshold_neuron_final_sharpness``: the same GD from y0^2 in {1.25, 1.5, 2} x the transition (the
  card's ``transition`` claim derived value is not used: 2/eta l''(0) from the update's Jacobian,
  numerically, by a central difference) at eta in {1/8, 1/16, 1/32}, run until |xy| < 1e-12; the
  measured gap (transition - y_inf^2) must match the claimed gap within 5% at every eta, and the
  spread over starts be below 1e-3 of the transition.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from numerics._compile import compiled
from numerics._result import CheckResult
from theory import Card, Identity

MODELS: dict = {}
TRANSITION_ETAS = (0.25, 0.125, 0.0625)
FINAL_ETAS = (0.125, 0.0625, 0.03125)
X0 = 0.1
GAP_RTOL = 0.05


def gd_final(card: Card, claim: Identity, eta: float, y0: np.ndarray, x0: float = X0, max_steps: int = 400_000):
    """Batched GD on the card's update from (x0, y0); returns y_inf^2 (and the steps run)."""
    mode, slow, eta_sym = claim.arguments["mode"], claim.arguments["slow"], claim.arguments["eta"]
    state = tuple(card.state)
    step = compiled(sp.Matrix(card.update), (*state, eta_sym))
    vals = {mode: np.full_like(y0, x0, dtype=float), slow: np.asarray(y0, dtype=float)}
    xs, ys = vals[state[0]], vals[state[1]]
    n = 0
    with np.errstate(all="ignore"):
        while n < max_steps:
            for _ in range(500):
                out = step(xs, ys, eta)
                xs, ys = np.ravel(np.asarray(out[0], dtype=float)), np.ravel(np.asarray(out[1], dtype=float))
            n += 500
            cur = {state[0]: xs, state[1]: ys}
            if np.all(np.abs(cur[mode] * cur[slow]) < 1e-12) or not np.all(np.isfinite(xs)):
                break
    cur = {state[0]: xs, state[1]: ys}
    return cur[slow] ** 2, n


def _edge(card: Card, claim: Identity, eta: float) -> float:
    """2/(eta l''(0)) from the update numerically: the multiplier d x+/d x at (0, 1) by central differences."""
    mode, slow, eta_sym = claim.arguments["mode"], claim.arguments["slow"], claim.arguments["eta"]
    state = tuple(card.state)
    f = compiled(sp.Matrix(card.update), (*state, eta_sym))
    h = 1e-6

    def xp(xv):
        v = {mode: xv, slow: 1.0}
        return float(np.ravel(f(v[state[0]], v[state[1]], eta))[state.index(mode)])
    m = (xp(h) - xp(-h)) / (2 * h)          # = 1 - eta l''(0) at y = 1
    return 2.0 / (1.0 - m)


def _claimed(claim: Identity, eta_sym, eta: float) -> float:
    return float(sp.S(claim.value).subs(eta_sym, eta))


def _transition_numeric(card: Card, claim: Identity, examples: int, seed: int, count: int) -> list[CheckResult]:
    eta_sym = claim.arguments["eta"]
    lines = []
    for eta in TRANSITION_ETAS:
        Y = _claimed(claim, eta_sym, eta)
        ds = np.array([0.1, 0.2])
        y0sq = np.concatenate([(1 - ds) * Y, (1 + ds) * Y])
        if np.any(y0sq <= 0):
            return [CheckResult("gd_transition", False, f"claimed threshold {Y:g} at eta = {eta:g} is not positive",
                                claim.name, route="numpy_gd")]
        fin, n = gd_final(card, claim, eta, np.sqrt(y0sq), max_steps=60_000)
        drop = (y0sq - fin) / y0sq
        half = np.concatenate([ds, ds]) / 2
        below_ok = np.all(np.abs(drop[:2]) < half[:2])
        above_ok = np.all(drop[2:] > half[2:]) and np.all(np.isfinite(fin[2:]))
        lines.append(f"eta={eta:g}: y0^2 {np.round(y0sq, 4).tolist()} -> {np.round(fin, 4).tolist()}")
        if not (below_ok and above_ok):
            side = "below" if not below_ok else "above"
            return [CheckResult("gd_transition", False, f"GD does not switch at the claimed y0^2 = {Y:.6g} "
                                f"(eta = {eta:g}): the {side} side behaves wrongly; {lines[-1]}", claim.name,
                                {"at": {"eta": eta}, "claimed": Y}, route="numpy_gd")]
    return [CheckResult("gd_transition", True, "numpy GD on the card's update (x0 = 0.1): y stays for y0^2 = "
                        "(0.8, 0.9) x claim and drops to the edge for (1.1, 1.2) x claim; " + "; ".join(lines),
                        claim.name, route="numpy_gd", examples=4 * len(TRANSITION_ETAS))]


def _final_numeric(card: Card, claim: Identity, examples: int, seed: int, count: int) -> list[CheckResult]:
    eta_sym = claim.arguments["eta"]
    lines, worst = [], 0.0
    for eta in FINAL_ETAS:
        edge = _edge(card, claim, eta)
        y0sq = np.array([1.25, 1.5, 2.0]) * edge
        fin, n = gd_final(card, claim, eta, np.sqrt(y0sq))
        want = _claimed(claim, eta_sym, eta)
        gap_meas, gap_claim = edge - fin.mean(), edge - want
        spread = float(fin.max() - fin.min()) / edge
        rel = abs(gap_meas - gap_claim) / abs(gap_claim) if gap_claim != 0 else np.inf
        worst = max(worst, rel)
        lines.append(f"eta={eta:g}: y_inf^2 = {fin.mean():.6f} (spread {spread:.1e}), gap {gap_meas:.6f} vs claimed "
                     f"{gap_claim:.6f} ({n} steps)")
        if not (rel <= GAP_RTOL and spread < 1e-3) or not np.all(np.isfinite(fin)):
            return [CheckResult("gd_final_sharpness", False, f"measured vs claimed final sharpness: {lines[-1]} "
                                f"(gap tolerance {GAP_RTOL:g})", claim.name,
                                {"at": {"eta": eta}, "claimed": want, "numeric": float(fin.mean())},
                                route="numpy_gd")]
    return [CheckResult("gd_final_sharpness", True, f"numpy GD on the card's update from y0^2 = (1.25, 1.5, 2) x "
                        f"2/(eta l''(0)): the gap below the edge matches the claim within {worst:.2%} "
                        f"(tolerance {GAP_RTOL:.0%}); " + "; ".join(lines), claim.name, route="numpy_gd",
                        examples=3 * len(FINAL_ETAS))]


IDENTITY_NUMERICS: dict = {
    "threshold_neuron_transition": _transition_numeric,
    "threshold_neuron_final_sharpness": _final_numeric,
}
