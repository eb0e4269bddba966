"""Per-site routing policies, read from TOML or YAML files."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import msgspec
import yaml

from bpract.llm.errors import PolicyInvalidError

__all__ = [
    "TASKS",
    "TIERS",
    "ComplianceRule",
    "Policies",
    "Policy",
    "ProviderSpec",
    "RetrySpec",
    "Task",
    "Tier",
    "load_policy",
]

Task = Literal["trigger_decision", "chat_answer", "classification", "judge", "summary"]
Tier = Literal["fast", "capable", "reasoning"]
TASKS: tuple[Task, ...] = ("trigger_decision", "chat_answer", "classification", "judge", "summary")
#: Tiers from cheapest to most capable.
TIERS: tuple[Tier, ...] = ("fast", "capable", "reasoning")


class ProviderSpec(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How to reach one provider, and what it promises about data."""

    kind: Literal["anthropic", "openai", "openrouter", "compatible", "offline"]
    base_url: str | None = None
    api_key_env: str | None = None
    """Environment variable holding the key (the usual way)."""
    api_key: str | None = None
    """The key itself, for config files kept out of version control; never logged."""
    zero_data_retention: bool = False
    region: str = "us"
    headers: dict[str, str] = msgspec.field(default_factory=dict)
    preferences: dict[str, Any] = msgspec.field(default_factory=dict)
    """OpenRouter provider preferences, sent as ``provider`` (``zdr``, ``data_collection``…)."""

    def __repr__(self) -> str:
        key = "set" if (self.api_key or self.api_key_env) else "none"
        return f"ProviderSpec(kind={self.kind!r}, region={self.region!r}, key={key})"


class ComplianceRule(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What a data class allows; ``data_class="*"`` applies to every call."""

    data_class: str
    providers: list[str] | None = None
    zero_data_retention: bool = False
    regions: list[str] | None = None

    def allows(self, name: str, spec: ProviderSpec) -> bool:
        if spec.kind == "offline":
            return True  # nothing leaves the machine
        if self.providers is not None and name not in self.providers:
            return False
        if self.zero_data_retention and not spec.zero_data_retention:
            return False
        return self.regions is None or spec.region in self.regions


class RetrySpec(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Retries per provider before the next one in the chain is tried."""

    attempts: int = 2
    base_delay_s: float = 0.2
    max_delay_s: float = 4.0
    max_retry_after_s: float = 10.0
    """A longer Retry-After moves on to the next provider instead of waiting."""
    timeout_s: float = 60.0


def _default_tasks() -> dict[str, str]:
    return {
        "trigger_decision": "fast",
        "chat_answer": "auto",
        "classification": "fast",
        "judge": "capable",
        "summary": "fast",
    }


class Policy(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Which models serve which task for one site, within which rules."""

    providers: dict[str, ProviderSpec] = msgspec.field(default_factory=dict)
    tiers: dict[Tier, list[str]] = msgspec.field(default_factory=dict)
    """Each tier's models as ``"provider:model"``, in fallback order."""
    tasks: dict[str, str] = msgspec.field(default_factory=_default_tasks)
    """Task kind → tier, or ``"auto"`` to estimate it from the query (chat)."""
    compliance: list[ComplianceRule] = msgspec.field(default_factory=list)
    retry: RetrySpec = msgspec.field(default_factory=RetrySpec)
    step_down_at: float = 0.8
    """Fraction of a hard budget (or a passed soft limit) from which calls step down a tier."""

    def rules_for(self, data_class: str) -> list[ComplianceRule]:
        return [r for r in self.compliance if r.data_class in (data_class, "*")]

    @property
    def has_model(self) -> bool:
        """Whether a tier names a real model (a provider other than ``offline``)."""
        return any(
            self.providers[name].kind != "offline"
            for refs in self.tiers.values()
            for name in (ref.partition(":")[0] for ref in refs)
            if name in self.providers
        )


def load_policy(source: Path | str | Mapping[str, Any]) -> Policy:
    """A policy from a ``.toml``/``.yaml`` file, TOML text, or a parsed mapping."""
    try:
        if isinstance(source, Path):
            text = source.read_text(encoding="utf-8")
            raw = (
                yaml.safe_load(text) if source.suffix in (".yaml", ".yml") else tomllib.loads(text)
            )
        elif isinstance(source, str):
            raw = tomllib.loads(source)
        else:
            raw = dict(source)
        policy = msgspec.convert(raw or {}, Policy)
    except (OSError, tomllib.TOMLDecodeError, yaml.YAMLError, msgspec.ValidationError) as exc:
        raise PolicyInvalidError(f"routing policy {_name(source)}: {exc}") from None
    _check(policy)
    return policy


def _name(source: object) -> str:
    return str(source) if isinstance(source, Path) else "(inline)"


def _check(policy: Policy) -> None:
    for tier, refs in policy.tiers.items():
        for ref in refs:
            provider, _, model = ref.partition(":")
            if not model or provider not in policy.providers:
                raise PolicyInvalidError(f"tier {tier}: {ref!r} is not a configured provider:model")
    for task, choice in policy.tasks.items():
        if task not in TASKS or choice not in (*TIERS, "auto"):
            raise PolicyInvalidError(f"tasks: {task} = {choice!r} is not a known task and tier")


class Policies:
    """The default policy and per-site overrides (``<site_id>.toml``/``.yaml`` in a folder)."""

    def __init__(self, default: Policy, per_site: Mapping[int, Policy] | None = None) -> None:
        self.default = default
        self.per_site = dict(per_site or {})

    @classmethod
    def from_dir(cls, folder: Path) -> Policies:
        """``default.toml`` (or ``.yaml``) plus one file per site id."""
        default, per_site = Policy(), {}
        for path in sorted(folder.iterdir()):
            if path.suffix not in (".toml", ".yaml", ".yml"):
                continue
            if path.stem == "default":
                default = load_policy(path)
            elif path.stem.isdigit():
                per_site[int(path.stem)] = load_policy(path)
        return cls(default, per_site)

    def for_site(self, site_id: int) -> Policy:
        return self.per_site.get(site_id, self.default)
