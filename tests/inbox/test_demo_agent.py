"""``bpract demo``'s inbox agent: made once, its password kept privately in the data folder."""

from __future__ import annotations

import dataclasses
import json
import os
import stat
from pathlib import Path

import apsw

from bpract.demo import demo_agent, demo_owner
from bpract.inbox.passwords import verify
from support.sites import make_site


def _hashes(db: Path) -> list[tuple[str, str]]:
    conn = apsw.Connection(str(db))
    try:
        return [(str(e), str(h)) for e, h in conn.execute(
            "SELECT email, password_hash FROM inbox_agents")]  # fmt: skip
    finally:
        conn.close()


def test_the_demo_agent_is_made_once_and_its_password_kept_private(tmp_path: Path) -> None:
    db, data = tmp_path / "bpract.db", tmp_path / "data"
    data.mkdir()
    site = dataclasses.asdict(make_site(db, origins=["http://127.0.0.1:8080"], org="Northwind"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("BPRACT_")}
    env["BPRACT_DB"] = str(db)

    first = demo_agent(env, site, data)
    [(email, password_hash)] = _hashes(db)
    assert email == first["email"] and verify(password_hash, first["password"])
    saved = data / "agent.json"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert json.loads(saved.read_text()) == first

    assert demo_agent(env, site, data) == first  # a restart reuses it
    assert _hashes(db) == [(email, password_hash)]

    saved.unlink()  # the file lost: the same agent gets a new password
    renewed = demo_agent(env, site, data)
    assert renewed["email"] == email and renewed["password"] != first["password"]
    [(_, new_hash)] = _hashes(db)
    assert verify(new_hash, renewed["password"]) and not verify(new_hash, first["password"])


def test_the_demo_owner_is_an_owner_of_the_console(tmp_path: Path) -> None:
    db, data = tmp_path / "bpract.db", tmp_path / "data"
    data.mkdir()
    site = dataclasses.asdict(make_site(db, origins=["http://127.0.0.1:8080"], org="Northwind"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("BPRACT_")}
    env["BPRACT_DB"] = str(db)

    agent, owner = demo_agent(env, site, data), demo_owner(env, site, data)
    assert owner["email"] != agent["email"] and owner["password"] != agent["password"]
    conn = apsw.Connection(str(db))
    try:
        access = dict(conn.execute("SELECT email, access FROM inbox_agents").fetchall())
    finally:
        conn.close()
    assert access == {agent["email"]: "agent", owner["email"]: "owner"}
    assert json.loads((data / "owner.json").read_text()) == owner
    assert demo_owner(env, site, data) == owner
