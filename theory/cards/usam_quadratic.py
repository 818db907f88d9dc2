"""Unnormalized SAM (USAM) on a quadratic: the critical step size.

Setting:   f(x) = lambda/2 * x**2, lambda > 0, rho > 0;  x[t+1] = x[t] - eta f'(x[t] + rho f'(x[t])).
Claim:     converges iff eta lambda (1 + rho lambda) < 2, i.e. eta < 2 / (lambda (1 + rho lambda));
           this never exceeds GD's 2/lambda.
Reference: Dai, Ahn, Sra, "The Crucial Role of Normalization in Sharpness-Aware Minimization",
           arXiv:2305.15287 (abstract read; the closed form is derived here).
"""
import sympy as sp

from theory import Bound, Card, Simulation, Source, Threshold, grad

eta, lam, rho = sp.symbols("eta lambda rho", positive=True)
x = sp.Symbol("x", real=True)



CARD = Card(
    id="usam.quadratic.critical_step",
    title="USAM on a quadratic: critical step size",
    symbols=(eta, rho, lam),
    state=(x,),
    update=(x - eta * grad(x + rho * grad(x)),),
    eigenvalue=lam,
    claims=(Threshold("eta_crit", param=eta, value=2 / (lam * (1 + rho * lam))),
            Bound("below_gd", of="eta_crit", value=2 / lam, sense="upper")),
    source=Source("2305.15287", "quadratic analysis (theorem number not confirmed)", "Dai, Ahn, Sra 2023"),
    notes="Only the abstract could be read here (normalization stabilises SAM); the closed forms are this "
          "suite's derivation from the update rule, checked numerically and by simulation.",
    simulation=Simulation(at={rho: 0.1}, spectrum=(4.0, 1.0, 0.25)),
)
