"""The frames that settle a card: ``confirm`` and ``decline``, and the cards still open.

A ``confirm`` is checked and its pending action claimed *before* the frame is
acknowledged (so an acknowledged click is never lost: from the claim on, a
restart finishes the call); the call itself runs after the ack.  What it comes
to is stored as the bot's turn and sent to every tab of the visitor.  A refusal
(another visitor's card, a forged or expired token) or a repeat is answered to
the sending tab only and changes nothing for anyone else.
"""

from __future__ import annotations

from bpract.actions.runner import ActionRunner, Claimed, Settled
from bpract.chat.service import ChatService
from bpract.wire.codes import INVALID
from bpract.wire.frames import Confirm, Decline
from bpract.wire.handlers import FollowUp, FrameHandlers, Visit

__all__ = ["register"]


async def _answer(visit: Visit, chat: ChatService, settled: Settled | None, seq: int) -> None:
    if settled is None:
        return  # another tab's confirm is running it; its end reaches every tab
    if settled.fresh:
        await chat.settled(settled)
    elif settled.frame.id:
        await visit.send(settled.frame)
    else:
        await visit.error(INVALID, "this confirmation is not one of ours", seq)


def register(frames: FrameHandlers, chat: ChatService, runner: ActionRunner) -> None:
    """Handle ``confirm`` and ``decline``; after every ``welcome``, re-send the open cards."""

    async def confirm(visit: Visit, frame: Confirm) -> FollowUp:
        claimed = await runner.claim(
            site_id=visit.site_id, visitor=visit.visitor, user_id=visit.user_id,
            token=frame.token, values=frame.values,
        )  # fmt: skip

        async def run() -> None:
            settled = await runner.run(claimed) if isinstance(claimed, Claimed) else claimed
            await _answer(visit, chat, settled, frame.seq)

        return run

    async def decline(visit: Visit, frame: Decline) -> FollowUp:
        settled = await runner.decline(
            site_id=visit.site_id, visitor=visit.visitor, user_id=visit.user_id,
            token=frame.token,
        )  # fmt: skip

        async def answer() -> None:
            await _answer(visit, chat, settled, frame.seq)

        return answer

    async def open_cards(visit: Visit) -> None:
        for card in await runner.open_cards(visit.site_id, visit.visitor, visit.user_id):
            await visit.send(card)

    frames.on(Confirm, confirm)
    frames.on(Decline, decline)
    frames.on_open(open_cards)
