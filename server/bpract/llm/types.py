"""Provider-neutral request, completion and stream event types."""

from __future__ import annotations

from typing import Any, Literal

import msgspec

__all__ = [
    "ChatRequest",
    "Completion",
    "Finished",
    "Message",
    "Restarted",
    "StreamEvent",
    "SystemPart",
    "TextDelta",
    "Tool",
    "ToolCall",
    "ToolCallDone",
    "Usage",
]


class ToolCall(msgspec.Struct, frozen=True, kw_only=True):
    """A tool the model asks to run, with its JSON arguments."""

    id: str
    name: str
    arguments: dict[str, Any]


class Message(msgspec.Struct, frozen=True, kw_only=True):
    """One conversation turn; a ``tool`` turn answers ``tool_call_id``."""

    role: Literal["user", "assistant", "tool"]
    content: str
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None


class SystemPart(msgspec.Struct, frozen=True, kw_only=True):
    """A piece of the system prompt; ``cacheable`` parts form a stable prefix.

    ``kind="knowledge"`` marks knowledge-base context: the offline provider
    answers from it, and budget degradation keeps it.
    """

    text: str
    cacheable: bool = False
    kind: Literal["instructions", "knowledge"] = "instructions"


class Tool(msgspec.Struct, frozen=True, kw_only=True):
    """A function the model may call; ``parameters`` is a JSON Schema object."""

    name: str
    description: str
    parameters: dict[str, Any]


class ChatRequest(msgspec.Struct, frozen=True, kw_only=True):
    """What a caller asks of a model, whichever provider answers."""

    messages: tuple[Message, ...]
    system: tuple[SystemPart, ...] = ()
    tools: tuple[Tool, ...] = ()
    tool_choice: Literal["auto", "none"] = "auto"
    """``none``: the tools stay declared (a history with tool calls needs them) but the model
    must answer in text."""
    max_tokens: int = 1024
    temperature: float | None = None
    response_schema: dict[str, Any] | None = None
    """JSON Schema the answer must follow (set by the gateway from ``output_type``)."""
    response_name: str = "respond"


class Usage(msgspec.Struct, frozen=True, kw_only=True):
    """Tokens a call used; ``input`` excludes the cache-read and cache-write tokens."""

    input: int = 0
    output: int = 0
    cache_read: int = 0
    cache_write: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            input=self.input + other.input,
            output=self.output + other.output,
            cache_read=self.cache_read + other.cache_read,
            cache_write=self.cache_write + other.cache_write,
        )


class Completion(msgspec.Struct, frozen=True, kw_only=True):
    """A finished answer, with the usage the provider reported."""

    text: str
    usage: Usage
    provider: str
    model: str
    tool_calls: tuple[ToolCall, ...] = ()
    stop_reason: str | None = None
    value: Any = None
    """The validated structured output, when an ``output_type`` was asked for."""
    degraded: Literal["kb_only", "human"] | None = None
    """Set when a budget or compliance limit replaced the model with a fallback answer."""
    offline: Literal["answer", "no_knowledge"] | None = None
    """Set when no model wrote the text but the offline provider: ``answer`` quotes the
    knowledge parts, ``no_knowledge`` says none of them answers the question."""


class TextDelta(msgspec.Struct, frozen=True, kw_only=True, tag="text"):
    """A piece of the answer's text."""

    text: str


class ToolCallDone(msgspec.Struct, frozen=True, kw_only=True, tag="tool_call"):
    """A tool call whose arguments are complete."""

    call: ToolCall


class Restarted(msgspec.Struct, frozen=True, kw_only=True, tag="restarted"):
    """The stream broke and another provider answers: discard text received so far."""

    reason: str


class Finished(msgspec.Struct, frozen=True, kw_only=True, tag="finished"):
    """The last event of every stream: the whole completion, usage included."""

    completion: Completion


StreamEvent = TextDelta | ToolCallDone | Restarted | Finished
