"""``Process``: a command in a child process, ready once a port or a URL answers, output in a log.

Every server a test starts goes through here: the BPract server
(:class:`support.server.ServerProcess`), the demo store (``tests/demo``,
``tests/e2e``). A start waits with :func:`support.eventually.eventually` and
fails at once, log attached, if the child exits first; a stop is SIGTERM, then
SIGKILL after a bounded wait.
"""

from __future__ import annotations

import signal
import socket
import subprocess
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import httpx

from support.eventually import eventually

__all__ = ["Process", "answers", "free_port", "listening"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def listening(port: int, host: str = "127.0.0.1") -> Callable[[], bool]:
    """Ready when something accepts TCP connections on ``host:port``."""

    def check() -> bool:
        try:
            with socket.create_connection((host, port), timeout=1.0):
                return True
        except OSError:
            return False

    return check


def answers(url: str, status: int = 200) -> Callable[[], bool]:
    """Ready when a GET of ``url`` answers ``status``."""

    def check() -> bool:
        try:
            return httpx.get(url, timeout=1.0).status_code == status
        except httpx.HTTPError:
            return False

    return check


class Process:
    """``argv`` with ``env`` (the whole environment) in ``cwd``; stdout and stderr to ``log_path``.

    The log is appended to, so one file tells the story of every restart.
    """

    def __init__(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        log_path: Path,
        cwd: Path | None = None,
        name: str = "process",
    ) -> None:
        self.argv = list(argv)
        self.env = dict(env)
        self.log_path = log_path
        self.cwd = cwd
        self.name = name
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int:
        assert self._proc is not None, f"{self.name} not started"
        return self._proc.pid

    def log(self) -> str:
        """What the child printed so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def start(self, ready: Callable[[], bool], timeout: float) -> Process:
        """Spawn, then wait until ``ready()``; on failure the child is killed, its log raised."""
        if self.running:
            return self
        with self.log_path.open("ab") as log:
            self._proc = subprocess.Popen(
                self.argv, cwd=self.cwd, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        try:
            eventually(lambda: self._alive() and ready(), timeout, what=f"{self.name} ready")
        except AssertionError as exc:
            self.kill()
            raise TimeoutError(f"{exc}\n{self.name} log:\n{self.log()}") from None
        return self

    def _alive(self) -> bool:
        if self._proc is not None and self._proc.poll() is not None:
            code = self._proc.returncode
            self._proc = None
            raise RuntimeError(f"{self.name} exited with {code}:\n{self.log()}")
        return True

    def stop(self, timeout: float = 10.0) -> None:
        """Graceful stop (SIGTERM), SIGKILL if it does not exit within ``timeout`` s."""
        if self._proc is None:
            return
        if self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)
            try:
                self._proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout)
        self._proc = None

    def kill(self, timeout: float = 10.0) -> None:
        """SIGKILL: a crash, no shutdown code runs."""
        if self._proc is None:
            return
        if self._proc.poll() is None:
            self._proc.kill()
        self._proc.wait(timeout)
        self._proc = None
