"""A self-contained HTML page rendered from a report's JSON (inline SVG plots, no external links)."""

from __future__ import annotations

from html import escape

from evaluation.plots import figures, to_svg
from evaluation.report import FIDELITY_KEYS, PRIVACY_CONTEXT_KEYS, PRIVACY_KEYS

STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:1100px;padding:0 1rem;color:#222}
table{border-collapse:collapse;margin:.5rem 0 1.5rem;display:block;overflow-x:auto;max-width:100%}td,th{border:1px solid #ccc;padding:.25rem .6rem;text-align:left}
.pass{color:#1a7f37;font-weight:600}.fail{color:#cf222e;font-weight:600}
.inconclusive{color:#9a6700;font-weight:600}
.scores{display:flex;flex-wrap:wrap;gap:1rem 2rem}.score{font-size:2.4rem;font-weight:700}
figure{margin:1rem 0}svg{max-width:100%;height:auto}
"""

# Text alternatives for the figures (plots.figures' titles).
CAPTIONS = {
    "Utility: TSTR vs TRTR": "Bars: each model's score trained on synthetic (TSTR) and on real data (TRTR), "
                             "both tested on real holdout data; the Utility table above gives the values.",
    "Distributions: real vs synthetic": "Each column's distribution in the real and in the synthetic data, overlaid.",
    "Correlations": "The correlation matrices of the real and of the synthetic columns, side by side.",
    "Privacy: distance to closest record": "Histograms of each synthetic and each holdout record's distance to its "
                                           "closest training record; the Privacy table's dcr figures summarise them.",
    "Synthetic samples": "A grid of synthetic samples (never real ones).",
}


def _fmt(value) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.3g}"
    if isinstance(value, dict) and "value" in value:
        lo, hi = value.get("ci") or (None, None)
        return f"{value['value']:.3g} (95% CI {lo:.3g}–{hi:.3g})" if lo is not None else _fmt(value["value"])
    return escape(str(value))


def _table(rows: list[tuple], header: tuple | None = None) -> str:
    head = "<tr>" + "".join(f"<th>{escape(str(h))}</th>" for h in header) + "</tr>" if header else ""
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table>{head}{body}</table>"


def _interval(check: dict) -> str:
    return "" if not check.get("ci") else f"{check['ci'][0]:.3g} – {check['ci'][1]:.3g}"


def _metric_rows(section: dict, keys) -> list[tuple]:
    rows = []
    for key in keys:
        value = section.get(key)
        if isinstance(value, dict) and "value" not in value:
            rows.extend((escape(f"{key}.{k}"), _fmt(v)) for k, v in value.items())
        else:
            rows.append((escape(key), _fmt(value)))
    return rows


def render_html(report: dict) -> str:
    """The whole report as one HTML document."""
    summary, verdict, utility = report["summary"], report["verdict"], report["utility"]
    gate = verdict["privacy_gate"]
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>Synthreg evaluation report</title><style>{STYLE}</style></head><body>",
        "<h1>Evaluation report</h1>",
        f"<p>schema {escape(report['schema'])} · evaluation {escape(str(report.get('evaluation_version')))}"
        f" · {escape(str(report.get('kind')))}</p>",
        "<div class='scores'>",
        f"<div>Quality score<div class='score'>{_fmt(summary['quality_score'])}</div></div>",
        f"<div>Privacy score<div class='score'>{_fmt(summary['privacy_score'])}</div></div>",
        f"<div>Privacy gate<div class='score {gate}'>{escape(gate.upper())}</div></div></div>",
        "<h2>Summary</h2>",
        _table(
            [(escape(c["name"]), _fmt(c["value"]), _interval(c), f"{escape(c['op'])} {_fmt(c['threshold'])}",
              "privacy gate" if c["gate"] else "advisory",
              f"<span class='{escape(c['status'])}'>{escape(c['status'])}</span>")
             for c in verdict["checks"]],
            ("check", "value", f"{verdict['intervals']['level']:.0%} interval (joint)", "threshold", "kind",
             "result"),
        ),
    ]
    if verdict["inconclusive"]:
        parts.append("<h3>Too little data to tell</h3>")
        parts.append(_table([(escape(i["check"]), escape(i["reason"]), _fmt(i["rows_needed"]))
                             for i in verdict["inconclusive"]], ("check", "why", "rows needed")))
    excluded = report["privacy"].get("excluded_columns") or []
    if excluded:
        parts.append("<h3>Columns left out of the evaluation</h3>")
        parts.append(_table([(escape(str(e["column"])), escape(e["reason"])) for e in excluded],
                            ("column", "why")))
    parts.append("<h2>How the scores are made</h2>")
    for score, components in summary["composition"].items():
        parts.append(f"<h3>{escape(score)}</h3>")
        parts.append(_table(
            [(escape(name), _fmt(c["value"]), _fmt(c["weight"]), escape(", ".join(c["from"])))
             for name, c in components.items()],
            ("component", "value (0..1)", "weight", "from"),
        ))
    if utility.get("tstr"):
        parts.append("<h2>Utility</h2>")
        parts.append(f"<p>task {escape(str(utility['task']))}, metric {escape(str(utility['metric']))},"
                     f" TSTR/TRTR ratio {_fmt(utility['ratio'])}</p>")
        parts.append(_table(
            [(escape(m), f"{_fmt(utility['tstr']['by_model'][m]['mean'])} ± {_fmt(utility['tstr']['by_model'][m]['std'])}",
              f"{_fmt(utility['trtr']['by_model'][m]['mean'])} ± {_fmt(utility['trtr']['by_model'][m]['std'])}")
             for m in utility["tstr"]["by_model"]]
            + [("<b>mean</b>", f"{_fmt(utility['tstr']['mean'])} ± {_fmt(utility['tstr']['std'])}",
                f"{_fmt(utility['trtr']['mean'])} ± {_fmt(utility['trtr']['std'])}")],
            ("model", "TSTR", "TRTR"),
        ))
    elif utility.get("not_applicable"):
        parts.append(f"<h2>Utility</h2><p>Not measured: {escape(utility['not_applicable'])}.</p>")
    parts.append("<h2>Fidelity</h2>")
    parts.append(_table(_metric_rows(report["fidelity"], FIDELITY_KEYS), ("metric", "value")))
    parts.append("<h2>Privacy</h2>")
    parts.append(_table(_metric_rows(report["privacy"], PRIVACY_KEYS + PRIVACY_CONTEXT_KEYS),
                        ("metric", "value")))
    for title, fig in figures(report):
        # The drawing is hidden from screen readers; its caption says in words what it shows.
        parts.append(f"<h2>{escape(title)}</h2><figure role='group' aria-label='{escape(title)}'>"
                     f"<div aria-hidden='true'>{to_svg(fig)}</div>"
                     f"<figcaption>{escape(CAPTIONS.get(title, title))}</figcaption></figure>")
    parts.append("</body></html>")
    return "\n".join(parts)
