"""Figures (matplotlib, headless)."""
from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np


FOOTER_PT = 4.5  # the provenance footer's font size (points)


GREEK = {"alpha", "beta", "gamma", "delta", "epsilon", "eta", "theta", "lambda", "mu", "nu", "rho", "sigma", "tau"}


def _math(name: str) -> str:
    """A parameter name as matplotlib mathtext (eta -> $\\eta$, beta1 -> $\\beta_1$)."""
    head = name.rstrip("0123456789")
    if head not in GREEK:
        return name
    tail = name[len(head):]
    return f"$\\{head}" + (f"_{{{tail}}}" if tail else "") + "$"


def footer_text(result=None) -> str:
    """The provenance line of a figure: version, git commit, date, seed, device, package versions."""
    from numerics._environment import environment
    from optverify._provenance import provenance
    env = dict(getattr(result, "versions", None) or environment())
    return provenance(env, getattr(result, "seed", None), getattr(result, "device", None), blas=False)


def _save(fig, path, plt, result=None) -> Path:
    """Write the figure with its provenance footer (visible, in small grey type under the axes, and
    in the file's metadata)."""
    path = Path(path)
    text = footer_text(result)
    width_pt = fig.get_figwidth() * 72
    lines = textwrap.wrap(text, max(40, int(width_pt / (0.52 * FOOTER_PT))))
    height = (len(lines) * 1.25 + 0.6) * FOOTER_PT / (fig.get_figheight() * 72)
    engine = fig.get_layout_engine()
    if engine is not None and hasattr(engine, "set"):
        engine.set(rect=(0, height, 1, 1 - height))
    fig.text(0.005, 0.004, "\n".join(lines), fontsize=FOOTER_PT, color="0.45", ha="left", va="bottom")
    key = {".pdf": "Subject", ".svg": "Description", ".png": "Description"}.get(path.suffix.lower())
    fig.savefig(path, dpi=130, metadata={key: text} if key else None)
    plt.close(fig)
    return path


CLIP = 1e12  # final/initial state norms are drawn within [1/CLIP, CLIP]; a diverged run sits on the top edge


def plot_simulation(result, path: str | Path, trajectories: bool = False) -> Path:
    """A threshold simulation as papers draw it: final state norm (relative to the start) against
    eta/eta*, one light point per seed (converged o, diverged ^ on the clipped top edge), the median
    per grid point, and eta* as a vertical line; ``trajectories`` adds state norm vs step."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if hasattr(result, "panels"):
        return plot_panels(result, path)
    cmap = plt.get_cmap("coolwarm")
    if result.points and hasattr(result.points[0], "exact"):
        fig, ax = plt.subplots(figsize=(6.4, 4.2), constrained_layout=True)
        return _plot_mean_square(result, path, fig, ax, cmap, plt)
    if result.points and hasattr(result.points[0], "sharpness"):
        with plt.rc_context({"font.size": 8, "axes.titlesize": 8, "legend.fontsize": 7}):
            fig, (ax, ax_loss) = plt.subplots(1, 2, figsize=(6.8, 2.6), constrained_layout=True)
            return _plot_network(result, path, fig, ax, plt, ax_loss)
    with plt.rc_context({"font.size": 8, "axes.titlesize": 8, "legend.fontsize": 7}):
        if trajectories:
            fig, (ax, ax2) = plt.subplots(1, 2, figsize=(6.8, 2.6), constrained_layout=True)
        else:
            fig, ax = plt.subplots(figsize=(3.4, 2.6), constrained_layout=True)
        _plot_threshold_sweep(result, ax)
        if trajectories:
            _plot_trajectories(result, ax2, cmap)
        return _save(fig, path, plt, result)


def _plot_threshold_sweep(result, ax) -> None:
    start = result.norms[0]  # (points, seeds)
    marks = {"converged": ("o", "tab:blue"), "diverged": ("^", "tab:red"), "inconclusive": ("s", "0.5")}
    seen = set()
    medians = []
    with np.errstate(divide="ignore", invalid="ignore"):
        for i, p in enumerate(result.points):
            rel = np.asarray(p.final_norms) / np.maximum(start[i], 1e-300)
            rel = np.where(np.isfinite(rel), rel, CLIP)
            rel = np.clip(rel, 1 / CLIP, CLIP)
            rel = np.where(np.asarray(p.outcomes) == "diverged", CLIP, rel)
            medians.append(float(np.median(rel)))
            jitter = p.factor * (1 + 0.012 * (np.arange(len(rel)) - (len(rel) - 1) / 2) / max(len(rel), 1))
            for outcome in set(p.outcomes):
                sel = np.asarray(p.outcomes) == outcome
                m, c = marks[outcome]
                ax.scatter(jitter[sel], rel[sel], marker=m, s=14, color=c, alpha=0.55, lw=0,
                           label=outcome if outcome not in seen else None)
                seen.add(outcome)
    ax.plot([p.factor for p in result.points], medians, color="0.25", lw=0.8, zorder=0)
    ax.axvline(1.0, color="k", ls="--", lw=0.8, label=rf"$\{result.param}^\ast$ = {result.predicted:.4g}"
               if result.param in ("eta", "gamma", "alpha", "rho") else f"{result.param}* = {result.predicted:.4g}")
    ax.set_yscale("log")
    ax.set_ylim(1 / CLIP / 3, CLIP * 3)
    ax.set_xlabel(f"{result.param} / {result.param}*")
    ax.set_ylabel("final / initial state norm")
    ax.set_title("\n".join(textwrap.wrap(f"{result.id} ({result.steps} steps, {result.seeds} seeds, {result.device})",
                                         44)))
    ax.legend(loc="upper left", frameon=False)


def _plot_trajectories(result, ax, cmap) -> None:
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
            curve = np.clip(curve, 1 / CLIP, CLIP)
            ax.plot(np.arange(len(curve)), curve, color=cmap(shade), lw=1.2,
                    label=f"{p.factor:g}x: {p.outcome}")
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("state norm (geometric mean)")
    ax.legend(fontsize=6, loc="best", frameon=False)


def _plot_mean_square(result, path, fig, ax, cmap, plt) -> Path:
    """Monte Carlo mean of ||x_t||^2 (solid, +- 2 SE band) vs the exact recursion (dashed)."""
    factors = [p.factor for p in result.points]
    lo, hi = min(factors), max(factors)
    for p in result.points:
        shade = 0.5 if hi == lo else (p.factor - lo) / (hi - lo)
        t = np.arange(len(p.mc_mean))
        mc, se = np.asarray(p.mc_mean), np.asarray(p.mc_se)
        ax.plot(t, mc, color=cmap(shade), lw=1.5, label=f"{p.factor:g}x: Monte Carlo mean ({result.seeds} runs)")
        # +-2 standard errors of the mean, as a band in log space (mean x exp(+-2 se/mean), the delta
        # method): always positive, so it survives the log axis where mean - 2 se would cross 0
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            spread = np.exp(np.clip(2 * se / mc, 0, 50))
        ok = np.isfinite(spread) & (mc > 0)
        ax.fill_between(t, np.where(ok, mc / spread, np.nan), np.where(ok, mc * spread, np.nan), color=cmap(shade),
                        alpha=0.2, lw=0)
        ax.plot(t, p.exact, color=cmap(shade), lw=1.2, ls="--", label=f"{p.factor:g}x: exact E||x_t||^2")
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("E ||x_t||^2 (band: +- 2 s.e., log scale)")
    ax.set_title(f"{result.id}\npredicted {result.param}* = {result.predicted:.6g} ({result.device})", fontsize=9)
    ax.legend(fontsize=7)
    return _save(fig, path, plt, result)


def _plot_network(result, path, fig, ax, plt, ax_loss=None) -> Path:
    """Sharpness (or preconditioned sharpness) vs step with the predicted level dashed, and the
    training loss on a second panel (Cohen et al. 2021, Fig. 1)."""
    colors = plt.get_cmap("tab10")
    for i, p in enumerate(result.points):
        ax.plot(p.steps, p.sharpness, color=colors(i), lw=1.2, label=f"{_math(p.param)} = {p.value:g} ({p.outcome})")
        ax.axhline(p.predicted, color=colors(i), ls="--", lw=0.8)
        if ax_loss is not None:
            loss = np.asarray(p.loss, dtype=float)
            ax_loss.plot(p.steps, np.where(np.isfinite(loss) & (loss > 0), loss, np.nan), color=colors(i), lw=1.2,
                         label=f"{_math(p.param)} = {p.value:g}")
    ax.set_xlabel("step")
    ax.set_ylabel("top eigenvalue" + (" of P^-1 H" if "adam" in result.algorithm else " of the Hessian"))
    ax.set_title("\n".join(textwrap.wrap(f"{result.id}: sharpness; dashed: predicted level ({result.device})", 48)))
    ax.legend(frameon=False)
    if ax_loss is not None:
        ax_loss.set_yscale("log")
        ax_loss.set_xlabel("step")
        ax_loss.set_ylabel("training loss")
        ax_loss.set_title("training loss")
        ax_loss.legend(frameon=False)
    return _save(fig, path, plt, result)


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
    return _save(fig, path, plt, result)
