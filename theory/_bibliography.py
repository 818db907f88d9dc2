"""BibTeX for the cards' sources: keys shared with the tables' \\cite{}, titles where recorded."""
from __future__ import annotations

from theory._card import Source, _is_arxiv

# Paper titles by arXiv id, for the sources the catalogue cites (an id missing here is cited without
# a title: add it rather than guess).
TITLES = {
    "2103.00065": "Gradient Descent on Neural Networks Typically Occurs at the Edge of Stability",
    "2207.14484": "Adaptive Gradient Methods at the Edge of Stability",
    "2212.07469": "Learning threshold neurons via the ``edge of stability''",
    "2305.15287": "The Crucial Role of Normalization in Sharpness-Aware Minimization",
    "2307.04204": "Trajectory Alignment: Understanding the Edge of Stability Phenomenon via Bifurcation Theory",
    "2402.01567": "Understanding Adam Optimizer via Online Learning of Updates: Adam is FTRL in Disguise",
    "2405.15682": "The Road Less Scheduled",
    "2405.16002": "Does SGD really happen in tiny subspaces?",
    "2406.10650": "The Implicit Bias of Adam on Separable Data",
    "2506.06940": "Understanding Sharpness Dynamics in NN Training with a Minimalist Example: The Effects of "
                  "Dataset Difficulty, Depth, Stochasticity, and More",
    "2507.09846": "Through the River: Understanding the Benefit of Schedule-Free Methods for Language Model Training",
    "2604.14669": "Zeroth-Order Optimization at the Edge of Stability",
}


def _authors(text: str) -> str:
    """'Dai, Ahn, Sra 2023' -> 'Dai and Ahn and Sra'; 'Cohen et al. 2021' -> 'Cohen and others'."""
    words = text.rsplit(" ", 1)
    names = words[0] if len(words) == 2 and words[1].isdigit() else text
    if names.endswith(" et al."):
        return names[: -len(" et al.")] + " and others"
    return " and ".join(n.strip() for n in names.split(",") if n.strip())


def bibtex(source: Source) -> str:
    fields = []
    if source.authors:
        fields.append(("author", _authors(source.authors)))
    title = TITLES.get(source.reference.split("v")[0], source.title)
    if title:
        fields.append(("title", "{" + title + "}"))
    if source.year:
        fields.append(("year", source.year))
    if _is_arxiv(source.reference):
        fields += [("eprint", source.reference), ("archivePrefix", "arXiv")]
    else:
        fields.append(("note", source.reference))
    body = ",\n".join(f"  {k} = {{{v}}}" for k, v in fields)
    return f"@misc{{{source.key},\n{body}\n}}"
