"""The declared messages' templates: ``Refunded {amount_cents:cents} {currency}.``

A placeholder names a value (a parameter, a result field or ``traits.<name>``)
and may carry one format: ``cents`` (an integer count of cents as ``12.50``).
Templates are rendered here by lookup, never with ``str.format`` (whose
attribute and index access would let a template reach into Python objects);
a missing value renders as nothing.
"""

from __future__ import annotations

import string
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["FORMATS", "Placeholder", "TemplateError", "cents", "placeholders", "render"]

FORMATS = frozenset({"", "cents"})
_MAX_VALUE = 200


class TemplateError(ValueError):
    """A template that cannot be read (stray brace, conversion, unknown format)."""


@dataclass(frozen=True, slots=True)
class Placeholder:
    name: str
    format: str


def placeholders(template: str) -> list[Placeholder]:
    """The template's placeholders, in order; :class:`TemplateError` for a malformed one."""
    found: list[Placeholder] = []
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise TemplateError(str(exc)) from None
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if not name or conversion or "[" in name:
            raise TemplateError(f"{{{name}}}: a placeholder is {{name}} or {{name:cents}}")
        if spec not in FORMATS:
            raise TemplateError(f"{{{name}:{spec}}}: the only format is 'cents'")
        found.append(Placeholder(name, spec or ""))
    return found


def cents(value: int) -> str:
    """``1250`` → ``12.50``."""
    sign = "-" if value < 0 else ""
    return f"{sign}{abs(value) // 100}.{abs(value) % 100:02d}"


def _text(value: Any, spec: str) -> str:
    if value is None:
        return ""
    if spec == "cents" and isinstance(value, int) and not isinstance(value, bool):
        return cents(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict | list):
        return ""
    return str(value)[:_MAX_VALUE]


def render(template: str, values: Mapping[str, Any], *, keep: Collection[str] = ()) -> str:
    """``template`` with each placeholder replaced by its value (``traits.x`` looks in
    ``values["traits"]``); a template that does not parse renders as given.

    With ``keep``, the placeholders of those names stay (``{plan}``, ``{amount_cents:cents}``)
    and literal braces are doubled again: a template the widget fills in as the visitor
    chooses on the card.
    """
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError:
        return template
    out: list[str] = []
    for literal, name, spec, _ in parsed:
        out.append(literal.replace("{", "{{").replace("}", "}}") if keep else literal)
        if name is None:
            continue
        if name in keep:
            out.append("{" + name + (f":{spec}" if spec else "") + "}")
            continue
        if name.startswith("traits."):
            traits = values.get("traits")
            value = traits.get(name[7:]) if isinstance(traits, Mapping) else None
        else:
            value = values.get(name)
        out.append(_text(value, spec or ""))
    return "".join(out)
