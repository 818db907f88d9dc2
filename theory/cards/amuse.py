"""AMUSE (Anytime Muon with Stable gradient Evaluation): the interpolation schedule beta_t.

Setting:   Y = (1 - b) Z + b X;  M+ = mu M + grad(Y);  Z+ = Z - eta O(M+) (O: Newton-Schulz orthogonalisation;
           sign(.) stands for it here, elementwise);  X+ = (1 - c) X + c Z+, with b = beta_t and c = c_t at this step.
           The code's schedule: with c_w the averaging weight at the end of warmup T0,
           S_t = c_t (1 - c_w)/(c_w (1 - c_t)), beta_t = 1 - S_t^rho (1 - beta1).
Claims:    for c_t = 1/t, S_t = (T0 - 1)/(t - 1) (so beta_t = 1 - ((T0 - 1)/(t - 1))^rho (1 - beta1), the README
           form); beta_{T0} = beta1; beta_t -> 1 (rho > 0); the code's r_t = c_t/((1 - beta_t) + beta_t c_t) is the
           online-average weight c' of the rule (X+ = (1 - r) X + r Y+, whatever the orthogonalised direction).
           Simulation: on a river-valley toy with sign updates, the valley oscillation at Y decays as beta_t -> 1
           while early (t <= T0) river progress follows the fast sequence Z (Y at the fraction 1 - beta1/2 of Z).
Reference: Kim, Shin, Yun, Baek, Song, Yun, "AMUSE: Anytime Muon with Stable gradient Evaluation", arXiv:2605.22432
           (update rule and schedule read from the authors' code kjeiun/amuse, src/optim/AMUSE.py: research notes
           Sec. 4 [P]).
"""
import sympy as sp

from theory import Card, Identity, Observed, Simulation, Source, grad, sign

eta, mu, lam = sp.symbols("eta mu lambda", positive=True)
b = sp.Symbol("b", nonnegative=True)        # beta_t at this step
c = sp.Symbol("c", positive=True)           # c_t at this step
beta1 = sp.Symbol("beta1", nonnegative=True)
rho = sp.Symbol("rho", positive=True)
T0 = sp.Symbol("T0", positive=True, integer=True)
t = sp.Symbol("t", positive=True, integer=True)
Z, X, M = sp.symbols("Z X M", real=True)

M_NEXT = mu * M + grad((1 - b) * Z + b * X)
Z_NEXT = Z - eta * sign(M_NEXT)
SCHEDULE = {"schedule": 1 / t, "index": t, "warmup": T0, "rho": rho, "beta1": beta1}

CARD = Card(
    id="amuse.interpolation.schedule",
    title="AMUSE: beta_t = 1 - ((T0 - 1)/(t - 1))^rho (1 - beta1) for c_t = 1/t; r_t = c' of the rule",
    symbols=(eta, mu, lam, b, c, beta1, rho, T0, t),
    assumptions=(b < 1, beta1 < 1, c <= 1, T0 >= 2),
    state=(Z, X, M),
    update=(Z_NEXT, (1 - c) * X + c * Z_NEXT, M_NEXT),
    eigenvalue=lam,
    claims=(
        Identity("S_closed_form", (T0 - 1) / (t - 1), "amuse_schedule", conditions=(t > T0,),
                 arguments={**SCHEDULE, "quantity": "S"}),
        Identity("beta_at_warmup_end", beta1, "amuse_schedule", arguments={**SCHEDULE, "quantity": "beta_at_warmup"}),
        Identity("beta_limit", sp.S.One, "amuse_schedule", arguments={**SCHEDULE, "quantity": "beta_limit"}),
        Identity("r_t", c / ((1 - b) + b * c), "sf_online_average", arguments={"weight": c, "average": X}),
        Observed("valley_decays", "AMUSE with sign updates on L = -kappa u + a v^2/2 (T0 = 200, 2000 steps, 32 seeded "
                                  "starts): the RMS valley coordinate of Y over the last 10% of steps is at most "
                                  "rtol = 0.25 times its RMS over the 10% of steps before T0, and below that of the "
                                  "same run with beta_t frozen at beta1", rtol=0.25),
        Observed("early_river", "at t = T0 (beta_t = beta1 so far) the river progress of Y is the fraction "
                                "1 - beta1/2 of the fast sequence Z's within rtol = 5% (X, the uniform average of Z's "
                                "linear progress, has 1/2; Y = (1 - beta1) Z + beta1 X), and Y is closer to Z than X",
                 value=1 - beta1 / 2, rtol=0.05),
    ),
    sample={beta1: (0.0, 0.99), rho: (0.1, 3.0), b: (0.0, 0.99), c: (0.01, 1.0), eta: (0.001, 1.0), mu: (0.0, 0.99)},
    source=Source("2605.22432", "AMUSE update and schedule; code kjeiun/amuse src/optim/AMUSE.py (research notes "
                  "Sec. 4.1-4.2 [P])", "Kim, Shin, Yun, Baek, Song, Yun 2026",
                  "AMUSE: Anytime Muon with Stable gradient Evaluation"),
    simulation=Simulation("amuse_river_valley", at={beta1: 0.6, rho: 0.8, eta: 0.01, mu: 0.95, lam: 1.0, b: 0.6, c: 0.5}, steps=2000,
                          seeds=32, options={"T0": 200, "kappa": 1.0, "valley": 4.0}),
    notes="Derived here: S_t and beta_t from the averaging weights by SymPy (closed form, t = T0, limit); r_t as the "
          "online-average weight of the card's own rule (theory.derive.schedule_free, for any direction O(M)). Read "
          "from the code (notes [P]): the S_t definition, beta_t, r_t and the update. Numeric routes: the "
          "definitions at 50 digits; the rule run on random sequences. sign(.) replaces Newton-Schulz in the "
          "simulation (the notes' suggestion); the paper's river/valley decomposition of Muon updates is empirical.",
)
