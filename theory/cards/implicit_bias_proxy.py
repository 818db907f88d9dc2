"""AdamProxy: the beta2 -> 1 epoch-level direction of incremental (per-sample) Adam.

Setting:   incremental Adam (one sample per step, fixed cyclic order, epsilon = 0) on N samples whose
           gradients g_1..g_N are frozen over an epoch (the regime of the epoch-level analysis: w moves
           slowly at decaying steps). Moments run at their periodic steady state. Per coordinate (Adam is
           coordinate-wise); N = 3 here.
Claim:     the epoch's summed increment is -alpha C_inc sum_i [sum_j beta1^((i-j) mod N) g_j] /
           sqrt(sum_j beta2^((i-j) mod N) g_j^2), and as beta2 -> 1 it becomes
           -alpha sqrt(N) (sum_j g_j) / sqrt(sum_j g_j^2): the AdamProxy direction
           sum_i grad L_i / sqrt(sum_i grad L_i^2) (beta1 drops out).
Reference: Baek, Song, Yun, "Implicit Bias of Per-sample Adam on Separable Data: Departure from the Full-batch
           Regime", arXiv:2510.26303, Section 4 (epoch-wise approximation of Inc-Adam and the proxy algorithm).
"""
import sympy as sp

from theory import Card, Identity, Source

alpha = sp.Symbol("alpha", positive=True)
beta1, beta2 = sp.symbols("beta1 beta2", positive=True)
g = sp.Symbol("g", real=True)
gs = (*sp.symbols("g1:3", real=True), sp.Symbol("g3", positive=True))  # g3 > 0: WLOG (the step is odd in g)
w, m, v = sp.symbols("w m v", real=True)
N = len(gs)

m_next = beta1 * m + (1 - beta1) * g
v_next = beta2 * v + (1 - beta2) * g**2

CARD = Card(
    id="adam_proxy.separable.update_direction",
    title="Incremental Adam's epoch update tends to the AdamProxy direction sum g_i / sqrt(sum g_i^2) as beta2 -> 1",
    symbols=(alpha, beta1, beta2, g, *gs),
    state=(w, m, v),
    update=(w - alpha * m_next / sp.sqrt(v_next), m_next, v_next),
    assumptions=(beta1 < 1, beta2 < 1),
    claims=(Identity("proxy_direction", -alpha * sp.sqrt(N) * sum(gs) / sp.sqrt(sum(q**2 for q in gs)),
                     "incremental_adam_proxy_limit",
                     arguments={"gradient": g, "sequence": gs, "increment": w, "limit": (beta2, 1)}),),
    source=Source("2510.26303", "Section 4 (epoch-level recurrence of Inc-Adam; AdamProxy as beta2 -> 1)",
                  "Baek, Song, Yun 2025"),
    notes="Symbolic: the periodic steady state of the card's moment recursions under the cyclic frozen "
          "gradients (solved exactly), the summed increment over one epoch, and its limit beta2 -> 1. Numeric "
          "route: Adam's actual recursion run to its periodic state at beta2 = 0.5, 0.9 equals the paper's "
          "epoch formula with C_inc, and that formula tends to sqrt(N) x the proxy at beta2 = 1 - 1e-9.",
)
