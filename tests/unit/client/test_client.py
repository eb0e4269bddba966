"""The Client end to end over an in-memory transport, a fake clock and a fixed random source."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from bpract_client import protocol
from bpract_client.client import Client, ConnectionState
from unit.client.support import SECOND, T0, ev, page, rule, sequential_ids

URL = "ws://127.0.0.1:9/v1/visitor"


@dataclass
class FakeTransport:
    """Records what the client does to its socket."""

    opened: list[str] = field(default_factory=list)
    sent: list[dict[str, Any]] = field(default_factory=list)
    closed: list[tuple[int, str]] = field(default_factory=list)
    fail_open: bool = False

    def open(self, url: str) -> None:
        if self.fail_open:
            raise OSError("refused")
        self.opened.append(url)

    def send(self, text: str) -> None:
        self.sent.append(json.loads(text))

    def close(self, code: int, reason: str) -> None:
        self.closed.append((code, reason))

    def take(self) -> list[dict[str, Any]]:
        sent, self.sent = self.sent, []
        return sent


@dataclass
class Harness:
    client: Client
    transport: FakeTransport
    posted: list[dict[str, Any]]
    scheduled: list[tuple[float, Callable[[], None]]]
    clock: list[int]

    def advance(self, ms: int) -> None:
        self.clock[0] += ms

    def now(self) -> int:
        return self.clock[0]

    def posts(self, kind: str) -> list[dict[str, Any]]:
        return [p for p in self.posted if p["type"] == kind]

    def take_posts(self) -> list[dict[str, Any]]:
        posted, self.posted[:] = list(self.posted), []
        return posted

    def events(self, *events: dict[str, Any]) -> None:
        self.client.on_main_message({"type": "events", "events": list(events)})

    def server(self, frame: dict[str, Any]) -> None:
        self.client.on_text(json.dumps(frame))

    def connect(
        self, stored_seq: int = 0, ruleset: dict[str, Any] | None = None, **config: Any
    ) -> list[dict[str, Any]]:
        """Open, hello, welcome; returns (and clears) what the client sent."""
        self.client.on_open()
        self.server(
            {
                "t": "welcome",
                "v": 1,
                "visitor": "v_1",
                "stream": "s_1",
                "stored_seq": stored_seq,
                "ruleset": ruleset or {"version": 1, "rules": []},
                "config": {"time_scale": 1.0, "raw_events": False, **config},
            }
        )
        return self.transport.take()


def make_config(**extra: Any) -> dict[str, Any]:
    return {
        "server": URL,
        "site": "pk_test",
        "visitor": "v_1",
        "stream": "s_1",
        "page": {"url": "https://shop.example/", "title": "Home", "referrer": ""},
        "device": "desktop",
        "lang": "en-GB",
        "tz": "Europe/Paris",
        "identity": None,
        "state": None,
        "outbox": None,
        **extra,
    }


def harness(*, scheduled: bool = True, rand: float = 0.5, **config: Any) -> Harness:
    transport = FakeTransport()
    posted: list[dict[str, Any]] = []
    calls: list[tuple[float, Callable[[], None]]] = []
    clock = [T0]
    client = Client(
        make_config(**config),
        transport,
        posted.append,
        lambda: clock[0],
        lambda: rand,
        schedule=(lambda d, fn: calls.append((d, fn))) if scheduled else None,
        new_id=sequential_ids(),
    )
    return Harness(client, transport, posted, calls, clock)


def seqs(frames: list[dict[str, Any]]) -> list[int]:
    return [f["seq"] for f in frames if "seq" in f]


def test_end_to_end_hello_welcome_signals_ack_reconnect_resend() -> None:
    h = harness()
    h.client.start()
    assert h.transport.opened == [URL]
    assert h.client.state is ConnectionState.CONNECTING
    h.client.on_open()
    [hello] = h.transport.take()
    assert hello["t"] == "hello" and hello["site"] == "pk_test" and hello["engine"] == "pyodide"
    assert hello["page"] == {"url": "https://shop.example/", "title": "Home", "referrer": ""}
    # events before the welcome wait in the outbox
    h.events(page(T0, "/pricing"), ev("scroll", T0 + 1, pct=30))
    assert h.transport.take() == []
    h.server(
        {
            "t": "welcome",
            "stored_seq": 0,
            "ruleset": {"version": 2, "rules": [rule("deep", scroll_percent=50)]},
            "config": {},
        }
    )
    assert h.client.state is ConnectionState.READY
    assert h.posts("status")[-1]["state"] == "connected"
    early = h.transport.take()
    assert [(f["t"], f.get("name")) for f in early] == [
        ("signal", "page_view"),
        ("signal", "scroll"),
    ]
    assert seqs(early) == [1, 2]
    # live: frames go out at once, numbered
    h.events(ev("scroll", T0 + 2, pct=60))
    live = h.transport.take()
    assert [(f["seq"], f["t"]) for f in live] == [(3, "signal"), (4, "fire")]
    assert live[1]["rule"] == "deep" and live[1]["rule_version"] == 2
    h.server({"t": "ack", "seq": [1, 2]})
    assert seqs(h.client.outbox.pending()) == [3, 4]
    # the connection drops; a reconnect is scheduled with jitter
    h.client.on_close(1006, "")
    assert h.client.state is ConnectionState.WAITING
    [(delay, reconnect)] = h.scheduled
    assert delay == 0.25  # 0.5 s ceiling times the random 0.5
    status = h.posts("status")[-1]
    assert status["state"] == "disconnected" and status["detail"]["code"] == 1006
    h.events(ev("scroll", T0 + 3, pct=80))  # while offline
    assert h.transport.take() == []
    reconnect()
    assert h.transport.opened == [URL, URL]
    # the server had stored seq 3 before the drop
    resent = [f for f in h.connect(stored_seq=3) if f["t"] != "hello"]
    assert seqs(resent) == [4, 5]
    assert [f["t"] for f in resent] == ["fire", "signal"]
    h.server({"t": "ack", "seq": [4, 5]})
    assert h.client.outbox.pending() == []


def test_resend_after_reconnect_happens_exactly_once_in_order() -> None:
    h = harness()
    h.client.start()
    h.connect()
    h.events(page(T0), ev("scroll", T0, pct=100))
    sent = h.transport.take()
    assert seqs(sent) == [1, 2, 3, 4, 5]
    h.client.on_close(1011, "internal")
    h.scheduled[0][1]()
    frames = h.connect(stored_seq=2)
    assert [f["t"] for f in frames] == ["hello", "signal", "signal", "signal"]
    assert seqs(frames) == [3, 4, 5]
    h.client.tick()
    assert h.transport.take() == []


@pytest.mark.parametrize("code", [4401, 4403, 4404])
def test_final_close_codes_stop_reconnecting(code: int) -> None:
    h = harness()
    h.client.start()
    h.client.on_open()
    h.client.on_close(code, "refused")
    assert h.client.state is ConnectionState.CLOSED
    assert h.scheduled == []
    status = h.posts("status")[-1]
    assert status == {
        "type": "status",
        "state": "closed",
        "detail": {"code": code, "reason": "refused"},
    }
    h.advance(60 * SECOND)
    h.client.tick()
    assert h.transport.opened == [URL]


def test_reconnect_timed_by_tick_without_a_scheduler() -> None:
    h = harness(scheduled=False, rand=1.0)
    h.client.start()
    h.client.on_open()
    h.client.on_close(1006, "")
    h.advance(400)
    h.client.tick()
    assert h.transport.opened == [URL]
    h.advance(100)
    h.client.tick()
    assert h.transport.opened == [URL, URL]


def test_backoff_grows_until_a_welcome_resets_it() -> None:
    h = harness(rand=1.0)
    h.client.start()
    for _ in range(4):
        h.client.on_close(1006, "")
        h.scheduled[-1][1]()
    assert [d for d, _ in h.scheduled] == [0.5, 1.0, 2.0, 4.0]
    h.connect()
    h.client.on_close(1006, "")
    assert h.scheduled[-1][0] == 0.5


def test_open_failure_counts_as_a_lost_connection() -> None:
    h = harness()
    h.transport.fail_open = True
    h.client.start()
    assert h.client.state is ConnectionState.WAITING
    assert h.posts("status")[-1]["detail"]["reason"] == "refused"
    h.transport.fail_open = False
    h.scheduled[0][1]()
    assert h.transport.opened == [URL]


def test_stale_callbacks_are_ignored() -> None:
    h = harness()
    h.client.on_open()
    h.client.on_text('{"t":"pong"}')
    h.client.on_close(1006, "")
    assert h.transport.sent == [] and h.scheduled == [] and h.posted == []
    h.client.start()
    h.client.on_text('{"t":"pong"}')  # not open yet
    assert h.posted == []


def test_ping_after_25_seconds_without_sending() -> None:
    h = harness()
    h.client.start()
    h.connect()
    h.advance(24 * SECOND)
    h.client.tick()
    assert h.transport.take() == []
    h.advance(SECOND)
    h.client.tick()
    assert h.transport.take() == [{"t": "ping"}]
    h.advance(SECOND)
    h.client.tick()
    assert h.transport.take() == []


def test_persist_is_throttled_and_immediate_after_a_fire_or_an_emptying_ack() -> None:
    h = harness()
    h.client.start()
    h.connect(ruleset={"version": 1, "rules": [rule("deep", scroll_percent=90)]})
    h.advance(SECOND)
    h.take_posts()
    h.events(page(h.now()))
    assert [p["key"] for p in h.posts("persist")] == ["state", "outbox"]
    h.take_posts()
    h.advance(500)
    h.events(ev("act", h.now()))
    assert h.posts("persist") == []  # within a second of the last
    h.events(ev("scroll", h.now(), pct=95))  # fires
    persisted = h.take_posts()
    assert [p["key"] for p in persisted if p["type"] == "persist"] == ["state", "outbox"]
    outbox = next(p["value"] for p in persisted if p.get("key") == "outbox")
    assert outbox["frames"][-1]["t"] == "fire"
    h.advance(100)
    h.server({"t": "ack", "seq": seqs(h.client.outbox.pending())})
    [_, emptied] = h.posts("persist")
    assert emptied["value"]["frames"] == []
    h.take_posts()
    h.advance(SECOND)
    h.client.tick()
    assert h.posts("persist") == []  # nothing changed since


def test_a_new_frame_is_persisted_at_once_even_within_the_throttle() -> None:
    # offline, a frame only in the worker's memory would die with a navigation
    h = harness()
    h.client.start()
    h.events(page(h.now()))
    h.take_posts()
    h.advance(200)
    h.events(ev("act", h.now()))
    assert h.posts("persist") == []  # no new frame: throttled
    h.events(ev("ecom", h.now(), name="add_to_cart", items=[{"id": "a", "price": 5, "qty": 1}]))
    [state, outbox] = h.posts("persist")
    assert state["value"]["cart_changes"] == [[h.now(), "add"]]
    assert [f["name"] for f in outbox["value"]["frames"]] == ["page_view", "cart"]


def test_reload_resumes_from_persisted_state_and_outbox() -> None:
    h = harness()
    h.client.start()
    h.connect()
    h.events(page(T0), ev("scroll", T0, pct=25))
    persisted = {p["key"]: p["value"] for p in h.posts("persist")}
    h.client.close()
    assert h.transport.closed == [(1000, "closed")]
    again = harness(state=persisted["state"], outbox=persisted["outbox"])
    again.client.start()
    frames = again.connect(stored_seq=1)
    assert [f["t"] for f in frames] == ["hello", "signal"]
    assert frames[1]["seq"] == 2 and frames[1]["name"] == "scroll"
    again.events(page(T0 + SECOND, "/next"))
    [view] = again.transport.take()
    assert view["seq"] == 3
    assert view["session"] == frames[1]["session"]


def test_outreach_and_error_frames_reach_the_main_thread() -> None:
    h = harness()
    h.client.start()
    h.connect()
    outreach = {
        "t": "outreach",
        "id": "o_1",
        "rule": "r",
        "message": "Hi",
        "cta": None,
        "reason": "x",
    }
    h.server(outreach)
    assert h.posts("outreach") == [
        {"type": "outreach", "id": "o_1", "rule": "r", "message": "Hi", "cta": None, "reason": "x"}
    ]
    h.server({"t": "error", "code": "unknown_rule", "message": "gone", "seq": None})
    assert h.posts("error") == [
        {"type": "error", "code": "unknown_rule", "message": "gone", "seq": None}
    ]


def test_rate_limited_frames_are_resent_later() -> None:
    h = harness()
    h.client.start()
    h.connect()
    h.events(page(T0))
    h.transport.take()
    h.server({"t": "error", "code": "rate_limited", "message": "slow", "seq": 1})
    h.client.tick()
    assert h.transport.take() == []
    h.advance(2 * SECOND)
    h.client.tick()
    [again] = h.transport.take()
    assert again["seq"] == 1 and again["name"] == "page_view"
    h.advance(2 * SECOND)
    h.client.tick()
    assert h.transport.take() == []  # once


def test_invalid_frames_are_not_kept_forever() -> None:
    h = harness()
    h.client.start()
    h.connect()
    h.events(page(T0))
    h.server({"t": "error", "code": "invalid", "message": "data", "seq": 1})
    assert h.client.outbox.pending() == []


def test_bad_server_frame_is_reported_and_the_connection_kept() -> None:
    h = harness()
    h.client.start()
    h.connect()
    h.client.on_text("{oops")
    assert h.posts("error")[-1]["code"] == "bad_server_frame"
    assert h.client.state is ConnectionState.READY


def test_rules_frame_replaces_the_ruleset_and_bad_ones_are_refused() -> None:
    h = harness()
    h.client.start()
    h.connect()
    h.events(page(T0, "/pricing"))
    h.transport.take()
    h.server({"t": "rules", "ruleset": {"version": 5, "rules": [{"id": "BAD"}]}})
    assert h.posts("error")[-1]["code"] == "bad_ruleset"
    assert h.client.engine.ruleset.version == 1
    h.server({"t": "rules", "ruleset": {"version": 6, "rules": [rule("p", page=["/pricing"])]}})
    [fire] = h.transport.take()
    assert (fire["t"], fire["rule"], fire["rule_version"]) == ("fire", "p", 6)


def test_time_scale_from_welcome() -> None:
    h = harness()
    h.client.start()
    h.connect(time_scale=60.0, ruleset={"version": 1, "rules": [rule("r", attentive_seconds=120)]})
    h.events(page(h.now()))
    h.advance(2 * SECOND)
    h.client.tick()
    assert [f["rule"] for f in h.transport.take() if f["t"] == "fire"] == ["r"]


def test_user_actions_become_frames() -> None:
    h = harness()
    h.client.start()
    h.connect()
    h.events(
        page(T0),
        ev("outcome", T0 + 1, outreach="o_1", kind="shown"),
        ev("outcome", T0 + 1, outreach="o_1", kind="bogus"),
        ev("message", T0 + 2, text="Do you ship to Norway?", outreach="o_1"),
        ev("message", T0 + 2, text="   "),
        ev("identify", T0 + 3, user_id="42", user_hash="cafe", traits={"plan": "pro"}),
    )
    h.client.on_main_message({"type": "outcome", "outreach": "o_1", "kind": "clicked"})
    h.client.on_main_message({"type": "message", "text": "hello", "outreach": None})
    frames = [f for f in h.transport.take() if f["t"] != "signal"]
    assert [(f["t"], f.get("kind") or f.get("text") or f.get("user_id")) for f in frames] == [
        ("outcome", "shown"),
        ("message", "Do you ship to Norway?"),
        ("identify", "42"),
        ("outcome", "clicked"),
        ("message", "hello"),
    ]
    assert frames[2] == {
        "t": "identify",
        "at": T0 + 3,
        "user_id": "42",
        "user_hash": "cafe",
        "traits": {"plan": "pro"},
        "seq": frames[2]["seq"],
    }
    # a reconnect says who the visitor is, from the page now shown
    h.events(page(T0 + 4, "/account", nav="push"))
    h.client.on_close(1006, "")
    h.scheduled[-1][1]()
    h.client.on_open()
    hello = h.transport.take()[-1]
    assert hello["identity"] == {"user_id": "42", "user_hash": "cafe", "traits": {"plan": "pro"}}
    assert hello["page"]["url"] == "https://shop.example/account"


def test_identity_from_config_goes_in_hello() -> None:
    identity = {"user_id": "7", "user_hash": "beef", "traits": {"plan": "free"}}
    h = harness(identity=identity)
    h.client.start()
    h.client.on_open()
    assert h.transport.take()[0]["identity"] == identity
    assert h.client.engine.identified


def test_ui_messages_suppress_fires() -> None:
    h = harness()
    h.client.start()
    h.connect(ruleset={"version": 1, "rules": [rule("r", scroll_percent=50)]})
    h.client.on_main_message({"type": "ui", "chat_open": True})
    h.events(page(h.now()), ev("scroll", h.now(), pct=70))
    assert all(f["t"] == "signal" for f in h.transport.take())
    h.client.on_main_message({"type": "ui", "chat_open": False})
    assert [f["t"] for f in h.transport.take()] == ["fire"]


def test_raw_events_are_forwarded_when_the_server_asks() -> None:
    h = harness()
    h.client.start()
    h.connect(raw_events=True)
    h.events(ev("act", T0))
    assert [(f["t"], f["event"]["k"]) for f in h.transport.take()] == [("event", "act")]


def test_engine_output_stays_within_the_frame_limit() -> None:
    h = harness()
    h.client.start()
    h.connect()
    h.events(page(T0))
    h.transport.take()
    huge = {f"k{i}": "x" * 5_000 for i in range(100)}
    h.events(ev("track", T0, name="big", props=huge))
    [track] = h.transport.take()
    assert len(track["data"]["props"]) == 30
    assert len(protocol.encode(track).encode()) < protocol.MAX_FRAME_BYTES


def test_a_frame_over_the_limit_is_dropped_and_reported() -> None:
    h = harness()
    h.client.start()
    h.connect()
    h.client.on_main_message({"type": "message", "text": "\u2603" * 4_000})  # 12 KB: fits
    assert [f["t"] for f in h.transport.take()] == ["message"]
    wide = {f"k{i}": "\U0001f600" * 256 for i in range(30)}  # 30 KB of UTF-8
    h.events(ev("track", T0, name="wide", props=wide))
    assert h.transport.take() == []
    assert h.posts("error")[-1]["code"] == "frame_too_big"
    assert seqs(h.client.outbox.pending()) == [1]  # the one that fit, not yet acknowledged


def test_config_must_name_the_server_site_visitor_and_stream() -> None:
    for key in ("server", "site", "visitor", "stream"):
        config = make_config()
        del config[key]
        with pytest.raises(ValueError, match=key):
            Client(config, FakeTransport(), print, lambda: T0, lambda: 0.5)


def test_garbage_main_messages_are_ignored() -> None:
    h = harness()
    h.client.start()
    h.connect()
    for msg in (
        None,
        5,
        "x",
        {"type": "events", "events": "all"},
        {"type": "nope"},
        {"events": []},
    ):
        h.client.on_main_message(msg)  # type: ignore[arg-type]
    h.events(None, 3, {"k": "page"})  # type: ignore[arg-type]
    assert h.transport.take() == []


def test_frames_made_before_welcome_are_numbered_after_what_the_server_has() -> None:
    # The restored outbox is older than the server's store (the last page saved it a
    # moment before it died): frames made before this welcome must not reuse stored seqs.
    h = harness(outbox={"v": 1, "next_seq": 3, "frames": [{"t": "signal", "seq": 2}]})
    h.client.start()
    h.events(page(T0), ev("scroll", T0, pct=25))
    frames = h.connect(stored_seq=5)
    assert [(f["t"], f.get("seq")) for f in frames] == [
        ("hello", None),
        ("signal", 6),
        ("signal", 7),
    ]
    h.events(page(T0 + SECOND, "/next"))
    [view] = h.transport.take()
    assert view["seq"] == 8
