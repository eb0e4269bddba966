"""``/api/sites`` and the admin guard: no token, wrong token, right token."""

from __future__ import annotations

import httpx
import pytest

from bpract.sites import Site
from support.server import ServerProcess
from support.sites import make_token


@pytest.fixture(scope="module")
def token(live_server: ServerProcess) -> str:
    return make_token(live_server.db, "admin-tests")


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer bpa_wrong"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer"},
    ],
)
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/sites"),
        ("POST", "/api/sites"),
        ("GET", "/api/sites/1"),
        ("GET", "/api/sites/{key}/rules"),
    ],
)
def test_without_a_valid_token_admin_routes_answer_401(
    live_server: ServerProcess, live_site: Site, headers: dict[str, str], method: str, path: str
) -> None:
    url = live_server.url + path.format(key=live_site.public_key)
    response = httpx.request(
        method, url, headers=headers, json={"name": "x", "allowed_origins": ["https://a.example"]}
    )
    assert response.status_code == 401
    assert "token" in response.json()["detail"]


def test_sites_list_create_get(live_server: ServerProcess, live_site: Site, token: str) -> None:
    auth = {"Authorization": f"Bearer {token}"}
    listed = httpx.get(f"{live_server.url}/api/sites", headers=auth)
    assert listed.status_code == 200
    assert live_site.public_key in [s["public_key"] for s in listed.json()]
    assert all("identity_secret" not in s for s in listed.json())
    created = httpx.post(
        f"{live_server.url}/api/sites",
        headers=auth,
        json={
            "name": "Shop",
            "allowed_origins": ["https://Shop.Example:443/", "http://localhost:3000"],
        },
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["public_key"].startswith("pk_") and len(body["public_key"]) == 27
    assert body["identity_secret"].startswith("sk_")
    assert body["allowed_origins"] == ["http://localhost:3000", "https://shop.example"]
    fetched = httpx.get(f"{live_server.url}/api/sites/{body['id']}", headers=auth)
    shown_once = body.pop("identity_secret")
    assert fetched.json() == body  # never the secret again
    assert shown_once not in httpx.get(f"{live_server.url}/api/sites", headers=auth).text
    assert httpx.get(f"{live_server.url}/api/sites/99999", headers=auth).status_code == 404


@pytest.mark.parametrize(
    "payload",
    [
        {"name": "x", "allowed_origins": ["ftp://a.example"]},
        {"name": "x", "allowed_origins": ["https://a.example/path"]},
        {"name": "x", "allowed_origins": []},
        {"name": "", "allowed_origins": ["https://a.example"]},
        {"name": "x"},
    ],
)
def test_invalid_sites_are_refused_with_400(
    live_server: ServerProcess, token: str, payload: dict[str, object]
) -> None:
    response = httpx.post(
        f"{live_server.url}/api/sites", headers={"Authorization": f"Bearer {token}"}, json=payload
    )
    assert response.status_code == 400, response.text


def test_health_and_openapi_schema(live_server: ServerProcess) -> None:
    health = httpx.get(f"{live_server.url}/health").json()
    assert health["status"] == "ok" and health["db"] is True and health["version"]
    schema = httpx.get(f"{live_server.url}/schema/openapi.json")
    assert schema.status_code == 200
    assert "/api/sites" in schema.json()["paths"]
    assert (
        "access-control-allow-origin"
        not in httpx.get(
            f"{live_server.url}/api/sites", headers={"Origin": "https://evil.example"}
        ).headers
    )
