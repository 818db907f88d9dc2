"""Full-batch GD on a small network: progressive sharpening, then sharpness at 2/eta (edge of stability).

Setting:   a tanh MLP (64-32-10) on 500 scikit-learn digits, MSE on one-hot targets, full-batch GD
           with constant step size eta; sharpness = top eigenvalue of the training-loss Hessian,
           measured by Lanczos on Hessian-vector products along the run. The weights start at half the
           LeCun-normal scale, so training starts below 2/eta at every swept eta (at the full scale the
           initial sharpness, about 8, is above 2/eta = 6.7 and 4) and the run shows both phases of
           Cohen et al.'s Fig. 1: progressive sharpening up to 2/eta, then the plateau there.
Claims:    (1) at step sizes where the run reaches 2/eta, the sharpness then hovers within +-10 % of
           2/eta; (2) at a smaller step size the sharpness rises from its value early in training
           while staying below 2/eta (progressive sharpening).
Reference: Cohen, Kaur, Li, Kolter, Talwalkar, arXiv:2103.00065, Sec. 3 (and Fig. 1).
"""
import sympy as sp

from theory import Card, Observed, Simulation, Source

eta = sp.Symbol("eta", positive=True)
SOURCE = Source("2103.00065", "Sec. 3, Fig. 1 (observed on real networks)", "Cohen et al. 2021")

CARDS = (
    Card(
        id="gd.mlp.sharpness_at_eos",
        title="GD on an MLP: sharpness settles at 2/eta",
        symbols=(eta,),
        claims=(Observed("sharpness_limit", "late in training the top Hessian eigenvalue stays within rtol of 2/eta",
                         value=2 / eta, rtol=0.1, observer="settles_at"),),
        source=SOURCE,
        simulation=Simulation("gd_mlp", sweep={eta: (0.3, 0.5)}, steps=3000, seeds=1, options={"every": 100, "init_scale": 0.5}),
    ),
    Card(
        id="gd.mlp.progressive_sharpening",
        title="GD on an MLP: sharpness rises while below 2/eta",
        symbols=(eta,),
        claims=(Observed("sharpening", "the top Hessian eigenvalue grows from its early value and stays below 2/eta",
                         value=2 / eta, rtol=0.05, observer="rises_below"),),
        source=SOURCE,
        simulation=Simulation("gd_mlp", sweep={eta: (0.2,)}, steps=3000, seeds=1, options={"every": 100, "init_scale": 0.5}),
    ),
)
