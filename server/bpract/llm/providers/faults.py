"""Turn the SDKs' and transports' exceptions into the gateway's error tree."""

from __future__ import annotations

import email.utils
import time

import anthropic
import httpx2
import openai

from bpract.llm.errors import (
    MalformedResponseError,
    ProviderError,
    ProviderRejectedError,
    ProviderTimeoutError,
    ProviderUnavailableError,
    RateLimitedError,
)
from bpract.net import OutboundError

__all__ = ["SDK_ERRORS", "provider_error", "retry_after"]

#: Exceptions a provider call may raise that :func:`provider_error` understands.
SDK_ERRORS: tuple[type[BaseException], ...] = (
    anthropic.APIError,
    openai.APIError,
    httpx2.HTTPError,
    OutboundError,  # the guard refused the endpoint (some SDKs pass it on unwrapped)
    ValueError,  # json.JSONDecodeError from a body that is not JSON
)

_TIMEOUTS = (anthropic.APITimeoutError, openai.APITimeoutError, httpx2.TimeoutException)
_CONNECTION = (
    anthropic.APIConnectionError,
    openai.APIConnectionError,
    httpx2.TransportError,
    OutboundError,
)
_STATUS = (anthropic.APIStatusError, openai.APIStatusError)


def retry_after(headers: httpx2.Headers) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or ``retry-after`` (seconds or an HTTP date)."""
    raw_ms = headers.get("retry-after-ms")
    if raw_ms:
        try:
            return max(0.0, float(raw_ms) / 1000)
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(raw) if raw else None
        return None if parsed is None else max(0.0, parsed.timestamp() - time.time())


def provider_error(provider: str, exc: BaseException, *, mid_stream: bool = False) -> ProviderError:
    """The gateway error for ``exc`` raised while calling ``provider``.

    A transport failure after a stream has begun is a cut stream: the answer is
    incomplete, whatever broke the connection.
    """
    if isinstance(exc, ProviderError):
        return exc
    if mid_stream and isinstance(exc, _CONNECTION) and not isinstance(exc, _TIMEOUTS):
        return MalformedResponseError(provider, f"stream cut: {type(exc).__name__}")
    if isinstance(exc, _TIMEOUTS):
        return ProviderTimeoutError(provider, "timed out")
    if isinstance(exc, _STATUS):
        return _status_error(provider, exc.status_code, exc.response.headers)
    if isinstance(exc, _CONNECTION):
        return _connection_error(provider, exc)
    return MalformedResponseError(provider, f"unreadable answer: {type(exc).__name__}")


def _connection_error(provider: str, exc: BaseException) -> ProviderError:
    refused = _outbound_cause(exc)
    if refused is not None:  # the guard refused the endpoint: retrying cannot help
        return ProviderRejectedError(provider, refused.detail)
    return ProviderUnavailableError(provider, f"connection failed: {type(exc).__name__}")


def _outbound_cause(exc: BaseException) -> OutboundError | None:
    """The guard's refusal an SDK wrapped in its connection error, if that is what it is."""
    seen: BaseException | None = exc
    for _ in range(8):  # a short chain: SDK error → transport error → the guard's
        if seen is None or isinstance(seen, OutboundError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _status_error(provider: str, status: int, headers: httpx2.Headers) -> ProviderError:
    if status == 429:
        return RateLimitedError(provider, "rate limited (429)", retry_after(headers))
    if status >= 500:
        return ProviderUnavailableError(provider, f"server error ({status})")
    if status in (408, 409):
        return ProviderUnavailableError(provider, f"retryable status ({status})")
    return ProviderRejectedError(provider, f"request refused ({status})")
