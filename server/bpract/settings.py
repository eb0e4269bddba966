"""Server settings, read once from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

__all__ = ["REPO_ROOT", "Settings", "get_settings"]

#: The source checkout this package runs from (the widget build lives beside it).
REPO_ROOT = Path(__file__).resolve().parents[2]


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return default if raw in (None, "") else float(raw)


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return default if raw in (None, "") else int(raw)


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """Everything the server reads from its environment (``BPRACT_*`` variables)."""

    db: Path = field(default_factory=lambda: Path(_env("BPRACT_DB", "./bpract.db")))
    """SQLite file (``BPRACT_DB``); created and migrated on start-up."""

    host: str = field(default_factory=lambda: _env("BPRACT_HOST", "127.0.0.1"))
    """Interface ``bpract serve`` binds (``BPRACT_HOST``)."""

    port: int = field(default_factory=lambda: _env_int("BPRACT_PORT", 8000))
    """TCP port ``bpract serve`` binds (``BPRACT_PORT``)."""

    public_url: str = field(default_factory=lambda: _env("BPRACT_PUBLIC_URL", ""))
    """Base URL browsers reach this server at (``BPRACT_PUBLIC_URL``); empty: from the request."""

    widget_dist: Path = field(
        default_factory=lambda: Path(_env("BPRACT_WIDGET_DIST", str(REPO_ROOT / "widget" / "dist")))
    )
    """Built widget folder served at ``/widget.js`` and ``/w/`` (``BPRACT_WIDGET_DIST``)."""

    time_scale: float = field(default_factory=lambda: _env_float("BPRACT_TIME_SCALE", 1.0))
    """Clock speed-up sent to engines in ``welcome.config`` (``BPRACT_TIME_SCALE``; for tests)."""

    max_frame_bytes: int = field(default_factory=lambda: _env_int("BPRACT_MAX_FRAME", 16 * 1024))
    """Largest WebSocket frame accepted (``BPRACT_MAX_FRAME``); larger ones close with 1009."""

    conn_rate: float = field(default_factory=lambda: _env_float("BPRACT_CONN_RATE", 50.0))
    """Frames per second one connection may send on average (``BPRACT_CONN_RATE``)."""

    conn_burst: int = field(default_factory=lambda: _env_int("BPRACT_CONN_BURST", 200))
    """Frames one connection may send in a burst (``BPRACT_CONN_BURST``)."""

    site_rate: float = field(default_factory=lambda: _env_float("BPRACT_SITE_RATE", 20000.0))
    """Frames per second all connections of one site may send (``BPRACT_SITE_RATE``)."""

    site_burst: int = field(default_factory=lambda: _env_int("BPRACT_SITE_BURST", 60000))
    """Frames all connections of one site may send in a burst (``BPRACT_SITE_BURST``)."""

    flood_refusals: int = field(default_factory=lambda: _env_int("BPRACT_FLOOD_REFUSALS", 100))
    """Rate-limited frames in a row after which a connection is closed with 4429."""

    hello_timeout: float = field(default_factory=lambda: _env_float("BPRACT_HELLO_TIMEOUT", 10.0))
    """Seconds a new connection has to send ``hello`` (``BPRACT_HELLO_TIMEOUT``)."""

    engine_tick: float = field(default_factory=lambda: _env_float("BPRACT_ENGINE_TICK", 1.0))
    """Seconds between ticks of a server-side (fallback) engine."""

    decider_timeout: float = field(
        default_factory=lambda: _env_float("BPRACT_DECIDER_TIMEOUT", 8.0)
    )
    """Seconds a trigger decider has before the rule's ``on_decider_failure`` applies."""


@cache
def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    return Settings()
