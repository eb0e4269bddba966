"""The rules REST API over the real application (Litestar's TestClient), auth included."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from bpract.app import create_app
from bpract.settings import ServerSettings, Settings
from support.sites import make_site, make_token

GOOD = """
policy: {interruption_budget: 3}
rules:
  - id: pricing-offer
    when: {page: ["/pricing*"], attentive_seconds: 60}
    message: {text: "Comparing plans?"}
    cooldown: 1h
"""


class Api:
    def __init__(self, client: TestClient[Litestar], key: str, token: str) -> None:
        self.client = client
        self.base = f"/api/sites/{key}/rules"
        self.headers = {"Authorization": f"Bearer {token}"}

    def get(self, path: str = "", **params: str | int) -> httpx.Response:
        return self.client.get(self.base + path, headers=self.headers, params=params)

    def send(self, method: str, path: str = "", body: str = "") -> httpx.Response:
        return self.client.request(method, self.base + path, headers=self.headers, content=body)


@pytest.fixture
def app_db(tmp_path: Path) -> Path:
    return tmp_path / "api.db"


@pytest.fixture
def site_key(app_db: Path) -> str:
    return make_site(app_db, origins=["http://127.0.0.1:9"]).public_key


@pytest.fixture
def client(app_db: Path, site_key: str) -> Iterator[TestClient[Litestar]]:
    with TestClient(create_app(Settings.read({}, ServerSettings(db=app_db)))) as test_client:
        yield test_client


@pytest.fixture
def api(client: TestClient[Litestar], site_key: str, app_db: Path) -> Api:
    return Api(client, site_key, make_token(app_db, "marketer"))


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", ""),
        ("PUT", ""),
        ("POST", "/validate"),
        ("GET", "/versions"),
        ("GET", "/report"),
        ("POST", ""),
        ("GET", "/pricing-offer"),
        ("PUT", "/pricing-offer"),
        ("DELETE", "/pricing-offer"),
    ],
)
@pytest.mark.parametrize("authorization", [None, "Bearer bpa_wrong", "Basic abc"])
def test_every_route_needs_an_admin_token(
    client: TestClient[Litestar],
    site_key: str,
    method: str,
    path: str,
    authorization: str | None,
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = client.request(
        method, f"/api/sites/{site_key}/rules{path}", headers=headers, content=GOOD
    )
    assert response.status_code == 401


def test_unknown_site_is_404(api: Api) -> None:
    api.base = "/api/sites/pk_nope/rules"
    response = api.get()
    assert response.status_code == 404
    assert "pk_nope" in response.json()["detail"]


def test_empty_site_has_version_zero(api: Api) -> None:
    body = api.get().json()
    assert (body["version"], body["ruleset"]["rules"], body["author"]) == (0, [], "")


def test_put_get_and_versions(api: Api) -> None:
    response = api.send("PUT", body=GOOD)
    assert response.status_code == 200, response.text
    saved = response.json()
    assert saved["version"] == 1
    assert saved["author"] == "marketer"
    assert saved["ruleset"]["rules"][0]["cooldown"] == 3600
    assert api.get().json() == saved
    json_body = '{"rules": [{"id": "b", "message": {"text": "hi"}}]}'
    assert api.send("PUT", body=json_body).json()["version"] == 2
    versions = api.get("/versions").json()
    assert [(v["version"], v["rules"], v["source"]) for v in versions] == [
        (2, 1, json_body),
        (1, 1, GOOD),
    ]


def test_invalid_put_is_400_with_every_error_and_saves_nothing(api: Api) -> None:
    bad = (
        'rules:\n  - id: a\n    message: {text: hi}\n    when: {atentive_seconds: 5, page: ["x"]}\n'
    )
    response = api.send("PUT", body=bad)
    assert response.status_code == 400
    body = response.json()
    assert body["status_code"] == 400
    assert {e["path"] for e in body["errors"]} == {
        "rules[0].when.atentive_seconds",
        "rules[0].when.page[0]",
    }
    assert "did you mean 'attentive_seconds'" in body["errors"][0]["message"]
    assert api.get().json()["version"] == 0


def test_a_body_that_is_not_utf8_is_400(api: Api) -> None:
    response = api.client.put(api.base, headers=api.headers, content=b"\xff\xfe")
    assert response.status_code == 400
    assert response.json()["errors"] == [{"path": "$", "message": "the body is not UTF-8 text"}]


def test_validate_does_not_save(api: Api) -> None:
    ok = api.send("POST", "/validate", GOOD)
    assert ok.status_code == 200
    assert ok.json() == {"ok": True, "errors": [], "rules": 1}
    bad = api.send("POST", "/validate", "rules: [{id: a, message: {text: hi}, holdout: 300}]")
    assert bad.json() == {
        "ok": False,
        "errors": [
            {"path": "rules[0].holdout", "message": "holdout must be a percentage within 0..100"}
        ],
        "rules": 0,
    }
    assert api.get().json()["version"] == 0


def test_single_rule_routes(api: Api) -> None:
    api.send("PUT", body=GOOD)
    added = api.send("POST", body="id: cart-help\nmessage: {text: 'Need help?'}\ncooldown: 10m\n")
    assert added.status_code == 201, added.text
    assert added.json()["version"] == 2
    assert added.json()["rule"]["cooldown"] == 600
    assert api.send("POST", body="id: cart-help\nmessage: {text: again}").status_code == 409
    got = api.get("/cart-help").json()
    assert got == added.json()
    replaced = api.send("PUT", "/cart-help", "message: {text: Changed}\n")
    assert replaced.status_code == 200
    assert (replaced.json()["version"], replaced.json()["rule"]["message"]["text"]) == (
        3,
        "Changed",
    )
    mismatch = api.send("PUT", "/cart-help", "id: other\nmessage: {text: x}\n")
    assert mismatch.status_code == 400
    assert mismatch.json()["errors"][0]["path"] == "rule.id"
    assert api.send("PUT", "/nope", "message: {text: x}\n").status_code == 404
    invalid = api.send("POST", body="id: x\nmesage: {text: x}\n")
    assert invalid.status_code == 400
    assert "did you mean 'message'" in invalid.json()["errors"][0]["message"]
    deleted = api.send("DELETE", "/pricing-offer")
    assert deleted.status_code == 200
    assert deleted.json()["version"] == 4
    assert [r["id"] for r in deleted.json()["ruleset"]["rules"]] == ["cart-help"]
    assert api.send("DELETE", "/pricing-offer").status_code == 404
    assert api.get("/pricing-offer").status_code == 404
    assert [v["version"] for v in api.get("/versions").json()] == [4, 3, 2, 1]


def test_report_route(api: Api) -> None:
    api.send("PUT", body=GOOD)
    body = api.get("/report", days=7).json()
    assert body["days"] == 7
    (rule,) = body["rules"]
    assert rule["rule"] == "pricing-offer"
    assert rule["fires"] == {}
    assert rule["treated"] == {"visitors": 0, "converted": 0, "rate": None}
    assert (rule["lift"], rule["srm"]) == (None, None)
    assert rule["verdict"] == "no holdout to compare with"
    assert rule["relative_mde"] == 0.10
    assert api.get("/report", days=7, mde=20).json()["rules"][0]["relative_mde"] == 0.20
    assert api.get("/report", days=0).status_code == 400


def test_rules_are_in_the_openapi_schema(api: Api) -> None:
    paths = api.client.get("/schema/openapi.json").json()["paths"]
    assert "/api/sites/{site_key}/rules/{rule_id}" in paths


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", '{"rules": [{"id": "a", "message": {"text": "hi"}}]}'),
        ("application/yaml", "rules: [{id: a, message: {text: hi}}]"),
        ("text/plain; charset=utf-8", "rules: [{id: a, message: {text: hi}}]"),
    ],
)
def test_any_content_type_carries_yaml_or_json(api: Api, content_type: str, body: str) -> None:
    headers = api.headers | {"Content-Type": content_type}
    response = api.client.put(api.base, headers=headers, content=body)
    assert response.status_code == 200, response.text
    assert response.json()["ruleset"]["rules"][0]["id"] == "a"
