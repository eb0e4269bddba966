"""Gateway overhead: routing, reservation and accounting added to a model call.

In one run, against the fake provider on 127.0.0.1 (in its own process, so its
threads do not contend for this process's GIL): the official Anthropic SDK
called directly, and the same call through ``Gateway.complete`` (route →
reserve → call → settle + ledger + decision log in SQLite).  Calls alternate so
both see the same machine noise.  Also the gateway's bookkeeping alone, with the
in-process offline provider (no network).  Budget: <= 2 ms at p50.

    uv run python bench/llm_overhead.py [calls]
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import anthropic

from bpract.features import MIGRATIONS
from bpract.llm.gateway import Gateway
from bpract.llm.policy import load_policy
from bpract.llm.providers.registry import ProviderPool
from bpract.llm.types import ChatRequest, Message, SystemPart
from bpract.store import Database, migrate

KEY = "sk-bench"
REQUEST = ChatRequest(
    messages=(Message(role="user", content="When will my new card arrive?"),),
    system=(
        SystemPart(text="Cards arrive within 5 working days.", cacheable=True, kind="knowledge"),
    ),
    max_tokens=64,
)


def pct(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))] * 1000


def site(db: Database) -> None:
    db.run_sync(
        lambda c: migrate(
            c, tuple(m for m in MIGRATIONS if m.feature in ("sites", "visitors", "llm"))
        )
    )
    db.run_sync(
        lambda c: c.execute(
            "INSERT INTO sites (id, public_key, name, allowed_origins, identity_secret, created_at)"
            " VALUES (1, 'pk_bench', 'bench', '[]', 's', '2026-01-01')"
        )
    )


FAKE = Path(__file__).resolve().parents[1] / "tests" / "fakes" / "llm_server.py"


async def run(calls: int, db: Database, base: str) -> None:
    policy = load_policy(
        {
            "providers": {
                "a": {"kind": "anthropic", "base_url": base, "api_key": KEY},
                "off": {"kind": "offline"},
            },
            "tiers": {"fast": ["a:claude-haiku-4-5"]},
        }
    )
    offline_policy = load_policy(
        {"providers": {"off": {"kind": "offline"}}, "tiers": {"fast": ["off:offline"]}}
    )
    gateway = Gateway(db, policy, providers=ProviderPool({}))
    offline = Gateway(db, offline_policy, providers=ProviderPool({}))
    direct = anthropic.AsyncAnthropic(api_key=KEY, base_url=base, max_retries=0)
    system = [
        {"type": "text", "text": REQUEST.system[0].text, "cache_control": {"type": "ephemeral"}}
    ]

    async def sdk() -> None:
        await direct.messages.create(
            model="claude-haiku-4-5",
            max_tokens=64,
            system=system,
            messages=[{"role": "user", "content": REQUEST.messages[0].content}],
        )

    async def door() -> None:
        await gateway.complete(task="summary", tenant=1, request=REQUEST, conversation="bench")

    async def bookkeeping() -> None:
        await offline.complete(task="summary", tenant=1, request=REQUEST, conversation="bench")

    times: dict[str, list[float]] = {"sdk": [], "gateway": [], "offline": []}
    for fn in (sdk, door, bookkeeping):  # warm up connections, caches and the DB
        for _ in range(20):
            await fn()
    for pairs in ((("sdk", sdk), ("gateway", door)), (("offline", bookkeeping),)):
        for _ in range(calls):
            for name, fn in pairs:
                start = time.perf_counter()
                await fn()
                times[name].append(time.perf_counter() - start)
    await direct.close()
    await gateway.aclose()
    await offline.aclose()
    for name, label in (
        ("sdk", "SDK direct to fake"),
        ("gateway", "Gateway to fake"),
        ("offline", "Gateway, offline provider"),
    ):
        t = times[name]
        print(
            f"{label:<28} p50 {pct(t, 0.5):6.2f} ms  p90 {pct(t, 0.9):6.2f} ms  mean "
            f"{statistics.mean(t) * 1000:6.2f} ms"
        )
    overhead = pct(times["gateway"], 0.5) - pct(times["sdk"], 0.5)
    paired = [g - s for g, s in zip(times["gateway"], times["sdk"], strict=True)]
    print(
        f"overhead at p50: {overhead:.2f} ms (median of paired differences "
        f"{statistics.median(paired) * 1000:.2f} ms); budget 2 ms: "
        f"{'met' if overhead <= 2 else 'MISSED'}"
    )


def main() -> None:
    calls = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    with (
        tempfile.TemporaryDirectory() as folder,
        subprocess.Popen(
            [sys.executable, str(FAKE)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        ) as server,
    ):
        assert server.stdout is not None and server.stdin is not None
        base = f"http://127.0.0.1:{server.stdout.readline().strip()}"
        db = Database(Path(folder) / "bench.db")
        site(db)
        try:
            asyncio.run(run(calls, db, base))
        finally:
            db.close()
            server.stdin.close()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
