"""Budget alert webhooks: a JSON POST per crossed threshold, sent off the call's path through
the guarded client (a hook URL whose name now points at a private address is refused)."""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import urlsplit

import msgspec

from bpract.llm.budget import Alert
from bpract.net import NetSettings, Outbound, OutboundError

__all__ = ["AlertSender"]

log = logging.getLogger("bpract.llm.alerts")


def _shown(url: str) -> str:
    """The hook's scheme and host only: its path often carries a secret (Slack's does)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}"


class AlertSender:
    """Posts alerts in background tasks; :meth:`flush` waits for those in flight."""

    def __init__(self, net: NetSettings | None = None, *, outbound: Outbound | None = None) -> None:
        self._outbound = outbound or Outbound(net)
        self._tasks: set[asyncio.Task[None]] = set()

    def send(self, alerts: list[Alert]) -> None:
        for alert in alerts:
            if alert.url:
                task = asyncio.get_running_loop().create_task(self._post(alert))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def _post(self, alert: Alert) -> None:
        assert alert.url is not None
        body = msgspec.json.encode({"type": "llm.budget", **msgspec.structs.asdict(alert)})
        try:
            answer = await self._outbound.fetch(
                "POST",
                alert.url,
                content=body,
                headers={"content-type": "application/json"},
                max_bytes=64 * 1024,
            )
        except OutboundError as exc:
            log.warning("budget alert to %s not sent: %s", _shown(alert.url), type(exc).__name__)
            return
        if answer.status >= 300:
            log.warning("budget alert to %s answered %d", _shown(alert.url), answer.status)

    async def flush(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks)

    async def aclose(self) -> None:
        await self.flush()
        await self._outbound.aclose()
