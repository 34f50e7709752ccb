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
        value = "n/a" if c["value"] is None else f"{c['value']:.4g}"
        ci = f"[{c['ci'][0]:.3g}, {c['ci'][1]:.3g}]" if c.get("ci") else ""
        lines.append(f"{c['name']:<24} {value:>9} {ci:<17} {c['op']} {c['threshold']:<7.4g} {kind:<9} "
                     f"{c['status'].upper()}")
    for item in verdict["inconclusive"]:
        lines.append(f"  inconclusive {item['check']}: rows needed {item['rows_needed'] or 'n/a'}")
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
