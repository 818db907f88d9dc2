"""The card skeleton written by ``optverify new``."""
from __future__ import annotations

from pathlib import Path

from theory import CardError
from theory._card import ID_PATTERN

SKELETON = '''"""{title}

Setting:   TODO: the model and the update rule, in words.
Claim:     TODO: the closed form and when it holds.
Reference: TODO: authors, arXiv id, theorem number.
"""
import sympy as sp

from theory import Card, Simulation, Source, Threshold, grad  # grad(v): the gradient oracle

eta, lam = sp.symbols("eta lambda", positive=True)   # step size; one Hessian eigenvalue
beta = sp.Symbol("beta", nonnegative=True)           # add / remove parameters as needed
x, x_prev = sp.symbols("x x_prev", real=True)        # the state of the iteration (x first: the iterate)

CARD = Card(
    id="{id}",
    title="{title}",
    symbols=(eta, beta, lam),
    assumptions=(beta < 1,),
    state=(x, x_prev),
    # TODO: your method's update rule, one expression per state variable (here: heavy ball).
    # Written once against grad(.) (and precond(.), norm(.), sign(.)): the engine analyses it per
    # eigen-mode (grad(v) -> lambda*v); the simulation compiles this same rule to torch.
    update=(x - eta * grad(x) + beta * (x - x_prev), x),
    eigenvalue=lam,
    # TODO: your claimed closed form; the engine derives the true threshold from `update`
    claims=(Threshold("eta_crit", param=eta, value=2 * (1 + beta) / lam),),
    source=Source("0000.00000", "Thm. ?", "TODO"),
    simulation=Simulation(at={{beta: 0.5}}, spectrum=(4.0, 1.0)),   # runs the rule above
    status="conjecture",
)
'''


def write_skeleton(card_id: str, folder: Path, *, force: bool = False) -> Path:
    if not ID_PATTERN.match(card_id):
        raise CardError(f"card id {card_id!r} is not of the form method.setting.quantity")
    if folder.exists() and not folder.is_dir():
        raise CardError(f"--dir {folder} is a file, not a folder (the card is written as {card_id.replace('.', '_')}.py "
                        "inside the folder)")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CardError(f"cannot create the folder {folder}: {exc.strerror or exc}") from None
    path = folder / (card_id.replace(".", "_") + ".py")
    if path.exists() and not force:
        raise CardError(f"{path} exists (use --force to overwrite)")
    title = card_id.split(".")[0].replace("_", " ") + ": " + card_id.split(".", 1)[1].replace("_", " ").replace(".", ", ")
    path.write_text(SKELETON.format(id=card_id, title=title))
    return path
