"""Build providers from policy specs, once each, with keys from the environment or config."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

import msgspec

from bpract.llm.errors import ProviderRejectedError
from bpract.llm.policy import ProviderSpec
from bpract.llm.providers.base import Provider
from bpract.llm.providers.offline import OfflineProvider
from bpract.net.settings import NetSettings
from bpract.settings import read_section

if TYPE_CHECKING:
    import httpx2

__all__ = ["ProviderPool", "build_provider", "http_client_for"]

_DEFAULT_ENV = {"anthropic": "ANTHROPIC_API_KEY", "openai": "OPENAI_API_KEY"}
_DEFAULT_ENV |= {"openrouter": "OPENROUTER_API_KEY"}
#: Where an SDK looks for its base URL when none is given.
_SDK_BASE_ENV = {"anthropic": "ANTHROPIC_BASE_URL", "openai": "OPENAI_BASE_URL"}


def _key(name: str, spec: ProviderSpec, env: Mapping[str, str]) -> str:
    if spec.api_key:
        return spec.api_key
    var = spec.api_key_env or _DEFAULT_ENV.get(spec.kind)
    key = env.get(var, "") if var else ""
    if key:
        return key
    if spec.kind == "compatible":
        return "none"  # local servers (Ollama, vLLM, llama.cpp) usually take no key
    raise ProviderRejectedError(name, f"no API key: set {var or 'api_key'}")


def http_client_for(
    spec: ProviderSpec, env: Mapping[str, str], net: NetSettings
) -> httpx2.AsyncClient:
    """The guarded client of one provider.  Its endpoint was configured by the operator
    (policy file or environment), so that exact origin is allowed even on a private or
    loopback address; any other target only if public or allow-listed."""
    from bpract.net import allowlist_for, guarded_http

    endpoint = spec.base_url or env.get(_SDK_BASE_ENV.get(spec.kind, ""), "")
    return guarded_http(net, allowlist=allowlist_for(net, *([endpoint] if endpoint else [])))


def build_provider(
    name: str, spec: ProviderSpec, env: Mapping[str, str], net: NetSettings | None = None
) -> Provider:
    """A provider for ``spec``; raises :class:`ProviderRejectedError` when its key is missing."""
    if spec.kind == "offline":
        return OfflineProvider(name)
    # The SDKs take seconds to import: a server whose policy never names them skips it.
    from bpract.llm.providers.anthropic import AnthropicProvider
    from bpract.llm.providers.openai import OPENROUTER_URL, OpenAIProvider

    key = _key(name, spec, env)
    http = http_client_for(spec, env, net or NetSettings())
    if spec.kind == "anthropic":
        return AnthropicProvider(name, api_key=key, base_url=spec.base_url, http_client=http)
    if spec.kind == "openrouter":
        return OpenAIProvider(
            name,
            api_key=key,
            base_url=spec.base_url or OPENROUTER_URL,
            headers=spec.headers,
            extra_body={"provider": spec.preferences} if spec.preferences else None,
            cache_markers=True,
            http_client=http,
        )
    return OpenAIProvider(
        name, api_key=key, base_url=spec.base_url, headers=spec.headers, http_client=http
    )


class ProviderPool:
    """Providers by name and spec, built on first use and kept (their connection pools too)."""

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        fixed: Mapping[str, Provider] | None = None,
        net: NetSettings | None = None,
    ) -> None:
        self._env = os.environ if env is None else env
        self._net = net or read_section(NetSettings, self._env)
        self._fixed = dict(fixed or {})
        self._built: dict[tuple[str, bytes], Provider] = {}

    def get(self, name: str, spec: ProviderSpec) -> Provider:
        if name in self._fixed:
            return self._fixed[name]
        slot = (name, msgspec.json.encode(spec))  # specs hold dicts, so they are not hashable
        found = self._built.get(slot)
        if found is None:
            found = self._built[slot] = build_provider(name, spec, self._env, self._net)
        return found

    async def aclose(self) -> None:
        for provider in [*self._built.values(), *self._fixed.values()]:
            await provider.aclose()
        self._built.clear()
