"""Random-reshuffling SGD on a smooth loss: the per-epoch modified loss L + (h/(4m)) sum_k ||grad L_k||^2.

Setting:   L = (1/m) sum_k L_k over m minibatch losses; one epoch takes the m minibatch steps
           x <- x - h grad L_k(x) in a uniformly random order; the mean epoch map (over the m!
           orders) is the card's update, written with the minibatch oracle grad(x, k).
Claim:     the mean iterate follows, with local error O(h^3) per epoch, the flow of
           C = L + (h/(4m)) sum_k ||grad L_k||^2 for time m h (one epoch), i.e. dx/dt = -m grad C per
           unit h. Since the minibatch gradients average to grad L, C = L + (h/4)||grad L||^2 +
           (h/(4m)) sum_k ||grad L_k - grad L||^2: GD's implicit regulariser plus the minibatch
           gradients' spread.
Derived:   backward error analysis of the mean epoch map on m generic minibatch losses (the engine's
           minibatch oracle), the modified loss fitted in the vocabulary L, ||grad L||^2, ||grad L_k||^2;
           checked at hypothesis points of concrete minibatch losses and by the measured local error
           order (slope 3; the plain flow's 2) in 2 and 3 dimensions.
Reference: Smith, Dherin, Barrett, De, "On the origin of implicit regularization in stochastic gradient
           descent", ICLR 2021, arXiv:2101.12176 (abstract: the mean iterate follows a modified loss
           penalising the minibatch gradients' norms; the constant here is this suite's derivation).
"""
import itertools
import math

import sympy as sp

from theory import Card, ModifiedFlow, Source, grad, loss, norm

M_BATCHES = 3
x = sp.Symbol("x")
h = sp.Symbol("h", positive=True)
lam = sp.Symbol("lambda", positive=True)


def epoch(order) -> sp.Expr:
    """One epoch through the minibatches in ``order``: x <- x - h grad(x, k) for k in order."""
    y = x
    for k in order:
        y = y - h * grad(y, k)
    return y


MEAN_EPOCH = sp.Add(*[epoch(p) for p in itertools.permutations(range(1, M_BATCHES + 1))]) / math.factorial(M_BATCHES)

CARD = Card(
    id="rr_sgd.smooth.modified_loss",
    title="Random reshuffling: the per-epoch modified loss L + (h/(4m)) sum_k ||grad L_k||^2",
    symbols=(h, lam), eigenvalue=lam,
    state=(x,), update=(MEAN_EPOCH,),
    claims=(ModifiedFlow("coefficient", step=h, speed=M_BATCHES,
                         loss=loss(x) + h / (4 * M_BATCHES) * sp.Add(*[norm(grad(x, k)) ** 2
                                                                        for k in range(1, M_BATCHES + 1)]),
                         statement=f"over one epoch of m = {M_BATCHES} minibatches in a random order, the mean "
                                   "iterate follows the flow of L + (h/(4m)) sum_k ||grad L_k||^2 for time m h "
                                   "(local error O(h^3) per epoch)"),),
    source=Source("2101.12176", "abstract (the modified loss penalises the minibatch gradients' norms)",
                  "Smith, Dherin, Barrett, De 2021", "On the origin of implicit regularization in stochastic "
                  "gradient descent"),
    notes="The update is the mean over the m! orders of one epoch (the expectation of the random-reshuffling "
          "iterate), so the claim is about the mean iterate, as in the paper. The flow speed m says that the "
          "epoch, one application of the update, lasts m steps of size h. The value shown by eval/table is the "
          "coefficient of h * ||grad L_k||^2 summed over k, i.e. 1/4 in L + (1/4) h mean_k ||grad L_k||^2.",
)
