"""Each provider against the fake server through the official SDKs, unmodified."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from bpract.llm.errors import (
    MalformedResponseError,
    ProviderRejectedError,
    ProviderTimeoutError,
    ProviderUnavailableError,
    RateLimitedError,
)
from bpract.llm.providers.anthropic import AnthropicProvider
from bpract.llm.providers.base import Provider
from bpract.llm.providers.offline import NO_KNOWLEDGE, OFFLINE_PREFIX, OfflineProvider
from bpract.llm.providers.openai import OpenAIProvider
from bpract.llm.types import (
    ChatRequest,
    Finished,
    Message,
    SystemPart,
    TextDelta,
    Tool,
    ToolCall,
    ToolCallDone,
    Usage,
)
from fakes.llm_server import FakeLLMServer, Fault, Reply

KEY = "sk-test-provider-key-0001"
REQUEST = ChatRequest(
    messages=(Message(role="user", content="Where is my card?"),),
    system=(
        SystemPart(text="You are the support assistant.", cacheable=True),
        SystemPart(text="Cards arrive in 3 days.", cacheable=True, kind="knowledge"),
        SystemPart(text="Visitor is on /pricing."),
    ),
    max_tokens=64,
)
TOOL = Tool(
    name="track_card",
    description="Find a card delivery.",
    parameters={"type": "object", "properties": {"order": {"type": "string"}}},
)


Make = Callable[[str], Provider]


@pytest.fixture
async def make(fake: FakeLLMServer) -> AsyncIterator[Make]:
    made: list[Provider] = []

    def build(kind: str) -> Provider:
        if kind == "anthropic":
            p: Provider = AnthropicProvider("anthropic", api_key=KEY, base_url=fake.anthropic_url)
        elif kind == "openrouter":
            p = OpenAIProvider(
                "openrouter",
                api_key=KEY,
                base_url=fake.openai_url,
                headers={"HTTP-Referer": "https://shop.example", "X-Title": "BPract"},
                extra_body={"provider": {"zdr": True, "data_collection": "deny"}},
                cache_markers=True,
            )
        else:
            p = OpenAIProvider("openai", api_key=KEY, base_url=fake.openai_url)
        made.append(p)
        return p

    yield build
    for p in made:
        await p.aclose()


@pytest.fixture(params=["anthropic", "openai"])
def provider(request: pytest.FixtureRequest, make: Make) -> Provider:
    return make(request.param)


async def test_complete_text_and_usage(fake: FakeLLMServer, provider: Provider) -> None:
    fake.script(Reply(text="In three days.", input=100, output=5, cache_read=40))
    done = await provider.complete(REQUEST, model="m-fast", time_limit=5)
    assert done.text == "In three days."
    assert done.usage.output == 5
    assert done.usage.input == 100
    assert done.usage.cache_read == 40
    assert done.model == "m-fast"
    assert fake.requests[0].body["max_tokens"] == 64


async def test_stream_text_tools_and_usage(fake: FakeLLMServer, provider: Provider) -> None:
    fake.script(
        Reply(text="Let me look.", tool_calls=(("track_card", {"order": "A-17"}),), output=9)
    )
    request = ChatRequest(messages=REQUEST.messages, tools=(TOOL,))
    events = [e async for e in provider.stream(request, model="m", time_limit=5)]
    text = "".join(e.text for e in events if isinstance(e, TextDelta))
    assert text == "Let me look."
    calls = [e.call for e in events if isinstance(e, ToolCallDone)]
    assert [(c.name, c.arguments) for c in calls] == [("track_card", {"order": "A-17"})]
    last = events[-1]
    assert isinstance(last, Finished)
    assert last.completion.usage.output == 9
    assert last.completion.tool_calls == tuple(calls)


def _after_a_tool_call(**extra: Any) -> ChatRequest:
    """A request whose history holds a tool call and its result."""
    call = ToolCall(id="c1", name="track_card", arguments={"order": "A-17"})
    return ChatRequest(
        messages=(
            Message(role="user", content="Track A-17"),
            Message(role="assistant", content="", tool_calls=(call,)),
            Message(role="tool", content="shipped", tool_call_id="c1"),
        ),
        tools=(TOOL,),
        **extra,
    )


async def test_tool_results_go_back_in_each_format(fake: FakeLLMServer, provider: Provider) -> None:
    request = _after_a_tool_call()
    await provider.complete(request, model="m", time_limit=5)
    sent = str(fake.requests[0].body["messages"])
    assert "shipped" in sent
    assert "c1" in sent
    assert "tool_choice" not in fake.requests[0].body


async def test_tool_choice_none_keeps_the_tools_but_forbids_a_call(
    fake: FakeLLMServer, provider: Provider
) -> None:
    request = _after_a_tool_call(tool_choice="none")
    await provider.complete(request, model="m", time_limit=5)
    sent = fake.requests[0]
    anthropic = sent.path.endswith("/messages")
    assert sent.body["tool_choice"] == ({"type": "none"} if anthropic else "none")
    body = sent.body
    assert [t.get("name") or t["function"]["name"] for t in body["tools"]] == ["track_card"]


async def test_a_temperature_is_sent_to_openai_and_left_out_for_anthropic(
    fake: FakeLLMServer, provider: Provider
) -> None:
    warm = ChatRequest(messages=REQUEST.messages, temperature=0.2)
    done = await provider.complete(warm, model="m", time_limit=5)
    assert done.text == Reply().text
    sent = fake.requests[0]
    assert sent.body.get("temperature") == (None if sent.path.endswith("/messages") else 0.2)


async def test_anthropic_marks_the_cacheable_prefix(fake: FakeLLMServer, make: Make) -> None:
    await make("anthropic").complete(REQUEST, model="m", time_limit=5)
    seen = fake.requests[0]
    system = seen.body["system"]
    assert [("cache_control" in b) for b in system] == [False, True, False]
    assert seen.path == "/v1/messages"
    assert (
        seen.headers.get("authorization") == f"Bearer {KEY}" or seen.headers.get("x-api-key") == KEY
    )


async def test_openrouter_passes_preferences_and_headers(fake: FakeLLMServer, make: Make) -> None:
    provider = make("openrouter")
    await provider.complete(REQUEST, model="anthropic/claude", time_limit=5)
    seen = fake.requests[0]
    assert seen.body["provider"] == {"zdr": True, "data_collection": "deny"}
    assert seen.headers["x-title"] == "BPract"
    parts = seen.body["messages"][0]["content"]
    assert [("cache_control" in p) for p in parts] == [False, True, False]
    assert seen.headers["authorization"] == f"Bearer {KEY}"


async def test_structured_output_anthropic_forces_the_answer_tool(
    fake: FakeLLMServer, make: Make
) -> None:
    fake.script(Reply(text="", tool_calls=(("respond", {"reach_out": True}),)))
    request = ChatRequest(messages=REQUEST.messages, response_schema={"type": "object"})
    done = await make("anthropic").complete(request, model="m", time_limit=5)
    assert done.text == '{"reach_out": true}'
    assert done.tool_calls == ()
    assert fake.requests[0].body["tool_choice"] == {"type": "tool", "name": "respond"}


async def test_structured_output_openai_sends_a_json_schema(
    fake: FakeLLMServer, make: Make
) -> None:
    fake.script(Reply(text='{"reach_out": false}'))
    request = ChatRequest(messages=REQUEST.messages, response_schema={"type": "object"})
    done = await make("openai").complete(request, model="m", time_limit=5)
    assert done.text == '{"reach_out": false}'
    assert fake.requests[0].body["response_format"]["type"] == "json_schema"


async def test_openai_streams_ask_for_usage(fake: FakeLLMServer, make: Make) -> None:
    fake.script(Reply(text="hi", input=10, output=2, cache_read=30))
    provider = make("openai")
    events = [e async for e in provider.stream(REQUEST, model="m", time_limit=5)]
    assert fake.requests[0].body["stream_options"] == {"include_usage": True}
    last = events[-1]
    assert isinstance(last, Finished)
    assert last.completion.usage == Usage(input=10, output=2, cache_read=30)


async def test_anthropic_stream_usage_has_cache_tokens(fake: FakeLLMServer, make: Make) -> None:
    fake.script(Reply(text="hi there", input=11, output=4, cache_read=900, cache_write=300))
    events = [e async for e in make("anthropic").stream(REQUEST, model="m", time_limit=5)]
    last = events[-1]
    assert isinstance(last, Finished)
    assert last.completion.usage == Usage(input=11, output=4, cache_read=900, cache_write=300)


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Fault("status", status=429, retry_after="7"), RateLimitedError),
        (Fault("status", status=500), ProviderUnavailableError),
        (Fault("status", status=401), ProviderRejectedError),
        (Fault("timeout", delay=1.5), ProviderTimeoutError),
        (Fault("malformed"), MalformedResponseError),
    ],
)
async def test_faults_become_gateway_errors(
    fake: FakeLLMServer, provider: Provider, fault: Fault, error: type[Exception]
) -> None:
    fake.script(fault)
    with pytest.raises(error) as caught:
        await provider.complete(REQUEST, model="m", time_limit=0.5)
    if isinstance(caught.value, RateLimitedError):
        assert caught.value.retry_after == 7.0
    assert len(fake.requests) == 1  # the SDK's own retries are off


@pytest.mark.parametrize("fault", [Fault("cut", after_events=3), Fault("malformed")])
async def test_broken_streams_raise(fake: FakeLLMServer, provider: Provider, fault: Fault) -> None:
    fake.script(fault)
    with pytest.raises(MalformedResponseError):
        async for _ in provider.stream(REQUEST, model="m", time_limit=2):
            pass


async def test_offline_answers_from_knowledge_and_says_so() -> None:
    offline = OfflineProvider()
    done = await offline.complete(REQUEST, model="offline", time_limit=1)
    assert done.text == OFFLINE_PREFIX + "Cards arrive in 3 days."
    bare = ChatRequest(messages=REQUEST.messages)
    assert (await offline.complete(bare, model="offline", time_limit=1)).text == NO_KNOWLEDGE


async def test_offline_marks_its_answers_whatever_their_text() -> None:
    offline = OfflineProvider("local")
    events = [e async for e in offline.stream(REQUEST, model="offline", time_limit=1)]
    assert [type(e) for e in events] == [Finished]  # nothing to show before the mark
    assert events[0].completion.offline == "answer"  # type: ignore[union-attr]
    bare = ChatRequest(messages=REQUEST.messages)
    assert (await offline.complete(bare, model="offline", time_limit=1)).offline == "no_knowledge"


async def test_offline_refuses_structured_output() -> None:
    request = ChatRequest(messages=REQUEST.messages, response_schema={"type": "object"})
    with pytest.raises(ProviderRejectedError):
        await OfflineProvider().complete(request, model="offline", time_limit=1)
