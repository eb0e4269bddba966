"""Logs hold no message body, identity hash, card number or key, even at DEBUG.

A real server runs at ``--log-level debug`` with a model behind it (the fake
provider, through the official SDK and its API key); a visitor identifies with a
``user_hash`` and asks, in a chat, about a card number; then everything the
process printed is searched for what must not be there.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bpract.kb import KnowledgeBase, MiniLMEmbedder, ingest
from bpract.llm.alerts import AlertSender
from bpract.llm.budget import Alert
from bpract.logs import BODY_LOGGERS, Redact, install, luhn_valid, quiet_body_loggers, redact
from bpract.net import NetSettings
from bpract.sites import Site
from bpract.sites.identity import user_hash
from bpract.store import Database
from fakes.llm_server import FakeLLMServer, Reply
from support.process import Process, answers, free_port
from support.sites import make_site
from support.visitor import VisitorClient

ORIGIN = "http://127.0.0.1:8765"
API_KEY = "sk-test-LOGCANARY-0123456789abcdef"
CARD = "4111 1111 1111 1111"
QUESTION = f"My card {CARD} was charged twice for one coat: refund, zebra-quartz?"
ANSWER = "Refunds for marmalade-orbit double charges reach your card in 5 days [1]."
HELP = (
    "# Refunds\n\n## Double charges\n"
    "If your card was charged twice for one order, we refund the second charge.\n"
    "Refunds reach your card within 5 business days.\n"
)


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as server:
        yield server


@pytest.fixture(scope="module")
def site_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Site]:
    root = tmp_path_factory.mktemp("logs")
    db_path = root / "bpract.db"
    site = make_site(db_path, origins=[ORIGIN])
    (root / "help").mkdir()
    (root / "help" / "refunds.md").write_text(HELP)
    db = Database(db_path)
    try:
        report = asyncio.run(
            ingest(KnowledgeBase(db, MiniLMEmbedder()), site.id, str(root / "help"))
        )
        assert report.added == 1 and not report.failed
    finally:
        db.close()
    return db_path, site


def _serve(db_path: Path, fake: FakeLLMServer, env: dict[str, str]) -> tuple[Process, int]:
    port = free_port()
    argv = [sys.executable, "-m", "bpract", "serve", "--db", str(db_path)]
    argv += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "debug"]
    inherited = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("BPRACT_", "OPENAI", "ANTHROPIC", "OPENROUTER"))
    }
    full = {
        **inherited,
        "PYTHONUNBUFFERED": "1",
        "OPENAI_API_KEY": API_KEY,
        "BPRACT_OPENAI_BASE_URL": fake.openai_url,
        "BPRACT_CHAT_RATE": "1000",
        **env,
    }
    log = db_path.with_name(f"server-{port}.log")
    proc = Process(argv, env=full, log_path=log, name="server")
    proc.start(answers(f"http://127.0.0.1:{port}/health"), timeout=90)
    return proc, port


async def _conversation(port: int, site: Site) -> dict[str, object]:
    client = await VisitorClient.open(f"ws://127.0.0.1:{port}/v1/visitor", ORIGIN)
    try:
        await client.hello(site.public_key)
        now = int(time.time() * 1000)
        signed = user_hash(site.identity_secret, "user-42")
        identify = {"t": "identify", "seq": 1, "at": now, "user_id": "user-42"}
        await client.send({**identify, "user_hash": signed})
        await client.send({"t": "message", "seq": 2, "at": now, "text": QUESTION})
        end, _ = await client.recv_until("reply_end", within=60)
        return end
    finally:
        await client.close()


def _run(site_db: tuple[Path, Site], fake: FakeLLMServer, env: dict[str, str]) -> str:
    db_path, site = site_db
    fake.script(Reply(text=ANSWER))
    seen = len(fake.requests)
    proc, port = _serve(db_path, fake, env)
    try:
        end = asyncio.run(_conversation(port, site))
    finally:
        proc.stop()
    assert end["kind"] == "answer" and end["offline"] is False, end
    assert len(fake.requests) > seen  # the model was called, with the key
    assert fake.requests[-1].headers.get("authorization") == f"Bearer {API_KEY}"
    assert "zebra-quartz" in str(fake.requests[-1].body)
    return proc.log()


def _forbidden(site: Site) -> dict[str, str]:
    return {
        "the visitor's message": "zebra-quartz",
        "the model's answer": "marmalade-orbit",
        "the card number": CARD,
        "the card's digits": CARD.replace(" ", ""),
        "the identity hash": user_hash(site.identity_secret, "user-42"),
        "the identity secret": site.identity_secret,
        "the API key": API_KEY,
        "the API key's body": "LOGCANARY",
    }


def test_a_debug_run_logs_no_body_hash_card_or_key(
    site_db: tuple[Path, Site], fake: FakeLLMServer
) -> None:
    # the SDKs' own switches for DEBUG logging on, as an operator chasing a bug might set them
    log = _run(site_db, fake, {"OPENAI_LOG": "debug", "ANTHROPIC_LOG": "debug"})
    assert " DEBUG " in log or "DEBUG -" in log or "DEBUG:" in log, log[-2000:]  # it ran at DEBUG
    leaked = [what for what, text in _forbidden(site_db[1]).items() if text in log]
    assert not leaked, f"leaked {leaked}:\n{log[-4000:]}"


def test_bodies_are_logged_only_when_turned_on_and_cards_and_keys_still_are_not(
    site_db: tuple[Path, Site], fake: FakeLLMServer
) -> None:
    log = _run(site_db, fake, {"BPRACT_LOG_BODIES": "1"})
    assert "zebra-quartz" in log  # the WebSocket stack logged the frame (its end, at least)
    forbidden = _forbidden(site_db[1])
    for body in ("the visitor's message", "the model's answer"):
        del forbidden[body]
    leaked = [what for what, text in forbidden.items() if text in log]
    assert not leaked, f"leaked {leaked}:\n{log[-4000:]}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("card 4111 1111 1111 1111 ok", "card [card] ok"),
        ("card 4111-1111-1111-1111", "card [card]"),
        ("amex 378282246310005", "amex [card]"),
        ("4111 1111 1111 1112", "4111 1111 1111 1112"),  # not Luhn-valid
        ("order 123456789012", "order 123456789012"),  # 12 digits: too short
        ("id 41111111111111111111111", "id 41111111111111111111111"),  # 23 digits
        ("hash " + "ab" * 32, "hash [hash]"),
        ("key sk-ant-api03-abcdefghijklmnop", "key [secret]"),
        ("Authorization: Bearer abc.def-ghi_jkl", "Authorization: Bearer [secret]"),
        ("{'x-api-key': 'k123456789'}", "{'x-api-key': '[secret]'}"),
        ("token bpa_abcdefghijklmnopqrstuvwxyz", "token [secret]"),
        ("secret sk_abcdefghijklmnopqrstuvwxyz", "secret [secret]"),
        ("input_tokens=12 status=200", "input_tokens=12 status=200"),
    ],
)
def test_redact(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_luhn() -> None:
    assert luhn_valid("4111111111111111") and not luhn_valid("4111111111111112")


def test_records_are_redacted_when_made_whatever_handler_formats_them(
    caplog: pytest.LogCaptureFixture,
) -> None:
    install()
    install()  # idempotent
    log = logging.getLogger("bpract.test")
    with caplog.at_level(logging.DEBUG, logger="bpract.test"):
        log.debug("asked %s with %r (%d)", CARD, {"authorization": f"Bearer {API_KEY}"}, 3)
        try:
            raise ValueError(f"bad card {CARD}")
        except ValueError:
            log.exception("failed")
    text = caplog.text
    assert CARD not in text and API_KEY not in text and "(3)" in text
    assert "[card]" in text and "[secret]" in text


def test_the_filter_redacts_for_a_handler_configured_elsewhere() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "card %s", (CARD,), None)
    assert Redact().filter(record) and record.getMessage() == "card [card]"


def test_body_loggers_are_capped_unless_bodies_are_on() -> None:
    saved = {name: logging.getLogger(name).level for name in BODY_LOGGERS}
    try:
        for name in BODY_LOGGERS:
            logging.getLogger(name).setLevel(logging.DEBUG)
        quiet_body_loggers(bodies=True)
        assert all(logging.getLogger(n).level == logging.DEBUG for n in BODY_LOGGERS)
        quiet_body_loggers(bodies=False)
        assert logging.getLogger("openai").level == logging.INFO
        assert logging.getLogger("httpx2").level == logging.WARNING  # its INFO line has URLs
    finally:
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)


async def test_a_failed_budget_alert_logs_the_webhooks_host_not_its_secret_path(
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = f"http://127.0.0.1:{free_port()}/services/T0001/B0001/HOOKSECRETPATH"
    alert = Alert(
        site_id=1, department="support", period_key="2026-12", threshold="80%",
        spent_nano=8, limit_nano=10, url=url,
    )  # fmt: skip
    sender = AlertSender(NetSettings(allow="127.0.0.1"))  # so the post is tried, and fails
    with caplog.at_level(logging.WARNING, logger="bpract.llm.alerts"):
        sender.send([alert])
        await sender.aclose()
    assert "budget alert to http://127.0.0.1 not sent" in caplog.text
    assert "HOOKSECRETPATH" not in caplog.text
