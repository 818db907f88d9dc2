"""Symbolic engines: every claimed closed form is *computed* here from the card's update rule.

``derive(card)`` returns, per claim, the engine's expression and its evidence; the numeric
layer then compares it with the claimed value.
"""
from __future__ import annotations

from collections.abc import Callable

import sympy as sp

from theory import _diskcache
from theory._budget import stage
from theory._card import (Bound, Card, Claim, Identity, MeanSquareThreshold, ModifiedFlow, Observed, Relation,
                          Threshold)
from theory._errors import DerivationError
from theory.derive._base import Derived
from theory.derive.cycles import symmetric_two_cycle
from theory.derive.linear import (ThresholdDerivation, characteristic_polynomial, critical_threshold,
                                  is_schur_stable, schur_conditions)
from theory.derive.maps import iteration_matrix
from theory.derive.singularities import nearest_complex_zero
from theory.derive.mean_square import ModeOperator, equal_spectrum_root, mode_gain, mode_limit, mode_operator

__all__ = ["Derived", "derive", "derive_claim", "DERIVATIONS", "iteration_matrix", "characteristic_polynomial",
           "schur_conditions", "critical_threshold", "is_schur_stable", "symmetric_two_cycle"]


def _two_cycle(card: Card, claim: Identity) -> Derived:
    if not card.state:
        raise DerivationError(f"card {card.id!r}: symmetric_two_cycle needs an update map (state/update)")
    return Derived(claim.name, "symmetric_two_cycle", symmetric_two_cycle(card.state, card.mode_update))


def card_mode_operator(card: Card) -> ModeOperator:
    """The per-mode second-moment operator of a card with an estimator."""
    est = card.estimator
    if est is None or card.eigenvalue is None:
        raise DerivationError(f"card {card.id!r}: mean-square analysis needs an estimator and an eigenvalue")
    return mode_operator(card.state, card.mode_update, est.symbol, est.at, card.eigenvalue,
                         directions=est.directions, n=est.n, d=est.dim)


def _mean_square(card: Card, claim: MeanSquareThreshold) -> Derived:
    with stage("second-moment operator"):
        op = card_mode_operator(card)
    others = [s for s in card.symbols if s in op.D.free_symbols and s != claim.param]
    assumptions = [a for a in card.assumptions if a.free_symbols <= set(others)]
    with stage("mode limit (Schur-Cohn on D)"):
        limit = mode_limit(op, claim.param, others, assumptions, sample=dict(card.sample))
    with stage("mode gain w (I - D)^-1 c"):
        gain = mode_gain(op)
    return Derived(claim.name, "second_moment_operator", gain,
                   {"mode_limit": limit, "D": op.D, "c": op.c, "w": op.w, "moments": op.moments,
                    "kappa_self": op.kappa_self, "kappa_coupling": op.kappa_coupling})


def _equal_spectrum(card: Card, claim: Identity) -> Derived:
    target = card.claim(claim.arguments["of"])
    if not isinstance(target, MeanSquareThreshold):
        raise DerivationError(f"card {card.id!r}: equal_spectrum_root needs a mean-square claim")
    ms = derive_claim(card, target)
    root = equal_spectrum_root(ms.value, target.param, claim.arguments["multiplicity"], ms.details["mode_limit"])
    return Derived(claim.name, "equal_spectrum_root", root, {"of": target.name})


def _nearest_zero(card: Card, claim: Identity) -> Derived:
    args = claim.arguments
    if "partition" not in args or "variable" not in args:
        raise DerivationError(f"card {card.id!r}: nearest_complex_zero needs arguments partition= and variable=")
    return Derived(claim.name, "nearest_complex_zero", nearest_complex_zero(args["partition"], args["variable"]),
                   {"partition": args["partition"]})


# Named derivations an Identity claim may ask for. Each takes (card, claim) -> Derived.
DERIVATIONS: dict[str, Callable[[Card, Identity], Derived]] = {
    "symmetric_two_cycle": _two_cycle,
    "equal_spectrum_root": _equal_spectrum,
    "nearest_complex_zero": _nearest_zero,
}
# Topic modules add their own derivations: every module of this package with a ``DERIVATIONS`` dict
# (signature above) is found by name, so a new topic is one new file.
def _discover() -> None:
    import importlib
    import pkgutil
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        topic = importlib.import_module(f"{__name__}.{info.name}")
        for name, fn in getattr(topic, "DERIVATIONS", {}).items():
            if name in DERIVATIONS and DERIVATIONS[name] is not fn:
                raise DerivationError(f"derivation {name!r} is registered twice")
            DERIVATIONS[name] = fn


_discover()

_CACHE: dict[tuple, Derived] = {}


def _threshold(card: Card, claim: Threshold) -> Derived:
    with stage("iteration matrix"):
        matrix = iteration_matrix(card.state, card.mode_update, card.branch)
    others = [s for s in card.symbols if s in matrix.free_symbols and s != claim.param]
    assumptions = [a for a in card.assumptions if a.free_symbols <= set(others)]
    result: ThresholdDerivation = critical_threshold(
        matrix, claim.param, others=others, assumptions=assumptions, sample=dict(card.sample))
    return Derived(claim.name, "schur_cohn", result.value,
                   {"matrix": matrix, "polynomial": result.polynomial, "conditions": result.conditions,
                    "candidates": result.candidates, "boundary": result.boundary})


MODIFIED_FLOW_DIMENSION = 2  # the generic loss lives on R^2: enough to tell H^2 g from T[g, g] and to test curl


def _modified_flow(card: Card, claim: ModifiedFlow) -> Derived:
    """Backward error analysis of the card's own update rule, compared with the claim order by order."""
    from theory.derive import modified_flow as bea
    with stage("modified flow: the recursion"):
        mf = bea.modified_field(card.state, card.update, claim.step, claim.order, tuple(claim.small),
                                d=claim.dimension or MODIFIED_FLOW_DIMENSION)
    x = card.state[0]
    with stage("modified flow: the claim in the same vocabulary"):
        claimed = bea.claimed_field(claim, x, mf)
    with stage("modified flow: derived - claimed, simplified"):
        agrees = [all(sp.simplify(a - b) == 0 for a, b in zip(mf.field[k], claimed[k])) for k in range(claim.order + 1)]
    with stage("modified flow: gradient fields and the modified loss"):
        gradient = [bea.curl_free(f, mf.coords) for f in mf.field]
        fitted = bea.fit_loss(mf, x) if all(gradient) else None
    with stage("modified flow: the one-dimensional form"):
        one_d = bea.modified_field(card.state, card.update, claim.step, claim.order, tuple(claim.small), d=1)
        display = bea.one_dimensional(one_d.field, one_d.coords, one_d.L, one_d.batches)
    value = None
    if fitted is not None:
        speed, modified = fitted
        probe = ModifiedFlow(claim.name, claim.step, loss=modified, speed=speed, order=claim.order)
        value = probe.value
    return Derived(claim.name, "backward_error_analysis", value,
                   {"field": mf.field, "claimed": claimed, "agrees": agrees, "gradient": gradient,
                    "speed": fitted[0] if fitted else None, "loss": fitted[1] if fitted else None,
                    "one_dimensional": display, "coords": mf.coords, "L": mf.L, "slow": mf.slow,
                    "batches": mf.batches})


def derive_claim(card: Card, claim: Claim) -> Derived:
    """Derive one claim's quantity from the card's data (cached on the map, not on the claim value)."""
    if claim.kind == "worst_case":  # cheap, and it reads the claim's schedule, which the cache keys omit
        from theory.derive.worst_case import derive_worst_case
        with stage(f"deriving {claim.name}"):
            return derive_worst_case(card, claim)
    key = (card.id, card.state, card.mode_update, tuple(card.branch.items()), card.assumptions, card.estimator,
           claim.name, claim.kind, getattr(claim, "param", None), getattr(claim, "of", None),
           getattr(claim, "derivation", None), tuple(getattr(claim, "arguments", {}).items()),
           _diskcache._flow_claim(claim))
    if key in _CACHE:
        return _CACHE[key]
    disk_key = _diskcache.key(card, claim)
    out = _diskcache.load(disk_key)
    if not isinstance(out, Derived):
        with stage(f"deriving {claim.name}"):
            out = _derive_uncached(card, claim)
        _diskcache.store(disk_key, out)
    _CACHE[key] = out
    return out


def _derive_uncached(card: Card, claim: Claim) -> Derived:
    if isinstance(claim, Threshold):
        out = _threshold(card, claim)
    elif isinstance(claim, MeanSquareThreshold):
        out = _mean_square(card, claim)
    elif isinstance(claim, Identity):
        if claim.derivation not in DERIVATIONS:
            raise DerivationError(f"card {card.id!r}: unknown derivation {claim.derivation!r}; "
                                  f"known: {', '.join(sorted(DERIVATIONS))}")
        out = DERIVATIONS[claim.derivation](card, claim)
    elif isinstance(claim, Bound):
        inner = derive_claim(card, card.claim(claim.of))
        out = Derived(claim.name, f"bound on {claim.of}", inner.value, {"of": claim.of})
    elif isinstance(claim, ModifiedFlow):
        out = _modified_flow(card, claim)
    elif isinstance(claim, Observed):
        out = Derived(claim.name, "simulation only", None)
    elif isinstance(claim, Relation):
        out = Derived(claim.name, f"numeric model {card.model.name}" if card.model is not None else "relation", None)
    else:  # pragma: no cover - Card validation rejects other kinds
        raise DerivationError(f"unknown claim kind {claim!r}")
    return out


def derive(card: Card) -> dict[str, Derived]:
    """Derive every claim of ``card``."""
    return {c.name: derive_claim(card, c) for c in card.claims}
