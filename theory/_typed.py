"""A method typed on the command line: state, update rule, swept parameter, assumptions (pure SymPy).

``--state 'x, x_prev' --update 'x - eta*grad(x) + beta*(x - x_prev); x' --param eta`` becomes a
``Card``: one expression per state variable, in order, separated by ``;``. ``grad(.)`` is the
gradient oracle (``precond``, ``norm`` and ``sign`` too), ``lambda`` the Hessian eigenvalue of the
per-mode analysis, the swept parameter is positive, and any other name is a real parameter
(``--assume`` adds relations such as ``beta < 1`` or ``-1 < gamma < 1``). Every text goes through
the whitelist parser; nothing is evaluated as code.
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import sympy as sp

from theory._card import Card, Simulation, Source, Threshold
from theory._errors import CardError, InputError
from theory._oracle import ORACLE
from theory._parse import CONSTANTS, FUNCTIONS, parse_formula

EIGENVALUE = "lambda"
DEFAULT_SPECTRUM = (4.0, 1.0, 0.25)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_RELATION = re.compile(r"(<=|>=|<|>)")
RESERVED = set(FUNCTIONS) | set(CONSTANTS) | set(ORACLE)
MAX_STATE = 6


@dataclass(frozen=True)
class TypedRule:
    state: tuple[sp.Symbol, ...]
    update: tuple[sp.Expr, ...]
    param: sp.Symbol
    eigenvalue: sp.Symbol
    symbols: tuple[sp.Symbol, ...]          # the swept parameter first, the eigenvalue last
    assumptions: tuple[sp.Basic, ...]

    @property
    def names(self) -> dict[str, sp.Symbol]:
        return {s.name: s for s in self.symbols}

    def claim_name(self) -> str:
        return f"{self.param.name}_crit"

    def card(self, *, card_id: str, claim: tuple[str | None, sp.Expr] | None = None,
             at: Mapping[str, float] | None = None, spectrum: Sequence[float] | None = None) -> Card:
        """The rule as a conjecture card; without ``claim`` the value is a placeholder (derive only)."""
        name, value = claim if claim is not None else (None, sp.Integer(1))
        name = name or self.claim_name()
        if self.param in sp.S(value).free_symbols:
            raise InputError(f"claim {name} may not depend on {self.param} (it is the threshold of it)")
        at = dict(at or {})
        sim = None
        if claim is not None:
            bind = {self.names[k]: v for k, v in at.items() if k in self.names and k not in (EIGENVALUE, self.param.name)}
            spec = (at[EIGENVALUE],) if EIGENVALUE in at else tuple(spectrum or DEFAULT_SPECTRUM)
            sim = Simulation(at=bind, spectrum=spec, steps=3000, seeds=4)
        try:
            return Card(id=card_id, title="typed update rule", symbols=self.symbols, state=self.state, update=self.update,
                        assumptions=self.assumptions, eigenvalue=self.eigenvalue,
                        claims=(Threshold(name, param=self.param, value=value),),
                        source=Source("typed on the command line"), simulation=sim, status="conjecture")
        except CardError as exc:
            raise InputError(str(exc).replace(f"card {card_id!r}: ", "")) from None


def _names_in(text: str) -> list[str]:
    return list(dict.fromkeys(_NAME.findall(re.sub(r"\d+\.?\d*(?:[eE][-+]?\d+)?", " ", text))))


def split_list(text: str, sep: str, what: str) -> list[str]:
    parts = [p.strip() for p in text.split(sep)]
    if any(not p for p in parts):
        raise InputError(f"{what} {text!r} has an empty entry (entries are separated by {sep!r})")
    return parts


def parse_relations(text: str, names: Mapping[str, sp.Basic]) -> list[sp.Basic]:
    """``'beta < 1'``, ``'0 <= beta'``, ``'-1 < gamma < 1'`` (a chain) -> SymPy relations."""
    pieces = _RELATION.split(text)
    if len(pieces) < 3 or len(pieces) % 2 == 0:
        raise InputError(f"--assume {text!r}: expected a relation such as 'beta < 1' or '-1 < gamma < 1'")
    exprs = [parse_formula(p.strip(), names) for p in pieces[0::2]]
    ops = pieces[1::2]
    make = {"<": sp.StrictLessThan, "<=": sp.LessThan, ">": sp.StrictGreaterThan, ">=": sp.GreaterThan}
    out = []
    for (a, b), op in zip(zip(exprs, exprs[1:]), ops):
        rel = make[op](a, b)
        if rel in (sp.true, sp.false) or not rel.free_symbols:
            raise InputError(f"--assume {text!r}: {a} {op} {b} involves no parameter")
        out.append(rel)
    return out


def parse_rule(state: str, update: str, param: str, assume: Sequence[str] = (),
               extra_names: Sequence[str] = ()) -> TypedRule:
    """The typed method: every name in the update that is not a state variable, an oracle function,
    a function or a constant is a parameter; ``lambda`` is the eigenvalue."""
    state_names = split_list(state, ",", "--state")
    if len(state_names) > MAX_STATE:
        raise InputError(f"--state has {len(state_names)} variables; at most {MAX_STATE}")
    for n in state_names:
        if not _NAME.fullmatch(n) or n in RESERVED or n == EIGENVALUE:
            raise InputError(f"--state: {n!r} is not a usable variable name")
    if len(set(state_names)) != len(state_names):
        raise InputError(f"--state {state!r} names a variable twice")
    exprs = split_list(update, ";", "--update")
    if len(exprs) != len(state_names):
        raise InputError(f"--update has {len(exprs)} expressions for {len(state_names)} state variables "
                         f"({', '.join(state_names)}); separate them with ';'")
    if not _NAME.fullmatch(param) or param in RESERVED or param in state_names or param == EIGENVALUE:
        raise InputError(f"--param {param!r} must name a parameter of the rule (not a state variable or lambda)")
    texts = list(exprs) + list(assume) + list(extra_names)
    found = [n for t in texts for n in _names_in(t)]
    params = [n for n in dict.fromkeys(found) if n not in RESERVED and n not in state_names and n != EIGENVALUE]
    if param not in params:
        raise InputError(f"--param {param}: the update rule does not use {param}")
    if len(params) > 12:
        raise InputError("the rule has more than 12 parameters")
    lam = sp.Symbol(EIGENVALUE, positive=True)
    p_sym = sp.Symbol(param, positive=True)
    others = [sp.Symbol(n, real=True) for n in params if n != param]
    st = tuple(sp.Symbol(n, real=True) for n in state_names)
    names = {s.name: s for s in (*st, p_sym, *others)}
    names[EIGENVALUE] = lam
    upd = tuple(parse_formula(e, names, ORACLE) for e in exprs)
    if not any(sp.S(e).atoms(ORACLE["grad"]) for e in upd) and not any(lam in e.free_symbols for e in upd):
        raise InputError("the update never queries the gradient: write grad(.) where the method takes a gradient")
    rel_names = {s.name: s for s in (p_sym, *others, lam)}
    assumptions = tuple(r for text in assume for r in parse_relations(text, rel_names))
    for r in assumptions:
        if r.free_symbols & set(st):
            raise InputError(f"--assume {r}: relations are between parameters, not state variables")
    return TypedRule(st, upd, p_sym, lam, (p_sym, *others, lam), assumptions)
