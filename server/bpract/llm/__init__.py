"""One door for every model call: providers, routing, prices, usage ledger, budgets."""

from __future__ import annotations

from bpract.llm.gateway import Gateway
from bpract.llm.policy import Policies, Policy, load_policy
from bpract.llm.prices import PriceTable
from bpract.llm.types import (
    ChatRequest,
    Completion,
    Finished,
    Message,
    Restarted,
    StreamEvent,
    SystemPart,
    TextDelta,
    Tool,
    ToolCall,
    ToolCallDone,
    Usage,
)

__all__ = [
    "ChatRequest",
    "Completion",
    "Finished",
    "Gateway",
    "Message",
    "Policies",
    "Policy",
    "PriceTable",
    "Restarted",
    "StreamEvent",
    "SystemPart",
    "TextDelta",
    "Tool",
    "ToolCall",
    "ToolCallDone",
    "Usage",
    "load_policy",
]
