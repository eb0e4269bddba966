"""Routing decisions per policy: tiers, complexity, step-down, compliance; policy files."""

from __future__ import annotations

from pathlib import Path

import pytest

from bpract.llm.budget import Pressure
from bpract.llm.complexity import estimate
from bpract.llm.errors import PolicyInvalidError
from bpract.llm.policy import Policies, load_policy
from bpract.llm.router import Router

POLICY_TOML = """
step_down_at = 0.75

[providers.claude]
kind = "anthropic"
zero_data_retention = true
region = "eu"

[providers.router]
kind = "openrouter"
zero_data_retention = true
region = "us"
preferences = { zdr = true, data_collection = "deny" }

[providers.gpt]
kind = "openai"

[providers.local]
kind = "compatible"
base_url = "http://127.0.0.1:11434/v1"
region = "onprem"

[providers.offline]
kind = "offline"

[tiers]
fast = ["gpt:gpt-4.1-mini", "claude:claude-haiku-4-5", "local:llama3.1:8b", "offline:offline"]
capable = ["claude:claude-sonnet-4-6", "router:anthropic/claude-sonnet-4.5", "gpt:gpt-4.1"]
reasoning = ["claude:claude-opus-4-6"]

[tasks]
trigger_decision = "fast"
chat_answer = "auto"
classification = "fast"
judge = "reasoning"
summary = "fast"

[[compliance]]
data_class = "pii"
zero_data_retention = true

[[compliance]]
data_class = "health"
providers = ["local"]

[[compliance]]
data_class = "*"
regions = ["eu", "us", "onprem"]
"""

router = Router()
policy = load_policy(POLICY_TOML)


def refs(route: object) -> list[str]:
    return [f"{c.provider}:{c.model}" for c in route.candidates]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("task", "tier", "first"),
    [
        ("trigger_decision", "fast", "gpt:gpt-4.1-mini"),
        ("classification", "fast", "gpt:gpt-4.1-mini"),
        ("summary", "fast", "gpt:gpt-4.1-mini"),
        ("judge", "reasoning", "claude:claude-opus-4-6"),
        ("unknown_task", "capable", "claude:claude-sonnet-4-6"),
    ],
)
def test_tasks_map_to_tiers(task: str, tier: str, first: str) -> None:
    route = router.route(policy, task=task)
    assert route.tier == tier
    assert refs(route)[0] == first


def test_the_chain_is_the_tier_then_cheaper_then_dearer() -> None:
    route = router.route(policy, task="chat_answer", query="Hi!")
    assert route.tier == "fast"
    assert refs(route)[:4] == [
        "gpt:gpt-4.1-mini",
        "claude:claude-haiku-4-5",
        "local:llama3.1:8b",
        "offline:offline",
    ]
    assert refs(route)[-1] == "claude:claude-opus-4-6"


def test_a_model_name_with_a_colon_survives() -> None:
    route = router.route(policy, task="summary", data_class="health")
    assert refs(route) == ["local:llama3.1:8b", "offline:offline"]


def test_pii_drops_providers_without_zero_retention_from_every_position() -> None:
    route = router.route(policy, task="summary", data_class="pii")
    assert all(not r.startswith(("gpt:", "local:")) for r in refs(route))
    assert "offline:offline" in refs(route)  # nothing leaves the machine
    assert (
        "compliance (pii) excluded gpt:gpt-4.1-mini, local:llama3.1:8b, gpt:gpt-4.1" in route.reason
    )


def test_router_allowed_checks_every_rule() -> None:
    assert router.allowed(policy, "pii", "router")
    assert not router.allowed(policy, "pii", "gpt")
    assert not router.allowed(policy, "general", "nonexistent")


@pytest.mark.parametrize(
    ("query", "confidence", "tier"),
    [
        ("What is the exchange rate?", None, "fast"),
        ("Where is my card?", 0.9, "fast"),
        ("Where is my card?", 0.1, "fast"),
        ("Please cancel my transfer from yesterday", None, "capable"),
        ("How do I top up? And also, can I use Apple Pay?", None, "capable"),
        ("This is RIDICULOUS, I have been waiting for AGES and still nothing!!", None, "capable"),
        ("Charged twice?? Refund one and also cancel my card! Terrible.", 0.2, "reasoning"),
    ],
)
def test_chat_complexity_picks_the_tier(query: str, confidence: float | None, tier: str) -> None:
    assert estimate(query, confidence).tier == tier
    route = router.route(policy, task="chat_answer", query=query, retrieval_confidence=confidence)
    assert route.tier == tier
    assert "complexity" in route.reason


def test_budget_pressure_steps_down_one_tier_and_says_so() -> None:
    hot = Pressure(ratio=0.8)
    assert router.route(policy, task="judge", pressure=hot).tier == "capable"
    assert router.route(policy, task="judge", pressure=Pressure(ratio=0.5)).tier == "reasoning"
    assert router.route(policy, task="summary", pressure=hot).tier == "fast"
    soft = router.route(policy, task="judge", pressure=Pressure(soft_exceeded=True))
    assert soft.tier == "capable"
    assert "stepped down to capable" in soft.reason


def test_policy_files_in_toml_and_yaml(tmp_path: Path) -> None:
    (tmp_path / "default.toml").write_text(POLICY_TOML)
    (tmp_path / "7.yaml").write_text(
        "providers:\n  o:\n    kind: offline\ntiers:\n  fast: ['o:offline']\n"
        "tasks:\n  chat_answer: fast\n"
    )
    (tmp_path / "notes.txt").write_text("ignored")
    policies = Policies.from_dir(tmp_path)
    assert policies.for_site(1).step_down_at == 0.75
    assert refs(router.route(policies.for_site(7), task="chat_answer")) == ["o:offline"]


@pytest.mark.parametrize(
    "bad",
    [
        "[tiers]\nfast = ['ghost:model']",
        "[providers.x]\nkind = 'carrier-pigeon'",
        "[tasks]\nchat_answer = 'genius'",
        "[tasks]\ncooking = 'fast'",
        "unknown_key = 1",
        "not toml at all [",
    ],
)
def test_invalid_policies_are_refused(bad: str) -> None:
    with pytest.raises(PolicyInvalidError):
        load_policy(bad)


def test_a_missing_policy_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PolicyInvalidError):
        load_policy(tmp_path / "none.toml")


def test_provider_spec_repr_hides_the_key() -> None:
    spec = load_policy({"providers": {"a": {"kind": "anthropic", "api_key": "sk-secret-1"}}})
    assert "sk-secret-1" not in repr(spec)
