"""Agents, sign-in, sessions, lockout and the queue, on real SQLite files, in process."""

from __future__ import annotations

import hashlib
import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import apsw
import pytest

from bpract.chat import storage as chat
from bpract.chat.storage import Answer
from bpract.features import MIGRATIONS
from bpract.inbox import (
    AgentExistsError,
    InboxAuth,
    InboxError,
    InboxSettings,
    Refusal,
    SignedIn,
    add_agent,
    disable_agent,
    list_agents,
    set_password,
)
from bpract.inbox.csrf import Purpose, form_token, valid_token
from bpract.inbox.passwords import hash_password
from bpract.inbox.queue import conversation_view, waiting
from bpract.inbox.storage import Agent
from bpract.sites import create_org, create_site
from bpract.store import Database, migrate, transaction

PASSWORD = "correct horse battery"
IDLE_S, MAX_S = 60.0, 600.0


class Clock:
    def __init__(self) -> None:
        self.ms = 1_800_000_000_000

    def __call__(self) -> int:
        return self.ms

    def advance(self, seconds: float) -> None:
        self.ms += int(seconds * 1000)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(tmp_path / "inbox.db")
    database.run_sync(lambda c: migrate(c, MIGRATIONS))
    yield database
    database.close()


def _tx(db: Database, fn: Any) -> Any:
    def run(conn: apsw.Connection) -> Any:
        with transaction(conn, lock=True):
            return fn(conn)

    return db.run_sync(run)


def _org(db: Database, name: str) -> int:
    org_id: int = _tx(db, lambda c: create_org(c, name).id)
    return org_id


def _agent(db: Database, org_id: int, email: str, password: str = PASSWORD, **kw: Any) -> Agent:
    password_hash = hash_password(password)
    made: Agent = _tx(
        db,
        lambda c: add_agent(
            c, org_id=org_id, email=email, display_name="Ana", password_hash=password_hash, **kw
        ),
    )
    return made


def _rows(db: Database, sql: str, *args: object) -> list[tuple[Any, ...]]:
    found: list[tuple[Any, ...]] = db.run_sync(lambda c: list(c.execute(sql, args)))
    return found


def _files(db: Database) -> bytes:
    """Every byte of the database: its file, its write-ahead log."""
    path = Path(db.path)
    return b"".join(p.read_bytes() for p in sorted(path.parent.glob(path.name + "*")))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def auth(db: Database, clock: Clock) -> InboxAuth:
    settings = InboxSettings(idle_timeout=IDLE_S, session_max=MAX_S)
    return InboxAuth(db, settings, now_ms=clock)


# -- agents ------------------------------------------------------------------------------------


def test_an_agent_is_stored_with_an_argon2id_hash_and_defaults(db: Database) -> None:
    acme = _org(db, "Acme")
    agent = _agent(db, acme, "  Ana@Example.COM ")
    assert (agent.email, agent.role, agent.departments) == ("ana@example.com", "agent", ["support"])
    assert agent.disabled_at is None
    [(stored,)] = _rows(db, "SELECT password_hash FROM inbox_agents")
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert PASSWORD.encode() not in _files(db)


def test_an_email_is_unique_within_an_organisation_only(db: Database) -> None:
    acme, globex = _org(db, "Acme"), _org(db, "Globex")
    _agent(db, acme, "ana@example.com")
    with pytest.raises(AgentExistsError):
        _agent(db, acme, "ANA@example.com")
    other = _agent(db, globex, "ana@example.com", role="supervisor", departments=["billing"])
    assert (other.org_id, other.role, other.departments) == (globex, "supervisor", ["billing"])
    assert [a.org_id for a in db.run_sync(list_agents)] == [acme, globex]
    assert [a.org_id for a in db.run_sync(lambda c: list_agents(c, globex))] == [globex]


@pytest.mark.parametrize(
    ("field", "value"),
    [("email", "not-an-address"), ("role", "owner"), ("departments", [" "]), ("name", " ")],
)
def test_bad_fields_are_refused(db: Database, field: str, value: Any) -> None:
    acme = _org(db, "Acme")
    given: dict[str, Any] = {"email": "ana@example.com", "display_name": "Ana"}
    given[{"name": "display_name"}.get(field, field)] = value
    with pytest.raises(InboxError):
        _tx(db, lambda c: add_agent(c, org_id=acme, password_hash="x", **given))


def test_a_short_password_is_refused() -> None:
    with pytest.raises(InboxError, match="at least 12"):
        hash_password("short")


# -- sign-in and sessions ----------------------------------------------------------------------


async def _sign_in(auth: InboxAuth, email: str, password: str = PASSWORD, **kw: Any) -> SignedIn:
    result = await auth.sign_in(email, password, **kw)
    assert isinstance(result, SignedIn), result
    return result


async def test_a_session_is_stored_only_as_its_sha256(db: Database, auth: InboxAuth) -> None:
    acme = _org(db, "Acme")
    agent = _agent(db, acme, "ana@example.com")
    signed = await _sign_in(auth, " ANA@example.com")
    assert signed.agent.id == agent.id and len(signed.session) >= 43
    assert _rows(db, "SELECT id_hash FROM inbox_sessions") == [
        (hashlib.sha256(signed.session.encode()).hexdigest(),)
    ]
    assert signed.session.encode() not in _files(db)
    found = await auth.agent(signed.session)
    assert found is not None and found.id == agent.id
    assert await auth.agent(signed.session[:-1] + "x") is None
    assert await auth.agent(None) is None


async def test_sessions_end_when_idle_and_at_their_absolute_end(
    db: Database, auth: InboxAuth, clock: Clock
) -> None:
    _agent(db, _org(db, "Acme"), "ana@example.com")
    idle = (await _sign_in(auth, "ana@example.com")).session
    clock.advance(IDLE_S - 1)
    assert await auth.agent(idle) is not None  # in use: the idle timeout starts again
    clock.advance(IDLE_S - 1)
    assert await auth.agent(idle) is not None
    clock.advance(IDLE_S + 1)
    assert await auth.agent(idle) is None

    busy = (await _sign_in(auth, "ana@example.com")).session
    for _ in range(int(MAX_S // (IDLE_S / 2))):
        clock.advance(IDLE_S / 2)
        if clock.ms >= _rows(db, "SELECT max(expires_ms) FROM inbox_sessions")[0][0]:
            break
        assert await auth.agent(busy) is not None
    assert await auth.agent(busy) is None


async def test_signing_in_again_replaces_the_old_session(db: Database, auth: InboxAuth) -> None:
    _agent(db, _org(db, "Acme"), "ana@example.com")
    old = (await _sign_in(auth, "ana@example.com")).session
    new = (await _sign_in(auth, "ana@example.com", replacing=old)).session
    assert new != old
    assert await auth.agent(old) is None and await auth.agent(new) is not None
    await auth.sign_out(new)
    assert await auth.agent(new) is None
    assert _rows(db, "SELECT count(*) FROM inbox_sessions") == [(0,)]


async def test_disabling_or_a_new_password_ends_the_sessions(db: Database, auth: InboxAuth) -> None:
    acme = _org(db, "Acme")
    _agent(db, acme, "ana@example.com")
    session = (await _sign_in(auth, "ana@example.com")).session
    new_hash = hash_password("another good password")
    _tx(db, lambda c: set_password(c, acme, "ana@example.com", new_hash))
    assert await auth.agent(session) is None
    assert await auth.sign_in("ana@example.com", PASSWORD) is Refusal.WRONG
    session = (await _sign_in(auth, "ana@example.com", "another good password")).session
    _tx(db, lambda c: disable_agent(c, acme, "ana@example.com"))
    assert await auth.agent(session) is None
    assert await auth.sign_in("ana@example.com", "another good password") is Refusal.WRONG


async def test_the_same_email_in_two_organisations_signs_in_to_the_matching_one(
    db: Database, auth: InboxAuth
) -> None:
    acme, globex = _org(db, "Acme"), _org(db, "Globex")
    _agent(db, acme, "ana@example.com", "acme password 1")
    _agent(db, globex, "ana@example.com", "globex password 2")
    assert (await _sign_in(auth, "ana@example.com", "globex password 2")).agent.org_id == globex
    assert (await _sign_in(auth, "ana@example.com", "acme password 1")).agent.org_id == acme


async def test_a_hash_with_old_parameters_is_replaced_at_sign_in(
    db: Database, auth: InboxAuth
) -> None:
    from argon2 import PasswordHasher

    acme = _org(db, "Acme")
    _agent(db, acme, "ana@example.com")
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    _tx(db, lambda c: c.execute("UPDATE inbox_agents SET password_hash = ?", (weak,)))
    await _sign_in(auth, "ana@example.com")
    [(stored,)] = _rows(db, "SELECT password_hash FROM inbox_agents")
    assert stored != weak and stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    await _sign_in(auth, "ana@example.com")


# -- lockout -------------------------------------------------------------------------------------


async def test_five_failures_lock_an_address_out_for_the_lockout_time(
    db: Database, auth: InboxAuth, clock: Clock
) -> None:
    _agent(db, _org(db, "Acme"), "ana@example.com")
    for _ in range(5):
        assert await auth.sign_in("ana@example.com", "wrong password!") is Refusal.WRONG
    assert await auth.sign_in("ana@example.com", PASSWORD) is Refusal.LOCKED
    # stored in the database: another process (a new InboxAuth) sees the same lockout
    other = InboxAuth(db, InboxSettings(), now_ms=clock)
    assert await other.sign_in("ana@example.com", PASSWORD) is Refusal.LOCKED
    clock.advance(InboxSettings().lockout - 1)
    assert await auth.sign_in("ana@example.com", PASSWORD) is Refusal.LOCKED
    clock.advance(2)
    await _sign_in(auth, "ana@example.com")
    assert _rows(db, "SELECT count(*) FROM inbox_sign_in_failures") == [(0,)]


async def test_a_success_forgets_the_failures_and_old_failures_stop_counting(
    db: Database, auth: InboxAuth, clock: Clock
) -> None:
    _agent(db, _org(db, "Acme"), "ana@example.com")
    for _ in range(4):
        assert await auth.sign_in("ana@example.com", "wrong password!") is Refusal.WRONG
    await _sign_in(auth, "ana@example.com")
    for _ in range(4):
        assert await auth.sign_in("ana@example.com", "wrong password!") is Refusal.WRONG
    clock.advance(InboxSettings().lockout + 1)
    for _ in range(4):
        assert await auth.sign_in("ana@example.com", "wrong password!") is Refusal.WRONG
    await _sign_in(auth, "ana@example.com")


async def test_an_unknown_address_is_refused_and_locked_like_a_known_one(
    db: Database, auth: InboxAuth
) -> None:
    _agent(db, _org(db, "Acme"), "ana@example.com")
    results = [await auth.sign_in("nobody@example.com", PASSWORD) for _ in range(6)]
    assert results == [Refusal.WRONG] * 5 + [Refusal.LOCKED]
    assert _rows(db, "SELECT email, failures FROM inbox_sign_in_failures") == [
        ("nobody@example.com", 5)
    ]


async def test_an_unknown_address_costs_a_password_check(db: Database, auth: InboxAuth) -> None:
    _agent(db, _org(db, "Acme"), "ana@example.com")

    async def seconds(email: str) -> float:
        began = time.perf_counter()
        assert await auth.sign_in(email, "wrong password!") is Refusal.WRONG
        return time.perf_counter() - began

    await seconds("warm-up@example.com")
    known = statistics.median([await seconds("ana@example.com") for _ in range(3)])
    unknown = statistics.median([await seconds(f"n{i}@example.com") for i in range(3)])
    assert unknown > 0.5 * known, (unknown, known)


# -- CSRF ----------------------------------------------------------------------------------------


def test_a_form_token_is_bound_to_its_cookie_purpose_and_key() -> None:
    key = b"k" * 32
    token = form_token(key, Purpose.SESSION, "cookie-a")
    assert valid_token(key, Purpose.SESSION, "cookie-a", token)
    assert not valid_token(key, Purpose.SESSION, "cookie-b", token)
    assert not valid_token(key, Purpose.SIGN_IN, "cookie-a", token)
    assert not valid_token(b"j" * 32, Purpose.SESSION, "cookie-a", token)
    assert not valid_token(key, Purpose.SESSION, "cookie-a", None)
    assert not valid_token(key, Purpose.SESSION, None, token)
    assert not valid_token(key, Purpose.SESSION, "cookie-a", token[:-1])


async def test_the_csrf_key_is_kept_in_the_database(db: Database, auth: InboxAuth) -> None:
    token = await auth.form_token(Purpose.SIGN_IN, "pre")
    again = InboxAuth(db, InboxSettings())
    assert await again.valid_form(Purpose.SIGN_IN, "pre", token)


# -- the queue -------------------------------------------------------------------------------------


def _conversation(db: Database, site_id: int, visitor: str, at_ms: int, text: str) -> str:
    def make(conn: apsw.Connection) -> str:
        with transaction(conn, lock=True):
            conv, _ = chat.open_conversation(
                conn, site_id, visitor, at_ms, since_ms=at_ms, outreach_id=None
            )
            chat.insert_visitor_turn(
                conn, conv, message_id=chat.new_id("m_"), text=text, at_ms=at_ms, seq=1
            )
            chat.insert_answer(
                conn,
                Answer(
                    id=chat.new_id("r_"),
                    site_id=site_id,
                    conversation_id=conv.id,
                    text="Someone",
                    at_ms=at_ms + 5,
                    citations=[],
                    kind="handoff",
                    offline=True,
                    provider=None,
                    model=None,
                    cost_nano=None,
                    passages=[],
                    retrieval_confidence=None,
                ),
            )
            chat.hand_off(conn, site_id, conv.id, at_ms=at_ms + 5, reason="asked",
                          department="support")  # fmt: skip
            return conv.id

    made: str = db.run_sync(make)
    return made


async def test_the_queue_lists_the_organisations_waiting_conversations_oldest_first(
    db: Database,
) -> None:
    acme, globex = _org(db, "Acme"), _org(db, "Globex")
    shop = _tx(db, lambda c: create_site(c, name="Shop", origins=["https://a.test"], org_id=acme))
    blog = _tx(db, lambda c: create_site(c, name="Blog", origins=["https://b.test"], org_id=acme))
    rival = _tx(
        db, lambda c: create_site(c, name="Rival", origins=["https://c.test"], org_id=globex)
    )
    newer = _conversation(db, shop.id, "v_newer", 2_000_000, "second " * 40)
    older = _conversation(db, blog.id, "v_older", 1_000_000, "first")
    theirs = _conversation(db, rival.id, "v_theirs", 500_000, "not yours")
    ana = _agent(db, acme, "ana@example.com")
    gus = _agent(db, globex, "gus@example.com")

    queue = await waiting(db, ana, limit=10)
    assert [w.conversation for w in queue] == [older, newer]
    assert [(w.site, w.since_ms) for w in queue] == [("Blog", 1_000_005), ("Shop", 2_000_005)]
    assert queue[0].preview == "first"
    assert queue[1].preview is not None and len(queue[1].preview) == 140
    assert queue[1].preview.endswith("…")
    assert [w.conversation for w in await waiting(db, ana, limit=1)] == [older]
    assert [w.conversation for w in await waiting(db, gus, limit=10)] == [theirs]

    view = await conversation_view(db, ana, older)
    assert view is not None and [t.role for t in view.turns] == ["visitor", "bot"]
    assert view.visitor.user_id is None and view.visitor.label == "Visitor older"
    assert await conversation_view(db, ana, theirs) is None
    assert await conversation_view(db, gus, older) is None
    assert await conversation_view(db, ana, "c_nope") is None


async def test_a_hand_off_names_its_reason_and_team_and_keeps_its_place(db: Database) -> None:
    acme = _org(db, "Acme")
    shop = _tx(db, lambda c: create_site(c, name="Shop", origins=["https://a.test"], org_id=acme))
    first = _conversation(db, shop.id, "v_first", 1_000_000, "lost parcel")
    second = _conversation(db, shop.id, "v_second", 1_500_000, "wrong size")

    def hand(conversation: str, at: int, reason: str, team: str) -> None:
        db.run_sync(
            lambda c: chat.hand_off(
                c, shop.id, conversation, at_ms=at, reason=reason, department=team
            )
        )

    hand(first, 3_000_000, "Asked twice about a lost parcel", "billing")
    hand(second, 2_000_000, "The visitor asked for a person.", "support")
    ana = _agent(db, acme, "ana@example.com")
    queue = await waiting(db, ana, limit=10)
    # already waiting (since the first hand-off), so a second one keeps that place
    assert [(w.conversation, w.since_ms) for w in queue] == [
        (first, 1_000_005),
        (second, 1_500_005),
    ]
    assert [(w.reason, w.department) for w in queue] == [
        ("Asked twice about a lost parcel", "billing"),
        ("The visitor asked for a person.", "support"),
    ]
