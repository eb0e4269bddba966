"""The provider that needs no network and no key: extractive answers from knowledge-base context."""

from __future__ import annotations

from collections.abc import AsyncIterator

from bpract.llm.errors import ProviderRejectedError
from bpract.llm.providers.base import Provider
from bpract.llm.types import ChatRequest, Completion, Finished, StreamEvent, Usage
from bpract.text import quote

__all__ = ["NO_KNOWLEDGE", "OFFLINE_PREFIX", "OfflineProvider"]

OFFLINE_PREFIX = "(Offline answer, taken from this site's help pages.) "
NO_KNOWLEDGE = (
    "(Offline.) I can't answer this myself right now. "
    "I can pass your question to a person on the team."
)


class OfflineProvider(Provider):
    """Answers with the knowledge sentences closest to the question, and says it is offline.

    Its completions carry ``offline`` ("answer" or "no_knowledge"): callers tell
    an offline answer by that mark, never by its text.
    """

    def __init__(self, name: str = "offline", *, sentences: int = 2) -> None:
        self.name = name
        self._sentences = sentences

    async def complete(self, request: ChatRequest, *, model: str, time_limit: float) -> Completion:
        if request.response_schema is not None:
            raise ProviderRejectedError(self.name, "offline: no structured output without a model")
        return self.answer(request, model=model)

    async def stream(
        self, request: ChatRequest, *, model: str, time_limit: float
    ) -> AsyncIterator[StreamEvent]:
        # The answer is whole at once: ``Finished`` alone carries it, so a caller sees the
        # ``offline`` mark before any of the text (and may show its own answer instead).
        yield Finished(completion=await self.complete(request, model=model, time_limit=time_limit))

    def answer(self, request: ChatRequest, *, model: str = "offline") -> Completion:
        """The extractive answer: the best knowledge sentences for the last question, in order."""
        question = next((m.content for m in reversed(request.messages) if m.role == "user"), "")
        knowledge = [p.text for p in request.system if p.kind == "knowledge"]
        found = quote(question, knowledge, most=self._sentences)
        text = OFFLINE_PREFIX + " ".join(q.sentence for q in found) if found else NO_KNOWLEDGE
        return Completion(
            text=text,
            usage=Usage(),
            provider=self.name,
            model=model,
            offline="answer" if found else "no_knowledge",
        )
