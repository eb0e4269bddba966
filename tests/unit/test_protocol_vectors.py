"""Frames the browser side builds decode on the server; server frames parse on the browser side."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from bpract.triggers.spec import compile_ruleset, load_ruleset
from bpract.wire import codes
from bpract.wire import frames as server
from bpract_client import protocol as client
from bpract_client.engine import Engine
from bpract_client.rules import ruleset_from_dict

RULES = """
rules:
  - id: pricing-offer
    when: {page: ["/pricing*"]}
    message: {text: "Comparing plans?", cta: {label: "See plans", url: "/pricing"}}
"""
NOW = 1_764_163_200_000


def with_seq(frame: dict[str, Any], seq: int = 7) -> str:
    return client.encode({**frame, "seq": seq})


def engine_frames() -> list[dict[str, Any]]:
    """Signals and a fire, as the real engine produces them for a pricing page view."""
    compiled = compile_ruleset(load_ruleset(RULES), 3)
    engine = Engine(ruleset=ruleset_from_dict(compiled), state=None, device="desktop")
    engine.handle(
        {
            "k": "page",
            "at": NOW,
            "url": "https://shop.example/pricing",
            "title": "Pricing",
            "referrer": "",
            "nav": "load",
        }
    )
    engine.tick(NOW + 1000)
    return engine.drain()


def test_hello_decodes() -> None:
    built = client.hello(
        site="pk_abcdefghijklmnopqrstuvwx",
        visitor="v_" + "a" * 22,
        stream="s_" + "b" * 22,
        page={"url": "https://shop.example/pricing", "title": "Pricing", "referrer": ""},
        device="mobile",
        lang="en-GB",
        tz="Europe/Paris",
        identity={"user_id": "42", "user_hash": "ab" * 32, "traits": {"plan": "pro"}},
        engine="server",
        key="k_" + "c" * 43,
    )
    decoded = server.decode_client(client.encode(built))
    assert isinstance(decoded, server.Hello)
    assert decoded.key == "k_" + "c" * 43
    assert (decoded.v, decoded.engine, decoded.device) == (1, "server", "mobile")
    assert decoded.identity is not None and decoded.identity.traits == {"plan": "pro"}
    assert decoded.page is not None and decoded.page.url == "https://shop.example/pricing"


@pytest.mark.parametrize(
    ("frame", "kind"),
    [
        (client.outcome(at=NOW, outreach="o_" + "c" * 22, kind="clicked"), server.Outcome),
        (client.message(at=NOW, text="Do you ship to Norway?", outreach=None), server.Message),
        (client.message(at=NOW, text="Yes please", outreach="o_" + "c" * 22), server.Message),
        (
            client.identify(at=NOW, user_id="42", user_hash="ab" * 32, traits={"plan": "pro"}),
            server.Identify,
        ),
        (client.identify(at=NOW, user_id="42", user_hash="ab" * 32), server.Identify),
        (client.event(at=NOW, raw={"k": "scroll", "at": NOW, "pct": 50}), server.Event),
        (client.handoff(at=NOW), server.Handoff),
        (client.confirm(at=NOW, token="v1.a.b", values={"plan": "premium"}), server.Confirm),
        (client.confirm(at=NOW, token="v1.a.b"), server.Confirm),
        (client.decline(at=NOW, token="v1.a.b"), server.Decline),
        (client.ticket(at=NOW, email="ana@example.com", text="Is it in stock?"), server.Ticket),
    ],
)
def test_client_frames_decode(frame: dict[str, Any], kind: type[msgspec.Struct]) -> None:
    decoded = server.decode_client(with_seq(frame))
    assert isinstance(decoded, kind)
    assert msgspec.to_builtins(decoded) == {**frame, "seq": 7}


def test_ping_decodes() -> None:
    assert isinstance(server.decode_client(client.encode(client.ping())), server.Ping)


def test_engine_signals_and_fires_decode() -> None:
    frames = engine_frames()
    kinds = {f["t"] for f in frames}
    assert kinds == {"signal", "fire"}, frames
    for n, frame in enumerate(frames, start=1):
        decoded = server.decode_client(with_seq(frame, n))
        assert isinstance(decoded, server.Signal | server.Fire)
        assert msgspec.to_builtins(decoded) == {**frame, "seq": n}


@pytest.mark.parametrize(
    "frame",
    [
        server.Welcome(
            visitor="v_x",
            key="k_x",
            stream="s_x",
            stored_seq=4,
            ruleset={"version": 0, "rules": []},
            config=server.Config(),
        ),
        server.Ack(seq=[1, 2]),
        server.Rules(ruleset={"version": 2, "rules": []}),
        server.Outreach(
            id="o_x", rule="r", message="Hi", cta=server.Cta(label="Go", url="/x"), reason="dwell"
        ),
        server.Outreach(id="o_x", rule="r", message="Hi"),
        server.Error(code=codes.RATE_LIMITED, message="slow down", seq=3),
        server.Error(code=codes.MALFORMED, message="not JSON"),
        server.Pong(),
    ],
)
def test_server_frames_parse_on_the_client(frame: server.ServerFrame) -> None:
    parsed = client.parse_server_frame(server.encode(frame).decode())
    assert parsed == msgspec.to_builtins(frame)


def test_close_codes_agree() -> None:
    assert {c.name.lower(): int(c) for c in client.CloseCode} == {
        c.name: int(c) for c in codes.CloseCode
    }
