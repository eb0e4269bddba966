"""The gateway the server runs with, configured from :class:`LLMSettings`.

A policy folder says everything; without one, a default policy is made from
the keys present (``ANTHROPIC_API_KEY``, ``OPENAI_API_KEY``,
``OPENROUTER_API_KEY``) and an OpenAI-compatible server.  With none of them,
only the ``offline`` provider.  Keys are looked up by name in the environment
when a provider is made, never copied into settings, never logged.
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
from bpract.llm.settings import LLMSettings
from bpract.net.settings import NetSettings
from bpract.settings import read_section
from bpract.store import Database

__all__ = [
    "build_gateway",
    "build_policies",
    "build_prices",
    "policies_from_env",
    "release_stale_forever",
]

log = logging.getLogger("bpract.llm")

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


def _env_policy(settings: LLMSettings, env: Mapping[str, str]) -> Policy:
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
    if settings.compatible_url:
        spec = {"kind": "compatible", "base_url": settings.compatible_url, "region": "onprem"}
        if env.get(settings.compatible_key_env):
            spec["api_key_env"] = settings.compatible_key_env
        providers["compatible"] = spec
        model = settings.compatible_model
        for refs in tiers.values():
            refs.append(f"compatible:{model}")
    providers["offline"] = {"kind": "offline", "region": "onprem"}
    for refs in tiers.values():
        refs.append("offline:offline")  # the last resort for chat; refuses structured output
    return load_policy({"providers": providers, "tiers": tiers})


def _with_base_urls(policy: Policy, settings: LLMSettings) -> Policy:
    providers: dict[str, ProviderSpec] = {}
    for name, spec in policy.providers.items():
        override = settings.base_url_for(spec.kind)
        moved = override and spec.base_url is None
        providers[name] = msgspec.structs.replace(spec, base_url=override) if moved else spec
    return msgspec.structs.replace(policy, providers=providers)


def build_policies(settings: LLMSettings, env: Mapping[str, str]) -> Policies:
    """The policy folder's policies, or a default policy made from the keys in ``env``."""
    folder = settings.policy_dir
    found = Policies.from_dir(Path(folder)) if folder else Policies(_env_policy(settings, env))
    return Policies(
        _with_base_urls(found.default, settings),
        {site: _with_base_urls(p, settings) for site, p in found.per_site.items()},
    )


def policies_from_env(env: Mapping[str, str] | None = None) -> Policies:
    """:func:`build_policies` with the settings and keys of ``env`` (default: the process's)."""
    env = os.environ if env is None else env
    return build_policies(read_section(LLMSettings, env), env)


def build_prices(settings: LLMSettings) -> PriceTable:
    """The bundled price table, with the settings' TOML file on top."""
    return PriceTable.load(Path(settings.prices) if settings.prices else None)


def build_gateway(
    db: Database,
    env: Mapping[str, str] | None = None,
    settings: LLMSettings | None = None,
    net: NetSettings | None = None,
) -> Gateway:
    """The gateway for ``db``: ``settings`` and ``net`` (default: read from ``env``), keys
    from ``env``.  Model endpoints and alert webhooks go through the guarded client."""
    env = os.environ if env is None else env
    settings = settings or read_section(LLMSettings, env)
    net = net or read_section(NetSettings, env)
    policies = build_policies(settings, env)
    gateway = Gateway(
        db,
        policies,
        prices=build_prices(settings),
        providers=ProviderPool(env=dict(env), net=net),
        net=net,
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
