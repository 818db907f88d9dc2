"""Adam with a frozen preconditioner on a quadratic: the critical step size.

Setting:   f(x) = 1/2 x^T H x with the preconditioner P frozen (diagonal, positive); lambda is an
           eigenvalue of P^{-1} H; m[t+1] = beta1 m[t] + (1 - beta1) grad(x[t]),
           x[t+1] = x[t] - eta P^{-1} m[t+1] (no bias correction, epsilon = 0).
Claim:     stable iff 0 < eta < 2 (1 + beta1) / ((1 - beta1) lambda); 38/lambda at beta1 = 0.9.
Reference: Cohen et al., "Adaptive Gradient Methods at the Edge of Stability", arXiv:2207.14484,
           abstract (38/eta at beta1 = 0.9).
"""
import sympy as sp

from theory import Card, Simulation, Source, Threshold, grad, precond

eta, lam = sp.symbols("eta lambda", positive=True)
beta1 = sp.Symbol("beta1", nonnegative=True)
x, m = sp.symbols("x m", real=True)

m_next = beta1 * m + (1 - beta1) * grad(x)

CARD = Card(
    id="adam_frozen.quadratic.critical_step",
    title="Frozen-preconditioner Adam on a quadratic: critical step size",
    symbols=(eta, beta1, lam),
    assumptions=(beta1 < 1,),
    state=(x, m),
    update=(x - eta * precond(m_next), m_next),  # precond(v) = P^{-1} v, P frozen
    eigenvalue=lam,
    claims=(Threshold("eta_crit", param=eta, value=2 * (1 + beta1) / ((1 - beta1) * lam)),),
    source=Source("2207.14484", "abstract (38/eta at beta1 = 0.9); general form: section not confirmed", "Cohen et al. 2022"),
    simulation=Simulation(at={beta1: 0.9}, spectrum=(4.0, 1.0, 0.25)),
    notes="lambda is an eigenvalue of P^{-1}H, the preconditioned Hessian. The abstract states 38/eta at "
          "beta1 = 0.9; the general (2 + 2 beta1)/(1 - beta1) form is this suite's derivation.",
)
