"""A browsable static report: an index of cards and one page per card (strings and files; no server).

Math is SymPy's presentation MathML, which browsers render natively: no JavaScript, no CDN.
Each card page holds the statement, the derivation steps ``show`` prints, every claim typeset,
the checks with their verdicts (when the report ran them), the threshold figure when asked, and
the provenance footer (versions, BLAS, seed, device, date, git commit when available).
"""
from __future__ import annotations

import html
from pathlib import Path

import sympy as sp
from sympy.printing.mathml import MathMLPresentationPrinter

from optverify._provenance import provenance  # noqa: F401  (re-exported for the CLI)
from optverify.render import claim_statement, latex_name, show
from theory import Card, MeanSquareThreshold, Observed, Relation, Threshold

CSS = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
table { border-collapse: collapse; width: 100%; font-size: 0.9rem; }
th, td { border-bottom: 1px solid #ddd; padding: 0.35rem 0.5rem; text-align: left; vertical-align: top; }
th { border-bottom: 2px solid #444; }
.ok { color: #176f2c; font-weight: 600; } .fail { color: #b00020; font-weight: 600; } .na { color: #777; }
pre { background: #f6f6f6; padding: 0.75rem; overflow-x: auto; font-size: 0.8rem; }
math { font-size: 1.15rem; } .claim { margin: 0.6rem 0 1rem 0; }
footer { margin-top: 2rem; font-size: 0.75rem; color: #666; border-top: 1px solid #ddd; padding-top: 0.5rem; }
"""


class _Printer(MathMLPresentationPrinter):
    """SymPy's presentation MathML with the names of ``render.latex_name`` (lambda_max, upright words)."""

    def _print_Symbol(self, sym, style="plain"):
        if latex_name(sym) is None:  # SymPy's own rendering is right for this name
            return super()._print_Symbol(sym, style)
        head, _, sub = sym.name.partition("_")
        x = self.dom.createElement("mi")
        x.appendChild(self.dom.createTextNode(_greek(head)))
        if len(head) > 1 and _greek(head) == head:
            x.setAttribute("mathvariant", "normal")
        if not sub:
            return x
        msub = self.dom.createElement("msub")
        s = self.dom.createElement("mi")
        s.appendChild(self.dom.createTextNode(_greek(sub)))
        if len(sub) > 1:
            s.setAttribute("mathvariant", "normal")
        msub.appendChild(x)
        msub.appendChild(s)
        return msub


_GREEK_UNICODE = {"alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "eta": "η", "theta": "θ",
                  "kappa": "κ", "lambda": "λ", "mu": "μ", "nu": "ν", "xi": "ξ", "pi": "π", "rho": "ρ", "sigma": "σ",
                  "tau": "τ", "phi": "φ", "chi": "χ", "psi": "ψ", "omega": "ω", "Delta": "Δ"}


def _greek(text: str) -> str:
    head = text.rstrip("0123456789")
    return _GREEK_UNICODE.get(head, head) + text[len(head):] if head else text


def mathml(expr) -> str:
    """Presentation MathML of ``expr`` in a display ``<math>`` element."""
    inner = _Printer({"mat_symbol_style": "plain"}).doprint(sp.S(expr))
    return f'<math xmlns="http://www.w3.org/1998/Math/MathML" display="block">{inner}</math>'


def _claim_math(card: Card, claim) -> str:
    if isinstance(claim, Threshold):
        return mathml(sp.Eq(sp.Symbol(claim.param.name + "_crit"), claim.value, evaluate=False))
    if isinstance(claim, MeanSquareThreshold):
        return (mathml(sp.Eq(sp.Function("G")(card.eigenvalue), claim.gain, evaluate=False))
                + mathml(sp.Lt(claim.param, claim.mode_limit, evaluate=False)))
    if isinstance(claim, Relation):
        return mathml(sp.Eq(claim.lhs, claim.rhs, evaluate=False) if claim.relation == "==" else
                      {"<=": sp.Le, ">=": sp.Ge, "<": sp.Lt, ">": sp.Gt}[claim.relation](claim.lhs, claim.rhs,
                                                                                       evaluate=False))
    if isinstance(claim, Observed) and claim.value is None:
        return f"<p>{html.escape(claim.statement)}</p>"
    if claim.kind == "modified_flow":  # the modified loss or field, as claimed (oracle names spelled out)
        lhs = sp.Symbol("Ltilde") if claim.loss is not None else sp.Symbol("xdot")
        return mathml(sp.Eq(lhs, claim.claimed, evaluate=False))
    value = getattr(claim, "value", None)
    return mathml(sp.Eq(sp.Symbol(claim.name), value, evaluate=False)) if value is not None else ""


def _verdict(result: dict | None) -> tuple[str, str]:
    if result is None:
        return "not checked", "na"
    if result["passed"]:
        return "VERIFIED", "ok"
    return ("UNCONFIRMED (conjecture)" if result["status"] == "conjecture" else "REFUTED / FAILED"), "fail"


def _page(title: str, body: str, footer: str) -> str:
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
            f"<style>{CSS}</style></head><body>{body}<footer>{html.escape(footer)}</footer></body></html>\n")


def card_page(card: Card, result: dict | None, footer: str, figure: str | None = None) -> str:
    verdict, cls = _verdict(result)
    parts = [f"<p><a href=\"index.html\">&larr; all cards</a></p>", f"<h1>{html.escape(card.title)}</h1>",
             f"<p><code>{html.escape(card.id)}</code> &middot; {card.status} &middot; "
             f"<span class=\"{cls}\">{verdict}</span></p>", f"<p>Source: {html.escape(str(card.source))}</p>"]
    for claim in card.claims:
        parts.append(f"<h2>Claim <code>{html.escape(claim.name)}</code> ({claim.kind})</h2>")
        parts.append(f"<div class=\"claim\">{_claim_math(card, claim)}</div>")
        parts.append(f"<p><small>{html.escape(claim_statement(card, claim))}</small></p>")
    if result is not None:
        rows = "".join(f"<tr><td>{html.escape(c['name'])}</td><td>{html.escape(str(c.get('route') or ''))}</td>"
                       f"<td>{'' if c.get('examples') is None else c['examples']}</td><td class=\""
                       f"{'ok' if c['passed'] else 'na' if c['passed'] is None else 'fail'}\">"
                       f"{'ok' if c['passed'] else '--' if c['passed'] is None else 'inconclusive' if c.get('inconclusive') else 'FAIL'}"
                       f"</td><td>{html.escape(c['detail'])}</td></tr>" for c in result["checks"])
        parts.append("<h2>Checks</h2><table><tr><th>check</th><th>route</th><th>examples</th><th>verdict</th>"
                     f"<th>detail</th></tr>{rows}</table>")
    if figure:
        parts.append(f"<h2>Simulation</h2><img src=\"{html.escape(figure)}\" alt=\"simulation of {html.escape(card.id)}\" "
                     "style=\"max-width:100%\">")
    parts.append(f"<h2>Derivation</h2><pre>{html.escape(show(card))}</pre>")
    return _page(card.id, "\n".join(parts), footer)


def page_name(card: Card) -> str:
    return card.id.replace(".", "_") + ".html"


def index_page(cards, results: dict[str, dict], footer: str) -> str:
    rows = []
    for card in cards:
        verdict, cls = _verdict(results.get(card.id))
        rows.append(f"<tr><td><a href=\"{page_name(card)}\"><code>{html.escape(card.id)}</code></a></td>"
                    f"<td>{html.escape(card.title)}</td><td>{card.status}</td><td class=\"{cls}\">{verdict}</td>"
                    f"<td>{html.escape(str(card.source))}</td></tr>")
    body = (f"<h1>optverify report</h1><p>{len(cards)} cards.</p><table><tr><th>card</th><th>result</th>"
            f"<th>status</th><th>verdict</th><th>source</th></tr>{''.join(rows)}</table>")
    return _page("optverify report", body, footer)


def write_report(folder: Path, cards, results: dict[str, dict], footer: str, figures: dict[str, str] | None = None
                 ) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = [folder / "index.html"]
    written[0].write_text(index_page(cards, results, footer), encoding="utf-8")
    for card in cards:
        path = folder / page_name(card)
        path.write_text(card_page(card, results.get(card.id), footer, (figures or {}).get(card.id)), encoding="utf-8")
        written.append(path)
    return written
