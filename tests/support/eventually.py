"""``eventually``: poll a condition until it holds, instead of sleeping a fixed time first.

A test waits for what it is about to assert, not for a guess of how long that
takes: ``eventually`` returns as soon as the condition holds and fails, after
``timeout`` seconds, with the last value it saw. A fixed wait is only right
where a test shows that something does *not* happen.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

__all__ = ["eventually", "eventually_async"]

T = TypeVar("T")
_ANY: Any = object()


def _held(value: object, equals: object) -> bool:
    return bool(value) if equals is _ANY else value == equals


def _failure(timeout: float, value: object, equals: object, what: str) -> AssertionError:
    wanted = "" if equals is _ANY else f", expected {equals!r}"
    subject = f"{what}: " if what else ""
    return AssertionError(f"{subject}not met within {timeout} s (last value {value!r}{wanted})")


def eventually(
    condition: Callable[[], T],
    timeout: float = 10.0,
    interval: float = 0.05,
    *,
    equals: Any = _ANY,
    what: str = "",
    pause: Callable[[float], object] = time.sleep,
) -> T:
    """Call ``condition()`` until it returns something truthy (or ``== equals``); return it.

    ``pause`` waits between calls: pass a Playwright page's own wait
    (``lambda s: page.wait_for_timeout(s * 1000)``) when the condition reads
    what Playwright delivers, since its events arrive only during its calls.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if _held(value, equals):
            return value
        if time.monotonic() >= deadline:
            raise _failure(timeout, value, equals, what)
        pause(interval)


async def eventually_async(
    condition: Callable[[], T | Awaitable[T]],
    timeout: float = 10.0,  # noqa: ASYNC109 - the same signature as eventually, said in failures
    interval: float = 0.05,
    *,
    equals: Any = _ANY,
    what: str = "",
) -> T:
    """:func:`eventually` for a coroutine: ``condition`` may be sync or async; waits yield."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if inspect.isawaitable(value):
            value = await value
        if _held(value, equals):
            return value
        if time.monotonic() >= deadline:
            raise _failure(timeout, value, equals, what)
        await asyncio.sleep(interval)
