"""The demo business API over real HTTP: reads, writes, refusals, idempotency, keys, identity."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import uuid
from typing import Any

import httpx
import pytest

from .conftest import IDENTITY_SECRET, DemoServer


def post(
    client: httpx.Client, path: str, body: dict[str, Any], key: str | None = None
) -> httpx.Response:
    return client.post(path, json=body, headers={"Idempotency-Key": key or str(uuid.uuid4())})


def weekday_after(day: dt.date, *, at_least: int) -> dt.date:
    day += dt.timedelta(days=at_least)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


def weekend_within_window(today: dt.date) -> dt.date:
    day = today + dt.timedelta(days=1)
    while day.weekday() != 5:
        day += dt.timedelta(days=1)
    return day


# Reads


def test_account_read_shows_plan_price_and_last_charge(shared_demo: DemoServer) -> None:
    with shared_demo.client() as c:
        account = c.get("/api/accounts/u_1001").json()
    assert account["plan"] == "plus" and account["billing"] == "monthly"
    assert account["status"] == "active"
    assert account["price_cents"] == 1900
    assert account["last_charge"]["amount_cents"] == 1900
    assert account["last_charge"]["refunded_cents"] == 0
    assert dt.date.fromisoformat(account["renews_on"]) > dt.date.today()


def test_order_read_lists_items_total_and_a_weekday_delivery(shared_demo: DemoServer) -> None:
    with shared_demo.client() as c:
        order = c.get("/api/orders/NW-10482").json()
    assert order["account_id"] == "u_1001" and order["status"] == "shipped"
    assert [(i["item_id"], i["size"], i["quantity"]) for i in order["items"]] == [
        ("NW-105", "M", 2),
        ("NW-104", "32", 1),
    ]
    assert order["total_cents"] == 2 * 2500 + 6900
    delivery = dt.date.fromisoformat(order["delivery_date"])
    assert delivery > dt.date.today() and delivery.weekday() < 5


def test_account_orders_newest_first(shared_demo: DemoServer) -> None:
    with shared_demo.client() as c:
        orders = c.get("/api/accounts/u_1001/orders").json()
    assert [o["id"] for o in orders] == ["NW-10482", "NW-10455"]


@pytest.mark.parametrize(
    "path", ["/api/accounts/u_9999", "/api/orders/NW-1", "/api/accounts/u_9999/orders"]
)
def test_unknown_ids_are_404(shared_demo: DemoServer, path: str) -> None:
    with shared_demo.client() as c:
        response = c.get(path)
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


# Keys


@pytest.mark.parametrize("key", [None, "wrong-key", "test-api-key-but-longer"])
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/accounts/u_1001"),
        ("GET", "/api/orders/NW-10482"),
        ("POST", "/api/accounts/u_1001/cancel"),
        ("POST", "/api/orders/NW-10482/reschedule"),
    ],
)
def test_missing_or_wrong_api_key_is_401(
    shared_demo: DemoServer, key: str | None, method: str, path: str
) -> None:
    with shared_demo.client(key=key) as c:
        response = c.request(method, path, json={}, headers={"Idempotency-Key": "k"})
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_refused_write_without_key_changes_nothing(shared_demo: DemoServer) -> None:
    with shared_demo.client(key=None) as anonymous:
        assert post(anonymous, "/api/accounts/u_1001/cancel", {}).status_code == 401
    with shared_demo.client() as c:
        assert c.get("/api/accounts/u_1001").json()["status"] == "active"


# Plan changes


def test_change_plan_takes_effect_now(demo: DemoServer) -> None:
    with demo.client() as c:
        before = c.get("/api/accounts/u_1001").json()
        response = post(c, "/api/accounts/u_1001/plan", {"plan": "premium", "billing": "annual"})
        assert response.status_code == 200
        assert response.json()["plan"] == "premium"
        after = c.get("/api/accounts/u_1001").json()
    assert (after["plan"], after["billing"], after["price_cents"]) == ("premium", "annual", 37440)
    assert after["renews_on"] == before["renews_on"]


def test_change_to_the_same_plan_is_409(shared_demo: DemoServer) -> None:
    with shared_demo.client() as c:
        response = post(c, "/api/accounts/u_1001/plan", {"plan": "plus", "billing": "monthly"})
    assert response.status_code == 409
    assert response.json()["error"] == "same_plan"


@pytest.mark.parametrize(
    "body", [{"plan": "gold"}, {"plan": "plus", "billing": "weekly"}, {}, {"plan": "basic", "x": 1}]
)
def test_change_plan_body_is_validated(shared_demo: DemoServer, body: dict[str, Any]) -> None:
    with shared_demo.client() as c:
        assert post(c, "/api/accounts/u_1001/plan", body).status_code == 400


def test_account_without_membership_cannot_change_pause_cancel_or_refund(
    shared_demo: DemoServer,
) -> None:
    with shared_demo.client() as c:
        for path, body, code in [
            ("plan", {"plan": "basic"}, "no_membership"),
            ("pause", {"months": 1}, "no_membership"),
            ("cancel", {}, "no_membership"),
            ("refunds", {"amount_cents": 100}, "no_charge"),
        ]:
            response = post(c, f"/api/accounts/u_1004/{path}", body)
            assert (response.status_code, response.json()["error"]) == (409, code), path


# Cancel and pause


def test_cancel_keeps_benefits_to_the_paid_date_and_refuses_further_changes(
    demo: DemoServer,
) -> None:
    with demo.client() as c:
        renews_on = c.get("/api/accounts/u_1001").json()["renews_on"]
        response = post(c, "/api/accounts/u_1001/cancel", {"reason": "too_expensive"})
        assert response.status_code == 200
        cancelled = response.json()
        assert cancelled["status"] == "cancelled"
        assert cancelled["ends_on"] == renews_on and cancelled["renews_on"] is None
        assert cancelled["cancel_reason"] == "too_expensive"
        for path, body in [("cancel", {}), ("plan", {"plan": "basic"}), ("pause", {"months": 1})]:
            refused = post(c, f"/api/accounts/u_1001/{path}", body)
            assert refused.status_code == 409 and refused.json()["error"] == "account_cancelled"
    identity = httpx.get(f"{demo.url}/api/me/identity").json()
    assert "plan" not in identity["traits"] and identity["traits"]["status"] == "cancelled"


def test_pause_moves_renewal_and_cannot_stack(demo: DemoServer) -> None:
    with demo.client() as c:
        before = dt.date.fromisoformat(c.get("/api/accounts/u_1001").json()["renews_on"])
        paused = post(c, "/api/accounts/u_1001/pause", {"months": 2}).json()
        again = post(c, "/api/accounts/u_1001/pause", {"months": 1})
    assert paused["status"] == "paused"
    assert dt.date.fromisoformat(paused["paused_until"]) > dt.date.today() + dt.timedelta(days=55)
    renews = dt.date.fromisoformat(paused["renews_on"])
    assert (renews.year * 12 + renews.month) - (before.year * 12 + before.month) == 2
    assert again.status_code == 409 and again.json()["error"] == "already_paused"


@pytest.mark.parametrize("months", [0, 4, -1])
def test_pause_length_is_one_to_three_months(shared_demo: DemoServer, months: int) -> None:
    with shared_demo.client() as c:
        assert post(c, "/api/accounts/u_1001/pause", {"months": months}).status_code == 400


# Refunds


def test_refunds_never_exceed_what_is_left_of_the_last_charge(demo: DemoServer) -> None:
    with demo.client() as c:
        too_much = post(c, "/api/accounts/u_1001/refunds", {"amount_cents": 1901})
        assert too_much.status_code == 422
        assert too_much.json()["error"] == "refund_exceeds_charge"
        first = post(c, "/api/accounts/u_1001/refunds", {"amount_cents": 1000, "reason": "forgot"})
        assert first.status_code == 200
        assert first.json()["amount_cents"] == 1000 and first.json()["currency"] == "EUR"
        assert post(c, "/api/accounts/u_1001/refunds", {"amount_cents": 901}).status_code == 422
        assert post(c, "/api/accounts/u_1001/refunds", {"amount_cents": 900}).status_code == 200
        assert post(c, "/api/accounts/u_1001/refunds", {"amount_cents": 1}).status_code == 422
        charge = c.get("/api/accounts/u_1001").json()["last_charge"]
    assert charge["refunded_cents"] == 1900


@pytest.mark.parametrize("amount", [0, -5, 12.5, None])
def test_refund_amount_must_be_positive_whole_cents(
    shared_demo: DemoServer, amount: object
) -> None:
    with shared_demo.client() as c:
        assert post(c, "/api/accounts/u_1001/refunds", {"amount_cents": amount}).status_code == 400


# Reschedule


def test_reschedule_to_a_weekday_within_14_days(demo: DemoServer) -> None:
    target = weekday_after(dt.date.today(), at_least=6)
    with demo.client() as c:
        response = post(c, "/api/orders/NW-10482/reschedule", {"date": target.isoformat()})
        assert response.status_code == 200
        assert c.get("/api/orders/NW-10482").json()["delivery_date"] == target.isoformat()


def _last_weekday_in_window(today: dt.date) -> dt.date:
    day = today + dt.timedelta(days=14)
    while day.weekday() >= 5:
        day -= dt.timedelta(days=1)
    return day


def test_reschedule_accepts_the_last_weekday_of_the_window(demo: DemoServer) -> None:
    target = _last_weekday_in_window(dt.date.today())
    with demo.client() as c:
        assert (
            post(c, "/api/orders/NW-10490/reschedule", {"date": target.isoformat()}).status_code
            == 200
        )


def _refused_dates(today: dt.date) -> list[tuple[dt.date, str]]:
    return [
        (today, "date_not_future"),
        (today - dt.timedelta(days=3), "date_not_future"),
        (weekday_after(today, at_least=15), "date_too_far"),
        (weekend_within_window(today), "date_weekend"),
        (weekend_within_window(today) + dt.timedelta(days=1), "date_weekend"),
    ]


def test_reschedule_refuses_past_today_too_far_and_weekends(shared_demo: DemoServer) -> None:
    with shared_demo.client() as c:
        before = c.get("/api/orders/NW-10482").json()["delivery_date"]
        for day, code in _refused_dates(dt.date.today()):
            response = post(c, "/api/orders/NW-10482/reschedule", {"date": day.isoformat()})
            assert (response.status_code, response.json()["error"]) == (422, code), day
        assert c.get("/api/orders/NW-10482").json()["delivery_date"] == before


def test_delivered_orders_cannot_be_rescheduled(shared_demo: DemoServer) -> None:
    target = weekday_after(dt.date.today(), at_least=2)
    with shared_demo.client() as c:
        response = post(c, "/api/orders/NW-10455/reschedule", {"date": target.isoformat()})
    assert response.status_code == 409 and response.json()["error"] == "not_reschedulable"


@pytest.mark.parametrize("body", [{"date": "next tuesday"}, {"date": "2026-02-30"}, {}])
def test_reschedule_body_is_validated(shared_demo: DemoServer, body: dict[str, Any]) -> None:
    with shared_demo.client() as c:
        assert post(c, "/api/orders/NW-10482/reschedule", body).status_code == 400


def test_reschedule_unknown_order_is_404(shared_demo: DemoServer) -> None:
    target = weekday_after(dt.date.today(), at_least=2)
    with shared_demo.client() as c:
        assert (
            post(c, "/api/orders/NW-1/reschedule", {"date": target.isoformat()}).status_code == 404
        )


# Idempotency


def test_replay_returns_the_first_result_and_acts_once(demo: DemoServer) -> None:
    with demo.client() as c:
        first = post(c, "/api/accounts/u_1001/refunds", {"amount_cents": 500}, key="refund-1")
        second = post(c, "/api/accounts/u_1001/refunds", {"amount_cents": 500}, key="refund-1")
        charge = c.get("/api/accounts/u_1001").json()["last_charge"]
    assert first.status_code == second.status_code == 200
    assert second.content == first.content
    assert second.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert charge["refunded_cents"] == 500


def test_a_refusal_is_replayed_too(demo: DemoServer) -> None:
    with demo.client() as c:
        first = post(c, "/api/accounts/u_1001/refunds", {"amount_cents": 5000}, key="big")
        second = post(c, "/api/accounts/u_1001/refunds", {"amount_cents": 5000}, key="big")
    assert first.status_code == second.status_code == 422
    assert second.content == first.content and second.headers["idempotent-replayed"] == "true"


def test_a_key_reused_for_another_request_is_refused(demo: DemoServer) -> None:
    with demo.client() as c:
        assert (
            post(c, "/api/accounts/u_1001/refunds", {"amount_cents": 100}, key="k1").status_code
            == 200
        )
        other_body = post(c, "/api/accounts/u_1001/refunds", {"amount_cents": 200}, key="k1")
        other_path = post(c, "/api/accounts/u_1002/refunds", {"amount_cents": 100}, key="k1")
        charge = c.get("/api/accounts/u_1001").json()["last_charge"]
    for response in (other_body, other_path):
        assert response.status_code == 422
        assert response.json()["error"] == "idempotency_key_reused"
    assert charge["refunded_cents"] == 100


@pytest.mark.parametrize("headers", [{}, {"Idempotency-Key": ""}, {"Idempotency-Key": "x" * 256}])
def test_writes_need_an_idempotency_key(shared_demo: DemoServer, headers: dict[str, str]) -> None:
    with shared_demo.client() as c:
        response = c.post("/api/accounts/u_1001/cancel", json={}, headers=headers)
        assert response.status_code == 400
        assert c.get("/api/accounts/u_1001").json()["status"] == "active"


# The signed-in visitor


def test_identity_hash_is_hmac_sha256_of_the_user_id(shared_demo: DemoServer) -> None:
    identity = httpx.get(f"{shared_demo.url}/api/me/identity").json()
    expected = hmac.new(IDENTITY_SECRET.encode(), b"u_1001", hashlib.sha256).hexdigest()
    assert identity["user_id"] == "u_1001"
    assert identity["user_hash"] == expected
    assert identity["traits"]["plan"] == "plus"
    assert identity["traits"]["email"] == "maya.lindqvist@example.com"


def test_me_pause_needs_an_idempotency_key_and_replays(demo: DemoServer) -> None:
    with httpx.Client(base_url=demo.url) as c:
        assert c.post("/api/me/pause", json={"months": 1}).status_code == 400
        first = post(c, "/api/me/pause", {"months": 1}, key="p")
        second = post(c, "/api/me/pause", {"months": 1}, key="p")
        assert first.status_code == 200 and second.content == first.content
        assert c.get("/api/me/account").json()["status"] == "paused"
