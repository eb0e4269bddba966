"""Settings of the LLM gateway (keys are not among them: policies name the variable of each)."""

from __future__ import annotations

from dataclasses import dataclass

from bpract.settings import env

__all__ = ["LLMSettings"]


@dataclass(frozen=True, slots=True, kw_only=True)
class LLMSettings:
    policy_dir: str = env("BPRACT_LLM_POLICY_DIR", "")
    """Folder of ``default.toml`` + ``<site_id>.toml`` policies; empty: a default policy made
    from the keys present (``ANTHROPIC_API_KEY``, ``OPENAI_API_KEY``, ``OPENROUTER_API_KEY``)."""

    prices: str = env("BPRACT_LLM_PRICES", "")
    """A TOML price table laid over the bundled one."""

    compatible_url: str = env("BPRACT_LLM_BASE_URL", "")
    """An OpenAI-compatible server (with ``/v1``) added to every tier of the default policy."""

    compatible_model: str = env("BPRACT_LLM_MODEL", "llama3.1:8b")
    """The model asked of the OpenAI-compatible server."""

    compatible_key_env: str = "BPRACT_LLM_API_KEY"
    """The variable holding that server's key, if it needs one."""

    anthropic_base_url: str = env("BPRACT_ANTHROPIC_BASE_URL", "")
    """Base URL for ``anthropic`` providers that have none of their own (a proxy, a test server)."""

    openai_base_url: str = env("BPRACT_OPENAI_BASE_URL", "")
    """Base URL for ``openai`` providers that have none of their own."""

    openrouter_base_url: str = env("BPRACT_OPENROUTER_BASE_URL", "")
    """Base URL for ``openrouter`` providers that have none of their own."""

    def base_url_for(self, kind: str) -> str:
        return {
            "anthropic": self.anthropic_base_url,
            "openai": self.openai_base_url,
            "openrouter": self.openrouter_base_url,
        }.get(kind, "")
