"""The Northwind demo as one Litestar app: the pages at ``/`` and the demo API at ``/api``."""

from __future__ import annotations

from litestar import Litestar
from litestar.di import Provide

from demo_site.api import business_router
from demo_site.errors import DemoApiError
from demo_site.hooks import hooks_router
from demo_site.me import me_router
from demo_site.pages import pages_router
from demo_site.responses import error_response
from demo_site.settings import DemoSettings
from demo_site.store import Store

__all__ = ["create_app"]


def create_app(settings: DemoSettings | None = None) -> Litestar:
    """Open (and seed on first use) the SQLite file named by settings, and build the app."""
    settings = settings or DemoSettings.from_env()
    store = Store(settings.db_path)

    def provide_store() -> Store:
        return store

    def provide_settings() -> DemoSettings:
        return settings

    return Litestar(
        route_handlers=[
            business_router(settings.api_key),
            me_router(),
            hooks_router(),
            pages_router(),
        ],
        dependencies={
            "store": Provide(provide_store, sync_to_thread=False),
            "settings": Provide(provide_settings, sync_to_thread=False),
        },
        exception_handlers={DemoApiError: error_response},
        on_shutdown=[store.close],
    )
