"""Property-based tests: the frame decoder and the frame writer under hostile input."""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Iterator
from itertools import count
from typing import Any, Literal

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bpract.features import MIGRATIONS
from bpract.sites import create_site
from bpract.store import Database, migrate
from bpract.visitors.connection import classify_error
from bpract.visitors.writer import FrameRow, FrameWriter, RowRefused, SignalRow
from bpract.wire.bounds import check_free
from bpract.wire.codes import (
    ALL_ERRORS,
    MAX_FREE_DEPTH,
    MAX_FREE_KEY_CHARS,
    MAX_FREE_TEXT_CHARS,
    MAX_FREE_VALUES,
    MAX_SAFE_INT,
)
from bpract.wire.frames import CLIENT_FRAMES, Frame, SeqFrame, decode_client, seq_of, tag_of

FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=300,
    suppress_health_check=[HealthCheck.too_slow],
)

# -- the decoder --------------------------------------------------------------------------

_numbers = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([2**53, 2**53 + 1, 2**63, -(2**63) - 1, 2**64, 1e20, -1e20, 1e308]),
    st.floats(allow_nan=True, allow_infinity=True),
)
_scalars = st.one_of(st.none(), st.booleans(), _numbers, st.text(max_size=40))
_json = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=30,
)
_FIELDS = [
    "seq",
    "at",
    "v",
    "site",
    "visitor",
    "stream",
    "engine",
    "name",
    "data",
    "session",
    "rule",
    "rule_version",
    "context",
    "outreach",
    "kind",
    "event",
    "user_id",
    "user_hash",
    "traits",
    "identity",
    "text",
    "reply",
    "rating",
    "comment",
    "page",
]
_TAGS = [tag_of(f) for f in CLIENT_FRAMES] + ["teleport", "", "ack"]


@st.composite
def _shaped(draw: st.DrawFn) -> dict[str, Any]:
    """A JSON object shaped like a client frame: a known ``t``, known and odd fields."""
    frame: dict[str, Any] = {"t": draw(st.sampled_from(_TAGS))}
    for name in draw(st.lists(st.sampled_from(_FIELDS), max_size=8, unique=True)):
        frame[name] = draw(_json)
    if draw(st.booleans()):
        frame["seq"], frame["at"] = draw(st.integers(1, 10)), draw(st.integers(0, 2**53))
    return frame


def _deep(depth: int) -> str:
    return '{"t":"signal","seq":1,"at":1,"name":"x","data":{"a":' + "[" * depth + "]" * depth + "}}"


def _payloads() -> st.SearchStrategy[str | bytes]:
    shaped = _shaped().map(lambda f: json.dumps(f, allow_nan=True))
    return st.one_of(
        st.binary(max_size=200),
        st.text(max_size=200),
        shaped,
        shaped.map(lambda s: s.encode()),
        st.tuples(shaped, st.integers(0, 300)).map(lambda p: p[0][: p[1]]),  # truncated
        st.tuples(shaped, st.binary(min_size=1, max_size=4)).map(lambda p: p[0].encode() + p[1]),
        st.integers(1, 3000).map(_deep),
        st.tuples(st.sampled_from(_VALID), st.binary(min_size=1, max_size=4)).map(_in_a_string),
    )


_VALID: list[dict[str, Any]] = [
    {"t": "signal", "seq": 1, "at": 1, "name": "x", "data": {"a": "MARK"}},
    {"t": "event", "seq": 2, "at": 1, "event": {"k": "page", "at": 5, "url": "MARK"}},
    {"t": "identify", "seq": 3, "at": 1, "user_id": "1", "user_hash": "MARK"},
    {"t": "ping", "zz": "MARK"},  # a field the decoder skips
    {"t": "signal", "seq": 4, "at": 1, "name": "x", "zz": ["MARK"]},
]


def _in_a_string(p: tuple[dict[str, Any], bytes]) -> bytes:
    """Any bytes inside a string of a valid frame, known field or skipped one."""
    frame, raw = p
    return json.dumps(frame).encode().replace(b"MARK", raw)


def _bounded(value: object) -> bool:
    """Every number of a decoded frame is safe; free-form fields pass their bounds."""
    if isinstance(value, msgspec.Struct):
        return all(_bounded(getattr(value, f)) for f in value.__struct_fields__)
    if isinstance(value, dict):
        check_free("value", value)
        return True
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return True
    if isinstance(value, int | float):
        return math.isfinite(value) and abs(value) <= MAX_SAFE_INT
    return isinstance(value, list | tuple) and all(_bounded(v) for v in value)


@FUZZ
@given(_payloads())
def test_decoding_returns_a_bounded_frame_or_a_documented_error(payload: str | bytes) -> None:
    try:
        frame = decode_client(payload)
    except msgspec.DecodeError as exc:
        assert classify_error(exc) in ALL_ERRORS
        seq = seq_of(payload)
        assert seq is None or 1 <= seq <= MAX_SAFE_INT
        return
    assert isinstance(frame, Frame)
    if isinstance(payload, bytes):
        payload.decode()  # a frame is stored as text: a binary one must be UTF-8 throughout
    assert _bounded(frame)
    if isinstance(frame, SeqFrame):
        assert 1 <= frame.seq <= MAX_SAFE_INT and 0 <= frame.at <= MAX_SAFE_INT


def _nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        (_nested(MAX_FREE_DEPTH), True),
        (_nested(MAX_FREE_DEPTH + 1), False),
        ({str(n): n for n in range(MAX_FREE_VALUES)}, True),
        ({"a": list(range(MAX_FREE_VALUES))}, False),  # 1001 values: the list and its items
        ({"k" * MAX_FREE_KEY_CHARS: 1}, True),
        ({"k" * (MAX_FREE_KEY_CHARS + 1): 1}, False),
        ({"s": "x" * MAX_FREE_TEXT_CHARS}, True),
        ({"s": "x" * (MAX_FREE_TEXT_CHARS + 1)}, False),
        ({"n": MAX_SAFE_INT, "m": -MAX_SAFE_INT, "f": 1.5, "b": True, "z": None}, True),
        ({"n": [MAX_SAFE_INT + 1]}, False),
        ({"t": (1, float("nan"))}, False),
        ({1: 2}, False),
        ({"o": object()}, False),
        (None, True),
    ],
)
def test_free_form_bounds_at_their_edges(value: object, ok: bool) -> None:
    if ok:
        check_free("data", value)
    else:
        with pytest.raises(ValueError, match="`data` holds"):
            check_free("data", value)


# -- the writer ---------------------------------------------------------------------------

Kind = Literal["good", "frame_at", "signal_at", "engine_signal", "no_site"]
_KINDS: list[Kind] = ["good", "good", "good", "frame_at", "signal_at", "engine_signal", "no_site"]
#: One submission: its kind, visitor (0–3), seq (1–12), and how many submissions to queue
#: before letting the writer run (0: same batch as the next).
_Sub = tuple[Kind, int, int, int]
_submissions = st.lists(
    st.tuples(st.sampled_from(_KINDS), st.integers(0, 3), st.integers(1, 12), st.integers(0, 3)),
    min_size=1,
    max_size=60,
)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    database = Database(tmp_path_factory.mktemp("fuzz") / "w.db")
    database.run_sync(lambda c: migrate(c, MIGRATIONS))

    def site(conn: Any) -> None:
        with conn:
            create_site(conn, name="w", origins=["https://w.example"])

    database.run_sync(site)
    yield database
    database.close()


_runs = count()


def _rows(run: int, sub: _Sub) -> tuple[FrameRow | None, SignalRow | None]:
    kind, visitor, seq, _ = sub
    name = f"v_{run}_{visitor}"
    site, at = (99 if kind == "no_site" else 1), (2**63 if kind == "frame_at" else seq)
    frame = FrameRow(site, name, "s_1", seq, "signal", at, 1, "{}")
    signal = SignalRow(
        1, name, None, "x", 10**20 if kind in {"signal_at", "engine_signal"} else seq, "{}"
    )
    return (None if kind == "engine_signal" else frame), signal


def _expected(subs: list[_Sub]) -> tuple[list[bool | None], set[tuple[int, int]], int]:
    """Per submission True/False (new/duplicate) or None (refused); keys and signals stored."""
    stored: set[tuple[int, int]] = set()
    results: list[bool | None] = []
    for kind, visitor, seq, _ in subs:
        key = (visitor, seq)
        if kind in {"frame_at", "engine_signal", "no_site"}:
            results.append(None)
        elif key in stored:
            results.append(False)  # a duplicate: its signal is not written, hostile or not
        elif kind == "signal_at":
            results.append(None)
        else:
            stored.add(key)
            results.append(True)
    return results, stored, sum(r is True for r in results)


async def _write(db: Database, run: int, subs: list[_Sub]) -> list[bool | None]:
    writer = FrameWriter(db, max_batch=16)
    writer.start()
    futures: list[asyncio.Future[bool]] = []
    try:
        for sub in subs:
            futures.append(writer.store(*_rows(run, sub)))
            if sub[3] == 0:
                await asyncio.sleep(0)
        done = await asyncio.gather(*futures, return_exceptions=True)
    finally:
        await writer.stop()
    results: list[bool | None] = []
    for result in done:
        if isinstance(result, BaseException):
            assert isinstance(result, RowRefused), result
            results.append(None)
        else:
            results.append(result)
    return results


@settings(FUZZ, max_examples=40)
@given(_submissions)
def test_hostile_rows_are_refused_alone_and_good_ones_stored_once(
    db: Database, subs: list[_Sub]
) -> None:
    run = next(_runs)
    results = asyncio.run(_write(db, run, subs))
    expected, keys, signals = _expected(subs)
    assert results == expected
    prefix = f"v_{run}_%"
    stored = db.run_sync(
        lambda c: c.execute(
            "SELECT visitor, seq FROM frames WHERE visitor LIKE ?", (prefix,)
        ).fetchall()
    )
    assert sorted((int(v.rsplit("_", 1)[1]), s) for v, s in stored) == sorted(keys)
    n_signals = db.run_sync(
        lambda c: c.execute(
            "SELECT count(*) FROM signals WHERE visitor LIKE ?", (prefix,)
        ).fetchone()
    )
    assert n_signals == (signals,)
