"""The server's features in dependency order, and what each adds: migrations, routes,
commands and settings.

A feature is a folder under ``bpract/``.  It is listed here once; its routes,
commands and settings are named as ``module:attribute`` strings and imported
only when the app or the command line is built, so ``bpract db migrate`` loads
no SDK.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bpract.store.migrate import Migrations

__all__ = ["FEATURES", "MIGRATIONS", "Feature", "load", "routes", "sections"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Feature:
    name: str
    """The folder under ``bpract/``."""
    migrations: bool = True
    """Whether it owns tables: ``bpract/<name>/migrations/NNNN_name.sql``."""
    replaces: Mapping[int, tuple[str, int]] = field(default_factory=dict)
    """A version of its own already made by an older release's recorded migration."""
    routes: str | None = None
    """``module:attribute`` of a sequence of Litestar route handlers."""
    cli: str | None = None
    """``module`` whose ``register(subparsers)`` adds ``bpract`` commands."""
    settings: str | None = None
    """``module:Class`` of its settings section (``bpract settings`` lists every field)."""


#: Dependencies first: every table refers to ``sites``.  ``replaces`` names the records of
#: release 0.1.0 that already made a version's tables (its ``core`` feature held those of
#: sites and visitors; chat's first migration held quality's grounding columns).
FEATURES: tuple[Feature, ...] = (
    Feature(name="sites", replaces={1: ("core", 1)}, routes="bpract.sites.api:route_handlers"),
    Feature(
        name="visitors",
        replaces={1: ("core", 1)},
        routes="bpract.visitors.socket:route_handlers",
        settings="bpract.visitors.settings:VisitorSettings",
    ),
    Feature(name="assets", migrations=False, routes="bpract.assets.routes:route_handlers"),
    Feature(
        name="triggers",
        routes="bpract.triggers.api:route_handlers",
        cli="bpract.triggers.cli",
        settings="bpract.triggers.settings:TriggerSettings",
    ),
    Feature(
        name="actions",
        routes="bpract.actions.api:route_handlers",
        cli="bpract.actions.cli",
        settings="bpract.actions.settings:ActionSettings",
    ),
    Feature(
        name="tickets",
        routes="bpract.tickets.api:route_handlers",
        cli="bpract.tickets.cli",
        settings="bpract.tickets.settings:TicketSettings",
    ),
    Feature(
        name="llm",
        routes="bpract.llm.api:route_handlers",
        cli="bpract.llm.cli",
        settings="bpract.llm.settings:LLMSettings",
    ),
    Feature(name="kb", cli="bpract.kb.cli", settings="bpract.kb.settings:KBSettings"),
    Feature(
        name="chat",
        routes="bpract.chat.api:route_handlers",
        cli="bpract.chat.cli",
        settings="bpract.chat.config:ChatConfig",
    ),
    Feature(
        name="quality",
        replaces={2: ("chat", 1)},
        routes="bpract.quality.api:route_handlers",
        cli="bpract.quality.cli",
        settings="bpract.quality.settings:QualitySettings",
    ),
    Feature(
        name="inbox",
        routes="bpract.inbox.routes:route_handlers",
        cli="bpract.inbox.cli",
        settings="bpract.inbox.settings:InboxSettings",
    ),
    Feature(name="console", migrations=False, routes="bpract.console.routes:route_handlers"),
)

#: What the store migrates, in order.
MIGRATIONS: tuple[Migrations, ...] = tuple(
    Migrations(feature=f.name, package=f"bpract.{f.name}", replaces=f.replaces)
    for f in FEATURES
    if f.migrations
)


def load(ref: str) -> Any:
    """The object a ``module:attribute`` string (or a bare ``module``) names."""
    module, _, attribute = ref.partition(":")
    found = importlib.import_module(module)
    return getattr(found, attribute) if attribute else found


def sections() -> list[type]:
    """The server's own settings sections (its files, outbound calls), then every feature's,
    in feature order."""
    from bpract.net.settings import NetSettings
    from bpract.settings import ServerSettings

    return [ServerSettings, NetSettings, *(load(f.settings) for f in FEATURES if f.settings)]


def routes() -> Sequence[Any]:
    """Every feature's route handlers, in feature order."""
    return [handler for f in FEATURES if f.routes for handler in load(f.routes)]
