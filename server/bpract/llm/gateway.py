"""The one door for model calls: route → reserve → call (retries, fallbacks) → settle → log."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Literal

import apsw
import msgspec

from bpract.llm.alerts import AlertSender
from bpract.llm.budget import Budgets, Reservation
from bpract.llm.errors import (
    AllProvidersFailedError,
    BudgetExceededError,
    LLMError,
    NoCompliantRouteError,
    OutputInvalidError,
    ProviderError,
)
from bpract.llm.ledger import Decision, Ledger, UsageRecord
from bpract.llm.policy import Policies, Policy
from bpract.llm.prices import PriceTable
from bpract.llm.providers.base import Provider
from bpract.llm.providers.offline import OfflineProvider
from bpract.llm.providers.registry import ProviderPool
from bpract.llm.retry import retry_delay
from bpract.llm.router import Candidate, Route, Router
from bpract.llm.types import ChatRequest, Completion, Finished, Restarted, StreamEvent, Usage
from bpract.net.settings import NetSettings
from bpract.store import Database

__all__ = ["DEGRADING_TASKS", "Call", "Gateway", "estimate_input_tokens"]

log = logging.getLogger("bpract.llm")

#: Tasks that answer a visitor: at a limit they degrade to a knowledge-base answer or a human.
DEGRADING_TASKS = frozenset({"chat_answer"})
HUMAN_HANDOFF = "I'll pass this to a person on the team, who will answer here shortly."


def estimate_input_tokens(request: ChatRequest) -> int:
    """A deliberately high input estimate (3 characters a token) for reservations."""
    chars = sum(len(p.text) for p in request.system) + sum(len(m.content) for m in request.messages)
    chars += sum(len(t.description) + len(str(t.parameters)) for t in request.tools)
    chars += len(str(request.response_schema or ""))
    return chars // 3 + 8 * (len(request.messages) + len(request.system)) + 16


class Call(msgspec.Struct, frozen=True, kw_only=True):
    """Who a call is for and what it is; every ledger and decision row carries it."""

    task: str
    tenant: int
    department: str = ""
    rule: str = ""
    conversation: str = ""
    data_class: str = "general"


class _Attempts:
    def __init__(self) -> None:
        self.rows: list[dict[str, str]] = []
        self.errors: list[ProviderError] = []

    def failed(self, c: Candidate, error: ProviderError) -> None:
        self.rows.append({"provider": c.provider, "model": c.model, "error": error.detail})
        self.errors.append(error)


class Gateway:
    """Every model call of the product goes through :meth:`complete` or :meth:`stream`."""

    def __init__(
        self,
        db: Database,
        policies: Policies | Policy,
        *,
        prices: PriceTable | None = None,
        providers: ProviderPool | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        net: NetSettings | None = None,
    ) -> None:
        self.db = db
        self.policies = policies if isinstance(policies, Policies) else Policies(policies)
        self.prices = prices or PriceTable.load()
        self.providers = providers or ProviderPool(net=net)
        self.budgets = Budgets(db, clock=clock)
        self.ledger = Ledger(db, clock=clock)
        self.router = Router()
        self.alerts = AlertSender(net)
        self._sleep = sleep
        self._schemas: dict[Any, dict[str, Any]] = {}

    async def aclose(self) -> None:
        await self.alerts.aclose()
        await self.providers.aclose()

    async def complete(
        self,
        *,
        task: str,
        tenant: int,
        request: ChatRequest,
        department: str = "",
        rule: str = "",
        conversation: str = "",
        output_type: Any = None,
        data_class: str = "general",
        retrieval_confidence: float | None = None,
    ) -> Completion:
        """Answer ``request``; with ``output_type`` the answer's ``value`` is validated."""
        call = Call(task=task, tenant=tenant, department=department, rule=rule,
                    conversation=conversation, data_class=data_class)  # fmt: skip
        request = self._with_schema(request, output_type)
        policy, route = await self._route(call, request, retrieval_confidence)
        attempts = _Attempts()
        for candidate in route.candidates:
            reservation = await self._reserve(call, policy, candidate, request)
            if reservation is None:
                return await self._degrade(call, route, request, attempts, "hard budget reached")
            try:
                done = await self._attempt(policy, candidate, request, attempts, output_type)
            except ProviderError:
                await self._release(reservation, candidate)
                continue
            return await self._settle(
                call,
                route,
                candidate,
                reservation=reservation,
                done=done,
                attempts=attempts,
                streamed=False,
            )
        return await self._exhausted(call, route, request, attempts)

    async def stream(
        self,
        *,
        task: str,
        tenant: int,
        request: ChatRequest,
        department: str = "",
        rule: str = "",
        conversation: str = "",
        output_type: Any = None,
        data_class: str = "general",
        retrieval_confidence: float | None = None,
    ) -> AsyncIterator[StreamEvent]:
        """Stream the answer; a ``Restarted`` event precedes a retry after a mid-stream failure."""
        call = Call(task=task, tenant=tenant, department=department, rule=rule,
                    conversation=conversation, data_class=data_class)  # fmt: skip
        request = self._with_schema(request, output_type)
        policy, route = await self._route(call, request, retrieval_confidence)
        attempts = _Attempts()
        for candidate in route.candidates:
            reservation = await self._reserve(call, policy, candidate, request)
            if reservation is None:
                done = await self._degrade(call, route, request, attempts, "hard budget reached")
                yield Finished(completion=done)
                return
            try:
                provider = self._provider(policy, candidate)
            except ProviderError as error:
                attempts.failed(candidate, error)
                await self._release(reservation, candidate)
                continue
            for n in range(policy.retry.attempts):
                emitted = False
                try:
                    async for event in provider.stream(
                        request, model=candidate.model, time_limit=policy.retry.timeout_s
                    ):
                        if isinstance(event, Finished):
                            completion = _validated(event.completion, output_type)
                            yield Finished(
                                completion=await self._settle(
                                    call,
                                    route,
                                    candidate,
                                    reservation=reservation,
                                    done=completion,
                                    attempts=attempts,
                                    streamed=True,
                                )
                            )
                            return
                        emitted = True
                        yield event
                except ProviderError as error:
                    attempts.failed(candidate, error)
                    if emitted:
                        yield Restarted(reason=error.detail)
                    delay = retry_delay(policy.retry, error, n)
                    if delay is None:
                        break
                    await self._sleep(delay)
            await self._release(reservation, candidate)
        yield Finished(completion=await self._exhausted(call, route, request, attempts))

    # -- steps -------------------------------------------------------------------------------

    def _with_schema(self, request: ChatRequest, output_type: Any) -> ChatRequest:
        if output_type is None:
            return request
        schema = self._schemas.get(output_type)
        if schema is None:
            schema = self._schemas[output_type] = _inline_schema(output_type)
        return msgspec.structs.replace(request, response_schema=schema)

    async def _route(
        self, call: Call, request: ChatRequest, confidence: float | None
    ) -> tuple[Policy, Route]:
        policy = self.policies.for_site(call.tenant)
        pressure = await self.budgets.pressure(call.tenant, call.department)
        query = next((m.content for m in reversed(request.messages) if m.role == "user"), "")
        route = self.router.route(
            policy,
            task=call.task,
            data_class=call.data_class,
            query=query,
            retrieval_confidence=confidence,
            pressure=pressure,
        )
        return policy, route

    def _provider(self, policy: Policy, candidate: Candidate) -> Provider:
        return self.providers.get(candidate.provider, policy.providers[candidate.provider])

    async def _reserve(
        self, call: Call, policy: Policy, candidate: Candidate, request: ChatRequest
    ) -> Reservation | None:
        if not self.router.allowed(policy, call.data_class, candidate.provider):
            raise NoCompliantRouteError(f"{candidate.provider} is not allowed here")
        price = self.prices.price(candidate.provider, candidate.model)
        worst = Usage(input=estimate_input_tokens(request), output=request.max_tokens)
        try:
            return await self.budgets.reserve(call.tenant, call.department, price.cost(worst))
        except BudgetExceededError as exc:
            log.warning("budget: site %s %s", call.tenant, exc.detail)
            if call.task in DEGRADING_TASKS:
                return None
            raise

    async def _attempt(
        self,
        policy: Policy,
        candidate: Candidate,
        request: ChatRequest,
        attempts: _Attempts,
        output_type: Any,
    ) -> Completion:
        try:
            provider = self._provider(policy, candidate)
        except ProviderError as error:
            attempts.failed(candidate, error)
            raise
        for n in range(policy.retry.attempts):
            try:
                done = await provider.complete(
                    request, model=candidate.model, time_limit=policy.retry.timeout_s
                )
                return _validated(done, output_type)
            except ProviderError as error:
                attempts.failed(candidate, error)
                delay = retry_delay(policy.retry, error, n)
                if delay is None:
                    raise
                await self._sleep(delay)
        raise attempts.errors[-1]  # attempts < 1 in a policy: nothing was tried

    async def _release(self, reservation: Reservation, candidate: Candidate) -> None:
        # A failed call is not billed by the providers we speak to: release it at zero.
        await self.budgets.settle(reservation, 0)
        log.warning("llm: %s:%s failed, falling back", candidate.provider, candidate.model)

    async def _settle(
        self,
        call: Call,
        route: Route,
        candidate: Candidate,
        *,
        reservation: Reservation,
        done: Completion,
        attempts: _Attempts,
        streamed: bool,
    ) -> Completion:
        price = self.prices.price(candidate.provider, candidate.model)
        usage = done.usage
        record = UsageRecord(
            site_id=call.tenant, department=call.department, rule=call.rule,
            conversation=call.conversation, task=call.task, provider=candidate.provider,
            model=candidate.model, streamed=streamed, usage=usage, cost_nano=price.cost(usage),
            saved_nano=price.cache_saving(usage), price_version=self.prices.version,
            priced=price.known,
        )  # fmt: skip
        outcome = "fallback" if attempts.rows else "ok"
        decision = _decision(call, route, candidate, outcome, attempts)

        def tx(conn: apsw.Connection) -> list[Any]:
            alerts = self.budgets.settle_in(conn, reservation, record.cost_nano)
            usage_id = self.ledger.record_in(conn, record)
            self.ledger.decide_in(conn, msgspec.structs.replace(decision, usage_id=usage_id))
            return alerts

        self.alerts.send(await self.db.transaction(tx))
        log.info("llm: site %s %s → %s:%s (%s)", call.tenant, call.task, candidate.provider,
                 candidate.model, route.reason)  # fmt: skip
        return done

    async def _exhausted(
        self, call: Call, route: Route, request: ChatRequest, attempts: _Attempts
    ) -> Completion:
        if call.task in DEGRADING_TASKS:
            why = "no compliant provider" if not route.candidates else "every provider failed"
            return await self._degrade(call, route, request, attempts, why)
        none = Candidate(provider="", model="", tier=route.tier)
        decision = _decision(call, route, none, "failed", attempts)
        await self.db.transaction(lambda c: self.ledger.decide_in(c, decision))
        if not route.candidates:
            raise NoCompliantRouteError(
                f"no provider allowed for {call.data_class}: {route.reason}"
            )
        raise AllProvidersFailedError(attempts.errors)

    async def _degrade(
        self, call: Call, route: Route, request: ChatRequest, attempts: _Attempts, why: str
    ) -> Completion:
        found = OfflineProvider().answer(request)
        mode: Literal["kb_only", "human"] = "kb_only" if found.offline == "answer" else "human"
        text = found.text if mode == "kb_only" else HUMAN_HANDOFF
        here = Candidate(provider="offline", model=mode, tier=route.tier)
        decision = _decision(call, route, here, "degraded", attempts, extra=f"{why} → {mode}")
        await self.db.transaction(lambda c: self.ledger.decide_in(c, decision))
        return Completion(
            text=text,
            usage=Usage(),
            provider="offline",
            model=mode,
            degraded=mode,
            offline="answer" if mode == "kb_only" else None,
        )


def _decision(
    call: Call,
    route: Route,
    candidate: Candidate,
    outcome: str,
    attempts: _Attempts,
    *,
    extra: str = "",
) -> Decision:
    reason = route.reason + (f"; {extra}" if extra else "")
    if attempts.rows and outcome == "fallback":
        reason += f"; fell back after {len(attempts.rows)} failed attempt(s)"
    return msgspec.convert(
        {
            "site_id": call.tenant, "department": call.department, "rule": call.rule,
            "conversation": call.conversation, "task": call.task, "tier": route.tier,
            "provider": candidate.provider, "model": candidate.model, "outcome": outcome,
            "reason": reason, "attempts": list(attempts.rows),
        },
        Decision,
    )  # fmt: skip


def _validated(done: Completion, output_type: Any) -> Completion:
    if output_type is None:
        return done
    try:
        value = msgspec.json.decode(done.text, type=output_type)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise OutputInvalidError(done.provider, f"structured output invalid: {exc}") from None
    return msgspec.structs.replace(done, value=value)


def _inline_schema(output_type: Any) -> dict[str, Any]:
    """A self-contained JSON Schema (``$defs`` inlined away when there is a single root)."""
    schema = msgspec.json.schema(output_type)
    ref = schema.get("$ref", "")
    defs = schema.get("$defs", {})
    if ref.startswith("#/$defs/") and len(defs) == 1:
        result: dict[str, Any] = defs[ref.removeprefix("#/$defs/")]
        return result
    return schema


__all__ += ["HUMAN_HANDOFF", "LLMError"]
