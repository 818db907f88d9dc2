"""Adam without bias correction on a smooth loss: the modified flow at order h (Cattaneo et al.).

Setting:   m+ = beta1 m + (1 - beta1) g(x), v+ = beta2 v + (1 - beta2) g(x)^2 (elementwise),
           x+ = x - h m+ / sqrt(v+ + epsilon), on the slow manifold (m, v functions of x expanded in h).
Claim:     per coordinate j, dx_j/dt = -P_j [g_j + h C_j d_j ||g||_{1,eps}], P_j = (g_j^2 + eps)^(-1/2),
           ||g||_{1,eps} = sum_k sqrt(g_k^2 + eps) (so d_j of it = (H (g P))_j), and
           C_j = beta1/(1 - beta1) - (beta2/(1 - beta2)) g_j^2/(g_j^2 + eps) + (1/2) eps/(g_j^2 + eps).
           As eps -> 0 with beta2 > beta1, C_j < 0: the flow *anti*-penalises the one-norm of the gradient.
Derived:   backward error analysis of the three-state rule, the moments on their slow manifold, order by
           order on a generic loss in one dimension (the two-dimensional derivation of the two moments
           takes minutes); the multi-dimensional form is checked by the measured order of the global error
           of the real method in 2 and 3 dimensions (slope 2; the memoryless flow's 1) and at hypothesis points.
Reference: Cattaneo, Klusowski, Shigida, "On the implicit bias of Adam", ICML 2024, arXiv:2309.00079 (abstract:
           the correction penalises or, typically, impedes the reduction of the perturbed one-norm); the form
           of C_j is this suite's derivation (shared/research §2.2), not the paper's constants.
"""
import sympy as sp

from theory import Card, ModifiedFlow, Source, grad, hvp

x, m, v = sp.symbols("x m v")
h = sp.Symbol("h", positive=True)
beta1 = sp.Symbol("beta1", nonnegative=True)
beta2 = sp.Symbol("beta2", positive=True)
epsilon = sp.Symbol("epsilon", positive=True)
lam = sp.Symbol("lambda", positive=True)

g = grad(x)
P = 1 / sp.sqrt(g ** 2 + epsilon)
C = beta1 / (1 - beta1) - beta2 / (1 - beta2) * g ** 2 / (g ** 2 + epsilon) + epsilon / (2 * (g ** 2 + epsilon))
m_next = beta1 * m + (1 - beta1) * g
v_next = beta2 * v + (1 - beta2) * g ** 2

CARD = Card(
    id="adam.smooth.modified_flow",
    title="Adam (no bias correction): the order-h modified flow, which anti-penalises the gradient's one-norm",
    symbols=(h, beta1, beta2, epsilon, lam), eigenvalue=lam,
    assumptions=(beta1 < 1, beta2 < 1),
    sample={beta1: (0.0, 0.8), beta2: (0.5, 0.9), epsilon: (0.1, 2.0)},
    state=(x, m, v),
    update=(x - h * m_next / sp.sqrt(v_next + epsilon), m_next, v_next),
    claims=(ModifiedFlow("adam_flow", step=h, flow=-P * (g + h * C * hvp(x, g * P)), order=1, dimension=1,
                         statement="dx_j/dt = -P_j [g_j + h C_j d_j ||g||_{1,eps}] with C_j = beta1/(1-beta1) - "
                                   "(beta2/(1-beta2)) g_j^2/(g_j^2+eps) + eps/(2(g_j^2+eps)) (global error O(h^2) "
                                   "on the slow manifold)"),),
    source=Source("2309.00079", "abstract (one-norm penalised or impeded); the coefficient derived here",
                  "Cattaneo, Klusowski, Shigida 2024", "On the implicit bias of Adam"),
    notes="The symbolic route runs on a one-dimensional generic loss (claim dimension=1); the claim's "
          "coordinate structure (P_j, the coupling through H (g P)) is checked by the error order of the real "
          "three-state method against this flow in 2 and 3 dimensions, the moments started on their slow manifold.",
)
