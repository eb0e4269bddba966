"""Settings of the visitor socket: sizes, rates, caps, timeouts, client addresses."""

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
    """Frames per second one visitor id from one address may send on average (reconnects
    included)."""

    conn_burst: int = env("BPRACT_CONN_BURST", 200)
    """Frames one visitor id from one address may send in a burst."""

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

    idle_timeout: float = env("BPRACT_IDLE_TIMEOUT", 120.0)
    """Seconds a connection may stay silent after ``hello``; then it is closed with 4410.
    The engine and the fallback ping every 25 s (a hidden tab's timers may run late)."""

    address_rate: float = env("BPRACT_ADDRESS_RATE", 200.0)
    """Frames per second all connections from one client address may send."""

    address_burst: int = env("BPRACT_ADDRESS_BURST", 1000)
    """Frames all connections from one client address may send in a burst."""

    max_connections_per_address: int = env("BPRACT_MAX_CONN_PER_ADDRESS", 100)
    """Open visitor sockets one client address may hold (in this process); more close 4430."""

    max_connections_per_site: int = env("BPRACT_MAX_CONN_PER_SITE", 20000)
    """Open visitor sockets one site may hold (in this process); more close 4430."""

    trusted_proxies: str = env("BPRACT_TRUSTED_PROXIES", "")
    """Comma-separated addresses or networks of reverse proxies whose ``X-Forwarded-For``
    names the client; empty: the socket's peer is the client, the header is ignored."""

    visitor_key_grace: float = env("BPRACT_VISITOR_KEY_GRACE", 60.0)
    """Seconds after a visitor id's first contact during which a ``hello`` without its key
    still gets it (tabs opened together); later a keyless ``hello`` gets a fresh visitor."""
