"""Settings of the actions feature."""

from __future__ import annotations

from dataclasses import dataclass

from bpract.settings import env

__all__ = ["ActionSettings"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionSettings:
    max_actions: int = env("BPRACT_ACTIONS_MAX", 50)
    """Most actions one site may declare (a longer file is refused when loaded)."""

    audit_page: int = env("BPRACT_ACTIONS_AUDIT_PAGE", 500)
    """Most audit entries one listing returns (the latest ones)."""

    confirm_ttl: float = env("BPRACT_ACTIONS_CONFIRM_TTL", 600.0)
    """Seconds a confirmation card stays valid; after it, it confirms nothing."""

    sweep_interval: float = env("BPRACT_ACTIONS_SWEEP", 15.0)
    """Seconds between two passes that expire unanswered cards (and tell the visitor)."""
