"""Channel names: where a push for a site or a visitor is published, whoever holds the socket."""

from __future__ import annotations

__all__ = ["conversation_channel", "inbox_channel", "site_channel", "visitor_channel"]


def site_channel(site_id: int) -> str:
    """Channel of every connection of a site (rule updates)."""
    return f"site:{site_id}"


def visitor_channel(site_id: int, visitor: str) -> str:
    """Channel of every connection (tab) of one visitor (outreach, replies, agents)."""
    return f"visitor:{site_id}:{visitor}"


def inbox_channel(site_id: int) -> str:
    """Channel of the agents of a site's organisation: the queue changed (a conversation is
    waiting, taken, released, resolved)."""
    return f"inbox:{site_id}"


def conversation_channel(site_id: int, conversation: str) -> str:
    """Channel of the agents looking at one conversation: its messages, typing, pages."""
    return f"conversation:{site_id}:{conversation}"
