"""Unknown keys in rule input, found by walking it against the rule dataclasses.

msgspec ignores keys a dataclass does not declare, so a typo such as
``atentive_seconds`` would silently drop a condition; this walk turns it into
an error that names the path and suggests the closest known key.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from functools import cache
from typing import Any

from bpract.shape import join_path, suggest
from bpract.triggers.errors import FieldError

__all__ = ["join_path", "unknown_keys"]


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _inner_types(hint: Any) -> tuple[Any, ...]:
    """The members of a union, or the hint itself."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return typing.get_args(hint)
    return (hint,)


def _walk_dataclass(data: dict[Any, Any], cls: type, path: str) -> list[FieldError]:
    hints = _hints(cls)
    known = [f.name for f in dataclasses.fields(cls)]
    errors: list[FieldError] = []
    for key, value in data.items():
        if key in hints:
            errors.extend(unknown_keys(value, hints[key], join_path(path, key)))
        else:
            errors.append(
                FieldError(
                    path=join_path(path, str(key)),
                    message=f"unknown key {key!r}{suggest(str(key), known)}",
                )
            )
    return errors


def unknown_keys(data: object, hint: Any, path: str = "") -> list[FieldError]:
    """Every key in ``data`` that the type ``hint`` (a rule dataclass, list or union) lacks."""
    errors: list[FieldError] = []
    for member in _inner_types(hint):
        if dataclasses.is_dataclass(member) and isinstance(member, type):
            if isinstance(data, dict):
                return _walk_dataclass(data, member, path)
        elif typing.get_origin(member) is list and isinstance(data, list):
            (item,) = typing.get_args(member)
            for index, value in enumerate(data):
                errors.extend(unknown_keys(value, item, join_path(path, index)))
            return errors
    return errors
