"""Numeric models and identity checks for softmax step-size radii beyond the binary case (ghosts of
softmax) (see numerics/_models.py).

The model ``softmax_partition_zeros``: one example's partition function along a direction,
Z(tau) = sum_k exp(z_k + tau a_k), logits z_k (data ``logits``) and slopes a_k = Delta_a * s_k for a
slope profile s (data ``slope_profile``, affinely rescaled to span [0, 1]: a common shift of all
slopes multiplies Z by exp(c tau) and moves no zero). Quantities:

- ``radius``: the modulus of Z's nearest complex zero = the Taylor radius of log Z (and of the
  cross-entropy) in tau. Route: argument principle on circles |tau| = R growing from pi/(2 Delta_a)
  until a zero is enclosed; the enclosed zeros from the contour power sums (Delves-Lyness), each
  polished by 50-digit Newton (mpmath).
- ``ghost_im``: |Im tau| of that nearest zero.

Independent route: the Taylor coefficients of log Z at 0 computed exactly from the series of Z
(recurrence Z L' = Z', mpmath), b_n = n L_n = -sum_j tau_j^-n; the radius of convergence of that
series from the poles of a Pade approximant of Z'/Z = sum b_n tau^(n-1) (a residue filter drops
spurious poles; de Montessus de Ballore convergence). ``root_test_radius`` is the plain
Cauchy-Hadamard root test (slow convergence; a diagnostic for the tests).

``IDENTITY_NUMERICS``: ``half_plane_strip`` (no zero in the strip on random instances by a grid
scan of the rotated real part and by argument-principle counts on rectangles; the strip edge is
attained by the binary instance at 50 digits) and ``nearest_zero_imag`` (50-digit root search).
"""
from __future__ import annotations

import math

import mpmath
import numpy as np
import sympy as sp
from hypothesis import strategies as st

from numerics._compile import MP_DIGITS
from numerics._models import NumericModel
from numerics._result import CheckResult
from theory import InputError
from theory._assume import sample_points

MAX_CLASSES = 64
GROWTH = 1.12          # radius step of the argument-principle search
COUNT_POINTS = 512     # trapezoid nodes on a search circle (exponentially accurate away from zeros)
TAYLOR_TERMS = 60      # Taylor coefficients of log Z for the independent route
TAYLOR_DPS = 40
PADE_POLES = 14


# -- the instance ------------------------------------------------------------------------------

def _validate(data):
    try:
        z = [float(v) for v in data["logits"]]
        s = [float(v) for v in data["slope_profile"]]
    except (TypeError, ValueError, KeyError):
        raise InputError("logits and slope_profile must be lists of numbers") from None
    if len(z) != len(s) or not 2 <= len(z) <= MAX_CLASSES:
        raise InputError(f"logits and slope_profile need the same length, 2..{MAX_CLASSES} classes")
    if not all(math.isfinite(v) and abs(v) <= 100 for v in z + s):
        raise InputError("logits and slope_profile must be finite numbers of modulus <= 100")
    if max(s) - min(s) <= 1e-9 * max(1.0, max(abs(v) for v in s)):
        raise InputError("slope_profile must not be constant (the slope spread Delta_a must be positive)")
    return {"logits": z, "slope_profile": s}


def instance(params, data) -> tuple[np.ndarray, np.ndarray]:
    """Logits z and slopes a (spread exactly Delta_a, min 0)."""
    z = np.asarray(data["logits"], dtype=float)
    s = np.asarray(data["slope_profile"], dtype=float)
    s = (s - s.min()) / (s.max() - s.min())
    return z, float(params["Delta_a"]) * s


def _terms(t: np.ndarray, z: np.ndarray, a: np.ndarray) -> np.ndarray:
    """exp(z_k + a_k t) / max_k |.| per node: (M, K), overflow-free."""
    e = z[None, :] + a[None, :] * t[:, None]
    return np.exp(e - e.real.max(axis=1, keepdims=True))


def _power_sums(radius: float, z, a, m: int, nodes: int = COUNT_POINTS) -> np.ndarray:
    """(1/2 pi i) contour integral of tau^p Z'/Z over |tau| = radius, p = 0..m (trapezoid)."""
    t = radius * np.exp(2j * np.pi * (np.arange(nodes) + 0.5) / nodes)
    w = _terms(t, z, a)
    g = (w * a[None, :]).sum(1) / w.sum(1) * t
    return np.array([np.mean(g * t**p) for p in range(m + 1)])


def _newton_mp(z, a, start: complex) -> mpmath.mpc:
    zs = [mpmath.mpf(float(v)) for v in z]
    as_ = [mpmath.mpf(float(v)) for v in a]

    def f(t):
        return mpmath.fsum(mpmath.exp(zk + ak * t) for zk, ak in zip(zs, as_))

    def df(t):
        return mpmath.fsum(ak * mpmath.exp(zk + ak * t) for zk, ak in zip(zs, as_))

    return mpmath.findroot(f, mpmath.mpc(start), solver="newton", df=df, maxsteps=50)


def nearest_zeros(z: np.ndarray, a: np.ndarray, start: float) -> list[complex]:
    """Every zero of Z inside the first circle |tau| = start * GROWTH^j that encloses one."""
    radius = start
    for _ in range(400):
        s0 = _power_sums(radius, z, a, 0)[0]
        if abs(s0.imag) > 1e-6 or abs(s0.real - round(s0.real)) > 1e-6:  # a zero near the contour
            radius *= 1.0 + (GROWTH - 1.0) / 7
            continue
        m = int(round(s0.real))
        if m >= 1:
            break
        radius *= GROWTH
    else:
        raise ValueError(f"no zero of Z found within |tau| < {radius:.3g}")
    if m > 12:
        raise ValueError(f"{m} zeros enclosed at once; the search step is too coarse")
    p = _power_sums(radius, z, a, m, nodes=8 * COUNT_POINTS)[1:]
    # Newton's identities: power sums -> elementary symmetric polynomials -> the enclosed zeros
    e = [1.0 + 0j]
    for k in range(1, m + 1):
        e.append(sum((-1) ** (i - 1) * e[k - i] * p[i - 1] for i in range(1, k + 1)) / k)
    coeffs = [(-1) ** k * e[k] for k in range(m + 1)]
    return [complex(r) for r in np.roots(coeffs)]


def _compute(params, data):
    z, a = instance(params, data)
    start = math.pi / (2 * float(params["Delta_a"]))  # half the claimed bound: the search does not assume it
    est = nearest_zeros(z, a, start)
    best = min(est, key=abs)
    with mpmath.workdps(MP_DIGITS):
        try:
            root = _newton_mp(z, a, best)
            if abs(complex(root) - best) > 1e-6 * max(1.0, abs(best)):
                root = mpmath.mpc(best)   # polished onto another zero: keep the contour's value
        except (ValueError, ZeroDivisionError):
            root = mpmath.mpc(best)       # (e.g. a multiple zero; the contour value stands)
        radius, ghost_im = float(abs(root)), float(abs(root.imag))
    return {"radius": radius, "ghost_im": ghost_im, "ghost_re": float(root.real), "enclosed": len(est)}


def taylor_coefficients(z, a, terms: int = TAYLOR_TERMS, dps: int = TAYLOR_DPS) -> list:
    """b_n = n [tau^n] log Z(tau), n = 1..terms, from Z's exact series (mpmath, ``dps`` digits)."""
    with mpmath.workdps(dps):
        w = [mpmath.exp(mpmath.mpf(float(v))) for v in z]
        as_ = [mpmath.mpf(float(v)) for v in a]
        zc = []   # Z_n = sum_k w_k a_k^n / n!
        pw = list(w)
        fact = mpmath.mpf(1)
        for n in range(terms + 1):
            if n:
                fact *= n
                pw = [p * ak for p, ak in zip(pw, as_)]
            zc.append(mpmath.fsum(pw) / fact)
        b = [mpmath.mpf(0)] * (terms + 1)   # b_n = n L_n; Z L' = Z' -> sum_j b_j Z_{n-j} = n Z_n
        for n in range(1, terms + 1):
            acc = n * zc[n] - mpmath.fsum(b[j] * zc[n - j] for j in range(1, n))
            b[n] = acc / zc[0]
        return b[1:]


def root_test_radius(b) -> float:
    """Cauchy-Hadamard root test: 1 / max |b_n|^(1/n) over the last dozen coefficients (a
    diagnostic; it converges slowly, like 2^(1/n))."""
    with mpmath.workdps(TAYLOR_DPS):
        window = range(len(b) - 12, len(b))
        return float(min(abs(b[k]) ** (-mpmath.mpf(1) / (k + 1)) for k in window))


def pade_poles(b, poles: int = PADE_POLES) -> list[complex]:
    """Poles of the [L/M] Pade approximant of Z'/Z = sum_n b_n tau^(n-1) with a residue near a
    positive integer (the zeros of Z with their multiplicities; spurious Froissart poles have tiny
    residues and are dropped). de Montessus: the nearest poles converge geometrically."""
    with mpmath.workdps(TAYLOR_DPS):
        for m in range(poles, poles - 8, -1):
            try:
                p, q = mpmath.pade(b, len(b) - m - 1, m)
                break
            except ZeroDivisionError:   # a degenerate Pade block (e.g. a symmetric instance)
                continue
        else:
            raise ValueError("no regular Pade approximant of Z'/Z")
        p_hi = np.array([float(v) for v in p[::-1]])
        q_hi = np.array([float(v) for v in q[::-1]])
    out = []
    for r in np.roots(q_hi):
        res = np.polyval(p_hi, r) / np.polyval(np.polyder(q_hi), r)
        if abs(res - round(res.real)) < 1e-3 and round(res.real) >= 1:
            out.append(complex(r))
    if not out:
        raise ValueError("the Pade approximant of Z'/Z has no pole with an integer residue")
    return out


def _independent(params, data):
    z, a = instance(params, data)
    spread = float(a.max() - a.min())
    b = taylor_coefficients(z, a / spread)     # Z_a(tau) = Z_{a/spread}(spread * tau): unit spread
    scale = root_test_radius(b[:30])           # crude radius: the Pade sees coefficients of order 1
    with mpmath.workdps(TAYLOR_DPS):
        b = [bn * mpmath.mpf(scale) ** (n + 1) for n, bn in enumerate(b)]
    return {"radius": min(abs(r) for r in pade_poles(b)) * scale / spread}


def _instances(base):
    @st.composite
    def draw(d):
        k = d(st.integers(2, 8))
        logits = d(st.lists(st.floats(-8, 8), min_size=k, max_size=k))
        rest = d(st.lists(st.floats(0, 1), min_size=k - 2, max_size=k - 2))
        profile = d(st.permutations([0.0, 1.0] + rest))
        return {"logits": logits, "slope_profile": list(profile)}
    return draw()


MODELS = {"softmax_partition_zeros": NumericModel(
    _compute, _independent, _instances, _validate, rtol=1e-8,
    description="nearest complex zero of sum_k exp(z_k + tau a_k): argument principle + Delves-Lyness + "
                "50-digit Newton; independently Cauchy-Hadamard on log Z's Taylor coefficients")}


# -- identity routes -------------------------------------------------------------------------------

def _delta_points(card, claim, count, seed):
    syms = [s for s in card.symbols if s in sp.S(claim.value).free_symbols]
    rel = [r for r in card.assumptions_for(claim) if r.free_symbols <= set(syms)]
    return syms, [{s: float(v) for s, v in p.items()} for p in
                  sample_points(syms, rel, count=count, seed=seed, override=card.sample)]


def _claimed(claim, syms, p) -> float:
    return float(sp.S(claim.value).subs({s: p[s] for s in syms}))


def _rect_count(z, a, x_max: float, y_max: float, pieces: int = 512, order: int = 24) -> float:
    """Zeros of Z in the rectangle |Re| < x_max, |Im| < y_max: argument principle, composite
    Gauss-Legendre on each side."""
    corners = [complex(-x_max, -y_max), complex(x_max, -y_max), complex(x_max, y_max), complex(-x_max, y_max)]
    nodes, weights = np.polynomial.legendre.leggauss(order)
    u = ((np.arange(pieces)[:, None] + (nodes[None, :] + 1) / 2) / pieces).ravel()
    wts = np.tile(weights / 2, pieces) / pieces
    total = 0j
    for c0, c1 in zip(corners, corners[1:] + corners[:1]):
        t = c0 + (c1 - c0) * u
        w = _terms(t, z, a)
        total += np.sum(wts * (w * a[None, :]).sum(1) / w.sum(1)) * (c1 - c0)
    return (total / (2j * np.pi)).real


def _strip_numeric(card, claim, examples, seed, count) -> list[CheckResult]:
    """The strip |Im tau| < w is zero-free on random instances (grid scan of Re(e^{-i m y} Z) > 0 and
    argument-principle counts on rectangles), and w is attained: the binary instance with equal
    logits has a zero at i w (50-digit Newton)."""
    syms, pts = _delta_points(card, claim, count, seed + 11)
    rng = np.random.default_rng(seed + 12)
    worst_ratio, rects = math.inf, 0
    for p in pts:
        width = _claimed(claim, syms, p)
        da = p[syms[0]] if syms else 1.0
        for _ in range(4):
            k = int(rng.integers(2, 9))
            z = rng.uniform(-6, 6, k)
            a = da * np.concatenate([[0.0, 1.0], rng.uniform(0, 1, k - 2)])
            mid = (a.min() + a.max()) / 2
            ys = np.linspace(-0.999 * width, 0.999 * width, 81)
            xs = np.linspace(-40 / da, 40 / da, 161)
            t = (xs[:, None] + 1j * ys[None, :]).ravel()
            e = z[None, :] + a[None, :] * t[:, None] - 1j * mid * t.imag[:, None]
            e = e - e.real.max(1, keepdims=True)
            ratio = (np.exp(e).real.sum(1) / np.abs(np.exp(e)).sum(1)).min()
            worst_ratio = min(worst_ratio, float(ratio))
            n_in = _rect_count(z, a, 60 / da, 0.9 * width)
            if ratio <= 0 or abs(n_in) > 1e-6:
                return [CheckResult("zero_free_strip", False, f"inside |Im tau| < 0.9 w: min rotated Re/|.| = "
                                    f"{ratio:.3g}, zeros counted {n_in:.3g} (K={k}, logits {z.round(3).tolist()}, "
                                    f"slopes {a.round(3).tolist()})", claim.name, {"at": {s.name: p[s] for s in syms}})]
            rects += 1
    worst_attained = mpmath.mpf(0)
    for p in pts:
        width = _claimed(claim, syms, p)
        da = p[syms[0]] if syms else 1.0
        with mpmath.workdps(MP_DIGITS):
            root = _newton_mp(np.zeros(2), np.array([0.0, da]), 1.05j * width)
            w_mp = sp.S(claim.value).subs({s: sp.Float(p[s], MP_DIGITS) for s in syms}).evalf(MP_DIGITS)
            err = abs(root - mpmath.mpc(0, mpmath.mpf(str(w_mp)))) / mpmath.mpf(str(w_mp))
            worst_attained = max(worst_attained, err)
    ok = worst_attained < mpmath.mpf(10) ** -30
    return [CheckResult("zero_free_strip", True, f"Re(exp(-i m Im tau) Z) > 0 on grids inside 0.999 w (min ratio "
                        f"{worst_ratio:.3g}) and no zero counted in |Im tau| < 0.9 w, |Re tau| < 60/Delta_a on {rects} random instances",
                        claim.name),
            CheckResult("strip_attained", ok, f"binary instance, equal logits: 50-digit zero at i w within "
                        f"{mpmath.nstr(worst_attained, 3)} at {len(pts)} points", claim.name)]


def _nearest_imag_numeric(card, claim, examples, seed, count) -> list[CheckResult]:
    """50-digit Newton from starts over a grid of the plane: min |Im| of the zeros found equals the claim."""
    Z, tau = sp.S(claim.arguments["partition"]), claim.arguments["variable"]
    syms = sorted((Z.free_symbols | sp.S(claim.value).free_symbols) - {tau}, key=lambda s: s.name)
    rel = [r for r in card.assumptions_for(claim) if r.free_symbols <= set(syms)]
    pts = [{s: float(v) for s, v in q.items()}
           for q in sample_points(syms, rel, count=count, seed=seed + 13, override=card.sample)]
    f = sp.lambdify((tau, *syms), Z, "mpmath")
    df = sp.lambdify((tau, *syms), sp.diff(Z, tau), "mpmath")
    worst = mpmath.mpf(0)
    for p in pts:
        args = [p[s] for s in syms]
        v = _claimed(claim, syms, p) if sp.S(claim.value).free_symbols else float(claim.value)
        found = []

        def guarded(t, args=args, v=v):  # a Newton step thrown far away: give up on that start
            if abs(t) > 50 * v:
                raise OverflowError("left the search region")
            return f(t, *args)

        with mpmath.workdps(MP_DIGITS):
            for x in np.linspace(-3, 3, 7):
                for y in (0.5, 1.5, 2.5):
                    try:
                        r = mpmath.findroot(guarded, mpmath.mpc(x * v, y * v), solver="newton",
                                            df=lambda t: df(t, *args), maxsteps=60)
                    except (ValueError, ZeroDivisionError, OverflowError):
                        continue
                    if abs(f(r, *args)) < mpmath.mpf(10) ** -40 * (1 + abs(df(r, *args))):
                        found.append(r)
            if not found:
                return [CheckResult("complex_root_search", False, f"no zero found at {p}", claim.name)]
            best = min(abs(r.imag) for r in found)
            v_mp = mpmath.mpf(str(sp.S(claim.value).subs({s: sp.Float(p[s], MP_DIGITS) for s in syms})
                                  .evalf(MP_DIGITS)))
            err = abs(best - v_mp) / v_mp
            worst = max(worst, err)
        if err > mpmath.mpf(10) ** -30:
            return [CheckResult("complex_root_search", False, f"min |Im| of zeros found {mpmath.nstr(best, 20)} vs "
                                f"claimed {mpmath.nstr(v_mp, 20)} at {p}", claim.name)]
    return [CheckResult("complex_root_search", True, f"50-digit Newton from 21 starts: min |Im tau| over zeros = claim "
                        f"within {mpmath.nstr(worst, 3)} at {len(pts)} points", claim.name)]


IDENTITY_NUMERICS = {"half_plane_strip": _strip_numeric, "nearest_zero_imag": _nearest_imag_numeric}
