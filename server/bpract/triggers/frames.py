"""The frames the trigger feature handles: fires (policy, decision, outreach) and outcomes."""

from __future__ import annotations

import msgspec

from bpract.triggers.errors import UnknownRuleError
from bpract.triggers.service import TriggerService
from bpract.wire.codes import UNKNOWN_RULE
from bpract.wire.frames import Fire, Outcome, Outreach
from bpract.wire.handlers import FollowUp, FrameHandlers, Visit

__all__ = ["register"]


def register(frames: FrameHandlers, triggers: TriggerService) -> None:
    """Decide ``fire`` frames beside the connection; record ``outcome`` frames."""

    async def decide(visit: Visit, frame: Fire) -> None:
        try:
            result = await triggers.handle_fire(
                site_id=visit.site_id, visitor=visit.visitor, session=frame.session,
                rule=frame.rule, rule_version=frame.rule_version, context=frame.context,
                at_ms=frame.at, lang=visit.lang,
            )  # fmt: skip
        except UnknownRuleError as exc:
            await visit.error(UNKNOWN_RULE, str(exc) or f"unknown rule {frame.rule!r}", frame.seq)
            return
        if result.outreach is not None:
            await visit.send(msgspec.convert(result.outreach, Outreach))

    async def fire(visit: Visit, frame: Fire) -> FollowUp:
        async def spawn() -> None:
            visit.spawn(decide(visit, frame))  # a decision may take seconds: not in the loop

        return spawn

    async def outcome(visit: Visit, frame: Outcome) -> FollowUp:
        async def record() -> None:
            visit.spawn(_record(triggers, visit, frame))

        return record

    frames.on(Fire, fire)
    frames.on(Outcome, outcome)


async def _record(triggers: TriggerService, visit: Visit, frame: Outcome) -> None:
    await triggers.record_outcome(
        site_id=visit.site_id, visitor=visit.visitor, outreach_id=frame.outreach,
        kind=frame.kind, at_ms=frame.at,
    )  # fmt: skip
