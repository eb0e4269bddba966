"""A database for presence and routing tests: two organisations with a site each, agents made
with their departments and limits, and conversations handed to a person through chat's own
statements."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import apsw

from bpract.chat import storage as chat
from bpract.chat.storage import Conversation
from bpract.features import MIGRATIONS
from bpract.inbox import add_agent
from bpract.inbox.storage import Agent
from bpract.sites import create_org, create_site
from bpract.store import Database, migrate, transaction

NOW = 1_800_000_000_000
"""The tests' clock (ms): presence and routing take the time as an argument."""


def tx(db: Database, fn: Any) -> Any:
    """``fn(conn)`` in a locked transaction, from a test."""

    def run(conn: apsw.Connection) -> Any:
        with transaction(conn, lock=True):
            return fn(conn)

    return db.run_sync(run)


@dataclass
class People:
    db: Database
    acme: int
    """Organisation ids."""
    globex: int
    acme_site: int
    globex_site: int

    def agent(
        self, org_id: int, email: str, *departments: str, max_open: int | None = None
    ) -> Agent:
        made: Agent = tx(
            self.db,
            lambda c: add_agent(
                c, org_id=org_id, email=email, display_name=email.partition("@")[0].title(),
                password_hash="$argon2id$not-used", departments=list(departments) or None,
                max_open=max_open,
            ),
        )  # fmt: skip
        return made

    def handed_off(self, site_id: int, department: str = "support", visitor: str = "") -> str:
        """A conversation of ``site_id`` waiting for a person of ``department``; its id."""

        def make(conn: apsw.Connection) -> str:
            conv, _ = chat.open_conversation(
                conn, site_id, visitor or chat.new_id("v_"), NOW, since_ms=NOW, outreach_id=None
            )
            chat.insert_visitor_turn(
                conn, conv, message_id=chat.new_id("m_"), text="A person, please", at_ms=NOW,
                seq=1,
            )  # fmt: skip
            chat.hand_off(conn, site_id, conv.id, at_ms=NOW, reason="asked", department=department)
            return conv.id

        made: str = tx(self.db, make)
        return made

    def conversation(self, site_id: int, conversation_id: str) -> Conversation:
        found: Conversation | None = self.db.run_sync(
            lambda c: chat.get_conversation(c, site_id, conversation_id)
        )
        assert found is not None
        return found

    def take(self, site_id: int, conversation_id: str, agent: Agent) -> None:
        """``agent`` takes the conversation over (it counts against their limit)."""
        taken = tx(
            self.db,
            lambda c: chat.take_over(
                c, [site_id], conversation_id, agent_id=agent.id, name=agent.display_name,
                at_ms=NOW,
            ),
        )  # fmt: skip
        assert taken is not None and taken.won


def people(path: Path) -> People:
    """A migrated database at ``path`` with organisations Acme and Globex, a site each."""
    db = Database(path)
    db.run_sync(lambda c: migrate(c, MIGRATIONS))

    def make(conn: apsw.Connection) -> tuple[int, int, int, int]:
        acme, globex = create_org(conn, "Acme"), create_org(conn, "Globex")
        acme_site = create_site(conn, name="Acme shop", origins=["https://acme.test"],
                                org_id=acme.id)  # fmt: skip
        globex_site = create_site(conn, name="Globex store", origins=["https://globex.test"],
                                  org_id=globex.id)  # fmt: skip
        return acme.id, globex.id, acme_site.id, globex_site.id

    return People(db, *tx(db, make))
