"""A live conversation between an agent and a visitor: how long each message takes, in Chromium.

Starts ``bpract serve`` on a fresh SQLite file (no model configured), a host page with
the widget's tag, an agent added with ``bpract agents add``, and 200 other visitors
(``_chatter.py``, another process) whose sockets each send a signal every two seconds
for as long as the bench runs. Playwright drives ``/usr/bin/chromium`` with two browser
contexts: the agent signed in to ``/inbox`` and a visitor on the host page, who asks for
a person. The agent takes the conversation over; then, alternately:

- agent → visitor: the agent presses Enter in the inbox's reply box; measured from that
  ``keydown`` on the agent's page to the message's insertion in the visitor's widget
  (a ``MutationObserver`` in its shadow root);
- visitor → agent: the visitor presses Enter in the widget; measured from that
  ``keydown`` to the visitor's turn appearing in the agent's transcript.

Both ends stamp ``performance.timeOrigin + performance.now()``: the same machine clock,
in two pages of one browser. Each run is a fresh visitor and conversation; the agent
resolves it at the end. Budget: ≤ 100 ms p50 each way.

    uv run python bench/inbox_live.py                    # 3 runs x 40 messages each way
    uv run python bench/inbox_live.py --runs 5 --messages 60 --others 200 --json
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, sync_playwright

from _hostpage import HostPage
from _support import (
    CHROMIUM,
    OFFLINE_CHAT,
    REPO,
    UNTHROTTLED,
    Row,
    add_site,
    bpract_serve,
    exit_on_sigterm,
    free_port,
    machine,
    median,
    percentile,
    print_table,
)

BUDGET_MS = 100.0
AGENT_EMAIL = "sam@bench.example"
AGENT_NAME = "Sam"
PASSWORD = "bench-password-for-the-inbox"
WAIT_MS = 60_000  # Pyodide start and the first page loads, on a busy machine

ENV = {**UNTHROTTLED, **OFFLINE_CHAT}

# Stamps every Enter pressed on the page (capture phase: before the page's own handler)
# and every insertion under ``scope`` (or its shadow root) of an element inside ``match``,
# the first time each such element has text.
OBSERVE = """
([scope, shadow, match]) => {
  const now = () => performance.timeOrigin + performance.now();
  window.__pressed = [];
  window.__seen = [];
  addEventListener("keydown", (e) => {
    const field = e.composedPath()[0]; // inside the widget's shadow root, not its host
    if (e.key === "Enter" && !e.shiftKey) {
      window.__pressed.push({ t: now(), text: String(field.value) });
    }
  }, true);
  const known = new WeakSet();
  new MutationObserver((changes) => {
    const t = now();
    for (const change of changes) {
      for (const node of change.addedNodes) {
        const el = (node.nodeType === 1 ? node : node.parentElement);
        const hit = el && el.closest(match);
        if (hit && !known.has(hit) && hit.textContent.trim()) {
          known.add(hit);
          window.__seen.push({ t, text: hit.textContent });
        }
      }
    }
  }).observe(shadow ? document.querySelector(scope).shadowRoot : document.querySelector(scope), {
    childList: true, subtree: true,
  });
}
"""


def _bpract(*args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "bpract", *args], input=stdin, check=True, capture_output=True,
        text=True, cwd=REPO,
    )  # fmt: skip
    return done.stdout


@contextmanager
def chatter(ws_url: str, origin: str, site: str, count: int) -> Iterator[dict[str, Any]]:
    """``count`` background visitors in a child process; what they sent and got, at the end."""
    argv = [sys.executable, str(Path(__file__).with_name("_chatter.py")), ws_url,
            "--count", str(count), "--every", "2", "--origin", origin, "--site", site]  # fmt: skip
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdin is not None and proc.stdout is not None
    result: dict[str, Any] = {}
    try:
        first = json.loads(proc.stdout.readline() or "{}")
        if first.get("connected") != count:
            raise RuntimeError(f"background visitors: {first}")
        yield result
    finally:
        proc.stdin.write("stop\n")
        proc.stdin.flush()
        try:
            result.update(json.loads(proc.stdout.readline() or "{}"))
            proc.wait(30)
        except (subprocess.TimeoutExpired, json.JSONDecodeError):
            proc.kill()


def sign_in(browser: Browser, api: str) -> Page:
    inbox = browser.new_context().new_page()
    inbox.goto(api + "/inbox/sign-in")
    inbox.get_by_label("Email").fill(AGENT_EMAIL)
    inbox.get_by_label("Password").fill(PASSWORD)
    inbox.get_by_role("button", name="Sign in").click()
    inbox.locator("body[data-live=on]").wait_for(timeout=WAIT_MS)
    return inbox


def wait_ready(page: Page) -> None:
    page.evaluate("bpract('on', 'ready', (info) => { window.readyInfo = info; })")
    page.wait_for_function("window.readyInfo", timeout=WAIT_MS)


def take_over(inbox: Page, visitor: Page, host: str, api: str, question: str) -> None:
    """The visitor asks for a person; the agent takes that conversation from the queue."""
    visitor.goto(host + "/")
    wait_ready(visitor)
    visitor.get_by_role("button", name="Open chat").click()
    box = visitor.locator("#bpract-chat textarea")
    box.fill(question)
    box.press("Enter")
    log = visitor.locator("#bpract-chat [role=log]")
    log.get_by_text("passing this conversation").wait_for(timeout=WAIT_MS)
    inbox.goto(api + "/inbox")
    inbox.locator("body[data-live=on]").wait_for(timeout=WAIT_MS)
    waiting = inbox.locator("li.waiting", has_text=question)
    waiting.wait_for(timeout=WAIT_MS)
    waiting.locator("a").first.click()
    inbox.get_by_role("button", name="Take over").click()
    log.get_by_text(f"{AGENT_NAME} joined the conversation").wait_for(timeout=WAIT_MS)
    inbox.locator("body[data-live=on]").wait_for(timeout=WAIT_MS)


def _stamp(page: Page, text: str, kind: str) -> float:
    found = [e["t"] for e in page.evaluate(f"window.{kind}") if text in e["text"]]
    if not found:
        raise RuntimeError(f"{text!r} not in {kind}")
    return float(min(found))


def one_message(sender: Page, box: str, receiver: Page, receiver_sel: str, text: str) -> float:
    """Milliseconds from Enter on ``sender`` to ``text`` inserted on ``receiver``."""
    field = sender.locator(box)
    field.fill(text)
    field.press("Enter")
    receiver.locator(receiver_sel, has_text=text).wait_for(timeout=WAIT_MS)
    receiver.wait_for_function(
        "(text) => window.__seen.some((e) => e.text.includes(text))", arg=text, timeout=WAIT_MS
    )
    took = _stamp(receiver, text, "__seen") - _stamp(sender, text, "__pressed")
    if took <= 0:  # one clock for both pages: a message cannot arrive before it was sent
        raise RuntimeError(f"{text!r} seen {-took:.1f} ms before it was sent")
    return took


def run_once(
    browser: Browser, inbox: Page, host: str, api: str, run: int, messages: int
) -> tuple[list[float], list[float]]:
    visitor_context = browser.new_context()
    visitor = visitor_context.new_page()
    rnd = random.Random(run)
    try:
        take_over(inbox, visitor, host, api, f"I want to talk to a person (run {run})")
        visitor.evaluate(OBSERVE, ["#bpract-chat", True, ".m[data-role=agent]"])
        inbox.evaluate(OBSERVE, ["#turns", False, "li.turn.by-visitor"])
        to_visitor: list[float] = []
        to_agent: list[float] = []
        for n in range(messages):
            said = f"agent {run}.{n}: here is what I found for you"
            to_visitor.append(
                one_message(inbox, "#reply", visitor, "#bpract-chat .m[data-role=agent]", said)
            )
            # the composer is free again once the server said "said"
            inbox.wait_for_function("!document.querySelector('#composer button').disabled")
            visitor.wait_for_timeout(rnd.uniform(150, 400))
            asked = f"visitor {run}.{n}: thank you, and one more thing"
            to_agent.append(
                one_message(visitor, "#bpract-chat textarea", inbox, "li.turn.by-visitor", asked)
            )
            visitor.wait_for_timeout(rnd.uniform(150, 400))
        inbox.get_by_role("button", name="Resolve").click()
        inbox.wait_for_load_state()
    finally:
        visitor_context.close()
    return to_visitor, to_agent


def main() -> None:
    exit_on_sigterm()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--messages", type=int, default=40, help="each way, per run")
    parser.add_argument("--others", type=int, default=200, help="other visitors connected")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    before = machine()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        db = folder / "bench.db"
        host_port = free_port()
        origin = f"http://127.0.0.1:{host_port}"
        key = add_site(db, origin)
        _bpract("agents", "add", "--db", str(db), "--email", AGENT_EMAIL, "--name", AGENT_NAME,
                "--password-stdin", stdin=PASSWORD + "\n")  # fmt: skip
        with bpract_serve(db, folder / "server.log", ENV) as server:
            tag = f'<script src="{server.url}/widget.js" data-site="{key}" async></script>'
            ws_url = server.url.replace("http", "ws") + "/v1/visitor"
            with (
                HostPage(host_port, tag) as host,
                chatter(ws_url, origin, key, args.others) as others,
                sync_playwright() as pw,
            ):
                browser = pw.chromium.launch(executable_path=CHROMIUM)
                try:
                    inbox = sign_in(browser, server.url)
                    runs = [
                        run_once(browser, inbox, host.origin, server.url, run, args.messages)
                        for run in range(args.runs)
                    ]
                finally:
                    browser.close()
    report(args, before, runs, others)


def report(
    args: argparse.Namespace,
    before: dict[str, str],
    runs: list[tuple[list[float], list[float]]],
    others: dict[str, Any],
) -> None:
    after = machine()["loadavg"]
    to_visitor = [ms for run in runs for ms in run[0]]
    to_agent = [ms for run in runs for ms in run[1]]
    figures = {
        "machine": {**before, "loadavg_after": after},
        "runs": args.runs,
        "messages_each_way": args.messages,
        "other_visitors": args.others,
        "background": {k: v for k, v in others.items() if k != "event"},
        "agent_to_visitor_ms": {
            "p50": median(to_visitor),
            "p99": percentile(to_visitor, 99),
            "per_run_p50": [median(r[0]) for r in runs],
        },
        "visitor_to_agent_ms": {
            "p50": median(to_agent),
            "p99": percentile(to_agent, 99),
            "per_run_p50": [median(r[1]) for r in runs],
        },
    }
    if args.json:
        print(json.dumps(figures))
        return
    print(json.dumps(figures["machine"]))
    per_run = " / ".join
    rows = []
    for name, values, key in (
        ("agent → visitor", to_visitor, 0),
        ("visitor → agent", to_agent, 1),
    ):
        p50 = median(values)
        rows.append(Row(f"{name} p50", f"{p50:.1f}", f"≤ {BUDGET_MS:g}", p50 <= BUDGET_MS))
        rows.append(Row(f"{name} p99", f"{percentile(values, 99):.1f}"))
        rows.append(Row(f"{name} p50 per run", per_run(f"{median(r[key]):.1f}" for r in runs)))
    background = figures["background"]
    rows.append(
        Row(
            "background frames sent / acked / errors",
            f"{background.get('sent')} / {background.get('acked')} / {background.get('errors')}",
        )
    )
    title = (
        f"live chat through the inbox, {args.runs} runs x {args.messages} messages each way,"
        f" {args.others} other visitors (ms)"
    )
    print_table(title, rows)


if __name__ == "__main__":
    start = time.monotonic()
    main()
    print(f"\n{time.monotonic() - start:.0f} s")
