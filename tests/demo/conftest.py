"""Fixtures for the demo site: ``python -m demo_site`` on a free port with a fresh SQLite file."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from support.process import Process, answers, free_port

REPO = Path(__file__).resolve().parents[2]
SITE_DIR = REPO / "demo_site" / "site"
API_KEY = "test-api-key"
IDENTITY_SECRET = "test-identity-secret"
SITE_KEY = "pk_test_demo123"
WEBHOOK_SECRET = "whsec_test_demo"
# Nothing listens on the discard port; the pages only need a URL to embed.
BPRACT_URL = "http://127.0.0.1:9"


@dataclass(frozen=True)
class DemoServer:
    url: str
    db: Path

    def client(self, *, key: str | None = API_KEY) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=10)


def _start(db: Path) -> Iterator[DemoServer]:
    port = free_port()
    env = {
        **os.environ,
        "DEMO_PORT": str(port),
        "DEMO_DB": str(db),
        "DEMO_API_KEY": API_KEY,
        "DEMO_IDENTITY_SECRET": IDENTITY_SECRET,
        "DEMO_SITE_KEY": SITE_KEY,
        "DEMO_BPRACT_URL": BPRACT_URL,
        "DEMO_WEBHOOK_SECRET": WEBHOOK_SECRET,
    }
    server = DemoServer(url=f"http://127.0.0.1:{port}", db=db)
    proc = Process([sys.executable, "-m", "demo_site"], env=env, cwd=REPO,
                   log_path=db.with_suffix(".log"), name="demo site")  # fmt: skip
    try:
        proc.start(answers(f"{server.url}/api/me/identity"), timeout=20.0)
        yield server
    finally:
        proc.stop()


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[DemoServer]:
    """A demo site of its own, for tests that change state."""
    yield from _start(tmp_path / "demo.sqlite3")


@pytest.fixture(scope="module")
def shared_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    """One demo site for a module's read-only tests."""
    yield from _start(tmp_path_factory.mktemp("demo") / "demo.sqlite3")
