"""The storage seam: what features ask of a database, whichever engine serves it."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Generic, TypeVar

__all__ = ["Database", "ReaderPool"]

C = TypeVar("C")
T = TypeVar("T")


class Database(ABC, Generic[C]):
    """A database served off the event loop; callbacks get a connection of type ``C``."""

    @abstractmethod
    async def run(self, fn: Callable[[C], T]) -> T:
        """Call ``fn(conn)`` where the database lives and return its result."""

    @abstractmethod
    async def transaction(self, fn: Callable[[C], T], *, lock: bool = False) -> T:
        """Like :meth:`run`, inside one transaction (committed, or rolled back on error).

        ``lock=True`` takes the write lock before ``fn`` reads, for read-check-write
        work (caps, budget reservations) that two writers must not both pass.
        """

    @abstractmethod
    def run_sync(self, fn: Callable[[C], T]) -> T:
        """Blocking variant of :meth:`run` for the CLI and start-up."""

    @abstractmethod
    def session(self) -> AbstractContextManager[C]:
        """A private connection for one-off CLI work on the calling thread."""

    @abstractmethod
    def readers(self, size: int = 2) -> ReaderPool[C] | None:
        """A pool of read-only connections, or None when reads must share :meth:`run`."""

    @abstractmethod
    async def ping(self) -> bool:
        """True when the database answers."""

    @abstractmethod
    def close(self) -> None:
        """Release the connections and threads."""


class ReaderPool(ABC, Generic[C]):
    """Read-only connections on threads of their own, so long reads run side by side."""

    @abstractmethod
    async def run(self, fn: Callable[[C], T]) -> T:
        """Call ``fn(conn)`` on a reader and return its result."""

    @abstractmethod
    def close(self, *, wait: bool = True) -> None:
        """Stop the readers; ``wait=False`` from a finalizer that may run on one of them."""
