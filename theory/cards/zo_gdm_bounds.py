"""Zeroth-order GD with momentum on a quadratic: trace / lambda_max bounds on the mean-square step.

Setting:   as zo_gdm.quadratic.ms_critical_step (m+ = beta m + g_hat, x+ = x - eta m+).
Claim:     2 (1 - beta) / (Tr H + 2 lambda_max / (1 + beta)) <= eta* <= 2 (1 - beta) / Tr H.
Reference: Song et al., "Zeroth-Order Optimization at the Edge of Stability", arXiv:2604.14669, Theorem 2.
"""
import sympy as sp

from theory import Bound, Card, Estimator, MeanSquareThreshold, Simulation, Source
from theory.cards._spectra import ZO_SPECTRUM

eta, lam = sp.symbols("eta lambda", positive=True)
beta = sp.Symbol("beta", nonnegative=True)
tr, lmax = sp.symbols("Tr_H lambda_max", positive=True)
x, m, g = sp.symbols("x m g", real=True)

m_next = beta * m + g

CARD = Card(
    id="zo_gdm.quadratic.ms_bounds",
    title="ZO-GD with momentum on a quadratic: trace and lambda_max bounds on the mean-square threshold",
    symbols=(eta, beta, lam, tr, lmax),
    assumptions=(beta < 1,),
    state=(x, m),
    update=(x - eta * m_next, m_next),
    estimator=Estimator(g, at=x, directions="gaussian"),
    eigenvalue=lam,
    spectral={tr: "trace", lmax: "max"},
    claims=(
        MeanSquareThreshold("eta_crit", param=eta,
                            gain=eta * lam / (2 * (1 - beta) * (1 - eta * lam / (1 - beta**2))),
                            mode_limit=(1 - beta**2) / lam),
        Bound("lower", of="eta_crit", value=2 * (1 - beta) / (tr + 2 * lmax / (1 + beta)), sense="lower"),
        Bound("upper", of="eta_crit", value=2 * (1 - beta) / tr, sense="upper"),
    ),
    simulation=Simulation(at={beta: 0.5}, spectrum=ZO_SPECTRUM, factors=(0.9, 1.1), steps=150, seeds=2000),
    source=Source("2604.14669", "Theorem 2 (bounds)", "Song et al. 2026"),
)
