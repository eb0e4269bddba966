"""Build providers from policy specs, once each, with keys from the environment or config."""

from __future__ import annotations

import os
from collections.abc import Mapping

import msgspec

from bpract.llm.errors import ProviderRejectedError
from bpract.llm.policy import ProviderSpec
from bpract.llm.providers.base import Provider
from bpract.llm.providers.offline import OfflineProvider

__all__ = ["ProviderPool", "build_provider"]

_DEFAULT_ENV = {"anthropic": "ANTHROPIC_API_KEY", "openai": "OPENAI_API_KEY"}
_DEFAULT_ENV |= {"openrouter": "OPENROUTER_API_KEY"}


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


def build_provider(name: str, spec: ProviderSpec, env: Mapping[str, str]) -> Provider:
    """A provider for ``spec``; raises :class:`ProviderRejectedError` when its key is missing."""
    if spec.kind == "offline":
        return OfflineProvider(name)
    # The SDKs take seconds to import: a server whose policy never names them skips it.
    from bpract.llm.providers.anthropic import AnthropicProvider
    from bpract.llm.providers.openai import OPENROUTER_URL, OpenAIProvider

    key = _key(name, spec, env)
    if spec.kind == "anthropic":
        return AnthropicProvider(name, api_key=key, base_url=spec.base_url)
    if spec.kind == "openrouter":
        return OpenAIProvider(
            name,
            api_key=key,
            base_url=spec.base_url or OPENROUTER_URL,
            headers=spec.headers,
            extra_body={"provider": spec.preferences} if spec.preferences else None,
            cache_markers=True,
        )
    return OpenAIProvider(name, api_key=key, base_url=spec.base_url, headers=spec.headers)


class ProviderPool:
    """Providers by name and spec, built on first use and kept (their connection pools too)."""

    def __init__(
        self, env: Mapping[str, str] | None = None, fixed: Mapping[str, Provider] | None = None
    ) -> None:
        self._env = os.environ if env is None else env
        self._fixed = dict(fixed or {})
        self._built: dict[tuple[str, bytes], Provider] = {}

    def get(self, name: str, spec: ProviderSpec) -> Provider:
        if name in self._fixed:
            return self._fixed[name]
        slot = (name, msgspec.json.encode(spec))  # specs hold dicts, so they are not hashable
        found = self._built.get(slot)
        if found is None:
            found = self._built[slot] = build_provider(name, spec, self._env)
        return found

    async def aclose(self) -> None:
        for provider in [*self._built.values(), *self._fixed.values()]:
            await provider.aclose()
        self._built.clear()
