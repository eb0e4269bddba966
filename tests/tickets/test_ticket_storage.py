"""Tickets in SQL: one per frame, claims that exclude each other and lapse, the inbox's list."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import apsw

from bpract.store import Database, transaction
from bpract.tickets import storage
from support.sites import make_site
from tickets.conftest import ORIGIN

T0 = 1_767_261_600_000
T = TypeVar("T")


def _ticket(site_id: int, seq: int, at: int, visitor: str = "v_1") -> storage.NewTicket:
    return storage.NewTicket(site_id=site_id, visitor=visitor, stream="s_1", seq=seq,
                             email="ana@example.com", question=f"q{seq}", lang="en",
                             created_ms=at)  # fmt: skip


def test_claims_exclude_each_other_lapse_and_the_list_is_newest_first(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    one = make_site(path, name="One", origins=[ORIGIN])
    two = make_site(path, name="Two", origins=[ORIGIN])
    db = Database(path)
    try:

        def run(fn: Callable[[apsw.Connection], T]) -> T:
            def within(conn: apsw.Connection) -> T:
                with transaction(conn):
                    return fn(conn)

            return db.run_sync(within)

        first = run(lambda c: storage.insert_ticket(c, _ticket(one.id, 1, T0)))
        again = run(lambda c: storage.insert_ticket(c, _ticket(one.id, 1, T0 + 5)))
        assert first == again and first.startswith("t_")  # the same frame: one ticket
        second = run(lambda c: storage.insert_ticket(c, _ticket(one.id, 2, T0 + 10)))
        other = run(lambda c: storage.insert_ticket(c, _ticket(two.id, 1, T0 + 20, "v_2")))
        assert run(lambda c: storage.recent_by_visitor(c, one.id, "v_1", T0)) == 2

        claimed = run(lambda c: storage.claim_due(c, T0 + 100, 60_000, 10))
        assert [c.id for c in claimed] == [first, second, other]
        assert {c.site_key for c in claimed} == {one.public_key, two.public_key}
        assert all(c.attempts == 1 and c.webhook_url == "" for c in claimed)
        # claimed: another worker gets nothing until the claim lapses
        assert run(lambda c: storage.claim_due(c, T0 + 200, 60_000, 10)) == []
        run(lambda c: storage.delivered(c, first, T0 + 300))
        run(lambda c: storage.retry_later(c, second, due_ms=T0 + 5_000, error="status 500"))
        lapsed = run(lambda c: storage.claim_due(c, T0 + 60_101, 60_000, 10))
        assert [(c.id, c.attempts) for c in lapsed] == [(second, 2), (other, 2)]
        run(lambda c: storage.retry_later(c, other, due_ms=None, error="status 410"))

        listed = run(lambda c: storage.tickets_of(c, [one.id, two.id], 10))
        assert [(t.id, t.state) for t in listed] == [
            (other, "failed"), (second, "pending"), (first, "delivered")
        ]  # fmt: skip
        assert listed[0].last_error == "status 410" and listed[2].delivered_ms == T0 + 300
        assert [t.id for t in run(lambda c: storage.tickets_of(c, [two.id], 10))] == [other]
        assert [t.id for t in run(lambda c: storage.tickets_of(c, [one.id, two.id], 1))] == [other]
    finally:
        db.close()
