"""``ServerProcess``: ``python -m bpract serve`` in a subprocess on a free port."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from support.process import Process, answers, free_port

__all__ = ["LOOPBACK_DEFAULTS", "ServerProcess", "free_port"]

_PRIVATE_PREFIXES = ("BPRACT_",)
_PROVIDER_KEYS = frozenset(
    {"ANTHROPIC_API_KEY", "OPENAI_API_KEY", "OPENROUTER_API_KEY", "ANTHROPIC_AUTH_TOKEN"}
)

#: Every test client connects from 127.0.0.1, so the per-address limits would count a whole
#: test module as one client, and a visitor reconnecting after a slow restart without its
#: key would become a new visitor. Tests of those limits and of visitor keys set their own.
LOOPBACK_DEFAULTS = {
    "BPRACT_ADDRESS_RATE": "1000000",
    "BPRACT_ADDRESS_BURST": "1000000",
    "BPRACT_MAX_CONN_PER_ADDRESS": "100000",
    "BPRACT_CHAT_ADDRESS_RATE": "100000",
    "BPRACT_CHAT_ADDRESS_NEW": "100000",
    "BPRACT_VISITOR_KEY_GRACE": "86400",
}


class ServerProcess:
    """A real BPract server on 127.0.0.1.

    The port is chosen once and kept across :meth:`restart`, so clients reconnect
    to the same URL. ``env`` adds ``BPRACT_*`` variables (``BPRACT_TIME_SCALE``,
    ``BPRACT_WIDGET_DIST``, ``BPRACT_HELLO_TIMEOUT``, …). Output goes to ``log_path``.
    """

    def __init__(
        self,
        db: Path,
        *,
        env: dict[str, str] | None = None,
        port: int | None = None,
        log_path: Path | None = None,
        log_level: str = "warning",
    ) -> None:
        self.db = Path(db)
        self.log_level = log_level
        self.port = port or free_port()
        self.env = dict(env or {})
        self.log_path = log_path or self.db.with_suffix(".log")
        self._process: Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        """The visitor socket: ``ws://127.0.0.1:PORT/v1/visitor``."""
        return f"ws://127.0.0.1:{self.port}/v1/visitor"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.running

    def start(self, timeout: float = 90.0) -> ServerProcess:
        """Start and wait until ``/health`` answers (start-up imports are slow on a busy box)."""
        if self.running:
            return self
        # The machine's own provider keys and BPRACT_* settings never leak into a test
        # server: a test names every setting it wants.
        inherited = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(_PRIVATE_PREFIXES) and k not in _PROVIDER_KEYS
        }
        cmd = [sys.executable, "-m", "bpract", "serve", "--db", str(self.db)]
        cmd += ["--host", "127.0.0.1", "--port", str(self.port), "--log-level", self.log_level]
        self._process = Process(
            cmd,
            env={**inherited, **LOOPBACK_DEFAULTS, **self.env},
            log_path=self.log_path,
            name="server",
        )
        self._process.start(answers(f"{self.url}/health"), timeout)
        return self

    def log(self) -> str:
        """What the server printed so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, timeout: float = 10.0) -> None:
        """Graceful stop (SIGTERM), SIGKILL if it does not exit in time."""
        if self._process is not None:
            self._process.stop(timeout)

    def kill(self) -> None:
        """SIGKILL: a crash, no shutdown code runs."""
        if self._process is not None:
            self._process.kill()

    def restart(self, timeout: float = 90.0) -> ServerProcess:
        self.stop()
        return self.start(timeout)

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
