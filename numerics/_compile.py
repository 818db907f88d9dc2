"""Cached lambdify of card expressions to numpy and mpmath."""
from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import sympy as sp

MP_DIGITS = 50


@lru_cache(maxsize=None)
def _lambdify(args: tuple[sp.Symbol, ...], expr: sp.Basic, module: str):
    return sp.lambdify(args, expr, module)


def compiled(expr: sp.Basic, args: Sequence[sp.Symbol], module: str = "numpy"):
    """A cached numeric callable of ``expr`` over ``args`` (``module``: numpy or mpmath). A finite
    ``Sum`` (e.g. over the steps of a schedule) runs as its own loop: its bounds are taken as
    integers, so an integral float argument (n = 8.0) is passed as 8."""
    expr = sp.S(expr)
    if module == "numpy" and expr.has(sp.Sum):
        fn = _lambdify(tuple(args), expr, "math")

        def with_integer_bounds(*values):
            return fn(*[int(v) if isinstance(v, float) and v.is_integer() else v for v in values])
        return with_integer_bounds
    return _lambdify(tuple(args), expr, module)
