"""Text, Markdown and LaTeX renderings of cards, reports and tables (strings; the CLI prints)."""
from __future__ import annotations

import sympy as sp

from numerics import CardReport, claim_value, validate_point
from numerics._check import routes_of
from theory import Bound, Card, Identity, InputError, MeanSquareThreshold, Observed, Relation, Threshold
from theory.derive import derive_claim

MARK = {True: "ok", False: "FAIL", None: "--"}


def assumption_text(card: Card) -> list[str]:
    out = []
    for s in card.symbols:
        flags = [k for k in ("positive", "nonnegative", "real") if getattr(s, f"is_{k}")]
        out.append(f"{s.name}: {flags[0] if flags else 'any'}")
    out += [str(a) for a in card.assumptions]
    return out


_GREEK = {"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda", "mu", "nu",
          "xi", "omicron", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi", "omega"}
_OPERATORS = {"Tr": r"\operatorname{Tr}", "tr": r"\operatorname{tr}", "KL": r"\operatorname{KL}"}


def _tex_part(text: str) -> str:
    """One part of a symbol's name: Greek as a command, \\max/\\min, multi-letter words upright."""
    low = text.lower()
    if low in _GREEK:
        return "\\" + (text if text in _GREEK or text.capitalize() == text else low)
    if text in _OPERATORS:
        return _OPERATORS[text]
    if text in ("max", "min", "inf", "sup"):
        return "\\" + text
    head = text.rstrip("0123456789")
    if head and head != text:
        return f"{_tex_part(head)}_{{{text[len(head):]}}}"
    if len(text) > 1:
        return r"\mathrm{" + text.replace(" ", r"\ ").replace("_", r"\_") + "}"
    return text


def latex_name(symbol: sp.Symbol) -> str | None:
    """How a symbol is typeset, where SymPy's default would be wrong (multi-letter names as italic
    products, \\lambda_{max}, Tr): None keeps SymPy's."""
    name = symbol.name
    head, _, sub = name.partition("_")
    simple = (head.lower() in _GREEK or len(head.rstrip("0123456789")) <= 1) and (
        not sub or len(sub) == 1 or sub.isdigit())
    if simple and head not in _OPERATORS:
        return None
    return _tex_part(head) + (f"_{{{_tex_part(sub)}}}" if sub else "")


def tex(expr) -> str:
    """sp.latex with the symbol names of ``latex_name``."""
    expr = sp.S(expr)
    names = {s: n for s in expr.free_symbols if isinstance(s, sp.Symbol) and (n := latex_name(s)) is not None}
    return sp.latex(expr, symbol_names=names)


def claim_statement(card: Card, claim, latex: bool = False) -> str:
    show = tex if latex else sp.sstr
    if isinstance(claim, Threshold):
        lhs = tex(claim.param) + r"^\ast" if latex else f"{claim.param.name}*"
        return f"{lhs} = {show(claim.value)}"
    if isinstance(claim, MeanSquareThreshold):
        lam, eta = card.eigenvalue, claim.param
        if latex:
            gain = tex(claim.gain.subs(lam, sp.Symbol(lam.name + "_i")))
            return (rf"{tex(eta)}^\ast:\ \sum_i {gain} = 1,\ "
                    rf"{tex(eta)} < {tex(claim.mode_limit.subs(lam, sp.Symbol(lam.name + '_max')))}")
        return (f"{eta.name}* solves sum_i G({lam.name}_i) = 1, G = {sp.sstr(claim.gain)}, "
                f"below {sp.sstr(claim.mode_limit)} for every {lam.name}")
    if isinstance(claim, Identity):
        name = claim.name.replace("_", r"\_") if latex else claim.name
        head = rf"\mathrm{{{name}}}" if latex else name
        return f"{head} = {show(claim.value)}"
    if isinstance(claim, Bound):
        target = card.claim(claim.of)
        has_param = isinstance(target, (Threshold, MeanSquareThreshold))
        lhs = (tex(target.param) + r"^\ast") if has_param and latex else (
            f"{target.param.name}*" if has_param else claim.of)
        rel = (r"\le" if claim.sense == "upper" else r"\ge") if latex else ("<=" if claim.sense == "upper" else ">=")
        return f"{lhs} {rel} {show(claim.value)}"
    if isinstance(claim, Relation):
        rel = {"==": "=", "<=": r"\le", ">=": r"\ge", "<": "<", ">": ">"}[claim.relation] if latex else claim.relation
        text = f"{show(claim.lhs)} {rel} {show(claim.rhs)}"
        if claim.where:
            conds = (r",\ ".join(tex(c) for c in claim.where) if latex
                     else ", ".join(sp.sstr(c) for c in claim.where))
            text += rf"\ \mathrm{{for}}\ {conds}" if latex else f" for {conds}"
        return text
    if claim.kind == "modified_flow":
        return flow_statement(card, claim, latex)
    if claim.kind == "worst_case":
        rel = "=" if claim.tight else (">" if claim.strict else (r"\ge" if latex else ">=")) if claim.sense == "lower" \
            else (r"\le" if latex else "<=")
        if latex:
            return (rf"\max_f\, f(x_{{{tex(claim.steps)}}}) - f^\ast {rel} {show(claim.value)},\ "
                    rf"\gamma_{{{tex(claim.index)}}} = {show(claim.schedule)}")
        return (f"max over {claim.function_class} f with {claim.initial} of {claim.performance} {rel} "
                f"{show(claim.value)}, step {claim.step.name}_{claim.index.name} = {show(claim.schedule)}")
    if isinstance(claim, Observed):
        if claim.value is None:
            return claim.statement
        name = claim.name.replace("_", r"\_") if latex else claim.name
        head = rf"\mathrm{{{name}}}" if latex else name
        if latex:
            tol = rf"\ (\pm {100 * claim.rtol:g}\,\%)" if claim.rtol else ""
            return rf"{head} \approx {show(claim.value)}{tol}"
        tol = f" (+-{claim.rtol:.0%})" if claim.rtol else ""
        return f"{head} ~ {show(claim.value)}{tol}"
    return str(claim)


def vocabulary(expr, x, latex: bool = False) -> str:
    """An oracle-vocabulary expression (loss, grad, hvp, d3, norm at the iterate x) as mathematics:
    L, g (the gradient), H g, D3L[g, g], ||g||; in LaTeX with nabla L and double bars."""
    from theory._oracle import d3, grad, hvp, loss, norm

    def vec(v) -> str:
        v = sp.S(v)
        if isinstance(v, grad) and v.args[0] == x:
            return r"\nabla L" if latex else "g"
        if isinstance(v, hvp) and v.args[0] == x:
            inner = vec(v.args[1])
            head, _, rest = inner.partition(" ")
            if head == "H" or head.startswith("H^"):  # H (H^k g) -> H^(k+1) g
                k = int(head[2:].strip("{}")) if head.startswith("H^") else 1
                return f"H^{{{k + 1}}} {rest}" if latex else f"H^{k + 1} {rest}"
            return f"H {inner}"
        if isinstance(v, d3) and v.args[0] == x:
            inner = ", ".join(vec(a) for a in v.args[1:])
            return rf"\nabla^3 L[{inner}]" if latex else f"D3L[{inner}]"
        return tex(v) if latex else sp.sstr(v)

    names: dict[sp.Symbol, str] = {}

    def stand_in(text: str) -> sp.Symbol:
        sym = sp.Symbol(f"V{len(names)}vocab")
        names[sym] = text
        return sym
    def conv(a):  # top down, so a call's arguments are read by vec() before anything replaces them
        if isinstance(a, norm):
            return stand_in(rf"\|{vec(a.args[0])}\|" if latex else f"||{vec(a.args[0])}||")
        if isinstance(a, loss) and a.args[0] == x:
            return stand_in("L")
        if isinstance(a, (grad, hvp, d3)):
            return stand_in(vec(a))
        return a.func(*[conv(b) for b in a.args]) if a.args else a
    e = conv(sp.S(expr))
    if latex:
        return sp.latex(e, symbol_names={**{s: latex_name(s) for s in e.free_symbols if s not in names}, **names})
    text = sp.sstr(e)
    for sym, t in names.items():
        text = text.replace(sym.name, t)
    return text


def flow_statement(card: Card, claim, latex: bool = False) -> str:
    """A modified-flow claim: the modified loss (with its flow speed) or the modified field."""
    x = card.state[0]
    speed = sp.S(claim.speed)
    if claim.loss is not None:
        body = vocabulary(claim.loss, x, latex)
        if latex:
            flow = r"\dot x = -\nabla\tilde L" if speed == 1 else rf"\dot x = -{tex(speed)}\,\nabla\tilde L"
            return rf"\tilde L = {body},\ {flow}"
        return f"modified loss L~ = {body}, dx/dt = {'-' if speed == 1 else sp.sstr(sp.factor(-speed)) + ' * '}grad L~"
    body = vocabulary(claim.flow, x, latex)
    return rf"\dot x = {body}" if latex else f"dx/dt = {body}"


def list_rows(cards) -> list[tuple[str, str, str, str]]:
    return [(c.id, ",".join(c.kinds), c.status, str(c.source)) for c in cards]


def columns(rows, header) -> str:
    rows = [header] + [tuple(str(x) for x in r) for r in rows]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def show(card: Card) -> str:
    lines = [f"{card.id}  [{card.status}]", card.title, f"source: {card.source}", ""]
    lines.append("parameters and assumptions:")
    lines += [f"  {a}" for a in assumption_text(card)]
    if card.state:
        lines += ["", "update rule (state -> next state):"]
        lines += [f"  {s} <- {sp.sstr(e)}" for s, e in zip(card.state, card.update)]
        if tuple(card.update) != tuple(card.mode_update):
            lines += ["", f"per-mode rule analysed (grad(v) -> {card.eigenvalue}*v, precond(v) -> v, norm(v) -> |v|):"]
            lines += [f"  {s} <- {sp.sstr(e)}" for s, e in zip(card.state, card.mode_update)]
        if card.branch:
            lines.append("  analysed on the branch " + ", ".join(f"{k} -> {v} ({'positive' if v.is_positive else 'real'})"
                                                             for k, v in card.branch.items()))
    if card.model is not None:
        m = card.model
        lines += ["", f"numeric model {m.name}: computes {', '.join(q.name for q in m.quantities)}"]
        lines += [f"  data {k} = {sp.sstr(v)}" for k, v in m.data.items()]
        if m.instances:
            lines.append("  relations are also checked on random instances of the model's family")
    for claim in card.claims:
        lines += ["", f"claim {claim.name} ({claim.kind}): {claim_statement(card, claim)}"]
        lines.append(f"  checked by (independent routes): {', '.join(routes_of(card, claim))}")
        if isinstance(claim, Observed):
            lines.append("  measured by: optverify simulate " + card.id)
            continue
        if isinstance(claim, Relation):
            if claim.statement:
                lines.append(f"  {claim.statement}")
            lines.append(f"  checked by: the numeric model's quantities at hypothesis points (tolerance {claim.tol:g})")
            lines.append(f"  LaTeX: {claim_statement(card, claim, latex=True)}")
            continue
        derived = derive_claim(card, claim)
        if claim.kind == "modified_flow":
            lines += _flow_lines(card, claim, derived)
            continue
        if isinstance(claim, MeanSquareThreshold):
            d = derived.details
            est = card.estimator
            lines.append(f"  estimator {est.symbol}: {est.directions} directions, n = {est.n}, taken at {est.at}"
                         + (f", preconditioned: {', '.join(map(str, est.preconditioned))}" if est.preconditioned else ""))
            lines.append(f"  (the estimate's point is a linear combination of the state {', '.join(map(str, card.state))} "
                         "with no constant term; its coefficients may be parameters)")
            lines.append(f"  address it with --claim '{claim.name}.gain=...' or --claim '{claim.name}.mode_limit=...'")
            lines.append(f"  direction moments: kappa_self = {d['kappa_self']}, kappa_coupling = {d['kappa_coupling']}")
            lines.append(f"  per-mode second moments {['E[%s*%s]' % (card.state[p], card.state[q]) for p, q in d['moments']]}:")
            lines.append(f"    D = {sp.sstr(d['D'].tolist())}")
            lines.append(f"    c = {sp.sstr(list(d['c']))}, w = {sp.sstr(list(d['w']))}")
            lines.append(f"  derived mode limit (Schur-Cohn on D): {sp.sstr(d['mode_limit'])}; claimed: "
                         f"{sp.sstr(claim.mode_limit)}")
            lines.append(f"  derived gain G = w (I - D)^-1 c: {sp.sstr(derived.value)}")
            lines.append(f"  claimed gain: {sp.sstr(claim.gain)}")
            lines.append(f"  LaTeX: {claim_statement(card, claim, latex=True)}")
            continue
        if isinstance(claim, Threshold):
            d = derived.details
            lines.append(f"  iteration matrix: {sp.sstr(d['matrix'].tolist())}")
            lines.append(f"  characteristic polynomial: {sp.sstr(d['polynomial'].as_expr())}")
            lines.append("  Schur-Cohn conditions (each > 0):")
            lines += [f"    {sp.sstr(c)} > 0" for c in d["conditions"]]
            lines.append(f"  first boundary crossed: {d['boundary']}")
        lines.append(f"  derived ({derived.engine}): {sp.sstr(sp.factor(derived.value))}")
        lines.append(f"  claimed: {sp.sstr(claim.value)}")
        lines.append(f"  LaTeX: {claim_statement(card, claim, latex=True)}")
        if isinstance(claim, Identity) and claim.conditions:
            lines.append("  holds under: " + ", ".join(map(str, claim.conditions)))
    if card.simulation is not None:
        sim = card.simulation
        at = ", ".join(f"{k.name}={float(v):g}" for k, v in sim.at.items())
        extra = f", spectrum={list(sim.spectrum)}" if sim.spectrum else ""
        opts = f", options={dict(sim.options)}" if sim.options else ""
        what = f"scenario {sim.scenario}" if sim.scenario else "the card's update rule, compiled to torch"
        lines += ["", f"simulation: {what} at {at or '-'}{extra}{opts}; factors {list(sim.factors)}, "
                      f"{sim.steps} steps, {sim.seeds} seeds"]
    if card.notes:
        lines += ["", f"notes: {card.notes}"]
    lines += ["", f"file: {card.origin}"]
    return "\n".join(lines)


def _factor_coefficients(expr):
    """Each term's numeric-parameter coefficient factored ((beta+1)/(4 (beta-1)^2), not expanded)."""
    return sp.Add(*[sp.factor(t) for t in sp.Add.make_args(sp.S(expr))])


def _flow_lines(card: Card, claim, derived) -> list[str]:
    d = derived.details
    x = card.state[0]
    small = ", ".join(f"{k} (order test at {k} = {v}*{claim.step})" for k, v in claim.small.items())
    lines = [f"  step {claim.step}, to order {claim.order}" + (f"; of the order of the step: {small}" if small else "")]
    if len(card.state) > 1:
        zero = ", ".join(f"{a} = {sp.sstr(d['slow'][a][0][0])}" for a in card.state[1:])
        lines.append(f"  on the slow manifold of {', '.join(map(str, card.state[1:]))} (expanded in the step; "
                     f"at zero step, coordinate 1: {zero})")
    lines.append("  derived field in one dimension (g = L', H = L'', T = L''', Q = L''''):")
    lines += [f"    F_{k} = {sp.sstr(f)}" for k, f in enumerate(d["one_dimensional"])]
    lines.append("  a gradient field at each order (curl on the generic 2-D loss): "
                 + ", ".join(f"F_{k}: {'yes' if g else 'no'}" for k, g in enumerate(d["gradient"])))
    if d["loss"] is not None:
        rate = "-" if d["speed"] == 1 else f"{sp.sstr(sp.factor(-d['speed']))} * "
        tidy = _factor_coefficients(d["loss"])
        lines.append(f"  derived modified loss: L~ = {vocabulary(tidy, x)}, dx/dt = {rate}grad L~")
        lines.append(f"  derived, LaTeX: \\tilde L = {vocabulary(tidy, x, True)}")
    else:
        lines.append("  not the gradient field of a modified loss in L, ||g||, ||g||^2")
    agrees = ", ".join(f"order {k}: {'equal' if a else 'DIFFERENT'}" for k, a in enumerate(d["agrees"]))
    lines.append(f"  derived vs claimed field (generic 2-D loss, simplify): {agrees}")
    if derived.value is not None and claim.value is not None:
        lines.append(f"  derived coefficient c of {claim.step}*||g||^2: {sp.sstr(sp.factor(derived.value))}; "
                     f"claimed: {sp.sstr(sp.factor(claim.value))}")
    lines.append(f"  claimed: {claim_statement(card, claim)}")
    lines.append(f"  LaTeX: {claim_statement(card, claim, latex=True)}")
    return lines


def _short(v, digits: int = 6) -> str:
    """A counterexample value: numbers to ``digits`` significant digits, lists element-wise."""
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_short(x, digits) for x in v) + "]"
    if isinstance(v, float):
        return f"{v:.{digits}g}"
    return str(v)


def _distinct_digits(values: list[float], least: int = 6) -> int:
    """The fewest significant digits (>= ``least``, <= 17) at which different numbers print differently."""
    for digits in range(least, 18):
        if len({f"{v:.{digits}g}" for v in values}) == len(set(values)):
            return digits
    return 17


def evidence(c) -> str:
    """A check's route and how many valid examples it evaluated, e.g. 'route hypothesis_spectral, 200 examples'."""
    n = "" if c.examples is None else f", {c.examples} example{'s' if c.examples != 1 else ''}"
    return f"route {c.route_label}{n}{', INCONCLUSIVE' if c.inconclusive else ''}"


def report_text(report: CardReport, verbose: bool = False) -> str:
    ran = [c for c in report.checks if c.passed is not None]
    if report.gave_up is not None and not report.counterexample:
        g = report.gave_up
        return "\n".join([f"GAVE UP  {report.id}  {g.claim}: {g.detail}"]
                         + [f"  [{MARK[c.passed]:>4}] {c.claim}:{c.name} ({evidence(c)}): {c.detail}"
                            for c in report.checks if c is not g and (verbose or c.passed is False)])
    failed = [c for c in ran if c.passed is False]
    status = ("VERIFIED" if report.passed else "REFUTED " if report.counterexample
              else "UNCONFIRMED (conjecture)" if report.status == "conjecture"
              else "INCONCLUSIVE" if failed and all(c.inconclusive for c in failed) else "FAILED  ")
    head = f"{status}  {report.id}  ({sum(bool(c.passed) for c in ran)}/{len(ran)} checks passed)"
    lines = [head]
    for c in report.checks:
        if verbose or c.passed is False:
            label = f"{c.claim}:{c.name}" if c.claim else c.name
            lines.append(f"  [{MARK[c.passed]:>4}] {label} ({evidence(c)}): {c.detail}")
    if report.counterexample:
        ce = report.counterexample
        at = ", ".join(f"{k}={_short(v)}" for k, v in ce.get("at", {}).items())
        digits = _distinct_digits([v for k, v in ce.items() if k not in ("at", "shrunk") and isinstance(v, float)])
        rest = ", ".join(f"{k}={_short(v, digits)}" for k, v in ce.items() if k not in ("at", "shrunk"))
        lines.append(f"  counterexample{' (shrunk)' if ce.get('shrunk') else ''}: {at}; {rest}")
    return "\n".join(lines)


# -- tables ---------------------------------------------------------------------------------

def _table_value(card: Card, claim) -> str:
    """The claim's value at the card's simulation point (the number a reader can reproduce)."""
    sim = card.simulation
    if sim is None or (isinstance(claim, Observed) and claim.value is None):
        return ""
    bindings = {s.name: v for s, v in sim.at.items()}
    if sim.spectrum and card.eigenvalue is not None:
        bindings["spectrum"] = list(sim.spectrum)
    try:
        point, spectrum = validate_point(card, bindings, claims=[claim])
    except Exception:
        return ""
    if isinstance(claim, (Identity, Relation)):
        return ""
    return f"{claim_value(card, claim, point, spectrum):.6g}"


def _point_text(card: Card, latex: bool) -> str:
    sim = card.simulation
    if sim is None:
        return ""
    parts = [f"{tex(k) if latex else k.name}={float(v):g}" for k, v in sim.at.items()]
    if sim.spectrum and card.eigenvalue is not None:
        if len(sim.spectrum) <= 4:
            spec = ",".join(f"{v:g}" for v in sim.spectrum)
            parts.append(rf"\mathrm{{spec}}=({spec})" if latex else f"spectrum=({spec})")
        else:
            d, top, tr = len(sim.spectrum), max(sim.spectrum), sum(sim.spectrum)
            parts.append(rf"d={d}, \lambda_{{\max}}={top:g}, \mathrm{{Tr}}={tr:.4g}" if latex
                         else f"d={d}, lambda_max={top:g}, Tr={tr:.4g}")
    return ", ".join(parts)


def table_rows(cards) -> list[dict]:
    rows = []
    for card in cards:
        for claim in card.claims:
            rows.append({"card": card, "claim": claim, "value": _table_value(card, claim)})
    return rows


def _statement_cell(card: Card, claim, latex_doc: bool) -> str:
    """Math in $...$; an observed claim without a formula is prose (escaped for LaTeX)."""
    if isinstance(claim, Observed) and claim.value is None:
        return _tex_escape(claim.statement) if latex_doc else claim.statement
    return f"${claim_statement(card, claim, latex=True)}$"


def table_markdown(cards) -> str:
    lines = ["| card | claim | assumptions | value | at | source |", "|---|---|---|---|---|---|"]
    for r in table_rows(cards):
        card, claim = r["card"], r["claim"]
        assume = ", ".join(str(a) for a in card.assumptions) or "-"
        cells = [f"`{card.id}`", _statement_cell(card, claim, False), assume, r["value"] or "-",
                 _point_text(card, False) or "-", str(card.source)]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"


_TEX = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "_": r"\_", "#": r"\#", "$": r"\$", "{": r"\{",
        "}": r"\}", "^": r"\textasciicircum{}", "~": r"\textasciitilde{}", "<": r"\textless{}", ">": r"\textgreater{}"}


_UNICODE = {"∝": r"$\propto$", "×": r"$\times$", "≥": r"$\geq$", "≤": r"$\leq$", "≈": r"$\approx$", "→": r"$\to$",
            "−": "-", "–": "--", "—": "---", "±": r"$\pm$", "∞": r"$\infty$", "√": r"$\surd$", "·": r"$\cdot$",
            "∈": r"$\in$", "‖": r"$\|$", "’": "'", "“": "``", "”": "''", "§": r"\S{}", "é": r"\'e", "ö": r'\"o',
            "ü": r'\"u', "∗": "*", "²": r"$^2$", "³": r"$^3$", "ℓ": r"$\ell$", "∑": r"$\sum$", "∇": r"$\nabla$"}
_GREEK_CHARS = {"α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon", "η": "eta", "θ": "theta",
                "κ": "kappa", "λ": "lambda", "μ": "mu", "ν": "nu", "π": "pi", "ρ": "rho", "σ": "sigma", "τ": "tau",
                "φ": "phi", "χ": "chi", "ψ": "psi", "ω": "omega", "Δ": "Delta", "Σ": "Sigma", "Λ": "Lambda"}


def _tex_escape(text: str) -> str:
    """Plain text for a LaTeX document (one pass, so replacements are not escaped again); non-ASCII
    characters become their LaTeX forms (an unknown one becomes '?', never a compile error)."""
    out = []
    for ch in text:
        if ch in _TEX:
            out.append(_TEX[ch])
        elif ch.isascii():
            out.append(ch)
        elif ch in _UNICODE:
            out.append(_UNICODE[ch])
        elif ch in _GREEK_CHARS:
            out.append(f"$\\{_GREEK_CHARS[ch]}$")
        else:
            out.append("?")
    return "".join(out)


def _tex_id(card_id: str) -> str:
    """A card id in typewriter type that may break after its dots and underscores."""
    return r"\texttt{" + _tex_escape(card_id).replace(".", r".\allowbreak{}").replace(r"\_", r"\_\allowbreak{}") + "}"


VERIFIED_BY = {
    "threshold": "SymPy from the update rule (Schur--Cohn); spectral radius at $0.99\\times$/$1.01\\times$ "
                 "and brentq; 50-digit root; simulation of the rule",
    "mean_square_threshold": "second-moment engine from the rule and the estimator; exact operator's Perron root; "
                             "50-digit secular root; Monte Carlo of the rule",
    "identity": "the named engine; random points and hypothesis; an independent numeric route",
    "bound": "sign of the gap (SymPy); hypothesis points",
    "relation": "a numeric model computed two independent ways; hypothesis over parameters and instances",
    "observed": "measured by the card's simulation",
    "modified_flow": "backward error analysis of the update rule (SymPy); hypothesis points on concrete losses; "
                     "the exact quadratic flow; measured error order",
    "worst_case": "hard-instance lower bound (SymPy); performance-estimation SDP of the update rule (PEPit); "
                  "the rule on the hard instance (NumPy); hypothesis over n and parameters",
}
KIND_TITLE = {"threshold": "Critical values (stable exactly below)", "mean_square_threshold":
              "Mean-square critical step sizes", "identity": "Identities", "bound": "Bounds",
              "relation": "Relations over constructions", "observed": "Observed behaviour",
              "modified_flow": "Modified flows (backward error analysis)",
              "worst_case": "Worst cases of first-order methods (performance estimation)"}
LONG = 48  # a formula longer than this (LaTeX characters) moves from the table to a display list


def table_latex(cards, standalone: bool = False) -> str:
    """Booktabs tables that fit a page: one per claim kind, with the result, its closed form, the
    conditions and \\cite{} of the source; long formulas are numbered and displayed below the table."""
    rows = table_rows(cards)
    out = [r"% generated by `optverify table --format latex`; needs booktabs, amsmath and graphicx"]
    cited: dict[str, object] = {}
    for kind in KIND_TITLE:
        group = [r for r in rows if r["claim"].kind == kind]
        if not group:
            continue
        displays = []
        out += [rf"\subsection*{{{KIND_TITLE[kind]}}}", r"\noindent{\small", r"\begin{tabular}{@{}p{0.30\textwidth}"
                r"p{0.36\textwidth}p{0.17\textwidth}p{0.09\textwidth}@{}}", r"\toprule",
                r"Result & Claim & Conditions & Source \\", r"\midrule"]
        for r in group:
            card, claim = r["card"], r["claim"]
            cell = _statement_cell(card, claim, True)
            if len(cell) > LONG and cell.startswith("$"):
                displays.append(cell.strip("$"))
                cell = f"see ({len(displays)})"
            conds = [f"${tex(a)}$" for a in card.assumptions] + [f"${tex(c)}$" for c in getattr(claim, "conditions", ())]
            cited[card.source.key] = card.source
            out.append(rf"{_tex_escape(card.title)} \newline {{\footnotesize{_tex_id(card.id)}}} & "
                       rf"{cell} & {', '.join(conds) or '--'} & \cite{{{card.source.key}}} \\")
        out += [r"\bottomrule", r"\end{tabular}}", "", rf"{{\footnotesize Verified by: {VERIFIED_BY[kind]}.}}"]
        # each long formula on its own line, scaled down only when it is wider than the text
        out += [rf"\par\noindent({i})\ \resizebox{{\ifdim\width>0.93\linewidth 0.93\linewidth\else\width\fi}}{{!}}"
                rf"{{$\displaystyle {d}$}}" for i, d in enumerate(displays, 1)]
        out.append("")
    body = "\n".join(out) + "\n"
    if not standalone:
        return body
    from theory._bibliography import TITLES
    items = []
    for key, src in sorted(cited.items()):
        title = TITLES.get(src.reference.split("v")[0], src.title)
        items.append(rf"\bibitem{{{key}}} {_tex_escape(src.authors)}. "
                     + (rf"\emph{{{_tex_escape(title)}}}. " if title else "") + _tex_escape(
                         f"arXiv:{src.reference}" if key.startswith("arXiv") else src.reference) + ".")
    return "\n".join([r"\documentclass[10pt]{article}", r"\usepackage[margin=1in]{geometry}", r"\usepackage{booktabs}",
                      r"\usepackage{amsmath,amssymb,graphicx}", r"\begin{document}", body,
                      r"\begin{thebibliography}{99}", *items, r"\end{thebibliography}", r"\end{document}", ""])


def table_csv(cards) -> str:
    import csv
    import io
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["card", "claim", "kind", "statement", "latex", "conditions", "value", "at", "source", "cite"])
    for r in table_rows(cards):
        card, claim = r["card"], r["claim"]
        w.writerow([card.id, claim.name, claim.kind, claim_statement(card, claim), claim_statement(card, claim, True),
                    "; ".join(map(str, card.assumptions)), r["value"], _point_text(card, False), str(card.source),
                    card.source.key])
    return buf.getvalue()


def table_json(cards) -> list[dict]:
    return [{"card": r["card"].id, "claim": r["claim"].name, "kind": r["claim"].kind,
             "statement": claim_statement(r["card"], r["claim"]), "latex": claim_statement(r["card"], r["claim"], True),
             "conditions": [str(a) for a in r["card"].assumptions], "value": r["value"] or None,
             "source": str(r["card"].source), "cite": r["card"].source.key} for r in table_rows(cards)]


# -- side by side: a card and its declared counterpart (e.g. first-order vs zeroth-order) ---------

def _first_step_claim(card: Card):
    return next((c for c in card.claims if isinstance(c, (Threshold, MeanSquareThreshold))), None)


def pair_rows(cards, lookup) -> list[dict]:
    """One row per card with ``compare_with``: both thresholds at the card's simulation point."""
    rows = []
    for card in cards:
        if not card.compare_with or card.simulation is None:
            continue
        other = lookup(card.compare_with)
        sim = card.simulation
        bindings = {s.name: float(v) for s, v in sim.at.items()}
        if sim.spectrum:
            bindings["spectrum"] = list(sim.spectrum)
        mine, theirs = _first_step_claim(card), _first_step_claim(other)
        if mine is None or theirs is None:
            continue  # a counterpart of another kind (e.g. a modified flow): no threshold to put side by side
        p1, s1 = validate_point(card, bindings, claims=[mine])
        other_names = {s.name for s in other.symbols} | ({"spectrum"} if other.eigenvalue is not None else set())
        p2, s2 = validate_point(other, {k: v for k, v in bindings.items() if k in other_names}, claims=[theirs])
        v1, v2 = claim_value(card, mine, p1, s1), claim_value(other, theirs, p2, s2)
        rows.append({"card": card, "other": other, "claim": mine, "other_claim": theirs, "value": v1,
                     "other_value": v2, "at": _point_text(card, False), "at_latex": _point_text(card, True)})
    return rows


def table_pairs(cards, lookup, fmt: str = "markdown") -> str:
    rows = pair_rows(cards, lookup)
    if fmt == "latex":
        lines = [r"% generated by `optverify table --pairs --format latex`; needs \usepackage{booktabs}",
                 r"\begin{tabular}{llllll}", r"\toprule",
                 r"Method & Threshold & Counterpart & Threshold & Ratio & At \\", r"\midrule"]
        for r in rows:
            lines.append(rf"\texttt{{{_tex_escape(r['card'].id)}}} & {r['value']:.6g} & "
                         rf"\texttt{{{_tex_escape(r['other'].id)}}} & {r['other_value']:.6g} & "
                         rf"{r['value'] / r['other_value']:.4g} & ${r['at_latex']}$ \\")
        lines += [r"\bottomrule", r"\end{tabular}"]
        return "\n".join(lines) + "\n"
    lines = ["| method | threshold | counterpart | threshold | ratio | at |", "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| `{r['card'].id}` | {r['value']:.6g} | `{r['other'].id}` | {r['other_value']:.6g} | "
                     f"{r['value'] / r['other_value']:.4g} | {r['at']} |")
    return "\n".join(lines) + "\n"


# -- a numeric model's quantities side by side (constructions at chosen parameter values) ---------

def values_rows(cards, points) -> tuple[list[str], list[dict]]:
    """Evaluate every card with a numeric model at every point; scalar quantities only.
    Returns (column names in first-seen order, rows)."""
    from numerics import evaluate
    columns_seen: list[str] = []
    rows = []
    for card in cards:
        if card.model is None:
            continue
        names = {s.name for s in card.symbols} | set(card.model.data)
        for point in points:
            at = {k: v for k, v in point.items() if k in names}
            try:
                values = evaluate(card, at)
            except InputError:  # this card needs parameters the grid does not give: a row of dashes
                values = {}
            scalars = {q.name: values.get(q.name) for q in card.model.quantities
                       if not isinstance(values.get(q.name), (list, tuple))}
            for k in scalars:
                if k not in columns_seen:
                    columns_seen.append(k)
            rows.append({"card": card, "at": at, "values": scalars})
    return columns_seen, rows


def _cell(v) -> str:
    return "-" if v is None else f"{v:.6g}"


def table_values(cards, points, fmt: str = "markdown") -> str:
    cols, rows = values_rows(cards, points)
    if fmt == "latex":
        lines = [r"% generated by `optverify table --values`; needs \usepackage{booktabs}",
                 r"\begin{tabular}{ll" + "r" * len(cols) + "}", r"\toprule",
                 "Construction & At & " + " & ".join(f"${tex(sp.Symbol(c))}$" for c in cols) + r" \\",
                 r"\midrule"]
        for r in rows:
            at = ", ".join(f"${tex(sp.Symbol(k))}={v:g}$" for k, v in r["at"].items()
                           if not isinstance(v, list))
            lines.append(rf"\texttt{{{_tex_escape(r['card'].id)}}} & {at or '--'} & "
                         + " & ".join(_cell(r["values"].get(c)) for c in cols) + r" \\")
        lines += [r"\bottomrule", r"\end{tabular}"]
        return "\n".join(lines) + "\n"
    lines = ["| construction | at | " + " | ".join(cols) + " |", "|---|---|" + "---|" * len(cols)]
    for r in rows:
        at = ", ".join(f"{k}={v:g}" for k, v in r["at"].items() if not isinstance(v, list)) or "-"
        lines.append(f"| `{r['card'].id}` | {at} | " + " | ".join(_cell(r["values"].get(c)) for c in cols) + " |")
    return "\n".join(lines) + "\n"
