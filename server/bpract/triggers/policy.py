"""Policy: whether a fire may become a message, checked in a fixed order.

schedule → holdout → per-rule cap → per-rule cooldown → site interruption
budget. The first two need no storage; the windows are counted in the
database, on the server's clock, inside the transaction that records the fire.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import apsw

from bpract.triggers.fires import rule_messages, visitor_messages
from bpract_client.rules import Policy, Rule, Schedule, in_schedule, local_clock

__all__ = ["Refusal", "check_windows", "holdout_bucket", "is_held_out", "schedule_refusal"]

_DAY_MS = 86_400_000


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a fire does not become a message; ``status`` is stored on the fire."""

    status: str
    reason: str


def schedule_refusal(schedule: Schedule | None, now_ms: int) -> Refusal | None:
    """Outside the rule's days and hours (in its time zone)? ``end < start`` spans midnight."""
    if schedule is None or in_schedule(schedule, now_ms):
        return None
    day, clock = local_clock(schedule, now_ms)
    hours = f"{','.join(schedule.days)} {schedule.start}-{schedule.end} {schedule.tz}"
    return Refusal("off_schedule", f"{day} {clock} {schedule.tz} is outside {hours}")


def holdout_bucket(site_id: int, rule_id: str, visitor: str) -> int:
    """The visitor's fixed bucket for this rule, 0..9999."""
    digest = hashlib.sha256(f"{site_id}:{rule_id}:{visitor}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % 10_000


def is_held_out(site_id: int, rule: Rule, visitor: str) -> bool:
    return holdout_bucket(site_id, rule.id, visitor) < rule.holdout * 100


def _cap_and_cooldown(
    conn: apsw.Connection, *, site_id: int, rule: Rule, visitor: str, now_ms: int, pending_ms: int
) -> Refusal | None:
    since = now_ms - int(rule.cap.days * _DAY_MS)
    count, _ = rule_messages(
        conn, site_id, rule.id, visitor, since_ms=since, pending_since_ms=pending_ms
    )
    if count >= rule.cap.count:
        return Refusal(
            "capped",
            f"{count} message(s) in the last {rule.cap.days:g} day(s), cap {rule.cap.count}",
        )
    cooldown_ms = int(rule.cooldown_seconds * 1000)
    if cooldown_ms <= 0:
        return None
    since = now_ms - cooldown_ms
    _, last = rule_messages(
        conn, site_id, rule.id, visitor, since_ms=since, pending_since_ms=pending_ms
    )
    if last is None:
        return None
    ago = (now_ms - last) / 1000
    return Refusal("cooldown", f"last message {ago:g} s ago, cooldown {rule.cooldown_seconds:g} s")


def _budget(
    conn: apsw.Connection,
    *,
    site_id: int,
    policy: Policy,
    visitor: str,
    now_ms: int,
    pending_ms: int,
) -> Refusal | None:
    count = visitor_messages(conn, site_id, visitor, now_ms - _DAY_MS, pending_ms)
    if count >= policy.interruption_budget:
        return Refusal(
            "budget",
            f"{count} message(s) to this visitor in the last 24 h, "
            f"budget {policy.interruption_budget}",
        )
    return None


def check_windows(
    conn: apsw.Connection,
    *,
    site_id: int,
    rule: Rule,
    policy: Policy,
    visitor: str,
    now_ms: int,
    pending_since_ms: int,
) -> Refusal | None:
    """Cap, then cooldown, then budget; pending fires newer than ``pending_since_ms`` count."""
    return _cap_and_cooldown(
        conn,
        site_id=site_id,
        rule=rule,
        visitor=visitor,
        now_ms=now_ms,
        pending_ms=pending_since_ms,
    ) or _budget(
        conn,
        site_id=site_id,
        policy=policy,
        visitor=visitor,
        now_ms=now_ms,
        pending_ms=pending_since_ms,
    )
