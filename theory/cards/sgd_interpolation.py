"""Minibatch SGD linearised at an interpolating minimum: mean-square stability, batch size, sampling.

Setting:   per-sample Hessians H_1..H_n >= 0 at a minimum where every per-sample gradient vanishes
           (square loss, interpolation); H = (1/n) sum_i H_i. SGD with batch mean H_B (B samples drawn
           with replacement, or a uniform B-subset without): x <- (I - eta H_B) x. The second moment
           evolves by T(S) = S - eta (H S + S H) + eta^2 E[H_B S H_B], with
           E[H_B (x) H_B] = H (x) H + c_B (E_i[H_i (x) H_i] - H (x) H), c_B = 1/B or (n - B)/(B (n - 1)).
           Mean-square stable iff rho(T) <= 1 (eta* where rho(T) = 1).
Claims:    1-D / commuting per-sample Hessians (per eigen-direction, a = mean curvature lambda,
           s^2 = its variance over samples): eta* = 2 lambda / (lambda^2 + c_B s^2), with heavy-ball
           momentum eta* = 2 lambda (1 - beta^2) / ((1 - beta) lambda^2 + (1 + beta) c_B s^2), both derived by
           SymPy: the sampling scheme gives E[h_B], E[h_B^2] (theory.derive.sgd_noise), the update rule's
           second-moment recursion follows from them, the Schur-Cohn engine gives its threshold.
           Orthogonal example H_i = n lambda e_i e_i^T: 2B/(lambda (B + n - 1)) with, 2B/(n lambda) without
           replacement. Unit-norm rank-one samples, B = 1: eta* = 2 = 2/Tr H for every geometry.
           Any per-sample Hessians (numeric model, ``eval --at hessians=[...] --at batch=B --at replacement=1``):
           eta* three ways; Wu-Ma-E's sufficient condition <= eta* <= 2/lambda_max; B = 1 and rank-one
           H_i: eta* Tr H <= 2 (the trace bound, which needs both hypotheses: see theory/conjectures).
References: Wu, Ma, E, "How SGD selects the global minima in over-parameterized learning: a dynamical
           stability perspective", NeurIPS 2018 (no arXiv id; sharpness and non-uniformity as in the
           authors' code leiwu0/sgd.stability); Ma, Ying, "On linear stability of SGD and input-smoothness of
           neural networks", arXiv:2105.13462; Wu, Su, "The implicit regularization of dynamical stability in
           SGD", arXiv:2305.17490. Exact operator, closed forms and counter-checks: the research notes
           (shared/research/theorems-flows-sgd-schedules.md, Section 1, [D]).
"""
import sympy as sp

from theory import Card, Identity, Model, Observed, Relation, Simulation, Source, Threshold
from theory.derive.sgd_noise import batch_mean_moments, second_moment_rule

eta, lam = sp.symbols("eta lambda", positive=True)
s = sp.Symbol("s", positive=True)                       # spread (std over samples) of the curvature
beta = sp.Symbol("beta", nonnegative=True)
B = sp.Symbol("B", positive=True, integer=True)         # batch size
n = sp.Symbol("n", positive=True, integer=True)         # number of samples
x, y, h = sp.symbols("x y h_B", real=True)    # y: the previous iterate; h_B: the batch-mean curvature (random)

MA_YING = Source("2105.13462", "linear stability at an interpolating minimum (Wu-Ma-E 2018 setting); operator and "
                 "closed forms: research notes Sec. 1.2-1.3 [D]",
                 "Ma, Ying 2021; Wu, Ma, E 2018",
                 "On linear stability of SGD and input-smoothness of neural networks")
WU_SU = Source("2305.17490", "abstract: trace of the Hessian <= 2/eta at a linearly stable minimum (here: B = 1, "
               "rank-one per-sample Hessians, research notes Sec. 1.4 [D])", "Wu, Su 2023",
               "The implicit regularization of dynamical stability in SGD")

# the stochastic rules; their second-moment recursions are derived from the sampling scheme
SGD_RULE = ((x,), (x - eta * h * x,))
HEAVY_BALL_RULE = ((x, y), (x - eta * h * x + beta * (x - y), x))


def _moment_rule(rule, replacement: bool, population=None):
    mean, second = batch_mean_moments(lam, lam**2 + s**2, B, replacement, population)
    return second_moment_rule(*rule, h, mean, second)


MC = "sgd_interpolation_mc"
# sampling ranges of the numeric checks: s/lambda <= 200 keeps 1 - (second-moment factor) ~ eta lambda >= 1e-5, so
# float64 resolves the crossing to the checks' 1e-10 (beyond it the moment factor cancels to 1 in float64)
RANGES = {lam: (0.05, 20.0), s: (0.01, 10.0)}
_STATE, _UPDATE = _moment_rule(SGD_RULE, True)
_STATE_WO, _UPDATE_WO = _moment_rule(SGD_RULE, False, n)
_STATE_HB, _UPDATE_HB = _moment_rule(HEAVY_BALL_RULE, True)
RULE_NOTE = ("The card's update rule is the second-moment recursion E[x^2] <- E[(1 - eta h_B)^2] E[x^2] of the "
             "stochastic rule x <- x - eta h_B x, derived by theory.derive.sgd_noise from the sampling scheme; "
             "its Schur-Cohn threshold is the mean-square critical step. The simulation runs real minibatch SGD "
             "on n per-sample curvatures with mean lambda and standard deviation s (equally spaced, PSD at the "
             "simulated point) and checks the general operator's threshold on that dataset too.")

COMMUTING = Card(
    id="sgd.interpolation.commuting_critical_step",
    title="Minibatch SGD (with replacement), commuting per-sample Hessians: mean-square critical step",
    symbols=(eta, lam, s, B),
    state=_STATE,
    update=_UPDATE,
    claims=(
        Threshold("eta_crit", param=eta, value=2 * lam / (lam**2 + s**2 / B)),
        Identity("variance_factor", value=1 / B, derivation="minibatch_variance_factor",
                 arguments={"batch": B, "replacement": 1}),
    ),
    source=MA_YING,
    compare_with="gd.quadratic.critical_step",
    simulation=Simulation(MC, at={lam: 1, s: 0.6, B: 2}, factors=(0.95, 1.05), steps=60, seeds=100000,
                          options={"n": 6, "replacement": 1}),
    sample={B: (1, 16), **RANGES},
    notes=RULE_NOTE,
)

COMMUTING_WITHOUT = Card(
    id="sgd.interpolation.commuting_critical_step_without_replacement",
    title="Minibatch SGD without replacement, commuting per-sample Hessians: mean-square critical step",
    symbols=(eta, lam, s, B, n),
    assumptions=(B <= n, n >= 2),
    state=_STATE_WO,
    update=_UPDATE_WO,
    claims=(
        Threshold("eta_crit", param=eta, value=2 * lam * B * (n - 1) / (B * (n - 1) * lam**2 + (n - B) * s**2)),
        Identity("variance_factor", value=(n - B) / (B * (n - 1)), derivation="minibatch_variance_factor",
                 arguments={"batch": B, "replacement": 0, "population": n}),
    ),
    source=MA_YING,
    compare_with="gd.quadratic.critical_step",
    simulation=Simulation(MC, at={lam: 1, s: 0.6, B: 2, n: 6}, factors=(0.95, 1.05), steps=60,
                          seeds=100000, options={"replacement": 0}),
    sample={B: (1, 12), n: (2, 12), **RANGES},
    notes=RULE_NOTE + " B = n is full-batch GD (c_B = 0, eta* = 2/lambda).",
)

HEAVY_BALL = Card(
    id="sgd.interpolation.heavy_ball_commuting_critical_step",
    title="Minibatch SGD with heavy-ball momentum (with replacement), commuting Hessians: mean-square critical step",
    symbols=(eta, beta, lam, s, B),
    assumptions=(beta < 1,),
    state=_STATE_HB,
    update=_UPDATE_HB,
    claims=(Threshold("eta_crit", param=eta,
                      value=2 * lam * (1 - beta**2) / ((1 - beta) * lam**2 + (1 + beta) * s**2 / B)),),
    source=MA_YING,
    compare_with="heavy_ball.quadratic.critical_step",
    simulation=Simulation(MC, at={beta: 0.5, lam: 1, s: 0.6, B: 2}, factors=(0.95, 1.05),
                          steps=60, seeds=100000, options={"n": 6, "replacement": 1}),
    sample={B: (1, 16), **RANGES},
    notes="State: the moments m_xx, m_xy, m_yy (E[x^2], E[x y], E[y^2], y the previous iterate) of "
          "x <- x - eta h_B x + beta (x - y), y <- x, derived "
          "from the sampling scheme; s = 0 recovers heavy ball's 2 (1 + beta)/lambda, beta = 0 plain SGD. The "
          "binding root is z = 1 (the Perron root of the positive second-moment map). Our derivation [D].",
)

ORTHOGONAL = Card(
    id="sgd.interpolation.orthogonal_example",
    title="Orthogonal samples H_i = n lambda e_i e_i^T: the batch size enters eta* through c_B",
    symbols=(lam, n, B),
    assumptions=(B <= n,),
    claims=(
        Identity("eta_with_replacement", value=2 * B / (lam * (B + n - 1)), derivation="commuting_dataset_threshold",
                 arguments={"values": (n * lam, 0), "probabilities": (1 / n, 1 - 1 / n), "batch": B,
                            "replacement": 1, "population": n, "param": eta, "dataset": "orthogonal"}),
        Identity("eta_without_replacement", value=2 * B / (n * lam), derivation="commuting_dataset_threshold",
                 arguments={"values": (n * lam, 0), "probabilities": (1 / n, 1 - 1 / n), "batch": B,
                            "replacement": 0, "population": n, "param": eta, "dataset": "orthogonal"}),
    ),
    source=MA_YING,
    sample={n: (1, 6), B: (1, 6)},
    notes="H = lambda I, Sigma = (n - 1) lambda^2 I: every direction's curvature is n lambda for one sample and 0 "
          "for the others (the law the derivation reads). B = 1 gives 2/(n lambda) = 2/Tr H both ways: the "
          "trace bound is attained. The numeric route builds the n x n matrices and runs the general operator.",
)

UNIT_RANK_ONE = Card(
    id="sgd.interpolation.unit_rank_one",
    title="B = 1, unit-norm rank-one per-sample Hessians: eta* = 2 = 2/Tr H for every geometry",
    symbols=(),
    claims=(
        Identity("eta_crit", value=sp.Integer(2), derivation="unit_rank_one_threshold",
                 arguments={"quantity": "eta_crit"}),
        Identity("eta_times_trace", value=sp.Integer(2), derivation="unit_rank_one_threshold",
                 arguments={"quantity": "eta_times_trace"}),
    ),
    source=WU_SU,
    notes="H_i = g_i g_i^T, |g_i| = 1 (square loss, scalar output, unit per-sample gradients): "
          "T*(I) = I - eta (2 - eta) H, so the trace bound eta Tr H <= 2 holds with equality whatever the angles "
          "(research notes: two samples at 90, 60, 45, 30 degrees give 2.000000 while 2/lambda_max = 4, 2.667, "
          "2.343, 2.144). On range(H) when n < d.",
)

q_eta, q_free, q_suff, q_gd = sp.symbols("eta_crit eta_crit_matrix_free eta_sufficient eta_gd")
q_lmax, q_tr, q_nu, q_c = sp.symbols("lambda_max trace_H nonuniformity c_B")
q_below, q_above = sp.symbols("rho_below rho_above")
QUANTITIES = (q_eta, q_free, q_suff, q_gd, q_lmax, q_tr, q_nu, q_c, q_below, q_above)
# a small instance: four per-sample Hessians in d = 2 (two rank one, two of rank one or two)
HESSIANS = (((2, 1), (1, 1)), ((1, 0), (0, 0)), ((0, 0), (0, 3)), ((1, -1), (-1, 1)))
FAMILY = "; hypothesis also draws random instances: d <= 3, n <= 5, H_i = G_i G_i^T, any B, both schemes"

OPERATOR = Card(
    id="sgd.interpolation.ms_critical_step",
    title="Minibatch SGD at an interpolating minimum: the exact mean-square critical step for any per-sample Hessians",
    symbols=(),
    claims=(
        Relation("routes_agree", q_eta, "==", q_free, tol=1e-9,
                 statement="Kronecker radius (grid + bisection) = matrix-free Perron root 1/lambda_max(K^-1/2 E K^-1/2)"),
        Relation("stable_below", q_below, "<", 1, tol=1e-12, statement="rho(T) < 1 at 0.99 eta*"),
        Relation("unstable_above", q_above, ">", 1, tol=1e-12, statement="rho(T) > 1 at 1.01 eta*"),
        Observed("monte_carlo", "real minibatch SGD (sampled batches, with and without replacement) at 0.95x and "
                 "1.05x eta*: E||x_t||^2 follows the exact recursion within its standard error and decays / grows"),
    ),
    source=MA_YING,
    model=Model("sgd_interpolation", QUANTITIES, data={"hessians": HESSIANS, "batch": 2, "replacement": 1},
                instances=True),
    simulation=Simulation(MC, factors=(0.95, 1.05), steps=60, seeds=100000),
    notes="eval takes hessians=[[[...]],...] (n d x d lists), batch=B, replacement=1|0. The independent route: the "
          "50-digit root of det(eta E - K) (E from every batch enumerated where there are few) and c_B by "
          "enumeration" + FAMILY,
)

BOUNDS = Card(
    id="sgd.interpolation.ms_bounds",
    title="Minibatch SGD at an interpolating minimum: Wu-Ma-E's sufficient condition <= eta* <= 2/lambda_max",
    symbols=(),
    claims=(
        Relation("sufficient_below", q_suff, "<=", q_eta, tol=1e-9,
                 statement="lambda_max((I - eta H)^2 + eta^2 c_B Sigma) <= 1 implies mean-square stability"),
        Relation("gd_above", q_eta, "<=", q_gd, tol=1e-9, statement="eta* <= 2/lambda_max (the mean must not grow)"),
        Relation("nonuniformity_of_sufficient", q_suff * q_nu * sp.sqrt(q_c), "<=", 1, tol=1e-9,
                 statement="the non-uniformity bound s <= 1/(eta sqrt(c_B)) holds at the sufficient step (not at eta*)"),
        Observed("batch_curve", "eta*(B) for B = 1..2B (with) and 1..n (without replacement) lies between the "
                 "sufficient bound and 2/lambda_max, and reaches 2/lambda_max at B = n without replacement"),
    ),
    source=MA_YING,
    model=Model("sgd_interpolation", QUANTITIES, data={"hessians": HESSIANS, "batch": 2, "replacement": 1},
                instances=True),
    simulation=Simulation(MC, factors=(0.95, 1.05), steps=60, seeds=100000),
    notes="The sufficient condition: E||x+||^2 <= E||x||^2 for every x (E[(I - eta H_B)^2] <= I); it is also "
          "necessary when the H_i commute. Research notes, 600 instances: sufficient/exact in [0.781, 1]" + FAMILY,
)

RANK_ONE = Card(
    id="sgd.interpolation.rank_one_trace_bound",
    title="B = 1, rank-one per-sample Hessians (square loss, scalar output): eta* Tr H <= 2",
    symbols=(),
    claims=(Relation("trace_bound", q_eta * q_tr, "<=", 2, tol=1e-9,
                     statement="a linearly stable minimum has Tr H <= 2/eta (B = 1, rank-one H_i)"),),
    source=WU_SU,
    model=Model("sgd_interpolation_rank_one_b1", QUANTITIES,
                data={"hessians": (((1, 0), (0, 0)), ((1, 1), (1, 1)), ((0, 0), (0, 4))), "batch": 1,
                      "replacement": 1}, instances=True),
    notes="At the Perron eigenvector S >= 0 of T (rho = 1), the trace of T(S) = S gives eta* = 2 E_i[a_i] / "
          "E_i[a_i |g_i|^2] with a_i = g_i^T S g_i: an a-weighted mean of the per-sample |g_i|^2, to be compared "
          "with the plain mean Tr H. Checked, not proved here: hypothesis over random rank-one instances, and in "
          "development 30 Nelder-Mead maximisations of eta* Tr H / 2 (d <= 3, n <= 5) reached 1.0000000 and never "
          "more (equal norms attain it); research notes: 0.970 on 160 random instances. The statement fails "
          "without either hypothesis (theory/conjectures/sgd_interpolation_overstatements.py); random family: "
          "rank-one H_i, B = 1",
)

q_mom, q_hb = sp.symbols("eta_crit_momentum eta_heavy_ball")
HEAVY_BALL_OPERATOR = Card(
    id="sgd.interpolation.heavy_ball_ms_critical_step",
    title="Minibatch SGD with heavy-ball momentum at an interpolating minimum: the exact mean-square critical step",
    symbols=(),
    claims=(
        Relation("below_heavy_ball", q_mom, "<=", q_hb, tol=1e-9,
                 statement="minibatch noise never raises the step heavy ball tolerates: eta* <= 2 (1 + beta)/lambda_max"),
        Relation("sufficient_momentum_free", q_suff, "<=", q_eta, tol=1e-9,
                 statement="(the plain-SGD bounds on the same instance)"),
        Observed("monte_carlo", "real minibatch SGD with momentum (sampled batches, with and without replacement) at "
                 "0.95x and 1.05x eta*: E||x_t||^2 follows the exact recursion and decays / grows"),
    ),
    source=MA_YING,
    model=Model("sgd_interpolation_momentum", QUANTITIES + (q_mom, q_hb),
                data={"hessians": HESSIANS, "batch": 2, "replacement": 1, "momentum": 0.5}, instances=True),
    simulation=Simulation(MC, factors=(0.95, 1.05), steps=60, seeds=100000),
    notes="z = (x, x_prev), A_B = [[(1 + beta) I - eta H_B, -beta I], [I, 0]], T(S) = E[A_B S A_B^T] from the same "
          "E[H_B (x) H_B]; eta* by the Kronecker radius (grid + bisection), independently the 50-digit root of "
          "det(M(eta) - I). eval takes momentum=BETA besides hessians, batch, replacement; random family: d <= 2, "
          "n <= 4, beta in {0, 0.5, 0.9}. The commuting closed form: sgd.interpolation.heavy_ball_commuting_critical_step",
)

MLP = Card(
    id="sgd.interpolation.mlp_gauss_newton",
    title="An over-parameterised MLP at an interpolating minimum: the operator's eta*(B) decides escape (B = 1, 4, 16)",
    symbols=(),
    claims=(Observed("escape_or_stay", "SGD started 1e-4 from the interpolating minimum stays at 0.8x and escapes "
                     "(E||theta_T - theta*||^2 > 10x its start) at 1.5x the eta* of the per-sample Gauss-Newton "
                     "Hessians, for B = 1, 4 and 16"),),
    source=MA_YING,
    simulation=Simulation("sgd_interpolation_mlp", factors=(0.8, 1.5), steps=120, seeds=16,
                          options={"n": 16, "width": 16, "b1": 1, "b2": 4, "b3": 16}),
    notes="16 random inputs in R^2, targets sin(2 x1) cos(x2), 65 parameters; at an exact interpolating minimum of "
          "the square loss the Hessian of each sample's loss is its Gauss-Newton term (rank one), so the SGD "
          "operator applies; the range of H has dimension <= n, where the Kronecker route runs. Nonlinear effects "
          "(the network is not quadratic) are what the runs test.",
)

CARDS = (COMMUTING, COMMUTING_WITHOUT, HEAVY_BALL, ORTHOGONAL, UNIT_RANK_ONE, OPERATOR, BOUNDS, RANK_ONE,
         HEAVY_BALL_OPERATOR, MLP)
