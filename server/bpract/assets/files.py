"""Finding a built file and its best precompressed sibling, with MIME type and ETag."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

__all__ = ["MIME_TYPES", "Resolved", "pick_encoding", "resolve"]

# No charset here: the response adds exactly one to text types (bpract.headers.one_charset).
MIME_TYPES: dict[str, str] = {
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".wasm": "application/wasm",
    ".json": "application/json",
    ".zip": "application/zip",
    ".whl": "application/zip",
    ".map": "application/json",
    ".css": "text/css",
    ".html": "text/html",
    ".txt": "text/plain",
    ".data": "application/octet-stream",
    ".tar": "application/x-tar",
}

_SIBLINGS = (("br", ".br"), ("gzip", ".gz"))


@dataclass(frozen=True, slots=True)
class Resolved:
    path: Path
    media_type: str
    encoding: str | None
    etag: str
    size: int


def _accepts(header: str) -> set[str]:
    accepted = set()
    for part in header.split(","):
        name, _, params = part.strip().partition(";")
        q = params.strip().removeprefix("q=") if params.strip().startswith("q=") else "1"
        try:
            if float(q) > 0:
                accepted.add(name.strip().lower())
        except ValueError:
            continue
    return accepted


def pick_encoding(path: Path, accept_encoding: str) -> tuple[Path, str | None]:
    """The ``.br`` sibling if accepted and present, else ``.gz``, else ``path`` itself."""
    accepted = _accepts(accept_encoding)
    for encoding, suffix in _SIBLINGS:
        sibling = path.with_name(path.name + suffix)
        if (encoding in accepted or "*" in accepted) and sibling.is_file():
            return sibling, encoding
    return path, None


def resolve(root: Path, relative: str, accept_encoding: str) -> Resolved | None:
    """The file ``relative`` under ``root`` (never outside it), or None."""
    if not relative or "\\" in relative or "\x00" in relative:
        return None
    parts = relative.split("/")
    if any(p in ("", ".", "..") for p in parts) or parts[-1].endswith((".br", ".gz")):
        return None
    base = root.resolve()
    target = base.joinpath(*parts).resolve()
    if not target.is_relative_to(base) or not target.is_file():
        return None
    chosen, encoding = pick_encoding(target, accept_encoding)
    stat = chosen.stat()
    tag = hashlib.sha256(f"{chosen.name}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()
    media = MIME_TYPES.get(target.suffix.lower(), "application/octet-stream")
    return Resolved(chosen, media, encoding, f'"{tag[:32]}"', stat.st_size)
