"""DPO over a log-linear policy class is Bradley-Terry MLE of the linear reward on the same features.

Setting:   pi_theta(y) ∝ pi_ref(y) exp(theta . phi(y)) on a finite response set; DPO minimises the BT loss of
           the implicit reward h_theta = beta log(pi_theta / pi_ref) over pairs mu with labels from r*.
Claim:     h_theta(y) - h_theta(y') = beta theta . (phi(y) - phi(y')) (the normaliser and pi_ref cancel), so the
           DPO population loss at theta is the BT loss of the linear reward w = beta theta: theta_DPO = w_MLE / beta.
           Hence with F = {w . phi} and Pi = {pi_theta} (isomorphic classes), pi_RLHF = pi_DPO and
           V(pi_RLHF) = V(pi_DPO), whether or not r* is linear.
Reference: Shi et al., arXiv:2505.19770, Section 3 (Proposition: equivalence under isomorphic classes);
           Rafailov et al., arXiv:2305.18290 (the DPO implicit reward).
"""
import sympy as sp

from theory import Card, Identity, Model, Relation, Source

beta = sp.Symbol("beta", positive=True)
theta, phi_y, phi_yp = sp.symbols("theta phi_y phi_yp", real=True)
V_rlhf, V_dpo, V_star, theta_gap = sp.symbols("V_rlhf V_dpo V_star theta_gap")

CARD = Card(
    id="dpo.loglinear.bt_mle_equivalence",
    title="DPO on a log-linear class = BT-MLE of the linear reward (theta_DPO = theta_MLE / beta)",
    symbols=(beta, theta, phi_y, phi_yp),
    claims=(
        Identity("implicit_reward_difference", value=beta * theta * (phi_y - phi_yp),
                 derivation="loglinear_implicit_reward",
                 arguments={"theta": (theta,), "phi_y": (phi_y,), "phi_yp": (phi_yp,), "beta": beta}),
        Relation("dpo_is_scaled_mle", theta_gap, "<=", 0, tol=1e-7,
                 statement="beta theta_DPO = w_MLE (separate Newton fits, relative gap <= 1e-7)"),
        Relation("rlhf_equals_dpo", V_rlhf, "==", V_dpo, tol=1e-8, statement="isomorphic F and Pi: same value"),
        Relation("below_optimum", V_dpo, "<=", V_star, statement="V(pi_DPO) <= V*"),
    ),
    source=Source("2505.19770", "Section 3, isomorphic reward / policy classes", "Shi, Song, Zhou, Zhang, Fazel, Du 2025"),
    model=Model("dpo_loglinear", (V_rlhf, V_dpo, V_star, theta_gap),
                data={"reward": (0, 1, sp.Rational(1, 5), sp.Rational(-1, 2)),
                      "reference": (sp.Rational(1, 4),) * 4,
                      "pairs": ((0, 1, 1, 1), (1, 0, 1, 1), (1, 1, 0, 1), (1, 1, 1, 0)),
                      "reward_features": ((0, 1), (1, 0), (2, 1), (-1, 1)),
                      "policy_features": ((0, 1), (1, 0), (2, 1), (-1, 1))}, instances=True),
    sample={beta: (0.02, 50.0)},
    notes="The identity is derived for a symbolic three-response set (the normaliser Z and pi_ref cancel); its numeric "
          "route compares the DPO loss computed from the policies' log-probabilities with the BT loss of the linear "
          "reward beta theta . phi on random instances (1e-12). The relations run the two fits separately (Newton on "
          "the BT loss in w; Gauss-Newton on the DPO loss in theta through log pi_theta) on the card's 4-response, "
          "2-feature instance and on random instances (3-5 responses, 1-2 features). eval needs theta, phi_y, phi_yp "
          "as well (the identity's variables); the model's values depend on beta only.",
)
