"""Widget cost in Chromium: loader size, long tasks, load-event delay, engine start, bytes.

    uv run python bench/widget_cost.py [--runs 7] [--json]

A host page on its own 127.0.0.1 port is loaded in fresh browser contexts,
alternately with and without the script tag, against a running ``bpract
serve`` whose site allows the host page's origin.  Needs ``./dev build``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Browser, BrowserContext, Page, Request, WebSocket, sync_playwright

from _hostpage import HostPage
from _support import (
    CHROMIUM,
    REPO,
    Row,
    Served,
    add_site,
    bpract_serve,
    exit_on_sigterm,
    free_port,
    machine,
    median,
    print_table,
)

ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOADER_BUDGET_BR = 6 * 1024
LOAD_RATIO_BUDGET = 1.05
ACK_TIMEOUT_S = 60.0

# Installed before any page script: long tasks and long animation frames from navigation on.
OBSERVE = """(() => {
  const b = (window.__bench = { lt: [], loaf: [], status: [], ready: null });
  const keep = (list, map) => (l) => { for (const e of l.getEntries()) list.push(map(e)); };
  try {
    new PerformanceObserver(keep(b.lt, (e) => ({
      start: e.startTime, duration: e.duration, name: e.name,
      attribution: (e.attribution || []).map((a) =>
        [a.containerType, a.containerSrc, a.containerName].join(" ").trim()),
    }))).observe({ type: "longtask", buffered: true });
  } catch (e) {}
  try {
    new PerformanceObserver(keep(b.loaf, (e) => ({
      start: e.startTime, duration: e.duration, blocking: e.blockingDuration,
      scripts: e.scripts.map((s) => ({ src: s.sourceURL, fn: s.sourceFunctionName,
        invoker: s.invoker, duration: Math.round(s.duration) })),
    }))).observe({ type: "long-animation-frame", buffered: true });
  } catch (e) {}
})();"""

# Only on pages with the tag: bpract('on', …) queued before the loader arrives.
LISTEN = """(() => {
  const b = window.__bench;
  window.bpract = window.bpract ||
    function () { (window.bpract.q = window.bpract.q || []).push(arguments); };
  bpract("on", "ready", (d) => { b.ready = { t: performance.now(), d }; });
  bpract("on", "status", (d) => { b.status.push({ t: performance.now(), d }); });
})();"""


@dataclass
class Visit:
    """What one page load showed."""

    tag: bool
    load_ms: float = 0.0
    ready_ms: float | None = None
    worker: dict[str, Any] = field(default_factory=dict)
    ack_ms: float | None = None
    bytes: int = 0
    requests: int = 0
    long_tasks: list[dict[str, Any]] = field(default_factory=list)
    loafs: list[dict[str, Any]] = field(default_factory=list)


class AckWatch:
    """Follows the visitor socket (the worker's, which Playwright reports on the page).

    Records the wall-clock time at which the server acknowledged the first
    ``page_view`` signal the engine sent.
    """

    def __init__(self) -> None:
        self.seq: int | None = None
        self.acked_at: float | None = None

    def attach(self, ws: WebSocket) -> None:
        if ws.url.endswith("/v1/visitor"):
            ws.on("framesent", self._sent)
            ws.on("framereceived", self._received)

    def _sent(self, payload: str | bytes) -> None:
        frame = _json(payload)
        if self.seq is None and frame.get("t") == "signal" and frame.get("name") == "page_view":
            self.seq = int(frame["seq"])

    def _received(self, payload: str | bytes) -> None:
        frame = _json(payload)
        if self.acked_at is None and frame.get("t") == "ack" and self.seq in frame.get("seq", []):
            self.acked_at = time.time()


def _json(payload: str | bytes) -> dict[str, Any]:
    try:
        value = json.loads(payload)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


class Traffic:
    """Bytes on the wire of finished requests to the API server, the worker's included.

    Playwright reports requests of dedicated workers on their page; its body size
    is CDP's ``encodedDataLength`` minus the header size, so their sum is what
    ``Network.loadingFinished`` counted (0 for a response served from cache).
    """

    def __init__(self, server_url: str) -> None:
        self.server_url = server_url
        self.requests: list[Request] = []

    def on_finished(self, request: Request) -> None:
        if request.url.startswith(self.server_url):
            self.requests.append(request)

    def take(self) -> tuple[int, int]:
        total = 0
        for request in self.requests:
            sizes = request.sizes()
            total += max(0, sizes["responseBodySize"] + sizes["responseHeadersSize"])
        count, self.requests = len(self.requests), []
        return total, count


def loader_sizes(server_url: str) -> dict[str, int]:
    """Bytes on the wire of ``/widget.js`` for each Accept-Encoding."""
    sizes = {}
    with httpx.Client(timeout=10) as client:
        for name, accept in (("raw", "identity"), ("gzip", "gzip"), ("br", "br")):
            with client.stream(
                "GET", f"{server_url}/widget.js", headers={"accept-encoding": accept}
            ) as r:
                r.raise_for_status()
                got = r.headers.get("content-encoding", "identity")
                if got != accept:
                    raise RuntimeError(f"/widget.js: asked {accept}, got {got}")
                sizes[name] = sum(len(chunk) for chunk in r.iter_raw())
    return sizes


def _wait_ack(page: Page, watch: AckWatch, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while watch.acked_at is None and time.monotonic() < deadline:
        page.wait_for_timeout(20)
    if watch.acked_at is None:
        status = page.evaluate("window.__bench.status")
        raise TimeoutError(f"no acknowledged page_view within {timeout_s} s; status: {status}")


def _read_page(page: Page, visit: Visit, watch: AckWatch | None) -> None:
    data = page.evaluate(
        """() => ({
          load: performance.getEntriesByType("navigation")[0].loadEventStart,
          origin: performance.timeOrigin, ...window.__bench })"""
    )
    visit.load_ms = float(data["load"])
    visit.long_tasks, visit.loafs = data["lt"], data["loaf"]
    if data["ready"] is not None:
        visit.ready_ms = float(data["ready"]["t"])
        statuses = [s["d"] for s in data["status"] if s["d"].get("state") == "ready"]
        visit.worker = statuses[0] if statuses else {}
    if watch is not None and watch.acked_at is not None:
        visit.ack_ms = watch.acked_at * 1000 - float(data["origin"])


def visit_with_tag(page: Page, url: str, traffic: Traffic) -> Visit:
    """Load the page with the tag; wait until the engine's first signal is acknowledged."""
    watch = AckWatch()
    page.on("websocket", watch.attach)
    page.goto(url)
    _wait_ack(page, watch, ACK_TIMEOUT_S)
    visit = Visit(tag=True)
    _read_page(page, visit, watch)
    visit.bytes, visit.requests = traffic.take()
    return visit


def visit_plain(page: Page, url: str, window_s: float) -> Visit:
    """Load the page without the tag; observe it for as long as a tagged visit took."""
    page.goto(url)
    page.wait_for_timeout(window_s * 1000)
    visit = Visit(tag=False)
    _read_page(page, visit, None)
    return visit


@contextlib.contextmanager
def _context(browser: Browser, tag: bool, traffic: Traffic) -> Iterator[BrowserContext]:
    context = browser.new_context()
    context.add_init_script(OBSERVE)
    if tag:
        context.add_init_script(LISTEN)
        context.on("requestfinished", traffic.on_finished)
    try:
        yield context
    finally:
        context.close()


def tagged_run(
    browser: Browser, host: HostPage, traffic: Traffic, repeat: bool
) -> tuple[Visit, Visit | None]:
    """A first visit in a fresh context, then maybe a repeat visit in a new tab of that context."""
    with _context(browser, True, traffic) as context:
        page = context.new_page()
        first = visit_with_tag(page, host.origin + "/", traffic)
        if not repeat:
            return first, None
        page.close()
        traffic.take()  # anything the closing page still fetched belongs to neither visit
        again = visit_with_tag(context.new_page(), host.origin + "/", traffic)
    return first, again


def plain_run(browser: Browser, host: HostPage, window_s: float) -> Visit:
    with _context(browser, False, Traffic("")) as context:
        return visit_plain(context.new_page(), host.origin + "/plain", window_s)


def measure(runs: int, repeats: int, server: Served, host: HostPage) -> dict[str, list[Visit]]:
    """``runs`` tagged and ``runs`` plain visits, interleaved (ABBA) in fresh contexts.

    The first ``repeats`` tagged runs also make a repeat visit (cached).
    """
    results: dict[str, list[Visit]] = {"first": [], "repeat": [], "plain": []}
    traffic = Traffic(server.url)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            for n in range(runs):
                order = (True, False) if n % 2 == 0 else (False, True)
                for tag in order:
                    if tag:
                        first, again = tagged_run(browser, host, traffic, n < repeats)
                        results["first"].append(first)
                        results["repeat"] += [again] if again else []
                    else:
                        window = _plain_window(results["first"])
                        results["plain"].append(plain_run(browser, host, window))
                print(f"  run {n + 1}/{runs} done at {time.strftime('%X')}", file=sys.stderr)
        finally:
            browser.close()
    return results


def _plain_window(tagged: list[Visit]) -> float:
    """How long a plain page is observed: as long as the tagged visits took to their first ack."""
    acks = [v.ack_ms for v in tagged if v.ack_ms is not None]
    return (median(acks) if acks else 8000.0) / 1000


def _scripts_during(visit: Visit, task: dict[str, Any]) -> list[dict[str, Any]]:
    """Scripts of the long animation frames that contain ``task`` (long tasks name no script)."""
    start = task["start"]
    return [
        script
        for frame in visit.loafs
        if frame["start"] <= start + 1 and start < frame["start"] + frame["duration"]
        for script in frame["scripts"]
    ]


def _attributions(visits: list[Visit]) -> dict[str, list[float]]:
    """Long tasks grouped by their container and the longest script running in them: [count, ms]."""
    groups: dict[str, list[float]] = {}
    for visit in visits:
        for task in visit.long_tasks:
            where = "; ".join(a for a in task["attribution"] if a) or task["name"]
            scripts = sorted(_scripts_during(visit, task), key=lambda sc: -sc["duration"])
            top = scripts[0] if scripts else None
            what = f"{top['src'] or '(inline)'} via {top['invoker']}" if top else "no script named"
            entry = groups.setdefault(f"{where}: {what}", [0.0, 0.0])
            entry[0] += 1
            entry[1] += task["duration"]
    return groups


def summarize(sizes: dict[str, int], results: dict[str, list[Visit]]) -> dict[str, Any]:
    first, repeat, plain = results["first"], results["repeat"], results["plain"]
    load_with, load_without = median([v.load_ms for v in first]), median([v.load_ms for v in plain])
    lt_with = median([float(len(v.long_tasks)) for v in first])
    lt_without = median([float(len(v.long_tasks)) for v in plain])
    return {
        "loader_bytes": sizes,
        "runs": len(first),
        "repeat_runs": len(repeat),
        "load_ms_with": load_with,
        "load_ms_without": load_without,
        "load_ratio": load_with / load_without,
        "long_tasks_with": lt_with,
        "long_tasks_without": lt_without,
        "long_tasks_widget": lt_with - lt_without,
        "long_task_ms_with": median([sum(t["duration"] for t in v.long_tasks) for v in first]),
        "attributions_with": _attributions(first),
        "attributions_without": _attributions(plain),
        "ready_ms_first": median([v.ready_ms or float("nan") for v in first]),
        "ready_ms_repeat": median([v.ready_ms or float("nan") for v in repeat]),
        "worker_python_ms_first": median([float(v.worker.get("python", "nan")) for v in first]),
        "ack_ms_first": median([v.ack_ms or float("nan") for v in first]),
        "ack_ms_repeat": median([v.ack_ms or float("nan") for v in repeat]),
        "bytes_first": median([float(v.bytes) for v in first]),
        "bytes_repeat": median([float(v.bytes) for v in repeat]),
        "requests_first": median([float(v.requests) for v in first]),
        "requests_repeat": median([float(v.requests) for v in repeat]),
        "visits": {k: [asdict(v) for v in vs] for k, vs in results.items()},
    }


def rows(s: dict[str, Any]) -> list[Row]:
    sizes = s["loader_bytes"]
    return [
        Row("loader /widget.js raw", f"{sizes['raw']:,} B"),
        Row("loader /widget.js gzip", f"{sizes['gzip']:,} B"),
        Row(
            "loader /widget.js brotli",
            f"{sizes['br']:,} B",
            f"<= {LOADER_BUDGET_BR:,} B",
            sizes["br"] <= LOADER_BUDGET_BR,
        ),
        Row("long tasks > 50 ms, with tag (median)", f"{s['long_tasks_with']:g}"),
        Row("long tasks > 50 ms, without tag (median)", f"{s['long_tasks_without']:g}"),
        Row(
            "long tasks caused by the widget",
            f"{s['long_tasks_widget']:g}",
            "0",
            s["long_tasks_widget"] <= 0,
        ),
        Row("load event, with tag (median)", f"{s['load_ms_with']:.1f} ms"),
        Row("load event, without tag (median)", f"{s['load_ms_without']:.1f} ms"),
        Row(
            "load event ratio with/without",
            f"{s['load_ratio']:.3f}",
            f"<= {LOAD_RATIO_BUDGET}",
            s["load_ratio"] <= LOAD_RATIO_BUDGET,
        ),
        Row("engine ready, first visit (median)", f"{s['ready_ms_first']:.0f} ms"),
        Row("  of which Python start in the worker", f"{s['worker_python_ms_first']:.0f} ms"),
        Row("first signal acknowledged, first visit", f"{s['ack_ms_first']:.0f} ms"),
        Row("engine ready, repeat visit (median)", f"{s['ready_ms_repeat']:.0f} ms"),
        Row("first signal acknowledged, repeat visit", f"{s['ack_ms_repeat']:.0f} ms"),
        Row(
            "bytes from the API server, first visit",
            f"{s['bytes_first']:,.0f} B ({s['requests_first']:g} requests)",
        ),
        Row(
            "bytes from the API server, repeat visit",
            f"{s['bytes_repeat']:,.0f} B ({s['requests_repeat']:g} requests)",
        ),
    ]


def main() -> int:
    exit_on_sigterm()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="visits with and without the tag")
    parser.add_argument("--repeats", type=int, default=3, help="runs that add a repeat visit")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    if not (REPO / "widget" / "dist" / "widget.js").is_file():
        print("widget is not built: run ./dev build (or uv run python widget/build.py)")
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        host_port = free_port()
        origin = f"http://127.0.0.1:{host_port}"
        db = Path(tmp) / "bench.db"
        key = add_site(db, origin)
        with bpract_serve(db, Path(tmp) / "server.log") as server:
            tag = f'<script src="{server.url}/widget.js" data-site="{key}" async></script>'
            with HostPage(host_port, tag) as host:
                sizes = loader_sizes(server.url)
                summary = summarize(sizes, measure(args.runs, args.repeats, server, host))
                summary["host_page_bytes"] = host.size("/plain")
    summary["budgets"] = {r.name: r.ok for r in rows(summary) if r.ok is not None}
    summary["machine"] = machine()
    summary["date"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        _print(summary)
    return 0


def _print(s: dict[str, Any]) -> None:
    m = s["machine"]
    print(
        f"{s['date']}; {m['nproc']} cores {m['cpu']}, {m['ram']}, Python {m['python']},"
        f" {m['chromium']}, load average {m['loadavg']}"
    )
    print(
        f"host page: {s['host_page_bytes']:,} B (HTML, CSS, JS, 4 images); {s['runs']} runs"
        f" with and without the tag, {s['repeat_runs']} with a repeat visit"
    )
    print_table("Widget cost", rows(s))
    for label in ("with", "without"):
        print(f"\nlong tasks by attribution, {label} tag (all runs):")
        groups = s[f"attributions_{label}"]
        for key, (count, ms) in sorted(groups.items(), key=lambda kv: -kv[1][1]):
            print(f"  {count:3.0f} tasks, {ms:6.0f} ms  {key}")
        if not groups:
            print("  none")


if __name__ == "__main__":
    sys.exit(main())
