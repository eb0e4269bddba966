"""``record_rating``: a visitor rates their own bot answers, nothing else."""

from __future__ import annotations

from typing import Any

from bpract.quality import record_rating
from bpract.store import Database
from quality.conftest import Chat


def rate(
    db: Database,
    *,
    message_id: str,
    site_id: int = 1,
    visitor: str = "v_a",
    rating: str = "down",
    comment: str | None = None,
) -> bool:
    return db.run_sync(
        lambda c: record_rating(
            c, site_id=site_id, visitor=visitor, message_id=message_id, rating=rating,
            comment=comment, at_ms=10,
        )
    )  # fmt: skip


def ratings(db: Database) -> list[tuple[Any, ...]]:
    return db.run_sync(
        lambda c: c.execute(
            "SELECT message_id, site_id, visitor, rating, comment FROM chat_ratings"
        ).fetchall()
    )


def test_a_visitor_rates_and_rerates_their_answer(db: Database, chat: Chat) -> None:
    reply = chat.turn(1, "v_a", "How long do refunds take?", "Within 5 working days.")
    assert rate(db, message_id=reply, rating="up", comment="  thanks  ")
    assert rate(db, message_id=reply, rating="down", comment="x" * 5000)
    [(mid, site, visitor, rating, comment)] = ratings(db)
    assert (mid, site, visitor, rating) == (reply, 1, "v_a", "down")
    assert comment == "x" * 1000  # long comments are cut


def test_refusals(db: Database, chat: Chat) -> None:
    mine = chat.turn(1, "v_a", "Question?", "Answer.")
    other_visitor = chat.turn(1, "v_b", "Question?", "Answer.")
    other_site = chat.turn(2, "v_a", "Question?", "Answer.")
    visitor_turn = mine.replace("r_", "m_")
    assert not rate(db, message_id=other_visitor)
    assert not rate(db, message_id=other_site)
    assert not rate(db, message_id=other_site, site_id=2, visitor="v_b")
    assert not rate(db, message_id=visitor_turn)  # not a bot message
    assert not rate(db, message_id="r_missing")
    assert not rate(db, message_id=mine, rating="meh")
    assert ratings(db) == []
    assert rate(db, message_id=other_site, site_id=2)  # its own site and visitor: accepted
