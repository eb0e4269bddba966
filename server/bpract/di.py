"""Dependencies for route handlers, read from the app's state, where the runtime puts each
service by name (``db``, ``triggers``, ``chat``, …); a controller declares the ones it needs."""

from __future__ import annotations

from typing import Any

from litestar.datastructures import State
from litestar.di import Provide

__all__ = ["from_state"]


def from_state(*names: str) -> dict[str, Provide]:
    """``{name: Provide(...)}`` for each of ``names``: the service the state holds under it."""
    return {name: _provider(name) for name in names}


def _provider(name: str) -> Provide:
    def provide(state: State) -> Any:
        return state[name]

    return Provide(provide, sync_to_thread=False)
