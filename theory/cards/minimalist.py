"""Minimalist model of progressive sharpening: sharpness at the global minima, imbalance, GD/SGD.

Setting:   f(x; theta) = (x^T u) v_1 ... v_{D-1} (a deep linear network with one neuron per layer),
           u in R^d, depth D >= 2; L = |X u P - y|^2 / (2N), P = prod v_i, N <= d examples, X of
           full row rank with SVD X = sum_j sigma_j e_j w_j^T (sigma_1 the largest), d_j = e_j^T y,
           dataset difficulty Q = sum_j d_j^2 / sigma_j^2 (= |beta*|^2, beta* = X^+ y),
           S_d2 = sum_j d_j^2 = |y|^2. Sharpness S = top eigenvalue of the Hessian of L.
Claims:    (1) at the balanced minimum (|u| = |v_i|, reached by gradient flow from balanced init)
           (1/N)[sigma_1^2 Q^((D-1)/D) + (D-1) d_1^2 Q^(-1/D)] <= S
                                          <= (1/N)[sigma_1^2 Q^((D-1)/D) + (D-1) S_d2 Q^(-1/D)];
           exactly, the non-zero Hessian spectrum is that of
           (1/N)[Q^((D-1)/D) X X^T + (D-1) Q^(-1/D) y y^T] (rank N), and the bounds are its (1,1)
           entry in the e-basis and Weyl's inequality;
           (2) D = 2 with imbalance C = |Pi_W u|^2 - v^2 (conserved by gradient flow):
           v*^2 = (sqrt(C^2 + 4Q) - C)/2 and (1/N)[sigma_1^2 v*^2 + d_1^2/v*^2] <= S
           <= (1/N)[sigma_1^2 v*^2 + S_d2/v*^2]; S is NOT monotone in C;
           (3) one step of GD changes the imbalance by exactly eta^2 (v^2 |g|^2 - (u^T g)^2),
           g = X^T r / N, and a minibatch step by that plus eta^2 (N-B)/(B(N-1)) (v^2 tr Sigma -
           u^T Sigma u) in expectation (Sigma: covariance of the per-example gradients).
Reference: Yoo, Song, Yun, "Understanding Sharpness Dynamics in NN Training with a Minimalist
           Example", ICML 2025, arXiv:2506.06940 (Sec. 4: sharpness at minima; Sec. 5: GD/SGD and
           the imbalance). The statements were taken from a detailed paper note and re-derived
           here (the arXiv text itself could not be read through the search tool).
"""
import sympy as sp

from theory import Card, Identity, Model, Observed, Relation, Simulation, Source

SOURCE_MINIMA = Source("2506.06940", "Sec. 4 (sharpness at the balanced minimum, depth D)", "Yoo, Song, Yun 2025")
SOURCE_TWO = Source("2506.06940", "Sec. 4-5 (D = 2, imbalance C)", "Yoo, Song, Yun 2025")
SOURCE_GD = Source("2506.06940", "Sec. 5 (GD/SGD increase the imbalance; Thm 5.9 per the note)",
                   "Yoo, Song, Yun 2025")

# -- shared symbols ---------------------------------------------------------------------------------
D = sp.Symbol("D", positive=True, integer=True)
N = sp.Symbol("N", positive=True, integer=True)
sigma1, d1, Q, Sd2 = sp.symbols("sigma_1 d_1 Q S_d2", positive=True)
S = sp.Symbol("S")                 # exact top eigenvalue of the dense Hessian (numeric model)
dS_dC = sp.Symbol("dS_dC")         # derivative of the exact sharpness along the minima, in C
DATA = {"seed": 0, "extra_dims": 3}
RANGES = {sigma1: (1.0, 4.0), d1: (0.1, 1.5), Q: (0.5, 20.0), Sd2: (2.3, 8.0), N: (2, 8)}  # d_1^2 < S_d2 here
# consistency of (sigma_1, d_1, Q, S_d2) with data whose top singular value is sigma_1 (and N >= 2 modes):
# every data set has d_1^2 <= S_d2 <= Q sigma_1^2 (the identities hold without it; the model needs it)
INSTANCE = (d1 ** 2 < Sd2, Sd2 <= Q * sigma1 ** 2)

# -- (1) balanced minimum, depth D ------------------------------------------------------------------
S_lower = (sigma1 ** 2 * Q ** ((D - 1) / D) + (D - 1) * d1 ** 2 * Q ** (-1 / D)) / N
S_upper = (sigma1 ** 2 * Q ** ((D - 1) / D) + (D - 1) * Sd2 * Q ** (-1 / D)) / N
S_hat = sigma1 ** 2 * Q ** ((D - 1) / D) / N      # the paper's predicted sharpness S_hat_D
# "instance": the relations under which the numeric route can realise data with these parameters
BALANCED_ARGS = {"depth": D, "samples": N, "sigma1": sigma1, "d1": d1, "difficulty": Q, "target_sq": Sd2,
                 "instance": INSTANCE}

BALANCED = Card(
    id="minimalist.balanced_minimum.sharpness_bounds",
    title="Minimalist model, balanced minimum: two-sided bound on the sharpness (depth D)",
    symbols=(D, N, sigma1, d1, Q, Sd2),
    assumptions=INSTANCE,
    claims=(
        Identity("lower", S_lower, "minimalist_balanced_rayleigh", arguments=BALANCED_ARGS),
        Identity("upper", S_upper, "minimalist_balanced_weyl", arguments=BALANCED_ARGS),
        Relation("S_above_lower", S, ">=", S_lower, statement="exact top Hessian eigenvalue >= the lower bound"),
        Relation("S_below_upper", S, "<=", S_upper, statement="exact top Hessian eigenvalue <= the upper bound"),
    ),
    model=Model("minimalist_balanced", (S,), data=DATA, instances=True),
    sample={D: (2, 6), **RANGES},
    source=SOURCE_MINIMA,
    notes="Identities: 'lower' is derived as e_1^T G e_1 of the Gauss-Newton Gram matrix at the balanced "
          "minimum (symbolic D, layer symmetry checked against explicit products for D = 2..5); 'upper' as "
          "lambda_max of the u-block plus the trace of the rank-one layer block (Weyl). Numeric route: the "
          "same quantities from a finite-difference Jacobian on a random realisation. Relations: the model "
          "realises (N, sigma_1, d_1, Q, S_d2) by a random X = E diag(sigma) W^T, y = E d (the other "
          "singular values and d_j drawn from the data seed; extra_dims = d - N), computes the balanced "
          "minimum from beta* = X^+ y (a = |beta*|^(1/D), not from the claim), and takes the top "
          "eigenvalue of the exact dense Hessian (Gauss-Newton + residual terms) by eigvalsh; independent "
          "route: a central-difference Hessian of the analytic gradient. The construction is an instance "
          "realising the paper's claim, not the paper's own data.",
)


# -- (2) D = 2: minima on the imbalance level set -----------------------------------------------------
C = sp.Symbol("C", real=True)
Vs = sp.Symbol("V", positive=True)          # a level V = v^2 (dummy of the bound-minimiser derivation)
v_star_sq = (sp.sqrt(C ** 2 + 4 * Q) - C) / 2
two_lower = (sigma1 ** 2 * v_star_sq + d1 ** 2 / v_star_sq) / N
two_upper = (sigma1 ** 2 * v_star_sq + Sd2 / v_star_sq) / N
C_lower_argmin = Q * sigma1 / d1 - d1 / sigma1              # the lower bound's minimiser (v*^2 = d_1/sigma_1)
V_hi = sp.sqrt(2 * Sd2 - d1 ** 2) / sigma1                  # above this v*^2, S grows with v*^2 (see notes)
C_decreasing = Q / V_hi - V_hi                              # C on the level set at v*^2 = V_hi

TWO_LAYER_SAMPLE = {N: (2, 8), C: (-10.0, 25.0), sigma1: (1.5, 2.5), d1: (0.3, 1.5), Q: (1.5, 4.0), Sd2: (2.3, 3.3)}
TWO_LAYER_MODEL = Model("minimalist_two_layer", (S, dS_dC), data={"seed": 0, "extra_dims": 2}, instances=True)

TWO_LAYER = Card(
    id="minimalist.two_layer.imbalance_sharpness",
    title="Minimalist model, D = 2: sharpness of the minimum with imbalance C",
    symbols=(N, C, sigma1, d1, Q, Sd2),
    claims=(
        Identity("v_star_sq", v_star_sq, "minimalist_imbalance_minimum", arguments={"imbalance": C, "difficulty": Q}),
        Relation("S_above_lower", S, ">=", two_lower, statement="exact sharpness >= (sigma_1^2 v*^2 + d_1^2/v*^2)/N"),
        Relation("S_below_upper", S, "<=", two_upper, statement="exact sharpness <= (sigma_1^2 v*^2 + S_d2/v*^2)/N"),
        Identity("C_lower_argmin", C_lower_argmin, "minimalist_bound_argmin",
                 arguments={"bound": sigma1 ** 2 * Vs + d1 ** 2 / Vs, "level": Vs, "imbalance": C, "difficulty": Q}),
    ),
    model=TWO_LAYER_MODEL,
    # a box where the instance relations d_1^2 < S_d2 <= Q sigma_1^2 always hold (so they are not card
    # assumptions: the model raises a one-line InputError outside them) and both monotone regimes of the
    # companion card fall inside the C range
    sample=TWO_LAYER_SAMPLE,
    source=SOURCE_TWO,
    compare_with="minimalist.two_layer.sharpness_not_monotone",
    notes="v*^2 is derived from the level set {|Pi_W u|^2 v^2 = Q, |Pi_W u|^2 - v^2 = C} (numeric route: brentq "
          "and a 50-digit root, and the imbalance measured on a realised minimum). The bounds are checked "
          "against the exact dense Hessian at the minimum with imbalance C of random realisations (the minimum "
          "found by brentq on the level set, not from the claim; u gets a random null-space part, which the "
          "imbalance ignores); independent route: a central-difference Hessian. C_lower_argmin: the lower "
          "bound sigma_1^2 V + d_1^2/V is smallest at V = d_1/sigma_1, i.e. at this C (derived; numeric route: "
          "bounded Brent and a 50-digit root of b'(V)). The non-monotonicity is the companion card.",
)

NOT_MONOTONE = Card(
    id="minimalist.two_layer.sharpness_not_monotone",
    title="Minimalist model, D = 2: the sharpness of the minima is not monotone in the imbalance C",
    symbols=(N, C, sigma1, d1, Q, Sd2),
    claims=(
        Relation("increasing_in_C", dS_dC, ">=", 0, where=(C * sigma1 * d1 >= Q * sigma1 ** 2 - d1 ** 2,),
                 statement="past the lower bound's minimiser C >= Q sigma_1/d_1 - d_1/sigma_1 (i.e. v*^2 <= "
                           "d_1/sigma_1) more imbalance is SHARPER"),
        Relation("decreasing_in_C", dS_dC, "<=", 0, where=(C <= C_decreasing,),
                 statement="while v*^2 >= sqrt(2 S_d2 - d_1^2)/sigma_1 more imbalance is flatter"),
    ),
    model=TWO_LAYER_MODEL,
    sample=TWO_LAYER_SAMPLE,
    source=SOURCE_TWO,
    compare_with="minimalist.two_layer.imbalance_sharpness",
    notes="Our derivation (the research notes' correction to a common reading; not a statement printed in the "
          "paper): with M(V) = V X X^T + y y^T / V, S = lambda_max(M)/N is convex in V = v*^2 and Hellmann-"
          "Feynman gives N dS/dV = a - b/V^2 with a = q^T X X^T q <= sigma_1^2 and b = (q^T y)^2, where "
          "lambda_max >= e_1^T M e_1 forces b >= d_1^2 and a >= sigma_1^2 - (S_d2 - d_1^2)/V^2. Hence dS/dV < 0 "
          "for V < d_1/sigma_1 and dS/dV > 0 for V^2 > (2 S_d2 - d_1^2)/sigma_1^2. v*^2 decreases in C from "
          "+inf to 0, so S decreases in C for C <= C(V_hi) and increases for C >= Q sigma_1/d_1 - d_1/sigma_1: "
          "S is not monotone in C on any data set, and 'more imbalance => flatter' holds only in the first "
          "regime. dS/dC is computed exactly on random realisations (complex step of the dense Hessian along "
          "d theta/dC from the implicit function theorem, then Hellmann-Feynman); independent route: central "
          "differences of S(C).",
)


# -- (3) D = 2: one GD / SGD step changes the imbalance ------------------------------------------------
u1, u2, v = sp.symbols("u_1 u_2 v", real=True)                 # state: row-space part of u, and v
a1, a2, b = sp.symbols("a_1 a_2 b", real=True)                 # the point where the step is taken
eta = sp.Symbol("eta", positive=True)
B = sp.Symbol("B", positive=True, integer=True)
gh = sp.symbols("ghat_1 ghat_2", real=True)                   # the gradient of L in beta = u v used by the step
G = tuple(tuple(sp.Symbol(f"g_{i}{k}", real=True) for k in (1, 2)) for i in (1, 2, 3))  # per-example gradients
n_ex = len(G)
gbar = sp.Matrix([sum(g[k] for g in G) / n_ex for k in range(2)])
cov = sum(((sp.Matrix(g) - gbar) * (sp.Matrix(g) - gbar).T for g in G), sp.zeros(2, 2)) / n_ex
a_vec = sp.Matrix([a1, a2])
gd_increment = eta ** 2 * (b ** 2 * (gbar.T * gbar)[0] - (a_vec.T * gbar)[0] ** 2)
sgd_excess = eta ** 2 * (n_ex - B) / (B * (n_ex - 1)) * (b ** 2 * cov.trace() - (a_vec.T * cov * a_vec)[0])
INCREMENT_ARGS = {"invariant": u1 ** 2 + u2 ** 2 - v ** 2, "at": ((u1, a1), (u2, a2), (v, b)),
                  "gradient": gh, "per_example": G}

INCREMENT = Card(
    id="minimalist.two_layer.imbalance_increment",
    title="Minimalist model, D = 2: one GD/SGD step raises the imbalance by eta^2 (v^2|g|^2 - (u^T g)^2)",
    symbols=(eta, a1, a2, b, B, *gh, *[x for g in G for x in g]),
    state=(u1, u2, v),
    # GD/SGD on L(u v): grad_u L = v g, grad_v L = u^T g with g = grad_beta L (= X^T r / N for GD)
    update=(u1 - eta * v * gh[0], u2 - eta * v * gh[1], v - eta * (u1 * gh[0] + u2 * gh[1])),
    assumptions=(B <= n_ex,),
    claims=(
        Identity("gd_increment", gd_increment, "minimalist_invariant_increment", arguments=INCREMENT_ARGS),
        Identity("sgd_expected_increment", gd_increment + sgd_excess, "minimalist_invariant_increment",
                 arguments={**INCREMENT_ARGS, "batch": B}),
    ),
    sample={eta: (0.01, 2.0)},
    source=SOURCE_GD,
    notes="The card holds the update rule (u, v) <- (u - eta v g_hat, v - eta u^T g_hat) on the row-space part "
          "of u (g_hat lies in the row space of X, so Pi_W commutes with the step); the derivation expands "
          "C(x+) - C(x) for C = |u|^2 - v^2, with g_hat the mean of n = 3 per-example gradients g_i = x_i r_i "
          "in R^2 (GD), or their mean over a uniformly random batch of B of them drawn without replacement, in "
          "expectation over the batch (indicator moments E prod_S xi_i = prod_{m<|S|} (B-m)/(n-m)). The "
          "minibatch excess is eta^2 (n-B)/(B(n-1)) (v^2 tr Sigma - u^T Sigma u), Sigma the per-example "
          "covariance (1/n) sum (g_i - g)(g_i - g)^T: nonnegative when v^2 >= |u|^2 (e.g. near balance), "
          "not in general. Numeric route: the update applied numerically for every B-subset, averaged, in "
          "float64 and at 50 digits. The paper's own SGD statement (Thm 5.9, sign conditions) was not "
          "readable here; this card claims only the exact expectation.",
)


# -- (4) simulation: GD / SGD on the model ---------------------------------------------------------------
SIMULATED = Card(
    id="minimalist.gd_sgd.final_sharpness",
    title="Minimalist model: GD/SGD final sharpness vs the balanced-minimum prediction S_hat_D",
    symbols=(),
    claims=(
        Observed("gd_band", "full-batch GD from a small balanced init, below the edge of stability, ends inside "
                            "[S_lower, S_upper] of the balanced minimum (N, D, step size varied)",
                 observer="gd_band"),
        Observed("level_set_band", "every D = 2 run (GD or SGD) ends inside the two-layer bounds evaluated at its "
                                   "own measured final imbalance C", observer="level_set_band"),
    ),
    simulation=Simulation("minimalist_sharpness", steps=2000, seeds=1,
                          options={"N": 16, "D": 2, "B": 0, "eta_frac": 0.3, "every": 100, "slack": 0.03, "slack_level_set": 1e-3,
                                   "alpha_frac": 0.3, "loss_tol": 1e-10}),
    source=Source("2506.06940", "Sec. 4-5 and the experiments (S_hat_D vs final sharpness)", "Yoo, Song, Yun 2025"),
    notes="Synthetic data (X Gaussian N x 2N / sqrt(2N), y Gaussian), not the paper's CIFAR/SVHN subsets. Runs: "
          "base (N=16, D=2, full batch, eta = 0.3 x 2/S_upper, u started in the row space of X with |u| = v_i), then N in {8, 24}, D in {3, 4}, B = 4 (SGD, "
          "batches without replacement) and eta = 0.6 x 2/S_upper, one change at a time (B = 0: full batch); float64; sharpness = "
          "top eigenvalue of the dense Hessian. Step sizes stay below 2/S_upper, so this checks where GD/SGD "
          "land (the balanced band, to 3 %: GD drifts the imbalance by O(eta^2) per step, which moves the end point "
          "off the balanced minimum; for D = 2 the level-set band at the measured imbalance, to 1e-3), not the edge-of-"
          "stability phase. The paper's reported trends (S up with N, D, B; down with eta at small B) are "
          "printed per run, not judged.",
)

CARDS = (BALANCED, TWO_LAYER, NOT_MONOTONE, INCREMENT, SIMULATED)
