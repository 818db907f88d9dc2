"""Dom-SGD and Bulk-SGD on a noisy ill-conditioned quadratic: loss floors after switching.

Setting:   f(x) = 1/2 sum_i lambda_i c_i^2 (eigenbasis), dominant subspace D = top-k eigenvectors, bulk B
           the rest, gap m = lambda_k / lambda_{k+1}; SGD with additive isotropic noise, per mode
           c+ = c - eta (lambda c + xi), E xi^2 = s^2. Train with SGD until the gradient is aligned with D,
           then from that state t0 run SGD, Dom-SGD (update projected on D) and Bulk-SGD (projected on B).
Claim:     the stationary loss of a mode is E 1/2 lambda c^2 = eta s^2 / (2 (2 - eta lambda)). Dom-SGD freezes
           the bulk, so its loss stalls at 1/2 sum_B lambda_i c_i(t0)^2 + sum_D eta s^2 / (2 (2 - eta lambda_i));
           Bulk-SGD freezes the dominant modes, already at their noise floor, so its expected loss equals SGD's,
           E c_i(t)^2 = (1 - eta lambda_i)^{2 t} c_i(t0)^2 + (1 - (1 - eta lambda_i)^{2 t}) eta s^2 / (lambda_i (2 - eta lambda_i)).
Reference: Song, Ahn, Yun, "Does SGD really happen in tiny subspaces?", arXiv:2405.16002 (ICLR 2025), Fig. 1
           and Sec. 3 (Dom-SGD stops decreasing the loss, Bulk-SGD matches SGD; SGD noise as the cause);
           the quadratic closed form is the research notes' [D] toy (their Sec. 5.3), derived here from the
           update rule.
"""
import sympy as sp

from theory import Card, Identity, Observed, Simulation, Source

eta, lam, s = sp.symbols("eta lambda s", positive=True)

K, D, GAP = 20, 200, 500.0                            # dominant dimension, dimension, spectral gap
DOMINANT = tuple(100.0 - 20.0 * i / (K - 1) for i in range(K))                      # linspace(100, 80)
SPECTRUM = DOMINANT + tuple(80.0 / GAP * (1.0 - 0.9 * i / (D - K - 1)) for i in range(D - K))  # bulk: x linspace(1, .1)
xi = sp.Symbol("xi", real=True)
x = sp.Symbol("x", real=True)

CARD = Card(
    id="dom_bulk_sgd.quadratic.loss_floors",
    title="Dom-SGD stalls and Bulk-SGD matches SGD on a noisy ill-conditioned quadratic",
    symbols=(eta, lam, s, xi),
    state=(x,),
    update=(x - eta * (lam * x + xi),),
    assumptions=(eta * lam < 2,),
    eigenvalue=lam,
    claims=(
        Identity("mode_stationary_loss", value=eta * s**2 / (2 * (2 - eta * lam)), derivation="stationary_moment",
                 conditions=(eta * lam < 2,), arguments={"noise": xi, "variance": s**2, "of": lam * x**2 / 2}),
        Observed("dom_sgd_floor", "after switching, Dom-SGD's loss settles at 1/2 sum_B lambda c(t0)^2 + "
                 "sum_D eta s^2 / (2 (2 - eta lambda)) (mean over seeds of the last quarter)", rtol=0.02),
        Observed("sgd_curve", "SGD's mean loss after switching follows the exact expectation from the switch "
                 "state, built from the stationary per-mode loss (20 time blocks; within 4 standard errors)", rtol=0.05),
        Observed("bulk_matches_sgd", "Bulk-SGD's mean loss equals SGD's after switching (20 time blocks; the paired "
                 "difference within 4 standard errors)", rtol=0.03),
    ),
    source=Source("2405.16002", "Fig. 1, Sec. 3 (Dom-SGD / Bulk-SGD); quadratic toy [D]", "Song, Ahn, Yun 2025"),
    sample={eta: (0.01, 1.9), lam: (0.01, 1.0), s: (0.01, 10.0)},
    simulation=Simulation("dom_bulk_quadratic", at={eta: 0.01, s: 0.5}, spectrum=SPECTRUM, steps=4000, seeds=32,
                          options={"k": K, "switch": 1000, "init": 1.0}),
    notes="An instance realising the paper's claim on the quadratic (the paper's own experiments are networks; "
          "see dom_bulk_sgd.mlp.spurious_alignment). Spectrum as in sgd.quadratic.stationary_alignment: dominant "
          "linspace(100, 80) (k = 20), bulk (80 / m) x linspace(1, 0.1), m = 500, d = 200; eta = 0.01, s = 0.5; "
          "c(0) ~ N(0, I); 1000 SGD steps (the alignment is then ~0.95), then 3000 steps of each method from the "
          "same state with the same noise draws. With a large gap the bulk still holds most of the loss when the "
          "gradient is already aligned with D: that is why Dom-SGD stalls.",
)
