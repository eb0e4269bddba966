"""Action-set versions and the audit over a real SQLite file, through the service."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import apsw
import pytest

from bpract.actions import EVENTS, ActionService, AuditEvent, load_actions
from bpract.features import MIGRATIONS
from bpract.store import Database, migrate
from support.sites import make_site

DEMO = (Path(__file__).resolve().parents[2] / "demo_site" / "actions.yaml").read_text("utf-8")


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(tmp_path / "store.db")
    database.run_sync(lambda c: migrate(c, MIGRATIONS))
    yield database
    database.close()


@pytest.fixture
def sites(tmp_path: Path, db: Database) -> tuple[int, int]:
    first = make_site(tmp_path / "store.db", origins=["http://127.0.0.1:9"]).id
    second = make_site(tmp_path / "store.db", origins=["http://127.0.0.1:9"]).id
    return first, second


async def test_each_save_is_a_version_per_site(db: Database, sites: tuple[int, int]) -> None:
    service = ActionService(db)
    first, second = sites
    actions = load_actions(DEMO)
    assert await service.current_set(first) is None
    assert await service.save(first, actions, source=DEMO, author="ana") == 1
    assert await service.save(first, actions, source="{}", author="bo") == 2
    assert await service.save(second, actions, source=DEMO, author="cy") == 1
    versions = await service.versions(first)
    assert [(v.version, v.author) for v in versions] == [(2, "bo"), (1, "ana")]
    assert await service.current_set(first) == actions
    current = await service.current(second)
    assert current is not None and current.author == "cy"


async def test_audit_keeps_the_latest_page_oldest_first(
    db: Database, sites: tuple[int, int]
) -> None:
    service = ActionService(db)
    first, second = sites
    for index, event in enumerate(EVENTS):
        await service.record(
            AuditEvent(
                site_id=first, conversation="c", visitor="v", action=f"a{index}", event=event
            )  # type: ignore[arg-type]
        )
    await service.record(
        AuditEvent(site_id=second, conversation="c", visitor="v", action="x", event="proposed")
    )
    events = await service.audit(first)
    assert [e.event for e in events] == list(EVENTS)
    assert all(e.site_id == first for e in events)
    latest = await service.audit(first, limit=2)
    assert [e.event for e in latest] == ["succeeded", "failed"]


async def test_the_table_refuses_an_unknown_event(db: Database, sites: tuple[int, int]) -> None:
    service = ActionService(db)
    with pytest.raises(apsw.ConstraintError):
        await service.record(
            AuditEvent(
                site_id=sites[0], conversation="c", visitor="v", action="a", event="approved"
            )  # type: ignore[arg-type]
        )
