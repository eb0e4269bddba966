"""REST for the review sample and the hallucination report, under ``/api/sites/{key}/quality``."""

from __future__ import annotations

from typing import Any

import apsw
import msgspec
from litestar import Controller, Request, get, post, put
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException, ValidationException
from litestar.params import FromPath, FromQuery, JSONBody

from bpract.clock import now_ms
from bpract.quality.report import RATE_NOTE, WeekFigures, week_figures
from bpract.quality.review import (
    DEFAULT_SAMPLE,
    ReviewItem,
    Verdict,
    review_items,
    sample_week,
    set_verdict,
)
from bpract.quality.weeks import last_weeks, week_bounds, week_of
from bpract.sites.api import admin_dependencies
from bpract.sites.auth import REVIEWS_WRITE, SITE_READ, admin_guard, requires
from bpract.store import Database

__all__ = ["HallucinationReport", "QualityController", "SampleOut", "VerdictIn", "route_handlers"]

AnyRequest = Request[Any, Any, Any]
MAX_WEEKS = 104


class SampleOut(msgspec.Struct, frozen=True, kw_only=True):
    week: str
    added: int
    items: list[ReviewItem]


class VerdictIn(msgspec.Struct, frozen=True, kw_only=True):
    verdict: Verdict
    reviewer: str
    note: str | None = None


class HallucinationReport(msgspec.Struct, frozen=True, kw_only=True):
    note: str
    weeks: list[WeekFigures]


def _week(week: str | None) -> str:
    if week is None:
        return week_of(now_ms())
    try:
        week_bounds(week)
    except ValueError as exc:
        raise ValidationException(detail=str(exc)) from None
    return week


class QualityController(Controller):
    path = "/api/sites/{site_key:str}/quality"
    dependencies = admin_dependencies("db")
    guards = [admin_guard]  # noqa: RUF012 - Litestar reads it from the class
    tags = ["quality"]  # noqa: RUF012

    @post("/reviews/sample", opt=requires(REVIEWS_WRITE))
    async def sample(
        self,
        db: NamedDependency[Database],
        site_id: NamedDependency[int],
        week: FromQuery[str | None] = None,
        n: FromQuery[int] = DEFAULT_SAMPLE,
    ) -> SampleOut:
        """Draw the week's review sample (again: only a shortfall is drawn, verdicts stay)."""
        if not 1 <= n <= 500:
            raise ValidationException(detail="n must be between 1 and 500")
        chosen = _week(week)

        def draw(conn: apsw.Connection) -> tuple[int, list[ReviewItem]]:
            added = sample_week(conn, site_id, chosen, n=n, now_ms=now_ms())
            return added, review_items(conn, site_id, week=chosen)

        added, items = await db.transaction(draw)
        return SampleOut(week=chosen, added=added, items=items)

    @get("/reviews", opt=requires(SITE_READ))
    async def reviews(
        self,
        db: NamedDependency[Database],
        site_id: NamedDependency[int],
        week: FromQuery[str | None] = None,
    ) -> list[ReviewItem]:
        """The week's sampled answers with question, passages, grounding, rating and reasons."""
        chosen = _week(week)
        return await db.run(lambda c: review_items(c, site_id, week=chosen))

    @put("/reviews/{message_id:str}", opt=requires(REVIEWS_WRITE))
    async def verdict(
        self,
        db: NamedDependency[Database],
        site_id: NamedDependency[int],
        message_id: FromPath[str],
        data: JSONBody[VerdictIn],
    ) -> ReviewItem:
        """Record a verdict: grounded, hallucination or partial."""
        if not data.reviewer.strip():
            raise ValidationException(detail="a verdict needs a reviewer")

        def judge(conn: apsw.Connection) -> list[ReviewItem]:
            done = set_verdict(
                conn, site_id, message_id, verdict=data.verdict, reviewer=data.reviewer.strip(),
                note=data.note, now_ms=now_ms(),
            )  # fmt: skip
            return review_items(conn, site_id, message_id=message_id) if done else []

        found = await db.transaction(judge)
        if not found:
            raise NotFoundException(detail=f"{message_id!r} is not in this site's review sample")
        return found[0]

    @get("/hallucination", opt=requires(SITE_READ))
    async def hallucination(
        self,
        db: NamedDependency[Database],
        site_id: NamedDependency[int],
        weeks: FromQuery[int] = 8,
    ) -> HallucinationReport:
        """Per week: reviewed, hallucinations, partial, raw and weighted rates, grounding, 👎."""
        if not 1 <= weeks <= MAX_WEEKS:
            raise ValidationException(detail=f"weeks must be between 1 and {MAX_WEEKS}")
        chosen = last_weeks(now_ms(), weeks)
        figures = await db.run(lambda c: [week_figures(c, site_id, w) for w in chosen])
        return HallucinationReport(note=RATE_NOTE, weeks=figures)


route_handlers: list[Any] = [QualityController]
