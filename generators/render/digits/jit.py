"""numba's ``njit``, which the compiled kernels of this package require.

There is no pure-numpy fallback that could silently change the output: without
numba the package fails at import, saying what is missing.
"""

from __future__ import annotations

try:
    from numba import njit
except ImportError as error:  # pragma: no cover - numba is pinned in requirements.txt
    raise ImportError(
        "generators.render.digits needs numba (pinned in requirements.txt) for its compiled "
        "kernels; install it with `pip install -r requirements.txt`") from error

__all__ = ["njit"]
