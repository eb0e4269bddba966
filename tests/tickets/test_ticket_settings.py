"""Ticket settings through the admin API and ``bpract tickets``: scope, URL checks, hours."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bpract.cli import main
from bpract.tickets.errors import TicketSettingsError
from bpract.tickets.hours import hours_from_text, is_open, parse_hours
from support.sites import make_org, make_site, make_token
from tickets.conftest import ORIGIN, Receiver, World, make_world, rows

# Thursday 2026-01-01 10:00 UTC
THU_10 = 1_767_261_600_000
HOUR = 3_600_000


@pytest.fixture
def world(tmp_path: Path, receiver: Receiver) -> Iterator[World]:
    found = make_world(tmp_path, {"BPRACT_OUTBOUND_ALLOW": receiver.origin})
    try:
        yield found
    finally:
        found.server.stop()


def test_settings_are_set_the_secret_shown_once_and_never_read_back(
    world: World, receiver: Receiver
) -> None:
    with world.api() as api:
        first = api.get(world.settings_url())
        assert first.status_code == 200
        assert first.json() == {
            "site": world.site.public_key, "webhook_url": "", "secret_set": False,
            "hours": None, "secret": None,
        }  # fmt: skip
        hours = {"days": ["mon", "tue"], "start": "09:00", "end": "17:30", "tz": "Europe/Paris"}
        put = api.put(world.settings_url(), json={"webhook_url": receiver.url, "hours": hours})
        assert put.status_code == 200, put.text
        made = put.json()
        assert made["secret"].startswith("whsec_") and made["secret_set"] is True
        assert made["hours"] == hours
        got = api.get(world.settings_url()).json()
        assert got["secret"] is None and got["secret_set"] is True
        assert made["secret"] not in api.get(world.settings_url()).text
        # changing the hours keeps the secret; rotating makes a new one
        again = api.put(world.settings_url(), json={"hours": None}).json()
        assert again["secret"] is None and again["hours"] is None
        rotated = api.put(world.settings_url(), json={"rotate_secret": True}).json()
        assert rotated["secret"].startswith("whsec_") and rotated["secret"] != made["secret"]
    stored = rows(world.db, "SELECT secret FROM ticket_settings WHERE site_id = ?", world.site.id)
    assert stored == [(rotated["secret"],)]


def test_another_organisations_token_finds_no_site(world: World, receiver: Receiver) -> None:
    make_org(world.db, "Mallory")
    make_site(world.db, name="Mallory's", origins=[ORIGIN], org="Mallory")
    world.token = make_token(world.db, "mallory", org="Mallory")
    with world.api() as api:
        assert api.get(world.settings_url()).status_code == 404
        put = api.put(world.settings_url(), json={"webhook_url": receiver.url})
        assert put.status_code == 404
    assert rows(world.db, "SELECT * FROM ticket_settings") == []


def test_a_read_only_role_may_read_not_change(world: World, receiver: Receiver) -> None:
    world.token = make_token(world.db, "marketer", role="marketer")
    with world.api() as api:
        assert api.get(world.settings_url()).status_code == 200
        put = api.put(world.settings_url(), json={"webhook_url": receiver.url})
        assert put.status_code == 403


@pytest.mark.parametrize(
    ("body", "field", "says"),
    [
        ({"webhok_url": "https://x.example"}, "webhok_url", "did you mean 'webhook_url'"),
        ({"webhook_url": "ftp://files.example/x"}, "webhook_url", "not an http(s) URL"),
        ({"webhook_url": "/relative"}, "webhook_url", "not an http(s) URL"),
        ({"webhook_url": 5}, "webhook_url", "is a URL"),
        ({"webhook_url": "http://10.1.2.3/hook"}, "webhook_url", "private"),
        ({"webhook_url": "http://127.0.0.1:9/hook"}, "webhook_url", "loopback"),
        ({"hours": {"days": ["mon", "fry"]}}, "hours.days[1]", "did you mean 'fri'"),
        ({"hours": {"start": "9am"}}, "hours.start", "HH:MM"),
        ({"hours": {"tz": "Mars/Olympus"}}, "hours.tz", "not a time zone"),
        ({"hours": {"dayz": ["mon"]}}, "hours.dayz", "did you mean 'days'"),
        ({"hours": "weekdays"}, "hours", "mapping"),
        ({"rotate_secret": "yes"}, "rotate_secret", "true or false"),
        ([1, 2], "$", "JSON object"),
    ],
)
def test_bad_settings_are_refused_with_the_field(
    world: World, body: object, field: str, says: str
) -> None:
    with world.api() as api:
        answer = api.put(world.settings_url(), json=body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["field"] == field
    assert says in answer.json()["detail"]
    assert rows(world.db, "SELECT * FROM ticket_settings") == []


def test_a_body_that_is_not_json_is_refused(world: World) -> None:
    with world.api() as api:
        answer = api.put(world.settings_url(), content=b"{nope")
    assert answer.status_code == 400 and answer.json()["field"] == "$"


def test_hours_parsing() -> None:
    workdays = parse_hours({"days": ["mon", "thu"], "start": "09:00", "end": "18:00"})
    assert workdays is not None and workdays.tz == "UTC"
    assert is_open(workdays, THU_10)
    assert not is_open(workdays, THU_10 + 8 * HOUR)  # 18:00: closed
    assert not is_open(workdays, THU_10 + 24 * HOUR)  # Friday
    assert is_open(None, THU_10)  # no hours: always open
    night = parse_hours({"days": ["thu", "fri"], "start": "22:00", "end": "06:00"})
    assert not is_open(night, THU_10) and is_open(night, THU_10 + 13 * HOUR)
    paris = parse_hours({"days": ["thu"], "start": "11:00", "end": "12:00", "tz": "Europe/Paris"})
    assert is_open(paris, THU_10)  # 11:00 in Paris in winter
    # YAML reads an unquoted 18:00 as minutes; hours read it back as a time
    yaml_hours = hours_from_text("hours:\n  days: [mon]\n  start: 08:30\n  end: 18:00\n")
    assert yaml_hours is not None and (yaml_hours.start, yaml_hours.end) == ("08:30", "18:00")
    with pytest.raises(TicketSettingsError) as bad:
        hours_from_text("days: [mon\n")
    assert "line" in bad.value.field


def test_the_command_line_sets_hours_webhook_secret_and_lists(
    world: World, receiver: Receiver, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    monkeypatch.setenv("BPRACT_OUTBOUND_ALLOW", receiver.origin)
    key, db = world.site.public_key, ["--db", str(world.db)]
    hours = tmp_path / "hours.yaml"
    hours.write_text("days: [mon, tue, wed]\nstart: '08:00'\nend: '16:00'\ntz: Europe/Berlin\n")
    argv = ["tickets", "settings", "--site", key, "--webhook", receiver.url]
    assert main([*argv, "--hours-file", str(hours), *db]) == 0
    out = capsys.readouterr().out
    assert f"webhook_url: {receiver.url}" in out
    assert "hours: mon,tue,wed 08:00-16:00 Europe/Berlin" in out
    assert "new signing secret (shown once): whsec_" in out
    assert main(["tickets", "settings", "--site", key, *db]) == 0
    shown = capsys.readouterr().out
    assert "secret: set" in shown and "whsec_" not in shown
    assert main(["tickets", "settings", "--site", key, "--always", "--rotate-secret", *db]) == 0
    out = capsys.readouterr().out
    assert "hours: always open" in out and "whsec_" in out
    assert main(["tickets", "list", "--site", key, "--json", *db]) == 0
    assert capsys.readouterr().out.strip() == "[]"


def test_the_command_line_refuses_with_the_field(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    monkeypatch.delenv("BPRACT_OUTBOUND_ALLOW", raising=False)
    key, db = world.site.public_key, ["--db", str(world.db)]
    hours = tmp_path / "hours.yaml"
    hours.write_text("days: [mon, sundy]\n")
    assert main(["tickets", "settings", "--site", key, "--hours-file", str(hours), *db]) == 2
    assert "hours.days[1]: unknown day 'sundy' — did you mean 'sun'?" in capsys.readouterr().err
    bad = ["tickets", "settings", "--site", key, "--webhook", "http://127.0.0.1:9/h", *db]
    assert main(bad) == 2
    assert "error: webhook_url:" in capsys.readouterr().err
    assert rows(world.db, "SELECT * FROM ticket_settings") == []
