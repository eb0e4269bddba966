"""What proposing an action can come to, and the seam the chat's proposers call.

Two proposers exist: the model (its tool calls, ``bpract.chat.tools``) and, with no
model, the offline matcher (``bpract.actions.matcher``).  Either hands a name and
arguments to a :class:`Proposer`; what comes back is one of three outcomes, and
none of them is an irreversible call: a write waits for the visitor's own click
on the card (a ``confirm`` frame), which no text can stand in for.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from bpract.wire.frames import ActionCard

__all__ = ["Asker", "Carded", "Outcome", "Proposer", "Ran", "Refused", "Source", "for_model"]

Source = Literal["model", "matcher"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Asker:
    """Who a proposal is for: the conversation it appears in and the verified identity."""

    site_id: int
    conversation: str
    visitor: str
    user_id: str | None
    """The user id the site's HMAC verified on this connection; None when not signed in."""
    traits: Mapping[str, Any] = field(default_factory=dict)
    lang: str = "en"


@dataclass(frozen=True, slots=True, kw_only=True)
class Carded:
    """A card is on its way to the visitor: nothing has run, nothing will until they confirm."""

    action: str
    card: ActionCard
    text: str
    """The reply that introduces the card."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Ran:
    """A read that needs no confirmation ran at once."""

    action: str
    ok: bool
    result: Any
    """The API's JSON answer (None when it failed)."""
    text: str
    """The declared success or failure message, filled in."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Refused:
    """Nothing was proposed; ``reason`` is the audit's, ``text`` the visitor's."""

    action: str
    reason: str
    text: str


Outcome = Carded | Ran | Refused


class Proposer(Protocol):
    """Validates a proposed call and turns it into an outcome (audited)."""

    async def propose(
        self, asker: Asker, name: str, arguments: Mapping[str, Any], *, source: Source
    ) -> Outcome: ...


def for_model(outcome: Outcome) -> str:
    """The tool result a model reads: what happened, never an invitation to claim more."""
    body: dict[str, Any]
    if isinstance(outcome, Carded):
        body = {
            "status": "awaiting_confirmation",
            "card": outcome.card.text,
            "note": "Nothing has happened yet. The visitor sees a card and decides by clicking "
            "Confirm or Cancel; do not say it is done.",
        }
    elif isinstance(outcome, Ran):
        body = {"status": "done" if outcome.ok else "failed", "result": outcome.result}
    else:
        body = {"status": "refused", "reason": outcome.reason, "message": outcome.text}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=str)
