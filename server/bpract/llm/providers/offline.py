"""The provider that needs no network and no key: extractive answers from knowledge-base context."""

from __future__ import annotations

from collections.abc import AsyncIterator

from bpract.llm.errors import ProviderRejectedError
from bpract.llm.providers.base import Provider
from bpract.llm.types import ChatRequest, Completion, Finished, StreamEvent, TextDelta, Usage
from bpract.text import quote

__all__ = ["NO_KNOWLEDGE", "OFFLINE_PREFIX", "OfflineProvider"]

OFFLINE_PREFIX = "(Offline answer, taken from this site's help pages.) "
NO_KNOWLEDGE = (
    "(Offline.) I can't answer this myself right now. "
    "I can pass your question to a person on the team."
)


class OfflineProvider(Provider):
    """Answers with the knowledge sentences closest to the question, and says it is offline."""

    def __init__(self, name: str = "offline", *, sentences: int = 2) -> None:
        self.name = name
        self._sentences = sentences

    async def complete(self, request: ChatRequest, *, model: str, time_limit: float) -> Completion:
        if request.response_schema is not None:
            raise ProviderRejectedError(self.name, "offline: no structured output without a model")
        return Completion(text=self.answer(request), usage=Usage(), provider=self.name, model=model)

    async def stream(
        self, request: ChatRequest, *, model: str, time_limit: float
    ) -> AsyncIterator[StreamEvent]:
        completion = await self.complete(request, model=model, time_limit=time_limit)
        yield TextDelta(text=completion.text)
        yield Finished(completion=completion)

    def answer(self, request: ChatRequest) -> str:
        """The extractive answer: the best knowledge sentences for the last question, in order."""
        question = next((m.content for m in reversed(request.messages) if m.role == "user"), "")
        knowledge = [p.text for p in request.system if p.kind == "knowledge"]
        found = quote(question, knowledge, most=self._sentences)
        if not found:
            return NO_KNOWLEDGE
        return OFFLINE_PREFIX + " ".join(q.sentence for q in found)
