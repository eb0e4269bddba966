"""``bpract agents add|list|disable|password`` through the real command line."""

from __future__ import annotations

import io
import json
from pathlib import Path

import apsw
import pytest

from bpract.cli import main
from bpract.inbox.passwords import verify
from support.sites import make_org, make_site


def _run(capsys: pytest.CaptureFixture[str], db: Path, *args: str) -> tuple[int, str, str]:
    code = main([*args, "--db", str(db)])
    out, err = capsys.readouterr()
    return code, out, err


def _hash(db: Path, email: str) -> str:
    conn = apsw.Connection(str(db))
    try:
        row = conn.execute("SELECT password_hash FROM inbox_agents WHERE email = ?", (email,))
        return str(row.fetchone()[0])
    finally:
        conn.close()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "bpract.db"
    make_site(path, name="Acme shop", origins=["https://acme.test"], org="Acme")
    make_org(path, "Globex")
    return path


def test_add_generates_a_strong_password_printed_once(
    capsys: pytest.CaptureFixture[str], db: Path
) -> None:
    code, out, _ = _run(
        capsys,
        db,
        "agents",
        "add",
        "--org",
        "Acme",
        "--email",
        "Ana@Acme.test",
        "--name",
        "Ana",
        "--department",
        "billing",
        "--department",
        "support",
    )
    assert code == 0
    lines = dict(line.split(" ", 1) for line in out.splitlines() if " " in line)
    assert lines["email"] == "ana@acme.test" and lines["departments"] == "billing support"
    password = lines["password"]
    assert len(password) >= 24 and verify(_hash(db, "ana@acme.test"), password)

    code, out, _ = _run(capsys, db, "agents", "list", "--json")
    [listed] = json.loads(out)
    assert listed["org"] == "Acme" and listed["role"] == "agent"
    assert "password" not in json.dumps(listed) and "argon2" not in json.dumps(listed)
    code, out, _ = _run(capsys, db, "agents", "list")
    assert "ana@acme.test" in out and "argon2" not in out and password not in out


def test_add_reads_the_password_from_stdin(
    capsys: pytest.CaptureFixture[str], db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("a very good password\n"))
    code, out, _ = _run(
        capsys,
        db,
        "agents",
        "add",
        "--org",
        "Globex",
        "--email",
        "gus@g.test",
        "--name",
        "Gus",
        "--role",
        "supervisor",
        "--password-stdin",
        "--json",
    )
    assert code == 0
    shown = json.loads(out)
    assert "password" not in shown and shown["agent"]["role"] == "supervisor"
    assert shown["agent"]["departments"] == ["support"]
    assert verify(_hash(db, "gus@g.test"), "a very good password")
    code, out, _ = _run(capsys, db, "agents", "list", "--org", "Acme", "--json")
    assert json.loads(out) == []


def test_refusals_are_errors_not_tracebacks(
    capsys: pytest.CaptureFixture[str], db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert (
        _run(capsys, db, "agents", "add", "--org", "Acme", "--email", "a@acme.test", "--name", "A")[
            0
        ]
        == 0
    )
    again = _run(
        capsys, db, "agents", "add", "--org", "Acme", "--email", "A@acme.test", "--name", "A"
    )
    assert again[0] == 2 and "has an agent a@acme.test already" in again[2]
    nowhere = _run(
        capsys, db, "agents", "add", "--org", "Nope", "--email", "b@acme.test", "--name", "B"
    )
    assert nowhere[0] == 2 and "no organisation 'Nope'" in nowhere[2]
    several = _run(capsys, db, "agents", "add", "--email", "b@acme.test", "--name", "B")
    assert several[0] == 2 and "several organisations" in several[2]
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    short = _run(
        capsys,
        db,
        "agents",
        "add",
        "--org",
        "Acme",
        "--email",
        "c@acme.test",
        "--name",
        "C",
        "--password-stdin",
    )
    assert short[0] == 2 and "at least 12" in short[2]
    unknown = _run(capsys, db, "agents", "disable", "--org", "Acme", "--email", "z@acme.test")
    assert unknown[0] == 2 and "no agent z@acme.test" in unknown[2]


def test_disable_and_a_new_password(
    capsys: pytest.CaptureFixture[str], db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _run(capsys, db, "agents", "add", "--org", "Acme", "--email", "a@acme.test", "--name", "A")
    old = _hash(db, "a@acme.test")
    monkeypatch.setattr("sys.stdin", io.StringIO("the new password!\n"))
    code, out, _ = _run(
        capsys,
        db,
        "agents",
        "password",
        "--org",
        "Acme",
        "--email",
        "a@acme.test",
        "--password-stdin",
    )
    assert (code, out) == (0, "new password for a@acme.test; their sessions have ended\n")
    assert _hash(db, "a@acme.test") != old and verify(_hash(db, "a@acme.test"), "the new password!")
    code, out, _ = _run(capsys, db, "agents", "disable", "--org", "Acme", "--email", "a@acme.test")
    assert code == 0 and "disabled a@acme.test" in out
    code, out, _ = _run(capsys, db, "agents", "list", "--json")
    assert json.loads(out)[0]["disabled_at"] is not None


def test_a_limit_of_open_conversations_and_departments_are_set_and_listed(
    capsys: pytest.CaptureFixture[str], db: Path
) -> None:
    add = ("agents", "add", "--org", "Acme", "--name", "A")
    code, out, _ = _run(capsys, db, *add, "--email", "a@acme.test", "--max-open", "3")
    assert code == 0 and "max_open 3" in out.splitlines()
    code, out, _ = _run(capsys, db, *add, "--email", "b@acme.test")
    assert code == 0 and "max_open default" in out.splitlines()

    code, out, _ = _run(capsys, db, "agents", "list", "--json")
    assert [(a["email"], a["max_open"]) for a in json.loads(out)] == [
        ("a@acme.test", 3),
        ("b@acme.test", None),
    ]
    code, out, _ = _run(capsys, db, "agents", "list")
    header, first, second = out.splitlines()
    assert header.split("\t")[6] == "max_open"
    assert first.split("\t")[6] == "3" and second.split("\t")[6] == "default"

    change = ("agents", "set", "--org", "Acme", "--email")
    code, out, _ = _run(capsys, db, *change, "B@acme.test", "--max-open", "0")
    assert code == 0 and "max_open 0" in out.splitlines()
    code, out, _ = _run(
        capsys, db, *change, "b@acme.test", "--departments", "billing, support,billing", "--json"
    )
    changed = json.loads(out)["agent"]
    assert code == 0 and changed["departments"] == ["billing", "support"]
    assert changed["max_open"] == 0  # kept
    code, out, _ = _run(capsys, db, *change, "a@acme.test", "--max-open", "default")
    assert code == 0 and "max_open default" in out.splitlines()
    assert "departments support" in out.splitlines()  # kept

    code, out, _ = _run(capsys, db, "agents", "list", "--json")
    assert [(a["max_open"], a["departments"]) for a in json.loads(out)] == [
        (None, ["support"]),
        (0, ["billing", "support"]),
    ]


def test_refused_changes(capsys: pytest.CaptureFixture[str], db: Path) -> None:
    _run(capsys, db, "agents", "add", "--org", "Acme", "--email", "a@acme.test", "--name", "A")
    change = ("agents", "set", "--org", "Acme", "--email", "a@acme.test")
    nothing = _run(capsys, db, *change)
    assert nothing[0] == 2 and "nothing to change" in nothing[2]
    negative = _run(capsys, db, *change, "--max-open", "-1")
    assert negative[0] == 2 and "0 to 1000" in negative[2]
    huge = _run(capsys, db, "agents", "add", "--org", "Acme", "--email", "h@acme.test",
                "--name", "H", "--max-open", "1001")  # fmt: skip
    assert huge[0] == 2 and "0 to 1000" in huge[2]
    empty = _run(capsys, db, *change, "--departments", " , ")
    assert empty[0] == 2 and "at least one department" in empty[2]
    unknown = _run(capsys, db, "agents", "set", "--org", "Acme", "--email", "z@acme.test",
                   "--max-open", "2")  # fmt: skip
    assert unknown[0] == 2 and "no agent z@acme.test" in unknown[2]
    with pytest.raises(SystemExit) as exited:
        _run(capsys, db, *change, "--max-open", "many")
    assert exited.value.code == 2 and "a number or default" in capsys.readouterr().err

    _, out, _ = _run(capsys, db, "agents", "list", "--json")
    [kept] = json.loads(out)
    assert (kept["max_open"], kept["departments"]) == (None, ["support"])
