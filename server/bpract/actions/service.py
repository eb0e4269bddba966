"""A site's declared actions and their audit, over the database."""

from __future__ import annotations

from typing import Any

import msgspec

from bpract.actions import storage
from bpract.actions.spec import ActionSet
from bpract.actions.storage import AuditEvent, StoredActions
from bpract.store import Database

__all__ = ["ActionService"]


class ActionService:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def save(self, site_id: int, actions: ActionSet, *, source: str, author: str) -> int:
        """Store a validated action set as the site's next version; that version."""
        body: dict[str, Any] = msgspec.to_builtins(actions)

        def save(conn: Any) -> int:
            return storage.insert_version(conn, site_id, body, source=source, author=author)

        return await self._db.transaction(save, lock=True)

    async def current(self, site_id: int) -> StoredActions | None:
        return await self._db.run(lambda conn: storage.latest(conn, site_id))

    async def current_set(self, site_id: int) -> ActionSet | None:
        """The action set served now, or None when the site declared none."""
        stored = await self.current(site_id)
        return None if stored is None else msgspec.convert(stored.body, ActionSet)

    async def versions(self, site_id: int) -> list[StoredActions]:
        return await self._db.run(lambda conn: storage.list_versions(conn, site_id))

    async def record(self, event: AuditEvent) -> int:
        return await self._db.transaction(lambda conn: storage.record_event(conn, event))

    async def audit(
        self,
        site_id: int,
        *,
        conversation: str | None = None,
        visitor: str | None = None,
        limit: int = 500,
    ) -> list[AuditEvent]:
        return await self._db.run(
            lambda conn: storage.audit_events(
                conn, site_id, conversation=conversation, visitor=visitor, limit=limit
            )
        )
