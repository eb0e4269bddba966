"""Settings of the visitor socket: sizes, rates, timeouts."""

from __future__ import annotations

from dataclasses import dataclass

from bpract.settings import env

__all__ = ["VisitorSettings"]


@dataclass(frozen=True, slots=True, kw_only=True)
class VisitorSettings:
    time_scale: float = env("BPRACT_TIME_SCALE", 1.0)
    """Clock speed-up sent to engines in ``welcome.config`` (for tests and demos)."""

    max_frame_bytes: int = env("BPRACT_MAX_FRAME", 16 * 1024)
    """Largest WebSocket frame accepted; larger ones close with 1009."""

    conn_rate: float = env("BPRACT_CONN_RATE", 50.0)
    """Frames per second one connection may send on average."""

    conn_burst: int = env("BPRACT_CONN_BURST", 200)
    """Frames one connection may send in a burst."""

    site_rate: float = env("BPRACT_SITE_RATE", 20000.0)
    """Frames per second all connections of one site may send."""

    site_burst: int = env("BPRACT_SITE_BURST", 60000)
    """Frames all connections of one site may send in a burst."""

    flood_refusals: int = env("BPRACT_FLOOD_REFUSALS", 100)
    """Rate-limited frames in a row after which a connection is closed with 4429."""

    hello_timeout: float = env("BPRACT_HELLO_TIMEOUT", 10.0)
    """Seconds a new connection has to send ``hello``."""

    engine_tick: float = env("BPRACT_ENGINE_TICK", 1.0)
    """Seconds between ticks of a server-side (fallback) engine."""
