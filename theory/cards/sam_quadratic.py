"""Normalized SAM on a one-dimensional quadratic: no divergence below 2/lambda, and a two-cycle.

Setting:   f(x) = lambda/2 * x**2, lambda > 0, rho > 0;
           x[t+1] = x[t] - eta f'(x[t] + rho f'(x[t]) / |f'(x[t])|) = (1 - eta lambda) x - eta rho lambda sign(x).
Claims:    the iterates stay bounded iff eta < 2/lambda (the smooth branch's Jacobian 1 - eta lambda);
           for 0 < eta < 2/lambda every start settles on the two-cycle +-a with
           a = eta rho lambda / (2 - eta lambda).
Reference: Dai, Ahn, Sra, "The Crucial Role of Normalization in Sharpness-Aware Minimization",
           arXiv:2305.15287 (abstract read: normalization stabilises SAM; closed forms derived here).
"""
import sympy as sp

from theory import Card, Identity, Observed, Simulation, Source, Threshold, grad, norm

eta, lam, rho = sp.symbols("eta lambda rho", positive=True)
x = sp.Symbol("x", real=True)
x_pos = sp.Symbol("x_pos", positive=True)  # the smooth branch x > 0 (the map is odd)



CARD = Card(
    id="sam.quadratic.two_cycle",
    title="Normalized SAM on a quadratic: bounded two-cycle",
    symbols=(eta, rho, lam),
    state=(x,),
    update=(x - eta * grad(x + rho * grad(x) / norm(grad(x))),),
    branch={x: x_pos},
    eigenvalue=lam,
    claims=(
        Threshold("eta_crit", param=eta, value=2 / lam),
        Identity("amplitude", value=eta * rho * lam / (2 - eta * lam), derivation="symmetric_two_cycle",
                 conditions=(eta * lam < 2,)),
        Observed("bounded", "below eta_crit every start stays bounded and reaches the two-cycle; "
                            "above it every start diverges"),
    ),
    source=Source("2305.15287", "quadratic analysis (theorem number not confirmed)", "Dai, Ahn, Sra 2023"),
    notes="Only the abstract could be read here (normalization stabilises SAM); the closed forms are this "
          "suite's derivation from the update rule, checked numerically and by simulation.",
    simulation=Simulation(at={rho: 0.5}, spectrum=(1.0,), factors=(0.2, 0.5, 0.9, 0.95, 1.05, 1.1),
                          steps=2000),
)
