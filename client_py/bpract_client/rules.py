"""Trigger rule types: one definition read by the browser engine and the server.

The server validates YAML and API input into these dataclasses with
``msgspec.convert`` (``__post_init__`` checks become validation errors there).
What the browser receives is smaller: :func:`engine_view` keeps of a
:class:`Ruleset` only what evaluation needs (ids, priorities, conditions, the
suppression switches and the version), and the engine reads it back with
:func:`ruleset_from_dict` into an :class:`EngineRuleset`.  Goals, messages,
offers, caps, cooldowns, holdouts, schedules and decider settings stay on the
server.  Standard library only.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

__all__ = [
    "CTA",
    "Cap",
    "CartChurn",
    "Conditions",
    "EngineRuleset",
    "Message",
    "Policy",
    "Rule",
    "Ruleset",
    "Schedule",
    "Suppression",
    "Trigger",
    "Visits",
    "engine_view",
    "glob_match",
    "in_schedule",
    "local_clock",
    "parse_duration",
    "ruleset_from_dict",
]

Device = Literal["desktop", "mobile", "tablet"]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

_RULE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")

_T = TypeVar("_T")


def parse_duration(value: str | float) -> float:
    """``"30s"``, ``"15m"``, ``"1h"``, ``"2d"`` or a number of seconds → seconds."""
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        match = _DURATION.match(value)
        if not match:
            raise ValueError(f"not a duration: {value!r} (use 30s, 15m, 1h, 2d)")
        seconds = float(match[1]) * _UNIT_SECONDS[match[2]]
    if seconds < 0:
        raise ValueError("a duration cannot be negative")
    return seconds


def _non_negative(name: str, value: float | None) -> None:
    if value is not None and value < 0:
        raise ValueError(f"{name} must be >= 0")


@dataclass(frozen=True, slots=True, kw_only=True)
class Visits:
    """Page views matching ``page`` within the last ``days`` (across sessions) >= ``count``."""

    page: str
    count: int = 2
    days: float = 7

    def __post_init__(self) -> None:
        if self.count < 1:
            raise ValueError("visits.count must be >= 1")
        if not 0 < self.days <= 90:
            raise ValueError("visits.days must be in (0, 90]")


@dataclass(frozen=True, slots=True, kw_only=True)
class CartChurn:
    """Cart adds + removes within the last ``minutes`` >= ``changes``."""

    changes: int = 3
    minutes: float = 10

    def __post_init__(self) -> None:
        if self.changes < 1:
            raise ValueError("cart_churn.changes must be >= 1")
        if not 0 < self.minutes <= 24 * 60:
            raise ValueError("cart_churn.minutes must be in (0, 1440]")


@dataclass(frozen=True, slots=True, kw_only=True)
class Conditions:
    """All present conditions must hold (see docs/rules.md)."""

    page: list[str] | None = None
    not_page: list[str] | None = None
    attentive_seconds: float | None = None
    visits: Visits | None = None
    cart_churn: CartChurn | None = None
    scroll_percent: float | None = None
    exit_intent: bool | None = None
    idle_seconds: float | None = None
    rage_clicks: int | None = None
    visitor: Literal["new", "returning"] | None = None
    identified: bool | None = None
    traits: dict[str, str | int | float | bool | None] | None = None
    utm_source: list[str] | None = None
    referrer: list[str] | None = None
    device: list[Device] | None = None

    def __post_init__(self) -> None:
        _non_negative("attentive_seconds", self.attentive_seconds)
        _non_negative("idle_seconds", self.idle_seconds)
        _non_negative("rage_clicks", self.rage_clicks)
        if self.scroll_percent is not None and not 0 <= self.scroll_percent <= 100:
            raise ValueError("scroll_percent must be within 0..100")


@dataclass(frozen=True, slots=True, kw_only=True)
class CTA:
    label: str
    url: str | None = None

    def __post_init__(self) -> None:
        if not 0 < len(self.label) <= 60:
            raise ValueError("cta.label must be 1..60 characters")
        if self.url is not None and not self.url.startswith(("/", "https://", "http://")):
            raise ValueError("cta.url must be a path or an http(s) URL")


@dataclass(frozen=True, slots=True, kw_only=True)
class Message:
    text: str
    cta: CTA | None = None

    def __post_init__(self) -> None:
        if not 0 < len(self.text) <= 500:
            raise ValueError("message.text must be 1..500 characters")


@dataclass(frozen=True, slots=True, kw_only=True)
class Cap:
    """At most ``count`` messages from the rule per visitor per ``days``."""

    count: int = 1
    days: float = 1

    def __post_init__(self) -> None:
        if self.count < 1 or self.days <= 0:
            raise ValueError("cap needs count >= 1 and days > 0")


@dataclass(frozen=True, slots=True, kw_only=True)
class Schedule:
    days: list[Weekday] = field(default_factory=lambda: ["mon", "tue", "wed", "thu", "fri"])
    start: str = "09:00"
    end: str = "18:00"
    tz: str = "UTC"

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            if not _CLOCK.match(getattr(self, name)):
                raise ValueError(f"schedule.{name} must be HH:MM")


_WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def local_clock(schedule: Schedule, now_ms: int) -> tuple[Weekday, str]:
    """The weekday and ``HH:MM`` of ``now_ms`` in the schedule's time zone."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    local = datetime.fromtimestamp(now_ms / 1000, ZoneInfo(schedule.tz))
    return _WEEKDAYS[local.weekday()], local.strftime("%H:%M")


def in_schedule(schedule: Schedule, now_ms: int) -> bool:
    """Whether ``now_ms`` falls on one of the schedule's days, within its hours (in its time
    zone); ``end < start`` spans midnight."""
    day, clock = local_clock(schedule, now_ms)
    if schedule.start <= schedule.end:
        in_hours = schedule.start <= clock < schedule.end
    else:
        in_hours = clock >= schedule.start or clock < schedule.end
    return day in schedule.days and in_hours


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    id: str
    name: str = ""
    department: str = "default"
    priority: int = 0
    enabled: bool = True
    when: Conditions = field(default_factory=Conditions)
    goal: str = ""
    message: Message
    offers: list[str] = field(default_factory=list)
    cap: Cap = field(default_factory=Cap)
    cooldown: float | str = 0
    holdout: float = 0
    schedule: Schedule | None = None
    on_decider_failure: Literal["fallback", "skip"] = "fallback"

    def __post_init__(self) -> None:
        _check_id(self.id)
        if not 0 <= self.holdout <= 100:
            raise ValueError("holdout must be a percentage within 0..100")
        object.__setattr__(self, "cooldown", parse_duration(self.cooldown))

    @property
    def cooldown_seconds(self) -> float:
        return float(self.cooldown)


@dataclass(frozen=True, slots=True, kw_only=True)
class Policy:
    """Site-wide limits on proactive messages."""

    interruption_budget: int = 2
    suppress_while_chat_open: bool = True
    suppress_while_typing: bool = True

    def __post_init__(self) -> None:
        if self.interruption_budget < 0:
            raise ValueError("interruption_budget must be >= 0")


@dataclass(frozen=True, slots=True, kw_only=True)
class Ruleset:
    version: int = 0
    policy: Policy = field(default_factory=Policy)
    rules: list[Rule] = field(default_factory=list)

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for rule in self.rules:
            if rule.id in seen:
                raise ValueError(f"duplicate rule id {rule.id!r}")
            seen.add(rule.id)

    def get(self, rule_id: str) -> Rule | None:
        return next((r for r in self.rules if r.id == rule_id), None)


# -- what the browser's engine receives ---------------------------------------------------


def _check_id(rule_id: str) -> None:
    if not _RULE_ID.match(rule_id):
        raise ValueError("id must be 1-64 chars of a-z, 0-9 and '-'")


@dataclass(frozen=True, slots=True, kw_only=True)
class Trigger:
    """A rule as the engine evaluates it: its id, its rank and its conditions."""

    id: str
    priority: int = 0
    when: Conditions = field(default_factory=Conditions)

    def __post_init__(self) -> None:
        _check_id(self.id)


@dataclass(frozen=True, slots=True, kw_only=True)
class Suppression:
    """The part of the site's :class:`Policy` the engine applies: when no rule may fire."""

    suppress_while_chat_open: bool = True
    suppress_while_typing: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class EngineRuleset:
    """The enabled rules of one ruleset version, as the engine evaluates them."""

    version: int = 0
    policy: Suppression = field(default_factory=Suppression)
    rules: list[Trigger] = field(default_factory=list)

    def __post_init__(self) -> None:
        ids = [rule.id for rule in self.rules]
        if len(set(ids)) != len(ids):
            raise ValueError("duplicate rule id")


def _present(conditions: Conditions) -> dict[str, Any]:
    """The conditions a rule sets (an absent condition is not sent)."""
    return {
        f.name: dataclasses.asdict(value) if isinstance(value, Visits | CartChurn) else value
        for f in dataclasses.fields(conditions)
        if (value := getattr(conditions, f.name)) is not None
    }


def engine_view(ruleset: Ruleset) -> dict[str, Any]:
    """The JSON of ``welcome.ruleset`` and ``rules.ruleset``: what the browser may see.

    Disabled rules are left out; of each enabled rule only ``id``, ``priority``
    and the conditions it sets; of the policy only the suppression switches.
    """
    policy = ruleset.policy
    return {
        "version": ruleset.version,
        "policy": {
            "suppress_while_chat_open": policy.suppress_while_chat_open,
            "suppress_while_typing": policy.suppress_while_typing,
        },
        "rules": [
            {"id": rule.id, "priority": rule.priority, "when": _present(rule.when)}
            for rule in ruleset.rules
            if rule.enabled
        ],
    }


@functools.lru_cache(maxsize=512)
def _glob_regex(pattern: str) -> re.Pattern[str]:
    translated = (".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile("".join(translated), re.DOTALL)


def glob_match(pattern: str, path: str) -> bool:
    """``*`` matches any characters, ``?`` exactly one; the whole text must match.

    A text with a query string (``/pricing?plan=pro``) also matches when the
    pattern matches its path alone, so ``/pricing`` covers every query.
    """
    regex = _glob_regex(pattern)
    if regex.fullmatch(path):
        return True
    bare, sep, _ = path.partition("?")
    return bool(sep) and regex.fullmatch(bare) is not None


def _build(cls: type[_T], data: Any, nested: Mapping[str, Any] | None = None) -> _T:
    """One dataclass from a mapping: unknown keys are ignored, ``nested`` builds sub-objects."""
    if not isinstance(data, Mapping):
        raise ValueError(f"{cls.__name__} must be an object, not {type(data).__name__}")
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    kwargs = {k: v for k, v in data.items() if k in names}
    for key, build in (nested or {}).items():
        if kwargs.get(key) is not None:
            kwargs[key] = build(kwargs[key])
    return cls(**kwargs)


def _conditions(data: Any) -> Conditions:
    return _build(
        Conditions,
        data,
        {"visits": lambda d: _build(Visits, d), "cart_churn": lambda d: _build(CartChurn, d)},
    )


def _trigger(data: Any) -> Trigger:
    return _build(Trigger, data, {"when": _conditions})


def _enabled(data: Any) -> bool:
    return not isinstance(data, Mapping) or data.get("enabled", True) is not False


def ruleset_from_dict(data: Mapping[str, Any]) -> EngineRuleset:
    """The :class:`EngineRuleset` of ``welcome.ruleset`` / ``rules.ruleset`` (see
    :func:`engine_view`); unknown keys are ignored, rules marked ``enabled: false`` skipped.

    Raises :class:`ValueError` when the data does not describe a valid ruleset.
    """
    try:
        rules = data.get("rules") or []
        if not isinstance(rules, list):
            raise ValueError("rules must be a list")
        return _build(
            EngineRuleset,
            {**data, "rules": [_trigger(r) for r in rules if _enabled(r)]},
            {"policy": lambda d: _build(Suppression, d)},
        )
    except (TypeError, AttributeError) as exc:
        raise ValueError(f"malformed ruleset: {exc}") from exc
