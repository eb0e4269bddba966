"""Settings of the trigger feature."""

from __future__ import annotations

from dataclasses import dataclass

from bpract.settings import env

__all__ = ["TriggerSettings"]


@dataclass(frozen=True, slots=True, kw_only=True)
class TriggerSettings:
    decider_timeout: float = env("BPRACT_DECIDER_TIMEOUT", 8.0)
    """Seconds a trigger decider has before the rule's ``on_decider_failure`` applies."""

    outside_changes_interval: float = 2.0
    """Seconds between looks for rulesets saved by another process (``bpract rules load``)."""
