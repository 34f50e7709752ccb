"""Identifier-like and free-text columns, found on the real tables and kept out of the evaluation.

Such a column says nothing about the distribution and defeats distances: a
per-row id (or a free-text note) differs between any two rows, so a synthetic
copy of a training row with a fresh id looks no closer to its original than
to any holdout row, and is no exact match of it. The gate therefore judges
the remaining columns, where such a copy is an exact match.

A column is screened out when, on the real rows (the target never is):

* categorical, nearly unique: at least ``UNIQUE_SHARE`` of the training rows
  with a value have distinct values;
* categorical, mostly unseen: at least ``UNSEEN_SHARE`` of the holdout rows
  with a value have one the training rows never have (an id column's holdout
  values are all new; a real category's values recur);
* free text: values of at least ``FREE_TEXT_WORDS`` words (median), with at
  least ``FREE_TEXT_VOCABULARY`` distinct words and ``FREE_TEXT_DISTINCT`` of
  the rows distinct;
* integer numbers, all distinct across training and holdout rows together (a
  numbered row); measurements with decimals are distinct by nature and kept.

Each rule needs ``MIN_VALUES`` values to judge by. Reasons give counts and
shares only, never a value.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from evaluation.encoding import is_categorical

UNIQUE_SHARE = 0.9
UNSEEN_SHARE = 0.5
FREE_TEXT_WORDS = 3
FREE_TEXT_VOCABULARY = 20
FREE_TEXT_DISTINCT = 0.2
MIN_VALUES = 10


def screen_columns(train: pd.DataFrame, holdout: pd.DataFrame, keep: Iterable[str] = ()) -> list[dict]:
    """``[{column, kind, reason}]`` for each identifier-like or free-text column (``keep``: never screened)."""
    keep = set(keep)
    found = []
    for col in train.columns:
        if col in keep:
            continue
        verdict = _judge(train[col].dropna(), holdout[col].dropna())
        if verdict:
            found.append({"column": col, "kind": verdict[0], "reason": verdict[1]})
    return found


def _judge(train: pd.Series, holdout: pd.Series) -> tuple[str, str] | None:
    if not is_categorical(train):
        return _judge_numeric(train, holdout)
    if len(train) < MIN_VALUES:
        return None
    text = train.astype(str)
    distinct = text.nunique() / len(text)
    words = text.str.split()
    vocabulary = len(set().union(*map(set, words)))
    if words.str.len().median() >= FREE_TEXT_WORDS and vocabulary >= FREE_TEXT_VOCABULARY and (
            distinct >= FREE_TEXT_DISTINCT):
        return ("free_text", f"free text: a median of {words.str.len().median():.0f} words per value, "
                             f"{vocabulary} distinct words, {distinct:.0%} of training rows distinct")
    if distinct >= UNIQUE_SHARE:
        return ("identifier", f"nearly unique: {text.nunique()} distinct values in {len(text)} training rows")
    if len(holdout) >= MIN_VALUES:
        unseen = float((~holdout.astype(str).isin(set(text))).mean())
        if unseen >= UNSEEN_SHARE:
            return ("identifier", f"mostly unseen: {unseen:.0%} of holdout rows have a value "
                                  "no training row has")
    return None


def _judge_numeric(train: pd.Series, holdout: pd.Series) -> tuple[str, str] | None:
    values = pd.concat([train, holdout], ignore_index=True).to_numpy(np.float64)
    values = values[np.isfinite(values)]
    if len(values) < 2 * MIN_VALUES or not np.all(values == np.round(values)):
        return None
    if len(np.unique(values)) == len(values):
        return ("identifier", f"numbered rows: {len(values)} integer values, all distinct across "
                              "training and holdout rows")
    return None
