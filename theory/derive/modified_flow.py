"""Backward error analysis: the modified vector field of an update rule, derived order by order.

Setting. A generic smooth loss L on R^d (an undefined SymPy function of d coordinates X), the
card's update rule read as a map on d-vectors (``grad(v)`` = the gradient of L at v, products and
powers elementwise, ``norm`` Euclidean). The step and the declared small parameters scale with a
bookkeeping parameter eps; every quantity is a truncated power series in eps.

Recursion. Seek F = F_0 + eps F_1 + ... and, for methods with more state (momentum, moments), a
slow manifold aux = A_0(X) + eps A_1(X) + ..., such that one step of the rule maps
(X, A(X)) to (phi(X), A(phi(X))), phi the time-h map of the flow dX/dt = F:
    phi(X) = X + sum_n (eps h)^n / n! (F . grad)^(n-1) F.
At order eps^(k+1) the unknowns F_k and A_(k+1) enter linearly (a triangular system); order 0
gives A_0 (the state's fixed point at zero step). The result is the field to the requested
order, its per-order curl (a gradient field or not) and, where each order is a gradient, the
modified loss fitted in the vocabulary L, ||g||, ||g||^2 and verified symbolically.
"""
from __future__ import annotations

import collections
import itertools
import math
import random
from dataclasses import dataclass

import sympy as sp

from theory._budget import checkpoint, stage
from theory._errors import DerivationError
from theory._oracle import batches, d3, grad, hvp, loss, norm, precond

FORWARD = True
Series = list  # coefficients of eps^0 .. eps^(N-1), SymPy expressions


def _canon(e: sp.Expr) -> sp.Expr:
    """A cheap normal form: the loss's derivatives (and L itself) frozen to symbols, then one
    rational normalisation (``cancel``) over them, radicals kept as generators. The order
    equations are rational in these atoms, so this decides zero without ``simplify``'s search,
    which is what made rules with moments (Adam) take minutes."""
    e = sp.S(e)
    atoms = sorted(e.atoms(sp.Derivative) | {a for a in e.atoms(sp.Function) if isinstance(a.func, sp.core.function.UndefinedFunction)},
                   key=sp.default_sort_key)
    if not atoms:
        return _rational(e)
    frozen = {a: sp.Dummy(f"a{i}") for i, a in enumerate(atoms)}
    back = {v: k for k, v in frozen.items()}
    return _rational(e.xreplace(frozen)).xreplace(back)


def _rational(e: sp.Expr) -> sp.Expr:
    """``cancel`` with every radical's base normalised first (bottom up), so that equal radicals
    are one generator."""
    def radicals(a):
        if a.is_Pow and not a.exp.is_Integer:
            return sp.Pow(_rational(a.base), a.exp)
        if a.args:
            return a.func(*[radicals(x) for x in a.args])
        return a
    if any(a.is_Pow and not a.exp.is_Integer for a in sp.preorder_traversal(e)):
        e = radicals(e)
    return sp.cancel(sp.together(e))


def _is_zero(e: sp.Expr) -> bool:
    """Zero by the cheap normal form. Without radicals that is exact (a rational function in the
    frozen atoms is zero iff ``cancel`` gives 0); with radicals a nonzero normal form is
    confirmed by ``simplify``."""
    c = _canon(e)
    if c == 0:
        return True
    if not any(a.is_Pow and not a.exp.is_Integer for a in sp.preorder_traversal(c)):
        return False
    return sp.simplify(e) == 0


@dataclass(frozen=True)
class ModifiedField:
    """The engine's result: ``field[k]`` is F_k (a list of d component expressions in X and the
    derivatives of ``L``); ``slow`` the slow manifold's A_k per auxiliary state variable."""
    coords: tuple[sp.Symbol, ...]
    L: sp.Expr
    field: tuple[tuple[sp.Expr, ...], ...]
    slow: dict
    step: sp.Symbol
    small: tuple[sp.Symbol, ...]
    batches: tuple[sp.Expr, ...] = ()  # the minibatch losses L_1..L_m (L their mean) of a minibatch rule


def generic_batches(coords, m: int) -> tuple[tuple[sp.Expr, ...], sp.Expr]:
    """m generic minibatch losses L_k(X) and their mean, the loss L."""
    parts = tuple(sp.Function(f"L{k}")(*coords) for k in range(1, m + 1))
    return parts, sp.Add(*parts) / m


def generic_loss(d: int) -> tuple[tuple[sp.Symbol, ...], sp.Expr]:
    coords = tuple(sp.Symbol(f"X{i + 1}", real=True) for i in range(d))
    return coords, sp.Function("L")(*coords)


class _Context:
    def __init__(self, coords, L, n: int, scaled: dict[sp.Symbol, sp.Expr], batches=()):
        self.X, self.L, self.N, self.scaled = coords, L, n, scaled
        self.g = [sp.diff(L, x) for x in coords]
        self.batches = {k: (Lk, [sp.diff(Lk, x) for x in coords]) for k, Lk in enumerate(batches, start=1)}
        self.env: dict[sp.Symbol, object] = {}

    # -- series arithmetic ---------------------------------------------------------------------
    def const(self, e) -> Series:
        return [sp.S(e)] + [sp.S.Zero] * (self.N - 1)

    def add(self, a: Series, b: Series) -> Series:
        return [x + y for x, y in zip(a, b)]

    def mul(self, a: Series, b: Series) -> Series:
        out = [sp.S.Zero] * self.N
        for i, x in enumerate(a):
            if x == 0:
                continue
            for j in range(self.N - i):
                if b[j] != 0:
                    out[i + j] += x * b[j]
        return out

    def scale(self, a: Series, c) -> Series:
        return [c * x for x in a]

    def pow(self, a: Series, p) -> Series:
        p = sp.S(p)
        if p.is_Integer and p >= 0:
            out = self.const(1)
            for _ in range(int(p)):
                out = self.mul(out, a)
            return out
        return self.apply(lambda z: z ** p, a, f"power {p}")

    def apply(self, f, a: Series, what: str) -> Series:
        """f(a) for a smooth scalar function f: the Taylor series of f at a's constant term."""
        a0 = a[0]
        if a0 == 0 and any(x != 0 for x in a[1:]):
            raise DerivationError(f"the rule takes {what} of a quantity that vanishes at zero step: no power "
                                  "series in the step (the modified flow is not defined by this expansion)")
        z = sp.Dummy("z")
        fz = f(z)
        r = [sp.S.Zero] + list(a[1:])
        out, power, deriv = self.const(fz.subs(z, a0)), self.const(1), fz
        for n in range(1, self.N):
            power = self.mul(power, r)
            deriv = sp.diff(deriv, z)
            if all(x == 0 for x in power):
                break
            out = self.add(out, self.scale(power, deriv.subs(z, a0) / math.factorial(n)))
        return out

    # -- values: scalars are Series, vectors lists of Series -----------------------------------
    def broadcast(self, a, b, op):
        va, vb = isinstance(a[0], list), isinstance(b[0], list)
        if va and vb:
            return [op(x, y) for x, y in zip(a, b)]
        if va:
            return [op(x, b) for x in a]
        if vb:
            return [op(a, y) for y in b]
        return op(a, b)

    def at(self, comps, v, where: str):
        """Each expression of ``comps`` (in X) at the point v = X + delta (delta = O(eps)):
        sum_n (1/n!) D^n c [delta, ..., delta]."""
        delta = []
        for x, s in zip(self.X, v):
            if sp.simplify(s[0] - x) != 0:
                raise DerivationError(f"{where} is queried at {[si[0] for si in v]}, not at the iterate plus "
                                      "O(step): the expansion needs every oracle call near the current point")
            delta.append([sp.S.Zero] + list(s[1:]))
        powers = {}

        def dpow(i, k):
            if (i, k) not in powers:
                powers[(i, k)] = self.const(1) if k == 0 else self.mul(dpow(i, k - 1), delta[i])
            return powers[(i, k)]
        moving = [i for i, di in enumerate(delta) if any(c != 0 for c in di)]
        out = []
        for c in comps:
            total = self.const(c)
            for n in range(1, self.N):  # Taylor: sum over |alpha| = n of D^alpha c delta^alpha / alpha!
                nonzero = False
                for combo in itertools.combinations_with_replacement(moving, n):
                    alpha = collections.Counter(combo)
                    deriv = sp.diff(c, *[(self.X[i], k) for i, k in alpha.items()])
                    if deriv == 0:
                        continue
                    nonzero = True
                    piece = self.const(deriv / math.prod(math.factorial(k) for k in alpha.values()))
                    for i, k in alpha.items():
                        piece = self.mul(piece, dpow(i, k))
                    total = self.add(total, piece)
                if not nonzero:
                    break
            out.append(total)
        return out

    def ev(self, e):
        """The value of an update/claim expression: a Series (scalar) or a list of Series (vector)."""
        checkpoint()
        if e in self.env:
            return self.env[e]
        if isinstance(e, sp.Symbol):
            if e in self.scaled:
                s = [sp.S.Zero] * self.N
                s[1] = self.scaled[e]
                return s
            return self.const(e)
        if e.is_Number or e.is_NumberSymbol:
            return self.const(e)
        if isinstance(e, sp.Add):
            vals = [self.ev(a) for a in e.args]
            out = vals[0]
            for v in vals[1:]:
                out = self.broadcast(out, v, self.add)
            return out
        if isinstance(e, sp.Mul):
            vals = [self.ev(a) for a in e.args]
            out = vals[0]
            for v in vals[1:]:
                out = self.broadcast(out, v, self.mul)
            return out
        if isinstance(e, sp.Pow):
            if e.exp.free_symbols & set(self.scaled):
                raise DerivationError(f"{e}: an exponent depending on the step is not supported")
            base = self.ev(e.base)
            if isinstance(base[0], list):
                return [self.pow(b, e.exp) for b in base]
            return self.pow(base, e.exp)
        if isinstance(e, grad):
            return self.at(self._batch(e)[1], self.vec(e.args[0], "grad"), f"grad({e.args[0]})")
        if isinstance(e, loss):
            return self.at([self._batch(e)[0]], self.vec(e.args[0], "loss"), f"loss({e.args[0]})")[0]
        if isinstance(e, hvp):
            point, u = self.vec(e.args[0], "hvp"), self.vec(e.args[1], "hvp")
            cols = [self.at([sp.diff(gj, x) for gj in self.g], point, "hvp") for x in self.X]
            return [self._sum(self.mul(cols[i][j], u[i]) for i in range(len(self.X))) for j in range(len(self.X))]
        if isinstance(e, d3):
            point, u, w = (self.vec(a, "d3") for a in e.args)
            n = len(self.X)
            out = []
            for j in range(n):
                terms = []
                for i in range(n):
                    parts = self.at([sp.diff(self.g[j], self.X[i], self.X[k]) for k in range(n)], point, "d3")
                    terms += [self.mul(self.mul(parts[k], u[i]), w[k]) for k in range(n)]
                out.append(self._sum(terms))
            return out
        if isinstance(e, norm):
            v = self.vec(e.args[0], "norm")
            return self.pow(self._sum(self.mul(c, c) for c in v), sp.Rational(1, 2))
        if isinstance(e, precond):
            raise DerivationError("precond(.) has no modified flow here (the preconditioner is not a function of x)")
        if isinstance(e, sp.Function) and len(e.args) == 1:
            inner = self.ev(e.args[0])
            func = e.func
            if func == sp.sign:
                f = (lambda s: self.const(sp.sign(s[0])))
            else:
                f = (lambda s: self.apply(lambda z: func(z), s, str(func)))
            return [f(s) for s in inner] if isinstance(inner[0], list) else f(inner)
        raise DerivationError(f"{e}: not supported by the modified-flow engine")

    def _batch(self, call):
        """(loss, gradient components) of a ``grad``/``loss`` call: the full loss, or minibatch k's."""
        if len(call.args) == 1:
            return self.L, self.g
        k = int(call.args[1])
        if k not in self.batches:
            raise DerivationError(f"{call}: minibatch {k} is not one of the rule's minibatches 1..{len(self.batches)}")
        return self.batches[k]

    def vec(self, e, where):
        v = self.ev(e)
        if not isinstance(v[0], list):
            raise DerivationError(f"{where}(.) needs a vector argument, got the scalar {e}")
        return v

    def _sum(self, items):
        out = self.const(0)
        for s in items:
            out = self.add(out, s)
        return out

    def lie(self, F, E: Series) -> Series:
        """(F . grad) E, for a vector series F and a scalar series E (in X)."""
        out = [sp.S.Zero] * self.N
        for i, x in enumerate(self.X):
            dE = [sp.diff(c, x) for c in E]
            for j in range(self.N):
                if F[i][j] == 0:
                    continue
                for k in range(self.N - j):
                    if dE[k] != 0:
                        out[j + k] += F[i][j] * dE[k]
        return out

    def flow_map(self, F, h) -> list[Series]:
        """The time-(eps h) map of dX/dt = F, as series."""
        phi = [self.const(x) for x in self.X]
        term = F
        tau_n = self.const(1)
        tau = [sp.S.Zero, h] + [sp.S.Zero] * (self.N - 2)
        for n in range(1, self.N):
            tau_n = self.mul(tau_n, tau)
            phi = [self.add(p, self.scale(self.mul(tau_n, t), sp.S.One / math.factorial(n))) for p, t in zip(phi, term)]
            if n < self.N - 1:
                term = [self.lie(F, t) for t in term]
        return phi


def modified_field(state, update, step: sp.Symbol, order: int, small=(), d: int = 2) -> ModifiedField:
    """F_0 .. F_order of the update rule's modified flow on a generic loss in d dimensions."""
    if not state:
        raise DerivationError("a modified flow needs an update rule (state/update)")
    coords, L = generic_loss(d)
    used = batches(update)
    parts: tuple[sp.Expr, ...] = ()
    if used:
        if used != tuple(range(1, max(used) + 1)):
            raise DerivationError(f"the rule uses minibatches {list(used)}: number them 1..m")
        parts, L = generic_batches(coords, max(used))
    n = order + 2
    scaled = {step: step, **{s: s for s in small}}
    ctx = _Context(coords, L, n, scaled, parts)
    x, aux = state[0], list(state[1:])
    ctx.env[x] = [ctx.const(c) for c in coords]
    # unknown symbols for the field and the slow manifold
    F = [[sp.S.Zero] * n for _ in range(d)]
    A = {a: [[sp.S.Zero] * n for _ in range(d)] for a in aux}

    def unknowns(tag):
        return [sp.Symbol(f"_{tag}_{i}") for i in range(d)]

    def set_aux():
        for a in aux:
            ctx.env[a] = [list(comp) for comp in A[a]]

    def residuals(k):
        """The order-k equations: position and auxiliary state, step image minus flow image."""
        set_aux()
        with stage(f"modified flow: the update rule at order {k}"):
            images = [ctx.vec(u, "update") for u in update]
        phi = ctx.flow_map(F, step)
        eqs = [images[0][i][k] - phi[i][k] for i in range(d)]
        for idx, a in enumerate(aux, start=1):
            comp = [[sp.S.Zero] + list(phi_i[1:]) for phi_i in phi]
            comp = [[c + x_i if j == 0 else c for j, c in enumerate(ci)] for ci, x_i in zip(comp, coords)]
            # A(phi(X)) = sum_j eps^j A_j(phi(X))
            moved = [ctx.const(0) for _ in range(d)]
            for j in range(n):
                layer = [A[a][i][j] for i in range(d)]
                if all(c == 0 for c in layer):
                    continue
                shifted = ctx.at(layer, comp, f"the slow manifold of {a}")
                for i in range(d):
                    moved[i] = ctx.add(moved[i], [sp.S.Zero] * j + shifted[i][: n - j])
            eqs += [images[idx][i][k] - moved[i][k] for i in range(d)]
        return eqs

    def solve(eqs, syms, what):
        """The order's equations are linear in its unknowns: coefficients by differentiation, then
        one small exact linear solve (no expansion of the whole system)."""
        with stage(f"modified flow: solving for {what}"):
            zero = {s: 0 for s in syms}
            rows = [[sp.diff(e, s) for s in syms] for e in eqs]
            rhs = [-e.xreplace(zero) for e in eqs]
            if any(sp.diff(c, s2) != 0 for row in rows for c in row for s2 in syms):
                raise DerivationError(f"the order equations for {what} are not linear in the unknowns")
            M, b = sp.Matrix(rows), sp.Matrix(rhs)
            keep = [i for i in range(M.rows) if any(c != 0 for c in M.row(i)) or b[i] != 0]
            M, b = M.extract(keep, list(range(M.cols))), b.extract(keep, [0])
            zero_test = (lambda v: _canon(v) == 0)
            # forward substitution first: the order equations are block triangular (the position
            # equation gives F_k, each state's equation then its slow-manifold term), and solving
            # one unknown at a time keeps the expressions small; LU on whatever stays coupled
            values: dict[sp.Symbol, sp.Expr] = {}
            pending = list(range(M.rows))
            progress = True
            while FORWARD and progress and len(values) < len(syms):
                progress = False
                for i in list(pending):
                    left = [j for j, sj in enumerate(syms) if sj not in values and not zero_test(M[i, j])]
                    if len(left) != 1:
                        continue
                    j = left[0]
                    known = sum((M[i, jj] * values[sj] for jj, sj in enumerate(syms) if sj in values), sp.S.Zero)
                    values[syms[j]] = _canon((b[i] - known) / M[i, j])
                    pending.remove(i)
                    progress = True
            rest = [sj for sj in syms if sj not in values]
            if rest:
                cols = [syms.index(sj) for sj in rest]
                rows_left = [i for i in pending]
                Mr = sp.Matrix([[M[i, j] for j in cols] for i in rows_left]) if rows_left else sp.zeros(0, len(cols))
                br = sp.Matrix([b[i] - sum((M[i, jj] * values[sj] for jj, sj in enumerate(syms) if sj in values),
                                           sp.S.Zero) for i in rows_left]) if rows_left else sp.zeros(0, 1)
                if Mr.rows == 0 or Mr.rank(iszerofunc=zero_test) < len(rest):
                    raise DerivationError(f"the order equations for {what} do not determine the unknowns: the rule "
                                          "is not a consistent method in its step")
                chosen, basis = [], sp.zeros(0, len(rest))
                for i in range(Mr.rows):
                    trial = basis.col_join(Mr.row(i))
                    if trial.rank(iszerofunc=zero_test) > basis.rows:
                        basis, chosen = trial, chosen + [i]
                    if len(chosen) == len(rest):
                        break
                sol_rest = basis.LUsolve(br.extract(chosen, [0]))
                values.update({sj: _canon(v) for sj, v in zip(rest, sol_rest)})
            sol = [values[sj] for sj in syms]
            for i in range(M.rows):
                if not _is_zero(sum((M[i, j] * sol[j] for j in range(len(syms))), sp.S.Zero) - b[i]):
                    raise DerivationError(f"the order equations for {what} are inconsistent: the rule is not a "
                                          "consistent method in its step")
        return values

    # order 0: the auxiliary state at zero step; the position must not move
    a0 = {a: unknowns(f"A0{a}") for a in aux}
    for a in aux:
        for i in range(d):
            A[a][i][0] = a0[a][i]
    eqs = residuals(0)
    sol = solve(eqs, [s for v in a0.values() for s in v], "the state at zero step") if aux else {}
    leftover = [sp.simplify(e.subs(sol)) for e in eqs[:d]]
    if any(e != 0 for e in leftover):
        raise DerivationError("at zero step the rule moves the iterate: it is not a method with step "
                              f"{step} (the modified flow needs x_next -> x as {step} -> 0)")
    for a in aux:
        for i in range(d):
            A[a][i][0] = sol.get(a0[a][i], sp.S.Zero)
    for k in range(order + 1):
        fk = unknowns(f"F{k}")
        ak = {a: unknowns(f"A{k + 1}{a}") for a in aux}
        for i in range(d):
            F[i][k] = fk[i]
            for a in aux:
                A[a][i][k + 1] = ak[a][i]
        eqs = residuals(k + 1)
        # the position equation is h F_k + known; divide out the step
        sol = solve(eqs, fk + [s for v in ak.values() for s in v], f"F_{k}")
        for i in range(d):
            F[i][k] = sol[fk[i]]
            for a in aux:
                A[a][i][k + 1] = sol[ak[a][i]]
    field = tuple(tuple(F[i][k] for i in range(d)) for k in range(order + 1))
    slow = {a: tuple(tuple(A[a][i][k] for i in range(d)) for k in range(order + 1)) for a in aux}
    return ModifiedField(coords, L, field, slow, step, tuple(small), parts)


# -- claims in the same vocabulary -----------------------------------------------------------------

def claimed_field(claim, x: sp.Symbol, mf: ModifiedField) -> tuple[tuple[sp.Expr, ...], ...]:
    """The claim's field per order (F_0 .. F_order), read with the same series arithmetic."""
    d, n = len(mf.coords), claim.order + 1
    ctx = _Context(mf.coords, mf.L, n, {mf.step: mf.step, **{s: s for s in mf.small}}, mf.batches)
    ctx.env[x] = [ctx.const(c) for c in mf.coords]
    if claim.flow is not None:
        v = ctx.vec(claim.flow, "the claimed flow")
        return tuple(tuple(sp.expand(v[i][k]) for i in range(d)) for k in range(n))
    ell = ctx.ev(claim.loss)
    if isinstance(ell[0], list):
        raise DerivationError(f"claim {claim.name}: the modified loss must be a scalar")
    return tuple(tuple(sp.expand(-claim.speed * sp.diff(ell[k], c)) for c in mf.coords) for k in range(n))


def curl_free(component: tuple[sp.Expr, ...], coords) -> bool:
    """Is the order's field a gradient (every 2-D curl component zero)?"""
    for i in range(len(coords)):
        for j in range(i + 1, len(coords)):
            if not _is_zero(sp.diff(component[i], coords[j]) - sp.diff(component[j], coords[i])):
                return False
    return True


def fit_loss(mf: ModifiedField, x: sp.Symbol, params=(), seed: int = 0):
    """The modified loss in the vocabulary loss(x), norm(grad(x))**2 (and a minibatch rule's
    norm(grad(x, k))**2), then, where that fails, with norm(grad(x)) too (SAM's rho ||g||): the
    squares alone give exact rational equations, fast. Returns (speed, modified loss) or None."""
    return _fit_loss(mf, x, params, seed, False) or _fit_loss(mf, x, params, seed, True)


def _fit_loss(mf: ModifiedField, x: sp.Symbol, params=(), seed: int = 0, with_norm: bool = True):
    """The modified loss in the vocabulary loss(x), norm(grad(x)), norm(grad(x))**2 (times
    monomials of the step and the small parameters), fitted by exact random substitution and then
    verified symbolically; None where some order is not a gradient field of that form.
    Returns (speed, modified loss)."""
    coords, field = mf.coords, mf.field
    g = [sp.diff(mf.L, c) for c in coords]
    if not all(curl_free(f, coords) for f in field):
        return None
    # speed: F_0 = -s grad L
    ratios = {sp.simplify(-f / gi) for f, gi in zip(field[0], g)}
    if len(ratios) != 1 or next(iter(ratios)).free_symbols & set(coords) or next(iter(ratios)).has(sp.Derivative):
        return None
    speed = next(iter(ratios))
    gn2 = sum(gi ** 2 for gi in g)
    basis_vocab = [(norm(grad(x)) ** 2, gn2)] + ([(norm(grad(x)), sp.sqrt(gn2))] if with_norm else [])
    for k, Lk in enumerate(mf.batches, start=1):  # a minibatch rule: the minibatch gradients' norms too
        basis_vocab.append((norm(grad(x, k)) ** 2, sum(sp.diff(Lk, c) ** 2 for c in coords)))
    small = (mf.step,) + mf.small
    terms, total = [], loss(x)
    for k in range(1, len(field)):
        monos = sorted(sp.itermonomials(small, k, k), key=str)
        cands = [(m * v, m * e) for m in monos for v, e in basis_vocab]
        cs = [sp.Symbol(f"_c{k}_{j}") for j in range(len(cands))]
        # F_k = -s grad(sum c_j phi_j): linear in c_j; equations from random exact substitutions
        model = [sum(c * sp.diff(e, xc) for c, (_, e) in zip(cs, cands)) for xc in coords]
        residual = [sp.expand(field[k][i] + speed * model[i]) for i in range(len(coords))]
        atoms = sorted(set().union(*[r.atoms(sp.Derivative) for r in residual]), key=str)
        rng = random.Random(seed + k)
        eqs = []
        for _ in range(len(cands) + 3):
            sub = {a: sp.Rational(rng.randint(-9, 9), rng.randint(1, 5)) for a in atoms}
            sub.update({c: sp.Rational(rng.randint(-9, 9), rng.randint(1, 5)) for c in coords})
            coords_sub = {c: sub.pop(c) for c in coords}
            for r in residual:  # derivative atoms first (structurally), then the coordinates
                eqs.append(sp.expand(r.xreplace(sub).xreplace(coords_sub)))
        # the small parameters stay symbolic: equate their coefficients
        lin = []
        for e in eqs:
            lin += sp.Poly(e, *small).coeffs() if e.free_symbols & set(small) else [e]
        # an exact linear system in the coefficients (linsolve: no search over nonlinear solution forms)
        found = list(sp.linsolve([e for e in lin if e != 0], cs))
        if len(found) != 1:
            return None
        sol = [dict(zip(cs, found[0]))]
        coeffs = [sp.simplify(sol[0].get(c, c).subs({c2: 0 for c2 in cs})) for c in cs]
        piece = sum(c * v for c, (v, _) in zip(coeffs, cands))
        if not all(_is_zero(field[k][i] + speed * sum(c * sp.diff(e, xc) for c, (_, e) in zip(coeffs, cands)))
                   for i, xc in enumerate(coords)):
            return None
        terms.append(piece)
        total = total + piece
    return speed, total


def one_dimensional(mf_field_1d: tuple[tuple[sp.Expr, ...], ...], coords, L, batches=()):
    """F_k of a 1-D derivation written with g, H, T, Q for the derivatives of L (for display); a
    minibatch rule's with g1, H1, ... for minibatch 1's, and so on."""
    (c,) = coords
    rep = {}
    for k, Lk in (enumerate(batches, start=1) if batches else [("", L)]):
        g, H, T, Q = sp.symbols(f"g{k} H{k} T{k} Q{k}")
        rep.update({sp.diff(Lk, c, 4): Q, sp.diff(Lk, c, 3): T, sp.diff(Lk, c, 2): H, sp.diff(Lk, c): g})
    out = []
    for f in mf_field_1d:
        e = f[0]
        for k in sorted(rep, key=lambda a: -len(a.variables)):
            e = e.subs(k, rep[k])
        out.append(sp.factor(e))
    return out


def quadratic_rates(state, mode_update, step: sp.Symbol, order: int, small=()) -> list[sp.Expr] | None:
    """The exact modified flow on a quadratic mode, x' = r x with r = log(z)/h and z the root of the
    per-mode iteration's characteristic polynomial that tends to 1 with the step (for GD,
    (1/h) log(1 - h lambda)): r_0 .. r_order of its expansion in the step (and the small
    parameters), solved order by order from p(exp(eps h r)) = 0. None when the per-mode rule is
    not linear in the state (then the quadratic has no linear flow to compare with)."""
    from theory.derive.maps import iteration_matrix
    try:
        M = iteration_matrix(state, mode_update, {})
    except DerivationError:
        return None
    jac = sp.Matrix([[sp.diff(u, s) for s in state] for u in mode_update])
    if any(sp.diff(c, s) != 0 for c in jac for s in state) or any(
            sp.simplify(u.subs({s: 0 for s in state})) != 0 for u in mode_update):
        return None
    eps = sp.Symbol("eps_bea", positive=True)
    scaled = {step: eps * step, **{s: eps * s for s in small}}
    Me = M.xreplace(scaled)
    z = sp.Symbol("z_bea")
    p = (z * sp.eye(M.rows) - Me).det()
    r = [sp.Symbol(f"r_bea{k}") for k in range(order + 1)]
    R = sum(rk * eps ** k for k, rk in enumerate(r))
    with stage("modified flow: the exact quadratic rate"):
        series = sp.series(p.subs(z, sp.exp(eps * step * R)), eps, 0, order + 2).removeO()
        coeffs = sp.Poly(sp.expand(series), eps).all_coeffs()[::-1]
        coeffs += [sp.S.Zero] * (order + 2 - len(coeffs))
        if sp.simplify(coeffs[0]) != 0:
            return None  # no root at 1 for zero step: not a consistent method
        values: dict[sp.Symbol, sp.Expr] = {}
        for k in range(order + 1):
            eq = sp.expand(coeffs[k + 1].subs(values))
            sol = sp.solve(eq, r[k])
            if len(sol) != 1:
                return None
            values[r[k]] = sp.simplify(sol[0])
    return [values[rk] for rk in r]
