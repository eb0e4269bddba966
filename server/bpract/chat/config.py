"""Settings of the chat (``BPRACT_CHAT_*``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from bpract.settings import env

__all__ = ["ANSWER_THRESHOLD", "ChatConfig"]

#: Retrieval confidence (the best passage's, see docs/chat.md) below which the chat says it
#: does not know. Calibrated on the demo help centre: on-topic English questions scored
#: 0.010–0.994, off-topic ones at most 0.004.
ANSWER_THRESHOLD: Final = 0.008


@dataclass(frozen=True, slots=True, kw_only=True)
class ChatConfig:
    threshold: float = env("BPRACT_CHAT_THRESHOLD", ANSWER_THRESHOLD)
    """Below this retrieval confidence the answer is "I don't know"."""
    rate_per_minute: int = env("BPRACT_CHAT_RATE", 10)
    """Messages one visitor may send per minute."""
    address_rate_per_minute: int = env("BPRACT_CHAT_ADDRESS_RATE", 60)
    """Messages all visitors from one client address may send per minute (a burst of as many)."""
    site_rate_per_minute: int = env("BPRACT_CHAT_SITE_RATE", 600)
    """Messages all visitors of one site may send per minute (in this process)."""
    address_new_per_minute: int = env("BPRACT_CHAT_ADDRESS_NEW", 10)
    """New conversations one client address may start per minute (a burst of as many)."""
    site_new_per_minute: int = env("BPRACT_CHAT_SITE_NEW", 120)
    """New conversations all visitors of one site may start per minute (in this process)."""
    passages: int = 5
    """Passages retrieved per question."""
    history_window_ms: int = 24 * 3600 * 1000
    """A conversation older than this is not restored or continued."""
    history_messages: int = 30
    """Messages sent in ``history``."""
    max_tokens: int = 500
    """Longest model answer, in tokens."""
