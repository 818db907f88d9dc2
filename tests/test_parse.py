"""The claim parser is a whitelist: formulas over the card's names, never code."""
from __future__ import annotations

import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from theory import InputError, parse_claim, parse_formula

eta, lam, beta = sp.symbols("eta lambda beta", positive=True)
NAMES = {"eta": eta, "lambda": lam, "beta": beta}


@pytest.mark.parametrize(("text", "expected"), [
    ("2*(1+beta)/lambda", 2 * (1 + beta) / lam),
    ("2*(1 + beta) / lambda", 2 * (1 + beta) / lam),
    ("lambda^2 + lambda**3", lam**2 + lam**3),
    ("-2/lambda", -2 / lam),
    ("sqrt(beta) + exp(0) + log(lambda)", sp.sqrt(beta) + 1 + sp.log(lam)),
    ("0.5*beta + 1e-3", beta / 2 + sp.Rational(1, 1000)),
    ("max(beta, 1/lambda)", sp.Max(beta, 1 / lam)),
    ("2*pi", 2 * sp.pi),
    ("2^-1", sp.Rational(1, 2)),
])
def test_valid_formulas(text, expected):
    assert sp.simplify(parse_formula(text, NAMES) - expected) == 0


@pytest.mark.parametrize(("text", "token"), [
    ("2 (1+beta)", "("), ("2(1+beta)/lambda", "("), ("(1+beta)(1-beta)", "("), ("2 beta", "beta"),
    ("2beta", "beta"), ("beta lambda", "lambda"), ("2 pi", "pi"), ("beta(1)", "("),
])
def test_implicit_multiplication_is_a_clear_error(text, token):
    """The parser never guesses a product: juxtaposition is rejected, naming the token it stopped at
    (never read as 2*beta, and never as a call of beta)."""
    with pytest.raises(InputError) as info:
        parse_formula(text, NAMES)
    message = str(info.value)
    assert message == f"unexpected {token!r} in formula {text!r}"
    # written with its operator, the same product is accepted
    explicit = {"2 (1+beta)": ("2*(1+beta)", 2 * (1 + beta)), "2 beta": ("2*beta", 2 * beta),
                "beta lambda": ("beta*lambda", beta * lam), "2 pi": ("2*pi", 2 * sp.pi)}
    if text in explicit:
        formula, value = explicit[text]
        assert sp.simplify(parse_formula(formula, NAMES) - value) == 0


def test_claims_with_and_without_a_name():
    assert parse_claim("eta_crit = 2/lambda", NAMES) == ("eta_crit", 2 / lam)
    assert parse_claim("2/lambda", NAMES) == (None, 2 / lam)


@pytest.mark.parametrize("text", [
    "__import__('os').system('true')", "eta.__class__", "lambda x: x", "os", "open", "beta[0]",
    "2*(1+beta", "2*/beta", "", "1/0", "eta_crit = a = b", "beta; 1", "'2'", "3 beta",
    "sympify('1')", "exec", "eval(1)",
])
def test_rejected(text):
    with pytest.raises(InputError):
        parse_claim(text, NAMES)


@given(st.text(max_size=40))
def test_arbitrary_text_is_parsed_or_rejected_never_run(text):
    try:
        name, expr = parse_claim(text, NAMES)
    except InputError:
        return
    assert isinstance(expr, sp.Basic)
    assert expr.free_symbols <= set(NAMES.values())
