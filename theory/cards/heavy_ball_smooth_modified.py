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

from theory import Card, ModifiedFlow, Observed, Simulation, Source, grad, loss, norm

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
                                   "||grad L||^2] (global error O(h^2) on the slow manifold)"),
            Observed("mlp_error_order",
                     "on a small tanh MLP (2-8-8-1, full-batch squared loss on a seeded synthetic regression set, "
                     "float64) heavy ball at beta = 0.5, started on the slow manifold (x_prev = the flow's point "
                     "at time -h), ends the fixed horizon O(h^2) from the claimed flow (the claim's modified loss "
                     "with autograd HVPs, RK4) and O(h) from the gradient flow -g/(1-beta): log-log slopes over "
                     "h = h0/2^j, j = 0..3, within 0.15 of 2 and 1, for every seed")),
    source=Source("2302.00849", "abstract ((1+beta)/(1-beta) stronger than GD's)", "Ghosh et al. 2023",
                  "Implicit regularization in Heavy-ball momentum accelerated stochastic gradient descent"),
    # the scenario runs the card's rule on an MLP; the eigenvalue (of the quadratic route) is not used
    simulation=Simulation("modified_flow_mlp", at={beta: 0.5}, spectrum=(1.0,), steps=10, seeds=2,
                          options={"width": 8, "n": 32, "h0": 0.08, "levels": 4, "substeps": 2, "horizon": 8}),
)
