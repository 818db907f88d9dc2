"""Symbolic derivations for softmax collapse, StableMax and the orthogonal gradient (pure SymPy).

Prieto, Barsbey, Mediano, Birdal, "Grokking at the edge of numerical stability", arXiv:2501.04697.

A binary floating-point format is described by its precision p (significand bits, the implicit bit
included) and its least normal exponent e_min (``FORMATS``; these are the IEEE 754 / bfloat16 format
parameters, not results). Everything below is derived from those two numbers:

- ``collapse_margin``: the floats in [1, 2) are 1 + k 2^(1-p), so the representable neighbours of 1 are
  1 and 1 + 2^(1-p); their midpoint is 1 + 2^-p. Under round-to-nearest-even 1 + t (0 <= t) rounds to 1
  iff t <= 2^-p (the tie goes to the even significand, which is 1's). The stable kernel
  loss = log(sum_j exp(z_j - z_max)) with the label at the max and competitors at margin m is
  log(fl(1 + exp(-m))): exactly 0 iff exp(-m) <= 2^-p, i.e. m >= m*(p) = solve(exp(-m) = 2^-p) = p ln 2.
  ``quantity``:
    ``margin``              p ln 2 (one competitor; K - 1 competitors added one by one after the max term:
                            each is absorbed separately, the same threshold);
    ``k_class_upper``       solve((K - 1) exp(-m) = 2^-p) = ln((K - 1) 2^p) (the K - 1 small terms summed
                            exactly before the 1 is added: the largest threshold any summation order gives);
    ``normal_underflow``    solve(exp(-m) = 2^e_min): beyond it exp(-m) is no longer a normal number;
    ``subnormal_underflow`` solve(exp(-m) = 2^(e_min - p + 1)) (the least subnormal): up to it exp(-m) is
                            at least the least positive float, so a gradient component exp(-m) is nonzero.
- ``collapse_gradient``: the backward of the log-softmax kernel (PyTorch's: grad_j = g_j - exp(out_j) sum g,
  g = -e_y / N for the mean cross-entropy), out_j = (z_j - z_max) - log S, written with the *rounded*
  partition sum S. Once the margin exceeds m*, S = fl(1 + sum exp(-m)) = 1 (collapse_margin), so
  out_y = 0 exactly: the label component is (exp(0) - 1)/N = 0, a wrong-class component is exp(-m)/N.
  The exact-arithmetic gradient (S unrounded) is returned in the evidence for comparison.
- ``stablemax_loss``: the authors' s(x) = x + 1 (x >= 0), 1/(1 - x) (x < 0) (their code adds 1e-30 to the
  denominator; exact here); loss = -log(s(z_y) / sum_j s(z_j)) at logits (D, 0, ..., 0) (K - 1 zeros),
  simplified. ``tail_rate``: lim_{D -> oo} D * loss (the loss decays like (K - 1)/D).
- ``orthograd_norm``: theta, g in R^3 with components; g_perp = g - (<theta, g>/<theta, theta>) theta (the
  authors' per-tensor projection, epsilon 1e-30 dropped), optionally rescaled to |g| (``rescaled``). The
  result is written in the invariants R = |theta|^2, G = |g|^2, P = <theta, g> by reducing the numerator
  and denominator modulo a lex Groebner basis of <R - |theta|^2, G - |g|^2, P - <theta, g>>; the reduction
  must leave no component (otherwise a DerivationError). ``quantity``: ``flow`` d/dt |theta|^2 under
  d theta/dt = -g_perp; ``step`` |theta - eta g_perp|^2 - |theta|^2 (``eta`` the card's step symbol).
- ``radial_derivative``: Euler's theorem. The claim's ``network`` (a symbolic bias-free ReLU MLP, logits as
  expressions of weight symbols) is checked homogeneous: z(lambda theta) = lambda^L z(theta) with lambda > 0,
  the degree L found from the ratio. Then d/dlambda CE(z(lambda theta)) at lambda = 1 (= <grad CE, theta>)
  is computed by the chain rule through generic logits z_k -> lambda^L z_k: the result L sum_k (p_k - e_yk) z_k.
  ``quantity``: ``degree`` returns L; ``radial`` the radial derivative in the claim's ``logits`` symbols
  (with the card's degree symbol when ``degree_symbol`` is given).
"""
from __future__ import annotations

import sympy as sp

from theory._card import Card, Identity
from theory._errors import DerivationError
from theory.derive._base import Derived

# (precision p incl. the implicit bit, least normal exponent e_min): format parameters (IEEE 754-2008 binary16,
# binary32, binary64; bfloat16 = float32's exponent with an 8-bit significand)
FORMATS: dict[str, tuple[int, int]] = {
    "float16": (11, -14),
    "bfloat16": (8, -126),
    "float32": (24, -126),
    "float64": (53, -1022),
}

_m = sp.Symbol("m", positive=True)


def _format(claim: Identity) -> tuple[int, int]:
    args = claim.arguments
    if "format" in args:
        if args["format"] not in FORMATS:
            raise DerivationError(f"claim {claim.name}: unknown format {args['format']!r} (known: {', '.join(FORMATS)})")
        return FORMATS[args["format"]]
    if "precision" in args and "min_exponent" in args:
        return int(args["precision"]), int(args["min_exponent"])
    raise DerivationError(f"claim {claim.name}: give format= or precision= and min_exponent=")


def half_ulp_of_one(p: int) -> sp.Expr:
    """Half the gap between 1 and the next float of a precision-p format: (1 + 2^(1-p)) - 1, halved."""
    next_up = 1 + sp.Integer(2) ** (1 - p)
    return (next_up - 1) / 2


def absorbed_iff(p: int, t: sp.Expr) -> sp.Expr:
    """Round-to-nearest-even of 1 + t (t >= 0) is 1 iff t <= half an ulp of 1 (the tie rounds to 1, whose
    significand is even): the condition as a SymPy relation."""
    return sp.Le(t, half_ulp_of_one(p))


def _solve_margin(lhs: sp.Expr, level: sp.Expr) -> sp.Expr:
    roots = [r for r in sp.solve(sp.Eq(lhs, level), _m) if r.is_real is not False]
    if len(roots) != 1:
        raise DerivationError(f"expected one margin with {lhs} = {level}, found {roots}")
    return sp.expand_log(sp.simplify(roots[0]), force=True)


def collapse_threshold(p: int, e_min: int, quantity: str = "margin", classes: sp.Expr | None = None) -> sp.Expr:
    """The margin threshold of ``quantity`` for a format (p, e_min) (see the module docstring)."""
    h = half_ulp_of_one(p)
    if quantity == "margin":
        return _solve_margin(sp.exp(-_m), h)
    if quantity == "k_class_upper":
        if classes is None:
            raise DerivationError("k_class_upper needs classes= (the number of classes K)")
        return _solve_margin((classes - 1) * sp.exp(-_m), h)
    if quantity == "normal_underflow":
        return _solve_margin(sp.exp(-_m), sp.Integer(2) ** e_min)
    if quantity == "subnormal_underflow":
        return _solve_margin(sp.exp(-_m), sp.Integer(2) ** (e_min - p + 1))
    raise DerivationError(f"unknown collapse quantity {quantity!r}")


def _collapse_margin(card: Card, claim: Identity) -> Derived:
    p, e_min = _format(claim)
    quantity = claim.arguments.get("quantity", "margin")
    value = collapse_threshold(p, e_min, quantity, claim.arguments.get("classes"))
    t = sp.Symbol("t", nonnegative=True)
    return Derived(claim.name, "collapse_margin", value,
                   {"precision": p, "min_exponent": e_min, "quantity": quantity,
                    "half_ulp_of_one": half_ulp_of_one(p), "absorbed_iff": absorbed_iff(p, t)})


def collapse_gradient(margin: sp.Expr, n: sp.Expr, classes: int | sp.Expr = 2, collapsed: bool = True):
    """Label and wrong-class components of the mean-CE gradient w.r.t. the logits, through the log-softmax
    kernel with the partition sum S rounded (collapsed: S = 1) or exact."""
    S = 1 + (classes - 1) * sp.exp(-margin)
    if collapsed:
        S = sp.Integer(1)   # fl(1 + (K-1) e^-m) = 1 beyond the threshold (collapse_margin)
    out_y = 0 - sp.log(S)             # (z_y - z_max) - log S
    out_j = -margin - sp.log(S)       # (z_j - z_max) - log S
    g_y, g_j = -1 / n, sp.Integer(0)  # d(mean CE)/d out = -e_y / N
    total = g_y                       # sum_k g_k
    label = sp.simplify(g_y - sp.exp(out_y) * total)
    wrong = sp.simplify(g_j - sp.exp(out_j) * total)
    return label, wrong


def _collapse_gradient(card: Card, claim: Identity) -> Derived:
    args = claim.arguments
    component = args.get("component")
    margin, n = args.get("margin"), args.get("batch")
    if component not in ("label", "wrong") or margin is None or n is None:
        raise DerivationError(f"claim {claim.name}: give component='label'|'wrong', margin=SYMBOL, batch=SYMBOL")
    label, wrong = collapse_gradient(margin, n, args.get("classes", 2), collapsed=True)
    exact = collapse_gradient(margin, n, args.get("classes", 2), collapsed=False)
    return Derived(claim.name, "collapse_gradient", label if component == "label" else wrong,
                   {"exact_label": exact[0], "exact_wrong": exact[1], "partition_sum": 1})


def stablemax_s(x: sp.Expr) -> sp.Expr:
    """The authors' s(x): x + 1 for x >= 0, 1/(1 - x) for x < 0 (their 1e-30 dropped)."""
    return sp.Piecewise((x + 1, x >= 0), (1 / (1 - x), True))


def stablemax_loss(label: sp.Expr, others: sp.Expr, count: sp.Expr) -> sp.Expr:
    """-log(s(label) / (s(label) + count * s(others))): ``count`` equal competitor logits."""
    s_y, s_o = stablemax_s(label), stablemax_s(others)
    return -sp.log(s_y / (s_y + count * s_o))


def _stablemax(card: Card, claim: Identity) -> Derived:
    args = claim.arguments
    D, K = args.get("margin"), args.get("classes")
    if D is None or K is None:
        raise DerivationError(f"claim {claim.name}: give margin=SYMBOL (label logit, others 0) and classes=SYMBOL")
    loss = stablemax_loss(D, sp.Integer(0), K - 1)
    loss = sp.simplify(sp.piecewise_fold(loss).subs(sp.Ge(D, 0), True))
    loss = sp.simplify(loss.rewrite(sp.log) if isinstance(loss, sp.Piecewise) else loss)
    if isinstance(loss, sp.Piecewise):
        raise DerivationError(f"the StableMax loss did not reduce to one branch: {loss}")
    quantity = args.get("quantity", "loss")
    if quantity == "loss":
        value = sp.expand_log(loss, force=False)
    elif quantity == "tail_rate":
        value = sp.simplify(sp.limit(D * loss, D, sp.oo))
    else:
        raise DerivationError(f"unknown StableMax quantity {quantity!r}")
    return Derived(claim.name, "stablemax_loss", value, {"loss": loss, "s": stablemax_s(sp.Symbol("x", real=True))})


def _reduce_to_invariants(expr: sp.Expr, components, invariants) -> sp.Expr:
    """``expr`` (a rational function of the components) in the invariants, by lex Groebner normal forms."""
    names = [s for s, _ in invariants]
    gens = (*components, *names)
    basis = sp.groebner([s - e for s, e in invariants], *gens, order="lex")
    num, den = sp.fraction(sp.together(expr))
    num = sp.reduced(sp.expand(num), list(basis.exprs), *gens, order="lex")[1]
    den = sp.reduced(sp.expand(den), list(basis.exprs), *gens, order="lex")[1]
    left = (num.free_symbols | den.free_symbols) & set(components)
    if left:
        raise DerivationError(f"{expr} is not a function of the invariants {names} (left: {sorted(map(str, left))})")
    return sp.factor(num / den)


def orthograd_norm(quantity: str, R: sp.Symbol, G: sp.Symbol, P: sp.Symbol, eta: sp.Expr | None = None,
                   rescaled: bool = False, dim: int = 3) -> sp.Expr:
    th = sp.symbols(f"theta_1:{dim + 1}", real=True)
    g = sp.symbols(f"g_1:{dim + 1}", real=True)
    theta, grad = sp.Matrix(th), sp.Matrix(g)
    invariants = ((R, theta.dot(theta)), (G, grad.dot(grad)), (P, theta.dot(grad)))
    gperp = grad - (theta.dot(grad) / theta.dot(theta)) * theta
    # the direction applied: g_perp, or g_perp * |g| / |g_perp| (a scalar c with c^2 = |g|^2 / |g_perp|^2)
    c = sp.Symbol("c_scale", positive=True)
    d = c * gperp if rescaled else gperp
    comps = (*th, *g)
    if quantity == "flow":
        value = _reduce_to_invariants(2 * theta.dot(-d), comps, invariants)
    elif quantity == "step":
        if eta is None:
            raise DerivationError("the discrete step needs the step symbol (step=)")
        new = theta - eta * d
        value = _reduce_to_invariants(new.dot(new) - theta.dot(theta), comps, invariants)
    else:
        raise DerivationError(f"unknown orthograd quantity {quantity!r}")
    if rescaled:
        gperp2 = _reduce_to_invariants(gperp.dot(gperp), comps, invariants)
        value = sp.factor(sp.expand(value).subs(c**2, G / gperp2).subs(c, sp.sqrt(G / gperp2)))
    return value


def _orthograd(card: Card, claim: Identity) -> Derived:
    args = claim.arguments
    missing = [k for k in ("quantity", "R", "G", "P") if k not in args]
    if missing:
        raise DerivationError(f"claim {claim.name}: orthograd_norm needs {', '.join(missing)}")
    value = orthograd_norm(args["quantity"], args["R"], args["G"], args["P"], args.get("step"),
                           bool(args.get("rescaled", False)))
    return Derived(claim.name, "orthograd_norm", value, {"dimension": 3, "rescaled": bool(args.get("rescaled"))})


def relu(u: sp.Expr) -> sp.Expr:
    return sp.Max(0, u)


def bias_free_mlp(widths: tuple[int, ...], x: tuple) -> tuple[tuple[sp.Symbol, ...], list[sp.Expr]]:
    """Logits of a symbolic bias-free ReLU MLP with layer widths ``widths`` (input first) at input ``x``."""
    weights, h = [], [sp.S(v) for v in x]
    for layer, (n_in, n_out) in enumerate(zip(widths, widths[1:])):
        W = sp.Matrix(n_out, n_in, lambda i, j: sp.Symbol(f"w{layer + 1}_{i}{j}", real=True))
        weights += list(W)
        pre = list(W * sp.Matrix(h))
        h = pre if layer == len(widths) - 2 else [relu(u) for u in pre]
    return tuple(weights), h


def relu_rule_holds() -> bool:
    """max(0, lambda u) = lambda max(0, u) for lambda > 0: checked on both signs of u (u = +a and u = -a, a > 0)
    and at u = 0."""
    lam, a = sp.Symbol("lambda_scale", positive=True), sp.Symbol("a", positive=True)
    return all(sp.simplify(relu(lam * u) - lam * relu(u)) == 0 for u in (a, -a, sp.Integer(0)))


def _pull_scale(expr: sp.Expr, lam: sp.Symbol) -> sp.Expr:
    """Rewrite bottom-up with max(0, lambda^k r) -> lambda^k max(0, r) (lambda > 0, relu_rule_holds)."""
    if not expr.args:
        return expr
    args = [_pull_scale(a, lam) for a in expr.args]
    if isinstance(expr, sp.Max) and len(args) == 2 and sp.S(0) in args:
        inner = sp.factor_terms(sp.expand(args[0] if args[1] == 0 else args[1]))
        scale, rest = inner.as_independent(lam, as_Add=False)
        k = sp.degree(rest, lam) if rest.is_polynomial(lam) else None
        if k is None or sp.simplify(rest / lam**k).has(lam):
            raise DerivationError(f"cannot pull the scale out of max(0, {inner})")
        return lam**k * relu(scale * sp.simplify(rest / lam**k))
    return expr.func(*args)


def homogeneity_degree(weights, logits) -> int:
    """L with z(lambda theta) = lambda^L z(theta) for lambda > 0 (each logit checked)."""
    if not relu_rule_holds():
        raise DerivationError("max(0, lambda u) = lambda max(0, u) does not hold")
    lam = sp.Symbol("lambda_scale", positive=True)
    degrees = set()
    for z in logits:
        scaled = _pull_scale(z.subs({w: lam * w for w in weights}, simultaneous=True), lam)
        ratio = sp.simplify(sp.factor_terms(sp.expand(scaled)) / z)
        if ratio.free_symbols - {lam} or not ratio.is_Pow or ratio.base != lam:
            raise DerivationError(f"the logit {z} is not positively homogeneous (ratio {ratio})")
        degrees.add(int(ratio.exp))
    if len(degrees) != 1:
        raise DerivationError(f"the logits have different degrees {degrees}")
    return degrees.pop()


def radial_derivative(logits: tuple[sp.Symbol, ...], label: int, degree: sp.Expr) -> sp.Expr:
    """d/dlambda CE(lambda^L z) at lambda = 1 (Euler: = <grad_theta CE, theta> for degree-L logits)."""
    lam = sp.Symbol("lambda_scale", positive=True)
    z = [lam**degree * v for v in logits]
    ce = sp.log(sum(sp.exp(v) for v in z)) - z[label]
    return sp.simplify(sp.diff(ce, lam).subs(lam, 1))


def _radial(card: Card, claim: Identity) -> Derived:
    args = claim.arguments
    widths = tuple(args.get("widths", ()))
    if len(widths) < 2:
        raise DerivationError(f"claim {claim.name}: give widths=(inputs, hidden..., classes) of the MLP")
    x = tuple(sp.Symbol(f"x_{i}", positive=True) for i in range(widths[0]))
    weights, logits = bias_free_mlp(widths, x)
    degree = homogeneity_degree(weights, logits)
    quantity = args.get("quantity", "radial")
    if quantity == "degree":
        return Derived(claim.name, "radial_derivative", sp.Integer(degree), {"widths": widths})
    zs = tuple(args["logits"])
    L = args.get("degree_symbol", sp.Integer(degree))
    value = radial_derivative(zs, int(args.get("label", 0)), L)
    return Derived(claim.name, "radial_derivative", value, {"widths": widths, "degree": degree})


DERIVATIONS: dict = {
    "collapse_margin": _collapse_margin,
    "collapse_gradient": _collapse_gradient,
    "stablemax_loss": _stablemax,
    "orthograd_norm": _orthograd,
    "radial_derivative": _radial,
}
