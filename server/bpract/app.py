"""The Litestar application: ``create_app()`` joins the runtime's services and the routes."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from importlib.metadata import PackageNotFoundError, version

import msgspec
from litestar import Litestar, get
from litestar.channels import ChannelsPlugin
from litestar.channels.backends.memory import MemoryChannelsBackend
from litestar.di import NamedDependency

from bpract import features
from bpract.assets.openapi import openapi_config
from bpract.di import from_state
from bpract.headers import secure_headers
from bpract.logs import install as redact_logs
from bpract.logs import quiet_body_loggers
from bpract.runtime import SERVICES, Runtime
from bpract.settings import Settings, get_settings
from bpract.store import Database
from bpract.visitors.channels import VisitorChannels

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
async def health(db: NamedDependency[Database]) -> Health:
    """Liveness: the database answers."""
    ok = await db.ping()
    return Health(status="ok" if ok else "degraded", version=VERSION, db=ok)


def _lifespan(
    settings: Settings, channels: ChannelsPlugin
) -> Callable[[Litestar], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncGenerator[None, None]:
        async with Runtime.running(settings, channels) as runtime:
            # after uvicorn configured its loggers and the providers imported their SDKs
            quiet_body_loggers(settings.server.log_bodies)
            app.state.update(runtime.services())
            yield

    return lifespan


def create_app(settings: Settings | None = None) -> Litestar:
    """The application, configured from ``settings`` (default: the environment)."""
    settings = settings or get_settings()
    redact_logs()
    channels = VisitorChannels(backend=MemoryChannelsBackend(), arbitrary_channels_allowed=True)
    return Litestar(
        route_handlers=[health, *features.routes()],
        plugins=[channels],
        dependencies=from_state(*SERVICES),
        lifespan=[_lifespan(settings, channels)],
        before_send=[secure_headers],
        openapi_config=openapi_config("BPract Agents", VERSION),
    )
