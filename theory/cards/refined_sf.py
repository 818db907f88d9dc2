"""Refined schedule-free AdamW: the decoupling constant C sets the averaging exponent, independently of beta1.

Setting:   y = (1 - beta1) z + beta1 x;  z+ = z - gamma_t P g(y) (P: Adam's preconditioner; decay omitted: it
           does not enter the averaging);  x+ = (1 - c) x + c z+, with the refined weight
           c[t+1] = min(gamma_t^2 / sum_{i<=t} gamma_i^2 * (1 - beta1) C, 1) = min(C (1 - beta1)/t, 1) at a
           constant step (C = 1/(1 - beta1) recovers SF-AdamW's c = 1/t).
Claims:    x is an online average of the gradient points with c' = C/(t + beta1 C) once c < 1 (derived from the
           rule and the schedule), so the weight of y[s] in x[T] grows like s^(C - 1): the averaging exponent is
           C - 1, whatever beta1 (beta1 only sets the extrapolation y). Notes' measured exponents (comparison
           targets, research notes Sec. 3.3 [R]): 8.97 for C = 10, beta1 = 0.9; 0.999 for C = 2.
Reference: Song, Baek, Ahn, Yun, "Through the River", arXiv:2507.09846 (refined SF-AdamW; its update as a third-
           party transcription, research notes Sec. 3.3 [S]).
"""
import sympy as sp

from theory import Card, Identity, Source, grad, precond

gamma = sp.Symbol("gamma", positive=True)
beta1 = sp.Symbol("beta1", nonnegative=True)
C = sp.Symbol("C", positive=True)
c = sp.Symbol("c", positive=True)
lam = sp.Symbol("lambda", positive=True)
t = sp.Symbol("t", positive=True)
z, x = sp.symbols("z x", real=True)

Z_NEXT = z - gamma * precond(grad((1 - beta1) * z + beta1 * x))
SCHEDULE = {"weight": c, "schedule": sp.Min(C * (1 - beta1) / t, 1), "index": t}

CARD = Card(
    id="refined_sf.adamw.averaging_exponent",
    title="Refined SF-AdamW: averaging weights ~ s^(C - 1), independent of beta1",
    symbols=(gamma, beta1, C, c, lam, t),
    assumptions=(beta1 < 1, C > 1, c <= 1),
    state=(z, x),
    update=(Z_NEXT, (1 - c) * x + c * Z_NEXT),
    eigenvalue=lam,
    claims=(
        Identity("c_prime_refined", C / (t + beta1 * C), "sf_online_average_schedule",
                 conditions=(t >= C * (1 - beta1),), arguments=SCHEDULE),
        Identity("averaging_exponent", C - 1, "sf_averaging_exponent", arguments=SCHEDULE),
    ),
    sample={beta1: (0.0, 0.99), C: (1.5, 40.0), gamma: (0.001, 1.0), t: (1.0, 1000.0)},
    source=Source("2507.09846", "refined SF-AdamW (decoupling constant C); update rule: third-party transcription "
                  "(research notes Sec. 3.3 [S])", "Song, Baek, Ahn, Yun 2025",
                  "Through the River: Understanding the Benefit of Schedule-Free Methods for Language Model Training"),
    notes="Derived here: c' from the rule (theory.derive.schedule_free, as for schedule_free.sgd.online_average) "
          "with the refined schedule substituted; the exponent as lim s (w[s+1]/w[s] - 1) on the unclipped branch. "
          "Read (notes [S]): the schedule and C = 1/(1 - beta1) recovering SF. Numeric route: the weights measured "
          "by probing the rule at every step of the CLIPPED schedule for T = 1e6 and fitted log-log over "
          "[s0, 10 s0]; the notes' 8.97 (C = 10) is a finite-window fit of the same exponent 9.",
)
