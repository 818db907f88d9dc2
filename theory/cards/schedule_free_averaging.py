"""Schedule-free SGD performs weight averaging: exact identities of the update rule.

Setting:   y[t] = (1 - beta) z[t] + beta x[t],  z[t+1] = z[t] - gamma g[t] (g[t] = grad f(y[t]; noise), ANY
           gradient sequence),  x[t+1] = (1 - c[t+1]) x[t] + c[t+1] z[t+1] (ANY weights c[t] in (0, 1]).
Claims:    (online average of the gradient points) x[t+1] = (1 - c'[t+1]) x[t] + c'[t+1] y[t+1] with
           c' = c / (1 - beta + beta c), exactly, for every step;
           (weights, c[t] = 1/t) the weight of z[s] in x[T] is 1/T (x is the uniform average of z); the weight of
           y[s] in x[T] satisfies w[s+1]/w[s] = 1 + beta/((1 - beta) s) exactly, so w[s] ~ s^(a - 1) with
           a = 1/(1 - beta) (beta = 0.9: weights ~ s^9, a recency-weighted average of the last ~10% of y's);
           (momentum form) with D = z - x: D[t+1] = (1 - c)(D[t] - gamma g[t]),
           x[t+1] - x[t] = c/(1 - c) D[t+1], and y = x + (1 - beta) D.
Reference: Song, Baek, Ahn, Yun, "Through the River: Understanding the Benefit of Schedule-Free Methods for
           Language Model Training", arXiv:2507.09846, Sec. 3 (SF implicitly performs weight averaging; the
           statements here are the research notes' Sec. 3.2 [R], re-derived); the method: Defazio et al.,
           "The Road Less Scheduled", arXiv:2405.15682, Sec. 2.
"""
import sympy as sp

from theory import Card, Identity, Observed, Simulation, Source, grad

gamma = sp.Symbol("gamma", positive=True)
beta = sp.Symbol("beta", nonnegative=True)
c = sp.Symbol("c", positive=True)             # the averaging weight c[t+1] of this step
lam = sp.Symbol("lambda", positive=True)      # the rule's per-mode curvature (unused by these identities)
T = sp.Symbol("T", positive=True, integer=True)   # horizon
s = sp.Symbol("s", positive=True, integer=True)   # slot of an averaged point
D = sp.Symbol("D", real=True)                 # z - x
g = sp.Symbol("g", real=True)                 # the gradient received at this step (arbitrary)
z, x = sp.symbols("z x", real=True)
z1, x1 = sp.symbols("z_next x_next", real=True)
t = sp.Symbol("t", positive=True, integer=True)   # the schedule's step index

Y = (1 - beta) * z + beta * x
Z_NEXT = z - gamma * grad(Y)
STATE, UPDATE = (z, x), (Z_NEXT, (1 - c) * x + c * Z_NEXT)
SOURCE = Source("2507.09846", "Sec. 3, SF as weight averaging (statements: research notes Sec. 3.2 [R]); method: "
                "arXiv:2405.15682 Sec. 2", "Song, Baek, Ahn, Yun 2025",
                "Through the River: Understanding the Benefit of Schedule-Free Methods for Language Model Training")
UNIFORM = {"weight": c, "schedule": 1 / t, "index": t}

AVERAGING = Card(
    id="schedule_free.sgd.online_average",
    title="Schedule-free SGD: x is an online average of the gradient points y, weights ~ s^(1/(1-beta) - 1)",
    symbols=(gamma, beta, c, lam, T, s),
    assumptions=(beta < 1, c <= 1),
    state=STATE,
    update=UPDATE,
    eigenvalue=lam,
    claims=(
        Identity("c_prime", c / (1 - beta + beta * c), "sf_online_average", arguments={"weight": c}),
        Identity("z_weight_uniform", 1 / T, "sf_average_weights", conditions=(s <= T,),
                 arguments={**UNIFORM, "of": "iterate", "iterate": z, "slot": s, "horizon": T}),
        Identity("y_weight_ratio", 1 + beta / ((1 - beta) * s), "sf_average_weights",
                 arguments={**UNIFORM, "of": "gradient_point", "slot": s, "horizon": T, "quantity": "ratio"}),
        Identity("averaging_exponent", beta / (1 - beta), "sf_averaging_exponent", arguments=UNIFORM),  # = a - 1, a = 1/(1 - beta)
        Observed("weights_power_law", "SF-SGD run in torch (float64) with the gradients chosen so that y[s] is the "
                                      "s-th unit vector: x[T] then holds the weight of every y[s]; they equal the "
                                      "closed form a Gamma(T) Gamma(s + a - 1)/(Gamma(s) Gamma(T + a)) (the product of "
                                      "the derived ratios) to 1e-9, and the log-log slope of w[s] over s in [T/10, T] "
                                      "is within rtol = 3% of a - 1 (the finite-s correction is O(a/s))",
                 value=beta / (1 - beta), rtol=0.03),
    ),
    sample={beta: (0.0, 0.99), c: (0.01, 1.0), gamma: (0.01, 2.0)},
    source=SOURCE,
    simulation=Simulation("sf_averaging_weights", at={beta: 0.9, gamma: 0.1, lam: 1.0}, steps=1000, seeds=1,
                          options={"betas": 3}),
    notes="Derived here from the update rule (theory.derive.schedule_free): c' = (x+ - x)/(y+ - x) with grad(.) an "
          "arbitrary symbol, checked on the rule unrolled 4 steps with symbolic c_1..c_4, g_1..g_4; the weights by "
          "SymPy's product of the derived one-step coefficients; the exponent as lim s (w[s+1]/w[s] - 1). Read "
          "from the notes (Sec. 3.2 [R]), not from the paper's text: c' and a = 1/(1 - beta). Numeric routes: the "
          "rule run at 50 digits on seeded random c and g sequences; the weights measured by solving the rule's "
          "linear equations step by step (no closed form) and fitted log-log.",
)

MOMENTUM = Card(
    id="schedule_free.sgd.momentum_form",
    title="Schedule-free SGD in momentum form: D = z - x obeys D+ = (1 - c)(D - gamma g)",
    symbols=(gamma, beta, c, lam, D, g),
    assumptions=(beta < 1, c < 1),
    state=STATE,
    update=UPDATE,
    eigenvalue=lam,
    claims=(
        Identity("D_next", (1 - c) * (D - gamma * g), "sf_step_image",
                 arguments={"quantity": z1 - x1, "next": ((z1, z), (x1, x)), "coordinates": ((z, x + D),),
                            "gradient": g}),
        Identity("x_step_over_D_next", c / (1 - c), "sf_step_image",
                 arguments={"quantity": (x1 - x) / (z1 - x1), "next": ((z1, z), (x1, x)),
                            "coordinates": ((z, x + D),), "gradient": g}),
        Identity("gradient_point", 1 - beta, "sf_step_image",
                 arguments={"quantity": (Y - x) / (z - x), "next": (), "coordinates": ((z, x + D),),
                            "gradient": g}),
    ),
    sample={beta: (0.0, 0.99), c: (0.01, 0.99), gamma: (0.01, 2.0), D: (-5.0, 5.0), g: (-5.0, 5.0)},
    source=SOURCE,
    notes="Derived here: the rule's next state with an arbitrary gradient g, rewritten with z = x + D; the claims "
          "are the notes' Sec. 3.2 item 3 [R]. Constant c gives heavy ball on x (momentum 1 - c, step gamma c); the "
          "identities hold for any c[t+1]. Numeric route: the rule at 50 digits on random sequences.",
)

CARDS = (AVERAGING, MOMENTUM)
