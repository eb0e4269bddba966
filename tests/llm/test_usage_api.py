"""The usage ledger's summaries, the REST endpoints (admin only) and ``bpract usage``."""

from __future__ import annotations

import argparse
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.datastructures import State
from litestar.testing import AsyncTestClient

from bpract.llm import cli as usage_cli
from bpract.llm.api import route_handlers
from bpract.llm.ledger import Ledger, UsageRecord
from bpract.llm.types import Usage
from bpract.settings import Settings
from bpract.store import Database
from support.sites import token_on

NOW = 1_767_225_600.0  # 2026-01-01T00:00:00Z


def record(site: int, model: str, cost: int, *, rule: str = "", conv: str = "c1") -> UsageRecord:
    return UsageRecord(
        site_id=site, department="support", rule=rule, conversation=conv, task="chat_answer",
        provider="anthropic", model=model, streamed=True,
        usage=Usage(input=10, output=5, cache_read=100, cache_write=0), cost_nano=cost,
        saved_nano=cost // 10, price_version="2026-01-15", priced=True,
    )  # fmt: skip


@pytest.fixture
def filled(db: Database) -> Database:
    clock = iter([NOW, NOW + 60, NOW + 86_400, NOW + 86_460])
    ledger = Ledger(db, clock=lambda: next(clock))
    rows = [
        record(1, "claude-haiku-4-5", 1000, rule="pricing"),
        record(1, "claude-sonnet-4-6", 5000, conv="c2"),
        record(1, "claude-haiku-4-5", 2000),
        record(2, "gpt-4.1", 7000),
    ]
    db.run_sync(lambda c: [ledger.record_in(c, r) for r in rows])
    return db


async def test_summary_groups_by_what_is_asked(filled: Database) -> None:
    ledger = Ledger(filled)
    by_day = await ledger.summary(site_id=1, by=("day",))
    assert [(r.group["day"], r.calls, r.cost_nano) for r in by_day] == [
        ("2026-01-01", 2, 6000),
        ("2026-01-02", 1, 2000),
    ]
    by_model = await ledger.summary(site_id=1, since="2026-01-02", by=("model",))
    assert [(r.group["model"], r.cost_nano) for r in by_model] == [("claude-haiku-4-5", 2000)]
    [everything] = await ledger.summary(by=())
    assert (everything.calls, everything.cost_nano, everything.saved_nano) == (4, 15000, 1500)
    by_rule = await ledger.summary(site_id=1, by=("rule", "conversation"))
    assert {(r.group["rule"], r.group["conversation"]) for r in by_rule} == {
        ("", "c1"), ("", "c2"), ("pricing", "c1")
    }  # fmt: skip
    assert await ledger.summary(site_id=99) == []


@pytest.fixture
async def client(filled: Database) -> AsyncIterator[AsyncTestClient[Litestar]]:
    # The hook tests' receiver is on loopback: its origin is allowed, as an operator would.
    settings = Settings.read({"BPRACT_OUTBOUND_ALLOW": "http://127.0.0.1:9"})
    app = Litestar(route_handlers=route_handlers, state=State({"db": filled, "settings": settings}))
    async with AsyncTestClient(app) as test_client:
        yield test_client


@pytest.fixture
def auth(filled: Database) -> dict[str, str]:
    token = filled.run_sync(lambda c: token_on(c, "ops"))
    return {"Authorization": f"Bearer {token}"}


async def test_usage_endpoint(client: AsyncTestClient[Litestar], auth: dict[str, str]) -> None:
    answer = await client.get("/api/sites/pk_1/llm/usage?by=model&by=day", headers=auth)
    assert answer.status_code == 200
    body = answer.json()
    assert body["by"] == ["model", "day"]
    assert next(r["group"] for r in body["rows"]) == {
        "model": "claude-haiku-4-5",
        "day": "2026-01-01",
    }
    assert body["total_cost_usd"] == pytest.approx(8000e-9)


async def test_budget_endpoints(client: AsyncTestClient[Litestar], auth: dict[str, str]) -> None:
    limit = {"period": "day", "department": "support", "soft_nano": 10, "hard_nano": 20}
    assert (
        await client.put("/api/sites/pk_1/llm/budgets", json=limit, headers=auth)
    ).status_code == 200
    hook = {"url": "http://127.0.0.1:9/hook", "thresholds": [0.9]}
    assert (
        await client.put("/api/sites/pk_1/llm/budgets/hook", json=hook, headers=auth)
    ).status_code == 200
    body = (await client.get("/api/sites/pk_1/llm/budgets", headers=auth)).json()
    assert body["limits"] == [limit]
    assert body["hook_url"] == "http://127.0.0.1:9/hook"


async def test_decisions_endpoint(
    client: AsyncTestClient[Litestar], auth: dict[str, str], filled: Database
) -> None:
    from bpract.llm.ledger import Decision

    d = Decision(site_id=1, department="", rule="", conversation="c9", task="chat_answer",
                 tier="fast", provider="anthropic", model="claude-haiku-4-5", outcome="ok",
                 reason="chat_answer: complexity 0 (simple query) → fast")  # fmt: skip
    filled.run_sync(lambda c: Ledger(filled).decide_in(c, d))
    body = (await client.get("/api/sites/pk_1/llm/decisions/c9", headers=auth)).json()
    assert [(x["tier"], x["reason"]) for x in body] == [("fast", d.reason)]


@pytest.mark.parametrize(
    ("method", "path", "payload", "status"),
    [
        ("GET", "/api/sites/pk_1/llm/usage?by=colour", None, 400),
        ("GET", "/api/sites/pk_404/llm/usage", None, 404),
        ("PUT", "/api/sites/pk_1/llm/budgets", {"period": "day", "hard_nano": -1}, 400),
        ("PUT", "/api/sites/pk_1/llm/budgets", {"period": "week", "hard_nano": 1}, 400),
        ("PUT", "/api/sites/pk_1/llm/budgets/hook", {"url": "file:///etc/passwd"}, 400),
        ("GET", "/api/sites/pk_404/llm/decisions/c1", None, 404),
    ],
)
async def test_refusals(
    client: AsyncTestClient[Litestar],
    auth: dict[str, str],
    method: str,
    path: str,
    payload: object,
    status: int,
) -> None:
    answer = await client.request(method, path, json=payload, headers=auth)
    assert answer.status_code == status


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("http://127.0.0.1:8080/hook", "loopback"),  # another port than the allowed origin
        ("http://localhost/hook", "loopback"),
        ("http://[::1]/hook", "loopback"),
        ("http://[::ffff:127.0.0.1]/hook", "loopback"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("https://10.0.0.7/hook", "private"),
        ("http://100.64.1.1/hook", "shared (CGNAT)"),
        ("http://0.0.0.0:9/hook", "unspecified"),
    ],
)
async def test_a_private_hook_is_refused(
    client: AsyncTestClient[Litestar], auth: dict[str, str], url: str, kind: str
) -> None:
    path = "/api/sites/pk_1/llm/budgets/hook"
    answer = await client.put(path, json={"url": url}, headers=auth)
    assert answer.status_code == 400
    assert f"is a {kind} address" in answer.json()["detail"]
    assert "BPRACT_OUTBOUND_ALLOW" in answer.json()["detail"]
    body = (await client.get("/api/sites/pk_1/llm/budgets", headers=auth)).json()
    assert body["hook_url"] is None


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic x"}]
)
async def test_every_endpoint_needs_an_admin_token(
    client: AsyncTestClient[Litestar], headers: dict[str, str]
) -> None:
    for method, path in [
        ("GET", "/api/sites/pk_1/llm/usage"),
        ("GET", "/api/sites/pk_1/llm/budgets"),
        ("PUT", "/api/sites/pk_1/llm/budgets"),
        ("PUT", "/api/sites/pk_1/llm/budgets/hook"),
        ("GET", "/api/sites/pk_1/llm/decisions/c1"),
    ]:
        answer = await client.request(method, path, headers=headers, json={})
        assert answer.status_code == 401, path


def run_cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bpract")
    usage_cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code: int = args.handler(args)
    return code


def test_cli_prints_a_table_and_json(filled: Database, capsys: pytest.CaptureFixture[str]) -> None:
    path = str(filled.path)
    assert run_cli(["usage", "--db", path, "--site", "pk_1", "--by", "model"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["model", "calls", "input", "output", "cache_read", "cache_write",
                              "cost_usd", "saved_usd"]  # fmt: skip
    assert out[1].split()[:2] == ["claude-haiku-4-5", "2"]
    assert out[-1].split() == ["total", "3", "0.000008", "0.000001"]
    assert run_cli(["usage", "--db", path, "--by", "day", "--json", "--since", "2026-01-02"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["group"]["day"], r["cost_nano"]) for r in rows] == [("2026-01-02", 9000)]


def test_cli_refusals(filled: Database, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert run_cli(["usage", "--db", str(filled.path), "--by", "colour"]) == 2
    assert "cannot group by colour" in capsys.readouterr().err
    assert run_cli(["usage", "--db", str(filled.path), "--site", "pk_404"]) == 1
    assert "no site" in capsys.readouterr().err
