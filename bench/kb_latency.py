"""Retrieval latency at scale: p50/p99 of BM25, vector and hybrid search over 100,000 chunks.

    uv run python bench/kb_latency.py [--chunks 100000] [--queries 200] [--keep FILE] [--runs 1]

The corpus is built from the StackFAQ texts (both corpora: the 125 threads and
their 719 answers, ~2,600 distinct sentences).  Each chunk is one source
document's sentences in a shuffled order, a window of 1 to 12 of them (length
drawn at random, weighted towards 3-5), topped up from a second random document
when the first is too short; its title and section are the first document's
title.  Chunk vectors are the normalised mean of MiniLM embeddings of their
sentences (each distinct sentence embedded once, cached beside ``--keep``), so
the vectors cluster by topic like real ones do: binary pre-filter recall
measured here means something.  Queries are StackFAQ's crowd-written questions.

Latency is measured through ``KnowledgeBase.search``: with the query
embedding (a new question) and without it (the embedding is per query and
cached; the issue's figure is retrieval).  The load average is printed with
the figures: the machine is shared.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import apsw
import numpy as np

from bpract.features import MIGRATIONS
from bpract.kb import Fusion, KnowledgeBase, MiniLMEmbedder
from bpract.kb.embed import Vectors
from bpract.kb.index import ChunkRow, ensure_model, store_vectors
from bpract.store import Database, migrate

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "stackfaq"
_SPLIT = re.compile(r"(?<=[.!?])\s+|\n+")
#: Window lengths (sentences per chunk) and their weights: mostly a short paragraph.
LENGTHS = (1, 2, 3, 4, 5, 6, 8, 10, 12)
WEIGHTS = (4, 8, 12, 12, 10, 7, 5, 3, 2)


class Source(NamedTuple):
    thread: str
    title: str
    sentences: list[str]


def source_documents() -> list[Source]:
    """Every StackFAQ thread and answer, split into sentences."""
    out = []
    for name in ("corpus_threads.jsonl", "corpus_answers.jsonl"):
        for line in (DATA / name).read_text(encoding="utf-8").splitlines():
            d = json.loads(line)
            parts = [s.strip() for s in _SPLIT.split(d["text"]) if len(s.split()) >= 3]
            if parts:
                out.append(Source(d["doc_id"].split("_")[0], str(d["title"]), parts))
    return out


def sentence_vectors(sentences: list[str], embedder: MiniLMEmbedder, cache: Path) -> Vectors:
    if cache.exists():
        got: Vectors = np.load(cache)
        if got.shape[0] == len(sentences):
            return got
    t0 = time.perf_counter()
    vecs = np.concatenate(
        [embedder.embed(sentences[i : i + 64]) for i in range(0, len(sentences), 64)]
    )
    print(f"embedded {len(sentences)} distinct sentences in {time.perf_counter() - t0:.0f} s")
    np.save(cache, vecs)
    return vecs


def make_chunks(n: int) -> tuple[list[Source], list[str]]:
    """``n`` chunks (thread and title of their first source), and the distinct sentences used."""
    rng = random.Random(7)
    docs = source_documents()
    chunks = []
    for _ in range(n):
        first = rng.choice(docs)
        want = rng.choices(LENGTHS, WEIGHTS)[0]
        pool = rng.sample(first.sentences, len(first.sentences))
        while len(pool) < want:
            pool += rng.choice(docs).sentences
        chunks.append(Source(first.thread, first.title, pool[:want]))
    distinct = sorted({s for c in chunks for s in c.sentences})
    return chunks, distinct


def fill(db: Database, n: int, embedder: MiniLMEmbedder, cache: Path) -> None:
    chunks, distinct = make_chunks(n)
    sv = sentence_vectors(distinct, embedder, cache)
    where = {s: i for i, s in enumerate(distinct)}
    model, dim = embedder.name, embedder.dim

    def write(conn: apsw.Connection) -> None:
        ensure_model(conn, model, dim)
        with conn:
            conn.execute(
                "INSERT INTO sites (id, public_key, name, allowed_origins, identity_secret,"
                " created_at) VALUES (1, 'pk_bench', 'bench', '[]', 'sk', '2026-01-01')"
            )
            for d in range(0, n, 10):
                conn.execute(
                    "INSERT INTO kb_documents (id, site_id, source, origin, title, content_hash,"
                    " ingested_ms) VALUES (?, 1, ?, 'bench', ?, '', 0)",
                    (d // 10 + 1, f"doc{d // 10}", chunks[d].title),
                )
            for i, (_, title, parts) in enumerate(chunks):
                text = " ".join(parts)
                conn.execute(
                    "INSERT INTO kb_chunks (id, site_id, doc_id, ord, section, text)"
                    " VALUES (?, 1, ?, ?, ?, ?)",
                    (i + 1, i // 10 + 1, i % 10, title, text),
                )
                conn.execute(
                    "INSERT INTO kb_fts (rowid, title, section, text, site)"
                    " VALUES (?, ?, ?, ?, 's1')",
                    (i + 1, title, title, text),
                )
        for start in range(0, n, 5000):
            part = chunks[start : start + 5000]
            vecs = np.stack([sv[[where[s] for s in c.sentences]].mean(axis=0) for c in part])
            vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
            rows = [ChunkRow(start + j + 1, 1, c.title, c.title, "") for j, c in enumerate(part)]
            store_vectors(conn, rows, vecs.astype(np.float32), model)

    db.run_sync(write)


def pct(values: Sequence[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


class Query(NamedTuple):
    text: str
    thread: str


async def timed(
    kb: KnowledgeBase, queries: list[Query], mode: str, threads: list[str]
) -> tuple[list[float], float]:
    """Latencies, and the share of questions with a top-5 passage from their gold thread."""
    ms, hits = [], 0
    for q in queries:
        t = time.perf_counter()
        passages = await kb.search(1, q.text, k=5, mode=mode)  # type: ignore[arg-type]
        ms.append((time.perf_counter() - t) * 1000)
        hits += any(threads[p.chunk_id - 1] == q.thread for p in passages)
    return ms, hits / len(queries)


def row(label: str, ms: Sequence[float], hit: float | None = None) -> None:
    share = f" {hit:.2f} |" if hit is not None else " |"
    print(f"| {label} | {pct(ms, 50):.1f} | {pct(ms, 99):.1f} |{share}")


async def measure(
    kb: KnowledgeBase, embedder: MiniLMEmbedder, queries: list[Query], threads: list[str]
) -> None:
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    embed_ms = []
    for q in queries:
        t = time.perf_counter()
        embedder.embed([q.text])
        embed_ms.append((time.perf_counter() - t) * 1000)
    print("| step | p50 ms | p99 ms | gold thread in top 5 |\n|---|---|---|---|")
    row("query embedding (MiniLM)", embed_ms)
    await timed(kb, queries, "hybrid", threads)  # fills the query-vector cache
    for mode in ("bm25", "vector", "hybrid"):
        row(f"{mode} (retrieval, embedding cached)", *await timed(kb, queries, mode, threads))
    kb.forget_queries()
    row("hybrid with the query embedding", *await timed(kb, queries, "hybrid", threads))
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--chunks", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--postings", type=int, default=Fusion().bm25_postings)
    ap.add_argument("--shortlist", type=int, default=Fusion().shortlist)
    ap.add_argument("--keep", type=Path, help="write the database here and reuse it next time")
    args = ap.parse_args()
    step = max(1, 500 // args.queries)  # spread over the threads, not the first few
    queries = [
        Query(d["query"], d["gold_thread_id"])
        for d in map(json.loads, (DATA / "queries_dev.jsonl").read_text("utf-8").splitlines())
    ][::step][: args.queries]
    threads = [c.thread for c in make_chunks(args.chunks)[0]]
    embedder = MiniLMEmbedder()
    embedder.embed(["warm up"])
    with tempfile.TemporaryDirectory() as tmp:
        path: Path = args.keep or Path(tmp) / "kb.db"
        fresh = not path.exists()  # noqa: ASYNC240
        db = Database(path)
        db.run_sync(lambda c: migrate(c, MIGRATIONS))
        if fresh:
            t0 = time.perf_counter()
            cache = path.with_suffix(".sentences.npy")
            fill(db, args.chunks, embedder, cache)
            print(f"{args.chunks} chunks written in {time.perf_counter() - t0:.0f} s")
        print(f"database {path.stat().st_size / 1e6:.0f} MB, {len(queries)} queries")  # noqa: ASYNC240
        fusion = Fusion(bm25_postings=args.postings, shortlist=args.shortlist)
        print(f"BM25 postings budget {args.postings}, vector shortlist {args.shortlist}")
        kb = KnowledgeBase(db, embedder, fusion)
        t = time.perf_counter()
        await kb.search(1, queries[0].text, k=5, mode="vector")
        first = (time.perf_counter() - t) * 1000
        print(f"first search (embeds the question, loads the site's sign bits): {first:.0f} ms")
        for _ in range(args.runs):
            await measure(kb, embedder, queries, threads)
        kb.close()
        db.close()


if __name__ == "__main__":
    asyncio.run(main())
