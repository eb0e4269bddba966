"""The frames the trigger feature handles: fires (policy, decision, outreach) and outcomes.

A fire is taken — policy checked, stored ``pending`` — when its frame is
admitted, before the frame itself is stored and acknowledged: a stored fire
frame always has its fire, whatever moment the process dies at. It is decided
after the ack. A fire a process took but never decided (it died, or was
stopped, first) is decided when its visitor next connects: the engine does not
resend a frame the server already stored, so the server must finish on its own.
"""

from __future__ import annotations

import asyncio
import contextlib

import msgspec

from bpract.triggers.errors import UnknownRuleError
from bpract.triggers.fires import StoredFire
from bpract.triggers.service import TriggerService
from bpract.wire.codes import UNKNOWN_RULE
from bpract.wire.frames import Fire, Outcome, Outreach
from bpract.wire.handlers import ENGINE_SEQ, FollowUp, FrameHandlers, Visit

__all__ = ["register"]


def register(frames: FrameHandlers, triggers: TriggerService) -> None:
    """Take ``fire`` frames on admission, decide them beside the connection; record
    ``outcome`` frames; finish a visitor's undecided fires when they connect."""

    async def take(visit: Visit, frame: Fire) -> StoredFire:
        keyed = frame.seq != ENGINE_SEQ  # the server-side engine's fires have no frame
        return await triggers.take_fire(
            site_id=visit.site_id, visitor=visit.visitor, session=frame.session,
            rule=frame.rule, rule_version=frame.rule_version, context=frame.context,
            at_ms=frame.at, stream=visit.stream if keyed else None,
            seq=frame.seq if keyed else None,
        )  # fmt: skip

    async def admit(visit: Visit, frame: Fire) -> str | None:
        with contextlib.suppress(UnknownRuleError):  # refused once the frame is stored
            await take(visit, frame)
        return None

    async def fire(visit: Visit, frame: Fire) -> FollowUp | None:
        try:
            taken = await take(visit, frame)  # the fire admission stored, or a new one
        except UnknownRuleError as exc:
            message = str(exc) or f"unknown rule {frame.rule!r}"

            async def refuse() -> None:
                await visit.error(UNKNOWN_RULE, message, frame.seq)

            return refuse
        if taken.status != "pending":
            return None

        async def spawn() -> None:
            visit.spawn(_decide(triggers, visit, taken.id))  # may take seconds: not in the loop

        return spawn

    async def outcome(visit: Visit, frame: Outcome) -> FollowUp:
        async def record() -> None:
            visit.spawn(_record(triggers, visit, frame))

        return record

    async def finish_undecided(visit: Visit) -> None:
        for fire_id, wait_s in await triggers.undecided(visit.site_id, visit.visitor):
            visit.spawn(_decide(triggers, visit, fire_id, after_s=wait_s))

    frames.on(Fire, fire, admit=admit)
    frames.on(Outcome, outcome)
    frames.on_open(finish_undecided)


async def _decide(
    triggers: TriggerService, visit: Visit, fire_id: int, *, after_s: float = 0
) -> None:
    """Decide a fire and send its outreach, if any, on this connection."""
    if after_s > 0:  # the claim of a process that died lapses then
        await asyncio.sleep(after_s)
    result = await triggers.decide_fire(fire_id, lang=visit.lang)
    if result.outreach is not None:
        await visit.send(msgspec.convert(result.outreach, Outreach))


async def _record(triggers: TriggerService, visit: Visit, frame: Outcome) -> None:
    await triggers.record_outcome(
        site_id=visit.site_id, visitor=visit.visitor, outreach_id=frame.outreach,
        kind=frame.kind, at_ms=frame.at,
    )  # fmt: skip
