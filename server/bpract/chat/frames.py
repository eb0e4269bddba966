"""The frames the chat handles: visitor messages, "Talk to a person", ratings, typing (shown to
the person who has the conversation), and the history after ``welcome``."""

from __future__ import annotations

from bpract.chat.service import ChatService
from bpract.wire.codes import INVALID
from bpract.wire.frames import Handoff, Message, Rate, Typing
from bpract.wire.handlers import FollowUp, FrameHandlers, Visit

__all__ = ["register"]


def register(frames: FrameHandlers, chat: ChatService) -> None:
    """Answer ``message`` frames, hand ``handoff`` ones to the team, store ``rate`` frames,
    restore the conversation on open."""

    async def admit(visit: Visit, frame: Message | Handoff) -> str | None:
        return await chat.refusal(
            site_id=visit.site_id, visitor=visit.visitor, client=visit.client,
            outreach=frame.outreach if isinstance(frame, Message) else None,
        )  # fmt: skip

    async def message(visit: Visit, frame: Message | Handoff) -> FollowUp | None:
        # The turn is stored before the ack, so an acknowledged question is never lost.
        said = frame if isinstance(frame, Message) else None
        pending = await chat.accept(
            site_id=visit.site_id, site_name=visit.site_name, visitor=visit.visitor,
            stream=visit.stream, seq=frame.seq, text=said.text if said else "",
            outreach=said.outreach if said else None, lang_hint=visit.lang,
            user_id=visit.user_id, traits=visit.traits, handoff=said is None,
        )  # fmt: skip
        if pending is None:
            return None

        async def answer() -> None:
            chat.answer(pending)  # after the ack: the answer follows its message

        return answer

    async def rate(visit: Visit, frame: Rate) -> FollowUp:
        async def store() -> None:
            known = await chat.rate(
                site_id=visit.site_id, visitor=visit.visitor, reply=frame.reply,
                rating=frame.rating, comment=frame.comment,
            )  # fmt: skip
            if not known:
                detail = f"reply {frame.reply!r} is not one of your answers"
                await visit.error(INVALID, detail, frame.seq)

        return store

    async def history(visit: Visit) -> None:
        for frame in await chat.opened(visit.site_id, visit.visitor, visit.page):
            await visit.send(frame)

    async def typing(visit: Visit, frame: Typing) -> None:
        since = chat.now_ms() - chat.config.history_window_ms
        await chat.desk.visitor_typing(visit.site_id, visit.visitor, frame.on, since)

    frames.on(Message, message, admit=admit)
    frames.on(Handoff, message, admit=admit)
    frames.on(Rate, rate)
    frames.on_open(history)
    frames.passing(Typing, typing)
