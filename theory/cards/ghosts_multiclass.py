"""Ghosts of softmax, multiclass case: a lower bound on the Taylor radius of the loss in the step size.

Setting:   one example's cross-entropy along an update direction v with step tau, logits linearised as
           z_k(tau) = z_k + tau a_k with slopes a_k = grad z_k . v (one JVP); Delta_a = max_k a_k - min_k a_k.
           CE(tau) = log Z(tau) - z_y(tau), Z(tau) = sum_k exp(z_k + tau a_k); its Taylor series in tau
           converges exactly inside the nearest complex zero of Z (a "ghost").
Claim:     every zero of Z has |Im tau| >= pi / Delta_a (all phases a_k Im(tau) fit in an arc shorter than pi, so
           the terms lie in an open half-plane), hence the radius rho >= rho_a = pi / Delta_a; the binary
           partition function has its zeros exactly on |Im tau| = pi / Delta_a, so the strip cannot be widened.
Reference: Sao, "Ghosts of Softmax", arXiv:2603.13552, abstract (rho_a = pi / Delta_a, Delta_a from one JVP).
"""
import sympy as sp

from theory import Card, Identity, Model, Observed, Relation, Simulation, Source

Da = sp.Symbol("Delta_a", positive=True)
tau = sp.Symbol("tau")
z, a, a_min = sp.Symbol("z", real=True), sp.Symbol("a", real=True), sp.Symbol("a_min", real=True)
delta = sp.Symbol("delta", real=True)
radius, ghost_im = sp.Symbol("radius"), sp.Symbol("ghost_im")
bound = sp.pi / Da

CARD = Card(
    id="ghosts.multiclass.radius_lower_bound",
    title="Ghosts of softmax (multiclass): Taylor radius in the step size is at least pi/Delta_a",
    symbols=(Da,),
    claims=(
        Identity("zero_free_strip", value=bound, derivation="half_plane_strip",
                 arguments={"term": sp.exp(z + a * tau), "variable": tau, "slope": a,
                            "slope_range": (a_min, a_min + Da)}),
        Identity("strip_is_sharp", value=bound, derivation="nearest_zero_imag",
                 arguments={"partition": 1 + sp.exp(-(delta + Da * tau)), "variable": tau}),
        Relation("radius_lower_bound", radius, ">=", bound,
                 statement="the modulus of the nearest complex zero of Z is at least pi / Delta_a"),
        Relation("ghost_outside_strip", ghost_im, ">=", bound,
                 statement="the nearest zero of Z lies outside the strip |Im tau| < pi / Delta_a"),
        Observed("no_failure_below_one", "digits softmax classifier, one step along -grad L: the loss after the "
                 "step is below L(0) at every swept r = tau Delta_a / pi < 1 (Delta_a from one JVP, max over examples)"),
    ),
    source=Source("2603.13552", "abstract (multiclass bound rho_a = pi / Delta_a)", "Sao 2026"),
    model=Model("softmax_partition_zeros", (radius, ghost_im),
                data={"logits": (1.2, -0.4, 0.3, -1.5), "slope_profile": (0.0, 1.0, 0.35, 0.8)}, instances=True),
    simulation=Simulation("ghosts_softmax_step", steps=20, seeds=1, options={"n": 500, "hidden": 0, "lr": 0.5}),
    notes="The bound is the paper's; the derivation (half-plane argument) is reconstructed here, the paper's body "
          "was not readable from the stored pages (abstract only). The instance (4 classes) is ours; relations are "
          "also checked on random instances (2-8 classes, logits in [-8, 8], random slope profiles). The slope "
          "profile is rescaled affinely to span [0, Delta_a] (a common slope shift multiplies Z by exp(c tau) and "
          "moves no zero). radius: argument principle + Delves-Lyness + 50-digit Newton; independently the "
          "poles of a Pade approximant of Z'/Z built from log Z's exact Taylor coefficients. Simulation: softmax "
          "regression (logits linear in the weights, so the linearisation is exact) on 500 digits after 20 GD steps; "
          "`optverify simulate ghosts.multiclass.radius_lower_bound --at hidden=32` runs a tanh MLP instead. "
          "Along -grad L the loss keeps falling well past r = 1 (inflation only at r of order 20-100, see the "
          "conjecture ghosts.softmax_step.collapse_onset): the bound is safe but conservative here.",
)
