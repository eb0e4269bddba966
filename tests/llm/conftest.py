"""Fixtures for the model gateway: a fake provider server on a free loopback port."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fakes.llm_server import FakeLLMServer


@pytest.fixture
def fake() -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as server:
        yield server
