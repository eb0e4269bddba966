"""The demo store's ticket webhook: signature checked (401 when bad), deliveries deduplicated,
tickets appended to a JSON-lines file and listed on a page, as text."""

from __future__ import annotations

import json
import time

from bpract.tickets.signing import sign
from demo.conftest import WEBHOOK_SECRET, DemoServer

TICKET = {
    "id": "t_abc", "site": "pk_test_demo123", "created_at": "2026-01-01T10:00:00.000+00:00",
    "email": "ana@example.com", "question": "<b>Is the blue coat</b> back?", "visitor": "v_1",
    "lang": "en",
}  # fmt: skip


def _post(demo: DemoServer, body: bytes, signature: str, delivery: str = "t_abc") -> int:
    headers = {
        "Content-Type": "application/json",
        "X-BPract-Signature": signature,
        "X-BPract-Delivery": delivery,
    }
    with demo.client(key=None) as client:
        return client.post("/hooks/tickets", content=body, headers=headers).status_code


def test_a_signed_ticket_is_kept_once_and_listed(demo: DemoServer) -> None:
    body = json.dumps(TICKET).encode()
    good = sign(WEBHOOK_SECRET, int(time.time()), body)
    assert _post(demo, body, good) == 200
    assert _post(demo, body, good) == 200  # a redelivery: taken, not kept twice
    lines = demo.db.with_name("tickets.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == [TICKET]
    with demo.client(key=None) as client:
        page = client.get("/hooks/tickets")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "ana@example.com" in page.text
    assert "&lt;b&gt;Is the blue coat&lt;/b&gt;" in page.text and "<b>Is" not in page.text


def test_a_bad_signature_is_refused_401(demo: DemoServer) -> None:
    body = json.dumps(TICKET).encode()
    now = int(time.time())
    assert _post(demo, body, sign("whsec_wrong", now, body)) == 401
    assert _post(demo, body + b" ", sign(WEBHOOK_SECRET, now, body)) == 401
    assert _post(demo, body, sign(WEBHOOK_SECRET, now - 3600, body)) == 401  # a replay
    assert _post(demo, body, "") == 401
    assert not demo.db.with_name("tickets.jsonl").exists()
