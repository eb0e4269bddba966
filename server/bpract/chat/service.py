"""ChatService: the seam the visitor socket calls for ``message``, ``rate`` and ``history``.

A visitor message is stored (as a turn of the visitor's conversation) before it
is acknowledged; its answer is written by a task the service owns, so a
disconnect does not stop it: the answer is stored when complete and comes back
in ``history``. One answer is in flight per conversation; later messages wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from bpract.actions.outcomes import Asker, Carded
from bpract.actions.runner import ActionRunner, Settled
from bpract.actions.spec import ActionSet
from bpract.chat import site_settings, storage
from bpract.chat.answer import Draft, Question, extractive, fixed, generate
from bpract.chat.citations import stored_citation
from bpract.chat.config import ChatConfig
from bpract.chat.desk import Desk, HandoffListener, QueueChanged
from bpract.chat.language import detect_language
from bpract.chat.memory import KEEP_TURNS, summarize, to_fold
from bpract.chat.phrases import asks_for_human, phrases
from bpract.chat.prompt import Context
from bpract.chat.replies import Kind, ReplyStream
from bpract.chat.storage import Answer, Conversation, OutreachRow
from bpract.chat.tools import Toolbox, offered
from bpract.clock import Clock
from bpract.clock import now_ms as wall_ms
from bpract.llm import Gateway
from bpract.store import Database
from bpract.visitors.limits import Limiter, MemoryLimiter, take_all
from bpract.wire.channels import visitor_channel
from bpract.wire.frames import (
    AgentJoined,
    Citation,
    History,
    HistoryMessage,
    Page,
    ServerFrame,
    encode,
)

if TYPE_CHECKING:
    from litestar.channels import ChannelsPlugin

    from bpract.kb import KnowledgeBase, Passage
    from bpract_client.rules import Ruleset

__all__ = [
    "AnswerListener",
    "Available",
    "ChatLimits",
    "ChatService",
    "PendingAnswer",
    "RuleSource",
]

log = logging.getLogger("bpract.chat")

#: Called with each answer once stored (grounding, review sampling…).
AnswerListener = Callable[[Answer], Awaitable[None]]
#: Whether someone can answer live: ``(site id, department, now ms)``.  When no one can, a
#: hand-off asks the visitor for an email and the question instead (a ticket).
Available = Callable[[int, str, int], Awaitable[bool]]


class RuleSource(Protocol):
    """Where an outreach's rule is found, to give its goal and department to the answer."""

    def ruleset(self, site_id: int) -> Awaitable[Ruleset]: ...


@dataclass(frozen=True, slots=True)
class ChatLimits:
    """Chat allowances shared across visitor ids (keyed by client address or site id)."""

    messages_per_address: Limiter
    messages_per_site: Limiter
    new_per_address: Limiter
    new_per_site: Limiter


_REFUSALS = (
    "too many chat messages from this address: wait a minute",
    "this site receives too many chat messages: wait a minute",
    "too many new conversations from this address: wait a minute",
    "this site has too many new conversations: wait a minute",
)


def _per_minute(count: int) -> MemoryLimiter:
    return MemoryLimiter(count / 60.0, count)


@dataclass(frozen=True, slots=True)
class PendingAnswer:
    """A stored visitor turn waiting for its answer."""

    site_id: int
    site_name: str
    visitor: str
    conversation: Conversation
    outreach: OutreachRow | None
    message_id: str
    text: str
    seq: int
    lang: str
    user_id: str | None = None
    """The identity the site's HMAC verified on the connection the message came on."""
    traits: Mapping[str, Any] = field(default_factory=dict)
    handoff: bool = False
    """The visitor clicked "Talk to a person": no answer is written, the team is asked."""
    at_ms: int = 0

    @property
    def owned(self) -> bool:
        """A person had the conversation when the turn was stored: no bot answer."""
        return self.conversation.owned


#: Why a conversation went to a person, as the inbox shows it (the model writes its own).
_ASKED = "The visitor asked for a person."
_CLICKED = "The visitor clicked Talk to a person."
_NO_MODEL = "No model could answer (a budget or policy limit)."
#: Why, when the site hands off on repeated failure (``handoff_on_failure``).
_TWICE_UNKNOWN = "Two questions in a row the assistant could not answer."
_NOT_HELPFUL = "The visitor marked an answer as not helpful."


def _failed(action: str) -> str:
    return f"An action failed: {action}."


class Matcher(Protocol):
    """The offline proposer: a declared action the message asks for, or None."""

    def match(
        self, actions: ActionSet, text: str, *, today: dt.date, lang: str = "en"
    ) -> MatchLike | None: ...


class MatchLike(Protocol):
    @property
    def action(self) -> str: ...
    @property
    def arguments(self) -> dict[str, Any]: ...


class ChatService:
    """Answers visitor messages from the site's knowledge base, streamed to every tab."""

    def __init__(
        self,
        db: Database,
        kb: KnowledgeBase,
        gateway: Gateway | None,
        channels: ChannelsPlugin,
        *,
        rules: RuleSource | None = None,
        config: ChatConfig | None = None,
        actions: ActionRunner | None = None,
        matcher: Matcher | None = None,
        now_ms: Clock = wall_ms,
        available: Available | None = None,
    ) -> None:
        self.db, self.kb, self.gateway, self.channels = db, kb, gateway, channels
        self.available = available
        self.rules = rules
        self.actions, self.matcher = actions, matcher
        self.config = config or ChatConfig()
        self._now_ms = now_ms
        self._locks: dict[str, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._listeners: list[AnswerListener] = []
        self._handoff_listeners: list[HandoffListener] = []
        self._writing: dict[str, ReplyStream] = {}  # conversation -> the reply being written
        self.desk = Desk(db, channels, silence=self.silence, now_ms=now_ms)
        c = self.config
        self.limits = ChatLimits(
            messages_per_address=_per_minute(c.address_rate_per_minute),
            messages_per_site=_per_minute(c.site_rate_per_minute),
            new_per_address=_per_minute(c.address_new_per_minute),
            new_per_site=_per_minute(c.site_new_per_minute),
        )

    def now_ms(self) -> int:
        return self._now_ms()

    def add_listener(self, listener: AnswerListener) -> None:
        """Call ``listener(answer)`` after every stored answer (errors are logged)."""
        self._listeners.append(listener)

    def add_handoff_listener(self, listener: HandoffListener) -> None:
        """Call ``listener(conversation, department)`` when a conversation starts waiting for
        a person (routing; errors are logged)."""
        self._handoff_listeners.append(listener)

    async def silence(self, conversation_id: str) -> None:
        """A person took the conversation over: drop the reply this process is writing for it
        (another process's is dropped when it is stored, :meth:`_save`)."""
        reply = self._writing.get(conversation_id)
        if reply is not None:
            await reply.drop()

    # -- admission and storage ----------------------------------------------------------------

    async def over_rate(self, site_id: int, visitor: str) -> bool:
        """Whether the visitor already sent their allowance of messages this minute."""
        since = self._now_ms() - 60_000
        sent = await self.db.run(
            lambda conn: storage.recent_visitor_turns(conn, site_id, visitor, since)
        )
        return bool(sent >= self.config.rate_per_minute)

    async def refusal(
        self, *, site_id: int, visitor: str, client: str, outreach: str | None
    ) -> str | None:
        """Why a visitor message may not be taken now (None: it may).

        The visitor's own allowance is counted in the database; those of its client
        address and of its site, for messages and for new conversations, in
        :attr:`limits` — rotating visitor ids does not reset them.  A refused message
        spends none of them (the client resends it later).
        """
        if await self.over_rate(site_id, visitor):
            return "too many chat messages: wait a minute"
        limits, site = self.limits, str(site_id)
        budgets = [(limits.messages_per_address, client), (limits.messages_per_site, site)]
        since = self._now_ms() - self.config.history_window_ms
        known = await self.db.run(
            lambda conn: storage.has_conversation(conn, site_id, visitor, since, outreach)
        )
        if not known:
            budgets += [(limits.new_per_address, client), (limits.new_per_site, site)]
        refused = take_all(*budgets)
        return None if refused is None else _REFUSALS[refused]

    async def accept(
        self,
        *,
        site_id: int,
        site_name: str,
        visitor: str,
        stream: str,
        seq: int,
        text: str,
        outreach: str | None,
        lang_hint: str | None,
        user_id: str | None = None,
        traits: Mapping[str, Any] | None = None,
        handoff: bool = False,
    ) -> PendingAnswer | None:
        """Store the visitor's turn; None when this frame's turn was stored before.

        ``handoff`` is the "Talk to a person" control: its turn is the request in the
        visitor's language (``text`` is ignored), and its answer is the hand-off.
        """
        now = self._now_ms()
        message_id = storage.visitor_message_id(site_id, visitor, stream, seq)
        since = now - self.config.history_window_ms
        if handoff:
            text = phrases(detect_language("", lang_hint)).ask_person

        def store(conn: Any) -> tuple[Conversation, OutreachRow | None] | None:
            conv, row = storage.open_conversation(
                conn, site_id, visitor, now, since_ms=since, outreach_id=outreach
            )
            new = storage.insert_visitor_turn(
                conn, conv, message_id=message_id, text=text, at_ms=now, seq=seq
            )
            return (conv, row) if new else None

        stored = await self.db.transaction(store)
        if stored is None:
            return None
        conv, row = stored
        lang = detect_language(text, conv.lang or lang_hint)
        return PendingAnswer(
            site_id, site_name, visitor, conv, row, message_id, text, seq, lang,
            user_id=user_id, traits=dict(traits or {}), handoff=handoff, at_ms=now,
        )  # fmt: skip

    def answer(self, pending: PendingAnswer) -> None:
        """Show the message to the agents looking at the conversation, and write the answer in
        the background (it outlives the connection) — none while a person has it: the
        status was read in the transaction that stored the message."""
        task = asyncio.create_task(self._answer_in_turn(pending))
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("chat: answer task failed", exc_info=exc)

    async def _answer_in_turn(self, p: PendingAnswer) -> None:
        await self.desk.visitor_said(p.conversation, p.message_id, p.text, p.at_ms)
        if p.owned:
            return
        async with self._turn(p.conversation.id):
            await self._answer(p)

    @contextlib.asynccontextmanager
    async def _turn(self, conversation_id: str) -> AsyncIterator[None]:
        """The conversation's turn to write a bot reply: one at a time."""
        key = conversation_id
        lock = self._locks.setdefault(key, asyncio.Lock())
        try:
            async with lock:
                yield
        finally:
            if not lock.locked() and key in self._locks and self._locks[key] is lock:
                del self._locks[key]

    # -- answering ---------------------------------------------------------------------------

    async def _retrieve(self, site_id: int, text: str) -> list[Passage]:
        from bpract.kb import KnowledgeBaseError

        try:
            return await self.kb.search(site_id, text, k=self.config.passages)
        except KnowledgeBaseError as exc:
            log.warning("chat: hybrid retrieval failed (%s); using BM25 only", exc.detail)
        try:
            return await self.kb.search(site_id, text, k=self.config.passages, mode="bm25")
        except Exception:
            log.exception("chat: retrieval failed; the answer says it does not know")
            return []

    async def _question(self, p: PendingAnswer, passages: list[Passage]) -> Question:
        site_id, conv = p.site_id, p.conversation
        turns = await self.db.run(
            lambda conn: storage.recent_turns(
                conn, site_id, conv.id, KEEP_TURNS + 1, after_ms=conv.summarized_upto_ms or -1
            )
        )
        current = [t for t in turns if t.id == p.message_id]
        turns = [t for t in turns if t.id != p.message_id][-KEEP_TURNS:] + current
        goal, department, rule = None, "support", ""
        if p.outreach is not None:
            rule = p.outreach.rule_id
            found = (await self.rules.ruleset(site_id)).get(rule) if self.rules else None
            if found is not None:
                goal, department = found.goal or None, found.department or "support"
        scores = [x.confidence for x in passages if x.confidence is not None]
        ctx = Context(
            site_name=p.site_name, lang=p.lang, summary=conv.summary, turns=turns,
            outreach=p.outreach.message if p.outreach else None, goal=goal,
        )  # fmt: skip
        return Question(
            site_id=site_id, conversation=conv.id, text=p.text, lang=p.lang, passages=passages,
            confidence=max(scores) if scores else (None if passages else 0.0), context=ctx,
            department=department, rule=rule,
        )  # fmt: skip

    def _asker(self, p: PendingAnswer) -> Asker:
        return Asker(
            site_id=p.site_id, conversation=p.conversation.id, visitor=p.visitor,
            user_id=p.user_id, traits=p.traits, lang=p.lang,
        )  # fmt: skip

    async def _offline_action(self, p: PendingAnswer, actions: ActionSet) -> Draft | None:
        """The matcher's proposal for this message, or None: answer from the help centre."""
        assert self.actions is not None
        if self.matcher is None:
            return None
        today = dt.datetime.fromtimestamp(self._now_ms() / 1000, dt.UTC).date()
        found = await asyncio.to_thread(
            self.matcher.match, actions, p.text, today=today, lang=p.lang
        )
        if found is None:
            return None
        outcome = await self.actions.propose(
            self._asker(p), found.action, found.arguments, source="matcher"
        )
        kind: Kind = "action" if isinstance(outcome, Carded) else "answer"
        return Draft(text=outcome.text, kind=kind, offline=True, provider="offline",
                     model="actions", outcomes=(outcome,))  # fmt: skip

    async def _draft(self, p: PendingAnswer, q: Question, reply: ReplyStream) -> Draft:
        if p.handoff or asks_for_human(p.text):
            live = await self._hand_off(p, _CLICKED if p.handoff else _ASKED, q.department)
            return fixed("handoff" if live else "ticket", p.lang)
        gateway = self.gateway
        has_model = gateway is not None and gateway.policies.for_site(p.site_id).has_model
        actions = await self.actions.service.current_set(p.site_id) if self.actions else None
        if actions is not None and not has_model:
            acted = await self._offline_action(p, actions)
            if acted is not None:
                return acted
        weak = not q.passages or (q.confidence is not None and q.confidence < self.config.threshold)
        acting = actions is not None and self.actions is not None
        if weak and not (has_model and acting):
            await self._unanswered(p, q)
            return fixed("unknown", p.lang)
        if gateway is None or not has_model:
            return extractive(q)
        if weak:
            # A request to act needs no article: the model has the tools, not the passages
            # that fell short.
            q = dataclasses.replace(q, passages=())
        toolbox = self._toolbox(p, actions if acting else None)
        draft = await generate(gateway, q, reply, self.config.max_tokens, toolbox)
        if draft.kind == "handoff":  # the model's tool, or no model could answer
            handed = draft.handoff
            why = handed.reason if handed else _NO_MODEL
            if not await self._hand_off(p, why, (handed and handed.department) or q.department):
                await reply.reset()  # the hand-off sentence shown: no one will answer live
                draft = dataclasses.replace(draft, text=fixed("ticket", p.lang).text, kind="ticket")
        elif weak and not draft.outcomes:
            await self._unanswered(p, q)
        return draft

    def _toolbox(self, p: PendingAnswer, actions: ActionSet | None) -> Toolbox:
        """The model's tools: the site's declared actions, proposed for this visitor, and
        the hand-off to a person."""
        proposer = self.actions if actions is not None else None
        return Toolbox(offered(actions), proposer, self._asker(p))

    async def _hand_off(self, p: PendingAnswer, reason: str, department: str) -> bool:
        """Hand the conversation to the team (it waits in the queue); whether someone can
        answer live."""
        at, site_id, conv_id = self._now_ms(), p.site_id, p.conversation.id
        await self.db.transaction(
            lambda c: storage.hand_off(
                c, site_id, conv_id, at_ms=at, reason=reason, department=department
            )
        )
        await self._waiting(p.conversation, department)
        return await self._live(site_id, department, at)

    async def _waiting(self, conv: Conversation, department: str) -> None:
        """Announce a conversation that now waits for a person, and let it be routed."""
        await self.desk.announce(conv.site_id, QueueChanged(conversation=conv.id, change="waiting"))
        for listener in self._handoff_listeners:
            try:
                await listener(conv, department)
            except Exception:
                log.exception("chat: hand-off listener failed")

    async def _live(self, site_id: int, department: str, at_ms: int) -> bool:
        if self.available is None:
            return True
        try:
            return await self.available(site_id, department, at_ms)
        except Exception:
            log.exception("chat: whether someone can answer live is unknown; assuming so")
            return True

    async def _unknown_again(self, p: PendingAnswer) -> bool:
        """Whether this "I don't know" is the second in a row of a conversation the site
        hands off on repeated failure (and that no person was asked for yet)."""
        if not (await site_settings.load(self.db, p.site_id)).handoff_on_failure:
            return False
        site_id, conv_id = p.site_id, p.conversation.id

        def previous(conn: Any) -> bool:
            conv = storage.get_conversation(conn, site_id, conv_id)
            waiting = conv is None or conv.status == "human"
            return not waiting and storage.last_bot_kind(conn, site_id, conv_id) == "unknown"

        return bool(await self.db.run(previous))

    async def _department(self, conv: Conversation) -> str:
        """The team a conversation is for: its outreach rule's, else ``support``."""
        outreach_id = conv.outreach_id
        if outreach_id is None or self.rules is None:
            return "support"
        row = await self.db.run(
            lambda c: storage.outreach_row(c, conv.site_id, conv.visitor, outreach_id)
        )
        found = (await self.rules.ruleset(conv.site_id)).get(row.rule_id) if row else None
        return (found.department if found else "") or "support"

    async def _fail_over(self, site_id: int, conversation_id: str, reason: str) -> None:
        """Hand the conversation to a person and tell the visitor with the hand-off sentence
        (a bot turn), when the site hands off on failure and no person was asked for yet."""
        if not (await site_settings.load(self.db, site_id)).handoff_on_failure:
            return
        async with self._turn(conversation_id):
            conv = await self.db.run(
                lambda c: storage.get_conversation(c, site_id, conversation_id)
            )
            if conv is None or conv.status == "human":
                return
            department = await self._department(conv)
            at, reply_id = self._now_ms(), storage.new_id("r_")
            live = await self._live(site_id, department, at)
            draft = fixed("handoff" if live else "ticket", conv.lang or "en")
            answer = Answer(
                id=reply_id, site_id=site_id, conversation_id=conv.id, text=draft.text, at_ms=at,
                citations=[], kind=draft.kind, offline=False, provider=None, model=None,
                cost_nano=None, passages=[], retrieval_confidence=None,
            )  # fmt: skip

            def store(c: Any) -> int | None:
                fresh = storage.get_conversation(c, site_id, conv.id)
                if fresh is None or fresh.status == "human":
                    return None  # another worker handed it off meanwhile
                storage.hand_off(
                    c, site_id, conv.id, at_ms=at, reason=reason, department=department
                )
                storage.insert_answer(c, answer)
                return storage.last_visitor_seq(c, site_id, conv.id)

            seq = await self.db.transaction(store, lock=True)
            if seq is None:
                return
            reply = ReplyStream(self.channels, site_id=site_id, visitor=conv.visitor,
                                reply_id=reply_id)  # fmt: skip
            await reply.start(conv.id, seq)
            await reply.delta(draft.text)
            await reply.end(draft.text, [], draft.kind, False)
            await self.desk.bot_said(conv, reply_id, draft.text, draft.kind)
            await self._waiting(conv, department)

    async def _unanswered(self, p: PendingAnswer, q: Question) -> None:
        from bpract.kb import record_unanswered

        await record_unanswered(self.db, p.site_id, p.text, q.confidence)

    async def _answer(self, p: PendingAnswer) -> None:
        reply = ReplyStream(
            self.channels, site_id=p.site_id, visitor=p.visitor, reply_id=storage.new_id("r_")
        )
        self._writing[p.conversation.id] = reply
        try:
            await self._write(p, reply)
        finally:
            if self._writing.get(p.conversation.id) is reply:
                del self._writing[p.conversation.id]

    async def _write(self, p: PendingAnswer, reply: ReplyStream) -> None:
        await reply.start(p.conversation.id, p.seq)
        passages = await self._retrieve(p.site_id, p.text)
        q = await self._question(p, passages)
        draft = await self._draft(p, q, reply)
        if draft.kind == "unknown" and await self._unknown_again(p):
            live = await self._hand_off(p, _TWICE_UNKNOWN, q.department)
            await reply.reset()
            handoff = fixed("handoff" if live else "ticket", p.lang)
            draft = dataclasses.replace(draft, text=handoff.text, kind=handoff.kind, citations=[])
        if not reply.shown:
            await reply.delta(draft.text)
        answer = self._stored_answer(p, q, reply.id, draft)
        saved = not reply.dropped and await self.db.transaction(
            lambda conn: self._save(conn, p, answer), lock=True
        )
        if not saved:
            await reply.drop()  # a person took the conversation over meanwhile
            return
        await reply.end(draft.text, draft.citations, draft.kind, draft.offline)
        await self.desk.bot_said(p.conversation, reply.id, draft.text, draft.kind)
        for outcome in draft.outcomes:
            if isinstance(outcome, Carded):
                await self._publish(p.site_id, p.visitor, outcome.card)
        for listener in self._listeners:
            try:
                await listener(answer)
            except Exception:
                log.exception("chat: answer listener failed")
        await self._fold_memory(p)

    def _stored_answer(self, p: PendingAnswer, q: Question, reply_id: str, d: Draft) -> Answer:
        return Answer(
            id=reply_id, site_id=p.site_id, conversation_id=p.conversation.id, text=d.text,
            at_ms=self._now_ms(), citations=[_citation_json(c) for c in d.citations],
            kind=d.kind, offline=d.offline, provider=d.provider, model=d.model,
            cost_nano=d.cost_nano, passages=[_passage_json(x) for x in d.cited],
            retrieval_confidence=q.confidence,
        )  # fmt: skip

    def _save(self, conn: Any, p: PendingAnswer, answer: Answer) -> bool:
        """Store the answer unless a person has the conversation now (then it is dropped)."""
        fresh = storage.get_conversation(conn, p.site_id, p.conversation.id)
        if fresh is None or fresh.owner_agent is not None or fresh.status == "resolved":
            return False
        storage.insert_answer(conn, answer)
        if p.lang != p.conversation.lang:
            storage.set_lang(conn, p.site_id, p.conversation.id, p.lang)
        return True

    async def _fold_memory(self, p: PendingAnswer) -> None:
        site_id, conv = p.site_id, p.conversation
        fresh = await self.db.run(lambda c: storage.get_conversation(c, site_id, conv.id))
        if fresh is None:
            return
        after = fresh.summarized_upto_ms or -1
        waiting = await self.db.run(
            lambda c: storage.recent_turns(c, site_id, conv.id, 1000, after_ms=after)
        )
        fold = to_fold(waiting)
        if not fold:
            return
        gateway = self.gateway
        model = gateway if gateway and gateway.policies.for_site(site_id).has_model else None
        summary = await summarize(
            model, site_id=site_id, conversation=conv.id, previous=fresh.summary, turns=fold
        )
        upto = fold[-1].at_ms
        await self.db.run(lambda c: storage.set_summary(c, site_id, conv.id, summary, upto))

    # -- actions -------------------------------------------------------------------------------

    async def _publish(self, site_id: int, visitor: str, frame: ServerFrame) -> None:
        await self.channels.wait_published(encode(frame), visitor_channel(site_id, visitor))

    async def settled(self, settled: Settled) -> None:
        """A card's end: stored as the bot's turn and sent to every tab of the visitor (for
        an end this call made); a repeat or a refusal is the caller's to send."""
        if not settled.fresh:
            return
        frame = settled.frame
        answer = Answer(
            id=f"ar_{frame.id}", site_id=settled.site_id, conversation_id=settled.conversation,
            text=frame.text, at_ms=self._now_ms(), citations=[], kind="action_result",
            offline=True, provider=None, model=None, cost_nano=None, passages=[],
            retrieval_confidence=None,
        )  # fmt: skip
        await self.db.transaction(lambda conn: storage.insert_answer(conn, answer))
        await self._publish(settled.site_id, settled.visitor, frame)
        if frame.state == "failed":
            await self._fail_over(settled.site_id, settled.conversation, _failed(settled.action))

    # -- ratings and history -----------------------------------------------------------------

    async def rate(
        self, *, site_id: int, visitor: str, reply: str, rating: str, comment: str | None
    ) -> bool:
        """Store the visitor's rating of one of their answers; False when it is not theirs.

        A thumbs-down hands the conversation off when the site hands off on failure.
        """
        at = self._now_ms()

        def store(conn: Any) -> Conversation | None:
            known = storage.insert_rating(
                conn, site_id=site_id, visitor=visitor, reply_id=reply, rating=rating,
                comment=comment, at_ms=at,
            )  # fmt: skip
            return storage.reply_conversation(conn, site_id, reply) if known else None

        conv = await self.db.transaction(store)
        if conv is not None and rating == "down":
            await self._fail_over(site_id, conv.id, _NOT_HELPFUL)
        return conv is not None

    async def history(self, site_id: int, visitor: str) -> History | None:
        """The visitor's conversation of the last 24 h, if any, as a ``history`` frame."""
        found = await self._history(site_id, visitor)
        return None if found is None else found[1]

    async def opened(self, site_id: int, visitor: str, page: Page | None) -> list[ServerFrame]:
        """What a new connection of the visitor is sent: the conversation's history, and who of
        the team has it; the agents looking at it see the page the visitor opened."""
        found = await self._history(site_id, visitor)
        if found is None:
            return []
        conv, history = found
        frames: list[ServerFrame] = [history]
        if conv.with_person:
            if conv.owner_name is not None:
                frames.append(AgentJoined(conversation=conv.id, name=conv.owner_name, at=0))
            if page is not None and page.url:
                await self.desk.visitor_page(conv, page)
        return frames

    async def _history(self, site_id: int, visitor: str) -> tuple[Conversation, History] | None:
        since = self._now_ms() - self.config.history_window_ms
        limit = self.config.history_messages

        def load(conn: Any) -> tuple[Conversation, list[storage.Turn]] | None:
            conv = storage.find_conversation(conn, site_id, visitor, since)
            if conv is None:
                return None
            return conv, storage.recent_turns(conn, site_id, conv.id, limit)

        found = await self.db.run(load)
        if found is None:
            return None
        conv, turns = found
        messages = [
            HistoryMessage(
                id=t.id,
                role="visitor" if t.role == "visitor" else "agent" if t.role == "agent" else "bot",
                text=t.text,
                at=t.at_ms,
                citations=[stored_citation(c) for c in t.citations],
                name=t.author if t.role == "agent" else None,
            )
            for t in turns
        ]
        return conv, History(conversation=conv.id, messages=messages)

    async def aclose(self, grace_s: float = 5.0) -> None:
        """Let answers in flight finish (up to ``grace_s``), then cancel the rest."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=grace_s)
        for task in set(self._tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def _citation_json(c: Citation) -> dict[str, Any]:
    return {"n": c.n, "title": c.title, "url": c.url, "section": c.section}


def _passage_json(p: Passage) -> dict[str, Any]:
    return {
        "chunk_id": p.chunk_id, "title": p.title, "url": p.url, "section": p.section,
        "text": p.text, "score": p.confidence if p.confidence is not None else p.score,
    }  # fmt: skip
