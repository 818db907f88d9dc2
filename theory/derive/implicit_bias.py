"""Symbolic derivations for implicit bias (max margin, per-sample Adam fixed point, Adam as FTRL,
perceptron limit). Pure SymPy.

Each entry of ``DERIVATIONS`` maps a name that an ``Identity`` claim may give as ``derivation`` to
a function ``(card, claim) -> Derived`` (see ``theory.derive._base``):

- ``adam_discounted_ftrl``: runs the card's Adam map (state incl. the increment variable) on a symbolic
  gradient sequence g_1..g_T and returns the last increment w_T - w_{T-1}.
- ``incremental_adam_proxy_limit``: the periodic steady state of the card's Adam moment recursions
  under a cyclic sequence of frozen per-sample gradients, the epoch's summed increment, and its limit
  beta2 -> 1.
- ``logistic_gd_perceptron_limit``: the card's logistic-GD map at step gamma, rescaled x = gamma u,
  divided by gamma, and the limit gamma -> oo computed on each sign of the margin z u.
- ``gr_metric_isotropic``: the per-sample-Adam metric M(lambda)_k = (sum_i lambda_i^2 x_ik^2)^(1/2) on a
  symbolic GR dataset x_ik = c_i s_ik (s_ik = +-1); every coordinate gives the same value, i.e.
  M(lambda) is a multiple of the identity (so the dual fixed point is the l2 SVM dual).
"""
from __future__ import annotations

import sympy as sp

from theory._card import Card, Identity
from theory._errors import DerivationError
from theory.derive._base import Derived


def _arg(card: Card, claim: Identity, name: str):
    if name not in claim.arguments:
        raise DerivationError(f"card {card.id!r}: derivation {claim.derivation} needs argument {name}=")
    return claim.arguments[name]


def _state_map(card: Card, claim: Identity):
    if not card.state:
        raise DerivationError(f"card {card.id!r}: {claim.derivation} needs the update map (state/update)")
    subs = dict(claim.arguments.get("substitute", ()))
    return card.state, tuple(sp.S(e).subs(subs) for e in card.mode_update)


def _adam_discounted_ftrl(card: Card, claim: Identity) -> Derived:
    g, seq, w = _arg(card, claim, "gradient"), _arg(card, claim, "sequence"), _arg(card, claim, "increment")
    state, update = _state_map(card, claim)
    if w not in state:
        raise DerivationError(f"card {card.id!r}: increment {w} is not a state variable")
    start = {s: sp.Integer(0) for s in state}
    start.update({s: sp.S(v) for s, v in claim.arguments.get("start", ())})
    current = dict(start)
    step = None
    for gt in seq:
        nxt = {s: sp.S(f).subs({**current, g: gt}, simultaneous=True) for s, f in zip(state, update)}
        step = nxt[w] - current[w]
        current = nxt
    if step is None:
        raise DerivationError(f"card {card.id!r}: the gradient sequence is empty")
    return Derived(claim.name, "adam_recursion_on_symbolic_gradients", sp.factor(step),
                   {"steps": len(seq), "moments": {str(s): current[s] for s in state if s != w}})


def _incremental_proxy(card: Card, claim: Identity) -> Derived:
    g, seq, w = _arg(card, claim, "gradient"), _arg(card, claim, "sequence"), _arg(card, claim, "increment")
    beta, at = _arg(card, claim, "limit")
    state, update = _state_map(card, claim)
    moments = [s for s in state if s != w]
    # periodic steady state of the (linear) moment recursions over one epoch of frozen gradients
    start = {s: sp.Symbol(f"{s.name}_start") for s in moments}
    current = dict(start)
    for gt in seq:
        current = {s: sp.expand(sp.S(update[state.index(s)]).subs({**current, g: gt}, simultaneous=True))
                   for s in moments}
    solved = sp.solve([sp.Eq(current[s], start[s]) for s in moments], list(start.values()), dict=True)
    if len(solved) != 1:
        raise DerivationError(f"card {card.id!r}: no unique periodic steady state of the moments")
    current = {s: sp.factor(solved[0][start[s]]) for s in moments}
    total = sp.Integer(0)
    for gt in seq:   # the epoch's summed increment along the periodic orbit
        env = {**current, w: sp.Integer(0), g: gt}
        total += sp.S(update[state.index(w)]).subs(env, simultaneous=True)
        current = {s: sp.factor(sp.S(update[state.index(s)]).subs(env, simultaneous=True)) for s in moments}
    value = sp.limit(total, beta, at, "-") if at == 1 else sp.limit(total, beta, at)
    return Derived(claim.name, "periodic_moments_then_limit", sp.simplify(value), {"epoch_update": total})


def _perceptron_limit(card: Card, claim: Identity) -> Derived:
    gamma, u, margin = _arg(card, claim, "step"), _arg(card, claim, "point"), _arg(card, claim, "margin")
    if len(card.state) != 1:
        raise DerivationError(f"card {card.id!r}: the perceptron limit needs a one-variable GD map")
    (x,), (f,) = card.state, card.mode_update
    rescaled = sp.expand(f.subs(x, gamma * u) / gamma)
    s = sp.Symbol("s_margin")
    pieces = {}
    for sign, sym in (("neg", sp.Symbol("s_neg", negative=True)), ("pos", sp.Symbol("s_pos", positive=True)),
                      ("zero", sp.Integer(0))):
        # write the map through the margin m = margin(u): replace the margin's occurrences, then take the limit
        expr = rescaled.subs(margin, s).subs(s, sym)
        pieces[sign] = sp.limit(expr, gamma, sp.oo)
        if gamma in pieces[sign].free_symbols or pieces[sign].has(sp.oo, -sp.oo, sp.nan):
            raise DerivationError(f"card {card.id!r}: no finite limit on the {sign} branch")
    m = margin
    value = pieces["pos"] + (pieces["neg"] - pieces["pos"]) * sp.Heaviside(-m, sp.S.Half) \
        if sp.simplify(pieces["zero"] - (pieces["neg"] + pieces["pos"]) / 2) == 0 else None
    if value is None:
        raise DerivationError(f"card {card.id!r}: the tie branch is not the midpoint of the two sides")
    return Derived(claim.name, "rescaled_limit_by_margin_sign", sp.simplify(value), pieces)


def _gr_metric(card: Card, claim: Identity) -> Derived:
    lam, c = _arg(card, claim, "weights"), _arg(card, claim, "scales")
    d = int(_arg(card, claim, "dims"))
    if len(lam) != len(c):
        raise DerivationError(f"card {card.id!r}: weights and scales differ in length")
    signs = [[sp.Symbol(f"s_{i}_{k}", real=True) for k in range(d)] for i in range(len(c))]
    X = [[c[i] * signs[i][k] for k in range(d)] for i in range(len(c))]
    unit = {s: 1 for row in signs for s in row}   # s_ik in {-1, +1}: s_ik^2 = 1
    metric = [sp.sqrt(sum(lam[i] ** 2 * sp.expand(X[i][k] ** 2).subs({s**2: 1 for s in unit}) for i in range(len(c))))
              for k in range(d)]
    if any(sp.simplify(mk - metric[0]) != 0 for mk in metric[1:]):
        raise DerivationError(f"card {card.id!r}: the metric is not isotropic on this data")
    return Derived(claim.name, "gr_metric_substitution", metric[0], {"metric": metric})


DERIVATIONS: dict = {
    "adam_discounted_ftrl": _adam_discounted_ftrl,
    "incremental_adam_proxy_limit": _incremental_proxy,
    "logistic_gd_perceptron_limit": _perceptron_limit,
    "gr_metric_isotropic": _gr_metric,
}
