"""Linear stability of SGD: three statements as the abstracts give them, without their hypotheses.

Setting:   as theory/cards/sgd_interpolation.py (per-sample Hessians H_i >= 0 at an interpolating minimum,
           batch size B, exact second-moment operator T, eta* where rho(T) = 1).
Claims:    (1) the trace bound eta* Tr H <= 2 for general PSD H_i (B = 1);
           (2) the trace bound for B > 1 (rank-one H_i, with replacement) without a factor B;
           (3) the non-uniformity bound s <= 1/(eta sqrt(c_B)) (s = sqrt(lambda_max(Sigma))) as a *necessary*
               condition of linear stability, i.e. eta* s sqrt(c_B) <= 1.
Status:    conjectures the suite refutes. Each card's scenario (gpu_validation/_sgd_interpolation_sim.py)
           searches its family with hypothesis for an instance where the statement fails, shrinks it, and
           runs real minibatch SGD there at a step size the statement calls unstable but that lies below the
           exact eta*: E||x_t||^2 decays, as the exact recursion says. The research notes (Sec. 1.4 [D], 600
           random instances) measured violations up to 1.84x (1), 1.64x (2) and 1.156x (3); what holds instead:
           (1)-(2) with B = 1 and rank-one H_i (sgd.interpolation.rank_one_trace_bound), (3) at the sufficient
           step (sgd.interpolation.ms_bounds).
References: Wu, Su, arXiv:2305.17490, abstract (trace of Hessian <= 2/eta; hypotheses not read);
           Wu, Ma, E, NeurIPS 2018 (non-uniformity, no arXiv id), restated in Ma, Ying, arXiv:2105.13462.
"""
import sympy as sp

from theory import Card, Model, Observed, Simulation, Source

q_eta, q_free, q_suff, q_gd = sp.symbols("eta_crit eta_crit_matrix_free eta_sufficient eta_gd")
q_lmax, q_tr, q_nu, q_c = sp.symbols("lambda_max trace_H nonuniformity c_B")
q_below, q_above = sp.symbols("rho_below rho_above")
QUANTITIES = (q_eta, q_free, q_suff, q_gd, q_lmax, q_tr, q_nu, q_c, q_below, q_above)

WU_SU = Source("2305.17490", "abstract: 'the trace of Hessian must be less than or equal to 2/eta'", "Wu, Su 2023",
               "The implicit regularization of dynamical stability in SGD")
WU_MA_E = Source("2105.13462", "non-uniformity (Wu, Ma, E, NeurIPS 2018: sharpness and non-uniformity characterise "
                 "linear stability for a learning rate and batch size)", "Ma, Ying 2021; Wu, Ma, E 2018",
                 "On linear stability of SGD and input-smoothness of neural networks")
REFUTE = "sgd_interpolation_refute"
SEARCH = {"examples": 300, "runs": 100000, "margin": 0.01, "max_steps": 400}

CARDS = (
    Card(
        id="sgd.interpolation.trace_bound_general_psd",
        title="Conjecture: eta* Tr H <= 2 at B = 1 for any PSD per-sample Hessians",
        symbols=(),
        claims=(Observed("trace_bound", "every instance of the family (B = 1, H_i = G_i G_i^T of any rank) has "
                         "eta* Tr H <= 2; a violation is shrunk and SGD is run there below eta* but above 2/Tr H",
                         observer="trace_bound"),),
        source=WU_SU,
        model=Model("sgd_interpolation_family_psd_b1", QUANTITIES,
                    data={"hessians": (((2, 1), (1, 1)), ((1, 0), (0, 0)), ((0, 0), (0, 3))), "batch": 1,
                          "replacement": 1}),
        simulation=Simulation(REFUTE, factors=(0.95, 1.05), steps=60, seeds=1, options=SEARCH),
        status="conjecture",
        notes="Without rank-one structure one sample can carry curvature in several directions: with one sample "
              "SGD is GD, eta* = 2/lambda_max while Tr H sums every direction.",
    ),
    Card(
        id="sgd.interpolation.trace_bound_batch",
        title="Conjecture: eta* Tr H <= 2 for B > 1 (rank-one H_i, with replacement), no factor B",
        symbols=(),
        claims=(Observed("trace_bound_batch", "every instance of the family (rank-one H_i, 2 <= B <= n + 1, with "
                         "replacement) has eta* Tr H <= 2; a violation is shrunk and SGD is run there",
                         observer="trace_bound"),),
        source=WU_SU,
        model=Model("sgd_interpolation_family_rank_one_batch", QUANTITIES,
                    data={"hessians": (((1, 0), (0, 0)), ((1, 1), (1, 1)), ((0, 0), (0, 4))), "batch": 2,
                          "replacement": 1}),
        simulation=Simulation(REFUTE, factors=(0.95, 1.05), steps=60, seeds=1, options=SEARCH),
        status="conjecture",
        notes="The orthogonal example gives eta* Tr H = 2B n/(B + n - 1) with replacement: the bound must scale "
              "with B (research notes: max eta* Tr H/(2B) = 0.55 on random rank-one instances).",
    ),
    Card(
        id="sgd.interpolation.nonuniformity_necessary",
        title="Conjecture: linear stability needs non-uniformity s <= 1/(eta* sqrt(c_B))",
        symbols=(),
        claims=(Observed("nonuniformity_bound", "every instance of the family (any PSD H_i, any B, both schemes) "
                         "has eta* s sqrt(c_B) <= 1; a violation is shrunk and SGD is run there",
                         observer="nonuniformity_bound"),),
        source=WU_MA_E,
        model=Model("sgd_interpolation_family_any", QUANTITIES,
                    data={"hessians": (((2, 1), (1, 1)), ((1, 0), (0, 0)), ((0, 0), (0, 3))), "batch": 2,
                          "replacement": 1}),
        simulation=Simulation(REFUTE, factors=(0.95, 1.05), steps=60, seeds=1, options=SEARCH),
        status="conjecture",
        notes="lambda_max(E[(I - eta H_B)^2]) >= eta^2 c_B s^2, so the bound is necessary for the sufficient "
              "condition (verified in sgd.interpolation.ms_bounds) but not for rho(T) <= 1.",
    ),
)
