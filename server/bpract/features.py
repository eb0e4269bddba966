"""The server's features in dependency order, and what each adds: migrations, routes, commands.

A feature is a folder under ``bpract/``.  It is listed here once; its routes
and commands are named as ``module:attribute`` strings and imported only when
the app or the command line is built, so ``bpract db migrate`` loads no SDK.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["FEATURES", "MIGRATIONS", "Feature", "load", "routes", "sections"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Feature:
    name: str
    """The folder under ``bpract/``; its ``migrations/`` hold ``NNNN_name.sql`` files."""
    routes: str | None = None
    """``module:attribute`` of a sequence of Litestar route handlers."""
    cli: str | None = None
    """``module`` whose ``register(subparsers)`` adds ``bpract`` commands."""
    settings: str | None = None
    """``module:Class`` of its settings section (``bpract settings`` lists every field)."""


FEATURES: tuple[Feature, ...] = (
    Feature(name="core", settings="bpract.settings:ServerSettings"),
    Feature(name="sites", routes="bpract.sites.api:route_handlers"),
    Feature(
        name="visitors",
        routes="bpract.visitors.socket:route_handlers",
        settings="bpract.visitors.settings:VisitorSettings",
    ),
    Feature(name="assets", routes="bpract.assets.routes:route_handlers"),
    Feature(
        name="triggers",
        routes="bpract.triggers.api:route_handlers",
        cli="bpract.triggers.cli",
        settings="bpract.triggers.settings:TriggerSettings",
    ),
    Feature(
        name="llm",
        routes="bpract.llm.api:route_handlers",
        cli="bpract.llm.cli",
        settings="bpract.llm.settings:LLMSettings",
    ),
    Feature(name="kb", cli="bpract.kb.cli", settings="bpract.kb.settings:KBSettings"),
    Feature(name="chat", settings="bpract.chat.config:ChatConfig"),
    Feature(
        name="quality",
        routes="bpract.quality.api:route_handlers",
        cli="bpract.quality.cli",
        settings="bpract.quality.settings:QualitySettings",
    ),
)

#: Features whose tables the store migrates, in order.
MIGRATIONS: tuple[str, ...] = ("core", "triggers", "llm", "kb", "chat", "quality")


def load(ref: str) -> Any:
    """The object a ``module:attribute`` string (or a bare ``module``) names."""
    module, _, attribute = ref.partition(":")
    found = importlib.import_module(module)
    return getattr(found, attribute) if attribute else found


def sections() -> list[type]:
    """Every feature's settings section, in feature order."""
    return [load(f.settings) for f in FEATURES if f.settings]


def routes() -> Sequence[Any]:
    """Every feature's route handlers, in feature order."""
    return [handler for f in FEATURES if f.routes for handler in load(f.routes)]
