"""``bpract kb`` commands through their argparse registration, on a real database file."""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path

import pytest

from bpract.kb import record_unanswered
from bpract.kb.cli import register
from bpract.store import Database

from .conftest import HttpSite


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bpract")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code: int = args.handler(args)
    return code


def test_add_search_audit(
    db: Database,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("BPRACT_EMBEDDINGS_MODEL", raising=False)
    monkeypatch.delenv("BPRACT_EMBEDDINGS_URL", raising=False)
    path = str(db.path)
    help_dir = tmp_path / "help"
    help_dir.mkdir()
    (help_dir / "refunds.md").write_text(
        "---\nupdated: 2020-02-02\n---\n# Refunds\n\nRefunds reach your card in 5 days.\n"
    )
    assert run(["kb", "add", str(help_dir), "--site", "pk_site1", "--db", path, "--json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["added"] == 1
    assert "ingesting [" in err and "added 1" in err

    assert run(["kb", "search", "money back", "--site", "pk_site1", "--db", path, "--json"]) == 0
    passages = json.loads(capsys.readouterr().out)
    assert passages[0]["title"] == "Refunds" and 0.0 <= passages[0]["confidence"] <= 1.0

    assert run(["kb", "search", "money back", "--site", "pk_site2", "--db", path, "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []

    asyncio.run(record_unanswered(db, 1, "Do you ship to Canada?", 0.1))
    assert run(["kb", "audit", "--site", "pk_site1", "--days", "30", "--db", path]) == 0
    out = capsys.readouterr().out
    assert "Documents not updated in 30 days: 1" in out and "2020-02-02" in out
    assert "1x  Do you ship to Canada?" in out

    assert run(["kb", "reindex", "--db", path]) == 0
    assert "0 chunks embedded" in capsys.readouterr().err


def test_refusals(db: Database, capsys: pytest.CaptureFixture[str]) -> None:
    path = str(db.path)
    assert run(["kb", "search", "x", "--site", "pk_nobody", "--db", path]) == 1
    assert "no site 'pk_nobody'" in capsys.readouterr().err
    assert run(["kb", "add", "/definitely/missing", "--site", "pk_site1", "--db", path]) == 1
    assert "no such file or folder" in capsys.readouterr().err


def test_add_url_refuses_loopback_unless_allowed(
    db: Database,
    http_site: HttpSite,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("BPRACT_OUTBOUND_ALLOW", raising=False)
    http_site.html("/refunds", "<html><title>Refunds</title><body><p>Five days.</p></body></html>")
    add = ["kb", "add", http_site.url + "/refunds", "--site", "pk_site1", "--db", str(db.path)]
    assert run(add) == 1
    err = capsys.readouterr().err
    assert "127.0.0.1 is a loopback address" in err and "BPRACT_OUTBOUND_ALLOW" in err
    assert http_site.requests == []

    assert run([*add, "--allow-private", "--json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["added"] == 1
    assert "warning: --allow-private" in err

    monkeypatch.setenv("BPRACT_OUTBOUND_ALLOW", http_site.url)  # the operator's allow-list
    assert run([*add, "--json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["unchanged"] == 1 and "warning" not in err
