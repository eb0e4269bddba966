"""Origin checks: an exact ``scheme://host[:port]`` match against a site's allowed origins."""

from __future__ import annotations

from urllib.parse import urlsplit

__all__ = ["normalize_origin", "origin_allowed"]

_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalize_origin(value: str) -> str:
    """``value`` as ``scheme://host[:port]`` (lower case, default port dropped).

    Raises ``ValueError`` for anything that is not an http(s) origin.
    """
    parts = urlsplit(value.strip())
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise ValueError(f"not an http(s) origin: {value!r}")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise ValueError(f"an origin has no path, query or credentials: {value!r}")
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    if port is None or port == _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def origin_allowed(origin: str | None, allowed: list[str]) -> bool:
    """Whether the request's ``Origin`` header is one of ``allowed`` (already normalised)."""
    if not origin:
        return False
    try:
        return normalize_origin(origin) in allowed
    except ValueError:
        return False
