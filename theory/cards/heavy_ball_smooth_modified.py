"""Heavy-ball momentum on a smooth loss: the modified loss L + h (1+beta)/(4 (1-beta)^2) ||grad L||^2
at flow speed 1/(1-beta).

Setting:   x_{k+1} = x_k - h grad L(x_k) + beta (x_k - x_{k-1}), 0 <= beta < 1, on the slow
           manifold (x_{k-1} a function of x_k, expanded in h).
Claim:     the iterates follow, with global error O(h^2), dx/dt = -(1/(1-beta)) grad of
           L + h (1+beta)/(4 (1-beta)^2) ||grad L||^2. At the effective step h/(1-beta) this is GD's
           h/4 coefficient times (1+beta)/(1-beta), the factor of Ghosh et al.
Derived:   backward error analysis of the two-state rule (the slow manifold solved order by order);
           checked symbolically, at random points, and by the measured order of the global error
           at a fixed horizon (slope 2; the plain flow's 1) from the flow's own history.
Reference: Ghosh, Lyu, Zhang, Wang, "Implicit regularization in Heavy-ball momentum accelerated
           stochastic gradient descent", arXiv:2302.00849 (abstract: the (1+beta)/(1-beta) factor; the
           normalisation here is this suite's derivation).
"""
import sympy as sp

from theory import Card, ModifiedFlow, Source, grad, loss, norm

x, x_prev = sp.symbols("x x_prev")
h = sp.Symbol("h", positive=True)
beta = sp.Symbol("beta", nonnegative=True)
lam = sp.Symbol("lambda", positive=True)
c = (1 + beta) / (4 * (1 - beta) ** 2)

CARD = Card(
    id="heavy_ball.smooth.modified_loss",
    title="Heavy ball: modified loss with coefficient (1+beta)/(4(1-beta)^2)",
    symbols=(h, beta, lam), eigenvalue=lam,
    assumptions=(beta < 1,),
    sample={beta: (0.0, 0.9)},
    state=(x, x_prev), update=(x - h * grad(x) + beta * (x - x_prev), x),
    claims=(ModifiedFlow("coefficient", step=h, loss=loss(x) + c * h * norm(grad(x)) ** 2, speed=1 / (1 - beta),
                         statement="the iterates follow dx/dt = -(1/(1-beta)) grad[L + h (1+beta)/(4(1-beta)^2) "
                                   "||grad L||^2] (global error O(h^2) on the slow manifold)"),),
    source=Source("2302.00849", "abstract ((1+beta)/(1-beta) stronger than GD's)", "Ghosh et al. 2023",
                  "Implicit regularization in Heavy-ball momentum accelerated stochastic gradient descent"),
)
