"""``bpract rules …``: load, show, validate and report on a site's trigger rules."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from bpract.command import db_option, open_db, reporting_errors, site_option
from bpract.triggers.errors import RulesetInvalidError
from bpract.triggers.report import RuleReport
from bpract.triggers.service import TriggerService
from bpract.triggers.spec import load_ruleset

__all__ = ["register"]

T = TypeVar("T")


def _with_service(
    args: argparse.Namespace, work: Callable[[TriggerService], Coroutine[Any, Any, T]]
) -> T:
    db = open_db(args)
    try:
        return asyncio.run(work(TriggerService(db, None)))
    finally:
        db.close()


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _print_errors(exc: RulesetInvalidError) -> int:
    for error in exc.errors:
        print(f"{error.path}: {error.message}", file=sys.stderr)
    return 1


def _load(args: argparse.Namespace) -> int:
    source = _read(args.file)
    try:
        ruleset = load_ruleset(source)
    except RulesetInvalidError as exc:
        return _print_errors(exc)

    async def work(service: TriggerService) -> int:
        site_id = await service.site_id(args.site)
        return await service.save_ruleset(site_id, ruleset, source=source, author=args.author)

    version = _with_service(args, work)
    print(f"{args.site}: version {version}, {len(ruleset.rules)} rule(s)")
    return 0


def _show(args: argparse.Namespace) -> int:
    async def work(service: TriggerService) -> tuple[dict[str, Any], str]:
        site_id = await service.site_id(args.site)
        body = await service.ruleset_json(site_id)
        stored = await service.stored(site_id, body["version"])
        return body, stored.source if stored else ""

    body, source = _with_service(args, work)
    if args.compiled or not source:
        print(json.dumps(body, indent=2))
    else:
        print(f"# version {body['version']}")
        print(source.rstrip("\n"))
    return 0


def _validate(args: argparse.Namespace) -> int:
    try:
        ruleset = load_ruleset(_read(args.file))
    except RulesetInvalidError as exc:
        return _print_errors(exc)
    print(f"ok: {len(ruleset.rules)} rule(s)")
    return 0


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _lift_line(r: RuleReport) -> str:
    if r.lift is None:
        return "lift -"
    low, high = f"{r.lift.low:+.1%}", f"{r.lift.high:+.1%}"
    return f"lift {r.lift.estimate:+.1%} ({r.lift.level:.0%} interval {low} to {high})"


def _srm_line(r: RuleReport) -> str:
    if r.srm is None:
        return "sample ratio: -"
    flag = "MISMATCH" if r.srm.flagged else "ok"
    share = r.srm.expected_control_share
    return f"sample ratio: {flag} (p {r.srm.p_value:.2g}, {share:.0%} held out expected)"


def _sample_line(r: RuleReport) -> str:
    visitors = r.treated.visitors + r.control.visitors
    needed = "-" if r.sample_size_needed is None else f"{r.sample_size_needed}"
    return f"sample: {visitors} of {needed} visitors for a {r.relative_mde:.0%} lift: {r.verdict}"


def _report_line(r: RuleReport) -> str:
    fires = ", ".join(f"{k} {v}" for k, v in sorted(r.fires.items())) or "no fires"
    outcomes = ", ".join(f"{k} {v}" for k, v in sorted(r.outcomes.items())) or "-"
    treated, control = r.treated, r.control
    return (
        f"{r.rule}\n  fires: {fires}\n  outcomes: {outcomes}\n"
        f"  conversion: treated {treated.converted}/{treated.visitors} ({_rate(treated.rate)}),"
        f" held out {control.converted}/{control.visitors} ({_rate(control.rate)}),"
        f" {_lift_line(r)}\n  {_srm_line(r)}\n  {_sample_line(r)}"
    )


def _report(args: argparse.Namespace) -> int:
    async def work(service: TriggerService) -> list[RuleReport]:
        return await service.report(await service.site_id(args.site), args.days, args.mde / 100)

    reports = _with_service(args, work)
    if args.json:
        print(msgspec.json.encode(reports).decode())
    else:
        print(f"{args.site}, last {args.days:g} day(s)")
        for r in reports:
            print(_report_line(r))
    return 0


def register(subparsers: Any) -> None:
    """Add ``rules load|show|validate|report`` to the ``bpract`` command line."""
    common, site = db_option(), site_option()
    rules = subparsers.add_parser("rules", help="trigger rules").add_subparsers(
        dest="rules_command", required=True
    )
    load = rules.add_parser("load", parents=[common, site], help="save FILE as the next version")
    load.add_argument("file", type=Path)
    load.add_argument("--author", default="cli")
    load.set_defaults(handler=reporting_errors(_load))
    show = rules.add_parser("show", parents=[common, site], help="print the current ruleset")
    show.add_argument("--compiled", action="store_true", help="the compiled JSON")
    show.set_defaults(handler=reporting_errors(_show))
    validate = rules.add_parser("validate", help="check FILE without saving it")
    validate.add_argument("file", type=Path)
    validate.set_defaults(handler=reporting_errors(_validate))
    report = rules.add_parser("report", parents=[common, site], help="what each rule earned")
    report.add_argument("--days", type=float, default=30)
    report.add_argument(
        "--mde", type=float, default=10, help="relative lift (percent) the sample size is for"
    )
    report.add_argument("--json", action="store_true")
    report.set_defaults(handler=reporting_errors(_report))
