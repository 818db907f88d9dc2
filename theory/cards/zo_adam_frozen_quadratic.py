"""Zeroth-order Adam with a frozen preconditioner on a quadratic: the mean-square critical step.

Setting:   f(x) = 1/2 x^T H x, frozen positive diagonal P with P H = H P; lambda: the eigenvalues of
           P^{-1} H; g_hat = (u^T H x) u, u ~ N(0, I_d); m[t+1] = beta1 m[t] + (1 - beta1) g_hat(x[t]),
           x[t+1] = x[t] - eta P^{-1} m[t+1].
Claim:     stable iff eta < eta*, the unique root with eta lambda_max < 1 + beta1 of
           sum_i eta lambda_i / (2 (1 - eta lambda_i / (1 + beta1))) = 1.
Caveat:    exact only when P and H commute. Adam's diagonal P generally does not commute with H;
           then the formula evaluated on eig(P^{-1} H) is not the threshold (this suite measures
           the error against the exact operator: tests/test_zero_order.py).
Reference: Song et al., "Zeroth-Order Optimization at the Edge of Stability", arXiv:2604.14669, Theorem 3.
"""
import sympy as sp

from theory.cards._spectra import ZO_SPECTRUM
from theory import Card, Estimator, MeanSquareThreshold, Simulation, Source, precond

eta, lam = sp.symbols("eta lambda", positive=True)
beta1 = sp.Symbol("beta1", nonnegative=True)
x, m, g = sp.symbols("x m g", real=True)

# Per mode of P^{-1} H (P = 1 in the common eigenbasis after rescaling): the mode's lambda is that
# of P^{-1} H. The full-space method multiplies x's increment by P^{-1} ("preconditioned").
m_next = beta1 * m + (1 - beta1) * g

CARD = Card(
    id="zo_adam_frozen.quadratic.ms_critical_step",
    title="Frozen-preconditioner ZO-Adam on a quadratic: mean-square critical step size (P H = H P)",
    symbols=(eta, beta1, lam),
    assumptions=(beta1 < 1,),
    state=(x, m),
    update=(x - eta * precond(m_next), m_next),  # precond(v) = P^{-1} v, P frozen
    estimator=Estimator(g, at=x, directions="gaussian"),
    eigenvalue=lam,
    claims=(MeanSquareThreshold("eta_crit", param=eta,
                                gain=eta * lam / (2 * (1 - eta * lam / (1 + beta1))),
                                mode_limit=(1 + beta1) / lam),),
    source=Source("2604.14669", "Theorem 3 (assumes P H = H P)", "Song et al. 2026"),
    compare_with="adam_frozen.quadratic.critical_step",
    simulation=Simulation(at={beta1: 0.9}, spectrum=ZO_SPECTRUM,
                          factors=(0.9, 1.1), steps=150, seeds=2000),
    notes="Exact only when P and H commute: for a random diagonal P and a dense H, eig(P^{-1}H) in this "
          "formula misses the exact operator's threshold by several per cent (measured in the tests; the "
          "research notes report 9-17 % over-estimates). lambda here is an eigenvalue of P^{-1}H.",
)
