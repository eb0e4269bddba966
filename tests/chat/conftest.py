"""Chat fixtures: the demo help centre indexed once, copied per module, and a chat client.

- ``help_template``: a database with one site whose knowledge base holds the
  demo help articles (``demo_site/site/help``), built once per session with the
  offline MiniLM embedder, as ``bpract demo`` indexes them.
- ``chat_db``: a copy of it per module (plus a second, empty site), and
  ``chat_sites``: the two sites.
- ``ChatClient``: a visitor that sends ``message`` frames and collects replies.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import apsw
import pytest

from bpract.demo import stage_help_articles
from bpract.features import MIGRATIONS
from bpract.kb import KnowledgeBase, MiniLMEmbedder, ingest
from bpract.sites import Site
from bpract.store import Database, migrate
from support.server import ServerProcess
from support.sites import make_site
from support.visitor import VisitorClient

REPO = Path(__file__).resolve().parents[2]
ORIGIN = "http://127.0.0.1:8765"


@pytest.fixture(scope="session")
def help_template(pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Kept in pytest's cache folder, keyed by the articles: embedding them takes a minute.

    Under ``-p no:cacheprovider`` there is no cache: the session's temporary folder instead.
    """
    cache = getattr(pytestconfig, "cache", None)
    root = cache.mkdir("chat-help") if cache else tmp_path_factory.mktemp("chat-help")
    fingerprint = stage_help_articles(REPO / "demo_site" / "site" / "help", root / "help")
    path = root / f"template-{fingerprint[:16]}.db"
    if path.exists():
        return path
    for old in root.glob("template-*"):
        old.unlink()
    building = root / "building.db"
    for leftover in root.glob("building.db*"):
        leftover.unlink()
    make_site(building, name="Northwind", origins=[ORIGIN])
    db = Database(building)
    try:
        db.run_sync(lambda c: migrate(c, MIGRATIONS))
        kb = KnowledgeBase(db, MiniLMEmbedder())
        report = asyncio.run(ingest(kb, 1, str(root / "help")))
        assert report.added == 11 and not report.failed, report
        db.run_sync(lambda c: c.execute("PRAGMA wal_checkpoint(TRUNCATE)"))
    finally:
        db.close()
    building.rename(path)
    return path


@dataclass(frozen=True)
class Sites:
    help: Site
    """The site whose knowledge base holds the help centre."""
    other: Site
    """Another tenant, with an empty knowledge base."""


@pytest.fixture(scope="module")
def chat_db(tmp_path_factory: pytest.TempPathFactory, help_template: Path) -> Path:
    path = tmp_path_factory.mktemp("chat") / "bpract.db"
    shutil.copy(help_template, path)
    return path


@pytest.fixture(scope="module")
def chat_sites(chat_db: Path) -> Sites:
    other = make_site(chat_db, name="Other tenant", origins=[ORIGIN])
    conn = apsw.Connection(str(chat_db))
    try:
        row = conn.execute(
            "SELECT public_key, identity_secret, created_at FROM sites WHERE id = 1"
        ).fetchone()
    finally:
        conn.close()
    assert row is not None
    first = Site(
        id=1,
        public_key=str(row[0]),
        name="Northwind",
        allowed_origins=[ORIGIN],
        identity_secret=str(row[1]),
        created_at=str(row[2]),
    )
    return Sites(help=first, other=other)


#: No model keys from the developer's environment leak into a test server.
NO_KEYS = {
    "ANTHROPIC_API_KEY": "",
    "OPENAI_API_KEY": "",
    "OPENROUTER_API_KEY": "",
    "BPRACT_LLM_BASE_URL": "",
    "BPRACT_LLM_POLICY_DIR": "",
    "BPRACT_EMBEDDINGS_MODEL": "",
}


def start_server(db: Path, env: dict[str, str]) -> ServerProcess:
    """A server on ``db``; ``env`` on top of no keys and a generous chat rate."""
    full = {**NO_KEYS, "BPRACT_CHAT_RATE": "1000", **env}
    return ServerProcess(db, env=full).start(timeout=60)


def rows(db_path: Path, sql: str, *args: object) -> list[tuple[Any, ...]]:
    conn = apsw.Connection(str(db_path))
    try:
        return list(conn.execute(sql, args))
    finally:
        conn.close()


@dataclass
class Reply:
    start: dict[str, Any]
    deltas: list[str]
    resets: int
    end: dict[str, Any]
    first_delta_s: float | None

    @property
    def streamed(self) -> str:
        return "".join(self.deltas)


class ChatClient(VisitorClient):
    """A visitor that chats: ``ask`` sends a message and waits for its whole reply."""

    seq = 0

    async def message(self, text: str, outreach: str | None = None, seq: int | None = None) -> int:
        if seq is None:
            self.seq += 1
            seq = self.seq
        frame = {"t": "message", "seq": seq, "at": int(time.time() * 1000), "text": text}
        await self.send({**frame, "outreach": outreach})
        return seq

    async def reply(self, within: float = 60.0) -> tuple[Reply, list[dict[str, Any]]]:
        """The next complete reply, and the other frames seen meanwhile."""
        others: list[dict[str, Any]] = []
        start: dict[str, Any] | None = None
        deltas: list[str] = []
        resets = 0
        first: float | None = None
        began = time.perf_counter()
        async with asyncio.timeout(within):
            while True:
                frame = await self.recv(within)
                t = frame["t"]
                if t == "reply_start":
                    start = frame
                elif t == "reply_delta":
                    first = first or time.perf_counter() - began
                    deltas.append(frame["text"])
                elif t == "reply_reset":
                    resets += 1
                    deltas.clear()
                elif t == "reply_end":
                    assert start is not None and start["id"] == frame["id"], (start, frame)
                    return Reply(start, deltas, resets, frame, first), others
                else:
                    others.append(frame)

    async def reply_to(self, text: str, **kw: Any) -> tuple[Reply, list[dict[str, Any]]]:
        """Send ``text``; its reply and the other frames seen meanwhile."""
        await self.message(text, **kw)
        return await self.reply()

    async def ask(self, text: str, **kw: Any) -> Reply:
        await self.message(text, **kw)
        reply, _ = await self.reply()
        return reply


async def open_chat(
    server: ServerProcess, site: Site, **hello: Any
) -> tuple[ChatClient, dict[str, Any]]:
    client = ChatClient((await VisitorClient.open(server.ws_url, ORIGIN)).ws)
    welcome = await client.hello(site.public_key, **hello)
    return client, welcome


@pytest.fixture(scope="module")
def offline_server(chat_db: Path, chat_sites: Sites) -> Iterator[ServerProcess]:
    proc = start_server(chat_db, {})
    try:
        yield proc
    finally:
        proc.stop()
