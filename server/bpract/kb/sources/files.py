"""Local files and folders (recursive; hidden files and unknown suffixes skipped)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from bpract.kb.errors import SourceError
from bpract.kb.parse.dispatch import SUFFIXES, kind_of
from bpract.kb.sources.base import Raw

__all__ = ["read_file", "walk"]


def walk(root: Path) -> list[Path]:
    """Supported files under ``root`` (or ``root`` itself), sorted."""
    if root.is_file():
        if kind_of(root.suffix) is None:
            raise SourceError(f"{root}: unsupported file type (use one of {', '.join(SUFFIXES)})")
        return [root]
    if not root.is_dir():
        raise SourceError(f"{root}: no such file or folder")
    return sorted(
        p
        for p in root.rglob("*")
        if p.is_file()
        and p.suffix.lower() in SUFFIXES
        and not any(part.startswith(".") for part in p.relative_to(root).parts)
    )


def read_file(path: Path) -> Raw:
    kind = kind_of(path.suffix)
    if kind is None:
        raise SourceError(f"{path}: unsupported file type")
    try:
        data = path.read_bytes()
        mtime = path.stat().st_mtime
    except OSError as exc:
        raise SourceError(f"{path}: {exc.strerror}") from exc
    updated = dt.datetime.fromtimestamp(mtime, dt.UTC).date().isoformat()
    title = path.stem.replace("-", " ").replace("_", " ").strip().capitalize()
    return Raw(str(path.resolve()), kind, data, None, title, updated)
