"""Zeroth-order GD with heavy-ball momentum on a quadratic: the mean-square critical step size.

Setting:   f(x) = 1/2 x^T H x; g_hat = (u^T H x) u, u ~ N(0, I_d) (the two-point estimator on a
           quadratic); m[t+1] = beta m[t] + g_hat(x[t]), x[t+1] = x[t] - eta m[t+1], 0 <= beta < 1.
Claim:     stable iff eta < eta*, the unique root with eta lambda_max < 1 - beta^2 of
           sum_i eta lambda_i / (2 (1 - beta) (1 - eta lambda_i / (1 - beta^2))) = 1. Unlike first-order
           heavy ball (2 (1 + beta)/lambda), the threshold FALLS as beta grows.
Reference: Song et al., "Zeroth-Order Optimization at the Edge of Stability", arXiv:2604.14669, Theorem 2.
"""
import sympy as sp

from theory.cards._spectra import ZO_SPECTRUM
from theory import Card, Estimator, Identity, MeanSquareThreshold, Simulation, Source

eta, lam = sp.symbols("eta lambda", positive=True)
beta = sp.Symbol("beta", nonnegative=True)
r = sp.Symbol("r", positive=True, integer=True)
x, m, g = sp.symbols("x m g", real=True)

m_next = beta * m + g

CARD = Card(
    id="zo_gdm.quadratic.ms_critical_step",
    title="ZO-GD with momentum on a quadratic: mean-square critical step size",
    symbols=(eta, beta, lam, r),
    assumptions=(beta < 1,),
    state=(x, m),
    update=(x - eta * m_next, m_next),
    estimator=Estimator(g, at=x, directions="gaussian"),
    eigenvalue=lam,
    claims=(
        MeanSquareThreshold("eta_crit", param=eta,
                            gain=eta * lam / (2 * (1 - beta) * (1 - eta * lam / (1 - beta**2))),
                            mode_limit=(1 - beta**2) / lam),
        Identity("eta_equal_spectrum", value=2 * (1 - beta**2) / ((r * (1 + beta) + 2) * lam),
                 derivation="equal_spectrum_root", arguments={"of": "eta_crit", "multiplicity": r}),
    ),
    source=Source("2604.14669", "Theorem 2", "Song et al. 2026"),
    compare_with="heavy_ball.quadratic.critical_step",
    simulation=Simulation(at={beta: 0.5}, spectrum=ZO_SPECTRUM,
                          factors=(0.9, 1.1), steps=150, seeds=2000),
)
