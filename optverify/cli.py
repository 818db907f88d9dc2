"""optverify: verify optimisation theorems symbolically, numerically and by simulation.

Exit codes: 0 verified / agrees, 1 refuted / disagrees, 2 bad input (one line on stderr).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from theory import SuiteError, catalogue, get, load_dir, parse_claim
from theory import InputError
from theory._budget import DEFAULT_SECONDS, GaveUp, limit

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


class _Once(argparse.Action):
    """A flag that takes one value: given twice, it is an error (not a silent overwrite)."""

    def __call__(self, parser, namespace, values, option_string=None):
        seen = namespace.__dict__.setdefault("_given_once", set())
        if self.dest in seen:
            raise InputError(f"{option_string} given twice (it takes one value)")
        seen.add(self.dest)
        setattr(namespace, self.dest, values)


class _Parser(argparse.ArgumentParser):
    """argparse that reports misuse in one line with exit code 2; single-valued options refuse repeats."""

    def error(self, message: str) -> None:  # pragma: no cover - exercised through main()
        raise InputError(f"{self.prog}: {message}")

    def add_argument(self, *args, **kwargs):
        if args and args[0].startswith("-") and kwargs.get("action") in (None, "store") and "nargs" not in kwargs:
            kwargs["action"] = _Once
        return super().add_argument(*args, **kwargs)


def _emit(text: str) -> None:
    sys.stdout.write(text if text.endswith("\n") else text + "\n")


def _json(obj) -> None:
    _emit(json.dumps(obj, indent=2, allow_nan=False, default=_json_default))


def _json_default(o):
    if isinstance(o, float) and not math.isfinite(o):
        return str(o)
    return str(o)


def parse_at(items: list[str] | None) -> dict[str, object]:
    """NAME=VALUE pairs; VALUE a number or a JSON list of numbers (``spectrum=[4,1,0.25]``)."""
    out: dict[str, object] = {}
    for item in items or []:
        if "=" not in item:
            raise InputError(f"--at {item!r}: expected NAME=VALUE")
        name, raw = (part.strip() for part in item.split("=", 1))
        if not name:
            raise InputError(f"--at {item!r}: missing name")
        if name in out:
            raise InputError(f"--at {name} given twice")
        if raw.startswith("["):
            try:
                value = json.loads(raw)
            except json.JSONDecodeError:
                raise InputError(f"--at {name}: {raw!r} is not a list of numbers") from None
            if not isinstance(value, list) or not value or not _numeric_list(value):
                raise InputError(f"--at {name}: {raw!r} is not a list of numbers (or of lists of numbers)")
            out[name] = _floats(value)
        else:
            try:
                out[name] = float(raw)
            except ValueError:
                raise InputError(f"--at {name}: {raw!r} is not a number") from None
        for v in _flat(out[name]):
            if v != 0 and math.isfinite(v) and not 1e-300 <= abs(v) <= 1e300:
                raise InputError(f"--at {name}: {v!r} is outside 1e-300 .. 1e300 in magnitude, where float64 "
                                 "results (e.g. 2/lambda) stay finite")
    return out


def _flat(value):
    if isinstance(value, list):
        for v in value:
            yield from _flat(v)
    else:
        yield value


def _numeric_list(value) -> bool:
    if isinstance(value, list):
        return bool(value) and all(_numeric_list(v) for v in value)
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _floats(value):
    return [_floats(v) for v in value] if isinstance(value, list) else float(value)


def _extra_cards(args) -> list:
    return load_dir(args.cards) if getattr(args, "cards", None) else []


# -- commands ---------------------------------------------------------------------------------

def cmd_list(args) -> int:
    from optverify.render import columns, list_rows
    cards = catalogue(status=args.status, extra=_extra_cards(args))
    if args.json:
        _json([{"id": c.id, "kinds": list(c.kinds), "status": c.status, "source": str(c.source), "title": c.title}
               for c in cards])
    else:
        n_th = sum(c.status == "theorem" for c in cards)
        _emit(columns(list_rows(cards), ("id", "kind", "status", "source")))
        _emit(f"\n{len(cards)} cards ({n_th} theorems, {len(cards) - n_th} conjectures)")
    return EXIT_OK


def cmd_show(args) -> int:
    """One card by id, or every card a shell glob matches ('gd.*.modified_flow'; a glob that matches
    no id whole is also tried as a prefix, so that pattern shows gd.smooth.modified_flow_order2)."""
    from fnmatch import fnmatchcase

    from optverify.render import show
    extra = _extra_cards(args)
    if any(ch in args.id for ch in "*?["):
        cards = catalogue(extra=extra)
        chosen = [c for c in cards if fnmatchcase(c.id, args.id)] or \
            [c for c in cards if fnmatchcase(c.id, args.id + "*")]
        if not chosen:
            raise InputError(f"no card matches {args.id!r} (see optverify list)")
    else:
        chosen = [get(args.id, extra=extra)]
    with _stage_progress(args), limit(args.budget):
        texts = [show(card) for card in chosen]
    _emit("\n\n".join(texts))
    return EXIT_OK


def cmd_eval(args) -> int:
    from numerics._evaluate import evaluate_with_reasons
    extra = _extra_cards(args)
    card = get(args.id, extra=extra)
    at = parse_at(args.at)
    if args.sweep:
        return _eval_sweep(card, at, args, extra)
    values, reasons = evaluate_with_reasons(card, at)
    if args.json:
        out = {"id": card.id, "at": at, "values": values}
        if reasons:
            out["not_evaluated"] = reasons
        _json(out)
    else:
        for name, v in values.items():
            if isinstance(v, float) and not math.isfinite(v):
                _emit(f"{name}: not evaluated ({v!r} in float64 at this point: the value is undefined or overflows)")
            else:
                _emit(f"{name} = {v!r}" if v is not None else f"{name}: not evaluated ({reasons[name]})")
    return EXIT_OK


def parse_sweep(text: str) -> tuple[str, list[float]]:
    """NAME=LO:HI:N -> (NAME, N points from LO to HI)."""
    if "=" not in text:
        raise InputError(f"--sweep {text!r}: expected NAME=LO:HI:N")
    name, rng = (t.strip() for t in text.split("=", 1))
    parts = rng.split(":")
    try:
        lo, hi, n = float(parts[0]), float(parts[1]), int(parts[2])
    except (ValueError, IndexError):
        raise InputError(f"--sweep {text!r}: expected NAME=LO:HI:N, e.g. beta=0:0.95:40") from None
    if n < 2 or not (math.isfinite(lo) and math.isfinite(hi)) or n > 10_000:
        raise InputError(f"--sweep {text!r}: need 2 <= N <= 10000 and finite ends")
    return name, [lo + (hi - lo) * i / (n - 1) for i in range(n)]


def _eval_sweep(card, at, args, extra) -> int:
    from numerics import evaluate
    name, grid = parse_sweep(args.sweep)
    series = {"id": card.id, "sweep": name, "grid": grid, "at": at,
              "values": {k: [] for k in evaluate(card, {**at, name: grid[0]})}}
    for v in grid:
        for k, val in evaluate(card, {**at, name: v}).items():
            series["values"][k].append(val)
    if card.compare_with:
        other = get(card.compare_with, extra=extra)
        names = {s.name for s in other.symbols} | {"spectrum"}
        sub = {k: v for k, v in at.items() if k in names}
        if name in names:
            values = [evaluate(other, {**sub, name: v}) for v in grid]
            series["compare"] = {"id": other.id, "values": {k: [row[k] for row in values] for k in values[0]}}
    if args.plot:
        from optverify.plots import plot_sweep
        plot_sweep(series, args.plot)
    if args.json:
        _json(series)
    else:
        keys = list(series["values"])
        _emit("  ".join([name.rjust(10)] + [k.rjust(14) for k in keys]
                        + ([f"{series['compare']['id'].split('.')[0]}:{k}" for k in series["compare"]["values"]]
                           if "compare" in series else [])))
        for i, v in enumerate(grid):
            row = [f"{v:10.4g}"] + [f"{series['values'][k][i]:14.6g}" if series['values'][k][i] is not None
                                    else " " * 13 + "-" for k in keys]
            if "compare" in series:
                row += [f"{vals[i]:14.6g}" for vals in series["compare"]["values"].values()]
            _emit("  ".join(row))
        if args.plot:
            _emit(f"plot written to {args.plot}")
    return EXIT_OK


def _simulation_checks(card, args):
    from optverify._runner import simulation_checks
    return simulation_checks(card, args.device, args.seed)


def cmd_check(args) -> int:
    from numerics import check, with_claim
    from optverify.render import report_text
    extra = _extra_cards(args)
    if args.claim and (args.all or len(args.ids) != 1):
        raise InputError("--claim needs exactly one card id")
    if args.all or (not args.ids and extra):
        cards = list(catalogue(extra=extra)) if args.all else extra
    elif args.ids:
        cards = []
        for i in args.ids:  # an id, or a shell glob ('schedule_free.*') over the catalogue
            found = _chosen(catalogue(extra=extra), [i]) if any(ch in i for ch in "*?[") else [get(i, extra=extra)]
            cards += [c for c in found if c not in cards]
    else:
        raise InputError("check needs card ids, --all, or --cards DIR")
    if args.at:
        if args.all:
            raise InputError("--at fixes parameters of the cards named (ids or --cards), not of --all")
        cards = [_fixed(card, parse_at(args.at)) for card in cards]
    if args.claim:
        card = cards[0]
        with limit(args.budget):
            name, expr = parse_claim(args.claim, {s.name: s for s in card.symbols})
        cards = [with_claim(card, name, expr)]
    from optverify import _runner
    from theory import _diskcache
    _diskcache.fresh(args.fresh)
    workers = args.workers if args.workers is not None else (os.cpu_count() or 1)
    opts = _runner.Options(examples=args.examples, seed=args.seed, budget=args.budget, simulate=not args.no_simulate,
                           device=args.device, verbose=args.verbose, fresh=args.fresh,
                           cards_dir=getattr(args, "cards", None),
                           threads=_runner.threads_per_worker(workers, len(cards)))
    started = time.perf_counter()
    modified = bool(args.claim or args.at)  # cards changed here run in this process (a worker loads by id)
    if modified or (args.executor == "process" and (workers <= 1 or len(cards) <= 1)):
        def results():
            for i, card in enumerate(cards):
                with _stage_progress(args):
                    yield i, _runner.check_card(card, opts)
        stream = results()
    else:
        stream = _runner.run([c.id for c in cards], opts, workers, args.executor, args.address)
    done: dict[int, dict] = {}
    shown = 0
    bar = _count_bar(args, len(cards))
    for index, result in stream:
        done[index] = result
        if bar is not None:
            bar.update(1)
            bar.set_postfix_str(result["id"][:40])
        while shown in done:  # catalogue order, as soon as the prefix is complete
            if not args.json:
                _write_above(bar, done[shown]["text"])
            shown += 1
    if bar is not None:
        bar.close()
    results = [done[i] for i in range(len(cards))]
    if args.json:
        _json([r["json"] for r in results])
    else:
        ok = sum(r["passed"] for r in results)
        open_ = [r["id"] for r in results if not r["passed"] and r["status"] == "conjecture"]
        where = f"{args.executor} executor, {workers} workers" if not modified and len(cards) > 1 else "1 process"
        _emit(f"\n{ok}/{len(results)} verified in {time.perf_counter() - started:.1f} s "
              f"(seed {args.seed}, {args.examples} hypothesis examples per property, {where})"
              + (f"; conjectures not confirmed: {', '.join(open_)}" if open_ else ""))
    # --all judges the theorems; a conjecture that is not confirmed is reported, and fails only when asked for
    judged = [r for r in results if r["status"] == "theorem" or not args.all]
    return EXIT_OK if all(r["passed"] for r in judged) else EXIT_FAIL


def _count_bar(args, total: int):
    if getattr(args, "json", False) or not sys.stderr.isatty() or total < 2:
        return None
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover
        return None
    return tqdm(total=total, desc="check", unit="card", leave=False)


def _write_above(bar, text: str) -> None:
    if bar is None:
        _emit(text)
    else:
        bar.write(text, file=sys.stdout)


def _fixed(card, at: dict):
    """The card with the parameters of ``at`` fixed (substituted exactly) before anything runs."""
    from numerics._check import fix_parameters
    from numerics import validate_point
    point, spectrum = validate_point(card, at, require=False)
    if spectrum is not None or (card.eigenvalue is not None and card.eigenvalue in point):
        raise InputError("check --at fixes parameters; the eigenvalue and spectrum are the analysis' own")
    return fix_parameters(card, {s: _rational(v) for s, v in point.items()})


def cmd_conjecture(args) -> int:
    """``conjecture ID 'FORMULA'`` (a catalogue card's rule) or ``conjecture --state .. --update ..
    --param .. 'CLAIM'`` (a rule typed here, no file)."""
    if args.state is None and args.update is None:
        if len(args.words) != 2:
            raise InputError("conjecture takes ID 'NAME=FORMULA', or --state/--update/--param and 'NAME=FORMULA'")
        args.ids, args.all, args.claim, args.at = [args.words[0]], False, args.words[1], None
        args.workers, args.executor, args.address, args.fresh = 1, "process", None, False
        return cmd_check(args)
    if len(args.words) != 1:
        raise InputError("with --state/--update, conjecture takes one claim, e.g. 'eta_crit = 2*(1 + beta)/lambda'")
    from numerics import check
    from optverify.render import report_text
    rule, at = _typed_rule(args)
    with limit(args.budget):
        name, value = parse_claim(args.words[0], {**{s.name: s for s in rule.symbols}})
    card = rule.card(card_id=args.id, claim=(name, value), at=_simulation_point(rule, value, at, args.seed))
    started = time.perf_counter()
    with _stage_progress(args):
        report = check(card, examples=args.examples, seed=args.seed, budget=args.budget, at=at)
    if not args.no_simulate and report.gave_up is None:
        report = report.with_checks(_simulation_checks(card, args))
    derived = _derived_value(card, args.budget)
    if args.json:
        _json({**_derived_json(card, derived, at), "verdict": _verdict(report), "report": report.to_json()})
    else:
        _emit(report_text(report, verbose=args.verbose))
        if derived is not None:
            _emit(f"  derived {card.claims[0].name} = {sp_str(derived)}")
        _emit(f"\n{_verdict(report)} in {time.perf_counter() - started:.1f} s (seed {args.seed}, "
              f"{args.examples} hypothesis examples per property)")
    return EXIT_OK if report.passed else EXIT_FAIL


def _derive_modified_flow(args) -> int:
    """The modified flow of a typed rule (backward error analysis, --param the step): the field per
    order in one dimension, whether each order is a gradient field, and the modified loss."""
    from optverify.render import _factor_coefficients, vocabulary
    from theory import DerivationError
    from theory._budget import GaveUp
    from theory.derive import modified_flow as bea
    rule, _ = _typed_rule(args)
    small = [s.strip() for s in (args.small or "").split(",") if s.strip()]
    names = {s.name: s for s in rule.symbols}
    for name in small:
        if name not in names or name == rule.param.name:
            raise InputError(f"--small {name}: not a parameter of the rule other than the step {rule.param}")
    small_syms = tuple(names[n] for n in small)
    order = args.modified_flow
    out: dict = {"step": rule.param.name, "order": order, "small": small}
    try:
        with _stage_progress(args), limit(args.budget):
            one_d = bea.modified_field(rule.state, rule.update, rule.param, order, small_syms, d=1)
            two_d = bea.modified_field(rule.state, rule.update, rule.param, order, small_syms, d=2)
            gradient = [bea.curl_free(f, two_d.coords) for f in two_d.field]
            fitted = bea.fit_loss(two_d, rule.state[0]) if all(gradient) else None
    except GaveUp as g:
        out.update(verdict="gave up", detail=f"gave up after {g.seconds:g} s in {g.stage}: lower the order, fix a "
                   "parameter or raise --budget")
        fitted = None
    except DerivationError as exc:
        out.update(verdict="not derived", detail=str(exc))
        fitted = None
    else:
        field = bea.one_dimensional(one_d.field, one_d.coords, one_d.L)
        out.update(verdict="derived", detail="", field_1d=[sp_str(f) for f in field], gradient=gradient)
        if fitted is not None:
            speed, modified = fitted
            tidy = _factor_coefficients(modified)
            out.update(speed=sp_str(speed), loss=vocabulary(tidy, rule.state[0]),
                       latex=vocabulary(tidy, rule.state[0], latex=True))
    if args.json:
        _json(out)
    elif out["verdict"] != "derived":
        _emit(f"{out['verdict'].upper()}: {out['detail']}")
    else:
        _emit(f"modified flow of the rule, step {rule.param}, to order {order}"
              + (f" ({', '.join(small)} of the order of the step)" if small else "") + ":")
        _emit("  in one dimension (g = L', H = L'', T = L''', Q = L''''):")
        for k, f in enumerate(out["field_1d"]):
            _emit(f"    F_{k} = {f}")
        _emit("  a gradient field at each order (2-D curl): "
              + ", ".join(f"F_{k}: {'yes' if g else 'no'}" for k, g in enumerate(gradient)))
        if fitted is not None:
            _emit(f"  modified loss: L~ = {out['loss']}, flow speed {out['speed']} (dx/dt = -speed * grad L~)")
            _emit(f"  LaTeX: \\tilde L = {out['latex']}")
        else:
            _emit("  no modified loss in L, ||g||, ||g||^2 (some order is not such a gradient field)")
    return EXIT_OK if out["verdict"] == "derived" else EXIT_FAIL


def cmd_derive(args) -> int:
    """Derive the critical value of a typed rule: SymPy, LaTeX and its value at --at; with
    --modified-flow, its modified flow instead."""
    if args.modified_flow is not None:
        return _derive_modified_flow(args)
    from numerics._check import fix_parameters
    from theory._budget import GaveUp
    from theory.derive import derive_claim
    from theory import DerivationError
    rule, at = _typed_rule(args)
    card = rule.card(card_id=args.id)
    claim = card.claims[0]
    note, value = "", None
    try:
        with _stage_progress(args), limit(args.budget):
            value = derive_claim(card, claim).value
        verdict = "derived"
    except GaveUp as g:
        verdict, note = "gave up", f"gave up after {g.seconds:g} s in {g.stage}"
        fixed = {s: _rational(at[s.name]) for s in rule.symbols if s.name in at and s not in (rule.param, rule.eigenvalue)}
        if fixed:
            try:
                reduced = fix_parameters(card, fixed, claim)
                with _stage_progress(args), limit(args.budget):
                    value = derive_claim(reduced, reduced.claims[0]).value
                verdict = "derived with " + ", ".join(f"{k.name}={float(v):g}" for k, v in fixed.items()) + " fixed"
                note += f"; {verdict}"
            except (GaveUp, DerivationError) as exc:
                note += f"; with {', '.join(k.name for k in fixed)} fixed too: {exc}"
        else:
            free = [s.name for s in rule.symbols if s not in (rule.param, rule.eigenvalue)]
            note += f": fix a parameter (--at {free[0]}=0.5) or raise --budget" if free else ": raise --budget"
    except DerivationError as exc:
        verdict, note = "not derived", str(exc)
    out = _derived_json(card, value, at)
    out.update({"verdict": verdict, "detail": note})
    if args.json:
        _json(out)
    else:
        _emit("per-mode rule: " + "; ".join(f"{s} <- {sp_str(e)}" for s, e in zip(card.state, card.mode_update)))
        if value is None:
            _emit(f"{verdict.upper()}: {note}")
        else:
            _emit(f"{claim.name} = {sp_str(value)}" + (f"    ({note})" if note else ""))
            _emit(f"LaTeX: {out['latex'][claim.name]}")
            v = out["values"].get(claim.name)
            where = ", ".join(f"{k}={x:g}" for k, x in out["at"].items())
            _emit(f"at {where}: {claim.name} = {v!r}" if v is not None else f"at {where}: {out['not_evaluated']}")
    return EXIT_OK if value is not None else EXIT_FAIL


def sp_str(expr) -> str:
    import sympy as sp
    return sp.sstr(sp.factor(expr)) if expr is not sp.oo else "oo"


def _rational(v: float):
    import sympy as sp
    return sp.Rational(repr(float(v)))


def _typed_rule(args, extra=()):
    from theory._typed import parse_rule
    if not args.state or not args.update or not args.param:
        raise InputError("a typed rule needs --state, --update and --param")
    at = parse_at(args.at)
    with limit(args.budget):
        rule = parse_rule(args.state, args.update, args.param, args.assume or [], extra_names=list(extra))
    names = {s.name for s in rule.symbols}
    for k, v in at.items():
        if k not in names:
            raise InputError(f"--at {k}: the rule has no parameter {k} (parameters: {', '.join(sorted(names))})")
        if not isinstance(v, float):
            raise InputError(f"--at {k}: expected a number")
    if rule.param.name in at and args.command == "conjecture":
        raise InputError(f"{rule.param.name} is swept by the simulation; do not bind it")
    return rule, at


def _simulation_point(rule, value, at: dict, seed: int) -> dict:
    """--at, completed for the simulation: each unbound parameter at a plain value inside its
    assumptions (0.5 where allowed), else a seeded point where the claimed value is positive."""
    import math

    import sympy as sp

    from theory._assume import box, holds, sample_points
    free = [s for s in rule.symbols if s not in (rule.param, rule.eigenvalue) and s.name not in at]
    if not free:
        return at
    given = {s: sp.Rational(repr(at[s.name])) for s in rule.symbols if s.name in at}
    lam = sp.Rational(repr(at.get("lambda", 1.0)))

    def positive(point) -> bool:
        try:
            v = float(sp.S(value).subs({**given, **point, rule.eigenvalue: lam}))
        except (TypeError, ValueError):
            return False
        return math.isfinite(v) and v > 0 and all(holds(r, {**given, **point}) is not False for r in rule.assumptions)

    plain = {}
    for s in free:
        lo, hi, _, _ = box(s, rule.assumptions)
        for v in (0.5, (lo + hi) / 2 if math.isfinite(lo + hi) else None, lo + 1 if math.isfinite(lo) else None,
                  hi - 1 if math.isfinite(hi) else None):
            if v is not None and lo < v < hi:
                plain[s] = sp.Rational(repr(round(v, 4)))
                break
    if len(plain) == len(free) and positive(plain):
        return {**at, **{s.name: float(v) for s, v in plain.items()}}
    relations = [r.subs(given) for r in rule.assumptions if r.free_symbols <= set(free) | set(given)]
    relations = [r for r in relations if r not in (sp.true, True)]
    for p in sample_points(free, relations, count=64, seed=seed):
        p = {s: sp.Rational(repr(round(float(v), 4))) for s, v in p.items()}
        if positive(p):
            return {**at, **{s.name: float(v) for s, v in p.items()}}
    raise InputError(f"found no point inside the assumptions where the claimed value is positive; bind "
                     f"{', '.join(s.name for s in free)} with --at")


def _derived_value(card, budget):
    from theory import DerivationError
    from theory._budget import GaveUp
    from theory.derive import derive_claim
    try:
        with limit(budget):
            return derive_claim(card, card.claims[0]).value
    except (GaveUp, DerivationError):
        return None


def _derived_json(card, value, at: dict) -> dict:
    """{"derived": {name: sympy}, "latex": {...}, "values": {name: float at --at}, "at": {...}}."""
    import math

    import sympy as sp
    name = card.claims[0].name
    point = dict(at)
    out: dict = {"id": card.id, "derived": {name: None}, "latex": {name: None}, "values": {name: None}}
    if value is None:
        out["at"] = point
        return out
    out["derived"][name] = sp.sstr(value)
    out["latex"][name] = sp.latex(value)
    needed = {s.name for s in sp.S(value).free_symbols}
    if "lambda" in needed and "lambda" not in point:
        point["lambda"] = 1.0  # the value per unit eigenvalue
    missing = sorted(needed - set(point))
    out["at"] = point
    if missing:
        out["not_evaluated"] = f"bind {', '.join(missing)} with --at to evaluate"
        return out
    try:
        v = float(sp.S(value).subs({s: sp.Float(point[s.name], 30) for s in sp.S(value).free_symbols}))
    except (TypeError, ValueError):
        v = float("nan")
    if math.isfinite(v):
        out["values"][name] = v
    else:
        out["not_evaluated"] = f"{name} is not a finite real number at this point"
    return out


def _verdict(report) -> str:
    if report.gave_up is not None and not report.counterexample:
        return "GAVE UP"
    if report.passed:
        return "VERIFIED"
    failed = [c for c in report.checks if c.passed is False]
    if failed and not report.counterexample and all(c.inconclusive for c in failed):
        return "INCONCLUSIVE"  # no evidence either way (e.g. no point satisfies the assumptions): never a pass
    return "REFUTED" if report.counterexample or failed else "UNCONFIRMED"


def cmd_simulate(args) -> int:
    from gpu_validation import simulate
    card = get(args.id, extra=_extra_cards(args))
    bar = _bar(args, "simulate")
    result = simulate(card, at=parse_at(args.at), device=args.device, seed=args.seed, steps=args.steps,
                      seeds=args.seeds, factors=args.factors, noncommuting=args.noncommuting,
                      progress=(lambda t: bar.update(t - bar.n)) if bar is not None else None)
    if bar is not None:
        bar.close()
    if args.plot:
        from optverify.plots import plot_simulation
        plot_simulation(result, args.plot, trajectories=args.trajectories)
    if args.json:
        _json(result.to_json(trajectories=args.trajectories))
    elif hasattr(result, "lines"):
        _emit(f"{result.id}: {result.algorithm} on {result.device} ({result.dtype}), seed {result.seed}")
        for line in result.lines:
            _emit(f"  {line}")
        for v in result.verdicts:
            _emit(f"  [{ {True: 'agrees', False: 'DISAGREES', None: 'n/a'}[v.agrees] }] {v.claim}: {v.detail}")
        if args.plot:
            _emit(f"  plot written to {args.plot}")
    else:
        head = (f"predicted {result.param}* = {result.predicted:.10g}, " if not (result.points and hasattr(
            result.points[0], "sharpness")) else "")
        _emit(f"{result.id}: {result.algorithm} on {result.device} ({result.dtype}), {head}"
              f"{result.steps} steps x {result.seeds} seeds")
        for p in result.points:
            if hasattr(p, "sharpness"):
                _emit(f"  {result.param} = {p.value:.6g}: predicted {p.predicted:.6g}; {p.detail} -> {p.outcome}")
            else:
                _emit(f"  {result.param} = {p.value:.6g} ({p.factor:g}x): {p.outcome}")
        for v in result.verdicts:
            _emit(f"  [{ {True: 'agrees', False: 'DISAGREES', None: 'n/a'}[v.agrees] }] {v.claim}: {v.detail}")
        if args.plot:
            _emit(f"  plot written to {args.plot}")
    return EXIT_OK if result.agrees else EXIT_FAIL


def _chosen(cards, patterns):
    """Cards whose id matches one of ``patterns`` (exact ids or shell globs such as 'heavy_ball.*'), in
    catalogue order; all cards without patterns; a pattern matching nothing is an error."""
    from fnmatch import fnmatchcase
    if not patterns:
        return list(cards)
    chosen = [c for c in cards if any(fnmatchcase(c.id, p) for p in patterns)]
    for p in patterns:
        if not any(fnmatchcase(c.id, p) for c in cards):
            raise InputError(f"no card matches {p!r} (see optverify list)")
    return chosen


def cmd_cite(args) -> int:
    """BibTeX for every source the chosen cards rely on; keys equal the tables' \\cite{} keys."""
    from theory._bibliography import bibtex
    cards = _chosen(catalogue(extra=_extra_cards(args)), args.ids)
    sources = {}
    for c in cards:
        sources.setdefault(c.source.key, c.source)
    _emit("\n\n".join(bibtex(s) for _, s in sorted(sources.items())))
    return EXIT_OK


def cmd_table(args) -> int:
    from optverify.render import table_csv, table_json, table_latex, table_markdown, table_pairs, table_values
    extra = _extra_cards(args)
    cards = _chosen(catalogue(status=args.status, extra=extra), args.ids)
    if args.claims:
        wanted = set(args.claims.split(","))
        import dataclasses
        cards = [dataclasses.replace(c, claims=tuple(k for k in c.claims if k.name in wanted)) for c in cards
                 if any(k.name in wanted for k in c.claims)]
        if not cards:
            raise InputError(f"no chosen card has a claim named {args.claims!r}")
    if args.standalone and args.format != "latex":
        raise InputError("--standalone goes with --format latex")
    if args.format in ("csv", "json") and (args.values is not None or args.pairs):
        raise InputError("--format csv/json is for the formula table (not --values or --pairs)")
    if args.check and args.format == "csv":
        raise InputError("--check goes with --format latex, markdown or json")
    verdicts = _table_verdicts(cards, args.seed) if args.check else None
    if args.format == "csv":
        sys.stdout.write(table_csv(cards))
        return EXIT_OK
    if args.format == "json":
        rows = table_json(cards)
        if verdicts is not None:
            by_card = dict(zip((c.id for c in cards), verdicts))
            for row in rows:
                row["verdict"] = by_card[row["card"]].split(": ", 1)[1]
        _json(rows)
        return EXIT_OK
    if args.values is not None:
        chosen = _select(cards, args.values)
        at = parse_at(args.at)
        points = [{**at, **p} for p in _grid_points(args.grid)]
        _emit(table_values(chosen, points, args.format))
        _emit(_provenance(args.format, verdicts, args.seed if args.check else None))
        return EXIT_OK
    if args.grid or args.at:
        raise InputError("--at and --grid go with --values")
    if args.pairs:
        _emit(table_pairs(cards, lambda i: get(i, extra=extra), args.format))
        _emit(_provenance(args.format, verdicts, args.seed if args.check else None))
    elif args.format == "latex" and args.standalone:
        text = table_latex(cards, standalone=True)
        _emit(text.replace(r"\end{document}", _provenance("latex", verdicts, args.seed if args.check else None)
                           + "\n" + r"\end{document}"))
    else:
        _emit(table_latex(cards) if args.format == "latex" else table_markdown(cards))
        _emit(_provenance(args.format, verdicts, args.seed if args.check else None))
    return EXIT_OK


def _provenance(fmt: str, verdicts: list[str] | None = None, seed: int | None = None) -> str:
    """Comment lines naming what made the table (version, git commit, date, versions, BLAS) and, with
    --check, each row's verdict and the routes that verified it: invisible in the rendered output."""
    from numerics._environment import environment
    from optverify._provenance import provenance
    lines = [provenance(environment(), seed=seed)]
    lines += verdicts if verdicts is not None else ["verdicts: not run here (add --check to run each card's checks)"]
    return "\n".join((f"% {line}" if fmt == "latex" else f"<!-- {line} -->") for line in lines)


def _table_verdicts(cards, seed: int) -> list[str]:
    """One line per card: its verdict and which checks (routes) verified each claim."""
    from numerics import check
    lines = []
    for card in cards:
        report = check(card, seed=seed)
        verdict = "VERIFIED" if report.passed else ("UNCONFIRMED (conjecture)" if card.status == "conjecture"
                                                    else "NOT VERIFIED")
        by: dict[str, list[str]] = {}
        for c in report.checks:
            if c.passed:
                by.setdefault(c.claim or "-", []).append(getattr(c, "route", None) or c.name)
        routes = "; ".join(f"{claim} by {', '.join(dict.fromkeys(names))}" for claim, names in by.items())
        lines.append(f"{card.id}: {verdict} ({sum(bool(c.passed) for c in report.checks)}/"
                     f"{sum(c.passed is not None for c in report.checks)} checks{': ' + routes if routes else ''})")
    return lines


def _select(cards, patterns: list[str]) -> list:
    """Cards with a numeric model whose id equals or starts with one of ``patterns`` (all if none)."""
    with_model = [c for c in cards if c.model is not None]
    if not with_model:
        raise InputError("no card has a numeric model")
    if not patterns:
        return with_model
    chosen = [c for c in with_model if any(c.id == p or c.id.startswith(p.rstrip(".") + ".") for p in patterns)]
    if not chosen:
        raise InputError(f"no card with a numeric model matches {' '.join(patterns)} "
                         f"(cards with models: {', '.join(c.id for c in with_model) or 'none'})")
    return chosen


def _grid_points(items: list[str] | None) -> list[dict]:
    """--grid NAME=V1,V2,... (repeatable; the product of all grids)."""
    points: list[dict] = [{}]
    for item in items or []:
        name, _, raw = item.partition("=")
        try:
            values = [float(v) for v in raw.split(",")] if raw else []
        except ValueError:
            values = []
        if not name.strip() or not values or not all(math.isfinite(v) for v in values):
            raise InputError(f"--grid {item!r}: expected NAME=V1,V2,... (numbers)")
        points = [{**p, name.strip(): v} for p in points for v in values]
    return points


def cmd_sweep(args) -> int:
    """A card's simulation over --grid x --seeds; each finished (point, seed) appended to --out."""
    from gpu_validation._sweep import Store, unit_key, units
    from optverify import _runner
    card = get(args.id, extra=_extra_cards(args))
    if card.simulation is None:
        raise InputError(f"card {card.id} has no simulation to sweep")
    grid = {}
    for item in args.grid or []:
        name = item.partition("=")[0].strip()
        values = [p[name] for p in _grid_points([item])]
        if name in grid:
            raise InputError(f"--grid {name} given twice")
        grid[name] = values
    seeds = _seed_list(args.seeds)
    todo_all = units(grid, seeds)
    store = Store(Path(args.out), card.id, args.resume)
    todo = [(p, s) for p, s in todo_all if unit_key(p, s) not in store.done]
    workers = args.workers if args.workers is not None else (os.cpu_count() or 1)
    threads = _runner.threads_per_worker(workers, len(todo) or 1)
    calls = [(i, card.id, getattr(args, "cards", None), p, s, args.device, args.steps, threads)
             for i, (p, s) in enumerate(todo)]
    bar = _count_bar(args, len(todo))
    started = time.perf_counter()
    try:
        for _, record in _runner.map_unordered(_runner.sweep_one, calls, workers, args.executor, args.address):
            store.add(record)
            if bar is not None:
                bar.update(1)
            elif not args.json:
                _emit(f"{'agrees   ' if record['agrees'] else 'DISAGREES'} {record['point']} seed {record['seed']} "
                      f"({record['seconds']:.1f} s)")
    finally:
        if bar is not None:
            bar.close()
        store.close()
    records = [store.done[unit_key(p, s)] for p, s in todo_all]
    agree = sum(r["agrees"] for r in records)
    summary = {"id": card.id, "out": str(store.path), "units": len(todo_all), "ran": len(todo),
               "skipped": len(todo_all) - len(todo), "agree": agree, "seconds": round(time.perf_counter() - started, 3)}
    if args.json:
        _json(summary)
    else:
        _emit(f"{card.id}: {agree}/{len(todo_all)} (point, seed) units agree; ran {len(todo)}, skipped "
              f"{len(todo_all) - len(todo)} already in {store.path} ({summary['seconds']:.1f} s)")
    return EXIT_OK if agree == len(todo_all) else EXIT_FAIL


def _seed_list(text: str) -> list[int]:
    try:
        seeds = [int(t) for t in text.split(",")]
    except ValueError:
        raise InputError(f"--seeds {text!r}: expected integers such as 0,1,2") from None
    if not seeds or len(set(seeds)) != len(seeds) or any(s < 0 for s in seeds):
        raise InputError(f"--seeds {text!r}: distinct non-negative integers")
    return seeds


def cmd_report(args) -> int:
    """A static HTML site: index.html and one page per card, checks run unless --no-check."""
    from numerics._environment import environment
    from optverify import _runner
    from optverify.report import provenance, write_report
    cards = _chosen(catalogue(extra=_extra_cards(args)), args.ids)
    results: dict[str, dict] = {}
    if not args.no_check:
        workers = args.workers if args.workers is not None else (os.cpu_count() or 1)
        opts = _runner.Options(examples=args.examples, seed=args.seed, budget=args.budget, simulate=not args.no_simulate,
                               device=args.device, verbose=False, fresh=False, cards_dir=getattr(args, "cards", None),
                               threads=_runner.threads_per_worker(workers, len(cards)))
        bar = _count_bar(args, len(cards))
        stream = (_runner.run([c.id for c in cards], opts, workers) if len(cards) > 1 and workers > 1
                  else ((i, _runner.check_card(c, opts)) for i, c in enumerate(cards)))
        for _, r in stream:
            results[r["id"]] = r["json"] | {"status": r["status"]}
            if bar is not None:
                bar.update(1)
        if bar is not None:
            bar.close()
    folder = Path(args.html)
    figures = {}
    if args.figures:
        from gpu_validation import simulate
        from optverify.plots import plot_simulation
        for card in cards:
            sim = card.simulation
            if sim is None or sim.scenario or card.estimator is not None:
                continue
            name = card.id.replace(".", "_") + ".svg"
            folder.mkdir(parents=True, exist_ok=True)
            plot_simulation(simulate(card, device=args.device, seed=args.seed), folder / name)
            figures[card.id] = name
    device = None
    if not args.no_check and not args.no_simulate:
        from gpu_validation import pick_device
        device = str(pick_device(args.device))
    footer = provenance(environment(), None if args.no_check else args.seed, device)
    written = write_report(folder, cards, results, footer, figures)
    _emit(f"wrote {len(written)} pages to {folder} (open {folder / 'index.html'})")
    return EXIT_OK


def cmd_new(args) -> int:
    from optverify.templates import write_skeleton
    path = write_skeleton(args.id, Path(args.dir), force=args.force)
    _emit(f"wrote {path}; check it with: optverify check --cards {args.dir}")
    return EXIT_OK


# -- plumbing ---------------------------------------------------------------------------------

def _bar(args, what):
    if getattr(args, "json", False) or not sys.stderr.isatty():
        return None
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover
        return None
    return tqdm(total=args.steps or 0, desc=what, unit="step", leave=False) if args.steps else \
        tqdm(desc=what, unit="step", leave=False)


def _flow_order(text: str) -> int:
    if text not in ("1", "2", "3"):
        raise argparse.ArgumentTypeError(f"expected 1, 2 or 3, got {text!r}")
    return int(text)


def _positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise InputError(f"{text!r} is not an integer") from None
    if v < 1:
        raise InputError(f"{text!r} must be a positive integer")
    return v


def _factor_list(text: str) -> list[float]:
    try:
        values = [float(t) for t in text.split(",")]
    except ValueError:
        raise InputError(f"--factors {text!r}: expected comma-separated numbers") from None
    if not values or any(not (math.isfinite(v) and v > 0) for v in values):
        raise InputError(f"--factors {text!r}: factors must be positive numbers")
    return values


def _budget(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise InputError(f"--budget {text!r} is not a number of seconds") from None
    if not (math.isfinite(v) and 0 < v <= 86400):
        raise InputError(f"--budget {text!r}: give seconds between 0 and 86400")
    return v


def budget_option(s) -> None:
    s.add_argument("--budget", type=_budget, default=DEFAULT_SECONDS, metavar="SECONDS",
                   help=f"wall-clock limit of each symbolic and numeric stage (default {DEFAULT_SECONDS:g} s); past it "
                        "the verdict is GAVE UP, never a hang")


@contextmanager
def _stage_progress(args):
    """On a terminal, the stage a long derivation is in (stderr), after a few seconds."""
    from theory._budget import watch
    if getattr(args, "json", False) or not sys.stderr.isatty():
        yield
        return
    shown = {"line": ""}

    def report(stages, seconds):
        if seconds < 3:
            return
        line = f"\r\x1b[K{' > '.join(stages) or 'working'} ... {seconds:.0f} s"
        if line != shown["line"]:
            sys.stderr.write(line)
            sys.stderr.flush()
            shown["line"] = line
    with watch(report):
        try:
            yield
        finally:
            if shown["line"]:
                sys.stderr.write("\r\x1b[K")
                sys.stderr.flush()


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="optverify", description=__doc__.splitlines()[0])
    p.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def with_cards(sp_):
        sp_.add_argument("--cards", metavar="DIR", help="also load the card files in DIR")
        return sp_

    s = with_cards(sub.add_parser("list", help="every card: id, kind, status, source"))
    s.add_argument("--status", choices=("theorem", "conjecture"))
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_list)

    s = with_cards(sub.add_parser("show", help="symbols, assumptions, update map, derived vs claimed, LaTeX"))
    s.add_argument("id")
    budget_option(s)
    s.set_defaults(func=cmd_show)

    s = with_cards(sub.add_parser("eval", help="evaluate a card's claims at a point"))
    s.add_argument("id")
    s.add_argument("--at", action="append", metavar="NAME=VALUE", help="e.g. lambda=3.5 or spectrum=[4,1]")
    s.add_argument("--sweep", metavar="NAME=LO:HI:N", help="evaluate over a grid of one parameter")
    s.add_argument("--plot", metavar="FILE", help="with --sweep: plot the claims (and the counterpart card's)")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_eval)

    def check_options(s):
        budget_option(s)
        s.add_argument("--json", action="store_true")
        s.add_argument("--examples", type=_positive_int, default=200, help="hypothesis examples per property")
        s.add_argument("--seed", type=int, default=0)
        s.add_argument("--no-simulate", action="store_true", help="skip the torch simulation")
        s.add_argument("--device", default="auto", help="auto | cpu | cuda (for the simulation)")
        s.add_argument("-v", "--verbose", action="store_true", help="list every check, not only failures")

    s = with_cards(sub.add_parser("check", help="symbolic + numeric + simulation checks; exit 0 = verified"))
    s.add_argument("ids", nargs="*", metavar="ID")
    s.add_argument("--all", action="store_true")
    s.add_argument("--claim", metavar="'NAME=FORMULA'", help="check YOUR formula instead of the card's")
    s.add_argument("--at", action="append", metavar="NAME=VALUE", help="fix a parameter before deriving (e.g. when "
                   "the symbolic derivation gives up)")
    s.add_argument("--workers", type=_positive_int, metavar="N", help="cards checked concurrently (default: the cores)")
    s.add_argument("--executor", choices=("process", "ray"), default="process",
                   help="process pool (default) or Ray tasks (pip install 'optverify[ray]')")
    s.add_argument("--address", help="with --executor ray: the cluster to join (default: a local Ray)")
    s.add_argument("--fresh", action="store_true", help="ignore cached derivations (they are rewritten)")
    check_options(s)
    s.set_defaults(func=cmd_check)

    def typed_options(s):
        s.add_argument("--state", metavar="'x, x_prev'", help="the state variables, the iterate first")
        s.add_argument("--update", metavar="'EXPR; EXPR'", help="one expression per state variable, in order, "
                       "separated by ';'; grad(.) is the gradient oracle (also precond, norm, sign), lambda the "
                       "Hessian eigenvalue, any other name a real parameter")
        s.add_argument("--param", metavar="NAME", help="the parameter whose critical value is derived (e.g. eta)")
        s.add_argument("--assume", action="append", metavar="'beta < 1'", help="a relation between parameters "
                       "(repeatable; chains such as '-1 < gamma < 1' work)")
        s.add_argument("--at", action="append", metavar="NAME=VALUE", help="bind parameters and lambda")
        s.add_argument("--id", default="conjecture.typed_rule.threshold", help="the id reports use")

    s = with_cards(sub.add_parser("conjecture", help="check a formula against a card's update rule, or against a "
                                  "rule typed here (--state/--update/--param): symbolic, numeric, 50-digit root, "
                                  "simulation"))
    s.add_argument("words", nargs="+", metavar="ID 'NAME=FORMULA' | 'NAME=FORMULA'")
    typed_options(s)
    check_options(s)
    s.set_defaults(func=cmd_conjecture)

    s = sub.add_parser("derive", help="derive the critical value of a typed rule (SymPy, LaTeX, value at --at), "
                       "or its modified flow (--modified-flow ORDER, --param the step)")
    typed_options(s)
    budget_option(s)
    s.add_argument("--modified-flow", type=_flow_order, metavar="ORDER", help="backward error analysis to this order "
                   "(1-3) in the step --param: the modified field, gradient or not, the modified loss")
    s.add_argument("--small", metavar="NAME,NAME", help="with --modified-flow: parameters of the order of the step "
                   "(e.g. SAM's rho)")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_derive)

    s = with_cards(sub.add_parser("simulate", help="run the real algorithm around the predicted threshold"))
    s.add_argument("id")
    s.add_argument("--at", action="append", metavar="NAME=VALUE")
    s.add_argument("--device", default="auto", help="auto | cpu | cuda")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--steps", type=_positive_int)
    s.add_argument("--seeds", type=_positive_int)
    s.add_argument("--factors", type=_factor_list, help="comma-separated multiples of the prediction")
    s.add_argument("--json", action="store_true")
    s.add_argument("--trajectories", action="store_true", help="state norms per step: in --json, and as a second panel of --plot")
    s.add_argument("--noncommuting", action="store_true",
                   help="preconditioned ZO cards: a dense H that does not commute with P (outside the claim)")
    s.add_argument("--plot", metavar="FILE", help="write a PNG/PDF of state norm vs step")
    s.set_defaults(func=cmd_simulate)

    s = with_cards(sub.add_parser("table", help="formula table for a paper"))
    s.add_argument("ids", nargs="*", metavar="ID_OR_GLOB", help="cards to tabulate, e.g. gd.quadratic.critical_step "
                   "'heavy_ball.*' (default: all)")
    s.add_argument("--claims", metavar="NAME,NAME", help="only these claims")
    s.add_argument("--format", choices=("markdown", "latex", "csv", "json"), default="markdown")
    s.add_argument("--standalone", action="store_true", help="with --format latex: a compilable document "
                   "(bibliography included)")
    s.add_argument("--status", choices=("theorem", "conjecture"))
    s.add_argument("--check", action="store_true", help="run each card's checks and record every row's verdict and "
                   "verifying routes in the provenance footer")
    s.add_argument("--seed", type=int, default=0, help="with --check: the checks' seed")
    s.add_argument("--pairs", action="store_true", help="side by side with each card's counterpart (e.g. FO vs ZO)")
    s.add_argument("--values", nargs="*", metavar="ID", help="the computed quantities of cards with a numeric model "
                   "(ids or id prefixes, e.g. rlhf_dpo), side by side")
    s.add_argument("--at", action="append", help="with --values: NAME=VALUE bindings")
    s.add_argument("--grid", action="append", help="with --values: NAME=V1,V2,... (one row per value)")
    s.set_defaults(func=cmd_table)

    s = with_cards(sub.add_parser("sweep", help="a card's simulation over a grid x seeds, each finished point "
                                  "appended to --out (JSON lines or SQLite); --resume skips finished points"))
    s.add_argument("id")
    s.add_argument("--grid", action="append", metavar="NAME=V1,V2,...", help="repeatable: the product is swept")
    s.add_argument("--seeds", default="0", metavar="0,1,2")
    s.add_argument("--out", required=True, metavar="PATH", help="a directory, a .jsonl file or a .sqlite file")
    s.add_argument("--resume", action="store_true", help="continue a sweep: skip the (point, seed) units in --out")
    s.add_argument("--workers", type=_positive_int, metavar="N", help="units run concurrently (default: the cores)")
    s.add_argument("--executor", choices=("process", "ray"), default="process")
    s.add_argument("--address", help="with --executor ray: the cluster to join")
    s.add_argument("--device", default="auto", help="auto | cpu | cuda")
    s.add_argument("--steps", type=_positive_int, help="override the card's simulation steps")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_sweep)

    s = with_cards(sub.add_parser("report", help="a browsable static HTML report: index.html and one page per card"))
    s.add_argument("ids", nargs="*", metavar="ID_OR_GLOB")
    s.add_argument("--html", required=True, metavar="DIR")
    s.add_argument("--no-check", action="store_true", help="statements and derivations only (no verdicts)")
    s.add_argument("--no-simulate", action="store_true")
    s.add_argument("--figures", action="store_true", help="add the threshold figure to each quadratic card's page")
    s.add_argument("--workers", type=_positive_int, metavar="N")
    s.add_argument("--examples", type=_positive_int, default=200)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--device", default="auto")
    budget_option(s)
    s.set_defaults(func=cmd_report)

    s = with_cards(sub.add_parser("cite", help="BibTeX for the sources of the chosen cards (keys = the tables' \\cite)"))
    s.add_argument("ids", nargs="*", metavar="ID_OR_GLOB")
    s.set_defaults(func=cmd_cite)

    s = sub.add_parser("new", help="write a card skeleton to fill in")
    s.add_argument("id")
    s.add_argument("--dir", default=".", help="folder for the card file")
    s.add_argument("--force", action="store_true", help="overwrite an existing file")
    s.set_defaults(func=cmd_new)
    return p


def _one_line(text: str) -> str:
    return " ".join(text.split())[:2000]


def main(argv: list[str] | None = None) -> int:
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        args = build_parser().parse_args(argv)
        return args.func(args)
    except SuiteError as exc:
        sys.stderr.write(f"optverify: error: {_one_line(str(exc))}\n")
        return EXIT_USAGE
    except GaveUp as g:
        sys.stdout.write(f"GAVE UP  after {g.seconds:g} s in {g.stage}: raise --budget or fix a parameter (--at)\n")
        return EXIT_FAIL
    except BrokenPipeError:  # pragma: no cover - e.g. `optverify list | head`
        return EXIT_OK
    except Exception as exc:  # an internal failure: one line unless --debug
        if debug:
            raise
        sys.stderr.write(f"optverify: internal error: {type(exc).__name__}: {exc} (rerun with --debug)\n")
        return 3


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
