"""GD on l(xy), l = log cosh: exact reduction to invariants, bifurcation curve, final sharpness.

Setting:   L(x, y) = log cosh(x y); GD x+ = x - eta y tanh(xy), y+ = y - eta x tanh(xy). More generally
           f = v^T U x with one unit input x (here v in R^2, U in R^{2x2}, x = (c, s), c^2 + s^2 = 1).
           Invariants: f = xy (the residual; = v^T U x), K = x^2 + y^2 (= |v|^2 + |Ux|^2), D = x^2 - y^2.
           On the minima x = 0 the sharpness is y^2 l''(0) = y^2; p = xy, q = 2 / (eta K).
Claims:    (reduction) GD is exactly the 2-D map f+ = f (1 + eta^2 tanh^2 f) - eta tanh(f) K,
           K+ = K (1 + eta^2 tanh^2 f) - 4 eta tanh(f) f, and D+ = D (1 - eta^2 tanh^2 f) (so y^2 - x^2 only
           shrinks, by a factor 1 - O(eta^2 tanh^2) per step: below 2/eta, y barely moves);
           (bifurcation) with K frozen, the symmetric period-2 orbit +-p of f -> f+(f; K) lies on
           q = 2 tanh(p) / (p (2 + eta^2 tanh^2 p)), which tends to q = tanh(p)/p as eta -> 0 (the
           bifurcation curve); in the oscillating (EoS) phase GD trajectories track this curve;
           (final sharpness) for y0^2 > 2/eta GD converges to a minimum with sharpness just below 2/eta,
           independently of the start; for y0^2 < 2/eta, y barely moves (y_inf^2 ~ y0^2 - x0^2).
Reference: Song, Yun, "Trajectory Alignment: Understanding the Edge of Stability Phenomenon via Bifurcation
           Theory", arXiv:2307.04204 (abstract and NeurIPS slides read: toy L = log cosh(xy), eta = 2/16,
           inits x in [-0.5, 1], y in [4, 7], trajectories align on one curve, sharpness settles at 2/eta);
           Ahn, Bubeck, Chewi, Lee, Suarez, Zhang, "Learning threshold neurons via the edge of stability",
           arXiv:2212.07469 (abstract read: sharp step-size phase transition for l(xy)-type models).
"""
import sympy as sp

from theory import Card, Identity, Observed, Simulation, Source

eta = sp.Symbol("eta", positive=True)
F = sp.Symbol("F", real=True)      # the invariant f (= x y, the residual p)
K = sp.Symbol("K", positive=True)  # the invariant K = x^2 + y^2
D = sp.Symbol("D", real=True)      # the invariant D = x^2 - y^2
p = sp.Symbol("p", positive=True)  # amplitude of the period-2 orbit in f
x, y = sp.symbols("x y", real=True)


def gd(loss, state):
    return tuple(s - eta * sp.diff(loss, s) for s in state)


UPDATE_XY = gd(sp.log(sp.cosh(x * y)), (x, y))
INVARIANTS_FK = ((F, x * y), (K, x**2 + y**2))
F_NEXT = F * (1 + eta**2 * sp.tanh(F)**2) - eta * sp.tanh(F) * K
K_NEXT = K * (1 + eta**2 * sp.tanh(F)**2) - 4 * eta * sp.tanh(F) * F

REDUCTION = Card(
    id="logcosh_xy.gd.reduction",
    title="GD on log cosh(xy) is exactly a 2-D map in (f, K)",
    symbols=(eta, F, K, D),
    state=(x, y),
    update=UPDATE_XY,
    claims=(
        Identity("f_next", F_NEXT, "invariant_reduction", arguments={"invariants": INVARIANTS_FK, "component": F}),
        Identity("K_next", K_NEXT, "invariant_reduction", arguments={"invariants": INVARIANTS_FK, "component": K}),
        Identity("D_next", D * (1 - eta**2 * sp.tanh(F)**2), "invariant_reduction",
                 arguments={"invariants": ((F, x * y), (D, x**2 - y**2)), "component": D}),
    ),
    sample={eta: (0.01, 1.0), F: (-3.0, 3.0), K: (0.1, 40.0), D: (-40.0, 40.0)},
    source=Source("2307.04204", "reparameterisation of the toy model (theorem statements not read)", "Song, Yun 2023"),
    notes="Derived here from the update rule (Groebner reduction modulo the invariants); the paper's own "
          "reparameterisation could not be read, only its abstract and slides. Numeric routes: one GD step and "
          "30 iterates of the full map vs the reduced map at 50 digits from random states.",
)

# f = v^T U x with one unit input x = (c, s): the same reduction with a constraint c^2 + s^2 = 1
c, s = sp.symbols("c s", real=True)
v1, v2, u11, u12, u21, u22 = sp.symbols("v1 v2 u11 u12 u21 u22", real=True)
Ux = (u11 * c + u12 * s, u21 * c + u22 * s)
f_vux = v1 * Ux[0] + v2 * Ux[1]
INVARIANTS_VUX = ((F, f_vux), (K, v1**2 + v2**2 + Ux[0]**2 + Ux[1]**2))
UNIT = (c**2 + s**2 - 1,)

REDUCTION_VUX = Card(
    id="logcosh_vux.gd.reduction",
    title="GD on log cosh(v^T U x), one unit input: exactly the same 2-D map in (f, K)",
    symbols=(eta, F, K, c, s),
    state=(v1, v2, u11, u12, u21, u22),
    update=gd(sp.log(sp.cosh(f_vux)), (v1, v2, u11, u12, u21, u22)),
    claims=(
        Identity("f_next", F_NEXT, "invariant_reduction",
                 arguments={"invariants": INVARIANTS_VUX, "component": F, "constraints": UNIT}),
        Identity("K_next", K_NEXT, "invariant_reduction",
                 arguments={"invariants": INVARIANTS_VUX, "component": K, "constraints": UNIT}),
    ),
    sample={eta: (0.01, 1.0), F: (-3.0, 3.0), K: (0.1, 40.0), c: (-1.0, 1.0)},
    source=Source("2307.04204", "two-layer linear network, single data point (theorem not read)", "Song, Yun 2023"),
    notes="An instance (m = d = 2, generic unit input) of the paper's two-layer network with one data point; "
          "the reduction is derived here (Groebner basis with the constraint c^2 + s^2 = 1), not read from the "
          "paper. Numeric routes as for logcosh_xy.gd.reduction (s = sqrt(1 - c^2)).",
)

CARDS = (REDUCTION, REDUCTION_VUX)

# -- bifurcation curve and trajectory alignment -------------------------------------------------
TWO_CYCLE = {"invariants": INVARIANTS_FK, "orbit": F, "slow": K, "amplitude": p, "coordinate": 2 / (eta * K)}

BIFURCATION = Card(
    id="logcosh_xy.gd.bifurcation_alignment",
    title="GD on log cosh(xy): period-2 orbits lie on q = tanh(p)/p and trajectories align on it",
    symbols=(eta, p),
    state=(x, y),
    update=UPDATE_XY,
    claims=(
        Identity("period_two_curve", 2 * sp.tanh(p) / (p * (2 + eta**2 * sp.tanh(p)**2)), "frozen_two_cycle",
                 arguments=TWO_CYCLE),
        Identity("bifurcation_curve", sp.tanh(p) / p, "frozen_two_cycle", arguments={**TWO_CYCLE, "limit": eta}),
        Observed("alignment", "GD from every start (x0 in [-0.5, 1], y0 in [4.5, 7], so y0^2 > 2/eta) enters an "
                              "oscillating phase in which (p, q) = (xy, 2/(eta(x^2 + y^2))) tracks the curve "
                              "q = tanh(p)/p: over the steps after |p| peaks and while |p| >= 0.05, the median of "
                              "|q - tanh(p)/p| is at most rtol = 0.02 for every start (the starts lie up to ~0.2 off "
                              "the curve; 0.02 allows the adiabatic lag of K, which moves by O(eta) per step)",
                 rtol=0.02),
    ),
    sample={eta: (0.01, 0.5), p: (0.05, 4.0)},
    source=Source("2307.04204", "toy model L = log cosh(xy), eta = 2/16 (slides); theorem statements not read",
                  "Song, Yun 2023"),
    notes="The curve is derived here from the exact reduction (logcosh_xy.gd.reduction): with K frozen, the "
          "period-2 orbit of f -> f+(f; K) is q = 2 tanh p / (p (2 + eta^2 tanh^2 p)), whose eta -> 0 limit is the "
          "bifurcation curve q = tanh(p)/p; the paper's own statement (and its error terms) could not be read. The "
          "simulation is the slides' setting (eta = 1/8, starts in the slides' box), seeded.",
    simulation=Simulation("logcosh_gd_alignment", at={eta: sp.Rational(1, 8)}, steps=600, seeds=8,
                          options={"x_lo": -0.5, "x_hi": 1.0, "y_lo": 4.5, "y_hi": 7.0, "p_min": 0.05}),
)

# -- final sharpness and the threshold transition ------------------------------------------------
FINAL_SHARPNESS = Card(
    id="logcosh_xy.gd.final_sharpness",
    title="GD on log cosh(xy): final sharpness just below 2/eta above the threshold, y frozen below it",
    symbols=(eta,),
    state=(x, y),
    update=UPDATE_XY,
    claims=(
        Observed("final_sharpness", "for starts with y0^2 >= 1.25 * 2/eta (x0 in [-0.5, 1]) GD converges to a "
                                    "minimum (|xy| < 1e-8) whose sharpness y_inf^2 lies in [(1 - rtol) 2/eta, 2/eta) "
                                    "(just below 2/eta, rtol = 3%), and the spread of y_inf^2 over starts is below "
                                    "0.1% of 2/eta (independent of the start)",
                 value=2 / eta, rtol=0.03),
        Observed("below_threshold", "for starts with y0^2 <= 0.8 * 2/eta, y barely moves: |y_inf^2 - (y0^2 - x0^2)| "
                                    "<= rtol (y0^2 - x0^2), rtol = 5% (y^2 - x^2 only shrinks, by the factor "
                                    "1 - eta^2 tanh^2(xy) per step: logcosh_xy.gd.reduction, D_next)",
                 rtol=0.05),
    ),
    source=Source("2212.07469", "simplified l(xy) model: EoS and a sharp step-size transition (constants not read)",
                  "Ahn, Bubeck, Chewi, Lee, Suarez, Zhang 2023"),
    notes="Measured claims realising the abstracts of arXiv:2212.07469 (sharp phase transition in the step size) "
          "and arXiv:2307.04204 (sharpness settles close to 2/eta); the paper's constants were not read. The "
          "transition band 0.8 < eta y0^2 / 2 < 1.25 is shown in the figure but not judged (near the threshold "
          "the final sharpness depends on the start). Measured at eta = 1/8: y_inf^2 = 15.8116 from every start.",
    simulation=Simulation("logcosh_gd_final_sharpness", at={eta: sp.Rational(1, 8)}, steps=3000, seeds=32,
                          options={"x_lo": -0.5, "x_hi": 1.0, "above": 1.25, "below": 0.8, "y_max": 7.0}),
)

CARDS = (REDUCTION, REDUCTION_VUX, BIFURCATION, FINAL_SHARPNESS)
