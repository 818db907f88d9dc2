"""An on-disk cache of derivations, keyed by what a derivation reads (pure stdlib + SymPy).

The key hashes the card's structure (symbols with their assumptions, state, update, branch,
assumptions, estimator, eigenvalue, spectral symbols, sample ranges, model data, and every
claim's kind, parameter, derivation and arguments, never a claimed value), the claim's name,
the engine's version (a hash of every source file of ``theory/``) and SymPy's version. A stale
entry cannot be read: any change to the card, the engines or SymPy changes the key.

Location: ``$OPTVERIFY_CACHE`` (``off`` disables it), else ``~/.cache/optverify/derive``.
``fresh()`` makes lookups miss for the rest of the process (results are still written).
"""
from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from functools import lru_cache
from pathlib import Path

import sympy as sp

_FRESH = False


def fresh(value: bool = True) -> None:
    """Bypass cached derivations (``check --fresh``)."""
    global _FRESH
    _FRESH = value


def directory() -> Path | None:
    where = os.environ.get("OPTVERIFY_CACHE", "")
    if where.lower() == "off":
        return None
    return Path(where) if where else Path.home() / ".cache" / "optverify" / "derive"


@lru_cache(maxsize=1)
def engine_version() -> str:
    """A hash of every source file of the theory layer (its engines, parser, oracle, cards' types)."""
    root = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        if "cards" in path.relative_to(root).parts[:1] or "conjectures" in path.relative_to(root).parts[:1]:
            continue  # a card's content is in the key itself
        h.update(path.relative_to(root).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def _r(obj) -> str:
    if isinstance(obj, sp.Basic):
        return sp.srepr(obj)
    if isinstance(obj, dict) or hasattr(obj, "items"):
        return "{" + ",".join(f"{_r(k)}:{_r(v)}" for k, v in sorted(obj.items(), key=lambda kv: _r(kv[0]))) + "}"
    if isinstance(obj, (tuple, list)):
        return "(" + ",".join(_r(o) for o in obj) + ")"
    return repr(obj)


def _flow_claim(c) -> tuple:
    """What a modified-flow derivation also depends on: the claim's own field or loss (compared in the engine)."""
    if getattr(c, "kind", "") != "modified_flow":
        return ()
    return (c.step, c.claimed, c.speed, c.order, tuple(c.small.items()), c.dimension)


def key(card, claim) -> str:
    claims = tuple((c.name, c.kind, getattr(c, "param", None), getattr(c, "of", None), getattr(c, "derivation", None),
                    getattr(c, "arguments", {}), getattr(c, "conditions", ()), _flow_claim(c)) for c in card.claims)
    model = (card.model.name, card.model.data, card.model.quantities) if card.model is not None else None
    est = card.estimator
    est_r = (est.symbol, est.at, est.directions, est.n, est.dim, est.preconditioned) if est is not None else None
    text = _r((card.id, card.symbols, card.state, card.update, card.branch, card.assumptions, est_r, card.eigenvalue,
               card.spectral, card.sample, model, claims, claim.name, engine_version(), sp.__version__))
    return hashlib.sha256(text.encode()).hexdigest()


def load(k: str):
    d = directory()
    if d is None or _FRESH:
        return None
    path = d / f"{k}.pickle"
    try:
        with path.open("rb") as f:
            return pickle.load(f)  # written by store() below, under a content hash: our own data
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError, TypeError):
        return None


def store(k: str, value) -> None:
    d = directory()
    if d is None:
        return
    try:
        d.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=d, suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            pickle.dump(value, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, d / f"{k}.pickle")  # atomic: parallel workers never see half a file
    except (OSError, pickle.PicklingError, TypeError, AttributeError, RecursionError):
        try:
            os.unlink(tmp)  # noqa: F821 - defined once mkstemp succeeded
        except (OSError, NameError):
            pass
