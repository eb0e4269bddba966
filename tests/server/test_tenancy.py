"""Tenancy of the admin API: organisations, roles, site-limited tokens, expiry and revocation.

The walk calls EVERY operation of the app's OpenAPI schema against a victim
organisation's real site with an attacker organisation's owner token: each answers
403 or 404 (or, for the routes that name no site, shows nothing of the victim), and the
victim's rows are unchanged afterwards.  An endpoint added later is walked the day it
is added; one that ignores the caller's scope fails this test.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import apsw
import httpx
import pytest
from litestar import Controller, Litestar, get
from litestar.datastructures import State
from litestar.testing import TestClient

from bpract.app import create_app
from bpract.settings import ServerSettings, Settings
from bpract.sites import Site, get_site_by_key, user_hash, verify_identity
from bpract.sites.auth import SITE_READ, SITES_LIST, admin_guard, requires
from bpract.sites.tokens import revoke_token
from bpract.store import Database
from quality.conftest import WEEK, Chat
from support.sites import make_site, make_token

RULES = """
rules:
  - id: pricing-offer
    when: {page: ["/pricing*"], attentive_seconds: 60}
    message: {text: "Comparing plans?"}
"""
ONE_RULE = """
id: pricing-offer
when: {page: ["/pricing*"], attentive_seconds: 5}
message: {text: "Hijacked"}
"""
NEW_RULE = """
id: extra
when: {page: ["/x"]}
message: {text: "Hijacked"}
"""

#: Bodies the walk sends, so that an operation that ignored scope would really act.
ACTIONS = """
version: 1
base_url: https://attacker.example.com
actions:
  - {name: drain, description: Refund everything, method: POST, path: /refunds, kind: write}
"""

#: Operations not listed get ``{}``; that still fails the walk if the guard lets it through.
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("PUT", "/api/sites/{site_key}/rules"): {"content": RULES.replace("Comparing", "Hijacked")},
    ("POST", "/api/sites/{site_key}/rules"): {"content": NEW_RULE},
    ("POST", "/api/sites/{site_key}/rules/validate"): {"content": RULES},
    ("PUT", "/api/sites/{site_key}/rules/{rule_id}"): {"content": ONE_RULE},
    ("PUT", "/api/sites/{site_key}/actions"): {"content": ACTIONS},
    ("PUT", "/api/sites/{site_key}/chat-settings"): {"json": {"handoff_on_failure": True}},
    ("PUT", "/api/sites/{site_key}/ticket-settings"): {
        "json": {"webhook_url": "https://attacker.example.com/hook", "rotate_secret": True}
    },
    ("PUT", "/api/sites/{site_key}/llm/budgets"): {"json": {"period": "day", "hard_nano": 1}},
    ("PUT", "/api/sites/{site_key}/llm/budgets/hook"): {
        "json": {"url": "https://attacker.example.com/hook"}
    },
    ("PUT", "/api/sites/{site_key}/quality/reviews/{message_id}"): {
        "json": {"verdict": "hallucination", "reviewer": "mallory"}
    },
    ("POST", "/api/sites"): {
        "json": {"name": "Mallory's", "allowed_origins": ["https://m.example"]}
    },
}
METHODS = ("get", "put", "post", "delete", "patch")


@dataclass
class World:
    client: TestClient[Litestar]
    db_path: Path
    victim: Site
    sibling: Site
    attacker_site: Site
    params: dict[str, str]
    tokens: dict[str, str]

    def call(self, method: str, path: str, token: str | None, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.client.request(method, path, headers=headers, **kwargs)


def _rows(db_path: Path, sql: str, *args: object) -> list[tuple[Any, ...]]:
    conn = apsw.Connection(str(db_path))
    try:
        return list(conn.execute(sql, args))
    finally:
        conn.close()


def victim_snapshot(db_path: Path, site: Site) -> dict[str, list[str]]:
    """Every row of the victim: its site and organisation rows, and each table's site rows."""
    tables = [
        str(name)
        for (name,) in _rows(
            db_path, "SELECT name FROM sqlite_master WHERE type = 'table' AND sql IS NOT NULL"
        )
    ]
    snapshot = {
        "sites": sorted(map(repr, _rows(db_path, "SELECT * FROM sites WHERE id = ?", site.id))),
        "organisations": sorted(
            map(repr, _rows(db_path, "SELECT * FROM organisations WHERE id = ?", site.org_id))
        ),
    }
    for table in tables:
        columns = {str(r[1]) for r in _rows(db_path, f"PRAGMA table_info({table})")}
        if "site_id" in columns:
            found = _rows(db_path, f"SELECT * FROM {table} WHERE site_id = ?", site.id)
            snapshot[table] = sorted(map(repr, found))
    return snapshot


def operations(app: Litestar) -> list[tuple[str, str]]:
    """``(METHOD, path template)`` of every operation in the app's OpenAPI schema."""
    found = []
    for path, item in (app.openapi_schema.paths or {}).items():
        for method in METHODS:
            if getattr(item, method, None) is not None:
                found.append((method.upper(), path))
    return found


def fill(template: str, params: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match[1]
        assert name in params, f"the walk needs a real value for {{{name}}} (add it to params)"
        return params[name]

    return re.sub(r"\{(\w+)\}", value, template)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    db_path = tmp_path_factory.mktemp("tenancy") / "bpract.db"
    origins = ["http://127.0.0.1:9"]
    victim = make_site(db_path, name="Victim shop", origins=origins, org="victim")
    sibling = make_site(db_path, name="Victim docs", origins=origins, org="victim")
    attacker_site = make_site(db_path, name="Attacker shop", origins=origins, org="attacker")
    tokens = {
        "owner": make_token(db_path, "victim-owner", org="victim"),
        "marketer": make_token(db_path, "victim-marketer", org="victim", role="marketer"),
        "agent": make_token(db_path, "victim-agent", org="victim", role="agent"),
        "read-only": make_token(db_path, "victim-reader", org="victim", role="read-only"),
        "limited": make_token(db_path, "victim-limited", org="victim", sites=[victim.id]),
        "attacker": make_token(db_path, "attacker-owner", org="attacker"),
        "expired": make_token(db_path, "victim-expired", org="victim"),
        "revoked": make_token(db_path, "victim-revoked", org="victim"),
    }
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat(timespec="seconds")
    conn = apsw.Connection(str(db_path))
    with conn:
        expire = "UPDATE admin_tokens SET expires_at = ? WHERE name = 'victim-expired'"
        conn.execute(expire, (past,))
        (revoked_id,) = conn.execute(
            "SELECT id FROM admin_tokens WHERE name = 'victim-revoked'"
        ).fetchone()
        revoke_token(conn, int(revoked_id), past)
    conn.close()
    # The victim's data: answers to review (grounded already, so no scorer writes them).
    db = Database(db_path)
    chat = Chat(db)
    reply = chat.turn(victim.id, "v_1", "Refund?", "In 5 days.", grounding=0.4, rating="down")
    conversation = chat.conversation(victim.id, "v_1")
    db.close()
    app = create_app(Settings.read({}, ServerSettings(db=db_path)))
    with TestClient(app) as client:
        w = World(client, db_path, victim, sibling, attacker_site, {}, tokens)
        base = f"/api/sites/{victim.public_key}"
        owner = tokens["owner"]
        assert w.call("PUT", f"{base}/rules", owner, content=RULES).status_code == 200
        limit = {"period": "month", "hard_nano": 10_000_000_000}
        assert w.call("PUT", f"{base}/llm/budgets", owner, json=limit).status_code == 200
        sample = w.call("POST", f"{base}/quality/reviews/sample?week={WEEK}", owner)
        assert sample.status_code == 201, sample.text
        assert [i["message_id"] for i in sample.json()["items"]] == [reply]
        w.params = {
            "site_key": victim.public_key,
            "site_id": str(victim.id),
            "rule_id": "pricing-offer",
            "message_id": reply,
            "conversation": conversation,
        }
        yield w


def test_the_walk_another_organisation_reaches_nothing(world: World) -> None:
    app = world.client.app
    ops = operations(app)
    assert ("PUT", "/api/sites/{site_key}/llm/budgets") in ops and len(ops) > 20
    before = victim_snapshot(world.db_path, world.victim)
    assert before["rulesets"] and before["reviews"] and before["llm_budgets"]
    seen = {world.victim.public_key, world.victim.name, world.victim.identity_secret}
    problems = []
    for method, template in ops:
        if not template.startswith("/api"):
            continue
        path = fill(template, world.params)
        body = BODIES.get((method, template), {"json": {}})
        answer = world.call(method, path, world.tokens["attacker"], **body)
        if "{" in template:
            if answer.status_code not in (403, 404):
                problems.append(f"{method} {template}: {answer.status_code} {answer.text[:200]}")
        elif answer.status_code >= 500 or any(s in answer.text for s in seen):
            problems.append(f"{method} {template} shows the victim: {answer.text[:200]}")
    assert problems == []
    assert victim_snapshot(world.db_path, world.victim) == before


@pytest.mark.parametrize("who", [None, "bpa_forged", "expired", "revoked"])
def test_the_walk_without_a_live_token_every_operation_answers_401(
    world: World, who: str | None
) -> None:
    token = world.tokens.get(who or "", who)
    before = victim_snapshot(world.db_path, world.victim)
    problems = []
    for method, template in operations(world.client.app):
        if not template.startswith("/api"):
            continue
        body = BODIES.get((method, template), {"json": {}})
        answer = world.call(method, fill(template, world.params), token, **body)
        if answer.status_code != 401:
            problems.append(f"{method} {template}: {answer.status_code}")
    assert problems == []
    assert victim_snapshot(world.db_path, world.victim) == before


@pytest.mark.parametrize(
    ("role", "method", "path", "body", "status"),
    [
        ("read-only", "GET", "/rules", {}, 200),
        ("read-only", "GET", "/llm/usage", {}, 200),
        ("read-only", "PUT", "/rules", {"content": RULES}, 403),
        ("read-only", "POST", "/rules/validate", {"content": RULES}, 403),
        ("read-only", "PUT", "/quality/reviews/{message_id}",
         {"json": {"verdict": "grounded", "reviewer": "r"}}, 403),
        ("read-only", "GET", "/chat-settings", {}, 200),
        ("read-only", "PUT", "/chat-settings", {"json": {"handoff_on_failure": True}}, 403),
        ("agent", "PUT", "/chat-settings", {"json": {"handoff_on_failure": True}}, 403),
        ("marketer", "PUT", "/rules", {"content": RULES}, 200),
        ("marketer", "PUT", "/chat-settings", {"json": {"handoff_on_failure": False}}, 200),
        ("marketer", "PUT", "/llm/budgets", {"json": {"period": "day", "hard_nano": 1}}, 403),
        ("marketer", "PUT", "/llm/budgets/hook", {"json": {"url": "https://h.example/x"}}, 403),
        ("marketer", "POST", "/identity-secret", {}, 403),
        ("read-only", "GET", "/ticket-settings", {}, 200),
        ("marketer", "PUT", "/ticket-settings", {"json": {"hours": None}}, 403),
        ("agent", "PUT", "/ticket-settings", {"json": {"hours": None}}, 403),
        ("agent", "PUT", "/rules", {"content": RULES}, 403),
        ("agent", "DELETE", "/rules/pricing-offer", {}, 403),
        ("agent", "GET", "/quality/reviews?week=" + WEEK, {}, 200),
        ("agent", "PUT", "/quality/reviews/{message_id}",
         {"json": {"verdict": "partial", "reviewer": "ana"}}, 200),
        ("limited", "GET", "/rules", {}, 200),
        ("limited", "POST", "/identity-secret", {}, 403),
    ],
)  # fmt: skip
def test_role_matrix(
    world: World, role: str, method: str, path: str, body: dict[str, Any], status: int
) -> None:
    url = f"/api/sites/{world.victim.public_key}" + path.format(**world.params)
    answer = world.call(method, url, world.tokens[role], **body)
    assert answer.status_code == status, answer.text
    if status == 403:
        assert role in answer.json()["detail"] or "limited" in answer.json()["detail"]


def test_a_site_limited_token_stays_on_its_sites(world: World) -> None:
    limited = world.tokens["limited"]
    sibling = f"/api/sites/{world.sibling.public_key}"
    for method, path in [("GET", "/rules"), ("GET", "/llm/budgets"), ("GET", "")]:
        url = f"/api/sites/{world.sibling.id}" if path == "" else sibling + path
        assert world.call(method, url, limited).status_code == 404, url
    listed = world.call("GET", "/api/sites", limited).json()
    assert [s["public_key"] for s in listed] == [world.victim.public_key]
    create = {"name": "More", "allowed_origins": ["https://more.example"]}
    refused = world.call("POST", "/api/sites", limited, json=create)
    assert refused.status_code == 403, refused.text


def test_another_organisations_site_looks_like_no_site(world: World) -> None:
    attacker = world.tokens["attacker"]
    theirs = world.call("GET", f"/api/sites/{world.victim.public_key}/rules", attacker)
    nobody = world.call("GET", "/api/sites/pk_does_not_exist/rules", attacker)
    assert theirs.status_code == nobody.status_code == 404
    assert world.victim.public_key in theirs.json()["detail"]  # only what the caller sent
    by_id = world.call("GET", f"/api/sites/{world.victim.id}", attacker)
    assert by_id.status_code == world.call("GET", "/api/sites/987654", attacker).status_code == 404


def test_lists_show_only_the_callers_sites_and_never_a_secret(world: World) -> None:
    victim_list = world.call("GET", "/api/sites", world.tokens["read-only"])
    assert {s["public_key"] for s in victim_list.json()} >= {
        world.victim.public_key,
        world.sibling.public_key,
    }
    assert world.attacker_site.public_key not in victim_list.text
    attacker_list = world.call("GET", "/api/sites", world.tokens["attacker"]).json()
    assert world.victim.public_key not in {s["public_key"] for s in attacker_list}
    for site in (world.victim, world.sibling, world.attacker_site):
        assert site.identity_secret not in victim_list.text
    assert all("identity_secret" not in s for s in victim_list.json())
    one = world.call("GET", f"/api/sites/{world.victim.id}", world.tokens["agent"])
    assert one.status_code == 200 and "identity_secret" not in one.json()


def test_the_secret_is_shown_once_and_rotation_retires_the_old_one(world: World) -> None:
    owner = world.tokens["owner"]
    made = world.call(
        "POST",
        "/api/sites",
        owner,
        json={"name": "Pop-up", "allowed_origins": ["https://p.example"]},
    )
    assert made.status_code == 201, made.text
    key, first = made.json()["public_key"], made.json()["identity_secret"]
    assert first.startswith("sk_")
    assert first not in world.call("GET", "/api/sites", owner).text
    assert first not in world.call("GET", f"/api/sites/{made.json()['id']}", owner).text
    listed = world.call("GET", "/api/sites", world.tokens["read-only"]).json()
    assert key in [s["public_key"] for s in listed]  # made in the caller's organisation

    rotated = world.call("POST", f"/api/sites/{key}/identity-secret", owner)
    assert rotated.status_code == 200, rotated.text
    second = rotated.json()["identity_secret"]
    assert second.startswith("sk_") and second != first
    db = Database(world.db_path)
    try:
        stored = db.run_sync(lambda conn: get_site_by_key(conn, key)).identity_secret
    finally:
        db.close()
    # What the visitor socket checks an ``identify`` frame's user_hash against.
    assert not verify_identity(stored, "42", user_hash(first, "42"))
    assert verify_identity(stored, "42", user_hash(second, "42"))


def test_a_rule_versions_author_is_the_principal(world: World) -> None:
    base = f"/api/sites/{world.victim.public_key}/rules"
    saved = world.call("PUT", base, world.tokens["marketer"], content=RULES)
    assert saved.status_code == 200, saved.text
    assert saved.json()["author"] == "victim-marketer"
    versions = world.call("GET", f"{base}/versions", world.tokens["read-only"]).json()
    assert versions[0]["author"] == "victim-marketer"
    assert versions[-1]["author"] == "victim-owner"


class Probe(Controller):
    path = "/api/probe"
    guards = [admin_guard]  # noqa: RUF012 - Litestar reads it from the class

    @get("/undeclared")
    async def undeclared(self) -> str:
        return "reached"

    @get("/site-without-a-site", opt=requires(SITE_READ))
    async def site_without_a_site(self) -> str:
        return "reached"

    @get("/{site_key:str}/org-wide", opt=requires(SITES_LIST))
    async def org_wide_with_a_site(self) -> str:
        return "reached"

    @get("/{site_key:str}/declared", opt=requires(SITE_READ))
    async def declared(self) -> str:
        return "reached"


def test_the_guard_fails_closed_for_a_handler_that_declares_nothing(tmp_path: Path) -> None:
    site = make_site(tmp_path / "p.db", origins=["http://127.0.0.1:9"])
    token = make_token(tmp_path / "p.db")
    db = Database(tmp_path / "p.db")
    headers = {"Authorization": f"Bearer {token}"}
    try:
        app = Litestar(route_handlers=[Probe], state=State({"db": db}))
        with TestClient(app) as client:
            for path in ("undeclared", "site-without-a-site", f"{site.public_key}/org-wide"):
                answer = client.get(f"/api/probe/{path}", headers=headers)
                assert answer.status_code == 403, path
                assert "declares no permission" in answer.json()["detail"]
            declared = client.get(f"/api/probe/{site.public_key}/declared", headers=headers)
            assert declared.status_code == 200 and declared.text == "reached"
    finally:
        db.close()
