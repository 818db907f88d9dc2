"""Schedule-free SGD on a quadratic, late phase: the critical step size.

Setting:   f(x) = lambda/2 * x**2; y[t] = (1 - beta) z[t] + beta x[t], z[t+1] = z[t] - gamma f'(y[t]),
           x[t+1] = (1 - c[t+1]) x[t] + c[t+1] z[t+1] with c[t] -> 0 (c = 1/(t+1)). Late in training
           x is frozen, so z follows an affine map whose linear part is 1 - gamma (1 - beta) lambda.
Claim:     late-phase stability iff gamma < 2 / ((1 - beta) lambda).
Reference: Song, Baek, Ahn, Yun, arXiv:2507.09846, Sec. 4.3, Prop. 4.1 (divergence above the
           threshold); the method: Defazio et al., "The Road Less Scheduled", arXiv:2405.15682, Sec. 2.
"""
import sympy as sp

from theory import Card, Simulation, Source, Threshold, grad

gamma, lam = sp.symbols("gamma lambda", positive=True)
beta = sp.Symbol("beta", nonnegative=True)
x = sp.Symbol("x", real=True)  # the averaged iterate, frozen in the late phase (a parameter)
z = sp.Symbol("z", real=True)



CARD = Card(
    id="schedule_free_sgd.quadratic.critical_step",
    title="Schedule-free SGD on a quadratic (late phase): critical step size",
    symbols=(gamma, beta, lam, x),
    assumptions=(beta < 1,),
    state=(z,),
    update=(z - gamma * grad((1 - beta) * z + beta * x),),
    eigenvalue=lam,
    claims=(Threshold("gamma_crit", param=gamma, value=2 / ((1 - beta) * lam)),),
    source=Source("2507.09846", "Sec. 4.3, Prop. 4.1; method: arXiv:2405.15682 Sec. 2, eqs. (3)-(5)",
                  "Song, Baek, Ahn, Yun 2025"),
    simulation=Simulation(at={beta: 0.9, x: 0.5}, spectrum=(4.0, 1.0, 0.25)),
    notes="Prop. 4.1 of 2507.09846 proves the divergence direction (lambda > 2/((1 - beta) gamma) => the "
          "iterates diverge); the stable direction below the threshold is this suite's derivation for the "
          "late phase (x frozen). The simulation runs this rule, compiled, with the frozen average at x = 0.5 "
          "in every coordinate (an affine map: its stability is that of the linear part). The full method "
          "(x moving with c[t+1] = 1/(t + 1)) is gpu_validation's hand-written schedule_free_sgd, which "
          "reduces to this rule when c = 0 (tested equal).",
)
