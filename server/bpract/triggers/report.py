"""What each rule earned over a period: fires by outcome, outreach outcomes, conversion and lift.

Conversion compares visitors who were sent the rule's message with visitors
held out from it: a visitor converts with a ``purchase`` signal after their
first fire of the rule in the period (both times on the visitor's clock).
Fires still being decided (``pending``) and fires closed undecided after a
stop (``expired``) are counted apart and belong to neither group.
"""

from __future__ import annotations

from collections import defaultdict

import apsw
import msgspec

from bpract.llm.ledger import cost_by_rule
from bpract.visitors.storage import latest_signal_ms

__all__ = ["Conversion", "RuleReport", "rule_reports"]


class Conversion(msgspec.Struct, frozen=True, kw_only=True):
    visitors: int
    converted: int
    rate: float | None


class RuleReport(msgspec.Struct, frozen=True, kw_only=True):
    rule: str
    fires: dict[str, int]
    sent: int
    held_out: int
    outcomes: dict[str, int]
    conversion_sent: Conversion
    conversion_held_out: Conversion
    lift: float | None
    """Relative: (sent rate − held-out rate) / held-out rate; None without a held-out conversion."""
    decider_cost_nano: int = 0
    """What the rule's model decisions cost in the period (nano-dollars), refused answers too."""
    undecided: int = 0
    """Fires still waiting for their decision (``pending``)."""
    expired: int = 0
    """Fires nobody decided before their deadline (the server stopped mid-decision)."""


# Each visitor's first sent (or held-out) fire of a rule; converted: a purchase came after.
_FIRST_FIRES_SQL = (
    "SELECT rule_id, status, visitor, MIN(at_ms) FROM fires"
    " WHERE site_id = :site AND received_ms >= :since AND status IN ('sent', 'held_out')"
    " GROUP BY rule_id, status, visitor"
)

_FIRES_SQL = (
    "SELECT rule_id, status, COUNT(*) FROM fires"
    " WHERE site_id = :site AND received_ms >= :since GROUP BY rule_id, status"
)

_OUTCOMES_SQL = (
    "SELECT o.rule_id, c.kind, COUNT(*) FROM outcomes c JOIN outreach o ON o.id = c.outreach_id"
    " WHERE c.site_id = :site AND o.sent_ms >= :since GROUP BY o.rule_id, c.kind"
)

Counts = dict[str, dict[str, int]]


def _grouped(conn: apsw.Connection, sql: str, args: dict[str, int]) -> Counts:
    counts: Counts = defaultdict(dict)
    for rule_id, key, count in conn.execute(sql, args):
        counts[rule_id][key] = int(count)
    return counts


def _conversions(conn: apsw.Connection, args: dict[str, int]) -> dict[tuple[str, str], Conversion]:
    """Visitors and conversions per ``(rule, status)``: a purchase after the first fire."""
    purchased = latest_signal_ms(conn, args["site"], "purchase")
    seen: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for rule_id, status, visitor, at_ms in conn.execute(_FIRST_FIRES_SQL, args):
        counts = seen[(str(rule_id), str(status))]
        counts[0] += 1
        counts[1] += purchased.get(str(visitor), -1) > int(at_ms)
    return {key: _conversion(n, converted) for key, (n, converted) in seen.items()}


def _conversion(visitors: int, converted: int) -> Conversion:
    return Conversion(
        visitors=visitors, converted=converted, rate=converted / visitors if visitors else None
    )


def _lift(sent: Conversion, held: Conversion) -> float | None:
    if sent.rate is None or not held.rate:
        return None
    return (sent.rate - held.rate) / held.rate


def rule_reports(
    conn: apsw.Connection, site_id: int, since_ms: int, rule_ids: list[str]
) -> list[RuleReport]:
    """One report per rule in ``rule_ids`` and per rule that fired since ``since_ms``."""
    args = {"site": site_id, "since": since_ms}
    fires = _grouped(conn, _FIRES_SQL, args)
    outcomes = _grouped(conn, _OUTCOMES_SQL, args)
    groups = _conversions(conn, args)
    costs = cost_by_rule(conn, site_id, since_ms, task="trigger_decision")
    reports = []
    for rule_id in dict.fromkeys([*rule_ids, *sorted(fires)]):
        sent = groups.get((rule_id, "sent"), _conversion(0, 0))
        held = groups.get((rule_id, "held_out"), _conversion(0, 0))
        by_status = fires.get(rule_id, {})
        reports.append(
            RuleReport(
                rule=rule_id,
                fires=by_status,
                sent=by_status.get("sent", 0),
                held_out=by_status.get("held_out", 0),
                outcomes=outcomes.get(rule_id, {}),
                conversion_sent=sent,
                conversion_held_out=held,
                lift=_lift(sent, held),
                decider_cost_nano=costs.get(rule_id, 0),
                undecided=by_status.get("pending", 0),
                expired=by_status.get("expired", 0),
            )
        )
    return reports
