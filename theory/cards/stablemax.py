"""StableMax (Prieto et al.): the cross-entropy tail at a large margin decays like (K-1)/D, not exp(-D).

Setting:   s(x) = x + 1 for x >= 0 and 1/(1 - x) for x < 0 (the authors' utils.py, which adds 1e-30 to the
           denominator); StableMax(z)_i = s(z_i) / sum_j s(z_j); loss = -log StableMax(z)_y. Logits: the label
           at D >= 0, the K - 1 others at 0.
Claims:    loss = log(1 + (K - 1)/(D + 1)); D * loss -> K - 1 as D -> oo (so float32 collapse needs
           D ~ (K - 1) 2^24, against a margin of 24 ln 2 = 16.6 for softmax).
Reference: Prieto, Barsbey, Mediano, Birdal, arXiv:2501.04697, Sec. 5 (StableMax) and the authors' utils.py.
"""
import sympy as sp

from theory import Card, Identity, Source

D = sp.Symbol("D", positive=True)
K = sp.Symbol("K", integer=True, positive=True)

TAIL = Card(
    id="stablemax.tail.loss",
    title="StableMax cross-entropy at margin D over K - 1 zero logits: log(1 + (K-1)/(D+1)), rate (K-1)/D",
    symbols=(D, K),
    assumptions=(K >= 2,),
    claims=(
        Identity("tail_loss", sp.log(1 + (K - 1) / (D + 1)), "stablemax_loss",
                 arguments={"margin": D, "classes": K, "quantity": "loss"}),
        Identity("tail_rate", K - 1, "stablemax_loss", arguments={"margin": D, "classes": K, "quantity": "tail_rate"}),
    ),
    sample={D: (1e-2, 1e4), K: (2, 20)},
    source=Source("2501.04697", "Sec. 5 (StableMax, s(x)); utils.py (authors' code, read through a fork)",
                  "Prieto, Barsbey, Mediano, Birdal 2025", "Grokking at the edge of numerical stability"),
    notes="s(x) is the authors' code convention (x + 1 for x >= 0, 1/(1 - x + 1e-30) for x < 0), read from the code "
          "[A]; the loss and its 1/D tail are derived here (SymPy on the Piecewise definition; limit D -> oo of D loss). "
          "Numeric route: the authors' kernel in numpy float64 (with their 1e-30) and the definition at 50 digits "
          "(mpmath) at random K in [2, 2000], D in [1e-3, 1e8]; D * loss at D = 1e6, 1e9, 1e12. K = 113, D = 1e4: "
          "loss 1.1137e-2 (asymptote 1.1199e-2).",
)

CARDS = (TAIL,)
