"""A site's chat settings: their fields and defaults, a partial update checked, load and save."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bpract.chat import storage
from bpract.errors import BpractError
from bpract.store import Database

__all__ = ["ChatSettingsError", "SiteChatSettings", "load", "save", "updated"]


@dataclass(frozen=True, slots=True, kw_only=True)
class SiteChatSettings:
    """What a site chose for its chat (a site that chose nothing has these defaults)."""

    handoff_on_failure: bool = False
    """Hand the conversation to a person on repeated failure: a second "I don't know" in a
    row, a thumbs-down on an answer, or a failed action."""


_FIELDS = tuple(f.name for f in dataclasses.fields(SiteChatSettings))


class ChatSettingsError(BpractError):
    """A change of chat settings that is refused; ``field`` names the setting at fault."""

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(detail)
        self.field = field


def updated(current: SiteChatSettings, changes: Any) -> SiteChatSettings:
    """``current`` with ``changes`` (an object of setting names to values) applied."""
    if not isinstance(changes, Mapping):
        raise ChatSettingsError("$", "the body must be a JSON object of settings")
    for name, value in changes.items():
        if name not in _FIELDS:
            known = ", ".join(_FIELDS)
            raise ChatSettingsError(str(name), f"unknown setting {name!r} (known: {known})")
        if not isinstance(value, bool):
            raise ChatSettingsError(name, f"{name} must be true or false")
    return dataclasses.replace(current, **dict(changes))


async def load(db: Database, site_id: int) -> SiteChatSettings:
    """The site's chat settings (the defaults where it stored none)."""
    stored = await db.run(lambda conn: storage.chat_settings(conn, site_id))
    return SiteChatSettings(**stored)


async def save(db: Database, site_id: int, settings: SiteChatSettings, *, at_ms: int) -> None:
    await db.transaction(
        lambda conn: storage.save_chat_settings(
            conn, site_id, handoff_on_failure=settings.handoff_on_failure, at_ms=at_ms
        )
    )
