"""Storage: one SQLite file (sqlite-vec and FTS5 loaded), versioned migrations per feature."""

from __future__ import annotations

from bpract.store.migrate import FEATURES, migrate
from bpract.store.sqlite import Database, ExtensionUnavailableError, connect

__all__ = ["FEATURES", "Database", "ExtensionUnavailableError", "connect", "migrate"]
