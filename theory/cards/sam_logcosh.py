"""SAM vs USAM beyond the quadratic: on L(x, y) = log cosh(xy), SAM drifts to flatter minima, USAM stalls.

Setting:   L(x, y) = log cosh(xy); the minima are the line x = 0, where the sharpness is y^2 (l''(0) = 1), so
           smaller y^2 means a flatter minimum. g = grad L(w), w = (x, y).
           SAM:  w+ = w - eta grad L(w + rho g / |g|);  USAM: w+ = w - eta grad L(w + rho g).
           Both start at the same point near the manifold with y0^2 below 2/eta (GD would stop there).
Claims:    for every rho of the sweep, SAM keeps drifting along the manifold to flatter minima (y^2 at least
           halved and still non-increasing at the end of the run), while USAM stalls (y^2 frozen to 1e-6 over
           the second half of the run, at a sharper minimum than SAM's) or diverges. The normalisation keeps the
           drift alive (SAM's perturbation has length rho however small the gradient), whereas USAM's
           perturbation rho g vanishes with the gradient; USAM stops at or below its own stability edge
           y^2 (1 + rho y^2) = 2/eta (the quadratic USAM threshold, usam.quadratic.critical_step).
Reference: Dai, Ahn, Sra, "The Crucial Role of Normalization in Sharpness-Aware Minimization", arXiv:2305.15287
           (abstract read: normalization stabilises SAM and lets it drift along a manifold of minima, making it
           robust to rho; theorem statements and constants not read).
"""
import sympy as sp

from theory import Card, Observed, Simulation, Source

eta, rho = sp.symbols("eta rho", positive=True)

CARD = Card(
    id="sam.logcosh_xy.drift",
    title="SAM vs USAM on log cosh(xy): SAM drifts to flatter minima across rho, USAM stalls",
    symbols=(eta, rho),
    claims=(
        Observed("sam_drifts", "for every rho of the sweep, SAM from (x0, y0) ends with y_T^2 <= y0^2 / 2 and "
                               "y_T^2 <= y_{T/2}^2 (still drifting to flatter minima; never diverges)"),
        Observed("usam_stalls", "for every rho of the sweep, USAM from the same start either diverges or stalls: "
                                "|y_T^2 - y_{T/2}^2| <= 1e-6 y_{T/2}^2, with y_T^2 above SAM's y_T^2 at that rho"),
    ),
    source=Source("2305.15287", "drift along the manifold of minima (abstract; theorems not read)",
                  "Dai, Ahn, Sra 2023"),
    notes="A measured claim on an instance built here (the l(xy) model of arXiv:2212.07469, which the same "
          "authors use), realising the abstract's statement; the paper's own experiment and constants could not "
          "be read. Default run: eta = 0.1, start (0.1, 3), rho in {0.05, 0.1, 0.2, 0.5, 1}, 4000 steps; a longer "
          "run: optverify simulate sam.logcosh_xy.drift --steps 20000.",
    simulation=Simulation("logcosh_sam_drift", at={eta: sp.Rational(1, 10)}, steps=4000, seeds=1,
                          sweep={rho: (0.05, 0.1, 0.2, 0.5, 1.0)}, options={"x0": 0.1, "y0": 3.0}),
)
