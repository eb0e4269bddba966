"""``bpract actions load|show|validate|import|audit`` through the real command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from bpract.actions import AuditEvent
from bpract.actions.storage import record_event
from bpract.cli import main
from bpract.store import Database, transaction
from support.sites import make_site

DEMO = Path(__file__).resolve().parents[2] / "demo_site" / "actions.yaml"

OPENAPI = {
    "openapi": "3.0.3",
    "info": {"title": "Shop", "version": "1"},
    "servers": [{"url": "https://api.shop.test/v1/"}],
    "paths": {
        "/orders/{orderId}": {
            "parameters": [{"name": "orderId", "in": "path", "schema": {"type": "string"}}],
            "get": {
                "operationId": "getOrder",
                "summary": "Look up an order",
                "parameters": [
                    {
                        "name": "expand",
                        "in": "query",
                        "description": "Related records to include",
                        "schema": {"type": "boolean"},
                    },
                    {"name": "X-Trace", "in": "header", "schema": {"type": "string"}},
                ],
            },
            "delete": {"operationId": "deleteOrder", "summary": "Delete"},
        },
        "/refunds": {
            "post": {
                "operationId": "createRefund",
                "description": "Refund part of a charge",
                "requestBody": {
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Refund"}}
                    }
                },
            }
        },
    },
    "components": {
        "schemas": {
            "Refund": {
                "type": "object",
                "properties": {
                    "amount_cents": {"type": "integer", "minimum": 1},
                    "currency": {"$ref": "#/components/schemas/Currency"},
                },
                "required": ["amount_cents"],
            },
            "Currency": {"type": "string", "enum": ["EUR", "USD"]},
        }
    },
}


@pytest.fixture
def cli_db(tmp_path: Path) -> Path:
    return tmp_path / "cli.db"


@pytest.fixture
def key(cli_db: Path) -> str:
    return make_site(cli_db, origins=["http://127.0.0.1:9"]).public_key


@pytest.fixture
def allow_demo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BPRACT_OUTBOUND_ALLOW", "http://127.0.0.1:8080")


@pytest.fixture
def openapi_file(tmp_path: Path) -> Path:
    path = tmp_path / "openapi.json"
    path.write_text(json.dumps(OPENAPI), encoding="utf-8")
    return path


def test_validate_the_demo(allow_demo: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["actions", "validate", str(DEMO)]) == 0
    assert capsys.readouterr().out == "ok: 6 action(s)\n"


def test_validate_refuses_loopback_unless_allowed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("BPRACT_OUTBOUND_ALLOW", raising=False)
    assert main(["actions", "validate", str(DEMO)]) == 1
    assert capsys.readouterr().err.startswith("base_url: 127.0.0.1 is a loopback address")


def test_validate_prints_every_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "version: 1\nbase_url: https://api.shop.test\nactions:\n"
        "  - {name: a, description: d, method: GET, path: '/x/{id}', kind: read, confrim: never}\n",
        encoding="utf-8",
    )
    assert main(["actions", "validate", str(bad)]) == 1
    assert capsys.readouterr().err.splitlines() == [
        "actions[0].confrim: unknown key 'confrim' — did you mean 'confirm'?",
        "actions[0].path: placeholder {id} is not a parameter (none declared)",
    ]


def test_load_show_versions(
    allow_demo: None, cli_db: Path, key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    db = ["--db", str(cli_db)]
    assert main(["actions", "load", str(DEMO), "--site", key, *db]) == 0
    assert capsys.readouterr().out == f"{key}: version 1, 6 action(s)\n"
    assert main(["actions", "load", str(DEMO), "--site", key, "--author", "ana", *db]) == 0
    assert "version 2" in capsys.readouterr().out
    assert main(["actions", "show", "--site", key, *db]) == 0
    out = capsys.readouterr().out
    header, _, source = out.partition("\n")
    assert header.startswith("# version 2, by ana at ")
    assert source == DEMO.read_text(encoding="utf-8")
    assert main(["actions", "show", "--site", key, "--json", *db]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["version"] == 2
    assert shown["actions"]["actions"][0]["confirm"] == "never"


def test_show_without_actions_and_unknown_site(
    cli_db: Path, key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["actions", "show", "--site", key, "--db", str(cli_db)]) == 1
    assert "no actions declared" in capsys.readouterr().err
    assert main(["actions", "show", "--site", "pk_nobody", "--db", str(cli_db)]) == 2
    assert "no site 'pk_nobody'" in capsys.readouterr().err


def test_audit_filters(cli_db: Path, key: str, capsys: pytest.CaptureFixture[str]) -> None:
    db = Database(cli_db)
    site = db.run_sync(
        lambda conn: int(
            conn.execute("SELECT id FROM sites WHERE public_key = ?", (key,)).fetchone()[0]
        )
    )

    def record(conn: object) -> None:
        with transaction(conn):  # type: ignore[arg-type]
            for conversation, visitor, event, reason in [
                ("c1", "v1", "proposed", ""),
                ("c1", "v1", "refused", "over the limit"),
                ("c2", "v1", "proposed", ""),
                ("c3", "v2", "confirmed", ""),
            ]:
                record_event(
                    conn,  # type: ignore[arg-type]
                    AuditEvent(
                        site_id=site,
                        conversation=conversation,
                        visitor=visitor,
                        action="refund",
                        event=event,
                        reason=reason,
                    ),
                )  # type: ignore[arg-type]

    db.run_sync(record)
    db.close()
    args = ["actions", "audit", "--site", key, "--db", str(cli_db)]
    assert main([*args, "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 4
    assert main([*args, "--conversation", "c1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("  ")[1:] for line in lines] == [
        ["c1", "v1", "refund", "proposed"],
        ["c1", "v1", "refund", "refused (over the limit)"],
    ]
    assert main([*args, "--visitor", "v1", "--json"]) == 0
    assert [e["conversation"] for e in json.loads(capsys.readouterr().out)] == ["c1", "c1", "c2"]
    assert main([*args, "--visitor", "v1", "--conversation", "c3", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_import_openapi(openapi_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([
        "actions", "import", str(openapi_file),
        "--operation", "getOrder", "--operation", "createRefund", "--auth-env", "SHOP_KEY",
    ]) == 0  # fmt: skip
    made = yaml.safe_load(capsys.readouterr().out)
    assert made["base_url"] == "https://api.shop.test/v1"
    get_order, refund = made["actions"]
    assert get_order == {
        "name": "get_order",
        "description": "Look up an order",
        "examples": [],
        "method": "GET",
        "path": "/orders/{orderId}",
        "kind": "read",
        "confirm": "never",
        "parameters": {
            "type": "object",
            "properties": {
                "orderId": {"type": "string"},
                "expand": {"type": "boolean", "description": "Related records to include"},
            },
            "required": ["orderId"],
        },
        "auth": {"env": "SHOP_KEY"},
    }
    assert refund["kind"] == "write"
    assert refund["confirm"] == "always"
    assert refund["description"] == "Refund part of a charge"
    assert refund["parameters"]["properties"]["currency"] == {
        "type": "string",
        "enum": ["EUR", "USD"],
    }
    assert refund["parameters"]["required"] == ["amount_cents"]


def test_import_refuses_unknown_operations_and_missing_server(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = {**OPENAPI, "servers": []}
    path = tmp_path / "openapi.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    assert main(["actions", "import", str(path), "--operation", "getOrdr"]) == 1
    assert capsys.readouterr().err.splitlines() == [
        "--operation: no operation 'getOrdr' (known: createRefund, deleteOrder, getOrder)",
        "servers: no absolute server URL: give --base-url",
    ]
    assert main([
        "actions", "import", str(path), "--operation", "deleteOrder", "--base-url", "https://x.test",
    ]) == 0  # fmt: skip
    assert yaml.safe_load(capsys.readouterr().out)["actions"][0]["method"] == "DELETE"
    bad = tmp_path / "swagger.json"
    bad.write_text('{"swagger": "2.0"}', encoding="utf-8")
    assert main(["actions", "import", str(bad), "--operation", "x"]) == 1
    assert capsys.readouterr().err == "openapi: not an OpenAPI 3 document\n"


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        ({"$ref": "#/components/schemas/Loop"}, "$ref nested too deep (a cycle?)"),
        ({"$ref": "https://schemas.example/refund.json"}, "only local references (#/…) are read"),
        ({"$ref": "#/components/schemas/Missing"}, "'#/components/schemas/Missing' not found"),
    ],
)
def test_import_refuses_references_it_cannot_follow(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], schema: dict[str, str], message: str
) -> None:
    document = json.loads(json.dumps(OPENAPI))
    document["components"]["schemas"]["Loop"] = {"$ref": "#/components/schemas/Loop"}
    body = document["paths"]["/refunds"]["post"]["requestBody"]["content"]["application/json"]
    body["schema"] = schema
    path = tmp_path / "openapi.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    assert main(["actions", "import", str(path), "--operation", "createRefund"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("paths./refunds.post")
    assert message in err


def test_import_checks_what_it_made(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    document = json.loads(json.dumps(OPENAPI))
    document["paths"]["/orders/{orderId}"]["parameters"][0]["schema"] = {"type": "boolean"}
    path = tmp_path / "openapi.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    assert main(["actions", "import", str(path), "--operation", "getOrder"]) == 1
    assert capsys.readouterr().err == (
        "actions[0].path: placeholder {orderId} names a parameter that is not a string or integer\n"
    )
