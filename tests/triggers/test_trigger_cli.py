"""``bpract rules load|show|validate|report`` through the real command line entry point."""

from __future__ import annotations

import json
import time
from pathlib import Path

import apsw
import pytest

from bpract.cli import main
from bpract.triggers.lift import Arm, relative_lift, sample_size, srm_check
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


def _store_fires(db_path: Path, key: str, arms: dict[str, tuple[int, int]]) -> None:
    """Fires of ``pricing-offer`` today: per status, (visitors, of whom bought after the fire)."""
    now = int(time.time() * 1000)
    conn = apsw.Connection(str(db_path))
    try:
        (site_id,) = conn.execute("SELECT id FROM sites WHERE public_key = ?", (key,)).fetchone()
        for status, (visitors, bought) in arms.items():
            for i in range(visitors):
                visitor = f"v_{status}_{i}"
                conn.execute(
                    "INSERT INTO fires (site_id, visitor, rule_id, rule_version, at_ms,"
                    " received_ms, status) VALUES (?, ?, 'pricing-offer', 1, ?, ?, ?)",
                    (site_id, visitor, now, now, status),
                )
                if i < bought:
                    conn.execute(
                        "INSERT INTO signals (site_id, visitor, session, name, at_ms, data)"
                        " VALUES (?, ?, 'n_s', 'purchase', ?, '{}')",
                        (site_id, visitor, now + 1),
                    )
    finally:
        conn.close()


def test_report_prints_lift_interval_and_sample_ratio(
    cli_db: Path, key: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = tmp_path / "holdout.yaml"
    rules.write_text(RULES + "    holdout: 50\n", encoding="utf-8")
    main(["rules", "load", str(rules), "--site", key, "--db", str(cli_db)])
    # 60 treated (45 sent, 15 capped), 12 bought; 20 held out, 2 bought: 60/20 against 50 %
    _store_fires(cli_db, key, {"sent": (45, 12), "capped": (15, 0), "held_out": (20, 2)})
    capsys.readouterr()
    assert main(["rules", "report", "--site", key, "--db", str(cli_db), "--mde", "50"]) == 0
    out = capsys.readouterr().out
    lift = relative_lift(Arm(visitors=60, converted=12), Arm(visitors=20, converted=2))
    assert lift is not None
    interval = f"{lift.low:+.1%} to {lift.high:+.1%}"
    assert "conversion: treated 12/60 (20.0%), held out 2/20 (10.0%), " in out
    assert f"lift +100.0% (95% interval {interval})\n" in out
    srm = srm_check(60, 20, 0.5)
    assert srm is not None
    assert srm.flagged  # χ² = 20, p = 7.7e-06
    assert "  sample ratio: MISMATCH (p 7.7e-06, 50% held out expected)\n" in out
    needed = sample_size(0.10, 0.50, 0.5)
    assert f"  sample: 80 of {needed} visitors for a 50% lift: sample ratio mismatch" in out
