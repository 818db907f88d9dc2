"""Gradient descent on a quadratic: the critical step size.

Setting:   f(x) = lambda/2 * x**2 (one Hessian eigenvalue lambda > 0); x[t+1] = x[t] - eta * f'(x[t]).
Claim:     GD converges iff 0 < eta < 2/lambda; on a spectrum, iff eta < 2/lambda_max.
Reference: Cohen, Kaur, Li, Kolter, Talwalkar, "Gradient Descent on Neural Networks Typically
           Occurs at the Edge of Stability", arXiv:2103.00065, Section 2 (quadratic stability).
"""
import sympy as sp

from theory import Card, Simulation, Source, Threshold, grad

eta, lam = sp.symbols("eta lambda", positive=True)
x = sp.Symbol("x", real=True)



CARD = Card(
    id="gd.quadratic.critical_step",
    title="GD on a quadratic: critical step size",
    symbols=(eta, lam),
    state=(x,),
    update=(x - eta * grad(x),),
    eigenvalue=lam,
    claims=(Threshold("eta_crit", param=eta, value=2 / lam),),
    source=Source("2103.00065", "Sec. 2 and footnote 3 ('if and only if' for convex quadratics)", "Cohen et al. 2021"),
    simulation=Simulation(spectrum=(4.0, 1.0, 0.25)),
)
