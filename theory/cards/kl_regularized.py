"""KL-regularised reward maximisation on a finite response set: the optimal policy and its value.

Setting:   responses y in a finite set, reward r(y), reference policy pi_ref, weight beta > 0;
           V(pi) = E_pi[r] - beta KL(pi || pi_ref) over the probability simplex.
Claim:     the maximiser is pi* ∝ pi_ref exp(r / beta) and V(pi*) = beta log E_{pi_ref} exp(r / beta)
           (>= E_{pi_ref} r, the value of pi_ref).
Reference: the standard closed form used by Shi et al., "Understanding the Performance Gap in Preference
           Learning: A Dichotomy of RLHF and DPO", arXiv:2505.19770, Section 2 (problem setup).
"""
import sympy as sp

from theory import Card, Identity, Model, Relation, Source

beta = sp.Symbol("beta", positive=True)
V_star, V_ref, policy = sp.symbols("V_star V_ref policy")

REWARD = (1, 1, 0)
REFERENCE = (sp.Rational(1, 3),) * 3

CARD = Card(
    id="kl_regularized.optimal_policy",
    title="KL-regularised maximisation: pi* ∝ pi_ref exp(r/beta), V* = beta log E_ref exp(r/beta)",
    symbols=(beta,),
    claims=(
        # the claimed closed form on the card's instance (reward, reference below); the derivation solves
        # the Lagrange stationarity for a symbolic reward / reference and substitutes the instance
        Identity("V_star_closed_form", value=beta * sp.log(sum(q * sp.exp(r / beta) for r, q in zip(REWARD, REFERENCE))),
                 derivation="kl_regularized_optimum"),
        Relation("beats_reference", V_star, ">=", V_ref, statement="V(pi*) >= V(pi_ref) = E_ref r (KL >= 0)"),
    ),
    source=Source("2505.19770", "Section 2, KL-regularised objective and its maximiser", "Shi, Song, Zhou, Zhang, "
                  "Fazel, Du 2025"),
    model=Model("kl_regularized_optimum", (V_star, policy, V_ref), data={"reward": REWARD, "reference": REFERENCE},
                instances=True),
    sample={beta: (0.05, 20.0)},
    notes="eval returns V_star and policy (closed form) for any reward / reference lists (--at reward=[...] "
          "--at reference=[...]; the reference is normalised); the independent route maximises V directly over "
          "the simplex (SLSQP on pi, then mirror-ascent polish) and must agree to 1e-6; the identity's numeric "
          "route compares the claimed V*(beta) with that maximisation to 1e-9.",
)
