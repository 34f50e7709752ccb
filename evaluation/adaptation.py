"""The report of a refinement or domain-adaptation run, drawn from its JSON alone.

The JSON (``synthreg.syn2real-report/1``) holds the protocol, the accuracy table on the real
test half (source-only, the method, the target-only oracle, the share of the gap closed), every
fit's per-epoch history and, for a refiner, a grid of synthetic images beside the same images
refined. It never holds a real record: the renderers below see nothing but this JSON, so no real
image can reach a plot (the real target is restricted).
"""

from __future__ import annotations

from html import escape
from os import PathLike
from typing import Any

import numpy as np
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from evaluation.html import STYLE, _table
from evaluation.pdf import A4, INK, MUTED, _figure_page
from evaluation.plots import SYNTHETIC, to_svg

SCHEMA = "synthreg.syn2real-report/1"
REFINED = "#55a868"


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.2f}%"


def accuracy_rows(report: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    """(model, test accuracy, gap closed, validator's epoch, best epoch on test) for each row."""
    rows = []
    for row in report["results"]["rows"]:
        best = row.get("best_on_test") or {}
        rows.append((row["name"], _percent(row.get("test_accuracy")), _percent(row.get("gap_closed")),
                     str(row.get("selected_epoch", "")),
                     f"{best['epoch']} ({_percent(best['accuracy'])})" if best else ""))
    return rows


def learning_curves(report: dict[str, Any]) -> Figure | None:
    """One panel per fit: each loss (and validator score) per epoch."""
    histories = {name: rows for name, rows in report.get("history", {}).items() if rows}
    if not histories:
        return None
    fig = Figure(figsize=(6.5, 2.6 * len(histories)))
    axes = np.atleast_1d(fig.subplots(len(histories), 1))
    for ax, (name, rows) in zip(axes, histories.items(), strict=True):
        epochs = [row["epoch"] for row in rows]
        for key in sorted({k for row in rows for k in row if k != "epoch"}):
            ax.plot(epochs, [row.get(key, np.nan) for row in rows], marker="o", markersize=3, label=key)
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("epoch")
        ax.legend(fontsize=7, ncols=2)
    fig.tight_layout()
    return fig


def sample_grid(report: dict[str, Any]) -> Figure | None:
    """Synthetic images (top row of each pair) above the same images refined (never real ones)."""
    samples = report.get("samples")
    if not samples or not samples.get("synthetic"):
        return None
    synthetic, refined, labels = samples["synthetic"], samples["refined"], samples["labels"]
    columns = min(len(synthetic), 8)
    pairs = -(-len(synthetic) // columns)
    fig = Figure(figsize=(1.1 * columns, 2.3 * pairs))
    axes = np.atleast_2d(fig.subplots(2 * pairs, columns))
    for ax in axes.ravel():
        ax.axis("off")
    value_max = samples.get("value_max", 16.0)
    for index, (before, after, label) in enumerate(zip(synthetic, refined, labels, strict=True)):
        row, column = divmod(index, columns)
        for offset, image, title in ((0, before, f"syn {label}"), (1, after, f"ref {label}")):
            ax = axes[2 * row + offset, column]
            ax.imshow(np.asarray(image), cmap="gray_r", vmin=0, vmax=value_max)
            ax.set_title(title, fontsize=7, color=SYNTHETIC if offset == 0 else REFINED)
    fig.suptitle("synthetic (syn) and refined (ref): the same images")
    fig.tight_layout()
    return fig


def accuracy_bars(report: dict[str, Any]) -> Figure | None:
    rows = [row for row in report["results"]["rows"] if row.get("test_accuracy") is not None]
    if not rows:
        return None
    fig = Figure(figsize=(6, 2.8))
    ax = fig.subplots()
    ax.barh([row["name"] for row in rows], [100 * row["test_accuracy"] for row in rows], color=SYNTHETIC)
    low = min(100 * row["test_accuracy"] for row in rows)
    ax.set_xlim(max(0.0, low - 5), 100)
    ax.set_xlabel("accuracy on the real test half (%)")
    ax.invert_yaxis()
    fig.tight_layout()
    return fig


def figures(report: dict[str, Any]) -> list[tuple[str, Figure]]:
    makers = (("Accuracy on the real test half", accuracy_bars), ("Learning curves", learning_curves),
              ("Synthetic vs refined samples", sample_grid))
    return [(title, fig) for title, make in makers if (fig := make(report)) is not None]


def _title(report: dict[str, Any]) -> str:
    return f"{report['job_type']}: {report['method']} — {report['subject'].get('output', '')}"


def render_html(report: dict[str, Any]) -> str:
    """A self-contained page (inline SVG, no external link)."""
    subject, protocol = report["subject"], report["protocol"]
    results = report["results"]
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(_title(report))}</title>"
        f"<style>{STYLE}</style></head><body><h1>{escape(_title(report))}</h1>",
        _table([(escape(k), escape(str(v))) for k, v in subject.items()]),
        "<h2>Accuracy on the real test half</h2>",
        _table([tuple(escape(cell) for cell in row) for row in accuracy_rows(report)],
               ("model", "test accuracy", "gap closed", "validator's epoch", "best epoch on test")),
        f"<p>Gap closed by the method: <strong>{_percent(results.get('gap_closed'))}</strong>. "
        f"{escape(results.get('note', ''))}</p>",
        "<h2>Protocol</h2>",
        _table([(escape(k), escape(str(v))) for k, v in protocol.items()]),
    ]
    for title, fig in figures(report):
        parts.append(f"<h2>{escape(title)}</h2><figure>{to_svg(fig)}</figure>")
    parts.append("</body></html>")
    return "".join(parts)


def _summary_page(report: dict[str, Any]) -> Figure:
    page = Figure(figsize=A4)
    page.text(0.07, 0.94, _title(report), fontsize=14, weight="bold", color=INK)
    y = 0.9
    lines = [f"{k}: {v}" for k, v in report["subject"].items()] + [""]
    lines += [f"{name}: {accuracy}   gap closed {gap}   validator epoch {chosen}   best on test {best}"
              for name, accuracy, gap, chosen, best in accuracy_rows(report)]
    lines += ["", f"gap closed by the method: {_percent(report['results'].get('gap_closed'))}", ""]
    lines += [f"{k}: {v}" for k, v in report["protocol"].items()]
    for line in lines:
        page.text(0.07, y, line[:120], fontsize=8, color=INK if line else MUTED)
        y -= 0.022
    return page


def render_pdf(report: dict[str, Any], path: str | PathLike) -> None:
    with PdfPages(path, metadata={"CreationDate": None}) as pdf:
        pdf.savefig(_summary_page(report))
        for title, fig in figures(report):
            pdf.savefig(_figure_page(title, fig))
