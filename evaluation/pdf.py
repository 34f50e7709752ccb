"""The report as a PDF: a summary page, then the same figures as the HTML page."""

from __future__ import annotations

from os import PathLike

from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from evaluation.plots import figures


def _summary_page(report: dict) -> Figure:
    summary, verdict = report["summary"], report["verdict"]
    lines = [
        f"Evaluation report ({report['schema']}, evaluation {report.get('evaluation_version')})",
        "",
        f"Quality score: {summary['quality_score']}    Privacy score: {summary['privacy_score']}",
        f"Privacy gate: {verdict['privacy_gate'].upper()}"
        + (f"  (failed: {', '.join(verdict['failed'])})" if verdict["failed"] else ""),
        "",
    ]
    for c in verdict["checks"]:
        kind = "gate" if c["gate"] else "advisory"
        result = "pass" if c["passed"] else "FAIL"
        lines.append(f"{c['name']:<26} {c['value']:>10.4g}  {c['op']} {c['threshold']:<8.4g} {kind:<9} {result}")
    utility = report["utility"]
    if utility.get("tstr"):
        lines += ["", f"TSTR {utility['tstr']['mean']:.4g} ± {utility['tstr']['std']:.3g}   "
                      f"TRTR {utility['trtr']['mean']:.4g} ± {utility['trtr']['std']:.3g}   "
                      f"({utility['metric']}, ratio {utility['ratio']})"]
    fig = Figure(figsize=(8.27, 11.69))
    fig.text(0.06, 0.95, "\n".join(lines), va="top", family="monospace", fontsize=9)
    return fig


def render_pdf(report: dict, path: str | PathLike) -> None:
    """Write the report to ``path`` as a multi-page PDF."""
    with PdfPages(path, metadata={"CreationDate": None}) as pdf:
        pdf.savefig(_summary_page(report))
        for _, fig in figures(report):
            pdf.savefig(fig)
