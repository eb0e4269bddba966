"""Routing quality and cost on banking77 and NLU++ banking (PolyAI, CC BY 4.0).

The complexity router sends each query to a tier.  NLU++ annotates several
intents and slots per utterance: "needs the capable tier" is proxied by three or
more intent labels, or any slot to fill.  Costs use the bundled price table for
a typical chat answer (a cached knowledge-base prefix, the query, an answer).

    uv run python bench/llm_routing.py
"""

from __future__ import annotations

import collections
import csv
import glob
import json
from pathlib import Path

from bpract.llm.complexity import estimate
from bpract.llm.prices import PriceTable, usd
from bpract.llm.types import Usage

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "banking77"
MODELS = {
    "fast": "claude-haiku-4-5",
    "capable": "claude-sonnet-4-6",
    "reasoning": "claude-opus-4-6",
}
KB_PREFIX_TOKENS = 1500  # cached knowledge-base context read on each call
PROMPT_TOKENS = 300  # instructions not cached + history
ANSWER_TOKENS = 180


def call_cost(tier: str, query: str) -> int:
    usage = Usage(
        input=PROMPT_TOKENS + len(query) // 4, output=ANSWER_TOKENS, cache_read=KB_PREFIX_TOKENS
    )
    return PriceTable.load().price("anthropic", MODELS[tier]).cost(usage)


def report(name: str, queries: list[str], proxy: list[bool] | None) -> None:
    tiers = [estimate(q).tier for q in queries]
    share = collections.Counter(tiers)
    print(f"\n{name}: {len(queries)} queries")
    for tier in ("fast", "capable", "reasoning"):
        print(f"  {tier:<9} {share[tier] / len(queries):6.1%}")
    routed = sum(call_cost(t, q) for t, q in zip(tiers, queries, strict=True))
    capable = sum(call_cost("capable", q) for q in queries)
    print(
        f"  cost routed ${usd(routed):.4f} vs all-capable ${usd(capable):.4f}"
        f" ({routed / capable:.1%} of it)"
    )
    if proxy is None:
        return
    up = [t != "fast" for t in tiers]
    agree = sum(a == b for a, b in zip(up, proxy, strict=True)) / len(up)
    tp = sum(a and b for a, b in zip(up, proxy, strict=True))
    precision = tp / max(1, sum(up))
    recall = tp / max(1, sum(proxy))
    print(f"  proxy 'needs capable': {sum(proxy) / len(proxy):.1%} of queries")
    print(f"  agreement {agree:.1%}  precision {precision:.1%}  recall {recall:.1%}")


def main() -> None:
    with (DATA / "test.csv").open(encoding="utf-8") as f:
        banking = [row["text"] for row in csv.DictReader(f)]
    report("banking77 test (one intent each)", banking, None)
    rows = []
    for path in sorted(glob.glob(str(DATA / "nlupp_banking" / "fold*.json"))):
        rows += json.loads(Path(path).read_text(encoding="utf-8"))
    texts = [r["text"] for r in rows]
    proxy = [len(r.get("intents", [])) >= 3 or bool(r.get("slots")) for r in rows]
    report("NLU++ banking (all folds)", texts, proxy)


if __name__ == "__main__":
    main()
