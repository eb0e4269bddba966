"""The provider interface every model backend implements."""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator

from bpract.llm.types import ChatRequest, Completion, StreamEvent

__all__ = ["Provider"]


class Provider(abc.ABC):
    """One model backend; errors are raised as :class:`bpract.llm.errors.ProviderError`."""

    name: str
    """The name routing policies use for this provider (``"anthropic"``, ``"local"``…)."""

    @abc.abstractmethod
    async def complete(self, request: ChatRequest, *, model: str, time_limit: float) -> Completion:
        """Answer ``request`` in one piece."""

    @abc.abstractmethod
    def stream(
        self, request: ChatRequest, *, model: str, time_limit: float
    ) -> AsyncIterator[StreamEvent]:
        """Answer ``request`` piece by piece; the last event is ``Finished`` with usage."""

    async def aclose(self) -> None:  # noqa: B027 - optional hook, most providers hold nothing
        """Release connections."""
