"""The actions REST API over the real application (Litestar's TestClient), auth included."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from bpract.actions import AuditEvent
from bpract.actions.storage import record_event
from bpract.app import create_app
from bpract.settings import ServerSettings, Settings
from bpract.store import Database, transaction
from support.sites import make_site, make_token

DEMO = (Path(__file__).resolve().parents[2] / "demo_site" / "actions.yaml").read_text("utf-8")


@pytest.fixture
def app_db(tmp_path: Path) -> Path:
    return tmp_path / "api.db"


@pytest.fixture
def site_key(app_db: Path) -> str:
    return make_site(app_db, origins=["http://127.0.0.1:9"]).public_key


@pytest.fixture
def client(app_db: Path, site_key: str) -> Iterator[TestClient[Litestar]]:
    environ = {"BPRACT_OUTBOUND_ALLOW": "http://127.0.0.1:8080"}
    with TestClient(create_app(Settings.read(environ, ServerSettings(db=app_db)))) as test_client:
        yield test_client


def _headers(app_db: Path, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(app_db, role, role=role)}"}


def test_put_then_get_versions(client: TestClient[Litestar], app_db: Path, site_key: str) -> None:
    owner = _headers(app_db, "owner")
    base = f"/api/sites/{site_key}/actions"
    empty = client.get(base, headers=owner)
    assert empty.status_code == 200
    assert empty.json() == {
        "site": site_key,
        "version": 0,
        "author": "",
        "created_at": "",
        "actions": None,
        "source": "",
    }
    put = client.put(base, headers=owner, content=DEMO)
    assert put.status_code == 200, put.text
    assert put.json()["version"] == 1
    assert put.json()["author"] == "owner"
    as_json = json.dumps(put.json()["actions"])
    again = client.put(base, headers=owner, content=as_json)
    assert again.status_code == 200
    got = client.get(base, headers=_headers(app_db, "read-only")).json()
    assert got["version"] == 2
    assert got["source"] == as_json
    assert [a["name"] for a in got["actions"]["actions"]][-1] == "reschedule_delivery"


def test_put_reports_every_error(client: TestClient[Litestar], app_db: Path, site_key: str) -> None:
    bad = DEMO.replace("confirm: always", "confirm: allways", 1).replace("kind: read", "knd: read")
    response = client.put(
        f"/api/sites/{site_key}/actions", headers=_headers(app_db, "owner"), content=bad
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert {
        "path": "actions[0].knd",
        "message": "unknown key 'knd' — did you mean 'kind'?",
    } in errors
    assert any(
        e["path"] == "actions[1].confirm" and "did you mean 'always'?" in e["message"]
        for e in errors
    )
    not_utf8 = client.put(
        f"/api/sites/{site_key}/actions", headers=_headers(app_db, "owner"), content=b"\xff"
    )
    assert not_utf8.status_code == 400


def test_put_refuses_a_private_base_url(
    client: TestClient[Litestar], app_db: Path, site_key: str
) -> None:
    private = DEMO.replace("http://127.0.0.1:8080/api", "http://127.0.0.1:9/api")
    response = client.put(
        f"/api/sites/{site_key}/actions", headers=_headers(app_db, "owner"), content=private
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "base_url"


@pytest.mark.parametrize(
    ("role", "status"), [("marketer", 403), ("agent", 403), ("read-only", 403)]
)
def test_only_the_owner_writes(
    client: TestClient[Litestar], app_db: Path, site_key: str, role: str, status: int
) -> None:
    headers = _headers(app_db, role)
    base = f"/api/sites/{site_key}/actions"
    assert client.put(base, headers=headers, content=DEMO).status_code == status
    assert client.get(base, headers=headers).status_code == 200
    assert client.get(f"{base}/audit", headers=headers).status_code == 200


@pytest.mark.parametrize("authorization", [None, "Bearer bpa_wrong"])
@pytest.mark.parametrize(("method", "path"), [("GET", ""), ("PUT", ""), ("GET", "/audit")])
def test_every_route_needs_an_admin_token(
    client: TestClient[Litestar], site_key: str, method: str, path: str, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = client.request(
        method, f"/api/sites/{site_key}/actions{path}", headers=headers, content=DEMO
    )
    assert response.status_code == 401


def test_audit_filters(client: TestClient[Litestar], app_db: Path, site_key: str) -> None:
    db = Database(app_db)

    def record(conn: object) -> None:
        (site,) = conn.execute("SELECT id FROM sites WHERE public_key = ?", (site_key,)).fetchone()  # type: ignore[attr-defined]
        with transaction(conn):  # type: ignore[arg-type]
            for conversation, visitor, event in [
                ("c1", "v1", "proposed"),
                ("c1", "v1", "declined"),
                ("c2", "v2", "expired"),
            ]:
                record_event(
                    conn,
                    AuditEvent(
                        site_id=site,
                        conversation=conversation,
                        visitor=visitor,
                        action="pause_membership",
                        event=event,
                    ),
                )  # type: ignore[arg-type]

    db.run_sync(record)
    db.close()
    base = f"/api/sites/{site_key}/actions/audit"
    headers = _headers(app_db, "agent")
    every = client.get(base, headers=headers).json()
    assert [e["event"] for e in every] == ["proposed", "declined", "expired"]
    assert every[0]["at"].endswith("Z")
    one = client.get(base, headers=headers, params={"conversation": "c1"}).json()
    assert [e["event"] for e in one] == ["proposed", "declined"]
    other = client.get(base, headers=headers, params={"visitor": "v2"}).json()
    assert [(e["conversation"], e["event"]) for e in other] == [("c2", "expired")]
    assert (
        client.get(base, headers=headers, params={"visitor": "v2", "conversation": "c1"}).json()
        == []
    )
