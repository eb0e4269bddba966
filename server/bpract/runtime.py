"""The services of one server process: each built once, handed out, closed in reverse order.

One database, one channels plugin, one LLM gateway, one knowledge base, and
the features' services on top of them.  Features add their frame handlers to
the one registry the visitor connections dispatch through; handlers and
routes receive the services by dependency injection (:func:`bpract.di.from_state`).
"""

from __future__ import annotations

import asyncio
import gc
import importlib
import logging
import os
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

from litestar.channels import ChannelsPlugin

from bpract.actions import ActionService
from bpract.actions.matcher import ActionMatcher
from bpract.actions.runner import ActionRunner
from bpract.actions.settings import ActionSettings
from bpract.chat import ChatConfig, ChatService
from bpract.chat import actions as chat_actions
from bpract.chat import frames as chat_frames
from bpract.chat import storage as chat_storage
from bpract.chat.desk import QueueChanged
from bpract.chat.storage import Conversation
from bpract.clock import now_ms as wall_ms
from bpract.features import MIGRATIONS
from bpract.inbox import InboxAuth, InboxSettings, list_agents, presence, routing
from bpract.kb import KnowledgeBase
from bpract.kb.config import embedder_for
from bpract.kb.settings import KBSettings
from bpract.llm import Gateway
from bpract.llm.settings import LLMSettings
from bpract.llm.setup import build_gateway, release_stale_forever
from bpract.net.settings import NetSettings
from bpract.quality.lifespan import grounding_scorer
from bpract.quality.scorer import GroundingScorer
from bpract.quality.settings import QualitySettings
from bpract.settings import Settings
from bpract.sites import get_site
from bpract.store import Database, migrate
from bpract.tickets import TicketService, TicketSettings, open_now
from bpract.tickets import frames as ticket_frames
from bpract.triggers import frames as trigger_frames
from bpract.triggers.llm_decider import LLMDecider, decider_for
from bpract.triggers.service import TriggerService
from bpract.triggers.settings import TriggerSettings
from bpract.visitors import frames as visitor_frames
from bpract.visitors.hub import VisitorHub
from bpract.visitors.settings import VisitorSettings
from bpract.wire.handlers import FrameHandlers

__all__ = ["SERVICES", "Runtime"]

log = logging.getLogger("bpract.runtime")

#: The services a route handler may ask for by name, each kept on the app's state.
SERVICES = (
    "settings", "db", "gateway", "kb", "triggers", "chat", "visitors", "grounding", "inbox",
    "tickets",
)  # fmt: skip


@dataclass(frozen=True, slots=True, kw_only=True)
class Runtime:
    """Everything a request or a visitor connection may be given."""

    settings: Settings
    db: Database
    channels: ChannelsPlugin
    gateway: Gateway
    kb: KnowledgeBase
    triggers: TriggerService
    chat: ChatService
    visitors: VisitorHub
    grounding: GroundingScorer | None
    inbox: InboxAuth
    tickets: TicketService

    def services(self) -> dict[str, Any]:
        """Each of :data:`SERVICES` by name."""
        return {name: getattr(self, name) for name in SERVICES}

    @classmethod
    @asynccontextmanager
    async def running(
        cls,
        settings: Settings,
        channels: ChannelsPlugin,
        environ: Mapping[str, str] | None = None,
    ) -> AsyncIterator[Runtime]:
        """Build, start, and at the end stop every service; ``environ`` holds model keys."""
        environ = os.environ if environ is None else environ
        async with AsyncExitStack() as stack:
            db = Database(settings.server.db)
            stack.callback(db.close)
            db.run_sync(lambda conn: migrate(conn, MIGRATIONS))
            llm = settings.of(LLMSettings)
            gateway = build_gateway(db, environ, llm, settings.of(NetSettings))
            stack.push_async_callback(gateway.aclose)
            kb = KnowledgeBase(db, embedder_for(settings.of(KBSettings), environ))
            stack.callback(kb.close)
            decider = decider_for(gateway, db, kb=kb)
            if isinstance(decider, LLMDecider):
                stack.push_async_callback(decider.aclose)
            trigger_settings = settings.of(TriggerSettings)
            window = settings.of(ChatConfig).history_window_ms
            triggers = TriggerService(
                db, channels, decider, decider_timeout_s=trigger_settings.decider_timeout,
                fire_deadline_s=trigger_settings.fire_deadline,
                busy=lambda conn, site, visitor, now: chat_storage.with_person(
                    conn, site, visitor, now - window
                ),  # no outreach while a person has the conversation
            )  # fmt: skip
            action_settings = settings.of(ActionSettings)
            runner = ActionRunner(
                db, ActionService(db), settings=action_settings, net=settings.of(NetSettings)
            )
            stack.push_async_callback(runner.aclose)
            ticket_settings = settings.of(TicketSettings)
            tickets = TicketService(db, ticket_settings, net=settings.of(NetSettings))
            stack.push_async_callback(tickets.aclose)
            chat = ChatService(
                db, kb, gateway, channels, rules=triggers, config=settings.of(ChatConfig),
                actions=runner, matcher=ActionMatcher(kb.embedder),
                available=lambda site, department, now: _someone_live(db, site, department, now),
            )  # fmt: skip
            chat.add_handoff_listener(lambda conv, department: _route(db, chat, conv, department))
            stack.push_async_callback(chat.aclose)
            frames = FrameHandlers()
            visitor_frames.register(frames)
            trigger_frames.register(frames, triggers)
            chat_frames.register(frames, chat)
            chat_actions.register(frames, chat, runner)
            ticket_frames.register(
                frames, tickets, stored=lambda site, visitor: _ticket_left(db, chat, site, visitor)
            )
            visitors = VisitorHub(settings.of(VisitorSettings), db, channels, triggers, frames)
            visitors.writer.start()
            stack.push_async_callback(visitors.writer.stop)
            quality = settings.of(QualitySettings)
            grounding = await stack.enter_async_context(
                grounding_scorer(
                    db, chat, kb, gateway,
                    mode=quality.mode(llm.policy_dir), interval_s=quality.grounding_interval,
                )
            )  # fmt: skip
            jobs = [
                asyncio.create_task(release_stale_forever(gateway)),
                asyncio.create_task(
                    triggers.watch_outside_changes(trigger_settings.outside_changes_interval)
                ),
                asyncio.create_task(  # fires a stopped process left undecided
                    triggers.expire_undecided_forever(trigger_settings.sweep_interval)
                ),
                asyncio.create_task(  # calls a stopped process left confirmed, cards unanswered
                    _settle_actions_forever(runner, chat, action_settings.sweep_interval)
                ),
                asyncio.create_task(  # delivers what a stopped process left in the outbox too
                    tickets.deliver_forever(ticket_settings.sweep_interval)
                ),
            ]
            if isinstance(decider, LLMDecider):
                jobs.append(asyncio.create_task(asyncio.to_thread(_import_sdks)))
            stack.push_async_callback(_cancel, jobs)
            runtime = cls(
                settings=settings, db=db, channels=channels, gateway=gateway, kb=kb,
                triggers=triggers, chat=chat, visitors=visitors, grounding=grounding,
                inbox=InboxAuth(db, settings.of(InboxSettings)), tickets=tickets,
            )  # fmt: skip
            # Start-up objects live as long as the process: keep them out of every GC pass,
            # which otherwise rescans them as connections allocate.
            gc.collect()
            gc.freeze()
            yield runtime


async def _org_of(db: Database, site_id: int) -> int | None:
    return (await db.run(lambda c: get_site(c, site_id))).org_id


async def _someone_live(db: Database, site_id: int, department: str, now: int) -> bool:
    """Whether a person can answer the site's visitor live: within its business hours, and,
    when the organisation has agents in the inbox, one of the department's team online under
    their limit (an organisation without any answers its hand-offs elsewhere)."""
    if not await open_now(db, site_id, now):
        return False
    org = await _org_of(db, site_id)
    if org is None or await presence.available(db, org, department, now):
        return True
    staffed = await db.run(lambda c: any(a.disabled_at is None for a in list_agents(c, org)))
    return not staffed


async def _route(db: Database, chat: ChatService, conv: Conversation, department: str) -> None:
    """Offer a conversation that starts waiting to the next online agent of its team."""
    org = await _org_of(db, conv.site_id)
    if org is None:
        return
    agent = await routing.route(db, conv, org, department, wall_ms())
    if agent is not None:
        change = QueueChanged(conversation=conv.id, change="routed", agent=agent.id,
                              name=agent.display_name)  # fmt: skip
        await chat.desk.announce(conv.site_id, change)


async def _ticket_left(db: Database, chat: ChatService, site_id: int, visitor: str) -> None:
    """Show the agents the ticket the visitor of a conversation left (their queue lists it)."""
    conv = await db.run(lambda c: chat_storage.find_conversation(c, site_id, visitor, 0))
    change = QueueChanged(conversation=conv.id if conv else "", change="ticket")
    await chat.desk.announce(site_id, change)


async def _settle_actions_forever(runner: ActionRunner, chat: ChatService, every: float) -> None:
    """Finish what a stopped process left confirmed, then expire unanswered cards, forever."""
    try:
        for settled in await runner.recover():
            await chat.settled(settled)
    except Exception:
        log.exception("actions: finishing the calls confirmed before a restart failed")
    while True:
        try:
            for settled in await runner.expire_due():
                await chat.settled(settled)
        except Exception:
            log.exception("actions: expiring unanswered cards failed; trying again")
        await asyncio.sleep(every)


async def _cancel(jobs: list[asyncio.Task[Any]]) -> None:
    for job in jobs:
        job.cancel()
    await asyncio.gather(*jobs, return_exceptions=True)


def _import_sdks() -> None:
    """Import the provider SDKs off the event loop, so the first decision does not wait."""
    importlib.import_module("bpract.llm.providers.anthropic")
    importlib.import_module("bpract.llm.providers.openai")
