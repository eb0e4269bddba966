"""Calls a declared action's HTTP endpoint: guarded, bounded, retried only when that is safe.

Every call goes through :class:`bpract.net.Outbound` (private, loopback and
link-local targets refused unless allow-listed, a size cap, timeouts), built
by :func:`action_outbound` so that it follows **no redirect at all**: a
business API that answers a confirmed write with a redirect is refused rather
than followed, even within its own origin, so the call can never end up on a
path or a method nobody declared.

Path parameters are percent-encoded as whole segments; a value that could
leave the declared path (empty, ``.``/``..``, ``/``, ``\\``, ``%``, control
characters) is refused, not repaired, and the final URL is checked to stay on
the base URL's origin and under its path.  Reads, and writes that carry an
idempotency key (sent as ``Idempotency-Key``), are retried a bounded number of
times with backoff on connection errors, 429 and 5xx; nothing else is.  Logs
name the action's host and status, never a path, an argument, a body or a
secret.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import quote, urlencode, urlsplit

import httpx2
import msgspec

from bpract.errors import BpractError
from bpract.net import (
    NetSettings,
    Outbound,
    OutboundError,
    OutboundFailedError,
    OutboundTimeoutError,
    RedirectRefusedError,
    ResponseTooLargeError,
    TargetRefusedError,
    origin_of,
)

__all__ = [
    "ActionCallError",
    "Auth",
    "Call",
    "CallResult",
    "Failure",
    "Limits",
    "action_outbound",
    "build_url",
    "execute",
]

log = logging.getLogger("bpract.actions")

Kind = Literal["read", "write"]
Scalar = str | int | float | bool
Failure = Literal[
    "invalid_call",  # the call itself is not one we may make (method, URL, header, parameter)
    "auth_missing",  # the auth secret's environment variable is not set
    "target_refused",  # a private, loopback… address not allow-listed
    "redirect_refused",  # the API answered with a redirect
    "too_large",  # the body passed the size cap
    "timeout",  # connect, read or total time limit
    "unreachable",  # connection errors, after the retries allowed
]

_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")
#: Headers the executor sets itself (or the HTTP client does); a call may not supply them.
_RESERVED_HEADERS = frozenset(
    {"host", "content-length", "transfer-encoding", "connection", "idempotency-key", "cookie"}
)
_MAX_PARAM = 200
_MAX_KEY = 255


class ActionCallError(BpractError):
    """An action's HTTP call was refused or failed; ``reason`` is one :data:`Failure` code."""

    def __init__(self, reason: Failure, detail: str, *, attempts: int = 0) -> None:
        super().__init__(detail)
        self.reason: Failure = reason
        self.attempts = attempts


@dataclass(frozen=True, slots=True, kw_only=True)
class Auth:
    """A header whose value is read from an environment variable when the call is made."""

    variable: str
    """The environment variable that holds the secret (the name is declared, never the value)."""
    header: str = "Authorization"
    prefix: str = "Bearer "
    """Put before the secret (``"Bearer "``; ``""`` for an API-key header)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Call:
    """One HTTP request an action makes, arguments already validated and bound."""

    method: str
    base_url: str
    """The declared base URL: ``https://api.example.com/v1``; the call stays under it."""
    path: str
    """A template under the base URL, ``/accounts/{account_id}/refunds``."""
    kind: Kind
    path_params: Mapping[str, str | int] = field(default_factory=dict)
    query: Mapping[str, Scalar | list[Scalar]] = field(default_factory=dict)
    body: object = None
    """Sent as JSON when not None (never with GET)."""
    headers: Mapping[str, str] = field(default_factory=dict)
    auth: Auth | None = None
    idempotency_key: str | None = None
    """Sent as ``Idempotency-Key``; a write is retried only when it has one."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    """Bounds of one call; the defaults suit a business API answering a chat."""

    max_bytes: int = 1024 * 1024
    """Largest response body read."""
    max_text: int = 4000
    """Characters of a non-JSON body kept in the result."""
    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    total_timeout: float = 15.0
    """Seconds one attempt may take in all."""
    attempts: int = 3
    """Tries in all for a call that may be retried (1: never retried)."""
    backoff: float = 0.25
    """Seconds before the first retry; doubled for each next one."""
    max_backoff: float = 2.0
    """Longest wait before a retry, a ``Retry-After`` included."""


@dataclass(frozen=True, slots=True)
class CallResult:
    """The API's answer: status, the body as JSON (or as capped text), time and tries."""

    status: int
    json: object
    """The decoded body when the API answered JSON, else None."""
    text: str | None
    """The body as text (at most :attr:`Limits.max_text` characters) when it is not JSON."""
    elapsed: float
    """Seconds from the first attempt to the last answer, waits included."""
    attempts: int

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def action_outbound(
    settings: NetSettings | None = None,
    *,
    allow: Iterable[str] = (),
    allow_private: bool = False,
    limits: Limits | None = None,
) -> Outbound:
    """The guarded client for action calls: ``settings``' allow-list plus ``allow`` (the
    declared base URL when the site allow-lists it), the limits' timeouts and cap, and no
    redirects followed."""
    limits = limits or Limits()
    net = dataclasses.replace(
        settings or NetSettings(),
        max_redirects=0,
        max_bytes=limits.max_bytes,
        connect_timeout=limits.connect_timeout,
        read_timeout=limits.read_timeout,
        total_timeout=limits.total_timeout,
    )
    return Outbound(net, allow=allow, allow_private=allow_private)


def _segment(name: str, value: str | int) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ActionCallError("invalid_call", f"path parameter {name!r} must be text or a number")
    text = str(value)
    checks = (
        (not text, "is empty"),
        (text in {".", ".."}, "is a dot segment"),
        (len(text) > _MAX_PARAM, f"is longer than {_MAX_PARAM} characters"),
        (any(c in text for c in "/\\%"), "contains a slash, a backslash or a percent sign"),
        (any(ord(c) < 0x20 or ord(c) == 0x7F for c in text), "contains a control character"),
    )
    problem = next((why for hit, why in checks if hit), None)
    if problem:
        raise ActionCallError("invalid_call", f"path parameter {name!r} {problem}; refused")
    return quote(text, safe="")


def _check_base(base_url: str) -> tuple[str, str]:
    parts = urlsplit(base_url)
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ActionCallError(
            "invalid_call", "the base URL must not carry a query, a fragment or credentials"
        )
    try:
        origin_of(base_url)
    except OutboundError as exc:
        raise ActionCallError("invalid_call", exc.detail) from None
    prefix = parts.path.rstrip("/")
    if any(seg in {".", ".."} for seg in prefix.split("/")):
        raise ActionCallError("invalid_call", "the base URL's path has a dot segment")
    return f"{parts.scheme}://{parts.netloc}", prefix


def build_url(call: Call) -> str:
    """The URL ``call`` goes to, or :class:`ActionCallError` if it could leave its base."""
    origin, prefix = _check_base(call.base_url)
    template = call.path
    if not template.startswith("/") or any(c in template for c in "?#\\%"):
        raise ActionCallError(
            "invalid_call", "the path template must start with / and hold no ?, #, \\ or %"
        )
    names = _PLACEHOLDER.findall(template)
    missing = sorted(set(names) - set(call.path_params))
    extra = sorted(set(call.path_params) - set(names))
    if missing or extra:
        raise ActionCallError(
            "invalid_call",
            f"path parameters do not match the template (missing {missing}, unknown {extra})",
        )
    literal = _PLACEHOLDER.sub("", template)
    if "{" in literal or "}" in literal or any(s in {".", ".."} for s in literal.split("/")):
        raise ActionCallError("invalid_call", "the path template is malformed")
    path = _PLACEHOLDER.sub(lambda m: _segment(m[1], call.path_params[m[1]]), template)
    url = f"{origin}{prefix}{path}"
    if call.query:
        url += "?" + urlencode(
            {k: _query_value(v) for k, v in call.query.items()}, doseq=True, quote_via=quote
        )
    _check_final(url, call.base_url, prefix)
    return url


def _query_value(value: Scalar | list[Scalar]) -> str | list[str]:
    if isinstance(value, list):
        return [_scalar(v) for v in value]
    return _scalar(value)


def _scalar(value: Scalar) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _check_final(url: str, base_url: str, prefix: str) -> None:
    # What the HTTP client will send (it removes dot segments): still on the base's origin,
    # still under its path.
    final = httpx2.URL(url)
    path = final.raw_path.split(b"?", 1)[0].decode("ascii")
    if origin_of(str(final)) != origin_of(base_url) or not (
        path == prefix or path.startswith(prefix + "/")
    ):
        raise ActionCallError("invalid_call", "the call's URL leaves its base URL; refused")


def _headers(call: Call, environ: Mapping[str, str]) -> dict[str, str]:
    headers: dict[str, str] = {"Accept": "application/json"}
    for name, value in call.headers.items():
        if not _HEADER_NAME.match(name) or name.lower() in _RESERVED_HEADERS:
            raise ActionCallError("invalid_call", f"header {name!r} may not be set by an action")
        if any(c in value for c in "\r\n\0"):
            raise ActionCallError("invalid_call", f"header {name!r} has a line break")
        headers[name] = value
    if call.auth is not None:
        secret = environ.get(call.auth.variable)
        if not secret:
            raise ActionCallError(
                "auth_missing", f"the environment variable {call.auth.variable} is not set"
            )
        if any(c in secret for c in "\r\n\0"):
            raise ActionCallError(
                "invalid_call", f"the environment variable {call.auth.variable} has a line break"
            )
        headers[call.auth.header] = call.auth.prefix + secret
    if call.idempotency_key is not None:
        key = call.idempotency_key
        if not key or len(key) > _MAX_KEY or not key.isascii() or not key.isprintable():
            raise ActionCallError(
                "invalid_call", f"the idempotency key must be 1-{_MAX_KEY} printable characters"
            )
        headers["Idempotency-Key"] = key
    return headers


def _prepare(
    call: Call, environ: Mapping[str, str]
) -> tuple[str, str, dict[str, str], bytes | None]:
    method = call.method.upper()
    if method not in _METHODS:
        raise ActionCallError("invalid_call", f"method {call.method!r} is not allowed")
    url = build_url(call)
    headers = _headers(call, environ)
    content = None
    if call.body is not None:
        if method == "GET":
            raise ActionCallError("invalid_call", "a GET call carries no body")
        try:
            content = msgspec.json.encode(call.body)
        except (TypeError, msgspec.EncodeError) as exc:
            raise ActionCallError("invalid_call", f"the body is not JSON ({exc})") from None
        headers["Content-Type"] = "application/json"
    return method, url, headers, content


def _retriable(call: Call) -> bool:
    return call.kind == "read" or call.idempotency_key is not None


def _wait(attempt: int, limits: Limits, retry_after: str | None) -> float:
    wait: float = limits.backoff * 2.0 ** (attempt - 1)
    if retry_after is not None and retry_after.strip().isdigit():
        wait = max(wait, float(retry_after.strip()))
    return min(wait, limits.max_backoff)


def _result(headers: httpx2.Headers, body: bytes, limits: Limits) -> tuple[object, str | None]:
    media = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if body and (media == "application/json" or media.endswith("+json")):
        try:
            return msgspec.json.decode(body), None
        except msgspec.DecodeError:
            pass
    return None, body.decode("utf-8", "replace")[: limits.max_text]


def _failure(exc: OutboundError, host: str, attempts: int) -> ActionCallError:
    kinds: tuple[tuple[type[OutboundError], Failure], ...] = (
        (TargetRefusedError, "target_refused"),
        (RedirectRefusedError, "redirect_refused"),
        (ResponseTooLargeError, "too_large"),
        (OutboundTimeoutError, "timeout"),
    )
    reason: Failure = next((r for kind, r in kinds if isinstance(exc, kind)), "unreachable")
    detail = {
        "target_refused": exc.detail,
        "redirect_refused": f"{host} answered with a redirect; action calls follow none",
        "too_large": f"{host} answered more than the size cap",
        "timeout": f"{host} did not answer in time",
        "unreachable": f"{host} could not be reached",
    }[reason]
    return ActionCallError(reason, detail, attempts=attempts)


async def execute(
    call: Call,
    outbound: Outbound,
    *,
    limits: Limits | None = None,
    environ: Mapping[str, str] | None = None,
) -> CallResult:
    """Make ``call`` through ``outbound`` (from :func:`action_outbound`); the API's answer,
    whatever its status, or :class:`ActionCallError` when no answer could be had."""
    limits = limits or Limits()
    if outbound.settings.max_redirects != 0:
        raise ActionCallError(
            "invalid_call", "action calls need an outbound that follows no redirect"
        )
    method, url, headers, content = _prepare(call, os.environ if environ is None else environ)
    host = origin_of(url)[1]
    tries = max(1, limits.attempts) if _retriable(call) else 1
    started = time.monotonic()
    for attempt in range(1, tries + 1):
        try:
            fetched = await outbound.fetch(
                method, url, content=content, headers=headers, max_bytes=limits.max_bytes
            )
        except OutboundFailedError as exc:
            if attempt < tries:
                log.info("action call to %s failed to connect; retrying", host)
                await asyncio.sleep(_wait(attempt, limits, None))
                continue
            error = _failure(exc, host, attempt)
            log.warning("action call to %s: %s", host, error.reason)
            raise error from None
        except OutboundError as exc:
            error = _failure(exc, host, attempt)
            log.warning("action call to %s: %s", host, error.reason)
            raise error from None
        status = fetched.status
        if (status == 429 or status >= 500) and attempt < tries:
            log.info("action call to %s: status %d; retrying", host, status)
            await asyncio.sleep(_wait(attempt, limits, fetched.headers.get("retry-after")))
            continue
        if 300 <= status < 400:
            log.warning("action call to %s: status %d (a redirect, not followed)", host, status)
            raise ActionCallError(
                "redirect_refused",
                f"{host} answered with a redirect ({status}); action calls follow none",
                attempts=attempt,
            )
        json_body, text = _result(fetched.headers, fetched.body, limits)
        elapsed = time.monotonic() - started
        log.info("action call to %s: status %d in %.0f ms", host, status, elapsed * 1000)
        return CallResult(status, json_body, text, elapsed, attempt)
    raise AssertionError("unreachable: the last attempt returns or raises")
