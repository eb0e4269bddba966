"""Chat Completions via the ``openai`` SDK: OpenAI, OpenRouter, any compatible server."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from typing import Any

import httpx2
import openai as sdk

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

__all__ = ["OPENROUTER_URL", "OpenAIProvider"]

OPENROUTER_URL = "https://openrouter.ai/api/v1"


class OpenAIProvider(Provider):
    """A Chat Completions server.

    ``extra_body`` is sent with every request (OpenRouter's ``provider``
    preferences: ``{"zdr": true, "data_collection": "deny"}``); ``cache_markers``
    adds ``cache_control`` to cacheable system parts, which OpenRouter forwards
    to providers that cache explicitly (OpenAI itself caches prefixes on its own).
    """

    def __init__(
        self,
        name: str,
        *,
        api_key: str,
        base_url: str | None = None,
        headers: Mapping[str, str] | None = None,
        extra_body: Mapping[str, Any] | None = None,
        cache_markers: bool = False,
        http_client: httpx2.AsyncClient | None = None,
    ) -> None:
        self.name = name
        self._extra_body = dict(extra_body or {})
        self._cache_markers = cache_markers
        self._client = sdk.AsyncOpenAI(
            api_key=api_key,
            base_url=base_url,
            default_headers=dict(headers or {}),
            max_retries=0,  # the gateway retries, honouring Retry-After
            http_client=http_client,
        )

    def __repr__(self) -> str:
        return f"OpenAIProvider(name={self.name!r})"

    async def complete(self, request: ChatRequest, *, model: str, time_limit: float) -> Completion:
        try:
            answer = await self._client.chat.completions.create(
                **self._params(request, model), timeout=time_limit
            )
        except SDK_ERRORS as exc:
            raise provider_error(self.name, exc) from None
        if not answer.choices:
            raise MalformedResponseError(self.name, "answer has no choices")
        choice = answer.choices[0]
        calls = [
            _call(self.name, c.id, c.function.name, c.function.arguments)
            for c in choice.message.tool_calls or ()
            if c.type == "function"
        ]
        return Completion(
            text=choice.message.content or "",
            usage=_usage(answer.usage),
            provider=self.name,
            model=model,
            tool_calls=tuple(calls),
            stop_reason=choice.finish_reason,
        )

    async def stream(
        self, request: ChatRequest, *, model: str, time_limit: float
    ) -> AsyncIterator[StreamEvent]:
        reader = _StreamReader(self.name, model)
        params = self._params(request, model) | {
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        started = False
        try:
            chunks = await self._client.chat.completions.create(**params, timeout=time_limit)
            started = True
            async for chunk in chunks:
                for out in reader.feed(chunk):
                    yield out
        except SDK_ERRORS as exc:
            raise provider_error(self.name, exc, mid_stream=started) from None
        for out in reader.finish():
            yield out

    async def aclose(self) -> None:
        await self._client.close()

    def _params(self, request: ChatRequest, model: str) -> dict[str, Any]:
        params: dict[str, Any] = {
            "model": model,
            "max_tokens": request.max_tokens,
            "messages": self._system(request) + [_message(m) for m in request.messages],
        }
        if request.tools:
            params["tools"] = [
                {
                    "type": "function",
                    "function": {
                        "name": t.name,
                        "description": t.description,
                        "parameters": t.parameters,
                    },
                }
                for t in request.tools
            ]
            if request.tool_choice == "none":
                params["tool_choice"] = "none"
        if request.response_schema is not None:
            params["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": request.response_name, "schema": request.response_schema},
            }
        if request.temperature is not None:
            params["temperature"] = request.temperature
        if self._extra_body:
            params["extra_body"] = self._extra_body
        return params

    def _system(self, request: ChatRequest) -> list[dict[str, Any]]:
        if not request.system:
            return []
        parts: list[dict[str, Any]] = [{"type": "text", "text": p.text} for p in request.system]
        cacheable = [i for i, p in enumerate(request.system) if p.cacheable]
        if self._cache_markers and cacheable:
            parts[cacheable[-1]]["cache_control"] = {"type": "ephemeral"}
        return [{"role": "system", "content": parts}]


class _StreamReader:
    """Folds chunks into text deltas, tool calls and a final completion."""

    def __init__(self, provider: str, model: str) -> None:
        self.provider, self.model = provider, model
        self.text: list[str] = []
        self.tools: dict[int, dict[str, Any]] = {}
        self.usage = Usage()
        self.stop_reason: str | None = None

    def feed(self, chunk: Any) -> list[StreamEvent]:
        if chunk.usage is not None:
            self.usage = _usage(chunk.usage)
        out: list[StreamEvent] = []
        for choice in chunk.choices:
            delta = choice.delta
            if delta.content:
                self.text.append(delta.content)
                out.append(TextDelta(text=delta.content))
            for part in delta.tool_calls or ():
                slot = self.tools.setdefault(part.index, {"id": "", "name": "", "args": []})
                slot["id"] = part.id or slot["id"]
                if part.function is not None:
                    slot["name"] = part.function.name or slot["name"]
                    slot["args"].append(part.function.arguments or "")
            if choice.finish_reason:
                self.stop_reason = choice.finish_reason
        return out

    def finish(self) -> list[StreamEvent]:
        if self.stop_reason is None:
            raise MalformedResponseError(self.provider, "stream ended before finish_reason")
        calls = [
            _call(self.provider, t["id"], t["name"], "".join(t["args"]))
            for _, t in sorted(self.tools.items())
        ]
        completion = Completion(
            text="".join(self.text),
            usage=self.usage,
            provider=self.provider,
            model=self.model,
            tool_calls=tuple(calls),
            stop_reason=self.stop_reason,
        )
        return [*(ToolCallDone(call=c) for c in calls), Finished(completion=completion)]


def _call(provider: str, call_id: str, name: str, arguments: str) -> ToolCall:
    try:
        parsed = json.loads(arguments or "{}")
    except ValueError:
        raise MalformedResponseError(provider, "tool arguments are not JSON") from None
    return ToolCall(id=call_id, name=name, arguments=parsed)


def _usage(raw: Any) -> Usage:
    if raw is None:
        return Usage()
    details = getattr(raw, "prompt_tokens_details", None)
    cached = (getattr(details, "cached_tokens", None) or 0) if details is not None else 0
    return Usage(
        input=max(0, (raw.prompt_tokens or 0) - cached),
        output=raw.completion_tokens or 0,
        cache_read=cached,
    )


def _message(m: Message) -> dict[str, Any]:
    if m.role == "tool":
        return {"role": "tool", "tool_call_id": m.tool_call_id, "content": m.content}
    out: dict[str, Any] = {"role": m.role, "content": m.content}
    if m.tool_calls:
        out["tool_calls"] = [
            {
                "id": c.id,
                "type": "function",
                "function": {"name": c.name, "arguments": json.dumps(c.arguments)},
            }
            for c in m.tool_calls
        ]
    return out
