"""The Litestar application: ``create_app()`` wires storage, channels, features and routes."""

from __future__ import annotations

import gc
from collections.abc import AsyncGenerator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import msgspec
from litestar import Litestar, Request, get
from litestar.channels import ChannelsPlugin
from litestar.channels.backends.memory import MemoryChannelsBackend
from litestar.openapi.config import OpenAPIConfig

from bpract import assets
from bpract.chat import ChatConfig, ChatService
from bpract.features import MIGRATIONS
from bpract.llm.api import route_handlers as llm_routes
from bpract.quality.api import route_handlers as quality_routes
from bpract.quality.lifespan import quality_lifespan
from bpract.settings import Settings, get_settings
from bpract.sites.api import SiteController
from bpract.store import Database, migrate
from bpract.triggers.api import route_handlers as trigger_routes
from bpract.triggers.runtime import DeciderRuntime
from bpract.triggers.service import TriggerService
from bpract.visitors.channels import VisitorChannels
from bpract.visitors.hub import VisitorHub
from bpract.visitors.socket import visitor_socket

__all__ = ["VERSION", "create_app"]

try:
    VERSION = version("bpract")
except PackageNotFoundError:  # running from a checkout that was never installed
    VERSION = "0.0.0"


class Health(msgspec.Struct, kw_only=True):
    status: str
    version: str
    db: bool


@get("/health")
async def health(request: Request[Any, Any, Any]) -> Health:
    """Liveness: the database answers."""
    db: Database = request.app.state.db
    ok = await db.ping()
    return Health(status="ok" if ok else "degraded", version=VERSION, db=ok)


def _lifespan(
    settings: Settings, channels: ChannelsPlugin
) -> Callable[[Litestar], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncGenerator[None, None]:
        db = Database(settings.db)
        db.run_sync(lambda conn: migrate(conn, MIGRATIONS))
        llm = DeciderRuntime(db)
        triggers = TriggerService(
            db, channels, llm.decider, decider_timeout_s=settings.decider_timeout
        )
        chat = ChatService(
            db, None, llm.gateway, channels, triggers=triggers, config=ChatConfig.from_env()
        )
        hub = VisitorHub.create(settings, db, triggers, channels, chat)
        app.state.settings, app.state.db = settings, db
        app.state.triggers, app.state.visitors, app.state.llm = triggers, hub, llm.gateway
        app.state.chat = chat
        hub.writer.start()
        llm.start(triggers)
        # Start-up objects live as long as the process: keep them out of every GC pass,
        # which otherwise rescans them as connections allocate.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            await chat.aclose()
            await llm.aclose()
            await hub.writer.stop()
            db.close()

    return lifespan


def create_app(settings: Settings | None = None) -> Litestar:
    """The application, configured from ``settings`` (default: the environment)."""
    settings = settings or get_settings()
    channels = VisitorChannels(backend=MemoryChannelsBackend(), arbitrary_channels_allowed=True)
    return Litestar(
        route_handlers=[
            health,
            visitor_socket,
            SiteController,
            *assets.route_handlers,
            *trigger_routes,
            *llm_routes,
            *quality_routes,
        ],
        plugins=[channels],
        lifespan=[_lifespan(settings, channels), quality_lifespan],
        openapi_config=OpenAPIConfig(
            title="BPract Agents",
            version=VERSION,
            path="/schema",
        ),
    )
