"""Errors of the inbox feature.

BpractError
└── InboxError               agents: a bad field, a clash, one not found
    ├── AgentExistsError     the organisation has an agent with that email already
    └── AgentNotFoundError   no such agent in that organisation
"""

from __future__ import annotations

from bpract.errors import BpractError

__all__ = ["AgentExistsError", "AgentNotFoundError", "InboxError"]


class InboxError(BpractError, ValueError):
    """An agent's field is not acceptable, or the agent named does not fit."""


class AgentExistsError(InboxError):
    """The organisation has an agent with that email already."""


class AgentNotFoundError(InboxError, LookupError):
    """No agent with that email in that organisation."""
