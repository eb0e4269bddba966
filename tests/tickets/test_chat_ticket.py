"""The chat when no one can answer live: a hand-off answers with kind ``ticket`` (asking for
an email and the question) and the conversation still goes to the team's queue."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bpract.chat.phrases import phrases
from tickets.conftest import TicketVisitor, World, make_world, open_visitor, rows

#: Open one minute a week, on a day that is not today: closed whenever the test runs.
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _closed_hours() -> dict[str, Any]:
    tomorrow = _DAYS[(time.gmtime().tm_wday + 2) % 7]
    return {"days": [tomorrow], "start": "03:00", "end": "03:01", "tz": "UTC"}


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    found = make_world(tmp_path, {"BPRACT_CHAT_RATE": "1000"})
    try:
        yield found
    finally:
        found.server.stop()


async def _reply(visitor: TicketVisitor) -> dict[str, Any]:
    end, _ = await visitor.recv_until("reply_end", within=60)
    return end


def _conversation(world: World, visitor: str) -> tuple[str, str, int | None]:
    [(status, reason, handed)] = rows(
        world.db,
        "SELECT status, handoff_reason, handoff_at_ms FROM conversations WHERE visitor = ?",
        visitor,
    )
    return str(status), str(reason), handed


async def test_outside_hours_a_hand_off_asks_for_a_ticket(world: World) -> None:
    with world.api() as api:
        put = api.put(world.settings_url(), json={"hours": _closed_hours()})
    assert put.status_code == 200, put.text
    visitor = await open_visitor(world.server, world.site, lang="de-DE")
    await visitor.send({"t": "handoff", "seq": 1, "at": int(time.time() * 1000)})
    end = await _reply(visitor)
    assert end["kind"] == "ticket" and end["text"] == phrases("de").ticket
    status, reason, handed = _conversation(world, visitor.visitor)
    assert status == "human" and handed is not None  # waiting in the queue all the same
    assert "clicked" in reason
    # asking in words is a hand-off too
    at = int(time.time() * 1000)
    await visitor.send(
        {"t": "message", "seq": 2, "at": at, "text": "Ich möchte mit einer Person sprechen"}
    )
    assert (await _reply(visitor))["kind"] == "ticket"
    await visitor.close()


async def test_within_hours_a_hand_off_is_a_hand_off(world: World) -> None:
    visitor = await open_visitor(world.server, world.site)  # no hours: always open
    await visitor.send({"t": "handoff", "seq": 1, "at": int(time.time() * 1000)})
    end = await _reply(visitor)
    assert end["kind"] == "handoff" and end["text"] == phrases("en").handoff
    assert _conversation(world, visitor.visitor)[0] == "human"
    await visitor.close()
