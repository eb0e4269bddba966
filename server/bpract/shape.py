"""Documents an admin writes (rules, declared actions): reading YAML or JSON, paths into
them, "did you mean" suggestions, and the problems a validation reports, each with where it is."""

from __future__ import annotations

import difflib
import json
from collections.abc import Collection, Sequence

import msgspec
import yaml

__all__ = [
    "FieldError",
    "UnreadableDocumentError",
    "join_path",
    "read_document",
    "suggest",
    "summary",
]


class FieldError(msgspec.Struct, frozen=True, kw_only=True):
    """One validation problem: where (``rules[0].when.page[1]``) and what."""

    path: str
    message: str


class UnreadableDocumentError(ValueError):
    """Text that is neither YAML nor JSON; ``error`` says where and why."""

    def __init__(self, error: FieldError) -> None:
        super().__init__(f"{error.path}: {error.message}")
        self.error = error


def summary(errors: Sequence[FieldError]) -> str:
    """The first problem, and how many more: a one-line ``detail`` for the whole list."""
    first = errors[0] if errors else FieldError(path="$", message="invalid")
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{first.path}: {first.message}{more}"


def read_document(text: str) -> object:
    """Read a YAML or JSON document (JSON when it starts with ``{`` or ``[``)."""
    stripped = text.strip()
    if not stripped:
        raise UnreadableDocumentError(FieldError(path="$", message="the document is empty"))
    if stripped[0] in "{[":
        try:
            return json.loads(stripped)
        except json.JSONDecodeError as exc:
            where = f"line {exc.lineno}, column {exc.colno}"
            raise UnreadableDocumentError(FieldError(path=where, message=exc.msg)) from exc
    try:
        return yaml.safe_load(stripped)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "$"
        problem = getattr(exc, "problem", None) or str(exc)
        raise UnreadableDocumentError(FieldError(path=where, message=str(problem))) from exc


def join_path(path: str, key: str | int) -> str:
    """``rules`` + 0 → ``rules[0]``; ``rules[0]`` + ``when`` → ``rules[0].when``."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def suggest(key: str, known: Collection[str]) -> str:
    """`` — did you mean 'x'?`` for the closest of ``known``, else the list of them."""
    if not known:
        return " (none declared)"
    close = difflib.get_close_matches(key, list(known), n=1, cutoff=0.6)
    return f" — did you mean {close[0]!r}?" if close else f" (known: {', '.join(sorted(known))})"
