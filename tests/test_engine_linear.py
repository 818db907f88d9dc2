"""The Schur-Cohn engine: conditions vs numeric root moduli for any degree; thresholds vs brentq."""
from __future__ import annotations

import random

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from theory import DerivationError
from theory.derive import characteristic_polynomial, critical_threshold, schur_conditions
from theory.derive.linear import Z

from guard_checks import assert_boundary_labels, assert_piecewise_guard, assert_show_labels

coefficient = st.floats(-2.0, 2.0, allow_nan=False).map(lambda v: round(v, 3))


@given(st.lists(coefficient, min_size=1, max_size=6))
def test_schur_conditions_agree_with_root_moduli(coeffs):
    """Monic z^n + c_{n-1} z^{n-1} + ... + c_0: stable iff every root has modulus < 1."""
    exact = [sp.Rational(str(c)) for c in coeffs]
    poly = sp.Poly([1, *exact], Z)
    conds = schur_conditions(poly)
    assert len(conds) == len(coeffs)
    by_conditions = all(c > 0 for c in conds)
    radius = max(abs(np.roots([1.0, *coeffs])))
    if abs(radius - 1) > 1e-9:  # exactly on the circle: both say "not strictly stable" anyway
        assert by_conditions == (radius < 1)


def _cayley_hurwitz_stable(coeffs: list[sp.Rational]) -> bool:
    """An independent stability test of P(z) = coeffs[0] z^n + ... + coeffs[n] (exact): the Cayley map
    z = (1 + s)/(1 - s) takes the open unit disc to the open left half-plane, so P is Schur stable iff
    Q(s) = (1 - s)^n P((1 + s)/(1 - s)) has degree n and is Hurwitz: every leading principal minor of its
    Hurwitz matrix is > 0 (Routh-Hurwitz). No Schur-Cohn recursion, no root finding."""
    z, s = sp.symbols("z s")
    n = len(coeffs) - 1
    P = sum(c * z ** (n - i) for i, c in enumerate(coeffs))
    if P.subs(z, 1) == 0 or P.subs(z, -1) == 0:  # a root on the circle
        return False
    q = sp.Poly(sp.cancel((1 - s) ** n * P.subs(z, (1 + s) / (1 - s))), s).all_coeffs()
    assert len(q) == n + 1  # leading coefficient (-1)^n P(-1) != 0
    if q[0] < 0:
        q = [-c for c in q]
    H = sp.Matrix(n, n, lambda i, j: q[2 * j - i + 1] if 0 <= 2 * j - i + 1 <= n else 0)
    return all(H[:k, :k].det() > 0 for k in range(1, n + 1))


def _engine_stable(coeffs: list[sp.Rational]) -> bool:
    return all(c > 0 for c in schur_conditions(sp.Poly(coeffs, Z)))


def test_cayley_hurwitz_reference_on_known_polynomials():
    half = sp.Rational(1, 2)
    assert _cayley_hurwitz_stable([1, -half])              # z - 1/2
    assert not _cayley_hurwitz_stable([1, 2])              # z + 2
    assert not _cayley_hurwitz_stable([1, 0, 1])           # z^2 + 1: roots on the circle
    assert _cayley_hurwitz_stable([1, 0, half**2])         # roots +- i/2
    assert not _cayley_hurwitz_stable([1, -3, 2])          # roots 1, 2


def _from_roots(rng: random.Random) -> tuple[list[sp.Rational], bool]:
    """A real polynomial built from random rational real roots and complex pairs; whether every root
    lies strictly inside the unit circle is known exactly from the roots."""
    z = sp.Symbol("z")
    degree, factors, inside = rng.randint(1, 6), [], True
    while sum(sp.degree(f, z) for f in factors) < degree:
        if degree - sum(sp.degree(f, z) for f in factors) >= 2 and rng.random() < 0.5:
            a, b = (sp.Rational(rng.randint(-120, 120), 100) for _ in range(2))
            factors.append(z**2 - 2 * a * z + a**2 + b**2)
            inside &= a**2 + b**2 < 1
        else:
            r = sp.Rational(rng.randint(-125, 125), 100)
            factors.append(z - r)
            inside &= abs(r) < 1
    return sp.Poly(sp.Mul(*factors), z).all_coeffs(), bool(inside)


def test_schur_conditions_against_roots_and_cayley_hurwitz():
    """Replaces the SymPy comparison (no released SymPy has Poly.schur_conditions): the engine's
    conditions against the exact root moduli and against the Cayley-map Routh-Hurwitz test, on
    polynomials inside and outside the stability region."""
    rng = random.Random(0)
    verdicts = []
    for _ in range(160):
        coeffs, inside = _from_roots(rng)
        assert _engine_stable(coeffs) == inside, coeffs
        assert _cayley_hurwitz_stable(coeffs) == inside, coeffs
        verdicts.append(inside)
    assert sum(verdicts) >= 30 and len(verdicts) - sum(verdicts) >= 30  # both sides exercised


@given(st.lists(st.integers(-40, 40), min_size=1, max_size=5), st.integers(1, 40))
def test_schur_conditions_agree_with_cayley_hurwitz(numerators, lead):
    """Random exact coefficients (roots on the circle included: both tests say 'not stable' there)."""
    coeffs = [sp.Integer(lead)] + [sp.Rational(v, 20) for v in numerators]
    assert _engine_stable(coeffs) == _cayley_hurwitz_stable(coeffs)


def test_schur_conditions_with_symbols_bound_the_stability_triangle():
    """z^2 + a1 z + a0 is stable iff |a0| < 1 and |a1| < 1 + a0; the engine's symbolic conditions,
    evaluated at random points, agree with the triangle and with Cayley-Hurwitz."""
    a0, a1 = sp.symbols("a0 a1", real=True)
    conds = schur_conditions(sp.Poly(Z**2 + a1 * Z + a0, Z))
    rng = random.Random(1)
    hits = [0, 0]
    for _ in range(200):
        p = {a0: sp.Rational(rng.randint(-150, 150), 100), a1: sp.Rational(rng.randint(-250, 250), 100)}
        ours = all(c.subs(p) > 0 for c in conds)
        triangle = abs(p[a0]) < 1 and abs(p[a1]) < 1 + p[a0]
        assert ours == triangle == _cayley_hurwitz_stable([1, p[a1], p[a0]]), p
        hits[ours] += 1
    assert min(hits) >= 40


def test_characteristic_polynomial_is_monic_det():
    m = sp.Matrix([[1, 2], [3, 4]])
    assert characteristic_polynomial(m).as_expr() == sp.expand(Z**2 - 5 * Z - 2)


def _brentq_threshold(matrix, param, point, hi=100.0):
    from scipy.optimize import brentq
    f = sp.lambdify(param, matrix.subs(point), "numpy")
    rho = lambda v: max(abs(np.linalg.eigvals(np.array(f(v), dtype=float)))) - 1  # noqa: E731
    grid = np.linspace(1e-6, hi, 20001)
    vals = [rho(v) for v in grid]
    i = next(k for k, r in enumerate(vals) if r > 0 and k > 0)
    return brentq(rho, grid[i - 1], grid[i], xtol=1e-14)


def test_degree_three_map_threshold_matches_brentq():
    """A three-state method (momentum with one extra delayed gradient term) exercises degree 3."""
    eta, lam = sp.symbols("eta lambda", positive=True)
    beta = sp.Rational(1, 2)
    x, x1, x2 = sp.symbols("x x1 x2", real=True)
    # x+ = x - eta*lam*(x + x1)/2 + beta (x - x1) ... averaged-gradient heavy ball
    upd = sp.Matrix([x - eta * lam * (x + x1) / 2 + beta * (x - x1) + sp.Rational(1, 10) * (x1 - x2), x, x1])
    m = upd.jacobian([x, x1, x2])
    res = critical_threshold(m, eta, others=[lam])
    assert characteristic_polynomial(m).degree() == 3
    for lam_v in (0.5, 2.0):
        numeric = _brentq_threshold(m, eta, {lam: lam_v})
        assert abs(float(res.value.subs(lam, lam_v)) - numeric) < 1e-9 * numeric


def test_complex_pair_boundary_is_found():
    """x+ = a x - b x_prev with b = eta: the complex pair crosses |z| = 1 at eta = 1."""
    eta = sp.Symbol("eta", positive=True)
    m = sp.Matrix([[sp.Rational(1, 2), -eta], [1, 0]])
    res = critical_threshold(m, eta, others=[])
    assert res.value == 1 and "complex" in res.boundary


def test_never_unstable_gives_infinity():
    eta = sp.Symbol("eta", positive=True)
    m = sp.Matrix([[1 / (1 + eta)]])
    assert critical_threshold(m, eta, others=[]).value == sp.oo


def test_unstable_near_zero_is_an_error():
    eta = sp.Symbol("eta", positive=True)
    with pytest.raises(DerivationError, match="unstable for small"):
        critical_threshold(sp.Matrix([[2 + eta]]), eta, others=[])


def test_piecewise_threshold_is_reported_not_guessed():
    """A genuinely piecewise map: diag(1 - eta lambda, 1 - eta mu) has eta* = 2 / max(lambda, mu);
    the branch-change guard must name it piecewise (and each side alone is a threshold)."""
    assert_piecewise_guard()


def test_never_stable_region_is_reported_as_piecewise():
    """Heavy ball without beta < 1: for beta > 1 no step size is stable, while 2(1 + beta)/lambda
    is positive there; the engine must say the answer changes over the range, not return one branch."""
    eta, lam = sp.symbols("eta lambda", positive=True)
    beta = sp.Symbol("beta", positive=True)
    m = sp.Matrix([[1 + beta - eta * lam, -beta], [1, 0]])
    with pytest.raises(DerivationError, match="piecewise") as err:
        critical_threshold(m, eta, others=[beta, lam], points=12, sample={beta: (0.1, 3.0)})
    assert f"unstable for every {eta} > 0" in str(err.value) and "beta=1" in str(err.value), err.value


def test_first_boundary_labels_name_the_root_that_crosses():
    """The z = -1 / z = 1 labels (``show``'s 'first boundary crossed') against numpy's eigenvalues
    just above the threshold: a swap of the labels fails here."""
    assert_boundary_labels()


def test_show_prints_the_first_boundary_of_gd():
    from optverify.render import show
    from theory import get
    assert_show_labels()
    text = show(get("gd.quadratic.critical_step"))
    assert "checked by (independent routes): symbolic, random_points, hypothesis_spectral, mpmath_root" in text


def test_nearest_complex_zero_of_a_partition_function():
    from theory.derive.singularities import nearest_complex_zero
    tau = sp.Symbol("tau")
    delta = sp.Symbol("delta", real=True)
    da = sp.Symbol("Delta_a", positive=True)
    r = nearest_complex_zero(1 + sp.exp(-(delta + da * tau)), tau)
    assert sp.simplify(r - sp.sqrt(delta**2 + sp.pi**2) / da) == 0
    # a polynomial partition function: zeros -1 +- 2i -> nearest |tau| = sqrt(5)
    assert nearest_complex_zero(tau**2 + 2 * tau + 5, tau) == sp.sqrt(5)
