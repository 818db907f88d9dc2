"""Ghosts of softmax, binary case: the radius of convergence of the loss's Taylor series in the step.

Setting:   binary cross-entropy of one example along an update direction v with step tau, logits
           linearised as z_k(tau) = z_k + tau a_k (a_k = grad z_k . v); delta = z_1 - z_2 is the margin of
           the true class, Delta_a = a_1 - a_2 > 0 the slope spread. L(tau) = log Z(tau) with
           Z(tau) = 1 + exp(-(delta + Delta_a tau)).
Claim:     the Taylor series of L in tau converges exactly for |tau| < sqrt(delta^2 + pi^2) / Delta_a, the
           modulus of the nearest complex zero of Z (a "ghost" singularity off the real axis).
Reference: Sao, "Ghosts of Softmax", arXiv:2603.13552, abstract (the binary radius is printed there).
"""
import sympy as sp

from theory import Bound, Card, Identity, Source

delta = sp.Symbol("delta", real=True)
Da = sp.Symbol("Delta_a", positive=True)
tau = sp.Symbol("tau")

CARD = Card(
    id="ghosts.binary.radius",
    title="Ghosts of softmax (binary): Taylor radius in the step size",
    symbols=(delta, Da),
    claims=(Identity("radius", value=sp.sqrt(delta**2 + sp.pi**2) / Da, derivation="nearest_complex_zero",
                     arguments={"partition": 1 + sp.exp(-(delta + Da * tau)), "variable": tau}),
            Bound("above_multiclass_bound", of="radius", value=sp.pi / Da, sense="lower")),
    source=Source("2603.13552", "abstract", "Sao 2026"),
    notes="The radius is checked symbolically (nearest zero of Z by solveset) and numerically (argument principle and "
          "a 50-digit complex root search). The bound claim checks that the multiclass lower bound pi/Delta_a "
          "(card ghosts.multiclass.radius_lower_bound) holds here, with equality at delta = 0. The step-size "
          "simulation (one step along -grad L swept in r = tau Delta_a / pi) lives on the multiclass card.",
)
