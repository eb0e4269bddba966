"""The demo store and a real BPract server wired together, as ``bpract demo`` does it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from support.process import Process, answers, free_port
from support.server import ServerProcess

__all__ = [
    "SERVER_START",
    "TIME_SCALE",
    "DemoSite",
    "Stack",
    "bpract_cli",
    "own_stack",
    "start_stack",
]

REPO = Path(__file__).resolve().parents[2]
RULES = REPO / "demo_site" / "rules.yaml"
#: seconds a server may take to answer /health: importing the LLM SDKs is slow on a busy machine
SERVER_START = 120.0
#: attention timers run this many times faster: the pricing rule's 60 s take 2.4 s
TIME_SCALE = "25"


def bpract_cli(db: Path, *args: str) -> str:
    """Run ``python -m bpract … --db DB`` and return what it printed."""
    cmd = [sys.executable, "-m", "bpract", *args, "--db", str(db)]
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


class DemoSite:
    """``python -m demo_site`` on a port chosen up front (the BPract site needs its origin)."""

    def __init__(self, data: Path) -> None:
        self.port = free_port()
        self.db = data / "demo_site.db"
        self.log_path = data / "demo_site.log"
        self._process: Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, bpract_url: str, site_key: str, identity_secret: str) -> DemoSite:
        env = {
            **os.environ,
            "DEMO_PORT": str(self.port),
            "DEMO_DB": str(self.db),
            "DEMO_BPRACT_URL": bpract_url,
            "DEMO_SITE_KEY": site_key,
            "DEMO_IDENTITY_SECRET": identity_secret,
        }
        self._process = Process([sys.executable, "-m", "demo_site"], env=env, cwd=REPO,
                                log_path=self.log_path, name="demo site")  # fmt: skip
        self._process.start(answers(f"{self.url}/api/me/identity"), timeout=20.0)
        return self

    def stop(self) -> None:
        if self._process is not None:
            self._process.stop()
            self._process = None


@dataclass(frozen=True)
class Stack:
    """What a test needs to drive the demo and read what the server stored."""

    server: ServerProcess
    demo: DemoSite
    site: dict[str, Any]  # the `bpract sites add --json` row

    @property
    def site_id(self) -> int:
        return int(self.site["id"])

    def url(self, path: str) -> str:
        return self.demo.url + path

    def stop(self) -> None:
        self.demo.stop()
        self.server.stop()


def start_stack(data: Path, server_env: dict[str, str]) -> Stack:
    """A site for the demo's origin, the demo rules, the server, then the demo store."""
    db = data / "bpract.db"
    demo = DemoSite(data)
    added = bpract_cli(db, "sites", "add", "--name", "Northwind", "--origin", demo.url, "--json")
    site = json.loads(added)
    bpract_cli(db, "rules", "load", str(RULES), "--site", site["public_key"])
    server = ServerProcess(db, env=server_env).start(timeout=SERVER_START)
    try:
        demo.start(
            bpract_url=server.url,
            site_key=site["public_key"],
            identity_secret=site["identity_secret"],
        )
    except BaseException:
        server.stop()
        raise
    return Stack(server=server, demo=demo, site=site)


def own_stack(tmp_path_factory: pytest.TempPathFactory, widget_dist: Path) -> Iterator[Stack]:
    """Start a stack in a fresh folder, stop it after the fixture's scope."""
    env = {"BPRACT_WIDGET_DIST": str(widget_dist), "BPRACT_TIME_SCALE": TIME_SCALE}
    running = start_stack(tmp_path_factory.mktemp("e2e"), env)
    yield running
    running.stop()
