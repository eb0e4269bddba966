"""Frame handlers: how a feature says which client frames it handles, and what it may do.

The visitor connection owns the life cycle (handshake, limits, storage, acks);
features register what happens to the frames they understand::

    frames.on(Fire, handle_fire)          # triggers
    frames.on(Message, accept, admit=…)   # chat
    frames.on_open(send_history)          # chat, after every ``welcome``
    frames.passing(Typing, show_typing)   # chat: not stored, not acknowledged

A handler runs once its frame is stored for the first time, before the ack;
the follow-up it returns (if any) runs after the ack, so an answer never
overtakes the acknowledgement of its question.  A duplicate (a resend) is
acknowledged and handled by no one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine, Iterable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar, Union

import msgspec

from bpract.wire.frames import Frame, Page, SeqFrame, tag_of

__all__ = [
    "ENGINE_SEQ",
    "Admit",
    "FollowUp",
    "FrameHandler",
    "FrameHandlers",
    "Handle",
    "OnOpen",
    "Pass",
    "Visit",
]

#: The ``seq`` of a frame the server-side engine made: never stored, never acknowledged.
ENGINE_SEQ = 0

F = TypeVar("F", bound=SeqFrame)
P = TypeVar("P", bound=Frame)


class Visit(Protocol):
    """One visitor's connection, as the features' handlers see it."""

    @property
    def site_id(self) -> int: ...
    @property
    def site_name(self) -> str: ...
    @property
    def visitor(self) -> str: ...
    @property
    def stream(self) -> str: ...
    @property
    def lang(self) -> str | None:
        """The browser's language (``hello.lang``), if it sent one."""

    @property
    def page(self) -> Page | None:
        """The page the connection was opened from (``hello.page``)."""

    @property
    def client(self) -> str:
        """The client address limits count this connection under (an IPv4, an IPv6 /64)."""

    @property
    def user_id(self) -> str | None:
        """The user id the site's HMAC verified on this connection; None when none was."""

    @property
    def traits(self) -> dict[str, Any]:
        """The traits given with the verified identity (unverified data; for display only)."""

    async def send(self, frame: Frame) -> None:
        """Send ``frame`` to this connection only."""

    async def error(self, code: str, message: str, seq: int | None = None) -> None:
        """Send an ``error`` frame; the connection stays open."""

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` beside the connection (failures are logged, not raised)."""


#: What runs after the ack of the frame that asked for it.
FollowUp = Callable[[], Awaitable[None]]
#: Called for a newly stored frame before its ack; may return a follow-up.
Handle = Callable[[Visit, F], Awaitable[FollowUp | None]]
#: Called before a frame is stored: a reason to refuse it as ``rate_limited``, or None.
Admit = Callable[[Visit, F], Awaitable[str | None]]
#: Called after every ``welcome``.
OnOpen = Callable[[Visit], Awaitable[None]]
#: Called for an unsequenced frame (never stored, never acknowledged, not resent).
Pass = Callable[[Visit, P], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class FrameHandler(Generic[F]):
    frame: type[F]
    handle: Handle[F]
    admit: Admit[F] | None = None


class FrameHandlers:
    """The registry one process's visitor connections dispatch through."""

    def __init__(self) -> None:
        self._by_type: dict[type[SeqFrame], FrameHandler[Any]] = {}
        self._on_open: list[OnOpen] = []
        self._passing: dict[type[Frame], Pass[Any]] = {}

    def on(self, frame: type[F], handle: Handle[F], *, admit: Admit[F] | None = None) -> None:
        """Handle frames of type ``frame``; one handler per type."""
        if frame in self._by_type:
            raise ValueError(f"{tag_of(frame)!r} frames already have a handler")
        self._by_type[frame] = FrameHandler(frame, handle, admit)

    def passing(self, frame: type[P], handle: Pass[P]) -> None:
        """Handle unsequenced frames of type ``frame`` (typing…): nothing stored or acked."""
        if issubclass(frame, SeqFrame) or frame in self._passing:
            raise ValueError(f"{tag_of(frame)!r} frames cannot have this handler")
        self._passing[frame] = handle

    def passer(self, frame: Frame) -> Pass[Any] | None:
        return self._passing.get(type(frame))

    def on_open(self, hook: OnOpen) -> None:
        """Call ``hook(visit)`` after every ``welcome`` (history, presence…)."""
        self._on_open.append(hook)

    def get(self, frame: SeqFrame) -> FrameHandler[Any] | None:
        return self._by_type.get(type(frame))

    @property
    def frame_types(self) -> tuple[type[SeqFrame], ...]:
        return tuple(self._by_type)

    async def opened(self, visit: Visit) -> None:
        for hook in self._on_open:
            await hook(visit)

    def decoder(self, always: Iterable[type[Frame]]) -> msgspec.json.Decoder[Any]:
        """One decoder for ``always`` and every handled frame type; others are unknown types."""
        first = tuple(always)
        handled = (*self._by_type, *self._passing)
        types = (*first, *(t for t in handled if t not in first))
        return msgspec.json.Decoder(Union[types])  # noqa: UP007 - a union built at run time
