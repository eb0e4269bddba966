"""Anthropic Messages API through the official ``anthropic`` SDK, with prompt caching."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import anthropic as sdk
import httpx2

from bpract.llm.errors import MalformedResponseError
from bpract.llm.providers.base import Provider
from bpract.llm.providers.faults import SDK_ERRORS, provider_error
from bpract.llm.types import (
    ChatRequest,
    Completion,
    Finished,
    Message,
    StreamEvent,
    TextDelta,
    ToolCall,
    ToolCallDone,
    Usage,
)

__all__ = ["AnthropicProvider"]

_EPHEMERAL = {"type": "ephemeral"}


class AnthropicProvider(Provider):
    """Claude models; cacheable system parts get a ``cache_control`` breakpoint."""

    def __init__(
        self,
        name: str,
        *,
        api_key: str,
        base_url: str | None = None,
        http_client: httpx2.AsyncClient | None = None,
    ) -> None:
        self.name = name
        # The gateway owns retries (it honours Retry-After and falls back), so the SDK's are off.
        self._client = sdk.AsyncAnthropic(
            api_key=api_key, base_url=base_url, max_retries=0, http_client=http_client
        )

    def __repr__(self) -> str:
        return f"AnthropicProvider(name={self.name!r})"

    async def complete(self, request: ChatRequest, *, model: str, time_limit: float) -> Completion:
        try:
            message = await self._client.messages.create(
                **_params(request, model), timeout=time_limit
            )
        except SDK_ERRORS as exc:
            raise provider_error(self.name, exc) from None
        calls = [
            ToolCall(id=b.id, name=b.name, arguments=dict(b.input))
            for b in message.content
            if b.type == "tool_use"
        ]
        text = "".join(b.text for b in message.content if b.type == "text")
        usage = _usage(message.usage)
        return _completion(
            self.name,
            model=model,
            request=request,
            text=text,
            calls=calls,
            usage=usage,
            stop_reason=message.stop_reason,
        )

    async def stream(
        self, request: ChatRequest, *, model: str, time_limit: float
    ) -> AsyncIterator[StreamEvent]:
        reader = _StreamReader(self.name, model, request)
        started = False
        try:
            events = await self._client.messages.create(
                **_params(request, model), stream=True, timeout=time_limit
            )
            started = True
            async for event in events:
                for out in reader.feed(event):
                    yield out
        except SDK_ERRORS as exc:
            raise provider_error(self.name, exc, mid_stream=started) from None
        yield reader.finish()

    async def aclose(self) -> None:
        await self._client.close()


class _StreamReader:
    """Folds raw stream events into text deltas, tool calls and a final completion."""

    def __init__(self, provider: str, model: str, request: ChatRequest) -> None:
        self.provider, self.model, self.request = provider, model, request
        self.text: list[str] = []
        self.calls: list[ToolCall] = []
        self.usage = Usage()
        self.stop_reason: str | None = None
        self.done = False
        self._tool: dict[str, Any] | None = None

    def feed(self, event: Any) -> list[StreamEvent]:
        kind = event.type
        if kind == "message_start":
            self.usage = _usage(event.message.usage)
        elif kind == "content_block_start" and event.content_block.type == "tool_use":
            block = event.content_block
            self._tool = {"id": block.id, "name": block.name, "json": []}
        elif kind == "content_block_delta":
            return self._delta(event.delta)
        elif kind == "content_block_stop" and self._tool is not None:
            return self._close_tool()
        elif kind == "message_delta":
            self.stop_reason = event.delta.stop_reason
            self.usage = _merge_delta_usage(self.usage, event.usage)
        elif kind == "message_stop":
            self.done = True
        return []

    def _delta(self, delta: Any) -> list[StreamEvent]:
        if delta.type == "text_delta":
            self.text.append(delta.text)
            return [TextDelta(text=delta.text)]
        if delta.type == "input_json_delta" and self._tool is not None:
            self._tool["json"].append(delta.partial_json)
        return []

    def _close_tool(self) -> list[StreamEvent]:
        assert self._tool is not None
        raw = "".join(self._tool["json"]) or "{}"
        try:
            arguments = json.loads(raw)
        except ValueError:
            raise MalformedResponseError(self.provider, "tool arguments are not JSON") from None
        call = ToolCall(id=self._tool["id"], name=self._tool["name"], arguments=arguments)
        self._tool = None
        self.calls.append(call)
        if self.request.response_schema is not None and call.name == self.request.response_name:
            return []
        return [ToolCallDone(call=call)]

    def finish(self) -> Finished:
        if not self.done:
            raise MalformedResponseError(self.provider, "stream ended before message_stop")
        text = "".join(self.text)
        completion = _completion(
            self.provider,
            model=self.model,
            request=self.request,
            text=text,
            calls=self.calls,
            usage=self.usage,
            stop_reason=self.stop_reason,
        )
        return Finished(completion=completion)


def _completion(
    provider: str,
    *,
    model: str,
    request: ChatRequest,
    text: str,
    calls: list[ToolCall],
    usage: Usage,
    stop_reason: str | None,
) -> Completion:
    if request.response_schema is not None:
        # Structured output rides on a forced tool call; its input is the answer.
        answer = [c for c in calls if c.name == request.response_name]
        calls = [c for c in calls if c.name != request.response_name]
        if answer:
            text = json.dumps(answer[0].arguments)
    return Completion(
        text=text,
        usage=usage,
        provider=provider,
        model=model,
        tool_calls=tuple(calls),
        stop_reason=stop_reason,
    )


def _usage(raw: Any) -> Usage:
    return Usage(
        input=raw.input_tokens or 0,
        output=raw.output_tokens or 0,
        cache_read=getattr(raw, "cache_read_input_tokens", None) or 0,
        cache_write=getattr(raw, "cache_creation_input_tokens", None) or 0,
    )


def _merge_delta_usage(usage: Usage, raw: Any) -> Usage:
    """``message_delta`` carries the final output count and may restate the input counts."""
    return Usage(
        input=getattr(raw, "input_tokens", None) or usage.input,
        output=raw.output_tokens or usage.output,
        cache_read=getattr(raw, "cache_read_input_tokens", None) or usage.cache_read,
        cache_write=getattr(raw, "cache_creation_input_tokens", None) or usage.cache_write,
    )


def _params(request: ChatRequest, model: str) -> dict[str, Any]:
    params: dict[str, Any] = {
        "model": model,
        "max_tokens": request.max_tokens,
        "messages": _messages(request.messages),
    }
    if request.system:
        params["system"] = _system(request)
    tools = [
        {"name": t.name, "description": t.description, "input_schema": t.parameters}
        for t in request.tools
    ]
    if request.response_schema is not None:
        tools.append(
            {
                "name": request.response_name,
                "description": "Give the answer in this exact shape.",
                "input_schema": request.response_schema,
            }
        )
        params["tool_choice"] = {"type": "tool", "name": request.response_name}
    elif tools and request.tool_choice == "none":
        params["tool_choice"] = {"type": "none"}
    if tools:
        params["tools"] = tools
    # No ``temperature``: this SDK's Messages API no longer takes one (the model's own applies).
    return params


def _system(request: ChatRequest) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = [{"type": "text", "text": p.text} for p in request.system]
    cacheable = [i for i, p in enumerate(request.system) if p.cacheable]
    if cacheable:
        # One breakpoint after the last cacheable part caches the whole prefix before it.
        blocks[cacheable[-1]]["cache_control"] = _EPHEMERAL
    return blocks


def _messages(messages: tuple[Message, ...]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for m in messages:
        role = "user" if m.role == "tool" else m.role
        blocks = _blocks(m)
        if out and out[-1]["role"] == role:
            out[-1]["content"].extend(blocks)
        else:
            out.append({"role": role, "content": blocks})
    return out


def _blocks(m: Message) -> list[dict[str, Any]]:
    if m.role == "tool":
        return [{"type": "tool_result", "tool_use_id": m.tool_call_id, "content": m.content}]
    blocks: list[dict[str, Any]] = [{"type": "text", "text": m.content}] if m.content else []
    blocks += [
        {"type": "tool_use", "id": c.id, "name": c.name, "input": c.arguments} for c in m.tool_calls
    ]
    return blocks
