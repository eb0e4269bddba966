"""A rule as the console's form shows it, and back: fields in, the rule's document out.

The form has one field per part of a rule a marketer sets (name, department, the
message and its call to action, cap, cooldown, holdout…) and two YAML fields for the
open-ended parts (``when``, ``schedule``).  :func:`rule_data` builds the same document
a YAML file holds, so the form is validated by the same code as ``bpract rules load``
(:func:`bpract.triggers.spec.validate_rule`: unknown keys with "did you mean", types,
ranges, globs, time zones); :func:`field_of` says which form field an error belongs to.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import yaml

from bpract.triggers.errors import FieldError

__all__ = ["FIELDS", "RuleForm", "field_of", "form_of_rule", "rule_data", "rule_yaml"]

#: The form's fields, in the order the page shows them.
FIELDS: Final = (
    "id", "name", "department", "priority", "enabled", "when", "goal", "message_text",
    "cta_label", "cta_url", "offers", "cap_count", "cap_days", "cooldown", "holdout",
    "schedule", "on_decider_failure",
)  # fmt: skip

_NUMBER: Final = re.compile(r"^-?\d+(\.\d+)?$")
_BY_PATH: Final = {
    "message.text": "message_text",
    "message.cta.label": "cta_label",
    "message.cta.url": "cta_url",
    "message.cta": "cta_label",
    "message": "message_text",
    "cap.count": "cap_count",
    "cap.days": "cap_days",
    "cap": "cap_count",
}


@dataclass(frozen=True, slots=True)
class RuleForm:
    """What the form holds (always text, as typed) and the errors found at each field."""

    values: Mapping[str, str]
    errors: Mapping[str, list[str]]

    def value(self, name: str) -> str:
        return self.values.get(name, "")


def _number(text: str) -> int | float | str:
    """A number when the text is one (else the text, which validation then names)."""
    if not _NUMBER.match(text):
        return text
    return float(text) if "." in text else int(text)


class _DocumentError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _yaml(field: str, text: str) -> Any:
    try:
        return yaml.safe_load(text) if text.strip() else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise _DocumentError(field, f"not valid YAML{where}") from None


def _message(v: Mapping[str, str]) -> dict[str, Any]:
    message: dict[str, Any] = {"text": v["message_text"]}
    if v["cta_label"] or v["cta_url"]:
        message["cta"] = {"label": v["cta_label"]}
        if v["cta_url"]:
            message["cta"]["url"] = v["cta_url"]
    return message


def _cap(v: Mapping[str, str]) -> dict[str, Any]:
    cap: dict[str, Any] = {}
    if v["cap_count"]:
        cap["count"] = _number(v["cap_count"])
    if v["cap_days"]:
        cap["days"] = _number(v["cap_days"])
    return cap


def rule_data(values: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The rule's document from the form's fields, and the errors met reading them (a field
    whose YAML does not parse); empty fields are left out, so the rule's defaults apply."""
    v = {name: values.get(name, "").strip() for name in FIELDS}
    data: dict[str, Any] = {"id": v["id"]}
    errors: dict[str, list[str]] = {}
    for name in ("name", "department", "goal", "cooldown", "on_decider_failure"):
        if v[name]:
            data[name] = v[name]
    for name in ("priority", "holdout"):
        if v[name]:
            data[name] = _number(v[name])
    data["enabled"] = v["enabled"] in ("on", "true", "1", "yes")
    for name in ("when", "schedule"):
        try:
            parsed = _yaml(name, values.get(name, ""))
        except _DocumentError as exc:
            errors.setdefault(exc.field, []).append(str(exc))
            continue
        if parsed is not None:
            data[name] = parsed
    data["message"] = _message(v)
    if v["offers"]:
        data["offers"] = [o.strip() for o in v["offers"].split(",") if o.strip()]
    if cap := _cap(v):
        data["cap"] = cap
    return data, errors


def field_of(error: FieldError) -> str:
    """The form field a validation error is about (``id`` for the rule as a whole)."""
    path = error.path.removeprefix("rule").lstrip(".")
    for prefix, name in _BY_PATH.items():
        if path == prefix or path.startswith(prefix + ".") or path.startswith(prefix + "["):
            return name
    head = re.split(r"[.\[]", path, maxsplit=1)[0]
    return head if head in FIELDS else "id"


def _seconds(seconds: float) -> str:
    """A duration as the rules file writes it: ``1h``, ``15m``, ``30s``, ``2d``."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s" if seconds else ""


def _dump(value: Any) -> str:
    return yaml.safe_dump(value, sort_keys=False, allow_unicode=True, default_flow_style=None)


def form_of_rule(rule: Mapping[str, Any]) -> dict[str, str]:
    """The form's fields for a rule as the ruleset holds it (its compiled JSON)."""
    message = rule.get("message") or {}
    cta = message.get("cta") or {}
    cap = rule.get("cap") or {}
    when = {k: v for k, v in (rule.get("when") or {}).items() if v is not None}
    schedule = rule.get("schedule")
    return {
        "id": str(rule["id"]),
        "name": str(rule.get("name", "")),
        "department": str(rule.get("department", "")),
        "priority": f"{rule.get('priority', 0):g}",
        "enabled": "on" if rule.get("enabled", True) else "",
        "when": _dump(when) if when else "",
        "goal": str(rule.get("goal", "")),
        "message_text": str(message.get("text", "")),
        "cta_label": str(cta.get("label", "")),
        "cta_url": str(cta.get("url") or ""),
        "offers": ", ".join(rule.get("offers") or []),
        "cap_count": f"{cap.get('count', 1):g}",
        "cap_days": f"{cap.get('days', 1):g}",
        "cooldown": _seconds(float(rule.get("cooldown") or 0)),
        "holdout": f"{rule.get('holdout', 0):g}",
        "schedule": _dump(schedule) if schedule else "",
        "on_decider_failure": str(rule.get("on_decider_failure", "fallback")),
    }


def rule_yaml(rule: Mapping[str, Any]) -> str:
    """One rule as YAML, as the version history shows and compares it (defaults left out)."""
    data, _ = rule_data(form_of_rule(rule))
    return _dump(data)
