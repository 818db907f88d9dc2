"""Spectral radius of a card's iteration matrix, and the root of rho(param) = 1."""
from __future__ import annotations

from collections.abc import Mapping

import mpmath
import numpy as np
import sympy as sp
from scipy.optimize import brentq

from numerics._compile import MP_DIGITS, compiled
from theory import Card
from theory.derive import iteration_matrix


_MATRICES: dict[tuple, sp.Matrix] = {}


def matrix_of(card: Card) -> sp.Matrix:
    """The card's iteration matrix (Jacobian of its update map), cached per map."""
    key = (card.state, card.mode_update, tuple(card.branch.items()))
    if key not in _MATRICES:
        _MATRICES[key] = sp.ImmutableMatrix(iteration_matrix(card.state, card.mode_update, card.branch))
    return _MATRICES[key]


def _args(card: Card, matrix: sp.Matrix, param: sp.Symbol) -> tuple[sp.Symbol, ...]:
    return (param,) + tuple(s for s in card.symbols if s in matrix.free_symbols and s != param)


def spectral_radius(card: Card, param: sp.Symbol, value: float, point: Mapping[sp.Symbol, float]) -> float:
    """max |eig| of the card's iteration matrix at ``point`` with ``param = value`` (float64)."""
    matrix = matrix_of(card)
    args = _args(card, matrix, param)
    m = np.asarray(compiled(matrix, args)(value, *[point[s] for s in args[1:]]), dtype=float)
    return float(np.max(np.abs(np.linalg.eigvals(np.atleast_2d(m)))))


def spectral_radius_mp(card: Card, param: sp.Symbol, value, point: Mapping[sp.Symbol, object]):
    """The same at ``MP_DIGITS`` digits (mpmath eigenvalues)."""
    matrix = matrix_of(card)
    args = _args(card, matrix, param)
    with mpmath.workdps(MP_DIGITS):
        m = mpmath.matrix(compiled(matrix, args, "mpmath")(mpmath.mpf(value), *[mpmath.mpf(point[s]) for s in args[1:]]))
        if m.rows == 1:
            return abs(m[0, 0])
        eigs = mpmath.eig(m, left=False, right=False)
        return max(abs(e) for e in eigs)


def critical_by_brentq(card: Card, param: sp.Symbol, point: Mapping[sp.Symbol, float],
                       lo: float, hi: float) -> float:
    """Root of rho(param) - 1 in [lo, hi] (raises ValueError without a sign change)."""
    return brentq(lambda v: spectral_radius(card, param, v, point) - 1.0, lo, hi,
                  xtol=1e-300, rtol=4 * np.finfo(float).eps, maxiter=400)


def critical_by_findroot_mp(card: Card, param: sp.Symbol, point: Mapping[sp.Symbol, float], start):
    """Root of rho(param) - 1 near ``start`` at ``MP_DIGITS`` digits (secant iteration)."""
    with mpmath.workdps(MP_DIGITS):
        return mpmath.findroot(lambda v: spectral_radius_mp(card, param, v, point) - 1, mpmath.mpf(start),
                               tol=mpmath.mpf(10) ** (-2 * MP_DIGITS + 10))
