"""Softmax collapse in floating point: the margin at which the cross-entropy is exactly 0, per format.

Setting:   one sample, logits z with the label's logit z_y the maximum, K - 1 competitors at margin m
           (z_y - z_j = m); the per-sample loss log(sum_j exp(z_j - z_max)) - (z_y - z_max) computed in a
           binary format of precision p (significand bits, implicit bit included) and least normal exponent
           e_min, round-to-nearest-even.
Claims:    (thresholds) the loss is exactly 0 iff the partition sum rounds to 1, i.e. for one competitor iff
           exp(-m) <= 2^-p (half an ulp of 1; the tie rounds to 1): m >= p ln 2 = 11 ln 2 (float16),
           8 ln 2 (bfloat16), 24 ln 2 (float32), 53 ln 2 (float64);
           (K classes) the threshold lies between p ln 2 (terms added one by one after the max term: each is
           absorbed alone) and ln((K - 1) 2^p) (the small terms summed before the 1 is added), depending on the
           summation order;
           (gradient) at collapse the gradient is not zero: only the label component is; a wrong-class
           component is exp(z_j - z_y)/N, a normal float up to m = -ln 2^e_min (126 ln 2 = 87.3 in float32) and
           nonzero up to m = -ln(least subnormal) (149 ln 2 = 103.3).
Reference: Prieto, Barsbey, Mediano, Birdal, "Grokking at the edge of numerical stability", arXiv:2501.04697,
           Sec. 3 (softmax collapse: absorption errors once the model overfits) and the authors' logger.py.
"""
import sympy as sp

from theory import Card, Identity, Observed, Simulation, Source

SOURCE = Source("2501.04697", "Sec. 3 (softmax collapse, absorption errors); logger.py (SC metric)",
                "Prieto, Barsbey, Mediano, Birdal 2025", "Grokking at the edge of numerical stability")

THRESHOLDS = Card(
    id="softmax_collapse.binary.margin_threshold",
    title="Softmax collapse: the cross-entropy is exactly 0 from margin p ln 2 on (per float format)",
    symbols=(),
    claims=(
        Identity("float16", 11 * sp.log(2), "collapse_margin", arguments={"format": "float16"}),
        Identity("bfloat16", 8 * sp.log(2), "collapse_margin", arguments={"format": "bfloat16"}),
        Identity("float32", 24 * sp.log(2), "collapse_margin", arguments={"format": "float32"}),
        Identity("float64", 53 * sp.log(2), "collapse_margin", arguments={"format": "float64"}),
        Observed("torch_kernels", "torch's own F.cross_entropy (log_softmax + nll) on CPU, in float16, bfloat16, "
                                  "float32 and float64: the least margin with per-sample loss exactly 0 (bisected over "
                                  "the representable margins, 2 classes) is within one ulp of the format's p ln 2"),
    ),
    source=SOURCE,
    notes="Derived here (SymPy, from the format's precision and least exponent: half an ulp of 1 is 2^-p, the "
          "tie rounds to 1, solve exp(-m) = 2^-p); the paper states the mechanism (absorption), not these "
          "thresholds. Numeric route: numpy kernels (max subtracted, numpy's sum; bfloat16 emulated by rounding "
          "float32 to 8 significand bits after every operation) bisected over the representable margins, "
          "format parameters read from np.finfo; the naive kernel (no max subtracted) is measured and reported. "
          "Measured (numpy): float16 7.625, bfloat16 5.5625, float32 16.63553238, float64 36.73680056967711. "
          "The simulation repeats the bisection with torch's kernels.",
    simulation=Simulation("softmax_collapse_torch_thresholds", steps=10, seeds=1),
)

K = sp.Symbol("K", integer=True, positive=True)

K_CLASS = Card(
    id="softmax_collapse.kclass.threshold_interval",
    title="Softmax collapse with K classes: the threshold lies in [p ln 2, ln((K-1) 2^p)], by summation order",
    symbols=(K,),
    assumptions=(K >= 3,),
    claims=(
        Identity("lower_float32", 24 * sp.log(2), "collapse_margin",
                 arguments={"format": "float32", "classes": K, "quantity": "margin"}),
        Identity("upper_float32", sp.log((K - 1) * 2**24), "collapse_margin",
                 arguments={"format": "float32", "classes": K, "quantity": "k_class_upper"}),
        Identity("lower_float64", 53 * sp.log(2), "collapse_margin",
                 arguments={"format": "float64", "classes": K, "quantity": "margin"}),
        Identity("upper_float64", sp.log((K - 1) * 2**53), "collapse_margin",
                 arguments={"format": "float64", "classes": K, "quantity": "k_class_upper"}),
    ),
    sample={K: (3, 20)},
    source=SOURCE,
    notes="Derived here: the lower end is the one-competitor threshold (each term below half an ulp of 1 is "
          "absorbed on its own when added to the running sum that starts at the max term), the upper end solves "
          "(K-1) exp(-m) = 2^-p (the small terms summed first). Numeric route: for K = 113 and hypothesis-drawn K "
          "up to 2000 (seeded), the max-first kernel attains the lower end, the small-first kernel the upper end "
          "(within one ulp + (K-1) 2^-p, the rounding of K - 1 equal terms), and numpy's pairwise sum lies in "
          "between (K = 113, float32: 20.6609, 0.83 of the interval [16.6355, 21.3540]).",
)

m = sp.Symbol("m", positive=True)
N = sp.Symbol("N", integer=True, positive=True)

GRADIENT = Card(
    id="softmax_collapse.binary.gradient_at_collapse",
    title="At softmax collapse the gradient is not zero: the label component is 0, the others exp(-m)/N",
    symbols=(m, N),
    assumptions=(m > 24 * sp.log(2),),
    claims=(
        Identity("label_component", sp.Integer(0), "collapse_gradient",
                 arguments={"component": "label", "margin": m, "batch": N, "format": "float32"}),
        Identity("wrong_component", sp.exp(-m) / N, "collapse_gradient",
                 arguments={"component": "wrong", "margin": m, "batch": N, "format": "float32"}),
        Identity("normal_until", 126 * sp.log(2), "collapse_margin",
                 arguments={"format": "float32", "quantity": "normal_underflow"}),
        Identity("nonzero_until", 149 * sp.log(2), "collapse_margin",
                 arguments={"format": "float32", "quantity": "subnormal_underflow"}),
    ),
    sample={m: (16.7, 80.0), N: (1, 20)},
    source=SOURCE,
    notes="Derived here: PyTorch's log-softmax backward grad = g - exp(out) sum g (g = -e_y/N) with the rounded "
          "partition sum S = 1 beyond the collapse margin gives out_y = 0, so the label component is exactly 0, "
          "while out_j = -m keeps exp(-m)/N (the exact-arithmetic label component -1/(N (e^m + 1)) is in the "
          "evidence). The underflow margins solve exp(-m) = 2^-126 (least normal) and 2^-149 (least subnormal). "
          "Whether the paper says the gradient is exactly zero is unconfirmed (its text was not read in full). "
          "Numeric route: the float32 kernel's forward and backward in numpy at random (m, N); exp(-m) bisected "
          "in float32 (measured: below the least normal from 87.33655 on, exactly 0 from 103.9721 on).",
)

CARDS = (THRESHOLDS, K_CLASS, GRADIENT)

MODULAR = Card(
    id="softmax_collapse.modular_addition.float32_collapse",
    title="Modular addition mod 113 without regularisation: softmax collapse in float32, none with StableMax or "
          "the orthogonal gradient",
    symbols=(),
    claims=(
        Observed("softmax_collapses", "softmax CE in float32: the model fits the train split (train accuracy 1), the "
                                      "fraction of train samples with loss exactly 0 rises to at least sc_min (0.001) "
                                      "and the test accuracy never exceeds test_acc_max (0.1): learning stops before "
                                      "it generalises"),
        Observed("stablemax_no_collapse", "StableMax CE (float64, the authors' code): no train sample ever has loss "
                                          "exactly 0, train accuracy >= stablemax_train_acc (0.5) and the loss stays positive"),
        Observed("orthograd_no_collapse", "softmax CE in float32 with the orthogonal gradient: no train sample ever has "
                                          "loss exactly 0 and the final test accuracy is at least test_acc_min (0.9)"),
    ),
    source=Source("2501.04697", "Sec. 3, Fig. 2 (SC in float32 on modular addition), Sec. 5, Fig. 1 (StableMax, "
                  "orthogonal gradient); run_main_experiments.sh, models.py", "Prieto, Barsbey, Mediano, Birdal 2025",
                  "Grokking at the edge of numerical stability"),
    notes="A CPU-sized version of the paper's setting (the authors' 226-200-200-113 bias-free MLP with hidden 64, "
          "AdamW lr 0.05 instead of 5e-4/0.01, 200 full-batch steps in the check (2000 for the figure) instead of "
          "20k-80k epochs; train fraction 0.4, betas (0.9, 0.99), eps 1e-25, no weight decay, seeded, CPU); the "
          "thresholds sc_min, test_acc_max, test_acc_min, stablemax_train_acc are chosen here, not the paper's. "
          "Measured (seed 0): after 200 steps softmax SC fraction 0.002 (first > 0 at step 100), test accuracy <= "
          "0.009; StableMax SC 0, train accuracy 0.92; orthogonal gradient SC 0, test accuracy 0.99. After 2000 steps "
          "(simulate --steps 2000): softmax SC 0.416, test accuracy <= 0.009; StableMax SC 0, train accuracy 1, test "
          "accuracy 0.004 (the paper's StableMax grokking needs ~80k epochs at lr 0.01: only the absence of collapse "
          "is claimed for it); orthogonal gradient test accuracy 1.000. Figure: python -m optverify simulate "
          "softmax_collapse.modular_addition.float32_collapse --steps 2000 --plot f.png.",
    simulation=Simulation("softmax_collapse_modular_addition", steps=200, seeds=1,
                          options={"hidden": 64, "lr": 0.05, "train_frac": 0.4, "log_every": 10, "sc_min": 0.001,
                                   "test_acc_max": 0.1, "test_acc_min": 0.9, "stablemax_train_acc": 0.5}),
)

CARDS = (THRESHOLDS, K_CLASS, GRADIENT, MODULAR)
