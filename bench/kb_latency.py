"""Retrieval latency at scale: p50/p99 of BM25, vector and hybrid search over 100,000 chunks.

    uv run python bench/kb_latency.py [--chunks 100000] [--queries 200]

Chunk texts are sentences sampled from StackFAQ threads, so the FTS5 index has
a real vocabulary; vectors are random unit vectors (sqlite-vec's KNN is an
exact scan, its cost does not depend on the values).  Query latency includes
embedding the query with MiniLM, as the chat would; the embedding alone is
reported too.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from bpract.kb import KnowledgeBase, MiniLMEmbedder
from bpract.kb.index import ensure_model, quantize
from bpract.store import Database, migrate

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "stackfaq"


def sentences() -> list[str]:
    out = []
    for line in (DATA / "corpus_threads.jsonl").read_text(encoding="utf-8").splitlines():
        text = json.loads(line)["text"]
        out.extend(s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if len(s.split()) > 3)
    return out


def fill(db: Database, n: int, dim: int, model: str) -> None:
    rng = random.Random(7)
    pool = sentences()
    vecs = np.random.default_rng(7).standard_normal((n, dim)).astype(np.float32)
    q = quantize(vecs / np.linalg.norm(vecs, axis=1, keepdims=True))

    def write(conn) -> None:  # type: ignore[no-untyped-def]
        ensure_model(conn, model, dim)
        with conn:
            conn.execute(
                "INSERT INTO sites (id, public_key, name, allowed_origins, identity_secret,"
                " created_at) VALUES (1, 'pk_bench', 'bench', '[]', 'sk', '2026-01-01')"
            )
            for d in range(n // 10):
                conn.execute(
                    "INSERT INTO kb_documents (id, site_id, source, origin, title, content_hash,"
                    " ingested_ms) VALUES (?, 1, ?, 'bench', ?, '', 0)",
                    (d + 1, f"doc{d}", " ".join(rng.choice(pool).split()[:8])),
                )
            for i in range(n):
                text = " ".join(rng.choice(pool) for _ in range(rng.randint(3, 8)))
                conn.execute(
                    "INSERT INTO kb_chunks (id, site_id, doc_id, ord, section, text, embedded_with)"
                    " VALUES (?, 1, ?, ?, 'Section', ?, ?)",
                    (i + 1, i // 10 + 1, i % 10, text, model),
                )
                conn.execute(
                    "INSERT INTO kb_fts (rowid, title, section, text, site)"
                    " VALUES (?, '', 'Section', ?, 's1')",
                    (i + 1, text),
                )
                conn.execute(
                    "INSERT INTO kb_vec (chunk_id, site_id, embedding) VALUES (?, 1, vec_int8(?))",
                    (i + 1, q[i].tobytes()),
                )

    db.run_sync(write)


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--chunks", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--keep", type=Path, help="write the database here and keep it")
    args = ap.parse_args()
    queries = [
        json.loads(x)["query"]
        for x in (DATA / "queries_dev.jsonl").read_text(encoding="utf-8").splitlines()
    ][: args.queries]
    embedder = MiniLMEmbedder()
    embedder.embed(["warm up"])
    with tempfile.TemporaryDirectory() as tmp:
        path = args.keep or Path(tmp) / "kb.db"
        db = Database(path)
        db.run_sync(migrate)
        t0 = time.perf_counter()
        fill(db, args.chunks, embedder.dim, embedder.name)
        size = path.stat().st_size / 1e6
        print(f"{args.chunks} chunks written in {time.perf_counter() - t0:.0f} s ({size:.0f} MB)")
        kb = KnowledgeBase(db, embedder)
        embed_ms = []
        for text in queries:
            t = time.perf_counter()
            embedder.embed([text])
            embed_ms.append((time.perf_counter() - t) * 1000)
        print(f"| query embedding (MiniLM) | {pct(embed_ms, 50):.1f} | {pct(embed_ms, 99):.1f} |")
        for mode in ("bm25", "vector", "hybrid"):
            ms = []
            for text in queries:
                t = time.perf_counter()
                await kb.search(1, text, k=5, mode=mode)  # type: ignore[arg-type]
                ms.append((time.perf_counter() - t) * 1000)
            print(f"| {mode} (k=5, end to end) | {pct(ms, 50):.1f} | {pct(ms, 99):.1f} |")
        print(f"  mean of hybrid: {statistics.mean(ms):.1f} ms")
        db.close()


if __name__ == "__main__":
    asyncio.run(main())
