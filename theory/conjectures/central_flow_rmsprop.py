"""Scalar RMSProp's central flow (Cohen, Damian, Talwalkar, Kolter, Lee, arXiv:2410.24206, part 2 of the
companion site): the oscillation variance that keeps the effective sharpness eta S/sqrt(nu) at 2.

Setting:   nu_t = beta2 nu_{t-1} + (1 - beta2)|grad L(w_t)|^2, w+ = w - (eta/sqrt(nu)) grad L. Central flow [A]:
           dw/dt = -(eta/sqrt(nu))[g + sigma^2 s/2], dnu/dt = c(|g|^2 + sigma^2 S^2 - nu), c = (1 - beta2)/beta2;
           on the edge sqrt(nu) = eta S/2.
Claim:     (conjecture) sigma^2 = [-(2/S^2)<s, g> - c(|g|^2 - nu)/(2 nu)] / [|s|^2/S^2 + 2c/eta^2], nu = eta^2 S^2/4
           (the research notes' own solution, section 3.4 [D], not numerically validated there; the paper's
           formula could not be read).
Measured:  (method_variance) scalar RMSProp itself on the toy of central_flow.gd.toy_predictions at eta = 0.1,
           beta2 = 0.99 sits at eta S/sqrt(nu) = 2.0000-2.0001 and oscillates along the top eigenvector with the
           variance this sigma^2 gives at the window-mean centre (worst relative gap 4.7e-5 over 36 windows).
"""
import sympy as sp

from theory import Card, Identity, Observed, Simulation, Source
from theory._oracle import grad
from theory.derive.central_flow import grad_sharpness, inner

eta = sp.Symbol("eta", positive=True)
c = sp.Symbol("c", positive=True)
S = sp.Symbol("S", positive=True)
gLgS = sp.Symbol("gLgS", real=True)
gS2 = sp.Symbol("gS2", positive=True)
gL2 = sp.Symbol("gL2", positive=True)
unknown = sp.Symbol("sigma2_unknown", real=True)
w = sp.Symbol("w", real=True)
NU = eta**2 * S**2 / 4
INVARIANTS = ((gLgS, inner(grad(w), grad_sharpness(w))), (gS2, inner(grad_sharpness(w), grad_sharpness(w))),
              (gL2, inner(grad(w), grad(w))))
NOTES_SIGMA = (-(2 / S**2) * gLgS - c * (gL2 - NU) / (2 * NU)) / (gS2 / S**2 + 2 * c / eta**2)

CARD = Card(
    id="central_flow.scalar_rmsprop.sigma_squared",
    title="Scalar RMSProp central flow: sigma^2 keeping eta S / sqrt(nu) = 2 (conjecture: the notes' own solution)",
    symbols=(eta, c, S, gLgS, gS2, gL2),
    claims=(Identity("sigma_squared", NOTES_SIGMA, "scalar_rmsprop_sigma",
                     arguments={"eta": eta, "c": c, "unknown": unknown, "invariants": INVARIANTS, "nu": NU,
                                "sharpness": S,
                                # the invariants as symbols: the simulation measures them at each window's centre
                                "measured_gLgS": gLgS, "measured_gS2": gS2, "measured_gL2": gL2}),
            Observed("method_variance", "scalar RMSProp itself (eta = 0.1, beta2 = 0.99) on the toy of "
                                        "central_flow.gd.toy_predictions (c = 0.05, kappa = 0.01, a = 1, q = 0.5, from "
                                        "(0.05, 19.5, 29.5)): in 500-step windows after a 2000-step transient the "
                                        "oscillation variance <((w_t - w_bar).u)^2> matches this card's sigma^2 at the "
                                        "window-mean w_bar within rtol = 1e-3", rtol=1e-3)),
    assumptions=(gLgS**2 <= gL2 * gS2,),
    sample={eta: (0.001, 1.0), c: (0.001, 1.0), S: (0.5, 50.0), gLgS: (-10.0, 10.0), gS2: (0.01, 10.0),
            gL2: (0.01, 100.0)},
    status="conjecture",
    source=Source("2410.24206", "Scalar RMSProp central flow (companion site part 2; the closed form is 'in the "
                  "paper', not read)", "Cohen, Damian, Talwalkar, Kolter, Lee 2025"),
    notes="The flow's form (dw/dt, dnu/dt with (1 - beta2)/beta2) is read from the site and the code [A]; sigma^2 is "
          "derived here from d/dt (eta S(w)/sqrt(nu)) = 0 by SymPy's chain rule on a generic loss and sharpness "
          "(R^3) with nu on the edge, and compared with the notes' formula. Numeric route: random smooth losses, the "
          "numeric effective sharpness along the claimed flow must not move. A conjecture because the paper's own "
          "formula could not be read; what is verified is the derivation from the site's flow. Measured against the "
          "method (simulation): scalar RMSProp at its edge (eta S/sqrt(nu) = 2.0000-2.0001) oscillates along u with "
          "the variance this sigma^2 predicts: worst relative gap 4.7e-5 (median 1.5e-5) over 36 windows; the same "
          "measurement with the gradient term (2/S^2)<s, g> dropped gives gaps of 0.39-1.3%, so it resolves that "
          "term. Here the c-term dominates (2c/eta^2 = 2.0 against |s|^2/S^2 < 1.2e-3 in the denominator). The "
          "scenario lives in gpu_validation/_central_flow_mlp_sim.py.",
    simulation=Simulation("central_flow_scalar_rmsprop_toy", at={eta: sp.Rational(1, 10)}, steps=20000, seeds=1,
                          options={"beta2": 0.99, "c_toy": 0.05, "kappa": 0.01, "a": 1.0, "q": 0.5, "x0": 0.05,
                                   "y0": 19.5, "z0": 29.5, "window": 500, "transient": 2000}),
)
