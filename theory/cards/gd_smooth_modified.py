"""Gradient descent on a smooth loss: the modified loss L + (h/4)||grad L||^2 (implicit gradient
regularisation) and the order-h^2 modified field.

Setting:   x_{k+1} = x_k - h grad L(x_k), L smooth on R^d, step h -> 0.
Claims:    (1) the iterates follow, with local error O(h^3), the gradient flow of
           L + (h/4)||grad L||^2 (Barrett & Dherin); (2) with local error O(h^4), the field
           -g - (h/2) H g - h^2 ((1/12) D^3L[g, g] + (1/3) H^2 g) (Hairer-Lubich-Wanner's f_2 for
           f = -g; not a gradient field in general).
Derived:   by backward error analysis of the update rule (theory/derive/modified_flow.py) on a
           generic loss in two dimensions; checked symbolically, at random points of concrete
           losses, and by the measured order of the error (slopes 3 and 4; the plain flow's 2).
Reference: Barrett, Dherin, "Implicit Gradient Regularization", arXiv:2009.11162, Sec. 2-3 (the
           coefficient h/4 is this suite's derivation; Hairer, Lubich, Wanner, Geometric Numerical
           Integration, Ch. IX, for the order-h^2 term).
"""
import sympy as sp

from theory import Card, ModifiedFlow, Observed, Simulation, Source, d3, grad, hvp, loss, norm

x = sp.Symbol("x")
h = sp.Symbol("h", positive=True)
lam = sp.Symbol("lambda", positive=True)
SOURCE = Source("2009.11162", "Sec. 2-3 (implicit gradient regularisation)", "Barrett, Dherin 2021",
                "Implicit Gradient Regularization")
g = grad(x)

CARDS = (
    Card(
        id="gd.smooth.modified_loss",
        title="GD: modified loss L + (h/4)||grad L||^2",
        symbols=(h, lam), eigenvalue=lam,
        state=(x,), update=(x - h * grad(x),),
        claims=(ModifiedFlow("coefficient", step=h, loss=loss(x) + h / 4 * norm(g) ** 2,
                             statement="the iterates follow the gradient flow of L + (h/4)||grad L||^2 "
                                       "(local error O(h^3))"),
                Observed("mlp_error_order",
                         "on a small tanh MLP (2-8-8-1, full-batch squared loss on a seeded synthetic regression "
                         "set, float64) one GD step from theta_0 differs from the claimed flow (the claim's "
                         "modified loss with autograd HVPs, RK4) by O(h^3) and from the gradient flow by "
                         "O(h^2): log-log slopes of the local error over h = h0/2^j, j = 0..3, within 0.15 of "
                         "3 and 2, for every seed")),
        source=SOURCE,
        # the scenario runs the card's rule on an MLP; the eigenvalue (of the quadratic route) is not used
        simulation=Simulation("modified_flow_mlp", spectrum=(1.0,), steps=10, seeds=4,
                              options={"width": 8, "n": 32, "h0": 0.2, "levels": 4, "substeps": 8}),
    ),
    Card(
        id="gd.smooth.modified_flow_order2",
        title="GD: the modified field to order h^2",
        symbols=(h, lam), eigenvalue=lam,
        state=(x,), update=(x - h * grad(x),),
        claims=(ModifiedFlow("field", step=h, order=2,
                             flow=-g - h / 2 * hvp(x, g) - h ** 2 * (d3(x, g, g) / 12 + hvp(x, hvp(x, g)) / 3),
                             statement="the iterates follow dx/dt = -g - (h/2) H g - h^2 (D^3L[g,g]/12 + H^2 g/3) "
                                       "(local error O(h^4))"),),
        source=Source("2009.11162", "Sec. 2 (backward error analysis; the order-h^2 term is Hairer-Lubich-Wanner's "
                      "f_2, derived here)", "Barrett, Dherin 2021", "Implicit Gradient Regularization"),
    ),
)
