"""The worker-side client: engine, outbox and connection state machine, driven by callbacks."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from enum import Enum
from typing import Any, Protocol, cast

from . import protocol
from .backoff import Backoff, should_reconnect
from .engine import Engine
from .outbox import Outbox
from .rules import EngineRuleset, ruleset_from_dict
from .session import new_session_id
from .values import as_bool, as_num, as_str, scalar_map

__all__ = ["Client", "ConnectionState", "Schedule", "Transport"]

PING_AFTER_MS = 25_000
PERSIST_EVERY_MS = 1_000
RATE_LIMIT_RETRY_MS = 2_000
MAX_EVENTS_PER_MESSAGE = 500
MAX_TEXT_CHARS = 4_000
MAX_COMMENT_CHARS = 2_000
MAX_EMAIL_CHARS = 254
MAX_FORM_FIELDS = 30
TYPING_EVERY_MS = 3_000  # while typing, one ``typing on`` per this long at most
_FRAME_ROOM = 32  # bytes kept free for the seq added at push time
_PAGE_COMMANDS = frozenset(
    {"ui", "outcome", "message", "rate", "handoff", "confirm", "decline", "typing", "ticket"}
)
_POISON = frozenset({"malformed", "invalid", "unknown_type"})  # resending cannot help


class Transport(Protocol):
    """A WebSocket as the client sees it; events come back through the client's ``on_*``."""

    def open(self, url: str) -> None: ...
    def send(self, text: str) -> None: ...
    def close(self, code: int, reason: str) -> None: ...


Schedule = Callable[[float, Callable[[], None]], object]


class ConnectionState(Enum):
    IDLE = "idle"
    CONNECTING = "connecting"  # socket opening
    HANDSHAKE = "handshake"  # hello sent, waiting for welcome
    READY = "ready"  # welcomed: frames flow
    WAITING = "waiting"  # reconnect planned
    CLOSED = "closed"  # for good


_LIVE = (ConnectionState.CONNECTING, ConnectionState.HANDSHAKE, ConnectionState.READY)


class Client:
    """Ties the engine and the outbox to one visitor WebSocket.

    ``post`` sends a message to the page's main thread, ``clock`` returns epoch
    milliseconds, ``rand`` a float in [0, 1) for jitter. Reconnects are timed
    with ``schedule(delay_s, fn)`` when given, else by :meth:`tick`.
    """

    def __init__(
        self,
        config: dict[str, Any],
        transport: Transport,
        post: Callable[[dict[str, Any]], None],
        clock: Callable[[], int],
        rand: Callable[[], float],
        *,
        schedule: Schedule | None = None,
        new_id: Callable[[], str] = new_session_id,
    ) -> None:
        for key in ("server", "site", "visitor", "stream"):
            if not isinstance(config.get(key), str) or not config[key]:
                raise ValueError(f"config.{key} must be a non-empty string")
        self._config = config
        self._transport = transport
        self._post = post
        self._clock = clock
        self._schedule = schedule
        self._device = as_str(config.get("device"), 16) or "desktop"
        self._engine = Engine(
            ruleset=EngineRuleset(), state=config.get("state"), device=self._device, new_id=new_id
        )
        self._identity: dict[str, Any] | None = None
        identity = config.get("identity")
        if isinstance(identity, dict):
            self._set_identity(identity)
        self._outbox = Outbox.from_dict(config.get("outbox"))
        self._backoff = Backoff(rand)
        self._state = ConnectionState.IDLE
        self._raw_events = False
        self._last_sent = clock()
        self._reconnect_at: int | None = None
        self._refused: set[int] = set()
        self._retry_at = 0
        self._persisted_at = 0
        self._dirty: set[str] = set()
        self._sending: dict[int, str] = {}  # seq of a visitor message -> the page's id for it
        self._typing_at: int | None = None  # when the last ``typing on`` went out, while on

    # -- inspection ----------------------------------------------------------

    @property
    def state(self) -> ConnectionState:
        return self._state

    @property
    def engine(self) -> Engine:
        return self._engine

    @property
    def outbox(self) -> Outbox:
        return self._outbox

    # -- lifecycle -----------------------------------------------------------

    def start(self) -> None:
        if self._state is ConnectionState.IDLE:
            self._connect()

    def close(self) -> None:
        """Stop for good (the page is going away)."""
        live = self._state in _LIVE
        self._state = ConnectionState.CLOSED
        self._persist(force=True)
        if live:
            self._transport.close(1000, "closed")

    def _connect(self) -> None:
        self._state = ConnectionState.CONNECTING
        self._reconnect_at = None
        try:
            self._transport.open(self._config["server"])
        except Exception as exc:  # a bad URL or a refused socket: retry like a lost one
            self.on_close(1006, str(exc))

    def _reconnect(self) -> None:
        if self._state is ConnectionState.WAITING:
            self._connect()

    # -- transport callbacks ---------------------------------------------------

    def on_open(self) -> None:
        if self._state is not ConnectionState.CONNECTING:
            return
        self._state = ConnectionState.HANDSHAKE
        self._send(self._hello())

    def on_text(self, text: str) -> None:
        if self._state not in (ConnectionState.HANDSHAKE, ConnectionState.READY):
            return
        try:
            frame = protocol.parse_server_frame(text)
        except protocol.ProtocolError as exc:
            error = {"type": "error", "code": "bad_server_frame", "message": str(exc), "seq": None}
            self._post(error)
            return
        handlers: dict[str, Callable[[dict[str, Any]], None]] = {
            "welcome": self._on_welcome,
            "ack": self._on_ack,
            "rules": self._on_rules,
            "outreach": self._on_outreach,
            "error": self._on_error,
            "pong": self._on_pong,
        }
        handlers.get(frame["t"], self._forward)(frame)
        self._flush()
        self._persist()

    def on_close(self, code: int, reason: str) -> None:
        if self._state not in _LIVE:
            return
        self._persist(force=True)
        detail = {"code": code, "reason": reason}
        if not should_reconnect(code):
            self._state = ConnectionState.CLOSED
            self._post({"type": "status", "state": "closed", "detail": detail})
            return
        self._state = ConnectionState.WAITING
        delay = self._backoff.next_delay()
        if self._schedule is not None:
            self._schedule(delay, self._reconnect)
        else:
            self._reconnect_at = self._clock() + int(delay * 1000)
        self._post(
            {"type": "status", "state": "disconnected", "detail": {**detail, "retry_in": delay}}
        )

    # -- server frames ---------------------------------------------------------

    def _on_welcome(self, frame: dict[str, Any]) -> None:
        self._adopt_visitor(frame.get("visitor"), frame.get("key"))
        self._apply_ruleset(frame["ruleset"])
        config = frame["config"]
        self._engine.time_scale = as_num(config.get("time_scale")) or 1.0
        self._raw_events = as_bool(config.get("raw_events")) or False
        renumbered = self._outbox.on_welcome(frame["stored_seq"])
        if renumbered:
            self._sending = {renumbered.get(s, s): local for s, local in self._sending.items()}
        self._report_sent(seq for seq in list(self._sending) if seq <= frame["stored_seq"])
        self._state = ConnectionState.READY
        self._typing_at = None  # a new socket: the server knows of no typing
        self._backoff.reset()
        self._refused.clear()
        self._post(
            {"type": "status", "state": "connected", "detail": {"stored_seq": frame["stored_seq"]}}
        )
        for pending in self._outbox.pending():
            self._send(pending)
        self._dirty.add("outbox")

    def _adopt_visitor(self, visitor: str | None, key: str | None) -> None:
        """Keep the visitor key; become the visitor the server names (a hello it could not
        prove gets a fresh one), numbering the outbox afresh for it: nothing is stored yet."""
        config = self._config
        changed = bool(visitor) and visitor != config["visitor"]
        if changed:
            config["visitor"] = visitor
            frames = self._outbox.pending()
            renumbered = {f["seq"]: i for i, f in enumerate(frames, 1)}
            restarted = {
                "frames": [{**f, "seq": renumbered[f["seq"]]} for f in frames],
                "next_seq": len(frames) + 1,
                "dropped": self._outbox.dropped,
            }
            self._outbox = Outbox.from_dict(restarted)
            self._sending = {renumbered.get(s, s): local for s, local in self._sending.items()}
            self._dirty.add("outbox")
        if key and (changed or key != config.get("key")):
            config["key"] = key
            self._post({"type": "visitor", "visitor": config["visitor"], "key": key})

    def _on_ack(self, frame: dict[str, Any]) -> None:
        self._outbox.ack(frame["seq"])
        self._report_sent(frame["seq"])
        self._refused.difference_update(frame["seq"])
        self._dirty.add("outbox")
        if not len(self._outbox):
            self._persist(force=True)

    def _on_rules(self, frame: dict[str, Any]) -> None:
        self._apply_ruleset(frame["ruleset"])

    def _on_outreach(self, frame: dict[str, Any]) -> None:
        self._post({"type": "outreach", **{k: v for k, v in frame.items() if k != "t"}})

    def _on_error(self, frame: dict[str, Any]) -> None:
        seq, code = frame["seq"], frame["code"]
        if seq is not None and code == "rate_limited":
            self._refused.add(seq)
            self._retry_at = self._clock() + RATE_LIMIT_RETRY_MS
        elif seq is not None and code in _POISON:
            self._outbox.ack([seq])
            self._dirty.add("outbox")
            local = self._sending.pop(seq, None)
            if local is not None:
                self._post({"type": "unsent", "id": local, "seq": seq})
        message = frame.get("message")
        self._post({"type": "error", "code": code, "message": message, "seq": seq})

    def _on_pong(self, frame: dict[str, Any]) -> None:
        return

    def _forward(self, frame: dict[str, Any]) -> None:
        """Chat frames (``reply_*``, ``history``, ``action*``, ``agent_*``) go to the page as
        they are."""
        self._post({"type": frame["t"], **{k: v for k, v in frame.items() if k != "t"}})

    def _report_sent(self, seqs: Iterable[int]) -> None:
        """Tell the page which of its messages the server has stored."""
        for seq in seqs:
            local = self._sending.pop(seq, None)
            if local is not None:
                self._post({"type": "sent", "id": local, "seq": seq})

    def _apply_ruleset(self, data: dict[str, Any]) -> None:
        try:
            ruleset = ruleset_from_dict(data)
        except ValueError as exc:
            self._post({"type": "error", "code": "bad_ruleset", "message": str(exc), "seq": None})
            return
        self._engine.set_ruleset(ruleset)

    # -- main thread -----------------------------------------------------------

    def on_main_message(self, msg: dict[str, Any]) -> None:
        """``{"type": "events", "events": [...]}``, ``{"type": "ui", ...}``, or a user action."""
        if not isinstance(cast(object, msg), dict):
            return  # the page may post any JSON
        kind = msg.get("type")
        if kind == "events" and isinstance(msg.get("events"), list):
            for event in msg["events"][:MAX_EVENTS_PER_MESSAGE]:
                if isinstance(event, dict):
                    self._event(event)
        elif kind in _PAGE_COMMANDS:
            self._event({**msg, "k": kind, "at": msg.get("at") or self._clock()})
        self._flush()
        self._persist()

    def _event(self, event: dict[str, Any]) -> None:
        kind = event.get("k")
        at = event.get("at")
        if not isinstance(at, int) or isinstance(at, bool):
            at = self._clock()
        if kind == "outcome":
            self._outcome(event, at)
            return
        if kind == "rate":
            self._rate(event, at)
            return
        if kind in ("confirm", "decline"):
            self._settle(kind, event, at)
            return
        if kind == "handoff":
            self._push(protocol.handoff(at=at))
            return
        if kind == "ticket":
            self._ticket(event, at)
            return
        if kind == "typing":
            self._typing(as_bool(event.get("on")), at)
            return
        if kind == "message":
            self._message(event, at)
        elif kind == "identify":
            self._identify(event, at)
        elif self._raw_events:
            self._push(protocol.event(at=at, raw=event))
        self._engine.handle(event)
        self._dirty.add("state")

    def _outcome(self, event: dict[str, Any], at: int) -> None:
        outreach, kind = as_str(event.get("outreach"), 100), as_str(event.get("kind"), 16)
        if outreach and kind in protocol.OUTCOME_KINDS:
            self._push(protocol.outcome(at=at, outreach=outreach, kind=kind))

    def _message(self, event: dict[str, Any], at: int) -> None:
        text = as_str(event.get("text"), MAX_TEXT_CHARS)
        if text and text.strip():
            outreach = as_str(event.get("outreach"), 100)
            numbered = self._push(protocol.message(at=at, text=text, outreach=outreach))
            local = as_str(event.get("id"), 64)
            if numbered is not None and local:
                self._sending[numbered["seq"]] = local

    def _ticket(self, event: dict[str, Any], at: int) -> None:
        """The visitor's email and question; the page hears ``sent`` with its id on the ack."""
        email = as_str(event.get("email"), MAX_EMAIL_CHARS)
        text = as_str(event.get("text"), MAX_TEXT_CHARS)
        if email and "@" in email and text and text.strip():
            numbered = self._push(protocol.ticket(at=at, email=email.strip(), text=text))
            local = as_str(event.get("id"), 64)
            if numbered is not None and local:
                self._sending[numbered["seq"]] = local

    def _typing(self, on: bool | None, at: int) -> None:
        """Sent at once or never: only on a welcomed socket, never through the outbox. While
        the visitor types, one ``on`` per :data:`TYPING_EVERY_MS`; one ``off`` after it."""
        now = self._clock()
        if on is None or self._state is not ConnectionState.READY or now - at > TYPING_EVERY_MS:
            return  # a stale one (kept by the page while the engine started) is not news
        if on and (self._typing_at is None or now - self._typing_at >= TYPING_EVERY_MS):
            self._typing_at = now
            self._send(protocol.typing(on=True))
        elif not on and self._typing_at is not None:
            self._typing_at = None
            self._send(protocol.typing(on=False))

    def _rate(self, event: dict[str, Any], at: int) -> None:
        reply, rating = as_str(event.get("reply"), 100), as_str(event.get("rating"), 8)
        if reply and rating in protocol.RATINGS:
            comment = as_str(event.get("comment"), MAX_COMMENT_CHARS) or None
            self._push(protocol.rate(at=at, reply=reply, rating=rating, comment=comment))

    def _settle(self, kind: str, event: dict[str, Any], at: int) -> None:
        """A click on a card: its token goes back unchanged, or nothing is sent."""
        token = event.get("token")
        if not isinstance(token, str) or not 0 < len(token) <= protocol.MAX_TOKEN_CHARS:
            return
        if kind == "decline":
            self._push(protocol.decline(at=at, token=token))
        else:
            self._push(
                protocol.confirm(at=at, token=token, values=_form_values(event.get("values")))
            )

    def _identify(self, event: dict[str, Any], at: int) -> None:
        if self._set_identity(event) and self._identity is not None:
            self._push(protocol.identify(at=at, **self._identity))

    def _set_identity(self, data: dict[str, Any]) -> bool:
        user_id = as_str(data.get("user_id"), 200)
        user_hash = as_str(data.get("user_hash"), 200)
        if not user_id:
            return False
        traits = scalar_map(data.get("traits"))
        self._identity = {"user_id": user_id, "user_hash": user_hash or "", "traits": traits}
        self._engine.set_identity(user_id, traits)
        return True

    # -- time ----------------------------------------------------------------

    def tick(self) -> None:
        """Called about once a second."""
        now = self._clock()
        self._engine.tick(now)
        self._flush()
        if self._state is ConnectionState.READY:
            if now - self._last_sent >= PING_AFTER_MS:
                self._send(protocol.ping())
            if self._refused and now >= self._retry_at:
                self._resend_refused()
        elif self._reconnect_at is not None and now >= self._reconnect_at:
            self._reconnect()
        self._persist()

    def _resend_refused(self) -> None:
        refused, self._refused = self._refused, set()
        for frame in self._outbox.pending():
            if frame["seq"] in refused:
                self._send(frame)

    # -- output --------------------------------------------------------------

    def _hello(self) -> dict[str, Any]:
        page = self._engine.page
        current = (
            {"url": page.url, "title": page.title, "referrer": page.referrer}
            if page is not None
            else self._config.get("page") or {}
        )
        return protocol.hello(
            site=self._config["site"],
            visitor=self._config["visitor"],
            stream=self._config["stream"],
            page={k: v for k, v in current.items() if isinstance(v, str)},
            device=self._device,
            lang=as_str(self._config.get("lang"), 35) or "",
            tz=as_str(self._config.get("tz"), 64) or "",
            identity=self._identity,
            key=as_str(self._config.get("key"), 64) or None,
        )

    def _flush(self) -> None:
        fired = False
        for frame in self._engine.drain():
            fired = fired or frame["t"] == "fire"
            self._push(frame)
        if fired:
            self._persist(force=True)

    def _push(self, frame: dict[str, Any]) -> dict[str, Any] | None:
        size = len(protocol.encode(frame).encode())
        if size > protocol.MAX_FRAME_BYTES - _FRAME_ROOM:
            # the server would close the socket on it, and every resend would again
            self._post(
                {"type": "error", "code": "frame_too_big", "message": frame["t"], "seq": None}
            )
            return None
        numbered = self._outbox.push(frame)
        # a frame that is only in memory dies with the page: it is saved at once, unthrottled
        self._dirty.update(("outbox", "new_frame"))
        if self._state is ConnectionState.READY:
            self._send(numbered)
        return numbered

    def _send(self, frame: dict[str, Any]) -> None:
        self._transport.send(protocol.encode(frame))
        self._last_sent = self._clock()

    def _persist(self, *, force: bool = False) -> None:
        now = self._clock()
        throttled = not self._dirty or now - self._persisted_at < PERSIST_EVERY_MS
        if not force and "new_frame" not in self._dirty and throttled:
            return
        self._persisted_at = now
        self._dirty.clear()
        self._post({"type": "persist", "key": "state", "value": self._engine.snapshot()})
        self._post({"type": "persist", "key": "outbox", "value": self._outbox.to_dict()})


def _form_values(value: Any) -> dict[str, str | int | float | bool | None]:
    """A card form's values as the page gave them: names to JSON scalars, nothing nested.

    The server checks each against the card's fields and the action's schema; text is
    kept whole up to the chat's message size, so what the visitor typed is what is checked.
    """
    if not isinstance(value, dict):
        return {}
    out: dict[str, str | int | float | bool | None] = {}
    for name, raw in list(value.items())[:MAX_FORM_FIELDS]:
        if not isinstance(name, str) or not name or len(name) > 64:
            continue
        if isinstance(raw, str):
            out[name] = raw[:MAX_TEXT_CHARS]
        elif raw is None or isinstance(raw, bool) or as_num(raw) is not None:
            out[name] = raw  # a number within 2**53 (NaN and infinities are not)
    return out
