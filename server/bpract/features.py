"""The features that own tables, and their migrations in the order they apply."""

from __future__ import annotations

from bpract.store.migrate import Migrations

__all__ = ["MIGRATIONS"]

#: Dependencies first: every table refers to ``sites``.  ``replaces`` maps a version to
#: the record of release 0.1.0 that already made its tables (the old ``core`` feature,
#: chat's first migration for quality's grounding columns).
MIGRATIONS: tuple[Migrations, ...] = (
    Migrations(feature="sites", package="bpract.sites", replaces={1: ("core", 1)}),
    Migrations(feature="visitors", package="bpract.visitors", replaces={1: ("core", 1)}),
    Migrations(feature="triggers", package="bpract.triggers"),
    Migrations(feature="llm", package="bpract.llm"),
    Migrations(feature="kb", package="bpract.kb"),
    Migrations(feature="chat", package="bpract.chat"),
    Migrations(feature="quality", package="bpract.quality", replaces={2: ("chat", 1)}),
)
