"""Nearest complex singularity of log Z(tau): the radius of convergence of a loss's Taylor series
in the step size tau is the distance from 0 to the nearest complex zero of the partition
function Z (pure SymPy)."""
from __future__ import annotations

import sympy as sp

from theory._errors import DerivationError


def solution_families(expr: sp.Expr, var: sp.Symbol, domain=sp.S.Complexes) -> tuple[list, list]:
    """SymPy's solution set of ``expr = 0`` split into (finite solutions, integer-indexed families);
    a family is a ``Lambda`` n -> f(n) over the integers. Other sets are a DerivationError."""
    sols = sp.solveset(expr, var, domain=domain)
    finite, families = [], []
    for part in (list(sols.args) if isinstance(sols, sp.Union) else [sols]):
        if isinstance(part, sp.FiniteSet):
            finite += list(part)
        elif isinstance(part, sp.ImageSet) and part.base_sets == (sp.S.Integers,):
            families.append(part.lamda)
        else:
            raise DerivationError(f"solution set {part} of {expr} is not supported")
    return finite, families


def nearest_complex_zero(partition: sp.Expr, tau: sp.Symbol) -> sp.Expr:
    """min |tau| over the complex zeros of ``partition``, for zero sets that SymPy returns as
    finite sets or integer-indexed families (tau_n = f(n), |f(n)|^2 quadratic in n)."""
    finite, families = solution_families(partition, tau)
    candidates: list[sp.Expr] = [sp.sqrt(sp.expand(sp.re(z) ** 2 + sp.im(z) ** 2)) for z in finite]
    for lam in families:
        n = sp.Symbol("n_index", real=True)
        f = lam.expr.subs(lam.variables[0], n)
        mod2 = sp.expand(sp.re(f) ** 2 + sp.im(f) ** 2)
        stationary = sp.solve(sp.diff(mod2, n), n)
        if len(stationary) != 1 or not stationary[0].is_number:
            raise DerivationError(f"cannot locate the nearest member of the zero family {lam}")
        n0 = stationary[0]
        for k in {sp.floor(n0), sp.ceiling(n0)}:
            candidates.append(sp.sqrt(sp.factor(mod2.subs(n, k))))
    distinct = []
    for c in candidates:
        if not any(sp.simplify(c - d) == 0 for d in distinct):
            distinct.append(c)
    if len(distinct) != 1:
        raise DerivationError(f"the nearest zero depends on the parameters: candidates {distinct}")
    return sp.simplify(distinct[0])
