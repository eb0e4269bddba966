"""The ``ticket`` frame and its delivery: refusals, stored once, signed, retried, and exactly
once across a restart of the server between the visitor's submit and the delivery."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from bpract.tickets.signing import verify
from bpract.wire import MAX_MESSAGE_CHARS
from support.eventually import eventually
from tickets.conftest import Receiver, World, make_world, open_visitor, rows


def _configure(world: World, receiver: Receiver) -> None:
    with world.api() as api:
        put = api.put(world.settings_url(), json={"webhook_url": receiver.url})
    assert put.status_code == 200, put.text
    receiver.secret = put.json()["secret"]


def _state(world: World, ticket: str) -> tuple[str, int]:
    found = rows(world.db, "SELECT state, attempts FROM ticket_outbox WHERE ticket_id = ?", ticket)
    return (str(found[0][0]), int(found[0][1])) if found else ("", 0)


def _tickets(world: World) -> list[tuple[str, str, str]]:
    return [(str(i), str(e), str(q)) for i, e, q in rows(
        world.db, "SELECT id, email, question FROM tickets ORDER BY created_ms"
    )]  # fmt: skip


@pytest.fixture
def world(tmp_path: Path, receiver: Receiver) -> Iterator[World]:
    env = {
        "BPRACT_OUTBOUND_ALLOW": receiver.origin,
        "BPRACT_TICKETS_PER_VISITOR": "2",
        # a process killed in the middle of an attempt holds its claim this long
        "BPRACT_TICKETS_CLAIM": "3",
    }
    found = make_world(tmp_path, env)
    try:
        yield found
    finally:
        found.server.stop()


async def test_refusals_name_the_problem(world: World) -> None:
    visitor = await open_visitor(world.server, world.site)
    await visitor.ticket("not-an-address", "Where is my order?", seq=1)
    error, _ = await visitor.recv_until("error")
    assert (error["code"], error["seq"]) == ("invalid", 1)
    assert "email" in error["message"]
    await visitor.ticket("ana@example.com", "x" * (MAX_MESSAGE_CHARS + 1), seq=2)
    error, _ = await visitor.recv_until("error")
    assert (error["code"], error["seq"]) == ("invalid", 2)
    assert "text" in error["message"]
    await visitor.ticket("ana@example.com", "", seq=3)
    error, _ = await visitor.recv_until("error")
    assert (error["code"], error["seq"]) == ("invalid", 3)
    assert _tickets(world) == []
    # two a visitor, an hour (BPRACT_TICKETS_PER_VISITOR=2): the third is refused, not stored
    for seq in (4, 5):
        await visitor.ticket("ana@example.com", f"question {seq}", seq=seq)
        assert await visitor.acks(1) == [seq]
    await visitor.ticket("ana@example.com", "one too many", seq=6)
    error, _ = await visitor.recv_until("error")
    assert (error["code"], error["seq"]) == ("rate_limited", 6)
    assert "tickets" in error["message"]
    assert [q for _, _, q in _tickets(world)] == ["question 4", "question 5"]
    await visitor.close()


async def test_the_same_frame_twice_is_one_ticket_delivered_once_signed(
    world: World, receiver: Receiver
) -> None:
    _configure(world, receiver)
    visitor = await open_visitor(world.server, world.site, lang="fr-FR")
    await visitor.ticket("ana@example.com", "Où est ma commande ?", seq=1)
    assert await visitor.acks(1) == [1]
    await visitor.ticket("ana@example.com", "Où est ma commande ?", seq=1)  # a resend
    assert await visitor.acks(1) == [1]
    await visitor.close()
    [(ticket, email, question)] = _tickets(world)
    eventually(lambda: _state(world, ticket), equals=("delivered", 1), timeout=20)
    [delivery] = receiver.taken()
    assert delivery.signed
    assert delivery.headers["x-bpract-delivery"] == ticket
    assert delivery.headers["content-type"] == "application/json"
    body = delivery.json
    assert body["id"] == ticket and body["site"] == world.site.public_key
    assert (body["email"], body["question"]) == (email, question) == (
        "ana@example.com", "Où est ma commande ?"
    )  # fmt: skip
    assert body["visitor"] == visitor.visitor and body["lang"] == "fr-FR"
    assert body["created_at"].endswith("+00:00")
    assert len(receiver.seen) == 1
    log = world.server.log()
    assert "ana@example.com" not in log and "commande" not in log
    assert receiver.secret not in log


async def test_a_500_is_retried_with_backoff_and_a_bad_signature_is_told(
    world: World, receiver: Receiver
) -> None:
    _configure(world, receiver)
    receiver.answers = [500, 503, 200]
    visitor = await open_visitor(world.server, world.site)
    await visitor.ticket("bo@example.com", "Can I return a gift?")
    assert await visitor.acks(1) == [1]
    await visitor.close()
    [(ticket, _, _)] = _tickets(world)
    eventually(lambda: _state(world, ticket), equals=("delivered", 3), timeout=30)
    assert [d.status for d in receiver.seen] == [500, 503, 200]
    assert all(d.signed for d in receiver.seen)
    assert {d.headers["x-bpract-delivery"] for d in receiver.seen} == {ticket}
    # a receiver with another secret would refuse it: the signature binds the secret
    receiver.secret = "whsec_other"
    first = receiver.seen[-1]
    stamp = int(first.headers["x-bpract-signature"].split(",")[0][2:])
    assert not verify("whsec_other", first.headers["x-bpract-signature"], first.body, now_s=stamp)
    assert not verify(
        receiver.secret, first.headers["x-bpract-signature"], first.body + b" ", now_s=stamp
    )


async def test_attempts_run_out_and_the_ticket_is_kept_as_failed(
    tmp_path: Path, receiver: Receiver
) -> None:
    env = {"BPRACT_OUTBOUND_ALLOW": receiver.origin, "BPRACT_TICKETS_MAX_ATTEMPTS": "2"}
    world = make_world(tmp_path, env)
    try:
        _configure(world, receiver)
        receiver.answers = [500]
        visitor = await open_visitor(world.server, world.site)
        await visitor.ticket("cy@example.com", "Hello?")
        assert await visitor.acks(1) == [1]
        await visitor.close()
        [(ticket, _, _)] = _tickets(world)
        eventually(lambda: _state(world, ticket), equals=("failed", 2), timeout=30)
        [(error,)] = rows(world.db, "SELECT last_error FROM ticket_outbox")
        assert error == "status 500"
    finally:
        world.server.stop()


async def test_delivered_exactly_once_across_a_restart(world: World, receiver: Receiver) -> None:
    _configure(world, receiver)
    receiver.answers = [500]  # the receiver is failing when the visitor submits
    visitor = await open_visitor(world.server, world.site)
    await visitor.ticket("dee@example.com", "Is the blue coat back in stock?")
    assert await visitor.acks(1) == [1]
    await visitor.close()
    [(ticket, _, _)] = _tickets(world)
    eventually(lambda: len(receiver.seen) >= 1, timeout=20)
    world.server.kill()  # a crash: nothing of the process survives but the database
    assert _state(world, ticket)[0] == "pending"
    receiver.answers = [200]
    world.server.start(timeout=60)
    eventually(lambda: _state(world, ticket)[0], equals="delivered", timeout=30)
    taken = receiver.taken()
    assert len(taken) == 1 and taken[0].signed
    assert taken[0].headers["x-bpract-delivery"] == ticket
    assert taken[0].json["question"] == "Is the blue coat back in stock?"
    # and a restart after the delivery sends nothing again
    seen = len(receiver.seen)
    world.server.restart(timeout=60)  # answers /health: its start-up delivery pass ran
    await asyncio.sleep(0.5)  # shows that nothing happens: several delivery passes
    assert len(receiver.seen) == seen and _state(world, ticket)[0] == "delivered"
