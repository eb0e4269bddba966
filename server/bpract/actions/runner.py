"""The action runner: proposals become cards, a visitor's confirm runs the call once.

``propose`` (the :class:`~bpract.actions.outcomes.Proposer` the chat's model and
matcher call) checks the action is declared, the identity verified, the
arguments valid and within the limits, binds the account from the identity, and
either runs a read that needs no confirmation or stores a pending action and
draws its card, signed.  Only :meth:`ActionRunner.confirm` — reached from a
``confirm`` frame of that visitor — runs a pending one: it checks the token
against the stored row, claims the row under the write lock (one confirm wins,
whatever the number of clicks, tabs or replays), calls the API with the pending
id as idempotency key, and stores the result, which every later confirm gets
back.  Every step is audited.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import msgspec

from bpract.actions import pending as store
from bpract.actions.calls import (
    Problem,
    build_call,
    card_details,
    card_fields,
    card_title,
    check_final,
    check_proposed,
    with_defaults,
)
from bpract.actions.executor import ActionCallError, Limits, action_outbound, execute
from bpract.actions.outcomes import Asker, Carded, Outcome, Ran, Refused, Source
from bpract.actions.service import ActionService
from bpract.actions.settings import ActionSettings
from bpract.actions.signing import (
    PendingFields,
    SignatureError,
    arguments_digest,
    pending_id,
    read_pending_id,
    sign,
    verify,
)
from bpract.actions.spec import Action, ActionSet
from bpract.actions.storage import AuditEvent, Event, record_event
from bpract.actions.templates import placeholders, render
from bpract.clock import Clock
from bpract.clock import now_ms as wall_ms
from bpract.net import NetSettings
from bpract.store import Database
from bpract.wire.frames import ActionCard, ActionField, ActionResult

__all__ = ["ActionRunner", "Claimed", "Settled"]

log = logging.getLogger("bpract.actions")

_DAY_MS = 86_400_000
_SIGN_IN = "Please sign in first: I can only do this on your own account, once you are signed in."
_UNDECLARED = "I cannot do that here. I can answer questions, or a person from the team can help."
_DAILY = "You have reached today's limit for this. A person from the team can help."
_NOT_VALID = "This confirmation is not valid here; nothing was done."
_EXPIRED = (
    "This request expired before it was confirmed; nothing was done. "
    "Ask me again if you still want it."
)
_DECLINED = "Cancelled: nothing was done."
_DONE = "Done."
_FAILED = "I could not complete that just now. A person from the team can help."
_INTRO = "I can do that for you. Please check the details and confirm below."
_ASK = "I can do that for you. Please choose below, then confirm."


@dataclass(frozen=True, slots=True, kw_only=True)
class Settled:
    """What a confirm or decline came to, for the visitor's tabs."""

    frame: ActionResult
    conversation: str
    visitor: str
    site_id: int
    fresh: bool
    """True when this call settled it (store the reply, tell every tab); False for a repeat
    or a refusal that changed nothing (answer the sender only)."""
    action: str = ""
    """The declared action's name ('' when no pending action was found)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Claimed:
    """A confirmed pending action this caller won: run it with :meth:`ActionRunner.run`."""

    row: store.PendingRow
    actions: ActionSet
    action: Action
    called: dict[str, Any]


class ActionRunner:
    """Proposals, confirmations and their one execution, over the database and the API."""

    def __init__(
        self,
        db: Database,
        service: ActionService,
        *,
        settings: ActionSettings | None = None,
        net: NetSettings | None = None,
        limits: Limits | None = None,
        environ: Mapping[str, str] | None = None,
        now_ms: Clock = wall_ms,
    ) -> None:
        self.db, self.service = db, service
        self.settings = settings or ActionSettings()
        self.limits = limits or Limits()
        self.outbound = action_outbound(net, limits=self.limits)
        self._environ = environ
        self._now_ms = now_ms

    async def aclose(self) -> None:
        await self.outbound.http.aclose()

    # -- audit -------------------------------------------------------------------------------

    async def _record(self, entry: AuditEvent) -> None:
        await self.db.transaction(lambda conn: record_event(conn, entry))

    async def _refuse(self, asker: Asker, action: str, problem: Problem) -> Refused:
        await self._record(_entry(asker, action[:64], "refused", reason=problem.reason))
        return Refused(action=action, reason=problem.reason, text=problem.message)

    # -- proposing ---------------------------------------------------------------------------

    async def _declared(self, site_id: int, name: str) -> tuple[ActionSet, Action, int] | None:
        stored = await self.service.current(site_id)
        if stored is None:
            return None
        actions = msgspec.convert(stored.body, ActionSet)
        action = actions.action(name)
        return None if action is None else (actions, action, stored.version)

    async def _problem(
        self, asker: Asker, action: Action, arguments: Mapping[str, Any]
    ) -> Problem | None:
        if action.audience == "verified" and not asker.user_id:
            return Problem("sign_in_required", _SIGN_IN)
        problem = check_proposed(action, arguments)
        if problem is not None:
            return problem
        per_day = action.limits.per_visitor_per_day
        if per_day is not None:
            since, user = self._now_ms() - _DAY_MS, asker.user_id or ""
            runs = await self.db.run(
                lambda c: store.runs_since(
                    c, asker.site_id, action.name, user_id=user, visitor=asker.visitor,
                    since_ms=since,
                )
            )  # fmt: skip
            if runs >= per_day:
                return Problem("daily_limit", _DAILY)
        return None

    async def propose(
        self, asker: Asker, name: str, arguments: Mapping[str, Any], *, source: Source
    ) -> Outcome:
        """A card for a write (or a read that asks), a result for a read run at once, or a
        refusal; never an irreversible call."""
        declared = await self._declared(asker.site_id, name)
        if declared is None:
            return await self._refuse(asker, str(name), Problem("undeclared", _UNDECLARED))
        actions, action, version = declared
        problem = await self._problem(asker, action, arguments)
        fields = card_fields(action, arguments) if problem is None else []
        if isinstance(fields, Problem):
            problem = fields
        if problem is not None or isinstance(fields, Problem):
            return await self._refuse(asker, name, problem or Problem("invalid_arguments", ""))
        supplied = dict(arguments)
        proposal = _Proposal(
            asker=asker, actions=actions, action=action, version=version, supplied=supplied,
            fixed=supplied | dict.fromkeys(action.bound(), asker.user_id), fields=fields,
            source=source,
        )  # fmt: skip
        if not action.needs_click() and not fields:
            return await self._run_now(proposal)
        return await self._card(proposal)

    def _row(self, p: _Proposal, *, pid: str, state: store.State, **extra: Any) -> store.PendingRow:
        asker = p.asker
        return store.PendingRow(
            id=pid, site_id=asker.site_id, conversation=asker.conversation,
            visitor=asker.visitor, user_id=asker.user_id or "", action=p.action.name,
            version=p.version, arguments=p.fixed, fields=[f.name for f in p.fields],
            digest=arguments_digest(p.fixed), source=p.source, state=state, **extra,
        )  # fmt: skip

    async def _save_proposed(self, row: store.PendingRow) -> None:
        def save(conn: Any) -> None:
            store.insert(conn, row)
            record_event(
                conn, _entry(row, row.action, "proposed", reason=row.source, pending=row.id)
            )

        await self.db.transaction(save)

    async def _card(self, p: _Proposal) -> Carded:
        asker, action = p.asker, p.action
        now, pid = self._now_ms(), pending_id()
        expires = now + int(self.settings.confirm_ttl * 1000)
        secret = await self.db.transaction(lambda c: store.secret(c, asker.site_id))
        fields = _fields_of(
            site_id=asker.site_id, conversation=asker.conversation, user_id=asker.user_id or "",
            pid=pid, action=action.name, digest=arguments_digest(p.fixed), expires=expires,
        )  # fmt: skip
        shown = with_defaults(action, p.supplied) | {"traits": dict(asker.traits)}
        named = {x.name for x in placeholders(action.messages.confirm)}
        chosen = {f.name for f in p.fields} & named
        card = ActionCard(
            id=pid, token=sign(secret, fields), conversation=asker.conversation,
            action=action.name, title=card_title(action),
            text=render(action.messages.confirm, shown).strip() or action.description,
            template=render(action.messages.confirm, shown, keep=chosen).strip() if chosen else "",
            details=card_details(action, p.supplied),
            before=render(action.messages.before, shown).strip(),
            after=render(action.messages.after, shown).strip() if not p.fields else "",
            fields=p.fields, irreversible=action.irreversible, expires_at=expires,
        )  # fmt: skip
        row = self._row(
            p, pid=pid, state="pending", card=msgspec.to_builtins(card), created_ms=now,
            expires_ms=expires,
        )  # fmt: skip
        await self._save_proposed(row)
        return Carded(action=action.name, card=card, text=_ASK if p.fields else _INTRO)

    async def _run_now(self, p: _Proposal) -> Ran:
        now, pid = self._now_ms(), pending_id()
        called = with_defaults(p.action, p.fixed)
        row = self._row(
            p, pid=pid, state="running", card={}, called=called, created_ms=now, expires_ms=now
        )
        await self._save_proposed(row)
        ok, result, text = await self._call(row, p.actions, p.action, called)
        return Ran(action=p.action.name, ok=ok, result=result if ok else None, text=text)

    # -- running -----------------------------------------------------------------------------

    async def _call(
        self, row: store.PendingRow, actions: ActionSet, action: Action, called: dict[str, Any]
    ) -> tuple[bool, Any, str]:
        """Make the call of a ``running`` row, store and audit its end: (ok, result, text)."""
        reason, result = "", None
        try:
            answer = await execute(
                build_call(actions, action, called, row.id), self.outbound,
                limits=self.limits, environ=self._environ,
            )  # fmt: skip
            ok, result = answer.ok, answer.json
            reason = "" if ok else f"http_{answer.status}"
        except ActionCallError as exc:
            ok, reason = False, exc.reason
        except Exception:
            log.exception("action %s: the call failed unexpectedly", action.name)
            ok, reason = False, "internal"
        text = result_text(action, called, result, ok=ok)
        state: Literal["succeeded", "failed"] = "succeeded" if ok else "failed"
        now = self._now_ms()

        def save(conn: Any) -> None:
            store.settle(
                conn, row.site_id, row.id, state, text=text, now_ms=now, result=result,
                from_states=("running",),
            )  # fmt: skip
            record_event(conn, _entry(row, action.name, state, reason=reason, pending=row.id))

        await self.db.transaction(save)
        return ok, result, text

    async def _checked(
        self, site_id: int, visitor: str, user_id: str | None, token: str
    ) -> store.PendingRow | Settled:
        """The pending row ``token`` confirms for this visitor, or the refusal to send back
        (audited; the row itself is left as it was, so no one else's card is disturbed)."""
        row: store.PendingRow | None = None
        reason: str | None
        try:
            pid = read_pending_id(token)
        except SignatureError as exc:
            reason = exc.reason
        else:
            row = await self.db.run(lambda c: store.get(c, site_id, pid))
            reason = "unknown_pending" if row is None else await self._mismatch(
                row, visitor, user_id, token
            )  # fmt: skip
        if row is not None and reason == "expired":
            return await self._expire(row)
        if row is not None and reason is None:
            return row
        await self._record(
            AuditEvent(
                site_id=site_id, conversation=row.conversation if row else "", visitor=visitor,
                action=row.action if row else "", event="refused", reason=reason or "",
                pending=row.id if row else "",
            )
        )  # fmt: skip
        frame = ActionResult(id=row.id if row else "", state="refused", text=_NOT_VALID)
        return Settled(
            frame=frame, conversation=row.conversation if row else "", visitor=visitor,
            site_id=site_id, fresh=False, action=row.action if row else "",
        )  # fmt: skip

    async def _mismatch(
        self, row: store.PendingRow, visitor: str, user_id: str | None, token: str
    ) -> str | None:
        """Why ``token`` does not confirm ``row`` for this visitor and identity (None: it does)."""
        if row.visitor != visitor:
            return "other_visitor"
        if row.user_id != (user_id or ""):
            return "other_identity"
        secret = await self.db.transaction(lambda c: store.secret(c, row.site_id))
        expected = _fields_of(
            site_id=row.site_id, conversation=row.conversation, user_id=row.user_id, pid=row.id,
            action=row.action, digest=row.digest, expires=row.expires_ms,
        )  # fmt: skip
        try:
            verify(secret, token, expected, self._now_ms())
        except SignatureError as exc:
            return exc.reason
        return None

    def _stored(self, row: store.PendingRow | None) -> Settled | None:
        """What a repeat gets: the stored end, or nothing while the call is running."""
        if row is None or row.state not in store.FINAL:
            return None
        frame = ActionResult(id=row.id, state=row.state, text=row.text)  # type: ignore[arg-type]
        return Settled(
            frame=frame, conversation=row.conversation, visitor=row.visitor,
            site_id=row.site_id, fresh=False, action=row.action,
        )  # fmt: skip

    async def _end(
        self, row: store.PendingRow, state: Literal["declined", "expired", "refused"],
        text: str, reason: str = "",
    ) -> Settled | None:  # fmt: skip
        """Settle a still-pending row as ``state``; for a row settled meanwhile, its end."""
        now = self._now_ms()

        def save(conn: Any) -> bool:
            done = store.settle(
                conn, row.site_id, row.id, state, text=text, now_ms=now,
                from_states=("pending",),
            )  # fmt: skip
            if done:
                record_event(conn, _entry(row, row.action, state, reason=reason, pending=row.id))
            return done

        if not await self.db.transaction(save, lock=True):
            return self._stored(await self.db.run(lambda c: store.get(c, row.site_id, row.id)))
        frame = ActionResult(id=row.id, state=state, text=text)
        return Settled(
            frame=frame, conversation=row.conversation, visitor=row.visitor,
            site_id=row.site_id, fresh=True, action=row.action,
        )  # fmt: skip

    async def _expire(self, row: store.PendingRow) -> Settled:
        ended = await self._end(row, "expired", _EXPIRED)
        if ended is not None:
            return ended
        frame = ActionResult(id=row.id, state="expired", text=_EXPIRED)
        return Settled(
            frame=frame, conversation=row.conversation, visitor=row.visitor,
            site_id=row.site_id, fresh=False, action=row.action,
        )  # fmt: skip

    async def confirm(
        self, *, site_id: int, visitor: str, user_id: str | None, token: str,
        values: Mapping[str, Any],
    ) -> Settled | None:  # fmt: skip
        """Run the pending action ``token`` names, once; None while another confirm runs it."""
        claimed = await self.claim(
            site_id=site_id, visitor=visitor, user_id=user_id, token=token, values=values
        )
        return await self.run(claimed) if isinstance(claimed, Claimed) else claimed

    async def _final_call(
        self, row: store.PendingRow, values: Mapping[str, Any]
    ) -> Claimed | Problem:
        """The call a confirm of ``row`` with ``values`` would make, or why none."""
        declared = await self._declared(row.site_id, row.action)
        if declared is None or declared[2] != row.version:
            # The declaration changed since the card was drawn: what was shown is not what
            # would run.
            return Problem("declaration_changed", _NOT_VALID)
        actions, action, _ = declared
        if set(values) - set(row.fields):
            return Problem("unexpected_values", _NOT_VALID)
        called = with_defaults(action, row.arguments | dict(values))
        problem = check_final(action, called)
        if problem is not None:
            return problem
        return Claimed(row=row, actions=actions, action=action, called=called)

    async def claim(
        self, *, site_id: int, visitor: str, user_id: str | None, token: str,
        values: Mapping[str, Any],
    ) -> Claimed | Settled | None:  # fmt: skip
        """Check a confirm and claim its pending action for this caller: :class:`Claimed`
        (committed as ``running``: from here a restart finishes it, see :meth:`recover`), the
        refusal or stored end to send back, or None while another confirm runs it."""
        row = await self._checked(site_id, visitor, user_id, token)
        if isinstance(row, Settled) or row.state != "pending":
            return row if isinstance(row, Settled) else self._stored(row)
        call = await self._final_call(row, values)
        if isinstance(call, Problem):
            return await self._end(row, "refused", call.message, call.reason)
        now, per_day = self._now_ms(), call.action.limits.per_visitor_per_day

        def claim(conn: Any) -> str:
            if per_day is not None and per_day <= store.runs_since(
                conn, site_id, row.action, user_id=row.user_id, visitor=row.visitor,
                since_ms=now - _DAY_MS,
            ):  # fmt: skip
                return "daily_limit"
            if not store.claim(conn, site_id, row.id, call.called, now):
                return "lost"
            record_event(conn, _entry(row, row.action, "confirmed", pending=row.id))
            return "won"

        claimed = await self.db.transaction(claim, lock=True)
        if claimed == "won":
            return call
        if claimed == "daily_limit":
            return await self._end(row, "refused", _DAILY, "daily_limit")
        latest = await self.db.run(lambda c: store.get(c, site_id, row.id))
        if latest is not None and latest.state == "pending":  # it expired meanwhile
            return await self._expire(latest)
        return self._stored(latest)

    async def run(self, claimed: Claimed) -> Settled:
        """Make the claimed call and store its end (which every later confirm gets back)."""
        row = claimed.row
        ok, _, text = await self._call(row, claimed.actions, claimed.action, claimed.called)
        frame = ActionResult(id=row.id, state="succeeded" if ok else "failed", text=text)
        return Settled(
            frame=frame, conversation=row.conversation, visitor=row.visitor,
            site_id=row.site_id, fresh=True, action=row.action,
        )  # fmt: skip

    async def decline(
        self, *, site_id: int, visitor: str, user_id: str | None, token: str
    ) -> Settled | None:
        """The visitor's Cancel: the pending action will never run."""
        row = await self._checked(site_id, visitor, user_id, token)
        if isinstance(row, Settled):
            return row
        return await self._end(row, "declined", _DECLINED)

    # -- cards on screen, expiry, recovery ---------------------------------------------------

    async def open_cards(self, site_id: int, visitor: str, user_id: str | None) -> list[ActionCard]:
        """The visitor's cards still waiting (for a new page or tab), drawn as first sent;
        only those of the identity signed in now."""
        now = self._now_ms()
        rows = await self.db.run(lambda c: store.open_for_visitor(c, site_id, visitor, now))
        return [msgspec.convert(r.card, ActionCard) for r in rows if r.user_id == (user_id or "")]

    async def expire_due(self, limit: int = 200) -> list[Settled]:
        """Expire the cards nobody answered in time (each audited once)."""
        now = self._now_ms()
        rows = await self.db.run(lambda c: store.due_to_expire(c, now, limit))
        settled = [await self._expire(row) for row in rows]
        return [s for s in settled if s.fresh]

    async def recover(self, limit: int = 1000) -> list[Settled]:
        """Finish the calls a stopped server left confirmed: each is made again with its own
        idempotency key, so an API that saw the first attempt does not act twice."""
        rows = await self.db.run(lambda c: store.left_running(c, limit))
        done: list[Settled] = []
        for row in rows:
            stored = await self.service.versions(row.site_id)
            body = next((s.body for s in stored if s.version == row.version), None)
            actions = None if body is None else msgspec.convert(body, ActionSet)
            action = None if actions is None else actions.action(row.action)
            if actions is None or action is None or row.called is None:
                continue
            log.info("action %s: finishing a call confirmed before a restart", row.action)
            ok, _, text = await self._call(row, actions, action, row.called)
            frame = ActionResult(id=row.id, state="succeeded" if ok else "failed", text=text)
            done.append(Settled(frame=frame, conversation=row.conversation, visitor=row.visitor,
                                site_id=row.site_id, fresh=True, action=row.action))  # fmt: skip
        return done


@dataclass(frozen=True, slots=True, kw_only=True)
class _Proposal:
    asker: Asker
    actions: ActionSet
    action: Action
    version: int
    supplied: dict[str, Any]
    """What the model or the matcher gave."""
    fixed: dict[str, Any]
    """That, with the bound parameters from the identity."""
    fields: list[ActionField]
    source: Source


def _entry(
    who: Asker | store.PendingRow, action: str, event: Event, *, reason: str = "",
    pending: str = "",
) -> AuditEvent:  # fmt: skip
    return AuditEvent(
        site_id=who.site_id, conversation=who.conversation, visitor=who.visitor,
        action=action, event=event, reason=reason[:200], pending=pending,
    )  # fmt: skip


def _fields_of(
    *, site_id: int, conversation: str, user_id: str, pid: str, action: str, digest: str,
    expires: int,
) -> PendingFields:  # fmt: skip
    return PendingFields(
        pending_id=pid, site_id=site_id, conversation_id=conversation, identity=user_id,
        action=action, arguments_digest=digest, expires_ms=expires,
    )  # fmt: skip


def result_text(action: Action, called: Mapping[str, Any], result: Any, *, ok: bool) -> str:
    """The declared success or failure message, filled from the call and the API's answer;
    a list answer adds one line per item (``messages.item``)."""
    values = dict(called) | (result if isinstance(result, dict) else {})
    template = action.messages.success if ok else action.messages.failure
    text = render(template, values).strip() or (_DONE if ok else _FAILED)
    if ok and isinstance(result, list) and action.messages.item:
        lines = [
            render(action.messages.item, x).strip() for x in result[:20] if isinstance(x, dict)
        ]
        text = "\n".join([text, *(f"• {line}" for line in lines if line)])
    return text
