"""The column schema a tabular synthesizer is fitted with, checked before any fit.

Differentially private synthesizers take every bound and category list from here, never from
the data: reading a column's min, max or distinct values off the real rows would leak them
without spending budget. ``Metadata.infer`` reads them off a table, so use it only for public
data or non-DP synthesizers (or round its bounds outward and treat them as public knowledge).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

Kind = Literal["numeric", "categorical", "boolean", "datetime"]
KINDS = ("numeric", "categorical", "boolean", "datetime")


@dataclass(frozen=True)
class Column:
    """One column: its kind and its public domain.

    numeric and datetime columns need ``lower`` < ``upper`` (datetimes as ISO strings);
    ``integer`` numeric columns are sampled as whole numbers. categorical columns need their
    ``categories`` (strings, numbers or booleans as they appear in the table).
    """

    name: str
    kind: Kind
    lower: float | str | None = None
    upper: float | str | None = None
    integer: bool = False
    categories: tuple[Any, ...] | None = None

    def __post_init__(self) -> None:
        where = f"column {self.name!r}"
        if self.kind not in KINDS:
            raise ValueError(f"{where}: kind must be one of {', '.join(KINDS)}, not {self.kind!r}")
        if self.kind in ("numeric", "datetime"):
            if self.lower is None or self.upper is None:
                raise ValueError(f"{where}: a {self.kind} column needs public bounds lower and upper")
            low, high = self.bounds()
            if not (math.isfinite(low) and math.isfinite(high) and low < high):
                raise ValueError(f"{where}: bounds must be finite with lower < upper")
        if self.kind == "categorical":
            if not self.categories:
                raise ValueError(f"{where}: a categorical column needs its list of categories")
            if len(set(self.categories)) != len(self.categories):
                raise ValueError(f"{where}: categories repeat")
            object.__setattr__(self, "categories", tuple(self.categories))

    def bounds(self) -> tuple[float, float]:
        """Public bounds as floats (datetimes in seconds since the epoch)."""
        if self.kind == "datetime":
            return tuple(float(pd.Timestamp(v).value) / 1e9 for v in (self.lower, self.upper))
        return float(self.lower), float(self.upper)

    def levels(self) -> tuple[Any, ...]:
        """The values of a discrete column, in code order."""
        return (False, True) if self.kind == "boolean" else self.categories


@dataclass(frozen=True)
class Metadata:
    columns: tuple[Column, ...]
    target: str | None = None

    def __post_init__(self) -> None:
        names = [c.name for c in self.columns]
        if not names:
            raise ValueError("metadata: no columns")
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"metadata: column {repeated[0]!r} is declared twice")
        if self.target is not None and self.target not in names:
            raise ValueError(f"metadata: target {self.target!r} is not a declared column")
        if self.target is not None and self[self.target].kind not in ("categorical", "boolean"):
            raise ValueError(f"column {self.target!r}: the target must be categorical or boolean")
        object.__setattr__(self, "columns", tuple(self.columns))

    def __getitem__(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def to_dict(self) -> dict:
        columns = []
        for c in self.columns:
            entry = {k: v for k, v in asdict(c).items() if v is not None and v is not False}
            if c.categories is not None:
                entry["categories"] = [_plain(v) for v in c.categories]
            columns.append(entry)
        return {"columns": columns, "target": self.target}

    @classmethod
    def from_dict(cls, data: dict) -> Metadata:
        if not isinstance(data, dict) or not isinstance(data.get("columns"), list):
            raise ValueError("metadata: expected {'columns': [...], 'target': ...}")
        columns = []
        for i, entry in enumerate(data["columns"]):
            if not isinstance(entry, dict) or "name" not in entry or "kind" not in entry:
                raise ValueError(f"metadata: column #{i} needs a name and a kind")
            unknown = set(entry) - {"name", "kind", "lower", "upper", "integer", "categories"}
            if unknown:
                raise ValueError(f"column {entry['name']!r}: unknown field {sorted(unknown)[0]!r}")
            cats = entry.get("categories")
            columns.append(Column(**{**entry, "categories": tuple(cats) if cats is not None else None}))
        return cls(tuple(columns), data.get("target"))

    @classmethod
    def infer(cls, table: pd.DataFrame, target: str | None = None, max_categories: int = 20) -> Metadata:
        """A schema read off ``table``: bounds and categories come from its rows (see module doc)."""
        columns = []
        for name in table.columns:
            s = table[name].dropna()
            if pd.api.types.is_bool_dtype(s):
                columns.append(Column(name, "boolean"))
            elif pd.api.types.is_datetime64_any_dtype(s):
                columns.append(Column(name, "datetime", str(s.min()), str(s.max() + pd.Timedelta(seconds=1))))
            elif pd.api.types.is_numeric_dtype(s) and name != target and (
                    s.nunique() > max_categories or not pd.api.types.is_integer_dtype(s)):
                low, high = float(s.min()), float(s.max())
                columns.append(Column(name, "numeric", low, high if high > low else low + 1,
                                      integer=bool(pd.api.types.is_integer_dtype(s))))
            else:
                columns.append(Column(name, "categorical", categories=tuple(sorted(s.unique().tolist()))))
        return cls(tuple(columns), target)

    def validate(self, table: pd.DataFrame) -> None:
        """Raise ValueError naming the first column of ``table`` that breaks the schema."""
        if not isinstance(table, pd.DataFrame):
            raise ValueError("table: expected a pandas DataFrame")
        if len(table) == 0:
            raise ValueError("table: no rows")
        missing = [n for n in self.names if n not in table.columns]
        if missing:
            raise ValueError(f"column {missing[0]!r}: declared in the metadata but not in the table")
        undeclared = [n for n in table.columns if n not in self.names]
        if undeclared:
            raise ValueError(f"column {undeclared[0]!r}: in the table but not declared in the metadata")
        for c in self.columns:
            s = table[c.name]
            if s.isna().any():
                raise ValueError(f"column {c.name!r}: missing values are not supported")
            if c.kind == "numeric" and not (pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)):
                raise ValueError(f"column {c.name!r}: declared numeric but holds {s.dtype}")
            if c.kind == "numeric" and not np.isfinite(s.to_numpy(dtype=float)).all():
                raise ValueError(f"column {c.name!r}: infinite values")
            if c.kind == "datetime" and not pd.api.types.is_datetime64_any_dtype(s):
                raise ValueError(f"column {c.name!r}: declared datetime but holds {s.dtype}")
            if c.kind == "boolean" and not pd.api.types.is_bool_dtype(s):
                raise ValueError(f"column {c.name!r}: declared boolean but holds {s.dtype}")
            if c.kind == "categorical" and not s.isin(c.categories).all():
                # Never the value itself: the table may be restricted.
                raise ValueError(f"column {c.name!r}: holds values outside its declared categories")


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value
