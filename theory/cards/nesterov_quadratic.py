"""Nesterov momentum (constant beta) on a quadratic: the critical step size.

Setting:   f(x) = lambda/2 * x**2, lambda > 0, 0 <= beta < 1;
           y[t] = x[t] + beta * (x[t] - x[t-1]),  x[t+1] = y[t] - eta * f'(y[t]).
Claim:     converges iff 0 < eta < 2 (1 + beta) / ((1 + 2 beta) lambda).
Reference: Cohen et al., arXiv:2103.00065, Appendix (momentum thresholds).
"""
import sympy as sp

from theory import Card, Simulation, Source, Threshold, grad

eta, lam = sp.symbols("eta lambda", positive=True)
beta = sp.Symbol("beta", nonnegative=True)
x, x_prev = sp.symbols("x x_prev", real=True)



y = x + beta * (x - x_prev)

CARD = Card(
    id="nesterov.quadratic.critical_step",
    title="Nesterov momentum on a quadratic: critical step size",
    symbols=(eta, beta, lam),
    assumptions=(beta < 1,),
    state=(x, x_prev),
    update=(y - eta * grad(y), x),
    eigenvalue=lam,
    claims=(Threshold("eta_crit", param=eta, value=2 * (1 + beta) / ((1 + 2 * beta) * lam)),),
    source=Source("2103.00065", "momentum thresholds (appendix; location not confirmed)", "Cohen et al. 2021"),
    notes="The paper's text giving this threshold could not be read here; this suite's derivation from the "
          "update rule decides.",
    simulation=Simulation(at={beta: 0.9}, spectrum=(4.0, 1.0, 0.25)),
)
