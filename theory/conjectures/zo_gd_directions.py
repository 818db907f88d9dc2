"""Zeroth-order GD with n averaged directions, Gaussian or uniform on the sphere: mean-square step.

Setting:   g_hat = (1/n) sum_j (u_j^T H x) u_j with n i.i.d. directions per step, u ~ N(0, I_d)
           ('gaussian') or uniform on the sphere of radius sqrt(d) ('sphere', the common
           d (f(x + mu v) - f(x - mu v)) / (2 mu) v estimator with unit v).
Claim:     with a = E[U_ii^2] - E[U_ik^2] and b = E[U_ik^2] (Gaussian: a = 1 + 1/n, b = 1/n;
           sphere: a = (n - 1)/n + 2 d / (n (d + 2)), b = d / (n (d + 2))), eta* solves
           sum_i b eta lambda_i / (2 - a eta lambda_i) = 1 below 1 / (a lambda_max) ... written out
           per law below. n -> infinity recovers first-order GD's 2 / lambda_max.
Status:    an extension beyond the paper (its Theorem 1 is the Gaussian n = 1 case), so it stays a
           conjecture card: no published statement backs it. The suite derives the gains from the
           direction moments and checks them against the exact operator and by Monte Carlo; the
           bounds card below is the research notes' own derivation ([D]), checked the same way.
Reference: extends Song et al., arXiv:2604.14669, Theorem 1.
"""
import sympy as sp

from theory.cards._spectra import ZO_SPECTRUM
from theory import Bound, Card, Estimator, MeanSquareThreshold, Simulation, Source

eta, lam = sp.symbols("eta lambda", positive=True)
n = sp.Symbol("n", positive=True, integer=True)
d = sp.Symbol("d", positive=True, integer=True)
x, g = sp.symbols("x g", real=True)
tr, lmax = sp.symbols("Tr_H lambda_max", positive=True)

CARDS = (
    Card(
        id="zo_gd.quadratic.ms_critical_step_n_gaussian",
        title="ZO-GD, n Gaussian directions per step: mean-square critical step size",
        symbols=(eta, lam, n),
        state=(x,),
        update=(x - eta * g,),
        estimator=Estimator(g, at=x, directions="gaussian", n=n),
        eigenvalue=lam,
        claims=(MeanSquareThreshold("eta_crit", param=eta, gain=eta * lam / (2 * n - (n + 1) * eta * lam),
                                    mode_limit=2 * n / ((n + 1) * lam)),),
        source=Source("2604.14669", "extension of Theorem 1 (n directions)", "this suite"),
        simulation=Simulation(at={n: 4}, spectrum=ZO_SPECTRUM,
                              factors=(0.9, 1.1), steps=150, seeds=2000),
        status="conjecture",
    ),
    Card(
        id="zo_gd.quadratic.ms_critical_step_sphere",
        title="ZO-GD, n directions uniform on the sphere of radius sqrt(d): mean-square critical step size",
        symbols=(eta, lam, n, d),
        state=(x,),
        update=(x - eta * g,),
        estimator=Estimator(g, at=x, directions="sphere", n=n, dim=d),
        eigenvalue=lam,
        spectral={d: "dim"},
        claims=(MeanSquareThreshold(
            "eta_crit", param=eta,
            gain=d * eta * lam / (n * (d + 2) * (2 - eta * lam) - (d - 2) * eta * lam),
            mode_limit=2 * n * (d + 2) / ((n * (d + 2) + d - 2) * lam)),),
        source=Source("2604.14669", "extension of Theorem 1 (sphere directions)", "this suite"),
        simulation=Simulation(at={n: 1}, spectrum=ZO_SPECTRUM,
                              factors=(0.9, 1.1), steps=150, seeds=2000),
        status="conjecture",
        notes="d is the problem's dimension: it is read from the spectrum (zero eigenvalues included).",
    ),
    Card(
        id="zo_gd.quadratic.ms_bounds_n_gaussian",
        title="ZO-GD, n Gaussian directions: trace and lambda_max bounds on the mean-square step",
        symbols=(eta, lam, n, tr, lmax),
        state=(x,),
        update=(x - eta * g,),
        estimator=Estimator(g, at=x, directions="gaussian", n=n),
        eigenvalue=lam,
        spectral={tr: "trace", lmax: "max"},
        claims=(MeanSquareThreshold("eta_crit", param=eta, gain=eta * lam / (2 * n - (n + 1) * eta * lam),
                                    mode_limit=2 * n / ((n + 1) * lam)),
                Bound("lower", of="eta_crit", value=2 * n / (tr + (n + 1) * lmax), sense="lower"),
                Bound("upper", of="eta_crit", value=2 * n / tr, sense="upper")),
        source=Source("2604.14669", "extension of Theorem 1 (bounds with n directions)", "research notes [D]"),
        simulation=Simulation(at={n: 4}, spectrum=ZO_SPECTRUM, factors=(0.9, 1.1), steps=150, seeds=2000),
        status="conjecture",
    ),
)
