"""Evaluation of synthetic data: utility (TSTR), fidelity and privacy, and the report.

A plain library (numpy, torch, scikit-learn); it never imports Django.
"""

from evaluation.html import render_html
from evaluation.pdf import render_pdf
from evaluation.report import (
    DEFAULT_THRESHOLDS,
    SCHEMA,
    build_image_report,
    build_tabular_report,
    validate_tables,
)
from evaluation.scenes import build_scene_report
from evaluation.version import EVALUATION_VERSION

__all__ = [
    "DEFAULT_THRESHOLDS",
    "EVALUATION_VERSION",
    "SCHEMA",
    "build_image_report",
    "build_scene_report",
    "build_tabular_report",
    "render_html",
    "render_pdf",
    "validate_tables",
]
