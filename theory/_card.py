"""The theorem card and its claim kinds: validated data, no loops, no numerics."""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Literal, Union

import sympy as sp

from theory._assume import holds, symbol_violation
from theory._errors import CardError
from theory._oracle import grad as _grad, norm as _norm, oracle_calls, per_mode, precond as _precond

ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*){1,}$")
NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
Status = Literal["theorem", "conjecture"]


def _frozen(mapping: Mapping | None) -> Mapping:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True)
class Source:
    """Where the claim comes from: an arXiv id (or a classical reference) and the place in it."""
    reference: str
    where: str = ""
    authors: str = ""
    title: str = ""   # the paper's title, for BibTeX (``optverify cite``)

    @property
    def key(self) -> str:
        """The citation key tables \\cite{} and ``optverify cite`` share."""
        if _is_arxiv(self.reference):
            return "arXiv" + self.reference.split("v")[0]
        return re.sub(r"[^A-Za-z0-9]+", "", self.reference.title())[:40] or "unknown"

    @property
    def year(self) -> str:
        if _is_arxiv(self.reference):
            return "20" + self.reference[:2]
        m = re.search(r"(1[89]\d\d|20\d\d)", self.reference + " " + self.authors)
        return m.group(1) if m else ""

    def __str__(self) -> str:
        parts = [self.authors, f"arXiv:{self.reference}" if _is_arxiv(self.reference) else self.reference,
                 self.where]
        return ", ".join(p for p in parts if p)


def _is_arxiv(ref: str) -> bool:
    return re.fullmatch(r"\d{4}\.\d{4,5}(v\d+)?", ref) is not None


@dataclass(frozen=True)
class Threshold:
    """The card's map is stable exactly for ``0 < param < value`` (value: a closed form).

    Derived by the Schur engine from the map's Jacobian over ``card.state``. With an
    ``eigenvalue`` symbol on the card, a spectrum evaluates to the minimum over eigenvalues.
    """
    name: str
    param: sp.Symbol
    value: sp.Expr
    kind = "threshold"


@dataclass(frozen=True)
class Identity:
    """``value`` equals the quantity that the engine ``derivation`` computes from the map.

    Derivations are named engines in ``theory.derive`` (e.g. ``symmetric_two_cycle``).
    ``conditions``: extra relations under which the identity is claimed (e.g. ``eta*lam < 2``).
    """
    name: str
    value: sp.Expr
    derivation: str
    conditions: tuple[sp.Basic, ...] = ()
    arguments: Mapping[str, object] = field(default_factory=dict)  # extra inputs of the derivation
    kind = "identity"

    def __post_init__(self) -> None:
        object.__setattr__(self, "arguments", _frozen(self.arguments))


@dataclass(frozen=True)
class Bound:
    """``of`` (another claim of the card) is at most (``sense='upper'``) or at least
    (``sense='lower'``) ``value`` everywhere inside the assumptions."""
    name: str
    of: str
    value: sp.Expr
    sense: Literal["upper", "lower"] = "upper"
    kind = "bound"


@dataclass(frozen=True)
class Observed:
    """A behaviour only a simulation measures (e.g. 'stays bounded'); ``statement`` says
    what the scenario checks. Needs ``card.simulation``.

    Optional: ``value`` (a closed form the measurement is compared with, e.g. 2/eta), ``rtol``
    (the allowed relative deviation) and ``observer`` (the name of the gpu_validation observer
    that judges the measurement; default: the claim's name)."""
    name: str
    statement: str
    value: sp.Expr | None = None
    rtol: float | None = None
    observer: str = ""
    kind = "observed"


@dataclass(frozen=True)
class MeanSquareThreshold:
    """Mean-square stability of a random (zeroth-order) iteration over a whole spectrum.

    For eigenvalues lam_1..lam_d, the iteration is mean-square stable exactly for
    0 < param < param*, the unique root in (0, min_i mode_limit(lam_i)) of
    sum_i gain(lam_i) = 1. ``gain`` and ``mode_limit`` are closed forms in the card's
    ``eigenvalue`` symbol; the mean-square engine derives both from the update rule and the
    card's ``estimator``.
    """
    name: str
    param: sp.Symbol
    gain: sp.Expr
    mode_limit: sp.Expr
    kind = "mean_square_threshold"

    @property
    def value(self) -> sp.Expr:  # the closed form a reader compares: the per-mode gain
        return self.gain


@dataclass(frozen=True)
class Relation:
    """``lhs <relation> rhs`` wherever the card's assumptions and ``where`` hold.

    ``lhs``/``rhs`` are expressions in the card's parameters and in the quantities its ``model``
    computes (e.g. ``V_rlhf >= V_dpo``); ``relation`` is one of ``== <= >= < >``. ``tol`` is the
    relative tolerance of ``==`` and the slack of ``<=``/``>=``; a strict relation must hold with
    a margin of ``tol`` (relative). With ``model.instances`` the relation is also checked on random
    instances of the model's family."""
    name: str
    lhs: sp.Expr
    relation: str
    rhs: sp.Expr
    where: tuple[sp.Basic, ...] = ()
    statement: str = ""
    tol: float = 1e-9
    kind = "relation"

    def __post_init__(self) -> None:
        object.__setattr__(self, "lhs", sp.S(self.lhs))
        object.__setattr__(self, "rhs", sp.S(self.rhs))
        object.__setattr__(self, "where", tuple(self.where))

    @property
    def value(self) -> sp.Expr:  # what a table shows: the right-hand side
        return self.rhs

    @property
    def conditions(self) -> tuple[sp.Basic, ...]:
        return self.where


RELATIONS = ("==", "<=", ">=", "<", ">")


@dataclass(frozen=True)
class ModifiedFlow:
    """Backward error analysis: the card's discrete steps (step size ``step``) follow, up to order
    ``order`` in the small parameters, the flow d x/dt = F(x) of a modified vector field.

    The claim gives F one of two ways, in the oracle's vocabulary at the iterate x (the card's
    first state variable): ``flow``, a vector expression (``-grad(x) - step/2*hvp(x, grad(x))``),
    or ``loss``, a modified loss (``loss(x) + step/4*norm(grad(x))**2``); then
    F = -``speed`` * grad(loss). ``small``: other parameters of the order of the step, with the
    ratio to the step the error-order check uses (SAM's ``{rho: 1/2}``). A method with more state
    (momentum, moments) is analysed on its slow manifold. The engine derives the field from the
    update rule order by order; ``value`` (what tables and ``eval`` show) is, for a ``loss``, the
    coefficient c of ``step * norm(grad(x))**2`` in it. ``dimension``: the generic loss of the
    symbolic route lives on R^dimension (default 2; 1 for rules whose 2-D derivation is too slow,
    e.g. Adam's two moments: the measured error order in 2 and 3 dimensions still checks the
    multi-dimensional claim)."""
    name: str
    step: sp.Symbol
    flow: sp.Expr | None = None
    loss: sp.Expr | None = None
    speed: sp.Expr = sp.S.One
    order: int = 1
    small: Mapping[sp.Symbol, object] = field(default_factory=dict)
    statement: str = ""
    dimension: int = 2  # of the generic loss the symbolic derivation runs on (2 tells H^2 g from T[g, g])
    kind = "modified_flow"

    def __post_init__(self) -> None:
        for attr in ("flow", "loss"):
            if getattr(self, attr) is not None:
                object.__setattr__(self, attr, sp.S(getattr(self, attr)))
        object.__setattr__(self, "speed", sp.S(self.speed))
        object.__setattr__(self, "small", _frozen({k: sp.S(v) for k, v in self.small.items()}))

    @property
    def value(self) -> sp.Expr | None:
        if self.loss is None:
            return None
        g2 = sp.Dummy("g2")
        squares = {a: g2 for a in self.loss.atoms(sp.Pow)
                   if a.exp == 2 and isinstance(a.base, _norm) and isinstance(a.base.args[0], _grad)}
        body = sp.expand(self.loss.xreplace(squares))
        return sp.simplify(sp.diff(body, g2, self.step).subs({g2: 0, self.step: 0}))

    @property
    def claimed(self) -> sp.Expr:
        return self.loss if self.loss is not None else self.flow


@dataclass(frozen=True)
class WorstCase:
    """The exact worst case (``tight``) or a bound (``sense``) of a performance measure over a function
    class, for the card's own update rule run ``steps`` times with the step symbol ``step`` replaced
    by ``schedule`` (an expression in ``index`` = 1..steps and the card's parameters).

    ``function_class``: "convex_lipschitz" (constant ``constants['M']``) or "smooth_convex"
    (``constants['L']``); ``performance``: "f(x_n) - f*"; ``initial``: "|x0 - x*| <= D" with
    D = ``radius``. ``tight``: the worst case equals ``value``; otherwise it is at most
    (``sense='upper'``) or at least (``sense='lower'``, ``strict``: strictly) ``value``. Checked by a
    performance-estimation SDP built from the update rule and by the classical hard instances."""
    name: str
    value: sp.Expr
    step: sp.Symbol
    schedule: sp.Expr
    index: sp.Symbol
    steps: sp.Symbol
    radius: sp.Symbol
    constants: Mapping[str, sp.Symbol] = field(default_factory=dict)
    function_class: str = "convex_lipschitz"
    performance: str = "f(x_n) - f*"
    initial: str = "|x0 - x*| <= D"
    tight: bool = True
    sense: Literal["upper", "lower"] = "upper"
    strict: bool = False
    derivation: str = ""   # the engine's formula: "hard_instance" (default) or "refinement_bound" (upper)
    statement: str = ""
    kind = "worst_case"

    def __post_init__(self) -> None:
        object.__setattr__(self, "value", sp.S(self.value))
        object.__setattr__(self, "schedule", sp.S(self.schedule))
        object.__setattr__(self, "constants", _frozen(self.constants))


WORST_CASE_CLASSES = {"convex_lipschitz": "M", "smooth_convex": "L"}


@dataclass(frozen=True)
class Model:
    """A construction whose quantities a named numeric model computes (``numerics.MODELS``).

    ``name``: the model's registry name; ``quantities``: the symbols it returns (used by the
    card's ``Relation`` claims; a quantity may also be a list, e.g. a policy); ``data``: the
    instance's fixed data (numbers or tuples of numbers by name; ``eval --at NAME=[...]``
    overrides them); ``instances``: also check relations on random instances that the model's
    own strategy draws (a hypothesis strategy over data)."""
    name: str
    quantities: tuple[sp.Symbol, ...]
    data: Mapping[str, object] = field(default_factory=dict)
    instances: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "quantities", tuple(self.quantities))
        object.__setattr__(self, "data", _frozen(self.data))


Claim = Union[Threshold, Identity, Bound, Observed, MeanSquareThreshold, Relation, ModifiedFlow, WorstCase]

SPECTRAL_FUNCTIONALS = ("trace", "max", "min", "dim")


@dataclass(frozen=True)
class Estimator:
    """A zeroth-order gradient estimate g_hat = U H y, U = (1/n) sum_j u_j u_j^T.

    ``symbol``: the mode's coordinate of g_hat in the card's update rule; ``at``: the point y
    where it is taken: a linear combination of the state variables whose coefficients may be
    parameters (``x + beta*(x - x_prev)``), with no constant term; ``directions``: 'gaussian' (u ~ N(0, I)) or
    'sphere' (uniform on the sphere of radius sqrt(d), needs ``dim``); ``n``: directions
    averaged per step; ``preconditioned``: state variables whose increment is multiplied by
    P^{-1} in the full-space method (frozen Adam); the per-mode rule then uses eig(P^{-1} H),
    which is exact only when P and H commute.
    """
    symbol: sp.Symbol
    at: sp.Expr
    directions: str = "gaussian"
    n: object = 1
    dim: sp.Symbol | None = None
    preconditioned: tuple[sp.Symbol, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "n", sp.S(self.n))
        object.__setattr__(self, "at", sp.S(self.at))
        object.__setattr__(self, "preconditioned", tuple(self.preconditioned))


@dataclass(frozen=True)
class Simulation:
    """How ``gpu_validation`` runs this card.

    Without ``scenario`` the simulation compiles the card's own update rule (SymPy -> torch) and
    runs it on a quadratic in a random, non-diagonal eigenbasis, with ``grad`` from autograd (and
    the estimator's finite differences for a zeroth-order card). ``scenario`` names an experiment
    of ``gpu_validation`` instead (a network run, a construction's training), never a method.
    ``at`` binds the card's parameters (the swept one excluded); ``spectrum`` gives the simulated
    quadratic's Hessian eigenvalues for cards with an ``eigenvalue`` symbol; the swept parameter
    is tried at ``factors`` x the prediction.
    """
    scenario: str = ""
    at: Mapping[sp.Symbol, float] = field(default_factory=dict)
    spectrum: tuple[float, ...] = ()
    factors: tuple[float, ...] = (0.5, 0.9, 0.95, 1.05, 1.1, 1.5)
    steps: int = 3000
    seeds: int = 4
    options: Mapping[str, float] = field(default_factory=dict)  # algorithm settings, e.g. {"t0": 100}
    sweep: Mapping[sp.Symbol, tuple[float, ...]] = field(default_factory=dict)  # absolute values to run at

    def __post_init__(self) -> None:
        object.__setattr__(self, "at", _frozen(self.at))
        object.__setattr__(self, "sweep", _frozen({k: tuple(float(x) for x in v) for k, v in self.sweep.items()}))
        object.__setattr__(self, "options", _frozen(self.options))
        object.__setattr__(self, "spectrum", tuple(float(v) for v in self.spectrum))
        object.__setattr__(self, "factors", tuple(float(v) for v in self.factors))

    @property
    def algorithm(self) -> str:
        """What runs: the scenario's name, or ``update_rule`` (the card's own rule, compiled)."""
        return self.scenario or "update_rule"


@dataclass(frozen=True)
class Card:
    """One result: parameters, the update rule on the model, the claims, the source.

    ``state``/``update``: the algorithm's update rule, one expression per state variable
    (``x_next = update(x, ...)``), written against the oracle of ``theory._oracle`` (``grad(v)``,
    ``precond(v)``, ``norm(v)``, ``sign(v)``). The engines analyse ``mode_update``, the rule in
    one eigen-mode of a quadratic (``grad(v) -> eigenvalue * v``); the simulation compiles
    ``update`` itself. The first state variable is the iterate.
    ``branch``: for a piecewise-smooth map, a substitution that selects the smooth branch
    the engines analyse (e.g. ``{x: x_pos}`` with ``x_pos`` positive).
    ``sample``: optional sampling ranges for numeric checks (defaults come from assumptions).
    """
    id: str
    title: str
    symbols: tuple[sp.Symbol, ...]
    claims: tuple[Claim, ...]
    source: Source
    state: tuple[sp.Symbol, ...] = ()
    update: tuple[sp.Expr, ...] = ()
    assumptions: tuple[sp.Basic, ...] = ()
    eigenvalue: sp.Symbol | None = None
    branch: Mapping[sp.Symbol, sp.Symbol] = field(default_factory=dict)
    simulation: Simulation | None = None
    sample: Mapping[sp.Symbol, tuple[float, float]] = field(default_factory=dict)
    estimator: Estimator | None = None
    spectral: Mapping[sp.Symbol, str] = field(default_factory=dict)  # symbol -> trace | max | min | dim
    status: Status = "theorem"
    model: Model | None = None
    compare_with: str = ""  # id of a counterpart card (e.g. first-order vs zeroth-order) for side-by-side tables
    notes: str = ""
    origin: str = ""  # file the card was loaded from (set by the catalogue)
    mode_update: tuple[sp.Expr, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("symbols", "claims", "state", "update", "assumptions"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        object.__setattr__(self, "update", tuple(sp.S(e) for e in self.update))
        self._validate_oracle()
        object.__setattr__(self, "mode_update", tuple(per_mode(e, self.eigenvalue) for e in self.update))
        if self.estimator is not None and not self.estimator.preconditioned:
            pre = tuple(s for s, e in zip(self.state, self.update) if e.atoms(_precond))
            if pre:  # the full-space operator scales these increments by P^{-1}
                object.__setattr__(self, "estimator", replace(self.estimator, preconditioned=pre))
        object.__setattr__(self, "branch", _frozen(self.branch))
        object.__setattr__(self, "sample", _frozen(self.sample))
        object.__setattr__(self, "spectral", _frozen(self.spectral))
        self._validate()

    # -- validation ---------------------------------------------------------------------------
    def _fail(self, what: str) -> None:
        raise CardError(f"card {self.id!r}: {what}")

    def _validate_oracle(self) -> None:
        calls = oracle_calls(self.update)
        for call in calls:
            if call.func == _grad and len(call.args) == 2:  # grad(v, k): minibatch k of the loss
                k = call.args[1]
                if not (k.is_Integer and k >= 1):
                    self._fail(f"{call}: a minibatch index must be a positive integer (grad(v, 1), grad(v, 2), ...)")
                continue
            if len(call.args) != 1:
                self._fail(f"{call.func}(.) takes one argument, got {call}")
        if not calls:
            return
        if self.eigenvalue is None:
            self._fail("an update written with grad(.) needs eigenvalue= (the Hessian eigenvalue of the "
                       "per-mode analysis)")
        if any(self.eigenvalue in e.free_symbols for e in self.update):
            self._fail(f"the update uses both grad(.) and the eigenvalue {self.eigenvalue}: write "
                       f"grad(v) for the gradient (the per-mode analysis substitutes {self.eigenvalue}*v)")
        if self.estimator is not None and any(e.atoms(_grad) for e in self.update):
            self._fail(f"a zeroth-order card's update uses its estimator symbol {self.estimator.symbol}, "
                       "not grad(.)")

    def _validate(self) -> None:
        if self.compare_with and not ID_PATTERN.match(self.compare_with):
            raise CardError(f"card {self.id!r}: compare_with {self.compare_with!r} is not a card id")
        if not ID_PATTERN.match(self.id):
            raise CardError(f"card id {self.id!r} is not of the form method.setting.quantity "
                            "(two or more lower-case words joined by dots)")
        if self.status not in ("theorem", "conjecture"):
            self._fail(f"status must be 'theorem' or 'conjecture', got {self.status!r}")
        if not self.claims:
            self._fail("has no claims")
        declared = set(self.symbols)
        if len(declared) != len(self.symbols):
            self._fail("a symbol is declared twice")
        names = {s.name for s in self.symbols} | {s.name for s in self.state}
        if len(names) != len(self.symbols) + len(self.state):
            self._fail("parameter and state symbol names must be distinct")
        if len(self.update) != len(self.state):
            self._fail(f"update has {len(self.update)} expressions for {len(self.state)} state variables")
        if self.estimator is not None:
            self._validate_estimator(self.estimator, declared)
        if self.model is not None:
            self._validate_model(self.model, declared)
        for sym, functional in self.spectral.items():
            if sym not in declared:
                self._fail(f"spectral symbol {sym} is not declared")
            if functional not in SPECTRAL_FUNCTIONALS:
                self._fail(f"spectral symbol {sym}: unknown functional {functional!r}")
        if self.spectral and self.eigenvalue is None:
            self._fail("spectral symbols need an eigenvalue symbol")
        known = declared | set(self.state) | set(self.branch.values()) | (
            {self.estimator.symbol} if self.estimator is not None else set())
        for expr in self.update:
            self._declared(expr.free_symbols, known, "update")
        for a in self.assumptions:
            if not isinstance(a, sp.core.relational.Relational):
                self._fail(f"assumption {a} is not a relation")
            self._declared(a.free_symbols, declared, f"assumption {a}")
        if self.eigenvalue is not None and self.eigenvalue not in declared:
            self._fail(f"eigenvalue symbol {self.eigenvalue} is not declared")
        claim_names = [c.name for c in self.claims]
        if len(set(claim_names)) != len(claim_names):
            self._fail("claim names must be unique")
        for claim in self.claims:
            self._validate_claim(claim, declared, claim_names)
        if self.simulation is not None:
            self._validate_simulation(self.simulation, declared)

    def _validate_estimator(self, est: Estimator, declared: set) -> None:
        if est.directions not in ("gaussian", "sphere"):
            self._fail(f"estimator directions must be 'gaussian' or 'sphere', got {est.directions!r}")
        if est.directions == "sphere" and est.dim is None:
            self._fail("sphere directions need the dimension symbol (estimator dim=...)")
        if est.symbol in declared or est.symbol in self.state:
            self._fail(f"estimator symbol {est.symbol} must not be a parameter or state variable")
        self._declared(est.at.free_symbols, set(self.state) | declared,
                       "estimator point (a linear combination of the state variables, coefficients may be "
                       "parameters)")
        if not est.at.free_symbols & set(self.state):
            self._fail(f"estimator point {est.at} uses no state variable")
        self._declared(est.n.free_symbols | ({est.dim} if est.dim is not None else set()), declared,
                       "estimator")
        if not set(est.preconditioned) <= set(self.state):
            self._fail("estimator: preconditioned variables must be state variables")

    def _validate_model(self, model: Model, declared: set) -> None:
        if not NAME_PATTERN.match(model.name):
            self._fail(f"model name {model.name!r} is not an identifier")
        if not model.quantities:
            self._fail("a model must compute at least one quantity")
        if set(model.quantities) & declared or len(set(model.quantities)) != len(model.quantities):
            self._fail("model quantities must be distinct and not parameters")
        for key in model.data:
            if not NAME_PATTERN.match(str(key)) or key in {s.name for s in declared}:
                self._fail(f"model data name {key!r} must be an identifier and not a parameter")

    def _declared(self, free: set, known: set, where: str) -> None:
        missing = sorted(str(s) for s in free - known)
        if missing:
            self._fail(f"{where} uses undeclared symbol(s) {', '.join(missing)}")

    def _validate_claim(self, claim: Claim, declared: set, claim_names: list[str]) -> None:
        if not NAME_PATTERN.match(claim.name):
            self._fail(f"claim name {claim.name!r} is not an identifier")
        if isinstance(claim, (Threshold, Identity, Bound)):
            self._declared(sp.S(claim.value).free_symbols, declared, f"claim {claim.name}")
        if isinstance(claim, MeanSquareThreshold):
            self._declared(claim.gain.free_symbols | claim.mode_limit.free_symbols, declared, f"claim {claim.name}")
            if self.estimator is None or self.eigenvalue is None:
                self._fail(f"mean-square claim {claim.name} needs an estimator and an eigenvalue symbol")
            if claim.param not in declared:
                self._fail(f"mean-square claim {claim.name} is over undeclared parameter {claim.param}")
        if isinstance(claim, Threshold):
            if claim.param not in declared:
                self._fail(f"threshold {claim.name} is over undeclared parameter {claim.param}")
            if claim.param in sp.S(claim.value).free_symbols:
                self._fail(f"threshold {claim.name} depends on its own parameter {claim.param}")
            if not self.state:
                self._fail(f"threshold {claim.name} needs an update map (state/update)")
        elif isinstance(claim, Identity):
            for cond in claim.conditions:
                self._declared(cond.free_symbols, declared, f"condition {cond} of {claim.name}")
        elif isinstance(claim, Bound):
            if claim.of not in claim_names or claim.of == claim.name:
                self._fail(f"bound {claim.name} refers to unknown claim {claim.of!r}")
            if claim.sense not in ("upper", "lower"):
                self._fail(f"bound {claim.name}: sense must be 'upper' or 'lower'")
        elif isinstance(claim, MeanSquareThreshold):
            pass
        elif isinstance(claim, Relation):
            quantities = set(self.model.quantities) if self.model is not None else set()
            self._declared(claim.lhs.free_symbols | claim.rhs.free_symbols, declared | quantities,
                           f"relation {claim.name}")
            for cond in claim.where:
                if not isinstance(cond, sp.core.relational.Relational):
                    self._fail(f"relation {claim.name}: condition {cond} is not a relation")
                self._declared(cond.free_symbols, declared, f"condition {cond} of {claim.name}")
            if claim.relation not in RELATIONS:
                self._fail(f"relation {claim.name}: relation must be one of {' '.join(RELATIONS)}")
            if not 0 <= claim.tol < 1:
                self._fail(f"relation {claim.name}: tol must be in [0, 1)")
        elif isinstance(claim, ModifiedFlow):
            self._validate_modified_flow(claim, declared)
        elif isinstance(claim, WorstCase):
            self._validate_worst_case(claim, declared)
        elif isinstance(claim, Observed):
            if self.simulation is None:
                self._fail(f"observed claim {claim.name} needs a simulation")
            if claim.value is not None:
                self._declared(sp.S(claim.value).free_symbols, declared, f"claim {claim.name}")
            if claim.rtol is not None and not 0 < claim.rtol < 1:
                self._fail(f"observed claim {claim.name}: rtol must be in (0, 1)")
        else:
            self._fail(f"unknown claim kind {type(claim).__name__}")

    def _validate_modified_flow(self, claim: ModifiedFlow, declared: set) -> None:
        where = f"modified-flow claim {claim.name}"
        if (claim.flow is None) == (claim.loss is None):
            self._fail(f"{where}: give exactly one of flow= or loss=")
        if not self.state or not self.update:
            self._fail(f"{where} needs the update rule (state/update)")
        if claim.step not in declared:
            self._fail(f"{where}: step {claim.step} is not a declared parameter")
        if not isinstance(claim.order, int) or not 1 <= claim.order <= 3:
            self._fail(f"{where}: order must be 1, 2 or 3")
        if not isinstance(claim.dimension, int) or not 1 <= claim.dimension <= 3:
            self._fail(f"{where}: dimension must be 1, 2 or 3")
        for sym, ratio in claim.small.items():
            if sym not in declared or sym == claim.step:
                self._fail(f"{where}: small parameter {sym} must be a declared parameter other than the step")
            if ratio.free_symbols or not ratio.is_positive:
                self._fail(f"{where}: the ratio {sym}/{claim.step} must be a positive number")
        x = self.state[0]
        self._declared(claim.claimed.free_symbols | claim.speed.free_symbols, declared | {x}, where)
        if claim.speed.free_symbols & ({claim.step} | set(claim.small)):
            self._fail(f"{where}: speed must not depend on the step or the small parameters")
        if x not in claim.claimed.free_symbols:
            self._fail(f"{where}: the claimed {'flow' if claim.flow is not None else 'loss'} must be written at "
                       f"the iterate {x}")

    def _validate_worst_case(self, claim: WorstCase, declared: set) -> None:
        where = f"worst-case claim {claim.name}"
        if len(self.state) != 1 or not self.update:
            self._fail(f"{where} needs a one-variable update rule x+ = ... (state/update)")
        if claim.function_class not in WORST_CASE_CLASSES:
            self._fail(f"{where}: function_class must be one of {', '.join(WORST_CASE_CLASSES)}")
        if set(claim.constants) != {WORST_CASE_CLASSES[claim.function_class]}:
            self._fail(f"{where}: constants must name {WORST_CASE_CLASSES[claim.function_class]!r}")
        for sym in (claim.step, claim.steps, claim.radius, *claim.constants.values()):
            if sym not in declared:
                self._fail(f"{where}: {sym} is not a declared parameter")
        if claim.index in declared or claim.index in self.state:
            self._fail(f"{where}: the step index {claim.index} must not be a parameter")
        if not claim.steps.is_integer:
            self._fail(f"{where}: the number of steps {claim.steps} must be an integer symbol")
        if claim.sense not in ("upper", "lower"):
            self._fail(f"{where}: sense must be 'upper' or 'lower'")
        if claim.derivation not in ("", "hard_instance", "refinement_bound"):
            self._fail(f"{where}: derivation must be 'hard_instance' or 'refinement_bound'")
        if claim.step not in self.update[0].free_symbols:
            self._fail(f"{where}: the update rule does not use the step {claim.step}")
        self._declared(claim.value.free_symbols, declared, where)
        self._declared(claim.schedule.free_symbols, declared | {claim.index}, f"{where} (schedule)")
        if claim.step in claim.schedule.free_symbols or claim.step in claim.value.free_symbols:
            self._fail(f"{where}: the schedule and the value must not use the step symbol {claim.step}")

    def _validate_simulation(self, sim: Simulation, declared: set) -> None:
        if sim.scenario and not NAME_PATTERN.match(sim.scenario):
            self._fail(f"simulation scenario {sim.scenario!r} is not an identifier")
        if not sim.scenario and not self.state:
            self._fail("a simulation without a scenario runs the card's update rule: give state/update")
        swept = {c.param for c in self.claims if isinstance(c, (Threshold, MeanSquareThreshold))} | set(sim.sweep)
        for sym, values in sim.sweep.items():
            if sym not in declared:
                self._fail(f"simulation sweeps undeclared symbol {sym}")
            for value in values:
                why = symbol_violation(sym, value)
                if why:
                    self._fail(f"simulation sweep violates assumptions: {why}")
        for sym, value in sim.at.items():
            if sym not in declared:
                self._fail(f"simulation binds undeclared symbol {sym}")
            why = symbol_violation(sym, value)
            if why:
                self._fail(f"simulation binding violates assumptions: {why}")
        needed = set()
        for claim in self.claims:
            if isinstance(claim, Observed) and claim.value is not None:
                needed |= sp.S(claim.value).free_symbols
            if isinstance(claim, (Threshold, Identity, Bound)) and self.model is None:
                needed |= sp.S(claim.value).free_symbols
            if isinstance(claim, MeanSquareThreshold):
                needed |= claim.gain.free_symbols | claim.mode_limit.free_symbols
        needed -= swept | set(self.spectral) | {s for c in self.claims if isinstance(c, Identity)
                                                for s in c.arguments.values() if isinstance(s, sp.Symbol)} | ({self.eigenvalue} if self.eigenvalue is not None and sim.spectrum else set())
        if self.eigenvalue is not None and self.eigenvalue not in sim.at and not sim.spectrum:
            self._fail("simulation needs a spectrum (or a value for the eigenvalue symbol)")
        unbound = sorted(str(s) for s in needed - set(sim.at))
        if unbound:
            self._fail(f"simulation leaves {', '.join(unbound)} unbound")
        if any(v <= 0 for v in sim.spectrum):
            self._fail("simulation spectrum must be positive")
        for a in self.assumptions:
            if a.free_symbols <= set(sim.at) and holds(a, dict(sim.at)) is False:
                self._fail(f"simulation binding violates assumption {a}")
        if sim.steps < 10 or sim.seeds < 1 or not sim.factors or any(f <= 0 for f in sim.factors):
            self._fail("simulation needs steps >= 10, seeds >= 1 and positive factors")

    # -- conveniences -------------------------------------------------------------------------
    def symbol(self, name: str) -> sp.Symbol:
        for s in self.symbols:
            if s.name == name:
                return s
        raise KeyError(name)

    def claim(self, name: str) -> Claim:
        for c in self.claims:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c.kind for c in self.claims))

    def assumptions_for(self, claim: Claim) -> tuple[sp.Basic, ...]:
        """The card's assumptions plus the claim's own conditions."""
        return self.assumptions + tuple(getattr(claim, "conditions", ()))

    def parameters_of(self, claim: Claim) -> tuple[sp.Symbol, ...]:
        """The parameters a claim's value depends on, in declaration order."""
        if isinstance(claim, Observed):
            free = sp.S(claim.value).free_symbols if claim.value is not None else set()
            return tuple(s for s in self.symbols if s in free)
        if isinstance(claim, Relation):
            free = claim.lhs.free_symbols | claim.rhs.free_symbols | set().union(*(c.free_symbols for c in claim.where))
            if self.model is not None and free & set(self.model.quantities):
                return self.symbols  # a model quantity may depend on every parameter
            return tuple(s for s in self.symbols if s in free)
        free = sp.S(claim.value).free_symbols
        if isinstance(claim, MeanSquareThreshold):
            free = (claim.gain.free_symbols | claim.mode_limit.free_symbols) - {claim.param}
        if isinstance(claim, Bound):
            free |= set(self.parameters_of(self.claim(claim.of)))
            target = self.claim(claim.of)
            if isinstance(target, (Threshold, MeanSquareThreshold)):
                free.discard(target.param)
        return tuple(s for s in self.symbols if s in free)
