"""The subgradient method on convex M-Lipschitz functions: exact last-iterate worst cases.

Setting:   x_{k+1} = x_k - gamma_k g_k, g_k a subgradient of f at x_k, f convex and M-Lipschitz,
           ||x_0 - x*|| <= D, performance f(x_n) - f* (the last iterate).
Claims:    (1) linear decay gamma_k = (D/(M sqrt(n+1)))(1 - k/(n+1)), k = 1..n, has worst case
           exactly M D/sqrt(n+1), the minimax value of the class (research notes Sec. 6, measured
           with PEPit: 0.577350, 0.447214, 0.333333 at n = 2, 4, 8 for M = D = 1); (2) every constant
           step gamma = s D/(M sqrt(n+1)) does strictly worse for n >= 2 (best constant step 0.6000,
           0.4901, 0.3877 in the notes).
Derived:   the lower bound M D/sqrt(n+1) for any positive schedule from the resisting-oracle instance
           (theory/derive/worst_case.py, exact runs of the card's rule at n = 1..4); the matching upper
           bound of the linear decay is stated (Zamani & Glineur 2023, arXiv 2307.11134, attribution
           [U] in the notes) and checked by the performance-estimation SDP built from the card's rule.
Reference: Defazio, Cutkosky, Mehta, Mishchenko, arXiv 2310.07831 (linear decay is worst-case
           optimal); Goujaud et al., PEPit, arXiv 2201.04040; Drori & Teboulle 2016 (resisting oracle).
"""
import sympy as sp

from theory import Card, Simulation, Source, WorstCase, grad

x = sp.Symbol("x")
gamma = sp.Symbol("gamma", positive=True)
M = sp.Symbol("M", positive=True)
D = sp.Symbol("D", positive=True)
n = sp.Symbol("n", integer=True, positive=True)
s = sp.Symbol("s", positive=True)
lam = sp.Symbol("lambda", positive=True)   # the per-mode eigenvalue every grad(.) rule declares (unused here)
k = sp.Symbol("k", integer=True, positive=True)

SOURCE = Source("2310.07831", "abstract (linear decay is worst-case optimal); exact value by PEP, research notes "
                "Sec. 6 and 8", "Defazio, Cutkosky, Mehta, Mishchenko 2023",
                "Optimal Linear Decay Learning Rate Schedules and Further Refinements")
LINEAR_DECAY = D / (M * sp.sqrt(n + 1)) * (1 - k / (n + 1))
COMMON = dict(step=gamma, index=k, steps=n, radius=D, constants={"M": M}, function_class="convex_lipschitz")
SIM = Simulation("worst_case_subgradient", at={M: 1, D: 1}, spectrum=(1.0,), steps=10, seeds=1,
                 options={"n_max": 8})

CARDS = (
    Card(
        id="subgradient.lipschitz.linear_decay_tight",
        title="Subgradient method, linear-decay steps: worst case of f(x_n) - f* is exactly M D/sqrt(n+1)",
        symbols=(gamma, M, D, n, lam), eigenvalue=lam,
        state=(x,), update=(x - gamma * grad(x),),
        assumptions=(n <= 8,),
        sample={n: (1, 8)},
        claims=(WorstCase("linear_decay_worst_case", value=M * D / sp.sqrt(n + 1), schedule=LINEAR_DECAY, tight=True,
                          statement="max over convex M-Lipschitz f, ||x0 - x*|| <= D, of f(x_n) - f* equals "
                                    "M D/sqrt(n+1) for gamma_k = (D/(M sqrt(n+1)))(1 - k/(n+1))", **COMMON),),
        source=SOURCE, simulation=SIM,
        notes="n <= 8 keeps every SDP small (the closed form is claimed for all n; checked up to 8).",
    ),
    Card(
        id="subgradient.lipschitz.constant_step_worse",
        title="Subgradient method, any constant step: worst case of f(x_n) - f* exceeds M D/sqrt(n+1) (n >= 2)",
        symbols=(gamma, M, D, n, s, lam), eigenvalue=lam,
        state=(x,), update=(x - gamma * grad(x),),
        assumptions=(n >= 2, n <= 8, s <= 4),
        sample={n: (2, 8), s: (0.05, 4)},
        claims=(WorstCase("constant_step_worst_case", value=M * D / sp.sqrt(n + 1), schedule=s * D / (M * sp.sqrt(n + 1)),
                          tight=False, sense="lower", strict=True,
                          statement="for every constant step gamma = s D/(M sqrt(n+1)) (0 < s <= 4) the worst case "
                                    "of f(x_n) - f* is strictly above M D/sqrt(n+1), the linear-decay value",
                          **COMMON),),
        source=SOURCE,
    ),
)
