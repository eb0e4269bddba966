"""The ``bpract`` command line: ``main()`` in process, and the real entry point once."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import apsw
import pytest

from bpract.cli import main


class Run:
    def __init__(self, returncode: int, stdout: str, stderr: str) -> None:
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


@pytest.fixture
def bpract(capsys: pytest.CaptureFixture[str]) -> Callable[..., Run]:
    def run(*args: str) -> Run:
        try:
            code = main(list(args))
        except SystemExit as exit_:  # argparse refusals
            code = int(exit_.code or 0)
        out = capsys.readouterr()
        return Run(code, out.out, out.err)

    return run


def test_migrate_sites_and_tokens(tmp_path: Path, bpract: Callable[..., Run]) -> None:
    db = str(tmp_path / "cli.db")
    first = bpract("db", "migrate", "--db", db)
    assert first.returncode == 0 and "applied sites 0001_init" in first.stdout
    assert bpract("--db", db, "db", "migrate").stdout.strip() == "up to date"

    added = bpract(
        "sites",
        "add",
        "--db",
        db,
        "--name",
        "Shop",
        "--origin",
        "https://shop.example",
        "--origin",
        "http://localhost:3000",
    )
    assert added.returncode == 0, added.stderr
    fields = dict(line.split(" ", 1) for line in added.stdout.splitlines())
    assert fields["public_key"].startswith("pk_") and fields["identity_secret"].startswith("sk_")

    as_json = json.loads(
        bpract(
            "sites",
            "add",
            "--db",
            db,
            "--name",
            "Docs",
            "--origin",
            "https://docs.example",
            "--json",
        ).stdout
    )
    listed = json.loads(bpract("sites", "list", "--db", db, "--json").stdout)
    assert [s["public_key"] for s in listed] == [fields["public_key"], as_json["public_key"]]
    assert listed[0]["allowed_origins"] == ["http://localhost:3000", "https://shop.example"]
    assert all("identity_secret" not in s for s in listed)  # shown when made, never listed
    plain = bpract("sites", "list", "--db", db).stdout.splitlines()
    assert plain[0].split("\t")[1:3] == [fields["public_key"], "Shop"]

    token = bpract("tokens", "create", "ci", "--db", db, "--role", "owner").stdout.strip()
    assert token.startswith("bpa_") and len(token) > 40
    conn = apsw.Connection(db)
    stored = conn.execute("SELECT name, token_hash FROM admin_tokens").fetchall()
    conn.close()
    assert stored == [("ci", hashlib.sha256(token.encode()).hexdigest())]
    assert token not in Path(db).read_bytes().decode(errors="ignore")


def test_refusals_exit_non_zero_with_a_message(tmp_path: Path, bpract: Callable[..., Run]) -> None:
    db = str(tmp_path / "cli.db")
    bad = bpract("sites", "add", "--db", db, "--name", "X", "--origin", "ftp://x.example")
    assert bad.returncode == 2 and "error:" in bad.stderr and "origin" in bad.stderr
    missing = bpract("sites", "add", "--db", db, "--name", "X")
    assert missing.returncode == 2 and "--origin" in missing.stderr
    assert bpract("tokens", "create", " ", "--db", db, "--role", "owner").returncode == 2
    assert bpract("tokens", "create", "x", "--db", db).returncode == 2  # a role is required
    bad_role = bpract("tokens", "create", "x", "--db", db, "--role", "admin")
    assert bad_role.returncode == 2 and "role" in bad_role.stderr
    assert bpract("nonsense").returncode == 2


def test_entry_point_lists_every_command() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bpract", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0
    for command in ("serve", "db", "orgs", "sites", "tokens", "rules"):
        assert command in result.stdout
