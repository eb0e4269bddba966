"""End-to-end fixtures: the demo store and a real BPract server, shared by the session.

``stack`` gives a :class:`e2e.stack.Stack`: the server (``bpract serve`` on a
real SQLite file, attention timers sped up by ``TIME_SCALE``), a site created for the
demo's origin with the CLI, the demo's ``rules.yaml`` loaded with the CLI, and
the demo store embedding the widget with that site's key and identity secret.
Tests share it through separate visitors (a fresh browser context each); a
module that kills its server overrides ``stack`` with one of its own
(:func:`e2e.stack.own_stack`). Chromium, ``context`` and ``page`` come from
``tests/conftest.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from e2e.stack import RULES, Stack, own_stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory, widget_dist: Path) -> Iterator[Stack]:
    yield from own_stack(tmp_path_factory, widget_dist)


@pytest.fixture(scope="session")
def demo_rules() -> dict[str, dict[str, Any]]:
    """The demo's rules as written in ``demo_site/rules.yaml``, by id."""
    rules: list[dict[str, Any]] = yaml.safe_load(RULES.read_text())["rules"]
    return {rule["id"]: rule for rule in rules}
