"""Chat time to first token: our WebSocket path against the fake provider's own, same run.

The fake LLM provider runs in its own process. For each question, alternately:
(a) the OpenAI SDK streams straight from the fake: time to the first content delta;
(b) a visitor sends a ``message`` frame over ``/v1/visitor`` to a real ``bpract serve``
    whose gateway calls the same fake: time to the first ``reply_delta``.
Our overhead is (b) − (a): storage, retrieval (query embedding, BM25, vectors), prompt,
routing, budget reservation, and the channel hop to the socket. Budget: ≤ 30 ms p50.

    uv run python bench/chat_ttft.py [messages]        # default 60
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import openai
from websockets.asyncio.client import connect

from _support import Row, bpract_serve, machine, median, percentile, print_table

REPO = Path(__file__).resolve().parents[1]
FAKE = REPO / "tests" / "fakes" / "llm_server.py"
ORIGIN = "http://127.0.0.1:8765"
BUDGET_MS = 30.0
QUESTIONS = (
    "How long can I pause my membership?",
    "How long does a refund take?",
    "Which payment methods do you accept?",
    "How do I return an item?",
    "Is there a fee to switch plan?",
    "What does Club Plus include?",
    "How do I track my order?",
    "Can I change my delivery date?",
    "What happens when I cancel my membership?",
    "How much is express delivery?",
    "What size should I order for trousers?",
    "Can I exchange a jumper for another size?",
)


def _bpract(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "bpract", *args], check=True, capture_output=True, text=True
    )
    return done.stdout


def help_database(folder: Path) -> tuple[Path, str]:
    """A database whose one site has the demo help centre indexed (cached across runs)."""
    from bpract.demo import stage_help_articles

    cache = REPO / ".bpract" / "bench"
    fingerprint = stage_help_articles(REPO / "demo_site" / "site" / "help", cache / "help")
    cached = cache / f"chat-help-{fingerprint[:16]}.db"
    if not cached.exists():
        print("indexing the demo help centre (first run only)…", flush=True)
        building = cache / "building.db"
        for old in cache.glob("building.db*"):
            old.unlink()
        site = json.loads(
            _bpract(
                "sites",
                "add",
                "--db",
                str(building),
                "--name",
                "bench",
                "--origin",
                ORIGIN,
                "--json",
            )
        )
        _bpract(
            "kb", "add", str(cache / "help"), "--site", site["public_key"], "--db", str(building)
        )
        building.rename(cached)
    db = folder / "bench.db"
    shutil.copy(cached, db)
    key = json.loads(_bpract("sites", "list", "--db", str(db), "--json"))[0]["public_key"]
    return db, str(key)


async def sdk_first_token(client: openai.AsyncOpenAI, question: str) -> float:
    began = time.perf_counter()
    stream = await client.chat.completions.create(
        model="gpt-4.1-mini", messages=[{"role": "user", "content": question}], stream=True
    )
    first = None
    async for chunk in stream:
        if first is None and chunk.choices and chunk.choices[0].delta.content:
            first = time.perf_counter() - began
    assert first is not None
    return first


class Visitor:
    """One visitor socket; a fresh visitor every few questions keeps prompts short."""

    def __init__(self, url: str, key: str) -> None:
        self.url, self.key, self.ws, self.seq = url, key, None, 0

    async def open(self, n: int) -> None:
        self.ws = await connect(self.url, additional_headers={"Origin": ORIGIN})
        hello = {"t": "hello", "v": 1, "site": self.key, "visitor": f"v_bench{n:015d}",
                 "stream": f"s_bench{n:015d}", "lang": "en"}  # fmt: skip
        await self.ws.send(json.dumps(hello))
        assert json.loads(await self.ws.recv())["t"] == "welcome"
        self.seq = 0

    async def first_delta(self, question: str) -> float:
        assert self.ws is not None
        self.seq += 1
        frame = {"t": "message", "seq": self.seq, "at": int(time.time() * 1000), "text": question}
        began = time.perf_counter()
        await self.ws.send(json.dumps(frame))
        first = None
        while True:
            got = json.loads(await asyncio.wait_for(self.ws.recv(), 30))
            if got["t"] == "reply_delta" and first is None:
                first = time.perf_counter() - began
            if got["t"] == "reply_end":
                assert first is not None, got
                return first

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()


async def measure(url: str, key: str, fake_url: str, n: int) -> tuple[list[float], list[float]]:
    client = openai.AsyncOpenAI(api_key="sk-bench", base_url=fake_url, max_retries=0)
    visitor = Visitor(url, key)
    direct: list[float] = []
    ours: list[float] = []
    try:
        for i in range(n + 5):  # the first five warm both paths up and are not counted
            if i % 6 == 0:
                await visitor.close()
                await visitor.open(i)
            question = QUESTIONS[i % len(QUESTIONS)]
            a = await sdk_first_token(client, question)
            b = await visitor.first_delta(question)
            if i >= 5:
                direct.append(a * 1000)
                ours.append(b * 1000)
    finally:
        await visitor.close()
        await client.close()
    return direct, ours


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 60
    work = REPO / ".bpract" / "bench" / "chat-ttft"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    db, key = help_database(work)
    with subprocess.Popen(
        [sys.executable, str(FAKE)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as fake:
        assert fake.stdout is not None and fake.stdin is not None
        fake_url = f"http://127.0.0.1:{fake.stdout.readline().strip()}/v1"
        env = {"OPENAI_API_KEY": "sk-bench", "BPRACT_OPENAI_BASE_URL": fake_url,
               "ANTHROPIC_API_KEY": "", "OPENROUTER_API_KEY": "", "BPRACT_LLM_BASE_URL": "",
               "BPRACT_CHAT_RATE": "100000", "BPRACT_CHAT_ADDRESS_RATE": "100000",
               "BPRACT_CHAT_ADDRESS_NEW": "100000"}  # fmt: skip
        with bpract_serve(db, work / "server.log", env) as server:
            url = server.url.replace("http://", "ws://") + "/v1/visitor"
            direct, ours = asyncio.run(measure(url, key, fake_url, n))
        fake.stdin.close()
    overhead = sorted(b - a for a, b in zip(direct, ours, strict=True))
    p50 = median(overhead)
    rows = [
        Row("messages", str(len(ours))),
        Row("(a) SDK → fake, first token p50", f"{median(direct):.1f} ms"),
        Row("(a) SDK → fake, first token p99", f"{percentile(direct, 99):.1f} ms"),
        Row("(b) visitor socket → first reply_delta p50", f"{median(ours):.1f} ms"),
        Row("(b) visitor socket → first reply_delta p99", f"{percentile(ours, 99):.1f} ms"),
        Row("overhead (b − a) p50", f"{p50:.1f} ms", f"≤ {BUDGET_MS:.0f} ms", p50 <= BUDGET_MS),
        Row("overhead (b − a) p99", f"{percentile(overhead, 99):.1f} ms"),
    ]
    info = machine()
    print(json.dumps(info))
    print_table("Chat time to first token", rows)
    write_doc(rows, info)


def write_doc(rows: list[Row], info: dict[str, str]) -> None:
    """Replace (or add) the "Chat time to first token" section of docs/performance.md."""
    path = REPO / "docs" / "performance.md"
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    with open("/proc/loadavg") as f:
        load = f.read().split()[0]
    table = "\n".join(f"| {r.name} | {r.value} | {r.budget} | {r.verdict} |" for r in rows)
    section = (
        "## Chat time to first token\n\n"
        f"`uv run python bench/chat_ttft.py` — {stamp}, load average {load} on "
        f"{info.get('cpus', '2')} cores (shared with other jobs). The fake provider in its own "
        "process; per question, alternately, (a) the OpenAI SDK straight to it and (b) a "
        "visitor `message` over `/v1/visitor` to `bpract serve` (gateway → the same fake) "
        "until the first `reply_delta`. The overhead covers storing the message, retrieval "
        "(MiniLM query embedding, BM25, sqlite-vec), prompt, routing, budget reservation "
        "and the channel hop to the socket.\n\n"
        "| figure | value | budget | |\n| --- | --- | --- | --- |\n" + table + "\n"
    )
    text = path.read_text(encoding="utf-8") if path.exists() else "# Performance\n"
    start = text.find("## Chat time to first token")
    if start == -1:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = text.find("\n## ", start + 1)
        text = text[:start] + section + ("\n" + text[end + 1 :] if end != -1 else "")
    path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
