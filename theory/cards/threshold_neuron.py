"""Learning threshold neurons via the edge of stability (Ahn, Bubeck, Chewi, Lee, Suarez, Zhang,
arXiv:2212.07469): the step-size phase transition of GD on the reduced model l(xy).

Setting:   GD on L(x, y) = l(x y), l even and convex with l''(0) > 0 (here log cosh and sqrt(1 + s^2); the
           loss is the factory's parameter: ``transition_card(key, l)`` builds the same card for any l):
           x+ = x - eta y l'(xy), y+ = y - eta x l'(xy). The minima are x = 0 with sharpness y^2 l''(0).
Claims:    (transition) the minimum (0, y) is linearly stable iff y^2 < 2/(eta l''(0)): starting below, y
           barely moves (y^2 - x^2 is conserved by gradient flow); starting above, GD oscillates (edge of
           stability) and ends at a sharpness just below 2/eta; (final_sharpness) the leading-order limit
           y_inf^2 = 2/(eta l2) + 3 eta l2^2/l4 (l2 = l''(0), l4 = l''''(0) < 0), independent of a start far
           above: 2/eta - 3 eta/2 for log cosh, 2/eta - eta for sqrt(1 + s^2).
"""
import sympy as sp

from theory import Card, Identity, Observed, Simulation, Source

eta = sp.Symbol("eta", positive=True)
x, y = sp.symbols("x y", real=True)
s = sp.Symbol("s", real=True)
SOURCE = Source("2212.07469", "the reduced model l(xy) and its sharp step-size phase transition (abstract read; "
                "theorem constants not read)", "Ahn, Bubeck, Chewi, Lee, Suarez, Zhang 2023",
                "Learning threshold neurons via the edge of stability")
ARGS = {"mode": x, "slow": y, "eta": eta}


def gd_update(loss):
    L = loss.subs(s, x * y)
    return (x - eta * sp.diff(L, x), y - eta * sp.diff(L, y))


def transition_card(key: str, loss: sp.Expr, final: sp.Expr, label: str) -> Card:
    """The transition card for GD on ``loss``(xy) (``loss`` an even expression in ``s``); ``final``:
    the claimed leading-order y_inf^2 above the transition."""
    l2 = sp.diff(loss, s, 2).subs(s, 0)
    return Card(
        id=f"threshold_neuron.{key}.transition",
        title=f"GD on {label}(xy): sharp step-size transition at y0^2 = 2/eta; final y^2 just below 2/eta above it",
        symbols=(eta,),
        state=(x, y),
        update=gd_update(loss),
        claims=(
            Identity("transition", 2 / (eta * l2), "threshold_neuron_transition", arguments=ARGS),
            Identity("final_sharpness", final, "threshold_neuron_final_sharpness", arguments=ARGS),
            Observed("stays_below", "from x0 = 0.1 and y0^2 <= 0.8 x 2/eta, y barely moves: "
                                    "|y_inf^2 - y0^2| <= rtol y0^2 (rtol = 3%)", rtol=0.03),
            Observed("same_limit_above", "from x0 = 0.1 and every y0^2 in [1.25, 2] x 2/eta, GD ends at the same "
                                         "y_inf^2 (spread below 1e-3 x 2/eta), within rtol = 1% of the claimed gap "
                                         "below 2/eta (final_sharpness)", value=final, rtol=0.01),
        ),
        sample={eta: (0.01, 0.5)},
        source=SOURCE,
        notes="Derived here from the card's update rule: the transition from the Jacobian on the minima x = 0 "
              "(multiplier 1 - eta y^2 l''(0) = -1); the final sharpness from the amplitude equations of the "
              "period-two oscillation (Taylor coefficients of the update, dsolve of dA/dmu, the far-start limit). "
              "The paper's constants could not be read (research notes section 4 [U]); the notes' runs [D] at "
              "eta = 1/8 (x0 = 0.1, 200k steps) give 15.812 (log cosh) and 15.874 (sqrt(1+s^2)), comparison "
              "targets only. Numeric routes: numpy GD on the card's update from grids of y0^2 across the "
              "transition (below: y stays; above: y_inf^2 drops below 2/eta) at several eta, and y_inf^2 against "
              "the claimed gap at eta = 1/8, 1/16, 1/32. The simulation draws the y_inf^2 vs y0^2 figure.",
        simulation=Simulation("threshold_neuron_transition", at={eta: sp.Rational(1, 8)}, steps=20000, seeds=24,
                              options={"x0": 0.1, "below": 0.8, "above_lo": 1.25, "above_hi": 2.0}),
    )


LOGCOSH = transition_card("logcosh", sp.log(sp.cosh(s)), 2 / eta - 3 * eta / 2, "log cosh")
SQRT1P = transition_card("sqrt1p", sp.sqrt(1 + s**2), 2 / eta - eta, "sqrt(1 + s^2)")
CARDS = (LOGCOSH, SQRT1P)
