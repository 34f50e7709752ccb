"""``python -m evaluation``: the tabular report for CSV/Parquet files.

Exit status: 0 report written, privacy gate pass; 1 report written, gate
fail; 3 report written, gate inconclusive (too little data to tell); 2 bad
input (unreadable or empty file, unknown format, mismatched schemas, missing
target column, infinite values, nothing left to compare), with one line
naming what is wrong and no report.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from evaluation.errors import InputError
from evaluation.html import render_html
from evaluation.pdf import render_pdf
from evaluation.report import DEFAULT_THRESHOLDS, build_tabular_report, validate_tables

READERS = {".csv": pd.read_csv, ".parquet": pd.read_parquet, ".pq": pd.read_parquet}
EXIT_CODES = {"pass": 0, "fail": 1, "inconclusive": 3}
BAD_INPUT = 2


def read_table(path: str, role: str) -> pd.DataFrame:
    p = Path(path)
    reader = READERS.get(p.suffix.lower())
    if reader is None:
        raise InputError(f"{role} file {path}: unknown format {p.suffix!r}; use .csv or .parquet")
    if not p.is_file():
        raise InputError(f"{role} file {path}: no such file")
    try:
        table = reader(p)
    except pd.errors.EmptyDataError:
        raise InputError(f"{role} file {path} is empty") from None
    except Exception as exc:  # any parser failure is the file's fault, reported by type only
        raise InputError(f"{role} file {path} could not be read as {p.suffix[1:]} ({type(exc).__name__})") from None
    if table.empty:
        raise InputError(f"{role} file {path} has no rows" if table.shape[1] else f"{role} file {path} is empty")
    return table


def _threshold(text: str) -> tuple[str, float]:
    name, sep, value = text.partition("=")
    if not sep or name not in DEFAULT_THRESHOLDS:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE with NAME one of {sorted(DEFAULT_THRESHOLDS)}")
    try:
        return name, float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"threshold {name}: {value!r} is not a number") from None


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m evaluation", description=__doc__.splitlines()[0],
        epilog="exit status: 0 gate pass, 1 gate fail, 3 gate inconclusive (a report is written in all three); "
               "2 bad input (one line on stderr, no report)",
    )
    p.add_argument("--real-train", required=True, help="real records the generator was fitted on")
    p.add_argument("--real-holdout", required=True, help="real records never used for fitting")
    p.add_argument("--synthetic", required=True, help="the synthetic table")
    p.add_argument("--target", help="column TSTR predicts (omit: no utility section)")
    p.add_argument("--task", choices=["classification", "regression"], help="default: inferred")
    p.add_argument("--out", required=True, help="report JSON to write")
    p.add_argument("--html", help="also write the HTML page here")
    p.add_argument("--pdf", help="also write a PDF here")
    p.add_argument("--threshold", action="append", type=_threshold, default=[], metavar="NAME=VALUE",
                   help="override a default threshold (repeatable)")
    p.add_argument("--seed", type=int, default=0, help="random state of every sampled step")
    p.add_argument("--seeds", type=int, default=3, help="model seeds per family for TSTR/TRTR")
    p.add_argument("--attacks", type=int, default=1000, help="anonymeter attacks per risk (at most one per row)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        tables = [read_table(path, role) for path, role in (
            (args.real_train, "real-train"), (args.real_holdout, "real-holdout"), (args.synthetic, "synthetic"))]
        validate_tables(*tables, args.target)
    except ValueError as exc:  # InputError, and anything else the checks refuse
        print(f"error: {exc}", file=sys.stderr)
        return BAD_INPUT
    bar = tqdm(total=100, unit="%", disable=args.no_progress, file=sys.stderr,
               bar_format="{l_bar}{bar}| {n:.0f}% {postfix}")

    def progress(fraction: float, message: str) -> None:
        bar.n = round(100 * fraction, 1)
        bar.set_postfix_str(message)

    report = build_tabular_report(*tables, target=args.target, task=args.task,
                                  thresholds=dict(args.threshold), random_state=args.seed,
                                  seeds=tuple(range(args.seeds)), n_attacks=args.attacks, progress=progress)
    bar.close()
    Path(args.out).write_text(json.dumps(report, indent=2, allow_nan=False))
    if args.html:
        Path(args.html).write_text(render_html(report))
    if args.pdf:
        render_pdf(report, args.pdf)
    summary, gate = report["summary"], report["verdict"]["privacy_gate"]
    print(f"quality {summary['quality_score']} · privacy {summary['privacy_score']} · "
          f"privacy gate {gate} → {args.out}")
    return EXIT_CODES[gate]
