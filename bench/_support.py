"""What the benchmarks share: a server and its site, the machine, /proc figures, tables."""

from __future__ import annotations

import json
import os
import platform
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]

__all__ = [
    "CHROMIUM",
    "OFFLINE_CHAT",
    "REPO",
    "Row",
    "Served",
    "add_site",
    "bpract_serve",
    "bytes_written",
    "cpu_seconds",
    "exit_on_sigterm",
    "free_port",
    "machine",
    "median",
    "percentile",
    "print_table",
    "rss_kib",
    "thread_cpu",
    "ws_implementation",
]

CHROMIUM = "/usr/bin/chromium"

# Limits far above what a bench sends from its one address (127.0.0.1), so it measures
# serving and refusing content, not throttling.
UNTHROTTLED = {
    "BPRACT_CONN_RATE": "1000000",
    "BPRACT_CONN_BURST": "1000000",
    "BPRACT_SITE_RATE": "1000000000",
    "BPRACT_SITE_BURST": "1000000000",
    "BPRACT_FLOOD_REFUSALS": "1000000",
    "BPRACT_ADDRESS_RATE": "1000000000",
    "BPRACT_ADDRESS_BURST": "1000000000",
    "BPRACT_MAX_CONN_PER_ADDRESS": "1000000",
}


#: No model configured (the chat answers offline) and chat limits far above a bench's rate.
OFFLINE_CHAT = {
    "BPRACT_CHAT_RATE": "100000",
    "BPRACT_CHAT_ADDRESS_RATE": "100000",
    "BPRACT_CHAT_SITE_RATE": "100000",
    "ANTHROPIC_API_KEY": "",
    "OPENAI_API_KEY": "",
    "OPENROUTER_API_KEY": "",
    "BPRACT_LLM_BASE_URL": "",
}


def exit_on_sigterm() -> None:
    """SIGTERM exits through ``finally`` blocks, so the servers and browsers started are stopped."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


def ws_implementation() -> str:
    """The uvicorn ``ws`` that ``bpract serve`` picks: sans-I/O ``websockets`` when installed."""
    try:
        import websockets  # noqa: F401
    except ImportError:
        return "wsproto"
    return "websockets-sansio"


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Served:
    """A server in a child process on 127.0.0.1, ready once ``/health`` answers 200."""

    def __init__(
        self, argv: list[str], port: int, log: Path, env: dict[str, str] | None = None
    ) -> None:
        self.argv, self.port, self.log, self.env = argv, port, log, env or {}
        self.url = f"http://127.0.0.1:{port}"
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self._proc is not None, "not started"
        return self._proc.pid

    def __enter__(self) -> Served:
        with self.log.open("ab") as out:
            self._proc = subprocess.Popen(
                self.argv, env={**os.environ, **self.env}, stdout=out, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"{self.argv} exited:\n{self.log.read_text()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.05)
        self.__exit__()
        raise TimeoutError(f"{self.argv} not healthy in 30 s:\n{self.log.read_text()}")

    def __exit__(self, *exc: object) -> None:
        if self._proc is None:
            return
        self._proc.terminate()
        try:
            self._proc.wait(15)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(5)
        self._proc = None


def bpract_serve(db: Path, log: Path, env: dict[str, str] | None = None) -> Served:
    """``python -m bpract serve`` on a free port, as a site owner would run it."""
    port = free_port()
    argv = [sys.executable, "-m", "bpract", "serve", "--db", str(db), "--host", "127.0.0.1"]
    argv += ["--port", str(port), "--log-level", "warning"]
    return Served(argv, port, log, env)


def add_site(db: Path, origin: str, name: str = "bench") -> str:
    """Create a site allowing ``origin`` with ``bpract sites add``; its public key."""
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "bpract",
            "sites",
            "add",
            "--db",
            str(db),
            "--name",
            name,
            "--origin",
            origin,
            "--json",
        ],
        capture_output=True,
        check=True,
        text=True,
    ).stdout
    return str(json.loads(out)["public_key"])


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _ram_gib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 1024 / 1024
    return float("nan")


def _chromium_version() -> str:
    try:
        out = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True, check=False)
    except OSError:
        return "not installed"
    found = re.search(r"Chromium [\d.]+", out.stdout)
    return found.group(0) if found else out.stdout.strip()


def machine() -> dict[str, str]:
    """nproc, CPU model, RAM, Python and Chromium versions of this machine."""
    return {
        "nproc": str(os.cpu_count()),
        "cpu": _cpu_model(),
        "ram": f"{_ram_gib():.1f} GiB",
        "python": platform.python_version(),
        "chromium": _chromium_version(),
        "loadavg": " ".join(Path("/proc/loadavg").read_text().split()[:3]),
    }


def rss_kib(pid: int) -> int:
    """Resident set size of process ``pid`` in KiB (``VmRSS`` from /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def _user_system(stat_path: Path) -> tuple[float, float]:
    stat = stat_path.read_text()
    fields = stat[stat.rindex(")") + 2 :].split()  # the command name may hold spaces
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick  # utime, stime: stat(5) fields 14, 15


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far (utime + stime from /proc/<pid>/stat)."""
    return sum(_user_system(Path(f"/proc/{pid}/stat")))


def thread_cpu(pid: int) -> dict[str, tuple[float, float]]:
    """(user, system) CPU seconds so far of each thread of ``pid``: ``main``, ``tid N``.

    Python 3.11 does not give its threads OS names, so they are told apart by id.
    """
    out: dict[str, tuple[float, float]] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            out["main" if task.name == str(pid) else f"tid {task.name}"] = _user_system(
                task / "stat"
            )
        except OSError:  # the thread ended meanwhile
            continue
    return out


def bytes_written(pid: int) -> int:
    """Bytes process ``pid`` passed to write-like system calls so far (``wchar``, /proc/<pid>/io).

    Sockets count too; for a server that only answers frames that is the
    answers, so what exceeds an echo server's figure went to files.
    """
    for line in Path(f"/proc/{pid}/io").read_text().splitlines():
        if line.startswith("wchar:"):
            return int(line.split()[1])
    raise RuntimeError(f"no wchar for {pid}")


def median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile ``q`` (0–100)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[int(min(rank, len(ordered))) - 1]


@dataclass(frozen=True, slots=True)
class Row:
    """One line of a results table: a figure, its budget and whether it holds (None: no budget)."""

    name: str
    value: str
    budget: str = ""
    ok: bool | None = None

    @property
    def verdict(self) -> str:
        return "" if self.ok is None else ("pass" if self.ok else "FAIL")


def print_table(title: str, rows: Sequence[Row]) -> None:
    headers = ("figure", "value", "budget", "")
    cells = [headers, *((r.name, r.value, r.budget, r.verdict) for r in rows)]
    widths = [max(len(c[i]) for c in cells) for i in range(4)]
    print(f"\n{title}")
    for n, cell in enumerate(cells):
        print("  " + "  ".join(v.ljust(w) for v, w in zip(cell, widths, strict=True)).rstrip())
        if n == 0:
            print("  " + "  ".join("-" * w for w in widths))
