"""The trigger decider's own cost: the time it adds to a model call, tokens and dollars a decision.

In one run, against the fake provider on 127.0.0.1: the gateway called with a
ready-made decision request, and ``LLMDecider.decide`` doing the whole job (the
visitor's journey read from SQLite with 20 recent signals, the prompt built, the
same gateway call, the guardrails).  Calls alternate so both see the same noise.
Then the prompt's size, and what a decision costs at the price table's prices
for each fast-tier model, with and without the cacheable prefix read from cache.

    uv run python bench/decider_cost.py [calls]
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import apsw

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from bpract.features import MIGRATIONS
from bpract.llm.gateway import Gateway, estimate_input_tokens
from bpract.llm.policy import Policies, load_policy
from bpract.llm.prices import PriceTable, usd
from bpract.llm.providers.registry import ProviderPool
from bpract.llm.types import ChatRequest, Usage
from bpract.store import Database, migrate
from bpract.triggers.decider import DecisionRequest
from bpract.triggers.journey import load_journey
from bpract.triggers.llm_decider import TASK, LLMDecider
from bpract.triggers.prompt import Outreach, decision_request
from bpract.triggers.spec import load_ruleset
from fakes.llm_server import FakeLLMServer, Reply

REPO = Path(__file__).resolve().parents[1]
MODEL = "claude-haiku-4-5"
OUTPUT_TOKENS = 60
CONTEXT = {
    "page": "/pricing",
    "title": "Club plans and prices",
    "signals": {"attentive_seconds": 61.0, "scroll_percent": 80, "idle_seconds": 2.0},
    "cart": {"items": 2, "value": 89.0, "currency": "EUR"},
    "journey": ["/", "/products/linen-shirt", "/products/chinos", "/cart", "/pricing"],
    "session": 3,
    "visitor": "returning",
    "device": "desktop",
    "utm_source": "newsletter",
    "referrer": "",
}
ANSWER = {
    "engage": True,
    "message": "Torn between Club Basic and Plus? Paid yearly, Basic is €7.20 a month.",
    "cta_label": "See annual prices",
    "cta_url": "/pricing?billing=annual",
    "offer": "annual-20",
    "reason": "returning visitor reading the plans with a full cart",
}


def pct(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))] * 1000


def seed(db: Database) -> None:
    def tx(conn: apsw.Connection) -> None:
        conn.execute(
            "INSERT INTO sites (id, public_key, name, allowed_origins, identity_secret, created_at)"
            " VALUES (1, 'pk_bench', 'bench', '[]', 's', '2026-01-01')"
        )
        for n in range(40):
            data = json.dumps({"path": f"/products/p{n % 7}", "seconds": 15 + n})
            conn.execute(
                "INSERT INTO signals (site_id, visitor, session, name, at_ms, data)"
                " VALUES (1, 'v_bench', 'n_1', 'dwell', ?, ?)",
                (n, data),
            )

    db.run_sync(lambda c: migrate(c, MIGRATIONS))
    db.run_sync(lambda conn: db_tx(conn, tx))


def db_tx(conn: apsw.Connection, fn: Callable[[apsw.Connection], None]) -> None:
    with conn:
        fn(conn)


async def run(calls: int, db: Database, fake: FakeLLMServer) -> None:
    rule = next(
        r
        for r in load_ruleset((REPO / "demo_site" / "rules.yaml").read_text()).rules
        if r.id == "pricing-annual-offer"
    )
    policy = load_policy(
        {
            "providers": {"a": {"kind": "anthropic", "base_url": fake.anthropic_url}},
            "tiers": {"fast": [f"a:{MODEL}"]},
            "retry": {"attempts": 1},
        }
    )
    gateway = Gateway(db, Policies(policy), providers=ProviderPool({"ANTHROPIC_API_KEY": "sk"}))
    decider = LLMDecider(gateway, db)
    request = DecisionRequest(site_id=1, rule=rule, visitor="v_bench", context=CONTEXT, lang="en")
    journey = db.run_sync(lambda c: load_journey(c, 1, "v_bench", CONTEXT))
    ready = decision_request(rule, journey, lang="en", passages=[])
    fake.always(MODEL, Reply(text="", tool_calls=(("respond", ANSWER),), input=900, output=60))

    async def direct() -> None:
        await gateway.complete(
            task=TASK, tenant=1, rule=rule.id, request=ready, output_type=Outreach
        )

    async def decide() -> None:
        decision = await decider.decide(request)
        assert decision.engage and decision.decided_by == "llm"

    times: dict[str, list[float]] = {"gateway": [], "decider": []}
    for fn in (direct, decide):
        for _ in range(20):
            await fn()
    for _ in range(calls):
        for name, fn in (("gateway", direct), ("decider", decide)):
            start = time.perf_counter()
            await fn()
            times[name].append(time.perf_counter() - start)
    await decider.aclose()
    await gateway.aclose()
    for name, label in (
        ("gateway", "gateway call, request ready"),
        ("decider", "LLMDecider.decide"),
    ):
        t = times[name]
        print(f"{label:<30} p50 {pct(t, 0.5):6.2f} ms  p90 {pct(t, 0.9):6.2f} ms")
    paired = [d - g for d, g in zip(times["decider"], times["gateway"], strict=True)]
    own = statistics.median(paired) * 1000
    print(f"decider's own work (median of paired differences): {own:.2f} ms")
    tokens(ready)


def tokens(ready: ChatRequest) -> None:
    prefix = sum(len(p.text) for p in ready.system if p.cacheable) // 4
    rest = sum(len(m.content) for m in ready.messages) // 4 + 200  # + the output schema
    print(
        f"\nprompt ≈ {prefix} cacheable + {rest} other input tokens (4 chars a token);"
        f" reserved per call: {estimate_input_tokens(ready)} in + {ready.max_tokens} out"
    )
    prices = PriceTable.load()
    for model in ("claude-haiku-4-5", "gpt-4.1-mini", "gpt-4.1-nano"):
        price = prices.price("", model)
        cold = price.cost(Usage(input=prefix + rest, output=OUTPUT_TOKENS))
        warm = price.cost(Usage(input=rest, cache_read=prefix, output=OUTPUT_TOKENS))
        print(
            f"{model:<18} ${usd(cold):.6f} a decision, ${usd(warm):.6f} with the prefix cached;"
            f" 10,000 decisions ${usd(cold) * 10_000:.2f}"
        )


def main() -> None:
    calls = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    with tempfile.TemporaryDirectory() as folder, FakeLLMServer() as fake:
        db = Database(Path(folder) / "bench.db")
        try:
            seed(db)
            asyncio.run(run(calls, db, fake))
        finally:
            db.close()


if __name__ == "__main__":
    main()
