"""The visitor WebSocket under load, beside a bare Litestar echo socket under the same load.

    uv run python bench/server_ws.py [--connections 2000] [--frames 30] [--clients 1] [--json]

Each connection says hello, is answered, then sends signal frames one at a
time, each awaited until acknowledged (closed loop).  The load generator runs
in separate processes (bench/_wsload.py) on the same cores as the server, so
frames/s is partly the client's limit; the server's CPU time per frame (from
/proc/<pid>/stat) is the steadier figure.
"""

from __future__ import annotations

import argparse
import json
import resource
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from _support import (
    UNTHROTTLED,
    Row,
    Served,
    add_site,
    bpract_serve,
    bytes_written,
    cpu_seconds,
    exit_on_sigterm,
    free_port,
    machine,
    percentile,
    print_table,
    rss_kib,
    thread_cpu,
    ws_implementation,
)

BENCH = Path(__file__).resolve().parent
ORIGIN = "http://127.0.0.1:9"  # what the load sends; the bench site allows exactly this origin
RSS_BUDGET_KIB = 64
THROUGHPUT_BUDGET = 0.5
WARMUP_CONNECTIONS = 20

SERVER_ENV = {**UNTHROTTLED, "BPRACT_HELLO_TIMEOUT": "120"}


@dataclass
class Result:
    """One server under load."""

    name: str
    connections: int = 0
    frames: int = 0
    failures: int = 0
    errors: list[str] = field(default_factory=list)
    warm_frames: int = 0
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    rss_before_kib: int = 0
    rss_open_kib: int = 0
    rss_after_kib: int = 0
    cpu_s: float = 0.0
    written: int = 0
    threads: dict[str, tuple[float, float]] = field(default_factory=dict)

    @property
    def frames_per_s(self) -> float:
        return self.frames / self.seconds if self.seconds else 0.0

    def per_connection_kib(self, rss: int) -> float:
        return (rss - self.rss_before_kib) / max(1, self.connections)

    def summary(self) -> dict[str, Any]:
        return {
            "connections": self.connections,
            "frames": self.frames,
            "failures": self.failures,
            "errors": self.errors,
            "seconds": round(self.seconds, 3),
            "frames_per_s": round(self.frames_per_s, 1),
            "latency_ms_p50": round(percentile(self.latencies_ms, 50), 2),
            "latency_ms_p99": round(percentile(self.latencies_ms, 99), 2),
            "rss_before_kib": self.rss_before_kib,
            "rss_open_kib": self.rss_open_kib,
            "rss_after_kib": self.rss_after_kib,
            "rss_per_connection_open_kib": round(self.per_connection_kib(self.rss_open_kib), 1),
            "rss_per_connection_after_kib": round(self.per_connection_kib(self.rss_after_kib), 1),
            "server_cpu_s": round(self.cpu_s, 3),
            "server_cpu_us_per_frame": round(1e6 * self.cpu_s / max(1, self.frames), 1),
            "server_bytes_written_per_frame": round(self.written / max(1, self.frames)),
            "server_threads_us_per_frame": {
                name: {"user": round(1e6 * u / n, 1), "system": round(1e6 * s / n, 1)}
                for name, (u, s) in self.threads.items()
                for n in [max(1, self.frames)]
            },
        }


class Clients:
    """Load processes (bench/_wsload.py) sharing ``count`` connections, driven line by line."""

    def __init__(self, url: str, count: int, frames: int, site: str, processes: int) -> None:
        shares = [count // processes + (i < count % processes) for i in range(processes)]
        self.procs = [
            subprocess.Popen(
                [
                    sys.executable,
                    str(BENCH / "_wsload.py"),
                    url,
                    "--count",
                    str(n),
                    "--frames",
                    str(frames),
                    "--origin",
                    ORIGIN,
                    "--site",
                    site,
                ],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            for n in shares
            if n
        ]

    def _read(self, event: str) -> list[dict[str, Any]]:
        out = []
        for proc in self.procs:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            if not line:
                raise RuntimeError(f"load process {proc.pid} exited (code {proc.wait()})")
            message = json.loads(line)
            if message["event"] != event:
                raise RuntimeError(f"expected {event}, got {message}")
            out.append(message)
        return out

    def _tell(self, word: str) -> None:
        for proc in self.procs:
            assert proc.stdin is not None
            proc.stdin.write(word + "\n")
            proc.stdin.flush()

    def connected(self) -> list[dict[str, Any]]:
        return self._read("connected")

    def run(self) -> list[dict[str, Any]]:
        self._tell("go")
        return self._read("done")

    def close(self) -> None:
        self._tell("close")
        for proc in self.procs:
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


class Profile:
    """``py-spy record`` of a server while the frames run (``--py-spy``), collapsed stacks."""

    def __init__(self, py_spy: str | None, pid: int, out: Path) -> None:
        self.proc: subprocess.Popen[bytes] | None = None
        self.out = out
        if py_spy:
            argv = [py_spy, "record", "--pid", str(pid), "--format", "raw", "--rate", "250"]
            self.proc = subprocess.Popen([*argv, "--output", str(out), "--threads"])
            time.sleep(1.0)  # py-spy attaches before the frames start

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGINT)
            self.proc.wait(30)
            print(f"profile: {self.out}", file=sys.stderr)


def load(server: Served, url: str, site: str, args: argparse.Namespace, name: str) -> Result:
    """Warm up, then open ``args.connections`` sockets, run the frames, and read /proc around it."""
    warm = Clients(url, WARMUP_CONNECTIONS, args.frames, site, 1)
    warm.connected()
    warm_frames = sum(m["frames"] for m in warm.run())
    warm.close()
    time.sleep(0.5)
    result = Result(name, warm_frames=warm_frames, rss_before_kib=rss_kib(server.pid))
    clients = Clients(url, args.connections, args.frames, site, args.clients)
    try:
        opened = clients.connected()
        result.connections = sum(m["connected"] for m in opened)
        result.failures = sum(m["failures"] for m in opened)
        time.sleep(1.0)  # let the server settle: its RSS with every socket open and idle
        result.rss_open_kib = rss_kib(server.pid)
        profile = Profile(
            args.py_spy, server.pid, args.profile_dir / f"{name.split(maxsplit=1)[0]}.txt"
        )
        cpu, threads = cpu_seconds(server.pid), thread_cpu(server.pid)
        written = bytes_written(server.pid)
        done = clients.run()
        result.cpu_s = cpu_seconds(server.pid) - cpu
        result.written = bytes_written(server.pid) - written
        result.threads = _delta(threads, thread_cpu(server.pid))
        profile.stop()
        result.rss_after_kib = rss_kib(server.pid)
    finally:
        clients.close()
    for message in done:
        result.frames += message["frames"]
        result.failures += message["failures"]
        result.errors += message["errors"]
        result.seconds = max(result.seconds, message["seconds"])
        result.latencies_ms += message["latencies_ms"]
    return result


def _delta(
    before: dict[str, tuple[float, float]], after: dict[str, tuple[float, float]]
) -> dict[str, tuple[float, float]]:
    zero = (0.0, 0.0)
    out = {
        name: (u - before.get(name, zero)[0], s - before.get(name, zero)[1])
        for name, (u, s) in after.items()
    }
    return {name: cpu for name, cpu in out.items() if sum(cpu) >= 0.01}


def bench_bpract(tmp: Path, args: argparse.Namespace) -> Result:
    db = tmp / "bench.db"
    site = add_site(db, ORIGIN)
    with bpract_serve(db, tmp / "bpract.log", SERVER_ENV) as server:
        httpx.get(f"{server.url}/widget.js", timeout=10)  # what a first visitor also touches
        url = server.url.replace("http", "ws", 1) + "/v1/visitor"
        result = load(server, url, site, args, "bpract /v1/visitor")
    _check_stored(db, result)
    return result


def _check_stored(db: Path, result: Result) -> None:
    """Every acknowledged frame must be in the database (a fast server that drops is no server)."""
    import apsw

    conn = apsw.Connection(str(db))
    try:
        row = conn.execute("SELECT count(*) FROM signals WHERE name = 'dwell'").fetchone()
    finally:
        conn.close()
    stored = int(row[0]) if row else 0
    acked = result.frames + result.warm_frames
    if stored < acked:
        raise RuntimeError(f"{acked} frames acknowledged but {stored} stored")


def bench_echo(tmp: Path, args: argparse.Namespace) -> Result:
    port = free_port()
    argv = [sys.executable, str(BENCH / "_echo.py"), "--port", str(port)]
    with Served(argv, port, tmp / "echo.log") as server:
        url = server.url.replace("http", "ws", 1) + "/echo"
        return load(server, url, "pk_echo", args, "bare Litestar echo")


def rows(ours: dict[str, Any], echo: dict[str, Any], ratio: float) -> list[Row]:
    out = []
    for label, s in (("bpract", ours), ("echo", echo)):
        out += [
            Row(f"{label}: connections open (failures)", f"{s['connections']} ({s['failures']})"),
            Row(f"{label}: frames/s", f"{s['frames_per_s']:,.0f}"),
            Row(
                f"{label}: ack latency p50 / p99",
                f"{s['latency_ms_p50']:.1f} / {s['latency_ms_p99']:.1f} ms",
            ),
            Row(f"{label}: server CPU per frame", f"{s['server_cpu_us_per_frame']:.0f} µs"),
            Row(
                f"{label}: server bytes written per frame",
                f"{s['server_bytes_written_per_frame']:,} B",
            ),
        ]
    out += [
        Row(
            "bpract throughput / echo throughput",
            f"{ratio:.2f}",
            f">= {THROUGHPUT_BUDGET}",
            ratio >= THROUGHPUT_BUDGET,
        ),
        Row(
            "echo CPU per frame / bpract CPU per frame",
            f"{echo['server_cpu_us_per_frame'] / max(0.1, ours['server_cpu_us_per_frame']):.2f}",
        ),
        Row(
            "bpract RSS per connection, open and idle",
            f"{ours['rss_per_connection_open_kib']:.1f} KiB",
            f"<= {RSS_BUDGET_KIB} KiB",
            ours["rss_per_connection_open_kib"] <= RSS_BUDGET_KIB,
        ),
        Row(
            "bpract RSS per connection, after the frames",
            f"{ours['rss_per_connection_after_kib']:.1f} KiB",
            f"<= {RSS_BUDGET_KIB} KiB",
            ours["rss_per_connection_after_kib"] <= RSS_BUDGET_KIB,
        ),
        Row(
            "echo RSS per connection, after the frames",
            f"{echo['rss_per_connection_after_kib']:.1f} KiB",
        ),
    ]
    return out


def main() -> int:
    exit_on_sigterm()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=2000)
    parser.add_argument("--frames", type=int, default=30, help="acked frames per connection")
    parser.add_argument("--clients", type=int, default=1, help="load processes")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--py-spy", help="path of a py-spy binary: profile each server's frames")
    parser.add_argument("--profile-dir", type=Path, default=Path("."), help="where profiles go")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = args.connections // args.clients + 200
    if soft < need:  # each load process holds its share of the sockets
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, need * 2), hard))
    with tempfile.TemporaryDirectory() as tmp:
        ours = bench_bpract(Path(tmp), args)
        echo = bench_echo(Path(tmp), args)
    s_ours, s_echo = ours.summary(), echo.summary()
    ratio = ours.frames_per_s / echo.frames_per_s if echo.frames_per_s else float("nan")
    m = machine()
    report: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": m,
        "ws": ws_implementation(),
        "settings": {
            "connections": args.connections,
            "frames": args.frames,
            "load_processes": args.clients,
        },
        "bpract": s_ours,
        "echo": s_echo,
        "throughput_ratio": round(ratio, 3),
        "ok": ratio >= THROUGHPUT_BUDGET
        and s_ours["rss_per_connection_after_kib"] <= RSS_BUDGET_KIB,
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(
        f"{report['date']}; {m['nproc']} cores {m['cpu']}, {m['ram']}, Python {m['python']},"
        f" load average {m['loadavg']}; uvicorn --ws {report['ws']}"
    )
    print(
        f"{args.connections} connections x {args.frames} acked frames, {args.clients} load"
        " process(es) on the same cores as the server: frames/s is partly the client's limit"
    )
    print_table("Visitor WebSocket server", rows(s_ours, s_echo, ratio))
    for label, summary in (("bpract", s_ours), ("echo", s_echo)):
        print(f"\n{label}: server CPU per frame by thread (user + system µs):")
        for thread, cpu in summary["server_threads_us_per_frame"].items():
            print(f"  {thread:<16} {cpu['user']:6.1f} + {cpu['system']:6.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
