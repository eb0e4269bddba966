"""The visitor key: sent in hello, kept from welcome, and a fresh visitor adopted."""

from __future__ import annotations

from typing import Any

from unit.client.support import T0, ev
from unit.client.test_client import harness


def welcome(visitor: str, key: str, stored_seq: int = 0) -> dict[str, Any]:
    ruleset = {"version": 1, "rules": []}
    return {"t": "welcome", "visitor": visitor, "key": key, "stream": "s_1",
            "stored_seq": stored_seq, "ruleset": ruleset, "config": {}}  # fmt: skip


def test_the_key_is_sent_in_hello_and_a_new_one_is_handed_to_the_page() -> None:
    h = harness(key="k_old")
    h.client.start()
    h.client.on_open()
    [hello] = h.transport.take()
    assert (hello["visitor"], hello["key"]) == ("v_1", "k_old")
    h.server(welcome("v_1", "k_old"))
    assert h.posts("visitor") == []  # nothing new to keep
    h.client.on_close(1006, "")
    h.scheduled.pop()[1]()
    h.client.on_open()
    h.server(welcome("v_1", "k_new"))
    assert h.posts("visitor") == [{"type": "visitor", "visitor": "v_1", "key": "k_new"}]


def test_a_fresh_visitor_is_adopted_and_the_outbox_numbered_for_it() -> None:
    h = harness()  # no key: say the server has seen v_1 before and cannot tell it is us
    h.client.start()
    h.client.on_open()
    assert h.transport.take()[0]["key"] is None
    h.server(welcome("v_1", "k_1", stored_seq=0))
    h.events(ev("track", T0 + 1, name="a"))
    h.server({"t": "ack", "seq": [f["seq"] for f in h.transport.take()]})
    h.events(ev("message", T0 + 2, text="Hi", id="b1"))
    sent = h.transport.take()
    assert sent[0]["seq"] > 1 and sent[0]["t"] == "message"
    h.client.on_close(1006, "")
    h.scheduled.pop()[1]()
    h.client.on_open()
    h.server(welcome("v_2", "k_2"))  # a hello with k_1 was not believed: a new visitor
    assert h.posts("visitor")[-1] == {"type": "visitor", "visitor": "v_2", "key": "k_2"}
    resent = [f for f in h.transport.take() if f["t"] != "hello"]
    assert [f["seq"] for f in resent] == list(range(1, len(sent) + 1))  # numbered afresh
    assert [f["t"] for f in resent] == [f["t"] for f in sent]
    h.server({"t": "ack", "seq": [1]})
    assert h.posts("sent")[-1] == {"type": "sent", "id": "b1", "seq": 1}
    h.client.on_close(1006, "")
    h.scheduled.pop()[1]()
    h.client.on_open()
    [hello] = h.transport.take()
    assert (hello["visitor"], hello["key"]) == ("v_2", "k_2")
