"""The offline action matcher: a visitor's message → one declared action, when no model is set.

The message is embedded once and compared with each action's description, examples and
name (their vectors are cached per action set); the words that matter — the action's own
name, an enum value it takes, arguments the message gives it — add to that similarity.
A question about the rules ("How long do refunds take?"), a general help-centre
question and a negated request ("I don't want to cancel") match nothing, and so does
a best action that is not ahead of the second by a margin.

Only what the message says is filled in (enum values, counted integers, money in
cents, dates, identifiers), each value checked against its parameter's schema; a parameter
bound with ``from:`` is never filled.
A :class:`Match` is a proposal: the visitor's click runs it, elsewhere.
"""

from __future__ import annotations

import datetime
import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from jsonschema import Draft202012Validator, FormatChecker

from bpract.actions.spec import Action, ActionSet
from bpract.kb.embed.base import Embedder, Vectors

__all__ = [
    "DEFAULT_THRESHOLD",
    "ActionMatcher",
    "Match",
    "extract_arguments",
    "is_negated",
    "is_rules_question",
]

#: The combined score below which nothing is proposed (tuned by ``bench/action_matcher.py``).
DEFAULT_THRESHOLD = 0.62
#: How far the best action must be ahead of the second.
DEFAULT_MARGIN = 0.08
#: What is embedded of a message: its first characters.
EMBED_CHARS = 1000
_CACHE_SETS = 32

_NAME_BONUS = 0.06  # per word of the action's name said in the message
_ENUM_BONUS = 0.08  # an enum value of one of its parameters is named
_ARG_BONUS = 0.05  # per argument filled from the message
_ALL_REQUIRED_BONUS = 0.05  # every required (unbound) parameter is filled


@dataclass(frozen=True, slots=True, kw_only=True)
class Match:
    action: str
    """The declared action's name."""
    arguments: dict[str, Any]
    """What the message said, each valid for its parameter's schema; never a bound one."""
    confidence: float
    """0..1: the combined similarity of the message with the action."""


# --- the request, not a question about the rules ---------------------------------------

_NEGATION = re.compile(
    r"\b(?:do\s*n[o']?t|dont|never|no\s+need\s+to|not|rather\s+not|no\s+longer\s+want)\b"
    r"(?:\s+\w+){0,2}?\s+"
    r"(?:want|need|wish|like|cancel|refund|change|switch|pause|stop|move|reschedule|deliver|"
    r"upgrade|downgrade|charge|touch|do\s+that)\b",
    re.IGNORECASE,
)
_DONT_START = re.compile(r"^\W*(?:please\s+)?(?:do\s*n[o']?t|dont|never)\b", re.IGNORECASE)
#: A general question: no ``my``, and it opens like a question about how things are.
_GENERAL = re.compile(
    r"^\W*(?:what|which|why|who|how|do\s+you|does|did\s+you|is\s+(?:it|there|the)|"
    r"are\s+(?:there|you|the)|will\s+you|would\s+you\s+(?:have|ship|accept)|can\s+you\s+ship|"
    r"where\s+(?:do|can|are)\s+you|when\s+(?:do|does|are)|are\s+your|is\s+your|"
    r"do\s+i\s+need|should\s+i)\b",
    re.IGNORECASE,
)
#: Questions about the rules, even with ``my``: durations, prices, hypotheticals, policy.
_RULES = re.compile(
    r"\b(?:how\s+(?:long|much|many|often|soon|quickly)|policy|policies|allowed|"
    r"later\s+on|later|in\s+the\s+future|ever|any\s*time|at\s+some\s+point|what\s+if|"
    r"if\s+i\s+(?:want|wanted|decide|change)|terms|conditions|how\s+does|how\s+do\s+(?:refunds|"
    r"returns|plans|you)|what\s+happens|is\s+it\s+possible\s+to\s+\w+\s+(?:later|again))\b",
    re.IGNORECASE,
)
_MY = re.compile(r"\b(?:my|mine|me|i'm|i\s+am|i'd|i\s+want|i\s+need)\b", re.IGNORECASE)


def is_negated(text: str) -> bool:
    """A request the visitor says they do not want: "I don't want to cancel", "don't refund"."""
    return bool(_DONT_START.search(text) or _NEGATION.search(text))


def is_rules_question(text: str) -> bool:
    """A question about how things work rather than a request to do something."""
    if _RULES.search(text):
        return True
    return bool(_GENERAL.search(text)) and not _MY.search(text)


# --- words ------------------------------------------------------------------------------

_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    [
        "a",
        "an",
        "the",
        "my",
        "me",
        "i",
        "to",
        "of",
        "for",
        "on",
        "in",
        "at",
        "is",
        "are",
        "be",
        "it",
        "and",
        "or",
        "with",
        "from",
        "by",
        "this",
        "that",
        "your",
        "you",
        "id",
        "item",
    ]
)


def _stem(word: str) -> str:
    return word[:5] if len(word) > 5 else word


def _stems(text: str) -> set[str]:
    return {_stem(w) for w in _WORD.findall(text.lower()) if w not in _STOP}


def _name_words(action: Action) -> set[str]:
    return {_stem(w) for w in action.name.split("_") if w and w not in _STOP}


# --- arguments --------------------------------------------------------------------------

_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
}  # fmt: skip
_MONTHS = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4,
    "apr": 4, "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8,
    "september": 9, "sept": 9, "sep": 9, "october": 10, "oct": 10, "november": 11, "nov": 11,
    "december": 12, "dec": 12,
}  # fmt: skip
_WEEKDAYS = {
    "monday": 0, "mon": 0, "tuesday": 1, "tue": 1, "tues": 1, "wednesday": 2, "wed": 2,
    "thursday": 3, "thu": 3, "thurs": 3, "friday": 4, "fri": 4, "saturday": 5, "sat": 5,
    "sunday": 6, "sun": 6,
}  # fmt: skip
_ENUM_VARIANTS = {
    "annual": ("annually", "yearly", "every year", "per year", "each year"),
    "annually": ("annual", "yearly", "every year", "per year"),
    "yearly": ("annual", "annually", "every year", "per year"),
    "monthly": ("every month", "per month", "each month", "month to month", "month-to-month"),
    "weekly": ("every week", "per week", "each week"),
    "daily": ("every day", "per day", "each day"),
    "quarterly": ("every quarter", "per quarter", "every three months"),
}

_MONTH_RE = "|".join(sorted(_MONTHS, key=len, reverse=True))
_DAY_RE = r"(?P<d>[0-3]?\d)(?:st|nd|rd|th)?"
_DATE_PATTERNS = (
    re.compile(r"\b(?P<y>\d{4})-(?P<m>\d{2})-(?P<dd>\d{2})\b"),
    re.compile(rf"\b{_DAY_RE}(?:\s+of)?\s+(?P<mon>{_MONTH_RE})\b\.?(?:\s+(?P<y>\d{{4}}))?", re.I),
    re.compile(rf"\b(?P<mon>{_MONTH_RE})\.?\s+{_DAY_RE}\b(?:,?\s+(?P<y>\d{{4}}))?", re.I),
)
_RELATIVE = re.compile(
    r"\b(?P<rel>day\s+after\s+tomorrow|tomorrow|today|next\s+week)\b|"
    r"\b(?:(?P<next>next|this|on)\s+)?(?P<wd>"
    + "|".join(sorted(_WEEKDAYS, key=len, reverse=True))
    + r")\b",
    re.IGNORECASE,
)
_AMOUNT = r"(?P<n>\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d+(?:[.,]\d{1,2})?)"
_MONEY_PATTERNS = (
    re.compile(rf"(?:[€$£]|\b(?:eur|usd|gbp)\b)\s?{_AMOUNT}(?![\d.,]*\d)", re.I),
    re.compile(
        rf"(?<![\w.,]){_AMOUNT}\s?(?:€|\$|£|(?P<unit>eur|euros?|usd|dollars?|gbp|pounds?|"
        r"bucks|cents?)\b)",
        re.I,
    ),
)
_ID_PATTERNS = (
    re.compile(r"(?<![\w-])([A-Za-z]{1,5}-\d{3,12})(?![\w-])"),
    re.compile(r"(?<![\w&])#\s?([A-Za-z0-9-]{3,20})\b"),
    re.compile(r"\b(?:order|parcel|package|number|no\.?|ref(?:erence)?)\s+(\d{4,12})\b", re.I),
)
_REASON = re.compile(r"(?:\breason\s*(?:is)?\s*[:\-]|\bbecause\b)\s*(?P<r>[^.!?\n]{3,})", re.I)
_TOKEN_STRIP = ".,;:!?()[]{}\"'«»"  # noqa: S105 - punctuation, not a secret


def _spans(text: str, patterns: tuple[re.Pattern[str], ...]) -> Iterator[re.Match[str]]:
    for pattern in patterns:
        yield from pattern.finditer(text)


def _dates(text: str, today: datetime.date) -> list[tuple[datetime.date, tuple[int, int]]]:
    found: list[tuple[datetime.date, tuple[int, int]]] = []
    for m in _spans(text, _DATE_PATTERNS):
        groups = m.groupdict()
        try:
            if groups.get("dd"):
                day = datetime.date(int(groups["y"]), int(groups["m"]), int(groups["dd"]))
            else:
                month = _MONTHS[groups["mon"].lower().rstrip(".")]
                year = int(groups["y"]) if groups.get("y") else today.year
                day = datetime.date(year, month, int(groups["d"]))
                if not groups.get("y") and day < today:
                    day = datetime.date(year + 1, month, int(groups["d"]))
        except ValueError:
            continue
        found.append((day, m.span()))
    for m in _RELATIVE.finditer(text):
        rel = (m.group("rel") or "").lower()
        if rel:
            rel = " ".join(rel.split())
            shift = {"today": 0, "tomorrow": 1, "day after tomorrow": 2}.get(rel)
            if shift is not None:
                day = today + datetime.timedelta(days=shift)
            else:  # next week: its Monday
                day = today + datetime.timedelta(days=7 - today.weekday())
        else:
            weekday = _WEEKDAYS[m.group("wd").lower()]
            if len(m.group("wd")) <= 3 and not m.group("next"):
                continue  # "sun", "sat", "wed" alone are too often other words
            ahead = (weekday - today.weekday()) % 7 or 7
            day = today + datetime.timedelta(days=ahead)
        found.append((day, m.span()))
    return found


def _money_cents(text: str) -> list[tuple[int, tuple[int, int]]]:
    found: list[tuple[int, tuple[int, int]]] = []
    for m in _spans(text, _MONEY_PATTERNS):
        raw = m.group("n")
        if re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?", raw):
            raw = raw.replace(",", "")
        raw = raw.replace(",", ".")
        unit = (m.groupdict().get("unit") or "").lower()
        if unit.startswith("cent"):
            if "." in raw:
                continue
            cents = int(raw)
        else:
            whole, _, frac = raw.partition(".")
            cents = int(whole) * 100 + int((frac + "00")[:2])
        found.append((cents, m.span()))
    return found


def _overlaps(span: tuple[int, int], taken: list[tuple[int, int]]) -> bool:
    return any(span[0] < end and start < span[1] for start, end in taken)


def _enum_value(text: str, values: list[Any]) -> Any:
    lowered = " ".join(text.lower().split())
    hits: list[tuple[Any, int]] = []
    for value in values:
        if not isinstance(value, str) or not value.strip():
            continue
        forms = {value.lower(), value.lower().replace("_", " "), value.lower().replace("-", " ")}
        forms.update(_ENUM_VARIANTS.get(value.lower(), ()))
        for form in forms:
            for m in re.finditer(rf"(?<![\w-]){re.escape(form)}(?![\w-])", lowered):
                hits.append((value, m.start()))
    named = {v for v, _ in hits}
    if len(named) == 1:
        return next(iter(named))
    if len(named) > 1:  # "from premium to basic": the one it goes to
        targets = {
            v for v, at in hits if re.search(r"\b(?:to|onto|into)\s+(?:the\s+)?$", lowered[:at])
        }
        sources = {v for v, at in hits if re.search(r"\bfrom\s+(?:the\s+)?$", lowered[:at])}
        if len(targets) == 1:
            return next(iter(targets))
        rest = named - sources
        if len(rest) == 1:
            return next(iter(rest))
    return None


def _counted(text: str, name: str, taken: list[tuple[int, int]]) -> int | None:
    """An integer said with the parameter's unit: ``months`` ← "two months", "3 months"."""
    unit = name.lower().split("_")[-1]
    unit = unit[:-1] if unit.endswith("s") and len(unit) > 3 else unit
    number = r"(?P<n>\d{1,6}|" + "|".join(_NUMBER_WORDS) + ")"
    pattern = re.compile(rf"(?<![\w.,#-]){number}\s+{re.escape(unit)}s?\b", re.IGNORECASE)
    values = set()
    for m in pattern.finditer(text):
        if _overlaps(m.span(), taken):
            continue
        raw = m.group("n").lower()
        values.add(_NUMBER_WORDS[raw] if raw in _NUMBER_WORDS else int(raw))
    return values.pop() if len(values) == 1 else None


def _identifier(text: str, schema: dict[str, Any], name: str) -> str | None:
    if isinstance(schema.get("pattern"), str):
        try:
            pattern = re.compile(schema["pattern"])
        except re.error:
            return None
        for token in text.split():
            word = token.strip(_TOKEN_STRIP)
            if word and pattern.search(word):
                return word
        return None
    if name == "order_id" or name.endswith("_id"):
        found = [(m.start(), m.group(1)) for m in _spans(text, _ID_PATTERNS)]
        if found:
            return min(found)[1]
    return None


def _single(values: list[Any]) -> Any:
    distinct = list(dict.fromkeys(values))
    return distinct[0] if len(distinct) == 1 else None


_VALIDATORS: dict[str, Draft202012Validator] = {}
_VALIDATORS_LOCK = threading.Lock()


def _valid(schema: dict[str, Any], value: Any) -> bool:
    key = repr(sorted(schema.items(), key=lambda kv: kv[0]))
    with _VALIDATORS_LOCK:
        validator = _VALIDATORS.get(key)
        if validator is None:
            clean = {k: v for k, v in schema.items() if k != "from"}
            validator = Draft202012Validator(clean, format_checker=FormatChecker())
            if len(_VALIDATORS) < 1024:
                _VALIDATORS[key] = validator
    return bool(validator.is_valid(value))


def extract_arguments(action: Action, text: str, *, today: datetime.date) -> dict[str, Any]:
    """What ``text`` says for the action's parameters: only values it states, each valid for
    its schema; bound (``from:``) parameters are never filled."""
    text = text[: EMBED_CHARS * 4]
    dates = _dates(text, today)
    money = _money_cents(text)
    taken = [span for _, span in dates] + [span for _, span in money]
    arguments: dict[str, Any] = {}
    for name, schema in action.properties().items():
        if not isinstance(schema, dict) or "from" in schema:
            continue
        kind = schema.get("type")
        value: Any = None
        if isinstance(schema.get("enum"), list):
            value = _enum_value(text, schema["enum"])
        elif kind == "integer" and name.endswith("_cents"):
            value = _single([cents for cents, _ in money])
        elif kind == "integer":
            value = _counted(text, name, taken)
        elif kind == "string" and schema.get("format") == "date":
            value = _single([day for day, _ in dates])
            value = value.isoformat() if value is not None else None
        elif kind == "string" and ("pattern" in schema or name.endswith("_id")):
            value = _identifier(text, schema, name)
        elif kind == "string" and name == "reason":
            m = _REASON.search(text)
            value = m.group("r").strip() if m else None
        if value is not None and _valid(schema, value):
            arguments[name] = value
    return arguments


# --- the matcher ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Texts:
    owners: list[int]
    vectors: Vectors


def _action_texts(action: Action) -> list[str]:
    return [action.description, *action.examples, action.name.replace("_", " ")]


class ActionMatcher:
    """Maps a message to at most one declared action (thread-safe; one per process is enough)."""

    def __init__(
        self,
        embedder: Embedder,
        *,
        threshold: float = DEFAULT_THRESHOLD,
        margin: float = DEFAULT_MARGIN,
    ) -> None:
        self._embedder = embedder
        self.threshold = threshold
        self.margin = margin
        self._cache: OrderedDict[str, _Texts] = OrderedDict()
        self._lock = threading.Lock()

    def _texts(self, actions: ActionSet) -> _Texts:
        texts: list[str] = []
        owners: list[int] = []
        for index, action in enumerate(actions.actions):
            for text in _action_texts(action):
                texts.append(text)
                owners.append(index)
        digest = hashlib.sha256(
            "\x00".join(
                [self._embedder.name, *(f"{o}\x01{t}" for o, t in zip(owners, texts, strict=True))]
            ).encode("utf-8", "surrogatepass")
        ).hexdigest()
        with self._lock:
            cached = self._cache.get(digest)
            if cached is not None:
                self._cache.move_to_end(digest)
                return cached
        built = _Texts(owners, self._embedder.embed(texts))
        with self._lock:
            self._cache[digest] = built
            while len(self._cache) > _CACHE_SETS:
                self._cache.popitem(last=False)
        return built

    def scores(
        self, actions: ActionSet, text: str, *, today: datetime.date
    ) -> list[tuple[float, Action, dict[str, Any]]]:
        """Every action's combined score for ``text``, best first, with its arguments."""
        message = " ".join(text[:EMBED_CHARS].split())
        if not message or not actions.actions:
            return []
        texts = self._texts(actions)
        vector = self._embedder.embed([message])[0]
        similarity = texts.vectors @ vector
        best = np.full(len(actions.actions), -1.0)
        for owner, value in zip(texts.owners, similarity.tolist(), strict=True):
            best[owner] = max(best[owner], value)
        words = _stems(message)
        ranked: list[tuple[float, Action, dict[str, Any]]] = []
        for index, action in enumerate(actions.actions):
            arguments = extract_arguments(action, message, today=today)
            score = float(best[index])
            score += _NAME_BONUS * len(_name_words(action) & words)
            if any(
                isinstance(s.get("enum"), list) and n in arguments
                for n, s in action.properties().items()
            ):
                score += _ENUM_BONUS
            score += _ARG_BONUS * len(arguments)
            required = [
                n
                for n in action.parameters.get("required", [])
                if "from" not in action.properties().get(n, {})
            ]
            if required and all(n in arguments for n in required):
                score += _ALL_REQUIRED_BONUS
            ranked.append((min(1.0, max(0.0, score)), action, arguments))
        ranked.sort(key=lambda r: (-r[0], r[1].name))
        return ranked

    def match(
        self, actions: ActionSet, text: str, *, today: datetime.date, lang: str = "en"
    ) -> Match | None:
        """The one action ``text`` asks for, with what it says of the arguments, or None."""
        if lang.split("-", maxsplit=1)[0].lower() != "en":
            return None  # the offline embedder and the rules below read English
        head = text[:EMBED_CHARS]
        if is_negated(head) or is_rules_question(head):
            return None
        ranked = self.scores(actions, text, today=today)
        if not ranked:
            return None
        score, action, arguments = ranked[0]
        second = ranked[1][0] if len(ranked) > 1 else 0.0
        if score < self.threshold or score - second < self.margin:
            return None
        return Match(action=action.name, arguments=arguments, confidence=round(score, 4))
