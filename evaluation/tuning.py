"""The report of a tuning run: objective and real dev accuracy per iteration, and each tuned
distribution at the start and at the end. Drawn from the run's JSON only (iterations and
distributions); it never holds an image, real or rendered."""

from __future__ import annotations

import html
import json
import math
from os import PathLike
from typing import Any

import numpy as np
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from evaluation.plots import HOLDOUT, REAL, SYNTHETIC, to_svg


def curves(result: dict[str, Any]) -> Figure:
    """Objective (left axis) and real dev accuracy (right axis) of the policy mean per iteration."""
    history = result["history"]
    steps = [entry["iteration"] for entry in history]
    fig = Figure(figsize=(6.4, 3.2))
    ax = fig.subplots()
    ax.plot(steps, [entry["objective"] for entry in history], color=SYNTHETIC, marker="o", ms=3, label="objective")
    ax.set_xlabel("iteration")
    ax.set_ylabel("objective", color=SYNTHETIC)
    dev = [entry.get("dev_accuracy") for entry in history]
    if any(value is not None for value in dev):
        right = ax.twinx()
        right.plot(steps, [np.nan if v is None else v for v in dev], color=REAL, marker="s", ms=3,
                   label="real dev accuracy")
        right.set_ylabel("real dev accuracy", color=REAL)
    ax.axvline(result["chosen_iteration"], color=HOLDOUT, ls="--", lw=1)
    ax.set_title(f"{result['tuner']}: per iteration (dashed: the configuration chosen)")
    fig.tight_layout()
    return fig


def distributions(result: dict[str, Any]) -> Figure:
    """Each tuned attribute at the start (top bar) and the end: a numeric one as its range (uniform:
    low..high; normal: mean ± std), a choice as its options' shares."""
    start, end = result["details"]["start"], result["details"]["end"]
    names = list(end)
    columns = 3
    rows = max(1, math.ceil(len(names) / columns))
    fig = Figure(figsize=(9, 1.3 * rows + 0.4))
    axes = np.atleast_1d(fig.subplots(rows, columns)).ravel()
    for ax, name in zip(axes, names, strict=False):
        for row, (value, colour) in enumerate(((start[name], REAL), (end[name], SYNTHETIC))):
            if value["distribution"] == "choice":
                weights = value["weights"]
                total = sum(weights.values()) or 1.0
                left = 0.0
                for index, (option, weight) in enumerate(weights.items()):
                    ax.barh(1 - row, weight / total, left=left, color=colour, alpha=0.35 + 0.6 * (index % 2),
                            edgecolor="white")
                    if row == 1 and weight / total > 0.12:
                        ax.text(left + weight / total / 2, 0, option, ha="center", va="center", fontsize=6)
                    left += weight / total
            else:
                low, high = _range(value)
                ax.barh(1 - row, max(high - low, 1e-9), left=low, color=colour, height=0.5)
                ax.plot([low, high], [1 - row, 1 - row], "|", color=colour)
        ax.set_yticks([1, 0], ["start", "end"], fontsize=7)
        ax.set_title(name, fontsize=8)
        ax.tick_params(axis="x", labelsize=7)
    for ax in axes[len(names):]:
        ax.set_axis_off()
    fig.tight_layout()
    return fig


def _range(value: dict[str, Any]) -> tuple[float, float]:
    kind = value["distribution"]
    if kind in ("uniform", "log_uniform"):
        return float(value["low"]), float(value["high"])
    if kind == "normal":
        return float(value["mean"] - value["std"]), float(value["mean"] + value["std"])
    return float(value["value"]), float(value["value"])


def report_html(result: dict[str, Any], title: str) -> str:
    """A self-contained HTML page: the run's facts, both figures as inline SVG, the chosen parameters."""
    details = {key: value for key, value in result["details"].items() if key not in ("start", "end")}
    chosen = result["history"][result["chosen_iteration"]]
    rows = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(json.dumps(v))}</td></tr>"
                   for k, v in {**details, "chosen_iteration": result["chosen_iteration"],
                                "chosen_objective": chosen["objective"],
                                "chosen_dev_accuracy": chosen.get("dev_accuracy")}.items())
    moved = "".join(f"<tr><th>{html.escape(k)}</th><td>{v:.4g}</td></tr>" for k, v in result["moved"].items())
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head><body>"
            f"<h1>{html.escape(title)}</h1><table>{rows}</table>"
            f"<h2>Per iteration</h2>{to_svg(curves(result))}"
            f"<h2>Tuned distributions, start and end</h2>{to_svg(distributions(result))}"
            f"<h2>Chosen parameters</h2><table>{moved}</table></body></html>")


def render_pdf(result: dict[str, Any], title: str, path: str | PathLike) -> None:
    """The same report as a PDF: a page of facts, then both figures (the version page links both kinds)."""
    facts = Figure(figsize=(8.27, 11.69))
    chosen = result["history"][result["chosen_iteration"]]
    lines = [title, "", f"tuner: {result['tuner']}", f"chosen iteration: {result['chosen_iteration']}",
             f"chosen objective: {chosen['objective']:.4g}", f"chosen dev accuracy: {chosen.get('dev_accuracy')}",
             "", "moved (unit distance per attribute):", *(f"  {k}: {v:.4g}" for k, v in result["moved"].items())]
    for row, line in enumerate(lines):
        facts.text(0.07, 0.93 - 0.025 * row, line[:110], fontsize=12 if row == 0 else 9)
    with PdfPages(path, metadata={"CreationDate": None}) as pdf:
        for figure in (facts, curves(result), distributions(result)):
            pdf.savefig(figure)
