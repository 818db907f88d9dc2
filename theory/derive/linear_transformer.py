"""Symbolic engines for linear transformers and in-context linear regression (pure SymPy).

The moment engine (``trace_word_moment``): exact expectations of traces of words in the sample covariance
S = (1/n) sum_i x_i x_i^T of n i.i.d. x_i ~ N(0, Sigma), for *symbolic* n, by Isserlis/Wick:

    E tr(S M_0 S M_1 ... S M_{k-1}) = n^-k sum_P n^{#blocks(P)} prod_{cycles c of P} tr(prod along c).

Each S contributes two half-edges (the column x_i and the row x_i^T); a Wick pairing P of the 2k
half-edges pairs components of the *same* sample, so it forces equal sample indices on the positions it
links: n^{#blocks} index tuples are compatible with it. The pairing edges (Sigma) and the chain edges
(M_j between the row of S_j and the column of S_{j+1}; M_j^T when walked backwards) form disjoint cycles,
each contributing the trace of its product (a cycle of identities contributes d, so Sigma = I, M_j = I
gives E tr S^k for symbolic n and d). Nothing is tabulated: E[S] = Sigma, E[S S] = ((n+1)/n) Sigma^2 +
(tr Sigma / n) Sigma, E tr S^k (k <= 6) all come out of the same pairing sum.

Derivations (``DERIVATIONS``, used by the cards in ``theory/cards/linear_transformer.py``):

- ``linear_transformer_pgd_forward``: the L-layer linear transformer Z <- Z + (1/n) P Z M (Z^T Q Z) with
  P = [[0, 0], [0, 1]], Q = -[[A_l, 0], [0, 0]] on symbolic tokens and symbolic symmetric A_l, minus
  x_q^T w_L for the preconditioned-GD iterates w_{l+1} = w_l - A_l (1/n) sum_i x_i (x_i^T w_l - y_i):
  expanded, it is 0 (the derived value of the claim).
- ``icl_one_layer_optimum``: the exact one-layer ICL loss E (x_q^T A S w - x_q^T w)^2 for w ~ N(0, C)
  (C = I or Sigma^-1) on a symbolic 2 x 2 Sigma and symbolic n, from the moment engine; its stationary
  point over a general (non-symmetric) A by solving the linear gradient equations; the Hessian is
  checked positive definite; the claim's entry of A* or the minimal loss.
- ``wishart_trace_moment``: E tr S^k for symbolic n, d.
"""
from __future__ import annotations

from functools import lru_cache
from itertools import product as _cartesian

import sympy as sp
from sympy.polys.matrices import DomainMatrix

from theory._budget import checkpoint, stage
from theory._card import Card, Identity
from theory._errors import DerivationError
from theory.derive._base import Derived

SAMPLE = "S"   # the sample covariance in a word
MAX_WORD = 8   # 15!! = 2 027 025 pairings at k = 8: beyond that the pairing sum is refused


# -- the moment engine ------------------------------------------------------------------------------

def pairings(items: tuple[int, ...]):
    """Every perfect matching of ``items`` (a tuple of even length), as tuples of pairs."""
    if not items:
        yield ()
        return
    first, rest = items[0], items[1:]
    for i, other in enumerate(rest):
        for tail in pairings(rest[:i] + rest[i + 1:]):
            yield ((first, other),) + tail


def _times(a, b):
    if a is None:
        return b
    if b is None:
        return a
    return a * b


def trace_word_moment(mats, n, sigma=None, d=None) -> sp.Expr:
    """E tr(S M_0 S M_1 ... S M_{k-1}), S the sample covariance of n Gaussian vectors N(0, Sigma).

    ``mats``: k matrices (sympy Matrix) or None for the identity; ``sigma``: a Matrix or None (identity);
    ``d``: the dimension (a symbol or number), needed only when every factor is the identity."""
    k = len(mats)
    if k == 0:
        raise DerivationError("a word needs at least one sample covariance")
    if k > MAX_WORD:
        raise DerivationError(f"words with more than {MAX_WORD} sample covariances are refused (pairing sum)")
    dims = {m.shape[0] for m in list(mats) + [sigma] if m is not None}
    if len(dims) > 1:
        raise DerivationError("the matrices of a word must share one dimension")
    dim = next(iter(dims)) if dims else d
    if dim is None:
        raise DerivationError("an all-identity word needs the dimension d")
    # half-edges: column of S_j = 2j, row of S_j = 2j + 1; chain edge M_j joins 2j+1 -> 2(j+1) mod 2k
    chain = {}
    for j in range(k):
        r, c = 2 * j + 1, (2 * (j + 1)) % (2 * k)
        m = mats[j]
        chain[r] = (c, m)                                   # walked forwards: M_j
        chain[c] = (r, None if m is None else m.T)          # walked backwards: M_j^T
    identity_word = sigma is None and all(m is None for m in mats)
    counts: dict[tuple[int, int], int] = {}   # (blocks, cycles) -> pairings, for an all-identity word
    total = sp.S(0)
    for count, pairing in enumerate(pairings(tuple(range(2 * k)))):
        if count % 512 == 0:
            checkpoint()
        partner = {}
        for a, b in pairing:
            partner[a], partner[b] = b, a
        # sample blocks: positions linked by the pairing
        parent = list(range(k))

        def find(u):
            while parent[u] != u:
                parent[u] = parent[parent[u]]
                u = parent[u]
            return u
        for a, b in pairing:
            parent[find(a // 2)] = find(b // 2)
        blocks = len({find(j) for j in range(k)})
        # cycles: pairing edge (Sigma), then chain edge, alternately
        seen, term, cycles = set(), sp.S(1), 0
        for start in range(2 * k):
            if start in seen:
                continue
            acc, h = None, start
            while True:
                seen.add(h)
                p = partner[h]
                seen.add(p)
                acc = _times(acc, sigma)
                nxt, m = chain[p]
                acc = _times(acc, m)
                h = nxt
                if h == start:
                    break
            cycles += 1
            if not identity_word:
                term *= dim if acc is None else acc.trace()
        if identity_word:
            counts[(blocks, cycles)] = counts.get((blocks, cycles), 0) + 1
        else:
            total += n ** blocks * term
    if identity_word:
        total = sum(c * n ** b * dim ** cyc for (b, cyc), c in counts.items())
    return sp.expand(total / n ** k)


def _word_trace(tokens, n, d=None) -> sp.Expr:
    """E tr(product of tokens), tokens: matrices and SAMPLE (the sample covariance, x ~ N(0, I) unless a
    ``("sigma", Sigma)`` token heads the list)."""
    sigma = None
    if tokens and isinstance(tokens[0], tuple):
        sigma, tokens = tokens[0][1], tokens[1:]
    if SAMPLE not in tokens:
        acc = None
        for t in tokens:
            acc = _times(acc, t)
        return d if acc is None else acc.trace()
    first = tokens.index(SAMPLE)
    rot = tokens[first:] + tokens[:first]
    mats, acc = [], None
    for t in rot[1:] + [SAMPLE]:
        if isinstance(t, str):
            mats.append(acc)
            acc = None
        else:
            acc = _times(acc, t)
    return trace_word_moment(mats, n, sigma, d)


def pgd_error_loss(steps, sigma, prior, n) -> sp.Expr:
    """E (x_q^T (w_L - w*))^2 for w_0 = 0 and w_{l+1} = w_l - A_l (S w_l - S w*) (noiseless labels),
    x_q, x_i ~ N(0, Sigma), w* ~ N(0, prior): E tr(Sigma R prior R^T), R = prod_l (I - A_l S) (last step
    leftmost), expanded into words and each word's trace by the moment engine."""
    dim = sigma.shape[0]
    words = [((), 1)]  # (tokens, sign) of R = (I - A_{L-1} S) ... (I - A_0 S)
    for A in steps:
        words = [(w, s) for w, s in words] + [((A, SAMPLE) + w, -s) for w, s in words]
    total = sp.S(0)
    for (left, s1), (right, s2) in _cartesian(words, words):
        checkpoint()
        right_t = tuple(SAMPLE if t is SAMPLE else t.T for t in reversed(right))
        tokens = [("sigma", sigma), sigma, *left, prior, *right_t]
        total += s1 * s2 * _word_trace(tokens, n, dim)
    return sp.expand(total)


@lru_cache(maxsize=None)
def trace_moment(k: int, n: sp.Symbol, d: sp.Symbol) -> sp.Expr:
    """E tr S^k for S the sample covariance of n vectors N(0, I_d): symbolic n and d."""
    return sp.factor(trace_word_moment([None] * k, n, None, d))


def sample_moments(sigma: sp.Matrix, n, prior: sp.Matrix | None = None) -> dict[str, sp.Matrix]:
    """E[S] and E[S C S] (C = prior, default I) entrywise from the engine: tr(E[X] E_ab) = E tr(X E_ba)."""
    dim = sigma.shape[0]
    C = sp.eye(dim) if prior is None else prior
    first, second = sp.zeros(dim), sp.zeros(dim)
    for a in range(dim):
        for b in range(dim):
            unit = sp.zeros(dim)
            unit[b, a] = 1
            first[a, b] = sp.factor(trace_word_moment([unit], n, sigma))
            second[a, b] = sp.factor(trace_word_moment([C, unit], n, sigma))
    return {"E[S]": first, "E[SCS]": second}


# -- forward pass = preconditioned GD ---------------------------------------------------------------

def transformer_forward(X, y, xq, As, n):
    """-[Z_L]_{d+1, n+1} of the L-layer linear transformer with P_l = [[0,0],[0,1]], Q_l = -[[A_l,0],[0,0]]
    (X: d x n, y: 1 x n, xq: d x 1; Z: (d+1) x (n+1), the query's label entry 0, mask M = diag(1..1, 0))."""
    d = X.shape[0]
    Z = sp.Matrix.vstack(sp.Matrix.hstack(X, xq), sp.Matrix.hstack(y, sp.zeros(1, 1)))
    mask = sp.diag(*([1] * n + [0]))
    P = sp.diag(*([0] * d + [1]))
    for A in As:
        Q = -sp.diag(A, sp.zeros(1, 1))
        Z = Z + (P * Z * mask * (Z.T * Q * Z)) / n
    return -Z[d, n]


def pgd_prediction(X, y, xq, As, n):
    """x_q^T w_L for w_0 = 0, w_{l+1} = w_l - A_l (1/n) sum_i x_i (x_i^T w_l - y_i)."""
    w = sp.zeros(X.shape[0], 1)
    for A in As:
        w = w - A * (X * (X.T * w - y.T)) / n
    return (xq.T * w)[0, 0]


def _symmetric(name: str, d: int) -> sp.Matrix:
    return sp.Matrix(d, d, lambda i, j: sp.Symbol(f"{name}_{min(i, j)}{max(i, j)}", real=True))


def _forward(card: Card, claim: Identity) -> Derived:
    args = claim.arguments
    try:
        d, n, layers = int(args["d"]), int(args["n"]), int(args["layers"])
    except (KeyError, TypeError, ValueError):
        raise DerivationError(f"card {card.id!r}: give arguments d=, n=, layers= (small integers)") from None
    if not (1 <= d <= 4 and 1 <= n <= 5 and 1 <= layers <= 3):
        raise DerivationError("the symbolic forward identity is derived for d <= 4, n <= 5, layers <= 3")
    X = sp.Matrix(d, n, lambda i, j: sp.Symbol(f"x_{j}{i}", real=True))
    y = sp.Matrix(1, n, lambda i, j: sp.Symbol(f"y_{j}", real=True))
    xq = sp.Matrix(d, 1, lambda i, j: sp.Symbol(f"q_{i}", real=True))
    As = [_symmetric(f"A{l}", d) for l in range(layers)]
    with stage("transformer forward pass"):
        out = transformer_forward(X, y, xq, As, n)
    with stage("preconditioned GD"):
        pred = pgd_prediction(X, y, xq, As, n)
    with stage("expand(forward - PGD)"):
        diff = sp.expand(out - pred)
    return Derived(claim.name, "symbolic_forward_pass", diff,
                   {"d": d, "n": n, "layers": layers, "terms": len(sp.Add.make_args(sp.expand(pred)))})


# -- one-layer optimum ------------------------------------------------------------------------------

@lru_cache(maxsize=None)
def one_layer_optimum(sigma_entries: tuple, n: sp.Symbol, prior: str):
    """(A*, L*, loss(A), moments) for the one-layer ICL loss on a symbolic Sigma (entries row by row)."""
    dim = int(round(len(sigma_entries) ** 0.5))
    sigma = sp.Matrix(dim, dim, list(sigma_entries))
    if sigma != sigma.T:
        raise DerivationError("Sigma must be symmetric")
    if prior == "identity":
        C = sp.eye(dim)
    elif prior == "inverse":
        C = sp.simplify(sigma.inv())
    else:
        raise DerivationError(f"prior must be 'identity' or 'inverse', got {prior!r}")
    A = sp.Matrix(dim, dim, lambda i, j: sp.Symbol(f"a_{i}{j}", real=True))
    unknowns = list(A)
    with stage("exact loss from Wishart moments"):
        loss = pgd_error_loss([A], sigma, C, n)
        moments = sample_moments(sigma, n, C)
    with stage("stationarity (linear in A)"):
        grad = [sp.diff(loss, a) for a in unknowns]
        system, rhs = sp.linear_eq_to_matrix(grad, unknowns)
        hessian = system  # the loss is quadratic in A: its Hessian is the system matrix
        field = DomainMatrix.from_Matrix(system).to_field()  # exact rational functions, gcd-cancelled
        solution = [sp.factor(e) for e in field.lu_solve(DomainMatrix.from_Matrix(rhs).convert_to(field.domain))
                    .to_Matrix()]
    A_star = sp.Matrix(dim, dim, list(solution))
    with stage("substitute the optimum"):
        best = sp.factor(sp.cancel(sp.together(loss.subs(dict(zip(unknowns, solution))))))
    return A_star, best, loss, moments, hessian


def _one_layer(card: Card, claim: Identity) -> Derived:
    args = claim.arguments
    try:
        sigma, n, prior, quantity = args["Sigma"], args["n"], args.get("prior", "identity"), args["quantity"]
    except KeyError:
        raise DerivationError(f"card {card.id!r}: give arguments Sigma=, n=, quantity= (and prior=)") from None
    entries = tuple(sp.S(v) for row in sigma for v in row)
    A_star, best, loss, moments, hessian = one_layer_optimum(entries, n, prior)
    # positive definiteness of the Hessian at a sample point inside the assumptions (it is constant in A)
    subs = {s: sp.Rational(k + 2, k + 3) if s.is_positive else sp.Rational(1, 7 + k)
            for k, s in enumerate(sorted(set().union(*(sp.S(e).free_symbols for e in entries)) | {n},
                                         key=lambda s: s.name))}
    subs[n] = sp.Integer(5)
    h = hessian.subs(subs)
    if not all(ev > 0 for ev in h.eigenvals()):
        raise DerivationError("the exact loss is not strictly convex in A at a sample point")
    if quantity == "loss":
        value = best
    else:
        try:
            i, j = (int(c) - 1 for c in quantity.split("_")[1])
            value = sp.factor(A_star[i, j])
        except (IndexError, ValueError):
            raise DerivationError(f"quantity must be 'loss' or 'A_ij', got {quantity!r}") from None
    return Derived(claim.name, "wishart_isserlis_stationarity", value,
                   {"A_star": A_star, "loss_of_A": loss, "E[S]": moments["E[S]"], "E[SCS]": moments["E[SCS]"],
                    "prior": prior})


def _trace_moment(card: Card, claim: Identity) -> Derived:
    args = claim.arguments
    try:
        k, n, d = int(args["k"]), args["n"], args["d"]
    except (KeyError, TypeError, ValueError):
        raise DerivationError(f"card {card.id!r}: give arguments k= (an integer), n=, d= (symbols)") from None
    if not 1 <= k <= 6:
        raise DerivationError("trace moments are derived for 1 <= k <= 6")
    with stage(f"Wick pairings of E tr S^{k}"):
        value = trace_moment(k, n, d)
    return Derived(claim.name, "wick_pairings", value, {"k": k})


DERIVATIONS: dict = {
    "linear_transformer_pgd_forward": _forward,
    "icl_one_layer_optimum": _one_layer,
    "wishart_trace_moment": _trace_moment,
}
