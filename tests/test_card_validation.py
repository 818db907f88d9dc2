"""A malformed card fails when it is built, naming its id and field (the diffrax lesson)."""
from __future__ import annotations

import pytest
import sympy as sp

from theory import Bound, Card, CardError, Identity, Observed, Simulation, Source, Threshold

eta, lam = sp.symbols("eta lambda", positive=True)
beta = sp.Symbol("beta", nonnegative=True)
x = sp.Symbol("x", real=True)
SRC = Source("2103.00065")


def make(**over):
    fields = dict(id="gd.quadratic.critical_step", title="t", symbols=(eta, lam), state=(x,),
                  update=(x - eta * lam * x,), claims=(Threshold("eta_crit", eta, 2 / lam),), source=SRC)
    fields.update(over)
    return Card(**fields)


def test_a_good_card_builds():
    assert make().kinds == ("threshold",)


@pytest.mark.parametrize(("over", "message"), [
    ({"id": "GD quadratic"}, "method.setting.quantity"),
    ({"id": "gd"}, "method.setting.quantity"),
    ({"id": "gd..quadratic"}, "method.setting.quantity"),
    ({"update": (x - eta * beta * x,)}, "undeclared symbol"),
    ({"claims": (Threshold("eta_crit", eta, 2 / (lam * beta)),)}, "undeclared symbol"),
    ({"claims": (Threshold("eta_crit", eta, 2 / (lam * eta)),)}, "depends on its own parameter"),
    ({"claims": ()}, "no claims"),
    ({"claims": (Threshold("a", eta, 2 / lam), Threshold("a", eta, 1 / lam))}, "unique"),
    ({"claims": (Observed("bounded", "stays bounded"),)}, "needs a simulation"),
    ({"claims": (Threshold("a", eta, 2 / lam), Bound("b", "zzz", 2 / lam))}, "unknown claim"),
    ({"update": (x, x)}, "2 expressions for 1 state"),
    ({"assumptions": (beta,)}, "not a relation"),
    ({"symbols": (eta, lam), "assumptions": (beta < 1,)}, "undeclared"),
    ({"status": "proved"}, "status"),
    ({"simulation": Simulation("gd", at={lam: -1.0})}, "must be positive"),
    ({"simulation": Simulation("gd"), "eigenvalue": lam}, "spectrum"),
    ({"simulation": Simulation("gd", spectrum=(1.0, -2.0)), "eigenvalue": lam}, "positive"),
    ({"simulation": Simulation("not a name!", spectrum=(1.0,)), "eigenvalue": lam}, "identifier"),
])
def test_bad_cards_fail_at_construction(over, message):
    with pytest.raises(CardError, match=message):
        make(**over)


def test_simulation_binding_that_violates_an_assumption():
    with pytest.raises(CardError, match="beta < 1"):
        make(symbols=(eta, beta, lam), assumptions=(beta < 1,),
             update=(x - eta * lam * x + beta * 0,),
             simulation=Simulation("gd", at={beta: 1.5}, spectrum=(1.0,)), eigenvalue=lam)


def test_identity_without_the_data_its_derivation_needs_fails_to_derive():
    from theory import DerivationError
    from theory.derive import derive
    card = make(state=(), update=(), claims=(Identity("a", eta, "symmetric_two_cycle"),))
    with pytest.raises(DerivationError, match="needs an update map"):
        derive(card)
