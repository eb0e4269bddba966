"""One answer: a fixed reply, the extractive answer, or a model's stream through the gateway
(with the site's actions as its tools, round after round)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

import msgspec

from bpract.actions.outcomes import Carded, Outcome
from bpract.chat.citations import cite, render_extract
from bpract.chat.extractive import extract
from bpract.chat.phrases import phrases
from bpract.chat.prompt import Context, build_request
from bpract.chat.replies import Kind, ReplyStream
from bpract.chat.tools import MAX_CALLS, Handoff, Toolbox, ToolCalls
from bpract.llm import ChatRequest, Completion, Finished, Gateway, Message, Restarted, TextDelta
from bpract.wire.frames import Citation

if TYPE_CHECKING:
    from bpract.kb import Passage

__all__ = ["MAX_ROUNDS", "Draft", "Question", "extractive", "fixed", "generate"]

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
    handoff: Handoff | None = None
    """The model handed the conversation to a person (through its tool)."""


def fixed(kind: Kind, lang: str) -> Draft:
    """The "I don't know", hand-off or ticket sentence in the visitor's language."""
    p = phrases(lang)
    text = {"unknown": p.unknown, "ticket": p.ticket}.get(kind, p.handoff)
    return Draft(text=text, kind=kind)


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


#: Model calls for one visitor message: one per round of tool calls, and the answer.
MAX_ROUNDS: Final = MAX_CALLS + 1


def _acted(outcomes: Sequence[Outcome]) -> tuple[str, Kind]:
    """The reply the outcomes give on their own: a card's introduction, else the last
    outcome's text (a read's result, a refusal), as the offline path answers."""
    card = next((o for o in outcomes if isinstance(o, Carded)), None)
    if card is not None:
        return card.text, "action"
    return outcomes[-1].text, "answer"


def _fallback(q: Question, calls: ToolCalls | None, cost: int, *, human: bool = False) -> Draft:
    """No model answer: what the proposals came to, else the help centre or a person."""
    if calls is None or not calls.outcomes:
        return fixed("handoff", q.lang) if human else extractive(q)
    text, kind = _acted(calls.outcomes)
    return Draft(
        text=text, kind=kind, offline=True, provider="offline", model="actions",
        cost_nano=cost or None, outcomes=tuple(calls.outcomes),
    )  # fmt: skip


def _answered(q: Question, done: Completion, cost: int, calls: ToolCalls | None) -> Draft:
    outcomes = tuple(calls.outcomes) if calls is not None else ()
    text, citations, cited = cite(done.text, q.passages)
    kind: Kind = "action" if any(isinstance(o, Carded) for o in outcomes) else "answer"
    if outcomes and not text.strip():
        (text, kind), citations, cited = _acted(outcomes), [], []
    return Draft(
        text=text, kind=kind, citations=citations, cited=cited, provider=done.provider,
        model=done.model, cost_nano=cost, outcomes=outcomes,
    )  # fmt: skip


async def _round(
    gateway: Gateway, q: Question, reply: ReplyStream, request: ChatRequest
) -> Completion:
    """One model call through the gateway, its text streamed to ``reply``."""
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
                return done
            case _:
                pass  # a tool call is acted on once the round is finished
    raise RuntimeError("the gateway's stream ended without Finished")


async def _with_results(request: ChatRequest, done: Completion, calls: ToolCalls) -> ChatRequest:
    """``request`` with the model's tool calls and one result for each."""
    asked = Message(role="assistant", content=done.text, tool_calls=done.tool_calls)
    results = [await calls.answer(call) for call in done.tool_calls]
    return msgspec.structs.replace(request, messages=(*request.messages, asked, *results))


async def generate(
    gateway: Gateway, q: Question, reply: ReplyStream, max_tokens: int,
    toolbox: Toolbox | None = None,
) -> Draft:  # fmt: skip
    """Stream a model's answer to ``reply``; fall back to the extractive answer or a person.

    A stream that fails mid-way is reset and answered by the next model. When no
    model could answer (all failed, budget, compliance) the visitor still gets
    an answer from the help centre, or the offer of a person: never an error.

    With a ``toolbox``, the model may call the site's actions: each round that
    ends in tool calls has them proposed (see :class:`~bpract.chat.tools.ToolCalls`)
    and the model is asked again with their results, through the gateway each
    time.  Text is streamed as it comes, so an answer without tools is as quick
    as before; text a round showed before calling a tool is reset before the next
    round, so the visitor is left with the last round's answer only.  After
    :data:`~bpract.chat.tools.MAX_CALLS` calls the tools stay declared but may not
    be called: the model answers in text.  A card's text stands in for an empty
    answer; a round that fails after proposals answers with what they came to.  A
    call of the hand-off tool ends the answer with the fixed hand-off sentence.
    """
    tools = toolbox.tools if toolbox is not None else ()
    request = build_request(q.context, q.passages, max_tokens=max_tokens, tools=tools)
    calls = ToolCalls(toolbox) if toolbox is not None else None
    cost = 0
    try:
        for _ in range(MAX_ROUNDS):
            offered = calls is not None and calls.open
            if tools and not offered:
                request = msgspec.structs.replace(request, tool_choice="none")
            done = await _round(gateway, q, reply, request)
            if done.degraded or done.offline:  # our cited extract beats the gateway's
                return await _send(reply, _fallback(q, calls, cost, human=done.degraded == "human"))
            cost += gateway.prices.price(done.provider, done.model).cost(done.usage)
            if calls is None or not offered or not done.tool_calls:
                return _answered(q, done, cost, calls)
            request = await _with_results(request, done, calls)
            if calls.handoff is not None:  # the visitor is told now, in fixed words
                handed = fixed("handoff", q.lang)
                handed.handoff, handed.outcomes = calls.handoff, tuple(calls.outcomes)
                handed.provider, handed.model, handed.cost_nano = done.provider, done.model, cost
                return await _send(reply, handed)
            await reply.reset()
    except Exception:
        log.exception("chat: the model answer failed, answering from the help centre")
    return await _send(reply, _fallback(q, calls, cost))
