"""The N(0, I)-prior one-layer optimum, claimed under the prior w* ~ N(0, Sigma^-1): refuted.

Setting:   one linear-attention layer, x ~ N(0, Sigma) with a non-scalar Sigma, w* ~ N(0, Sigma^-1).
Claim:     (false) training still converges to A = ((1 + 1/n) Sigma + tr(Sigma)/n I)^-1, the global minimiser
           under w* ~ N(0, I) (card linear_transformer.one_layer.optimum). Under this prior the minimiser is
           n/(n+d+1) Sigma^-1 (card linear_transformer.one_layer.optimum_inverse_prior), so the suite reports
           this conjecture as not confirmed: the trained A is far from the formula (and its exact loss exceeds
           the minimum; the Relation isotropic_formula_is_worse of the theorem card shows that at every
           non-scalar Sigma).
Reference: Ahn, Cheng, Daneshmand, Sra, arXiv:2306.00297 (the one-layer theorem is stated for w* ~ N(0, I));
           research notes theorems-preference-bias-sf.md section 6.3 (the contrast).
"""
import sympy as sp

from theory import Card, Model, Observed, Relation, Simulation, Source
from theory.cards.linear_transformer import SAMPLE2, SIGMA3, dim, grad_norm, loss, loss_iso, loss_min, n

CARD = Card(
    id="linear_transformer.one_layer.isotropic_formula_inverse_prior",
    title="(Refuted) under w* ~ N(0, Sigma^-1) a trained layer still reaches ((1+1/n) Sigma + tr(Sigma)/n I)^-1",
    symbols=(n,),
    claims=(Relation("isotropic_formula_is_optimal", loss_iso, "==", loss_min, tol=1e-6,
                     statement="(false) under w* ~ N(0, Sigma^-1) the exact loss at ((1+1/n) Sigma + tr(Sigma)/n I)^-1 "
                               "equals the minimum: the suite finds a Sigma where it does not"),
            Observed("trained_matches_isotropic_formula", "Adam-trained one-layer A within 5 % (relative Frobenius) "
                     "of ((1+1/n) Sigma + tr(Sigma)/n I)^-1 under w* ~ N(0, Sigma^-1)", rtol=0.05),),
    model=Model("linear_transformer_one_layer", (loss, loss_min, grad_norm, loss_iso, dim),
                data={"Sigma": SIGMA3, "prior": "inverse"}, instances=True),
    sample=SAMPLE2,
    simulation=Simulation("linear_transformer_one_layer_training", at={n: 20}, steps=600, seeds=2,
                          options={"batch": 256, "lr": 0.02, "prior_inverse": 1}),
    source=Source("2306.00297", "one-layer global minimum (stated for w* ~ N(0, I)); contrast of the research notes",
                  "Ahn, Cheng, Daneshmand, Sra 2023"),
    status="conjecture",
    notes="A deliberately wrong claim kept as a regression test of the suite: the training scenario measures the "
          "trained A against the claimed formula and against n/(n+d+1) Sigma^-1, and the Relation compares the "
          "exact losses on the model's instances (a counterexample Sigma is reported); it must stay UNCONFIRMED "
          "(optverify check on it exits 1).",
)
