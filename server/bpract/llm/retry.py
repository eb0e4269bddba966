"""Retry policy for one provider: backoff with jitter, Retry-After honoured up to a cap."""

from __future__ import annotations

import random

from bpract.llm.errors import ProviderError, RateLimitedError
from bpract.llm.policy import RetrySpec

__all__ = ["retry_delay"]


def retry_delay(spec: RetrySpec, error: ProviderError, attempt: int) -> float | None:
    """Seconds to wait before retry number ``attempt`` (0-based), or None to move on."""
    if not error.retryable or attempt + 1 >= spec.attempts:
        return None
    if isinstance(error, RateLimitedError) and error.retry_after is not None:
        # Waiting longer than the cap would stall the visitor: the next provider answers instead.
        return error.retry_after if error.retry_after <= spec.max_retry_after_s else None
    backoff = min(spec.max_delay_s, spec.base_delay_s * 2.0**attempt)
    return backoff * random.uniform(0.5, 1.0)
