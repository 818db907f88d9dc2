"""Implicit bias of Adam, incremental Adam and Signum on linearly separable data.

Setting:   logistic regression (linear model, no bias) on separable data (x_i, y_i), trained at decaying steps
           eta_t = eta0/sqrt(t). Geometries: l2 and l_inf max margin, and the data-adaptive Mahalanobis
           geometry of the per-sample Adam dual fixed point: lambda in the simplex with
           lambda = alpha(lambda)/|alpha(lambda)|_1, alpha the duals of min w^T M(lambda) w s.t. y_i x_i.w >= 1,
           M(lambda) = diag((sum_i lambda_i^2 x_ik^2)^(1/2)); limit direction M^-1 sum_i lambda_i y_i x_i.
Claims:    full-batch Adam and Signum (any batch size, beta close to 1) converge in direction to the l_inf
           max-margin classifier; incremental Adam (one sample per step, beta2 near 1) follows the fixed point's
           Mahalanobis max margin (neither l2 nor l_inf on generic data), which on GR data (|x_ik| = c_i)
           is the l2 max margin. Relations (every separable instance): KKT certificates of the solvers, the
           dominance of each optimum in its own geometry, and the fixed point's self-consistency; the
           direction limits are Observed claims judged by simulation (normalised-margin ratios).
Reference: Baek, Song, Yun, "Implicit Bias of Per-sample Adam on Separable Data: Departure from the Full-batch
           Regime", arXiv:2510.26303 (abstract; Sections 3-5: Inc-Adam on GR data, the proxy's dual fixed point,
           Signum); full-batch Adam -> l_inf: Zhang, Zou, Cao, arXiv:2406.10650.
"""
import sympy as sp

from theory import Card, Identity, Model, Observed, Relation, Simulation, Source

# The two datasets of the research notes (theorems-preference-bias-sf.md, section 2.6), written out.
_C = (2.3302, 2.7505, 2.3732, 2.7098)
_S = ((-1, -1, -1, 1, -1, 1, 1, -1), (1, -1, -1, 1, -1, -1, -1, -1), (1, -1, -1, -1, -1, -1, 1, 1),
      (-1, -1, -1, 1, 1, -1, -1, -1))
GR84 = {"X": tuple(tuple(c * s for s in row) for c, row in zip(_C, _S)), "y": (1, -1, 1, -1)}
G43 = {"X": ((0.2442, 0.6782, -0.5855, -0.9087, -1.9918, 0.9716), (0.0167, 0.2057, -0.7836, 1.2265, 0.9432, -0.1218),
             (-0.5559, -0.3567, -0.7986, 0.0266, -0.6162, 0.5855), (-0.3595, -0.354, 1.5373, -0.7257, -1.5679, 0.3662)),
       "y": (-1, 1, 1, 1)}

eta0 = sp.Symbol("eta0", positive=True)
beta1, beta2 = sp.symbols("beta1 beta2", positive=True)
(gamma_2, gamma_inf, gamma_fp, kkt_2, kkt_inf, kkt_fp, fp_residual, fp_self, r_inf_of_l2, r_2_of_inf, r_2_of_fp,
 r_inf_of_fp, r_fp_of_l2, r_fp_of_inf, metric_spread) = sp.symbols(
    "gamma_2 gamma_inf gamma_fp kkt_2 kkt_inf kkt_fp fp_residual fp_self r_inf_of_l2 r_2_of_inf r_2_of_fp "
    "r_inf_of_fp r_fp_of_l2 r_fp_of_inf metric_spread")
Q = (gamma_2, gamma_inf, gamma_fp, kkt_2, kkt_inf, kkt_fp, fp_residual, fp_self, r_inf_of_l2, r_2_of_inf, r_2_of_fp,
     r_inf_of_fp, r_fp_of_l2, r_fp_of_inf, metric_spread)

KKT = Relation("kkt_certificates", sp.Max(kkt_2, kkt_inf, kkt_fp), "<=", 1e-9,
               statement="l2 QP, l_inf LP and Mahalanobis QP: primal/dual feasibility, complementary slackness, "
                         "stationarity (and the LP duality gap) vanish")
LINF_BEST = Relation("linf_optimum_dominates", sp.Max(r_inf_of_l2, r_inf_of_fp), "<=", 1,
                     statement="no other direction (l2 or fixed-point optimum) has a larger l_inf-normalised margin")
NORMS = Relation("linf_margin_at_least_l2", gamma_inf, ">=", gamma_2,
                 statement="|w|_inf <= |w|_2, so the l_inf optimum margin is at least the l2 one")
FIXED = Relation("fixed_point_converged", fp_residual, "<=", 1e-8,
                 statement="|lambda - alpha(lambda)/|alpha(lambda)|_1|_1 at the solver's fixed point")
SELF = Relation("fixed_point_self_consistent", fp_self, "==", 1,
                statement="the direction M^-1 sum lambda_i y_i x_i attains the Mahalanobis optimum of its own metric")
FP_BEST = Relation("fixed_point_optimum_dominates", sp.Max(r_fp_of_l2, r_fp_of_inf), "<=", 1,
                   statement="no other direction has a larger margin in the fixed point's Mahalanobis norm")
SOURCE = Source("2510.26303", "abstract; Sec. 3 (Inc-Adam, GR data), Sec. 4 (AdamProxy, dual fixed point), "
                "Sec. 5 (Signum)", "Baek, Song, Yun 2025")
NOTE_DATA = ("Datasets GR84 (d = 8, N = 4, x_i = c_i s_i) and G43 (Gaussian, d = 6, N = 4) are the research notes' "
             "instances realising the paper's claims, not the paper's own figures. Relations also run on random "
             "planted-margin instances. ")

CARDS = [
    Card(
        id="adam_full_batch.separable.linf_max_margin",
        title="Full-batch Adam converges in direction to the l_inf max-margin classifier",
        symbols=(eta0, beta1, beta2),
        assumptions=(beta1 < 1, beta2 < 1),
        claims=(KKT, LINF_BEST, NORMS,
                Observed("direction_limit", "normalised l_inf margin / optimum >= threshold, clearly above the "
                         "l2 optimum's, approached monotonically", observer="linf")),
        model=Model("max_margin_geometries", Q, data=GR84, instances=True),
        simulation=Simulation("margins_full_batch_adam", at={eta0: 0.2, beta1: 0.9, beta2: 0.95}, steps=6000,
                              seeds=2),
        source=Source("2406.10650", "Theorem (full-batch Adam -> l_inf max margin); contrasted in arXiv:2510.26303",
                      "Zhang, Zou, Cao 2024"),
        notes=NOTE_DATA + "beta2 = 0.95 keeps Adam close to sign descent at these short runs (v's window is short "
              "against the decay of the logistic gradients); longer: optverify simulate ID --steps 100000, or G43 "
              "by --at X=... --at y=....",
    ),
    Card(
        id="signum.separable.linf_max_margin",
        title="Signum (batch 1 and full batch, beta near 1) converges in direction to the l_inf max margin",
        symbols=(eta0, beta1),
        assumptions=(beta1 < 1,),
        claims=(KKT, LINF_BEST, NORMS,
                Observed("direction_limit", "for batch 1 and the full batch: normalised l_inf margin / optimum >= "
                         "threshold, clearly above the l2 optimum's, approached monotonically", observer="linf")),
        model=Model("max_margin_geometries", Q, data=GR84, instances=True),
        simulation=Simulation("margins_signum", at={eta0: 0.05, beta1: 0.99}, steps=6000, seeds=2),
        source=SOURCE,
        notes=NOTE_DATA + "beta1 is Signum's momentum (0.99: 'close to 1').",
    ),
    Card(
        id="adam_incremental.separable.fixed_point_margin",
        title="Incremental Adam (beta2 near 1) and AdamProxy follow the dual fixed point's Mahalanobis max margin",
        symbols=(eta0, beta1, beta2),
        assumptions=(beta1 < 1, beta2 < 1),
        claims=(KKT, FIXED, SELF, FP_BEST,
                Observed("direction_limit", "incremental Adam and AdamProxy: fixed-point ratio >= threshold and "
                         "clearly above the l2 and l_inf optima's fixed-point ratios, approached monotonically",
                         observer="fixed_point")),
        model=Model("max_margin_geometries", Q, data=G43, instances=True),
        simulation=Simulation("margins_incremental_adam_and_proxy", at={eta0: 0.2, beta1: 0.9, beta2: 0.99},
                              steps=20000, seeds=2),
        source=SOURCE,
        notes=NOTE_DATA + "The fixed point need not be unique on every dataset (degenerate ones exist); the solver "
              "returns the one its damped iteration reaches from uniform lambda, which on G43 is the direction "
              "incremental Adam and AdamProxy approach. beta2 = 0.99 is 'near 1' against N = 4 (a window of 25 "
              "epochs); the notes used 0.9999 at 4e4 epochs.",
    ),
]

lam = sp.symbols("lambda1:4", positive=True)
cs = sp.symbols("c1:4", positive=True)
CARDS.append(Card(
    id="adam_incremental.gr_data.l2_max_margin",
    title="On GR data (|x_ik| = c_i) incremental Adam converges to the l2 max margin: the fixed point is the l2 SVM",
    symbols=(eta0, beta1, beta2, *lam, *cs),
    assumptions=(beta1 < 1, beta2 < 1),
    claims=(Identity("metric_is_isotropic", sp.sqrt(sum(li**2 * ci**2 for li, ci in zip(lam, cs))), "gr_metric_isotropic",
                     arguments={"weights": lam, "scales": cs, "dims": 3}),
            KKT, SELF,
            Relation("fixed_point_is_l2", r_2_of_fp, "==", 1,
                     statement="the fixed point's direction attains the l2 optimum (M proportional to I)"),
            Relation("metric_proportional_to_identity", metric_spread, "==", 1,
                     statement="max_k M_kk / min_k M_kk = 1 at the fixed point"),
            Observed("direction_limit", "incremental Adam: l2 ratio >= threshold, clearly above the l_inf optimum's, "
                     "approached monotonically", observer="l2")),
    model=Model("max_margin_geometries_gr", Q, data=GR84, instances=True),
    simulation=Simulation("margins_incremental_adam", at={eta0: 0.2, beta1: 0.9, beta2: 0.99}, steps=6000, seeds=2),
    source=SOURCE,
    notes=NOTE_DATA + "Symbolic: M(lambda)_k = (sum_i lambda_i^2 c_i^2 s_ik^2)^(1/2) with s_ik^2 = 1 is the same "
          "for every k (3 samples, 3 coordinates), so the Mahalanobis dual at M = m I is m times the l2 dual and "
          "T(lambda) = alpha_2/|alpha_2|_1 for every lambda: the fixed point is the l2 SVM. Numeric: random GR "
          "instances (relations) and the identity's route (SVC).",
))
