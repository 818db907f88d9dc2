"""Figures (matplotlib, headless)."""
from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np


def _save(fig, path, plt) -> Path:
    path = Path(path)
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return path


def plot_simulation(result, path: str | Path) -> Path:
    """State norm vs step for every grid point (mean over seeds of log-norms), log scale."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if hasattr(result, "panels"):
        return plot_panels(result, path)
    fig, ax = plt.subplots(figsize=(6.4, 4.2), constrained_layout=True)
    cmap = plt.get_cmap("coolwarm")
    if result.points and hasattr(result.points[0], "exact"):
        return _plot_mean_square(result, path, fig, ax, cmap, plt)
    if result.points and hasattr(result.points[0], "sharpness"):
        return _plot_network(result, path, fig, ax, plt)
    factors = [p.factor for p in result.points]
    lo, hi = min(factors), max(factors)
    with np.errstate(divide="ignore", invalid="ignore"):
        for i, p in enumerate(result.points):
            norms = result.norms[:, i, :]
            ok = np.isfinite(norms) & (norms > 0)
            logs = np.where(ok, np.log10(np.where(ok, norms, 1.0)), 0.0)
            count = ok.sum(axis=1)
            # geometric mean over the seeds still running; a step where every seed has diverged is not drawn
            curve = np.where(count > 0, 10 ** (logs.sum(axis=1) / np.maximum(count, 1)), np.nan)
            shade = 0.5 if hi == lo else (p.factor - lo) / (hi - lo)
            ax.plot(np.arange(len(curve)), curve, color=cmap(shade), lw=1.4,
                    label=f"{p.factor:g}x ({result.param}={p.value:.3g}): {p.outcome}")
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("state norm (geometric mean over seeds)")
    ax.set_title(f"{result.id}\npredicted {result.param}* = {result.predicted:.6g} ({result.device})", fontsize=9)
    ax.legend(fontsize=7, loc="best")
    return _save(fig, path, plt)


def _plot_mean_square(result, path, fig, ax, cmap, plt) -> Path:
    """Monte Carlo mean of ||x_t||^2 (solid, +- 2 SE band) vs the exact recursion (dashed)."""
    factors = [p.factor for p in result.points]
    lo, hi = min(factors), max(factors)
    for p in result.points:
        shade = 0.5 if hi == lo else (p.factor - lo) / (hi - lo)
        t = np.arange(len(p.mc_mean))
        mc, se = np.asarray(p.mc_mean), np.asarray(p.mc_se)
        ax.plot(t, mc, color=cmap(shade), lw=1.5, label=f"{p.factor:g}x: Monte Carlo mean ({result.seeds} runs)")
        lower = mc - 2 * se
        ok = lower > 0  # heavy tails: where the band reaches 0 on a log axis it is not drawn
        ax.fill_between(t, np.where(ok, lower, np.nan), np.where(ok, mc + 2 * se, np.nan), color=cmap(shade),
                        alpha=0.2, lw=0)
        ax.plot(t, p.exact, color=cmap(shade), lw=1.2, ls="--", label=f"{p.factor:g}x: exact E||x_t||^2")
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("E ||x_t||^2 (band: +- 2 standard errors)")
    ax.set_title(f"{result.id}\npredicted {result.param}* = {result.predicted:.6g} ({result.device})", fontsize=9)
    ax.legend(fontsize=7)
    return _save(fig, path, plt)


def _plot_network(result, path, fig, ax, plt) -> Path:
    """Sharpness (or preconditioned sharpness) vs step, with the predicted level dashed (Cohen et al. style)."""
    colors = plt.get_cmap("tab10")
    for i, p in enumerate(result.points):
        ax.plot(p.steps, p.sharpness, color=colors(i), lw=1.6, label=f"{p.param} = {p.value:g} ({p.outcome})")
        ax.axhline(p.predicted, color=colors(i), ls="--", lw=1.0)
    ax.set_xlabel("step")
    ax.set_ylabel("top eigenvalue" + (" of P^-1 H" if "adam" in result.algorithm else " of the Hessian"))
    ax.set_title(f"{result.id}\ndashed: predicted level ({result.device})", fontsize=9)
    ax.legend(fontsize=8)
    return _save(fig, path, plt)


def plot_sweep(series: dict, path: str | Path) -> Path:
    """Claims vs one parameter (log y), with the counterpart card's claims dashed."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.0, 4.0), constrained_layout=True)
    grid = series["grid"]
    for name, values in series["values"].items():
        if all(v is not None for v in values):
            ax.plot(grid, values, lw=1.8, label=f"{series['id'].split('.')[0]}: {name}")
    for name, values in series.get("compare", {}).get("values", {}).items():
        ax.plot(grid, values, lw=1.8, ls="--", label=f"{series['compare']['id'].split('.')[0]}: {name}")
    ax.set_yscale("log")
    ax.set_xlabel(series["sweep"])
    ax.set_ylabel("critical step size")
    at = ", ".join(f"{k}={v if not isinstance(v, list) else f'[{len(v)} values]'}" for k, v in series["at"].items())
    ax.set_title(f"{series['id']}\n{at}", fontsize=8)
    ax.legend(fontsize=8)
    return _save(fig, path, plt)


MARKERS = ("o", "v", "^", "s", "x", "+", "d")  # a Curve with one of these styles is drawn as markers only


def plot_panels(result, path: str | Path) -> Path:
    """A scenario's panels side by side: curves, predicted levels dashed, its verdicts in the title."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = result.panels
    if not panels:
        raise ValueError(f"scenario {result.algorithm} draws no figure")
    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 4.2), constrained_layout=True, squeeze=False)
    for ax, panel in zip(axes[0], panels):
        colors = plt.get_cmap("tab10")
        for i, c in enumerate(panel.curves):
            style = c.style
            kwargs = {"ls": "none", "marker": style, "ms": 4} if style in MARKERS else \
                {"ls": "-", "marker": "o", "ms": 3} if style == "o-" else {"ls": style}
            ax.plot(c.x, c.y, color=colors(i % 10), lw=1.3, label=c.label, **kwargs)
        # reference levels: distinguishable by colour and dash, drawn under the measurements
        styles = [("k", "--"), ("tab:red", ":"), ("tab:purple", "-."), ("0.45", (0, (5, 2, 1, 2)))]
        for j, (label, y) in enumerate(panel.hlines):
            color, ls = styles[j % len(styles)]
            ax.axhline(y, color=color, ls=ls, lw=1.1, label=label, zorder=1)
        for label, x in panel.vlines:
            ax.axvline(x, color="0.4", ls=":", lw=1, label=label, zorder=1)
        if panel.logx:
            ax.set_xscale("log")
        if panel.logy:
            ax.set_yscale("log")
        ax.set_xlabel(panel.xlabel)
        ax.set_ylabel(panel.ylabel)
        ax.set_title("\n".join(textwrap.wrap(panel.title, 60)), fontsize=9)
        ax.legend(fontsize=7, loc="best")
    verdict = "agrees" if result.agrees else "DISAGREES"
    fig.suptitle(f"{result.id} ({result.device}): {verdict}", fontsize=10)
    return _save(fig, path, plt)
