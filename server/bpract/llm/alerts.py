"""Budget alert webhooks: a JSON POST per crossed threshold, sent off the call's path."""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import urlsplit

import httpx
import msgspec

from bpract.llm.budget import Alert

__all__ = ["AlertSender"]

log = logging.getLogger("bpract.llm.alerts")


class AlertSender:
    """Posts alerts in background tasks; :meth:`flush` waits for those in flight."""

    def __init__(self, *, timeout_s: float = 5.0) -> None:
        self._client = httpx.AsyncClient(timeout=timeout_s)
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
            answer = await self._client.post(
                alert.url, content=body, headers={"content-type": "application/json"}
            )
            answer.raise_for_status()
        except httpx.HTTPError as exc:
            # the host only: a webhook's path is often its secret
            host = urlsplit(alert.url).netloc.rpartition("@")[2]
            log.warning("budget alert to %s failed: %s", host, type(exc).__name__)

    async def flush(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks)

    async def aclose(self) -> None:
        await self.flush()
        await self._client.aclose()
