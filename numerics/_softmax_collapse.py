"""Numeric routes for softmax collapse, StableMax and the orthogonal gradient (see
theory/derive/softmax_collapse.py; arXiv:2501.04697).

Independent of the derivation: the format parameters come from ``np.finfo`` (bfloat16: emulated by
rounding float32 results to 8 significand bits, round-to-nearest-even, after every operation), and the
thresholds are *measured* by running the kernels and bisecting over the representable margins.

Kernels (``KERNELS``), logits z with the label at the max:
- ``stable``      loss = log(sum_j exp(z_j - z_max)) - (z_y - z_max), numpy's own summation (pairwise);
- ``max_first``   the same, the terms added one by one starting with the max term (exp(0) = 1);
- ``small_first`` the same, the competitor terms added one by one first, the max term last;
- ``naive``       log(sum_j exp(z_j)) - z_y (no max subtracted).

``IDENTITY_NUMERICS``:
- ``collapse_margin``: margin / underflow thresholds bisected in the claim's format (within one ulp of the
  claimed margin); with ``classes`` the K-class interval over seeded random K (hypothesis): the max-first
  kernel attains the lower end, the small-first kernel the upper end, every kernel lies in between.
- ``collapse_gradient``: the forward and backward of the log-softmax kernel (PyTorch's backward formula)
  in float32 on N samples at random margins beyond the threshold.
- ``stablemax_loss``: the authors' StableMax cross-entropy (numpy float64, their 1e-30) and the same
  definition at 50 digits (mpmath) at random (K, D); the tail rate from D * loss at growing D.
- ``orthograd_norm``: random (theta, g) in R^n: the projected flow integrated by RK4 on a random quadratic
  (|theta|^2 drift), the discrete step's growth vs the claim, and its order in eta fitted (~ 2).
- ``radial_derivative``: a random bias-free ReLU MLP in numpy with hand-written backprop: <grad CE, theta>
  per sample vs the claim at the network's logits; the degree measured from z(2 theta) / z(theta).
"""
from __future__ import annotations

import math

import mpmath
import numpy as np
import sympy as sp
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from numerics._result import CheckResult
from theory import Card, Identity
from theory._assume import sample_points

MODELS: dict = {}

FORMAT_NAMES = ("float16", "bfloat16", "float32", "float64")
KERNELS = ("stable", "max_first", "small_first", "naive")


# -- formats -------------------------------------------------------------------------------------

def _bf16(x) -> np.ndarray:
    """float32 -> the nearest bfloat16 (round to nearest, ties to even), returned as float32."""
    a = np.atleast_1d(np.asarray(x, dtype=np.float32)).copy()
    u = a.view(np.uint32)
    finite = np.isfinite(a)
    u[finite] = ((u[finite].astype(np.uint64) + 0x7FFF + ((u[finite] >> 16) & 1)) & 0xFFFF0000).astype(np.uint32)
    return u.view(np.float32).reshape(np.shape(x))


class Format:
    """A float format's arithmetic: ``r`` rounds to it; parameters from np.finfo (bfloat16: 8 bits)."""

    def __init__(self, name: str):
        if name not in FORMAT_NAMES:
            raise ValueError(f"unknown format {name!r}")
        self.name = name
        base = np.float32 if name == "bfloat16" else np.dtype(name).type
        self.dtype = base
        fi = np.finfo(base)
        self.precision = 8 if name == "bfloat16" else fi.nmant + 1
        self.min_exponent = fi.minexp
        self.tiny = float(fi.smallest_normal)
        self.bits = {np.float16: np.uint16, np.float32: np.uint32, np.float64: np.uint64}[base]

    def r(self, x):
        a = np.asarray(x, dtype=self.dtype)
        return _bf16(a) if self.name == "bfloat16" else a

    def exp(self, x):
        with np.errstate(all="ignore"):
            return self.r(np.exp(self.r(x)))

    def log(self, x):
        with np.errstate(all="ignore"):
            return self.r(np.log(self.r(x)))

    def add(self, a, b):
        return self.r(self.r(a) + self.r(b))

    def sum(self, x, axis=-1):
        if self.name == "bfloat16":  # numpy has no bfloat16 reduction: sequential, rounded after each add
            x = np.moveaxis(self.r(x), axis, -1)
            acc = x[..., 0]
            for k in range(1, x.shape[-1]):
                acc = self.add(acc, x[..., k])
            return acc
        return self.r(np.sum(self.r(x), axis=axis, dtype=self.dtype))

    def ulp(self, x: float) -> float:
        v = self.r(abs(x))
        return float(self.up(v)) - float(v)

    def up(self, v):
        """The next representable number above v (v >= 0)."""
        if self.name == "bfloat16":
            u = np.asarray(self.r(v), dtype=np.float32).reshape(1).view(np.uint32)
            return np.array(u + 0x10000, dtype=np.uint32).view(np.float32)[0]
        return np.nextafter(self.dtype(v), self.dtype(np.inf))

    def to_int(self, v) -> int:
        a = np.asarray(self.r(v), dtype=self.dtype).reshape(1)
        i = int(a.view(self.bits)[0])
        return i >> 16 if self.name == "bfloat16" else i

    def from_int(self, i: int):
        if self.name == "bfloat16":
            return np.array([i << 16], dtype=np.uint32).view(np.float32)[0]
        return np.array([i], dtype=self.bits).view(self.dtype)[0]


def stable_loss(fmt: Format, z: np.ndarray, label: int = 0, kernel: str = "stable"):
    """Per-sample loss of logits z (..., K) in ``fmt`` by ``kernel`` (see the module docstring)."""
    z = fmt.r(z)
    if kernel == "naive":
        return fmt.add(fmt.log(fmt.sum(fmt.exp(z))), -z[..., label])
    zmax = np.max(z, axis=-1, keepdims=True)
    e = fmt.exp(fmt.r(z - zmax))
    if kernel == "stable":
        S = fmt.sum(e)
    elif kernel in ("max_first", "small_first"):
        order = np.argsort(-z, axis=-1, kind="stable")
        e_sorted = np.take_along_axis(e, order, axis=-1)
        if kernel == "small_first":
            e_sorted = np.concatenate([e_sorted[..., 1:], e_sorted[..., :1]], axis=-1)
        if fmt.name == "bfloat16":
            S = e_sorted[..., 0]
            for k in range(1, e.shape[-1]):
                S = fmt.add(S, e_sorted[..., k])
        else:  # numpy's cumsum accumulates one term at a time, left to right, in the array's dtype
            S = np.cumsum(e_sorted, axis=-1, dtype=fmt.dtype)[..., -1]
    else:
        raise ValueError(f"unknown kernel {kernel!r}")
    return fmt.add(fmt.log(S), -fmt.r(z[..., label] - zmax[..., 0]))


def _binary_logits(fmt: Format, m, classes: int = 2) -> np.ndarray:
    m = np.atleast_1d(fmt.r(m))
    z = np.zeros((m.size, classes), dtype=fmt.dtype)
    z[:, 0] = m
    return z


def bisect_margin(fmt: Format, zero_at, lo: float, hi: float) -> float:
    """The least representable m in [lo, hi] with zero_at(m) True, given zero_at(lo) False, zero_at(hi) True
    (bisection over the formats' ordered bit patterns)."""
    a, b = fmt.to_int(lo), fmt.to_int(hi)
    if zero_at(fmt.from_int(a)) or not zero_at(fmt.from_int(b)):
        raise ValueError(f"{fmt.name}: the predicate does not change sign on [{lo}, {hi}]")
    while b - a > 1:
        c = (a + b) // 2
        if zero_at(fmt.from_int(c)):
            b = c
        else:
            a = c
    return float(fmt.from_int(b))


def collapse_margin_measured(fmt: Format, kernel: str = "stable", classes: int = 2) -> float:
    """The least margin at which the kernel's loss is exactly 0 (K - 1 competitors at 0)."""
    def zero(m):
        return bool(stable_loss(fmt, _binary_logits(fmt, m, classes), kernel=kernel)[0] == 0)
    guess = fmt.precision * math.log(2) + math.log(classes - 1)
    return bisect_margin(fmt, zero, 0.25, min(2.5 * guess + 4, 1e4 if fmt.name != "float16" else 60.0))


def _check_monotone(fmt: Format, m_star: float, kernel: str, classes: int, rng, n: int = 64) -> tuple[int, int]:
    """Random margins above m* give loss exactly 0 and below give loss > 0 (counts of violations)."""
    above = fmt.r(m_star + rng.uniform(0, 2 * m_star, n))
    below = fmt.r(m_star - rng.uniform(0, 0.9 * m_star, n))
    below = below[below < m_star]
    la = stable_loss(fmt, _binary_logits(fmt, above, classes), kernel=kernel)
    lb = stable_loss(fmt, _binary_logits(fmt, below, classes), kernel=kernel)
    return int(np.sum(la != 0)), int(np.sum(lb == 0))


def _format_of(claim: Identity) -> Format:
    return Format(claim.arguments.get("format", "float32"))


def _claimed(card: Card, claim: Identity, point: dict | None = None) -> float:
    return float(sp.S(claim.value).subs(point or {}))


def _format_params(fmt: Format, claim: Identity) -> CheckResult:
    from theory.derive.softmax_collapse import FORMATS
    want = FORMATS.get(fmt.name)
    ok = bool(want == (fmt.precision, fmt.min_exponent))
    return CheckResult("format_parameters", ok, f"{fmt.name}: np.finfo gives precision {fmt.precision}, least normal "
                       f"exponent {fmt.min_exponent}; the derivation's format description {want}", claim.name,
                       route="collapse_margin numeric route")


def _collapse_margin_numeric(card: Card, claim: Identity, examples: int, seed: int, count: int) -> list[CheckResult]:
    fmt = _format_of(claim)
    quantity = claim.arguments.get("quantity", "margin")
    rng = np.random.default_rng(seed + 17)
    out = [_format_params(fmt, claim)]
    if "classes" in claim.arguments:
        return out + _k_class_numeric(card, claim, fmt, examples, seed)
    want = _claimed(card, claim)
    ulp = fmt.ulp(want)
    if quantity == "margin":
        measured = collapse_margin_measured(fmt, "stable")
        bad_above, bad_below = _check_monotone(fmt, measured, "stable", 2, rng)
        ok = bool(abs(measured - want) <= ulp and bad_above == 0 and bad_below == 0)
        out.append(CheckResult("bisected_threshold", ok, f"{fmt.name}, stable kernel (max subtracted, numpy sum): loss "
                               f"exactly 0 from margin {measured!r} on (claimed {want:.10g}, gap "
                               f"{measured - want:+.3g}, one ulp {ulp:.3g}); 0 at all of 64 random margins above, "
                               f"> 0 at all below" if ok else f"{fmt.name}: measured {measured!r} vs claimed {want:.10g} "
                               f"(ulp {ulp:.3g}); violations above {bad_above}, below {bad_below}", claim.name,
                               None if ok else {"measured": measured, "claimed": want}, route="collapse_margin numeric route"))
        naive = _naive_report(fmt, measured, rng)
        out.append(CheckResult("naive_kernel", None, naive, claim.name, route="collapse_margin numeric route"))
        return out
    if quantity == "normal_underflow":
        def below_normal(m):
            return bool(fmt.exp(-fmt.r(m))[()] < fmt.tiny)
        measured = bisect_margin(fmt, below_normal, 1.0, want * 1.5)
        ok = bool(abs(measured - want) <= ulp)
        out.append(CheckResult("bisected_threshold", ok, f"{fmt.name}: exp(-m) is below the least normal "
                               f"{fmt.tiny:.4g} from margin {measured!r} on (claimed {want:.10g}, one ulp {ulp:.3g})",
                               claim.name, None if ok else {"measured": measured, "claimed": want},
                               route="collapse_margin numeric route"))
        return out
    if quantity == "subnormal_underflow":
        def zero(m):
            return bool(fmt.exp(-fmt.r(m))[()] == 0)
        measured = bisect_margin(fmt, zero, 1.0, want * 1.5)
        # exp(-m) >= the least subnormal up to the claimed margin; it rounds to 0 below half of it
        ok = bool(want - ulp <= measured <= want + math.log(2) + ulp)
        out.append(CheckResult("bisected_threshold", ok, f"{fmt.name}: exp(-m) is exactly 0 from margin {measured!r} on;"
                               f" claimed: nonzero (at least the least subnormal) up to {want:.10g}; the zero lies "
                               f"within [claim, claim + ln 2] (between the least subnormal and half of it)",
                               claim.name, None if ok else {"measured": measured, "claimed": want},
                               route="collapse_margin numeric route"))
        return out
    raise ValueError(f"unknown quantity {quantity!r}")


def _naive_report(fmt: Format, m_stable: float, rng) -> str:
    """The naive kernel log(sum exp z) - z_y: where the sum absorbs the 1, and how often its loss is exactly 0."""
    def absorbed(m):
        z = _binary_logits(fmt, m)
        e = fmt.exp(z)
        return bool(fmt.sum(e)[0] == e[0, 0])
    try:
        m_abs = bisect_margin(fmt, absorbed, 0.25, m_stable * 1.2)
    except ValueError as exc:
        return f"naive kernel: {exc}"
    grid = fmt.r(m_stable + rng.uniform(0, 0.5 * m_stable, 200))
    with np.errstate(all="ignore"):
        loss = stable_loss(fmt, _binary_logits(fmt, grid), kernel="naive")
    zero = float(np.mean(loss == 0))
    finite = float(np.mean(np.isfinite(loss)))
    big = float(np.finfo(fmt.dtype).max)
    overflow = f"; exp(m) overflows above ln {big:.6g} = {math.log(big):.4g}" if finite < 1 else ""
    return (f"naive kernel (no max subtracted): exp(m) + 1 first rounds to exp(m) at margin {m_abs!r} (stable kernel: "
            f"{m_stable!r}); above the threshold its loss log(fl(exp m)) - m is exactly 0 at {zero:.0%} of 200 random "
            f"margins (finite at {finite:.0%}{overflow}) (reported, not judged)")


def _k_class_numeric(card: Card, claim: Identity, fmt: Format, examples: int, seed: int) -> list[CheckResult]:
    K_sym = claim.arguments["classes"]
    quantity = claim.arguments.get("quantity", "margin")
    attains = "max_first" if quantity == "margin" else "small_first"
    lower_claim = next(c for c in card.claims if isinstance(c, Identity) and c.arguments.get("quantity", "margin")
                       == "margin" and c.arguments.get("format") == claim.arguments.get("format"))
    upper_claim = next((c for c in card.claims if isinstance(c, Identity) and c.arguments.get("quantity") ==
                        "k_class_upper" and c.arguments.get("format") == claim.arguments.get("format")), None)
    p = fmt.precision
    rows: list[str] = []
    failures: list[str] = []

    def measure(K: int) -> None:
        want = _claimed(card, claim, {K_sym: K})
        lo = _claimed(card, lower_claim, {K_sym: K})
        hi = _claimed(card, upper_claim, {K_sym: K}) if upper_claim is not None else math.inf
        got = {k: collapse_margin_measured(fmt, k, K) for k in ("stable", "max_first", "small_first")}
        # the small-first sum of K - 1 equal terms carries a relative rounding error of at most (K - 2) 2^-p
        tol = fmt.ulp(want) + (K - 1) * 2.0 ** -p
        if abs(got[attains] - want) > tol:
            failures.append(f"K = {K}: the {attains} kernel collapses at {got[attains]!r}, claimed {want:.10g} "
                            f"(tolerance {tol:.3g})")
        for k, v in got.items():
            if not lo - fmt.ulp(lo) <= v <= hi + fmt.ulp(hi) + (K - 1) * 2.0 ** -p:
                failures.append(f"K = {K}: the {k} kernel collapses at {v!r}, outside [{lo:.8g}, {hi:.8g}]")
        where = (got["stable"] - lo) / (hi - lo) if math.isfinite(hi) and hi > lo else float("nan")
        rows.append(f"K={K}: max_first {got['max_first']:.7g}, small_first {got['small_first']:.7g}, numpy "
                    f"{got['stable']:.7g} ({where:.2f} of the interval)")

    n = max(3, min(examples, 12))

    @hypothesis_seed(seed)
    @settings(max_examples=n, database=None, deadline=None, phases=(Phase.generate,),
              suppress_health_check=list(HealthCheck))
    @given(st.integers(min_value=3, max_value=2000))
    def search(K):
        measure(K)

    measure(113)
    search()
    ok = bool(not failures)
    detail = (f"{fmt.name}, {len(rows)} values of K (113 and hypothesis-drawn up to 2000): the {attains} kernel "
              f"attains the claimed endpoint within one ulp + (K-1) 2^-p, every kernel lies in the interval; "
              + "; ".join(rows[:4])) if ok else "; ".join(failures[:3])
    return [CheckResult("k_class_kernels", ok, detail, claim.name, route="collapse_margin numeric route",
                        examples=len(rows))]


# -- gradient at collapse ------------------------------------------------------------------------

def log_softmax_backward(fmt: Format, z: np.ndarray, labels: np.ndarray):
    """Mean cross-entropy through log_softmax in ``fmt``: (per-sample loss, gradient w.r.t. z), with PyTorch's
    backward grad = g - exp(out) * sum(g), g = -onehot / N."""
    z = fmt.r(z)
    N = z.shape[0]
    zmax = np.max(z, axis=-1, keepdims=True)
    S = fmt.sum(fmt.exp(fmt.r(z - zmax)))
    out = fmt.r(fmt.r(z - zmax) - fmt.log(S)[:, None])
    loss = -out[np.arange(N), labels]
    g = np.zeros_like(z)
    g[np.arange(N), labels] = fmt.r(-1.0 / N)
    grad = fmt.r(g - fmt.r(fmt.exp(out) * np.sum(g, axis=-1, keepdims=True)))
    return loss, grad


def _collapse_gradient_numeric(card: Card, claim: Identity, examples: int, seed: int, count: int) -> list[CheckResult]:
    fmt = _format_of(claim)
    args = claim.arguments
    m_sym, n_sym = args["margin"], args["batch"]
    K = int(args.get("classes", 2))
    pts = sample_points([m_sym, n_sym], [a for a in card.assumptions if a.free_symbols <= {m_sym, n_sym}],
                        count=max(count, 8), seed=seed + 23, override=card.sample)
    worst, zero_loss = 0.0, 0
    for i, pt in enumerate(pts):
        m, N = float(pt[m_sym]), int(pt[n_sym])
        z = _binary_logits(fmt, np.full(N, m), K)
        loss, grad = log_softmax_backward(fmt, z, np.zeros(N, dtype=int))
        zero_loss += int(np.all(loss == 0))
        comp = grad[:, 0] if args["component"] == "label" else grad[:, 1]
        want = _claimed(card, claim, {m_sym: float(fmt.r(m)), n_sym: N})
        got = comp.astype(float)
        if want == 0:
            ok = bool(np.all(got == 0))
            err = float(np.max(np.abs(got)))
        else:
            err = float(np.max(np.abs(got - want)) / abs(want))
            ok = bool(err <= 4 * 2.0 ** -fmt.precision and bool(np.all(got != 0)))
        worst = max(worst, err)
        if not ok:
            return [CheckResult("kernel_backward", False, f"{fmt.name} log-softmax backward at margin {m:.6g}, N = {N}: "
                                f"{args['component']} component {got[0]:.8g} vs claimed {want:.8g} (loss "
                                f"{float(loss[0]):.3g})", claim.name, {"at": {"m": m, "N": N}},
                                route="collapse_gradient numeric route", examples=i + 1)]
    how = ("exactly 0" if worst == 0 else f"the claim to {worst:.2e} relative (<= 4 ulps), never 0")
    return [CheckResult("kernel_backward", True, f"{fmt.name} forward + backward of the log-softmax kernel at "
                        f"{len(pts)} random (margin, N), K = {K}: the per-sample loss is exactly 0 at "
                        f"{zero_loss}/{len(pts)}; the {args['component']} component is {how}", claim.name,
                        route="collapse_gradient numeric route", examples=len(pts))]


# -- StableMax -----------------------------------------------------------------------------------

def stablemax_ce(z: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The authors' StableMax cross-entropy (utils.py), float64, per sample."""
    z = np.asarray(z, dtype=np.float64)
    s = np.where(z >= 0, z + 1, 1 / (1 - z + 1e-30))
    logp = np.log(s / np.sum(s, axis=-1, keepdims=True))
    return -logp[np.arange(z.shape[0]), labels]


def _stablemax_mp(D, K: int):
    s = (lambda x: x + 1 if x >= 0 else 1 / (1 - x))  # noqa: E731
    return -mpmath.log(s(D) / (s(D) + (K - 1) * s(mpmath.mpf(0))))


def _stablemax_numeric(card: Card, claim: Identity, examples: int, seed: int, count: int) -> list[CheckResult]:
    args = claim.arguments
    D_sym, K_sym = args["margin"], args["classes"]
    rng = np.random.default_rng(seed + 31)
    quantity = args.get("quantity", "loss")
    worst64, worst_mp, n = 0.0, mpmath.mpf(0), 0
    if quantity == "loss":
        for _ in range(max(count, 8) * 4):
            K = int(rng.integers(2, 2001))
            D = float(np.exp(rng.uniform(math.log(1e-3), math.log(1e8))))
            want = _claimed(card, claim, {D_sym: D, K_sym: K})
            z = np.zeros((1, K))
            z[0, 0] = D
            got = float(stablemax_ce(z, np.array([0]))[0])
            with mpmath.workdps(50):
                exact = _stablemax_mp(mpmath.mpf(D), K)
                claimed_mp = sp.S(claim.value).subs({D_sym: sp.Float(D, 50), K_sym: K}).evalf(50)
                gap = abs(exact - mpmath.mpf(str(claimed_mp))) / max(abs(exact), mpmath.mpf(10) ** -300)
            worst_mp = max(worst_mp, gap)
            worst64 = max(worst64, abs(got - want) / max(abs(want), 1e-300))
            n += 1
        ok = bool(worst64 <= 1e-9 and worst_mp <= mpmath.mpf(10) ** -40)
        return [CheckResult("authors_kernel", ok, f"the authors' StableMax CE (float64, with their 1e-30) vs the claim "
                            f"at {n} random (K in [2, 2000], D in [1e-3, 1e8]): worst relative gap {worst64:.2e}; the "
                            f"definition at 50 digits: {mpmath.nstr(worst_mp, 3)}", claim.name,
                            route="stablemax_loss numeric route", examples=n)]
    if quantity == "tail_rate":
        rows, ok = [], True
        for K in (2, 113, 1000):
            want = _claimed(card, claim, {K_sym: K})
            with mpmath.workdps(60):
                vals = [float(mpmath.mpf(D) * _stablemax_mp(mpmath.mpf(D), K)) for D in (1e6, 1e9, 1e12)]
            gaps = [abs(v - want) for v in vals]
            # D * log(1 + (K-1)/(D+1)) - (K - 1) = O(K^2 / D): the gap must shrink ~1000x per 1000x in D
            ok = ok and bool(gaps[-1] <= 1e-3 * max(1.0, want) and gaps[2] < gaps[1] < gaps[0])
            rows.append(f"K={K}: D*loss = {vals[0]:.8g}, {vals[1]:.10g}, {vals[2]:.12g} at D = 1e6, 1e9, 1e12")
        return [CheckResult("tail_rate_50_digits", ok, "D * loss at 50 digits tends to the claim: " + "; ".join(rows),
                            claim.name, route="stablemax_loss numeric route", examples=3)]
    raise ValueError(f"unknown StableMax quantity {quantity!r}")


# -- orthogonal gradient -------------------------------------------------------------------------

def orthograd_direction(w: np.ndarray, g: np.ndarray, rescaled: bool) -> np.ndarray:
    """The authors' per-tensor projection (orthograd.py), with their 1e-30 terms."""
    gp = g - (np.vdot(w, g) / (np.vdot(w, w) + 1e-30)) * w
    return gp * (np.linalg.norm(g) / (np.linalg.norm(gp) + 1e-30)) if rescaled else gp


def _orthograd_numeric(card: Card, claim: Identity, examples: int, seed: int, count: int) -> list[CheckResult]:
    args = claim.arguments
    R, G, P, eta = args["R"], args["G"], args["P"], args.get("step")
    rescaled = bool(args.get("rescaled", False))
    rng = np.random.default_rng(seed + 41)
    value = sp.S(claim.value)
    if args["quantity"] == "flow":
        drifts, rates, shrinks = [], [], []
        for _ in range(max(count, 6)):
            d = int(rng.integers(2, 40))
            A = rng.normal(size=(d, d))
            A = A @ A.T / d
            b = rng.normal(size=d)
            th0 = rng.normal(size=d)
            r0 = th0 @ th0

            def field(t):
                return -orthograd_direction(t, A @ t - b, rescaled)

            def rk4(h, steps):  # RK4 on d theta/dt = -g_perp(theta), t in [0, h * steps]
                th = th0.copy()
                for _ in range(steps):
                    k1 = field(th)
                    k2 = field(th + h / 2 * k1)
                    k3 = field(th + h / 2 * k2)
                    k4 = field(th + h * k3)
                    th = th + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
                return th
            th = rk4(1e-3, 250)
            fine = rk4(5e-4, 500)
            coarse_drift, fine_drift = abs(th @ th - r0) / r0, abs(fine @ fine - r0) / r0
            # the drift must be integrator error: it shrinks with the step (RK4: ~16x per halving)
            shrinks.append(fine_drift <= max(coarse_drift / 4, 1e-12))
            drifts.append(coarse_drift)
            g = A @ th - b
            rate = 2 * th @ field(th)
            want = float(value.subs({R: th @ th, G: g @ g, P: th @ g, **({eta: 0.1} if eta is not None else {})}))
            rates.append(abs(rate - want) / (np.linalg.norm(th) * np.linalg.norm(g)))
        ok = bool(max(drifts) <= 1e-6 and all(shrinks) and max(rates) <= 1e-12)
        return [CheckResult("projected_flow_rk4", ok, f"RK4 (h = 1e-3 and 5e-4, t in [0, 1/4]) on d theta/dt = -g_perp for random "
                            f"quadratics in R^2..R^40 ({'rescaled to |g|' if rescaled else 'plain projection'}): "
                            f"relative drift of |theta|^2 at most {max(drifts):.2e}, shrinking with the step "
                            f"({sum(shrinks)}/{len(shrinks)}); d|theta|^2/dt vs the claim "
                            f"within {max(rates):.1e} |theta||g|", claim.name, route="orthograd_norm numeric route",
                            examples=len(drifts))]
    if args["quantity"] == "step":
        etas = np.geomspace(1e-1, 1e-4, 7)
        worst, orders = 0.0, []
        for _ in range(max(count, 6)):
            d = int(rng.integers(2, 60))
            th, g = rng.normal(size=d), rng.normal(size=d) * rng.uniform(0.1, 10)
            vals = {R: th @ th, G: g @ g, P: th @ g}
            growth = []
            for e in etas:
                with mpmath.workdps(40):  # |theta+|^2 - |theta|^2 without cancellation
                    dvec = orthograd_direction(th, g, rescaled)
                    new = [mpmath.mpf(a) - mpmath.mpf(e) * mpmath.mpf(b) for a, b in zip(th, dvec)]
                    diff = float(mpmath.fsum(x * x for x in new) - mpmath.fsum(mpmath.mpf(a) ** 2 for a in th))
                want = float(value.subs({**vals, eta: e}))
                worst = max(worst, abs(diff - want) / max(abs(want), 1e-300))
                growth.append(diff)
            orders.append(float(np.polyfit(np.log(etas), np.log(np.abs(growth)), 1)[0]))
        ok = bool(worst <= 1e-9 and all(abs(o - 2) <= 0.01 for o in orders))
        return [CheckResult("discrete_step", ok, f"one step theta - eta d ({'rescaled' if rescaled else 'plain'} "
                            f"projection, float64 direction, 40-digit norms) at {len(orders)} random (theta, g) and 7 "
                            f"step sizes 1e-1..1e-4: growth vs the claim within {worst:.1e} relative; fitted order in "
                            f"eta {min(orders):.4f}..{max(orders):.4f}", claim.name,
                            route="orthograd_norm numeric route", examples=len(orders))]
    raise ValueError(f"unknown orthograd quantity {args['quantity']!r}")


# -- homogeneous ReLU MLP ------------------------------------------------------------------------

def mlp_forward_backward(weights: list[np.ndarray], x: np.ndarray, labels: np.ndarray):
    """Bias-free ReLU MLP logits and the per-sample CE gradients w.r.t. every weight (hand-written backprop).
    Returns (logits (N, K), list over samples of the flattened gradient)."""
    hs, pre = [x], []
    h = x
    for i, W in enumerate(weights):
        a = h @ W.T
        pre.append(a)
        h = a if i == len(weights) - 1 else np.maximum(a, 0)
        hs.append(h)
    z = h
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    delta = p.copy()
    delta[np.arange(len(labels)), labels] -= 1  # dCE/dz per sample
    grads = [None] * len(weights)
    for i in range(len(weights) - 1, -1, -1):
        grads[i] = np.einsum("nk,nj->nkj", delta, hs[i])  # per-sample dCE/dW_i
        if i:
            delta = (delta @ weights[i]) * (pre[i - 1] > 0)
    flat = np.concatenate([gr.reshape(len(labels), -1) for gr in grads], axis=1)
    return z, flat


def _radial_numeric(card: Card, claim: Identity, examples: int, seed: int, count: int) -> list[CheckResult]:
    args = claim.arguments
    widths = tuple(args["widths"])
    rng = np.random.default_rng(seed + 53)
    worst, degrees, n = 0.0, [], 0
    for _ in range(max(count, 6)):
        for _ in range(100):  # redraw a network whose ReLUs are all dead (every logit 0)
            ws = [rng.normal(size=(o, i)) / math.sqrt(i) for i, o in zip(widths, widths[1:])]
            x = np.abs(rng.normal(size=(16, widths[0])))  # the symbolic inputs are positive
            labels = np.full(16, int(args.get("label", 0)))
            z, grads = mlp_forward_backward(ws, x, labels)
            if np.sum(np.abs(z) > 1e-8) >= 8:
                break
        z2, _ = mlp_forward_backward([2 * w for w in ws], x, labels)
        with np.errstate(all="ignore"):
            ratio = z2[np.abs(z) > 1e-8] / z[np.abs(z) > 1e-8]
        degree = float(np.median(np.log2(ratio)))
        degrees.append(degree)
        if args.get("quantity", "radial") == "degree":
            continue
        theta = np.concatenate([w.ravel() for w in ws])
        radial = grads @ theta
        zs = tuple(args["logits"])
        value = sp.S(claim.value)
        L_sym = args.get("degree_symbol")
        fn = sp.lambdify([*zs, *( [L_sym] if L_sym is not None else [])], value, "numpy")
        want = fn(*z.T, *([round(degree)] if L_sym is not None else []))
        err = np.abs(radial - want) / (1 + np.abs(radial))
        worst = max(worst, float(err.max()))
        n += len(labels)
    if args.get("quantity", "radial") == "degree":
        want = _claimed(card, claim)
        ok = bool(all(abs(d - want) <= 1e-9 for d in degrees))
        return [CheckResult("measured_degree", ok, f"bias-free ReLU MLP {widths} with random weights: "
                            f"log2(z(2 theta)/z(theta)) = {min(degrees):.12g}..{max(degrees):.12g} (claimed {want:g})",
                            claim.name, route="radial_derivative numeric route", examples=len(degrees))]
    ok = bool(worst <= 1e-10)
    return [CheckResult("backprop_inner_product", ok, f"hand-written backprop through random bias-free ReLU MLPs "
                        f"{widths}: <grad CE_i, theta> vs the claim at the network's logits, {n} samples, worst "
                        f"relative gap {worst:.2e}", claim.name, route="radial_derivative numeric route", examples=n)]


IDENTITY_NUMERICS: dict = {
    "collapse_margin": _collapse_margin_numeric,
    "collapse_gradient": _collapse_gradient_numeric,
    "stablemax_loss": _stablemax_numeric,
    "orthograd_norm": _orthograd_numeric,
    "radial_derivative": _radial_numeric,
}
