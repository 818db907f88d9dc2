"""Logistic regression with GD at a large step tends to the batch perceptron.

Setting:   GD on the logistic loss f(x) = (1/n) sum_i log(1 + exp(-y_i a_i.x)) with step gamma, x_0 = 0:
           x_{t+1} = x_t + (gamma/n) sum_i y_i a_i sigma(-y_i a_i.x_t). The card's map is one sample's term
           in one coordinate, z = y a (the map is a sum of such terms, one per sample and coordinate).
Claim:     with u_t = x_t/gamma, u_{t+1} = u_t + (1/n) sum_i z_i sigma(-gamma z_i.u_t), and as gamma -> oo each
           term tends to z_i H(-z_i.u_t) (H(0) = 1/2): the batch perceptron
           u_{t+1} = u_t + (1/n) sum_i z_i [1{z_i.u_t < 0} + 1/2 1{z_i.u_t = 0}] -- an exact limit at fixed t.
Reference: Tyurin, "From Logistic Regression to the Perceptron Algorithm: Exploring Gradient Descent with Large
           Step Sizes", arXiv:2412.08424, Section 2 (LR+GD reduces to the batch perceptron as gamma -> oo).
"""
import sympy as sp

from theory import Card, Identity, Source

gamma = sp.Symbol("gamma", positive=True)
z = sp.Symbol("z", real=True)      # y_i a_ik for one sample and coordinate
u = sp.Symbol("u", real=True)      # the rescaled iterate x/gamma (the margin is z u)
x = sp.Symbol("x", real=True)

CARD = Card(
    id="logistic_gd.large_step.perceptron_limit",
    title="GD on the logistic loss, rescaled by the step gamma, becomes the batch perceptron as gamma -> oo",
    symbols=(gamma, z, u),
    state=(x,),
    update=(x + gamma * z / (1 + sp.exp(z * x)),),
    claims=(Identity("perceptron_step", u + z * sp.Heaviside(-z * u, sp.S.Half), "logistic_gd_perceptron_limit",
                     arguments={"step": gamma, "point": u, "margin": z * u}),),
    source=Source("2412.08424", "Section 2 (LR+GD with gamma -> oo is the batch perceptron)", "Tyurin 2024"),
    notes="Symbolic: the map at x = gamma u divided by gamma, limit gamma -> oo on each sign of the margin z u "
          "(tie: the midpoint, H(0) = 1/2, which only matters at u = 0). Numeric route: full GD on random "
          "(n, d) data for t <= 20 steps at gamma = 1e2, 1e4, 1e8 against the batch perceptron run from 0.",
)
