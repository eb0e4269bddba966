"""``bpract usage``: model usage and cost from the ledger, grouped as asked."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

import msgspec

from bpract.command import open_db
from bpract.command import site_id as site_id_named
from bpract.llm.ledger import GROUPS, Group, Ledger, UsageRow
from bpract.llm.prices import usd
from bpract.sites import SiteNotFoundError

__all__ = ["format_table", "register"]


def register(subparsers: Any) -> None:
    """Add ``bpract usage`` to the ``bpract`` command."""
    usage = subparsers.add_parser("usage", help="model usage and cost from the ledger")
    usage.add_argument("--db", default=None, help="SQLite file (default: BPRACT_DB)")
    usage.add_argument("--site", default=None, help="site public key or id (default: all)")
    usage.add_argument("--since", default=None, help="first UTC day, YYYY-MM-DD")
    usage.add_argument("--until", default=None, help="last UTC day, YYYY-MM-DD")
    usage.add_argument(
        "--by",
        default="day,model",
        help=f"comma-separated groups among: {', '.join(GROUPS)}",
    )
    usage.add_argument("--json", action="store_true", help="print JSON rows")
    usage.set_defaults(handler=_usage)


def _usage(args: argparse.Namespace) -> int:
    groups = [g.strip() for g in args.by.split(",") if g.strip()]
    unknown = [g for g in groups if g not in GROUPS]
    if unknown:
        print(f"cannot group by {', '.join(unknown)}; choose among {', '.join(GROUPS)}",
              file=sys.stderr)  # fmt: skip
        return 2
    db = open_db(args)
    try:
        site_id = site_id_named(db, args.site) if args.site else None
        by: list[Group] = [g for g in GROUPS if g in groups]
        by.sort(key=groups.index)
        rows = asyncio.run(
            Ledger(db).summary(site_id=site_id, since=args.since, until=args.until, by=by)
        )
    except SiteNotFoundError as exc:
        print(exc.detail, file=sys.stderr)
        return 1
    finally:
        db.close()
    if args.json:
        print(json.dumps(msgspec.to_builtins(rows), indent=2))
    else:
        print(format_table(list(by), rows))
    return 0


def format_table(by: list[str], rows: list[UsageRow]) -> str:
    """Rows as aligned text, with a total line."""
    head = [*by, "calls", "input", "output", "cache_read", "cache_write", "cost_usd", "saved_usd"]
    body = [
        [*(str(r.group[g]) for g in by), str(r.calls), str(r.input_tokens), str(r.output_tokens),
         str(r.cache_read_tokens), str(r.cache_write_tokens), f"{usd(r.cost_nano):.6f}",
         f"{usd(r.saved_nano):.6f}"]
        for r in rows
    ]  # fmt: skip
    total_cost = usd(sum(r.cost_nano for r in rows))
    total_saved = usd(sum(r.saved_nano for r in rows))
    total = ["total", *[""] * (len(by) - 1)] if by else []
    body.append([*total, str(sum(r.calls for r in rows)), "", "", "", "",
                 f"{total_cost:.6f}", f"{total_saved:.6f}"])  # fmt: skip
    widths = [max(len(line[i]) for line in [head, *body]) for i in range(len(head))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True))
                     for line in [head, *body])  # fmt: skip
