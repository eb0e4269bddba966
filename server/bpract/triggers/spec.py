"""Rule input (YAML or JSON) → validated :class:`Ruleset` → compiled JSON.

Validation collects every problem it can find as ``{path, message}`` rather
than stopping at the first: unknown keys (with a suggestion), types and ranges
(msgspec and the dataclasses' own checks), globs, time zones and durations.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

import msgspec

from bpract.links import safe_link
from bpract.shape import UnreadableDocumentError, read_document
from bpract.triggers.checks import check_rule
from bpract.triggers.errors import FieldError, RulesetInvalidError
from bpract.triggers.shape import join_path, unknown_keys
from bpract_client import rules as rule_types
from bpract_client.rules import Policy, Rule, Ruleset

__all__ = [
    "compile_ruleset",
    "load_rule",
    "load_ruleset",
    "parse_source",
    "ruleset_from_compiled",
    "validate_rule",
    "validate_ruleset",
]

T = TypeVar("T")

_FIELD_NAMES = frozenset(
    f.name
    for name in rule_types.__all__
    if dataclasses.is_dataclass(cls := getattr(rule_types, name))
    for f in dataclasses.fields(cls)
)


def parse_source(text: str) -> object:
    """Read a YAML or JSON document (JSON when it starts with ``{`` or ``[``)."""
    try:
        return read_document(text)
    except UnreadableDocumentError as exc:
        raise RulesetInvalidError([exc.error]) from exc


def _from_msgspec(exc: msgspec.ValidationError, prefix: str) -> FieldError:
    message, sep, where = str(exc).rpartition(" - at `")
    if not sep:
        message, where = str(exc), "$`"
    path = (prefix + where.rstrip("`")[1:]).lstrip(".")
    # a dataclass check names its field first ("holdout must be …"): point at it
    last = message.split(" ", 1)[0].split(".")[-1]
    if last in _FIELD_NAMES and not path.endswith(last):
        path = join_path(path, last)
    return FieldError(path=path or "$", message=message)


def _convert(data: object, cls: type[T], path: str, errors: list[FieldError]) -> T | None:
    try:
        return msgspec.convert(data, cls)
    except msgspec.ValidationError as exc:
        error = _from_msgspec(exc, path)
        # a check that ran on the raw input may already have reported the same problem
        if all(
            e.path != error.path and (e.message != error.message or not e.path.startswith(path))
            for e in errors
        ):
            errors.append(error)
        return None


def _sexagesimal_times(raw: dict[str, Any]) -> None:
    """YAML 1.1 reads an unquoted ``18:00`` as 1080 (minutes): read it back as a time."""
    schedule = raw.get("schedule")
    if not isinstance(schedule, dict):
        return
    for key in ("start", "end"):
        value = schedule.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 24 * 60:
            schedule[key] = f"{value // 60:02d}:{value % 60:02d}"


def _cta_url(raw: dict[str, Any], path: str) -> list[FieldError]:
    """The call to action goes to an http(s) URL or a path on the site (``bpract.links``)."""
    message = raw.get("message")
    cta = message.get("cta") if isinstance(message, dict) else None
    url = cta.get("url") if isinstance(cta, dict) else None
    if not isinstance(url, str) or safe_link(url) is not None:
        return []
    where = join_path(join_path(join_path(path, "message"), "cta"), "url")
    problem = (
        f"{url!r} is not an absolute http(s) URL or a path on the site "
        "(no other scheme, '//' or backslash, whitespace, control characters or user@)"
    )
    return [FieldError(path=where, message=problem)]


def _rule(raw: object, path: str, errors: list[FieldError]) -> Rule | None:
    if not isinstance(raw, dict):
        errors.append(FieldError(path=path, message="a rule is a mapping (id, when, message …)"))
        return None
    _sexagesimal_times(raw)
    found = [*check_rule(raw, path), *_cta_url(raw, path)]
    errors.extend(found)
    return _convert(raw, Rule, path, errors)


def _duplicates(raw_rules: list[Any], errors: list[FieldError]) -> None:
    first: dict[str, int] = {}
    for index, raw in enumerate(raw_rules):
        rule_id = raw.get("id") if isinstance(raw, dict) else None
        if not isinstance(rule_id, str):
            continue
        if rule_id in first:
            errors.append(
                FieldError(
                    path=join_path(join_path("rules", index), "id"),
                    message=f"duplicate rule id {rule_id!r} (also rules[{first[rule_id]}])",
                )
            )
        first.setdefault(rule_id, index)


def validate_ruleset(data: object) -> Ruleset:
    """A whole ruleset (``policy`` and ``rules``) from parsed input."""
    if not isinstance(data, dict):
        message = "expected a mapping with 'policy' and 'rules'"
        raise RulesetInvalidError([FieldError(path="$", message=message)])
    errors = unknown_keys(data, Ruleset)
    policy = _convert(data.get("policy") or {}, Policy, "policy", errors)
    raw_rules = data.get("rules") or []
    if not isinstance(raw_rules, list):
        errors.append(FieldError(path="rules", message="expected a list of rules"))
        raw_rules = []
    rules = [_rule(raw, join_path("rules", i), errors) for i, raw in enumerate(raw_rules)]
    valid = [rule for rule in rules if rule is not None]
    _duplicates(raw_rules, errors)
    if errors or policy is None or len(valid) != len(rules):
        raise RulesetInvalidError(errors)
    return Ruleset(policy=policy, rules=valid)


def validate_rule(data: object, path: str = "rule") -> Rule:
    """One rule from parsed input (the REST API's add and replace)."""
    errors = unknown_keys(data, Rule, path)
    rule = _rule(data, path, errors)
    if errors or rule is None:
        raise RulesetInvalidError(errors)
    return rule


def load_ruleset(text: str) -> Ruleset:
    """Parse and validate a YAML or JSON ruleset document."""
    return validate_ruleset(parse_source(text))


def load_rule(text: str) -> Rule:
    """Parse and validate one rule written in YAML or JSON."""
    return validate_rule(parse_source(text))


def compile_ruleset(ruleset: Ruleset, version: int) -> dict[str, Any]:
    """The JSON form the engine receives: every field, ``cooldown`` in seconds, ``version`` set."""
    body: dict[str, Any] = msgspec.to_builtins(ruleset)
    body["version"] = version
    return body


def ruleset_from_compiled(body: dict[str, Any]) -> Ruleset:
    """Read back a compiled ruleset (as stored)."""
    return msgspec.convert(body, Ruleset)
