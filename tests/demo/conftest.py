"""Fixtures for the demo site: ``python -m demo_site`` on a free port with a fresh SQLite file."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from support.server import free_port

REPO = Path(__file__).resolve().parents[2]
SITE_DIR = REPO / "demo_site" / "site"
API_KEY = "test-api-key"
IDENTITY_SECRET = "test-identity-secret"
SITE_KEY = "pk_test_demo123"
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
    }
    log = db.with_suffix(".log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "demo_site"], cwd=REPO, env=env, stdout=log, stderr=log
    )
    server = DemoServer(url=f"http://127.0.0.1:{port}", db=db)
    try:
        _wait_ready(proc, server, db.with_suffix(".log"))
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


def _wait_ready(proc: subprocess.Popen[bytes], server: DemoServer, log: Path) -> None:
    for _ in range(200):
        if proc.poll() is not None:
            raise RuntimeError(f"demo site exited: {log.read_text()}")
        try:
            if httpx.get(f"{server.url}/api/me/identity", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"demo site did not start: {log.read_text()}")


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[DemoServer]:
    """A demo site of its own, for tests that change state."""
    yield from _start(tmp_path / "demo.sqlite3")


@pytest.fixture(scope="module")
def shared_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    """One demo site for a module's read-only tests."""
    yield from _start(tmp_path_factory.mktemp("demo") / "demo.sqlite3")
