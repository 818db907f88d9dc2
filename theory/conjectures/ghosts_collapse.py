"""Ghosts of softmax: the loss collapses once the normalised step r = tau Delta_a / pi reaches 1.

Setting:   a small softmax classifier (scikit-learn digits, float64), one step theta + tau v along v = -grad L,
           Delta_a = max over examples of max_k a_k - min_k a_k with a_k = grad z_k . v (one JVP), r = tau Delta_a / pi.
Claim:     (paper, experiments) "no model fails for r < 1, yet collapse appears once r >= 1": here read as the
           loss-inflation onset (first swept r with L >= 1.1 L(0)) lying in [1, 4].
Status:    conjecture. pi/Delta_a is only a LOWER bound on the Taylor radius, and a radius is not a blow-up point
           of the real-line loss; on the digits softmax regression along -grad L the onset is measured far
           beyond r = 4 (r ~ 90 at seed 0 after 20 GD steps, ~45 at seed 1; ~20 for a tanh MLP), so the suite cannot confirm the claim in
           this setting. The paper's body (definition of failure, per-batch Delta_a, directions) was not readable
           from the stored pages, only its abstract.
Reference: Sao, "Ghosts of Softmax", arXiv:2603.13552, abstract (six architectures, several directions).
"""
import sympy as sp

from theory import Card, Observed, Simulation, Source

Da = sp.Symbol("Delta_a", positive=True)

CARD = Card(
    id="ghosts.softmax_step.collapse_onset",
    title="Ghosts of softmax: loss inflation sets in at r = tau Delta_a / pi = 1",
    symbols=(Da,),
    claims=(Observed("collapse_near_one", "one step along -grad L on a digits softmax classifier: the first swept r "
                     "with L >= 1.1 L(0) lies in [1, 4]"),),
    source=Source("2603.13552", "abstract (experiments: no failure for r < 1, collapse once r >= 1)", "Sao 2026"),
    simulation=Simulation("ghosts_softmax_step", steps=20, seeds=1, options={"n": 500, "hidden": 0, "lr": 0.5}),
    status="conjecture",
    notes="Not confirmed here: the measured onset along -grad L is r ~ 90 (softmax regression, 20 GD steps, seed 0; ~45 at seed 1) "
          "and r ~ 19-27 (tanh MLP 64-32-10); the loss is still falling at r = 4. Random directions (not "
          "run by this scenario) inflate earlier, partly at first order since they are not descent directions. "
          "The 1.1 threshold follows the authors' public phase-transition script; the scenario also reports the "
          "first r with L >= L(0).",
)
