"""TriggerService: the seam the visitor socket and the admin API call.

It serves the current compiled ruleset (cached per site) in full to the admin
side and as :func:`~bpract_client.rules.engine_view` to visitors, saves new
versions and pushes their engine view to every connected visitor through the
channels plugin, turns fires into outreach through policy and the decider, and
records outcomes.

A fire is taken (policy checked, stored ``pending``) and then decided, in two
steps, so that a fire stored by a process that stopped before deciding it is
still decided: by the connection of its visitor when they come back
(:meth:`TriggerService.undecided`), or closed as ``expired`` once its deadline
has passed (:meth:`TriggerService.expire_undecided`).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import msgspec

from bpract.clock import Clock
from bpract.clock import now_ms as wall_ms
from bpract.sites import site_id_for_key
from bpract.triggers import rulesets
from bpract.triggers.decider import Decider, Decision, DecisionRequest, RuleMessageDecider
from bpract.triggers.decider import decide_or_fall_back as _decide
from bpract.triggers.decisions import record_decision
from bpract.triggers.errors import UnknownRuleError, UnknownSiteError
from bpract.triggers.fires import (
    ClaimedFire,
    NewFire,
    StoredFire,
    claim_fire,
    expire_undecided,
    fire_on_stream,
    record_fire,
    settle,
    undecided_fires,
)
from bpract.triggers.outcomes import insert_outcome
from bpract.triggers.policy import Refusal, check_windows, is_held_out, schedule_refusal
from bpract.triggers.report import DEFAULT_MDE, RuleReport, rule_reports
from bpract.triggers.spec import compile_ruleset, ruleset_from_compiled
from bpract.wire.channels import site_channel
from bpract_client.rules import Policy, Rule, Ruleset, engine_view

if TYPE_CHECKING:
    import apsw
    from litestar.channels import ChannelsPlugin

    from bpract.store import Database

__all__ = ["Busy", "FireResult", "TriggerService"]

#: Whether a visitor is talking to a person now (``conn, site_id, visitor, now_ms``): the chat
#: answers it; a fire for such a visitor is refused as ``with_person``.
Busy = Callable[["apsw.Connection", int, str, int], bool]
_WITH_PERSON = Refusal("with_person", "the visitor is talking to a person")

log = logging.getLogger("bpract.triggers")

_DAY_MS = 86_400_000
#: How long a claim outlives the decider's timeout: the time to settle what it decided.
_CLAIM_MARGIN_MS = 5_000


@dataclass(frozen=True, slots=True)
class FireResult:
    """What became of a fire; ``outreach`` is the body of an ``outreach`` frame when sent."""

    status: str
    reason: str
    outreach: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class _Current:
    ruleset: Ruleset
    body: dict[str, Any]
    loaded_ms: int
    #: what visitors' engines receive (``welcome.ruleset``, ``rules.ruleset``)
    view: dict[str, Any]

    @classmethod
    def of(cls, ruleset: Ruleset, body: dict[str, Any], loaded_ms: int) -> _Current:
        return cls(ruleset, body, loaded_ms, engine_view(ruleset))


class TriggerService:
    def __init__(
        self,
        db: Database,
        channels: ChannelsPlugin | None,
        decider: Decider | None = None,
        now_ms: Clock = wall_ms,
        *,
        decider_timeout_s: float = 8.0,
        cache_ttl_s: float = 5.0,
        fire_deadline_s: float = 60.0,
        busy: Busy | None = None,
    ) -> None:
        """``cache_ttl_s`` bounds how long another process's save goes unseen here;
        ``fire_deadline_s`` is how long after its arrival a fire may still be decided;
        ``busy`` says whether a visitor is talking to a person (no outreach meanwhile)."""
        self._db = db
        self._busy = busy
        self._channels = channels
        self._decider: Decider = decider or RuleMessageDecider()
        self._now_ms = now_ms
        self._decider_timeout_s = decider_timeout_s
        self._deadline_ms = int(fire_deadline_s * 1000)
        self._claim_ms = int(decider_timeout_s * 1000) + _CLAIM_MARGIN_MS
        self._cache_ttl_ms = int(cache_ttl_s * 1000)
        self._cache: dict[int, _Current] = {}
        #: the newest version this process has published or seen, per site
        self._known_versions: dict[int, int] | None = None

    # -- rulesets ---------------------------------------------------------------------------

    async def _current(self, site_id: int, *, fresh: bool = False) -> _Current:
        now = self._now_ms()
        cached = self._cache.get(site_id)
        if cached and not fresh and now - cached.loaded_ms < self._cache_ttl_ms:
            return cached
        stored = await self._db.run(lambda conn: rulesets.latest(conn, site_id))
        if stored is None:
            current = _Current.of(Ruleset(), compile_ruleset(Ruleset(), 0), now)
        else:
            current = _Current.of(ruleset_from_compiled(stored.body), stored.body, now)
        self._cache[site_id] = current
        return current

    async def ruleset_json(self, site_id: int) -> dict[str, Any]:
        """The current compiled ruleset, every field (version 0 with no rules when none was
        saved): for the admin side only."""
        return (await self._current(site_id)).body

    async def engine_ruleset(self, site_id: int) -> dict[str, Any]:
        """What a visitor's engine receives of the current ruleset (no goal, message, offer,
        cap, cooldown, holdout, schedule or decider setting): the browser's view."""
        return (await self._current(site_id)).view

    async def ruleset(self, site_id: int) -> Ruleset:
        return (await self._current(site_id)).ruleset

    async def save_ruleset(
        self, site_id: int, ruleset: Ruleset, *, source: str, author: str
    ) -> int:
        """Store ``ruleset`` as the next version, push it to the site's visitors; the version."""
        return await self.edit_ruleset(site_id, lambda _: ruleset, source=source, author=author)

    async def edit_ruleset(
        self, site_id: int, edit: Callable[[Ruleset], Ruleset], *, source: str, author: str
    ) -> int:
        """Apply ``edit`` to the current ruleset and save the result as the next version.

        Read and write happen in one transaction, so concurrent edits never lose
        each other; an exception raised by ``edit`` saves nothing.
        """

        def save(conn: apsw.Connection) -> tuple[Ruleset, dict[str, Any]]:
            stored = rulesets.latest(conn, site_id)
            current = ruleset_from_compiled(stored.body) if stored else Ruleset()
            version = (stored.version if stored else 0) + 1
            body = compile_ruleset(edit(current), version)
            row = rulesets.StoredRuleset(site_id, version, body, source, author, created_at="")
            rulesets.insert_version(conn, row)
            return ruleset_from_compiled(body), body

        ruleset, body = await self._db.transaction(save, lock=True)
        current = self._cache[site_id] = _Current.of(ruleset, body, self._now_ms())
        if self._known_versions is not None:
            self._known_versions[site_id] = ruleset.version
        await self._publish(site_id, current.view)
        return ruleset.version

    async def _publish(self, site_id: int, view: dict[str, Any]) -> None:
        if self._channels is not None:
            frame = msgspec.json.encode({"t": "rules", "ruleset": view})
            await self._channels.wait_published(frame, site_channel(site_id))

    async def publish_outside_changes(self) -> list[int]:
        """Push rulesets saved by another process (``bpract rules load``) to this process's
        visitors; the sites pushed. The first call only records the versions it finds."""
        latest = await self._db.run(rulesets.latest_versions)
        if self._known_versions is None:
            self._known_versions = latest
            return []
        changed = [s for s, v in latest.items() if v > self._known_versions.get(s, 0)]
        for site_id in changed:
            current = await self._current(site_id, fresh=True)
            self._known_versions[site_id] = current.ruleset.version
            await self._publish(site_id, current.view)
        return changed

    async def watch_outside_changes(self, interval_s: float = 2.0) -> None:
        """Run :meth:`publish_outside_changes` every ``interval_s`` until cancelled."""
        while True:
            await self.publish_outside_changes()
            await asyncio.sleep(interval_s)

    async def versions(self, site_id: int) -> list[rulesets.StoredRuleset]:
        """Every saved version of the site's ruleset, newest first."""
        return await self._db.run(lambda conn: rulesets.list_versions(conn, site_id))

    async def stored(self, site_id: int, version: int) -> rulesets.StoredRuleset | None:
        """One saved version with its source and author (None for version 0 or unknown)."""
        return await self._db.run(lambda conn: rulesets.at_version(conn, site_id, version))

    async def site_id(self, public_key: str) -> int:
        """The id of the site with this public key; :class:`UnknownSiteError` if none."""
        site_id = await self._db.run(lambda conn: site_id_for_key(conn, public_key))
        if site_id is None:
            raise UnknownSiteError(f"no site with key {public_key!r}")
        return site_id

    # -- fires ------------------------------------------------------------------------------

    async def _fired_rule(self, site_id: int, rule_id: str, version: int) -> tuple[Rule, Policy]:
        """The enabled rule a fire names, unchanged since the version the engine evaluated."""
        current = await self._current(site_id)
        if current.ruleset.get(rule_id) is None or version > current.ruleset.version:
            current = await self._current(site_id, fresh=True)
        rule = current.ruleset.get(rule_id)
        if rule is None or not rule.enabled:
            raise UnknownRuleError(rule_id)
        if version != current.ruleset.version:
            stored = await self.stored(site_id, version)
            if stored is None or ruleset_from_compiled(stored.body).get(rule_id) != rule:
                detail = f"rule {rule_id!r} changed after version {version}"
                raise UnknownRuleError(rule_id, detail)
        return rule, current.ruleset.policy

    def _before_storage(self, site_id: int, rule: Rule, visitor: str, now: int) -> Refusal | None:
        if refusal := schedule_refusal(rule.schedule, now):
            return refusal
        if is_held_out(site_id, rule, visitor):
            return Refusal("held_out", f"visitor is in the rule's {rule.holdout:g}% holdout")
        return None

    async def _reserve(
        self, fire: NewFire, rule: Rule, policy: Policy, early: Refusal | None
    ) -> StoredFire:
        # A pending fire counts against caps for as long as it may still become a message.
        pending_since = fire.received_ms - self._deadline_ms - self._claim_ms

        busy = self._busy

        def reserve(conn: apsw.Connection) -> StoredFire:
            with_person = busy is not None and busy(
                conn, fire.site_id, fire.visitor, fire.received_ms
            )
            refusal = (
                early
                or (_WITH_PERSON if with_person else None)
                or check_windows(
                    conn,
                    site_id=fire.site_id,
                    rule=rule,
                    policy=policy,
                    visitor=fire.visitor,
                    now_ms=fire.received_ms,
                    pending_since_ms=pending_since,
                )
            )
            status, reason = (refusal.status, refusal.reason) if refusal else ("pending", "")
            return record_fire(conn, fire, status, reason)

        return await self._db.transaction(reserve, lock=True)

    async def take_fire(
        self,
        *,
        site_id: int,
        visitor: str,
        session: str | None,
        rule: str,
        rule_version: int,
        context: dict[str, Any],
        at_ms: int,
        stream: str | None = None,
        seq: int | None = None,
    ) -> StoredFire:
        """Check policy and store the fire: ``pending`` (to be decided) or refused.

        With ``stream`` and ``seq`` (a frame's), taking a fire twice returns the fire the
        first time stored. :class:`UnknownRuleError` if the rule is not enabled in the
        current ruleset or changed since ``rule_version``."""
        if stream is not None and seq is not None:
            known = await self._db.run(
                lambda conn: fire_on_stream(conn, site_id, visitor, stream, seq)
            )
            if known is not None:
                return known
        found, policy = await self._fired_rule(site_id, rule, rule_version)
        now = self._now_ms()
        fire = NewFire(
            site_id=site_id,
            visitor=visitor,
            session=session,
            rule_id=rule,
            rule_version=rule_version,
            at_ms=at_ms,
            received_ms=now,
            context=context,
            stream=stream,
            seq=seq,
        )
        early = self._before_storage(site_id, found, visitor, now)
        return await self._reserve(fire, found, policy, early)

    async def decide_fire(self, fire_id: int, *, lang: str | None) -> FireResult:
        """Claim a pending fire, decide it and store the outcome.

        Exactly one caller decides a fire: the others get status ``taken`` (decided,
        being decided, or past its deadline) and nothing to send."""
        claim, now = secrets.token_urlsafe(12), self._now_ms()
        until, since = now + self._claim_ms, now - self._deadline_ms
        claimed = await self._db.transaction(
            lambda conn: claim_fire(
                conn, fire_id, claim, now_ms=now, until_ms=until, since_ms=since
            )
        )
        if claimed is None:
            return FireResult("taken", "decided elsewhere, being decided, or too late")
        try:
            found, _ = await self._fired_rule(
                claimed.site_id, claimed.rule_id, claimed.rule_version
            )
        except UnknownRuleError as exc:
            decision = Decision(engage=False, message="", cta=None, reason=str(exc),
                                decided_by="policy")  # fmt: skip
        else:
            request = DecisionRequest(
                site_id=claimed.site_id, rule=found, visitor=claimed.visitor,
                context=claimed.context, lang=lang,
            )  # fmt: skip
            decision = await _decide(self._decider, request, timeout_s=self._decider_timeout_s)
        return await self._settle(claimed, decision)

    async def _settle(self, claimed: ClaimedFire, decision: Decision) -> FireResult:
        sent_ms = self._now_ms()

        def store(conn: apsw.Connection) -> tuple[bool, str | None]:
            settled, outreach_id = settle(conn, claimed, decision, sent_ms)
            if settled:
                record_decision(conn, claimed.id, decision)
            return settled, outreach_id

        settled, outreach_id = await self._db.transaction(store, lock=True)
        if not settled:  # the claim lapsed and another decision was stored first
            log.warning("fire %d: decided after its claim lapsed; decision dropped", claimed.id)
            return FireResult("taken", "the claim lapsed before the decision was stored")
        if outreach_id is None:
            return FireResult("declined", decision.reason)
        cta = decision.cta and {"label": decision.cta.label, "url": decision.cta.url}
        # The decider's reason (a model's rationale, the offer it chose) stays on the server.
        outreach = {"id": outreach_id, "rule": claimed.rule_id, "message": decision.message,
                    "cta": cta}  # fmt: skip
        return FireResult("sent", decision.reason, outreach)

    async def handle_fire(
        self,
        *,
        site_id: int,
        visitor: str,
        session: str | None,
        rule: str,
        rule_version: int,
        context: dict[str, Any],
        at_ms: int,
        lang: str | None,
        stream: str | None = None,
        seq: int | None = None,
    ) -> FireResult:
        """:meth:`take_fire`, then :meth:`decide_fire` when the fire passed policy."""
        taken = await self.take_fire(
            site_id=site_id, visitor=visitor, session=session, rule=rule,
            rule_version=rule_version, context=context, at_ms=at_ms, stream=stream, seq=seq,
        )  # fmt: skip
        if taken.status != "pending":
            return FireResult(taken.status, taken.reason)
        return await self.decide_fire(taken.id, lang=lang)

    # -- fires left undecided ---------------------------------------------------------------

    async def undecided(self, site_id: int, visitor: str) -> list[tuple[int, float]]:
        """This visitor's fires still waiting for a decision that may still be sent: each id
        and the seconds until it may be claimed (0 unless a claim, perhaps of a process
        that died, has yet to lapse)."""
        now = self._now_ms()
        since = now - self._deadline_ms
        found = await self._db.run(lambda conn: undecided_fires(conn, site_id, visitor, since))
        return [(fire_id, max(0, (until or 0) - now) / 1000) for fire_id, until in found]

    async def expire_undecided(self) -> int:
        """Close as ``expired`` the fires nobody decided within the deadline; how many."""
        now = self._now_ms()
        seconds = self._deadline_ms / 1000
        reason = f"not decided within {seconds:g} s of arriving (the server stopped first)"
        expired = await self._db.transaction(
            lambda conn: expire_undecided(
                conn, before_ms=now - self._deadline_ms, now_ms=now, reason=reason
            )
        )
        if expired:
            log.warning("closed %d fire(s) left undecided past their deadline", expired)
        return expired

    async def expire_undecided_forever(self, interval_s: float) -> None:
        """Run :meth:`expire_undecided` now (start-up) and every ``interval_s`` until cancelled."""
        while True:
            try:
                await self.expire_undecided()
            except Exception:  # the database may be busy: the next round tries again
                log.exception("closing undecided fires failed")
            await asyncio.sleep(interval_s)

    # -- outcomes and reports -----------------------------------------------------------------

    async def record_outcome(
        self, *, site_id: int, visitor: str, outreach_id: str, kind: str, at_ms: int
    ) -> bool:
        """False when the outreach is not this visitor's on this site, or the kind is known."""
        return await self._db.run(
            lambda conn: insert_outcome(
                conn,
                site_id=site_id,
                visitor=visitor,
                outreach_id=outreach_id,
                kind=kind,
                at_ms=at_ms,
            )
        )

    async def report(
        self, site_id: int, days: float = 30, mde: float = DEFAULT_MDE
    ) -> list[RuleReport]:
        """Per rule over the last ``days``; sample sizes planned to detect a relative ``mde``."""
        since = self._now_ms() - int(days * _DAY_MS)
        rules = (await self._current(site_id)).ruleset.rules
        return await self._db.run(lambda conn: rule_reports(conn, site_id, since, rules, mde))
