"""Independent numeric checks of a card's claims. Results are values, never prints.

Per claim kind:
- Threshold: symbolic equality with the engine's derivation (simplify) AND agreement at seeded
  random points; spectral radius of the exact iteration matrix below 1 at 0.99x and above 1 at
  1.01x the claim, and brentq's root of rho(param) - 1 between them equals the claim to 1e-10
  (hypothesis, shrunk counterexample); a 50-digit mpmath root of rho - 1 matches the claim at
  50 digits.
- Identity: symbolic + random points; the derivation's own numeric route (e.g. the fixed point
  of the second iterate for a two-cycle, in float64 and at 50 digits).
- Bound: the sign of (value - bounded quantity) symbolically, and numerically (hypothesis).
- Observed: measured only by a simulation (gpu_validation); reported as not run here.
"""
from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import mpmath
import numpy as np
import sympy as sp
from hypothesis import HealthCheck, Phase, find, settings
from hypothesis.errors import NoSuchExample, Unsatisfiable
from scipy.optimize import brentq

from numerics._compile import MP_DIGITS, compiled
from numerics._result import CheckResult
from numerics._evaluate import claim_value, claim_value_mp, with_spectral
from numerics._spectral import (critical_by_brentq, critical_by_findroot_mp, matrix_of, spectral_radius)
from numerics._strategies import points as point_strategy
from numerics._models import agree, card_data, model_of, quantities, relation_holds, scalar
from theory import (Bound, Card, DerivationError, Identity, InputError, MeanSquareThreshold, Observed, Relation,
                    Threshold)
from theory._assume import INTEGER_MAX, sample_points, sampling_range
from theory._budget import GaveUp, limit, stage
from theory._card import Claim
from theory.derive import Derived, derive_claim

RTOL_POINTS = 1e-10     # derived vs claimed in float64 at random points
RTOL_ROOT = 1e-10       # brentq root vs claim
RTOL_MP = 1e-30         # 50-digit root vs claim at 50 digits
CROSSING = (0.99, 1.01)
STAGE_SECONDS = {"derive": 0.0, "numeric": 0.0}  # of the card being checked (check() resets it)
NEVER_GRID = tuple(10.0 ** (k / 4) for k in range(-32, 33))  # step sizes 1e-8 .. 1e8 tried where a claim is <= 0


@dataclass(frozen=True)
class CardReport:
    id: str
    checks: tuple[CheckResult, ...]
    seed: int
    examples: int
    extra: dict = field(default_factory=dict)
    status: str = "theorem"   # the card's: a conjecture that is not confirmed is a finding, not a defect

    @property
    def passed(self) -> bool:
        ran = [c.passed for c in self.checks if c.passed is not None]
        return bool(ran) and all(ran)

    @property
    def gave_up(self) -> CheckResult | None:
        """The first check that ran out of its budget (then the card is neither verified nor refuted)."""
        return next((c for c in self.checks if c.name == "gave_up"), None)

    @property
    def counterexample(self) -> dict | None:
        found = [c.counterexample for c in self.checks if c.counterexample and c.name != "gave_up"]
        shrunk = [c for c in found if c.get("shrunk")]
        return (shrunk or found or [None])[0]

    def with_checks(self, more: Sequence[CheckResult]) -> CardReport:
        return replace(self, checks=self.checks + tuple(more))

    def to_json(self) -> dict:
        return {"id": self.id, "status": self.status, "passed": self.passed,
                "gave_up": self.gave_up.detail if self.gave_up else None, "checks": [c.to_json() for c in self.checks],
                "counterexample": self.counterexample, "seed": self.seed, "examples": self.examples}


def _fmt(point: Mapping[sp.Symbol, float]) -> str:
    return ", ".join(f"{s.name}={float(v):.6g}" for s, v in point.items())


def _named(point: Mapping[sp.Symbol, float]) -> dict[str, float]:
    return {s.name: float(v) for s, v in point.items()}


def _settings(examples: int) -> settings:
    return settings(max_examples=examples, database=None, deadline=None, derandomize=False,
                    phases=[Phase.generate, Phase.shrink], report_multiple_bugs=False,
                    suppress_health_check=list(HealthCheck))


MIN_VALID_FRACTION = 0.5  # a hypothesis check that evaluated fewer valid examples than this share of those asked
                          # for (its filter rejected the rest) is inconclusive, not a pass


@dataclass(frozen=True)
class Search:
    """A hypothesis search's outcome: the shrunk counterexample (None if none was found), how many
    valid examples (past the strategy's filter) were evaluated before it, and whether the filter
    admitted none at all (hypothesis' Unsatisfiable)."""
    found: object | None
    valid: int
    asked: int
    unsatisfiable: bool = False
    space: float = math.inf   # how many distinct examples the strategy has (finite: no free float parameter)

    @property
    def minimum(self) -> int:
        return max(1, min(math.ceil(MIN_VALID_FRACTION * self.asked), self.space))


def _space(card: Card, syms: Sequence[sp.Symbol], relations: Sequence[sp.Basic]) -> float:
    """The number of distinct points of ``point_strategy(card, syms, relations)`` before its filter:
    1 with no parameter, the product of the integer ranges, infinite with any real parameter."""
    n = 1
    for s in syms:
        if not s.is_integer:
            return math.inf
        lo, hi, _ = sampling_range(s, relations, card.sample)
        n *= max(1, min(INTEGER_MAX, math.floor(hi))) - max(1, math.ceil(lo)) + 1
    return n


def _search(strategy, fails: Callable[[dict], bool], examples: int, seed: int, space: float = math.inf) -> Search:
    """The shrunk smallest point where ``fails`` holds (``.found``, None if none is found), with the
    number of valid examples evaluated (a strategy of ``space`` < ``examples`` distinct examples is
    exhausted by fewer). An unsatisfiable strategy is reported, never a pass."""
    valid, failed = [0], [False]

    def counted(v) -> bool:
        bad = bool(fails(v))
        if not failed[0]:
            valid[0] += 1   # shrinking (after the first failure) re-evaluates; those are not counted
        failed[0] = failed[0] or bad
        return bad

    try:
        return Search(find(strategy, counted, settings=_settings(examples), random=random.Random(seed)),
                      valid[0], examples, space=space)
    except NoSuchExample:
        return Search(None, valid[0], examples, space=space)
    except Unsatisfiable:
        return Search(None, valid[0], examples, unsatisfiable=True, space=space)


def _no_counterexample(name: str, route: str, search: Search, claim: str, detail: str,
                       unit: str = "hypothesis points") -> CheckResult:
    """The result of a search that found no counterexample: a pass only with at least
    ``search.minimum`` valid examples; ``detail`` is completed with the count."""
    n = search.valid
    if search.unsatisfiable or n == 0:
        return CheckResult(name, False, f"inconclusive: no valid example satisfies the assumptions "
                           f"(hypothesis found none of {search.asked} asked for); not a pass", claim,
                           route=route, examples=n, inconclusive=True)
    if n < search.minimum:
        return CheckResult(name, False, f"inconclusive: only {n} valid {unit} of {search.asked} asked for "
                           f"(minimum {search.minimum}; the assumptions reject the rest); not a pass", claim,
                           route=route, examples=n, inconclusive=True)
    return CheckResult(name, True, f"{detail} at {n} {unit}", claim, route=route, examples=n)


def _close(a: float, b: float, rtol: float) -> bool:
    return math.isfinite(a) and math.isfinite(b) and abs(a - b) <= rtol * max(abs(a), abs(b), 1e-300)


def _symbolic(claim: Claim, derived: Derived) -> CheckResult:
    with stage("simplify(derived - claimed)"):
        diff = sp.simplify(sp.S(derived.value) - sp.S(claim.value))
    ok = diff == 0
    detail = (f"derived {derived.value} == claimed {claim.value}" if ok
              else f"derived {sp.factor(derived.value)} != claimed {claim.value} (difference {sp.factor(diff)})")
    return CheckResult("symbolic", ok, f"[{derived.engine}] {detail}", claim.name, route="symbolic")


def _args_of(card: Card, *exprs: sp.Basic, exclude: Sequence[sp.Symbol] = ()) -> list[sp.Symbol]:
    free = set().union(*(sp.S(e).free_symbols for e in exprs))
    return [s for s in card.symbols if s in free and s not in exclude]


def _agree(card: Card, claim: Claim, point: Mapping[sp.Symbol, float], derived_value: sp.Expr) -> tuple[bool, float, float]:
    """Claimed vs derived at ``point``: float64 to RTOL_POINTS, and where float64 rounding alone could
    explain a gap (a small difference of large terms), the same two expressions at 50 digits to 1e-30."""
    a, b = claim_value(card, claim, point), claim_value(card, claim, point, expr=derived_value)
    if _close(a, b, RTOL_POINTS):
        return True, a, b
    if claim.kind not in ("identity", "threshold", "bound") or not (math.isfinite(a) and math.isfinite(b)):
        return False, a, b
    with mpmath.workdps(MP_DIGITS):
        try:
            a_mp = claim_value_mp(card, claim, point)
            b_mp = claim_value_mp(card, claim, point, expr=derived_value)
        except (TypeError, ValueError, ZeroDivisionError):
            return False, a, b
        scale = max(abs(a_mp), abs(b_mp), mpmath.mpf(10) ** -300)
        return bool(abs(a_mp - b_mp) <= RTOL_MP * scale), a, b


def _random_points(card: Card, claim: Claim, derived: Derived, count: int, seed: int) -> CheckResult:
    syms = _args_of(card, claim.value, derived.value)
    relations = [r for r in card.assumptions_for(claim) if r.free_symbols <= set(syms)]
    pts = sample_points(syms, relations, count=count, seed=seed, override=card.sample)
    for i, p in enumerate(pts):
        pf = {s: float(v) for s, v in p.items()}
        ok, a, b = _agree(card, claim, pf, derived.value)
        if not ok:
            return CheckResult("random_points", False, f"claimed {a:.12g} vs derived {b:.12g} at {_fmt(pf)}",
                               claim.name, {"at": _named(pf), "claimed": a, "derived": b}, examples=i + 1)
    return CheckResult("random_points", True, f"derived == claimed to {RTOL_POINTS:g} (50 digits where float64 "
                       f"rounding dominates) at {len(pts)} seeded points",
                       claim.name, examples=len(pts))


# -- threshold checks -------------------------------------------------------------------------

def _threshold_checks(card: Card, claim: Threshold, derived: Derived, examples: int, seed: int,
                      count: int) -> list[CheckResult]:
    matrix = matrix_of(card)
    syms = _args_of(card, matrix, claim.value, exclude=(claim.param,))
    relations = [r for r in card.assumptions if r.free_symbols <= set(syms)]
    out: list[CheckResult] = []
    lo_f, hi_f = CROSSING

    def why_fails(p: dict) -> str | None:
        v = claim_value(card, claim, p)
        if not math.isfinite(v):
            return f"claimed {claim.name} = {v:.6g} is not a finite real number"
        if v <= 0:  # the claim says: no step size is stable here
            for e in NEVER_GRID:
                rho = spectral_radius(card, claim.param, e, p)
                if rho < 1 - 1e-12:
                    return (f"claimed {claim.name} = {v:.6g} <= 0 (never stable), but rho = {rho:.12g} < 1 at "
                            f"{claim.param} = {e:.6g}")
            return None
        below, above = spectral_radius(card, claim.param, lo_f * v, p), spectral_radius(card, claim.param, hi_f * v, p)
        if not below < 1:
            return f"rho = {below:.12g} >= 1 at {lo_f} x claimed {claim.param} = {lo_f * v:.6g}"
        if not above > 1:
            return f"rho = {above:.12g} <= 1 at {hi_f} x claimed {claim.param} = {hi_f * v:.6g}"
        root = critical_by_brentq(card, claim.param, p, lo_f * v, hi_f * v)
        if abs(root - v) > RTOL_ROOT * v:
            return f"rho crosses 1 at {claim.param} = {root:.15g}, not at the claimed {v:.15g}"
        return None

    with np.errstate(all="ignore"):
        search = _search(point_strategy(card, syms, relations), lambda p: why_fails(p) is not None, examples, seed,
                         _space(card, syms, relations))
    bad = search.found
    if bad is None:
        out.append(_no_counterexample("spectral_crossing", "hypothesis_spectral", search, claim.name,
                                      f"rho < 1 at {lo_f}x, rho > 1 at {hi_f}x the claim, and brentq's root of "
                                      f"rho - 1 equals it to {RTOL_ROOT:g},"))
        if not out[-1].passed:
            return out
    else:
        out.append(CheckResult("spectral_crossing", False, f"{why_fails(bad)} at {_fmt(bad)} (shrunk)", claim.name,
                               {"at": _named(bad), "claimed": claim_value(card, claim, bad),
                                "derived": claim_value(card, claim, bad, expr=derived.value), "reason": why_fails(bad),
                                "check": "spectral_crossing", "shrunk": True}, examples=search.valid))
        return out

    pts = [{s: float(v) for s, v in p.items()}
           for p in sample_points(syms, relations, count=4 * count, seed=seed + 1, override=card.sample)]
    pts = [p for p in pts if claim_value(card, claim, p) > 0]  # where the claim is <= 0 the crossing check decided
    worst_mp = mpmath.mpf(0)
    pts = pts[: max(2, count // 2)]
    if not pts:
        out.append(CheckResult("mpmath_root", None, "not applicable: the claim is <= 0 at every sampled point (the "
                               "crossing check decided there)", claim.name, examples=0))
        return out
    for i, p in enumerate(pts):
        with mpmath.workdps(MP_DIGITS):
            v_mp = claim_value_mp(card, claim, p)
            try:
                root = critical_by_findroot_mp(card, claim.param, p, v_mp * (1 + mpmath.mpf(10) ** -8))
            except (ValueError, ZeroDivisionError) as exc:
                out.append(CheckResult("mpmath_root", False, f"50-digit root search failed at {_fmt(p)}: {exc}",
                                       claim.name, examples=i + 1))
                break
            rel = abs(root - v_mp) / abs(v_mp)
            worst_mp = max(worst_mp, rel)
            f64 = claim_value(card, claim, p)
            if rel > RTOL_MP or not _close(float(v_mp), f64, 1e-14):
                out.append(CheckResult("mpmath_root", False,
                                       f"50-digit root {mpmath.nstr(root, 20)} vs claim {mpmath.nstr(v_mp, 20)} "
                                       f"(float64 {f64!r}) at {_fmt(p)}", claim.name, examples=i + 1))
                break
    else:
        out.append(CheckResult("mpmath_root", True,
                               f"50-digit root of rho - 1 = claim within {mpmath.nstr(worst_mp, 3)}; float64 agrees "
                               f"with mpmath to 1e-14 at {len(pts)} seeded points", claim.name, examples=len(pts)))
    return out


# -- identity checks ----------------------------------------------------------------------------

def _two_cycle_numeric(card: Card, claim: Identity, examples: int, seed: int, count: int) -> list[CheckResult]:
    """Fixed point a > 0 of f(f(a)) = a by brentq (float64) and findroot (50 digits)."""
    (x,), (f,) = card.state, card.mode_update
    syms = _args_of(card, f, claim.value, exclude=(x,))
    relations = [r for r in card.assumptions_for(claim) if r.free_symbols <= set(syms)]
    ff = f.subs(x, f)
    g_np = compiled(ff - x, (x, *syms))
    g_mp = compiled(ff - x, (x, *syms), "mpmath")
    pts = [{s: float(v) for s, v in p.items()}
           for p in sample_points(syms, relations, count=count, seed=seed + 2, override=card.sample)]
    worst, worst_mp = 0.0, mpmath.mpf(0)
    for i, p in enumerate(pts):
        args = [p[s] for s in syms]
        hi = 1.0
        while g_np(hi, *args) > 0 and hi < 1e300:
            hi *= 2
        a = brentq(lambda t: g_np(t, *args), 1e-300, hi, xtol=1e-300, rtol=4 * np.finfo(float).eps)
        v = claim_value(card, claim, p)
        rel = abs(a - v) / abs(v)
        worst = max(worst, rel)
        with mpmath.workdps(MP_DIGITS):
            a_mp = mpmath.findroot(lambda t: g_mp(t, *[mpmath.mpf(q) for q in args]), mpmath.mpf(a))
            v_mp = claim_value_mp(card, claim, p)
            worst_mp = max(worst_mp, abs(a_mp - v_mp) / abs(v_mp))
        if rel > RTOL_ROOT or worst_mp > RTOL_MP:
            return [CheckResult("second_iterate_fixed_point", False,
                                f"fixed point of f(f(a)) = a is {a:.15g}, claimed {v:.15g} at {_fmt(p)}",
                                claim.name, {"at": _named(p), "claimed": v, "fixed_point": a}, examples=i + 1)]
    return [CheckResult("second_iterate_fixed_point", True,
                        f"positive fixed point of f(f(a)) = a equals the claim: float64 within {worst:.1e}, "
                        f"50 digits within {mpmath.nstr(worst_mp, 3)} at {len(pts)} points", claim.name,
                        examples=len(pts))]


def _identity_search(card: Card, claim: Identity, derived: Derived, examples: int, seed: int) -> CheckResult:
    syms = _args_of(card, claim.value, derived.value)
    relations = [r for r in card.assumptions_for(claim) if r.free_symbols <= set(syms)]

    def fails(p):
        return not _agree(card, claim, p, derived.value)[0]

    with np.errstate(all="ignore"):
        search = _search(point_strategy(card, syms, relations), fails, examples, seed, _space(card, syms, relations))
    bad = search.found
    if bad is None:
        return _no_counterexample("hypothesis_agreement", "hypothesis_points", search, claim.name, "derived == claimed")
    a, b = claim_value(card, claim, bad), claim_value(card, claim, bad, expr=derived.value)
    return CheckResult("hypothesis_agreement", False, f"claimed {a:.12g} vs derived {b:.12g} at {_fmt(bad)} (shrunk)",
                       claim.name, {"at": _named(bad), "claimed": a, "derived": b, "check": "hypothesis_agreement",
                                    "shrunk": True}, examples=search.valid)




# -- mean-square thresholds ----------------------------------------------------------------------

MS_RTOL = 1e-8   # relative error of the claimed root against the exact operator's (first-order estimate)


def _ms_symbolic(claim: MeanSquareThreshold, derived: Derived) -> list[CheckResult]:
    out = []
    for label, mine, theirs in (("gain", derived.value, claim.gain),
                                ("mode_limit", derived.details["mode_limit"], claim.mode_limit)):
        with stage(f"simplify(derived - claimed {label})"):
            diff = sp.simplify(sp.S(mine) - sp.S(theirs))
        ok = diff == 0
        out.append(CheckResult(f"symbolic_{label}", ok,
                               f"[{derived.engine}] derived {label} {sp.factor(mine)} "
                               f"{'==' if ok else '!='} claimed {theirs}", claim.name, route="symbolic"))
    return out


def _ms_random_points(card: Card, claim: MeanSquareThreshold, derived: Derived, count: int, seed: int) -> CheckResult:
    syms = _args_of(card, claim.gain, claim.mode_limit, derived.value, derived.details["mode_limit"])
    relations = [r for r in card.assumptions if r.free_symbols <= set(syms)]
    pairs = ((claim.gain, derived.value), (claim.mode_limit, derived.details["mode_limit"]))
    pts = sample_points(syms, relations, count=count, seed=seed, override=card.sample)
    for i, p in enumerate(pts):
        pf = {s: float(v) for s, v in p.items()}
        for mine, theirs in pairs:
            args = [s for s in syms if s in (mine.free_symbols | sp.S(theirs).free_symbols)]
            a = float(compiled(mine, args)(*[pf[s] for s in args]))
            b = float(compiled(theirs, args)(*[pf[s] for s in args]))
            if (math.isfinite(a) or math.isfinite(b)) and not _close(a, b, RTOL_POINTS):
                return CheckResult("random_points", False, f"claimed {a:.12g} vs derived {b:.12g} at {_fmt(pf)}",
                                   claim.name, {"at": _named(pf), "claimed": a, "derived": b}, examples=i + 1)
    return CheckResult("random_points", True, f"gain and mode limit: derived == claimed to {RTOL_POINTS:g} at "
                                              f"{len(pts)} seeded points", claim.name, examples=len(pts))


def _ms_point_strategy(card: Card, claim: MeanSquareThreshold):
    from hypothesis import strategies as st
    from numerics._strategies import spectra
    others = [s for s in card.symbols if s in (claim.gain.free_symbols | claim.mode_limit.free_symbols)
              and s not in (claim.param, card.eigenvalue) and s not in card.spectral]
    # condition <= 1e6: beyond it near-neutral modes crowd the Perron root closer than float64
    # eigenvalues resolve (the 50-digit secular check covers 1e8)
    return st.tuples(spectra(max_dim=5, max_condition=1e6), point_strategy(card, others) if others else st.just({}),
                     st.integers(0, 2**16))


def _exact_map(card: Card, claim: MeanSquareThreshold, value: float, point, spectrum, seed: int):
    from numerics._mean_square import SecondMomentMap, commuting_problem
    hessian, precond = commuting_problem(card, spectrum, seed)
    return SecondMomentMap(card, claim.param, value, point, hessian, precond, moments_dim=len(spectrum))


def _ms_operator_search(card: Card, claim: MeanSquareThreshold, examples: int, seed: int) -> CheckResult:
    def why_fails(sample) -> str | None:
        spectrum, point, hseed = sample
        try:
            v = claim_value(card, claim, point, spectrum)
        except InputError as exc:
            return f"the claimed secular equation has no root: {exc}"
        if not math.isfinite(v):
            return None  # an all-zero spectrum: no step size is unstable, nothing to compare
        rho = lambda e: _exact_map(card, claim, e, point, spectrum, hseed).spectral_radius()  # noqa: E731
        below, at, above = rho(0.99 * v), rho(v), rho(1.01 * v)
        if not below < 1:
            return f"exact operator rho = {below:.12g} >= 1 at 0.99 x claimed {claim.param} = {0.99 * v:.6g}"
        if not above > 1:
            return f"exact operator rho = {above:.12g} <= 1 at 1.01 x claimed {claim.param} = {1.01 * v:.6g}"
        # relative root error, to first order: (rho(v) - 1) / (v rho'(v)), rho' by the 0.99/1.01 secant
        root_error = abs(at - 1) * 0.02 / (above - below)
        if root_error > MS_RTOL:
            return (f"exact operator rho = {at:.15g} at the claimed {claim.param} = {v:.12g}: the operator's root "
                    f"differs by ~{root_error:.1e} relative")
        return None

    with np.errstate(all="ignore"):
        search = _search(_ms_point_strategy(card, claim), lambda smp: why_fails(smp) is not None, examples, seed)
    bad = search.found
    if bad is None:
        return _no_counterexample("exact_operator", "hypothesis_exact_operator", search, claim.name,
                                  f"Perron root of the exact second-moment operator (random eigenbasis, d <= 5) is < 1 "
                                  f"at 0.99x and > 1 at 1.01x the claim, and its root equals the claim to {MS_RTOL:g} "
                                  f"relative,", unit="hypothesis spectra")
    spectrum, point, hseed = bad
    return CheckResult("exact_operator", False, f"{why_fails(bad)} for spectrum {spectrum}, {_fmt(point)} (shrunk)",
                       claim.name, {"at": {**_named(point), "spectrum": list(spectrum)}, "reason": why_fails(bad),
                                    "check": "exact_operator", "shrunk": True}, examples=search.valid)


def _ms_mpmath(card: Card, claim: MeanSquareThreshold, count: int, seed: int) -> CheckResult:
    rng = random.Random(seed + 3)  # spectra for this check come from the stdlib RNG, seeded
    others = [s for s in card.symbols if s in (claim.gain.free_symbols | claim.mode_limit.free_symbols)
              and s not in (claim.param, card.eigenvalue) and s not in card.spectral]
    relations = [r for r in card.assumptions if r.free_symbols <= set(others)]
    pts = sample_points(others, relations, count=count, seed=seed + 3, override=card.sample) if others else [{}] * count
    worst, worst_res = 0.0, mpmath.mpf(0)
    from numerics._mean_square import secular_root_mp
    for i, p in enumerate(pts):
        pf = {s: float(v) for s, v in p.items()}
        spectrum = [10 ** rng.uniform(-3, 2) for _ in range(rng.randint(1, 12))]
        try:
            v = claim_value(card, claim, pf, spectrum)
            root, residual = secular_root_mp(card, claim, with_spectral(card, pf, spectrum), spectrum, v)
        except (InputError, ValueError, ZeroDivisionError) as exc:  # the claimed equation has no root here
            return CheckResult("mpmath_root", False, f"the claimed secular equation cannot be solved at {_fmt(pf)}, "
                               f"spectrum {spectrum}: {exc}", claim.name, examples=i + 1)
        worst = max(worst, float(abs(root - v) / v))
        worst_res = max(worst_res, abs(residual))
        if worst > 1e-12 or worst_res > mpmath.mpf(10) ** -40:
            return CheckResult("mpmath_root", False, f"50-digit root {mpmath.nstr(root, 20)} vs float64 {v!r} "
                               f"(residual {mpmath.nstr(residual, 3)}) at {_fmt(pf)}, spectrum {spectrum}", claim.name,
                               examples=i + 1)
    return CheckResult("mpmath_root", True, f"50-digit secular root agrees with float64 within {worst:.1e} "
                       f"(residual <= {mpmath.nstr(worst_res, 3)}) on {len(pts)} random spectra", claim.name,
                       examples=len(pts))


def _ms_checks(card: Card, claim: MeanSquareThreshold, derived: Derived, examples: int, seed: int,
               count: int) -> list[CheckResult]:
    results = _ms_symbolic(claim, derived)
    results.append(_ms_random_points(card, claim, derived, count, seed))
    with np.errstate(all="ignore"):
        results.append(_ms_operator_search(card, claim, examples, seed))
        results.append(_ms_mpmath(card, claim, count, seed))
    return results


def _equal_spectrum_numeric(card: Card, claim: Identity, examples: int, seed: int, count: int) -> list[CheckResult]:
    """The identity's value vs the numeric secular root on the spectrum (lam, ..., lam) (r times)."""
    target = card.claim(claim.arguments["of"])
    r = claim.arguments["multiplicity"]
    syms = _args_of(card, claim.value, derive_claim(card, claim).value, target.gain, target.mode_limit,
                    exclude=(target.param,))
    relations = [x for x in card.assumptions if x.free_symbols <= set(syms)]
    worst = 0.0
    pts = sample_points(syms, relations, count=count, seed=seed + 4, override=card.sample)
    for i, p in enumerate(pts):
        pf = {s: float(v) for s, v in p.items()}
        root = claim_value(card, target, pf, [pf[card.eigenvalue]] * int(pf[r]))
        v = claim_value(card, claim, pf)
        worst = max(worst, abs(root - v) / v)
        if worst > RTOL_ROOT:
            return [CheckResult("secular_root", False, f"numeric root {root:.15g} vs claimed {v:.15g} at {_fmt(pf)}",
                                claim.name, {"at": _named(pf), "claimed": v, "root": root}, examples=i + 1)]
    return [CheckResult("secular_root", True, f"numeric secular root on equal spectra = claim within {worst:.1e} "
                                              f"at {len(pts)} points", claim.name, examples=len(pts))]


def _nearest_zero_numeric(card: Card, claim: Identity, examples: int, seed: int, count: int) -> list[CheckResult]:
    """Argument principle: Z has no zero inside |tau| = 0.99 r and at least one inside 1.01 r; a
    50-digit complex root search from starts on |tau| = r finds a zero of modulus r."""
    Z, tau = claim.arguments["partition"], claim.arguments["variable"]
    syms = _args_of(card, claim.value, Z, exclude=(tau,))
    relations = [x for x in card.assumptions_for(claim) if x.free_symbols <= set(syms)]
    z_mp = compiled(Z, (tau, *syms), "mpmath")
    dz_mp = compiled(sp.diff(Z, tau), (tau, *syms), "mpmath")
    worst = mpmath.mpf(0)
    pts = sample_points(syms, relations, count=count, seed=seed + 5, override=card.sample)
    for i, p in enumerate(pts):
        pf = {s: float(v) for s, v in p.items()}
        args = [pf[s] for s in syms]
        r = claim_value(card, claim, pf)
        z_np = compiled(Z, (tau, *syms))
        dz_np = compiled(sp.diff(Z, tau), (tau, *syms))
        theta = np.linspace(0.0, 2 * np.pi, 8192, endpoint=False)

        def inside(radius):  # (1/2 pi i) contour integral of Z'/Z: trapezoidal rule, exponentially accurate
            t = radius * np.exp(1j * theta)
            return float(np.real(np.mean(dz_np(t, *args) / z_np(t, *args) * t)))

        n_in, n_out = round(inside(0.99 * r)), round(inside(1.01 * r))
        if n_in != 0 or n_out < 1:
            return [CheckResult("argument_principle", False, f"zeros inside 0.99 r: {n_in}, inside 1.01 r: {n_out} at "
                                f"{_fmt(pf)}", claim.name, {"at": _named(pf), "claimed": r}, examples=i + 1)]
        def guarded(t):  # a Newton step thrown far away: give up on that start (exp of huge |t| is slow)
            if abs(t) > 10 * r:
                raise ValueError("left the search disc")
            return z_mp(t, *args)

        with mpmath.workdps(MP_DIGITS):
            found = []
            for k in range(16):
                try:
                    found.append(mpmath.findroot(guarded,
                                                 mpmath.mpf(r) * mpmath.expj(2 * mpmath.pi * (k + 0.5) / 16),
                                                 solver="newton", df=lambda t: dz_mp(t, *args), maxsteps=60))
                except (ValueError, ZeroDivisionError, OverflowError):
                    continue
            nearest = min((abs(t) for t in found), default=None)
            r_mp = claim_value_mp(card, claim, pf)
            if nearest is None or abs(nearest - r_mp) / r_mp > RTOL_MP:
                return [CheckResult("complex_root_search", False, f"nearest zero found {nearest} vs claimed "
                                    f"{mpmath.nstr(r_mp, 20)} at {_fmt(pf)}", claim.name, examples=i + 1)]
            worst = max(worst, abs(nearest - r_mp) / r_mp)
    return [CheckResult("argument_principle", True, f"no zero of Z inside 0.99 r, one or more inside 1.01 r, at "
                                                    f"{len(pts)} points", claim.name, examples=len(pts)),
            CheckResult("complex_root_search", True, f"50-digit complex root search: nearest zero = claim within "
                                                     f"{mpmath.nstr(worst, 3)} at {len(pts)} points", claim.name,
                        examples=len(pts))]


# Numeric routes for named identity derivations (independent of the symbolic solve).
IDENTITY_NUMERICS: dict[str, Callable[..., list[CheckResult]]] = {
    "symmetric_two_cycle": _two_cycle_numeric,
    "equal_spectrum_root": _equal_spectrum_numeric,
    "nearest_complex_zero": _nearest_zero_numeric,
}


def _merge_topics() -> None:
    from numerics._models import topic_modules
    for topic in topic_modules():
        for name, fn in getattr(topic, "IDENTITY_NUMERICS", {}).items():
            if name in IDENTITY_NUMERICS and IDENTITY_NUMERICS[name] is not fn:
                raise RuntimeError(f"identity numeric route {name!r} is registered twice")
            IDENTITY_NUMERICS[name] = fn


# -- relations over a numeric model's quantities -------------------------------------------------

def _relation_sides(card: Card, claim: Relation, point: Mapping[sp.Symbol, float], data) -> tuple[float, float]:
    free = claim.lhs.free_symbols | claim.rhs.free_symbols
    values: dict[sp.Symbol, float] = {s: float(point[s]) for s in free if s in point}
    if card.model is not None and free & set(card.model.quantities):
        q = quantities(card, point, data)
        values.update({s: scalar(q, s.name) for s in card.model.quantities if s in free})
    args = sorted(free, key=lambda s: s.name)
    lhs = float(compiled(claim.lhs, args)(*[values[s] for s in args]))
    rhs = float(compiled(claim.rhs, args)(*[values[s] for s in args]))
    return lhs, rhs


def _relation_checks(card: Card, claim: Relation, examples: int, seed: int) -> list[CheckResult]:
    syms = list(card.parameters_of(claim))
    relations = [r for r in card.assumptions_for(claim) if r.free_symbols <= set(syms)]
    base = card_data(card) if card.model is not None else None
    use_instances = card.model is not None and card.model.instances and model_of(card).instances is not None

    def why_fails(sample) -> str | None:
        point, data = sample
        try:
            lhs, rhs = _relation_sides(card, claim, point, data)
        except (InputError, ValueError, ArithmeticError, np.linalg.LinAlgError) as exc:
            return f"the model failed: {exc}"
        if not relation_holds(lhs, claim.relation, rhs, claim.tol):
            return f"{claim.lhs} = {lhs:.12g} is not {claim.relation} {claim.rhs} = {rhs:.12g}"
        return None

    from hypothesis import strategies as st
    pts = point_strategy(card, syms, relations)
    strategy = st.tuples(pts, st.just(base))
    if use_instances:
        strategy = st.one_of(strategy, st.tuples(pts, model_of(card).instances(base)))
    with np.errstate(all="ignore"):
        search = _search(strategy, lambda smp: why_fails(smp) is not None, examples, seed,
                         math.inf if use_instances else _space(card, syms, relations))
    bad = search.found
    what = f"{claim.lhs} {claim.relation} {claim.rhs}"
    where = f" where {', '.join(map(str, claim.where))}" if claim.where else ""
    if bad is None:
        return [_no_counterexample("relation", "model_quantities", search, claim.name, f"{what}{where}",
                                   unit="hypothesis points" + (" (card instance and random instances of its family)"
                                                               if use_instances else ""))]
    point, data = bad
    inst = "" if data == base else f", instance {data}"
    return [CheckResult("relation", False, f"{why_fails(bad)} at {_fmt(point)}{inst} (shrunk)", claim.name,
                        {"at": _named(point), "data": data if data != base else None, "reason": why_fails(bad),
                         "check": "relation", "shrunk": True}, examples=search.valid)]


def _model_route_check(card: Card, count: int, seed: int) -> list[CheckResult]:
    """The model's quantities computed twice, by independent routes, at seeded points."""
    model = model_of(card)
    if model.independent is None:
        return []
    relations = list(card.assumptions)
    pts = sample_points(list(card.symbols), relations, count=count, seed=seed + 6, override=card.sample) \
        if card.symbols else [{}] * count
    data = card_data(card)
    compared: set[str] = set()
    for i, p in enumerate(pts):
        pf = {s: float(v) for s, v in p.items()}
        try:
            a = quantities(card, pf, data)
            b = quantities(card, pf, data, independent=True)
        except (InputError, ValueError, ArithmeticError, np.linalg.LinAlgError) as exc:
            return [CheckResult("independent_route", False, f"the model failed at {_fmt(pf)}: {exc}", examples=i)]
        for name, other in b.items():
            if name not in a:
                continue
            compared.add(name)
            if not agree(a[name], other, model.rtol):
                return [CheckResult("independent_route", False, f"{name}: {a[name]} vs independent {other} at "
                                    f"{_fmt(pf)}", "", {"at": _named(pf), name: a[name], "independent": other},
                                    examples=i + 1)]
    if not compared:
        return [CheckResult("independent_route", False, "inconclusive: the independent route computed none of the "
                            "model's quantities; not a pass", examples=0, inconclusive=True)]
    return [CheckResult("independent_route", True, f"{', '.join(sorted(compared))}: two independent computations "
                        f"agree to {model.rtol:g} at {len(pts)} seeded points", examples=len(pts))]


# -- bounds -------------------------------------------------------------------------------------

def _bound_checks(card: Card, claim: Bound, derived: Derived, examples: int, seed: int) -> list[CheckResult]:
    gap = sp.S(claim.value) - sp.S(derived.value) if claim.sense == "upper" else sp.S(derived.value) - sp.S(claim.value)
    gap = sp.factor(sp.simplify(gap))
    sign = gap.is_nonnegative
    word = "<=" if claim.sense == "upper" else ">="
    out = [CheckResult("symbolic_sign", sign, f"{claim.of} {word} {claim.value}: gap {gap} is "
                       f"{'provably >= 0' if sign else 'provably negative somewhere' if sign is False else 'undecided by SymPy'}",
                       claim.name)]
    syms = _args_of(card, claim.value, derived.value)
    relations = [r for r in card.assumptions if r.free_symbols <= set(syms)]
    of = card.claim(claim.of)

    def fails(p):
        q, b = claim_value(card, of, p, expr=derived.value), claim_value(card, claim, p)
        return not (q <= b * (1 + 1e-12) if claim.sense == "upper" else q >= b * (1 - 1e-12))

    search = _search(point_strategy(card, syms, relations), fails, examples, seed, _space(card, syms, relations))
    bad = search.found
    if bad is None:
        out.append(_no_counterexample("hypothesis_bound", "hypothesis_bound", search, claim.name,
                                      f"{claim.of} {word} bound"))
    else:
        out.append(CheckResult("hypothesis_bound", False, f"bound violated at {_fmt(bad)} (shrunk)", claim.name,
                               {"at": _named(bad), "bound": claim_value(card, claim, bad),
                                claim.of: claim_value(card, of, bad, expr=derived.value),
                                "check": "hypothesis_bound", "shrunk": True}, examples=search.valid))
    return out


def _ms_bound_checks(card: Card, claim: Bound, examples: int, seed: int) -> list[CheckResult]:
    """A spectral bound on a mean-square threshold: against the secular root, and against the exact
    operator (rho <= 1 at a lower bound, >= 1 at an upper bound): two independent routes."""
    target = card.claim(claim.of)
    word = "<=" if claim.sense == "upper" else ">="

    def why_fails(sample) -> str | None:
        spectrum, point, hseed = sample
        if not any(v > 0 for v in spectrum):
            return None
        root = claim_value(card, target, point, spectrum)
        bound = claim_value(card, claim, point, spectrum)
        ok = root <= bound * (1 + 1e-12) if claim.sense == "upper" else root >= bound * (1 - 1e-12)
        if not ok:
            return f"root {root:.12g} is not {word} bound {bound:.12g}"
        rho = _exact_map(card, target, bound, point, spectrum, hseed).spectral_radius()
        if (claim.sense == "upper" and rho < 1 - 1e-12) or (claim.sense == "lower" and rho > 1 + 1e-12):
            return f"exact operator rho = {rho:.12g} at the bound {bound:.12g}"
        return None

    with np.errstate(all="ignore"):
        search = _search(_ms_point_strategy(card, target), lambda smp: why_fails(smp) is not None, examples, seed)
    bad = search.found
    if bad is None:
        return [_no_counterexample("bound_vs_root_and_operator", "hypothesis_exact_operator", search, claim.name,
                                   f"{claim.of} {word} {claim.value} (secular root and exact-operator radius at the "
                                   f"bound)", unit="hypothesis spectra")]
    spectrum, point, _ = bad
    return [CheckResult("bound_vs_root_and_operator", False, f"{why_fails(bad)} for spectrum {spectrum} (shrunk)",
                        claim.name, {"at": {**_named(point), "spectrum": list(spectrum)}, "check": "bound",
                                     "shrunk": True}, examples=search.valid)]


# -- driver -------------------------------------------------------------------------------------

def routes_of(card: Card, claim: Claim) -> list[str]:
    """The routes (independent methods, ``CheckResult.route_label``) that check ``claim``, in order:
    what ``show`` prints so a reader sees which are independent before anything runs."""
    if isinstance(claim, Observed):
        return ["simulation"]
    if isinstance(claim, Relation):
        out = ["model_quantities"]
    elif isinstance(claim, Bound):
        out = ["hypothesis_exact_operator"] if isinstance(card.claim(claim.of), MeanSquareThreshold) \
            else ["symbolic", "hypothesis_bound"]
    elif isinstance(claim, MeanSquareThreshold):
        out = ["symbolic", "random_points", "hypothesis_exact_operator", "mpmath_root"]
    elif isinstance(claim, Threshold):
        out = ["symbolic", "random_points", "hypothesis_spectral", "mpmath_root"]
    elif claim.kind == "modified_flow":
        out = ["symbolic", "hypothesis_points", "quadratic_exact", "error_order"]
    elif claim.kind == "worst_case":
        from numerics._worst_case import routes as worst_case_routes
        out = worst_case_routes(claim)
    else:
        out = ["symbolic", "random_points", "hypothesis_points"]
        if isinstance(claim, Identity):
            _merge_topics()
            if claim.derivation in IDENTITY_NUMERICS:
                out.append(f"{claim.derivation} numeric route")
    return out  # (the card's simulation, where it has one, is a further route: see ``show``'s simulation line)


def check_claim(card: Card, claim: Claim, *, examples: int = 200, seed: int = 0, count: int = 8,
                budget: float | None = None, at: Mapping[str, float] | None = None) -> list[CheckResult]:
    """Every check of one claim; with ``budget`` (seconds) the symbolic derivation and the numeric
    checks each run under that wall-clock limit, and running out is a ``gave_up`` result."""
    started = time.perf_counter()
    try:
        with limit(budget):
            derived = None if isinstance(claim, (Observed, Relation)) else derive_claim(card, claim)
    except DerivationError as exc:
        return [CheckResult("derive", False, str(exc), claim.name)]
    except GaveUp as g:
        return [_gave_up(card, claim, g, _with_fixed(card, claim, at, budget))]
    finally:
        STAGE_SECONDS["derive"] += time.perf_counter() - started
    started = time.perf_counter()
    try:
        with limit(budget), stage(f"checking {claim.name}"):
            return _check_claim(card, claim, derived, examples=examples, seed=seed, count=count)
    except GaveUp as g:
        return [_gave_up(card, claim, g)]
    finally:
        STAGE_SECONDS["numeric"] += time.perf_counter() - started


def _gave_up(card: Card, claim: Claim, g: GaveUp, fixed: str = "") -> CheckResult:
    free = [s.name for s in card.parameters_of(claim) if s != card.eigenvalue and s != getattr(claim, "param", None)]
    advice = (f"fix a parameter (--at {free[0]}=0.5) or raise --budget" if free else "raise --budget")
    return CheckResult("gave_up", False, f"gave up after {g.seconds:g} s in {g.stage}: {fixed or advice}", claim.name,
                       {"gave_up": {"stage": g.stage, "seconds": g.seconds, "claim": claim.name}})


FIXED_BUDGET = 60.0  # seconds for the retry with the other parameters fixed (when no budget is given)


def fix_parameters(card: Card, values: Mapping[sp.Symbol, sp.Rational], claim: Claim | None = None) -> Card:
    """``card`` with ``values`` substituted (exactly) for those parameters, everywhere they occur;
    with ``claim``, reduced to that claim alone."""
    sub = dict(values)
    symbols = tuple(s for s in card.symbols if s not in sub)
    assumptions = tuple(a.subs(sub) for a in card.assumptions)
    if any(a in (sp.false, False) for a in assumptions):
        raise InputError(f"fixing {', '.join(f'{k}={float(v):g}' for k, v in sub.items())} violates the assumptions")
    assumptions = tuple(a for a in assumptions if a not in (sp.true, True))

    def fixed(c: Claim) -> Claim:
        if isinstance(c, MeanSquareThreshold):
            return replace(c, gain=c.gain.subs(sub), mode_limit=c.mode_limit.subs(sub))
        if isinstance(c, (Threshold, Bound, Identity)):
            extra = {"conditions": tuple(x.subs(sub) for x in c.conditions)} if isinstance(c, Identity) else {}
            return replace(c, value=sp.S(c.value).subs(sub), **extra)
        return c
    claims = (fixed(claim),) if claim is not None else tuple(fixed(c) for c in card.claims)
    est = card.estimator
    if est is not None:
        est = replace(est, at=est.at.subs(sub), n=sp.S(est.n).subs(sub))
    sim = card.simulation
    if sim is not None and claim is None:
        sim = replace(sim, at={k: v for k, v in sim.at.items() if k not in sub})
    return replace(card, symbols=symbols, assumptions=assumptions, update=tuple(e.subs(sub) for e in card.update),
                   claims=claims, estimator=est, simulation=None if claim is not None else sim,
                   spectral={k: v for k, v in card.spectral.items() if k not in sub},
                   compare_with="" if claim is not None else card.compare_with,
                   sample={k: v for k, v in card.sample.items() if k not in sub})


def _with_fixed(card: Card, claim: Claim, at: Mapping[str, float] | None, budget: float | None) -> str:
    """After a give-up: does the derivation finish with the other parameters fixed? Says so if it does."""
    if not isinstance(claim, (Threshold, MeanSquareThreshold)):
        return ""
    free = [s for s in card.symbols if s not in (card.eigenvalue, claim.param)
            and any(s in sp.S(e).free_symbols for e in card.update + ((card.estimator.at,) if card.estimator else ()))]
    if not free:
        return ""
    given = {s: sp.Rational(str(at[s.name])) for s in free if at and s.name in at}
    if len(given) < len(free):
        relations = [r for r in card.assumptions if r.free_symbols <= set(free)]
        point = sample_points(free, relations, count=1, seed=0, override=card.sample)[0]
        given = {s: given.get(s, sp.Rational(str(round(float(point[s]), 2)))) for s in free}
    try:
        reduced = fix_parameters(card, given, claim)
        with limit(budget or FIXED_BUDGET):
            value = derive_claim(reduced, reduced.claims[0]).value
    except (GaveUp, DerivationError, InputError, ValueError):
        names = ", ".join(f"{k.name}={float(v):g}" for k, v in given.items())
        args = " ".join(f"--at {k.name}={float(v):g}" for k, v in given.items())
        return f"it gives up with {names} fixed too ({args}); raise --budget or simplify the rule"
    args = " ".join(f"--at {k.name}={float(v):g}" for k, v in given.items())
    what = f"the per-mode gain of {claim.name}" if isinstance(claim, MeanSquareThreshold) else claim.name
    return (f"with {', '.join(f'{k.name}={float(v):g}' for k, v in given.items())} fixed it derives "
            f"{what} = {sp.sstr(sp.factor(value))} (rerun with {args}) or raise --budget")


def _check_claim(card: Card, claim: Claim, derived: Derived | None, *, examples: int, seed: int,
                 count: int) -> list[CheckResult]:
    if isinstance(claim, Observed):
        return [CheckResult("simulation", None, f"observed claim ({claim.statement}); measured by simulation",
                            claim.name)]
    if isinstance(claim, Relation):
        return _relation_checks(card, claim, examples, seed)
    if isinstance(claim, Bound):
        if isinstance(card.claim(claim.of), MeanSquareThreshold):
            return _ms_bound_checks(card, claim, examples, seed)
        return _bound_checks(card, claim, derived, examples, seed)
    if isinstance(claim, MeanSquareThreshold):
        return _ms_checks(card, claim, derived, examples, seed, count)
    if claim.kind == "modified_flow":
        from numerics._modified_flow import checks as modified_flow_checks
        return modified_flow_checks(card, claim, derived, examples, seed, count)
    if claim.kind == "worst_case":
        from numerics._worst_case import checks as worst_case_checks
        return worst_case_checks(card, claim, derived, examples, seed, count)
    results = [_symbolic(claim, derived), _random_points(card, claim, derived, count, seed)]
    with np.errstate(all="ignore"):
        if isinstance(claim, Threshold):
            results += _threshold_checks(card, claim, derived, examples, seed, count)
        elif isinstance(claim, Identity):
            results.append(_identity_search(card, claim, derived, examples, seed))
            _merge_topics()
            numeric = IDENTITY_NUMERICS.get(claim.derivation)
            if numeric is not None:
                try:
                    results += numeric(card, claim, examples, seed, count)
                except (KeyError, ValueError, ArithmeticError, np.linalg.LinAlgError, InputError) as exc:
                    # e.g. a claimed value without the parameters the route samples: the route cannot run,
                    # which counts against the claim (the symbolic and point checks say why)
                    results.append(CheckResult(f"{claim.derivation}_numeric", False,
                                               f"the numeric route could not run on this claim "
                                               f"({type(exc).__name__}: {exc})", claim.name))
    return results


def check(card: Card, *, examples: int = 200, seed: int = 0, count: int = 8, budget: float | None = None,
          at: Mapping[str, float] | None = None) -> CardReport:
    """Run every symbolic and numeric check of every claim of ``card`` (``budget``: seconds per stage).
    The report's ``extra["seconds"]`` holds the time spent deriving and checking numerically."""
    checks: list[CheckResult] = []
    STAGE_SECONDS.update(derive=0.0, numeric=0.0)
    for claim in card.claims:
        checks += check_claim(card, claim, examples=examples, seed=seed, count=count, budget=budget, at=at)
    if card.model is not None:
        started = time.perf_counter()
        checks += _model_route_check(card, count, seed)
        STAGE_SECONDS["numeric"] += time.perf_counter() - started
    return CardReport(card.id, tuple(checks), seed, examples, status=card.status,
                      extra={"seconds": {k: round(v, 3) for k, v in STAGE_SECONDS.items()}})


def with_claim(card: Card, name: str | None, value: sp.Expr) -> Card:
    """A copy of ``card`` whose claim ``name`` (default: the first with a value) states ``value``.
    A mean-square claim is addressed by its parts: ``NAME.gain`` or ``NAME.mode_limit``."""
    part = None
    if name is not None and "." in name:
        name, part = name.split(".", 1)
    candidates = [c for c in card.claims if not isinstance(c, (Observed, Relation))]
    if name is None:
        candidates = [c for c in candidates if not isinstance(c, MeanSquareThreshold)]
        if not candidates:
            raise InputError(f"card {card.id} has no claim with a single formula; name the claim "
                             f"(e.g. --claim '{card.claims[0].name}.gain=...' for a mean-square claim)")
        target = candidates[0]
    else:
        target = next((c for c in candidates if c.name == name), None)
        if target is None:
            raise InputError(f"card {card.id} has no claim {name!r} (claims: {', '.join(c.name for c in candidates)})")
    if isinstance(target, MeanSquareThreshold):
        if part not in ("gain", "mode_limit"):
            raise InputError(f"{target.name} is a mean-square threshold (the root of sum_i gain(lambda_i) = 1 below "
                             f"the mode limit): give --claim '{target.name}.gain=...' or '{target.name}.mode_limit=...'")
        if target.param in value.free_symbols and part == "mode_limit":
            raise InputError(f"the mode limit of {target.name} may not depend on {target.param.name}")
        new = replace(target, **{part: value})
    else:
        if part is not None:
            raise InputError(f"claim {target.name} has no part {part!r} (only mean-square claims have .gain/.mode_limit)")
        if isinstance(target, Threshold) and target.param in value.free_symbols:
            raise InputError(f"claim {target.name} may not depend on {target.param.name} (it is the threshold of it)")
        new = replace(target, value=value)
    return replace(card, claims=tuple(new if c is target else c for c in card.claims))
