"""Threshold neurons on the sparse-coding task (Ahn, Bubeck, Chewi, Lee, Suarez, Zhang, arXiv:2212.07469, Figure 1):
the learned shared bias of a two-layer ReLU network against GD's step size.

Setting:   Figure 1's task as the research notes read it (section 4 [P]): x = lambda y e_j + xi, y = +-1, j
           uniform in [d], d = 200, n = 300, lambda = 3, logistic loss, full-batch GD. Our reading of the network
           (2) and of what the caption cuts off ([U]: noise scale, width, initialisation): xi ~ N(0, I_d),
           f(x) = sum_i a_i [relu(<w_i, x> + b) - relu(-<w_i, x> + b)] with m = 200 neurons and one shared bias b
           (b < 0: every neuron ignores |<w_i, x>| < |b|, a threshold neuron), w_i ~ N(0, I/d), a_i ~ N(0, 1/m),
           b = 0, float64. Step sizes 0.4 .. 2 x 2/S0 (6, log-spaced; S0 = 1.86 the initial sharpness), each run
           for the same gradient-flow time eta t = 37 x 2/S0 (37 steps at eta = 2/S0), two seeds.
Claim:     (conjecture: the paper's qualitative statement) large step sizes drive the bias negative (threshold
           neurons), small ones do not: every run with eta <= 0.75 x 2/S0 ends (mean over the last 30% of its
           steps) with b >= 0, every run with eta >= 1.3 x 2/S0 with b <= -0.02.
Measured:  b = +0.556 .. +0.575 for eta <= 0.76 x 2/S0 and b = -0.359 .. -0.499 for eta >= 1.05 x 2/S0 (both
           seeds): a sharp transition at the linear-stability threshold of the initialisation. Above it b drops
           within the first ~10 steps (to -0.39 .. -1.20) and then zigzags from step to step for the whole run
           (amplitude ~0.1), while the Hessian's top eigenvalue at the end is only 0.21-0.45 x 2/eta: the
           instability that keeps b moving is not visible in the (almost-everywhere) Hessian of this
           piecewise-linear network (presumably the ReLU kinks crossing data points). All runs fit the
           training set (train accuracy 1.0) and none generalises (test accuracy 0.511-0.525, chance), unlike the
           accuracy gain of the paper's Figure 1. Below the transition gradient flow drives
           b positive (+0.56), not to 0.
"""
import sympy as sp

from theory import Card, Observed, Simulation, Source

eta = sp.Symbol("eta", positive=True)

CARD = Card(
    id="threshold_neuron.sparse_coding.bias_vs_eta",
    title="Sparse coding, two-layer ReLU net, logistic loss: GD learns a negative (threshold) bias only at large eta",
    symbols=(eta,),
    claims=(
        Observed("no_threshold_small", "every run with eta <= 0.75 x 2/S0 ends with a shared bias b >= 0 (mean over "
                                       "the last 30% of its steps; measured +0.556 .. +0.575)"),
        Observed("threshold_large", "every run with eta >= 1.3 x 2/S0 ends with b <= -0.02 (measured -0.435 .. "
                                    "-0.499; from 1.05 x 2/S0 on: -0.359 .. -0.499)"),
    ),
    source=Source("2212.07469", "Figure 1 (sparse coding (1), ReLU network (2), d = 200, n = 300, lambda = 3, "
                  "logistic loss; caption read in part, the network's definition and initialisation not read)",
                  "Ahn, Bubeck, Chewi, Lee, Suarez, Zhang 2023",
                  "Learning threshold neurons via the edge of stability"),
    status="conjecture",
    notes="The qualitative claim (a step-size threshold below which the network fails to learn a non-zero, here "
          "negative, bias) is the abstract's [P]; the paper's critical eta for the ReLU model and its Figure 1 "
          "values (eta axis 0 .. 0.012) were not read, so nothing here is compared with a paper number. The "
          "measured transition sits at eta = 2/S0, S0 the sharpness at initialisation; whether the persistent "
          "oscillation of b above it is the paper's edge-of-stability mechanism is not established here (the "
          "final Hessian sharpness is well below 2/eta), and the paper's test-accuracy gain is not reproduced "
          "(test accuracy at chance: 40,000 weights memorise 300 points). A conjecture: the "
          "network definition, noise scale and initialisation are our reading. Run: optverify simulate "
          "threshold_neuron.sparse_coding.bias_vs_eta (about 6 s on one loaded CPU core).",
    simulation=Simulation("threshold_sparse_coding", steps=37, seeds=2,
                          options={"d": 200, "n": 300, "lam": 3.0, "noise": 1.0, "width": 200, "test": 2000,
                                   "f_lo": 0.4, "f_hi": 2.0, "etas": 6, "time": 37.0, "tail": 0.3,
                                   "power": 30, "f_small": 0.75, "f_large": 1.3, "margin": 0.02}),
)
