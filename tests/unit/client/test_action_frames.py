"""Action cards through the Client: cards and results reach the page; a click goes out once,
as a ``confirm`` or ``decline`` frame the server decodes, carrying the token unchanged."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bpract.wire import frames as server
from bpract_client.protocol import ProtocolError, parse_server_frame
from unit.client.support import T0, ev
from unit.client.test_chat_frames import connected

CARD = server.ActionCard(
    id="pa_1",
    token="v1.abc.def",
    conversation="c_1",
    action="change_plan",
    title="Change your Club plan",
    text="Move your Club membership to another plan.",
    details=[server.ActionDetail(label="Billing", value="monthly")],
    before="plus, billed monthly",
    fields=[
        server.ActionField(name="plan", label="Plan", kind="choice", choices=["basic", "premium"]),
        server.ActionField(name="months", label="Months", kind="integer", min=1, max=3, value=1),
    ],
    expires_at=T0 + 600_000,
)


@pytest.mark.parametrize(
    "frame",
    [
        CARD,
        server.ActionCard(
            id="pa_2",
            token="v1.x",
            conversation="c_1",
            action="order_status",
            title="Orders",
            text="Look up your orders.",
            expires_at=T0,
        ),
        server.ActionResult(id="pa_1", state="succeeded", text="You are now on premium."),
        server.ActionResult(id="pa_1", state="refused", text="Sign in first."),
        server.ReplyEnd(id="r_1", text="Please choose below.", kind="action", offline=True),
    ],
)
def test_cards_and_results_reach_the_page_as_sent(frame: server.ServerFrame) -> None:
    h = connected()
    h.client.on_text(server.encode(frame).decode())
    posted = [p for p in h.take_posts() if p["type"] != "persist"]
    expected = json.loads(server.encode(frame))
    assert posted == [{"type": expected.pop("t"), **expected}]


def test_card_defaults_are_filled_in() -> None:
    text = json.dumps({"t": "action", "id": "pa_1", "token": "v1.x", "conversation": "c_1",
                       "action": "a", "title": "T", "text": "x", "expires_at": 1})  # fmt: skip
    frame = parse_server_frame(text)
    assert (frame["details"], frame["fields"], frame["before"], frame["after"]) == ([], [], "", "")
    assert frame["irreversible"] is False


BASE = {"t": "action", "id": "pa_1", "token": "v1.x", "conversation": "c_1", "action": "a",
        "title": "T", "text": "x", "expires_at": 1}  # fmt: skip


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"id": ""}, "action.id"),
        ({"token": 5}, "action.token"),
        ({"expires_at": "soon"}, "action.expires_at"),
        ({"fields": [{"name": "plan", "label": "Plan", "kind": "slider"}]}, "action.fields"),
        ({"fields": [{"label": "Plan", "kind": "text"}]}, "action.fields"),
        ({"details": ["Amount: 5"]}, "action.details"),
        ({"irreversible": "yes"}, "action.irreversible"),
    ],
)
def test_malformed_cards_are_refused(change: dict[str, Any], field: str) -> None:
    with pytest.raises(ProtocolError, match=field):
        parse_server_frame(json.dumps({**BASE, **change}))


@pytest.mark.parametrize(
    "frame",
    [
        {"t": "action_result", "id": "pa_1", "state": "maybe", "text": "x"},
        {"t": "action_result", "id": "pa_1", "state": "succeeded"},
        {"t": "action_result", "state": "succeeded", "text": "x"},
    ],
)
def test_malformed_results_are_refused(frame: dict[str, Any]) -> None:
    with pytest.raises(ProtocolError):
        parse_server_frame(json.dumps(frame))


def test_confirm_and_decline_clicks_become_frames_the_server_decodes() -> None:
    h = connected()
    h.events(
        ev("confirm", T0 + 1, token="v1.abc.def", values={"plan": "premium", "months": 2}),
        ev("decline", T0 + 2, token="v1.other"),
    )
    sent = h.transport.take()
    assert [f["seq"] for f in sent] == [1, 2]
    confirm, decline = (server.decode_client(json.dumps(f)) for f in sent)
    assert isinstance(confirm, server.Confirm) and isinstance(decline, server.Decline)
    assert (confirm.token, confirm.values, confirm.at) == (
        "v1.abc.def",
        {"plan": "premium", "months": 2},
        T0 + 1,
    )
    assert decline.token == "v1.other"
    # posted straight to the worker, the same
    h.client.on_main_message({"type": "confirm", "token": "v1.abc.def", "values": {}})
    [again] = h.transport.take()
    assert again["t"] == "confirm" and again["values"] == {}


def test_form_values_keep_what_was_typed_and_drop_what_is_not_a_value() -> None:
    h = connected()
    reason = "The seam tore on the first wash. " * 20  # longer than a trait, kept whole
    values = {"reason": reason, "ok": True, "n": 2.5, "none": None, "nested": {"a": 1},
              "list": [1], "huge": 2**60, "": "x", "k" * 65: "x"}  # fmt: skip
    h.events(ev("confirm", T0 + 1, token="v1.t", values=values))
    [frame] = h.transport.take()
    assert frame["values"] == {"reason": reason, "ok": True, "n": 2.5, "none": None}
    assert isinstance(server.decode_client(json.dumps(frame)), server.Confirm)


@pytest.mark.parametrize(
    "event",
    [
        {"k": "confirm"},
        {"k": "confirm", "token": ""},
        {"k": "confirm", "token": 7},
        {"k": "decline", "token": "v" * 1025},
        {"k": "decline", "token": ["v1.x"]},
    ],
)
def test_a_click_without_a_usable_token_sends_nothing(event: dict[str, Any]) -> None:
    h = connected()
    h.events({**event, "at": T0 + 1})
    assert h.transport.take() == []
