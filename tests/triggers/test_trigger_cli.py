"""``bpract rules load|show|validate|report`` through the real command line entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bpract.cli import main
from support.sites import make_site

RULES = """\
rules:
  - id: pricing-offer
    when: {page: ["/pricing*"]}
    message: {text: "Comparing plans?"}
    cooldown: 1h
"""


@pytest.fixture
def cli_db(tmp_path: Path) -> Path:
    return tmp_path / "cli.db"


@pytest.fixture
def key(cli_db: Path) -> str:
    return make_site(cli_db, origins=["http://127.0.0.1:9"]).public_key


@pytest.fixture
def rules_file(tmp_path: Path) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(RULES, encoding="utf-8")
    return path


def test_validate_ok(rules_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "validate", str(rules_file)]) == 0
    assert capsys.readouterr().out == "ok: 1 rule(s)\n"


def test_validate_prints_every_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "rules:\n  - id: a\n    message: {text: hi}\n    cooldwn: 1h\n    holdout: 200\n",
        encoding="utf-8",
    )
    assert main(["rules", "validate", str(bad)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "rules[0].cooldwn: unknown key 'cooldwn' — did you mean 'cooldown'?"
    assert err[1] == "rules[0].holdout: holdout must be a percentage within 0..100"


def test_load_then_show(
    cli_db: Path, key: str, rules_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["rules", "load", str(rules_file), "--site", key, "--db", str(cli_db)]) == 0
    assert capsys.readouterr().out == f"{key}: version 1, 1 rule(s)\n"
    assert main(["rules", "load", str(rules_file), "--site", key, "--db", str(cli_db)]) == 0
    assert "version 2" in capsys.readouterr().out
    assert main(["--db", str(cli_db), "rules", "show", "--site", key]) == 0
    assert capsys.readouterr().out == "# version 2\n" + RULES
    assert main(["rules", "show", "--site", key, "--db", str(cli_db), "--compiled"]) == 0
    compiled = json.loads(capsys.readouterr().out)
    assert compiled["version"] == 2
    assert compiled["rules"][0]["cooldown"] == 3600


def test_load_refuses_an_invalid_file(
    cli_db: Path, key: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules: [{id: a}]\n", encoding="utf-8")
    assert main(["rules", "load", str(bad), "--site", key, "--db", str(cli_db)]) == 1
    assert "rules[0]: Object missing required field `message`" in capsys.readouterr().err
    assert main(["rules", "show", "--site", key, "--db", str(cli_db)]) == 0
    assert json.loads(capsys.readouterr().out)["version"] == 0


def test_unknown_site(
    cli_db: Path, key: str, rules_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["rules", "load", str(rules_file), "--site", "pk_nope", "--db", str(cli_db)]) == 2
    assert capsys.readouterr().err == "error: no site with key 'pk_nope'\n"


def test_report(
    cli_db: Path, key: str, rules_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["rules", "load", str(rules_file), "--site", key, "--db", str(cli_db)])
    capsys.readouterr()
    assert main(["rules", "report", "--site", key, "--db", str(cli_db), "--days", "7"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{key}, last 7 day(s)\npricing-offer\n  fires: no fires\n")
    assert "conversion: treated 0/0 (-), held out 0/0 (-), lift -\n" in out
    assert "  sample ratio: -\n  sample: 0 of - visitors for a 10% lift: no holdout" in out
    assert main(["rules", "report", "--site", key, "--db", str(cli_db), "--json"]) == 0
    (report,) = json.loads(capsys.readouterr().out)
    assert report["rule"] == "pricing-offer"
