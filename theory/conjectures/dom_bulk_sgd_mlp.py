"""Dom-SGD and Bulk-SGD on a small MLP: the alignment with the top Hessian eigenspace is spurious.

Setting:   a tanh MLP 64-32-10 on 500 of scikit-learn's digits, MSE loss, minibatch SGD. Dominant subspace:
           the top-k eigenvectors of the full-batch training-loss Hessian at the current iterate, k = number
           of classes = 10 (Gur-Ari et al.), computed by Lanczos (gpu_validation.curvature.top_eigenvalues,
           warm-started) and refreshed every few steps. Train with SGD until the gradient is aligned with it,
           then from the same state and the same minibatches run SGD, Dom-SGD (theta -= eta P_k g) and
           Bulk-SGD (theta -= eta (I - P_k) g).
Claim:     Dom-SGD (nearly) stops decreasing the loss although the gradient lies mostly in the dominant
           subspace; Bulk-SGD decreases it like SGD.
Reference: Song, Ahn, Yun, "Does SGD really happen in tiny subspaces?", arXiv:2405.16002 (ICLR 2025),
           Fig. 1 and Sec. 3 (their networks: MLP on MNIST-5k, CNN on CIFAR10-5k, Transformer on SST2-1k,
           20,000 steps; here a CPU-sized instance of the same protocol).
"""
import sympy as sp

from theory import Card, Observed, Simulation, Source

eta = sp.Symbol("eta", positive=True)

CARD = Card(
    id="dom_bulk_sgd.mlp.spurious_alignment",
    title="Dom-SGD stalls and Bulk-SGD matches SGD on a small MLP (top-k Lanczos projection)",
    symbols=(eta,),
    claims=(
        Observed("aligned_at_switch", "at the switch the full-batch gradient lies mostly in the top-k Hessian "
                 "eigenspace: ||P_k grad L||^2 / ||grad L||^2 >= 1 - rtol", rtol=0.5),
        Observed("dom_sgd_stalls", "after switching, Dom-SGD lowers the full-batch loss by at most rtol of what "
                 "SGD achieves over the same steps", rtol=0.2),
        Observed("bulk_matches_sgd", "after switching, Bulk-SGD lowers the loss by SGD's amount to within rtol",
                 rtol=0.2),
    ),
    source=Source("2405.16002", "Fig. 1, Sec. 3 (Dom-SGD / Bulk-SGD)", "Song, Ahn, Yun 2025"),
    simulation=Simulation("dom_bulk_mlp", at={eta: 0.25}, steps=800, seeds=1,
                          options={"n": 500, "width": 32, "batch": 32, "k": 10, "switch": 600, "every": 20,
                                   "lanczos_tol": 1e-3}),
    status="conjecture",
    notes="A qualitative network claim: the suite measures it, it does not derive it, hence a conjecture card. "
          "Instance of the paper's protocol, not its own experiment (smaller data and net, CPU-sized run; the "
          "paper switches once chi_k stabilises near 1 and recomputes P_k every step). Longer: optverify "
          "simulate dom_bulk_sgd.mlp.spurious_alignment --steps 4000 (on a GPU, or set every=1 with --at).",
)
