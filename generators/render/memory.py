"""Keep freed buffers in the process instead of handing them back to the OS.

Every batch allocates and frees the same large numpy temporaries. glibc returns big
blocks to the OS on free and faults them in again on the next batch; in a render worker
that costs as much system time as a third of the rendering. Raising the mmap and trim
thresholds keeps the memory for reuse. A no-op where the C library is not glibc.
"""

from __future__ import annotations

import ctypes
import ctypes.util

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


def retain_freed_memory(limit: int = 256 << 20) -> bool:
    """Let blocks up to ``limit`` bytes stay in the heap; True when glibc took the setting."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, limit)) and bool(mallopt(_M_TRIM_THRESHOLD, 4 * limit))
