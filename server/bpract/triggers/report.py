"""What each rule earned over a period: fires by outcome, outreach outcomes, conversion and lift.

Conversion is compared by intention to treat. A visitor's arm is set by their
first eligible fire of the rule in the period (eligible: it passed the
schedule, any status but ``off_schedule``): control when that fire was
``held_out``, treated for every other status — sent, declined, capped,
cooldown, budget, with a person, pending or expired — since the holdout split
them before any of those. A visitor converts with a ``purchase`` signal after
that first eligible fire (both times on the visitor's clock). Lift, its
interval, the sample ratio check and the sample size are ``triggers.lift``'s.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import apsw
import msgspec

from bpract.llm.ledger import cost_by_rule
from bpract.triggers.lift import (
    Arm,
    Estimate,
    SrmCheck,
    absolute_difference,
    relative_lift,
    sample_size,
    srm_check,
    verdict,
)
from bpract.visitors.storage import latest_signal_ms
from bpract_client.rules import Rule

__all__ = ["DEFAULT_MDE", "Conversion", "RuleReport", "rule_reports"]

DEFAULT_MDE = 0.10
"""The relative lift the sample size is planned to detect, unless the caller says otherwise."""

NO_HOLDOUT = "no holdout to compare with"


class Conversion(msgspec.Struct, frozen=True, kw_only=True):
    visitors: int
    converted: int
    rate: float | None


class RuleReport(msgspec.Struct, frozen=True, kw_only=True):
    rule: str
    fires: dict[str, int]
    sent: int
    """Fires that became a message (not visitors)."""
    held_out: int
    """Fires refused by the holdout (not visitors)."""
    outcomes: dict[str, int]
    treated: Conversion
    """Visitors whose first eligible fire was not held out, and how many converted."""
    control: Conversion
    """Visitors whose first eligible fire was held out, and how many converted."""
    lift: Estimate | None
    """Relative, treated rate / control rate − 1, with its interval; None without a control rate."""
    difference: Estimate | None
    """Treated rate − control rate, with its interval; None with an empty arm."""
    srm: SrmCheck | None
    """Arm sizes against the rule's holdout share; None without a holdout or without visitors."""
    relative_mde: float = DEFAULT_MDE
    sample_size_needed: int | None = None
    """Visitors (both arms) to detect ``relative_mde`` at the control rate seen; None: no plan."""
    sample_reached: bool = False
    verdict: str = NO_HOLDOUT
    """Until the sample size is reached: "not yet conclusive" (a fixed-horizon test)."""
    decider_cost_nano: int = 0
    """What the rule's model decisions cost in the period (nano-dollars), refused answers too."""
    undecided: int = 0
    """Fires still waiting for their decision (``pending``)."""
    expired: int = 0
    """Fires nobody decided before their deadline (the server stopped mid-decision)."""


# Each visitor's first eligible fire of a rule in the period (visitor clock, then arrival order).
_FIRST_ELIGIBLE_SQL = (
    "SELECT rule_id, visitor, status, at_ms FROM ("
    " SELECT rule_id, visitor, status, at_ms, ROW_NUMBER() OVER ("
    "  PARTITION BY rule_id, visitor ORDER BY at_ms, id) AS nth"
    " FROM fires WHERE site_id = :site AND received_ms >= :since AND status <> 'off_schedule'"
    ") AS eligible WHERE nth = 1"
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
_TREATED, _CONTROL = "treated", "control"


def _grouped(conn: apsw.Connection, sql: str, args: dict[str, int]) -> Counts:
    counts: Counts = defaultdict(dict)
    for rule_id, key, count in conn.execute(sql, args):
        counts[rule_id][key] = int(count)
    return counts


def _arms(conn: apsw.Connection, args: dict[str, int]) -> dict[tuple[str, str], Arm]:
    """Visitors and conversions per ``(rule, arm)``: a purchase after the first eligible fire."""
    purchased = latest_signal_ms(conn, args["site"], "purchase")
    seen: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for rule_id, visitor, status, at_ms in conn.execute(_FIRST_ELIGIBLE_SQL, args):
        arm = _CONTROL if status == "held_out" else _TREATED
        counts = seen[(str(rule_id), arm)]
        counts[0] += 1
        counts[1] += purchased.get(str(visitor), -1) > int(at_ms)
    return {key: Arm(visitors=n, converted=x) for key, (n, x) in seen.items()}


def _conversion(arm: Arm) -> Conversion:
    return Conversion(visitors=arm.visitors, converted=arm.converted, rate=arm.rate)


def _planned(treated: Arm, control: Arm, share: float | None, mde: float) -> int | None:
    """The sample size at the control rate seen (the pooled rate while control has none)."""
    if not share:
        return None
    baseline = (
        control.rate
        or Arm(
            visitors=treated.visitors + control.visitors,
            converted=treated.converted + control.converted,
        ).rate
    )
    return None if baseline is None else sample_size(baseline, mde, share)


def _report(
    rule_id: str,
    by_status: dict[str, int],
    treated: Arm,
    control: Arm,
    *,
    holdout: float | None,
    mde: float,
    outcomes: dict[str, int],
    cost_nano: int,
) -> RuleReport:
    share = None if holdout is None else holdout / 100
    lift = relative_lift(treated, control)
    srm = None if share is None else srm_check(treated.visitors, control.visitors, share)
    needed = _planned(treated, control, share, mde)
    visitors = treated.visitors + control.visitors
    no_control = not share and not control.visitors
    return RuleReport(
        rule=rule_id,
        fires=by_status,
        sent=by_status.get("sent", 0),
        held_out=by_status.get("held_out", 0),
        outcomes=outcomes,
        treated=_conversion(treated),
        control=_conversion(control),
        lift=lift,
        difference=absolute_difference(treated, control),
        srm=srm,
        relative_mde=mde,
        sample_size_needed=needed,
        sample_reached=needed is not None and visitors >= needed,
        verdict=NO_HOLDOUT if no_control else verdict(lift, srm, needed, visitors),
        decider_cost_nano=cost_nano,
        undecided=by_status.get("pending", 0),
        expired=by_status.get("expired", 0),
    )


def rule_reports(
    conn: apsw.Connection,
    site_id: int,
    since_ms: int,
    rules: Sequence[Rule],
    mde: float = DEFAULT_MDE,
) -> list[RuleReport]:
    """One report per rule in ``rules`` and per rule that fired since ``since_ms``.

    The expected control share is the rule's ``holdout``; a rule that fired but
    is no longer in ``rules`` gets no sample ratio check and no sample size."""
    args = {"site": site_id, "since": since_ms}
    holdouts = {rule.id: rule.holdout for rule in rules}
    fires = _grouped(conn, _FIRES_SQL, args)
    outcomes = _grouped(conn, _OUTCOMES_SQL, args)
    arms = _arms(conn, args)
    costs = cost_by_rule(conn, site_id, since_ms, task="trigger_decision")
    empty = Arm(visitors=0, converted=0)
    return [
        _report(
            rule_id,
            fires.get(rule_id, {}),
            arms.get((rule_id, _TREATED), empty),
            arms.get((rule_id, _CONTROL), empty),
            holdout=holdouts.get(rule_id),
            mde=mde,
            outcomes=outcomes.get(rule_id, {}),
            cost_nano=costs.get(rule_id, 0),
        )
        for rule_id in dict.fromkeys([*holdouts, *sorted(fires)])
    ]
