"""The ``bpract`` command line: ``main()`` in process, and the real entry point once."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import apsw
import pytest

from bpract.cli import main
from bpract.sites import get_site_by_key
from bpract.sites.auth import Principal, Role, verify_token
from bpract.store import Database


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
    for command in ("serve", "db", "orgs", "sites", "tokens", "rules", "actions"):
        assert command in result.stdout


def _principal(db: str, token: str) -> Principal | None:
    database = Database(db)
    try:
        return database.run_sync(lambda conn: verify_token(conn, token))
    finally:
        database.close()


def test_orgs_sites_and_scoped_tokens(tmp_path: Path, bpract: Callable[..., Run]) -> None:
    db = str(tmp_path / "cli.db")
    assert bpract("orgs", "add", "Acme", "--db", db).returncode == 0
    assert bpract("orgs", "add", "Acme", "--db", db).returncode == 2  # names are unique
    assert bpract("orgs", "add", "Globex", "--db", db, "--json").returncode == 0
    orgs = json.loads(bpract("orgs", "list", "--db", db, "--json").stdout)
    assert [o["name"] for o in orgs] == ["Acme", "Globex"]

    origin = ("--origin", "https://a.example")
    ambiguous = bpract("sites", "add", "--db", db, "--name", "A", *origin)
    assert ambiguous.returncode == 2 and "--org" in ambiguous.stderr
    unknown = bpract("sites", "add", "--db", db, "--name", "A", *origin, "--org", "Nope")
    assert unknown.returncode == 2 and "Nope" in unknown.stderr
    made = [
        json.loads(
            bpract("sites", "add", "--db", db, "--name", n, *origin, "--org", o, "--json").stdout
        )
        for n, o in (("A1", "Acme"), ("A2", "Acme"), ("G1", "Globex"))
    ]
    acme = json.loads(bpract("sites", "list", "--db", db, "--org", "Acme", "--json").stdout)
    assert [s["public_key"] for s in acme] == [made[0]["public_key"], made[1]["public_key"]]

    token = bpract(
        "tokens", "create", "shop-marketer", "--db", db, "--org", "Acme", "--role", "marketer",
        "--site", made[0]["public_key"], "--expires", "90d",
    ).stdout.strip()  # fmt: skip
    assert token.startswith("bpa_")
    principal = _principal(db, token)
    assert principal is not None and principal.role is Role.MARKETER
    assert principal.sites == frozenset({made[0]["id"]})
    other_org = bpract(
        "tokens", "create", "x", "--db", db, "--org", "Acme", "--role", "owner",
        "--site", made[2]["public_key"],
    )  # fmt: skip
    assert other_org.returncode == 2 and "not a site of this organisation" in other_org.stderr
    past = bpract("tokens", "create", "x", "--db", db, "--org", "Acme", "--role", "owner",
                  "--expires", "2020-01-01")  # fmt: skip
    assert past.returncode == 2 and "future" in past.stderr
    assert bpract("tokens", "create", "x", "--db", db, "--org", "Acme", "--role", "owner",
                  "--expires", "soon").returncode == 2  # fmt: skip
    owner = bpract("tokens", "create", "ops", "--db", db, "--org", "Globex", "--role", "owner",
                   "--expires", "2999-01-01").stdout.strip()  # fmt: skip

    listed = json.loads(bpract("tokens", "list", "--db", db, "--json").stdout)
    assert [(t["name"], t["org"], t["role"], t["sites"]) for t in listed] == [
        ("shop-marketer", "Acme", "marketer", [made[0]["public_key"]]),
        ("ops", "Globex", "owner", []),
    ]
    first = listed[0]
    assert first["last_used_at"] and first["revoked_at"] is None  # verified above
    expires = datetime.fromisoformat(first["expires_at"])
    assert timedelta(days=89) < expires - datetime.now(UTC) <= timedelta(days=90)
    assert listed[1]["expires_at"].startswith("2999-01-01T00:00:00")
    text = bpract("tokens", "list", "--db", db).stdout
    for t in (token, owner, hashlib.sha256(token.encode()).hexdigest()):
        assert t not in text and t not in json.dumps(listed)  # never the token or its hash
    assert "all" in text.splitlines()[2]  # the owner token reaches every Globex site

    revoked = bpract("tokens", "revoke", str(first["id"]), "--db", db)
    assert revoked.returncode == 0
    assert _principal(db, token) is None  # refused at once
    after = json.loads(bpract("tokens", "list", "--db", db, "--json").stdout)
    assert after[0]["revoked_at"] and after[1]["revoked_at"] is None
    assert bpract("tokens", "revoke", "999", "--db", db).returncode == 2

    # An expiry that has passed: the token stops working.
    assert _principal(db, owner) is not None
    conn = apsw.Connection(db)
    with conn:
        conn.execute("UPDATE admin_tokens SET expires_at = '2020-01-01T00:00:00+00:00'")
    conn.close()
    assert _principal(db, owner) is None


def test_sites_rotate_secret(tmp_path: Path, bpract: Callable[..., Run]) -> None:
    db = str(tmp_path / "cli.db")
    made = json.loads(
        bpract(
            "sites", "add", "--db", db, "--name", "S", "--origin", "https://s.example", "--json"
        ).stdout
    )
    assert json.loads(bpract("orgs", "list", "--db", db, "--json").stdout)[0]["name"] == "default"
    rotated = bpract("sites", "rotate-secret", made["public_key"], "--db", db)
    assert rotated.returncode == 0, rotated.stderr
    secret = rotated.stdout.split()[-1]
    assert secret.startswith("sk_") and secret != made["identity_secret"]
    database = Database(db)
    try:
        stored = database.run_sync(lambda c: get_site_by_key(c, made["public_key"]))
    finally:
        database.close()
    assert stored.identity_secret == secret
    assert secret not in bpract("sites", "list", "--db", db, "--json").stdout
    assert bpract("sites", "rotate-secret", "pk_nope", "--db", db).returncode == 2
