"""End-to-end fixtures: the demo store and a real BPract server, one pair per test module.

``stack`` gives a :class:`e2e.stack.Stack`: the server (``bpract serve`` on a
real SQLite file, clock sped up ``TIME_SCALE`` times), a site created for the
demo's origin with the CLI, the demo's ``rules.yaml`` loaded with the CLI, and
the demo store embedding the widget with that site's key and identity secret.
Tests share it through separate visitors (a fresh browser context each).
Chromium, ``context`` and ``page`` come from ``tests/conftest.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from e2e.stack import RULES, Stack, start_stack

TIME_SCALE = "25"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, widget_dist: Path) -> Iterator[Stack]:
    env = {"BPRACT_WIDGET_DIST": str(widget_dist), "BPRACT_TIME_SCALE": TIME_SCALE}
    running = start_stack(tmp_path_factory.mktemp("e2e"), env)
    yield running
    running.stop()


@pytest.fixture(scope="session")
def demo_rules() -> dict[str, dict[str, Any]]:
    """The demo's rules as written in ``demo_site/rules.yaml``, by id."""
    rules: list[dict[str, Any]] = yaml.safe_load(RULES.read_text())["rules"]
    return {rule["id"]: rule for rule in rules}
