"""Schedule-free AdamW with a frozen preconditioner, late phase: the critical step size.

Setting:   f = 1/2 z^T H z; P = diag(1/(sqrt(v_hat) + eps)) frozen (the multiplier; precond(v) = P v here);
           y = (1 - beta1) z + beta1 x, z+ = z - gamma P grad f(y); late in training c -> 0, so x is frozen and z
           follows an affine map with linear part I - gamma (1 - beta1) P H. lambda: an eigenvalue of PH (real and
           >= 0: PH is similar to P^(1/2) H P^(1/2)).
Claims:    stable iff gamma < 2/((1 - beta1) lambda_max(PH)), i.e. lambda_max(PH) < 2/(gamma (1 - beta1)) (the
           Schur engine from the per-mode rule); the same threshold for the FULL-space map with non-commuting P
           and H (numeric route: random diagonal P, PSD H in a random eigenbasis).
Reference: Song, Baek, Ahn, Yun, arXiv:2507.09846 (SF-AdamW near the edge of stability [S]; the threshold itself
           is the research notes' derivation, Sec. 3.4 [R]); method: Defazio et al., arXiv:2405.15682, Sec. 2.
"""
import sympy as sp

from theory import Card, Identity, Simulation, Source, Threshold, grad, precond

gamma, lam = sp.symbols("gamma lambda", positive=True)
beta1 = sp.Symbol("beta1", nonnegative=True)
x = sp.Symbol("x", real=True)     # the frozen average (a parameter)
z = sp.Symbol("z", real=True)

CARD = Card(
    id="schedule_free.adamw.frozen_critical_step",
    title="Schedule-free AdamW, frozen preconditioner (late phase): lambda_max(PH) < 2/(gamma (1 - beta1))",
    symbols=(gamma, beta1, lam, x),
    assumptions=(beta1 < 1,),
    state=(z,),
    update=(z - gamma * precond(grad((1 - beta1) * z + beta1 * x)),),
    eigenvalue=lam,
    claims=(
        Threshold("gamma_crit", param=gamma, value=2 / ((1 - beta1) * lam)),
        Identity("gamma_crit_full_space", 2 / ((1 - beta1) * lam), "sf_preconditioned_threshold",
                 arguments={"param": gamma, "frozen": (x,)}),
    ),
    sample={beta1: (0.0, 0.99), lam: (0.05, 20.0)},
    source=Source("2507.09846", "SF-AdamW at the edge of stability [S]; threshold: research notes Sec. 3.4 [R]; "
                  "method arXiv:2405.15682 Sec. 2", "Song, Baek, Ahn, Yun 2025"),
    simulation=Simulation(at={beta1: 0.9, x: 0.5}, spectrum=(4.0, 1.0, 0.25)),
    notes="Derived here (Schur-Cohn on the per-mode rule, lambda an eigenvalue of PH); whether the paper states this "
          "exact threshold could not be confirmed (notes [X]). The full-space claim is the same closed form at "
          "lambda = lambda_max(PH); its numeric route builds the d-dimensional map by running the rule with "
          "grad(v) = H v, precond(v) = P v for random non-commuting P and H. The simulation compiles the rule "
          "(x frozen at 0.5) on a quadratic.",
)
