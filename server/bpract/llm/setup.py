"""The gateway the server runs with, configured from the environment.

A policy folder (``BPRACT_LLM_POLICY_DIR``: ``default.toml`` + ``<site_id>.toml``)
says everything; without one, a default policy is made from the keys present:
``ANTHROPIC_API_KEY``, ``OPENAI_API_KEY``, ``OPENROUTER_API_KEY`` and an
OpenAI-compatible server at ``BPRACT_LLM_BASE_URL`` (``BPRACT_LLM_MODEL``,
``BPRACT_LLM_API_KEY``).  With none of them, only the ``offline`` provider.
``BPRACT_ANTHROPIC_BASE_URL``, ``BPRACT_OPENAI_BASE_URL`` and
``BPRACT_OPENROUTER_BASE_URL`` point providers of that kind without a base URL of
their own elsewhere (a proxy, or a test server).  Keys are read, never logged.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec

from bpract.llm.gateway import Gateway
from bpract.llm.policy import Policies, Policy, ProviderSpec, load_policy
from bpract.llm.prices import PriceTable
from bpract.llm.providers.registry import ProviderPool
from bpract.store import Database

__all__ = [
    "build_gateway",
    "has_model",
    "policies_from_env",
    "prices_from_env",
    "release_stale_forever",
]

log = logging.getLogger("bpract.llm")

_BASE_URL_ENV = {
    "anthropic": "BPRACT_ANTHROPIC_BASE_URL",
    "openai": "BPRACT_OPENAI_BASE_URL",
    "openrouter": "BPRACT_OPENROUTER_BASE_URL",
}

#: Default models per tier for each provider found by its key: (fast, capable, reasoning).
_DEFAULT_MODELS: dict[str, tuple[str, str, str]] = {
    "anthropic": ("claude-haiku-4-5", "claude-sonnet-4-6", "claude-opus-4-6"),
    "openai": ("gpt-4.1-mini", "gpt-4.1", "o4-mini"),
    "openrouter": (
        "anthropic/claude-haiku-4.5",
        "anthropic/claude-sonnet-4.5",
        "anthropic/claude-sonnet-4.5",
    ),
}
_KEY_ENV = {
    "anthropic": "ANTHROPIC_API_KEY",
    "openai": "OPENAI_API_KEY",
    "openrouter": "OPENROUTER_API_KEY",
}


def _env_policy(env: Mapping[str, str]) -> Policy:
    providers: dict[str, Any] = {}
    tiers: dict[str, list[str]] = {"fast": [], "capable": [], "reasoning": []}
    for kind, var in _KEY_ENV.items():
        if not env.get(var):
            continue
        spec: dict[str, Any] = {"kind": kind, "api_key_env": var}
        if kind == "openrouter":
            spec["preferences"] = {"data_collection": "deny"}
        providers[kind] = spec
        for tier, model in zip(tiers, _DEFAULT_MODELS[kind], strict=True):
            tiers[tier].append(f"{kind}:{model}")
    url = env.get("BPRACT_LLM_BASE_URL", "").strip()
    if url:
        spec = {"kind": "compatible", "base_url": url, "region": "onprem"}
        if env.get("BPRACT_LLM_API_KEY"):
            spec["api_key_env"] = "BPRACT_LLM_API_KEY"
        providers["compatible"] = spec
        model = env.get("BPRACT_LLM_MODEL", "").strip() or "llama3.1:8b"
        for refs in tiers.values():
            refs.append(f"compatible:{model}")
    providers["offline"] = {"kind": "offline", "region": "onprem"}
    for refs in tiers.values():
        refs.append("offline:offline")  # the last resort for chat; refuses structured output
    return load_policy({"providers": providers, "tiers": tiers})


def _with_base_urls(policy: Policy, env: Mapping[str, str]) -> Policy:
    providers: dict[str, ProviderSpec] = {}
    for name, spec in policy.providers.items():
        override = env.get(_BASE_URL_ENV.get(spec.kind, ""), "").strip()
        moved = override and spec.base_url is None
        providers[name] = msgspec.structs.replace(spec, base_url=override) if moved else spec
    return msgspec.structs.replace(policy, providers=providers)


def policies_from_env(env: Mapping[str, str] | None = None) -> Policies:
    """The policy folder's policies, or a default policy made from the keys present."""
    env = os.environ if env is None else env
    folder = env.get("BPRACT_LLM_POLICY_DIR", "").strip()
    found = Policies.from_dir(Path(folder)) if folder else Policies(_env_policy(env))
    return Policies(
        _with_base_urls(found.default, env),
        {site: _with_base_urls(p, env) for site, p in found.per_site.items()},
    )


def prices_from_env(env: Mapping[str, str] | None = None) -> PriceTable:
    """The bundled price table, with ``BPRACT_LLM_PRICES`` (a TOML file) on top."""
    env = os.environ if env is None else env
    overrides = env.get("BPRACT_LLM_PRICES", "").strip()
    return PriceTable.load(Path(overrides) if overrides else None)


def has_model(policy: Policy) -> bool:
    """True when a tier names a provider that is a real model (not ``offline``)."""
    return any(
        policy.providers[ref.partition(":")[0]].kind != "offline"
        for refs in policy.tiers.values()
        for ref in refs
    )


def build_gateway(db: Database, env: Mapping[str, str] | None = None) -> Gateway:
    """The gateway for ``db`` with policies, prices and provider keys from ``env``."""
    env = os.environ if env is None else env
    policies = policies_from_env(env)
    gateway = Gateway(
        db, policies, prices=prices_from_env(env), providers=ProviderPool(env=dict(env))
    )
    names = sorted(
        {n for p in (policies.default, *policies.per_site.values()) for n in p.providers}
    )
    log.info("llm: providers %s", ", ".join(names))  # names only: specs never print keys
    return gateway


async def release_stale_forever(gateway: Gateway, interval_s: float = 60.0) -> None:
    """Free reservations of calls that never settled, every ``interval_s``, until cancelled."""
    while True:
        freed = await gateway.budgets.release_stale()
        if freed:
            log.warning("llm: released %d stale budget reservation(s)", freed)
        await asyncio.sleep(interval_s)
