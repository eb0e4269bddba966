"""Chat over the visitor socket: retrieve, route, generate (streamed), cite, remember."""

from __future__ import annotations

from bpract.chat.config import ANSWER_THRESHOLD, ChatConfig
from bpract.chat.language import detect_language
from bpract.chat.service import AnswerListener, ChatService, PendingAnswer
from bpract.chat.storage import Answer

__all__ = [
    "ANSWER_THRESHOLD",
    "Answer",
    "AnswerListener",
    "ChatConfig",
    "ChatService",
    "PendingAnswer",
    "detect_language",
]
