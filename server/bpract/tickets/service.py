"""TicketService: a site's ticket settings, the visitor's ticket, and its signed delivery.

A ticket is stored with its outbox row in one transaction before the visitor's
frame is acknowledged.  The delivery job claims due rows (a lapsing claim), POSTs
the JSON payload to the site's webhook through the guarded client, signed
(:mod:`bpract.tickets.signing`), and records the outcome: 2xx delivered; any other
status or a network error retried later with exponential backoff, ``failed``
after the last attempt.  Nothing is in process memory but the admission buckets:
a process that stops between submit and delivery loses nothing, the next one
resumes.  Logs name the ticket id, the webhook's host and a status, never the
address, the question, the URL's path or the secret.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import msgspec

from bpract.clock import Clock
from bpract.clock import now_ms as wall_ms
from bpract.net import NetSettings, Outbound, OutboundError, TargetRefusedError, check_target
from bpract.net import origin_of as net_origin
from bpract.shape import suggest
from bpract.store import Database
from bpract.tickets import storage
from bpract.tickets.errors import TicketSettingsError
from bpract.tickets.hours import is_open, parse_hours
from bpract.tickets.settings import TicketSettings
from bpract.tickets.signing import new_secret, sign
from bpract.visitors.limits import MemoryLimiter, take_all
from bpract_client.rules import Schedule

__all__ = ["SiteTickets", "TicketService", "open_now"]

log = logging.getLogger("bpract.tickets")

_KEYS = ("webhook_url", "hours", "rotate_secret")
_NO_WEBHOOK_RETRY_MS = 60_000
_REFUSALS = (
    "too many tickets from this address: try again later",
    "this site receives too many tickets: wait a minute",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class SiteTickets:
    """A site's ticket settings as an admin sees them: never the secret itself."""

    webhook_url: str
    secret_set: bool
    hours: Schedule | None


def _hours_json(hours: Schedule | None) -> dict[str, Any] | None:
    return None if hours is None else dataclasses.asdict(hours)


def _view(stored: storage.StoredSettings) -> SiteTickets:
    hours = None if stored.hours is None else Schedule(**stored.hours)
    return SiteTickets(webhook_url=stored.webhook_url, secret_set=bool(stored.secret), hours=hours)


async def open_now(db: Database, site_id: int, now_ms: int) -> bool:
    """Whether ``now_ms`` is within the site's business hours (always, when none are set)."""
    stored = await db.run(lambda conn: storage.load_settings(conn, site_id))
    return is_open(None if stored.hours is None else Schedule(**stored.hours), now_ms)


async def check_webhook(url: str, net: NetSettings) -> None:
    """Refuse a webhook URL a delivery would refuse: not http(s), no host, a name that does
    not resolve, or an address the guard does not allow."""
    field = "webhook_url"
    try:
        net_origin(url)
    except OutboundError:
        raise TicketSettingsError(field, f"{url!r} is not an http(s) URL with a host") from None
    try:
        await check_target(url, net)
    except TargetRefusedError as exc:
        raise TicketSettingsError(field, exc.detail) from None
    except OutboundError as exc:
        raise TicketSettingsError(
            field, f"the webhook's host cannot be reached ({exc.detail})"
        ) from None


def _wait_ms(attempts: int, settings: TicketSettings) -> int:
    """The wait after the ``attempts``-th failure: ``backoff``·6^(n-1), capped."""
    wait = settings.backoff * 6.0 ** (attempts - 1)
    return int(min(wait, settings.max_backoff) * 1000)


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds")


def payload(claimed: storage.Claimed) -> bytes:
    """The JSON body of a delivery."""
    body: dict[str, Any] = {
        "id": claimed.id, "site": claimed.site_key, "created_at": _iso(claimed.created_ms),
        "email": claimed.email, "question": claimed.question, "visitor": claimed.visitor,
    }  # fmt: skip
    if claimed.lang:
        body["lang"] = claimed.lang
    return msgspec.json.encode(body)


class TicketService:
    """Ticket settings, admission and storage of tickets, and their delivery."""

    def __init__(
        self,
        db: Database,
        settings: TicketSettings | None = None,
        *,
        net: NetSettings | None = None,
        now_ms: Clock = wall_ms,
    ) -> None:
        self.db = db
        self.settings = settings or TicketSettings()
        self.net = net or NetSettings()
        self._now_ms = now_ms
        s = self.settings
        self._per_address = MemoryLimiter(s.per_address_per_hour / 3600.0, s.per_address_per_hour)
        self._per_site = MemoryLimiter(s.per_site_per_minute / 60.0, s.per_site_per_minute)
        # Webhooks are called as they were checked: the settings' allow-list, no redirect.
        self._outbound = Outbound(dataclasses.replace(self.net, max_redirects=0))

    # -- settings -------------------------------------------------------------------------------

    async def load(self, site_id: int) -> SiteTickets:
        return _view(await self.db.run(lambda conn: storage.load_settings(conn, site_id)))

    async def change(self, site_id: int, changes: Any) -> tuple[SiteTickets, str | None]:
        """Apply ``changes`` (``webhook_url``, ``hours``, ``rotate_secret``); the settings, and
        the new secret when one was made (shown this once)."""
        if not isinstance(changes, Mapping):
            raise TicketSettingsError("$", "the body must be a JSON object of settings")
        for key in changes:
            if key not in _KEYS:
                raise TicketSettingsError(
                    str(key), f"unknown setting {key!r}{suggest(str(key), _KEYS)}"
                )
        current = await self.db.run(lambda conn: storage.load_settings(conn, site_id))
        url = current.webhook_url
        if "webhook_url" in changes:
            url = changes["webhook_url"]
            if url is None:
                url = ""
            if not isinstance(url, str):
                raise TicketSettingsError("webhook_url", 'webhook_url is a URL (or "": none)')
            if url:
                await check_webhook(url, self.net)
        hours = current.hours
        if "hours" in changes:
            hours = _hours_json(parse_hours(changes["hours"]))
        rotate = changes.get("rotate_secret", False)
        if not isinstance(rotate, bool):
            raise TicketSettingsError("rotate_secret", "rotate_secret must be true or false")
        made = new_secret() if rotate or (url and not current.secret) else None
        stored = storage.StoredSettings(webhook_url=url, secret=made or current.secret, hours=hours)
        at = self._now_ms()
        await self.db.transaction(
            lambda conn: storage.save_settings(conn, site_id, stored, at_ms=at)
        )
        return _view(stored), made

    # -- tickets --------------------------------------------------------------------------------

    async def refusal(self, *, site_id: int, visitor: str, client: str) -> str | None:
        """Why a ticket may not be taken now (None: it may); a refused one spends nothing."""
        since = self._now_ms() - 3_600_000
        left = await self.db.run(
            lambda conn: storage.recent_by_visitor(conn, site_id, visitor, since)
        )
        if left >= self.settings.per_visitor_per_hour:
            return "you already left the most tickets allowed in an hour: try again later"
        refused = take_all((self._per_address, client), (self._per_site, str(site_id)))
        return None if refused is None else _REFUSALS[refused]

    async def submit(
        self, *, site_id: int, visitor: str, stream: str, seq: int, email: str, text: str,
        lang: str | None,
    ) -> str:  # fmt: skip
        """Store the ticket and its delivery (once per frame); its id."""
        ticket = storage.NewTicket(
            site_id=site_id, visitor=visitor, stream=stream, seq=seq, email=email,
            question=text, lang=lang or "", created_ms=self._now_ms(),
        )  # fmt: skip
        return await self.db.transaction(lambda conn: storage.insert_ticket(conn, ticket))

    async def list(self, site_ids: list[int], limit: int = 100) -> list[storage.TicketRow]:
        return await self.db.run(lambda conn: storage.tickets_of(conn, site_ids, limit))

    # -- delivery -------------------------------------------------------------------------------

    async def deliver_due(self, limit: int = 20) -> int:
        """Claim the deliveries due now and make one attempt at each; how many were tried."""
        now, claim = self._now_ms(), int(self.settings.claim * 1000)
        claimed = await self.db.transaction(
            lambda conn: storage.claim_due(conn, now, claim, limit), lock=True
        )
        await asyncio.gather(*(self._deliver(c) for c in claimed))
        return len(claimed)

    async def _deliver(self, claimed: storage.Claimed) -> None:
        if not claimed.webhook_url or not claimed.secret:
            later = self._now_ms() + _NO_WEBHOOK_RETRY_MS
            await self.db.transaction(
                lambda conn: storage.postpone(
                    conn, claimed.id, due_ms=later, error="no webhook set"
                )
            )
            return
        error = await self._post(claimed)
        at = self._now_ms()
        if error is None:
            await self.db.transaction(lambda conn: storage.delivered(conn, claimed.id, at))
            return
        last = claimed.attempts >= self.settings.max_attempts
        due: int | None = None if last else at + _wait_ms(claimed.attempts, self.settings)
        log.info(
            "ticket %s: delivery attempt %d %s (%s)", claimed.id, claimed.attempts,
            "failed for good" if last else "failed, retried later", error,
        )  # fmt: skip
        await self.db.transaction(
            lambda conn: storage.retry_later(conn, claimed.id, due_ms=due, error=error)
        )

    async def _post(self, claimed: storage.Claimed) -> str | None:
        """One POST of the ticket; None when the webhook took it, else why not (no secret)."""
        body = payload(claimed)
        headers = {
            "Content-Type": "application/json",
            "X-BPract-Signature": sign(claimed.secret, self._now_ms() // 1000, body),
            "X-BPract-Delivery": claimed.id,
        }
        try:
            host = net_origin(claimed.webhook_url)[1]
            fetched = await self._outbound.fetch(
                "POST", claimed.webhook_url, content=body, headers=headers, max_bytes=64 * 1024
            )
        except TargetRefusedError:
            return "target refused"
        except OutboundError as exc:
            return type(exc).__name__
        if 200 <= fetched.status < 300:
            log.info("ticket %s delivered to %s (status %d)", claimed.id, host, fetched.status)
            return None
        return f"status {fetched.status}"

    async def deliver_forever(self, every: float) -> None:
        """Deliver what is due, forever (what a stopped process left pending first)."""
        while True:
            try:
                while await self.deliver_due():
                    pass
            except Exception:
                log.exception("tickets: a delivery pass failed; trying again")
            await asyncio.sleep(every)

    async def aclose(self) -> None:
        await self._outbound.aclose()
