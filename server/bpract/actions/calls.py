"""From a proposal to a call: the arguments checked, the identity bound, the card drawn.

Pure functions over a declared :class:`~bpract.actions.spec.Action`:

- :func:`check_proposed` refuses what a model or the matcher may not supply: an
  undeclared parameter, an identity-bound one (the account always comes from the
  verified identity), a value its schema refuses, a number over its limit;
- :func:`card_fields` turns what is still missing into the card's form, from the
  schema (enums as choices, integers and numbers with their bounds, dates);
- :func:`check_final` checks the whole call once the visitor has chosen;
- :func:`build_call` places each argument: path placeholders in the path, the rest
  in the query (GET, DELETE) or the JSON body.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from jsonschema import Draft202012Validator, FormatChecker

from bpract.actions.executor import Auth, Call
from bpract.actions.spec import Action, ActionSet
from bpract.actions.templates import cents
from bpract.wire.frames import ActionDetail, ActionField

__all__ = [
    "Problem",
    "build_call",
    "card_details",
    "card_fields",
    "card_title",
    "check_final",
    "check_proposed",
    "with_defaults",
]

FieldKind = Literal["choice", "integer", "number", "date", "text"]
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_FORMATS = FormatChecker()
_MAX_TEXT = 500


@dataclass(frozen=True, slots=True)
class Problem:
    """Why arguments are refused: ``reason`` for the audit, ``message`` for the visitor."""

    reason: str
    message: str


def _label(name: str, schema: Mapping[str, Any]) -> str:
    title = schema.get("title")
    if isinstance(title, str) and title.strip():
        return title.strip()[:80]
    words = name.removesuffix("_cents").removesuffix("_id").replace("_", " ").strip()
    return (words or name).capitalize()


def _shown(name: str, value: Any) -> str:
    if name.endswith("_cents") and isinstance(value, int) and not isinstance(value, bool):
        return cents(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)[:_MAX_TEXT]


def _value_problem(name: str, schema: Mapping[str, Any], value: Any) -> str | None:
    validator = Draft202012Validator(dict(schema), format_checker=_FORMATS)
    error = next(iter(validator.iter_errors(value)), None)
    return None if error is None else f"{name}: {error.message}"


def _over_limit(action: Action, arguments: Mapping[str, Any]) -> Problem | None:
    for name, ceiling in action.limits.max.items():
        value = arguments.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool) and value > ceiling:
            limit = _shown(name, int(ceiling)) if name.endswith("_cents") else f"{ceiling:g}"
            return Problem(
                "over_limit",
                f"That is more than I can do here: at most {limit} for "
                f"{_label(name, action.properties().get(name, {})).lower()}. "
                "A person from the team can help with more.",
            )
    return None


def check_proposed(action: Action, arguments: object) -> Problem | None:
    """What is wrong with ``arguments`` as proposed (None: nothing); missing ones are fine."""
    if not isinstance(arguments, Mapping):
        return Problem("invalid_arguments", "I could not read what to do.")
    props, bound = action.properties(), action.bound()
    for name, value in arguments.items():
        if name in bound:
            return Problem(
                "bound_argument",
                "I can only act on your own account, the one you are signed in with.",
            )
        if name not in props:
            return Problem("invalid_arguments", f"I cannot use {str(name)[:40]!r} for this.")
        problem = _value_problem(name, props[name], value)
        if problem is not None:
            return Problem("invalid_arguments", f"That does not work: {problem}.")
    return _over_limit(action, arguments)


def with_defaults(action: Action, arguments: Mapping[str, Any]) -> dict[str, Any]:
    """``arguments`` with each missing parameter's schema ``default``."""
    out = dict(arguments)
    for name, schema in action.properties().items():
        if name not in out and "default" in schema:
            out[name] = schema["default"]
    return out


def check_final(action: Action, called: Mapping[str, Any]) -> Problem | None:
    """The whole call against the whole schema (required included) and the limits."""
    validator = Draft202012Validator(action.parameters, format_checker=_FORMATS)
    error = next(iter(validator.iter_errors(dict(called))), None)
    if error is not None:
        where = ".".join(str(p) for p in error.absolute_path)
        return Problem(
            "invalid_arguments",
            f"That does not work: {where + ': ' if where else ''}{error.message}.",
        )
    return _over_limit(action, called)


def card_title(action: Action) -> str:
    return action.title or action.name.replace("_", " ").capitalize()


def card_fields(action: Action, supplied: Mapping[str, Any]) -> list[ActionField] | Problem:
    """The form for every parameter the visitor still chooses, in declared order; a
    :class:`Problem` when a required one cannot be asked on a card (an object, a list)."""
    props, bound = action.properties(), action.bound()
    required = set(action.parameters.get("required", []))
    fields: list[ActionField] = []
    for name, schema in props.items():
        if name in bound or name in supplied:
            continue
        field = _field(action, name, schema, name in required)
        if field is None:
            if name in required:
                return Problem("invalid_arguments", f"I cannot ask you for {name!r} here.")
            continue
        fields.append(field)
    return fields


def _field(
    action: Action, name: str, schema: Mapping[str, Any], required: bool
) -> ActionField | None:
    label, default = _label(name, schema), schema.get("default")
    if name.endswith("_cents") and "cent" not in label.lower():
        label += " (in cents)"  # the card shows the amount as money; the form takes cents
    kind: FieldKind | None = None
    typ = schema.get("type")
    choices: list[str] = []
    enum = schema.get("enum")
    low: float | None = None
    high: float | None = None
    if isinstance(enum, list) and enum and all(isinstance(v, str) for v in enum):
        kind, choices = "choice", [str(v) for v in enum]
    elif typ in {"integer", "number"}:
        kind = "integer" if typ == "integer" else "number"
        low = schema.get("minimum")
        high = schema.get("maximum")
        ceiling = action.limits.max.get(name)
        if ceiling is not None:
            high = ceiling if high is None else min(high, ceiling)
    elif typ == "string" and schema.get("format") == "date":
        kind = "date"
    elif typ == "string":
        kind = "text"
    if kind is None:
        return None
    value = (
        default
        if isinstance(default, str | int | float) and not isinstance(default, bool)
        else None
    )
    max_length = schema.get("maxLength") if kind == "text" else None
    return ActionField(
        name=name, label=label, kind=kind, required=required, choices=choices,
        min=low, max=high, max_length=max_length if isinstance(max_length, int) else _MAX_TEXT,
        value=value,
    )  # fmt: skip


def card_details(action: Action, supplied: Mapping[str, Any]) -> list[ActionDetail]:
    """A label and a value for each argument already fixed (never the bound account)."""
    props, bound = action.properties(), action.bound()
    return [
        ActionDetail(label=_label(name, props.get(name, {})), value=_shown(name, value))
        for name, value in supplied.items()
        if name not in bound and name in props
    ]


def build_call(actions: ActionSet, action: Action, called: Mapping[str, Any], key: str) -> Call:
    """The HTTP call of a confirmed action; ``key`` is sent as its idempotency key."""
    in_path = set(_PLACEHOLDER.findall(action.path))
    rest = {k: v for k, v in called.items() if k not in in_path}
    query: dict[str, Any] = {}
    body: object = None
    if action.method in ("GET", "DELETE"):
        query = {k: v for k, v in rest.items() if v is not None}
    else:
        body = rest
    auth = None
    if action.auth is not None:
        scheme = action.auth.scheme
        auth = Auth(
            variable=action.auth.env, header=action.auth.header,
            prefix=f"{scheme} " if scheme else "",
        )  # fmt: skip
    return Call(
        method=action.method, base_url=actions.base_url, path=action.path, kind=action.kind,
        path_params={k: called[k] for k in in_path}, query=query, body=body, auth=auth,
        idempotency_key=key if action.kind == "write" else None,
    )  # fmt: skip
