"""Thread limits for the numeric libraries (OpenMP, BLAS, torch) during one evaluation."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from threadpoolctl import threadpool_limits


@contextmanager
def limit_threads(n: int | None) -> Iterator[None]:
    """Cap OpenMP/BLAS and torch intra-op threads at ``n`` (None: leave them alone).

    Small models (gradient boosting on a few thousand rows, a tiny MLP) run
    many times faster on one thread when the cores are shared with other
    workers, because spinning OpenMP threads fight over them.
    """
    if n is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        with threadpool_limits(n):
            yield
    finally:
        torch.set_num_threads(before)
