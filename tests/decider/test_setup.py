"""The gateway from the environment, the choice of decider, and the decider in process."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path

import apsw
import pytest

from bpract.llm.gateway import Gateway
from bpract.llm.policy import Policies
from bpract.llm.providers.registry import ProviderPool
from bpract.llm.setup import build_gateway, policies_from_env
from bpract.store import Database
from bpract.triggers.decider import DecisionRequest, RuleMessageDecider
from bpract.triggers.llm_decider import LLMDecider, Passage, decider_for
from bpract_client.rules import CTA, Message, Rule
from decider.conftest import CLAUDE, answer
from fakes.llm_server import FakeLLMServer
from support.sites import make_site

KEY = "sk-ant-setup-test-secret-0123456789"
RULE = Rule(
    id="sizing",
    department="support",
    goal="Offer the sizing guide.",
    message=Message(text="Not sure about the size?", cta=CTA(label="Guide", url="/help/sizing")),
)


def test_without_keys_only_the_offline_provider_and_the_rules_message(tmp_path: Path) -> None:
    policies = policies_from_env({})
    assert {s.kind for s in policies.default.providers.values()} == {"offline"}
    assert not policies.default.has_model
    db = Database(tmp_path / "x.db")
    try:
        assert isinstance(decider_for(Gateway(db, policies), db), RuleMessageDecider)
    finally:
        db.close()


def test_keys_make_a_default_policy_and_base_urls_point_its_sdks() -> None:
    env = {
        "ANTHROPIC_API_KEY": KEY,
        "OPENAI_API_KEY": "sk-o",
        "BPRACT_ANTHROPIC_BASE_URL": "http://127.0.0.1:9/",
        "BPRACT_LLM_BASE_URL": "http://127.0.0.1:11434/v1",
        "BPRACT_LLM_MODEL": "qwen2.5:7b",
    }
    policy = policies_from_env(env).default
    assert policy.tiers["fast"] == [
        "anthropic:claude-haiku-4-5",
        "openai:gpt-4.1-mini",
        "compatible:qwen2.5:7b",
        "offline:offline",
    ]
    assert policy.providers["anthropic"].base_url == "http://127.0.0.1:9/"
    assert policy.providers["openai"].base_url is None
    assert policy.providers["compatible"].base_url == "http://127.0.0.1:11434/v1"
    assert policy.has_model
    assert KEY not in repr(policy)


def test_a_policy_folder_wins_and_keeps_its_own_base_urls(tmp_path: Path) -> None:
    (tmp_path / "default.toml").write_text(
        '[providers.c]\nkind = "anthropic"\n[tiers]\nfast = ["c:claude-haiku-4-5"]\n'
    )
    (tmp_path / "7.toml").write_text(
        '[providers.c]\nkind = "anthropic"\nbase_url = "https://proxy.example"\n'
        '[providers.off]\nkind = "offline"\n[tiers]\nfast = ["c:claude-haiku-4-5"]\n'
    )
    env = {"BPRACT_LLM_POLICY_DIR": str(tmp_path), "BPRACT_ANTHROPIC_BASE_URL": "http://t"}
    policies = policies_from_env(env)
    assert policies.default.providers["c"].base_url == "http://t"
    assert policies.for_site(7).providers["c"].base_url == "https://proxy.example"


def test_building_the_gateway_logs_no_key(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    db = Database(tmp_path / "x.db")
    try:
        gateway = build_gateway(db, {"ANTHROPIC_API_KEY": KEY})
        assert "anthropic" in caplog.text and KEY not in caplog.text
        assert KEY not in repr(gateway.policies.default)
    finally:
        db.close()


# -- the decider in process, against the fake provider ---------------------------------------


class StubKB:
    """A knowledge base that answers every query with fixed passages (or fails)."""

    def __init__(self, texts: list[str], *, broken: bool = False) -> None:
        self.texts, self.broken, self.queries = texts, broken, list[str]()

    async def search(self, site_id: int, query: str, k: int = 5) -> Sequence[Passage]:
        self.queries.append(query)
        if self.broken:
            raise RuntimeError("index unreadable")
        return [_Text(t) for t in self.texts[:k]]


class _Text:
    def __init__(self, text: str) -> None:
        self.text = text


@pytest.fixture
def fake() -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as server:
        yield server


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[tuple[Database, int]]:
    site = make_site(tmp_path / "d.db", origins=["http://127.0.0.1:1"])
    db = Database(tmp_path / "d.db")
    yield db, site.id
    db.close()


def _gateway(db: Database, fake: FakeLLMServer, offline_site: int | None = None) -> Gateway:
    env = {"ANTHROPIC_API_KEY": KEY, "BPRACT_ANTHROPIC_BASE_URL": fake.anthropic_url}
    default = policies_from_env(env).default
    per_site = {offline_site: policies_from_env({}).default} if offline_site else {}
    return Gateway(db, Policies(default, per_site), providers=ProviderPool(env=env))


def _add_chunk(conn: apsw.Connection, site_id: int) -> None:
    with conn:
        conn.execute(
            "INSERT INTO kb_documents (site_id, source, origin, title, content_hash, ingested_ms)"
            " VALUES (?, '/help/sizing.md', '/help', 'Sizing', 'h', 0)",
            (site_id,),
        )
        conn.execute(
            "INSERT INTO kb_chunks (site_id, doc_id, ord, section, text)"
            " VALUES (?, ?, 0, 'Sizing', 'Exchanges are free.')",
            (site_id, conn.last_insert_rowid()),
        )


def _request(site_id: int) -> DecisionRequest:
    return DecisionRequest(
        site_id=site_id, rule=RULE, visitor="v_1", context={"page": "/cart"}, lang="en"
    )


async def test_passages_reach_the_model_when_the_site_has_a_knowledge_base(
    world: tuple[Database, int], fake: FakeLLMServer
) -> None:
    db, site_id = world
    await db.run(lambda c: _add_chunk(c, site_id))
    kb = StubKB(["Exchanges for another size are free within 30 days."])
    decider = LLMDecider(_gateway(db, fake), db, kb=kb)
    fake.script(answer(message="Not sure of the size? Exchanges are free."), model=CLAUDE)
    decision = await decider.decide(_request(site_id))
    await decider.gateway.aclose()
    assert decision.engage and decision.decided_by == "llm" and decision.cost_nano > 0
    assert kb.queries == ["Offer the sizing guide."]
    system = fake.requests[-1].body["system"]
    assert "free within 30 days" in system[-1]["text"] and "cache_control" not in system[-1]
    assert "cache_control" in system[-2]  # the cacheable prefix ends with the rule


async def test_no_knowledge_base_rows_or_a_broken_one_decide_without_passages(
    world: tuple[Database, int], fake: FakeLLMServer
) -> None:
    db, site_id = world
    kb = StubKB(["never shown"])
    decider = LLMDecider(_gateway(db, fake), db, kb=kb)
    fake.script(answer(message="Need the sizing guide?"), model=CLAUDE)
    assert (await decider.decide(_request(site_id))).engage
    assert kb.queries == []  # no chunks for the site: not even searched
    await db.run(lambda c: _add_chunk(c, site_id))
    kb.broken = True
    fake.script(answer(message="Need the sizing guide?"), model=CLAUDE)
    assert (await decider.decide(_request(site_id))).engage
    await decider.gateway.aclose()
    assert len(kb.queries) == 1
    assert all("never shown" not in str(r.body) for r in fake.requests)


async def test_a_site_whose_policy_has_only_offline_gets_the_rules_message(
    world: tuple[Database, int], fake: FakeLLMServer
) -> None:
    db, site_id = world
    decider = decider_for(_gateway(db, fake, offline_site=site_id), db)
    assert isinstance(decider, LLMDecider)
    decision = await decider.decide(_request(site_id))
    await decider.gateway.aclose()
    assert (decision.decided_by, decision.message) == ("rule", RULE.message.text)
    assert fake.requests == []
