"""Matplotlib figures drawn from a report's JSON (its ``details`` aggregates and scores).

Figures are built with ``matplotlib.figure.Figure`` directly, never pyplot, so
no global backend state is touched (safe in web and worker processes).
"""

from __future__ import annotations

import io
import math

import matplotlib
import numpy as np
from matplotlib.figure import Figure

REAL, SYNTHETIC, HOLDOUT = "#4c72b0", "#dd8452", "#55a868"


def utility_bars(report: dict) -> Figure | None:
    utility = report["utility"]
    if not utility.get("tstr"):
        return None
    models = list(utility["tstr"]["by_model"])
    x = np.arange(len(models))
    fig = Figure(figsize=(6, 3.2))
    ax = fig.subplots()
    for offset, side, color in ((-0.2, "trtr", REAL), (0.2, "tstr", SYNTHETIC)):
        stats = [utility[side]["by_model"][m] for m in models]
        ax.bar(x + offset, [s["mean"] for s in stats], 0.4, yerr=[s["std"] for s in stats],
               color=color, label=side.upper(), capsize=3)
    ax.set_xticks(x, models)
    ax.set_ylabel(utility["metric"])
    ax.set_title("TSTR (synthetic) vs TRTR (real), tested on real holdout")
    ax.legend()
    fig.tight_layout()
    return fig


def column_distributions(report: dict, max_columns: int = 24) -> Figure | None:
    columns = list(report["details"]["columns"].items())[:max_columns]
    if not columns:
        return None
    ncols = min(4, len(columns))
    nrows = math.ceil(len(columns) / ncols)
    fig = Figure(figsize=(3.2 * ncols, 2.4 * nrows))
    axes = np.atleast_1d(fig.subplots(nrows, ncols)).ravel()
    for ax, (name, plot) in zip(axes, columns, strict=False):
        if plot["type"] == "hist" and plot["edges"]:
            edges = np.array(plot["edges"])
            ax.stairs(plot["real"], edges, color=REAL, label="real", linewidth=1.5)
            ax.stairs(plot["synthetic"], edges, color=SYNTHETIC, label="synthetic", linewidth=1.5)
        elif plot["type"] == "bars":
            x = np.arange(len(plot["labels"]))
            ax.bar(x - 0.2, plot["real"], 0.4, color=REAL, label="real")
            ax.bar(x + 0.2, plot["synthetic"], 0.4, color=SYNTHETIC, label="synthetic")
            ax.set_xticks(x, [str(label)[:12] for label in plot["labels"]], rotation=60, fontsize=6)
        ax.set_title(str(name)[:30], fontsize=9)
        ax.tick_params(labelsize=7)
    for ax in axes[len(columns):]:
        ax.set_visible(False)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    return fig


def correlation_heatmaps(report: dict) -> Figure | None:
    corr = report["details"].get("correlation")
    if not corr:
        return None
    real = np.array(corr["real"], dtype=float)
    syn = np.array(corr["synthetic"], dtype=float)
    fig = Figure(figsize=(12, 4))
    axes = fig.subplots(1, 3)
    names = [str(c)[:12] for c in corr["columns"]]
    for ax, data, title, cmap, vmin in (
        (axes[0], real, "real", "coolwarm", -1),
        (axes[1], syn, "synthetic", "coolwarm", -1),
        (axes[2], np.abs(real - syn), "|real - synthetic|", "viridis", 0),
    ):
        im = ax.imshow(data, cmap=cmap, vmin=vmin, vmax=1)
        ax.set_title(title)
        ax.set_xticks(range(len(names)), names, rotation=90, fontsize=6)
        ax.set_yticks(range(len(names)), names, fontsize=6)
        fig.colorbar(im, ax=ax, fraction=0.046)
    fig.tight_layout()
    return fig


def dcr_histogram(report: dict) -> Figure | None:
    hist = report["details"].get("dcr_histogram")
    if not hist:
        return None
    edges = np.array(hist["edges"])
    fig = Figure(figsize=(6, 3.2))
    ax = fig.subplots()
    for key, color in (("synthetic", SYNTHETIC), ("holdout", HOLDOUT)):
        counts = np.array(hist[key], dtype=float)
        ax.stairs(counts / max(1.0, counts.sum()), edges, color=color, linewidth=1.5,
                  label=f"{key} → closest training record")
    ax.set_xlabel("distance to closest training record")
    ax.set_ylabel("share of records")
    ax.set_title("DCR: synthetic vs real holdout")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def sample_grid(report: dict) -> Figure | None:
    samples = report["details"].get("samples")
    if not samples or not samples["images"]:
        return None
    images = samples["images"]
    side = math.ceil(math.sqrt(len(images)))
    fig = Figure(figsize=(1.2 * side, 1.3 * side))
    axes = np.atleast_1d(fig.subplots(side, side)).ravel()
    for ax in axes:
        ax.axis("off")
    for ax, image, label in zip(axes, images, samples["labels"], strict=False):
        ax.imshow(np.array(image), cmap="gray_r")
        ax.set_title(label, fontsize=8)
    fig.suptitle("synthetic samples")
    fig.tight_layout()
    return fig


def figures(report: dict) -> list[tuple[str, Figure]]:
    """Every figure the report has data for, with its section title."""
    makers = (
        ("Utility: TSTR vs TRTR", utility_bars),
        ("Distributions: real vs synthetic", column_distributions),
        ("Correlations", correlation_heatmaps),
        ("Privacy: distance to closest record", dcr_histogram),
        ("Synthetic samples", sample_grid),
    )
    return [(title, fig) for title, make in makers if (fig := make(report)) is not None]


def to_svg(fig: Figure) -> str:
    """Inline SVG markup (no XML prologue, no timestamp, no creator link); the same report gives
    the same bytes (element ids come from a fixed salt, not a random one)."""
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": "synthreg"}):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    text = buf.getvalue()
    return text[text.index("<svg") :]
