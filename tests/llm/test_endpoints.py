"""Model endpoints through the guarded client: the configured origin is trusted, nothing else."""

from __future__ import annotations

import pytest

from bpract.llm.errors import ProviderRejectedError
from bpract.llm.policy import ProviderSpec
from bpract.llm.providers.anthropic import AnthropicProvider
from bpract.llm.providers.openai import OpenAIProvider
from bpract.llm.providers.registry import ProviderPool, http_client_for
from bpract.llm.types import ChatRequest, Message
from bpract.net import NetSettings, TargetRefusedError, guarded_http
from fakes.llm_server import FakeLLMServer, Reply

ASK = ChatRequest(messages=(Message(role="user", content="Hello?"),), max_tokens=16)
KEY = "sk-test-endpoint-key-0001"


async def test_a_configured_loopback_endpoint_is_trusted(fake: FakeLLMServer) -> None:
    fake.always("gpt-4.1-mini", Reply(text="Hi."))
    pool = ProviderPool(env={"K": KEY}, net=NetSettings())
    spec = ProviderSpec(kind="compatible", base_url=fake.openai_url, api_key_env="K")
    provider = pool.get("local", spec)
    answer = await provider.complete(ASK, model="gpt-4.1-mini", time_limit=5)
    await pool.aclose()
    assert answer.text == "Hi."


async def test_only_that_origin_is_trusted(fake: FakeLLMServer) -> None:
    spec = ProviderSpec(kind="compatible", base_url=f"http://127.0.0.1:{fake.port}/v1")
    http = http_client_for(spec, {}, NetSettings())
    assert (await http.post(f"{fake.openai_url}/chat/completions", json={})).status_code
    with pytest.raises(TargetRefusedError, match=r"127\.0\.0\.1 is a loopback address"):
        await http.get(f"http://127.0.0.1:{fake.port + 1}/")
    with pytest.raises(TargetRefusedError, match=r"169\.254\.169\.254 is a link-local"):
        await http.get("http://169.254.169.254/latest/meta-data/")
    await http.aclose()


@pytest.mark.parametrize("kind", ["anthropic", "openai"])
async def test_a_refused_endpoint_is_a_rejection_not_an_outage(
    fake: FakeLLMServer, kind: str
) -> None:
    """An endpoint the guard refuses (here: loopback that nobody configured for this client)
    is rejected with the guard's reason, and not retried as if the provider were down."""
    http = guarded_http(NetSettings())
    provider = (
        AnthropicProvider("a", api_key=KEY, base_url=fake.anthropic_url, http_client=http)
        if kind == "anthropic"
        else OpenAIProvider("o", api_key=KEY, base_url=fake.openai_url, http_client=http)
    )
    with pytest.raises(ProviderRejectedError, match="loopback address"):
        await provider.complete(ASK, model="m", time_limit=5)
    await provider.aclose()
    assert fake.requests == []
