"""REST under /api/sites/{key}/quality: admin only, per site, sample → verdicts → report."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest
from litestar import Litestar
from litestar.datastructures import State
from litestar.testing import AsyncTestClient

from bpract.quality.api import route_handlers
from bpract.quality.weeks import week_of
from bpract.store import Database
from quality.conftest import MONDAY_MS, WEEK, Chat
from support.sites import token_on

Client = AsyncTestClient[Litestar]


@pytest.fixture
async def client(db: Database) -> AsyncIterator[Client]:
    app = Litestar(route_handlers=route_handlers, state=State({"db": db}))
    async with AsyncTestClient(app) as test_client:
        yield test_client


@pytest.fixture
def auth(db: Database) -> dict[str, str]:
    token = db.run_sync(lambda c: token_on(c, "reviewers"))
    return {"Authorization": f"Bearer {token}"}


PASSAGES = [{"chunk_id": 3, "title": "Refunds", "url": "/help/refunds", "section": "Refunds",
             "text": "Refunds take 5 working days.", "score": 0.8}]  # fmt: skip


async def test_sample_review_and_verdict(client: Client, auth: dict[str, str], chat: Chat) -> None:
    reply = chat.turn(1, "v_a", "When is my €30 refund?", "Within 5 working days [1].",
                      passages=PASSAGES, grounding=0.9, rating="down")  # fmt: skip
    chat.turn(1, "v_b", "Sizes?", "S to XL.", at_ms=MONDAY_MS + 99, grounding=0.4)
    other = chat.turn(2, "v_c", "Refund?", "Yes.", rating="down")
    url = "/api/sites/pk_1/quality"
    drawn = await client.post(f"{url}/reviews/sample?week={WEEK}&n=5", headers=auth)
    assert drawn.status_code == 201, drawn.text
    body = drawn.json()
    assert (body["week"], body["added"], len(body["items"])) == (WEEK, 2, 2)
    again = await client.post(f"{url}/reviews/sample?week={WEEK}&n=5", headers=auth)
    assert again.json()["added"] == 0
    listed = (await client.get(f"{url}/reviews?week={WEEK}", headers=auth)).json()
    first = next(i for i in listed if i["message_id"] == reply)
    assert first["question"] == "When is my €30 refund?"
    assert first["passages"] == PASSAGES and first["grounding"] == 0.9
    assert first["rating"] == "down" and set(first["reasons"]) == {"money", "thumbs_down"}
    verdict = {"verdict": "partial", "reviewer": "ana", "note": "5 or 10?"}
    put = await client.put(f"{url}/reviews/{reply}", headers=auth, json=verdict)
    assert put.status_code == 200, put.text
    assert (put.json()["verdict"], put.json()["reviewer"]) == ("partial", "ana")
    # Another site's answer is not in this site's sample: 404, and untouched.
    await client.post(f"/api/sites/pk_2/quality/reviews/sample?week={WEEK}", headers=auth)
    cross = await client.put(f"{url}/reviews/{other}", headers=auth,
                             json={"verdict": "grounded", "reviewer": "ana"})  # fmt: skip
    assert cross.status_code == 404
    [theirs] = (
        await client.get(f"/api/sites/pk_2/quality/reviews?week={WEEK}", headers=auth)
    ).json()
    assert theirs["message_id"] == other and theirs["verdict"] is None


async def test_refusals(client: Client, auth: dict[str, str], chat: Chat) -> None:
    reply = chat.turn(1, "v_a", "Q?", "A.")
    url = "/api/sites/pk_1/quality"
    assert (await client.get(f"{url}/reviews")).status_code == 401
    bad = {"Authorization": "Bearer bpa_wrong"}
    assert (await client.post(f"{url}/reviews/sample", headers=bad)).status_code == 401
    assert (await client.get("/api/sites/pk_9/quality/reviews", headers=auth)).status_code == 404
    assert (await client.get(f"{url}/reviews?week=2026-48", headers=auth)).status_code == 400
    assert (await client.post(f"{url}/reviews/sample?n=0", headers=auth)).status_code == 400
    assert (await client.get(f"{url}/hallucination?weeks=0", headers=auth)).status_code == 400
    await client.post(f"{url}/reviews/sample?week={WEEK}", headers=auth)
    wrong = await client.put(f"{url}/reviews/{reply}", headers=auth,
                             json={"verdict": "fine", "reviewer": "ana"})  # fmt: skip
    assert wrong.status_code == 400
    anonymous = await client.put(f"{url}/reviews/{reply}", headers=auth,
                                 json={"verdict": "grounded", "reviewer": "  "})  # fmt: skip
    assert anonymous.status_code == 400
    missing = await client.put(f"{url}/reviews/r_nope", headers=auth,
                               json={"verdict": "grounded", "reviewer": "ana"})  # fmt: skip
    assert missing.status_code == 404


async def test_hallucination_report(client: Client, auth: dict[str, str], chat: Chat) -> None:
    now = time.time_ns() // 1_000_000
    replies = [chat.turn(1, f"v{i}", "Q?", "A.", at_ms=now - 1000 + i, grounding=0.5 + i / 10)
               for i in range(4)]  # fmt: skip
    url = "/api/sites/pk_1/quality"
    await client.post(f"{url}/reviews/sample", headers=auth)
    for reply, verdict in zip(replies, ("hallucination", "grounded", "grounded", "partial"),
                              strict=True):  # fmt: skip
        await client.put(f"{url}/reviews/{reply}", headers=auth,
                         json={"verdict": verdict, "reviewer": "ana"})  # fmt: skip
    report = (await client.get(f"{url}/hallucination?weeks=3", headers=auth)).json()
    assert "inverse" in report["note"] or "1/inclusion" in report["note"]
    weeks = report["weeks"]
    assert [w["week"] for w in weeks][-1] == week_of(now) and len(weeks) == 3
    this = weeks[-1]
    assert (this["reviewed"], this["hallucinations"], this["partial"]) == (4, 1, 1)
    assert this["rate"] == 0.25 and this["weighted_rate"] is not None
    assert this["average_grounding"] == pytest.approx(0.65)
    assert weeks[0]["reviewed"] == 0 and weeks[0]["rate"] is None
