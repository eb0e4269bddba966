"""Storage: the database seam (``base``), its SQLite implementation, per-feature migrations.

The implementation is chosen here, in one place: features import ``Database``,
``Readers`` and ``transaction`` from this package, never from ``sqlite``.
"""

from __future__ import annotations

from bpract.store import dialect
from bpract.store.base import ReaderPool
from bpract.store.migrate import Migration, Migrations, migrate, pending
from bpract.store.sqlite import (
    ExtensionUnavailableError,
    SQLiteDatabase,
    SQLiteReaders,
    connect,
    insert_id,
    transaction,
)

__all__ = [
    "Database",
    "ExtensionUnavailableError",
    "Migration",
    "Migrations",
    "ReaderPool",
    "Readers",
    "connect",
    "dialect",
    "insert_id",
    "migrate",
    "pending",
    "transaction",
]

#: The database this release runs on (an SQLite file).
Database = SQLiteDatabase
#: Its read-only connection pool.
Readers = SQLiteReaders
