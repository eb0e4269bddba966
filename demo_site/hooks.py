"""The store's side of BPract's offline tickets: the webhook that receives them, and a page.

``POST /hooks/tickets`` does what any receiver should: it checks ``X-BPract-Signature``
(HMAC-SHA256 of ``"<t>.<raw body>"`` keyed with the site's ``whsec_…`` secret, ``t`` within
five minutes) and refuses a bad one with 401, takes a delivery it already has as done (the
same ``X-BPract-Delivery`` comes again after a lost answer), and appends the ticket to a
JSON-lines file.  ``GET /hooks/tickets`` lists what was received.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import json
import threading
import time
from pathlib import Path
from typing import Any

from litestar import MediaType, Request, Response, Router, get, post

from demo_site.settings import DemoSettings

__all__ = ["hooks_router", "signed"]

_TOLERANCE_S = 300
_lock = threading.Lock()


def signed(secret: str, header: str, body: bytes, now_s: int) -> bool:
    """Whether ``header`` (``t=<unix>,v1=<hex>``) signs ``body`` with ``secret``, recently."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    stamp = parts.get("t", "")
    if not secret or not stamp.isdigit() or abs(now_s - int(stamp)) > _TOLERANCE_S:
        return False
    expected = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts.get("v1", ""))


def _received(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


@post("/", sync_to_thread=True, status_code=200)
def receive(request: Request[Any, Any, Any], body: bytes, settings: DemoSettings) -> Response[str]:
    header = request.headers.get("x-bpract-signature", "")
    if not signed(settings.webhook_secret, header, body, int(time.time())):
        return Response("bad signature", status_code=401, media_type=MediaType.TEXT)
    delivery = request.headers.get("x-bpract-delivery", "")
    ticket = json.loads(body)
    path = settings.tickets_path
    with _lock:
        if any(t.get("id") == delivery for t in _received(path)):
            return Response("already received", media_type=MediaType.TEXT)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as out:
            out.write(json.dumps({**ticket, "id": delivery or ticket.get("id")}) + "\n")
    return Response("received", media_type=MediaType.TEXT)


@get("/", sync_to_thread=True, include_in_schema=False)
def listing(settings: DemoSettings) -> Response[str]:
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(t.get(k, '')))}</td>" for k in
                         ("created_at", "email", "question", "lang", "id")) + "</tr>"
        for t in reversed(_received(settings.tickets_path))
    )  # fmt: skip
    page = (
        "<!doctype html><meta charset=utf-8><title>Tickets received</title>"
        "<h1>Tickets received by the store's webhook</h1>"
        "<table><tr><th>When</th><th>Email</th><th>Question</th><th>Lang</th><th>Id</th></tr>"
        f"{rows or '<tr><td colspan=5>None yet.</td></tr>'}</table>"
    )
    return Response(page, media_type=MediaType.HTML)


def hooks_router() -> Router:
    return Router(path="/hooks/tickets", route_handlers=[receive, listing])
