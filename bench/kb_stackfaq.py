"""Retrieval quality on StackFAQ: recall@1/5/10 and MRR of BM25, vectors, hybrid; confidence fit.

    uv run python bench/kb_stackfaq.py [--data ../shared/data/stackfaq] [--fit]

Each corpus document becomes one knowledge-base document (title + text,
chunked like any other).  A query's rank is the rank of the first passage
from its gold thread (for ``corpus_answers``: from any answer of that thread),
counting distinct documents.  ``--fit`` also fits the confidence model
(bpract/kb/confidence.py) and prints its reliability table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from bpract.features import MIGRATIONS
from bpract.kb import (
    Document,
    Fusion,
    KnowledgeBase,
    MiniLMEmbedder,
    Passage,
    Section,
    add_documents,
)
from bpract.kb.confidence import confidence
from bpract.kb.embed import Vectors
from bpract.store import Database, migrate

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "stackfaq"
MODES = ("bm25", "vector", "hybrid")
#: Fusion variants compared: (label, bm25 weight, vector weight).
VARIANTS = (
    ("hybrid RRF 1:1", 1.0, 1.0),
    ("hybrid RRF 1:2", 1.0, 2.0),
    ("hybrid RRF 1:3", 1.0, 3.0),
)


class Memo:
    """MiniLM with a cache, so each question is embedded once for all the variants."""

    def __init__(self) -> None:
        self.inner = MiniLMEmbedder()
        self.name, self.dim = self.inner.name, self.inner.dim
        self.cache: dict[tuple[str, ...], Vectors] = {}

    def embed(self, texts: list[str]) -> Vectors:
        key = tuple(texts)
        if key not in self.cache:
            self.cache[key] = self.inner.embed(texts)
        return self.cache[key]


def load(path: Path) -> list[dict[str, str]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


async def build(db_path: Path, corpus: list[dict[str, str]], embedder: Memo) -> KnowledgeBase:
    fresh = not db_path.exists()  # noqa: ASYNC240
    db = Database(db_path)
    db.run_sync(lambda c: migrate(c, MIGRATIONS))
    kb = KnowledgeBase(db, embedder)
    if not fresh:  # an index kept by --keep from an earlier run
        return kb
    db.run_sync(
        lambda c: c.execute(
            "INSERT INTO sites (id, public_key, name, allowed_origins, identity_secret, created_at)"
            " VALUES (1, 'pk_bench', 'bench', '[]', 'sk', '2026-01-01')"
        )
    )
    docs = [
        Document(
            source=d["doc_id"],
            title=d["title"],
            url=None,
            updated_at=None,
            sections=(Section(d["title"], d["text"]),),
        )
        for d in corpus
    ]
    t0 = time.perf_counter()
    report = await add_documents(kb, 1, "stackfaq", docs)
    print(
        f"  indexed {len(docs)} documents, {report.chunks} chunks"
        f" in {time.perf_counter() - t0:.1f} s"
    )
    return kb


def thread_of(passage: Passage, corpus_kind: str) -> str:
    return passage.source.split("_")[0] if corpus_kind == "answers" else passage.source


def first_rank(passages: list[Passage], gold: str, kind: str) -> int | None:
    seen: list[str] = []
    for p in passages:
        if p.source not in seen:
            seen.append(p.source)
            if thread_of(p, kind) == gold:
                return len(seen)
    return None


async def evaluate(
    kb: KnowledgeBase, queries: list[dict[str, str]], kind: str
) -> dict[str, dict[str, float]]:
    runs: list[tuple[str, KnowledgeBase, str]] = [(m, kb, m) for m in MODES[:2]]
    for label, wb, wv in VARIANTS:
        runs.append(
            (
                label,
                KnowledgeBase(kb.db, kb.embedder, Fusion(bm25_weight=wb, vector_weight=wv)),
                "hybrid",
            )
        )
    out = {}
    for label, base, mode in runs:
        ranks = []
        for q in queries:
            passages = await base.search(1, q["query"], k=50, mode=mode)  # type: ignore[arg-type]
            ranks.append(first_rank(passages, q["gold_thread_id"], kind))
        n = len(ranks)
        out[label] = {
            "recall@1": sum(1 for r in ranks if r and r <= 1) / n,
            "recall@5": sum(1 for r in ranks if r and r <= 5) / n,
            "recall@10": sum(1 for r in ranks if r and r <= 10) / n,
            "mrr@10": sum(1 / r for r in ranks if r and r <= 10) / n,
        }
    return out


def examples(passages: list[Passage], gold: str, kind: str) -> list[tuple[float, float, int]]:
    """(similarity, bm25 agrees, label): the top passage, and the top one once gold is removed."""
    rows = []
    top = passages[0]
    agree = 1.0 if top.bm25_rank is not None and top.bm25_rank <= 3 else 0.0
    rows.append((top.similarity or 0.0, agree, int(thread_of(top, kind) == gold)))
    rest = [p for p in passages if thread_of(p, kind) != gold]
    if rest:
        lexical = sorted((p for p in rest if p.bm25_rank), key=lambda p: p.bm25_rank or 0)
        new_rank = {p.chunk_id: i for i, p in enumerate(lexical, start=1)}
        r = new_rank.get(rest[0].chunk_id)
        rows.append((rest[0].similarity or 0.0, 1.0 if r is not None and r <= 3 else 0.0, 0))
    return rows


def fit(rows: list[tuple[float, float, int]]) -> tuple[float, float, float]:
    x = np.array([[s, a, 1.0] for s, a, _ in rows])
    y = np.array([lab for _, _, lab in rows], dtype=float)
    w = np.zeros(3)
    for _ in range(20000):  # plain gradient descent on the logistic loss
        p = 1 / (1 + np.exp(-(x @ w)))
        w -= 2.0 * (x.T @ (p - y)) / len(y)
    return float(w[0]), float(w[1]), float(w[2])


def reliability(rows: list[tuple[float, float, int]]) -> None:
    bins: dict[int, list[int]] = {}
    for s, a, lab in rows:
        c = confidence(s, 1 if a else None) or 0.0
        bins.setdefault(min(int(c * 5), 4), []).append(lab)
    print("  confidence bin | n | answered fraction")
    for b in sorted(bins):
        labs = bins[b]
        print(f"  {b / 5:.1f}-{(b + 1) / 5:.1f} | {len(labs)} | {sum(labs) / len(labs):.2f}")


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--fit", action="store_true")
    ap.add_argument("--keep", type=Path, help="keep the indexes in this folder and reuse them")
    args = ap.parse_args()
    embedder = Memo()
    queries = load(args.data / "queries_dev.jsonl")
    for kind in ("threads", "answers"):
        corpus = load(args.data / f"corpus_{kind}.jsonl")
        print(f"corpus_{kind}: {len(corpus)} documents, {len(queries)} queries")
        with tempfile.TemporaryDirectory() as tmp:
            folder = args.keep or Path(tmp)
            folder.mkdir(parents=True, exist_ok=True)
            kb = await build(folder / f"{kind}.db", corpus, embedder)
            results = await evaluate(kb, queries, kind)
            print("  | mode | recall@1 | recall@5 | recall@10 | MRR@10 |")
            for mode, m in results.items():
                print(
                    f"  | {mode} | {m['recall@1']:.3f} | {m['recall@5']:.3f} | "
                    f"{m['recall@10']:.3f} | {m['mrr@10']:.3f} |"
                )
            if args.fit and kind == "threads":
                rows = []
                for q in queries:
                    passages = await kb.search(1, q["query"], k=50)
                    rows.extend(examples(passages, q["gold_thread_id"], kind))
                print("  confidence fit (similarity, bm25 top-3, bias):", fit(rows))
                reliability(rows)
            kb.db.close()


if __name__ == "__main__":
    asyncio.run(main())
