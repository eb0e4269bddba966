"""``bpract quality``: draw a week's review sample, print the hallucination report."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import msgspec

from bpract.clock import now_ms
from bpract.command import open_db
from bpract.command import site_id as site_id_named
from bpract.quality.report import RATE_NOTE, WeekFigures, week_figures
from bpract.quality.review import DEFAULT_SAMPLE, review_items, sample_week
from bpract.quality.weeks import last_weeks, week_bounds, week_of
from bpract.sites import SiteNotFoundError
from bpract.store import transaction

__all__ = ["register"]


def _sample(args: argparse.Namespace) -> int:
    week = args.week or week_of(now_ms())
    week_bounds(week)
    db = open_db(args)
    try:
        site_id = site_id_named(db, args.site)

        def draw(conn: Any) -> tuple[int, int]:
            with transaction(conn):
                added = sample_week(conn, site_id, week, n=args.n, now_ms=now_ms())
                return added, len(review_items(conn, site_id, week=week))

        added, total = db.run_sync(draw)
    finally:
        db.close()
    print(json.dumps({"week": week, "added": added, "sampled": total}) if args.json else
          f"{week}: {added} answers drawn, {total} in the sample")  # fmt: skip
    return 0


def _row(f: WeekFigures) -> str:
    def pct(v: float | None) -> str:
        return "-" if v is None else f"{100 * v:.1f}%"

    grounding = "-" if f.average_grounding is None else f"{f.average_grounding:.2f}"
    return (
        f"{f.week}\t{f.answers}\t{f.reviewed}\t{f.hallucinations}\t{f.partial}\t{pct(f.rate)}"
        f"\t{pct(f.weighted_rate)}\t{grounding}\t{pct(f.thumbs_down_rate)}"
    )


def _report(args: argparse.Namespace) -> int:
    db = open_db(args)
    try:
        weeks = last_weeks(now_ms(), args.weeks)
        site_id = site_id_named(db, args.site)
        figures = db.run_sync(lambda c: [week_figures(c, site_id, w) for w in weeks])
    finally:
        db.close()
    if args.json:
        print(json.dumps({"note": RATE_NOTE, "weeks": msgspec.to_builtins(figures)}))
        return 0
    print("week\tanswers\treviewed\thalluc.\tpartial\trate\tweighted\tgrounding\tthumbs down")
    for f in figures:
        print(_row(f))
    print(RATE_NOTE)
    return 0


def _guarded(handler: Any) -> Any:
    def run(args: argparse.Namespace) -> int:
        try:
            code: int = handler(args)
            return code
        except ValueError as exc:
            print(f"bpract quality: {exc}", file=sys.stderr)
            return 2
        except SiteNotFoundError as exc:
            print(f"bpract quality: {exc.detail}", file=sys.stderr)
            return 1

    return run


def register(sub: Any) -> None:
    """Add ``bpract quality sample|report`` to the command line."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", default=argparse.SUPPRESS)
    common.add_argument("--site", required=True, help="site public key (or id)")
    common.add_argument("--json", action="store_true")
    quality = sub.add_parser("quality", help="answer quality: review samples, hallucination rate")
    commands = quality.add_subparsers(dest="quality_command", required=True)
    sample = commands.add_parser("sample", parents=[common], help="draw a week's review sample")
    sample.add_argument("--week", help="ISO week, e.g. 2026-W48 (default: this week)")
    sample.add_argument("--n", type=int, default=DEFAULT_SAMPLE, help="sample size")
    sample.set_defaults(handler=_guarded(_sample))
    report = commands.add_parser("report", parents=[common], help="hallucination rate per week")
    report.add_argument("--weeks", type=int, default=8)
    report.set_defaults(handler=_guarded(_report))
