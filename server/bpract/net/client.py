"""The guarded HTTP client every outbound call goes through.

:func:`guarded_http` is an ``httpx2.AsyncClient`` whose connections pass the
guard (the model SDKs take one as ``http_client``); :class:`Outbound` adds what
a fetch of a URL someone else chose needs: redirects followed by us within the
origin the call started on, a size cap read as the body streams, a total time
limit, and errors that say which of these refused the call.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urljoin

import httpcore2
import httpx2

from bpract.net.addresses import Allowlist, origin_of
from bpract.net.backend import GuardedBackend, SyncGuardedBackend
from bpract.net.errors import (
    OutboundFailedError,
    OutboundTimeoutError,
    RedirectRefusedError,
    ResponseTooLargeError,
)
from bpract.net.resolver import Resolver
from bpract.net.settings import NetSettings

__all__ = [
    "Fetched",
    "Outbound",
    "allowlist_for",
    "check_target",
    "guarded_http",
    "guarded_http_sync",
]

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
#: httpx2's default limits, as its own transport passes them to its pool: idle connections
#: are dropped after 5 s (a pool without an expiry would reuse ones the server has closed).
_LIMITS = httpx2.Limits(max_connections=100, max_keepalive_connections=20)


def allowlist_for(settings: NetSettings, *extra: str, allow_private: bool = False) -> Allowlist:
    """The settings' allow-list with ``extra`` entries; ``allow_private`` allows every address."""
    entries = [*settings.allow.split(","), *extra]
    return Allowlist.parse(entries, everything=allow_private)


async def check_target(
    url: str, settings: NetSettings | None = None, *, resolver: Resolver | None = None
) -> None:
    """Refuse now a URL that a later call would refuse (for one kept to be called later, a
    webhook): not http(s), a name that does not resolve, or an address not allowed.  The
    call itself checks again when it connects."""
    settings = settings or NetSettings()
    _, host, port = origin_of(url)
    backend = GuardedBackend(allowlist_for(settings), resolver=resolver)
    try:
        await backend.checked(host, port, settings.connect_timeout)
    except (httpcore2.ConnectError, httpcore2.ConnectTimeout) as exc:
        raise OutboundFailedError(str(exc)) from None


class _GuardedTransport(httpx2.AsyncHTTPTransport):
    def __init__(self, backend: GuardedBackend) -> None:
        # No proxy from the environment: a proxy would make the connection, not the guard.
        tls = httpx2.create_ssl_context(trust_env=False)
        super().__init__(verify=tls, trust_env=False)
        # httpx2's transport takes no network backend: its pool is replaced by one that has
        # ours (the same pool class, limits and TLS context it would have made).
        self._pool = httpcore2.AsyncConnectionPool(
            ssl_context=tls,
            network_backend=backend,
            max_connections=_LIMITS.max_connections,
            max_keepalive_connections=_LIMITS.max_keepalive_connections,
            keepalive_expiry=_LIMITS.keepalive_expiry,
        )


def guarded_http(
    settings: NetSettings | None = None,
    *,
    allowlist: Allowlist | None = None,
    resolver: Resolver | None = None,
    inner: httpcore2.AsyncNetworkBackend | None = None,
    **client_options: object,
) -> httpx2.AsyncClient:
    """An ``httpx2.AsyncClient`` that connects only where ``allowlist`` (default: the
    settings') permits, follows no redirects itself, and has the settings' timeouts."""
    settings = settings or NetSettings()
    backend = GuardedBackend(allowlist or allowlist_for(settings), resolver=resolver, inner=inner)
    return httpx2.AsyncClient(
        transport=_GuardedTransport(backend),
        timeout=_timeout(settings),
        follow_redirects=False,
        trust_env=False,
        **client_options,  # type: ignore[arg-type]
    )


class _SyncGuardedTransport(httpx2.HTTPTransport):
    def __init__(self, backend: SyncGuardedBackend) -> None:
        tls = httpx2.create_ssl_context(trust_env=False)
        super().__init__(verify=tls, trust_env=False)
        self._pool = httpcore2.ConnectionPool(
            ssl_context=tls,
            network_backend=backend,
            max_connections=_LIMITS.max_connections,
            max_keepalive_connections=_LIMITS.max_keepalive_connections,
            keepalive_expiry=_LIMITS.keepalive_expiry,
        )


def _timeout(settings: NetSettings) -> httpx2.Timeout:
    return httpx2.Timeout(
        settings.read_timeout, connect=settings.connect_timeout, pool=settings.connect_timeout
    )


def guarded_http_sync(
    settings: NetSettings | None = None,
    *,
    allowlist: Allowlist | None = None,
    inner: httpcore2.NetworkBackend | None = None,
) -> httpx2.Client:
    """:func:`guarded_http` for blocking callers (the embeddings SDK client)."""
    settings = settings or NetSettings()
    backend = SyncGuardedBackend(allowlist or allowlist_for(settings), inner=inner)
    return httpx2.Client(
        transport=_SyncGuardedTransport(backend),
        timeout=_timeout(settings),
        follow_redirects=False,
        trust_env=False,
    )


@dataclass(frozen=True, slots=True)
class Fetched:
    """A response read whole: where it ended up, its status, headers and body."""

    url: str
    status: int
    headers: httpx2.Headers
    body: bytes


class Outbound:
    """Fetches URLs through the guard; one per job (an ingestion run, the alert sender)."""

    def __init__(
        self,
        settings: NetSettings | None = None,
        *,
        allow: Iterable[str] = (),
        allow_private: bool = False,
        resolver: Resolver | None = None,
        inner: httpcore2.AsyncNetworkBackend | None = None,
    ) -> None:
        self.settings = settings or NetSettings()
        self.allowlist = allowlist_for(self.settings, *allow, allow_private=allow_private)
        self.http = guarded_http(
            self.settings, allowlist=self.allowlist, resolver=resolver, inner=inner
        )

    async def fetch(
        self,
        method: str,
        url: str,
        *,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        max_bytes: int | None = None,
    ) -> Fetched:
        """``method url``, redirects followed within its origin, the body read up to the cap."""
        limit = self.settings.total_timeout
        try:
            async with asyncio.timeout(limit):
                return await self._follow(method, url, content, dict(headers or {}), max_bytes)
        except TimeoutError:
            raise OutboundTimeoutError(f"{url}: no complete answer in {limit:g} s") from None
        except httpx2.TimeoutException as exc:
            raise OutboundTimeoutError(f"{url}: timed out ({type(exc).__name__})") from None
        except httpx2.HTTPError as exc:
            raise OutboundFailedError(f"{url}: {exc or type(exc).__name__}") from None

    async def _follow(
        self,
        method: str,
        url: str,
        content: bytes | None,
        headers: dict[str, str],
        max_bytes: int | None,
    ) -> Fetched:
        home = origin_of(url)
        for _ in range(self.settings.max_redirects + 1):
            async with self.http.stream(method, url, content=content, headers=headers) as resp:
                location = resp.headers.get("location")
                if resp.status_code not in _REDIRECTS or not location:
                    body = await _read(resp, url, max_bytes or self.settings.max_bytes)
                    return Fetched(url, resp.status_code, resp.headers, body)
            target = urljoin(url, location)
            if origin_of(target) != home:
                raise RedirectRefusedError(
                    f"{url} redirects to {target}, another origin; not followed"
                )
            if resp.status_code == 303 or (resp.status_code in (301, 302) and method == "POST"):
                method, content = "GET", None
            url = target
        raise RedirectRefusedError(f"{url}: more than {self.settings.max_redirects} redirects")

    async def aclose(self) -> None:
        await self.http.aclose()


async def _read(resp: httpx2.Response, url: str, cap: int) -> bytes:
    declared = resp.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        raise ResponseTooLargeError(f"{url}: {declared} bytes, more than the cap of {cap}")
    body = bytearray()
    async for part in resp.aiter_bytes():
        body += part
        if len(body) > cap:
            raise ResponseTooLargeError(f"{url}: larger than the cap of {cap} bytes")
    return bytes(body)
