"""Heavy-ball (Polyak) momentum on a quadratic: the critical step size.

Setting:   f(x) = lambda/2 * x**2, lambda > 0, 0 <= beta < 1;
           x[t+1] = x[t] - eta * f'(x[t]) + beta * (x[t] - x[t-1]).
Claim:     converges iff 0 < eta < 2 (1 + beta) / lambda (the root z = -1 binds first).
Reference: Polyak 1964; quoted for EoS in Cohen et al., arXiv:2103.00065, Appendix (momentum).
"""
import sympy as sp

from theory import Card, Simulation, Source, Threshold, grad

eta, lam = sp.symbols("eta lambda", positive=True)
beta = sp.Symbol("beta", nonnegative=True)
x, x_prev = sp.symbols("x x_prev", real=True)



CARD = Card(
    id="heavy_ball.quadratic.critical_step",
    title="Heavy ball on a quadratic: critical step size",
    symbols=(eta, beta, lam),
    assumptions=(beta < 1,),
    state=(x, x_prev),
    update=(x - eta * grad(x) + beta * (x - x_prev), x),
    eigenvalue=lam,
    claims=(Threshold("eta_crit", param=eta, value=2 * (1 + beta) / lam),),
    source=Source("2103.00065", "momentum thresholds (appendix; location not confirmed); Polyak 1964",
                  "Cohen et al. 2021"),
    notes="The paper's text giving this threshold could not be read here; the classical result (Polyak 1964) "
          "and this suite's derivation from the update rule decide.",
    simulation=Simulation(at={beta: 0.9}, spectrum=(4.0, 1.0, 0.25)),
)
