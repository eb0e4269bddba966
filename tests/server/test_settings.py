"""The settings tree: read once from the environment, one documented section per feature."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bpract import features
from bpract.chat import ChatConfig
from bpract.settings import ServerSettings, Settings, SettingsError, describe
from bpract.visitors.settings import VisitorSettings


def test_sections_read_their_variables() -> None:
    settings = Settings.read(
        {"BPRACT_CONN_RATE": "7.5", "BPRACT_CHAT_RATE": "3", "BPRACT_DB": "x.db"}
    )
    assert settings.of(VisitorSettings).conn_rate == 7.5
    assert settings.of(VisitorSettings).conn_burst == VisitorSettings().conn_burst
    assert settings.of(ChatConfig).rate_per_minute == 3
    assert settings.server.db == Path("x.db")


def test_a_section_is_parsed_once_and_a_given_one_wins() -> None:
    environ = {"BPRACT_PORT": "9000"}
    settings = Settings.read(environ, ServerSettings(port=1234))
    environ["BPRACT_CONN_RATE"] = "1"  # captured at read time: later changes are not seen
    assert settings.server.port == 1234
    assert settings.of(VisitorSettings) is settings.of(VisitorSettings)
    assert settings.of(VisitorSettings).conn_rate == VisitorSettings().conn_rate
    assert settings.replace(ServerSettings, port=5).server.port == 5
    assert settings.server.port == 1234


@pytest.mark.parametrize(
    ("variable", "value"), [("BPRACT_CONN_RATE", "fast"), ("BPRACT_PORT", "80.5")]
)
def test_a_value_that_does_not_parse_names_its_variable(variable: str, value: str) -> None:
    settings = Settings.read({variable: value})
    with pytest.raises(SettingsError, match=variable) as caught:
        settings.of(VisitorSettings if "CONN" in variable else ServerSettings)
    assert value in caught.value.detail


def test_every_variable_is_documented_once() -> None:
    described = [d for section in features.sections() for d in describe(section)]
    variables = [d.variable for d in described]
    assert len(variables) == len(set(variables))
    assert all(v.startswith("BPRACT_") for v in variables)
    assert [d.variable for d in described if not d.doc] == []
    assert {"BPRACT_DB", "BPRACT_CHAT_RATE", "BPRACT_LLM_POLICY_DIR", "BPRACT_GROUNDING"} <= set(
        variables
    )


def test_bpract_settings_lists_them() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bpract", "settings", "--json"],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    rows = json.loads(done.stdout)
    assert {"variable": "BPRACT_MAX_FRAME", "section": "VisitorSettings"}.items() <= next(
        r for r in rows if r["variable"] == "BPRACT_MAX_FRAME"
    ).items()
