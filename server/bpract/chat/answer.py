"""One answer: a fixed reply, the extractive answer, or a model's stream through the gateway."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bpract.actions.outcomes import Outcome
from bpract.chat.citations import cite, render_extract
from bpract.chat.extractive import extract
from bpract.chat.phrases import phrases
from bpract.chat.prompt import Context, build_request
from bpract.chat.replies import Kind, ReplyStream
from bpract.llm import Finished, Gateway, Restarted, TextDelta
from bpract.wire.frames import Citation

if TYPE_CHECKING:
    from bpract.kb import Passage

__all__ = ["Draft", "Question", "extractive", "fixed", "generate"]

log = logging.getLogger("bpract.chat")


@dataclass(frozen=True, slots=True)
class Question:
    """Everything an answer is written from."""

    site_id: int
    conversation: str
    text: str
    lang: str
    passages: Sequence[Passage]
    confidence: float | None
    context: Context
    department: str = "support"
    rule: str = ""


@dataclass(slots=True)
class Draft:
    """A finished answer, ready to store and to send as ``reply_end``."""

    text: str
    kind: Kind
    citations: list[Citation] = field(default_factory=list)
    cited: list[Passage] = field(default_factory=list)
    offline: bool = False
    provider: str | None = None
    model: str | None = None
    cost_nano: int | None = None
    outcomes: tuple[Outcome, ...] = ()
    """What each proposed action came to (a card is sent after the reply)."""


def fixed(kind: Kind, lang: str) -> Draft:
    """The "I don't know" or hand-off sentence in the visitor's language."""
    p = phrases(lang)
    return Draft(text=p.unknown if kind == "unknown" else p.handoff, kind=kind)


def extractive(q: Question) -> Draft:
    """The answer without a model: best sentences of the best passages, cited."""
    found = extract(q.text, q.passages)
    if not found.quotes:
        return fixed("unknown", q.lang)
    text, citations = render_extract(found, phrases(q.lang).offline_intro)
    return Draft(
        text=text,
        kind="answer",
        citations=citations,
        cited=list(found.passages),
        offline=True,
        provider="offline",
        model="extractive",
    )


async def _send(reply: ReplyStream, draft: Draft) -> Draft:
    await reply.reset()
    await reply.delta(draft.text)
    return draft


async def generate(gateway: Gateway, q: Question, reply: ReplyStream, max_tokens: int) -> Draft:
    """Stream a model's answer to ``reply``; fall back to the extractive answer or a person.

    A stream that fails mid-way is reset and answered by the next model. When no
    model could answer (all failed, budget, compliance) the visitor still gets
    an answer from the help centre, or the offer of a person: never an error.
    """
    request = build_request(q.context, q.passages, max_tokens=max_tokens)
    try:
        async for event in gateway.stream(
            task="chat_answer", tenant=q.site_id, department=q.department, rule=q.rule,
            conversation=q.conversation, request=request, data_class="pii",
            retrieval_confidence=q.confidence,
        ):  # fmt: skip
            match event:
                case TextDelta(text=text):
                    await reply.delta(text)
                case Restarted():
                    await reply.reset()
                case Finished(completion=done):
                    if done.degraded == "human":
                        return await _send(reply, fixed("handoff", q.lang))
                    if done.degraded or done.offline:  # our cited extract beats the gateway's
                        return await _send(reply, extractive(q))
                    text, citations, cited = cite(done.text, q.passages)
                    price = gateway.prices.price(done.provider, done.model)
                    return Draft(
                        text=text, kind="answer", citations=citations, cited=cited,
                        provider=done.provider, model=done.model, cost_nano=price.cost(done.usage),
                    )  # fmt: skip
                case _:
                    pass  # no tools are offered to the chat model
    except Exception:
        log.exception("chat: the model answer failed, answering from the help centre")
    return await _send(reply, extractive(q))
