"""The orthogonal gradient (Prieto et al.): per-layer norm conservation, and the naive-loss-minimisation direction.

Setting:   a parameter tensor theta with gradient g; g_perp = g - (<theta, g>/<theta, theta>) theta (the authors'
           orthograd.py, per tensor, 1e-30 dropped), optionally rescaled to |g| as their code does; invariants
           R = |theta|^2, G = |g|^2, P = <theta, g> (P^2 <= R G).
Claims:    (flow) d|theta|^2/dt = 0 under d theta/dt = -g_perp (plain or rescaled); (step) one step
           theta - eta g_perp grows |theta|^2 by eta^2 |g_perp|^2 = eta^2 (G - P^2/R) (second order; rescaled:
           eta^2 G). (homogeneity) a bias-free ReLU MLP with L weight layers has logits of degree L in the
           weights, and <grad_theta CE, theta> = L (E_p[z] - z_y), negative whenever the label logit is the strict
           maximum: at full training accuracy, scaling the weights up lowers the loss without changing any
           prediction (naive loss minimisation along theta), which the projection removes.
Reference: Prieto, Barsbey, Mediano, Birdal, arXiv:2501.04697, Sec. 4 (naive loss minimisation) and Sec. 5
           (the orthogonal gradient), the authors' orthograd.py and models.py.
"""
import sympy as sp

from theory import Bound, Card, Identity, Source

SOURCE = Source("2501.04697", "Sec. 4 (naive loss minimisation), Sec. 5 (perpendicular gradient); orthograd.py",
                "Prieto, Barsbey, Mediano, Birdal 2025", "Grokking at the edge of numerical stability")

eta = sp.Symbol("eta", positive=True)
R = sp.Symbol("R", positive=True)
G = sp.Symbol("G", positive=True)
P = sp.Symbol("P", real=True)
INV = {"R": R, "G": G, "P": P, "step": eta}

NORM = Card(
    id="orthograd.projection.norm",
    title="OrthoGrad: the flow conserves |theta|^2; a discrete step grows it by eta^2 |g_perp|^2 (second order)",
    symbols=(eta, R, G, P),
    assumptions=(P**2 <= R * G,),
    claims=(
        Identity("flow_rate", sp.Integer(0), "orthograd_norm", arguments={**INV, "quantity": "flow"}),
        Identity("flow_rate_rescaled", sp.Integer(0), "orthograd_norm",
                 arguments={**INV, "quantity": "flow", "rescaled": True}),
        Identity("step_growth", eta**2 * (G - P**2 / R), "orthograd_norm", arguments={**INV, "quantity": "step"}),
        Identity("step_growth_rescaled", eta**2 * G, "orthograd_norm",
                 arguments={**INV, "quantity": "step", "rescaled": True}),
    ),
    sample={eta: (1e-4, 1.0), R: (0.1, 100.0), G: (0.1, 100.0), P: (-10.0, 10.0)},
    source=SOURCE,
    notes="The projection and the rescaling to |g| are the authors' code [A]; the conservation and the O(eta^2) "
          "growth are derived here (components in R^3 reduced to (R, G, P) by a Groebner basis). Numeric route: RK4 "
          "on the projected flow for random quadratics (the drift of |theta|^2), one step at 7 step sizes with "
          "40-digit norms (growth vs claim, fitted order in eta = 2).",
)

z1, z2, z3 = sp.symbols("z1 z2 z3", real=True)
L = sp.Symbol("L", positive=True)
p_sum = sp.exp(z1) + sp.exp(z2) + sp.exp(z3)
EXPECTED_Z = (z1 * sp.exp(z1) + z2 * sp.exp(z2) + z3 * sp.exp(z3)) / p_sum
MLP = {"widths": (2, 2, 2, 3), "logits": (z1, z2, z3), "label": 0}

HOMOGENEOUS = Card(
    id="orthograd.homogeneous_mlp.radial_derivative",
    title="Bias-free ReLU MLP: <grad CE, theta> = L (E_p[z] - z_y) < 0 at full accuracy (naive loss minimisation)",
    symbols=(z1, z2, z3, L),
    assumptions=(z1 > z2, z1 > z3),
    claims=(
        Identity("degree", sp.Integer(3), "radial_derivative", arguments={**MLP, "quantity": "degree"}),
        Identity("radial", L * (EXPECTED_Z - z1), "radial_derivative",
                 arguments={**MLP, "quantity": "radial", "degree_symbol": L}),
        Bound("naive_loss_direction", of="radial", value=sp.Integer(0), sense="upper"),
    ),
    sample={z1: (-20.0, 20.0), z2: (-20.0, 20.0), z3: (-20.0, 20.0), L: (1.0, 6.0)},
    source=SOURCE,
    notes="Derived here: the symbolic 3-layer bias-free ReLU MLP (widths 2-2-2-3) is checked positively "
          "homogeneous of degree 3 (max(0, lambda u) = lambda max(0, u), lambda > 0), and Euler's theorem with the "
          "chain rule gives d/dlambda CE(lambda^L z) = L sum_k (p_k - e_yk) z_k; the bound holds because E_p[z] < "
          "z_y when z_y is the strict maximum. Numeric route: hand-written numpy backprop through random MLPs "
          "(per-sample <grad CE, theta> vs the claim; degree from z(2 theta)/z(theta)); the tests add torch "
          "autograd on a random 226-200-200-113 MLP (the authors' architecture).",
)

CARDS = (NORM, HOMOGENEOUS)
