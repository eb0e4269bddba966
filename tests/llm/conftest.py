"""Fixtures for the model gateway: a fake provider server on a free loopback port."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import apsw
import pytest

from bpract.features import MIGRATIONS
from bpract.llm.gateway import Gateway
from bpract.llm.policy import Policy, load_policy
from bpract.llm.providers.registry import ProviderPool
from bpract.store import Database, migrate
from fakes.llm_server import FakeLLMServer


@pytest.fixture
def fake() -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as server:
        yield server


KEY_ANTHROPIC = "sk-ant-test-0123456789abcdef"
KEY_OPENAI = "sk-oai-test-fedcba9876543210"
ENV = {"TEST_ANTHROPIC_KEY": KEY_ANTHROPIC, "TEST_OPENAI_KEY": KEY_OPENAI}


def add_site(conn: apsw.Connection, site_id: int) -> None:
    conn.execute(
        "INSERT INTO sites (id, public_key, name, allowed_origins, identity_secret, created_at)"
        " VALUES (?, ?, ?, '[]', 'secret', '2026-01-01T00:00:00Z')",
        (site_id, f"pk_{site_id}", f"site {site_id}"),
    )


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(tmp_path / "llm.db")
    database.run_sync(
        lambda c: migrate(
            c, tuple(m for m in MIGRATIONS if m.feature in ("sites", "visitors", "llm"))
        )
    )
    database.run_sync(lambda c: [add_site(c, n) for n in (1, 2)])
    yield database
    database.close()


def policy_for(fake: FakeLLMServer, **extra: Any) -> Policy:
    """Two providers on the fake server: Anthropic (EU, zero retention) and OpenAI (US)."""
    raw: dict[str, Any] = {
        "providers": {
            "anthropic": {
                "kind": "anthropic",
                "base_url": fake.anthropic_url,
                "api_key_env": "TEST_ANTHROPIC_KEY",
                "zero_data_retention": True,
                "region": "eu",
            },
            "openai": {
                "kind": "openai",
                "base_url": fake.openai_url,
                "api_key_env": "TEST_OPENAI_KEY",
                "region": "us",
            },
        },
        "tiers": {
            "fast": ["anthropic:claude-haiku-4-5", "openai:gpt-4.1-mini"],
            "capable": ["anthropic:claude-sonnet-4-6", "openai:gpt-4.1"],
            "reasoning": ["anthropic:claude-opus-4-6"],
        },
        "retry": {"attempts": 1, "timeout_s": 0.5},
    }
    raw.update(extra)
    return load_policy(raw)


Sleeps = list[float]


@pytest.fixture
def sleeps() -> Sleeps:
    return []


@pytest.fixture
async def gateway_factory(
    db: Database, sleeps: Sleeps
) -> AsyncIterator[Callable[[Policy], Gateway]]:
    made: list[Gateway] = []

    async def record_sleep(seconds: float) -> None:
        sleeps.append(seconds)
        await asyncio.sleep(0)

    def build(policy: Policy) -> Gateway:
        gateway = Gateway(db, policy, providers=ProviderPool(ENV), sleep=record_sleep)
        made.append(gateway)
        return gateway

    yield build
    for gateway in made:
        await gateway.aclose()


@pytest.fixture
def gateway(fake: FakeLLMServer, gateway_factory: Callable[[Policy], Gateway]) -> Gateway:
    return gateway_factory(policy_for(fake))
