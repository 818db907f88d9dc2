"""Schedule refinement (arXiv 2310.07831): the refinement bound and the refined schedule.

Setting:   SGD / the subgradient method x_{t+1} = x_t - lambda_t g_t, t = 0..T-1, gradient norms
           G_t = ||g_t||, ||x_0 - x*|| <= D. The bound the paper's code minimises (``find_schedule.func``,
           research notes Sec. 6):
           B(lambda) = D^2/(2 sum_t lambda_t) + sum_t G_t^2 lambda_t^2/(2 sum_t lambda_t)
                       + 1/2 sum_{k=0}^{T-2} lambda_k/((sum_{t>k} lambda_t)(sum_{t>=k} lambda_t)) sum_{t>=k} G_t^2 lambda_t^2.
Claims:    (1) with G_t = M, B is an upper bound on the exact worst case of f(x_n) - f* (T = n steps,
           lambda_t = gamma_{t+1}) over convex M-Lipschitz f, for the linear-decay schedule and for the
           constant step D/(M sqrt(n+1)) (notes: n = 8, B = 0.749 vs PEP 0.333 and 0.670 vs 0.406);
           (2) the refined schedule eta_t ~ G_t^-2 sum_{p>t} G_p^-2 (the code's
           ``find_closed_form_schedule``) is linear decay 1 - t/(T-1) for constant norms.
Derived:   B for the card's schedule with closed-form inner sums (theory/derive/worst_case.py); the
           refined schedule by ``summation``. Checked: the SDP of the card's rule (PEPit) below B, the
           resisting instance below B, the code's formula in NumPy; the refined schedule against the
           closed form in NumPy and against a scipy minimiser of B (shape, t < T - 1).
Reference: Defazio, Cutkosky, Mehta, Mishchenko, arXiv 2310.07831 and its code
           facebookresearch/adaptive_scheduling (which iterate B bounds, x_T or x_{T+1}: [U] in the notes;
           here B is checked against f(x_n) - f* after n = T steps).
"""
import sympy as sp

from theory import Card, Identity, Source, WorstCase, grad

x = sp.Symbol("x")
gamma = sp.Symbol("gamma", positive=True)
M = sp.Symbol("M", positive=True)
D = sp.Symbol("D", positive=True)
n = sp.Symbol("n", integer=True, positive=True)
lam = sp.Symbol("lambda", positive=True)   # the per-mode eigenvalue every grad(.) rule declares (unused here)
k = sp.Symbol("k", integer=True, positive=True)
t = sp.Symbol("t", integer=True, nonnegative=True)
T = sp.Symbol("T", integer=True, positive=True)
_j, _s = sp.Symbol("j", integer=True, nonnegative=True), sp.Symbol("u", integer=True, nonnegative=True)

SOURCE = Source("2310.07831", "the bound minimised by the code (find_schedule.func) and the closed-form refinement "
                "(find_closed_form_schedule); research notes Sec. 6", "Defazio, Cutkosky, Mehta, Mishchenko 2023",
                "Optimal Linear Decay Learning Rate Schedules and Further Refinements")


def refinement_bound(step_k):
    """B as the paper's code writes it, with G_t = M and lambda_t = step_k at k = t + 1 (unevaluated sums)."""
    lam_t = lambda i: step_k.subs(k, i + 1)  # noqa: E731
    total = sp.Sum(lam_t(_s), (_s, 0, n - 1))
    sq_from = lambda lo: sp.Sum(M ** 2 * lam_t(_s) ** 2, (_s, lo, n - 1))  # noqa: E731
    inner = lam_t(_j) * sq_from(_j) / (sp.Sum(lam_t(_s), (_s, _j + 1, n - 1)) * sp.Sum(lam_t(_s), (_s, _j, n - 1)))
    return D ** 2 / (2 * total) + sq_from(0) / (2 * total) + sp.Sum(inner, (_j, 0, n - 2)) / 2


LINEAR_DECAY = D / (M * sp.sqrt(n + 1)) * (1 - k / (n + 1))
CONSTANT = D / (M * sp.sqrt(n + 1))
COMMON = dict(step=gamma, index=k, steps=n, radius=D, constants={"M": M}, function_class="convex_lipschitz",
              tight=False, sense="upper", derivation="refinement_bound")

CARDS = (
    Card(
        id="schedule_refinement.bound.upper_on_pep",
        title="The refinement bound of 2310.07831 (G_t = M) bounds the exact worst case of the subgradient method",
        symbols=(gamma, M, D, n, lam), eigenvalue=lam,
        state=(x,), update=(x - gamma * grad(x),),
        assumptions=(n >= 2, n <= 8), sample={n: (2, 8)},
        claims=(
            WorstCase("linear_decay_bound", value=refinement_bound(LINEAR_DECAY), schedule=LINEAR_DECAY,
                      statement="worst case of f(x_n) - f* <= B(lambda) for linear decay", **COMMON),
            WorstCase("constant_step_bound", value=refinement_bound(CONSTANT), schedule=CONSTANT,
                      statement="worst case of f(x_n) - f* <= B(lambda) for the constant step D/(M sqrt(n+1))",
                      **COMMON),
        ),
        source=SOURCE,
    ),
    Card(
        id="schedule_refinement.closed_form.constant_norms_linear_decay",
        title="The refined schedule eta_t ~ G_t^-2 sum_{p>t} G_p^-2 is linear decay for constant norms",
        symbols=(t, T),
        assumptions=(T >= 3, t <= T - 2, T <= 200),
        sample={T: (3, 200), t: (0, 198)},
        claims=(Identity("linear_decay_for_constant_norms", value=1 - t / (T - 1),
                         derivation="refined_schedule_constant_norms", arguments={"t": t, "T": T}),),
        source=SOURCE,
        notes="eta normalised by eta_0; eta_{T-1} = 0 (the code's closed form).",
    ),
)
