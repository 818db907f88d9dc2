"""Tables come from the catalogue; golden copies keep paper tables from drifting silently.
Regenerate after an intended change with: UPDATE_GOLDEN=1 python -m pytest tests/test_tables.py"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from optverify.render import table_latex, table_markdown
from theory import catalogue

GOLDEN = Path(__file__).parent / "golden"


@pytest.mark.parametrize(("render", "name"), [(table_markdown, "table.md"), (table_latex, "table.tex")])
def test_table_matches_golden(render, name):
    text = render(catalogue())
    if os.environ.get("UPDATE_GOLDEN") == "1":
        (GOLDEN / name).write_text(text)
    assert text == (GOLDEN / name).read_text()


def test_every_card_has_a_row():
    md = table_markdown(catalogue())
    for card in catalogue():
        assert f"`{card.id}`" in md


def test_markdown_rows_are_well_formed():
    lines = table_markdown(catalogue()).strip().splitlines()
    assert all(line.startswith("|") and line.endswith("|") for line in lines)
    # a literal | inside a cell is escaped as \| (GitHub Markdown); the unescaped pipes delimit 7 columns
    assert {len(re.findall(r"(?<!\\)\|", line)) for line in lines} == {7}


def test_latex_table_compiles(tmp_path):
    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex not installed")
    doc = ("\\documentclass{article}\n\\usepackage{booktabs}\n\\usepackage{amsmath}\n"
           "\\usepackage[landscape,margin=1cm]{geometry}\n\\begin{document}\n\\tiny\n"
           + table_latex(catalogue()) + "\\end{document}\n")
    (tmp_path / "t.tex").write_text(doc)
    proc = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "t.tex"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert (tmp_path / "t.pdf").stat().st_size > 1000
