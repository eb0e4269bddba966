"""The compact journey: known keys only, no identity proof or user id, bounded size."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import apsw
import pytest

from bpract.features import MIGRATIONS
from bpract.store import Database, migrate
from bpract.triggers.journey import MAX_JOURNEY_CHARS, RECENT_SIGNALS, build_journey, load_journey

HASH = "ab" * 32


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(tmp_path / "journey.db")
    database.run_sync(lambda c: migrate(c, MIGRATIONS))
    yield database
    database.close()


def _site_and_visitor(db: Database, *, user_id: str | None, traits: dict[str, object]) -> int:
    def setup(c: apsw.Connection) -> int:
        with c:
            c.execute(
                "INSERT INTO sites (public_key, name, allowed_origins, identity_secret, created_at)"
                " VALUES ('pk_j', 'j', '[]', 'secret', 'now')"
            )
            site_id = int(c.last_insert_rowid())
            c.execute(
                "INSERT INTO visitors (site_id, id, first_seen_ms, last_seen_ms, user_id, traits)"
                " VALUES (?, 'v_1', 0, 0, ?, ?)",
                (site_id, user_id, json.dumps(traits)),
            )
            for n in range(RECENT_SIGNALS + 15):
                c.execute(
                    "INSERT INTO signals (site_id, visitor, session, name, at_ms, data)"
                    " VALUES (?, 'v_1', 'n_1', 'dwell', ?, ?)",
                    (site_id, n, json.dumps({"path": f"/p{n}", "seconds": n})),
                )
        return site_id

    return db.run_sync(setup)


def test_identity_proofs_and_unknown_keys_never_enter_the_journey() -> None:
    context = {
        "page": "/pricing",
        "user_hash": HASH,
        "identity": {"user_id": "42", "user_hash": HASH},
        "signals": {"dwell": 60, "user_hash": HASH, "nested": {"token": "t0k3n"}},
        "cart": {"items": 1, "secret": "s3"},
        "debug": "internal",
    }
    journey = build_journey(context, identified=True, traits={"plan": "pro", "user_hash": HASH})
    text = json.dumps(journey)
    assert HASH not in text and "t0k3n" not in text and "s3" not in text
    assert "debug" not in journey and "identity" not in journey
    assert journey["signals"]["dwell"] == 60 and journey["traits"] == {"plan": "pro"}


def test_traits_are_only_given_for_an_identified_visitor() -> None:
    journey = build_journey({"page": "/"}, identified=False, traits={"plan": "pro"})
    assert journey["identified"] is False and "traits" not in journey


def test_the_journey_stays_under_its_size_bound() -> None:
    huge = {
        "page": "/" + "x" * 5000,
        "title": "t" * 5000,
        "journey": [f"/page/{n}/" + "y" * 300 for n in range(200)],
        "signals": {f"s{n}": "z" * 500 for n in range(100)},
        "cart": {"items": [{"name": "n" * 400, "deep": {"deeper": {"deepest": 1}}}] * 50},
    }
    recent = [{"name": "dwell", "data": {"path": "/q" * 200}} for _ in range(100)]
    journey = build_journey(huge, recent=recent, identified=False)
    assert len(json.dumps(journey, ensure_ascii=False, separators=(",", ":"))) <= MAX_JOURNEY_CHARS
    assert len(journey["page"]) <= 200 and len(journey["signals"]) <= 20


def test_load_journey_reads_recent_signals_and_verified_traits(db: Database) -> None:
    site_id = _site_and_visitor(db, user_id="42", traits={"plan": "basic"})
    journey = db.run_sync(lambda c: load_journey(c, site_id, "v_1", {"page": "/pricing"}))
    assert journey["identified"] is True and journey["traits"] == {"plan": "basic"}
    signals = journey["recent_signals"]
    assert len(signals) == RECENT_SIGNALS
    # The newest signals, oldest first.
    assert signals[-1]["data"]["path"] == f"/p{RECENT_SIGNALS + 14}"
    assert signals[0]["data"]["path"] == "/p15"
    assert "42" not in json.dumps({k: v for k, v in journey.items() if k != "recent_signals"})


def test_load_journey_for_an_anonymous_visitor(db: Database) -> None:
    site_id = _site_and_visitor(db, user_id=None, traits={"plan": "basic"})
    journey = db.run_sync(lambda c: load_journey(c, site_id, "v_1", {}))
    assert journey["identified"] is False and "traits" not in journey
