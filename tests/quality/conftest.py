"""Quality fixtures: a migrated database with two sites and helpers writing chat rows."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import apsw
import pytest

from bpract.features import MIGRATIONS
from bpract.store import Database, migrate

WEEK = "2026-W48"
MONDAY_MS = 1_795_392_000_000  # 2026-11-23T00:00:00Z, the Monday of 2026-W48


def add_site(conn: apsw.Connection, site_id: int) -> None:
    conn.execute(
        "INSERT INTO sites (id, public_key, name, allowed_origins, identity_secret, created_at)"
        " VALUES (?, ?, ?, '[]', 'secret', '2026-01-01T00:00:00Z')",
        (site_id, f"pk_{site_id}", f"site {site_id}"),
    )


def add_sites(conn: apsw.Connection) -> None:
    add_site(conn, 1)
    add_site(conn, 2)


@dataclass
class Chat:
    """Writes conversations, visitor turns, answers and ratings straight into the tables."""

    db: Database
    count: int = 0
    conversations: dict[tuple[int, str], str] = field(default_factory=dict)

    def conversation(self, site_id: int, visitor: str) -> str:
        key = (site_id, visitor)
        if key not in self.conversations:
            cid = f"c_{site_id}_{visitor}"
            self.db.run_sync(
                lambda c: c.execute(
                    "INSERT INTO conversations (id, site_id, visitor, started_ms, last_ms)"
                    " VALUES (?, ?, ?, 0, 0)",
                    (cid, site_id, visitor),
                )
            )
            self.conversations[key] = cid
        return self.conversations[key]

    def turn(
        self,
        site_id: int,
        visitor: str,
        question: str,
        answer: str,
        *,
        at_ms: int = MONDAY_MS + 3_600_000,
        kind: str = "answer",
        passages: list[dict[str, Any]] | None = None,
        grounding: float | None = None,
        actions: bool = False,
        rating: str | None = None,
    ) -> str:
        """A visitor question and the bot's reply; returns the reply's id."""
        self.count += 1
        cid, n = self.conversation(site_id, visitor), self.count
        reply = f"r_{site_id}_{n}"

        def write(c: apsw.Connection) -> None:
            c.execute(
                "INSERT INTO chat_messages (id, site_id, conversation_id, role, text, at_ms)"
                " VALUES (?, ?, ?, 'visitor', ?, ?)",
                (f"m_{site_id}_{n}", site_id, cid, question, at_ms - 1),
            )
            c.execute(
                "INSERT INTO chat_messages (id, site_id, conversation_id, role, text, at_ms, kind,"
                " passages, grounding, grounding_method, actions, citations)"
                " VALUES (?, ?, ?, 'bot', ?, ?, ?, ?, ?, ?, ?, '[]')",
                (reply, site_id, cid, answer, at_ms, kind, json.dumps(passages or []), grounding,
                 None if grounding is None else "test", int(actions)),
            )  # fmt: skip
            if rating is not None:
                c.execute(
                    "INSERT INTO chat_ratings (message_id, site_id, visitor, rating, at_ms)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (reply, site_id, visitor, rating, at_ms + 5),
                )

        self.db.run_sync(write)
        return reply


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(tmp_path / "quality.db")
    database.run_sync(lambda c: migrate(c, MIGRATIONS))
    database.run_sync(add_sites)
    yield database
    database.close()


@pytest.fixture
def chat(db: Database) -> Chat:
    return Chat(db)
