"""Exceptions raised by the model gateway.

The hierarchy::

    LLMError
    ├── ProviderError ─────────── one provider call failed (``provider`` names it)
    │   ├── RateLimitedError ──── 429; ``retry_after`` seconds when the provider said
    │   ├── ProviderUnavailableError  5xx, connection refused or reset
    │   ├── ProviderTimeoutError  no answer in time
    │   ├── MalformedResponseError  bad JSON, or a stream cut before its end
    │   │   └── OutputInvalidError  structured output failed validation
    │   └── ProviderRejectedError  4xx other than 429 (bad key, bad request): not retried
    ├── NoCompliantRouteError ─── compliance rules leave no provider for this data
    ├── BudgetExceededError ───── a hard budget leaves no room for the call
    ├── AllProvidersFailedError ─ every provider of the fallback chain failed
    └── PolicyInvalidError ────── a routing policy file does not parse
"""

from __future__ import annotations

from bpract.errors import BpractError

__all__ = [
    "AllProvidersFailedError",
    "BudgetExceededError",
    "LLMError",
    "MalformedResponseError",
    "NoCompliantRouteError",
    "OutputInvalidError",
    "PolicyInvalidError",
    "ProviderError",
    "ProviderRejectedError",
    "ProviderTimeoutError",
    "ProviderUnavailableError",
    "RateLimitedError",
]


class LLMError(BpractError):
    """Root of the gateway's exceptions; ``detail`` says what happened."""


class ProviderError(LLMError):
    """One call to one provider failed."""

    retryable = True

    def __init__(self, provider: str, detail: str) -> None:
        super().__init__(f"{provider}: {detail}")
        self.provider = provider


class RateLimitedError(ProviderError):
    """The provider answered 429."""

    retry_after: float | None

    def __init__(self, provider: str, detail: str, retry_after: float | None) -> None:
        super().__init__(provider, detail)
        self.retry_after = retry_after


class ProviderUnavailableError(ProviderError):
    """A 5xx answer or a broken connection."""


class ProviderTimeoutError(ProviderError):
    """The provider did not answer in time."""


class MalformedResponseError(ProviderError):
    """The answer did not parse, or a stream ended before its final event."""


class ProviderRejectedError(ProviderError):
    """A 4xx answer other than 429: retrying the same call cannot help."""

    retryable = False


class OutputInvalidError(MalformedResponseError):
    """Structured output did not validate against the requested type."""


class NoCompliantRouteError(LLMError):
    """No provider allowed by the compliance rules is configured for this call."""


class BudgetExceededError(LLMError):
    """A hard budget limit leaves no room for this call."""

    def __init__(self, detail: str, scope: str) -> None:
        super().__init__(detail)
        self.scope = scope


class AllProvidersFailedError(LLMError):
    """Every candidate of the fallback chain failed; ``errors`` holds each failure."""

    def __init__(self, errors: list[ProviderError]) -> None:
        super().__init__("; ".join(e.detail for e in errors) or "no provider was tried")
        self.errors = errors


class PolicyInvalidError(LLMError):
    """A routing policy could not be read."""
