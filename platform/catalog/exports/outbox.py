"""A write-only sink whose bytes are taken out as they arrive: writers that want a file, streamed."""

from __future__ import annotations

import io


class Outbox(io.RawIOBase):
    """Unseekable; ``tell`` counts what was written (pyarrow's writers ask for it)."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._written = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self._parts.append(bytes(data))
        self._written += len(data)
        return len(data)

    def tell(self) -> int:
        return self._written

    def take(self) -> bytes:
        data, self._parts = b"".join(self._parts), []
        return data
