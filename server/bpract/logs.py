"""What the server's logs may hold: no message bodies, identity hashes, card numbers or secrets.

Two walls. First, the libraries that log request or response bodies at DEBUG
(the model SDKs, httpx/httpcore, the WebSocket stack) are kept at INFO (httpx at
WARNING: its INFO line names whole URLs) unless ``BPRACT_LOG_BODIES`` turns bodies
on (:func:`quiet_body_loggers`); our own code never logs a body. Second, every log
record is redacted when it is made (:func:`install`, a record factory, so no handler
configured later can miss it): card-like numbers (13–19 digits, spaces or dashes
between, Luhn-valid), 64-hex digests (identity hashes), and known secret shapes
(model API keys, our admin tokens and identity secrets, bearer tokens, API-key
headers). :class:`Redact` does the same as a ``logging.Filter`` for a handler
configured elsewhere.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from typing import Any, Final

__all__ = [
    "BODY_LOGGERS",
    "Redact",
    "install",
    "luhn_valid",
    "quiet_body_loggers",
    "redact",
    "redact_record",
]

#: Loggers that write bodies or headers at DEBUG, and the level each is capped at unless
#: bodies are on. httpx's INFO line names the whole URL, which for a webhook is its secret.
BODY_LOGGERS: Final[Mapping[str, int]] = {
    "openai": logging.INFO,
    "anthropic": logging.INFO,
    "httpx": logging.WARNING,
    "httpx2": logging.WARNING,
    "httpcore": logging.INFO,
    "httpcore2": logging.INFO,
    "websockets": logging.INFO,
    "uvicorn.error": logging.INFO,
    "uvicorn.protocols": logging.INFO,
    "hpack": logging.INFO,
}

_CARD: Final = re.compile(r"(?<![\w-])\d(?:[ -]?\d){12,18}(?![\w-])")
_HEX_DIGEST: Final = re.compile(r"(?<![0-9A-Fa-f])[0-9A-Fa-f]{64}(?![0-9A-Fa-f])")
_SECRETS: Final = (
    # model API keys (OpenAI, Anthropic, OpenRouter …), our admin tokens and identity secrets
    re.compile(r"\b(?:sk-[A-Za-z0-9_\-]{8,}|bpa_[A-Za-z0-9_\-]{16,}|sk_[A-Za-z0-9_\-]{16,})"),
    # "Authorization: Bearer x", "'x-api-key': 'x'", "api_key=x", "token=x"
    re.compile(
        r"(?i)((?:authorization|x-api-key|api[_-]?key|token|secret|password)['\"]?\s*[:=]\s*"
        r"['\"]?(?:bearer\s+|basic\s+)?)[^\s'\",;&]+"
    ),
    re.compile(r"(?i)(\bbearer\s+)[A-Za-z0-9._~+/=\-]{8,}"),
)


def luhn_valid(digits: str) -> bool:
    """The Luhn checksum every payment card number satisfies."""
    total = 0
    for i, char in enumerate(reversed(digits)):
        n = int(char)
        if i % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def _card(match: re.Match[str]) -> str:
    digits = re.sub(r"[ -]", "", match[0])
    return "[card]" if 13 <= len(digits) <= 19 and luhn_valid(digits) else match[0]


def redact(text: str) -> str:
    """``text`` with card-like numbers, 64-hex digests and secrets replaced."""
    text = _CARD.sub(_card, text)
    text = _HEX_DIGEST.sub("[hash]", text)
    for pattern in _SECRETS:
        text = pattern.sub(lambda m: (m[1] if m.lastindex else "") + "[secret]", text)
    return text


class _Redacted:
    """An argument shown through ``%s`` or ``%r``, redacted either way."""

    __slots__ = ("_value",)

    def __init__(self, value: object) -> None:
        self._value = value

    def __str__(self) -> str:
        return redact(str(self._value))

    def __repr__(self) -> str:
        return redact(repr(self._value))


def _arg(value: object) -> object:
    if isinstance(value, (bool, int, float)) or value is None:
        return value  # "%d" and friends keep working
    if isinstance(value, str):
        return redact(value)
    return _Redacted(value)


def redact_record(record: logging.LogRecord) -> None:
    """Redact ``record`` in place: its message, its arguments, its exception text."""
    if isinstance(record.msg, str):
        record.msg = redact(record.msg)
    else:
        record.msg = _Redacted(record.msg)
    if isinstance(record.args, Mapping):
        record.args = {k: _arg(v) for k, v in record.args.items()}
    elif record.args:
        record.args = tuple(_arg(a) for a in record.args)
    if record.exc_info and not record.exc_text:
        record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


class Redact(logging.Filter):
    """A filter that redacts every record it sees (see :func:`redact_record`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True


class _Factory:
    """The record factory that was in place, with every record it makes redacted."""

    def __init__(self, inner: Callable[..., logging.LogRecord]) -> None:
        self.inner = inner

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self.inner(*args, **kwargs)
        redact_record(record)
        return record


def install() -> None:
    """Redact every log record of this process as it is made (idempotent)."""
    current = logging.getLogRecordFactory()
    if not isinstance(current, _Factory):
        logging.setLogRecordFactory(_Factory(current))


def quiet_body_loggers(bodies: bool) -> None:
    """Cap :data:`BODY_LOGGERS` unless ``bodies`` (``BPRACT_LOG_BODIES``) is on.

    Call it after whatever else configures logging (uvicorn does, when it starts).
    """
    if bodies:
        return
    for name, cap in BODY_LOGGERS.items():
        logger = logging.getLogger(name)
        if logger.level < cap:  # NOTSET too: it would follow the root down to DEBUG
            logger.setLevel(cap)
