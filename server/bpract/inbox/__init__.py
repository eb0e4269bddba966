"""The inbox: the people who answer visitors (agents), their sign-in, and the pages under
``/inbox`` where they see who is waiting for a person and what was said."""

from __future__ import annotations

from bpract.inbox.agents import AgentRole, add_agent, disable_agent, normalize_email, set_password
from bpract.inbox.auth import InboxAuth, Refusal, SignedIn
from bpract.inbox.errors import AgentExistsError, AgentNotFoundError, InboxError
from bpract.inbox.settings import InboxSettings
from bpract.inbox.storage import Agent, list_agents

__all__ = [
    "Agent",
    "AgentExistsError",
    "AgentNotFoundError",
    "AgentRole",
    "InboxAuth",
    "InboxError",
    "InboxSettings",
    "Refusal",
    "SignedIn",
    "add_agent",
    "disable_agent",
    "list_agents",
    "normalize_email",
    "set_password",
]
