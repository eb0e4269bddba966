"""The desk: a person of the team in a visitor's conversation, and what the agents see live.

The inbox calls the agent's side (take over, write, type, hand back, resolve, transfer); the
visitor socket calls the visitor's (typing, the page they are on).  Ownership is decided by
one statement each (:mod:`bpract.chat.storage`), so two agents taking the same conversation
at once get one owner, and an agent's message is stored only while they own it.

Everything goes out through Litestar's channels: to the visitor's tabs on
:func:`~bpract.wire.channels.visitor_channel`, to the agents looking at the conversation on
:func:`~bpract.wire.channels.conversation_channel`, and to the agents of the site on
:func:`~bpract.wire.channels.inbox_channel` (the queue changed) — whichever process holds
their sockets.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, Final, Literal

import msgspec

from bpract.chat import storage
from bpract.chat.storage import Conversation, Taken
from bpract.clock import Clock
from bpract.clock import now_ms as wall_ms
from bpract.store import Database
from bpract.wire.channels import conversation_channel, inbox_channel, visitor_channel
from bpract.wire.codes import MAX_MESSAGE_CHARS
from bpract.wire.frames import (
    AgentJoined,
    AgentLeft,
    AgentMessage,
    AgentTyping,
    Page,
    ServerFrame,
    encode,
)

if TYPE_CHECKING:
    from litestar.channels import ChannelsPlugin

__all__ = [
    "AgentSaid",
    "BotSaid",
    "Desk",
    "DeskEvent",
    "OwnerChanged",
    "QueueChanged",
    "Release",
    "VisitorPage",
    "VisitorSaid",
    "VisitorTyping",
]

Release = Literal["bot", "queue", "resolved"]
_ID_CHARS: Final = 22


# -- what the agents' sockets receive (JSON, ``t`` first) -------------------------------------


class DeskEvent(msgspec.Struct, frozen=True, kw_only=True, tag_field="t"):
    conversation: str


class QueueChanged(DeskEvent, frozen=True, kw_only=True, tag="queue"):
    """A conversation of the site is now ``waiting``, ``taken``, back with the ``bot``,
    ``resolved``, or ``routed`` to an agent (``agent``); or its visitor left a ``ticket``."""

    change: Literal["waiting", "taken", "bot", "resolved", "routed", "ticket"]
    agent: int | None = None
    name: str | None = None


class OwnerChanged(DeskEvent, frozen=True, kw_only=True, tag="owner"):
    status: str
    agent: int | None
    name: str | None


class VisitorSaid(DeskEvent, frozen=True, kw_only=True, tag="visitor_message"):
    id: str
    text: str
    at: int


class BotSaid(DeskEvent, frozen=True, kw_only=True, tag="bot_message"):
    id: str
    text: str
    at: int
    kind: str


class AgentSaid(DeskEvent, frozen=True, kw_only=True, tag="agent_message"):
    id: str
    agent: int
    name: str
    text: str
    at: int


class VisitorTyping(DeskEvent, frozen=True, kw_only=True, tag="visitor_typing"):
    on: bool


class VisitorPage(DeskEvent, frozen=True, kw_only=True, tag="visitor_page"):
    url: str
    title: str
    at: int


_encoder = msgspec.json.Encoder()

#: Called when a conversation starts waiting for a person (routing, announcements).
HandoffListener = Callable[[Conversation, str], Awaitable[None]]


def _agent_message_id(agent_id: int, conversation: str, client_id: str) -> str:
    """The id of an agent's message: the same for a resend of the same client message."""
    digest = hashlib.sha256(f"{agent_id}\0{conversation}\0{client_id}".encode()).digest()
    return "a_" + base64.urlsafe_b64encode(digest).decode()[:_ID_CHARS]


class Desk:
    """A person's side of a conversation, and the live view the agents have of it."""

    def __init__(
        self,
        db: Database,
        channels: ChannelsPlugin,
        *,
        silence: Callable[[str], Awaitable[None]] | None = None,
        now_ms: Clock = wall_ms,
    ) -> None:
        self.db, self.channels = db, channels
        self._silence = silence
        self._now_ms = now_ms

    # -- publishing -------------------------------------------------------------------------

    async def _to_visitor(self, conv: Conversation, frame: ServerFrame) -> None:
        channel = visitor_channel(conv.site_id, conv.visitor)
        await self.channels.wait_published(encode(frame), channel)

    async def _to_agents(self, site_id: int, event: DeskEvent) -> None:
        channel = conversation_channel(site_id, event.conversation)
        await self.channels.wait_published(_encoder.encode(event), channel)

    async def announce(self, site_id: int, event: QueueChanged) -> None:
        """Tell the site's agents that its queue changed."""
        await self.channels.wait_published(_encoder.encode(event), inbox_channel(site_id))

    # -- the agent's side ---------------------------------------------------------------------

    async def take(
        self, site_ids: Sequence[int], conversation: str, *, agent_id: int, name: str
    ) -> Taken | None:
        """Take the conversation over: the assistant stops (a reply being written is dropped)
        and the visitor sees ``name`` join.  ``won`` is False when someone else has it."""
        at = self._now_ms()
        taken = await self.db.transaction(
            lambda c: storage.take_over(
                c, site_ids, conversation, agent_id=agent_id, name=name, at_ms=at
            ),
            lock=True,
        )
        if taken is None or not taken.won:
            return taken
        conv = taken.conversation
        if self._silence is not None:
            await self._silence(conv.id)
        await self._to_visitor(conv, AgentJoined(conversation=conv.id, name=name, at=at))
        await self._owner(conv)
        await self.announce(
            conv.site_id,
            QueueChanged(conversation=conv.id, change="taken", agent=agent_id, name=name),
        )
        return taken

    async def say(
        self, site_ids: Sequence[int], conversation: str, *, agent_id: int, name: str,
        text: str, client_id: str,
    ) -> AgentSaid | None:  # fmt: skip
        """Store and send what the owner wrote; None when they do not own the conversation
        (or it is not one of these sites').  A resend of ``client_id`` is stored and sent
        once; it answers as the first did."""
        text = text.strip()
        if not text or len(text) > MAX_MESSAGE_CHARS:
            raise ValueError(f"a message has 1 to {MAX_MESSAGE_CHARS} characters")
        at = self._now_ms()
        message_id = _agent_message_id(agent_id, conversation, client_id)

        def store(c: Any) -> tuple[Conversation | None, bool]:
            conv = storage.conversation_in(c, site_ids, conversation)
            if conv is None:
                return None, False
            stored = storage.insert_agent_turn(
                c, conv.site_id, conv.id, message_id=message_id, agent_id=agent_id, name=name,
                text=text, at_ms=at,
            )  # fmt: skip
            if stored:
                return conv, True
            return (
                conv if storage.agent_turn_stored(c, conv.id, message_id, agent_id) else None
            ), False

        conv, new = await self.db.transaction(store)
        if conv is None:
            return None
        if not new:  # a resend: already stored and sent
            return AgentSaid(
                conversation=conv.id, id=message_id, agent=agent_id, name=name, text=text, at=at
            )
        frame = AgentMessage(id=message_id, conversation=conv.id, name=name, text=text, at=at)
        await self._to_visitor(conv, frame)
        said = AgentSaid(
            conversation=conv.id, id=message_id, agent=agent_id, name=name, text=text, at=at
        )
        await self._to_agents(conv.site_id, said)
        return said

    async def typing(
        self, site_ids: Sequence[int], conversation: str, *, agent_id: int, name: str, on: bool
    ) -> bool:
        """Show the visitor that the owner is typing; False when they do not own it."""
        conv = await self.db.run(lambda c: storage.conversation_in(c, site_ids, conversation))
        if conv is None or conv.owner_agent != agent_id or not conv.with_person:
            return False
        await self._to_visitor(conv, AgentTyping(name=name, on=on))
        return True

    async def release(
        self, site_ids: Sequence[int], conversation: str, *, agent_id: int | None, to: Release,
        department: str | None = None,
    ) -> Conversation | None:  # fmt: skip
        """Hand back to the assistant, put back in the queue (of ``department``), or resolve.
        ``agent_id`` None: whoever has it (a supervisor).  None when it was not theirs."""
        at = self._now_ms()

        def store(c: Any) -> tuple[Conversation, Conversation] | None:
            before = storage.conversation_in(c, site_ids, conversation)
            if before is None:
                return None
            after = storage.release(
                c, before.site_id, before.id, agent_id=agent_id, to=to, at_ms=at,
                department=department,
            )  # fmt: skip
            return None if after is None else (before, after)

        done = await self.db.transaction(store, lock=True)
        if done is None:
            return None
        before, after = done
        name = before.owner_name or "The team"
        await self._to_visitor(after, AgentLeft(conversation=after.id, name=name, to=to, at=at))
        await self._owner(after)
        change: Literal["waiting", "bot", "resolved"] = (
            "waiting" if to == "queue" else "bot" if to == "bot" else "resolved"
        )
        await self.announce(after.site_id, QueueChanged(conversation=after.id, change=change))
        return after

    async def transfer(
        self, site_ids: Sequence[int], conversation: str, *, from_agent: int | None,
        to_agent: int, to_name: str,
    ) -> Conversation | None:  # fmt: skip
        """Give the conversation to another agent (of the same organisation: the caller checks);
        the visitor sees them join."""
        at = self._now_ms()

        def store(c: Any) -> Conversation | None:
            conv = storage.conversation_in(c, site_ids, conversation)
            if conv is None:
                return None
            return storage.transfer(
                c, conv.site_id, conv.id, from_agent=from_agent, to_agent=to_agent,
                to_name=to_name, at_ms=at,
            )  # fmt: skip

        conv = await self.db.transaction(store, lock=True)
        if conv is None:
            return None
        await self._to_visitor(conv, AgentJoined(conversation=conv.id, name=to_name, at=at))
        await self._owner(conv)
        await self.announce(
            conv.site_id,
            QueueChanged(conversation=conv.id, change="taken", agent=to_agent, name=to_name),
        )
        return conv

    async def _owner(self, conv: Conversation) -> None:
        event = OwnerChanged(
            conversation=conv.id, status=conv.status, agent=conv.owner_agent, name=conv.owner_name
        )
        await self._to_agents(conv.site_id, event)

    # -- the visitor's side ------------------------------------------------------------------

    async def visitor_said(self, conv: Conversation, message_id: str, text: str, at: int) -> None:
        await self._to_agents(
            conv.site_id, VisitorSaid(conversation=conv.id, id=message_id, text=text, at=at)
        )

    async def bot_said(self, conv: Conversation, reply_id: str, text: str, kind: str) -> None:
        event = BotSaid(conversation=conv.id, id=reply_id, text=text, at=self._now_ms(), kind=kind)
        await self._to_agents(conv.site_id, event)

    async def visitor_typing(self, site_id: int, visitor: str, on: bool, since_ms: int) -> None:
        """Show the agents of the visitor's conversation with a person that they type."""
        conv = await self.db.run(lambda c: storage.find_conversation(c, site_id, visitor, since_ms))
        if conv is not None and conv.with_person:
            await self._to_agents(site_id, VisitorTyping(conversation=conv.id, on=on))

    async def visitor_page(self, conv: Conversation, page: Page) -> None:
        event = VisitorPage(conversation=conv.id, url=page.url, title=page.title, at=self._now_ms())
        await self._to_agents(conv.site_id, event)
