"""``bpract quality sample|report``."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from bpract.cli import main
from bpract.store import Database
from quality.conftest import Chat


def test_sample_and_report(db: Database, chat: Chat, capsys: pytest.CaptureFixture[str]) -> None:
    now = time.time_ns() // 1_000_000
    for i in range(3):
        chat.turn(1, f"v{i}", "Q?", "A.", at_ms=now - i, grounding=0.8)
    path = str(db.path)
    assert main(["quality", "sample", "--db", path, "--site", "pk_1", "--n", "2", "--json"]) == 0
    drawn = json.loads(capsys.readouterr().out)
    assert (drawn["added"], drawn["sampled"]) == (2, 2)
    assert main(["quality", "report", "--db", path, "--site", "pk_1", "--weeks", "2"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("week\tanswers\treviewed")
    assert "\t3\t0\t0\t0\t-\t-\t0.80\t-" in out
    assert main(["quality", "report", "--db", path, "--site", "pk_1", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["weeks"]) == 8


def test_refusals(db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = str(db.path)
    assert main(["quality", "report", "--db", path, "--site", "pk_9"]) == 1
    assert "no site" in capsys.readouterr().err
    assert main(["quality", "sample", "--db", path, "--site", "pk_1", "--week", "2026-48"]) == 2
    assert main(["quality", "sample", "--db", path, "--site", "pk_1", "--n", "0"]) == 2
    assert "at least one" in capsys.readouterr().err
