"""Zeroth-order GD on a quadratic: trace / lambda_max bounds on the mean-square critical step.

Setting:   as zo_gd.quadratic.ms_critical_step (Gaussian two-point estimator, one direction).
Claim:     2 / (Tr H + 2 lambda_max) <= eta* <= 2 / Tr H (the ZO threshold depends on the whole
           spectrum; equivalently the edge-of-stability band Tr H <= 2/eta <= Tr H + 2 lambda_max).
Reference: Song et al., "Zeroth-Order Optimization at the Edge of Stability", arXiv:2604.14669,
           Theorem 1 (bounds; Eqs. 16-17 in the independent reproduction's numbering).
"""
import sympy as sp

from theory import Bound, Card, Estimator, MeanSquareThreshold, Simulation, Source
from theory.cards._spectra import ZO_SPECTRUM

eta, lam = sp.symbols("eta lambda", positive=True)
tr, lmax = sp.symbols("Tr_H lambda_max", positive=True)
x, g = sp.symbols("x g", real=True)

CARD = Card(
    id="zo_gd.quadratic.ms_bounds",
    title="ZO-GD on a quadratic: trace and lambda_max bounds on the mean-square threshold",
    symbols=(eta, lam, tr, lmax),
    state=(x,),
    update=(x - eta * g,),
    estimator=Estimator(g, at=x, directions="gaussian"),
    eigenvalue=lam,
    spectral={tr: "trace", lmax: "max"},
    claims=(
        MeanSquareThreshold("eta_crit", param=eta, gain=eta * lam / (2 * (1 - eta * lam)), mode_limit=1 / lam),
        Bound("lower", of="eta_crit", value=2 / (tr + 2 * lmax), sense="lower"),
        Bound("upper", of="eta_crit", value=2 / tr, sense="upper"),
    ),
    simulation=Simulation(at={}, spectrum=ZO_SPECTRUM, factors=(0.9, 1.1), steps=150, seeds=2000),
    source=Source("2604.14669", "Theorem 1 (bounds)", "Song et al. 2026"),
)
