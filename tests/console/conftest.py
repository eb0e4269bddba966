"""Console fixtures: Acme (an owner, a marketer, an agent) and Globex (a marketer), each with
a site and a rule, and a server on them (no model keys)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bpract.sites import Site
from bpract.store import Database, transaction
from chat.conftest import ORIGIN, start_server
from inbox.conftest import PASSWORD, AgentClient, make_agent
from support.server import ServerProcess
from support.sites import make_site

OWNER, MARKETER, AGENT = "olive@acme.test", "mia@acme.test", "ana@acme.test"
RIVAL = "gus@globex.test"
RULES = """
rules:
  - id: pricing-offer
    name: Offer help on pricing
    when: {page: ["/pricing*"], attentive_seconds: 30}
    message: {text: "Comparing plans?", cta: {label: "See pricing", url: "/pricing"}}
    holdout: 10
"""

__all__ = ["AGENT", "MARKETER", "OWNER", "PASSWORD", "RIVAL", "Console", "Person", "signed"]


@dataclass(frozen=True)
class Console:
    db: Path
    server: ServerProcess
    acme: Site
    globex: Site


def add_person(db_path: Path, org: str, email: str, name: str, access: str) -> None:
    make_agent(db_path, org, email, name, access=access)


def load_rules(db_path: Path, site: Site) -> None:
    import subprocess
    import sys

    path = db_path.with_suffix(".rules.yaml")
    path.write_text(RULES)
    argv = [sys.executable, "-m", "bpract", "rules", "load", str(path), "--site", site.public_key,
            "--db", str(db_path)]  # fmt: skip
    subprocess.run(argv, check=True, capture_output=True)


#: Model calls seeded into the ledger: (days ago, site, department, model, task, cost in nano-$).
CALLS = [
    (0, "acme", "sales", "claude-haiku-4-5", "trigger_decision", 1_250_000),
    (0, "acme", "sales", "claude-haiku-4-5", "trigger_decision", 1_250_000),
    (0, "acme", "support", "gpt-5-mini", "chat_answer", 40_000_000),
    (1, "acme", "support", "gpt-5-mini", "chat_answer", 30_000_000),
    (3, "acme", "sales", "claude-sonnet-4-5", "chat_answer", 90_000_000),
    (0, "globex", "globex-only-department", "gpt-5-mini", "chat_answer", 777_000_000),
]
TODAY_ACME = {"sales": 2_500_000, "support": 40_000_000}


def seed_usage(db_path: Path, sites: dict[str, Site]) -> None:
    """The ledger as the gateway leaves it after these calls, on their days."""
    import time

    from bpract.llm.ledger import Ledger, UsageRecord
    from bpract.llm.types import Usage

    db = Database(db_path)
    now = time.time()

    def add(conn: Any) -> None:
        with transaction(conn, lock=True):
            for ago, site, department, model, task, cost in CALLS:
                ledger = Ledger(db, clock=lambda ago=ago: now - ago * 86400)
                record = UsageRecord(
                    site_id=sites[site].id, department=department, rule="", conversation="c_1",
                    task=task, provider="fake", model=model, streamed=False,
                    usage=Usage(input=100, output=20), cost_nano=cost, saved_nano=0,
                    price_version="test", priced=True,
                )  # fmt: skip
                ledger.record_in(conn, record)

    try:
        db.run_sync(add)
    finally:
        db.close()


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    db = tmp_path_factory.mktemp("console") / "bpract.db"
    acme = make_site(db, name="Acme shop", origins=[ORIGIN], org="Acme")
    globex = make_site(db, name="Globex store", origins=[ORIGIN], org="Globex")
    add_person(db, "Acme", OWNER, "Olive Owner", "owner")
    add_person(db, "Acme", MARKETER, "Mia Marketer", "marketer")
    add_person(db, "Acme", AGENT, "Ana Agent", "agent")
    add_person(db, "Globex", RIVAL, "Gus Globex", "marketer")
    load_rules(db, acme)
    load_rules(db, globex)
    seed_usage(db, {"acme": acme, "globex": globex})
    server = start_server(db, {})
    try:
        yield Console(db=db, server=server, acme=acme, globex=globex)
    finally:
        server.stop()


class Person(AgentClient):
    """A person of the console, as HTTP."""


@contextmanager
def signed(console: Console, email: str) -> Iterator[Person]:
    """A person of the console, signed in."""
    with Person(console.server) as person:
        person.signed_in(email)
        yield person
