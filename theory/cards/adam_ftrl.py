"""Adam is discounted FTRL: an exact identity of the update (epsilon = 0).

Setting:   Adam with step alpha, moments m_t = beta1 m_{t-1} + (1 - beta1) g_t, v_t = beta2 v_{t-1} +
           (1 - beta2) g_t^2 (coordinate-wise), epsilon = 0, with or without bias correction. The state
           p1, p2 carry beta1^(t-1), beta2^(t-1) (start 1: bias correction on; start 0: off).
Claim:     the increment Delta_t = w_t - w_{t-1} is the discounted-FTRL step
           Delta_t = argmin_D <sum_s beta1^(t-s) g_s, D> + |D|^2_{diag(1/eta_t)}/2 = -eta_t sum_s beta1^(t-s) g_s with
           eta_t = alpha (1 - beta1) / sqrt((1 - beta2) sum_s beta2^(t-s) g_s^2), times
           sqrt(1 - beta2^t)/(1 - beta1^t) with bias correction. With beta2 = beta1^2 the rate is the
           scale-free FTRL rate on the discounted losses gt_s = beta1^(t-s) g_s:
           eta_t = alpha (1 - beta1)/sqrt(1 - beta1^2) / sqrt(sum_s gt_s^2).
Reference: Ahn, Zhang, Kook, Dai, "Understanding Adam Optimizer via Online Learning of Updates: Adam is FTRL
           in Disguise", arXiv:2402.01567 (ICML 2024), Section 3 (the beta-FTRL view of Adam).
"""
import sympy as sp

from theory import Card, Identity, Source

alpha = sp.Symbol("alpha", positive=True)
beta1, beta2 = sp.symbols("beta1 beta2", positive=True)
g = sp.Symbol("g", real=True)
gs = (*sp.symbols("g1:4", real=True), sp.Symbol("g4", positive=True))  # g4 > 0: WLOG (the step is odd in g)
w, m, v, p1, p2 = sp.symbols("w m v p1 p2", real=True)
T = len(gs)

m_next = beta1 * m + (1 - beta1) * g
v_next = beta2 * v + (1 - beta2) * g**2
UPDATE = (w - alpha * (m_next / (1 - beta1 * p1)) / sp.sqrt(v_next / (1 - beta2 * p2)),
          m_next, v_next, beta1 * p1, beta2 * p2)

G1 = sum(beta1 ** (T - s) * gs[s - 1] for s in range(1, T + 1))          # discounted linear loss
V2 = sum(beta2 ** (T - s) * gs[s - 1] ** 2 for s in range(1, T + 1))
eta = alpha * (1 - beta1) / sp.sqrt((1 - beta2) * V2)
# with bias correction: eta_t sqrt(1 - beta2^t)/(1 - beta1^t), the two square roots written as one
eta_bc = alpha * (1 - beta1) / (1 - beta1**T) / sp.sqrt((1 - beta2) / (1 - beta2**T) * V2)
tilde = [beta1 ** (T - s) * gs[s - 1] for s in range(1, T + 1)]            # discounted losses (beta2 = beta1^2)
eta_sf = alpha * (1 - beta1) / sp.sqrt((1 - beta1) * (1 + beta1)) / sp.sqrt(sum(t**2 for t in tilde))

ARGS = {"gradient": g, "sequence": gs, "increment": w}

CARD = Card(
    id="adam.ftrl_identity",
    title="Adam (epsilon = 0) equals discounted FTRL with a coordinate-wise rate; scale-free when beta2 = beta1^2",
    symbols=(alpha, beta1, beta2, g, *gs),
    state=(w, m, v, p1, p2),
    update=UPDATE,
    assumptions=(beta1 < 1, beta2 < 1),
    claims=(
        Identity("ftrl_step", -eta * G1, "adam_discounted_ftrl", arguments=ARGS),
        Identity("ftrl_step_bias_corrected", -eta_bc * G1, "adam_discounted_ftrl",
                 arguments={**ARGS, "start": ((p1, 1), (p2, 1)), "bias_correction": True}),
        Identity("scale_free_ftrl_step", -eta_sf * sum(tilde), "adam_discounted_ftrl",
                 arguments={**ARGS, "substitute": ((beta2, beta1**2),), "beta2": beta1**2}),
    ),
    source=Source("2402.01567", "Section 3 (Adam as beta-FTRL); scale-free case beta1 = sqrt(beta2)",
                  "Ahn, Zhang, Kook, Dai 2024"),
    notes="The identity is exact for every step; the card fixes t = 4 symbolic gradients (the symbolic check "
          "runs Adam's recursion on g1..g4), and the numeric route runs Adam on random vector sequences of "
          "length up to 60 against the FTRL argmin. The restriction beta1 = sqrt(beta2) for the scale-free "
          "form follows the paper (also stated by arXiv:2510.03478, which generalises it).",
)
