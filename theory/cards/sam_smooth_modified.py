"""SAM and USAM on a smooth loss: the modified losses L + rho ||g|| + (h/4) ||g||^2 and
L + (h/4 + rho/2) ||g||^2, for a perturbation radius rho of the order of the step.

Setting:   USAM x+ = x - h grad L(x + rho grad L(x)); SAM x+ = x - h grad L(x + rho grad L(x)/||grad L(x)||);
           rho = O(h) (the order test runs at rho = h/2).
Claims:    each follows the gradient flow of its modified loss with local error O(h^3).
Derived:   backward error analysis of each update rule; checked symbolically, at random points and by
           the measured error order (slope 3; the plain flow's 2).
Reference: Foret et al., "Sharpness-Aware Minimization for Efficiently Improving Generalization",
           arXiv:2010.01412 (the method); the modified losses are this suite's derivation in the
           style of Barrett & Dherin (arXiv:2009.11162).
"""
import sympy as sp

from theory import Card, ModifiedFlow, Source, grad, loss, norm

x = sp.Symbol("x")
h, rho = sp.symbols("h rho", positive=True)
lam = sp.Symbol("lambda", positive=True)
g = grad(x)
SOURCE = Source("2010.01412", "the SAM update (Sec. 3); modified losses derived here", "Foret et al. 2021",
                "Sharpness-Aware Minimization for Efficiently Improving Generalization")

CARDS = (
    Card(
        id="usam.smooth.modified_loss",
        title="USAM: modified loss L + (h/4 + rho/2)||grad L||^2",
        symbols=(h, rho, lam), eigenvalue=lam,
        state=(x,), update=(x - h * grad(x + rho * grad(x)),),
        claims=(ModifiedFlow("coefficient", step=h, small={rho: sp.Rational(1, 2)},
                             loss=loss(x) + (h / 4 + rho / 2) * norm(g) ** 2,
                             statement="the iterates follow the gradient flow of L + (h/4 + rho/2)||grad L||^2"),),
        source=SOURCE,
    ),
    Card(
        id="sam.smooth.modified_loss",
        title="SAM: modified loss L + rho ||grad L|| + (h/4)||grad L||^2",
        symbols=(h, rho, lam), eigenvalue=lam,
        state=(x,), update=(x - h * grad(x + rho * grad(x) / norm(grad(x))),),
        claims=(ModifiedFlow("coefficient", step=h, small={rho: sp.Rational(1, 2)},
                             loss=loss(x) + rho * norm(g) + h / 4 * norm(g) ** 2,
                             statement="the iterates follow the gradient flow of L + rho ||grad L|| + "
                                       "(h/4)||grad L||^2"),),
        source=SOURCE,
    ),
)
