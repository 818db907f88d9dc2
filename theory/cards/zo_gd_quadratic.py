"""Zeroth-order GD on a quadratic: the exact mean-square critical step size.

Setting:   f(x) = 1/2 x^T H x, H >= 0 with eigenvalues lambda_i; two-point estimator
           g_hat = [f(x + mu u) - f(x - mu u)] / (2 mu) u = (u^T H x) u, u ~ N(0, I_d);
           x[t+1] = x[t] - eta g_hat.  Mean-square stability: E||x_t||^2 stays bounded.
Claim:     stable iff eta < eta*, the unique root in (0, 1/lambda_max) of
           sum_i eta lambda_i / (2 (1 - eta lambda_i)) = 1; equal spectrum of rank r: 2/((r + 2) lambda).
Reference: Song, Zhang, Li, He, Muehlebach, Oh, "Zeroth-Order Optimization at the Edge of
           Stability", arXiv:2604.14669, Theorem 1.
"""
import sympy as sp

from theory.cards._spectra import ZO_SPECTRUM
from theory import Card, Estimator, Identity, MeanSquareThreshold, Simulation, Source

eta, lam = sp.symbols("eta lambda", positive=True)
r = sp.Symbol("r", positive=True, integer=True)   # multiplicity of an equal spectrum
x, g = sp.symbols("x g", real=True)               # g: this mode's coordinate of g_hat

CARD = Card(
    id="zo_gd.quadratic.ms_critical_step",
    title="ZO-GD on a quadratic: mean-square critical step size",
    symbols=(eta, lam, r),
    state=(x,),
    update=(x - eta * g,),
    estimator=Estimator(g, at=x, directions="gaussian"),
    eigenvalue=lam,
    claims=(
        MeanSquareThreshold("eta_crit", param=eta, gain=eta * lam / (2 * (1 - eta * lam)), mode_limit=1 / lam),
        Identity("eta_equal_spectrum", value=2 / ((r + 2) * lam), derivation="equal_spectrum_root",
                 arguments={"of": "eta_crit", "multiplicity": r}),
    ),
    source=Source("2604.14669", "Theorem 1", "Song et al. 2026"),
    compare_with="gd.quadratic.critical_step",
    simulation=Simulation(spectrum=ZO_SPECTRUM, factors=(0.9, 1.1),
                          steps=150, seeds=2000),
)
