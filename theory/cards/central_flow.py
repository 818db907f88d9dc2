"""Central flows for GD at the edge of stability (Cohen, Damian, Talwalkar, Kolter, Lee, arXiv:2410.24206).

Setting:   GD w+ = w - eta grad L(w) oscillating along the top Hessian eigenvector u with sharpness
           S(w) = lambda_1(H(w)) at 2/eta. Central flow (one unstable eigenvalue): the centre w(t) obeys
           dw/dt = -eta[grad L + (sigma^2/2) grad S], sigma^2 the variance of the oscillation.
Claims:    (sigma_squared) sigma^2 = 2<-grad L, grad S>/|grad S|^2 is the unique value with dS/dt = 0;
           (projected_gradient_flow) then dw/dt = -eta P_perp grad L (projection off grad S) and
           dL/dt = -eta(|g|^2 - <g, s>^2/|s|^2) <= 0; (time averages) E L(w_t) ~ L(w) + sigma^2/eta and
           E|grad L(w_t)|^2 ~ |grad L(w)|^2 + 4 sigma^2/eta^2; (toy) the closed forms on the toy of the notes
           (section 3.3) and GD's 100-step window averages against them.
Symbols:   gLgS = <grad L, grad S>, gS2 = |grad S|^2, gL2 = |grad L|^2 at the centre; sigma2 = sigma^2;
           Lw = L(w).
"""
import sympy as sp

from theory import Card, Identity, Observed, Simulation, Source
from theory._card import Bound
from theory._oracle import grad
from theory.derive.central_flow import grad_sharpness, inner

eta = sp.Symbol("eta", positive=True)
sigma2 = sp.Symbol("sigma2", nonnegative=True)
unknown = sp.Symbol("sigma2_unknown", real=True)   # the unknown the engine solves for
gLgS = sp.Symbol("gLgS", real=True)
gS2 = sp.Symbol("gS2", positive=True)
gL2 = sp.Symbol("gL2", positive=True)
Lw = sp.Symbol("Lw", real=True)
w = sp.Symbol("w", real=True)

FLOW = -eta * (grad(w) + unknown / 2 * grad_sharpness(w))
INVARIANTS = ((gLgS, inner(grad(w), grad_sharpness(w))), (gS2, inner(grad_sharpness(w), grad_sharpness(w))),
              (gL2, inner(grad(w), grad(w))))
GENERIC = {"flow": FLOW, "unknown": unknown, "invariants": INVARIANTS}
P_PERP_GRAD = grad(w) - inner(grad(w), grad_sharpness(w)) / inner(grad_sharpness(w), grad_sharpness(w)) \
    * grad_sharpness(w)
SOURCE = Source("2410.24206", "section 3 (GD central flow, one unstable eigenvalue); companion site part 1",
                "Cohen, Damian, Talwalkar, Kolter, Lee 2025", "Understanding Optimization in Deep Learning with "
                "Central Flows")

SIGMA_SQUARED = Card(
    id="central_flow.gd.sigma_squared",
    title="GD central flow: sigma^2 = 2<-grad L, grad S>/|grad S|^2 keeps the sharpness at 2/eta",
    symbols=(eta, gLgS, gS2, gL2),
    claims=(Identity("sigma_squared", 2 * (-gLgS) / gS2, "central_flow_sigma", arguments=GENERIC),),
    assumptions=(gLgS**2 <= gL2 * gS2,),
    sample={eta: (0.001, 1.0), gLgS: (-10.0, 10.0), gS2: (0.01, 10.0), gL2: (0.01, 100.0)},
    source=SOURCE,
    notes="Derived here: a generic loss L and a generic sharpness S on R^3 (undefined SymPy functions), the "
          "centre w(t) moving by the claimed flow, dS/dt by SymPy's chain rule, solve(dS/dt = 0) for sigma^2, "
          "written in <g, s>, |s|^2 by a Groebner normal form. The formula is read from the companion site "
          "(part 1) [A]; the paper's PDF was not read. Numeric route: seeded random smooth losses on R^3 (exact "
          "Hessian, sharpness by eigvalsh, grad S by central differences): with the claimed sigma^2 the "
          "directional derivative of the numeric sharpness along the flow vanishes.",
)

PROJECTED = Card(
    id="central_flow.gd.projected_gradient_flow",
    title="GD central flow = gradient flow projected off grad S; the loss decreases monotonically",
    symbols=(eta, gLgS, gS2, gL2),
    claims=(
        Identity("projection_residual", sp.S.Zero, "central_flow_projection",
                 arguments={**GENERIC, "target": -eta * P_PERP_GRAD}),
        Identity("loss_rate", -eta * (gL2 - gLgS**2 / gS2), "central_flow_rate", arguments={**GENERIC, "of": "loss"}),
        Identity("sharpness_rate", sp.S.Zero, "central_flow_rate", arguments={**GENERIC, "of": "sharpness"}),
        Bound("monotone_loss", of="loss_rate", value=sp.S.Zero, sense="upper"),
    ),
    assumptions=(gLgS**2 <= gL2 * gS2,),
    sample={eta: (0.001, 1.0), gLgS: (-10.0, 10.0), gS2: (0.01, 10.0), gL2: (0.01, 100.0)},
    source=SOURCE,
    notes="Derived here (research notes section 3.2 [D]): with sigma^2 solved from dS/dt = 0, |dw/dt + eta P_perp "
          "grad L|^2 = 0 and dL/dt = -eta |P_perp grad L|^2 in the invariants (Groebner normal form); <= 0 by "
          "Cauchy-Schwarz (the card's assumption <g, s>^2 <= |g|^2 |s|^2; the hypothesis search samples inside it). "
          "The site says 'it is possible to prove that the central flow decreases the loss monotonically' [A]. "
          "Numeric route: random smooth losses, the flow evaluated with sigma^2 found numerically (root of the "
          "finite-difference dS/dt), compared with the projection and the claimed dL/dt.",
)

AVERAGE_NAMES = (("loss", Lw), ("grad_norm2", gL2), ("grad_sharpness_norm2", gS2))
TIME_AVERAGES = Card(
    id="central_flow.gd.time_averages",
    title="GD central flow predictions: E L = L(w) + sigma^2/eta, E|grad L|^2 = |grad L(w)|^2 + 4 sigma^2/eta^2",
    symbols=(eta, sigma2, Lw, gL2, gS2),
    claims=(
        Identity("mean_loss", Lw + sigma2 / eta, "central_flow_time_average",
                 arguments={"quantity": "loss", "sigma": sigma2, "eta": eta, "names": AVERAGE_NAMES}),
        Identity("mean_grad_norm2", gL2 + 4 * sigma2 / eta**2, "central_flow_time_average",
                 arguments={"quantity": "grad_norm2", "sigma": sigma2, "eta": eta, "names": AVERAGE_NAMES}),
    ),
    sample={eta: (0.001, 1.0), sigma2: (0.0, 1.0), Lw: (-5.0, 5.0), gL2: (0.0, 10.0), gS2: (0.01, 10.0)},
    source=Source("2410.24206", "section 3 (time-averaged loss and gradient norm predictions); site part 1",
                  "Cohen, Damian, Talwalkar, Kolter, Lee 2025"),
    notes="Derived here from the ansatz w_t = w + x_t u, x_t = +-sigma (E x = 0, E x^2 = sigma^2), u the top "
          "eigenvector (eigenbasis of a generic loss on R^2: L_11 = 2/eta, L_12 = 0), Taylor to order sigma^2 and "
          "averaged; the term sigma^2 <grad L, grad S> of the gradient norm is O(sigma^4) on the central flow (by "
          "sigma_squared) and dropped. The site states E L = L + tr(Sigma)/eta [A]; the gradient-norm form is the "
          "notes' [D]. Numeric route: a random smooth loss on R^2 rotated so that u is its top eigenvector, "
          "averaged over +-sigma exactly at small sigma (the gap must vanish like sigma^4).",
)

# -- the toy of the notes, section 3.3 -----------------------------------------------------------------
x, y, z = sp.symbols("x y z", real=True)
c, kappa, a, q = sp.symbols("c kappa a q", positive=True)
z0, t = sp.symbols("z0 t", nonnegative=True)
TOY_LOSS = y * x**2 / 2 - q / 4 * x**4 - c * y + kappa / 2 * (z - a * y)**2
TOY = {"loss": TOY_LOSS, "mode": x, "eta": eta, "unknown": unknown}
PATH = {**TOY, "coordinate": z, "start": z0, "time": t}
EDGE = 2 / eta
Z_PATH = a * EDGE + (z0 - a * EDGE) * sp.exp(-eta * kappa * t)

TOY_PREDICTIONS = Card(
    id="central_flow.gd.toy_predictions",
    title="GD central flow on the toy L = y x^2/2 - q x^4/4 - c y + kappa (z - a y)^2/2: closed forms and GD",
    symbols=(eta, c, kappa, a, q, z0, t),
    state=(x, y, z),
    update=tuple(s - eta * sp.diff(TOY_LOSS, s) for s in (x, y, z)),
    claims=(
        Identity("sigma_squared", 2 * (c + kappa * a * (Z_PATH - a * EDGE)), "central_flow_toy_path",
                 arguments={**PATH, "quantity": "sigma"}),
        Identity("z_path", Z_PATH, "central_flow_toy_path", arguments={**PATH, "quantity": "coordinate"}),
        Identity("central_loss", -c * EDGE + kappa / 2 * (Z_PATH - a * EDGE)**2, "central_flow_toy_path",
                 arguments={**PATH, "quantity": "loss"}),
        Observed("gd_variance", "GD from (x, y, z) = (0.05, 19.5, 29.5) at eta = 0.1, c = 0.05, kappa = 0.01, "
                                "a = 1, q = 0.5: the 100-step window mean of x_t^2 matches the window mean of the "
                                "central flow's sigma^2(t) (integrated from the same start; it enters the edge at "
                                "step 35) within rtol = 0.4% at every window after a 600-step transient (the notes' "
                                "table, section 3.3, shows 0.17-0.37%; 'about 0.3%')", rtol=0.004),
        Observed("gd_mean_loss", "the 100-step window mean of L(w_t) matches L(w(t)) + sigma^2(t)/eta within rtol = "
                                 "1% of the loss scale of the EoS phase (the first judged window's mean loss; the "
                                 "loss itself crosses zero, so a relative gap per window is not meaningful there)",
                 rtol=0.01),
        Observed("gd_mean_z", "the 100-step window mean of z_t matches the central flow's z(t) within rtol = 1%",
                 rtol=0.01),
    ),
    sample={eta: (0.01, 0.5), c: (0.001, 0.5), kappa: (0.001, 0.1), a: (0.1, 2.0), q: (0.1, 2.0),
            z0: (1.0, 60.0), t: (0.0, 500.0)},
    source=Source("2410.24206", "central flow of GD; the toy is the notes' own (section 3.3 [D])",
                  "Cohen, Damian, Talwalkar, Kolter, Lee 2025"),
    notes="Derived here from the card's loss: on x = 0 the sharpness is the Hessian eigenvalue of e_x (checked: "
          "the loss is even in x, e_x is an eigenvector there), S = y; sigma^2 from dS/dt = 0 at y = 2/eta; y is "
          "then pinned and dz/dt solved by dsolve. The toy and its window table are the notes' [D]; the paper's "
          "experiments are on networks. Numeric route: scipy DOP853 (rtol 1e-12) integration of the general "
          "central flow with the numeric sharpness (eigvalsh of the exact Hessian, grad S by central "
          "differences) from a point on the edge, compared with the closed forms.",
    simulation=Simulation("central_flow_toy", at={eta: sp.Rational(1, 10), c: sp.Rational(1, 20),
                                                  kappa: sp.Rational(1, 100), a: 1, q: sp.Rational(1, 2)},
                          steps=2000, seeds=1,
                          options={"x0": 0.05, "y0": 19.5, "z0": 29.5, "window": 100, "transient": 600}),
)

CARDS = (SIGMA_SQUARED, PROJECTED, TIME_AVERAGES, TOY_PREDICTIONS)
