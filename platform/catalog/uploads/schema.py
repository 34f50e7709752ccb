"""A table's column schema: inferred, shown to its owner, overridden by them, then applied.

Nothing here repeats a value of the table: the schema and every message name columns and
counts only, since an upload is real data.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd

from catalog.uploads.errors import UploadRefused

TYPES = ("numeric", "categorical", "boolean", "datetime")
DROP = "drop"
_TRUE, _FALSE = {"true", "yes", "t", "y"}, {"false", "no", "f", "n"}
# Names that usually hold direct identifiers of people or records.
_IDENTIFIER_NAME = re.compile(
    r"(^|[^a-z])(id|uuid|guid|ssn|nhs|email|e_?mail|phone|mobile|name|firstname|first_name|lastname|last_name|"
    r"surname|address|street|postcode|zip|zipcode|passport|iban|account|ip)($|[^a-z])", re.IGNORECASE)
# An identifier by its values: every one distinct, among this many at least.
_DISTINCT_ROWS = 20


@dataclass
class Column:
    name: str
    type: str
    missing: int
    distinct: int
    identifier: bool = False
    reason: str = ""  # why it is flagged as identifier-like

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _words(values: pd.Series) -> pd.Series:
    return values.astype(str).str.strip().str.lower()


def _infer_type(present: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(present):
        return "boolean"
    if pd.api.types.is_datetime64_any_dtype(present):
        return "datetime"
    if pd.api.types.is_numeric_dtype(present):
        return "numeric"
    if present.empty:
        return "categorical"
    words = _words(present)
    if words.isin(_TRUE | _FALSE).all():
        return "boolean"
    if pd.to_numeric(present, errors="coerce").notna().all():
        return "numeric"
    if words.str.contains(r"^\d{4}-\d{2}-\d{2}", regex=True).all() and \
            pd.to_datetime(present, errors="coerce", format="ISO8601").notna().all():
        return "datetime"
    return "categorical"


def _identifier(name: str, kind: str, present: pd.Series) -> str:
    if _IDENTIFIER_NAME.search(str(name)):
        return "its name suggests an identifier"
    all_distinct = kind in ("categorical", "numeric") and len(present) >= _DISTINCT_ROWS and \
        present.nunique() == len(present)
    if all_distinct and (kind == "categorical" or pd.api.types.is_integer_dtype(present)
                         or (pd.to_numeric(present, errors="coerce") % 1 == 0).all()):
        return "every value is distinct"
    if kind == "categorical" and len(present) and _words(present).str.contains("@", regex=False).mean() > 0.5:
        return "its values look like e-mail addresses"
    return ""


def infer(frame: pd.DataFrame) -> list[Column]:
    columns = []
    for name in frame.columns:
        series = frame[name]
        present = series.dropna()
        kind = _infer_type(present)
        reason = _identifier(name, kind, present)
        columns.append(Column(name=str(name), type=kind, missing=int(series.isna().sum()),
                              distinct=int(present.nunique()), identifier=bool(reason), reason=reason))
    return columns


def parse_overrides(raw: Any, columns: list[Column]) -> dict[str, str]:
    """``{"column": "categorical" | ... | "drop"}`` (or ``{"column": {"type": ...}}``), checked."""
    if raw in (None, "", {}):
        return {}
    if not isinstance(raw, dict):
        raise UploadRefused("columns", "must be a JSON object of column name to type "
                                       f"({', '.join(TYPES)} or {DROP})")
    known = {column.name for column in columns}
    overrides = {}
    for name, value in raw.items():
        wanted = value.get("type") if isinstance(value, dict) else value
        if name not in known:
            raise UploadRefused(f"columns.{name}", "the table has no such column")
        if wanted not in (*TYPES, DROP):
            raise UploadRefused(f"columns.{name}", f"must be one of {', '.join(TYPES)} or {DROP}")
        overrides[name] = wanted
    if all(overrides.get(column.name) == DROP for column in columns):
        raise UploadRefused("columns", "would drop every column")
    return overrides


def _convert(series: pd.Series, kind: str) -> pd.Series:
    present = series.notna()
    if kind == "numeric":
        converted = pd.to_numeric(series, errors="coerce")
        if converted.dropna().mod(1).eq(0).all() and converted.dropna().abs().lt(2**53).all():
            converted = converted.astype("Int64")
    elif kind == "boolean":
        if pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(series):
            converted = series.map(lambda v: v if pd.isna(v) else {1: True, 0: False}.get(v, pd.NA))
        else:
            words = _words(series)
            converted = words.map(lambda w: True if w in _TRUE else False if w in _FALSE else pd.NA)
            converted[~present] = pd.NA
        converted = converted.astype("boolean")
    elif kind == "datetime":
        converted = series if pd.api.types.is_datetime64_any_dtype(series) else \
            pd.to_datetime(series, errors="coerce", format="mixed")
    else:
        converted = series.astype("string")
    return converted


def apply(frame: pd.DataFrame, columns: list[Column], overrides: dict[str, str]) -> tuple[pd.DataFrame, list[Column]]:
    """The frame with each column converted to its type (inferred or overridden), dropped ones gone."""
    out, kept = {}, []
    for column in columns:
        kind = overrides.get(column.name, column.type)
        if kind == DROP:
            continue
        series = frame[column.name]
        converted = _convert(series, kind)
        if failed := int((converted.isna() & series.notna()).sum()):
            raise UploadRefused(f"columns.{column.name}",
                                f"{failed:,} value(s) are not {kind}; choose another type for this column")
        out[column.name] = converted.reset_index(drop=True)
        kept.append(Column(column.name, kind, column.missing, column.distinct, column.identifier, column.reason))
    return pd.DataFrame(out), kept
