"""The report as a PDF: a designed first page (title block, headline scores, the gate with its
reasons), then one A4 page per figure. A pure function of the report's JSON, like the HTML page."""

from __future__ import annotations

import io
from os import PathLike

import matplotlib.image
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch

from evaluation.plots import figures

A4 = (8.27, 11.69)
INK, MUTED, LINE = "#1d2330", "#5b6475", "#dde2ea"
GATE_COLOURS = {"pass": "#1d7a46", "fail": "#b42318", "inconclusive": "#a15c00"}


def _number(value) -> str:
    """Three significant digits for people; "n/a" where there is no value."""
    if value is None:
        return "n/a"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    return f"{value:,}" if isinstance(value, int) else f"{value:.3g}"


def _title_rows(report: dict) -> list[tuple[str, str]]:
    subject = report.get("subject") or {}
    dataset, _, version = str(subject.get("version", "")).partition("@")
    return [("Dataset", dataset or "n/a"), ("Version", version or "n/a"),
            ("Reference", str(subject.get("reference", "n/a"))), ("Date", str(subject.get("date", "n/a"))),
            ("Evaluation", f"{report.get('evaluation_version')} · schema {report['schema']} · {report.get('kind', '')}")]


def _score_box(fig: Figure, x: float, label: str, value: str, colour: str) -> None:
    fig.patches.append(FancyBboxPatch((x, 0.655), 0.27, 0.1, boxstyle="round,pad=0.005,rounding_size=0.01",
                                      transform=fig.transFigure, facecolor="white", edgecolor=LINE))
    fig.text(x + 0.015, 0.733, label, fontsize=10, color=MUTED)
    fig.text(x + 0.015, 0.672, value, fontsize=26, weight="bold", color=colour)


def _summary_page(report: dict) -> Figure:
    summary, verdict, utility = report["summary"], report["verdict"], report["utility"]
    fig = Figure(figsize=A4)
    fig.text(0.07, 0.94, "Evaluation report", fontsize=22, weight="bold", color=INK)
    subject = (report.get("subject") or {}).get("version")
    fig.text(0.07, 0.915, f"{subject} against real data" if subject else "Synthetic against real data",
             fontsize=11, color=MUTED)
    y = 0.88
    for label, value in _title_rows(report):
        fig.text(0.07, y, label, fontsize=9.5, color=MUTED)
        fig.text(0.24, y, value, fontsize=9.5, color=INK)
        y -= 0.022
    gate = verdict["privacy_gate"]
    _score_box(fig, 0.07, "Quality score (0–100)", _number(summary["quality_score"]), INK)
    _score_box(fig, 0.365, "Privacy score (0–100)", _number(summary["privacy_score"]), INK)
    _score_box(fig, 0.66, "Privacy gate", gate.upper(), GATE_COLOURS.get(gate, INK))
    y = 0.61
    if utility.get("tstr"):
        fig.text(0.07, y, f"Train on synthetic, test on real ({utility['metric']}): TSTR {_number(utility['tstr']['mean'])}"
                          f" ± {_number(utility['tstr']['std'])}, TRTR {_number(utility['trtr']['mean'])}"
                          f" ± {_number(utility['trtr']['std'])}, ratio {_number(utility['ratio'])}",
                 fontsize=9.5, color=INK)
        y -= 0.035
    fig.text(0.07, y, "The gate's checks", fontsize=13, weight="bold", color=INK)
    y -= 0.03
    for x, head in ((0.07, "check"), (0.42, "value"), (0.56, "threshold"), (0.72, "kind"), (0.84, "result")):
        fig.text(x, y, head.upper(), fontsize=8, color=MUTED)
    y -= 0.022
    reasons = {item["check"]: item["reason"] for item in verdict["inconclusive"]}
    for check in verdict["checks"]:
        if y < 0.06:
            break  # the HTML report lists every check; a full page stops here rather than overprint
        status = check["status"]
        cells = ((0.07, check["name"]), (0.42, _number(check["value"])),
                 (0.56, f"{check['op']} {_number(check['threshold'])}"),
                 (0.72, "gate" if check["gate"] else "advisory"))
        for x, text in cells:
            fig.text(x, y, text, fontsize=9, color=INK)
        fig.text(0.84, y, status.upper(), fontsize=9, weight="bold", color=GATE_COLOURS.get(status, INK))
        if reason := reasons.get(check["name"]):
            y -= 0.018
            fig.text(0.09, y, reason[:110] + ("…" if len(reason) > 110 else ""), fontsize=7.5, color=MUTED)
        y -= 0.024
    return fig


def _figure_page(title: str, plot: Figure) -> Figure:
    """One plot on its own A4 page, as wide as the page allows, under its section title."""
    buffer = io.BytesIO()
    plot.savefig(buffer, format="png", dpi=200)
    buffer.seek(0)
    image = matplotlib.image.imread(buffer)
    page = Figure(figsize=A4)
    page.text(0.07, 0.94, title, fontsize=16, weight="bold", color=INK)
    height = min(0.8, 0.86 * image.shape[0] / image.shape[1] * A4[0] / A4[1])
    axes = page.add_axes((0.07, 0.92 - height - 0.01, 0.86, height))
    axes.imshow(image, interpolation="lanczos")
    axes.set_axis_off()
    return page


def render_pdf(report: dict, path: str | PathLike) -> None:
    """Write the report to ``path`` as a multi-page PDF."""
    with PdfPages(path, metadata={"CreationDate": None}) as pdf:
        pdf.savefig(_summary_page(report))
        for title, fig in figures(report):
            pdf.savefig(_figure_page(title, fig))
