"""A whitelist parser for formulas typed by users (``--claim``, conjecture files).

Grammar: expr := term (('+'|'-') term)*; term := unary (('*'|'/') unary)*;
unary := ('+'|'-') unary | power; power := atom (('^'|'**') unary)?;
atom := NUMBER | NAME | FUNC '(' expr (',' expr)* ')' | '(' expr ')'.
NAMEs must be the card's symbols or a constant below; nothing is ever evaluated as code.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from fractions import Fraction

import sympy as sp

from theory._budget import stage
from theory._errors import InputError

FUNCTIONS = {"sqrt": sp.sqrt, "exp": sp.exp, "log": sp.log, "abs": sp.Abs, "Abs": sp.Abs,
             "min": sp.Min, "max": sp.Max, "Min": sp.Min, "Max": sp.Max}
CONSTANTS = {"pi": sp.pi, "E": sp.E}
_TOKEN = re.compile(r"\s*(?:(\d+\.\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?|\d+(?:[eE][-+]?\d+)?)"
                    r"|([A-Za-z_][A-Za-z0-9_]*)|(\*\*|[-+*/^(),]))")
MAX_LENGTH = 500
MAX_DEPTH = 40          # nested parentheses / calls / unary signs
MAX_EXPONENT = 64       # |n| of a numeric exponent: larger powers cannot be simplified or evaluated in a budget
MAX_MAGNITUDE = 1e300   # numbers (literals and what they fold to) stay inside float64's range
MAX_OPS = 400           # operations in the parsed expression


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise InputError(f"unexpected character {text[pos:].lstrip()[:1]!r} in formula {text!r}")
        num, name, op = m.groups()
        tokens.append(("num", num) if num else ("name", name) if name else ("op", op))
        pos = m.end()
    return tokens


class _Parser:
    def __init__(self, text: str, names: Mapping[str, sp.Basic], functions: Mapping[str, object] | None = None):
        self.text, self.names = text, names
        self.functions = {**FUNCTIONS, **(functions or {})}
        self.tokens, self.i = _tokenize(text), 0
        self.depth = 0

    def deeper(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise InputError(f"formula nested deeper than {MAX_DEPTH} levels")

    def number(self, value: sp.Expr) -> sp.Expr:
        """Refuse numbers outside float64's range (a literal, or what a constant expression folds to)."""
        if value.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
            raise InputError(f"formula {self.text!r} is not finite ({value})")
        if value.is_Number and value != 0 and value.is_finite is not False:
            mag = abs(value)
            if mag > MAX_MAGNITUDE or mag < 1 / sp.Float(MAX_MAGNITUDE):
                raise InputError(f"number {sp.Float(value, 3)} in formula {self.text!r} is outside the range "
                                 f"1e-300 .. 1e300 that the numeric checks can represent")
        if value.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
            raise InputError(f"formula {self.text!r} is not finite ({value})")
        return value

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        tok = self.peek()
        if tok is None or (value is not None and tok[1] != value):
            want = repr(value) if value else "more input"
            raise InputError(f"expected {want} in formula {self.text!r}")
        self.i += 1
        return tok

    def parse(self) -> sp.Expr:
        if not self.tokens:
            raise InputError("empty formula")
        expr = self.expr()
        if self.peek() is not None:
            raise InputError(f"unexpected {self.peek()[1]!r} in formula {self.text!r}")
        if expr.has(sp.I):
            raise InputError(f"formula {self.text!r} is not real: it is {expr}")
        if sp.count_ops(expr) > MAX_OPS:
            raise InputError(f"formula {self.text!r} has more than {MAX_OPS} operations")
        return expr

    def expr(self) -> sp.Expr:
        out = self.term()
        while self.peek() in (("op", "+"), ("op", "-")):
            op = self.take()[1]
            rhs = self.term()
            out = self.number(out + rhs if op == "+" else out - rhs)
        return out

    def term(self) -> sp.Expr:
        out = self.unary()
        while self.peek() in (("op", "*"), ("op", "/")):
            op = self.take()[1]
            rhs = self.unary()
            if op == "/" and rhs == 0:
                raise InputError(f"division by zero in formula {self.text!r}")
            out = self.number(out * rhs if op == "*" else out / rhs)
        return out

    def unary(self) -> sp.Expr:
        if self.peek() in (("op", "+"), ("op", "-")):
            op = self.take()[1]
            self.deeper()
            inner = self.unary()
            self.depth -= 1
            return inner if op == "+" else -inner
        return self.power()

    def power(self) -> sp.Expr:
        base = self.atom()
        if self.peek() in (("op", "^"), ("op", "**")):
            self.take()
            self.deeper()
            exponent = self.unary()
            self.depth -= 1
            if exponent.is_Number and abs(exponent) > MAX_EXPONENT:
                raise InputError(f"exponent {exponent if abs(exponent) < 10**12 else sp.Float(exponent, 3)} in formula "
                                 f"{self.text!r} is larger than {MAX_EXPONENT}")
            if base == 0 and exponent.is_Number and exponent < 0:
                raise InputError(f"division by zero in formula {self.text!r}")
            return self.number(base ** exponent)
        return base

    def atom(self) -> sp.Expr:
        kind, value = self.take()
        if kind == "num":
            if len(value) > 40:
                raise InputError(f"number {value[:20]}... in formula {self.text!r} has more than 40 characters")
            exp = re.search(r"[eE]([-+]?\d+)$", value)
            if exp and abs(int(exp.group(1))) > 400:
                raise InputError(f"number {value} in formula {self.text!r} is outside the range 1e-300 .. 1e300")
            return self.number(sp.Rational(Fraction(value).numerator, Fraction(value).denominator))
        if kind == "name":
            if value in self.functions:
                self.take("(")
                self.deeper()
                args = [self.expr()]
                while self.peek() == ("op", ","):
                    self.take()
                    args.append(self.expr())
                self.take(")")
                self.depth -= 1
                try:
                    return self.number(self.functions[value](*args))
                except (TypeError, ValueError) as exc:
                    raise InputError(f"{value}(...) in formula {self.text!r}: {exc}") from None
            if value in self.names:
                return self.names[value]
            if value in CONSTANTS:
                return CONSTANTS[value]
            allowed = ", ".join(sorted(self.names)) or "none"
            raise InputError(f"unknown name {value!r} in formula {self.text!r} (allowed: {allowed})")
        if value == "(":
            self.deeper()
            inner = self.expr()
            self.take(")")
            self.depth -= 1
            return inner
        raise InputError(f"unexpected {value!r} in formula {self.text!r}")


def parse_formula(text: str, names: Mapping[str, sp.Basic], functions: Mapping[str, object] | None = None) -> sp.Expr:
    """Parse ``text`` into a SymPy expression over ``names`` (a whitelist); ``functions`` adds
    callables by name (the update-rule oracle: grad, precond, norm, sign)."""
    if len(text) > MAX_LENGTH:
        raise InputError(f"formula longer than {MAX_LENGTH} characters")
    if "\x00" in text:
        raise InputError("formula contains a NUL character")
    with stage("parsing the formula"):
        return _Parser(text, names, functions).parse()


def parse_claim(text: str, names: Mapping[str, sp.Basic]) -> tuple[str | None, sp.Expr]:
    """``'eta_crit = 2*(1+beta)/lambda'`` -> ('eta_crit', expr); a bare formula -> (None, expr).
    A claim's name may have one dotted part (``eta_crit.gain`` addresses a mean-square claim's gain)."""
    if text.count("=") > 1:
        raise InputError(f"claim {text!r} has more than one '='")
    if "=" in text:
        name, formula = (part.strip() for part in text.split("="))
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?", name):
            raise InputError(f"claim name {name!r} is not an identifier")
        return name, parse_formula(formula, names)
    return None, parse_formula(text, names)
