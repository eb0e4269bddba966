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

    fire_deadline: float = env("BPRACT_FIRE_DEADLINE", 60.0)
    """Seconds after its arrival within which a fire may still become an outreach. A fire
    left undecided longer (the server stopped mid-decision and the visitor did not come
    back in time) is closed as ``expired``."""

    sweep_interval: float = 30.0
    """Seconds between closings of fires left undecided past ``fire_deadline`` (also run at
    start-up)."""
