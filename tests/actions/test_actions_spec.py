"""The declared-actions format: what it accepts, and every refusal with its path."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from bpract.actions import ActionsInvalidError, validate_actions
from bpract.actions.spec import check_base_url, load_actions
from bpract.net import NetSettings

DEMO = Path(__file__).resolve().parents[2] / "demo_site" / "actions.yaml"

GOOD: dict[str, Any] = {
    "version": 1,
    "base_url": "https://api.shop.test/v1",
    "actions": [
        {
            "name": "refund",
            "description": "Refund a damaged item",
            "examples": ["my item arrived broken"],
            "method": "POST",
            "path": "/accounts/{account_id}/refunds",
            "kind": "write",
            "irreversible": True,
            "confirm": "always",
            "parameters": {
                "type": "object",
                "properties": {
                    "account_id": {"type": "string", "from": "identity.user_id"},
                    "amount_cents": {"type": "integer", "minimum": 1},
                },
                "required": ["account_id", "amount_cents"],
            },
            "auth": {"env": "SHOP_API_KEY"},
            "limits": {"max": {"amount_cents": 5000}, "per_visitor_per_day": 3},
            "result": {"currency": "the refund's currency"},
            "messages": {"success": "Refunded {amount_cents} {currency}", "failure": "No."},
        }
    ],
}


def _errors(data: object) -> list[tuple[str, str]]:
    with pytest.raises(ActionsInvalidError) as caught:
        validate_actions(data)
    return [(e.path, e.message) for e in caught.value.errors]


def _with(change: dict[str, Any], top: dict[str, Any] | None = None) -> dict[str, Any]:
    data = copy.deepcopy(GOOD)
    action = data["actions"][0]
    data.update(top or {})
    for key, value in change.items():
        target = action
        *parents, last = key.split(".")
        for part in parents:
            target = target[part]
        if value is None:
            del target[last]
        else:
            target[last] = value
    return data


def test_good_file_validates_with_defaults() -> None:
    actions = validate_actions(GOOD)
    (refund,) = actions.actions
    assert refund.bound() == {"account_id": "identity.user_id"}
    assert refund.audience == "verified"
    assert refund.auth is not None
    assert (refund.auth.header, refund.auth.scheme) == ("Authorization", "Bearer")
    assert actions.action("refund") is refund
    assert actions.action("nothing") is None


def test_demo_file_is_valid() -> None:
    actions = load_actions(DEMO.read_text(encoding="utf-8"))
    names = [a.name for a in actions.actions]
    assert names == [
        "order_status",
        "change_plan",
        "pause_membership",
        "cancel_membership",
        "refund_damaged_item",
        "reschedule_delivery",
    ]
    refund = actions.action("refund_damaged_item")
    assert refund is not None
    assert refund.limits.max == {"amount_cents": 5000}
    assert all(a.auth is not None and a.auth.env == "DEMO_API_KEY" for a in actions.actions)


@pytest.mark.parametrize(
    ("change", "path", "message"),
    [
        ({"descripton": "x"}, "actions[0].descripton", "did you mean 'description'?"),
        ({"auth.enviro": "X"}, "actions[0].auth.enviro", "did you mean 'env'?"),
        (
            {"limits.per_visitor_per_dya": 1},
            "actions[0].limits.per_visitor_per_dya",
            "did you mean 'per_visitor_per_day'?",
        ),
        ({"messages.sucess": "x"}, "actions[0].messages.sucess", "did you mean 'success'?"),
        (
            {"parameters.properties.amount_cents.minimun": 1},
            "actions[0].parameters.properties.amount_cents.minimun",
            "did you mean 'minimum'?",
        ),
        (
            {"parameters.properties.amount_cents.type": "money"},
            "actions[0].parameters.properties.amount_cents.type",
            "invalid JSON schema",
        ),
        ({"parameters.type": "array"}, "actions[0].parameters.type", "type 'object'"),
        (
            {"parameters.required": ["account_id", "amount_cents", "note"]},
            "actions[0].parameters.required",
            "'note' is required but not a property",
        ),
        ({"method": "PUTT"}, "actions[0].method", "did you mean 'PUT'?"),
        ({"kind": "reed"}, "actions[0].kind", "did you mean 'read'?"),
        ({"confirm": 3}, "actions[0].confirm", "Expected `str`"),
        ({"name": "Refund Now"}, "actions[0].name", "lower-case identifier"),
        ({"description": "  "}, "actions[0].description", "the model reads it"),
        ({"examples": [""]}, "actions[0].examples[0]", "an example is a request"),
        ({"auth.env": "sk_live_abc"}, "actions[0].auth.env", "never the secret"),
        ({"auth.header": "X Key"}, "actions[0].auth.header", "a header name"),
        ({"confirm": "never"}, "actions[0].confirm", "an irreversible action is always confirmed"),
        (
            {"kind": "read", "irreversible": True},
            "actions[0].irreversible",
            "a read action changes nothing",
        ),
        (
            {"audience": "public", "irreversible": False},
            "actions[0].audience",
            "a write action needs a verified identity",
        ),
        (
            {"path": "/refunds/{refund_id}"},
            "actions[0].path",
            "placeholder {refund_id} is not a parameter",
        ),
        ({"path": "/../admin"}, "actions[0].path", "no '..'"),
        ({"path": "refunds?x=1"}, "actions[0].path", "starts with '/'"),
        ({"path": "/a/%2E%2E/admin"}, "actions[0].path", "no '..'"),
        ({"path": "/a/{account_id"}, "actions[0].path", "a brace outside a {placeholder}"),
        (
            {
                "parameters.properties.note": {
                    "type": "object",
                    "properties": {"who": {"type": "string", "from": "identity.user_id"}},
                }
            },
            "actions[0].parameters.properties.note.properties.who.from",
            "only a parameter itself is bound",
        ),
        (
            {"parameters.properties.amount_cents.properties": ["x"]},
            "actions[0].parameters.properties.amount_cents.properties",
            "invalid JSON schema",
        ),
        (
            {"path": "/a/{amount_cents}", "parameters.required": ["account_id"]},
            "actions[0].path",
            "not required",
        ),
        (
            {"parameters.properties.account_id.from": "identity.email"},
            "actions[0].parameters.properties.account_id.from",
            "did you mean 'identity.user_id'?",
        ),
        (
            {"parameters.properties.account_id.default": "acct_1"},
            "actions[0].parameters.properties.account_id.from",
            "never asked from the visitor: no 'default'",
        ),
        (
            {"parameters.properties.account_id.type": "integer"},
            "actions[0].parameters.properties.account_id.from",
            "has type 'string'",
        ),
        (
            {"limits.max": {"amount": 10}},
            "actions[0].limits.max.amount",
            "did you mean 'amount_cents'?",
        ),
        (
            {"limits.max": {"account_id": 10}},
            "actions[0].limits.max.account_id",
            "not a number parameter",
        ),
        ({"limits.per_visitor_per_day": 0}, "actions[0].limits.per_visitor_per_day", "at least 1"),
        (
            {"messages.success": "Refunded {amount}"},
            "actions[0].messages.success",
            "did you mean 'amount_cents'?",
        ),
        ({"messages.failure": "Oops {"}, "actions[0].messages.failure", "not a template"),
    ],
)
def test_each_refusal_names_its_path(change: dict[str, Any], path: str, message: str) -> None:
    errors = _errors(_with(change))
    assert any(p == path and message in m for p, m in errors), errors


def test_a_public_action_binds_no_identity() -> None:
    errors = _errors(_with({"kind": "read", "irreversible": False, "audience": "public"}))
    assert (
        "actions[0].parameters.properties.account_id.from",
        "a public action has no verified identity to bind",
    ) in errors


@pytest.mark.parametrize(
    ("top", "path", "message"),
    [
        ({"base_url": "ftp://api.shop.test"}, "base_url", "an absolute http(s) URL"),
        ({"base_url": "https://user@api.shop.test"}, "base_url", "no user@"),
        ({"base_url": 7}, "base_url", "http(s) URL"),
        ({"version": 2}, "version", "reads version 1"),
        ({"actions": []}, "actions", "one or more actions"),
        ({"actons": []}, "actons", "did you mean 'actions'?"),
    ],
)
def test_file_level_refusals(top: dict[str, Any], path: str, message: str) -> None:
    errors = _errors(_with({}, top))
    assert any(p == path and message in m for p, m in errors), errors


def test_every_error_is_reported_at_once() -> None:
    data = _with({"descripton": "x", "confirm": "never"})
    data["actions"].append(copy.deepcopy(GOOD["actions"][0]))
    data["actions"].append("not a mapping")
    paths = [p for p, _ in _errors(data)]
    assert paths == [
        "actions[0].descripton",
        "actions[0].confirm",
        "actions[1].name",
        "actions[2]",
    ]


def test_too_many_actions() -> None:
    data = copy.deepcopy(GOOD)
    data["actions"] = [dict(GOOD["actions"][0], name=f"a{i}") for i in range(3)]
    with pytest.raises(ActionsInvalidError) as caught:
        validate_actions(data, max_actions=2)
    assert caught.value.errors[0].message == "3 actions: at most 2"


def test_yaml_errors_name_line_and_column() -> None:
    with pytest.raises(ActionsInvalidError) as caught:
        load_actions("version: 1\nactions: [\n")
    assert caught.value.errors[0].path.startswith("line ")
    with pytest.raises(ActionsInvalidError):
        load_actions("   ")
    with pytest.raises(ActionsInvalidError):
        load_actions("[1, 2]")


async def test_loopback_base_url_needs_the_allow_list() -> None:
    actions = validate_actions(yaml.safe_load(DEMO.read_text(encoding="utf-8")))
    with pytest.raises(ActionsInvalidError) as caught:
        await check_base_url(actions, NetSettings())
    assert caught.value.errors[0].path == "base_url"
    assert "loopback" in caught.value.errors[0].message
    await check_base_url(actions, NetSettings(allow="http://127.0.0.1:8080"))
