"""SQL of the chat: conversations, messages, ratings; every statement filtered by site."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import apsw

from bpract.store import dialect
from bpract.triggers.fires import SentOutreach, sent_outreach

__all__ = [
    "Answer",
    "Conversation",
    "OutreachRow",
    "Taken",
    "Turn",
    "Waiting",
    "agent_turn_stored",
    "chat_settings",
    "conversation_in",
    "find_conversation",
    "get_conversation",
    "hand_off",
    "handoff_of",
    "has_conversation",
    "insert_agent_turn",
    "insert_answer",
    "insert_rating",
    "insert_visitor_turn",
    "last_bot_kind",
    "last_visitor_seq",
    "new_id",
    "open_conversation",
    "outreach_row",
    "owned_by",
    "owned_counts",
    "recent_turns",
    "recent_visitor_turns",
    "release",
    "reply_conversation",
    "reply_owner",
    "route",
    "save_chat_settings",
    "set_lang",
    "set_summary",
    "take_over",
    "transfer",
    "visitor_message_id",
    "waiting_conversations",
    "with_person",
]


# A conversation's last activity only moves forward (turns can be stored out of order).
_TOUCH = (
    f"UPDATE conversations SET last_ms = {dialect.greatest('last_ms', '?')}"  # noqa: S608
    " WHERE id = ? AND site_id = ?"
)


def new_id(prefix: str) -> str:
    """``prefix`` + 22 url-safe random characters (``c_``, ``r_``)."""
    return prefix + secrets.token_urlsafe(16)[:22]


def visitor_message_id(site_id: int, visitor: str, stream: str, seq: int) -> str:
    """The id of a visitor turn, derived from its frame: the same frame is the same turn."""
    digest = hashlib.sha256(f"{site_id}\x00{visitor}\x00{stream}\x00{seq}".encode()).digest()
    return "m_" + base64.urlsafe_b64encode(digest).decode()[:22]


@dataclass(frozen=True, slots=True)
class Conversation:
    id: str
    site_id: int
    visitor: str
    started_ms: int
    last_ms: int
    outreach_id: str | None
    summary: str | None
    summarized_upto_ms: int | None
    lang: str | None
    status: str
    """``bot``, ``human`` (waiting for a person, or with the one in :attr:`owner_agent`), or
    ``resolved``."""
    owner_agent: int | None = None
    owner_name: str | None = None
    routed_agent: int | None = None

    @property
    def with_person(self) -> bool:
        """Waiting for a person or with one: no outreach interrupts it, the agents see it."""
        return self.status == "human"

    @property
    def owned(self) -> bool:
        """A person has it: the assistant does not answer (it does while the visitor waits)."""
        return self.status == "human" and self.owner_agent is not None


_FIELDS = (
    "id", "site_id", "visitor", "started_ms", "last_ms", "outreach_id", "summary",
    "summarized_upto_ms", "lang", "status", "owner_agent", "owner_name", "routed_agent",
)  # fmt: skip
_COLUMNS = ", ".join(_FIELDS)
_C_COLUMNS = ", ".join(f"c.{f}" for f in _FIELDS)
_SELECT = f"SELECT {_COLUMNS} FROM conversations"  # noqa: S608 - fixed column names


@dataclass(frozen=True, slots=True)
class Turn:
    """One stored message as the prompt, the summary and ``history`` see it."""

    id: str
    role: str
    text: str
    at_ms: int
    citations: list[dict[str, Any]]
    author: str | None = None
    """An agent turn's name, as the visitor sees it."""


#: The outreach a conversation answers: the triggers feature stores it.
OutreachRow = SentOutreach


@dataclass(frozen=True, slots=True)
class Answer:
    """A bot reply as stored when ``reply_end`` is sent."""

    id: str
    site_id: int
    conversation_id: str
    text: str
    at_ms: int
    citations: list[dict[str, Any]]
    kind: str
    offline: bool
    provider: str | None
    model: str | None
    cost_nano: int | None
    passages: list[dict[str, Any]]
    retrieval_confidence: float | None


def _conversation(row: Any) -> Conversation:
    return Conversation(*row)


def find_conversation(
    conn: apsw.Connection, site_id: int, visitor: str, since_ms: int
) -> Conversation | None:
    """The visitor's most recent conversation active since ``since_ms`` and not resolved."""
    row = conn.execute(
        f"SELECT {_COLUMNS} FROM conversations WHERE site_id = ? AND visitor = ?"  # noqa: S608
        " AND last_ms >= ? AND status != 'resolved' ORDER BY last_ms DESC LIMIT 1",
        (site_id, visitor, since_ms),
    ).fetchone()
    return _conversation(row) if row else None


def has_conversation(
    conn: apsw.Connection, site_id: int, visitor: str, since_ms: int, outreach_id: str | None
) -> bool:
    """Whether a message would continue a conversation rather than start one.

    (An outreach that is not this visitor's is ignored, as :func:`open_conversation` does.)
    """
    if outreach_id and outreach_row(conn, site_id, visitor, outreach_id) is not None:
        return _by_outreach(conn, site_id, visitor, outreach_id) is not None
    return find_conversation(conn, site_id, visitor, since_ms) is not None


def get_conversation(
    conn: apsw.Connection, site_id: int, conversation_id: str
) -> Conversation | None:
    row = conn.execute(
        _SELECT + " WHERE id = ? AND site_id = ?",
        (conversation_id, site_id),
    ).fetchone()
    return _conversation(row) if row else None


def _by_outreach(
    conn: apsw.Connection, site_id: int, visitor: str, outreach_id: str
) -> Conversation | None:
    row = conn.execute(
        _SELECT + " WHERE site_id = ? AND visitor = ?"
        " AND outreach_id = ? ORDER BY last_ms DESC LIMIT 1",
        (site_id, visitor, outreach_id),
    ).fetchone()
    return _conversation(row) if row else None


def outreach_row(
    conn: apsw.Connection, site_id: int, visitor: str, outreach_id: str
) -> OutreachRow | None:
    """An outreach sent to this visitor on this site (None for anyone else's)."""
    return sent_outreach(conn, site_id, visitor, outreach_id)


def _create(
    conn: apsw.Connection, site_id: int, visitor: str, now_ms: int, outreach: OutreachRow | None
) -> Conversation:
    conv_id = new_id("c_")
    started = min(now_ms, outreach.sent_ms) if outreach else now_ms
    conn.execute(
        "INSERT INTO conversations (id, site_id, visitor, started_ms, last_ms, outreach_id)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (conv_id, site_id, visitor, started, now_ms, outreach.id if outreach else None),
    )
    if outreach is not None:  # the proactive message is the conversation's first bot turn
        conn.execute(
            "INSERT INTO chat_messages (id, site_id, conversation_id, role, text, at_ms)"
            " VALUES (?, ?, ?, 'outreach', ?, ?) ON CONFLICT (id) DO NOTHING",
            (outreach.id, site_id, conv_id, outreach.message, outreach.sent_ms),
        )
    row = conn.execute(
        _SELECT + " WHERE id = ?",
        (conv_id,),
    ).fetchone()
    return _conversation(row)


def open_conversation(
    conn: apsw.Connection,
    site_id: int,
    visitor: str,
    now_ms: int,
    *,
    since_ms: int,
    outreach_id: str | None,
) -> tuple[Conversation, OutreachRow | None]:
    """The conversation a new visitor message belongs to (created when there is none).

    A reply to an outreach continues that outreach's conversation; an outreach
    id that is not this visitor's on this site is ignored.
    """
    outreach = outreach_row(conn, site_id, visitor, outreach_id) if outreach_id else None
    if outreach is not None:
        found = _by_outreach(conn, site_id, visitor, outreach.id)
        return found or _create(conn, site_id, visitor, now_ms, outreach), outreach
    found = find_conversation(conn, site_id, visitor, since_ms)
    if found is not None and found.outreach_id is not None:
        outreach = outreach_row(conn, site_id, visitor, found.outreach_id)
    return found or _create(conn, site_id, visitor, now_ms, None), outreach


def insert_visitor_turn(
    conn: apsw.Connection,
    conversation: Conversation,
    *,
    message_id: str,
    text: str,
    at_ms: int,
    seq: int,
) -> bool:
    """Store a visitor turn once; False when this frame's turn was already stored."""
    cursor = conn.execute(
        "INSERT INTO chat_messages (id, site_id, conversation_id, role, text, at_ms, seq)"
        " VALUES (?, ?, ?, 'visitor', ?, ?, ?) ON CONFLICT (id) DO NOTHING RETURNING id",
        (message_id, conversation.site_id, conversation.id, text, at_ms, seq),
    )
    if cursor.fetchone() is None:
        return False
    conn.execute(
        _TOUCH,
        (at_ms, conversation.id, conversation.site_id),
    )
    return True


def insert_answer(conn: apsw.Connection, answer: Answer) -> None:
    conn.execute(
        "INSERT INTO chat_messages (id, site_id, conversation_id, role, text, at_ms, citations,"
        " kind, offline, provider, model, cost_nano, passages, retrieval_confidence)"
        " VALUES (?, ?, ?, 'bot', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            answer.id,
            answer.site_id,
            answer.conversation_id,
            answer.text,
            answer.at_ms,
            json.dumps(answer.citations),
            answer.kind,
            int(answer.offline),
            answer.provider,
            answer.model,
            answer.cost_nano,
            json.dumps(answer.passages),
            answer.retrieval_confidence,
        ),
    )
    conn.execute(
        _TOUCH,
        (answer.at_ms, answer.conversation_id, answer.site_id),
    )


def recent_turns(
    conn: apsw.Connection, site_id: int, conversation_id: str, limit: int, after_ms: int = -1
) -> list[Turn]:
    """The last ``limit`` turns after ``after_ms``, oldest first."""
    rows = conn.execute(
        "SELECT id, role, text, at_ms, citations, author FROM chat_messages WHERE site_id = ?"
        " AND conversation_id = ? AND at_ms > ? ORDER BY at_ms DESC, rowid DESC LIMIT ?",
        (site_id, conversation_id, after_ms, limit),
    ).fetchall()
    return [_turn(row) for row in rows][::-1]


def _turn(row: Any) -> Turn:
    message_id, role, text, at_ms, citations, author = row
    return Turn(
        str(message_id),
        str(role),
        str(text),
        int(at_ms),
        json.loads(citations) if citations else [],
        None if author is None else str(author),
    )


def recent_visitor_turns(conn: apsw.Connection, site_id: int, visitor: str, since_ms: int) -> int:
    """How many messages the visitor sent since ``since_ms`` (the chat rate limit)."""
    row = conn.execute(
        "SELECT count(*) FROM chat_messages m JOIN conversations c ON c.id = m.conversation_id"
        " WHERE c.site_id = ? AND c.visitor = ? AND m.site_id = ? AND m.role = 'visitor'"
        " AND m.at_ms >= ?",
        (site_id, visitor, site_id, since_ms),
    ).fetchone()
    return int(row[0]) if row else 0


def set_summary(
    conn: apsw.Connection, site_id: int, conversation_id: str, summary: str, upto_ms: int
) -> None:
    conn.execute(
        "UPDATE conversations SET summary = ?, summarized_upto_ms = ? WHERE id = ? AND site_id = ?",
        (summary, upto_ms, conversation_id, site_id),
    )


def set_lang(conn: apsw.Connection, site_id: int, conversation_id: str, lang: str) -> None:
    conn.execute(
        "UPDATE conversations SET lang = ? WHERE id = ? AND site_id = ?",
        (lang, conversation_id, site_id),
    )


def hand_off(
    conn: apsw.Connection, site_id: int, conversation_id: str, *, at_ms: int, reason: str,
    department: str,
) -> None:  # fmt: skip
    """Give the conversation to a person: status ``human``, with why and for which team.

    The wait starts at the first hand-off: asking again while waiting keeps its place
    in the queue (and updates the reason and the team).
    """
    conn.execute(
        "UPDATE conversations SET status = 'human', handoff_reason = ?, handoff_department = ?,"
        " handoff_at_ms = CASE WHEN status = 'human' AND handoff_at_ms IS NOT NULL"
        " THEN handoff_at_ms ELSE ? END WHERE id = ? AND site_id = ?",
        (reason, department, at_ms, conversation_id, site_id),
    )


def with_person(conn: apsw.Connection, site_id: int, visitor: str, since_ms: int) -> bool:
    """Whether the visitor has a conversation active since ``since_ms`` that is with a
    person (waiting for one, or taken over)."""
    row = conn.execute(
        "SELECT 1 FROM conversations WHERE site_id = ? AND visitor = ? AND status = 'human'"
        " AND last_ms >= ? LIMIT 1",
        (site_id, visitor, since_ms),
    ).fetchone()
    return row is not None


def reply_owner(conn: apsw.Connection, site_id: int, reply_id: str) -> str | None:
    """The visitor a bot reply of this site was sent to (None: no such reply here)."""
    row = conn.execute(
        "SELECT c.visitor FROM chat_messages m JOIN conversations c ON c.id = m.conversation_id"
        " WHERE m.id = ? AND m.site_id = ? AND c.site_id = ? AND m.role = 'bot'",
        (reply_id, site_id, site_id),
    ).fetchone()
    return str(row[0]) if row else None


def reply_conversation(conn: apsw.Connection, site_id: int, reply_id: str) -> Conversation | None:
    """The conversation of a bot reply of this site (None: no such reply here)."""
    row = conn.execute(
        f"SELECT {_C_COLUMNS} FROM chat_messages m"  # noqa: S608
        " JOIN conversations c ON c.id = m.conversation_id"
        " WHERE m.id = ? AND m.site_id = ? AND c.site_id = ? AND m.role = 'bot'",
        (reply_id, site_id, site_id),
    ).fetchone()
    return _conversation(row) if row else None


def last_bot_kind(conn: apsw.Connection, site_id: int, conversation_id: str) -> str | None:
    """The kind of the conversation's latest bot turn (None: no bot turn yet)."""
    row = conn.execute(
        "SELECT kind FROM chat_messages WHERE site_id = ? AND conversation_id = ?"
        " AND role = 'bot' ORDER BY at_ms DESC, rowid DESC LIMIT 1",
        (site_id, conversation_id),
    ).fetchone()
    return None if row is None or row[0] is None else str(row[0])


def last_visitor_seq(conn: apsw.Connection, site_id: int, conversation_id: str) -> int:
    """The seq of the conversation's latest visitor turn (0: none)."""
    row = conn.execute(
        "SELECT seq FROM chat_messages WHERE site_id = ? AND conversation_id = ?"
        " AND role = 'visitor' AND seq IS NOT NULL ORDER BY at_ms DESC, rowid DESC LIMIT 1",
        (site_id, conversation_id),
    ).fetchone()
    return int(row[0]) if row else 0


def chat_settings(conn: apsw.Connection, site_id: int) -> dict[str, Any]:
    """The site's stored chat settings by name (empty: none stored, the defaults apply)."""
    row = conn.execute(
        "SELECT handoff_on_failure FROM chat_settings WHERE site_id = ?", (site_id,)
    ).fetchone()
    return {} if row is None else {"handoff_on_failure": bool(row[0])}


def save_chat_settings(
    conn: apsw.Connection, site_id: int, *, handoff_on_failure: bool, at_ms: int
) -> None:
    conn.execute(
        "INSERT INTO chat_settings (site_id, handoff_on_failure, updated_ms) VALUES (?, ?, ?)"
        " ON CONFLICT (site_id) DO UPDATE SET handoff_on_failure = excluded.handoff_on_failure,"
        " updated_ms = excluded.updated_ms",
        (site_id, int(handoff_on_failure), at_ms),
    )


def insert_rating(
    conn: apsw.Connection,
    *,
    site_id: int,
    visitor: str,
    reply_id: str,
    rating: str,
    comment: str | None,
    at_ms: int,
) -> bool:
    """Record (or replace) the visitor's rating of one of their replies; False if not theirs."""
    if reply_owner(conn, site_id, reply_id) != visitor:
        return False
    conn.execute(
        "INSERT INTO chat_ratings (message_id, site_id, visitor, rating, comment, at_ms)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (message_id) DO UPDATE SET"
        " rating = excluded.rating, comment = excluded.comment, at_ms = excluded.at_ms",
        (reply_id, site_id, visitor, rating, comment, at_ms),
    )
    return True


# Waiting since the first hand-off; the latest visitor message as its preview.
_WAITING = (
    "SELECT c.id, c.site_id, c.visitor,"  # noqa: S608 - the dialect's fixed sub-select
    " COALESCE(c.handoff_at_ms, c.last_ms) AS since, c.handoff_reason, c.handoff_department,"
    " c.routed_agent, (SELECT v.text FROM chat_messages v WHERE v.site_id = c.site_id"
    "   AND v.conversation_id = c.id AND v.role = 'visitor'"
    "   ORDER BY v.at_ms DESC, v.id DESC LIMIT 1)"
    " FROM conversations c WHERE c.status = 'human' AND c.owner_agent IS NULL"
    f" AND c.site_id IN ({dialect.id_list()}) ORDER BY since, c.id LIMIT ?"
)
_IN_SITES = (
    f"SELECT {_COLUMNS} FROM conversations"  # noqa: S608
    f" WHERE id = ? AND site_id IN ({dialect.id_list()})"
)


@dataclass(frozen=True, slots=True)
class Waiting:
    """A conversation handed to a person, as a queue of waiting conversations lists it."""

    id: str
    site_id: int
    visitor: str
    since_ms: int
    """When it was handed off (its first hand-off of this wait)."""
    last_visitor_text: str | None
    reason: str | None = None
    """Why: what the visitor did, or the model's words for the person who takes over."""
    department: str | None = None
    """The team it is for."""
    routed_agent: int | None = None
    """The agent it is offered to first."""


def waiting_conversations(
    conn: apsw.Connection, site_ids: Sequence[int], limit: int
) -> list[Waiting]:
    """The conversations of these sites waiting for a person (no one has them yet), longest
    waiting first."""
    if not site_ids:
        return []
    rows = conn.execute(
        _WAITING,
        (dialect.id_list_value(site_ids), limit),
    ).fetchall()
    return [
        Waiting(
            str(id_),
            int(str(site)),
            str(visitor),
            int(str(since)),
            None if text is None else str(text),
            None if reason is None else str(reason),
            None if department is None else str(department),
            None if routed is None else int(routed),
        )
        for id_, site, visitor, since, reason, department, routed, text in rows
    ]


def conversation_in(
    conn: apsw.Connection, site_ids: Sequence[int], conversation_id: str
) -> Conversation | None:
    """Conversation ``conversation_id`` if it belongs to one of these sites, else None."""
    if not site_ids:
        return None
    row = conn.execute(
        _IN_SITES,
        (conversation_id, dialect.id_list_value(site_ids)),
    ).fetchone()
    return _conversation(row) if row else None


# -- a person's conversation -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Taken:
    """The result of taking a conversation over: who has it now, and whether it is the taker."""

    conversation: Conversation
    won: bool


def take_over(
    conn: apsw.Connection, site_ids: Sequence[int], conversation_id: str, *, agent_id: int,
    name: str, at_ms: int,
) -> Taken | None:  # fmt: skip
    """Give the conversation to this agent if no one has it (one statement: of two agents at
    once, exactly one wins); None when it is not one of these sites' or is resolved."""
    if not site_ids:
        return None
    row = conn.execute(
        "UPDATE conversations SET owner_agent = ?, owner_name = ?, owned_at_ms = ?,"  # noqa: S608
        " status = 'human', handoff_at_ms = COALESCE(handoff_at_ms, ?)"
        f" WHERE id = ? AND site_id IN ({dialect.id_list()}) AND owner_agent IS NULL"
        f" AND status != 'resolved' RETURNING {_COLUMNS}",
        (agent_id, name, at_ms, at_ms, conversation_id, dialect.id_list_value(site_ids)),
    ).fetchone()
    if row is not None:
        return Taken(_conversation(row), won=True)
    current = conversation_in(conn, site_ids, conversation_id)
    if current is None or current.status == "resolved":
        return None
    return Taken(current, won=False)


def release(
    conn: apsw.Connection, site_id: int, conversation_id: str, *, agent_id: int | None,
    to: str, at_ms: int, department: str | None = None,
) -> Conversation | None:  # fmt: skip
    """The owner lets go (``agent_id`` None: whoever has it, for a supervisor):
    ``to="bot"`` hands back to the assistant, ``"queue"`` puts it back in the queue (of
    ``department`` when given), ``"resolved"`` closes it.  None when it was not theirs."""
    status = {"bot": "bot", "queue": "human", "resolved": "resolved"}[to]
    owner = "owner_agent IS NOT NULL" if agent_id is None else "owner_agent = ?"
    row = conn.execute(
        "UPDATE conversations SET status = ?, owner_agent = NULL, owner_name = NULL,"  # noqa: S608
        " owned_at_ms = NULL, routed_agent = NULL,"
        " resolved_at_ms = CASE WHEN ? = 'resolved' THEN ? ELSE NULL END,"
        " handoff_at_ms = CASE WHEN ? = 'human' THEN handoff_at_ms ELSE NULL END,"
        " handoff_department = COALESCE(?, handoff_department)"
        f" WHERE id = ? AND site_id = ? AND {owner} RETURNING {_COLUMNS}",
        (status, status, at_ms, status, department, conversation_id, site_id)
        + (() if agent_id is None else (agent_id,)),
    ).fetchone()
    return None if row is None else _conversation(row)


def transfer(
    conn: apsw.Connection, site_id: int, conversation_id: str, *, from_agent: int | None,
    to_agent: int, to_name: str, at_ms: int,
) -> Conversation | None:  # fmt: skip
    """Give an owned conversation to another agent; None when ``from_agent`` does not have it
    (``from_agent`` None: whoever has it, for a supervisor)."""
    owner = "owner_agent IS NOT NULL" if from_agent is None else "owner_agent = ?"
    row = conn.execute(
        "UPDATE conversations SET owner_agent = ?, owner_name = ?, owned_at_ms = ?"  # noqa: S608
        f" WHERE id = ? AND site_id = ? AND status = 'human' AND {owner} RETURNING {_COLUMNS}",
        (to_agent, to_name, at_ms, conversation_id, site_id)
        + (() if from_agent is None else (from_agent,)),
    ).fetchone()
    return None if row is None else _conversation(row)


def route(conn: apsw.Connection, site_id: int, conversation_id: str, agent_id: int | None) -> None:
    """Offer a waiting conversation to this agent first (None: to no one in particular)."""
    conn.execute(
        "UPDATE conversations SET routed_agent = ? WHERE id = ? AND site_id = ?",
        (agent_id, conversation_id, site_id),
    )


def insert_agent_turn(
    conn: apsw.Connection, site_id: int, conversation_id: str, *, message_id: str,
    agent_id: int, name: str, text: str, at_ms: int,
) -> bool:  # fmt: skip
    """Store what the owner wrote, in the same statement that checks they still own it;
    False when they do not (taken over by someone else, handed back, resolved)."""
    cursor = conn.execute(
        "INSERT INTO chat_messages (id, site_id, conversation_id, role, text, at_ms, author,"
        " agent_id) SELECT ?, c.site_id, c.id, 'agent', ?, ?, ?, ? FROM conversations c"
        " WHERE c.id = ? AND c.site_id = ? AND c.owner_agent = ? AND c.status = 'human'"
        " ON CONFLICT (id) DO NOTHING RETURNING id",
        (message_id, text, at_ms, name, agent_id, conversation_id, site_id, agent_id),
    )
    if cursor.fetchone() is None:
        return False
    conn.execute(_TOUCH, (at_ms, conversation_id, site_id))
    return True


def agent_turn_stored(
    conn: apsw.Connection, conversation_id: str, message_id: str, agent_id: int
) -> bool:
    """Whether this agent's message ``message_id`` is already in the conversation (a resend)."""
    row = conn.execute(
        "SELECT 1 FROM chat_messages WHERE id = ? AND conversation_id = ? AND agent_id = ?",
        (message_id, conversation_id, agent_id),
    ).fetchone()
    return row is not None


def owned_counts(conn: apsw.Connection, agent_ids: Sequence[int]) -> dict[int, int]:
    """How many conversations each of these agents has open (with a person, theirs)."""
    if not agent_ids:
        return {}
    rows = conn.execute(
        "SELECT owner_agent, COUNT(*) FROM conversations WHERE status = 'human'"  # noqa: S608
        f" AND owner_agent IN ({dialect.id_list()}) GROUP BY owner_agent",
        (dialect.id_list_value(agent_ids),),
    ).fetchall()
    return {int(str(agent)): int(str(count)) for agent, count in rows}


def owned_by(
    conn: apsw.Connection, site_ids: Sequence[int], agent_id: int, limit: int
) -> list[Conversation]:
    """The conversations this agent has, most recently active first."""
    if not site_ids:
        return []
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM conversations WHERE status = 'human'"  # noqa: S608
        f" AND owner_agent = ? AND site_id IN ({dialect.id_list()}) ORDER BY last_ms DESC"
        " LIMIT ?",
        (agent_id, dialect.id_list_value(site_ids), limit),
    ).fetchall()
    return [_conversation(r) for r in rows]


def handoff_of(
    conn: apsw.Connection, site_id: int, conversation_id: str
) -> tuple[str | None, str | None]:
    """Why the conversation was handed to a person, and for which team (None: never was)."""
    row = conn.execute(
        "SELECT handoff_reason, handoff_department FROM conversations WHERE id = ? AND site_id = ?",
        (conversation_id, site_id),
    ).fetchone()
    if row is None:
        return None, None
    reason, department = row
    return (
        None if reason is None else str(reason),
        None if department is None else str(department),
    )
