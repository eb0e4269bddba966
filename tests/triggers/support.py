"""Helpers shared by the trigger tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import apsw

from bpract.triggers.service import TriggerService
from bpract.triggers.spec import load_ruleset

# Thursday 2026-11-26 10:00 UTC
T0 = int(datetime(2026, 11, 26, 10, 0, tzinfo=UTC).timestamp() * 1000)
MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR


@dataclass
class FakeClock:
    now: int = T0

    def __call__(self) -> int:
        return self.now

    def advance(self, ms: int) -> None:
        self.now += ms


def add_site(conn: apsw.Connection, key: str) -> int:
    conn.execute(
        "INSERT INTO sites (public_key, name, allowed_origins, identity_secret, created_at)"
        " VALUES (?, ?, '[]', 'sk_test', '2026-01-01T00:00:00Z')",
        (key, key),
    )
    return int(conn.last_insert_rowid())


async def save(service: TriggerService, site_id: int, yaml_text: str) -> int:
    """Save a YAML ruleset for the site; its version."""
    return await service.save_ruleset(
        site_id, load_ruleset(yaml_text), source=yaml_text, author="test"
    )


async def fire(
    service: TriggerService,
    site_id: int,
    rule: str,
    visitor: str = "v_alice",
    *,
    version: int = 1,
    at_ms: int | None = None,
) -> tuple[str, str, dict[str, object] | None]:
    result = await service.handle_fire(
        site_id=site_id,
        visitor=visitor,
        session="n_session",
        rule=rule,
        rule_version=version,
        context={"page": "/pricing"},
        at_ms=T0 if at_ms is None else at_ms,
        lang="en",
    )
    return result.status, result.reason, result.outreach
