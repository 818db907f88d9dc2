"""The on-disk derivation cache: keyed by what a derivation reads, bypassed by --fresh, never stale."""
from __future__ import annotations

from dataclasses import replace

import sympy as sp

import theory.derive as derive_mod
from theory import _diskcache, get
from theory.derive import derive_claim


def _fresh_memory():
    derive_mod._CACHE.clear()


def test_warm_reads_the_same_derivation(tmp_path, monkeypatch):
    monkeypatch.setenv("OPTVERIFY_CACHE", str(tmp_path))
    card = get("heavy_ball.quadratic.critical_step")
    claim = card.claims[0]
    _fresh_memory()
    cold = derive_claim(card, claim)
    assert len(list(tmp_path.glob("*.pickle"))) == 1
    _fresh_memory()
    calls = []
    monkeypatch.setattr(derive_mod, "_derive_uncached", lambda *a: calls.append(a))
    warm = derive_claim(card, claim)
    assert not calls and sp.simplify(warm.value - cold.value) == 0 and warm.engine == cold.engine


def test_the_key_changes_with_the_rule_the_assumptions_and_the_engine(monkeypatch):
    card = get("heavy_ball.quadratic.critical_step")
    claim = card.claims[0]
    base = _diskcache.key(card, claim)
    beta = card.symbol("beta")
    x, x_prev = card.state
    assert _diskcache.key(replace(card, update=(card.update[0] + beta * x, x_prev)), claim) != base
    assert _diskcache.key(replace(card, assumptions=(beta < sp.Rational(99, 100),)), claim) != base
    # the claimed value is not an input of the derivation: the same key
    assert _diskcache.key(replace(card, claims=(replace(claim, value=1 / card.eigenvalue),)), claim) == base
    monkeypatch.setattr(_diskcache, "engine_version", lambda: "another engine")
    assert _diskcache.key(card, claim) != base


def test_fresh_bypasses_reads_and_off_disables(tmp_path, monkeypatch):
    monkeypatch.setenv("OPTVERIFY_CACHE", str(tmp_path))
    card = get("gd.quadratic.critical_step")
    k = _diskcache.key(card, card.claims[0])
    _diskcache.store(k, "value")
    assert _diskcache.load(k) == "value"
    _diskcache.fresh(True)
    try:
        assert _diskcache.load(k) is None
    finally:
        _diskcache.fresh(False)
    monkeypatch.setenv("OPTVERIFY_CACHE", "off")
    assert _diskcache.load(k) is None
    (tmp_path / f"{k}.pickle").write_bytes(b"torn")  # a damaged entry is a miss, not an error
    monkeypatch.setenv("OPTVERIFY_CACHE", str(tmp_path))
    assert _diskcache.load(k) is None
