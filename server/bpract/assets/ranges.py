"""HTTP byte ranges (RFC 9110 §14): one ``bytes=`` range of a file, or why not."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

__all__ = ["ByteRange", "Unsatisfiable", "parse_range"]

_MAX_SPECS: Final = 1  # several ranges (multipart/byteranges) are answered with the whole file


@dataclass(frozen=True, slots=True)
class ByteRange:
    """Bytes ``start`` to ``end`` inclusive of a file of ``size`` bytes."""

    start: int
    end: int
    size: int

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    def content_range(self) -> str:
        return f"bytes {self.start}-{self.end}/{self.size}"


class Unsatisfiable(ValueError):
    """No byte of the range exists (answered 416 with ``Content-Range: bytes */size``)."""


def _spec(spec: str, size: int) -> ByteRange | None:
    first, sep, last = spec.strip().partition("-")
    if (
        not sep
        or not (first or last)
        or not (first or "0").isdigit()
        or not (last or "0").isdigit()
    ):
        return None
    if not first:  # "-500": the last 500 bytes
        suffix = int(last)
        if suffix == 0:
            raise Unsatisfiable(spec)
        return ByteRange(max(size - suffix, 0), size - 1, size)
    start = int(first)
    if start >= size:
        raise Unsatisfiable(spec)
    end = min(int(last), size - 1) if last else size - 1
    if end < start:
        return None
    return ByteRange(start, end, size)


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The one range ``header`` asks for; None to send the whole file (absent, invalid, several).

    Raises :class:`Unsatisfiable` when the range starts past the end of the file.
    """
    if not header:
        return None
    unit, sep, specs = header.partition("=")
    if not sep or unit.strip().lower() != "bytes":
        return None
    parts = specs.split(",")
    if len(parts) > _MAX_SPECS:
        return None
    if size == 0:
        raise Unsatisfiable(header)
    return _spec(parts[0], size)
