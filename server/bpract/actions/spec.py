"""Declared actions (YAML or JSON) → validated :class:`ActionSet`.

Validation collects every problem as ``{path, message}`` rather than stopping at
the first: unknown keys (with a suggestion), types (msgspec), the parameters'
JSON schema (``jsonschema``'s meta-schema, and unknown keywords), and the
cross-checks between fields (placeholders, bindings, confirmation, audience).
"""

from __future__ import annotations

import re
from typing import Any, Literal, get_args
from urllib.parse import urlsplit

import msgspec
from jsonschema import Draft202012Validator

from bpract.actions.errors import ActionsInvalidError, FieldError
from bpract.actions.templates import TemplateError, placeholders
from bpract.net import NetSettings, OutboundError, check_target
from bpract.shape import UnreadableDocumentError, join_path, read_document, suggest

__all__ = [
    "BINDINGS",
    "HANDOFF_TOOL",
    "Action",
    "ActionSet",
    "Auth",
    "Limits",
    "Messages",
    "check_base_url",
    "load_actions",
    "parse_source",
    "validate_actions",
]

Method = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
Kind = Literal["read", "write"]
Confirm = Literal["always", "never", "if_irreversible"]
Audience = Literal["verified", "public"]

_CHOICES: dict[str, list[str]] = {
    "method": list(get_args(Method)),
    "kind": list(get_args(Kind)),
    "confirm": list(get_args(Confirm)),
    "audience": list(get_args(Audience)),
}

#: What a parameter may be bound to with ``from:`` (never asked from the model or visitor).
BINDINGS = frozenset({"identity.user_id"})

FORMAT_VERSION = 1
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
#: The chat model's tool for handing a conversation to a person: no action may take its name.
HANDOFF_TOOL = "hand_to_person"
_ENV = re.compile(r"^[A-Z_][A-Z0-9_]{0,127}$")
_HEADER = re.compile(r"^[A-Za-z0-9-]{1,64}$")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
#: JSON-schema keywords a parameter may use, and ``from``; anything else is likely a typo.
_KEYWORDS = frozenset(
    {
        "type", "enum", "const", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
        "multipleOf", "minLength", "maxLength", "pattern", "format", "items", "minItems",
        "maxItems", "uniqueItems", "properties", "required", "additionalProperties",
        "description", "title", "default", "examples", "oneOf", "anyOf", "allOf", "not",
        "from",
    }
)  # fmt: skip


class Auth(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Where the business API's secret comes from: an environment variable, never the file."""

    env: str
    header: str = "Authorization"
    scheme: str = "Bearer"
    """Written before the secret (``Bearer <secret>``); empty: the secret alone."""


class Limits(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    max: dict[str, float] = msgspec.field(default_factory=dict)
    """The largest value a numeric parameter may take (``amount_cents: 5000``)."""
    per_visitor_per_day: int | None = None
    """How many times one visitor may run the action in 24 hours."""


class Messages(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What the visitor reads.  ``{name}`` is a parameter (or, in ``success`` and
    ``failure``, a declared result field; in the card's ``confirm``, ``before`` and
    ``after``, ``traits.<name>`` of the identity); ``{name:cents}`` shows cents as 12.50."""

    confirm: str = ""
    """The card's sentence: what will happen (``Refund {amount_cents:cents} EUR to your card.``)."""
    before: str = ""
    """The card's "now" side, for a change (``{traits.plan}, billed {traits.billing}``)."""
    after: str = ""
    """The card's "after" side (``{plan}, billed {billing}``)."""
    success: str = ""
    failure: str = ""
    item: str = ""
    """For an answer that is a list: one line per item (``{id}: {status}``), after ``success``;
    its placeholders are declared result fields (of each item)."""


class Action(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: str
    description: str
    title: str = ""
    """The card's title (``Refund a damaged item``); empty: made from the name."""
    method: Method
    path: str
    kind: Kind
    examples: list[str] = msgspec.field(default_factory=list)
    parameters: dict[str, Any] = msgspec.field(
        default_factory=lambda: {"type": "object", "properties": {}}
    )
    auth: Auth | None = None
    irreversible: bool = False
    confirm: Confirm = "always"
    limits: Limits = msgspec.field(default_factory=Limits)
    audience: Audience = "verified"
    result: dict[str, str] = msgspec.field(default_factory=dict)
    """Fields of the API's JSON answer the messages may name, each with what it means."""
    messages: Messages = msgspec.field(default_factory=Messages)

    def properties(self) -> dict[str, dict[str, Any]]:
        props: dict[str, dict[str, Any]] = self.parameters.get("properties", {})
        return props

    def bound(self) -> dict[str, str]:
        """Parameter → what it is bound to (``identity.user_id``)."""
        return {n: s["from"] for n, s in self.properties().items() if "from" in s}

    def needs_click(self) -> bool:
        """Whether a proposal always waits for the visitor's confirm (a card)."""
        return self.confirm == "always" or (self.confirm == "if_irreversible" and self.irreversible)


class ActionSet(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    version: int
    base_url: str
    actions: list[Action]

    def action(self, name: str) -> Action | None:
        return next((a for a in self.actions if a.name == name), None)


def parse_source(text: str) -> object:
    """Read a YAML or JSON document (JSON when it starts with ``{`` or ``[``)."""
    try:
        return read_document(text)
    except UnreadableDocumentError as exc:
        raise ActionsInvalidError([exc.error]) from exc


class _Check:
    """The problems found so far."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def add(self, path: str, message: str) -> None:
        self.errors.append(FieldError(path=path or "$", message=message))

    def keys(self, raw: dict[Any, Any], cls: type[msgspec.Struct], path: str) -> None:
        known = frozenset(cls.__struct_fields__)
        for key in raw:
            if key not in known:
                self.add(
                    join_path(path, str(key)), f"unknown key {key!r}{suggest(str(key), known)}"
                )

    def convert(self, raw: object, cls: type[Any], path: str) -> Any:
        try:
            return msgspec.convert(raw, cls)
        except msgspec.ValidationError as exc:
            message, sep, where = str(exc).rpartition(" - at `")
            if not sep:
                message, where = str(exc), "$`"
            at = (path + where.rstrip("`")[1:]).lstrip(".")
            field = at.rsplit(".", 1)[-1]
            if field in _CHOICES and message.startswith("Invalid enum value"):
                value = message.partition("value ")[2].strip("'")
                message += suggest(value, _CHOICES[field])
            self.add(at, message)
            return None


def _strip_known_unknowns(raw: dict[str, Any], cls: type[msgspec.Struct]) -> dict[str, Any]:
    """``raw`` without its unknown keys (already reported), so msgspec reports the rest."""
    return {k: v for k, v in raw.items() if k in cls.__struct_fields__}


def _nested(
    check: _Check, raw: dict[str, Any], key: str, cls: type[msgspec.Struct], path: str
) -> None:
    value = raw.get(key)
    if isinstance(value, dict):
        check.keys(value, cls, join_path(path, key))
        raw[key] = _strip_known_unknowns(value, cls)


def _schema_keywords(check: _Check, schema: object, path: str, *, top: bool = True) -> None:
    """Unknown keywords in each property's schema (``minimun``), recursively; ``from`` only
    on a parameter itself, never inside one."""
    properties = schema.get("properties") if isinstance(schema, dict) else None
    if not isinstance(properties, dict):
        return
    known = _KEYWORDS if top else _KEYWORDS - {"from"}
    for name, prop in properties.items():
        where = join_path(join_path(path, "properties"), str(name))
        if not isinstance(prop, dict):
            continue
        for key in prop:
            if key == "from" and not top:
                check.add(join_path(where, key), "only a parameter itself is bound, not a part")
            elif key not in known:
                check.add(
                    join_path(where, str(key)),
                    f"unknown keyword {key!r}{suggest(str(key), known)}",
                )
        _schema_keywords(check, prop, where, top=False)
        if isinstance(prop.get("items"), dict):
            _schema_keywords(check, prop["items"], join_path(where, "items"), top=False)


def _parameters(check: _Check, schema: object, path: str) -> bool:
    """The parameters are an object schema that the meta-schema accepts."""
    if not isinstance(schema, dict):
        check.add(path, "expected a JSON-schema object: {type: object, properties: {...}}")
        return False
    ok = True
    if schema.get("type") != "object":
        check.add(join_path(path, "type"), "the parameters' schema has type 'object'")
        ok = False
    if not isinstance(schema.get("properties", {}), dict):
        check.add(join_path(path, "properties"), "expected a mapping of parameter → schema")
        return False
    meta = Draft202012Validator(Draft202012Validator.META_SCHEMA)
    for error in sorted(meta.iter_errors(schema), key=lambda e: list(e.absolute_path)):
        where = path
        for part in error.absolute_path:
            where = join_path(where, part if isinstance(part, int) else str(part))
        check.add(where, f"invalid JSON schema: {error.message}")
        ok = False
    before = len(check.errors)
    _schema_keywords(check, schema, path)
    for name in schema.get("required", []) if isinstance(schema.get("required"), list) else []:
        if name not in schema.get("properties", {}):
            check.add(join_path(path, "required"), f"{name!r} is required but not a property")
    return ok and len(check.errors) == before


def _path(check: _Check, action: Action, where: str) -> None:
    path = action.path
    dots = "/../" in f"{path}/" or "%2e" in path.lower()
    if not path.startswith("/") or any(c in path for c in "?#\\") or dots:
        check.add(where, "a path on base_url: starts with '/', no '..', query or fragment")
    if any(c in _PLACEHOLDER.sub("", path) for c in "{}"):
        check.add(where, "a brace outside a {placeholder}")
    props = action.properties()
    required = set(action.parameters.get("required", []))
    for name in _PLACEHOLDER.findall(path):
        if name not in props:
            check.add(
                where, f"placeholder {{{name}}} is not a parameter{suggest(name, list(props))}"
            )
        elif name not in required and "from" not in props[name]:
            check.add(where, f"placeholder {{{name}}} names a parameter that is not required")
        elif props[name].get("type") not in ("string", "integer"):
            check.add(
                where, f"placeholder {{{name}}} names a parameter that is not a string or integer"
            )


def _bindings(check: _Check, action: Action, where: str) -> None:
    for name, schema in action.properties().items():
        if "from" not in schema:
            continue
        at = join_path(join_path(join_path(where, "properties"), name), "from")
        if schema["from"] not in BINDINGS:
            check.add(
                at, f"binds to {schema['from']!r}{suggest(str(schema['from']), sorted(BINDINGS))}"
            )
        if schema.get("type") != "string":
            check.add(at, "an identity-bound parameter has type 'string'")
        for asked in ("default", "enum", "const", "examples"):
            if asked in schema:
                check.add(
                    at, f"an identity-bound parameter is never asked from the visitor: no {asked!r}"
                )
        if action.audience == "public":
            check.add(at, "a public action has no verified identity to bind")


def _limits(check: _Check, action: Action, where: str) -> None:
    props = action.properties()
    for name, ceiling in action.limits.max.items():
        at = join_path(join_path(where, "max"), name)
        if name not in props:
            check.add(at, f"no parameter {name!r}{suggest(name, list(props))}")
        elif props[name].get("type") not in ("integer", "number"):
            check.add(at, f"{name!r} is not a number parameter")
        elif ceiling < 0:
            check.add(at, "a maximum is zero or more")
    per_day = action.limits.per_visitor_per_day
    if per_day is not None and per_day < 1:
        check.add(join_path(where, "per_visitor_per_day"), "at least 1 (leave it out for no limit)")


def _messages(check: _Check, action: Action, where: str) -> None:
    params = list(action.properties())
    for which in ("confirm", "before", "after", "success", "failure", "item"):
        template = getattr(action.messages, which)
        at = join_path(where, which)
        try:
            found = placeholders(template)
        except TemplateError as exc:
            check.add(at, f"not a template: {exc}")
            continue
        on_card = which in ("confirm", "before", "after")
        known = (
            params if on_card else list(action.result) if which == "item"
            else [*params, *action.result]
        )  # fmt: skip
        what = (
            "is not a declared result field" if which == "item"
            else "is neither a parameter nor traits.<name>" if on_card
            else "is neither a parameter nor a result field"
        )  # fmt: skip
        for p in found:
            if p.name not in known and not (on_card and p.name.startswith("traits.")):
                check.add(at, f"{{{p.name}}} {what}{suggest(p.name, known)}")


def _action(check: _Check, action: Action, where: str) -> None:
    if not _NAME.match(action.name):
        check.add(join_path(where, "name"), "a lower-case identifier: a-z, 0-9, _ (64 at most)")
    elif action.name == HANDOFF_TOOL:
        check.add(
            join_path(where, "name"), f"{HANDOFF_TOOL!r} is the chat's own hand-off to a person"
        )
    if not action.description.strip():
        check.add(join_path(where, "description"), "say what the action does: the model reads it")
    for index, example in enumerate(action.examples):
        if not example.strip():
            check.add(join_path(join_path(where, "examples"), index), "an example is a request")
    if action.auth is not None:
        if not _ENV.match(action.auth.env):
            check.add(
                join_path(where, "auth.env"),
                "the NAME of an environment variable (A-Z, 0-9, _), never the secret",
            )
        if not _HEADER.match(action.auth.header):
            check.add(join_path(where, "auth.header"), "a header name (letters, digits, -)")
    if action.kind == "read" and action.irreversible:
        check.add(join_path(where, "irreversible"), "a read action changes nothing")
    if action.irreversible and action.confirm == "never":
        check.add(join_path(where, "confirm"), "an irreversible action is always confirmed")
    if action.kind == "write" and action.audience == "public":
        check.add(join_path(where, "audience"), "a write action needs a verified identity")
    _path(check, action, join_path(where, "path"))
    _bindings(check, action, join_path(where, "parameters"))
    _limits(check, action, join_path(where, "limits"))
    _messages(check, action, join_path(where, "messages"))


def _base_url(check: _Check, url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        check.add("base_url", "an absolute http(s) URL")
    elif parts.username or parts.password or parts.query or parts.fragment:
        check.add("base_url", "no user@, query or fragment in base_url")


def _one_action(check: _Check, given: dict[str, Any], where: str) -> Action | None:
    check.keys(given, Action, where)
    raw = _strip_known_unknowns(dict(given), Action)
    for key, cls in (("auth", Auth), ("limits", Limits), ("messages", Messages)):
        _nested(check, raw, key, cls, where)
    schema_ok = "parameters" not in raw or _parameters(
        check, raw["parameters"], join_path(where, "parameters")
    )
    action: Action | None = check.convert(raw, Action, where)
    return action if schema_ok else None


def validate_actions(data: object, *, max_actions: int = 100) -> ActionSet:
    """A whole action set from parsed input, or every problem found."""
    check = _Check()
    if not isinstance(data, dict):
        check.add("$", "expected a mapping with 'version', 'base_url' and 'actions'")
        raise ActionsInvalidError(check.errors)
    check.keys(data, ActionSet, "")
    if data.get("version", FORMAT_VERSION) != FORMAT_VERSION:
        check.add("version", f"this release reads version {FORMAT_VERSION}")
    base_url = data.get("base_url")
    if isinstance(base_url, str):
        _base_url(check, base_url)
    else:
        check.add("base_url", "the business API's http(s) URL that every path is on")
    raw_actions = data.get("actions")
    if not isinstance(raw_actions, list) or not raw_actions:
        check.add("actions", "expected a list of one or more actions")
        raw_actions = []
    if len(raw_actions) > max_actions:
        check.add("actions", f"{len(raw_actions)} actions: at most {max_actions}")
    actions: list[Action] = []
    first: dict[str, int] = {}
    for index, raw in enumerate(raw_actions):
        where = join_path("actions", index)
        if not isinstance(raw, dict):
            check.add(where, "an action is a mapping (name, description, method, path …)")
            continue
        action = _one_action(check, raw, where)
        if action is None:
            continue
        _action(check, action, where)
        if action.name in first:
            check.add(
                join_path(where, "name"),
                f"duplicate action {action.name!r} (also actions[{first[action.name]}])",
            )
        first.setdefault(action.name, index)
        actions.append(action)
    if check.errors:
        raise ActionsInvalidError(check.errors)
    return ActionSet(version=FORMAT_VERSION, base_url=str(base_url).rstrip("/"), actions=actions)


def load_actions(text: str, *, max_actions: int = 100) -> ActionSet:
    """Parse and validate a YAML or JSON action set."""
    return validate_actions(parse_source(text), max_actions=max_actions)


async def check_base_url(actions: ActionSet, settings: NetSettings) -> None:
    """Refuse a base URL that the outbound guard would refuse: private, loopback or link-local
    unless ``BPRACT_OUTBOUND_ALLOW`` names it, or a name that does not resolve."""
    try:
        await check_target(actions.base_url, settings)
    except OutboundError as exc:
        raise ActionsInvalidError([FieldError(path="base_url", message=exc.detail)]) from exc
