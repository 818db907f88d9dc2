"""Linear attention is (maybe) all you need: Adam vs SGD on the 3-layer linear transformer.

Setting:   the linear transformer of arXiv:2306.00297 with every d x d block of P_l and Q_l trainable
           (P_l = [[P_dd, 0], [0, 1]], Q_l = [[Q_dd, 0], [0, 0]], the repo's Transformer_F), L = 3 layers,
           d = 5, N = 20 context examples, fresh prompts every step, x ~ N(0, I) (``normal``) or heavy-tailed
           covariate norms x = u sqrt(Gamma(k = 0.1, scale = 10)) with u uniform on the sphere (``gamma``),
           w* ~ N(0, I). Optimisers: Adam (betas (0.9, 0.9)) and SGD with momentum 0.9, gradient clipping at 1.
Claims:    (observed, as the paper reports for real transformers) Adam's loss is far below SGD's after the same
           number of steps; Adam's 3-layer model goes below the optimal 3-step scalar-PGD loss (the learned
           layers do more than plain PGD); the minibatch gradient noise has heavier tails (larger kurtosis of
           the noise norms) for ``gamma`` covariates than for ``normal``.
Reference: Ahn, Cheng, Song, Yun, Jadbabaie, Sra, "Linear attention is (maybe) all you need (to understand
           transformer optimization)", arXiv:2310.01082 (ICLR 2024): Adam-vs-SGD gap and heavy-tailed noise on
           linear transformers (numbers of the paper's figures not stored: research notes
           theorems-preference-bias-sf.md section 7, theorems-flows-sgd-schedules.md section 7.2).
"""
from theory import Card, Observed, Simulation, Source

CARD = Card(
    id="linear_transformer.three_layer.adam_vs_sgd",
    title="3-layer linear transformer (d = 5, N = 20): Adam far below SGD, below the 3-step PGD optimum; gamma noise heavier-tailed",
    symbols=(),
    claims=(
        Observed("adam_beats_sgd", "after the same number of steps on the same prompts, the exact-size evaluation "
                 "loss of Adam is below 1/2 of SGD-with-momentum's (the measured ratio is reported)", value=None),
        Observed("beyond_pgd", "the Adam-trained 3-layer model's evaluation loss is below the optimal 3-step "
                 "scalar-PGD loss at the same d, N (numerics model linear_transformer_scalar_pgd)"),
        Observed("heavier_noise_tails", "the kurtosis of minibatch gradient-noise norms is larger for gamma "
                 "covariates than for normal ones (one layer at A = 0.5 I, the research notes' reference point)"),
    ),
    simulation=Simulation("linear_transformer_adam_vs_sgd", steps=600, seeds=1,
                          options={"d": 5, "n": 20, "layers": 3, "batch": 128, "lr_adam": 0.02, "lr_sgd": 0.02,
                                   "eval": 8192, "draws": 2000, "minibatch": 64, "noise_a": 0.5}),
    source=Source("2310.01082", "Adam vs SGD and heavy-tailed gradient noise on linear transformers (Sections 3-4)",
                  "Ahn, Cheng, Song, Yun, Jadbabaie, Sra 2024",
                  "Linear attention is (maybe) all you need (to understand transformer optimization)"),
    notes="CPU-sized by default (600 steps, batch 128, both optimisers at the repo's lr 0.02); --device cuda with "
          "--steps 10000 and the repo's batch 1000 is the paper's setting (train.ipynb defaults: lr 0.02, clip 1). "
          "The evaluation loss is a Monte Carlo over fresh prompts (its standard error is reported); the PGD "
          "reference is the exact-moment optimum of linear_transformer.l_step.scalar_pgd_optimum. Noise: the "
          "norms |g_b - mean g| of minibatch gradients (all P, Q blocks) at the Adam-trained parameters.",
)
